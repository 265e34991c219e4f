"""Confirmatory factor analysis by maximum likelihood, with lavaan 0.6.14's output.

``cfa(model, data)`` -> :class:`CFAResult`: estimates and standard errors
(parameterEstimates), the standardized solution with delta-method standard errors
(standardizedSolution), every ML fit measure (fitMeasures), modification indices, residuals,
factor scores, and validity evidence (composite reliability, AVE, Fornell-Larcker).

Length: the public cfa() and CFAResult with every lavaan output (estimates, standardized
solutions, modification indices, residuals, fit measures).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import (
    ItemMatrix,
    MissingInfo,
    apply_missing,
    as_item_matrix,
    check_choice,
)
from psychoval._results import Result, Summary
from psychoval.exceptions import (
    ConvergenceWarning,
    DataError,
    ImproperSolutionWarning,
    PsychovalWarning,
    SpecificationError,
    renamed_keyword,
    warn,
)
from psychoval.framework._partable import ParTable, assign_free, build_partable, simple_shape
from psychoval.framework._syntax import model_to_formulas, syntax_error
from psychoval.stats.core._fourth import FourthMoments, refuse_fiml
from psychoval.stats.core._suffstats import (
    Moments,
    PatternMoments,
    distributed_summary,
    is_distributed,
    refuse,
)
from psychoval.stats.core._tables import ResponsePatterns, weighted_items
from psychoval.stats.sem import _fiml, _robust
from psychoval.stats.sem._constraints import (
    defined_se,
    defined_values,
    fit_linear,
    linear_system,
    violated_inequality,
)
from psychoval.stats.sem._estimate import check_identification
from psychoval.stats.sem._model import (
    ALPHA,
    BETA,
    LAMBDA,
    NU,
    PSI,
    THETA,
    MatrixModel,
)
from psychoval.stats.sem._optimize import fit_with_restarts

__all__ = ["cfa", "CFAResult", "OrdinalCFAResult", "FornellLarckerResult"]

_ESTIMATORS = ("ML", "MLR")
_ORDINAL_ESTIMATORS = ("WLSMV", "DWLS", "ULSMV", "ULS", "WLS")
_LATER = {"MLM": "MLR gives robust standard errors and a scaled test"}


def _mi_table(out: pd.DataFrame, sort: bool, minimum_value: float) -> pd.DataFrame:
    """modindices()'s last step: rows above ``minimum_value``, largest first (stable)."""
    if minimum_value > 0:
        out = out[out["mi"] > minimum_value]
    if sort:
        out = out.sort_values("mi", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def _sqrt_abs(z: np.ndarray) -> np.ndarray:
    """sqrt(|z|) that stays complex-analytic (for complex-step derivatives): lavaan
    standardizes a residual covariance by sqrt(|theta_ii theta_jj|), so a Heywood case still
    gives a number."""
    return np.sqrt(z * np.sign(np.real(z)))


def _z_p_ci(est: np.ndarray, se: np.ndarray, confidence_level: float):
    from scipy import stats

    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    p = 2 * stats.norm.sf(np.abs(z))
    crit = stats.norm.ppf(1 - (1 - confidence_level) / 2)
    return z, p, est - crit * se, est + crit * se


@dataclasses.dataclass(frozen=True, repr=False)
class FornellLarckerResult(Result):
    """Fornell-Larcker discriminant validity data: sqrt(AVE) of each factor against its
    largest absolute correlation with another factor. The verdict belongs to ``validate``;
    ``sqrt_ave_exceeds_max_cor`` is the plain comparison."""

    _schema: ClassVar[str] = "psychoval.fornell_larcker/1"
    sqrt_ave: pd.Series
    cor_lv: pd.DataFrame
    max_cor_per_factor: pd.Series
    max_sq_cor_per_factor: pd.Series
    sqrt_ave_exceeds_max_cor: pd.Series

    def _repr_fields(self) -> dict[str, Any]:
        return {"factors": len(self.sqrt_ave),
                "exceeds": int(self.sqrt_ave_exceeds_max_cor.sum())}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "factor": self.sqrt_ave.index, "ave": self.sqrt_ave.to_numpy() ** 2,
            "sqrt_ave": self.sqrt_ave.to_numpy(), "max_cor": self.max_cor_per_factor.to_numpy(),
            "max_sq_cor": self.max_sq_cor_per_factor.to_numpy(),
            "sqrt_ave_exceeds_max_cor": self.sqrt_ave_exceeds_max_cor.to_numpy(),
        })

    def summary(self) -> Summary:
        return Summary("Fornell-Larcker criterion (sqrt(AVE) vs factor correlations)",
                       tables=(("Per factor", self.to_frame().set_index("factor")),
                               ("Factor correlations", self.cor_lv)))


