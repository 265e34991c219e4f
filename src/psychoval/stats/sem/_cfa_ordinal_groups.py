"""Several groups in the ordinal path of :func:`psychoval.cfa`: lavaan 0.6.14's ``cfa(model,
data, ordered = TRUE, estimator = "WLSMV", group = "g", group.equal = ...)``, delta
parameterization, every indicator ordered.

Each group has its own sample statistics (:func:`~psychoval.stats.sem._ordinal.
ordinal_sample_stats` on its rows: thresholds, polychorics and Gamma_g). The model of group g
(lavaan's ``computeTH`` / ``computeSigmaHat`` with a ``delta`` matrix) is

    thresholds   (tau_g - nu_g - Lambda_g alpha_g)_item * Delta_g,item
    correlations Delta_g,i Delta_g,j (Lambda_g Psi_g Lambda_g' + Theta_g)_ij    (i != j)

with the item intercepts ``nu`` fixed at 0, the residual variances ``1 / Delta^2 - (Lambda
Psi Lambda')_ii`` (derived, not parameters) and the scales ``Delta`` (``~*~``) fixed at 1.
``group_equal`` follows lavaan's ``lav_partable_flat``: rows of groups 2.. share group 1's
parameter for the listed kinds (``"thresholds"``, ``"loadings"``, ``"lv.variances"``,
``"lv.covariances"``, ``"residual.covariances"``; ``"intercepts"`` and ``"residuals"``
touch only fixed rows here); with equal thresholds (or intercepts) and without ``"means"``
the latent means of groups 2.. are free, and with equal thresholds the scales of groups 2..
are free. No constraint (the default) is the configural model: each group's single-group
model side by side.

Estimation as lavaan: ``F = sum_g (N_g - 1) (s_g - m_g)' W_g (s_g - m_g)`` (``chisq = F``,
``fmin = F / (2 N)``); with ``f_g = N_g / N``, ``E = sum_g f_g Delta_g' W_g Delta_g``,
robust ("robust.sem") covariance ``E^-1 (sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g) E^-1 /
(N - G)``; the scaled-shifted test on the stacked ``U = V - V Delta E^-1 Delta' V`` with ``V
= bdiag(f_g W_g)``, ``Gamma = bdiag(Gamma_g / f_g)`` (lavaan's ``lav_test_satorra_bentler``
since 0.6-13). Baseline: each group's thresholds free, correlations 0.

Fit measures: lavaan's multi-group rules - RMSEA with N - G and sqrt(G); RMR / SRMR / CRMR
per group weighted by N_g / N; GFI weighted by N_g; WRMR over group 1's number of
statistics (lavaan's ``length(WLS.obs[[1]])``); the robust (catML) CFI / TLI / RMSEA of
Savalei (2021) on the stacked groups, NaN (as lavaan, whose catML refit fails) when the
scales of groups 2.. are free.

Length: about 610 lines - the table rules (lavaan's and Wu & Estabrook's), the fit, its
multi-group fit measures and the parameter rows share the z layout and stay in one module.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError, SpecificationError
from psychoval.framework._partable import ParTable
from psychoval.stats.sem._cfa_ordinal import ESTIMATORS, comparative_measures, scaled_shifted
from psychoval.stats.sem._engine import FitMeasures, check_group_equal, multigroup_partable
from psychoval.stats.sem._estimate import check_identification, start_rows
from psychoval.stats.sem._model import PSI, MatrixModel
from psychoval.stats.sem._optimize import minimize
from psychoval.stats.sem._ordinal import OrdinalSampleStats, ordinal_sample_stats

__all__ = ["ORDINAL_GROUP_EQUAL", "OrdinalGroupsFit", "StackedSample", "fit_ordinal_groups",
           "group_rows"]

#: lavaan's group.equal values that apply to an all-ordered CFA
ORDINAL_GROUP_EQUAL = ("thresholds", "loadings", "intercepts", "means", "residuals",
                       "residual.covariances", "lv.variances", "lv.covariances")


def check_ordinal_group_equal(group_equal: Any) -> tuple[str, ...]:
    """lavaan's ``group.equal`` for ordered indicators (``_`` may stand for ``.``)."""
    return check_group_equal(group_equal, ORDINAL_GROUP_EQUAL,
                             what="lavaan's group.equal for ordered indicators")


