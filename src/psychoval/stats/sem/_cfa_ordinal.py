"""The ordinal path of :func:`psychoval.cfa` (lavaan 0.6.14's ``cfa(..., ordered = ...,
estimator = "WLSMV" | "DWLS" | "ULSMV" | "ULS" | "WLS", parameterization = ...)``): the fit,
the parameter rows and the fit measures.

Single group. The sample statistics (thresholds, two-step polychorics, NACOV = Gamma) come
from :func:`psychoval.stats.sem._ordinal.ordinal_sample_stats`; with continuous indicators
(those not in ``ordered=``, lavaan's numeric ones) from
:func:`psychoval.stats.sem._ordinal_mixed.mixed_sample_stats`: a continuous item's slot in
the threshold block is minus its intercept (a free parameter, the sample mean at the
optimum), its variance joins the moments, its residual variance is free (both
parameterizations), and its covariances stay on the covariance scale. lavaan 0.6.14 gives
no robust (catML) CFI/TLI/RMSEA then (NA); its rmr / srmr / crmr use the covariance and
"cor.bentler" residuals, counting the ordered items' thresholds only.
Estimation as lavaan: least squares on (thresholds, correlations) over z = (tau, x), ``F =
(s - m(z))' W (s - m(z))``, ``chisq = (N - 1) F``, with ``W = diag(Gamma)^-1`` (WLSMV,
DWLS), ``I`` (ULSMV, ULS) or ``Gamma^-1`` (WLS: the thresholds then move off the sample
ones). WLSMV / ULSMV: robust ("robust.sem") standard errors ``E^-1 Delta' W Gamma W Delta
E^-1 / (N - 1)`` and the scaled-shifted test (``U = W - W Delta E^-1 Delta' W``); DWLS, ULS,
WLS: standard errors ``E^-1 / (N - 1)`` (``E = Delta' W Delta``) and the standard test only.
The baseline (independence) model frees the thresholds and fixes every correlation at 0.

Parameterizations: ``delta`` (latent response variances 1, residual variances ``1 -
R^2``, m = (tau, rho(x))) and ``theta`` (residual variances 1, scales ``d_j = diag(Sigma*)^-1/2``
derived, m = (tau d, d Sigma* d)): the same fit, different raw parameters.

Fit measures: lavaan 0.6.14's ``fitMeasures()`` set for each estimator (names with ``.`` ->
``_``): the chisq family and the baseline, CFI/TLI/NNFI/RFI/NFI/PNFI/IFI/RNI, RMSEA with
interval and p-values (lavaan's N is N - 1 here), RMR / SRMR / CRMR (the ``rmr`` / ``crmr``
versions count the thresholds), Hoelter's CN, GFI/AGFI/PGFI with W, MFI and WRMR; WLSMV and
ULSMV add the ``_scaled`` versions and the ``_robust`` CFI/TLI/NNFI/RNI/RMSEA for
categorical data (Savalei 2021, lavaan's ``lav_fit_catml_dwls``).

Length: one estimator family kept together - the weighted least-squares discrepancy of both
parameterizations, the fit and its measures, lavaan's parameter rows (raw and
standardized), the modification indices and the model-syntax front ``fit_dwls``.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError, SpecificationError
from psychoval.framework._partable import ParTable
from psychoval.stats.sem import _robust
from psychoval.stats.sem._engine import FitMeasures
from psychoval.stats.sem._estimate import check_identification, start_rows
from psychoval.stats.sem._model import PSI, THETA, MatrixModel
from psychoval.stats.sem._optimize import minimize
from psychoval.stats.sem._ordinal import OrdinalSampleStats, ordinal_sample_stats
from psychoval.stats.sem._ordinal_mixed import mixed_sample_stats

__all__ = ["OrdinalFit", "DwlsFit", "fit_ordinal", "fit_dwls", "delta_table",
           "ordinal_rows"]

#: estimator -> (weight matrix, robust standard errors and the scaled-shifted test), as
#: lavaan 0.6.14's ``lav_options``: WLSMV = DWLS + robust.sem + scaled.shifted, ULSMV = ULS +
#: robust.sem + scaled.shifted; DWLS, ULS and WLS with se = "standard", test = "standard"
ESTIMATORS = {"WLSMV": ("diag", True), "DWLS": ("diag", False), "ULSMV": ("unit", True),
              "ULS": ("unit", False), "WLS": ("full", False)}
PARAMETERIZATIONS = ("delta", "theta")


def _fix_item_variances(pt: ParTable, value: float,
                        items: Sequence[str] | None = None) -> ParTable:
    ov = set(pt.observed if items is None else items)
    free = np.array(pt.free)
    ustart = np.array(pt.ustart, dtype=float)
    resid = np.array([op == "~~" and lhs == rhs and lhs in ov
                      for lhs, op, rhs in zip(pt.lhs, pt.op, pt.rhs, strict=True)])
    free[resid] = 0
    ustart[resid] = value
    kept = np.unique(free[free > 0])
    remap = np.zeros(free.max(initial=0) + 1, dtype=int)
    remap[kept] = np.arange(1, kept.size + 1)
    return pt.replace(free=tuple(int(v) for v in remap[free]),
                      ustart=tuple(float(v) for v in ustart))


def delta_table(pt: ParTable, items: Sequence[str] | None = None) -> ParTable:
    """The parameter table with the observed residual variances fixed (delta
    parameterization: they follow from the unit latent response variances); ``items``: the
    ordered ones (default all; a continuous item keeps its residual variance free)."""
    return _fix_item_variances(pt, 0.0, items)


def theta_table(pt: ParTable, items: Sequence[str] | None = None) -> ParTable:
    """The parameter table of lavaan's theta parameterization: the residual variances of the
    latent responses fixed at 1 (their scales ``~*~`` then follow from the model)."""
    return _fix_item_variances(pt, 1.0, items)


class _Wls:
    """F(z) = (s - m(z))' W (s - m(z)) over (thresholds, correlations), z = (tau, x).

    Delta parameterization: m = (tau, rho(x)), the implied correlations. Theta: with
    ``Sigma*`` the latent-response covariance matrix (unit residual variances) and ``d =
    diag(Sigma*)^-1/2`` (lavaan's ``~*~`` scales), m = (tau d_item, d_i Sigma*_ij d_j).
    ``w`` is W's diagonal (a vector) or the full matrix.

    Continuous items (``numeric``, lavaan's numeric indicators): their threshold slot is
    minus the intercept (a free parameter of its own, scale 1), their model variance
    ``Sigma_jj`` follows the thresholds in m, and their covariances are not rescaled."""

    def __init__(self, model: MatrixModel, s: np.ndarray, w: np.ndarray,
                 th_item: np.ndarray, theta: bool, numeric: np.ndarray | None = None):
        self.model = model
        self.s = s
        self.w = w
        self.item = th_item
        self.nth = th_item.size
        self.theta = theta
        self.cc, self.rr = np.triu_indices(model.p, 1)
        self.num = (np.zeros(model.p, dtype=bool) if numeric is None
                    else np.asarray(numeric, dtype=bool))
        self.numi = np.flatnonzero(self.num)

    def scales(self, x: np.ndarray) -> np.ndarray:
        if not self.theta:
            return np.ones(self.model.p)
        return np.where(self.num, 1.0, 1.0 / np.sqrt(np.diag(self.model.implied(x)[0])))

    def moments(self, z: np.ndarray, jac: bool = True):
        nth, rr, cc, it = self.nth, self.rr, self.cc, self.item
        tau, x = z[:nth], z[nth:]
        sigma, _ = self.model.implied(x)
        ds = self.model.dsigma(x) if jac else None  # (q, p, p)
        nu = self.numi
        nv = nth + nu.size
        if not self.theta:
            m = np.concatenate([tau, sigma[nu, nu], sigma[rr, cc]])
            if not jac:
                return m, None
            d = np.zeros((m.size, z.size))
            d[:nth, :nth] = np.eye(nth)
            d[nth:nv, nth:] = ds[:, nu, nu].T
            d[nv:, nth:] = ds[:, rr, cc].T
            return m, d
        var = np.diag(sigma)
        sc = np.where(self.num, 1.0, 1.0 / np.sqrt(var))
        m = np.concatenate([tau * sc[it], sigma[nu, nu], sigma[rr, cc] * sc[rr] * sc[cc]])
        if not jac:
            return m, None
        ar = np.arange(var.size)
        dsc = np.where(self.num, 0.0, -0.5 * var ** -1.5 * ds[:, ar, ar])  # (q, p)
        d = np.zeros((m.size, z.size))
        d[:nth, :nth] = np.diag(sc[it])
        d[:nth, nth:] = tau[:, None] * dsc[:, it].T
        d[nth:nv, nth:] = ds[:, nu, nu].T
        d[nv:, nth:] = (ds[:, rr, cc] * (sc[rr] * sc[cc])
                        + sigma[rr, cc] * (dsc[:, rr] * sc[cc] + sc[rr] * dsc[:, cc])).T
        return m, d

    def weigh(self, a: np.ndarray) -> np.ndarray:
        """W a (a vector or a matrix of columns)."""
        if self.w.ndim == 2:
            return self.w @ a
        return self.w * a if a.ndim == 1 else self.w[:, None] * a

    def value(self, z) -> float:
        e = self.s - self.moments(z, jac=False)[0]
        return float(e @ self.weigh(e))

    def pieces(self, z, hessian: bool = True):
        m, d = self.moments(z)
        e = self.s - m
        wd = self.weigh(d)
        g = -2.0 * wd.T @ e
        h = 2.0 * d.T @ wd if hessian else None
        return float(e @ self.weigh(e)), g, h, None


@dataclasses.dataclass(frozen=True, eq=False)
class OrdinalFit:
    """Everything the result needs: the (delta or theta) table, x (structural), the covariance
    of (thresholds, x), the sample statistics and the fit measures; for nested-model tests the
    Jacobian ``delta`` of (thresholds, correlations) over (tau, x), the weight matrix and the
    standard test."""

    pt: ParTable
    x: np.ndarray
    vcov: np.ndarray  # (nth + q) square: thresholds first
    sample: OrdinalSampleStats
    sigma: np.ndarray  # model-implied correlation matrix of the latent responses
    converged: bool
    iterations: int
    fit_measures: FitMeasures
    rows_dropped: tuple[int, ...]
    n_total: int
    shift: float = math.nan  # the shift parameter of the scaled-shifted test
    estimator: str = "WLSMV"
    parameterization: str = "delta"
    tau: np.ndarray | None = None  # the model's thresholds (theta: on the theta scale)
    delta: np.ndarray | None = None  # d (thresholds, correlations) / d (tau, x)
    weight: np.ndarray | None = None  # W: its diagonal (a vector) or the full matrix

    @property
    def thresholds(self) -> np.ndarray:
        """The model's thresholds (the sample ones unless W is full or theta scales them)."""
        return self.sample.thresholds if self.tau is None else self.tau

    @property
    def item_variances(self) -> tuple[np.ndarray, np.ndarray]:
        """(residual variances, latent response variances) of the items: delta ``(1 - R^2,
        1)``, theta ``(1, diag Sigma*)``."""
        mats, _, la, _ = MatrixModel(self.pt).parts(self.x)
        common = np.diag(la @ mats[PSI] @ la.T)
        num = np.asarray(self.sample.numeric or [False] * common.size, dtype=bool)
        if self.parameterization == "theta":
            resid = np.diag(mats[THETA])
            return resid, common + resid
        resid = np.where(num, np.diag(mats[THETA]), 1.0 - common)
        return resid, np.where(num, common + resid, 1.0)


def scaled_shifted(u_gamma: np.ndarray, chisq: float, df: int):
    """lavaan's mean-and-variance adjusted (scaled-shifted) test from U Gamma: (statistic,
    scaling factor 1/a, shift, p-value)."""
    from scipy.stats import chi2

    tr1 = float(np.trace(u_gamma))
    tr2 = float(np.sum(u_gamma * u_gamma.T))
    a = math.sqrt(df / tr2)
    shift = df - a * tr1
    stat = a * chisq + shift
    return stat, 1.0 / a, shift, float(chi2.sf(stat, df))


def _u_gamma(w: np.ndarray, delta: np.ndarray, gamma: np.ndarray, nth: int) -> np.ndarray:
    """``U Gamma``'s block past the thresholds (the correlations, and the variances of
    continuous items), ``U = W - W Delta E^-1 Delta' W``, for a diagonal W (``w`` its
    diagonal). The thresholds are saturated (Delta's threshold rows span every threshold
    direction and no other moment depends on tau), so U is 0 outside this block, where it is
    ``W_r - W_r D (D' W_r D)^-1 D' W_r`` (``D`` those moments' Jacobian over x): the traces
    of ``U Gamma`` and ``(U Gamma)^2`` are this block's, in O(p*^2 q), not O((nth + p*)^3)."""
    d = delta[nth:, nth:]
    wd_r = w[nth:, None] * d
    g_rr = gamma[nth:, nth:]
    return w[nth:, None] * g_rr - wd_r @ np.linalg.solve(d.T @ wd_r, wd_r.T @ g_rr)


def _catml(ss: OrdinalSampleStats, sigma: np.ndarray, delta_r: np.ndarray,
           e_inv: np.ndarray, w_r: np.ndarray, n: int, df: int) -> dict[str, float]:
    """lavaan 0.6.14's ``lav_fit_catml_dwls`` (Savalei 2021): the ML discrepancy of the
    polychoric matrix R at the DWLS solution (lavaan's catML object, not refitted when every
    indicator is ordered and R is positive definite), ``XX3 = N F_ML(R, Sigma)``, its
    scaling ``c = tr(U' V U Gamma_r) / df`` with ``V`` the off-diagonal block of ``D'(Sigma^-1
    x Sigma^-1)D`` and ``U = I - Delta_r E^-1 Delta_r' W_r``; baseline ``-N log|R|`` with
    ``c_null = tr(Gamma_r) / p*``. NaN (as lavaan) when R is not positive definite."""
    r = ss.cor
    p = r.shape[0]
    cc, rr = np.triu_indices(p, 1)
    pstar = cc.size
    nan = {"xx3": math.nan, "c_hat": math.nan, "xx3_null": math.nan, "c_hat_null": math.nan}
    if np.linalg.eigvalsh(r).min() < math.sqrt(np.finfo(float).eps):
        return nan
    si = np.linalg.inv(sigma)
    f = (np.linalg.slogdet(sigma)[1] + float(np.trace(r @ si)) - np.linalg.slogdet(r)[1]
         - p)
    v = si[np.ix_(rr, rr)] * si[np.ix_(cc, cc)] + si[np.ix_(rr, cc)] * si[np.ix_(cc, rr)]
    gam = ss.nacov[-pstar:, -pstar:]
    # U = I - L M, L = Delta_r over x (its threshold columns are 0), M = E^-1 Delta_r' W_r
    # (E^-1's x block): tr(U' V U Gamma) = tr(V X), X = U Gamma U', in O(p*^2 q)
    nth = ss.thresholds.size
    lx = delta_r[:, nth:]
    m = (e_inv[nth:, nth:] @ lx.T) * w_r[None, :]
    ug = gam - lx @ (m @ gam)
    x = ug - (ug @ m.T) @ lx.T
    ks = float(np.sum(v * x.T))
    # df = 0: R's ks / 0 is Inf (the robust CFI of a saturated model is then 1, its RMSEA 0)
    c_hat = ks / df if df > 0 else (math.inf if ks > 0 else math.nan)
    return {"xx3": n * f, "c_hat": c_hat, "xx3_null": -n * float(np.linalg.slogdet(r)[1]),
            "c_hat_null": float(np.trace(gam)) / pstar}


def _frame_input(data: Any, ov: list[str], missing: str) -> tuple[pd.DataFrame,
                                                                   tuple[int, ...]]:
    """The model's columns of ``data`` as numbers, and the rows the policy leaves out
    (listwise: a missing item; pairwise: every item missing, lavaan's empty cases)."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("ordinal CFA needs data= as a DataFrame with the indicators "
                                 "as columns")
    absent = [v for v in ov if v not in data.columns]
    if absent:
        raise DataError(f"columns {absent} are not in the data")
    frame = data[ov]
    if not all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes):
        frame = frame.apply(pd.to_numeric, errors="coerce")
    bad = frame.isna() & data[ov].notna()
    if bad.to_numpy().any():
        col = ov[int(np.flatnonzero(bad.to_numpy().any(axis=0))[0])]
        raise DataError(f"column {col!r} is not numeric; ordered items need integer codes "
                        "and continuous ones numbers")
    incomplete = (frame.isna().any(axis=1) if missing == "listwise"
                  else frame.isna().all(axis=1)).to_numpy()
    return frame, tuple(int(i) for i in np.flatnonzero(incomplete))


def fit_ordinal(pt0: ParTable, data: Any, ordered: Sequence[str] | bool,
                estimator: str, missing: str = "listwise", *,
                parameterization: str = "delta") -> OrdinalFit:
    """Fit the single-group CFA of ordered items (see module)."""
    from scipy.stats import chi2

    if estimator not in ESTIMATORS:
        raise SpecificationError(f"estimator={estimator!r} is not one of "
                                 f"{', '.join(map(repr, ESTIMATORS))} for ordered indicators")
    if parameterization not in PARAMETERIZATIONS:
        raise SpecificationError(f"parameterization={parameterization!r} is not 'delta' or "
                                 "'theta'")

    if any(op not in ("=~", "~~") for op in pt0.op):
        raise SpecificationError("ordinal CFA (WLSMV) handles loadings and (co)variances only "
                                 "so far (no regressions, intercepts or constraints)")
    fr = [f for f in pt0.free if f > 0]
    if len(fr) != len(set(fr)):
        raise SpecificationError("equality constraints (shared labels) are not available yet "
                                 "for ordinal CFA (WLSMV)")
    if pt0.meanstructure:
        raise SpecificationError("ordinal CFA (WLSMV) with a mean structure is not available "
                                 "yet")
    ov = list(pt0.observed)
    ordered_set = set(ov) if ordered is True else set(ordered or ())
    # lavaan: the indicators not in ordered= are continuous ("numeric")
    cont = [v for v in ov if v not in ordered_set]
    if len(cont) == len(ov):
        raise SpecificationError(
            f"none of the indicators {ov} is in ordered=; give ordered=True or list the "
            "ordered indicators (a model of continuous indicators is fitted by ML)")
    from psychoval.stats.core._tables import ResponsePatterns

    if isinstance(data, ResponsePatterns):
        # merged response patterns: the sample statistics are the same sums over patterns
        # weighted by their counts (ordinal_sample_stats); no rows to name as dropped
        if cont:
            raise SpecificationError(
                f"indicators {cont} are not in ordered=; from ResponsePatterns every "
                "indicator is ordered (give ordered=True): continuous ones need the rows")
        frame, rows_dropped, n_total = data.select(ov), (), data.n
    else:
        frame, rows_dropped = _frame_input(data, ov, missing)
        n_total = int(len(data))
    theta = parameterization == "theta"
    ordered_ov = [v for v in ov if v in ordered_set]
    pt = theta_table(pt0, ordered_ov) if theta else delta_table(pt0, ordered_ov)
    # the correlations, and the variances of continuous items
    check_identification(pt, len(ov) * (len(ov) - 1) // 2 + len(cont))
    ss = (mixed_sample_stats(frame, ov, numeric=cont, missing=missing) if cont
          else ordinal_sample_stats(frame, items=ov, missing=missing))
    model = MatrixModel(pt)
    nth = ss.thresholds.size
    numeric = np.array([v in set(cont) for v in ov])
    nnum = len(cont)
    kind, robust = ESTIMATORS[estimator]
    gamma = ss.nacov
    nel = gamma.shape[0]
    if kind == "diag":
        w = 1.0 / np.diag(gamma)
    elif kind == "unit":
        w = np.ones(nel)
    else:  # lavaan's WLS.V = solve(NACOV)
        w = np.linalg.inv(gamma)
        w = 0.5 * (w + w.T)
    w_mat = w if w.ndim == 2 else np.diag(w)
    obs = ss.wls_obs
    disc = _Wls(model, obs, w, ss.threshold_item, theta, numeric)
    x0 = model.x_from_table(start_rows(pt, ss.cov, None))
    z0 = np.concatenate([ss.thresholds / disc.scales(x0)[ss.threshold_item], x0])
    opt = minimize(disc, z0, gtol=1e-12)
    z = opt.x
    tau, x = z[:nth], z[nth:]
    n = ss.nobs
    q = model.q
    pstar = disc.cc.size
    implied, delta = disc.moments(z)
    wd = disc.weigh(delta)
    e_inv = np.linalg.inv(delta.T @ wd)
    if robust:  # lavaan's se = "robust.sem"
        vcov = e_inv @ (wd.T @ gamma @ wd) @ e_inv / (n - 1)
    else:  # lavaan's se = "standard": E^-1 / (N - 1), E = Delta' W Delta
        vcov = e_inv / (n - 1)
    f_min = disc.value(z)
    chisq = (n - 1) * f_min
    df = nel - (nth + q)
    nv = nth + nnum
    sigma = np.eye(len(ov))
    sigma[disc.rr, disc.cc] = sigma[disc.cc, disc.rr] = implied[nv:]
    sigma[disc.numi, disc.numi] = implied[nth:nv]
    # baseline: thresholds (and means, variances of continuous items) free, (co)variances 0
    # (the same in both parameterizations)
    r = ss.cov_vech
    d_b = np.zeros((nel, nv))
    d_b[:nv] = np.eye(nv)
    wd_b = disc.weigh(d_b)
    eb_inv = np.linalg.inv(d_b.T @ wd_b)
    e_b = np.concatenate([np.zeros(nv), r])
    e_b = e_b - d_b @ (eb_inv @ (wd_b.T @ e_b))  # the thresholds at their WLS optimum
    x2b = (n - 1) * float(e_b @ w_mat @ e_b)
    dfb = pstar
    fm: dict[str, Any] = {"npar": nth + q, "fmin": 0.5 * (n - 1) / n * f_min, "chisq": chisq,
                          "df": df, "pvalue": float(chi2.sf(chisq, df)) if df > 0 else math.nan}
    wls = robust
    shift = math.nan
    if wls:
        if w.ndim == 1:
            u_gamma = _u_gamma(w, delta, gamma, nth)
        else:
            u_gamma = (w_mat - wd @ e_inv @ wd.T) @ gamma
        if df > 0:
            st, sf, shift, ps = scaled_shifted(u_gamma, chisq, df)
        else:
            st, sf, ps = chisq, math.nan, math.nan
        fm.update({"chisq_scaled": st, "df_scaled": df, "pvalue_scaled": ps,
                   "chisq_scaling_factor": sf})
        if w.ndim == 1:  # U_b = W on the (co)variances between items, 0 elsewhere
            ub_gamma = w[nv:, None] * gamma[nv:, nv:]
        else:
            ub_gamma = (w_mat - wd_b @ eb_inv @ wd_b.T) @ gamma
        stb, sfb, _b, psb = scaled_shifted(ub_gamma, x2b, dfb)
    fm.update({"baseline_chisq": x2b, "baseline_df": dfb,
               "baseline_pvalue": float(chi2.sf(x2b, dfb))})
    if wls:
        fm.update({"baseline_chisq_scaled": stb, "baseline_df_scaled": dfb,
                   "baseline_pvalue_scaled": psb, "baseline_chisq_scaling_factor": sfb})
    # lavaan 0.6.14: no robust (catML) measures with continuous indicators
    rob = None
    if wls:
        rob = (_catml(ss, sigma, delta[nth:], e_inv, np.diag(w_mat)[nth:], n, df)
               if not nnum else dict.fromkeys(("xx3", "c_hat", "xx3_null", "c_hat_null"),
                                              math.nan))
    n1 = n - 1  # lavaan's N for (D)WLS fit measures: N - ngroups
    comparative_measures(fm, chisq=chisq, df=df, x2b=x2b, dfb=dfb,
                         st=st if wls else math.nan, stb=stb if wls else math.nan, rob=rob,
                         n1=n1)
    # residual measures: correlations (unit diagonal, residual 0) and thresholds
    p = len(ov)
    res = obs - implied
    res2 = float(np.sum(res[nth:] ** 2))
    res2_th = float(np.sum(res[:nth] ** 2))
    e_diag = p * (p + 1) / 2
    fm["rmr"] = math.sqrt((res2 + res2_th) / (e_diag + nth))
    fm["rmr_nomean"] = math.sqrt(res2 / e_diag)
    fm["srmr"] = fm["rmr_nomean"]
    fm["srmr_bentler"] = fm["rmr"]
    fm["srmr_bentler_nomean"] = fm["rmr_nomean"]
    fm["crmr"] = math.sqrt((res2 + res2_th) / (pstar + nth))
    fm["crmr_nomean"] = math.sqrt(res2 / pstar)
    if nnum:
        # continuous items: rmr on the covariance scale, srmr / crmr with the residuals
        # divided by the sample SDs (lavaan's "cor.bentler"); the counts hold the thresholds
        # of the ordered items only (a mean's residual is 0)
        sd = np.sqrt(ss.var)
        ordslot = ~ss.numeric_slot
        res2_th = float(np.sum(res[:nth][ordslot] ** 2))
        nto = int(ordslot.sum())
        std_off = res[nv:] / (sd[disc.rr] * sd[disc.cc])
        std_var = res[nth:nv] / ss.var[disc.numi]
        res2_std = float(np.sum(std_off ** 2) + np.sum(std_var ** 2))
        fm["rmr"] = math.sqrt((res2 + res2_th) / (e_diag + nto))
        fm["srmr_bentler"] = math.sqrt((res2_std + res2_th) / (e_diag + nto))
        fm["srmr"] = fm["srmr_bentler_nomean"] = math.sqrt(res2_std / e_diag)
        off2 = float(np.sum(std_off ** 2))
        fm["crmr"] = math.sqrt((off2 + res2_th) / (pstar + nto))
        fm["crmr_nomean"] = math.sqrt(off2 / pstar)
    fm["srmr_mplus"] = fm["srmr_mplus_nomean"] = math.nan
    for key, alpha in (("cn_05", 0.05), ("cn_01", 0.01)):
        crit = float(chi2.ppf(1 - alpha, df)) if df > 0 else 0.0
        fm[key] = (crit / (chisq / n1) + 1 if chisq > 0
                   else math.inf)
    gfi = 1.0 - float(res @ w_mat @ res) / float(obs @ w_mat @ obs)
    fm["gfi"] = gfi
    fm["agfi"] = 1 - (nel / df) * (1 - gfi) if df > 0 else 1.0
    fm["pgfi"] = (df / nel) * gfi
    fm["mfi"] = math.exp(-0.5 * (chisq - df) / n1)
    fm["wrmr"] = math.sqrt(chisq / nel)
    measures = FitMeasures(fm)
    return OrdinalFit(pt=pt, x=x, vcov=vcov, sample=ss, sigma=sigma,
                      converged=bool(opt.converged), iterations=int(opt.iterations),
                      fit_measures=measures, rows_dropped=rows_dropped,
                      n_total=n_total, shift=float(shift), estimator=estimator,
                      parameterization=parameterization, tau=tau, delta=delta, weight=w)


@functools.lru_cache(maxsize=32)
def _row_plan(pt: ParTable, names: tuple[str, ...], std: bool | str,
              numeric: tuple[bool, ...], th_item: tuple[int, ...]):
    """What ordinal_rows computes that does not depend on (tau, x), cached per table: the
    model, the row keys, the index of each free row, and for each kind of row value the
    output rows, their table rows and the item / factor indices the value needs."""
    model = MatrixModel(pt)
    nth = len(names)
    ovi = {n: i for i, n in enumerate(pt.observed)}
    lvi = {n: i for i, n in enumerate(pt.latent)}
    std_all = bool(std) and std != "std_lv"
    num = numeric or (False,) * len(ovi)
    num_slot = [num[j] for j in th_item]
    keys: list[tuple[str, str, str, str]] = []
    idx: list[int] = []
    plan: list[tuple[str, int, int, int]] = []  # (kind, table row, index a, index b)

    def table_row(r: int):
        lhs, op, rhs = pt.lhs[r], pt.op[r], pt.rhs[r]
        kind, a, b = "val", 0, 0
        if op == "~~" and lhs == rhs and lhs in ovi:
            kind, a = ("theta/var_y" if std_all else "theta"), ovi[lhs]
        elif std == "std_lv" and op == "~~" and lhs in ovi:
            pass  # std.lv leaves the items' (co)variances as they are
        elif std and op == "=~":
            if rhs in ovi:
                kind, a, b = ("val*lv_sd/sd_y" if std_all else "val*lv_sd"), lvi[lhs], ovi[rhs]
            else:
                kind, a, b = "val*lv_sd/lv_sd", lvi[lhs], lvi[rhs]
        elif std and op == "~~":
            if lhs in lvi:
                if lhs == rhs:
                    kind, a = "val/v", lvi[lhs]
                else:
                    kind, a, b = "val/sqrt(psi psi)", lvi[lhs], lvi[rhs]
            else:
                kind, a, b = "val/sqrt(theta theta)", ovi[lhs], ovi[rhs]
        keys.append((lhs, op, rhs, pt.label[r]))
        plan.append((kind, r, a, b))
        f = pt.free[r]
        idx.append(nth + f - 1 if f > 0 else -1)

    rows = range(len(pt.lhs))
    for r in rows:
        if pt.user[r] == 1:
            table_row(r)
    for t, name in enumerate(names):
        if num_slot[t]:  # a continuous item's intercept: its ~1 row below
            continue
        item, th = name.rsplit("|", 1)
        keys.append((item, "|", th, ""))
        plan.append(("tau/sd_y" if std_all else "tau", 0, t, ovi[item]))
        idx.append(t)
    for r in rows:
        if pt.user[r] != 1:
            table_row(r)
    for y in pt.observed:  # the scales: 1 / sd of the latent response (std.all: 1)
        if num[ovi[y]]:
            continue
        keys.append((y, "~*~", y, ""))
        plan.append(("1" if std_all else "1/sd_y", 0, ovi[y], 0))
        idx.append(-1)
    slot = {th_item[t]: t for t in range(nth) if num_slot[t]}
    for y in pt.observed:  # intercepts: 0, a continuous item's free (minus its slot)
        keys.append((y, "~1", "", ""))
        j = ovi[y]
        if j in slot:
            plan.append(("-tau/sd_y" if std_all else "-tau", 0, slot[j], j))
            idx.append(slot[j])
        else:
            plan.append(("0", 0, 0, 0))
            idx.append(-1)
    for f in pt.latent:
        keys.append((f, "~1", "", ""))
        plan.append(("0", 0, 0, 0))
        idx.append(-1)
    kinds = np.array([p[0] for p in plan])
    cols = np.array([p[1:] for p in plan], dtype=int).reshape(-1, 3)
    groups = tuple((kind, np.flatnonzero(kinds == kind), *cols[kinds == kind].T)
                   for kind in dict.fromkeys(kinds.tolist()))
    return model, tuple(keys), np.array(idx, dtype=int), groups


def ordinal_rows(fit: OrdinalFit, std: bool | str = False, x: np.ndarray | None = None,
                 tau: np.ndarray | None = None) -> tuple[list[tuple[str, str, str, str]],
                                                         np.ndarray, np.ndarray]:
    """lavaan's parameterEstimates rows of a delta-parameterization fit: (lhs, op, rhs,
    label), the value of each row (standardized: ``std=True`` or ``"std_all"`` lavaan's
    std.all, ``"std_lv"`` its std.lv, which leaves the items' rows as they are) at (tau, x),
    and the index (into the (thresholds, x) vector) of each free row, -1 for fixed rows.

    Rows: the table's rows (user rows first, as lavaan), thresholds after the user rows,
    then the scaling rows ``y ~*~ y`` (1), the intercepts ``y ~1`` (0) and the latent means
    ``f ~1`` (0). Residual variances of the items are ``1 - (Lambda Psi Lambda')_ii`` (fixed
    in lavaan's parameterEstimates, se 0); complex-step safe in (tau, x).
    """
    pt = fit.pt
    x = fit.x if x is None else x
    tau = fit.thresholds if tau is None else tau
    std = std if std in (False, "std_lv") else bool(std) and "std_all"
    ss = fit.sample
    model, keys, idx, groups = _row_plan(pt, tuple(ss.threshold_names), std,
                                         tuple(bool(v) for v in ss.numeric),
                                         tuple(int(j) for j in ss.threshold_item))
    vals = model.row_values(x)
    mats, _a, la, v = model.parts(x)
    psi = mats[PSI]
    common = np.einsum("ij,jk,ik->i", la, psi, la)  # diag(Lambda Psi Lambda')
    if fit.parameterization == "theta":  # residual variances as fixed, y* variances derived
        theta_d = np.diag(mats[THETA])
        var_y = common + theta_d
    else:  # theta_ii = 1 - (L Psi L')_ii, so that the latent response variances are 1
        # (a continuous item: its free residual variance, its model variance)
        num = np.asarray(ss.numeric or [False] * common.size, dtype=bool)
        theta_d = np.where(num, np.diag(mats[THETA]), 1.0 - common)
        var_y = np.where(num, common + theta_d, 1.0)
    sd_y = np.sqrt(var_y)
    lv_var = np.diag(v)
    lv_sd = np.sqrt(lv_var)
    psi_d = np.diag(psi)
    out = np.empty(idx.size, dtype=np.result_type(vals, tau, var_y))
    for kind, rows, r, a, b in groups:
        val = vals[r]
        if kind == "val":
            res = val
        elif kind == "theta":
            res = theta_d[a]
        elif kind == "theta/var_y":
            res = theta_d[a] / var_y[a]
        elif kind == "val*lv_sd":
            res = val * lv_sd[a]
        elif kind == "val*lv_sd/sd_y":
            res = val * lv_sd[a] / sd_y[b]
        elif kind == "val*lv_sd/lv_sd":
            res = val * lv_sd[a] / lv_sd[b]
        elif kind == "val/v":
            res = val / lv_var[a]
        elif kind == "val/sqrt(psi psi)":
            res = val / np.sqrt(psi_d[a] * psi_d[b])
        elif kind == "val/sqrt(theta theta)":
            res = val / np.sqrt(theta_d[a] * theta_d[b])
        elif kind == "tau":
            res = tau[a]
        elif kind == "tau/sd_y":
            res = tau[a] / sd_y[b]
        elif kind == "-tau":
            res = -tau[a]
        elif kind == "-tau/sd_y":
            res = -tau[a] / sd_y[b]
        elif kind == "1/sd_y":
            res = 1.0 / sd_y[a]
        else:  # the constants "1" and "0"
            res = float(kind)
        out[rows] = res
    return list(keys), out, idx


@dataclasses.dataclass(frozen=True, eq=False)
class DwlsFit:
    """A WLSMV fit as a flat record: estimates (lhs, op, rhs, est, se; no ``~*~`` / ``~1``
    rows) and the scaled-shifted test."""

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


def fit_dwls(model_syntax: Any, data: Any, ordered_items: Sequence[str] | bool = True,
             estimator: str = "WLSMV") -> DwlsFit:
    """lavaan's ``cfa(model, data, ordered = ..., estimator = "WLSMV")`` from model syntax
    (delta parameterization, listwise deletion): a thin front of :func:`fit_ordinal`.

    Parameters
    ----------
    model_syntax : str or dict
        lavaan syntax (or ``{factor: [items]}``); every indicator must be ordered.
    data : DataFrame
        Integer category codes, NaN missing.
    ordered_items : sequence of str or True
        The ordered items (True: all indicators).
    estimator : {"WLSMV"}
        Only WLSMV here; ``pv.cfa(..., ordered=True, estimator=...)`` has the others.
    """
    from psychoval.framework._partable import build_partable
    from psychoval.framework._syntax import model_to_formulas

    if estimator.upper() != "WLSMV":
        raise SpecificationError(f"estimator={estimator!r}: only 'WLSMV' here; pv.cfa(..., "
                                 "ordered=True, estimator=...) has the other estimators")
    formulas, text = model_to_formulas(model_syntax)
    fit = fit_ordinal(build_partable(formulas, source=text), data, ordered_items, "WLSMV")
    keys, est, idx = ordinal_rows(fit)
    sd = np.sqrt(np.clip(np.diag(fit.vcov), 0.0, None))
    se = np.where(idx >= 0, sd[np.maximum(idx, 0)], 0.0)
    rows = [(k[0], k[1], k[2], float(e), float(s))
            for k, e, s in zip(keys, est, se, strict=True) if k[1] not in ("~*~", "~1")]
    fm = fit.fit_measures
    return DwlsFit(estimates=pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est", "se"]),
                   chisq=float(fm["chisq"]), df=int(fm["df"]), pvalue=float(fm["pvalue"]),
                   chisq_scaled=float(fm.get("chisq_scaled", math.nan)),
                   scaling_factor=float(fm.get("chisq_scaling_factor", math.nan)),
                   shift=fit.shift, pvalue_scaled=float(fm.get("pvalue_scaled", math.nan)),
                   fmin=float(fm["fmin"]), npar=int(fm["npar"]), nobs=fit.sample.nobs,
                   converged=fit.converged, iterations=fit.iterations, sample=fit.sample,
                   vcov=fit.vcov)


def ordinal_modindices(fit: OrdinalFit) -> pd.DataFrame:
    """lavaan's ``modindices()`` of a DWLS/WLSMV fit: the candidates of an ML fit (every
    fixed row, every loading of a factor on an item, every item and factor covariance the
    model does not hold), the DWLS information ``I = Delta' W Delta`` of the extended model,
    ``V = I11 - I12 I22^-1 I21`` and ``mi = N g^2 / V`` with ``g`` the gradient of lavaan's
    DWLS objective ``fmin = (N - 1)/N F / 2`` (so ``g = -(N - 1)/N Delta' W (s - sigma)``);
    ``epc = -g / V``; sepc with the latent response variances 1 and the residual variances
    1 - R^2 (lavaan's lav_standardize_* of a delta-parameterization fit)."""
    if fit.parameterization != "delta" or fit.estimator not in ("WLSMV", "DWLS"):
        raise NotImplementedError(
            f"modindices() of an ordinal {fit.estimator} fit in the {fit.parameterization} "
            "parameterization is not available yet (lavaan's DWLS score tests of the delta "
            "parameterization are: estimator 'WLSMV' or 'DWLS')")
    if fit.sample.var is not None:
        raise NotImplementedError(
            "modindices() of an ordinal fit with continuous indicators is not available yet")
    pt = fit.pt
    ss = fit.sample
    nth = ss.thresholds.size
    cand = [(a, o, b, v) for a, o, b, f, v in
            zip(pt.lhs, pt.op, pt.rhs, pt.free, pt.ustart, strict=True) if f == 0]
    have = {(a, o, b) for a, o, b in zip(pt.lhs, pt.op, pt.rhs, strict=True)}
    have |= {(b, o, a) for a, o, b in have if o == "~~"}
    ov, lv = pt.observed, pt.latent
    full = [(f, "=~", x) for f in lv for x in ov]
    full += [(ov[i], "~~", ov[j]) for i in range(len(ov)) for j in range(i, len(ov))]
    full += [(lv[i], "~~", lv[j]) for i in range(len(lv)) for j in range(i, len(lv))]
    cand += [(a, o, b, 0.0) for a, o, b in full if (a, o, b) not in have]
    cols = ["lhs", "op", "rhs", "mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"]
    if not cand:
        return pd.DataFrame(columns=cols)
    q = pt.n_free
    ext = pt.with_rows([{"lhs": a, "op": o, "rhs": b, "group": 1, "user": 10,
                         "free": q + 1 + j} for j, (a, o, b, _) in enumerate(cand)])
    xf = np.concatenate([fit.x, [c[3] for c in cand]])
    mext = MatrixModel(ext)
    p = len(ov)
    cc, rr = np.triu_indices(p, 1)
    d_r = mext.dsigma(xf)[:, rr, cc].T  # (p*, q + ncand)
    w_all = 1.0 / np.diag(ss.nacov)
    w_r = w_all[nth:]
    sig, _ = mext.implied(xf)
    e = ss.cor_vech - sig[rr, cc]
    k = (ss.nobs - 1) / ss.nobs
    g = -k * (d_r.T @ (w_r * e))  # gradient of fmin over the structural + candidate parameters
    info_r = d_r.T @ (w_r[:, None] * d_r)
    # thresholds: their information block is diag(w_th) and they do not touch the rest
    mdl = np.arange(q)
    ex = np.arange(q, q + len(cand))
    i22inv = np.linalg.inv(info_r[np.ix_(mdl, mdl)])
    i12 = info_r[np.ix_(ex, mdl)]
    vdiag = np.diag(info_r[np.ix_(ex, ex)] - i12 @ i22inv @ i12.T).copy()
    vdiag[vdiag < np.finfo(float).eps ** (1 / 3)] = np.nan
    ge = g[ex]
    n = ss.nobs
    mi = n * ge**2 / vdiag
    epc = -ge / vdiag
    model = MatrixModel(pt)
    mats, _, la, v = model.parts(fit.x)
    sigma = la @ mats[PSI] @ la.T + mats[THETA]
    th_d = 1.0 - np.diag(sigma)
    lv_sd = np.sqrt(np.where(np.diag(v) > 0, np.diag(v), np.nan))
    psi_d = np.diag(mats[PSI])
    ovi = {nm: i for i, nm in enumerate(ov)}
    lvi = {nm: i for i, nm in enumerate(lv)}
    s_lv = np.full(len(cand), np.nan)
    s_all = np.full(len(cand), np.nan)
    for j, (lhs, op, rhs, val) in enumerate(cand):
        if not np.isfinite(epc[j]):
            continue
        x = epc[j]
        if op == "=~" and rhs in ovi:
            s_lv[j] = s_all[j] = x * lv_sd[lvi[lhs]]
        elif op == "=~":
            s_lv[j] = s_all[j] = x * lv_sd[lvi[lhs]] / lv_sd[lvi[rhs]]
        elif lhs == rhs:
            cur = abs(val) if abs(val) >= np.sqrt(np.finfo(float).eps) else 0.0
            sign = np.sign(x)
            if lhs in lvi:
                s_lv[j] = s_all[j] = sign * cur / lv_sd[lvi[lhs]] ** 2
            else:
                s_lv[j] = s_all[j] = sign * cur
        elif lhs in ovi:
            s_lv[j] = x
            s_all[j] = x / np.sqrt(abs(th_d[ovi[lhs]] * th_d[ovi[rhs]]))
        else:
            s_lv[j] = s_all[j] = x / np.sqrt(abs(psi_d[lvi[lhs]] * psi_d[lvi[rhs]]))
    out = pd.DataFrame({"lhs": [c[0] for c in cand], "op": [c[1] for c in cand],
                        "rhs": [c[2] for c in cand], "mi": mi, "epc": epc, "sepc_lv": s_lv,
                        "sepc_all": s_all, "sepc_nox": s_all})[cols]
    return out[np.isfinite(out["mi"])].reset_index(drop=True)


def comparative_measures(fm: dict[str, Any], *, chisq: float, df: int, x2b: float, dfb: int,
                         st: float, stb: float, rob: dict[str, float] | None, n1: int,
                         groups: int = 1) -> None:
    """Add lavaan's incremental measures (CFI, TLI, NNFI, RFI, NFI, PNFI, IFI, RNI; their
    ``_scaled`` versions and the catML ``_robust`` CFI / TLI / NNFI / RNI when ``rob`` is
    given: a scaled test) and the RMSEA family (N - G and the groups' sqrt(G)) to ``fm``, in
    lavaan's order, for one or several groups of a (D)WLS / ULS fit."""
    scaled = rob is not None
    pairs = [("", chisq, x2b)] + ([("_scaled", st, stb)] if scaled else [])
    for suf, x2, xb in pairs:
        fm["cfi" + suf] = _robust.cfi(x2, df, xb, dfb)
        fm["tli" + suf] = _robust.tli(x2, df, xb, dfb)
    if scaled:
        for key, fn in (("cfi_robust", _robust.cfi), ("tli_robust", _robust.tli)):
            fm[key] = fn(rob["xx3"], df, rob["xx3_null"], dfb, c_hat=rob["c_hat"],
                         c_hat_null=rob["c_hat_null"])
    for suf, x2, xb in pairs:
        fm["nnfi" + suf] = _robust.tli(x2, df, xb, dfb)
        fm["rfi" + suf] = _robust.rfi(x2, df, xb, dfb)
        fm["nfi" + suf] = _robust.nfi(x2, df, xb, dfb)
        fm["pnfi" + suf] = _robust.pnfi(x2, df, xb, dfb)
        fm["ifi" + suf] = _robust.ifi(x2, df, xb, dfb)
        fm["rni" + suf] = _robust.rni(x2, df, xb, dfb)
    if scaled:
        fm["nnfi_robust"] = fm["tli_robust"]
        fm["rni_robust"] = _robust.rni(rob["xx3"], df, rob["xx3_null"], dfb,
                                       c_hat=rob["c_hat"], c_hat_null=rob["c_hat_null"])
    gk = {"groups": groups}
    fm["rmsea"] = _robust.rmsea(chisq, df, n1, **gk)
    fm["rmsea_ci_lower"], fm["rmsea_ci_upper"] = _robust.rmsea_ci(chisq, df, n1, **gk)
    fm["rmsea_ci_level"] = 0.90
    fm["rmsea_pvalue"] = _robust.rmsea_pvalue_close(chisq, df, n1, **gk)
    fm["rmsea_close_h0"] = 0.05
    fm["rmsea_notclose_pvalue"] = _robust.rmsea_pvalue_notclose(chisq, df, n1, **gk)
    fm["rmsea_notclose_h0"] = 0.08
    if scaled:
        fm["rmsea_scaled"] = _robust.rmsea(st, df, n1, **gk)
        fm["rmsea_ci_lower_scaled"], fm["rmsea_ci_upper_scaled"] = _robust.rmsea_ci(
            st, df, n1, **gk)
        fm["rmsea_pvalue_scaled"] = _robust.rmsea_pvalue_close(st, df, n1, **gk)
        fm["rmsea_notclose_pvalue_scaled"] = _robust.rmsea_pvalue_notclose(st, df, n1, **gk)
        xx3, ch = rob["xx3"], rob["c_hat"]
        xx3s = xx3 / ch
        fm["rmsea_robust"] = _robust.rmsea(xx3, df, n1, c_hat=ch, **gk)
        fm["rmsea_ci_lower_robust"], fm["rmsea_ci_upper_robust"] = _robust.rmsea_ci(
            xx3s, df, n1, c_hat=ch, **gk)
        fm["rmsea_pvalue_robust"] = _robust.rmsea_pvalue_close(xx3s, df, n1, c_hat=ch, **gk)
        fm["rmsea_notclose_pvalue_robust"] = _robust.rmsea_pvalue_notclose(
            xx3s, df, n1, c_hat=ch, **gk)
