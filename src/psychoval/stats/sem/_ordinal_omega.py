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

Sampling error (:func:`categorical_omega_se`): omega is a function of the thresholds, the
structural parameters and - with ``obs_var=True`` - the sample polychoric correlations. All
three are functions of the sample statistics s = (thresholds, polychorics), whose asymptotic
covariance is lavaan's NACOV :math:`\\Gamma`; the DWLS parameters move with the
correlations as :math:`\\partial x / \\partial r = (\\Delta' W \\Delta)^{-1} \\Delta' W`.
The delta method then gives :math:`\\mathrm{Var}(\\hat\\omega) = J \\Gamma J' / (N - 1)` with
:math:`J = \\partial \\omega / \\partial s` (the divisor of the fit's covariance, whose
threshold / parameter block is :math:`A \\Gamma A' / (N - 1)` with the same pieces). The
derivatives of omega are complex-step: :math:`\\Phi` and :math:`\\Phi_2` carry their analytic
partial derivatives in the imaginary part (:math:`\\partial \\Phi_2 / \\partial r =
\\phi_2`, :math:`\\partial \\Phi_2 / \\partial a = \\phi(a) \\Phi((b - r a) / \\sqrt{1 -
r^2})`).

Reference: Green, S. B., & Yang, Y. (2009). Reliability of summed item scores using
structural equation modeling: An alternative to coefficient alpha. Psychometrika, 74,
155-167. https://doi.org/10.1007/s11336-008-9099-3
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from psychoval.stats.core._bvn import bvn_cdf, bvn_pdf

__all__ = ["categorical_omega", "categorical_omega_se"]

# Phi_2 and its partials at the real parts of the last few complex-step evaluations
_PARTIALS: dict[tuple, tuple[np.ndarray, ...]] = {}
_PARTIALS_LOCK = threading.Lock()


def _ndtr(x):
    """Phi(x); for complex x (complex step) Phi(Re x) + i Im(x) phi(Re x)."""
    from scipy.special import ndtr

    if np.iscomplexobj(x):
        re = np.real(x)
        return ndtr(re) + 1j * np.imag(x) * np.exp(-0.5 * re * re) / np.sqrt(2 * np.pi)
    return ndtr(x)


def _phi2(a: np.ndarray, b: np.ndarray, r: Any) -> np.ndarray:
    """Phi_2(a, b; r) elementwise over arrays that broadcast, including |r| = 1
    (mnormt::pmnorm's limits); complex arguments (complex step) carry the first-order
    change in the imaginary part."""
    cplx = np.iscomplexobj(a) or np.iscomplexobj(b) or np.iscomplexobj(r)
    a, b, r = np.broadcast_arrays(a, b, r)
    ar, br, rr = np.real(a), np.real(b), np.real(r).astype(float)
    up, down = rr >= 1.0, rr <= -1.0
    mid = ~(up | down)
    if not cplx:
        out = np.empty(ar.shape)
        out[up] = _ndtr(np.minimum(ar[up], br[up]))
        out[down] = np.clip(_ndtr(ar[down]) + _ndtr(br[down]) - 1.0, 0.0, None)
        out[mid] = bvn_cdf(ar[mid], br[mid], rr[mid])
        return out
    out = np.empty(ar.shape, dtype=complex)
    # Phi(min(a, b)) where r is a fixed 1; Phi(a) + Phi(b) - 1 where it is a fixed -1
    out[up] = _ndtr(np.where(ar[up] <= br[up], a[up], b[up]))
    out[down] = _ndtr(a[down]) + _ndtr(b[down]) - 1.0
    ai, bi, ri = np.imag(a)[mid], np.imag(b)[mid], np.imag(r)[mid]
    val, da, db, dr = _phi2_partials(ar[mid], br[mid], rr[mid])
    out[mid] = val + 1j * (ai * da + bi * db + ri * dr)
    return out


