"""Alignment (Asparouhov & Muthen 2014): approximate measurement invariance across many groups,
``pv.alignment`` and its :class:`AlignmentResult`.

The configural multi-group CFA is fitted once with every group's factors standardized (mean 0,
variance 1, ``pv.cfa(..., std_lv=True)``); then, one factor at a time as Mplus does, group
factor means ``alpha_g`` and variances ``psi_g`` are found that make the groups' loadings and
intercepts as equal as possible under a robust (component) loss. Alignment only reparameterizes
the configural model: its fit is the configural fit.

The loss, its analytic gradient, the optimizer, the delta-method covariance of the alignment
parameters and the invariant-set check are pure functions at the top (:func:`simplicity_loss`,
:func:`align_factor`, :func:`alignment_vcov`, :func:`invariant_set`), testable without a CFA.

Length: one method kept together - the loss and its optimizer, the Mplus-style invariant-set
check, the result class and the public function with its long docstring (the formulas and
conventions a user needs to compare with Mplus or sirt).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize, stats

from psychoval._input import check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError, SpecificationWarning, warn
from psychoval.framework._syntax import model_to_formulas
from psychoval.stats.sem._cfa import cfa

__all__ = ["alignment", "AlignmentResult", "simplicity_loss", "align_factor",
           "alignment_vcov", "invariant_set"]

#: Mplus' default epsilon of the component loss (Asparouhov & Muthen 2014; Robitzsch 2024)
EPS_MPLUS = 0.01
_ALIGNMENTS = ("free", "fixed")


# -- the loss --------------------------------------------------------------------------------

def _unpack(x: np.ndarray, n_groups: int, ref: int, free: bool) -> tuple[np.ndarray, np.ndarray]:
    """Optimizer vector -> (alpha, log psi) per group. FIXED: (alpha_g, log psi_g) for the
    groups other than ``ref``; FREE: alpha_g of every group, then log psi_g of the others."""
    others = np.arange(n_groups) != ref
    alpha = np.zeros(n_groups)
    logpsi = np.zeros(n_groups)
    k = n_groups if free else n_groups - 1
    if free:
        alpha[:] = x[:k]
    else:
        alpha[others] = x[:k]
    logpsi[others] = x[k:]
    return alpha, logpsi


def simplicity_loss(lam0: np.ndarray, nu0: np.ndarray, alpha: np.ndarray, logpsi: np.ndarray,
                    weights: np.ndarray, eps: float = EPS_MPLUS,
                    gradient: bool = False) -> Any:
    """Asparouhov & Muthen's (2014) total simplicity loss of one factor, and its gradient.

    ``lam0``, ``nu0``: (groups x items) configural loadings and intercepts (factor mean 0,
    variance 1 in every group); ``alpha``, ``logpsi``: per-group factor mean and log variance;
    ``weights``: (groups x groups) symmetric pair weights (``sqrt(N_g1 N_g2)``, zero
    diagonal). ``F = sum_j sum_{g1<g2} w f(lam1_jg1 - lam1_jg2) + w f(nu1_jg1 - nu1_jg2)`` with
    ``lam1 = lam0 / sqrt(psi)``, ``nu1 = nu0 - alpha lam1``, ``f(x) = (x^2 + eps)^(1/4)``.
    With ``gradient=True`` returns ``(F, dF/dalpha, dF/dlogpsi)``.
    """
    lam1 = lam0 * np.exp(-0.5 * logpsi)[:, None]
    nu1 = nu0 - alpha[:, None] * lam1
    dl = lam1[:, None, :] - lam1[None, :, :]
    dn = nu1[:, None, :] - nu1[None, :, :]
    ql = dl * dl + eps
    qn = dn * dn + eps
    w = weights[:, :, None]
    value = 0.5 * float(np.sum(w * (np.sqrt(np.sqrt(ql)) + np.sqrt(np.sqrt(qn)))))
    if not gradient:
        return value
    # f'(x) = x / 2 (x^2 + eps)^(-3/4); dF/dlam1_g = sum_h w_gh f'(lam1_g - lam1_h)
    g_lam = np.sum(w * 0.5 * dl * ql ** -0.75, axis=1)
    g_nu = np.sum(w * 0.5 * dn * qn ** -0.75, axis=1)
    d_alpha = -np.sum(g_nu * lam1, axis=1)
    d_logpsi = np.sum(-0.5 * lam1 * g_lam + 0.5 * alpha[:, None] * lam1 * g_nu, axis=1)
    return value, d_alpha, d_logpsi


def _starts(lam0: np.ndarray, nu0: np.ndarray, ref: int, free: bool, n_starts: int,
            rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Starting points: the configural values (alpha 0, psi 1); medians in the spirit of
    sirt's start (psi_g from the ratio of median loadings, alpha_g from the median intercept
    shift in loading units; exact when every parameter is invariant); then ``n_starts - 2``
    random points around the second (seeded)."""
    n_groups = lam0.shape[0]
    others = np.arange(n_groups) != ref
    med_l = np.median(lam0, axis=1)
    logpsi = 2.0 * np.log(np.clip(med_l / med_l[ref], 0.05, 20.0))
    shift = np.median((nu0[ref] - nu0) / np.where(np.abs(lam0) > 1e-8, lam0, 1e-8), axis=1)
    alpha = -shift * np.exp(0.5 * logpsi)
    alpha = alpha - alpha[ref]

    def pack(a: np.ndarray, lp: np.ndarray) -> np.ndarray:
        return np.concatenate([a if free else a[others], lp[others]])

    out = [("configural", pack(np.zeros(n_groups), np.zeros(n_groups))),
           ("medians", pack(alpha, logpsi))]
    for i in range(max(n_starts - 2, 0)):
        out.append((f"random_{i + 1}", pack(alpha + rng.normal(0, 0.5, n_groups),
                                            logpsi + rng.normal(0, 0.5, n_groups))))
    return out[:max(n_starts, 1)]