@dataclasses.dataclass(frozen=True, eq=False)
class StackedSample:
    """The groups' sample statistics stacked as lavaan's tests use them: ``nacov`` is
    ``bdiag(Gamma_g / f_g)``, ``nobs`` the total N."""

    items: tuple[str, ...]
    nobs: int
    nacov: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class OrdinalGroupsFit:
    """A multi-group ordinal fit: the table of the structural parameters (groups 1..G), the
    parameter vector ``z = (thresholds, structural x, scales)``, its covariance, the per-group
    sample statistics, and for nested-model tests the stacked Jacobian ``delta``, weight
    ``bdiag(f_g W_g)`` and ``sample.nacov = bdiag(Gamma_g / f_g)``."""

    pt: ParTable
    z: np.ndarray
    vcov: np.ndarray
    samples: tuple[OrdinalSampleStats, ...]
    tau_index: tuple[np.ndarray, ...]  # per group: index into z of each threshold
    scale_index: tuple[np.ndarray, ...]  # per group: index into z of each scale, -1 fixed 1
    sigmas: tuple[np.ndarray, ...]  # per group: implied correlations of the latent responses
    converged: bool
    iterations: int
    fit_measures: FitMeasures
    rows_dropped: tuple[int, ...]
    n_total: int
    group_labels: tuple[Any, ...]
    group_equal: tuple[str, ...]
    shift: float = math.nan
    estimator: str = "WLSMV"
    parameterization: str = "delta"
    delta: np.ndarray | None = None
    weight: np.ndarray | None = None
    sample: StackedSample | None = None
    id_cat: str = "default"
    group_partial: tuple[tuple[str, str, str], ...] = ()

    @property
    def n_th(self) -> int:
        return int(max(int(t.max()) for t in self.tau_index) + 1)

    @property
    def x(self) -> np.ndarray:
        return self.z[self.n_th:self.n_th + self.pt.n_free]


def _fix(pt: ParTable, mask: np.ndarray, value: float) -> ParTable:
    """Rows in ``mask`` fixed at ``value``; the free indices renumbered (shared ones stay
    shared)."""
    free = np.array(pt.free)
    ustart = np.array(pt.ustart, dtype=float)
    free[mask] = 0
    ustart[mask] = value
    kept = np.unique(free[free > 0])
    remap = np.zeros(free.max(initial=0) + 1, dtype=int)
    remap[kept] = np.arange(1, kept.size + 1)
    return pt.replace(free=tuple(int(v) for v in remap[free]),
                      ustart=tuple(float(v) for v in ustart))


#: semTools measEq.syntax's ``ID.cat`` values psychoval takes (lower case, ``_`` for ``.``)
ID_CAT = {"default": "default", "lavaan": "default", "wu.estabrook.2016": "wu.estabrook.2016",
          "wu.estabrook": "wu.estabrook.2016"}


def check_id_cat(id_cat: Any) -> str:
    """``"default"`` (lavaan's ``group.equal`` rules) or ``"wu.estabrook.2016"``."""
    key = str(id_cat).strip().lower().replace("_", ".")
    if key not in ID_CAT:
        raise SpecificationError(
            f"id_cat={id_cat!r} is not one of 'default' (lavaan's group.equal rules) or "
            "'Wu.Estabrook.2016' (semTools measEq.syntax's ID.cat)")
    return ID_CAT[key]


def _free_each(pt: ParTable, mask: np.ndarray) -> ParTable:
    """Rows in ``mask`` free, each its own parameter (appended after the existing ones)."""
    free = np.array(pt.free)
    ustart = np.array(pt.ustart, dtype=float)
    labels = list(pt.label)
    q = int(free.max(initial=0))
    for r in np.flatnonzero(mask):
        q += 1
        free[r] = q
        ustart[r] = math.nan
        labels[r] = ""
    return pt.replace(free=tuple(int(v) for v in free), ustart=tuple(float(v) for v in ustart),
                      label=tuple(labels))