@dataclasses.dataclass(frozen=True, repr=False)
class CFAResult(Result):
    """A fitted confirmatory factor model (lavaan 0.6.14 conventions, names with . -> _).

    Attributes
    ----------
    model : str
        The model as lavaan syntax.
    estimator, missing : str
    observed, latent : tuple of str
    n_obs, n_total : int
        Rows used and rows given; ``rows_dropped`` are the 0-based positions dropped.
    converged : bool
    iterations : int
        Iterations of the optimizer, summed over every attempt.
    restarts : tuple of str
        Attempts after the first (lavaan's starting values) that the fit needed, in order:
        ``"std_lv"`` (refitted with unit factor variances and mapped back to the model's
        identification), ``"perturbed_1"``... Empty when the first attempt converged. Under
        FIML the iterations start from the ML fit to the EM moments; restarts that fit
        needed are listed first as ``"em_start:std_lv"``, ...
    solution_from : str
        The attempt whose solution is reported.
    identified : bool
        False when the information matrix is singular at the solution in the model's own and
        in the std.lv parameterization but not at points around it (empirical
        under-identification, lavaan's "could not compute standard errors"): the fit
        statistics stand, the estimates are not unique, standard errors are NaN, and
        ``problems`` names the parameters. A model singular at points around the solution too
        (structurally unidentified) raises SpecificationError instead.
    admissible : bool
        False for a negative variance or a non-positive-definite factor covariance matrix;
        ``problems`` names the parameters.
    fit_measures : Mapping
        Every fit measure lavaan's ``fitMeasures()`` returns for ML (read-only).
    sample_cov, implied_cov, cov_lv, cor_lv : DataFrame
        Sample covariance (divisor N), model-implied covariance, factor covariance and
        correlation matrices (``lavInspect(fit, "cov.lv")`` / ``"cor.lv"``).
    """

    _schema: ClassVar[str] = "psychoval.cfa/1"
    model: str
    estimator: str
    missing: str
    observed: tuple[str, ...]
    latent: tuple[str, ...]
    n_obs: int
    n_total: int
    rows_dropped: tuple[int, ...]
    converged: bool
    iterations: int
    admissible: bool
    problems: tuple[str, ...]
    fit_measures: Mapping[str, Any]
    sample_cov: pd.DataFrame
    implied_cov: pd.DataFrame
    cov_lv: pd.DataFrame
    cor_lv: pd.DataFrame
    group: str | None = None
    group_labels: tuple[str, ...] = ()
    group_equal: tuple[str, ...] = ()
    group_partial: tuple[str, ...] = ()
    information: str = "expected"
    restarts: tuple[str, ...] = ()
    solution_from: str = "lavaan's starting values"
    identified: bool = True
    _pt: ParTable = dataclasses.field(default=None, repr=False, compare=False)
    _x: np.ndarray = dataclasses.field(default=None, repr=False, compare=False)
    _vcov: np.ndarray = dataclasses.field(default=None, repr=False, compare=False)
    _info: np.ndarray = dataclasses.field(default=None, repr=False, compare=False)
    _deferred_vcov: Any = dataclasses.field(default=None, repr=False, compare=False)
    _data: pd.DataFrame | None = dataclasses.field(default=None, repr=False, compare=False)
    _mean: np.ndarray = dataclasses.field(default=None, repr=False, compare=False)
    _blocks: tuple = dataclasses.field(default=(), repr=False, compare=False)
    # K of linear equality constraints (x = K z + x_p), None without them
    _null_space: Any = dataclasses.field(default=None, repr=False, compare=False)

    # -- helpers -----------------------------------------------------------------------
    @functools.cached_property
    def _cov_est(self) -> np.ndarray:
        """Covariance matrix of the free parameters (computed on first use under FIML)."""
        if self._vcov is not None:
            return self._vcov
        return self._deferred_vcov()[1]

    @functools.cached_property
    def _model(self) -> MatrixModel:
        return MatrixModel(self._pt)

    @functools.cached_property
    def _models(self) -> list[MatrixModel]:
        return [MatrixModel(self._pt, g) for g in range(1, max(self._pt.group) + 1)]

    @property
    def n_groups(self) -> int:
        """Number of groups (1 without ``group=``)."""
        return max(len(self.group_labels), 1)

    @property
    def n_obs_per_group(self) -> dict[str, int]:
        """Rows used in each group, by group label (lavaan's ``lavInspect(fit, "nobs")``);
        ``{}`` for a one-group fit."""
        if not self.group_labels:
            return {}
        samples = getattr(getattr(self, "_ordinal", None), "samples", None)
        ns = [ss.nobs for ss in samples] if samples else [b.n for b in self._blocks]
        return {lab: int(n) for lab, n in zip(self.group_labels, ns, strict=True)}

    def _single_group(self, what: str) -> None:
        if self.group_labels:
            raise SpecificationError(
                f"{what} is computed for one group; this is a {self.n_groups}-group fit - fit "
                "each group separately (pv.cfa on that group's rows) for per-group values")

    @property
    def partable(self) -> pd.DataFrame:
        """The parameter table (lavaan's partable) with estimates and standard errors."""
        df = self._pt.to_frame()
        est = self.estimates()
        df["est"] = est["est"].to_numpy()[:len(df)]
        df["se"] = est["se"].to_numpy()[:len(df)]
        return df

    def plot(self, *, kind: str = "path", ax: Any = None) -> Any:
        """The model as a path diagram with standardized estimates (``kind="path"``) or its
        standardized loadings as a heat map (``kind="loadings"``); needs matplotlib (the
        ``plots`` extra). Single-group models. Returns the matplotlib axes."""
        from psychoval._input import check_choice
        from psychoval.plotting._factor import plot_loadings, plot_path_diagram

        check_choice("kind", kind, ("path", "loadings"))
        self._single_group("plot")
        return (plot_path_diagram if kind == "path" else plot_loadings)(self, ax=ax)

    def _repr_fields(self) -> dict[str, Any]:
        fm = self.fit_measures
        return {"chisq": fm["chisq"], "df": fm["df"], "cfi": fm["cfi"], "rmsea": fm["rmsea"],
                "srmr": fm["srmr"], "n_obs": self.n_obs, "converged": self.converged}

    def _std_values(self, x: np.ndarray, kind: str) -> np.ndarray:
        """Standardized value of every table row at x (complex-step safe), as lavaan's
        lav_standardize_lv / lav_standardize_all with cov.std = TRUE (per group)."""
        out = self._models[0].row_values(x)
        for m in self._models:
            out = self._std_group(m, x, kind, out)
        return out

    def _std_group(self, m: MatrixModel, x: np.ndarray, kind: str, out: np.ndarray):
        mats, a, la, v = m.parts(x)
        sigma = la @ mats[PSI] @ la.T + mats[THETA]
        vals = m.row_values(x)
        with np.errstate(invalid="ignore"):  # a negative factor variance gives NaN, as in R
            ov_sd = np.sqrt(np.diag(sigma))
            lv_sd = np.sqrt(np.diag(v))
        psi_d = np.diag(mats[PSI])
        th_d = np.diag(mats[THETA])
        out = out.copy()
        k, i, j = m.mat, m.row, m.col
        dg = i == j
        sel = k == LAMBDA
        out[sel] = vals[sel] * lv_sd[j[sel]] / (ov_sd[i[sel]] if kind == "std_all" else 1.0)
        sel = k == BETA
        out[sel] = vals[sel] * lv_sd[j[sel]] / lv_sd[i[sel]]
        sel = (k == PSI) & dg
        out[sel] = vals[sel] / np.diag(v)[i[sel]]
        sel = (k == PSI) & ~dg
        out[sel] = vals[sel] / _sqrt_abs(psi_d[i[sel]] * psi_d[j[sel]])
        sel = k == ALPHA
        out[sel] = vals[sel] / lv_sd[i[sel]]
        if kind == "std_all":
            sel = (k == THETA) & dg
            out[sel] = vals[sel] / np.diag(sigma)[i[sel]]
            sel = (k == THETA) & ~dg
            out[sel] = vals[sel] / _sqrt_abs(th_d[i[sel]] * th_d[j[sel]])
            sel = k == NU
            out[sel] = vals[sel] / ov_sd[i[sel]]
        return out

    def _std_values_defined(self, x: np.ndarray, kind: str) -> np.ndarray:
        """Standardized rows followed by the := parameters computed from them (lavaan)."""
        v = self._std_values(x, kind)
        if not self._pt.defined:
            return v
        return np.concatenate([v, defined_values(self._pt, v)])

    def _defined_frame(self, confidence_level: float, col: str) -> pd.DataFrame:
        """lavaan's := rows: lhs the name, rhs the expression, label the name."""
        pt = self._pt
        est, se = defined_se(pt, self._x, self._cov_est)
        z, p, lo, hi = _z_p_ci(est, se, confidence_level)
        names = [f.lhs for f in pt.defined]
        return pd.DataFrame({"lhs": names, "op": ":=", "rhs": [f.rhs[0].name for f in pt.defined],
                             "label": names, col: est, "se": se, "z": z, "pvalue": p,
                             "ci_lower": lo, "ci_upper": hi})

    def _std_with_se(self, kind: str):
        est = self._std_values_defined(self._x, kind).real
        if not self._x.size:
            return est, np.zeros_like(est)
        q = len(self._x)
        jac = np.empty((len(est), q))
        h = 1e-20
        for k in range(q):
            xc = self._x.astype(complex)
            xc[k] += 1j * h
            jac[:, k] = self._std_values_defined(xc, kind).imag / h
        cov = jac @ self._cov_est @ jac.T
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        se[se < 1e-10] = 0.0
        return est, se

    # -- parameterEstimates / standardizedSolution ---------------------------------------
    def estimates(self, *, confidence_level: float = 0.95, standardized: bool = False,
                  level: float | None = None) -> pd.DataFrame:
        """Parameter estimates as lavaan's ``parameterEstimates(fit)``.

        Columns lhs, op, rhs, label, est, se, z, pvalue, ci_lower, ci_upper (and std_lv,
        std_all, std_nox with ``standardized=True``). Fixed parameters have se 0 and z, pvalue
        NaN; the interval of a fixed parameter is the value itself. ``confidence_level`` is
        the coverage of the Wald interval (lavaan's ``level``); ``level=`` is a deprecated
        alias of it. Defined parameters (``:=``) follow as rows with ``op`` ":=", the
        expression in ``rhs`` and a delta-method standard error (lavaan's).
        """
        confidence_level = renamed_keyword("CFAResult.estimates", "level", level,
                                           "confidence_level", confidence_level, 0.95)
        pt = self._pt
        m = self._model
        est = m.row_values(self._x)
        se = np.zeros(len(pt))
        free = np.array(pt.free)
        sd = np.sqrt(np.clip(np.diag(self._cov_est), 0, None))
        se[free > 0] = sd[free[free > 0] - 1]
        z, p, lo, hi = _z_p_ci(est, se, confidence_level)
        df = pd.DataFrame({"lhs": pt.lhs, "op": pt.op, "rhs": pt.rhs, "label": pt.label,
                           "est": est, "se": se, "z": z, "pvalue": p, "ci_lower": lo,
                           "ci_upper": hi})
        if standardized:
            df["std_lv"] = self._std_values(self._x, "std_lv")
            df["std_all"] = self._std_values(self._x, "std_all")
        if pt.defined:
            dfd = self._defined_frame(confidence_level, "est")
            if standardized:
                k = len(pt)
                dfd["std_lv"] = self._std_values_defined(self._x, "std_lv")[k:].real
                dfd["std_all"] = self._std_values_defined(self._x, "std_all")[k:].real
            df = pd.concat([df, dfd], ignore_index=True)
        if standardized:
            df["std_nox"] = df["std_all"]
        if self.group_labels:
            df.insert(3, "group", [*pt.group, *([0] * len(pt.defined))])
        return df

    def standardized(self, *, type: str = "std_all", confidence_level: float = 0.95,  # noqa: A002
                     level: float | None = None) -> pd.DataFrame:
        """The standardized solution as lavaan's ``standardizedSolution(fit, type=)``.

        ``type`` is ``"std_all"`` (latent and observed variables standardized; the default),
        ``"std_lv"`` (latent only) or ``"std_nox"`` (equal to std_all: a CFA has no
        exogenous observed covariates). Standard errors by the delta method.
        ``confidence_level`` is the coverage of the Wald interval (lavaan's ``level``);
        ``level=`` is a deprecated alias of it.
        """
        confidence_level = renamed_keyword("CFAResult.standardized", "level", level,
                                           "confidence_level", confidence_level, 0.95)
        kind = check_choice("type", type.replace(".", "_"), ("std_all", "std_lv", "std_nox"))
        kind = "std_all" if kind == "std_nox" else kind
        est, se = self._std_with_se(kind)
        z, p, lo, hi = _z_p_ci(est, se, confidence_level)
        pt = self._pt
        names = [f.lhs for f in pt.defined]
        df = pd.DataFrame({"lhs": [*pt.lhs, *names], "op": [*pt.op, *([":="] * len(names))],
                           "rhs": [*pt.rhs, *(f.rhs[0].name for f in pt.defined)],
                           "label": [*pt.label, *names], "est_std": est, "se": se, "z": z,
                           "pvalue": p, "ci_lower": lo, "ci_upper": hi})
        if self.group_labels:
            df.insert(3, "group", [*pt.group, *([0] * len(names))])
        return df

    def to_frame(self) -> pd.DataFrame:
        return self.estimates(standardized=True)

    # -- modification indices ----------------------------------------------------------------
    def modindices(self, *, sort: bool = True, minimum_value: float = 0.0) -> pd.DataFrame:
        """Modification indices as lavaan's ``modindices(fit)``: the score test (mi), the
        expected parameter change (epc) and its standardized versions (sepc_lv, sepc_all,
        sepc_nox) of every parameter the model does not estimate.

        The candidates are lavaan's (``lav_partable_full`` merged with the model): every
        fixed parameter of the model (marker loadings, parameters fixed by the user, latent
        means), then, per group, every loading of a factor on an observed variable, every
        covariance among observed variables and among factors (also between a factor and a
        higher-order factor), every regression among the variables of ``~`` lines and, with a
        mean structure, every intercept, that the model does not already hold. Candidates
        whose score test is undefined (lavaan's ``V < eps^(1/3)``: freeing them would leave
        the model unidentified, e.g. a marker loading of a single-group fit) are left out,
        as lavaan does. Equality constraints (``group_equal``, shared labels) stay in place,
        so in a multi-group fit with equal loadings the marker loadings of each group are
        tested against the constrained model.

        Uses the expected information (lavaan's default; under FIML the structured
        missing-data expected information) and N as the multiplier; multi-group fits get a
        ``group`` column (1-based, lavaan's group order).
        """
        pt = self._pt
        cols = ["lhs", "op", "rhs", "mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"]
        if self.group_labels:
            cols.insert(3, "group")
        n_groups = self.n_groups
        # candidates (lhs, op, rhs, group, value at which the score is taken)
        # (rows a constraint fixed - v == 1, an active a > 0 - are free parameters in lavaan)
        eq_fixed = set(pt.eq_fixed)
        cand: list[tuple[str, str, str, int, float]] = [
            (a, o, b, g, v) for r, (a, o, b, g, f, v) in
            enumerate(zip(pt.lhs, pt.op, pt.rhs, pt.group, pt.free, pt.ustart, strict=True))
            if f == 0 and r not in eq_fixed]
        have = {(a, o, b, g) for a, o, b, g in zip(pt.lhs, pt.op, pt.rhs, pt.group, strict=True)}
        have |= {(b, o, a, g) for a, o, b, g in have if o == "~~"}
        # variables of "~" lines: left-hand sides first (lavaan's eqs.y, then eqs.x)
        eqs: list[str] = []
        for side in (pt.lhs, pt.rhs):
            for name, o in zip(side, pt.op, strict=True):
                if o == "~" and name not in eqs:
                    eqs.append(name)
        ov, lv = pt.observed, pt.latent
        full = [(f, "=~", x) for f in lv for x in ov]
        full += [(ov[i], "~~", ov[j]) for i in range(len(ov)) for j in range(i, len(ov))]
        full += [(lv[i], "~~", lv[j]) for i in range(len(lv)) for j in range(i, len(lv))]
        full += [(a, "~", b) for a in eqs for b in eqs if a != b]
        if pt.meanstructure:
            full += [(x, "~1", "") for x in (*ov, *lv)]
        cand += [(a, o, b, g, 0.0) for g in range(1, n_groups + 1) for a, o, b in full
                 if (a, o, b, g) not in have]
        if not cand:
            return pd.DataFrame(columns=cols)
        q = pt.n_free
        ext = pt.with_rows([{"lhs": a, "op": o, "rhs": b, "group": g, "user": 10,
                             "free": q + 1 + k} for k, (a, o, b, g, _) in enumerate(cand)])
        xf = np.concatenate([self._x, [c[4] for c in cand]])
        from psychoval.stats.sem._score import score_pieces

        g, info = score_pieces(ext, self._blocks, xf)
        e = np.arange(q, q + len(cand))
        mdl = np.arange(q)
        i11 = info[np.ix_(e, e)]
        i12 = info[np.ix_(e, mdl)]
        i22 = info[np.ix_(mdl, mdl)]
        k = self._null_space  # under linear constraints lavaan's augmented inverse
        i22inv = np.linalg.inv(i22) if k is None else k @ np.linalg.inv(k.T @ i22 @ k) @ k.T
        vdiag = np.diag(i11 - i12 @ i22inv @ i12.T).copy()
        vdiag[vdiag < np.finfo(float).eps ** (1 / 3)] = np.nan
        ge = g[e]
        mi = self.n_obs * ge**2 / vdiag
        epc = -ge / vdiag
        # standardized epc (lavaan's lav_standardize_lv / _all with cov.std = TRUE): each
        # candidate standardized like the parameter it would be; a variance candidate
        # standardizes its current value, signed by the epc
        ovi = {n: i for i, n in enumerate(ov)}
        lvi = {n: i for i, n in enumerate(lv)}
        s_lv = np.full(len(cand), np.nan)
        s_all = np.full(len(cand), np.nan)
        for gi, m in enumerate(self._models, start=1):
            mats, _, la, v = m.parts(self._x)
            ov_var = np.diag(la @ mats[PSI] @ la.T + mats[THETA])
            ov_sd = np.sqrt(np.where(ov_var > 0, ov_var, np.nan))
            lv_sd = np.sqrt(np.where(np.diag(v) > 0, np.diag(v), np.nan))
            th_d = np.diag(mats[THETA])
            psi_d = np.diag(mats[PSI])
            for k, (lhs, op, rhs, grp, val) in enumerate(cand):
                if grp != gi or not np.isfinite(epc[k]):
                    continue
                x = epc[k]
                if op == "=~" and rhs in ovi:
                    s_lv[k] = x * lv_sd[lvi[lhs]]
                    s_all[k] = s_lv[k] / ov_sd[ovi[rhs]]
                elif op == "=~":
                    s_lv[k] = s_all[k] = x * lv_sd[lvi[lhs]] / lv_sd[lvi[rhs]]
                elif op == "~":
                    s_lv[k] = s_all[k] = x * lv_sd[lvi[rhs]] / lv_sd[lvi[lhs]]
                elif op == "~1" and lhs in lvi:
                    s_lv[k] = s_all[k] = x / lv_sd[lvi[lhs]]
                elif op == "~1":
                    s_lv[k] = x
                    s_all[k] = x / ov_sd[ovi[lhs]]
                elif lhs == rhs:
                    # a variance: lavaan standardizes |current value| (0 when that is ~0)
                    cur = abs(val) if abs(val) >= np.sqrt(np.finfo(float).eps) else 0.0
                    sign = np.sign(x)
                    if lhs in lvi:
                        s_lv[k] = s_all[k] = sign * cur / lv_sd[lvi[lhs]] ** 2
                    else:
                        s_lv[k] = sign * cur
                        s_all[k] = sign * cur / ov_sd[ovi[lhs]] ** 2
                elif lhs in ovi:
                    s_lv[k] = x
                    s_all[k] = x / _sqrt_abs(th_d[ovi[lhs]] * th_d[ovi[rhs]])
                else:
                    s_lv[k] = s_all[k] = x / _sqrt_abs(psi_d[lvi[lhs]] * psi_d[lvi[rhs]])
        out = pd.DataFrame({"lhs": [c[0] for c in cand], "op": [c[1] for c in cand],
                            "rhs": [c[2] for c in cand], "group": [c[3] for c in cand],
                            "mi": mi, "epc": epc, "sepc_lv": s_lv, "sepc_all": s_all,
                            "sepc_nox": s_all})[cols]
        return _mi_table(out[np.isfinite(out["mi"])], sort, minimum_value)

    # -- residuals, implied moments, factor scores ----------------------------------------------
    def residuals(self, type: str = "raw") -> pd.DataFrame:  # noqa: A002
        """Residual covariances as lavaan's ``residuals(fit, type=)``.

        ``"raw"``: S - Sigma (divisor N); ``"cor"``: cor(S) - cov2cor(Sigma) (lavaan's
        ``"cor.bollen"``); ``"standardized"``: raw residual over its standard error, lavaan's
        ``"standardized"``: ACOV = Q Gamma(S) Q' / N with Q = I - Delta I0^-1 Delta' W(Sigma),
        Gamma the normal-theory (unstructured) covariance of vech(S); residuals below 1e-5 in
        absolute value are left unscaled, as lavaan does.
        """
        self._single_group("residuals()")
        kind = check_choice("type", type, ("raw", "cor", "cor.bollen", "standardized"))
        s = self.sample_cov.to_numpy()
        sig = self.implied_cov.to_numpy()
        names = list(self.observed)
        if kind == "raw":
            res = s - sig
        elif kind in ("cor", "cor.bollen"):
            ds, dg = np.sqrt(np.diag(s)), np.sqrt(np.diag(sig))
            res = s / np.outer(ds, ds) - sig / np.outer(dg, dg)
        else:
            res = self._standardized_residuals(s, sig)
        return pd.DataFrame(res, index=names, columns=names)

    def _standardized_residuals(self, s: np.ndarray, sig: np.ndarray) -> np.ndarray:
        p = len(self.observed)
        r, c = np.tril_indices(p)
        raw = (s - sig)[r, c]
        # normal-theory Gamma of vech(S) (unstructured) and W = 1/2 D'(Sigma^-1 x Sigma^-1)D
        gam = s[np.ix_(r, r)] * s[np.ix_(c, c)] + s[np.ix_(r, c)] * s[np.ix_(c, r)]
        si = np.linalg.inv(sig)
        dmat = np.zeros((p * p, len(r)))
        dmat[r * p + c, np.arange(len(r))] = 1.0
        dmat[c * p + r, np.arange(len(r))] = 1.0
        w = 0.5 * dmat.T @ np.kron(si, si) @ dmat
        delta = self._model.dsigma(self._x)[:, r, c].T  # (p*, q)
        a0inv = self._cov_est * self.n_obs
        q = np.eye(len(r)) - delta @ a0inv @ delta.T @ w
        acov = q @ gam @ q.T / self.n_obs
        var = np.diag(acov).copy()
        var[~np.isfinite(var) | (var < 0)] = np.nan
        se = np.sqrt(var)
        se[np.abs(raw) < 1e-5] = 1.0
        z = raw / se
        out = np.empty((p, p))
        out[r, c] = z
        out[c, r] = z
        return out

    def factor_scores(self, method: str = "regression") -> pd.DataFrame:
        """Factor scores as lavaan's ``lavPredict(fit, method=)``.

        ``"regression"`` (Thurstone): (y - ybar) Sigma^-1 Lambda Phi; ``"bartlett"``:
        (Lambda' Theta^-1 Lambda)^-1 Lambda' Theta^-1 (y - ybar) (first-order factors only).
        Rows are the rows used in the fit.
        """
        self._single_group("factor_scores()")
        check_choice("method", method, ("regression", "bartlett"))
        if self._data is None:
            raise DataError("factor scores need the raw data; this model was fitted from a "
                            "covariance matrix (sample_cov=)")
        if self.missing == "fiml" and np.isnan(self._data.to_numpy()).any():
            raise SpecificationError(
                "factor scores of rows with missing responses (lavaan's casewise lavPredict "
                "under missing = 'ml') are not available yet; score the complete rows, e.g. "
                "refit with missing='listwise'")
        if self._pt.meanstructure:  # centre at the model-implied means (lavaan)
            y = self._data.to_numpy() - self._model.implied(self._x)[1]
        else:
            y = self._data.to_numpy() - self._mean
        mats, a, la, v = self._model.parts(self._x)
        if method == "regression":
            sig = self.implied_cov.to_numpy()
            w = np.linalg.solve(sig, mats[LAMBDA] @ v)
            scores = y @ w
            cols = list(self.latent)
        else:
            lam = mats[LAMBDA]
            first = [j for j in range(lam.shape[1]) if np.any(lam[:, j] != 0)]
            if len(first) < lam.shape[1]:
                higher = [self.latent[j] for j in range(lam.shape[1]) if j not in first]
                raise SpecificationError(
                    f"Bartlett scores are defined for factors measured by observed items; "
                    f"{', '.join(higher)} has only factor indicators - use method='regression'"
                )
            th = mats[THETA]
            try:
                tl = np.linalg.solve(th, lam)
            except np.linalg.LinAlgError as exc:
                raise SpecificationError("Bartlett scores need invertible residual "
                                         "variances (a residual variance is zero)") from exc
            scores = y @ tl @ np.linalg.inv(lam.T @ tl)
            cols = list(self.latent)
        return pd.DataFrame(scores, index=self._data.index, columns=cols)

    # -- validity evidence --------------------------------------------------------------------
    def _indicators(self) -> dict[str, list[str]]:
        pt = self._pt
        lv_set = set(pt.latent)
        out: dict[str, list[str]] = {f: [] for f in pt.latent}
        for lhs, op, rhs, val in zip(pt.lhs, pt.op, pt.rhs, self._model.row_values(self._x), strict=True):
            if op == "=~" and rhs not in lv_set and val != 0:
                out[lhs].append(rhs)
        return out

    def composite_reliability(self, *, higher: Sequence[str] | None = None) -> pd.Series:
        """Composite reliability (omega) per factor, as ``semTools::compRelSEM(fit,
        obs.var = TRUE)``: (sum lambda)^2 phi / 1' S 1 over the factor's indicators, with S
        the observed covariance. For a higher-order factor (``higher``; default: every
        factor measured by factors) the common part is (Lambda B)^2 phi of the factor over
        the observed variance of all items beneath it (semTools' ``higher=``).

        Examples
        --------
        >>> import psychoval as pv
        >>> from psychoval.datasets import load_holzinger_swineford
        >>> fit = pv.cfa("visual =~ x1 + x2 + x3\\n textual =~ x4 + x5 + x6\\n"
        ...              " speed =~ x7 + x8 + x9", load_holzinger_swineford())
        >>> fit.composite_reliability().round(4).to_dict()  # semTools::compRelSEM(fit)
        {'visual': 0.612, 'textual': 0.8851, 'speed': 0.6858}
        >>> fit.ave().round(4).to_dict()  # semTools::AVE(fit)
        {'visual': 0.3706, 'textual': 0.721, 'speed': 0.4245}
        """
        self._single_group("composite_reliability()")
        mats, a, la, v = self._model.parts(self._x)
        lam, beta = mats[LAMBDA], mats[BETA]
        s = self.sample_cov.to_numpy()
        ovi = {n: i for i, n in enumerate(self.observed)}
        lvi = {n: i for i, n in enumerate(self.latent)}
        inds = self._indicators()
        auto_higher = [f for f in self.latent if not inds[f]
                       and np.any(beta[:, lvi[f]] != 0)]
        hi = auto_higher if higher is None else list(higher)
        for h in hi:
            if h not in lvi:
                raise SpecificationError(f"higher={h!r} is not a factor of the model "
                                         f"({', '.join(self.latent)})")
        out = {}
        for f in self.latent:
            if f in hi:
                j = lvi[f]
                lat = [k for k in range(self.latent.__len__()) if beta[k, j] != 0]
                items = sorted({ovi[i] for k in lat for i in inds[self.latent[k]]})
                cols = [j] + lat
                lsub = lam[np.ix_(items, cols)]
                bsub = beta[np.ix_(cols, cols)]
                phi = v[np.ix_(cols, cols)]
                common = np.sum(lsub @ bsub @ phi @ bsub.T @ lsub.T)
                out[f] = common / np.sum(s[np.ix_(items, items)])
            elif inds[f]:
                idx = [ovi[i] for i in inds[f]]
                lf = lam[idx, lvi[f]]
                out[f] = (lf.sum() ** 2 * v[lvi[f], lvi[f]]) / np.sum(s[np.ix_(idx, idx)])
            else:
                out[f] = math.nan
        self._warn_opposite_loadings(lam, inds, ovi, lvi, out)
        return pd.Series(out, name="omega", dtype=float)

    def _warn_opposite_loadings(self, lam, inds, ovi, lvi, omega) -> None:
        """Composite reliability sums the loadings: items loading with the opposite sign of
        the rest cancel them (bfi's agreeableness without its reverse key: .004). Say which,
        as alpha and omega do."""
        for f, names in inds.items():
            if len(names) < 2:
                continue
            lf = np.array([lam[ovi[i], lvi[f]] for i in names])
            major = 1.0 if (lf > 0).sum() >= (lf < 0).sum() else -1.0
            against = [i for i, v in zip(names, lf, strict=True) if v * major < 0]
            if against:
                warn(f"factor {f!r}: item(s) {', '.join(map(repr, against))} load with the "
                     f"opposite sign of the others, so the composite reliability "
                     f"({omega[f]:.3f}) adds loadings that cancel; if they are "
                     "reverse-keyed, score them reversed (reverse=[...] or the framework's "
                     "reverse: true) and refit", PsychovalWarning, stacklevel=3)

    def ave(self) -> pd.Series:
        """Average variance extracted per factor, as ``semTools::AVE(fit, obs.var = TRUE)``:
        sum(lambda^2) phi / sum of the observed variances of the factor's indicators; NaN for
        a factor with a cross-loading indicator or without observed indicators."""
        self._single_group("ave()")
        mats, a, la, v = self._model.parts(self._x)
        lam = mats[LAMBDA]
        s = self.sample_cov.to_numpy()
        cross = (np.round(lam, 5) != 0).sum(axis=1) > 1
        out = {}
        for j, f in enumerate(self.latent):
            idx = np.flatnonzero(lam[:, j] != 0)
            if idx.size == 0 or cross[idx].any():
                out[f] = math.nan
                continue
            out[f] = float(np.sum(lam[idx, j] ** 2) * v[j, j] / np.sum(np.diag(s)[idx]))
        return pd.Series(out, name="ave", dtype=float)

    def fornell_larcker(self) -> FornellLarckerResult:
        """Fornell-Larcker data: sqrt(AVE) per factor against its largest absolute
        correlation with another factor (Fornell & Larcker 1981)."""
        self._single_group("fornell_larcker()")
        ave = self.ave()
        cor = self.cor_lv
        off = cor.to_numpy().copy()
        np.fill_diagonal(off, np.nan)
        if len(off) > 1:
            max_abs, max_sq_ = np.nanmax(np.abs(off), axis=1), np.nanmax(off**2, axis=1)
        else:  # one factor: nothing to discriminate from
            max_abs = max_sq_ = np.full(len(off), np.nan)
        max_cor = pd.Series(max_abs, index=cor.index)
        max_sq = pd.Series(max_sq_, index=cor.index)
        sq = np.sqrt(ave)
        return FornellLarckerResult(sqrt_ave=sq, cor_lv=cor, max_cor_per_factor=max_cor,
                                    max_sq_cor_per_factor=max_sq,
                                    sqrt_ave_exceeds_max_cor=sq > max_cor)

    # -- summary ------------------------------------------------------------------------------
    def summary(self) -> Summary:
        """Reads like lavaan's ``summary(fit, fit.measures=TRUE, standardized=TRUE)``."""
        fm = self.fit_measures
        facts = [
            ("Estimator", self.estimator),
            ("Optimization method", "Fisher scoring (trust region), then BFGS"),
            ("Converged", self.converged), ("Iterations", self.iterations),
            ("Number of model parameters", fm["npar"]),
            ("Number of observations", self.n_obs),
        ]
        if self.restarts:
            facts.append(("Restarts", ", ".join(self.restarts)))
            facts.append(("Solution from", self.solution_from))
        if self.rows_dropped:
            what = "listwise" if self.missing == "listwise" else "no response at all"
            facts.append((f"Rows dropped ({what})", len(self.rows_dropped)))
        if self.missing == "fiml":
            facts.append(("Missing data", "full-information ML (lavaan missing = \"ml\")"))
        for lab, b in zip(self.group_labels, self._blocks, strict=False):
            facts.append((f"  group {lab}", b.n))
        if self.group_equal:
            facts.append(("Equality constraints (group.equal)", ", ".join(self.group_equal)))
        if self.information != "expected" or self.estimator == "MLR":
            facts.append(("Information", self.information))
        for k, con in enumerate(self._pt.constraints):
            state = ("equality" if con.op == "==" else
                     "active (holds with equality)" if k in self._pt.active else "inactive")
            facts.append((f"Constraint {con.lhs} {con.op} {con.rhs[0].name}", state))
        facts += [
            ("Test statistic (chi-square)", fm["chisq"]), ("Degrees of freedom", fm["df"]),
            ("P-value (Chi-square)", fm["pvalue"]),
        ]
        if "chisq_scaled" in fm:
            facts += [
                ("Scaled test statistic (Yuan-Bentler, Mplus)", fm["chisq_scaled"]),
                ("Scaling correction factor", fm["chisq_scaling_factor"]),
                ("P-value (scaled)", fm["pvalue_scaled"]),
            ]
        facts += [
            ("Baseline model chi-square", fm["baseline_chisq"]),
            ("Baseline degrees of freedom", fm["baseline_df"]),
            ("Comparative Fit Index (CFI)", fm["cfi"]),
            ("Tucker-Lewis Index (TLI)", fm["tli"]),
            ("Loglikelihood user model (H0)", fm["logl"]),
            ("Loglikelihood unrestricted model (H1)", fm["unrestricted_logl"]),
            ("Akaike (AIC)", fm["aic"]), ("Bayesian (BIC)", fm["bic"]),
            ("Sample-size adjusted Bayesian (SABIC)", fm["bic2"]),
            ("RMSEA", fm["rmsea"]), ("90 Percent confidence interval - lower",
                                     fm["rmsea_ci_lower"]),
            ("90 Percent confidence interval - upper", fm["rmsea_ci_upper"]),
            ("P-value H_0: RMSEA <= 0.050", fm["rmsea_pvalue"]),
            ("P-value H_0: RMSEA >= 0.080", fm["rmsea_notclose_pvalue"]),
            ("SRMR", fm["srmr"]),
        ]
        if "cfi_robust" in fm:
            facts += [("Robust CFI", fm["cfi_robust"]), ("Robust TLI", fm["tli_robust"]),
                      ("Robust RMSEA", fm["rmsea_robust"])]
        est = self.estimates(standardized=True)
        est["name"] = [f"{r}" if not lab else f"{r} ({lab})"
                       for r, lab in zip(est["rhs"], est["label"], strict=True)]
        tables = []
        cols = ["est", "se", "z", "pvalue", "std_lv", "std_all"]
        lv_set = set(self.latent)
        groups = [
            ("Latent Variables", est["op"] == "=~"),
            ("Regressions", est["op"] == "~"),
            ("Covariances", (est["op"] == "~~") & (est["lhs"] != est["rhs"])),
            ("Intercepts", est["op"] == "~1"),
            ("Variances", (est["op"] == "~~") & (est["lhs"] == est["rhs"])),
            ("Defined Parameters", est["op"] == ":="),
        ]
        for title, mask in groups:
            sub = est[mask]
            if not len(sub):
                continue
            if title == "Variances":
                idx = [("." + r if r not in lv_set else r) for r in sub["rhs"]]
            elif title == "Intercepts":
                idx = [("." + r if r not in lv_set else r) for r in sub["lhs"]]
            elif title == "Defined Parameters":
                idx = [f"{lhs} := {rhs}" for lhs, rhs in zip(sub["lhs"], sub["rhs"], strict=True)]
            else:
                idx = [f"{lhs} {op} {n}" for lhs, op, n in zip(sub["lhs"], sub["op"],
                                                                 sub["name"], strict=True)]
            t = sub[cols].copy()
            if "group" in sub:
                labels = self.group_labels
                idx = [f"[{labels[g - 1]}] {i}" if g else i  # := rows: group 0
                       for g, i in zip(sub["group"], idx, strict=True)]
            t.index = idx
            tables.append((title, t))
        notes = list(self.problems)
        if not self.converged:
            notes.append("the optimizer did not converge: estimates are not trustworthy")
        return Summary(title=f"CFA ({self.estimator}) - lavaan 0.6.14 conventions",
                       facts=tuple(facts), tables=tuple(tables), notes=tuple(notes))