def align_factor(lam0: np.ndarray, nu0: np.ndarray, n_per_group: np.ndarray, *,
                 ref: int = 0, free: bool = False, eps: float = EPS_MPLUS, n_starts: int = 5,
                 seed: int = 0) -> dict[str, Any]:
    """Minimize :func:`simplicity_loss` of one factor over (alpha_g, log psi_g).

    FIXED (``free=False``): ``alpha_ref = 0`` and ``psi_ref = 1``. FREE: ``psi_ref = 1`` and
    every ``alpha_g`` estimated, ``alpha_ref`` too (Asparouhov & Muthen 2014). L-BFGS-B with
    the analytic gradient from each start of :func:`_starts`; the lowest loss wins. Returns
    ``alpha``, ``psi``, ``loss``, ``converged``, ``starts`` (loss per start),
    ``hessian_min_eig`` (smallest eigenvalue of the numerical Hessian at the solution, scaled
    by its largest) and, for FREE, ``shift_curvature``: the loss's curvature along a common
    shift of every group's mean over the mean curvature along one group's mean (NaN for
    FIXED). Near 0 (below .01) the overall level of the means is not identified: with
    nearly invariant loadings a common shift barely changes the loss.
    """
    lam0 = np.asarray(lam0, float)
    nu0 = np.asarray(nu0, float)
    n = np.asarray(n_per_group, float)
    weights = np.sqrt(np.outer(n, n))
    np.fill_diagonal(weights, 0.0)
    n_groups = lam0.shape[0]
    k = n_groups if free else n_groups - 1

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        alpha, logpsi = _unpack(x, n_groups, ref, free)
        v, da, dp = simplicity_loss(lam0, nu0, alpha, logpsi, weights, eps, gradient=True)
        others = np.arange(n_groups) != ref
        return v, np.concatenate([da if free else da[others], dp[others]])

    rng = np.random.default_rng(seed)
    runs = []
    for name, x0 in _starts(lam0, nu0, ref, free, n_starts, rng):
        r = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                              options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9})
        runs.append((name, r))
    best_name, best = min(runs, key=lambda t: t[1].fun)
    grad = fun(best.x)[1]
    h = 1e-5
    hess = np.empty((best.x.size, best.x.size))
    for i in range(best.x.size):
        e = np.zeros(best.x.size)
        e[i] = h
        hess[:, i] = (fun(best.x + e)[1] - fun(best.x - e)[1]) / (2 * h)
    eig = np.linalg.eigvalsh(0.5 * (hess + hess.T))
    alpha, logpsi = _unpack(best.x, n_groups, ref, free)
    h_aa = hess[:n_groups, :n_groups]
    shift = (float(h_aa.sum()) / n_groups / float(np.mean(np.diag(h_aa)))
             if free else math.nan)
    return {"alpha": alpha, "psi": np.exp(logpsi), "loss": float(best.fun),
            "converged": bool(best.success or np.max(np.abs(grad)) < 1e-6 * best.fun),
            "gradient_max": float(np.max(np.abs(grad))), "best_start": best_name,
            "starts": {name: float(r.fun) for name, r in runs},
            "hessian_min_eig": float(eig[0] / eig[-1]) if eig[-1] > 0 else -math.inf,
            "shift_curvature": shift,
            "n_parameters": k, "x": best.x, "hessian": 0.5 * (hess + hess.T)}


def _gradient_x(x: np.ndarray, lam0: np.ndarray, nu0: np.ndarray, weights: np.ndarray,
                ref: int, free: bool, eps: float) -> np.ndarray:
    n_groups = lam0.shape[0]
    alpha, logpsi = _unpack(x, n_groups, ref, free)
    _, da, dp = simplicity_loss(lam0, nu0, alpha, logpsi, weights, eps, gradient=True)
    others = np.arange(n_groups) != ref
    return np.concatenate([da if free else da[others], dp[others]])