def ordinal_groups_table(pt1: ParTable, n_groups: int, equal: Sequence[str], *,
                         id_cat: str = "default",
                         partial: Sequence[tuple[str, str, str]] = ()) -> ParTable:
    """The structural table of all groups (lavaan's ``lav_partable_flat`` for ordered
    indicators, delta parameterization): item intercepts fixed at 0, item residual variances
    fixed (derived), latent means free in groups 2.. with equal thresholds or intercepts
    (unless ``"means"``).

    ``id_cat="wu.estabrook.2016"`` (semTools' ``ID.cat``): with equal thresholds but not
    equal intercepts the item intercepts of groups 2.. are free and the latent means stay
    fixed at 0 (Wu & Estabrook 2016, Table 2). ``partial`` (lavaan's ``group.partial``):
    ``(item, "~1", "")`` frees that item's intercept in groups 2.., ``(f, "=~", item)``
    releases the equality of that loading."""
    eq = set(equal) - {"thresholds"}
    we_free = (id_cat == "wu.estabrook.2016" and "thresholds" in equal
               and "intercepts" not in equal)
    if "thresholds" in equal and "means" not in equal and not we_free:
        eq.add("intercepts")  # multigroup_partable frees the latent means of groups 2.. then
    loads = tuple(k for k in partial if k[1] == "=~")
    pt = multigroup_partable(pt1, n_groups, tuple(sorted(eq)), loads)
    ov = set(pt.observed)
    nu_free = set(ov) if we_free else {k[0] for k in partial if k[1] == "~1"}
    if nu_free and "thresholds" not in equal:
        raise SpecificationError(
            "free intercepts of ordered items need equal thresholds (group_equal with "
            "'thresholds'): without them the intercepts are not identified")
    grp = np.array(pt.group)
    is_nu = np.array([op == "~1" and lhs in ov for lhs, op in zip(pt.lhs, pt.op, strict=True)])
    freed = is_nu & (grp > 1) & np.array([lhs in nu_free for lhs in pt.lhs])
    mask = (is_nu & ~freed) | np.array(
        [op == "~~" and lhs == rhs and lhs in ov
         for lhs, op, rhs in zip(pt.lhs, pt.op, pt.rhs, strict=True)])
    pt = _free_each(_fix(pt, mask | freed, 0.0), freed)
    if nu_free and not we_free:
        for f in pt.latent:
            inds = {rhs for lhs, op, rhs in zip(pt1.lhs, pt1.op, pt1.rhs, strict=True)
                    if op == "=~" and lhs == f and rhs in ov}
            if inds and inds <= nu_free:
                raise SpecificationError(
                    f"group_partial frees the intercepts of every indicator of {f!r} while its "
                    "latent mean is free in groups 2..: not identified; keep at least one "
                    "intercept equal")
    return pt