# --------------------------------------------------------------------------------------------
_WLSMV_LATER = ("{what} is not available for {est} (ordinal) fits yet{why}; the "
                "estimates, standard errors, standardized solution and fit measures are")


def _ordinal_later(what: str, est: str, why: str = "") -> NotImplementedError:
    return NotImplementedError(_WLSMV_LATER.format(what=what, est=est, why=why))


def _delta_only(fit: Any, what: str) -> None:
    """Reliability and AVE are computed on the delta parameterization's scales of ordered
    indicators: a fit with continuous indicators or a theta fit (the same fit, other scales)
    is refused rather than answered without a reference or on the wrong scale."""
    ss = fit._ordinal.sample
    cont = [ss.items[j] for j in ss.numeric_idx]
    if cont:  # semTools 0.5.6's compRelSEM gives NA for such a fit: no reference to match
        raise NotImplementedError(
            f"{what} of an ordinal fit with continuous indicators ({', '.join(cont)}) is not "
            "available: categorical omega (Green & Yang) needs every indicator ordered "
            "(semTools 0.5.6's compRelSEM returns NA here); fit the continuous items' "
            "reliability separately or treat every indicator as ordered or as continuous")
    if fit._ordinal.parameterization != "delta":
        raise NotImplementedError(
            f"{what} is computed on the delta parameterization's latent-response scale; this "
            f"fit uses parameterization={fit._ordinal.parameterization!r}: refit with "
            "parameterization='delta' (the same fit and standardized solution)")


