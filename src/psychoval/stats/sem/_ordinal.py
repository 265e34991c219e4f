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

:func:`fit_dwls` - a single-group CFA of ordered items in the delta parameterization (latent
response variances 1: the residual variances ``1 - diag(Lambda Psi Lambda')`` are not free
parameters), estimated by diagonally weighted least squares on (thresholds, correlations)
with ``W = diag(NACOV)^-1``. The thresholds are free and separate (W is diagonal), so they
equal the sample thresholds; the structural parameters minimise the correlation part of F.
Then, as lavaan:

- robust ("robust.sem") covariance ``E^-1 Delta' W Gamma W Delta E^-1 / (N - 1)``, ``E =
  Delta' W Delta`` (``lav_model_vcov`` divides by N - ngroups for estimators other than ML);
- ``chisq = (N - 1) F_min`` (``lav_model_objective``: ``fmin = (N - 1)/N F / 2`` for (D)WLS
  and ``chisq = 2 N fmin``);
- the mean-and-variance adjusted ("scaled.shifted") test: ``U = W - W Delta E^-1 Delta' W``,
  ``a = sqrt(df / tr((U Gamma)^2))``, ``shift = df - a tr(U Gamma)``, ``chisq_scaled = a
  chisq + shift``, ``scaling_factor = 1/a``.

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

from psychoval.exceptions import DataError, SpecificationError
from psychoval.framework._partable import ParTable, build_partable
from psychoval.framework._syntax import model_to_formulas
from psychoval.stats.core._bvn import bvn_cdf, bvn_pdf
from psychoval.stats.factor._polychoric import polychoric
from psychoval.stats.sem._estimate import start_rows
from psychoval.stats.sem._model import MatrixModel
from psychoval.stats.sem._optimize import minimize

__all__ = ["OrdinalSampleStats", "DwlsFit", "ordinal_sample_stats", "fit_dwls"]


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


# ----------------------------------------------------------------------------------------
# DWLS estimation


@dataclasses.dataclass(frozen=True, eq=False)
class DwlsFit:
    """A WLSMV fit: estimates (lhs, op, rhs, est, se) and the scaled-shifted test."""

    estimates: pd.DataFrame
    chisq: float
    df: int
    pvalue: float
    chisq_scaled: float
    scaling_factor: float
    shift: float
    pvalue_scaled: float
    fmin: float  # lavaan's fmin = (N - 1) / N F_min / 2
    npar: int
    nobs: int
    converged: bool
    iterations: int
    sample: OrdinalSampleStats
    vcov: np.ndarray  # robust covariance of (thresholds, free structural parameters)


def _delta_table(pt: ParTable) -> ParTable:
    """The parameter table with the observed residual variances fixed (delta
    parameterization: they follow from the unit latent response variances)."""
    ov = set(pt.observed)
    free = np.array(pt.free)
    ustart = np.array(pt.ustart, dtype=float)
    resid = np.array([op == "~~" and lhs == rhs and lhs in ov
                      for lhs, op, rhs in zip(pt.lhs, pt.op, pt.rhs, strict=True)])
    free[resid] = 0
    ustart[resid] = 0.0
    kept = np.unique(free[free > 0])
    remap = np.zeros(free.max(initial=0) + 1, dtype=int)
    remap[kept] = np.arange(1, kept.size + 1)
    return pt.replace(free=tuple(int(v) for v in remap[free]),
                      ustart=tuple(float(v) for v in ustart))


class _Dwls:
    """F(x) = (r - rho(x))' W (r - rho(x)) over the correlations (the thresholds are exact)."""

    def __init__(self, model: MatrixModel, r: np.ndarray, w: np.ndarray):
        self.model = model
        self.r = r
        self.w = w
        self.cc, self.rr = np.triu_indices(model.p, 1)

    def rho(self, x) -> np.ndarray:
        sigma, _mu = self.model.implied(x)
        return sigma[self.rr, self.cc]

    def jac(self, x) -> np.ndarray:
        return self.model.dsigma(x)[:, self.rr, self.cc].T  # (pstar, q)

    def value(self, x) -> float:
        e = self.r - self.rho(x)
        return float(e @ (self.w * e))

    def pieces(self, x, hessian: bool = True):
        e = self.r - self.rho(x)
        d = self.jac(x)
        wd = self.w[:, None] * d
        g = -2.0 * wd.T @ e
        h = 2.0 * d.T @ wd if hessian else None
        return float(e @ (self.w * e)), g, h, None


def fit_dwls(model_syntax: Any, data: Any, ordered_items: Sequence[str] | bool = True,
             estimator: str = "WLSMV") -> DwlsFit:
    """Fit a single-group CFA of ordered items as lavaan's ``cfa(..., ordered = ...,
    estimator = "WLSMV")`` (delta parameterization, listwise deletion).

    Parameters
    ----------
    model_syntax : str or dict
        lavaan syntax (or ``{factor: [items]}``); every indicator must be ordered.
    data : DataFrame
        Integer category codes, NaN missing.
    ordered_items : sequence of str or True
        The ordered items (True: all indicators).
    estimator : {"WLSMV"}
        Only WLSMV (DWLS estimates, robust SEs, scaled-shifted test) in this slice.
    """
    from scipy.stats import chi2

    if estimator.upper() != "WLSMV":
        raise SpecificationError(f"estimator={estimator!r}: only 'WLSMV' for ordered items")
    formulas, text = model_to_formulas(model_syntax)
    pt0 = build_partable(formulas, source=text)
    if any(op not in ("=~", "~~") for op in pt0.op):
        raise SpecificationError("ordinal CFA handles loadings and (co)variances only so far")
    ov = list(pt0.observed)
    ordered = set(ov) if ordered_items is True else set(ordered_items or ())
    missing = [v for v in ov if v not in ordered]
    if missing:
        raise SpecificationError(f"indicators {missing} are not ordered; mixing continuous "
                                 "and ordered indicators is not supported yet")
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("data must be a DataFrame with the indicators as columns")
    absent = [v for v in ov if v not in data.columns]
    if absent:
        raise DataError(f"columns {absent} are not in the data")
    ss = ordinal_sample_stats(data[ov], items=ov)
    pt = _delta_table(pt0)
    model = MatrixModel(pt)
    nth = ss.thresholds.size
    w_all = 1.0 / np.diag(ss.nacov)
    disc = _Dwls(model, ss.cor_vech, w_all[nth:])
    x0 = model.x_from_table(start_rows(pt, ss.cor, None))
    opt = minimize(disc, x0, gtol=1e-12)
    x = opt.x
    n = ss.nobs
    q = model.q
    pstar = disc.cc.size
    # full Jacobian of (thresholds, correlations) wrt (thresholds, structural parameters)
    delta = np.zeros((nth + pstar, nth + q))
    delta[:nth, :nth] = np.eye(nth)
    delta[nth:, nth:] = disc.jac(x)
    wd = w_all[:, None] * delta
    e_inf = delta.T @ wd
    e_inv = np.linalg.inv(e_inf)
    gamma = ss.nacov
    meat = wd.T @ gamma @ wd
    vcov = e_inv @ meat @ e_inv / (n - 1)  # lavaan: divisor N - ngroups for non-ML estimators
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    f_min = disc.value(x)
    chisq = (n - 1) * f_min  # lavaan: fmin = (N-1)/N F/2 for (D)WLS, chisq = 2 N fmin
    df = nth + pstar - (nth + q)
    u = np.diag(w_all) - wd @ e_inv @ wd.T
    ug = u @ gamma
    tr1 = float(np.trace(ug))
    tr2 = float(np.sum(ug * ug.T))
    if df > 0:
        a = np.sqrt(df / tr2)
        shift = df - a * tr1
        chisq_scaled = a * chisq + shift
        scaling = 1.0 / a
        p_scaled = float(chi2.sf(chisq_scaled, df))
        p_plain = float(chi2.sf(chisq, df))
    else:
        shift = chisq_scaled = scaling = p_scaled = p_plain = float("nan")
    est = _estimates(pt, model, x, se[nth:], ss, se[:nth])
    return DwlsFit(estimates=est, chisq=float(chisq), df=int(df), pvalue=p_plain,
                   chisq_scaled=float(chisq_scaled), scaling_factor=float(scaling),
                   shift=float(shift), pvalue_scaled=p_scaled, fmin=0.5 * (n - 1) / n * f_min,
                   npar=nth + q, nobs=n, converged=bool(opt.converged),
                   iterations=int(opt.iterations), sample=ss, vcov=vcov)


def _estimates(pt: ParTable, model: MatrixModel, x: np.ndarray, se_x: np.ndarray,
               ss: OrdinalSampleStats, se_th: np.ndarray) -> pd.DataFrame:
    """lavaan's parameterEstimates rows: user rows, thresholds, then the other rows; fixed
    parameters (and the residual variances, which are not free) have se 0 as in lavaan."""
    vals = model.row_values(x)
    sigma, _mu = model.implied(x)
    ovi = {v: i for i, v in enumerate(pt.observed)}
    rows = []
    for r, (lhs, op, rhs) in enumerate(zip(pt.lhs, pt.op, pt.rhs, strict=True)):
        f = pt.free[r]
        est = float(vals[r])
        if op == "~~" and lhs == rhs and lhs in ovi:
            est = 1.0 - float(sigma[ovi[lhs], ovi[lhs]])  # theta_ii = 1 - (L Psi L')_ii
        rows.append((pt.user[r], lhs, op, rhs, est, float(se_x[f - 1]) if f > 0 else 0.0))
    th_rows = [(1, name.split("|")[0], "|", name.split("|")[1], float(t), float(s))
               for name, t, s in zip(ss.threshold_names, ss.thresholds, se_th, strict=True)]
    user = [r[1:] for r in rows if r[0] == 1]
    other = [r[1:] for r in rows if r[0] != 1]
    out = user + [r[1:] for r in th_rows] + other
    return pd.DataFrame(out, columns=["lhs", "op", "rhs", "est", "se"])