class _Groups:
    """The stacked discrepancy ``sum_g c_g (s_g - m_g)' W_g (s_g - m_g)`` over ``z``."""

    def __init__(self, pt: ParTable, samples, weights, tau_index, scale_index, c):
        self.pt = pt
        self.models = [MatrixModel(pt, g + 1) for g in range(len(samples))]
        self.samples = samples
        self.w = weights  # full matrices
        self.tau_index = tau_index
        self.scale_index = scale_index
        self.c = c
        self.nt = int(max(int(t.max()) for t in tau_index) + 1)
        self.q = pt.n_free
        p = len(pt.observed)
        self.cc, self.rr = np.triu_indices(p, 1)

    def moments_group(self, g: int, z: np.ndarray) -> np.ndarray:
        ss = self.samples[g]
        x = z[self.nt:self.nt + self.q]
        sigma, mu = self.models[g].implied(x)
        si = self.scale_index[g]
        sc = np.where(si >= 0, z[np.maximum(si, 0)], 1.0).astype(np.result_type(z, float))
        it = ss.threshold_item
        th = (z[self.tau_index[g]] - mu[it]) * sc[it]
        rr, cc = self.rr, self.cc
        return np.concatenate([th, sigma[rr, cc] * sc[rr] * sc[cc]])

    def jac_group(self, g: int, z: np.ndarray) -> np.ndarray:
        """Group g's moments differentiated over z (analytic: ``MatrixModel.dmu`` /
        ``dsigma`` through the thresholds' ``(tau - mu) * Delta`` and the correlations'
        ``sigma * Delta_r * Delta_c``)."""
        ss = self.samples[g]
        nt, q = self.nt, self.q
        x = z[nt:nt + q]
        model = self.models[g]
        sigma, mu = model.implied(x)
        si = self.scale_index[g]
        sc = np.where(si >= 0, z[np.maximum(si, 0)], 1.0)
        it = ss.threshold_item
        k = it.size
        rr, cc = self.rr, self.cc
        d = np.zeros((k + rr.size, z.size))
        tau = z[self.tau_index[g]]
        d[np.arange(k), self.tau_index[g]] = sc[it]
        d[:k, nt:nt + q] = -(model.dmu(x)[:, it] * sc[it]).T
        d[k:, nt:nt + q] = (model.dsigma(x)[:, rr, cc] * (sc[rr] * sc[cc])).T
        for j in np.flatnonzero(si >= 0):
            col = si[j]
            d[:k, col] += np.where(it == j, tau - mu[it], 0.0)
            d[k:, col] += (np.where(rr == j, sigma[rr, cc] * sc[cc], 0.0)
                           + np.where(cc == j, sigma[rr, cc] * sc[rr], 0.0))
        return d

    def jac_group_complex(self, g: int, z: np.ndarray) -> np.ndarray:
        """Complex-step Jacobian of group g's moments over z (the check of ``jac_group``)."""
        h = 1e-30
        m0 = self.moments_group(g, z)
        d = np.zeros((m0.size, z.size))
        cols = np.concatenate([self.tau_index[g], np.arange(self.nt, self.nt + self.q),
                               self.scale_index[g][self.scale_index[g] >= 0]])
        for k in np.unique(cols):
            zc = z.astype(complex)
            zc[k] += 1j * h
            d[:, k] = np.imag(self.moments_group(g, zc)) / h
        return d

    def value(self, z) -> float:
        out = 0.0
        for g, ss in enumerate(self.samples):
            e = ss.wls_obs - self.moments_group(g, z)
            out += self.c[g] * float(e @ self.w[g] @ e)
        return out

    def pieces(self, z, hessian: bool = True):
        f = 0.0
        grad = np.zeros(z.size)
        hess = np.zeros((z.size, z.size))
        for g, ss in enumerate(self.samples):
            e = ss.wls_obs - self.moments_group(g, z)
            d = self.jac_group(g, z)
            wd = self.w[g] @ d
            f += self.c[g] * float(e @ self.w[g] @ e)
            grad += -2.0 * self.c[g] * (wd.T @ e)
            hess += 2.0 * self.c[g] * (d.T @ wd)
        return f, grad, (hess if hessian else None), None


def _bdiag(mats: Sequence[np.ndarray]) -> np.ndarray:
    from scipy.linalg import block_diag

    return block_diag(*mats)


def _split(data: pd.DataFrame, ov: list[str], group: str, missing: str):
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("ordinal CFA needs data= as a DataFrame with the indicators "
                                 "as columns")
    if group not in data.columns:
        raise SpecificationError(f"group={group!r} is not a column of the data")
    absent = [v for v in ov if v not in data.columns]
    if absent:
        raise DataError(f"columns {absent} are not in the data")
    frame = data[ov].apply(pd.to_numeric, errors="coerce")
    bad = frame.isna() & data[ov].notna()
    if bad.to_numpy().any():
        col = ov[int(np.flatnonzero(bad.to_numpy().any(axis=0))[0])]
        raise DataError(f"column {col!r} is not numeric; ordered items need integer codes")
    incomplete = (frame.isna().any(axis=1) if missing == "listwise"
                  else frame.isna().all(axis=1)).to_numpy()
    gcol = data[group].to_numpy()
    na = pd.isna(gcol) & ~incomplete
    if na.any():
        raise DataError(f"group column {group!r} is missing in row "
                        f"{data.index[int(np.flatnonzero(na)[0])]!r}; drop those rows or give "
                        "them a group")
    rows_dropped = tuple(int(i) for i in np.flatnonzero(incomplete))
    keep = ~incomplete
    labels = list(pd.unique(gcol[keep]))
    if len(labels) < 2:
        raise DataError(f"group column {group!r} has only one value ({labels[0]!r}); fit "
                        "without group=")
    frames = [frame[keep & (gcol == lab)] for lab in labels]
    return frames, labels, rows_dropped