def alignment_vcov(lam0: np.ndarray, nu0: np.ndarray, n_per_group: np.ndarray,
                   sol: Mapping[str, Any], v_theta: np.ndarray, *, ref: int = 0,
                   free: bool = False, eps: float = EPS_MPLUS) -> np.ndarray:
    """Covariance of the alignment parameters (alpha_g, log psi_g as in :func:`_unpack`) by
    the delta method through the optimum's first-order condition (implicit function theorem;
    sirt's ``invariance.alignment(vcov=)`` does the same numerically): with ``g(x, theta) = 0``
    at the solution, ``dx/dtheta = -H_xx^-1 H_xtheta`` and ``V_x = J V_theta J'``.
    ``theta`` is ``(vec(lam0), vec(nu0))`` row-major (groups x items) and ``v_theta`` its
    covariance from the configural fit. ``H_xtheta`` by central differences of the analytic
    gradient. NaN when the Hessian is singular."""
    n = np.asarray(n_per_group, float)
    weights = np.sqrt(np.outer(n, n))
    np.fill_diagonal(weights, 0.0)
    x = np.asarray(sol["x"], float)
    stacked = np.concatenate([lam0.ravel(), nu0.ravel()])
    size = lam0.size
    h = 1e-6
    h_xt = np.empty((x.size, stacked.size))
    for k in range(stacked.size):
        cols = []
        for step in (h, -h):
            t = stacked.copy()
            t[k] += step
            cols.append(_gradient_x(x, t[:size].reshape(lam0.shape),
                                    t[size:].reshape(lam0.shape), weights, ref, free, eps))
        h_xt[:, k] = (cols[0] - cols[1]) / (2 * h)
    try:
        jac = -np.linalg.solve(np.asarray(sol["hessian"], float), h_xt)
    except np.linalg.LinAlgError:
        return np.full((x.size, x.size), math.nan)
    return jac @ v_theta @ jac.T


# -- the approximate-invariance check ----------------------------------------------------------

def invariant_set(values: np.ndarray, ses: np.ndarray, *, pairwise_level: float = 0.01,
                  set_level: float = 0.001, max_iter: int = 50) -> np.ndarray:
    """Groups in which one parameter is approximately invariant (boolean mask), after
    Asparouhov & Muthen (2014): a starting set of groups whose pairwise differences are not
    significant at ``pairwise_level`` (grown greedily from the group with the most
    non-significant pairs), then repeatedly: the set's mean, and every group whose
    difference from it is not significant at ``set_level`` forms the next set, until it
    no longer changes. z tests with independent groups; the SEs treat the alignment
    parameters as known."""
    g = values.size
    var = ses ** 2
    z = np.abs(values[:, None] - values[None, :]) / np.sqrt(var[:, None] + var[None, :])
    crit = stats.norm.isf(pairwise_level / 2)
    ok = ~(z > crit)  # NaN (no SE) counts as not different
    np.fill_diagonal(ok, True)
    # greedy: add the compatible group with the most compatible others (ties: the one
    # nearest the median value) until no group is compatible with every member
    inside = np.zeros(g, bool)
    pool = np.ones(g, bool)
    dist = np.abs(values - np.median(values))
    while pool.any():
        links = (ok & pool[None, :]).sum(axis=1)
        score = np.where(pool, links - dist / (1.0 + dist.max()), -np.inf)
        best = int(np.argmax(score))
        inside[best] = True
        pool &= ok[best]
        pool[best] = False
    crit2 = stats.norm.isf(set_level / 2)
    for _ in range(max_iter):
        m = int(inside.sum())
        mean = values[inside].mean()
        var_mean = var[inside].sum() / m ** 2
        # var(v_g - mean): in the set v_g enters the mean with weight 1/m
        v_diff = np.where(inside, var * (1 - 2 / m) + var_mean, var + var_mean)
        zz = np.abs(values - mean) / np.sqrt(np.maximum(v_diff, 1e-300))
        new = ~(zz > crit2)
        if not new.any() or np.array_equal(new, inside):
            break
        inside = new
    return inside


# -- the result ------------------------------------------------------------------------------

_FIT_COLUMNS = ("npar", "chisq", "df", "pvalue", "chisq_scaled", "pvalue_scaled", "cfi",
                "tli", "rmsea", "srmr")