def _one_group_only(fit: Any, what: str) -> None:
    """Raise for the follow-ups not computed yet for several groups of ordered items."""
    if fit.group_labels:
        raise NotImplementedError(
            f"{what} is not available yet for a {fit.n_groups}-group ordinal fit; "
            "estimates() and fit_measures are (with a group column), or fit each group "
            "separately (pv.cfa on that group's rows)")


@dataclasses.dataclass(frozen=True, repr=False)
class OrdinalCFAResult(CFAResult):
    """A CFA of ordered indicators (``estimator="WLSMV"`` or ``"DWLS"``), lavaan 0.6.14's
    delta parameterization: a :class:`CFAResult` whose ``sample_cov`` is the polychoric
    correlation matrix, ``implied_cov`` the model-implied latent-response correlation
    matrix, and whose ``estimates()`` include the thresholds (op ``"|"``, rhs ``"t1"``, ...),
    the scaling rows (``~*~``) and the fixed intercepts / latent means (``~1``) as lavaan's
    ``parameterEstimates``. The residual variances of the items are ``1 - R^2`` (fixed, se 0;
    their standardized values carry delta-method SEs).

    Available as lavaan: ``estimates()``, ``standardized()`` (std.all / std.lv / std.nox),
    ``fit_measures`` (every measure lavaan's ``fitMeasures()`` gives for WLSMV, robust ones
    included), ``modindices()``, ``cov_lv``, ``cor_lv`` and ``composite_reliability()``
    (categorical omega, semTools' ``compRelSEM``) with ``omega_interval()`` (its
    delta-method interval), ``ave()`` and ``fornell_larcker()`` (semTools' ``AVE``: on the
    latent-response scale). ``residuals()`` and ``factor_scores()`` raise
    NotImplementedError: their ML formulas do not apply to an ordinal fit.

    Several groups (``group=``): ``estimates()`` (with a ``group`` column, 1-based as
    lavaan's), ``thresholds`` (by group) and ``fit_measures``; ``sample_cov``,
    ``implied_cov``, ``cov_lv`` and ``cor_lv`` are dicts by group label. The standardized
    solution, modification indices, reliability and AVE raise NotImplementedError there.
    """

    _ordinal: Any = dataclasses.field(default=None, repr=False, compare=False)

    @functools.cached_property
    def _cov_est(self) -> np.ndarray:
        return self._ordinal.vcov

    @property
    def thresholds(self) -> pd.Series:
        """The sample (= estimated) thresholds, ``item|t1``, ... (lavaan's ``lavInspect(fit,
        "th")``)."""
        if self.group_labels:  # by group: the model's thresholds (equal ones shared)
            fit = self._ordinal
            idx = pd.MultiIndex.from_tuples(
                [(lab, nm) for lab, ss in zip(self.group_labels, fit.samples, strict=True)
                 for nm in ss.threshold_names], names=["group", "threshold"])
            return pd.Series(np.concatenate([fit.z[t] for t in fit.tau_index]), index=idx,
                             name="threshold")
        ss = self._ordinal.sample
        return pd.Series(ss.thresholds, index=list(ss.threshold_names), name="threshold")

    @property
    def partable(self) -> pd.DataFrame:
        return self.estimates()

    def _frame(self, keys, est, se, confidence_level, col):
        z, p, lo, hi = _z_p_ci(est, se, confidence_level)
        lhs, op, rhs, lab = (list(t) for t in zip(*keys, strict=True))
        return pd.DataFrame({"lhs": lhs, "op": op, "rhs": rhs, "label": lab, col: est,
                             "se": se, "z": z, "pvalue": p, "ci_lower": lo, "ci_upper": hi})

    def estimates(self, *, confidence_level: float = 0.95, standardized: bool = False,
                  level: float | None = None) -> pd.DataFrame:
        """lavaan's ``parameterEstimates(fit)`` of the ordinal fit (see the class)."""
        from psychoval.stats.sem._cfa_ordinal import ordinal_rows

        confidence_level = renamed_keyword("CFAResult.estimates", "level", level,
                                           "confidence_level", confidence_level, 0.95)
        if self.group_labels:
            return self._group_estimates(confidence_level, standardized)
        keys, est, idx = ordinal_rows(self._ordinal)
        sd = np.sqrt(np.clip(np.diag(self._cov_est), 0, None))
        se = np.where(idx >= 0, sd[np.maximum(idx, 0)], 0.0)
        df = self._frame(keys, est, se, confidence_level, "est")
        if standardized:
            df["std_lv"] = ordinal_rows(self._ordinal, std="std_lv")[1]
            df["std_all"] = ordinal_rows(self._ordinal, std="std_all")[1]
            df["std_nox"] = df["std_all"]
        return df

    def _group_estimates(self, confidence_level: float, standardized: bool) -> pd.DataFrame:
        from psychoval.stats.sem._cfa_ordinal_groups import group_rows

        if standardized:
            _one_group_only(self, "estimates(standardized=True)")
        keys, est, idx = group_rows(self._ordinal)
        sd = np.sqrt(np.clip(np.diag(self._cov_est), 0, None))
        se = np.where(idx >= 0, sd[np.maximum(idx, 0)], 0.0)
        z, p, lo, hi = _z_p_ci(est, se, confidence_level)
        lhs, op, rhs, grp, lab = (list(t) for t in zip(*keys, strict=True))
        return pd.DataFrame({"lhs": lhs, "op": op, "rhs": rhs, "group": grp, "label": lab,
                             "est": est, "se": se, "z": z, "pvalue": p, "ci_lower": lo,
                             "ci_upper": hi})

    def standardized(self, *, type: str = "std_all", confidence_level: float = 0.95,  # noqa: A002
                     level: float | None = None) -> pd.DataFrame:
        """lavaan's ``standardizedSolution(fit, type=)``: ``"std_all"`` (default; ``"std_nox"``
        is the same) or ``"std_lv"``, delta-method SEs from the covariance of (thresholds,
        parameters)."""
        from psychoval.stats.sem._cfa_ordinal import ordinal_rows

        _one_group_only(self, "standardized()")

        confidence_level = renamed_keyword("CFAResult.standardized", "level", level,
                                           "confidence_level", confidence_level, 0.95)
        kind = check_choice("type", type.replace(".", "_"), ("std_all", "std_lv", "std_nox"))
        kind = "std_all" if kind == "std_nox" else kind
        fit = self._ordinal
        nth = fit.sample.thresholds.size
        full = np.concatenate([fit.thresholds, fit.x])
        keys, est, _ = ordinal_rows(fit, std=kind)
        jac = np.empty((len(est), full.size))
        h = 1e-20
        for k in range(full.size):
            xc = full.astype(complex)
            xc[k] += 1j * h
            _, val, _ = ordinal_rows(fit, std=kind, x=xc[nth:], tau=xc[:nth])
            jac[:, k] = np.imag(val) / h
        se = np.sqrt(np.clip(np.diag(jac @ self._cov_est @ jac.T), 0, None))
        se[se < 1e-10] = 0.0
        return self._frame(keys, np.real(est).astype(float), se, confidence_level, "est_std")

    def to_frame(self) -> pd.DataFrame:
        return self.estimates(standardized=not self.group_labels)

    def modindices(self, *, sort: bool = True, minimum_value: float = 0.0) -> pd.DataFrame:
        """lavaan's ``modindices(fit)`` of the ordinal fit: score tests with the DWLS
        information ``Delta' W Delta`` of the extended model (see
        ``psychoval.stats.sem._cfa_ordinal.ordinal_modindices``)."""
        from psychoval.stats.sem._cfa_ordinal import ordinal_modindices

        _one_group_only(self, "modindices()")

        return _mi_table(ordinal_modindices(self._ordinal), sort, minimum_value)

    def residuals(self, type: str = "raw") -> pd.DataFrame:  # noqa: A002
        raise _ordinal_later("residuals()", self.estimator,
                             " (lavaan's residuals of an ordinal fit are on the polychoric "
                             "correlations and thresholds)")

    def factor_scores(self, method: str = "regression") -> pd.DataFrame:
        raise _ordinal_later("factor_scores()", self.estimator,
                             " (lavaan scores ordinal fits by empirical Bayes modal)")

    def composite_reliability(self, *, higher: Sequence[str] | None = None,
                              obs_var: bool = True, ord_scale: bool = True) -> pd.Series:
        """Categorical omega by factor (Green & Yang 2009): semTools 0.5.6's
        ``compRelSEM(fit, obs.var = obs_var, ord.scale = ord_scale)`` of an ordinal fit - the
        reliability of the sum of a factor's observed category codes. ``ord_scale=False``: the
        omega of the latent responses instead; ``obs_var=False``: the denominator from the
        model-implied instead of the sample polychoric correlations. Factors with one
        indicator are left out (semTools' ``dropSingle``); ``higher=`` is not available for
        ordinal fits."""
        _one_group_only(self, "composite_reliability()")
        _delta_only(self, "composite_reliability()")
        from psychoval.stats.sem._ordinal_omega import omega_function

        if higher:
            raise _ordinal_later("composite_reliability(higher=)", self.estimator,
                                 " (semTools 0.5.6's omegaCat fails on a higher-order "
                                 "factor of ordered indicators: no reference to match)")
        # from the model matrices: a first-order factor's variance is its total (implied)
        # variance, lavInspect(fit, "cov.lv"), also under a higher-order factor
        g, s0, factors = omega_function(self._ordinal, obs_var=bool(obs_var),
                                        ord_scale=bool(ord_scale))
        return pd.Series(np.real(g(s0)).astype(float), index=factors, name="omega")

    def ordinal_alpha(self, *, confidence_level: float = 0.95) -> pd.DataFrame:
        """Ordinal alpha per factor (Zumbo, Gadermann & Zeisser 2007): coefficient alpha of
        the polychoric correlations of the factor's indicators, ``k rbar / (1 + (k - 1)
        rbar)`` (psych's ``alpha()`` of ``lavCor(ordered)``), with a delta-method standard
        error from the polychorics' asymptotic covariance (the fit's NACOV): ``Var = g' Gamma_rr
        g / (N - 1)``, ``g = k / (1 + (k - 1) rbar)^2 / m`` on each of the ``m`` pairs.

        It is the reliability of the latent responses' sum, not of the observed sum score
        (Chalmers 2018): categorical omega (:meth:`composite_reliability`) is that one. It does
        not depend on the model beyond which items load on a factor.

        Returns
        -------
        DataFrame
            ``factor``, ``n_items``, ``alpha``, ``se``, ``ci_lower``, ``ci_upper`` (factors with
            two or more indicators).

        References
        ----------
        Zumbo, B. D., Gadermann, A. M., & Zeisser, C. (2007). Ordinal versions of coefficients
        alpha and theta for Likert rating scales. Journal of Modern Applied Statistical
        Methods, 6(1), 21-29. doi:10.22237/jmasm/1177992180.
        Chalmers, R. P. (2018). On misconceptions and the limited usefulness of ordinal alpha.
        Educational and Psychological Measurement, 78(6), 1056-1071.
        doi:10.1177/0013164417727036.
        """
        from psychoval._input import check_confidence_level

        _one_group_only(self, "ordinal_alpha()")
        confidence_level = check_confidence_level(confidence_level)
        ss = self._ordinal.sample
        if ss.numeric_idx.size:
            raise NotImplementedError(
                "ordinal_alpha() needs every indicator ordered; continuous: "
                + ", ".join(ss.items[j] for j in ss.numeric_idx))
        items = list(ss.items)
        k_all = len(items)
        cc, rr = np.triu_indices(k_all, 1)  # the NACOV's order: column by column below
        nth = ss.thresholds.size
        gamma = np.asarray(ss.nacov, dtype=float)[nth:, nth:]
        est = self.estimates()
        load = est[(est["op"] == "=~") & est["rhs"].isin(items)]
        rows = []
        for f in dict.fromkeys(load["lhs"]):
            idx = np.array(sorted(items.index(v) for v in set(load.loc[load["lhs"] == f, "rhs"])))
            k = idx.size
            if k < 2:
                continue
            mask = np.isin(cc, idx) & np.isin(rr, idx)
            r = ss.cor[rr[mask], cc[mask]]
            rbar = float(r.mean())
            alpha = k * rbar / (1.0 + (k - 1) * rbar)
            g = k / (1.0 + (k - 1) * rbar) ** 2 / mask.sum()
            var = g * g * gamma[np.ix_(mask, mask)].sum() / (ss.nobs - 1)
            rows.append((f, k, alpha, math.sqrt(max(var, 0.0))))
        out = pd.DataFrame(rows, columns=["factor", "n_items", "alpha", "se"])
        _, _, lo, hi = _z_p_ci(out["alpha"].to_numpy(dtype=float),
                               out["se"].to_numpy(dtype=float), confidence_level)
        return out.assign(ci_lower=lo, ci_upper=hi)

    def omega_interval(self, *, confidence_level: float = 0.95, obs_var: bool = True,
                       ord_scale: bool = True) -> pd.DataFrame:
        """Categorical omega by factor (as :meth:`composite_reliability`) with a delta-method
        standard error and Wald interval.

        Omega is a function of the thresholds, the DWLS parameters and (``obs_var``) the
        sample polychoric correlations, all functions of the sample statistics whose
        asymptotic covariance is the fit's NACOV (Gamma); ``Var = J Gamma J' / (N - 1)``,
        ``J`` its complex-step derivative through the parameters' dependence on the
        correlations, ``(Delta' W Delta)^-1 Delta' W`` (see
        ``psychoval.stats.sem._ordinal_omega``). No refits: a bootstrap of WLSMV fits costs
        hundreds of fits; the two agree on simulated data (tests/test_ordinal_omega_se.py).

        Returns
        -------
        DataFrame
            ``factor``, ``omega``, ``se``, ``ci_lower``, ``ci_upper`` (factors with two or
            more indicators).
        """
        _one_group_only(self, "omega_interval()")
        _delta_only(self, "omega_interval()")
        from psychoval._input import check_confidence_level
        from psychoval.stats.sem._ordinal_omega import categorical_omega_se

        confidence_level = check_confidence_level(confidence_level)
        out = categorical_omega_se(self._ordinal, obs_var=bool(obs_var),
                                   ord_scale=bool(ord_scale))
        _, _, lo, hi = _z_p_ci(out["omega"].to_numpy(), out["se"].to_numpy(),
                               confidence_level)
        return out.assign(ci_lower=lo, ci_upper=hi)

    def ave(self) -> pd.Series:
        """Average variance extracted per factor, as semTools 0.5.6 ``AVE(fit)`` of an ordinal
        fit: on the latent-response scale, sum(lambda^2) psi over the sum of the indicators'
        sample variances - the polychoric diagonal, 1 in the delta parameterization (semTools
        rescales the sample statistics by lavaan's scales, all 1 here): the mean share of
        the latent responses' variance the factor explains. NaN for a factor with a
        cross-loading indicator or without observed indicators."""
        _one_group_only(self, "ave()")
        _delta_only(self, "ave()")
        return super().ave()

    def fornell_larcker(self) -> FornellLarckerResult:
        """Fornell-Larcker data from :meth:`ave` (latent-response scale) and ``cor_lv``."""
        _one_group_only(self, "fornell_larcker()")
        return super().fornell_larcker()

    def summary(self) -> Summary:
        fm = self.fit_measures
        facts = [("Estimator", self.estimator),
                 ("Parameterization", self._ordinal.parameterization),
                 ("Converged", self.converged), ("Iterations", self.iterations),
                 ("Number of model parameters", fm["npar"]),
                 ("Number of observations", self.n_obs)]
        if self.rows_dropped:
            facts.append(("Rows dropped (listwise)", len(self.rows_dropped)))
        for lab, ss in zip(self.group_labels, getattr(self._ordinal, "samples", ()),
                           strict=False):
            facts.append((f"  group {lab}", ss.nobs))
        if self.group_equal:
            facts.append(("Equality constraints (group.equal)", ", ".join(self.group_equal)))
        base = {"WLSMV": "DWLS", "ULSMV": "ULS"}.get(self.estimator, self.estimator)
        facts += [(f"Test statistic ({base} chi-square)", fm["chisq"]),
                  ("Degrees of freedom", fm["df"]), ("P-value (Chi-square)", fm["pvalue"])]
        if "chisq_scaled" in fm:
            facts += [("Scaled test statistic (mean and variance adjusted)",
                       fm["chisq_scaled"]),
                      ("Scaling correction factor", fm["chisq_scaling_factor"]),
                      ("P-value (scaled)", fm["pvalue_scaled"]),
                      ("CFI (scaled)", fm["cfi_scaled"]), ("TLI (scaled)", fm["tli_scaled"]),
                      ("RMSEA (scaled)", fm["rmsea_scaled"])]
        facts += [("CFI", fm["cfi"]), ("TLI", fm["tli"]), ("RMSEA", fm["rmsea"]),
                  ("SRMR", fm["srmr"])]
        multi = bool(self.group_labels)
        est = self.estimates(standardized=not multi)
        est.index = [f"{a} {b} {c}".strip() for a, b, c in
                     zip(est["lhs"], est["op"], est["rhs"], strict=True)]
        if multi:
            est.index = [f"[{self.group_labels[g - 1]}] {i}"
                         for g, i in zip(est["group"], est.index, strict=True)]
        cols = ["est", "se", "z", "pvalue"] + ([] if multi else ["std_all"])
        tables = (("Parameter estimates", est[cols]),)
        notes = list(self.problems)
        if not self.converged:
            notes.append("the optimizer did not converge: estimates are not trustworthy")
        return Summary(title=f"CFA ({self.estimator}, ordered indicators) - lavaan 0.6.14 "
                       "conventions", facts=tuple(facts), tables=tables, notes=tuple(notes))