def fit_ordinal_groups(pt1: ParTable, data: Any, group: str, group_equal: Any,
                       estimator: str, missing: str = "listwise", *,
                       parameterization: str = "delta", id_cat: str = "default",
                       partial: Sequence[tuple[str, str, str]] = ()) -> OrdinalGroupsFit:
    """Fit the multi-group CFA of ordered items (see module). ``pt1`` is the single-group
    table with a mean structure."""
    from scipy.stats import chi2

    if estimator not in ESTIMATORS:
        raise SpecificationError(f"estimator={estimator!r} is not one of "
                                 f"{', '.join(map(repr, ESTIMATORS))} for ordered indicators")
    if parameterization != "delta":
        raise NotImplementedError("several groups of ordered indicators are available in the "
                                  "delta parameterization only (lavaan's default); refit with "
                                  "parameterization='delta'")
    if any(op not in ("=~", "~~", "~1") for op in pt1.op):
        raise SpecificationError("ordinal CFA (WLSMV) handles loadings and (co)variances only "
                                 "so far (no regressions or constraints)")
    fr = [f for f in pt1.free if f > 0]
    if len(fr) != len(set(fr)):
        raise SpecificationError("equality constraints (shared labels) are not available yet "
                                 "for ordinal CFA (WLSMV); use group_equal=")
    equal = check_ordinal_group_equal(group_equal)
    ov = list(pt1.observed)
    frames, labels, rows_dropped = _split(data, ov, group, missing)
    n_groups = len(labels)
    samples = [ordinal_sample_stats(f, items=ov, missing=missing) for f in frames]
    pt = ordinal_groups_table(pt1, n_groups, equal, id_cat=id_cat, partial=partial)
    p = len(ov)
    pstar = p * (p - 1) // 2
    check_identification(ordinal_groups_table(pt1, 1, ()), pstar)
    eq_th = "thresholds" in equal
    if eq_th:
        names0 = samples[0].threshold_names
        for lab, ss in zip(labels[1:], samples[1:], strict=True):
            if ss.threshold_names != names0:
                raise DataError(
                    f"group {lab!r} does not have the categories of group {labels[0]!r} for "
                    "every item, so its thresholds cannot be equal to theirs (lavaan needs the "
                    "same observed categories in every group): merge the sparse categories")
    # parameter vector z = (thresholds, structural x, scales)
    tau_index = []
    nt = 0
    for g, ss in enumerate(samples):
        k = ss.thresholds.size
        if g > 0 and eq_th:
            tau_index.append(tau_index[0])
        else:
            tau_index.append(np.arange(nt, nt + k))
            nt += k
    q = pt.n_free
    # scales of groups 2.. free with equal thresholds; Wu & Estabrook: only for items with 2
    # or more thresholds (a binary item's free intercept takes the one degree of freedom its
    # threshold leaves). semTools frees a binary item's scale once its intercept is equal;
    # that scalar model is not nested in the metric one (its chi-square can be lower), so
    # here the scale stays at 1 and the ladder stays nested (see pv.invariance Notes)
    scale_free = np.full(p, eq_th)
    if eq_th and id_cat == "wu.estabrook.2016":
        scale_free = np.bincount(samples[0].threshold_item, minlength=p) >= 2
    k_free = int(scale_free.sum())
    scale_index = []
    ns = 0
    for g in range(n_groups):
        si = np.full(p, -1)
        if g > 0 and eq_th:
            si[scale_free] = np.arange(nt + q + ns, nt + q + ns + k_free)
            ns += k_free
        scale_index.append(si)
    kind, robust = ESTIMATORS[estimator]
    weights = []
    for ss in samples:
        gam = ss.nacov
        if kind == "diag":
            w = np.diag(1.0 / np.diag(gam))
        elif kind == "unit":
            w = np.eye(gam.shape[0])
        else:
            w = np.linalg.inv(gam)
            w = 0.5 * (w + w.T)
        weights.append(w)
    nobs = np.array([ss.nobs for ss in samples], dtype=float)
    n = float(nobs.sum())
    c = (nobs - 1) / (n - n_groups)
    disc = _Groups(pt, samples, weights, tau_index, scale_index, c)
    # starting values: each group's rows from its polychorics (lavaan's per-group starts)
    grp = np.array(pt.group)
    rows0 = np.zeros(len(pt))
    for g, ss in enumerate(samples):
        sel = grp == g + 1
        rows0[sel] = start_rows(pt, ss.cor, np.zeros(p))[sel]
    rows0 = np.where(np.isnan(rows0), 0.0, rows0)
    x0 = MatrixModel(pt).x_from_table(rows0)
    z0 = np.zeros(nt + q + ns)
    for g, ss in enumerate(samples):
        if g == 0 or not eq_th:
            z0[tau_index[g]] = ss.thresholds
    z0[nt:nt + q] = x0
    z0[nt + q:] = 1.0
    opt = minimize(disc, z0, gtol=1e-12)
    z = opt.x
    fg = nobs / n
    deltas = [disc.jac_group(g, z) for g in range(n_groups)]
    implied = [disc.moments_group(g, z) for g in range(n_groups)]
    info = sum(fg[g] * deltas[g].T @ weights[g] @ deltas[g] for g in range(n_groups))
    e_inv = np.linalg.inv(info)
    if robust:
        mid = sum(fg[g] * deltas[g].T @ weights[g] @ samples[g].nacov @ weights[g] @ deltas[g]
                  for g in range(n_groups))
        vcov = e_inv @ mid @ e_inv / (n - n_groups)
    else:
        vcov = e_inv / (n - n_groups)
    resid = [ss.wls_obs - m for ss, m in zip(samples, implied, strict=True)]
    f_g = np.array([float(e @ w @ e) for e, w in zip(resid, weights, strict=True)])
    chisq = float(np.sum((nobs - 1) * f_g))
    nel_g = [ss.wls_obs.size for ss in samples]
    nel = int(sum(nel_g))
    npar = nt + q + ns
    df = nel - npar
    d_all = np.vstack(deltas)
    v_all = _bdiag([fg[g] * weights[g] for g in range(n_groups)])
    gam_all = _bdiag([samples[g].nacov / fg[g] for g in range(n_groups)])
    # baseline: each group's thresholds free, correlations 0
    x2b = 0.0
    d_bs = []
    for g, ss in enumerate(samples):
        k = ss.thresholds.size
        d_b = np.zeros((nel_g[g], k))
        d_b[:k] = np.eye(k)
        wd_b = weights[g] @ d_b
        e_b = np.concatenate([np.zeros(k), ss.cor_vech])
        e_b = e_b - d_b @ np.linalg.solve(d_b.T @ wd_b, wd_b.T @ e_b)
        x2b += (ss.nobs - 1) * float(e_b @ weights[g] @ e_b)
        d_bs.append(d_b)
    dfb = n_groups * pstar
    fm: dict[str, Any] = {"npar": npar,
                          "fmin": float(np.sum(fg * 0.5 * (nobs - 1) / nobs * f_g)),
                          "chisq": chisq, "df": df,
                          "pvalue": float(chi2.sf(chisq, df)) if df > 0 else math.nan}
    shift = math.nan
    if robust:
        u = v_all - v_all @ d_all @ e_inv @ d_all.T @ v_all
        if df > 0:
            st, sf, shift, ps = scaled_shifted(u @ gam_all, chisq, df)
        else:
            st, sf, ps = chisq, math.nan, math.nan
        fm.update({"chisq_scaled": st, "df_scaled": df, "pvalue_scaled": ps,
                   "chisq_scaling_factor": sf})
        d_b_all = _bdiag(d_bs)
        eb_inv = np.linalg.inv(d_b_all.T @ v_all @ d_b_all)
        u_b = v_all - v_all @ d_b_all @ eb_inv @ d_b_all.T @ v_all
        stb, sfb, _b, psb = scaled_shifted(u_b @ gam_all, x2b, dfb)
    fm.update({"baseline_chisq": x2b, "baseline_df": dfb,
               "baseline_pvalue": float(chi2.sf(x2b, dfb))})
    if robust:
        fm.update({"baseline_chisq_scaled": stb, "baseline_df_scaled": dfb,
                   "baseline_pvalue_scaled": psb, "baseline_chisq_scaling_factor": sfb})
    sigmas = []
    for g in range(n_groups):
        s = np.eye(p)
        s[disc.rr, disc.cc] = s[disc.cc, disc.rr] = implied[g][samples[g].thresholds.size:]
        sigmas.append(s)
    rob = _catml(samples, sigmas, deltas, e_inv, weights, fg, df, ns > 0) if robust else None
    n1 = n - n_groups  # lavaan's N for (D)WLS fit measures
    comparative_measures(fm, chisq=chisq, df=df, x2b=x2b, dfb=dfb,
                         st=st if robust else math.nan, stb=stb if robust else math.nan,
                         rob=rob, n1=n1, groups=n_groups)
    # residual measures per group (thresholds and correlations), weighted by N_g / N
    acc = {k: 0.0 for k in ("rmr", "rmr_nomean", "crmr", "crmr_nomean")}
    gfi = 0.0
    e_diag = p * (p + 1) / 2
    for g, ss in enumerate(samples):
        k = ss.thresholds.size
        res = resid[g]
        r2 = float(np.sum(res[k:] ** 2))
        r2_th = float(np.sum(res[:k] ** 2))
        acc["rmr"] += fg[g] * math.sqrt((r2 + r2_th) / (e_diag + k))
        acc["rmr_nomean"] += fg[g] * math.sqrt(r2 / e_diag)
        acc["crmr"] += fg[g] * math.sqrt((r2 + r2_th) / (pstar + k))
        acc["crmr_nomean"] += fg[g] * math.sqrt(r2 / pstar)
        obs = ss.wls_obs
        gfi += fg[g] * (1.0 - float(res @ weights[g] @ res) / float(obs @ weights[g] @ obs))
    fm["rmr"] = acc["rmr"]
    fm["rmr_nomean"] = acc["rmr_nomean"]
    fm["srmr"] = acc["rmr_nomean"]
    fm["srmr_bentler"] = acc["rmr"]
    fm["srmr_bentler_nomean"] = acc["rmr_nomean"]
    fm["crmr"] = acc["crmr"]
    fm["crmr_nomean"] = acc["crmr_nomean"]
    fm["srmr_mplus"] = fm["srmr_mplus_nomean"] = math.nan
    for key, alpha in (("cn_05", 0.05), ("cn_01", 0.01)):
        crit = float(chi2.ppf(1 - alpha, df)) if df > 0 else 0.0
        fm[key] = crit / (chisq / n1) + 1 if chisq > 0 else math.inf
    fm["gfi"] = gfi
    fm["agfi"] = 1 - (nel / df) * (1 - gfi) if df > 0 else 1.0
    fm["pgfi"] = (df / nel) * gfi
    fm["mfi"] = math.exp(-0.5 * (chisq - df) / n1)
    fm["wrmr"] = math.sqrt(chisq / nel_g[0])  # lavaan: length(WLS.obs[[1]])
    stacked = StackedSample(items=tuple(ov), nobs=int(n), nacov=gam_all)
    return OrdinalGroupsFit(
        pt=pt, z=z, vcov=vcov, samples=tuple(samples), tau_index=tuple(tau_index),
        scale_index=tuple(scale_index), sigmas=tuple(sigmas),
        converged=bool(opt.converged), iterations=int(opt.iterations),
        fit_measures=FitMeasures(fm), rows_dropped=rows_dropped, n_total=int(len(data)),
        group_labels=tuple(labels), group_equal=equal, shift=float(shift),
        estimator=estimator, parameterization=parameterization, delta=d_all, weight=v_all,
        sample=stacked, id_cat=id_cat, group_partial=tuple(partial))