@dataclasses.dataclass(frozen=True, repr=False)
class AlignmentResult(Result):
    """Alignment of a configural multi-group CFA (``pv.alignment``).

    Attributes
    ----------
    groups : DataFrame
        One row per factor and group: ``factor``, ``group``, ``n``, the aligned factor
        ``mean`` (alpha_g) and ``variance`` (psi_g) with their standard errors ``se_mean``,
        ``se_variance`` (delta method, :func:`alignment_vcov`; 0 for what the
        identification fixes), ``sd``; also ``to_frame()``.
    items : DataFrame
        One row per factor, item and group: ``lambda_configural``, ``nu_configural`` (the
        configural fit with the group's factor standardized), ``lambda_aligned``,
        ``se_lambda``, ``nu_aligned``, ``se_nu``, ``lambda_invariant``, ``nu_invariant``
        (the group is in the parameter's approximately invariant set), ``lambda_contribution``,
        ``nu_contribution`` (this group's share of the item's simplicity loss: half of its
        pairs' terms, so the shares add up to the item's contribution).
    parameters : DataFrame
        One row per item and parameter (``"loading"`` / ``"intercept"``): ``r2`` (Asparouhov &
        Muthen's R-square of invariance: the share of the configural parameter's variance
        across groups explained by the aligned factor means and variances; 1 = fully
        invariant, NaN when the configural values do not vary), ``contribution`` (to the
        simplicity loss), ``invariant_mean`` (mean aligned value over the invariant groups),
        ``n_invariant``, ``noninvariant_groups`` (comma-separated).
    optimization : DataFrame
        One row per factor: ``loss``, ``converged``, ``gradient_max``, ``best_start``,
        ``n_starts``, ``loss_spread`` (largest minus smallest loss over the starts: 0 when
        every start reached the same minimum), ``hessian_min_eig`` (smallest over largest
        eigenvalue of the loss's Hessian), ``shift_curvature`` (FREE only: below .01 the
        overall level of the means is not identified; see :func:`align_factor`).
    cov_lv : dict
        group -> aligned factor covariance matrix (configural correlations times the aligned
        SDs).
    fit : DataFrame
        The configural model's fit (one row): alignment does not change it. ``cfi``, ``tli``,
        ``rmsea`` are the robust versions under MLR, the standard ones under ML.
    fit_measures : Mapping
        Every fit measure of the configural fit (equal to ``pv.invariance(...).fits
        ["configural"].fit_measures``).
    share_noninvariant : float
        Share of (item, parameter, group) values outside their invariant set.
    configural : CFAResult
        The configural fit with standardized factors.
    """

    groups: pd.DataFrame
    items: pd.DataFrame
    parameters: pd.DataFrame
    optimization: pd.DataFrame
    cov_lv: Mapping[str, pd.DataFrame]
    fit: pd.DataFrame
    fit_measures: Mapping[str, Any]
    share_noninvariant: float
    alignment: str
    reference_group: str
    eps: float
    group: str
    group_labels: tuple[str, ...]
    estimator: str
    missing: str
    n_obs: int
    n_total: int
    rows_dropped: tuple[int, ...]
    converged: bool
    identified: bool
    configural: Any = dataclasses.field(default=None, repr=False, compare=False)

    _schema: ClassVar[str] = "psychoval.alignment/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"alignment": self.alignment, "groups": len(self.group_labels),
                "factors": int(self.groups["factor"].nunique()),
                "share_noninvariant": self.share_noninvariant, "converged": self.converged}

    def to_frame(self) -> pd.DataFrame:
        """The aligned factor means and variances, one row per factor and group (a copy)."""
        return self.groups.copy()

    def summary(self) -> Summary:
        fit = self.fit.iloc[0]
        facts = [("group", self.group), ("groups", len(self.group_labels)),
                 ("alignment", f"{self.alignment.upper()} (reference group "
                               f"{self.reference_group})"),
                 ("estimator", self.estimator), ("missing", self.missing), ("n", self.n_obs),
                 ("configural chisq (df)", f"{fit['chisq']:.3f} ({int(fit['df'])})"),
                 ("configural CFI / RMSEA / SRMR",
                  f"{fit['cfi']:.3f} / {fit['rmsea']:.3f} / {fit['srmr']:.3f}"),
                 ("non-invariant parameters", f"{self.share_noninvariant:.1%}")]
        notes = [f"Component loss f(x) = (x^2 + {self.eps:g})^(1/4), pair weights "
                 "sqrt(N_g1 N_g2) (Asparouhov & Muthen 2014, doi:10.1080/10705511.2014.919210);"
                 " each factor aligned on its own.",
                 "Invariant sets: pairwise z tests at .01 for a starting set, then each group "
                 "against the set's mean at .001, until stable (Asparouhov & Muthen 2014); SEs "
                 "treat the aligned means and variances as known.",
                 "Rule of thumb: aligned means are trustworthy with up to about 25% non-"
                 "invariant parameters (Muthen & Asparouhov 2014, doi:10.3389/fpsyg.2014.00978;"
                 " 2018, doi:10.1177/0049124117701488).",
                 "The fit is the configural model's: alignment only reparameterizes it."]
        if not self.converged:
            notes.append("the optimizer did not converge for some factor (see optimization)")
        if not self.identified:
            notes.append("the FREE alignment is poorly identified (nearly invariant "
                         "loadings, see optimization.shift_curvature): use alignment='fixed'")
        groups = self.groups.set_index(["factor", "group"])[["n", "mean", "se_mean",
                                                              "variance", "se_variance"]]
        params = self.parameters.set_index(["factor", "item", "parameter"])[
            ["r2", "contribution", "invariant_mean", "n_invariant", "noninvariant_groups"]]
        return Summary(title="Alignment (approximate measurement invariance)",
                       facts=tuple(facts),
                       tables=(("Aligned factor means and variances", groups),
                               ("Item parameters", params)),
                       notes=tuple(notes))


# -- checks and the public function ----------------------------------------------------------