def _table_frame(data: Any, model: Any, std_lv: bool, group: Any) -> Any:
    """A ResponseTable as the DataFrame the ordinal fit reads: the model's items as numbers (a
    text cell raises, naming its item and row) and the group column as written."""
    if isinstance(data, pd.DataFrame) or not (hasattr(data, "items")
                                              and hasattr(data, "select")):
        return data
    formulas, text = model_to_formulas(model)
    pt = build_partable(formulas, std_lv=bool(std_lv), meanstructure=False, source=text)
    present = [v for v in pt.observed if v in data.items]
    m = as_item_matrix(data, items=present)
    frame = pd.DataFrame(m.values, columns=list(m.items), index=m.ids)
    if group is not None and group in data.raw.columns:
        frame[group] = data.raw[group].to_numpy()
    return frame


def _raise_on_missing(data: Any, observed: Sequence[str], missing: str) -> None:
    """``missing="raise"``: the first missing cell of a model item, named."""
    if missing == "raise" and isinstance(data, ResponsePatterns):
        weighted_items(data, items=list(observed), missing="raise")  # raises, counting rows
    if missing != "raise" or not isinstance(data, pd.DataFrame):
        return
    present = [v for v in observed if v in data.columns]
    nan = data[present].isna().to_numpy()
    if nan.any():
        r, c = (int(a) for a in np.argwhere(nan)[0])
        raise DataError(
            f"item {present[c]!r} is missing in row {data.index[r]!r} ({int(nan.sum())} "
            f"missing cell(s) in {int(nan.any(axis=1).sum())} row(s)); choose "
            "missing='listwise' or 'pairwise' to handle them")


def _warn_rows_dropped(fit: Any, policy: str, dropped: int | None = None) -> None:
    """The rows an ordinal fit left out (``dropped``, default ``len(fit.rows_dropped)``;
    a fit from ResponsePatterns knows how many, not which), said: over 5% under listwise
    deletion, any empty case under pairwise."""
    dropped = len(fit.rows_dropped) if dropped is None else dropped
    if policy == "listwise" and dropped > 0.05 * fit.n_total:
        warn(f"listwise deletion dropped {dropped} of {fit.n_total} rows "
             "(rows with a missing model variable); missing='pairwise' keeps every answered "
             "item", PsychovalWarning, stacklevel=4)
    elif policy == "pairwise" and dropped:
        warn(f"{dropped} of {fit.n_total} rows have no response to any model "
             "item and are left out (lavaan: empty cases)", PsychovalWarning, stacklevel=4)


def _cfa_ordinal(model: Any, data: Any, *, ordered: Any, estimator: str, missing: str,
                 std_lv: bool, group: Any, group_equal: Any, information: Any,
                 sample_cov: Any, parameterization: str = "delta", id_cat: str = "default",
                 group_partial: Any = None) -> OrdinalCFAResult:
    from psychoval.stats.sem._cfa_ordinal import fit_ordinal

    if group_equal and group is None:
        raise SpecificationError("group_equal needs group= (the column holding the groups)")
    if group is None and (group_partial or id_cat != "default"):
        raise SpecificationError("group_partial and id_cat need group= (the column holding "
                                 "the groups)")
    if missing in ("fiml", "ml"):
        raise SpecificationError(
            f"missing={missing!r} (full-information ML) does not apply to ordinal CFA "
            f"(estimator={estimator!r}); use missing='pairwise' to keep every answered item "
            "(lavaan's missing = \"pairwise\") or 'listwise' (the default)")
    check_choice("missing", missing, ("listwise", "pairwise", "raise"))
    if information not in (None, "expected"):
        raise SpecificationError("ordinal CFA uses the expected (DWLS) information; "
                                 f"information={information!r} is not available")
    if sample_cov is not None or data is None:
        raise SpecificationError("ordinal CFA needs the raw responses (data=), not sample_cov=")
    if ordered is False or ordered is None:
        ordered = True
    elif isinstance(ordered, str):
        ordered = [ordered]
    data = _table_frame(data, model, std_lv, group)
    if group is not None and isinstance(data, ResponsePatterns):
        raise SpecificationError("group= with ResponsePatterns: summarise each group's rows "
                                 "separately; multiple-group fits from summaries are not "
                                 "available")
    if group is not None:
        return _cfa_ordinal_groups(model, data, ordered=ordered, estimator=estimator,
                                   missing=missing, std_lv=std_lv, group=group,
                                   group_equal=group_equal, parameterization=parameterization,
                                   id_cat=id_cat, group_partial=group_partial)
    formulas, text = model_to_formulas(model)
    pt1 = build_partable(formulas, std_lv=bool(std_lv), meanstructure=False, source=text)
    _continuous_only(pt1)
    _raise_on_missing(data, pt1.observed, missing)
    policy = "pairwise" if missing == "pairwise" else "listwise"
    fit = fit_ordinal(pt1, data, ordered, estimator, missing=policy,
                      parameterization=parameterization)
    _warn_rows_dropped(fit, policy, fit.n_total - fit.sample.nobs)
    pt = fit.pt
    m = MatrixModel(pt)
    _, _, _, v = m.parts(fit.x)
    lv_sd = np.sqrt(np.abs(np.diag(v)))
    with np.errstate(divide="ignore", invalid="ignore"):
        cor = v / np.outer(lv_sd, lv_sd)
    ovn, lvn = list(pt.observed), list(pt.latent)
    problems = [prob for prob in _admissibility(pt, m, fit.x)
                if not prob.startswith("negative residual variance")]
    theta = fit.item_variances[0]
    problems += [f"negative residual variance of {y} (1 - R^2 = {t:.4g})"
                 for y, t in zip(ovn, theta, strict=True) if t < 0]
    if not fit.converged:
        warn(f"the ordinal CFA did not converge after {fit.iterations} iterations; the "
             "estimates are not trustworthy", ConvergenceWarning, stacklevel=3)
    for prob in problems:
        warn(f"inadmissible solution: {prob}", ImproperSolutionWarning, stacklevel=3)
    return OrdinalCFAResult(
        model=text, estimator=estimator, missing=policy, observed=pt.observed,
        latent=pt.latent, n_obs=fit.sample.nobs, n_total=fit.n_total,
        rows_dropped=fit.rows_dropped, converged=fit.converged, iterations=fit.iterations,
        admissible=not problems, problems=tuple(problems), fit_measures=fit.fit_measures,
        sample_cov=pd.DataFrame(fit.sample.cor, index=ovn, columns=ovn),
        implied_cov=pd.DataFrame(fit.sigma, index=ovn, columns=ovn),
        cov_lv=pd.DataFrame(v, index=lvn, columns=lvn),
        cor_lv=pd.DataFrame(cor, index=lvn, columns=lvn),
        _pt=pt, _x=fit.x, _vcov=fit.vcov, _ordinal=fit)


def _cfa_ordinal_groups(model: Any, data: Any, *, ordered: Any, estimator: str, missing: str,
                        std_lv: bool, group: str, group_equal: Any,
                        parameterization: str, id_cat: str = "default",
                        group_partial: Any = None) -> OrdinalCFAResult:
    """Several groups of ordered indicators (lavaan's ``group =`` / ``group.equal =`` with
    ``ordered =``): ``psychoval.stats.sem._cfa_ordinal_groups``."""
    from psychoval.stats.sem._cfa_ordinal_groups import fit_ordinal_groups, group_rows

    formulas, text = model_to_formulas(model)
    pt1 = build_partable(formulas, std_lv=bool(std_lv), meanstructure=True, source=text)
    _continuous_only(pt1)
    ov = list(pt1.observed)
    if ordered is not True and set(ov) - set(ordered):
        raise SpecificationError(
            f"indicators {sorted(set(ov) - set(ordered))} are not ordered; several groups of "
            "mixed continuous and ordered indicators are not available yet (give ordered=True "
            "or list every indicator)")
    _raise_on_missing(data, ov, missing)
    policy = "pairwise" if missing == "pairwise" else "listwise"
    from psychoval.stats.sem import _engine as eng

    partial = eng.check_group_partial(group_partial, pt1)
    bad = [k for k in partial if k[1] not in ("=~", "~1") or (k[1] == "~1" and k[0] not in ov)]
    if bad:
        raise SpecificationError(
            f"group_partial={' '.join(bad[0]).strip()!r}: for ordered indicators only item "
            "intercepts ('x3 ~1', freed in groups 2.. with equal thresholds) and loadings "
            "('visual =~ x2') can be released")
    fit = fit_ordinal_groups(pt1, data, group, group_equal, estimator, missing=policy,
                             parameterization=parameterization, id_cat=id_cat,
                             partial=partial)
    _warn_rows_dropped(fit, policy)
    pt = fit.pt
    lvn = list(pt.latent)
    labels = [str(lab) for lab in fit.group_labels]
    s_cov, i_cov, c_lv, r_lv = {}, {}, {}, {}
    problems: list[str] = []
    keys, est, _ = group_rows(fit)
    for g, lab in enumerate(labels):
        ss = fit.samples[g]
        _, _, _, v = MatrixModel(pt, g + 1).parts(fit.x)
        lv_sd = np.sqrt(np.abs(np.diag(v)))
        with np.errstate(divide="ignore", invalid="ignore"):
            cor = v / np.outer(lv_sd, lv_sd)
        s_cov[lab] = pd.DataFrame(ss.cor, index=ov, columns=ov)
        i_cov[lab] = pd.DataFrame(fit.sigmas[g], index=ov, columns=ov)
        c_lv[lab] = pd.DataFrame(v, index=lvn, columns=lvn)
        r_lv[lab] = pd.DataFrame(cor, index=lvn, columns=lvn)
        problems += [f"negative variance of {f} (group {lab}: {vv:.4g})"
                     for f, vv in zip(lvn, np.diag(v), strict=True) if vv < 0]
    problems += [f"negative residual variance of {k[0]} (group {labels[k[3] - 1]}: "
                 f"{e:.4g})" for k, e in zip(keys, est, strict=True)
                 if k[1] == "~~" and k[0] == k[2] and k[0] in ov and e < 0]
    if not fit.converged:
        warn(f"the ordinal CFA did not converge after {fit.iterations} iterations; the "
             "estimates are not trustworthy", ConvergenceWarning, stacklevel=3)
    for prob in problems:
        warn(f"inadmissible solution: {prob}", ImproperSolutionWarning, stacklevel=3)
    return OrdinalCFAResult(
        model=text, estimator=estimator, missing=policy, observed=pt.observed,
        latent=pt.latent, n_obs=int(sum(ss.nobs for ss in fit.samples)),
        n_total=fit.n_total, rows_dropped=fit.rows_dropped, converged=fit.converged,
        iterations=fit.iterations, admissible=not problems, problems=tuple(problems),
        fit_measures=fit.fit_measures, sample_cov=s_cov, implied_cov=i_cov, cov_lv=c_lv,
        cor_lv=r_lv, group=group, group_labels=tuple(labels), group_equal=fit.group_equal,
        _pt=pt, _x=fit.x, _vcov=fit.vcov, _ordinal=fit)


