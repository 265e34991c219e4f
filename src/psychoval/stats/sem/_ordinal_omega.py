"""Categorical omega of ordered indicators (Green & Yang 2009), semTools 0.5.6's
``compRelSEM(fit)`` for a WLSMV fit (its defaults ``obs.var = TRUE``, ``ord.scale = TRUE``:
semTools' ``omegaCat``).

The reliability of the sum of the observed category codes of a factor's indicators. With the
indicator thresholds :math:`\\tau_{jc}` (the fit's, which equal the sample thresholds), the
factor's common part of the latent-response covariances :math:`C = \\lambda \\psi_{ff}
\\lambda'` (this factor's loadings only) and the denominator correlations :math:`D` (the
sample polychoric correlations, or the model-implied ones with ``obs_var=False``):

.. math::

    \\omega = \\frac{\\sum_{j, j'} \\sum_{c, c'} [\\Phi_2(\\tau_{jc}, \\tau_{j'c'}; C_{jj'})
              - \\Phi(\\tau_{jc}) \\Phi(\\tau_{j'c'})]}
             {\\sum_{j, j'} \\sum_{c, c'} [\\Phi_2(\\tau_{jc}, \\tau_{j'c'}; D_{jj'})
              - \\Phi(\\tau_{jc}) \\Phi(\\tau_{j'c'})]}

over all ordered pairs including j = j' (there :math:`D_{jj} = 1` and :math:`\\Phi_2(a, b;
1) = \\Phi(\\min(a, b))`). The latent-response scales are 1 (delta parameterization), so
semTools' rescaling by ``scales`` is the identity. ``ord_scale=False`` gives semTools'
``ord.scale = FALSE``: :math:`\\sum C / \\sum D` on the latent-response scale. Factors with a
single indicator are left out (``dropSingle = TRUE``).

Reference: Green, S. B., & Yang, Y. (2009). Reliability of summed item scores using
structural equation modeling: An alternative to coefficient alpha. Psychometrika, 74,
155-167. https://doi.org/10.1007/s11336-008-9099-3
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from psychoval.stats.core._bvn import bvn_cdf

__all__ = ["categorical_omega"]


def _phi2(a: np.ndarray, b: np.ndarray, r: float) -> np.ndarray:
    """Phi_2(a, b; r) on a grid, including |r| = 1 (mnormt::pmnorm's limits)."""
    if r >= 1.0:
        return _ndtr(np.minimum(a, b))
    if r <= -1.0:
        return np.clip(_ndtr(a) + _ndtr(b) - 1.0, 0.0, None)
    return bvn_cdf(a, b, r)


def _ndtr(x):
    from scipy.special import ndtr

    return ndtr(x)


def _parts(fit: Any):
    """(items, factors, Lambda, Psi, thresholds per item, implied correlations)."""
    est = fit.estimates
    items = list(fit.sample.items)
    ii = {v: i for i, v in enumerate(items)}
    load = est[est.op == "=~"]
    factors = list(dict.fromkeys(load.lhs))
    fi = {f: i for i, f in enumerate(factors)}
    lam = np.zeros((len(items), len(factors)))
    for r in load.itertuples():
        lam[ii[r.rhs], fi[r.lhs]] = r.est
    psi = np.zeros((len(factors), len(factors)))
    theta = np.zeros((len(items), len(items)))
    for r in est[est.op == "~~"].itertuples():
        if r.lhs in fi and r.rhs in fi:
            psi[fi[r.lhs], fi[r.rhs]] = psi[fi[r.rhs], fi[r.lhs]] = r.est
        elif r.lhs in ii and r.rhs in ii:
            theta[ii[r.lhs], ii[r.rhs]] = theta[ii[r.rhs], ii[r.lhs]] = r.est
    th = est[est.op == "|"]
    taus = [th.loc[th.lhs == v, "est"].to_numpy(dtype=float) for v in items]
    implied = lam @ psi @ lam.T + theta
    return items, factors, lam, psi, taus, implied


def _cov2cor(m: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(m))
    return m / np.outer(d, d)


def categorical_omega(fit: Any, *, obs_var: bool = True, ord_scale: bool = True
                      ) -> pd.Series:
    """semTools 0.5.6 ``compRelSEM(fit, obs.var = obs_var, ord.scale = ord_scale)`` for a
    WLSMV fit of ordered indicators (:func:`psychoval.stats.sem._ordinal.fit_dwls`'s
    ``DwlsFit``, delta parameterization).

    Parameters
    ----------
    fit : DwlsFit
        Needs ``estimates`` (lhs, op, rhs, est rows: loadings ``=~``, (co)variances ``~~``,
        thresholds ``|``) and ``sample`` (``items``, ``cor``: the polychoric correlations).
    obs_var : bool
        Denominator from the sample polychoric correlations (True, semTools' default) or from
        the model-implied ones.
    ord_scale : bool
        True (default): Green & Yang's omega of the summed category codes; False: the
        linear omega ``sum(C) / sum(D)`` on the latent-response scale.

    Returns
    -------
    Series
        Omega by factor (factors with a single indicator are left out).
    """
    items, factors, lam, psi, taus, implied = _parts(fit)
    denom_all = np.asarray(fit.sample.cor, dtype=float) if obs_var else implied
    out = {}
    for f, name in enumerate(factors):
        idx = np.flatnonzero(lam[:, f] != 0)
        if idx.size < 2:
            continue
        lf = lam[idx, f]
        common = np.outer(lf, lf) * psi[f, f]
        denom = _cov2cor(denom_all[np.ix_(idx, idx)])
        if not ord_scale:
            out[name] = float(common.sum() / denom.sum())
            continue
        num = den = 0.0
        for a, j in enumerate(idx):
            t1 = taus[j]
            p1 = _ndtr(t1).sum()
            for b, jp in enumerate(idx):
                t2 = taus[jp]
                base = p1 * _ndtr(t2).sum()
                g1, g2 = t1[:, None], t2[None, :]
                num += _phi2(g1, g2, common[a, b]).sum() - base
                den += _phi2(g1, g2, denom[a, b]).sum() - base
        out[name] = float(num / den)
    return pd.Series(out, name="omega", dtype=float)
