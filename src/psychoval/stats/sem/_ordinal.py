"""Ordinal CFA, first slice (lavaan 0.6.14's ``ordered =`` / ``estimator = "WLSMV"``).

Not wired into :func:`psychoval.cfa` yet. Two pieces:

:func:`ordinal_sample_stats` - lavaan's categorical sample statistics of one group with
listwise deletion: the thresholds of every item (probit, no covariates), the polychoric
correlations by the two-step estimator (``polychoric(method="lavaan")``), and their
asymptotic covariance matrix ``NACOV`` (lavaan's ``Gamma``; Muthen 1984, lavaan's
``muthen1984()``). With per-respondent scores ``SC = [SC_th, SC_rho]`` (threshold scores of
the univariate probit likelihoods, correlation scores of the bivariate ones at the two-step
estimates), ``INNER = SC' SC``, ``A11`` the block-diagonal (per item) part of
``SC_th' SC_th``, ``A21[pair, th] = sum_n SC_rho[n, pair] d log pi_pair / d th``, ``A22 =
diag(SC_rho' SC_rho)`` and ``B^-1 = [[A11^-1, 0], [-A22^-1 A21 A11^-1, A22^-1]]``:

    NACOV = N  B^-1 INNER B^-T

Element order as lavaan's ``WLS.obs``: all thresholds (item by item, in the item order),
then the correlations below the diagonal column by column (``vech(R, diagonal = FALSE)``).

The fit itself (DWLS / WLSMV and the other estimators, the delta and theta
parameterizations) is :func:`psychoval.stats.sem._cfa_ordinal.fit_ordinal`;
:func:`psychoval.stats.sem._cfa_ordinal.fit_dwls` is its model-syntax front.

Not yet: zero-cell corrections of 2 x 2 tables (refused), mixed continuous/ordered
indicators, several groups, missing data other than listwise, covariates, the theta
parameterization, mean structures and equality constraints on thresholds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError
from psychoval.stats.core._bvn import bvn_cdf, bvn_pdf
from psychoval.stats.factor._polychoric import polychoric

__all__ = ["OrdinalSampleStats", "ordinal_sample_stats"]


@dataclasses.dataclass(frozen=True, eq=False)
class OrdinalSampleStats:
    """Thresholds, polychoric correlations and their NACOV (lavaan's order, see module)."""

    items: tuple[str, ...]
    thresholds: np.ndarray  # all thresholds, item by item
    threshold_item: np.ndarray  # index of each threshold's item
    threshold_names: tuple[str, ...]  # "A1|t1", ...
    cor: np.ndarray  # (k, k) polychoric correlations
    nacov: np.ndarray  # (nth + k(k-1)/2) square, lavaan's Gamma
    nobs: int

    @property
    def cor_vech(self) -> np.ndarray:
        """Correlations below the diagonal, column by column (lavaan's vech, no diagonal)."""
        c, r = np.triu_indices(len(self.items), 1)
        return self.cor[r, c]

    @property
    def wls_obs(self) -> np.ndarray:
        """lavaan's ``WLS.obs``: thresholds then correlations."""
        return np.concatenate([self.thresholds, self.cor_vech])

    @property
    def names(self) -> tuple[str, ...]:
        """lavaan's names of the NACOV rows: ``A1|t1``, ..., ``A1~~A2``, ..."""
        c, r = np.triu_indices(len(self.items), 1)
        return self.threshold_names + tuple(f"{self.items[a]}~~{self.items[b]}"
                                            for a, b in zip(c, r, strict=True))


def _codes(values: np.ndarray, items: Sequence[str]) -> tuple[np.ndarray, list[int]]:
    """0-based codes of each item's observed categories (lavaan: ``ordered()`` levels)."""
    n, k = values.shape
    codes = np.empty((n, k), dtype=np.int64)
    ncat = []
    for j in range(k):
        cats, inv = np.unique(values[:, j], return_inverse=True)
        if cats.size < 2:
            raise DataError(f"item {items[j]!r} is constant after listwise deletion; "
                            "drop it")
        codes[:, j] = inv.ravel()
        ncat.append(int(cats.size))
    return codes, ncat


def ordinal_sample_stats(x: Any, items: Sequence[str] | None = None) -> OrdinalSampleStats:
    """lavaan's sample statistics for ordered items: thresholds, polychorics and NACOV.

    Parameters
    ----------
    x : DataFrame or 2-d array
        Respondents x items, integer category codes, NaN = missing. Rows with any missing
        item are dropped (listwise, lavaan's default).
    items : sequence of str, optional
        Columns to use, in this order (default all).

    Returns
    -------
    OrdinalSampleStats
        ``thresholds``, ``cor``, ``nacov`` (lavaan's ``lavInspect(fit, "gamma")``), ``nobs``.
    """
    from scipy.special import ndtr

    frame = x if isinstance(x, pd.DataFrame) else pd.DataFrame(np.asarray(x, dtype=float))
    if items is None:
        items = [str(c) for c in frame.columns]
    else:
        items = list(items)
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    values = frame[items].to_numpy(dtype=float)
    values = values[~np.isnan(values).any(axis=1)]
    n, k = values.shape
    if k < 2:
        raise DataError("ordinal sample statistics need at least two items")
    poly = polychoric(pd.DataFrame(values, columns=items), method="lavaan",
                      missing="listwise")
    cor = poly.rho.to_numpy()
    tau_mat = poly.thresholds.to_numpy()
    codes, ncat = _codes(values, items)
    taus = [tau_mat[j, :ncat[j] - 1] for j in range(k)]
    nth_i = np.array([c - 1 for c in ncat])
    th_end = np.cumsum(nth_i)
    th_start = th_end - nth_i
    nth = int(th_end[-1])
    ext = [np.concatenate([[-np.inf], t, [np.inf]]) for t in taus]

    # univariate threshold scores: d log p_y / d tau_k = (1{y=k} - 1{y=k+1}) phi(tau_k) / p_y
    sc_th = np.zeros((n, nth))
    for j in range(k):
        t = taus[j]
        c = ncat[j]
        p = np.diff(ndtr(ext[j]))  # (C,)
        phi = np.exp(-0.5 * t * t) / np.sqrt(2 * np.pi)
        tab = np.zeros((c, c - 1))
        kk = np.arange(c - 1)
        tab[kk, kk] = phi / p[kk]
        tab[kk + 1, kk] = -phi / p[kk + 1]
        sc_th[:, th_start[j]:th_end[j]] = tab[codes[:, j]]

    cc, rr = np.triu_indices(k, 1)  # lavaan's pair order: column j, row i > j
    pstar = cc.size
    sc_cor = np.zeros((n, pstar))
    a21 = np.zeros((pstar, nth))
    eps = np.sqrt(np.finfo(float).eps)
    for pidx, (j, i) in enumerate(zip(cc, rr, strict=True)):
        rho = cor[i, j]
        e1, e2 = ext[i], ext[j]  # y1 = item i (rows), y2 = item j (columns), as lavaan
        big = bvn_cdf(e1[:, None], e2[None, :], rho)
        pi = big[1:, 1:] - big[:-1, 1:] - big[1:, :-1] + big[:-1, :-1]
        den = bvn_pdf(e1[:, None], e2[None, :], rho)
        dpi = den[1:, 1:] - den[:-1, 1:] - den[1:, :-1] + den[:-1, :-1]
        rr_ = np.sqrt(1.0 - rho * rho)
        # d pi_ab / d tau1_k: phi(tau1_k) [Phi((tau2_b - rho tau1_k)/R) - Phi((tau2_{b-1} ...))]
        t1 = taus[i]
        g1 = (np.exp(-0.5 * t1 * t1) / np.sqrt(2 * np.pi))[:, None] * np.diff(
            ndtr((e2[None, :] - rho * t1[:, None]) / rr_), axis=1)  # (C1-1, C2)
        t2 = taus[j]
        g2 = (np.exp(-0.5 * t2 * t2) / np.sqrt(2 * np.pi))[:, None] * np.diff(
            ndtr((e1[None, :] - rho * t2[:, None]) / rr_), axis=1)  # (C2-1, C1)
        c1, c2 = ncat[i], ncat[j]
        d_t1 = np.zeros((c1, c2, c1 - 1))
        k1 = np.arange(c1 - 1)
        d_t1[k1, :, k1] = g1
        d_t1[k1 + 1, :, k1] -= g1
        d_t2 = np.zeros((c1, c2, c2 - 1))
        k2 = np.arange(c2 - 1)
        d_t2[:, k2, k2] = g2.T
        d_t2[:, k2 + 1, k2] -= g2.T
        ok = pi > eps  # lavaan: a likelihood <= sqrt(eps) is NA, dropped from the sums
        safe = np.where(ok, pi, 1.0)
        s_rho = np.where(ok, dpi / safe, 0.0)
        s_t1 = np.where(ok[:, :, None], d_t1 / safe[:, :, None], 0.0)
        s_t2 = np.where(ok[:, :, None], d_t2 / safe[:, :, None], 0.0)
        ya, yb = codes[:, i], codes[:, j]
        sc_cor[:, pidx] = s_rho[ya, yb]
        # A21 from the table of counts: sum over cells n_ab s_rho s_th
        cnt = np.zeros((c1, c2))
        np.add.at(cnt, (ya, yb), 1.0)
        if c1 == 2 and c2 == 2 and (cnt == 0).any():
            # lavaan adds zero.add = 0.5 to an empty cell of a 2 x 2 table (keeping the
            # margins) or sets rho to +-1 with two empty cells; not reproduced yet
            raise NotImplementedError(
                f"items {items[j]!r} and {items[i]!r} are dichotomous with an empty cell in "
                "their 2 x 2 table; lavaan's zero-cell correction is not implemented yet")
        w = cnt * s_rho
        a21[pidx, th_start[i]:th_end[i]] = np.einsum("ab,abk->k", w, s_t1)
        a21[pidx, th_start[j]:th_end[j]] = np.einsum("ab,abk->k", w, s_t2)

    sc = np.concatenate([sc_th, sc_cor], axis=1)
    inner = sc.T @ sc
    a11_inv = np.zeros((nth, nth))
    for j in range(k):
        sl = slice(th_start[j], th_end[j])
        a11_inv[sl, sl] = np.linalg.inv(inner[sl, sl])
    a22_inv = 1.0 / np.einsum("np,np->p", sc_cor, sc_cor)
    b_inv = np.zeros((nth + pstar, nth + pstar))
    b_inv[:nth, :nth] = a11_inv
    b_inv[nth:, :nth] = -(a22_inv[:, None] * a21) @ a11_inv
    b_inv[nth:, nth:] = np.diag(a22_inv)
    nacov = n * (b_inv @ inner @ b_inv.T)
    nacov = 0.5 * (nacov + nacov.T)
    names = tuple(f"{items[j]}|t{t + 1}" for j in range(k) for t in range(nth_i[j]))
    return OrdinalSampleStats(
        items=tuple(items), thresholds=np.concatenate(taus),
        threshold_item=np.repeat(np.arange(k), nth_i), threshold_names=names, cor=cor,
        nacov=nacov, nobs=int(n))
