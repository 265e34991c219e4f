"""The measurement-invariance ladder: ``pv.invariance`` and its :class:`InvarianceResult`.

Each step of the ladder is a multi-group ``pv.cfa`` fit with lavaan's ``group.equal`` set
for that level, tested against the step before it with ``pv.compare`` (lavTestLRT:
Satorra-Bentler 2001 under MLR, the scaled-shifted difference of Satorra 2000 under
WLSMV / ULSMV) and judged by the changes in CFI, RMSEA and SRMR against the cutoffs of
Chen (2007) and Cheung & Rensvold (2002) (:data:`FIT_CUTOFFS`, criteria as data with their
citations). Issue 19 asks for the decision per step next to the statistics, so the cutoffs
live here rather than in ``verdicts``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import SpecificationError
from psychoval.stats.sem._cfa import cfa
from psychoval.stats.sem._cfa_ordinal_groups import check_id_cat
from psychoval.stats.sem._lrt import CompareResult, compare
from psychoval.stats.sem._partial import partial_search

__all__ = ["invariance", "InvarianceResult", "FitCutoff", "FIT_CUTOFFS", "step_decision",
           "LEVELS_CONTINUOUS", "LEVELS_ORDINAL"]

#: level -> lavaan ``group.equal`` constraints it adds (continuous indicators); a level's
#: set is the union over the levels up to it in the ladder asked for
LEVELS_CONTINUOUS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
    "lv.variances": ("lv.variances",),
    "means": ("means",),
}
#: the same for ordered indicators (WLSMV, delta parameterization), Wu & Estabrook's (2016)
#: ladder as semTools' ``measEq.syntax(ID.cat = "Wu.Estabrook.2016")`` writes it: equal
#: thresholds (item intercepts and scales of groups 2.. free), then loadings, then intercepts
LEVELS_ORDINAL: dict[str, tuple[str, ...]] = {
    "configural": (),
    "thresholds": ("thresholds",),
    "metric": ("thresholds", "loadings"),
    "scalar": ("thresholds", "loadings", "intercepts"),
    "lv.variances": ("lv.variances",),
    "means": ("means",),
}
#: lavaan's own ``group.equal`` ladder for ordered indicators (``id_cat="default"``)
LEVELS_ORDINAL_LAVAAN: dict[str, tuple[str, ...]] = {
    "configural": (),
    "thresholds": ("thresholds",),
    "scalar": ("thresholds", "loadings"),
    "lv.variances": ("lv.variances",),
    "means": ("means",),
}
_DEFAULT_CONTINUOUS = ("configural", "metric", "scalar", "strict")
_DEFAULT_ORDINAL = ("configural", "thresholds", "metric", "scalar")
_DEFAULT_ORDINAL_LAVAAN = ("configural", "thresholds", "scalar")


@dataclasses.dataclass(frozen=True)
class FitCutoff:
    """Largest acceptable worsening of the fit indices at one kind of step (changes are
    ``this step - previous step``): ``delta_cfi >= cfi``, ``delta_rmsea <= rmsea``,
    ``delta_srmr <= srmr``."""

    applies_to: str
    cfi: float
    rmsea: float
    srmr: float
    source: str


FIT_CUTOFFS: dict[str, FitCutoff] = {
    # a step that adds equal loadings
    "loadings": FitCutoff(
        "a step adding equal loadings", cfi=-0.010, rmsea=0.015, srmr=0.030,
        source="Chen (2007), doi:10.1080/10705510701301834 (n > 300); delta CFI also "
               "Cheung & Rensvold (2002), doi:10.1207/S15328007SEM0902_5"),
    # any other step (intercepts, thresholds, residuals, latent variances / means)
    "other": FitCutoff(
        "a step adding equal intercepts, thresholds, residuals, latent variances or means",
        cfi=-0.010, rmsea=0.015, srmr=0.010,
        source="Chen (2007), doi:10.1080/10705510701301834 (n > 300); delta CFI also "
               "Cheung & Rensvold (2002), doi:10.1207/S15328007SEM0902_5"),
}

_DECIDE_BY = ("both", "test", "fit")


def step_decision(*, pvalue_diff: float, delta_cfi: float, delta_rmsea: float,
                  delta_srmr: float, cutoff: FitCutoff, significance_level: float = 0.05,
                  decide_by: str = "both") -> dict[str, Any]:
    """The decision on one step of the ladder.

    The test fails when ``pvalue_diff < significance_level``; the fit changes fail when any
    of ``delta_cfi < cutoff.cfi``, ``delta_rmsea > cutoff.rmsea``, ``delta_srmr >
    cutoff.srmr`` (a NaN change or p-value fails nothing). ``decide_by`` chooses which of the
    two make the step fail (``"both"``: either of them). Returns ``test_fails``,
    ``fit_fails``, ``crossed`` (the changes past their cutoff, comma-separated),
    ``decision`` (``"holds"`` / ``"fails"``) and ``reason`` (``""``, ``"test"``, ``"fit"``
    or ``"test and fit"``: which of the criteria in use triggered).
    """
    check_choice("decide_by", decide_by, _DECIDE_BY)
    test_fails = bool(pvalue_diff < significance_level)  # NaN compares False
    crossed = [name for name, bad in (("delta_cfi", delta_cfi < cutoff.cfi),
                                      ("delta_rmsea", delta_rmsea > cutoff.rmsea),
                                      ("delta_srmr", delta_srmr > cutoff.srmr)) if bad]
    fit_fails = bool(crossed)
    use_test = decide_by in ("both", "test") and test_fails
    use_fit = decide_by in ("both", "fit") and fit_fails
    reason = ("test and fit" if use_test and use_fit else "test" if use_test
              else "fit" if use_fit else "")
    return {"test_fails": test_fails, "fit_fails": fit_fails, "crossed": ", ".join(crossed),
            "decision": "fails" if reason else "holds", "reason": reason}


@dataclasses.dataclass(frozen=True, repr=False)
class InvarianceResult(Result):
    """The measurement-invariance ladder (``pv.invariance``).

    Attributes
    ----------
    ladder : DataFrame
        One row per level, in ladder order: ``level``, ``group_equal`` (lavaan's
        ``group.equal``, comma-separated), ``npar``, ``chisq``, ``df``, ``pvalue`` (the
        standard test), ``chisq_scaled``, ``pvalue_scaled`` (MLR / WLSMV; NaN for ML),
        ``cfi``, ``tli``, ``rmsea`` (the versions named in ``fit_indices``), ``srmr``,
        ``chisq_diff``, ``df_diff``, ``pvalue_diff`` (``pv.compare`` of this step against
        the previous one), ``delta_cfi``, ``delta_rmsea``, ``delta_srmr`` (this step minus
        the previous), ``test_fails``, ``fit_fails``, ``crossed``, ``decision``
        (``"baseline"`` for the first level, ``"holds"``, ``"fails"`` or ``"not
        converged"``), ``reason`` and ``after_failure`` (a step below failed, so this one
        is shown but not held).
    highest : str or None
        The highest level that holds (every step up to it holds); None when the first fit
        did not converge.
    partial_level, partial_decision : str or None
        With ``partial=True`` and a failed metric / scalar / strict step: that level and
        whether its partial model holds (``"holds"``) or the search stopped without it
        (``"fails"``); None otherwise.
    freed : DataFrame or None
        The parameters the search freed, one row per (parameter, group): ``order``,
        ``lhs``, ``op``, ``rhs``, ``kind``, ``x2``, ``df``, ``pvalue`` (its score test when
        it was freed), ``group``, ``est``, ``se`` (the group's estimate in the final
        partial model) and ``diff`` (the group's estimate minus the mean of the other
        groups' estimates).
    partial_search : DataFrame or None
        One row per iteration of the search: ``n_freed``, ``freed`` (so far), the step's
        test and fit changes against the level below (as the ladder), ``decision``, then
        the best candidate (``best``, ``best_x2``, ``best_pvalue``), ``n_candidates`` and
        ``bonferroni_level`` (``significance_level / n_candidates``).
    partial_fit : CFAResult or None
        The final partial model.
    id_cat : str
        Ordered indicators: ``"wu.estabrook.2016"`` or ``"default"`` (lavaan's
        ``group.equal`` ladder); ``"default"`` for continuous ones.
    fits : dict
        level -> the fitted ``CFAResult`` / ``OrdinalCFAResult``.
    tests : dict
        level -> the ``CompareResult`` of that step against the previous (not for the first).
    """

    ladder: pd.DataFrame
    highest: str | None
    levels: tuple[str, ...]
    group: str
    group_labels: tuple[Any, ...]
    estimator: str
    missing: str
    ordinal: bool
    fit_indices: str
    test_method: str
    significance_level: float
    decide_by: str
    n_obs: int
    n_total: int
    rows_dropped: tuple[int, ...]
    fits: Mapping[str, Any] = dataclasses.field(repr=False, compare=False)
    tests: Mapping[str, CompareResult] = dataclasses.field(repr=False, compare=False)
    partial_level: str | None = None
    partial_decision: str | None = None
    partial_method: str = ""
    freed: pd.DataFrame | None = None
    partial_search: pd.DataFrame | None = None
    partial_fit: Any = dataclasses.field(default=None, repr=False, compare=False)
    id_cat: str = "default"

    _schema: ClassVar[str] = "psychoval.invariance/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"levels": len(self.levels), "highest": self.highest,
                "estimator": self.estimator, "decide_by": self.decide_by}

    def to_frame(self) -> pd.DataFrame:
        """The ladder, one row per level (a copy)."""
        return self.ladder.copy()

    def summary(self) -> Summary:
        cols = ["npar", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "chisq_diff", "df_diff",
                "pvalue_diff", "delta_cfi", "delta_rmsea", "delta_srmr", "decision", "reason"]
        table = self.ladder.set_index("level")[cols]
        notes = [f"Fit indices: {self.fit_indices}; difference test: {self.test_method}; "
                 f"a step fails by the test when pvalue_diff < {self.significance_level:g}, "
                 f"by the fit changes when one crosses its cutoff (decide_by = "
                 f"{self.decide_by!r})."]
        for c in FIT_CUTOFFS.values():
            notes.append(f"Cutoffs for {c.applies_to}: delta_cfi >= {c.cfi:.3f}, "
                         f"delta_rmsea <= {c.rmsea:.3f}, delta_srmr <= {c.srmr:.3f} "
                         f"({c.source}).")
        after = self.ladder.loc[self.ladder["after_failure"], "level"].tolist()
        if after:
            notes.append(f"Fitted after a failed step (not held): {', '.join(after)}.")
        tables: list[tuple[str, pd.DataFrame]] = [("Ladder", table)]
        if self.partial_level is not None:
            notes.append(f"Partial {self.partial_level} invariance: {self.partial_decision} "
                         f"({self.partial_method}).")
            if self.freed is not None and len(self.freed):
                tables.append(("Freed parameters", self.freed.set_index(
                    ["order", "lhs", "op", "rhs", "group"])[["x2", "pvalue", "est", "se",
                                                             "diff"]]))
        if self.ordinal:
            notes.append(
                "Ordered indicators: Wu & Estabrook's (2016) ladder (semTools measEq.syntax "
                "ID.cat = 'Wu.Estabrook.2016'); see pv.invariance Notes."
                if self.id_cat == "wu.estabrook.2016" else
                "Ordered indicators: lavaan's group.equal ladder (thresholds, then "
                "thresholds + loadings = Wu & Estabrook's (2016) thresholds + loadings + "
                "intercepts model); see pv.invariance Notes.")
        return Summary(
            title="Measurement invariance",
            facts=(("group", self.group), ("groups", len(self.group_labels)),
                   ("estimator", self.estimator), ("missing", self.missing),
                   ("n", self.n_obs), ("highest level held", self.highest or "none")),
            tables=tuple(tables), notes=tuple(notes))


def _table(ordinal: bool, id_cat: str) -> dict[str, tuple[str, ...]]:
    if not ordinal:
        return LEVELS_CONTINUOUS
    return LEVELS_ORDINAL if id_cat == "wu.estabrook.2016" else LEVELS_ORDINAL_LAVAAN


def _levels(levels: Sequence[str] | None, ordinal: bool, id_cat: str) -> tuple[str, ...]:
    table = _table(ordinal, id_cat)
    if levels is None:
        if not ordinal:
            return _DEFAULT_CONTINUOUS
        return _DEFAULT_ORDINAL if id_cat == "wu.estabrook.2016" else _DEFAULT_ORDINAL_LAVAAN
    if isinstance(levels, str):
        levels = (levels,)
    levels = tuple(levels)
    if not levels:
        raise SpecificationError("levels is empty; give at least one level, e.g. "
                                 "('configural', 'metric')")
    for lv in levels:
        if lv not in table:
            hint = ""
            if ordinal and lv == "metric":
                hint = ("; lavaan's group.equal cannot express Wu & Estabrook's (2016) "
                        "metric step (equal thresholds and loadings with free item "
                        "intercepts): use id_cat='Wu.Estabrook.2016' (the default)")
            elif ordinal and lv == "strict":
                hint = ("; residual variances are not parameters in the delta "
                        "parameterization (semTools' measEq.syntax refuses them too)")
            raise SpecificationError(
                f"unknown level {lv!r} for {'ordered' if ordinal else 'continuous'} "
                f"indicators; choose from {', '.join(map(repr, table))}{hint}")
    order = list(table)
    pos = [order.index(lv) for lv in levels]
    if any(b <= a for a, b in zip(pos, pos[1:], strict=False)):
        raise SpecificationError(f"levels {levels!r} are not in ladder order without "
                                 f"repeats; the order is {', '.join(order)}")
    return levels


def _group_equal_sets(levels: tuple[str, ...], ordinal: bool,
                      id_cat: str = "default") -> list[tuple[str, ...]]:
    table = _table(ordinal, id_cat)
    out: list[tuple[str, ...]] = []
    acc: list[str] = []
    for lv in levels:
        acc += [c for c in table[lv] if c not in acc]
        out.append(tuple(acc))
    return out


def _index_kind(estimator: str) -> tuple[str, str]:
    """(suffix of the CFI / TLI / RMSEA used, its name)."""
    if estimator == "MLR":
        return "_robust", "robust (Brosseau-Liard & Savalei) CFI, TLI, RMSEA"
    if estimator in ("WLSMV", "ULSMV"):
        return "_scaled", "scaled CFI, TLI, RMSEA (lavaan's .scaled)"
    return "", "standard CFI, TLI, RMSEA"


def _num(fm: Mapping[str, Any], key: str) -> float:
    v = fm.get(key)
    return math.nan if v is None else float(v)


def invariance(
    model: Any,
    data: Any,
    *,
    group: str,
    ordered: Sequence[str] | str | bool | None = None,
    estimator: str | None = None,
    missing: str | None = None,
    levels: Sequence[str] | None = None,
    significance_level: float = 0.05,
    decide_by: str = "both",
    partial: bool = False,
    max_free: int | None = None,
    id_cat: str = "Wu.Estabrook.2016",
) -> InvarianceResult:
    """Measurement invariance across groups: the configural-to-strict ladder of nested
    multi-group CFA fits, each step tested against the previous one.

    Each level is ``pv.cfa(model, data, group=group, group_equal=[...])`` with lavaan's
    ``group.equal`` constraints of that level; each step is compared with the one below by
    the (scaled) chi-square difference test and by the changes in CFI, RMSEA and SRMR, and
    held or failed. The ladder is held up to the first failed step; the later steps are
    still fitted and shown.

    Parameters
    ----------
    model : str, dict or Framework
        The measurement model, as for ``pv.cfa``.
    data : DataFrame or ResponseTable
        Rows are respondents; the model's items and the ``group`` column.
    group : str
        Column holding each row's group (groups in order of first appearance, as lavaan).
    ordered : True or list of str, optional
        Ordered (categorical) indicators, as ``pv.cfa``; switches to the ordinal ladder
        (WLSMV).
    estimator : str, optional
        Default ``"MLR"`` for continuous indicators (robust to non-normal Likert items),
        ``"WLSMV"`` with ``ordered=``. Any estimator ``pv.cfa`` takes.
    missing : str, optional
        Default ``"fiml"`` for continuous indicators (as ``pv.validate``: no respondent is
        lost; with complete data the estimates and tests are those of listwise ML, the
        robust CFI / RMSEA use the FIML versions of Zhang & Savalei), ``"listwise"`` with
        ``ordered=`` (lavaan's default). Give ``missing="listwise"`` for lavaan's ``cfa()``
        default.
    levels : sequence of str, optional
        The ladder, in order. Continuous: any of ``"configural"`` (no constraint),
        ``"metric"`` (loadings), ``"scalar"`` (loadings, intercepts), ``"strict"`` (loadings,
        intercepts, residuals), ``"lv.variances"``, ``"means"`` (each adds its constraint to
        those below it); default ``("configural", "metric", "scalar", "strict")``.
        Ordered: ``"configural"``, ``"thresholds"``, ``"scalar"`` (thresholds, loadings),
        ``"lv.variances"``, ``"means"``; default ``("configural", "thresholds", "scalar")``.
    significance_level : float
        The difference test rejects when its p-value is below this (default .05).
    decide_by : {"both", "test", "fit"}
        What makes a step fail: the test or the fit changes (``"both"``, the default), only
        the test, or only the fit changes. Both are always computed and reported.
    partial : bool
        When the first failed step is metric, scalar or strict, search for a partially
        invariant model (see Notes): free the constrained parameter of that step with the
        largest score test, one at a time, until the step holds. Continuous indicators
        only. Default False.
    max_free : int, optional
        Most parameters the search may free; default half the items (rounded down).
    id_cat : {"Wu.Estabrook.2016", "default"}
        Ordered indicators: the identification of the ladder (semTools' ``ID.cat``; see
        Notes). Ignored for continuous indicators.

    Returns
    -------
    InvarianceResult

    Raises
    ------
    SpecificationError
        An unknown or out-of-order level, an unknown ``decide_by``, a significance level
        outside (0, 1), and whatever ``pv.cfa`` raises for the model.
    DataError
        As ``pv.cfa`` (e.g. a group column with missing values).

    Notes
    -----
    Difference test (``pv.compare``): Satorra & Bentler (2001) scaled difference under MLR,
    Satorra's (2000) scaled-shifted difference under WLSMV / ULSMV (lavaan's lavTestLRT
    defaults), the plain difference under ML. Fit changes ``delta = this step - previous``
    with the cutoffs of :data:`FIT_CUTOFFS` (Chen 2007 for n > 300: delta CFI >= -.010,
    delta RMSEA <= .015, delta SRMR <= .030 for a step that adds equal loadings, <= .010 for
    any other step; Cheung & Rensvold 2002: delta CFI >= -.01). A step fails by the fit
    changes when any of the three crosses its cutoff (Chen pairs the CFI drop with the RMSEA
    or SRMR change; this is the stricter reading). Under MLR the robust CFI / TLI / RMSEA
    are used, under WLSMV / ULSMV the scaled ones (lavaan's robust versions are NA once the
    scales of groups 2.. are free).

    Ordered indicators (delta parameterization), ``id_cat="Wu.Estabrook.2016"`` (the
    default): Wu & Estabrook's (2016) ladder as semTools 0.5.6 ``measEq.syntax(ID.cat =
    "Wu.Estabrook.2016")`` fits it - ``"thresholds"`` (equal thresholds; the item intercepts
    and scales of groups 2.. free, latent means 0), ``"metric"`` (+ equal loadings),
    ``"scalar"`` (+ equal intercepts: the intercepts fixed at 0 again and the latent means of
    groups 2.. free), each tested by lavTestLRT's scaled-shifted difference (on bfi A1-A5,
    C1-C5 by gender: 68, 98, 106 and 114 df, every fit measure and test as semTools).
    ``id_cat="default"``: lavaan's own ``group.equal`` sets instead - ``"thresholds"``
    (equal thresholds, the scales and latent means of groups 2.. free: 106 df on bfi) and
    ``"scalar"`` (equal thresholds and loadings, the same model as Wu & Estabrook's
    scalar); lavaan's ``group.equal`` cannot express Wu & Estabrook's metric step.

    Partial invariance (``partial=True``): the candidates are the row sets the failed step
    constrains (loadings for metric, item intercepts for scalar, residual variances for
    strict; for ordered indicators loadings and intercepts - a failed thresholds step is
    not searched). Ordered indicators have no lavaan score test to reproduce: each
    candidate is released in turn, refitted, and its scaled-shifted difference test against
    the current model takes the score test's place (same stopping rule). At each iteration the step is tested against the level below as in the ladder
    (same test, cutoffs and ``decide_by``); if it fails, every candidate gets the score test
    of releasing its equality across groups (lavaan's ``lavTestScore`` univariate test, on
    ``G - 1`` df, expected information - lavaan's ordinary score test, which it also uses
    under MLR), and the one with the largest statistic is freed (lavaan's
    ``group.partial``) and the model refitted. The search stops when the step holds
    (``partial_decision="holds"``), when the best score test is not significant at
    ``significance_level / m`` with ``m`` the candidates still constrained (Bonferroni), or
    when ``max_free`` parameters are free (``"fails"``). Only the first failed step is
    searched; the levels above it are the ladder's fits (without the freed parameters).

    References
    ----------
    Byrne, B. M., Shavelson, R. J., & Muthen, B. (1989). Testing for the equivalence of
    factor covariance and mean structures: The issue of partial measurement invariance.
    Psychological Bulletin, 105(3), 456-466. https://doi.org/10.1037/0033-2909.105.3.456

    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
    invariance. Structural Equation Modeling, 14(3), 464-504.
    https://doi.org/10.1080/10705510701301834

    Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing
    measurement invariance. Structural Equation Modeling, 9(2), 233-255.
    https://doi.org/10.1207/S15328007SEM0902_5

    Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for
    moment structure analysis. Psychometrika, 66(4), 507-514.
    https://doi.org/10.1007/BF02296192

    Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
    different levels of invariance for ordered categorical outcomes. Psychometrika, 81(4),
    1014-1045. https://doi.org/10.1007/s11336-016-9506-0

    Examples
    --------
    Holzinger-Swineford by school, MLR with listwise deletion (lavaan: ``cfa(m, hs, group =
    "school", group.equal = c("loadings", "intercepts"), estimator = "MLR")`` for the scalar
    step, ``lavTestLRT(metric, scalar)`` for its test):

    >>> import psychoval as pv
    >>> from psychoval.datasets import load_holzinger_swineford
    >>> hs = load_holzinger_swineford()
    >>> m = "visual =~ x1 + x2 + x3\\n textual =~ x4 + x5 + x6\\n speed =~ x7 + x8 + x9"
    >>> res = pv.invariance(m, hs, group="school", missing="listwise")
    >>> res.highest
    'metric'
    >>> lad = res.ladder.set_index("level")
    >>> float(round(lad.loc["scalar", "chisq_diff"], 3)), int(lad.loc["scalar", "df_diff"])
    (40.838, 6)
    """
    ordinal = ordered is not None and ordered is not False
    idc = check_id_cat(id_cat) if ordinal else "default"
    est = (estimator if estimator is not None else "WLSMV" if ordinal else "MLR")
    miss = missing if missing is not None else ("listwise" if ordinal else "fiml")
    check_choice("decide_by", decide_by, _DECIDE_BY)
    alpha = float(significance_level)
    if not 0.0 < alpha < 1.0:
        raise SpecificationError(f"significance_level must be in (0, 1), got "
                                 f"{significance_level!r}")
    if not isinstance(group, str) or not group:
        raise SpecificationError(f"group must name the column holding the groups, got "
                                 f"{group!r}")
    lvls = _levels(levels, ordinal, idc)
    sets = _group_equal_sets(lvls, ordinal, idc)
    extra_kw: dict[str, Any] = {"ordered": ordered, "id_cat": idc} if ordinal else {}
    suffix, kind = _index_kind(str(est).upper())
    fits: dict[str, Any] = {}
    tests: dict[str, CompareResult] = {}
    rows: list[dict[str, Any]] = []
    failed = False
    highest: str | None = None
    method = "standard"
    for i, (lv, eq) in enumerate(zip(lvls, sets, strict=True)):
        fit = cfa(model, data, group=group, group_equal=list(eq) or None, estimator=est,
                  missing=miss, **extra_kw)
        fits[lv] = fit
        fm = fit.fit_measures
        row: dict[str, Any] = {
            "level": lv, "group_equal": ", ".join(eq), "npar": int(fm["npar"]),
            "chisq": _num(fm, "chisq"), "df": int(fm["df"]), "pvalue": _num(fm, "pvalue"),
            "chisq_scaled": _num(fm, "chisq_scaled"),
            "pvalue_scaled": _num(fm, "pvalue_scaled"),
            "cfi": _num(fm, "cfi" + suffix), "tli": _num(fm, "tli" + suffix),
            "rmsea": _num(fm, "rmsea" + suffix), "srmr": _num(fm, "srmr"),
            "chisq_diff": math.nan, "df_diff": math.nan, "pvalue_diff": math.nan,
            "delta_cfi": math.nan, "delta_rmsea": math.nan, "delta_srmr": math.nan,
            "test_fails": False, "fit_fails": False, "crossed": "",
        }
        converged = bool(getattr(fit, "converged", True))
        if i == 0:
            row.update(decision="baseline" if converged else "not converged", reason="",
                       after_failure=False)
            failed = not converged
            highest = lv if converged else None
            rows.append(row)
            continue
        prev_lv = lvls[i - 1]
        prev = rows[-1]
        if int(fm["df"]) > prev["df"]:
            cmp = compare(fits[prev_lv], fit, names=[prev_lv, lv])
            tests[lv] = cmp
            method = cmp.method
            row.update(chisq_diff=float(cmp.chisq_diff[1]), df_diff=float(cmp.df_diff[1]),
                       pvalue_diff=float(cmp.pvalue[1]))
        row.update(delta_cfi=row["cfi"] - prev["cfi"],
                   delta_rmsea=row["rmsea"] - prev["rmsea"],
                   delta_srmr=row["srmr"] - prev["srmr"])
        added = set(eq) - set(sets[i - 1])
        cutoff = FIT_CUTOFFS["loadings" if "loadings" in added else "other"]
        dec = step_decision(pvalue_diff=row["pvalue_diff"], delta_cfi=row["delta_cfi"],
                            delta_rmsea=row["delta_rmsea"], delta_srmr=row["delta_srmr"],
                            cutoff=cutoff, significance_level=alpha, decide_by=decide_by)
        if not converged:
            dec.update(decision="not converged", reason="not converged")
        row.update(dec, after_failure=failed)
        if dec["decision"] != "holds":
            failed = True
        elif not failed:
            highest = lv
        rows.append(row)
    extra: dict[str, Any] = {}
    failed_at = next((i for i, r in enumerate(rows)
                      if r["decision"] == "fails" and not r["after_failure"]), None)
    if partial and failed_at is not None:
        added = set(sets[failed_at]) - set(sets[failed_at - 1])
        kinds = added & {"loadings", "intercepts", "residuals"}
        if kinds:
            n_items = len(fits[lvls[0]].observed)
            limit = n_items // 2 if max_free is None else int(max_free)
            if limit < 1:
                raise SpecificationError(f"max_free must be at least 1, got {max_free!r}")
            cutoff = FIT_CUTOFFS["loadings" if "loadings" in added else "other"]
            extra = partial_search(
                model, data, group=group, estimator=est, missing=miss, fit_kw=extra_kw,
                level=lvls[failed_at],
                equal=sets[failed_at], kinds=kinds, base=fits[lvls[failed_at - 1]],
                base_row=rows[failed_at - 1], start=fits[lvls[failed_at]],
                start_row=rows[failed_at], alpha=alpha, limit=limit, suffix=suffix,
                decide=functools.partial(step_decision, cutoff=cutoff,
                                         significance_level=alpha, decide_by=decide_by))
    ladder = pd.DataFrame(rows)
    for col in ("npar", "df"):
        ladder[col] = ladder[col].astype(np.int64)
    first = fits[lvls[0]]
    return InvarianceResult(
        ladder=ladder, highest=highest, levels=lvls, group=group,
        group_labels=tuple(getattr(first, "group_labels", ()) or ()),
        estimator=str(est).upper(), missing=str(getattr(first, "missing", miss)),
        ordinal=ordinal, id_cat=idc, fit_indices=kind, test_method=method,
        significance_level=alpha, decide_by=decide_by,
        n_obs=int(getattr(first, "n_obs", 0)), n_total=int(getattr(first, "n_total", 0)),
        rows_dropped=tuple(getattr(first, "rows_dropped", ()) or ()),
        fits=fits, tests=tests, **extra)