def _catml(samples, sigmas, deltas, e_inv, weights, fg, df, scales_free):
    """lavaan 0.6.14's ``lav_fit_catml_dwls`` over groups: ``XX3 = sum_g N_g F_ML(R_g,
    Sigma_g)``, ``c = tr(U' V U Gamma) / df`` on the stacked correlation parts, baseline
    ``-sum_g N_g log|R_g|`` with ``c_null = tr(Gamma) / (G p*)``. NaN when a polychoric matrix
    is not positive definite or the scales of groups 2.. are free (lavaan's catML refit of
    such a model fails and it reports NA)."""
    nan = {"xx3": math.nan, "c_hat": math.nan, "xx3_null": math.nan, "c_hat_null": math.nan}
    if scales_free:
        return nan
    p = samples[0].cor.shape[0]
    cc, rr = np.triu_indices(p, 1)
    pstar = cc.size
    xx3 = xx3_null = 0.0
    d_r, w_r, v_r, g_r = [], [], [], []
    for g, ss in enumerate(samples):
        r = ss.cor
        if np.linalg.eigvalsh(r).min() < math.sqrt(np.finfo(float).eps):
            return nan
        sigma = sigmas[g]
        si = np.linalg.inv(sigma)
        f = (np.linalg.slogdet(sigma)[1] + float(np.trace(r @ si)) - np.linalg.slogdet(r)[1]
             - p)
        xx3 += ss.nobs * f
        xx3_null += -ss.nobs * float(np.linalg.slogdet(r)[1])
        v = si[np.ix_(rr, rr)] * si[np.ix_(cc, cc)] + si[np.ix_(rr, cc)] * si[np.ix_(cc, rr)]
        k = ss.thresholds.size
        d_r.append(deltas[g][k:])
        w_r.append(fg[g] * weights[g][k:, k:])
        v_r.append(fg[g] * v)
        g_r.append(ss.nacov[k:, k:] / fg[g])
    d_all = np.vstack(d_r)
    w_all, v_all, gam = _bdiag(w_r), _bdiag(v_r), _bdiag(g_r)
    u = np.eye(d_all.shape[0]) - d_all @ e_inv @ d_all.T @ w_all
    ks = float(np.trace(u.T @ v_all @ u @ gam))
    c_hat = ks / df if df > 0 else (math.inf if ks > 0 else math.nan)
    return {"xx3": xx3, "c_hat": c_hat, "xx3_null": xx3_null,
            "c_hat_null": float(np.trace(gam)) / (len(samples) * pstar)}