def _check_model(model: Any) -> dict[str, list[str]]:
    """factor -> its items; raises for what alignment cannot take."""
    formulas, _ = model_to_formulas(model)
    factors: dict[str, list[str]] = {}
    for f in formulas:
        if f.op == "=~":
            for t in f.rhs:
                if t.fixed is not None or t.label:
                    raise SpecificationError(
                        f"alignment needs free loadings; '{f.lhs} =~ {t.name}' is fixed or "
                        f"labelled (line {f.line}): drop the modifier (the configural model "
                        "is fitted with standardized factors)")
            factors.setdefault(f.lhs, []).extend(t.name for t in f.rhs)
    latent = set(factors)
    seen: dict[str, str] = {}
    for fac, items in factors.items():
        for it in items:
            if it in latent:
                raise SpecificationError(
                    f"alignment needs first-order factors; {it!r} is an indicator of "
                    f"{fac!r}: align the first-order factors")
            if it in seen:
                raise SpecificationError(
                    f"alignment needs each item to load on one factor; {it!r} loads on "
                    f"{seen[it]!r} and {fac!r}: drop the cross-loading (each factor is "
                    "aligned on its own, as in Mplus)")
            seen[it] = fac
    for f in formulas:
        if f.op == "=~":
            continue
        if f.op == "~~" and f.lhs not in latent and not any(t.name in latent for t in f.rhs):
            continue
        raise SpecificationError(
            f"alignment takes a measurement model (=~ and residual covariances ~~ between "
            f"items); line {f.line} ({f.text.strip() or f.op!r}) is not available: the "
            "configural model standardizes every factor in every group")
    if not factors:
        raise SpecificationError("the model has no factor (=~); alignment needs one")
    return factors


def _group_sizes(data: Any, group: str, n_items: int) -> None:
    if not isinstance(data, pd.DataFrame) or group not in data.columns:
        return
    counts = data[group].dropna().value_counts(sort=False)
    if len(counts) < 2:
        raise SpecificationError(
            f"alignment compares groups: column {group!r} has {len(counts)} group(s); it "
            "needs at least 2 (usually many: for 2-3 groups the invariance ladder, "
            "pv.invariance, is the usual tool)")
    small = {str(k): int(v) for k, v in counts.items() if v <= n_items}
    if small:
        raise DataError(
            f"group(s) with too few rows for the configural model ({n_items} items need more "
            f"than {n_items} rows per group): {small}; merge them with similar groups or "
            "leave them out")


def _fit_row(fm: Mapping[str, Any], estimator: str) -> pd.DataFrame:
    suffix = "_robust" if estimator == "MLR" else ""

    def num(k: str) -> float:
        v = fm.get(k)
        return math.nan if v is None else float(v)

    row = {c: num(c + suffix if c in ("cfi", "tli", "rmsea") else c) for c in _FIT_COLUMNS}
    return pd.DataFrame([row])


def _matrices(est: pd.DataFrame, factor: str, items: list[str], n_groups: int):
    """(groups x items) configural loadings, intercepts and their SEs of one factor."""
    groups = list(range(1, n_groups + 1))
    loads = est[(est["op"] == "=~") & (est["lhs"] == factor)]
    ints = est[(est["op"] == "~1") & est["lhs"].isin(items)]

    def grid(rows: pd.DataFrame, key: str, col: str) -> np.ndarray:
        return (rows.pivot(index="group", columns=key, values=col)
                .reindex(index=groups, columns=items).to_numpy(dtype=float))

    return (grid(loads, "rhs", "est"), grid(ints, "lhs", "est"), grid(loads, "rhs", "se"),
            grid(ints, "lhs", "se"))


def _free_index(pt: pd.DataFrame, factor: str, items: list[str], n_groups: int) -> np.ndarray:
    """0-based positions in the fit's parameter vector of vec(loadings), vec(intercepts)."""
    groups = list(range(1, n_groups + 1))
    loads = pt[(pt["op"] == "=~") & (pt["lhs"] == factor)]
    ints = pt[(pt["op"] == "~1") & pt["lhs"].isin(items)]
    out = [rows.pivot(index="group", columns=key, values="free")
           .reindex(index=groups, columns=items).to_numpy(dtype=float).ravel()
           for rows, key in ((loads, "rhs"), (ints, "lhs"))]
    return np.concatenate(out).astype(int) - 1