def _phi2_partials(a: np.ndarray, b: np.ndarray, r: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Phi_2(a, b; r) and its partial derivatives in a, b and r (|r| < 1). The complex step
    moves one argument at a time by an imaginary amount: every step of a Jacobian has the
    same real parts, so the last few are kept (keyed by their values)."""
    key = (a.shape, a.tobytes(), b.tobytes(), r.tobytes())
    with _PARTIALS_LOCK:
        hit = _PARTIALS.get(key)
    if hit is not None:
        return hit
    from scipy.special import ndtr

    s = np.sqrt(1.0 - r * r)
    pa = np.exp(-0.5 * a * a) / np.sqrt(2 * np.pi)
    pb = np.exp(-0.5 * b * b) / np.sqrt(2 * np.pi)
    hit = (bvn_cdf(a, b, r), pa * ndtr((b - r * a) / s), pb * ndtr((a - r * b) / s),
           bvn_pdf(a, b, r))
    for v in hit:
        v.flags.writeable = False
    with _PARTIALS_LOCK:
        _PARTIALS[key] = hit
        while len(_PARTIALS) > 8:
            _PARTIALS.pop(next(iter(_PARTIALS)))
    return hit


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


def _omega(factors: list[str], lam: np.ndarray, psi: np.ndarray, taus: list[np.ndarray],
           denom_all: np.ndarray, ord_scale: bool) -> dict[str, Any]:
    """Omega by factor from the arrays (real, or complex for the complex step)."""
    out: dict[str, Any] = {}
    for f, name in enumerate(factors):
        idx = np.flatnonzero(np.real(lam[:, f]) != 0)
        if idx.size < 2:
            continue
        lf = lam[idx, f]
        common = np.outer(lf, lf) * psi[f, f]
        denom = _cov2cor(denom_all[np.ix_(idx, idx)])
        np.fill_diagonal(denom, 1.0)  # exactly: a rounded 1 - 1e-16 is not Phi(min(a, b))
        if not ord_scale:
            out[name] = common.sum() / denom.sum()
            continue
        # every ordered pair of items (j = j' included) and every pair of their thresholds
        # in one grid: rows and columns are all thresholds of the factor's items
        tau = np.concatenate([taus[j] for j in idx])
        owner = np.repeat(np.arange(idx.size), [taus[j].size for j in idx])
        oi, oj = np.meshgrid(owner, owner, indexing="ij")
        base = _ndtr(tau).sum() ** 2
        g1, g2 = tau[:, None], tau[None, :]
        num = _phi2(g1, g2, common[oi, oj]).sum() - base
        den = _phi2(g1, g2, denom[oi, oj]).sum() - base
        out[name] = num / den
    return out


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
    out = _omega(factors, lam, psi, taus, denom_all, bool(ord_scale))
    return pd.Series({k: float(v) for k, v in out.items()}, name="omega", dtype=float)


def omega_function(fit: Any, *, obs_var: bool = True, ord_scale: bool = True
                   ) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray, list[str]]:
    """Omega as a function of s = (thresholds, structural parameters x, polychoric
    correlations below the diagonal, lavaan's order) for an ordinal fit (``OrdinalFit``: its
    ``pt``, ``x``, ``sample``): ``(g, s0, factors)`` with ``g(s)`` the omegas (complex
    arguments allowed: the complex step) and ``s0`` the fit's point."""
    from psychoval.stats.sem._model import LAMBDA, MatrixModel

    ss = fit.sample
    model = MatrixModel(fit.pt)
    if list(model.pt.observed) != list(ss.items):
        raise ValueError("the model's observed variables are not in the sample's order")
    k = len(ss.items)
    nth = ss.thresholds.size
    q = model.q
    cc, rr = np.triu_indices(k, 1)
    th_item = np.asarray(ss.threshold_item)
    mats0 = model.parts(fit.x)[0][LAMBDA]
    lam_cols = [j for j in range(mats0.shape[1]) if np.any(mats0[:, j] != 0)]
    factors = [model.pt.latent[j] for j in lam_cols]
    kept = [f for j, f in zip(lam_cols, factors, strict=True)
            if np.count_nonzero(mats0[:, j]) >= 2]

    def g(s: np.ndarray) -> np.ndarray:
        tau, x, rv = s[:nth], s[nth:nth + q], s[nth + q:]
        mats, _a, _la, v = model.parts(x)
        lam = mats[LAMBDA][:, lam_cols]
        psi = v[np.ix_(lam_cols, lam_cols)]
        taus = [tau[th_item == j] for j in range(k)]
        if obs_var:
            denom = np.eye(k, dtype=rv.dtype)
            denom[rr, cc] = rv
            denom[cc, rr] = rv
        else:
            denom = model.implied(x)[0]  # delta table: residual variances 1 - R^2 enter
            np.fill_diagonal(denom, 1.0)  # as a unit diagonal
        om = _omega(factors, lam, psi, taus, denom, bool(ord_scale))
        return np.array([om[f] for f in kept])

    s0 = np.concatenate([ss.thresholds, fit.x, ss.cor[rr, cc]])
    return g, s0, kept


def categorical_omega_se(fit: Any, *, obs_var: bool = True, ord_scale: bool = True
                         ) -> pd.DataFrame:
    """Categorical omega by factor with its delta-method standard error (see the module):
    ``Var = J Gamma J' / (N - 1)``, ``J`` the complex-step derivative of omega with respect
    to the sample statistics through the thresholds, the DWLS parameters and (``obs_var``)
    the polychorics.

    Returns
    -------
    DataFrame
        ``factor``, ``omega``, ``se`` (one row per factor with 2 or more indicators).
    """
    from psychoval.stats.sem._model import MatrixModel

    ss = fit.sample
    g, s0, factors = omega_function(fit, obs_var=obs_var, ord_scale=ord_scale)
    nth = ss.thresholds.size
    model = MatrixModel(fit.pt)
    q = model.q
    h = 1e-20
    jac = np.empty((len(factors), s0.size))
    for i in range(s0.size):
        sc = s0.astype(complex)
        sc[i] += 1j * h
        jac[:, i] = np.imag(g(sc)) / h
    # the parameters move with the correlations: dx/dr = (D' W D)^-1 D' W
    k = len(ss.items)
    cc, rr = np.triu_indices(k, 1)
    gamma = np.asarray(ss.nacov, dtype=float)
    w = 1.0 / np.diag(gamma)[nth:]
    d = model.dsigma(fit.x)[:, rr, cc].T  # (pstar, q)
    wd = w[:, None] * d
    dx_dr = np.linalg.solve(d.T @ wd, wd.T)
    j_tau = jac[:, :nth]
    j_r = jac[:, nth + q:] + jac[:, nth:nth + q] @ dx_dr
    j = np.concatenate([j_tau, j_r], axis=1)
    var = np.einsum("ij,jk,ik->i", j, gamma, j) / (ss.nobs - 1)
    return pd.DataFrame({"factor": factors, "omega": np.real(g(s0)).astype(float),
                         "se": np.sqrt(np.clip(var, 0.0, None))})