def group_rows(fit: OrdinalGroupsFit, z: np.ndarray | None = None
               ) -> tuple[list[tuple[str, str, str, int, str]], np.ndarray, np.ndarray]:
    """lavaan's parameterEstimates rows of a multi-group ordinal fit: (lhs, op, rhs, group,
    label), the value of each row and the index into z of each free row (-1 fixed). Per
    group: the user rows, the thresholds, the other (co)variances (the items' residual
    variances ``1 / Delta^2 - (Lambda Psi Lambda')_ii``, fixed), the scales ``~*~``, the
    intercepts (0) and the latent means."""
    pt = fit.pt
    z = fit.z if z is None else z
    nt = fit.n_th
    q = pt.n_free
    x = z[nt:nt + q]
    ov = list(pt.observed)
    ovi = {nm: i for i, nm in enumerate(ov)}
    vals = MatrixModel(pt).row_values(x)
    free = np.array(pt.free)
    keys: list[tuple[str, str, str, int, str]] = []
    out: list[Any] = []
    idx: list[int] = []
    eq_th = "thresholds" in fit.group_equal

    def add(r: int, grp: int, sc: np.ndarray, common: np.ndarray) -> None:
        lhs, op, rhs = pt.lhs[r], pt.op[r], pt.rhs[r]
        val = vals[r]
        if op == "~~" and lhs == rhs and lhs in ovi:
            j = ovi[lhs]
            val = 1.0 / sc[j] ** 2 - common[j]
        keys.append((lhs, op, rhs, grp, pt.label[r]))
        out.append(val)
        idx.append(nt + free[r] - 1 if free[r] > 0 else -1)

    for g, ss in enumerate(fit.samples):
        grp = g + 1
        mats, _, la, _ = MatrixModel(pt, grp).parts(x)
        common = np.diag(la @ mats[PSI] @ la.T)
        si = fit.scale_index[g]
        sc = np.where(si >= 0, z[np.maximum(si, 0)], 1.0)
        rows = [r for r in range(len(pt)) if pt.group[r] == grp]

        for r in rows:
            if pt.user[r] == 1:
                add(r, grp, sc, common)
        for t, name in enumerate(ss.threshold_names):
            item, th = name.rsplit("|", 1)
            keys.append((item, "|", th, grp, f".th{t + 1}." if eq_th else ""))
            out.append(z[fit.tau_index[g][t]])
            idx.append(int(fit.tau_index[g][t]))
        for r in rows:
            if pt.user[r] != 1 and pt.op[r] != "~1":
                add(r, grp, sc, common)
        for j, y in enumerate(ov):
            keys.append((y, "~*~", y, grp, ""))
            out.append(sc[j])
            idx.append(int(si[j]))
        for r in rows:
            if pt.user[r] != 1 and pt.op[r] == "~1":
                add(r, grp, sc, common)
    return keys, np.array(out), np.array(idx, dtype=int)