def alignment(
    model: Any,
    data: Any,
    *,
    group: str,
    estimator: str = "MLR",
    missing: str = "fiml",
    alignment: str = "fixed",
    reference_group: str | None = None,
    eps: float = EPS_MPLUS,
    n_starts: int = 5,
    seed: int = 0,
    ordered: Sequence[str] | str | bool | None = None,
) -> AlignmentResult:
    """Approximate measurement invariance across many groups by alignment (Asparouhov &
    Muthen 2014).

    When exact scalar invariance fails across many groups (countries, business units),
    alignment still compares the groups' factor means and variances: it fits the configural
    model (no equality constraints) and chooses each group's factor mean and variance so that
    the groups' loadings and intercepts are as equal as possible under a loss that favours a
    few large differences over many small ones. Assumes most parameters are (nearly)
    invariant (rule of thumb: at most about 25% non-invariant).

    Parameters
    ----------
    model : str, dict or Framework
        A measurement model (``=~`` and residual covariances between items), each item on
        one factor, as for ``pv.cfa``.
    data : DataFrame or ResponseTable
        Rows are respondents; the model's items and the ``group`` column.
    group : str
        Column holding each row's group (order of first appearance, as lavaan).
    estimator : {"MLR", "ML"}
        Of the configural fit (default ``"MLR"``, as ``pv.invariance``); it changes the SEs
        and the fit statistics, not the estimates.
    missing : {"fiml", "listwise", "raise"}
        Of the configural fit (default ``"fiml"``, as ``pv.invariance``).
    alignment : {"fixed", "free"}
        ``"fixed"`` (the default, sirt's default identification): the reference group's
        factor mean is 0 and its variance 1; the other groups' means and variances are
        relative to it. ``"free"`` (Asparouhov & Muthen's FREE, Mplus' default): the
        reference group's variance is 1 and every group's mean is estimated, the reference
        group's too. A common shift of all means changes the loss only through differences
        in the loadings, so FREE is identified only with clearly non-invariant loadings;
        when it is not (``optimization.shift_curvature`` below .01) a
        SpecificationWarning says to use ``"fixed"`` and ``identified`` is False. FREE needs
        at least 3 groups.
    reference_group : str, optional
        The group whose factor variance (and under FIXED mean) is fixed; default the first.
    eps : float
        The small constant of the component loss ``(x^2 + eps)^(1/4)``; default .01 (Mplus;
        sirt's ``invariance.alignment`` default is .001, which Robitzsch 2024 found slightly
        better in simulations).
    n_starts : int
        Starting points per factor (default 5): the configural values, a median-based
        start and ``n_starts - 2`` seeded random points; the lowest loss is kept and the
        spread of the losses over the starts is reported.
    seed : int
        Seed of the random starts.
    ordered : optional
        Ordered indicators are not available yet (raises SpecificationError).

    Returns
    -------
    AlignmentResult

    Raises
    ------
    SpecificationError
        Ordered indicators or a WLSMV-type estimator, cross-loadings, higher-order factors,
        regressions or fixed / labelled loadings, fewer than 2 groups, an unknown reference
        group or ``alignment``.
    DataError
        A group with no more rows than the model has items; whatever ``pv.cfa`` raises.

    Notes
    -----
    Step 1: ``pv.cfa(model, data, group=group, std_lv=True)`` - the configural model with
    factor means 0 and variances 1 in every group (the same fit as the marker-identified
    configural step of ``pv.invariance``). Loadings ``lambda_jg0`` are sign-aligned (a
    group's factor is reflected when its loadings sum below 0). Step 2, one factor at a time:
    minimize

    .. math::

        F = \\sum_j \\sum_{g_1<g_2} w_{g_1 g_2} f(\\lambda_{jg_1,1} - \\lambda_{jg_2,1})
          + \\sum_j \\sum_{g_1<g_2} w_{g_1 g_2} f(\\nu_{jg_1,1} - \\nu_{jg_2,1})

    with :math:`\\lambda_{jg,1} = \\lambda_{jg,0}/\\sqrt{\\psi_g}`,
    :math:`\\nu_{jg,1} = \\nu_{jg,0} - \\alpha_g \\lambda_{jg,0}/\\sqrt{\\psi_g}`,
    :math:`w = \\sqrt{N_{g_1} N_{g_2}}` and :math:`f(x) = \\sqrt{\\sqrt{x^2 + \\epsilon}}`,
    over :math:`(\\alpha_g, \\log\\psi_g)` by L-BFGS-B with the analytic gradient from
    several starts. Step 3: report the aligned means and variances and item parameters, the
    per-item R-square of invariance :math:`R^2 = 1 - V_g(\\lambda_{jg,0} - \\sqrt{\\psi_g}
    \\bar\\lambda_j)/V_g(\\lambda_{jg,0})` and :math:`1 - V_g(\\nu_{jg,0} - \\bar\\nu_j -
    \\alpha_g\\bar\\lambda_j)/V_g(\\nu_{jg,0})` (bars: unweighted means of the aligned values
    over groups), each parameter's contribution to F, and its approximately invariant set of
    groups (see :attr:`AlignmentResult.items`). SEs of the aligned parameters come from the
    configural fit (an item's loading-intercept covariance included) with the alignment
    parameters treated as known; those of the aligned means and variances by the delta
    method (:func:`alignment_vcov`).

    References
    ----------
    Asparouhov, T., & Muthen, B. (2014). Multiple-group factor analysis alignment.
    Structural Equation Modeling, 21(4), 495-508. https://doi.org/10.1080/10705511.2014.919210

    Muthen, B., & Asparouhov, T. (2014). IRT studies of many groups: the alignment method.
    Frontiers in Psychology, 5, 978. https://doi.org/10.3389/fpsyg.2014.00978

    Muthen, B., & Asparouhov, T. (2018). Recent methods for the study of measurement
    invariance with many groups: Alignment and random effects. Sociological Methods &
    Research, 47(4), 637-664. https://doi.org/10.1177/0049124117701488

    Robitzsch, A. (2024). Examining differences of invariance alignment in the Mplus software
    and the R package sirt. Mathematics, 12(5), 770. https://doi.org/10.3390/math12050770

    Examples
    --------
    Holzinger-Swineford by school (two groups; alignment is meant for many):

    >>> import psychoval as pv
    >>> from psychoval.datasets import load_holzinger_swineford
    >>> hs = load_holzinger_swineford()
    >>> m = "visual =~ x1 + x2 + x3\\n textual =~ x4 + x5 + x6\\n speed =~ x7 + x8 + x9"
    >>> res = pv.alignment(m, hs, group="school", alignment="fixed")
    >>> res.groups.shape
    (6, 8)
    """
    if ordered is not None and ordered is not False:
        raise SpecificationError(
            "alignment of ordered indicators (thresholds, WLSMV) is not available yet; use "
            "pv.invariance(..., ordered=...) for the exact ladder, or treat the items as "
            "continuous (estimator='MLR') if they have 5 or more categories")
    est_name = str(estimator).upper()
    check_choice("estimator", est_name, ("ML", "MLR"))
    kind = check_choice("alignment", str(alignment).lower(), _ALIGNMENTS)
    if not isinstance(group, str) or not group:
        raise SpecificationError(f"group must name the column holding the groups, got "
                                 f"{group!r}")
    if not (isinstance(eps, (int, float)) and eps > 0):
        raise SpecificationError(f"eps must be a positive number, got {eps!r}")
    if int(n_starts) < 1:
        raise SpecificationError(f"n_starts must be at least 1, got {n_starts!r}")
    factors = _check_model(model)
    n_items = sum(len(v) for v in factors.values())
    _group_sizes(data, group, n_items)
    fit = cfa(model, data, group=group, std_lv=True, estimator=est_name, missing=missing)
    labels = tuple(str(lab) for lab in fit.group_labels)
    if len(labels) < 2:
        raise SpecificationError(f"alignment compares groups: {group!r} has one group")
    ref_label = labels[0] if reference_group is None else str(reference_group)
    if ref_label not in labels:
        raise SpecificationError(f"reference_group {reference_group!r} is not a group of "
                                 f"{group!r}; its groups are {list(labels)}")
    ref = labels.index(ref_label)
    if kind == "free" and len(labels) < 3:
        raise SpecificationError(
            "the FREE alignment needs at least 3 groups (with 2 the overall level of the "
            "means is not identified); use alignment='fixed'")
    n_g = np.array([fit.n_obs_per_group[lab] for lab in labels], float)
    if (n_g <= n_items).any():  # e.g. rows left out by listwise deletion
        small = {lab: int(n) for lab, n in zip(labels, n_g, strict=True) if n <= n_items}
        raise DataError(f"group(s) with too few rows used by the configural fit ({n_items} "
                        f"items need more than {n_items} per group): {small}; merge them with "
                        "similar groups, leave them out, or use missing='fiml'")
    est = fit.estimates()
    pt = fit.partable
    # the configural fit's parameter covariance (read as _score.py reads fit._pt / _blocks)
    v_all = np.asarray(fit._cov_est, float)
    n_groups = len(labels)
    group_rows: list[dict[str, Any]] = []
    item_frames: list[pd.DataFrame] = []
    param_rows: list[dict[str, Any]] = []
    opt_rows: list[dict[str, Any]] = []
    sds: dict[str, np.ndarray] = {}
    signs: dict[str, np.ndarray] = {}
    weights = np.sqrt(np.outer(n_g, n_g))
    np.fill_diagonal(weights, 0.0)
    for factor, items in factors.items():
        lam0, nu0, se_l0, se_n0 = _matrices(est, factor, items, n_groups)
        sign = np.where(lam0.sum(axis=1) < 0, -1.0, 1.0)
        lam0 = lam0 * sign[:, None]
        signs[factor] = sign
        sol = align_factor(lam0, nu0, n_g, ref=ref, free=kind == "free", eps=float(eps),
                           n_starts=int(n_starts), seed=seed)
        alpha, psi = sol["alpha"], sol["psi"]
        sds[factor] = np.sqrt(psi)
        idx = _free_index(pt, factor, items, n_groups)
        sgn = np.concatenate([np.repeat(sign, len(items)), np.ones(lam0.size)])
        v_theta = v_all[np.ix_(idx, idx)] * np.outer(sgn, sgn)
        vx = alignment_vcov(lam0, nu0, n_g, sol, v_theta, ref=ref, free=kind == "free",
                            eps=float(eps))
        se_x = np.sqrt(np.clip(np.diag(vx), 0.0, None))
        others = np.arange(n_groups) != ref
        n_alpha = n_groups if kind == "free" else n_groups - 1
        se_alpha = np.zeros(n_groups)
        se_alpha[slice(None) if kind == "free" else others] = se_x[:n_alpha]
        se_psi = np.zeros(n_groups)
        se_psi[others] = psi[others] * se_x[n_alpha:]
        lam1 = lam0 / np.sqrt(psi)[:, None]
        nu1 = nu0 - alpha[:, None] * lam1
        se_l1 = se_l0 / np.sqrt(psi)[:, None]
        # var(nu0 - a lam0) with a = alpha / sqrt(psi), the item's own covariance included
        c_ln = np.diag(v_theta[:lam0.size, lam0.size:]).reshape(lam0.shape)
        a_g = (alpha / np.sqrt(psi))[:, None]
        se_n1 = np.sqrt(np.clip(se_n0 ** 2 + (a_g * se_l0) ** 2 - 2 * a_g * c_ln, 0, None))
        fl = (np.square(lam1[:, None, :] - lam1[None, :, :]) + eps) ** 0.25
        fn = (np.square(nu1[:, None, :] - nu1[None, :, :]) + eps) ** 0.25
        c_lam = 0.5 * np.sum(weights[:, :, None] * fl, axis=1)  # (groups x items)
        c_nu = 0.5 * np.sum(weights[:, :, None] * fn, axis=1)
        inv_l = np.column_stack([invariant_set(lam1[:, j], se_l1[:, j])
                                 for j in range(len(items))])
        inv_n = np.column_stack([invariant_set(nu1[:, j], se_n1[:, j])
                                 for j in range(len(items))])
        lbar, nbar = lam1.mean(axis=0), nu1.mean(axis=0)
        for j, it in enumerate(items):
            for name, conf, resid, vals, inv, contrib in (
                    ("loading", lam0[:, j], lam0[:, j] - np.sqrt(psi) * lbar[j], lam1[:, j],
                     inv_l[:, j], c_lam[:, j]),
                    ("intercept", nu0[:, j], nu0[:, j] - nbar[j] - alpha * lbar[j],
                     nu1[:, j], inv_n[:, j], c_nu[:, j])):
                v = float(np.var(conf))
                param_rows.append({
                    "factor": factor, "item": it, "parameter": name,
                    "r2": 1.0 - float(np.var(resid)) / v if v > 1e-14 else math.nan,
                    "contribution": float(contrib.sum()),
                    "invariant_mean": float(vals[inv].mean()) if inv.any() else math.nan,
                    "n_invariant": int(inv.sum()),
                    "noninvariant_groups": ", ".join(lab for lab, i in zip(labels, inv,
                                                                           strict=True)
                                                     if not i)})
        item_frames.append(pd.DataFrame({
            "factor": factor, "item": np.tile(items, n_groups),
            "group": np.repeat(labels, len(items)),
            "lambda_configural": lam0.ravel(), "nu_configural": nu0.ravel(),
            "lambda_aligned": lam1.ravel(), "se_lambda": se_l1.ravel(),
            "nu_aligned": nu1.ravel(), "se_nu": se_n1.ravel(),
            "lambda_invariant": inv_l.ravel(), "nu_invariant": inv_n.ravel(),
            "lambda_contribution": c_lam.ravel(), "nu_contribution": c_nu.ravel()}))
        for g, lab in enumerate(labels):
            group_rows.append({"factor": factor, "group": lab, "n": int(n_g[g]),
                               "mean": float(alpha[g]), "se_mean": float(se_alpha[g]),
                               "variance": float(psi[g]), "se_variance": float(se_psi[g]),
                               "sd": float(np.sqrt(psi[g]))})
        losses = np.array(list(sol["starts"].values()))
        opt_rows.append({"factor": factor, "loss": sol["loss"], "converged": sol["converged"],
                         "gradient_max": sol["gradient_max"], "best_start": sol["best_start"],
                         "n_starts": len(losses),
                         "loss_spread": float(losses.max() - losses.min()),
                         "hessian_min_eig": sol["hessian_min_eig"],
                         "shift_curvature": sol["shift_curvature"]})
    optimization = pd.DataFrame(opt_rows)
    flat = (optimization["hessian_min_eig"] <= 1e-8) | (optimization["shift_curvature"] < .01)
    identified = not bool(flat.any())
    if not identified:
        bad = ", ".join(optimization.loc[flat, "factor"])
        warn(f"the alignment of {bad} is poorly identified: with nearly invariant loadings "
             "the FREE alignment cannot place the overall level of the means (a common "
             "shift barely changes the loss); use alignment='fixed'", SpecificationWarning)
    converged = bool(optimization["converged"].all())
    cov_lv: dict[str, pd.DataFrame] = {}
    names = list(factors)
    for g, lab in enumerate(labels):
        cor = fit.cor_lv[lab] if isinstance(fit.cor_lv, Mapping) else fit.cor_lv
        r = cor.loc[names, names].to_numpy(dtype=float)
        s = np.array([signs[f][g] * sds[f][g] for f in names])
        cov_lv[lab] = pd.DataFrame(r * np.outer(s, s), index=names, columns=names)
    items_df = pd.concat(item_frames, ignore_index=True)
    flags = np.concatenate([items_df["lambda_invariant"].to_numpy(),
                            items_df["nu_invariant"].to_numpy()])
    return AlignmentResult(
        groups=pd.DataFrame(group_rows), items=items_df, parameters=pd.DataFrame(param_rows),
        optimization=optimization, cov_lv=cov_lv, fit=_fit_row(fit.fit_measures, est_name),
        fit_measures=fit.fit_measures, share_noninvariant=float(1.0 - flags.mean()),
        alignment=kind, reference_group=ref_label, eps=float(eps), group=group,
        group_labels=labels, estimator=est_name, missing=str(fit.missing),
        n_obs=int(fit.n_obs), n_total=int(fit.n_total),
        rows_dropped=tuple(fit.rows_dropped), converged=converged, identified=identified,
        configural=fit)
