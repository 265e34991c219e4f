"""Nested-model likelihood-ratio tests with lavaan's ``lavTestLRT`` semantics.

Engine-agnostic: each model enters as a :class:`ModelTest` (its standard chi-square, degrees
of freedom, AIC, BIC and, under MLR, the scaling factor of its Yuan-Bentler / Satorra-Bentler
test). ``pv.compare(fit_a, fit_b, ...)`` builds these from fitted CFA results and calls
:func:`lrt_table`.

Semantics pinned to lavaan 0.6.14:

* models are sorted by degrees of freedom (a stable sort: ties keep the given order);
* plain test: ``Chisq diff = T_0 - T_1``, ``Df diff = r_0 - r_1``, p from the chi-square, and the
  RMSEA of the difference ``sqrt(G) sqrt(max(dT/(N dr) - 1/N, 0))``;
* scaled (method ``"satorra.bentler.2001"``, lavaan's default for MLR / MLM):
  ``c_d = (r_0 c_0 - r_1 c_1) / (r_0 - r_1)`` (``c_1 = 1`` when ``r_1 = 0``),
  ``Chisq diff = (T_0 - T_1) / c_d``; no RMSEA column. A negative ``c_d`` is reported as NaN;
* scaled-shifted (method ``"satorra.2000"``, lavaan's default for WLSMV / ULSMV fits, whose
  test is "scaled.shifted"): with the less restricted model's Jacobian ``Delta_1`` (thresholds
  and correlations over its parameters), weight ``W``, information ``P = Delta_1' W Delta_1``
  and ``Gamma``, the restrictions ``A`` (rows spanning the orthogonal complement of ``H =
  Delta_1^+ Delta_0``, lavaan's ``lav_test_diff_A(method = "delta")``), ``U = W Delta_1
  P^-1 A' (A P^-1 A')^+ A P^-1 Delta_1' W``, ``a = sqrt(m / tr((U Gamma)^2))``, ``b = m - a
  tr(U Gamma)`` and ``Chisq diff = a (T_0 - T_1) + b`` on ``m = r_0 - r_1`` df (Satorra
  2000, doi:10.1007/978-1-4615-4603-0_17; lavaan's ``lav_test_diff_Satorra2000``);
* equal degrees of freedom give p = NaN and a warning; a more restricted model fitting better
  (a difference below ``-eps^(1/3)``) gives a warning that the models may not be nested.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._results import Result, Summary
from psychoval.exceptions import PsychovalWarning, SpecificationError, warn

__all__ = ["ModelTest", "CompareResult", "lrt_table", "satorra_bentler_2001", "compare",
           "model_test"]


@dataclasses.dataclass(frozen=True)
class ModelTest:
    """What a nested-model test needs from one fitted model."""

    name: str
    chisq: float
    df: int
    aic: float = math.nan
    bic: float = math.nan
    scaling_factor: float | None = None
    n: int = 0
    groups: int = 1
    #: for the scaled-shifted difference: (Delta, W (diagonal vector or matrix), Gamma, the
    #: observed variables); None for other fits
    wls: tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]] | None = None


def satorra_2000(m1: ModelTest, m0: ModelTest) -> tuple[float, int, float, float]:
    """lavaan's scaled-shifted difference test of nested (D)WLS / ULS fits (see module):
    ``(T_delta, df_delta, a, b)``; model 1 the less restricted."""
    from scipy.linalg import null_space

    m = m0.df - m1.df
    if m == 0:
        return m0.chisq - m1.chisq, 0, math.nan, math.nan
    d1, w, gamma, _ = m1.wls
    d0 = m0.wls[0]
    wm = w if w.ndim == 2 else np.diag(w)
    h = np.linalg.pinv(d1) @ d0
    a_mat = null_space(h.T).T  # rows: an orthonormal basis of the complement of span(H)
    p_inv = np.linalg.inv(d1.T @ wm @ d1)
    apa = a_mat @ p_inv @ a_mat.T
    eps = math.sqrt(np.finfo(float).eps)
    keep = ~((np.abs(apa.sum(axis=0)) < eps) & (np.abs(apa.sum(axis=1)) < eps))
    a_mat = a_mat[keep]
    mid = p_inv @ a_mat.T @ np.linalg.pinv(a_mat @ p_inv @ a_mat.T) @ a_mat @ p_inv
    wd = wm @ d1
    ug = wd @ mid @ wd.T @ gamma
    a = math.sqrt(m / float(np.sum(ug * ug.T)))
    b = m - a * float(np.trace(ug))
    return (m0.chisq - m1.chisq) * a + b, m, a, b


def satorra_bentler_2001(t1: float, r1: int, c1: float, t0: float, r0: int,
                         c0: float) -> tuple[float, float, int]:
    """Satorra-Bentler (2001) scaled difference of nested models.

    Model 1 is the less restricted (fewer df), model 0 the more restricted. Returns
    ``(T_delta, c_d, df_delta)`` with ``c_d = (r0 c0 - r1 c1) / (r0 - r1)`` and
    ``T_delta = (T0 - T1) / c_d`` (lavaan's ``lav_test_diff_SatorraBentler2001``).
    """
    if r1 == 0:
        c1 = 1.0
    m = r0 - r1
    if m == 0:
        return t0 - t1, math.nan, 0
    cd = (r0 * c0 - r1 * c1) / m
    if cd < 0:
        warn(f"the scaling factor of the difference test is negative ({cd:.6g}); "
                      "the scaled difference is not available (NaN) - the models may not be "
                      "nested, or use a strictly positive Satorra-Bentler (2010) test",
                      PsychovalWarning, stacklevel=2)
        cd = math.nan
    return (t0 - t1) / cd, cd, m


@dataclasses.dataclass(frozen=True, repr=False)
class CompareResult(Result):
    """Nested-model comparison table (lavTestLRT), one row per model sorted by df.

    Columns follow lavaan's table: ``df``, ``aic``, ``bic``, ``chisq`` (the standard statistic
    even under MLR, as lavaan), ``chisq_diff``, ``rmsea`` (plain test only), ``df_diff``,
    ``pvalue`` (lavaan's ``Pr(>Chisq)``); the first row's differences are NaN.
    """

    models: tuple[str, ...]
    df: np.ndarray
    aic: np.ndarray
    bic: np.ndarray
    chisq: np.ndarray
    chisq_diff: np.ndarray
    df_diff: np.ndarray
    pvalue: np.ndarray
    rmsea: np.ndarray
    scaling_factor_diff: np.ndarray
    method: str
    scaled: bool

    _schema: ClassVar[str] = "psychoval.compare/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"models": len(self.models), "method": self.method,
                "pvalue": float(self.pvalue[-1]) if len(self.pvalue) else math.nan}

    def to_frame(self) -> pd.DataFrame:
        cols: dict[str, Any] = {"model": list(self.models), "df": self.df, "aic": self.aic,
                                "bic": self.bic, "chisq": self.chisq,
                                "chisq_diff": self.chisq_diff}
        if not self.scaled:
            cols["rmsea"] = self.rmsea
        cols.update({"df_diff": self.df_diff, "pvalue": self.pvalue})
        if self.scaled:
            cols["scaling_factor_diff"] = self.scaling_factor_diff
        return pd.DataFrame(cols)

    def summary(self) -> Summary:
        title = ("Scaled chi-squared difference test" if self.scaled
                 else "Chi-squared difference test")
        notes = [f"method = {self.method}"]
        if self.scaled:
            notes.append("The chisq column holds the standard (unscaled) statistics; the "
                         "robust difference is a function of two standard statistics.")
        return Summary(title=title, facts=(("models", len(self.models)),),
                       tables=(("", self.to_frame().set_index("model")),), notes=tuple(notes))


_METHODS = ("default", "standard", "satorra.bentler.2001", "satorra.2000")


def lrt_table(models: Sequence[ModelTest], *, method: str = "default") -> CompareResult:
    """Likelihood-ratio (chi-square difference) tests of nested models, as ``lavTestLRT``.

    Parameters
    ----------
    models : at least two :class:`ModelTest`; either all have a ``scaling_factor`` (MLR) or
        none has (a model with df = 0 may lack one).
    method : ``"default"`` (Satorra-Bentler 2001 when the tests are scaled by a factor,
        Satorra 2000 scaled-shifted when they are scaled-shifted (WLSMV / ULSMV), else the
        plain difference), ``"standard"`` (plain difference even for scaled fits: lavaan
        would switch to it with a warning only when no test is scaled),
        ``"satorra.bentler.2001"`` or ``"satorra.2000"`` (scaled-shifted fits only).

    Returns
    -------
    CompareResult

    Raises
    ------
    SpecificationError
        Fewer than two models, an unknown method, or only some models scaled.
    """
    if method not in _METHODS:
        raise SpecificationError(f"method={method!r} is not one of "
                                 f"{', '.join(map(repr, _METHODS))}")
    models = list(models)
    if len(models) < 2:
        raise SpecificationError(f"compare needs at least two models, got {len(models)}")
    order = sorted(range(len(models)), key=lambda i: models[i].df)  # stable, as R's order()
    mods = [models[i] for i in order]
    is_scaled = [m.scaling_factor is not None and not _isnan(m.scaling_factor) for m in mods]
    if all(s or m.df == 0 for s, m in zip(is_scaled, mods, strict=True)) and any(is_scaled):
        scaled = True
    elif not any(is_scaled):
        scaled = False
    else:
        names = ", ".join(m.name for m, s in zip(mods, is_scaled, strict=True) if not s)
        raise SpecificationError(f"some models (but not all) have scaled test statistics: "
                                 f"{names} lack a scaling factor; fit all with the same estimator")
    shifted = scaled and all(m.wls is not None for m in mods)
    if scaled and not shifted and any(m.wls is not None for m in mods):
        raise SpecificationError("ordinal (WLSMV / ULSMV) fits can be compared only with "
                                 "ordinal fits of the same estimator")
    if method == "satorra.2000" and scaled and not shifted:
        raise SpecificationError("method='satorra.2000' needs (D)WLS / ULS fits with a "
                                 "scaled-shifted test (estimator WLSMV or ULSMV)")
    if shifted and method == "satorra.bentler.2001":
        raise SpecificationError("method='satorra.bentler.2001' needs scaled (MLR) fits; "
                                 "WLSMV / ULSMV fits use 'satorra.2000' (the default)")
    if shifted:
        items = {m.wls[3] for m in mods}
        if len(items) > 1 or len({m.n for m in mods}) > 1:
            raise SpecificationError("the ordinal fits compared must use the same items and "
                                     "the same rows (their Gamma is the same)")
    if method == "standard":
        scaled = shifted = False
    elif method in ("satorra.bentler.2001", "satorra.2000") and not scaled:
        warn("method='satorra.bentler.2001' but no robust test statistics were used; "
                      "switching to the standard chi-square difference test",
                      PsychovalWarning, stacklevel=2)
    use_sb = scaled and not shifted
    k = len(mods)
    df = np.array([m.df for m in mods], dtype=float)
    stat = np.array([m.chisq for m in mods], dtype=float)
    d_stat = np.full(k, np.nan)
    d_df = np.full(k, np.nan)
    d_stat[1:] = np.diff(stat)
    d_df[1:] = np.diff(df)
    rmsea = np.full(k, np.nan)
    n = mods[0].n
    groups = mods[0].groups
    if not scaled:
        for i in range(1, k):
            if d_df[i] > 0 and n > 0:
                rmsea[i] = math.sqrt(max((d_stat[i] / n) / d_df[i] - 1.0 / n, 0.0)) \
                    * math.sqrt(groups)
            elif d_df[i] <= 0:
                rmsea[i] = 0.0
    if np.any(d_stat[1:] < -np.finfo(float).eps ** (1 / 3)):
        warn("Some restricted models fit better than less restricted models; either "
                      "these models are not nested, or the less restricted model failed to "
                      f"reach a global optimum. Smallest difference = {np.nanmin(d_stat[1:])}",
                      PsychovalWarning, stacklevel=2)
    c_diff = np.full(k, np.nan)
    if shifted:
        for i in range(1, k):
            d_stat[i], d_df[i], _a, _b = satorra_2000(mods[i - 1], mods[i])
    if use_sb:
        for i in range(1, k):
            m1, m0 = mods[i - 1], mods[i]
            t, cd, m = satorra_bentler_2001(m1.chisq, m1.df, _c(m1), m0.chisq, m0.df, _c(m0))
            d_stat[i], c_diff[i], d_df[i] = t, cd, m
    from scipy.stats import chi2

    with np.errstate(invalid="ignore"):
        pval = np.where(np.isnan(d_stat) | np.isnan(d_df), np.nan,
                        chi2.sf(np.nan_to_num(d_stat), np.maximum(np.nan_to_num(d_df), 0)))
    same = np.flatnonzero(d_df == 0)
    if same.size:
        pval[same] = np.nan
        warn("some models have the same degrees of freedom: "
                      + ", ".join(mods[i].name for i in same), PsychovalWarning, stacklevel=2)
    return CompareResult(models=tuple(m.name for m in mods), df=df,
                         aic=np.array([m.aic for m in mods], dtype=float),
                         bic=np.array([m.bic for m in mods], dtype=float), chisq=stat,
                         chisq_diff=d_stat, df_diff=d_df, pvalue=pval, rmsea=rmsea,
                         scaling_factor_diff=c_diff,
                         method=("satorra.2000" if shifted else "satorra.bentler.2001"
                                 if use_sb else "standard"),
                         scaled=scaled)


def _isnan(x: float) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _c(m: ModelTest) -> float:
    return 1.0 if m.scaling_factor is None else float(m.scaling_factor)


def model_test(fit: Any, name: str) -> ModelTest:
    """A :class:`ModelTest` from a fitted model with a lavaan-named ``fit_measures`` mapping
    (``chisq``, ``df``, ``aic``, ``bic``, ``ntotal`` and, for MLR, ``chisq_scaling_factor``)."""
    fm = getattr(fit, "fit_measures", None)
    if fm is None:
        raise SpecificationError(f"{name} is not a fitted model (no fit_measures); pass the "
                                 "results of pv.cfa")
    ordinal = getattr(fit, "_ordinal", None)  # an OrdinalCFAResult's fit (lavaan's @Model)
    sf = fm.get("chisq_scaling_factor")
    if ordinal is not None:
        wls = None
        if "chisq_scaled" in fm:  # WLSMV / ULSMV: the scaled-shifted test
            wls = (ordinal.delta, ordinal.weight, ordinal.sample.nacov,
                   tuple(ordinal.sample.items))
        return ModelTest(name=name, chisq=float(fm["chisq"]), df=int(fm["df"]),
                         scaling_factor=None if wls is None else 1.0,
                         n=int(ordinal.sample.nobs), wls=wls)
    return ModelTest(name=name, chisq=float(fm["chisq"]), df=int(fm["df"]),
                     aic=float(fm.get("aic", math.nan)), bic=float(fm.get("bic", math.nan)),
                     scaling_factor=None if sf is None else float(sf),
                     n=int(fm.get("ntotal", 0)), groups=int(getattr(fit, "n_groups", 1)))


def compare(*fits: Any, names: Sequence[str] | None = None,
            method: str = "default") -> CompareResult:
    """Likelihood-ratio tests of nested CFA models, as lavaan's ``lavTestLRT``.

    Parameters
    ----------
    *fits : fitted models (``pv.cfa`` results), in any order; they are sorted by df.
    names : optional model names (default ``model_1``, ``model_2``, ... in argument order).
    method : ``"default"`` (Satorra-Bentler 2001 for MLR fits, the plain difference otherwise),
        ``"standard"`` or ``"satorra.bentler.2001"``.

    Returns
    -------
    CompareResult

    Raises
    ------
    SpecificationError
        Fewer than two fits, names of the wrong length, an unknown method, or a mix of
        scaled (MLR) and unscaled fits.

    Notes
    -----
    Plain test: ``dT = T_0 - T_1`` on ``r_0 - r_1`` df. Scaled (Satorra & Bentler, 2001,
    doi:10.1007/BF02296192): ``c_d = (r_0 c_0 - r_1 c_1)/(r_0 - r_1)``, ``dT / c_d``.
    A warning is given when a fit did not converge (lavaan's "not all models converged").
    """
    if names is None:
        names = [f"model_{i + 1}" for i in range(len(fits))]
    names = list(names)
    if len(names) != len(fits):
        raise SpecificationError(f"names has {len(names)} entries for {len(fits)} models")
    for fit, nm in zip(fits, names, strict=True):
        if getattr(fit, "converged", True) is False:
            warn(f"{nm} did not converge; its likelihood-ratio test is not trustworthy",
                          PsychovalWarning, stacklevel=2)
    return lrt_table([model_test(f, nm) for f, nm in zip(fits, names, strict=True)],
                     method=method)