def _data_matrix(pt: ParTable, data: Any, missing: str):
    if isinstance(data, pd.DataFrame):
        cols = [str(c) for c in data.columns]
    elif hasattr(data, "items") and hasattr(data, "select"):
        cols = list(data.items)
    else:
        raise DataError(
            "data must be a DataFrame or ResponseTable whose columns are named as the model's "
            f"observed variables; got {type(data).__name__} (wrap arrays in pd.DataFrame "
            "with column names)"
        )
    absent = [v for v in pt.observed if v not in cols]
    if absent:
        v = absent[0]
        where = next(((ln, c) for lh, rh, ln, c in zip(pt.lhs, pt.rhs, pt.line, pt.col, strict=True)
                      if v in (lh, rh) and ln > 0), (0, 0))
        what = (f"variable {v!r} is neither a column of the data nor a factor of the model"
                f"{f' ({len(absent)} unknown: ' + ', '.join(map(repr, absent)) + ')' if len(absent) > 1 else ''}"
                "; check the spelling against the data's columns")
        if where[0]:
            raise syntax_error(pt.source.split("\n"), where[0], where[1], what)
        raise SpecificationError(what)
    m = _fast_numeric(data, list(pt.observed))
    if m is None:
        m = as_item_matrix(data, items=list(pt.observed), min_rows=2, what="data")
    if missing == "fiml":
        empty = np.flatnonzero(np.isnan(m.values).all(axis=1))
        if empty.size:
            warn(
                f"{empty.size} row(s) have no response on the model's variables (first: "
                f"{m.row(int(empty[0]))}) and are left out, as lavaan does",
                PsychovalWarning, stacklevel=3,
            )
            keep = np.setdiff1d(np.arange(m.n), empty)
            m = ItemMatrix(values=np.ascontiguousarray(m.values[keep]), items=m.items,
                           ids=m.ids[keep])
        return m, MissingInfo("fiml", m.n + empty.size, m.n,
                              tuple(int(i) for i in empty), bool(np.isnan(m.values).any()))
    policy = "listwise" if missing == "listwise" else "raise"
    m, info = apply_missing(m, policy, allowed=("listwise", "raise"))
    if info.rows_dropped and len(info.rows_dropped) > 0.05 * info.n_total:
        warn(
            f"listwise deletion dropped {len(info.rows_dropped)} of {info.n_total} rows "
            f"({100 * len(info.rows_dropped) / info.n_total:.1f}%) with a missing response; "
            "missing='fiml' uses every row (full-information ML)",
            PsychovalWarning, stacklevel=3,
        )
    return m, info


def _check_summary_options(est_name: str, ordered: Any, group: Any, sample_cov: Any,
                           fourth: bool = False) -> None:
    """What a fit from :class:`Moments` / :class:`PatternMoments` (or a dask / Spark
    collection) can do: ML (listwise or FIML) in one group, and MLR (listwise) from
    :class:`FourthMoments` (``fourth``: those or a collection); the rest needs the rows."""
    if sample_cov is not None:
        raise SpecificationError("give either data= or sample_cov=, not both")
    if ordered is not None and ordered is not False:
        refuse("ordered=", "the polychoric correlations and their weight matrix need each "
               "pair's category table and fourth-order moments, which are not accumulated")
    if est_name != "ML" and not (fourth and est_name == "MLR") and est_name not in _LATER:
        refuse(f"estimator={est_name!r}", "robust standard errors and scaled tests need "
               "each respondent's score, i.e. fourth-order moments, which Moments and "
               "PatternMoments do not hold; summarise the chunks with pv.FourthMoments "
               "(estimator='MLR'), use estimator='ML', or fit on the rows")
    if group is not None:
        refuse("group=", "summarise each group's rows separately (one Moments per group); "
               "multiple-group fits from summaries are not available")


def _summary_input(pt: ParTable, data: Any, fiml: bool, text: str, robust: bool = False):
    """Merged summaries -> (complete-case covariance DataFrame, FIML pattern statistics or,
    under MLR, the complete-data pattern statistics with their fourth-order sums; rows
    given, rows used)."""
    from psychoval.stats.core._moments import Moments as PairwiseCov
    from psychoval.stats.core._suffstats import as_moments

    items = list(pt.observed)
    if is_distributed(data):
        if robust and fiml:
            refuse_fiml()
        data = distributed_summary(data, FourthMoments if robust else PatternMoments,
                                   items=items)
    fourth = None
    if isinstance(data, FourthMoments):
        if fiml:
            refuse_fiml()
        fourth = data.select(items)
        if robust and fourth.q is None:
            raise DataError(
                "these FourthMoments hold more items than the model and some answers are "
                "missing, so the rows complete on the model's items are unknown; summarise "
                "the chunks with FourthMoments of the model's items only")
        data = fourth.moments()
    if isinstance(data, PatternMoments):
        pm = data.select(items)
        if fiml:
            observed, freq, means, scatter = pm.pattern_stats()
            if pm.n_empty:
                warn(f"{pm.n_empty} row(s) have no response on the model's variables and are "
                     "left out, as lavaan does", PsychovalWarning, stacklevel=4)
            pw = pm.pairwise()
            available = PairwiseCov(cov=pw.cov(), n_pairwise=pw.npair, means=pw.means(),
                                    complete=pw.complete)
            pat = _fiml.patterns_from_stats(observed, freq, means, scatter, available)
            return pat, pm.n, pat.n
        mo = pm.listwise()
        n_total = pm.n
    else:
        if fiml:
            refuse("missing='fiml'", "full-information ML needs the sums of each "
                   "missingness pattern: summarise the chunks with PatternMoments")
        mo = as_moments(data, items=items)
        n_total = mo.n
        if not mo.complete and mo.c1 is None:
            raise DataError("these Moments hold more items than the model and some answers "
                            "are missing, so the rows complete on the model's items are "
                            "unknown; summarise the chunks with PatternMoments (exact for "
                            "any subset of items) or with Moments of the model's items only")
    n = mo.n_complete
    if n < 2:
        raise DataError(f"listwise deletion leaves {n} complete row(s) of {n_total}; at least "
                        "2 are needed (missing='fiml' with PatternMoments uses every row)")
    if n_total - n > 0.05 * n_total:
        warn(f"listwise deletion dropped {n_total - n} of {n_total} rows "
             f"({100 * (n_total - n) / n_total:.1f}%) with a missing response; "
             "missing='fiml' uses every row (full-information ML)",
             PsychovalWarning, stacklevel=4)
    if robust:  # one complete pattern: its moments and the fourth-order sums behind MLR
        pat = _fiml.patterns_from_stats(
            np.ones((1, len(items)), dtype=bool), [n], mo.means("listwise")[None],
            (mo.cov("listwise") * (n - 1))[None], fourth=fourth)
        return pat, n_total, n
    cov = pd.DataFrame(mo.cov("listwise"), index=items, columns=items)
    return cov, n_total, n


def _fast_numeric(data: Any, items: list[str]) -> ItemMatrix | None:
    """The common case without the per-cell text checks: a DataFrame whose model columns all
    have numeric dtypes (and unique names). Anything else goes through as_item_matrix."""
    if not isinstance(data, pd.DataFrame) or data.columns.duplicated().any():
        return None
    sub = data[items]
    if not all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
               for t in sub.dtypes) or len(sub) < 2:
        return None
    values = np.ascontiguousarray(sub.to_numpy(dtype="float64", na_value=np.nan))
    if np.isinf(values).any():
        return None  # as_item_matrix names the cell
    return ItemMatrix(values=values, items=tuple(items), ids=data.index)


def _admissibility(pt: ParTable, model: MatrixModel, x: np.ndarray) -> list[str]:
    problems = []
    vals = model.row_values(x)
    for lhs, op, rhs, val in zip(pt.lhs, pt.op, pt.rhs, vals, strict=True):
        if op == "~~" and lhs == rhs and val < 0:
            kind = "residual variance" if lhs in pt.observed else "variance"
            problems.append(f"{lhs} ~~ {rhs} = {val:.4g} is a negative {kind} (Heywood case)")
    mats, a, la, v = model.parts(x)
    if len(pt.latent) > 1 or v.size:
        w = np.linalg.eigvalsh(v)
        if w.min() <= 0 and not any("variance" in p and p.split(" ~~ ")[0] in pt.latent
                                    for p in problems):
            sd = np.sqrt(np.abs(np.diag(v)))
            with np.errstate(divide="ignore", invalid="ignore"):
                cor = np.abs(v / np.outer(sd, sd))
            np.fill_diagonal(cor, 0.0)
            a, b = np.unravel_index(int(np.nanargmax(cor)), cor.shape)
            r_ab = v[a, b] / (sd[a] * sd[b])
            problems.append(
                "the covariance matrix of the factors is not positive definite (smallest "
                f"eigenvalue {w.min():.4g}); largest correlation: {pt.latent[a]} ~~ "
                f"{pt.latent[b]} = {r_ab:.4g}"
            )
    return problems


def cfa(
    model: Any,
    data: Any = None,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    std_lv: bool = False,
    group: str | None = None,
    group_equal: Sequence[str] | str | None = None,
    group_partial: Sequence[str] | str | None = None,
    information: str | None = None,
    sample_cov: Any = None,
    sample_nobs: int | None = None,
    ordered: Sequence[str] | str | bool | None = None,
    parameterization: str = "delta",
    id_cat: str = "default",
) -> CFAResult:
    """Confirmatory factor analysis by maximum likelihood (lavaan 0.6.14's ``cfa()``).

    Estimates a measurement model in which each factor explains the covariances of its
    indicators. ``estimator="ML"`` assumes multivariate normal responses; ``"MLR"`` keeps the
    ML estimates and adds standard errors and a test statistic that are robust to
    non-normality (Likert items). ``missing="fiml"`` uses every observed response
    (full-information ML) instead of deleting incomplete rows; ``group=`` fits the model in
    several groups at once, with ``group_equal=`` constraints for measurement invariance.

    Parameters
    ----------
    model : str, dict or Framework
        lavaan model syntax (``"visual =~ x1 + x2 + x3"``, ``~~`` covariances, ``1*x1``
        fixed values, ``NA*x1`` freed, labels for equality, second-order factors, ``~``
        regressions among factors, ``x1 ~ 1`` intercepts, ``start()``, ``c()`` per group,
        ``==`` / ``<`` / ``>`` linear constraints and ``:=`` defined parameters; the table in
        docs/cfa.md), a dict ``{factor: [items]}``, or any object with a ``to_model()``
        method returning either.
    data : DataFrame or ResponseTable, optional
        Rows are respondents, columns include the model's observed variables.
        Or merged sufficient statistics without rows: :class:`Moments` (complete-case ML)
        or :class:`PatternMoments` (listwise for any subset of items, and ``missing="fiml"``),
        or :class:`FourthMoments` (complete rows, also ``estimator="MLR"``), or a dask
        DataFrame / Array or Spark DataFrame (summarised per partition on its cluster, see
        docs/scale.md): ML and MLR in one group, the same
        fit as the concatenated rows; FIML-MLR, ``ordered=`` and ``group=`` need the rows.
    estimator : {"ML", "MLR", "WLSMV", "DWLS", "ULSMV", "ULS", "WLS"}
        ``"ML"``: normal-theory maximum likelihood (divisor N). ``"MLR"``: the same estimates
        with Huber-White (sandwich) standard errors, the Yuan-Bentler (Mplus) scaled
        chi-square and the ``_scaled`` / ``_robust`` fit measures (lavaan's MLR).
        ``"WLSMV"`` / ``"DWLS"`` need ``ordered=``: diagonally weighted least squares on the
        thresholds and polychoric correlations (delta parameterization); WLSMV with robust
        standard errors and the mean-and-variance adjusted test, DWLS with lavaan's standard
        ones. ``"ULSMV"`` / ``"ULS"``: unweighted least squares (W = I) on the same
        statistics, with robust SEs and the scaled-shifted test (ULSMV) or the standard ones
        (ULS); ``"WLS"``: full weight matrix ``W = Gamma^-1`` (thresholds then differ from the
        sample ones), standard SEs and test. With ``ordered=`` and the default estimator,
        WLSMV is used as in lavaan. Returns an :class:`OrdinalCFAResult` with lavaan's
        ``fitMeasures()`` set for that estimator.
    missing : {"listwise", "fiml", "ml", "pairwise", "raise"}
        ``"listwise"`` (lavaan's default) drops rows with a missing model variable and warns
        when that is more than 5% of the rows. ``"fiml"`` (alias ``"ml"``, lavaan's
        ``missing = "ml"``): casewise likelihood with a mean structure, the saturated model
        by EM, the baseline by FIML; rows with no response at all are left out with a
        warning. ``"raise"`` names the first missing cell. With ``ordered=`` (WLSMV / DWLS)
        the choices are ``"listwise"`` (the default), ``"pairwise"`` and ``"raise"``;
        ``"pairwise"`` is lavaan's ``missing = "pairwise"``: each item's thresholds from the
        rows that answered it, each polychoric correlation from the rows that answered both
        items, the NACOV from scores that are zero for missing responses; only rows with no
        response to any model item are left out (with a warning), and N (``n_obs``, lavaan's
        ``nobs``) counts the rest. FIML is not available for ordered indicators.
    std_lv : bool
        False: each factor is scaled by its first indicator (loading fixed at 1). True:
        factor variances fixed at 1, all loadings free.
    group : str, optional
        Column of ``data`` holding the group of each row; groups are ordered by first
        appearance (as lavaan). Turns the mean structure on.
    group_equal : str or list of str, optional
        lavaan's ``group.equal``: any of ``"loadings"``, ``"intercepts"``, ``"means"``,
        ``"residuals"``, ``"residual.covariances"``, ``"lv.variances"``,
        ``"lv.covariances"``, ``"regressions"``. Equal intercepts free the latent means of
        groups 2, 3, ...
    group_partial : str or list of str, optional
        lavaan's ``group.partial``: parameters left free in every group although
        ``group_equal`` constrains their kind, written as the model's rows (``"visual =~
        x2"``, ``"x3 ~1"``, ``"x1 ~~ x1"``); partial invariance. For ordered indicators:
        loadings, and item intercepts (``"x3 ~1"``: that item's intercept is free in groups
        2, 3, ... - with equal thresholds - as in Wu & Estabrook's 2016 partial scalar
        model).
    information : {"expected", "observed"}, optional
        Information matrix for the standard errors (and the bread of the MLR sandwich).
        Default as lavaan: expected for complete-data ML, observed for FIML and MLR.
    sample_cov : DataFrame, optional
        Instead of ``data``: the unbiased (divisor N - 1) covariance matrix with variable
        names as index and columns; rescaled by (N - 1)/N as lavaan does (ML only).
    sample_nobs : int, optional
        N for ``sample_cov``.
    ordered : True or list of str, optional
        lavaan's ``ordered =``: the indicators are ordered categories (integer codes);
        ``True`` for all of them. Indicators not listed are continuous (lavaan's numeric
        ones, single group): mean and variance in the sample statistics, polyserial /
        Pearson correlations, a free intercept and residual variance; no omega / AVE for
        such a fit. No ``sample_cov``. With ``group=`` (delta parameterization) ``group_equal``
        also takes ``"thresholds"`` (lavaan's measurement invariance of ordinal items: the
        scales and latent means of groups 2, 3, ... are then free).
    parameterization : {"delta", "theta"}
        lavaan's ``parameterization =`` for ordered indicators. ``"delta"`` (the default):
        the latent responses have variance 1 and the items' residual variances are ``1 -
        R^2``. ``"theta"``: the residual variances are fixed at 1 and the scales ``~*~``
        (``1 / sd`` of each latent response) are derived; the fit, the fit measures and
        the standardized solution are those of the delta parameterization, the raw
        loadings and thresholds are on the theta scale. Refused for continuous indicators.
    id_cat : {"default", "Wu.Estabrook.2016"}
        semTools ``measEq.syntax``'s ``ID.cat`` for several groups of ordered indicators.
        ``"default"``: lavaan's ``group.equal`` rules (item intercepts fixed at 0).
        ``"Wu.Estabrook.2016"``: with equal thresholds but without ``"intercepts"`` in
        ``group_equal`` the item intercepts of groups 2, 3, ... are free and the latent
        means fixed at 0 (Wu & Estabrook 2016), the models of their thresholds and
        thresholds + loadings steps; adding ``"intercepts"`` gives lavaan's model again.

    Returns
    -------
    CFAResult

    Raises
    ------
    SpecificationError
        Syntax errors (line, column and caret), unknown variables, factors without a scale
        or with too few indicators, more free parameters than moments, an unknown option, or
        an information matrix that is singular at the starting values.
    DataError
        Data that cannot be used (non-numeric, too few rows, a covariance matrix that is not
        positive definite, a group column with missing values).

    Notes
    -----
    Minimises ``F = sum_g (n_g/N) F_g`` with ``F_g = log|Sigma| + tr(S Sigma^-1) - log|S| - p
    [+ (ybar - mu)' Sigma^-1 (ybar - mu)]`` (FIML: ``F_g = 2 (logL_H1 - logL) / n_g`` from
    the casewise likelihood by missingness pattern) by Fisher scoring from lavaan's
    starting values (FABIN 3 loadings, half the observed variances, factor variances 0.05).
    ``chisq = N F``. Standard errors ``Cov = I^-1 / N``; under MLR
    ``Cov = E^-1 B0 E^-1 / N`` with ``B0`` the outer product of casewise scores, and
    ``chisq_scaled = chisq / c`` with the Yuan-Bentler (Mplus) factor
    ``c = (tr(A1^-1 B1) - tr(B0 E^-1)) / df``. Fit measures as ``lavaan::fitMeasures``
    (robust CFI/TLI/RMSEA: Brosseau-Liard & Savalei; under FIML the corrected versions of
    Zhang & Savalei). A solution with a negative variance or a non-positive-definite factor
    covariance matrix is returned with ``admissible=False`` and an ImproperSolutionWarning;
    a fit that does not converge with ``converged=False`` and a ConvergenceWarning.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software, 48(2), 1-36. https://doi.org/10.18637/jss.v048.i02

    Joreskog, K. G. (1969). A general approach to confirmatory maximum likelihood factor
    analysis. Psychometrika, 34(2), 183-202. https://doi.org/10.1007/BF02289343

    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
    In Advanced structural equation modeling (pp. 243-277). Erlbaum.

    Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and
    covariance structure analysis with nonnormal missing data. Sociological Methodology,
    30(1), 165-200. https://doi.org/10.1111/0081-1750.00078

    Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for
    nonnormality. Multivariate Behavioral Research, 49(5), 460-470.
    https://doi.org/10.1080/00273171.2014.933697

    Examples
    --------
    The Holzinger-Swineford three-factor model of lavaan's tutorial
    (``fitMeasures(cfa(HS.model, data = HolzingerSwineford1939))``):

    >>> import psychoval as pv
    >>> from psychoval.datasets import load_holzinger_swineford
    >>> hs = load_holzinger_swineford()
    >>> hs_model = ("visual =~ x1 + x2 + x3\\n textual =~ x4 + x5 + x6\\n"
    ...             " speed =~ x7 + x8 + x9")
    >>> fit = pv.cfa(hs_model, hs)
    >>> fm = fit.fit_measures
    >>> round(fm["chisq"], 3), fm["df"], round(fm["cfi"], 3), round(fm["tli"], 3)
    (85.306, 24, 0.931, 0.896)
    >>> round(fm["rmsea"], 3), round(fm["rmsea_ci_lower"], 3), round(fm["rmsea_ci_upper"], 3)
    (0.092, 0.071, 0.114)
    >>> round(fm["srmr"], 3)
    0.065

    MLR (``cfa(HS.model, data = HolzingerSwineford1939, estimator = "MLR")``):

    >>> fm = pv.cfa(hs_model, hs, estimator="MLR").fit_measures
    >>> round(fm["chisq_scaled"], 3), round(fm["cfi_robust"], 3), round(fm["rmsea_robust"], 3)
    (87.132, 0.93, 0.092)

    Metric invariance across schools (``group = "school", group.equal = "loadings"``):

    >>> fit = pv.cfa(hs_model, hs, group="school", group_equal=["loadings"])
    >>> round(fit.fit_measures["chisq"], 3), fit.fit_measures["df"]
    (124.044, 54)
    """
    from psychoval.stats.sem import _engine as eng
    from psychoval.stats.sem._cfa_ordinal_groups import check_id_cat

    est_name = str(estimator).upper()
    if isinstance(data, ResponsePatterns):  # a table of ordinal items: ordinal CFA
        if ordered is False:
            raise SpecificationError(
                "ordered=False is not available from ResponsePatterns: they hold ordinal items "
                "and fit them as ordered (WLSMV, ...); summarise continuous scores with "
                "Moments or PatternMoments for ML")
        ordered = True if ordered is None else ordered
    summary = (isinstance(data, (Moments, PatternMoments, FourthMoments))
               or is_distributed(data))
    if summary:
        _check_summary_options(est_name, ordered, group, sample_cov,
                               isinstance(data, FourthMoments) or is_distributed(data))
    id_cat_key = check_id_cat(id_cat)
    parameterization = check_choice("parameterization", str(parameterization).lower(),
                                    ("delta", "theta"))
    if ordered is not None and ordered is not False or est_name in _ORDINAL_ESTIMATORS:
        if est_name == "ML" and estimator == "ML":  # the default: lavaan switches to WLSMV
            est_name = "WLSMV"
        if est_name not in _ORDINAL_ESTIMATORS:
            raise SpecificationError(
                f"estimator={estimator!r} is not available for ordered indicators; use "
                "'WLSMV' (the default with ordered=), 'DWLS', 'ULSMV', 'ULS' or 'WLS'")
        if ordered is None or ordered is False:
            raise SpecificationError(
                f"estimator={estimator!r} needs ordered indicators: give ordered=True (every "
                "indicator) or ordered=[items]")
        return _cfa_ordinal(model, data, ordered=ordered, estimator=est_name,
                            missing=missing, std_lv=std_lv, group=group,
                            group_equal=group_equal, information=information,
                            sample_cov=sample_cov, parameterization=parameterization,
                            id_cat=id_cat_key, group_partial=group_partial)
    if parameterization != "delta":
        raise SpecificationError(
            f"parameterization={parameterization!r} applies to ordered indicators only (the "
            "scale of their latent responses); give ordered= or leave it at 'delta'")
    if id_cat_key != "default":
        raise SpecificationError(
            f"id_cat={id_cat!r} applies to several groups of ordered indicators only; give "
            "ordered= and group=, or leave it at 'default'")
    if est_name in _LATER:
        raise SpecificationError(f"estimator={estimator!r} is not available yet "
                                 f"({_LATER[est_name]}); use estimator='ML' or 'MLR'")
    check_choice("estimator", est_name, _ESTIMATORS)
    check_choice("missing", missing, ("listwise", "raise", "fiml", "ml"))
    fiml = missing in ("fiml", "ml")
    miss = "fiml" if fiml else missing
    equal = eng.check_group_equal(group_equal)
    if equal and group is None:
        raise SpecificationError("group_equal needs group= (the column holding the groups)")
    if information is not None:
        check_choice("information", information, ("expected", "observed"))
    robust = est_name == "MLR"
    info_kind = information or ("observed" if (fiml or robust) else "expected")
    formulas, text = model_to_formulas(model)
    multi = group is not None
    meanstructure = fiml or multi
    pt1 = build_partable(formulas, std_lv=bool(std_lv), meanstructure=meanstructure,
                         source=text)
    meanstructure = pt1.meanstructure  # an intercept (x1 ~ 1) in the syntax asks for means
    if not multi:
        _single_group_modifiers(pt1)
    p = len(pt1.observed)
    frame = None
    rows_dropped: tuple[int, ...] = ()
    if (data is None) == (sample_cov is None):
        raise SpecificationError("give either data= or sample_cov= (with sample_nobs=), "
                                 "not both and not neither")
    pat_stats = None
    if summary:
        pat_stats, n_total, fit_n = _summary_input(pt1, data, fiml, text, robust)
        if not fiml and not robust:  # the complete-case covariance matrix: the sample_cov route
            fit = cfa(model, sample_cov=pat_stats, sample_nobs=fit_n, std_lv=std_lv,
                      information=information)
            return dataclasses.replace(fit, n_total=n_total)
        data = None
        sample_cov = "patterns"
    labels: list[Any] = [None]
    if data is not None:
        m, info = _data_matrix(pt1, data, miss)
        rows_dropped = info.rows_dropped
        n_total = info.n_total
        x = m.values
        frame = None  # the rows used, for factor scores (made below from the blocks' copy)
        if multi:
            if not isinstance(data, pd.DataFrame) or group not in data.columns:
                raise SpecificationError(f"group={group!r} is not a column of the data")
            gcol = data[group].to_numpy()
            keep = np.setdiff1d(np.arange(len(gcol)), np.array(rows_dropped, dtype=int))
            gcol = gcol[keep]
            na = pd.isna(gcol)
            if na.any():
                raise DataError(f"group column {group!r} is missing in row "
                                f"{m.row(int(np.flatnonzero(na)[0]))}; drop those rows or "
                                "give them a group")
            labels = list(pd.unique(gcol))
            if len(labels) < 2:
                raise DataError(f"group column {group!r} has only one value ({labels[0]!r}); "
                                "fit without group=")
            xs = [x[gcol == lab] for lab in labels]
        else:
            xs = [x]
        if not fiml:
            for xg in xs:
                mean_g = xg.mean(axis=0)
                xc = xg - mean_g
                _check_pd(pt1, xc.T @ xc / len(xg))
    elif pat_stats is not None:
        xs = None
    else:
        if robust or fiml or multi or meanstructure:
            raise SpecificationError("sample_cov= supports estimator='ML' with complete data "
                                     "in one group without intercepts; MLR, FIML, groups and "
                                     "intercepts (~ 1) need the raw data")
        if not isinstance(sample_cov, pd.DataFrame):
            raise DataError("sample_cov must be a DataFrame with the variable names as index "
                            "and columns (lavaan needs dimnames too)")
        if sample_nobs is None or int(sample_nobs) < 2:
            raise DataError(f"sample_nobs must be the number of respondents (>= 2); got "
                            f"{sample_nobs!r}")
        absent = [v for v in pt1.observed if v not in sample_cov.columns or
                  v not in sample_cov.index]
        if absent:
            raise SpecificationError(
                f"variable(s) {', '.join(map(repr, absent))} of the model are not in sample_cov; "
                "check the spelling against its row and column names"
            )
        n = int(sample_nobs)
        c = sample_cov.loc[list(pt1.observed), list(pt1.observed)].to_numpy(dtype=float)
        if not np.allclose(c, c.T, rtol=1e-10, atol=1e-12):
            raise DataError("sample_cov is not symmetric")
        cov = c * (n - 1) / n
        _check_pd(pt1, cov)
        n_total = n
        xs = None
    n_groups = len(labels)
    partial = eng.check_group_partial(group_partial, pt1)
    if partial and not equal:
        raise SpecificationError("group_partial frees parameters that group_equal constrains; "
                                 "give group_equal= too (lavaan's group.partial)")
    pt = eng.multigroup_partable(pt1, n_groups, equal, partial) if multi else pt1
    nmom = p * (p + 1) // 2 + (p if meanstructure else 0)
    check_identification(pt1, nmom)
    if pt.n_free > n_groups * nmom:
        raise SpecificationError(
            f"the model has {pt.n_free} free parameters but the data give only "
            f"{n_groups * nmom} moments, so it is not identified; fix parameters")
    if pat_stats is not None:
        blocks = [eng.Block.from_patterns(pt, pat_stats, fiml=fiml)]
        _check_pd(pt1, blocks[0].h1.sigma, "EM (saturated FIML)" if fiml else "sample")
    elif xs is None:
        blocks = [eng.Block.from_cov(pt, cov, n)]
    else:
        blocks = [eng.Block.make(pt, g + 1, xg, fiml=fiml, label=labels[g])
                  for g, xg in enumerate(xs)]
        # one copy of the data per fit, shared with the blocks (and with other fits of the
        # same items through the engine's DataSide)
        frame = pd.DataFrame(blocks[0].x if not multi else x, index=m.ids,
                             columns=list(pt1.observed), copy=False)
        del xs, x
        if fiml:
            for b in blocks:
                _check_pd(pt1, b.h1.sigma, "EM (saturated FIML)")
    disc = eng.GroupSum(blocks)
    n = disc.n
    x0 = eng.start_x(pt, blocks)
    if not np.isfinite(disc.value(x0)):
        raise SpecificationError("the model-implied covariance matrix at the starting values "
                                 "is not positive definite; give start() values")

    def rebuild(table: ParTable):
        bl = [b.with_table(table) for b in blocks]
        x_start = eng.start_x(table, bl)
        return eng.GroupSum(bl), (eng.em_moment_start(table, bl, x_start)[0] if fiml
                                  else x_start)

    start_restarts: tuple[str, ...] = ()
    if fiml:
        x1, start_restarts = eng.em_moment_start(pt, blocks, x0)
        if np.isfinite(disc.value(x1)):
            x0 = x1
        else:
            start_restarts = ()

    # linear equalities that shared labels and fixed values do not express (2*a == b,
    # a + b + c == 3): fitted in their null space, x = K z + x_p
    linear = linear_system(pt)
    reparam = None
    if linear is None:
        est = fit_with_restarts(pt, disc, x0, rebuild=rebuild)
    else:
        est, reparam = fit_linear(disc, x0, linear)

    # inequality constraints (a > 0, a < b): an active set - the most violated one is made an
    # equality and the model refitted, until none is violated; then an active one that the
    # others made slack (its refit without it satisfies it) is dropped (lavaan's optimum)
    def refit(table: ParTable):
        bl = [b.with_table(table) for b in blocks]
        d = eng.GroupSum(bl)
        start = eng.start_x(table, bl)
        system = linear_system(table)
        if system is None:
            return bl, d, fit_with_restarts(table, d, start, rebuild=rebuild), None, None
        return bl, d, *fit_linear(d, start, system), system

    while pt.constraints:
        k_viol = violated_inequality(pt, est.x)
        if k_viol is not None:
            pt = assign_free(pt, (*pt.active, k_viol))
            blocks, disc, est, reparam, linear = refit(pt)
            continue
        for k in pt.active if len(pt.active) > 1 else ():
            trial = assign_free(pt, tuple(a for a in pt.active if a != k))
            attempt = refit(trial)
            if violated_inequality(trial, attempt[2].x) is None:
                pt = trial
                blocks, disc, est, reparam, linear = attempt
                break
        else:
            break
    xhat, converged, iters = est.x, est.converged, est.iterations
    if est.structural:
        raise SpecificationError(
            "the model is not identified: the information matrix is singular at the solution "
            "(in the model's own and in the std.lv parameterization, and at points around "
            f"it); the parameter(s) {', '.join(est.singular)} cannot be determined from the "
            "data - fix one of them or add constraints")
    f, g, h, _ = disc.pieces(xhat)
    fr = disc.fractions
    # lavaan counts an active inequality as a free parameter, an equality as a constraint
    q = pt.n_free
    npar = (q + sum(simple_shape(pt.constraints[k]) is not None for k in pt.active)
            - (linear[2] if linear is not None else 0))
    df_ = n_groups * nmom - npar
    # lavaan's lav_model_test: each group's N F_g, a negative one (rounding: a saturated
    # model whose EM moments stop 1e-8 short of the maximum) set to 0
    chisq = float(sum(max(b.n * b.disc.value(xhat), 0.0) for b in blocks))

    identified = not est.confirmed_singular

    def information_and_vcov() -> tuple[np.ndarray, np.ndarray]:
        if info_kind == "expected" and not fiml:
            info = 0.5 * h
        else:
            info = eng.information_theta(blocks, fr, xhat, info_kind)
        if not identified:
            return info, np.full_like(info, np.nan)
        try:
            inv = np.linalg.inv(info) if reparam is None else reparam.project(info)
            return info, inv / n
        except np.linalg.LinAlgError:
            return info, np.full_like(info, np.nan)

    logl = float(sum(b.loglik(xhat) for b in blocks))
    logl_sat = float(sum(b.h1.loglik for b in blocks))
    bchisq = float(sum(2 * (b.h1.loglik - b.baseline_loglik()) for b in blocks))
    bases = ([_fiml.independence_model(b.pat) for b in blocks] if (robust or fiml)
             else None)
    bdf = n_groups * p * (p - 1) // 2
    scaled = bscaled = None
    deferred_vcov = None
    if robust:
        info_unit, _ = information_and_vcov()
        rp = eng.robust_pieces(blocks, fr, xhat, info_unit, chisq=chisq, df=df_,
                               npar_rows=eng.n_free_rows(pt), bases=bases,
                               baseline_chisq=bchisq, baseline_df=bdf,
                               null_space=None if reparam is None else reparam.k)
        vcov, scaled, bscaled = rp.vcov, rp.scaled, rp.baseline_scaled
    elif fiml:
        # the observed information under FIML is computed when standard errors are asked for
        info_unit = vcov = None
        deferred_vcov = information_and_vcov
    else:
        info_unit, vcov = information_and_vcov()

    def corrected() -> _robust.FimlCorrected:
        if n_groups == 1:
            b = blocks[0]
            mu_, sig_ = b.implied(xhat)
            return _robust.fiml_corrected(b.pat, mu=mu_, sigma=sig_, delta=b.delta(xhat),
                                          df=df_, h1=b.h1, baseline=bases[0],
                                          version="V3" if robust else "V6",
                                          wm=b.h1_observed,
                                          jm=b.h1_firstorder if robust else None)
        return eng.fiml_corrected_groups(blocks, fr, xhat, df_, "V3" if robust else "V6")

    def measures(corr) -> dict[str, Any]:
        return eng.fit_measures(blocks, xhat, fmin=0.5 * f, chisq=chisq, npar=npar, df=df_,
                                logl=logl, logl_sat=logl_sat, baseline_chisq=bchisq,
                                baseline_df=bdf, scaled=scaled, baseline_scaled=bscaled,
                                fiml=corr)

    if fiml and not robust:
        # lavaan's FIML-corrected robust indices need the (p + p*)^2 information of the
        # saturated model: computed on first access of one of them
        fm = eng.FitMeasures.deferred(measures, lambda: measures(corrected()))
    else:
        fm = eng.FitMeasures(measures(corrected() if fiml else None))
    problems = []
    if not identified:
        problems.append(
            "the model is not identified at this solution: the information matrix is singular "
            "(in the model's own and in the std.lv parameterization, though not at points "
            f"around it) along {', '.join(est.singular)} - these data do not determine them "
            "(e.g. a group factor with too little variance); the fit statistics stand, the "
            "estimates are not unique and have no standard errors")
    for b in blocks:
        for prob in _admissibility(pt, b.model, xhat):
            tag = f" (group {b.label})" if multi else ""
            if prob + tag not in problems:
                problems.append(prob + tag)
    if not converged:
        tried = f" and restarts ({', '.join(est.restarts)})" if est.restarts else ""
        near = (f"; the information is nearly singular along {', '.join(est.singular)}: the "
                "model may be empirically unidentified (e.g. a factor carried by one item)"
                if est.singular else "")
        warn(f"the CFA did not converge after {iters} iterations{tried} (largest "
                      f"gradient {np.max(np.abs(g)) / 2:.2g}; {est.reason}){near}; the "
                      "estimates are not trustworthy", ConvergenceWarning, stacklevel=2)
    for prob in problems:
        warn(f"inadmissible solution: {prob}", ImproperSolutionWarning, stacklevel=2)
    lvn = list(pt.latent)
    ovn = list(pt.observed)

    def mats(b):
        sigma, _ = b.model.implied(xhat)
        _, _, _, v = b.model.parts(xhat)
        lv_sd = np.sqrt(np.abs(np.diag(v)))
        with np.errstate(divide="ignore", invalid="ignore"):
            cor = v / np.outer(lv_sd, lv_sd)
        return (pd.DataFrame(b.cov, index=ovn, columns=ovn),
                pd.DataFrame(sigma, index=ovn, columns=ovn),
                pd.DataFrame(v, index=lvn, columns=lvn),
                pd.DataFrame(cor, index=lvn, columns=lvn))

    per = [mats(b) for b in blocks]
    if multi:
        keys = [str(lab) for lab in labels]
        s_cov, i_cov, c_lv, r_lv = ({k: t[i] for k, t in zip(keys, per, strict=True)}
                                    for i in range(4))
    else:
        s_cov, i_cov, c_lv, r_lv = per[0]
    return CFAResult(
        model=text, estimator=est_name, missing=miss, observed=pt.observed,
        latent=pt.latent, n_obs=n, n_total=n_total, rows_dropped=rows_dropped,
        converged=bool(converged), iterations=int(iters), admissible=not problems,
        problems=tuple(problems), fit_measures=fm,
        sample_cov=s_cov, implied_cov=i_cov, cov_lv=c_lv, cor_lv=r_lv,
        group=group, group_labels=tuple(str(lab) for lab in labels) if multi else (),
        group_equal=equal, information=info_kind, identified=identified,
        group_partial=tuple(" ".join(k).strip() for k in partial) if multi else (),
        restarts=tuple(f"em_start:{r}" for r in start_restarts) + est.restarts,
        solution_from=(est.method if not fiml else est.method.replace(
            "lavaan's starting values", "lavaan's starting values, then ML on the EM moments")),
        _pt=pt, _x=xhat, _vcov=vcov, _info=info_unit, _deferred_vcov=deferred_vcov, _data=frame,
        _null_space=None if reparam is None else reparam.k,
        _mean=blocks[0].mean, _blocks=tuple(blocks),
    )


def _continuous_only(pt: ParTable) -> None:
    """Raise on ==, <, > or := in a model of ordered indicators (fitted for ML / MLR only)."""
    extra = pt.constraints + pt.defined
    if extra:
        f = extra[0]
        raise syntax_error(pt.source.split("\n"), f.line, f.col,
                           f"'{f.op}' (constraints and defined parameters) is fitted for "
                           "continuous indicators (estimator ML or MLR) only; drop ordered= "
                           "or express equality through shared labels (a*x1 + a*x2)")


def _single_group_modifiers(pt: ParTable) -> None:
    """Raise on a c(...) modifier with more than one value in a one-group fit."""
    for r, mods in enumerate(pt.group_mods):
        if len(mods) > 1:
            raise syntax_error(pt.source.split("\n"), pt.line[r], pt.col[r],
                               f"c(...) gives {len(mods)} values (one per group) but this "
                               "fit has one group; give group= or a single value")


def _check_pd(pt: ParTable, cov: np.ndarray, what: str = "sample") -> None:
    """Raise DataError when the (sample or EM) covariance matrix is singular, naming the items:
    zero variances, or the items of the smallest eigenvector of the correlation matrix when
    it is below 1e-7 (an item is, to 7 digits, a linear combination of the others - e.g. a
    duplicated column). FIML's EM adds a 1e-8 ridge to a singular matrix, hence the bound."""
    d = np.diag(cov)
    bad = [pt.observed[i] for i in np.flatnonzero(~(d > 0))]
    if bad:
        hint = f"item(s) {', '.join(bad)} have zero variance"
    else:
        s = np.sqrt(d)
        w, v = np.linalg.eigh(cov / np.outer(s, s))
        if w[0] >= 1e-7:
            return
        vec = np.abs(v[:, 0])
        names = [pt.observed[i] for i in np.argsort(-vec) if vec[i] > 0.1][:6]
        hint = (f"{', '.join(names)} are linearly dependent: smallest eigenvalue of their "
                f"correlation matrix {max(w[0], 0.0):.1e}; e.g. a duplicated column")
    raise DataError(f"the {what} covariance matrix of the model's variables is not positive "
                    f"definite ({hint}); remove or fix the offending items")
