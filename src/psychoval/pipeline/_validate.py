"""pv.validate(): one call runs every statistic of a framework and judges it.

The statistics come from ``psychoval.stats`` (each call is recorded with the R call that
reproduces it); the judgements from ``_verdicts``; this module only orchestrates.

Length: the steps of validate() and the evidence each adds; the step list is in one place
(``_validate``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import math
import platform
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import check_confidence_level
from psychoval._progress import progress_callback
from psychoval._version import __version__
from psychoval.exceptions import (
    ConvergenceWarning,
    PsychovalError,
    SpecificationError,
    collect_warnings,
    warn,
)
from psychoval.verdicts._criteria import ESTIMABLE, CriteriaSet
from psychoval.verdicts._criteria import criteria as make_criteria
from psychoval.verdicts._verdicts import (
    Verdict,
    judge,
    not_applicable,
    not_estimable,
    recommend,
    verdict_frame,
)

__all__ = ["validate"]

FIT_COLUMNS = ["level", "target", "model", "estimator", "missing", "n_obs", "converged",
               "admissible", "status", "note", "chisq", "df", "pvalue", "cfi", "tli", "rmsea",
               "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "robust", "approximate"]

# Ordered items (WLSMV): lavaan's default is listwise deletion; validate asks for pairwise
# (CONVENTIONS: no respondent is lost, and the report says so) where pv.cfa(ordered=True)
# offers it. The fit table's `missing` column and the report's methods say which was used.
ORDINAL_MISSING = "pairwise"
# a rating item is fitted as ordered (option ordinal: auto) with at most this many observed
# integer categories; above it, linear (ML / MLR) estimation treats it as continuous
MAX_ORDINAL_CATEGORIES = 7
# lavaan (and pv.polychoric(method="lavaan")) bound a polychoric correlation at .999: two
# items there are one item twice, which ML reports as a singular covariance matrix
POLYCHORIC_BOUND = 0.999 - 1e-9
# WLSMV's sample statistics keep casewise scores of every threshold and polychoric
# correlation: rows x (thresholds + p(p-1)/2) values, about 20 bytes each at the peak
# (measured: 60 items of 5 categories on 50,000 rows, 1.0e8 scores, 2.1 GB and 26 s). Above
# this many a model is fitted as continuous (ML / MLR) instead, and says so.
WLSMV_BUDGET = 3e7

# the robust (MLR) correction needs the saturated model's (p + p*)^2 information: patterns x
# p^4 operations, plus rows x (p + p*)^2 for the casewise scores. Above this many operations
# (about 10-20 s on one core) a model is fitted by ML with FIML instead, and says so.
MLR_BUDGET = 5e10


def _rlist(items) -> str:
    return "c(" + ", ".join(f'"{i}"' for i in items) + ")"


def _model_r(model: str) -> str:
    return model.replace("\n", "; ")


class _Runner:
    """Collects step timings, captured warnings and R calls, and reports progress: one unit
    per step, and within the long steps one per model (``tick``)."""

    def __init__(self, progress: Any, total: int):
        self.timings: dict[str, float] = {}
        self.notes: list[str] = []
        self.r_calls: dict[str, str] = {}
        self.results: dict[str, Any] = {}
        self._progress = progress_callback(progress, "validate")
        self.total = total
        self._done = 0

    def step(self, name: str, func: Callable[[], Any], *, unit: bool = True) -> Any:
        t0 = time.perf_counter()
        with collect_warnings() as caught:  # this run's own notes, whatever other threads do
            out = func()
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        for w in caught:
            msg = f"{name}: {w.category.__name__}: {w.message}"
            if msg not in self.notes:
                self.notes.append(msg)
        if unit:
            self.tick(name)
        return out

    def tick(self, what: str) -> None:
        self._done += 1
        if self._progress is not None:
            self._progress(what, self._done, max(self.total, self._done))


def _n_units(fw: Any) -> int:
    """Progress units of a run: the fixed steps, one per competency, per tier its omega and
    models, the framework model and parallel analysis."""
    tiers = 0
    for t in fw.tiers:
        comps = [c for c in t.competencies if len(c.items) >= 3]
        tiers += 1 + (len(comps) >= 2) + (len(comps) >= 4)
    return 11 + len(fw.competencies) + tiers + 2 + len(fw.group_columns) * len(fw.tiers)


def _hash_input(responses: Any, table: Any) -> str:
    """SHA-256 of the input: the file's bytes, or the table's content (values, ids, text
    cells; a DataFrame's cells and index)."""
    h = hashlib.sha256()
    if isinstance(responses, (str, Path)):
        h.update(Path(responses).read_bytes())
        return h.hexdigest()
    if isinstance(table, pd.DataFrame):
        h.update(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
        h.update("|".join(map(str, table.columns)).encode())
        return h.hexdigest()
    values = table.values
    h.update(np.ascontiguousarray(values.to_numpy(dtype="float64")).tobytes())
    h.update("|".join(map(str, values.columns)).encode())
    h.update("|".join(map(str, table.ids)).encode())
    text = table.text_items
    if text:
        raw = table.raw
        for item in text:
            pos = table.text_cells(item)
            h.update(f"{item}:{pos}:{raw[item].iloc[pos].tolist()}".encode())
    return h.hexdigest()


def _fit_row(level: str, target: str, model_kind: str, fit: Any, *, approximate: bool,
             note: str | None = None) -> dict[str, Any]:
    fm = fit.fit_measures
    robust = fit.estimator.upper() == "MLR" and "cfi_robust" in fm
    scaled = fit.estimator.upper() == "WLSMV" and "cfi_scaled" in fm

    def g(key: str) -> float:
        k = f"{key}_robust" if robust and f"{key}_robust" in fm else key
        if scaled and key != "srmr":  # WLSMV: the scaled-shifted test and its indices
            k = {"rmsea_ci_lower": "rmsea_ci_lower_scaled",
                 "rmsea_ci_upper": "rmsea_ci_upper_scaled"}.get(key, f"{key}_scaled")
            k = k if k in fm else key
        if key == "chisq" and robust and "chisq_scaled" in fm:
            k = "chisq_scaled"
        if key == "pvalue" and robust and "pvalue_scaled" in fm:
            k = "pvalue_scaled"
        v = fm.get(k, math.nan)
        return float(v) if v is not None else math.nan

    return {"level": level, "target": target, "model": model_kind, "estimator": fit.estimator,
            "missing": fit.missing, "n_obs": int(fit.n_obs), "converged": bool(fit.converged),
            "admissible": bool(fit.admissible), "status": "estimated", "note": note,
            "chisq": g("chisq"), "df": g("df"),
            "pvalue": g("pvalue"), "cfi": g("cfi"), "tli": g("tli"), "rmsea": g("rmsea"),
            "rmsea_ci_lower": g("rmsea_ci_lower"), "rmsea_ci_upper": g("rmsea_ci_upper"),
            "srmr": g("srmr"), "robust": robust, "approximate": approximate}


def validate(responses: Any, framework: Any, *, criteria: Any = None, seed: Any = None,
             progress: Any = None, n_boot: int = 200, confidence_level: float = 0.95,
             sample_rows: int = 50_000, sample_seed: int = 0, content_ratings: Any = None,
             angoff_ratings: Any = None):
    """Validate a competency framework on a set of responses: every statistic, judged.

    Runs, in order: the data-quality check; per competency Cronbach's alpha with its interval,
    omega from a one-factor CFA with a bootstrap interval, item analysis, distractor analysis
    (multiple-choice items), DIF between the framework's groups, item flags, the one-factor
    CFA fit (4 or more items; with 3 the model is just-identified and only its loadings and
    omega are reported) and rater agreement of rubric-scored items; per tier the
    correlated-competencies CFA with composite reliability, AVE, the Fornell-Larcker criterion,
    HTMT and modification indices for cross-loadings, and the second-order model tested
    against it (4 or more competencies; with 3 the two are equivalent); for the whole framework
    the correlated model of all competencies and parallel analysis. Each statistic is judged
    against cited criteria (pass / borderline / fail / not applicable), and recommended
    actions are derived from the verdicts.

    Parameters
    ----------
    responses : path, DataFrame, ResponseTable or ResponseScan
        Raw responses (option letters, labels, numbers, rater columns), rows respondents.
        A :class:`psychoval.ResponseScan` (:func:`psychoval.scan_responses`: Parquet, CSV or
        DuckDB larger than memory) is read in one streaming pass: see Notes.
    framework : Framework, path or mapping
        The competency framework (see :func:`psychoval.read_framework`).
    criteria : None, str, path, mapping or CriteriaSet
        ``None``: the ``"default"`` preset. A preset name, a YAML/JSON criteria file, a
        mapping ``{criterion: threshold or None}`` (on the default preset), or a
        :func:`psychoval.criteria` set. The framework's own ``criteria`` (framework-wide) and
        each competency's ``criteria`` are applied on top, in that order.
    seed : int or None
        Seed of the bootstrap intervals (omega, and alpha if bootstrapped); recorded.
    progress : None, True or callable
        ``True`` draws a bar on stderr (tqdm's when the ``progress`` extra is installed,
        notebook-friendly in Jupyter; a plain one-line bar otherwise), with the step, the
        elapsed time and an estimate of what is left; a callable receives
        ``(step, done, total)`` after each unit of work: each fixed step, each competency
        (its CFA and omega bootstrap), each tier model, the framework model and parallel
        analysis.
    n_boot : int
        Bootstrap replicates of the omega interval.
    confidence_level : float
        Level of every interval.
    sample_rows, sample_seed : int
        With a ResponseScan: the size and seed of the uniform random sample of rows on
        which the statistics that need rows are computed (recorded in the report).
    content_ratings : DataFrame or path, optional
        An expert panel's content ratings of the framework's items (long: expert, item, any
        of relevance, essentiality, assignment, and comment; see
        :func:`psychoval.content_validity`): adds the "Content validity" section and its
        verdicts (:func:`psychoval.content_verdicts`). Default: the framework's
        ``panels: {content_ratings: file}``, if any (likewise ``angoff_ratings``).
    angoff_ratings : DataFrame or path, optional
        A modified-Angoff panel's ratings of the items of one competency or tier (long:
        judge, item, rating, optional round and level; see
        :func:`psychoval.standard_setting`): adds the "Standard setting" section (cut per
        level and round with its SE, change between rounds, judge ICC, outlying judges,
        impact overall and by the first group column). Information, not judged.

    Returns
    -------
    ValidationReport

    Raises
    ------
    DataError
        The responses cannot be scored by the framework (missing columns, out-of-range
        values: the data-quality check lists them all).
    SpecificationError
        Bad criteria, framework or options.

    Notes
    -----
    Missing data: reliability uses pairwise covariances (psych's default); ML / MLR CFA uses
    FIML (full-information ML: every respondent's answered items), WLSMV CFA pairwise
    thresholds and polychorics (``ORDINAL_MISSING``); item analysis
    and distractors use the complete cases of each competency; DIF uses, for each item, the
    respondents who answered it, matched on the prorated total of its competency. The report
    states which.
    Estimation: WLSMV for models whose items are all ordered (the criteria option
    ``ordinal``: ``"auto"`` - 0/1 items and ratings with at most 7 integer categories -,
    ``"always"`` or ``"never"``), judged on the scaled fit indices, with categorical omega
    and its delta-method interval; otherwise MLR (robust) for rating-scale competencies, ML
    for dichotomous ones (their fit indices labelled approximate); mixed models by ML / MLR
    with a note.

    Streaming (a ResponseScan): one pass in batches accumulates the exact data-quality
    counts, each competency's moments (alpha and its Feldt interval on every row) and a
    uniform random sample of ``sample_rows`` rows (bottom-k on keys of the row number and
    ``sample_seed``); the other statistics run on the sample. The report's notes say which
    evidence is on every row and which on the sample; when every row fits in the sample,
    the report is the in-memory one.

    References
    ----------
    Hu, L., & Bentler, P. M. (1999). doi:10.1080/10705519909540118.
    Xia, Y., & Yang, Y. (2019). doi:10.3758/s13428-018-1055-2.
    Green, S. B., & Yang, Y. (2009). doi:10.1007/s11336-008-9099-3.
    Fornell, C., & Larcker, D. F. (1981). doi:10.1177/002224378101800104.
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). doi:10.1007/s11747-014-0403-8.

    Examples
    --------
    >>> import psychoval as pv
    >>> from psychoval.datasets import sample_framework
    >>> report = pv.validate(pv.load_sample(), sample_framework(), seed=1)  # doctest: +SKIP
    >>> report.actions["target"].tolist()[:2]  # doctest: +SKIP
    ['CON3', 'ETH4']
    """
    from psychoval.io import ResponseScan, scan_responses
    from psychoval.io._scan import is_dask_dataframe

    with _small_blas():
        if is_dask_dataframe(responses):  # partitions streamed in order, as a scan
            responses = scan_responses(responses)
        if isinstance(responses, ResponseScan):
            from psychoval.pipeline._stream import validate_scan

            return validate_scan(
                responses, framework, sample_rows=sample_rows, sample_seed=sample_seed,
                run=lambda table, fw, moments=None, patterns=None: _validate(
                    table, fw, criteria=criteria, seed=seed, progress=progress,
                    n_boot=n_boot, confidence_level=confidence_level,
                    content_ratings=content_ratings, angoff_ratings=angoff_ratings,
                    moments=moments, patterns=patterns))
        return _validate(responses, framework, criteria=criteria, seed=seed,
                         progress=progress, n_boot=n_boot, confidence_level=confidence_level,
                         content_ratings=content_ratings, angoff_ratings=angoff_ratings)


def _small_blas():
    """Limit BLAS to one thread for the duration of the call (restored afterwards).

    Every matrix here is small (items x items, at most a few dozen); a multi-threaded BLAS
    spends more on waking threads than on the arithmetic. Measured on the sample (2 cores):
    parallel analysis and the framework CFA took 11.6 s with OpenBLAS's default threads and
    0.36 s with one. Uses threadpoolctl when it is installed; otherwise does nothing.
    """
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _validate(responses: Any, framework: Any, *, criteria: Any, seed: Any, progress: Any,
              n_boot: int, confidence_level: float, content_ratings: Any = None,
              angoff_ratings: Any = None, moments: dict[str, Any] | None = None,
              patterns: dict[str, Any] | None = None):
    """The validation run; ``moments`` (competency -> Moments of its scored items on every
    row of a scanned source) replaces the table's rows for the alpha step, ``patterns``
    (competency -> ResponsePatterns of the same) for its one-factor CFA when it is fitted by
    WLSMV."""
    from psychoval.report._model import ValidationReport

    if not isinstance(n_boot, int) or n_boot < 20:
        raise SpecificationError(f"n_boot={n_boot!r} must be an integer of at least 20")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise SpecificationError(
            f"seed={seed!r} must be an integer or None (it is recorded in the report)")
    seed = None if seed is None else int(seed)
    level = check_confidence_level(confidence_level, low=0.5)
    t_start = time.perf_counter()
    ev = _Evidence(responses=responses, framework_arg=framework, seed=seed, n_boot=n_boot,
                   level=level, run=_Runner(progress, total=10),
                   content_ratings=content_ratings, angoff_ratings=angoff_ratings,
                   moments=moments, patterns=patterns)
    ev.run.step("input", lambda: _read_input(ev))
    ev.run.total = _n_units(ev.fw)
    ev.sha = _hash_input(responses, ev.table)
    ev.crit = _resolve_criteria(criteria, ev.fw)
    for name, step, unit in STEPS:
        ev.run.step(name, functools.partial(step, ev), unit=unit)
    ev.run.timings["total"] = time.perf_counter() - t_start
    return ValidationReport(**_report_fields(ev))


@dataclasses.dataclass(eq=False)
class _Evidence:
    """What a validation run has established so far: each step reads the fields of the
    steps before it and adds its own (its evidence tables and verdicts)."""

    responses: Any
    framework_arg: Any
    seed: int | None
    n_boot: int
    level: float
    run: _Runner
    sha: str = ""
    crit: Any = None
    fw: Any = None
    table: Any = None
    quality: Any = None
    scored: Any = None
    verdicts: list[Verdict] = dataclasses.field(default_factory=list)
    details: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    ia: Any = None
    dis: Any = None
    difs: list = dataclasses.field(default_factory=list)
    flags: Any = None
    comp_rows: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    models: list[_Model] = dataclasses.field(default_factory=list)  # every CFA, estimated or not
    fit_rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    comp_df: pd.DataFrame | None = None
    loadings: pd.DataFrame | None = None
    raters: pd.DataFrame | None = None
    tiers: pd.DataFrame | None = None
    pairs: pd.DataFrame | None = None
    cross: pd.DataFrame | None = None
    # item -> standardized loading in its tier's correlated-competencies model (the report's
    # path diagram; not in the JSON document)
    tier_loading: dict[str, float] = dataclasses.field(default_factory=dict)
    dimensionality: dict[str, Any] = dataclasses.field(default_factory=dict)
    fit_df: pd.DataFrame | None = None
    fairness: pd.DataFrame | None = None
    invariance: pd.DataFrame | None = None
    dmacs: pd.DataFrame | None = None
    adverse_impact: pd.DataFrame | None = None
    decisions: pd.DataFrame | None = None
    subscores: pd.DataFrame | None = None
    irt_items: pd.DataFrame | None = None
    skills_gap: pd.DataFrame | None = None
    training_needs: pd.DataFrame | None = None
    content_ratings: Any = None
    angoff_ratings: Any = None
    content_items: pd.DataFrame | None = None
    content_competencies: pd.DataFrame | None = None
    content_comments: pd.DataFrame | None = None
    cut_scores: pd.DataFrame | None = None
    impact: pd.DataFrame | None = None
    panel_status: dict[str, str] = dataclasses.field(default_factory=dict)
    item_ordered: dict[str, bool] = dataclasses.field(default_factory=dict)
    comp_ordinal: dict[str, tuple[bool, str | None]] = dataclasses.field(default_factory=dict)
    moments: dict[str, Any] | None = None  # a scanned source's all-row moments per competency
    patterns: dict[str, Any] | None = None  # ... and its all-row response patterns

    @property
    def scores(self) -> pd.DataFrame:
        return self.scored.scores

    @property
    def item_competency(self) -> dict[str, str]:
        return {i.id: i.competency for i in self.fw.items}

    @property
    def item_tier(self) -> dict[str, str]:
        return {i.id: i.tier for i in self.fw.items}

    def fit_model(self, level: str, target: str, kind: str, syntax: str, items: list[str],
                  binary: bool, ordinal: bool = False, note: str | None = None,
                  **where: Any) -> _Model:
        """Fit one CFA of the run (WLSMV for ordered items, else ML / MLR with FIML), record
        it and its fit-table row."""
        from psychoval.stats import cfa

        table = (self.patterns or {}).get(target) if level == "competency" else None
        m = _fit_model(cfa, level, target, kind, syntax, self.scores, items, binary=binary,
                       missing="fiml", ordinal=ordinal, note=note, table=table, **where)
        self.models.append(m)
        key = {"competency": f"cfa:{target}", "framework": "cfa_framework"}.get(
            level, f"cfa_tier:{target}" if kind == "correlated" else f"cfa_second_order:{target}")
        self.run.results[key] = m.fit  # None when the model raised
        if not (m.ok and kind == "one_factor" and len(items) < 4):
            # a 3-item one-factor model is just-identified: no fit to report
            self.fit_rows.append(m.row(approximate=binary and m.estimator != "WLSMV"))
        return m

    def ordinal_models(self, comps: list) -> tuple[bool, str | None]:
        """Whether a model over these competencies is fitted as ordinal (every competency's
        items ordered), and the note when ordered items are fitted by ML / MLR instead."""
        ordered = [c for c in comps if self.comp_ordinal.get(c.id, (False, None))[0]]
        if comps and len(ordered) == len(comps):
            return True, None
        some = [c.id for c in comps if any(self.item_ordered.get(i) for i in c.item_ids)]
        if not some:
            return False, None
        other = [c.id for c in comps if c not in ordered]
        return False, ("mixed indicators: " + ", ".join(other) + " not fitted as ordered, so "
                       "the model is fitted by ML/MLR (WLSMV with mixed ordered and continuous "
                       "indicators is not available yet)")


def _read_input(ev: _Evidence) -> None:
    from psychoval.framework import Framework, read_framework
    from psychoval.io import read_responses

    fw = ev.framework_arg
    ev.fw = fw if isinstance(fw, Framework) else read_framework(fw)
    if isinstance(ev.responses, (str, Path)):
        ev.table = read_responses(ev.responses, id_column=ev.fw.id_column)
    else:
        ev.table = ev.responses


def _step_quality(ev: _Evidence) -> None:
    from psychoval.stats import check_data

    ev.quality = check_data(ev.table, ev.fw)
    ev.run.results["data_quality"] = ev.quality


def _step_scoring(ev: _Evidence) -> None:
    ev.scored = ev.fw.score(ev.table)
    ev.run.results["scored"] = ev.scored


def _step_items(ev: _Evidence) -> None:
    fw, scored, run = ev.fw, ev.scored, ev.run
    groups = (scored.covariates[fw.group_columns[0]] if fw.group_columns
              and fw.group_columns[0] in scored.covariates else None)
    ev.ia, ev.dis, ev.difs, ev.flags = item_evidence(scored, fw, groups, ev.crit.items)
    run.results.update({"item_analysis": ev.ia, "distractors": ev.dis, "dif": ev.difs,
                        "flags": ev.flags})
    run.r_calls["item_analysis"] = "psych::alpha(x[, items])$item.stats  # per competency"
    if ev.dis is not None:
        run.r_calls["distractors"] = "CTT::distractor.analysis(options, key)"
    if ev.difs:
        run.r_calls["dif"] = ("each group against all others, matched on the total of the "
                              "item's competency: difR::difMH(x, group, focal.name, "
                              "match = total, purify = TRUE) for multiple-choice; "
                              "MASS::polr(item ~ total + group) vs polr(item ~ total), LR "
                              "test, for Likert items; p.adjust(p, 'holm') over every test "
                              "of the screen (all comparisons x items); ETS classes: MH "
                              "D-DIF, SMD/SD")
    ev.verdicts += _item_verdicts(ev.flags, ev.crit, ev.item_competency, ev.item_tier,
                                  ev.difs, ev.details)
    run.notes.extend(_dif_negligible(ev.difs))
    for d in ev.difs:  # e.g. purification that left a scale without anchor items
        run.notes.extend(f"dif: {note}" for note in d.notes
                         if f"dif: {note}" not in run.notes)


def _step_reliability(ev: _Evidence) -> None:
    from psychoval.stats import alpha

    ev.comp_rows = {
        c.id: {"competency": c.id, "name": c.name, "tier": c.tier, "n_items": len(c.items),
               "item_types": ", ".join(sorted({i.type for i in c.items}))}
        for c in ev.fw.competencies}
    for c in ev.fw.competencies:
        try:
            data = ev.moments[c.id] if ev.moments and c.id in ev.moments else \
                ev.scores[list(c.item_ids)]
            a = alpha(data, missing="pairwise",
                      confidence_level=ev.level, ci_method="feldt")
        except PsychovalError as exc:  # e.g. a one-item competency: no alpha, the run goes on
            ev.comp_rows[c.id].update(alpha=math.nan, alpha_lower=math.nan,
                                      alpha_upper=math.nan, alpha_ci="")
            ev.run.notes.append(f"alpha of {c.id} not computed: {exc}")
            continue
        ev.comp_rows[c.id].update(alpha=a.raw_alpha, alpha_lower=a.ci_lower,
                                  alpha_upper=a.ci_upper, alpha_ci="feldt")
        ev.run.results[f"alpha:{c.id}"] = a
    ev.run.r_calls["alpha"] = ("psych::alpha(x[, items])  # pairwise; Feldt interval: "
                               "psychometric::alpha.CI or psych::alpha.ci")


def _step_competencies(ev: _Evidence) -> None:
    """Per competency: the one-factor CFA, omega with its bootstrap interval, loadings."""
    loading_rows: list[dict[str, Any]] = []
    rng = np.random.default_rng(ev.seed)
    seeds = rng.integers(0, 2**32 - 1, size=len(ev.fw.competencies))
    _decide_ordinal(ev)
    for c, s in zip(ev.fw.competencies, seeds, strict=True):
        binary = all(i.type in ("multiple_choice", "dichotomous") for i in c.items)
        row = ev.comp_rows[c.id]
        loading_rows += _competency_cfa(ev, c, list(c.item_ids), binary, row, s)
        row["approximate_fit"] = binary and row.get("estimator") != "WLSMV"
        ev.run.tick(f"competency {c.id}")
    ev.comp_df = pd.DataFrame(list(ev.comp_rows.values()))
    ev.loadings = pd.DataFrame(loading_rows, columns=["item", "competency", "std_loading",
                                                      "loading_lower", "loading_upper"])
    ev.run.r_calls["cfa_competency"] = (
        'fit <- lavaan::cfa("competency =~ i1 + i2 + ...", data = x, estimator = "MLR", '
        'missing = "ml")  # estimator as in the fit table; WLSMV rows: lavaan::cfa(..., '
        f'ordered = TRUE, estimator = "WLSMV", missing = "{ORDINAL_MISSING}")')
    ev.run.r_calls["omega"] = ("semTools::compRelSEM(fit)  # obs.var = TRUE (categorical omega "
                               "of a WLSMV fit); interval: percentile bootstrap of complete "
                               "cases (ML / MLR) or delta method (WLSMV), as omega_ci says")
    ev.run.r_calls["loadings"] = "lavaan::standardizedSolution(fit)"


def _item_ordered(item: Any, x: np.ndarray, mode: str) -> bool:
    """The ordinal rule (criteria option ``ordinal``): ``auto`` fits multiple-choice and
    dichotomous items (scored 0/1) and rating items with at most MAX_ORDINAL_CATEGORIES
    observed integer codes as ordered; ``always`` every item with integer codes; ``never``
    none."""
    if mode == "never":
        return False
    v = x[~np.isnan(x)]
    if v.size == 0 or not np.all(v == np.round(v)):
        return False  # e.g. the mean of several raters: not category codes
    if mode == "always" or item.type in ("multiple_choice", "dichotomous"):
        return True
    return len(np.unique(v)) <= MAX_ORDINAL_CATEGORIES


def _decide_ordinal(ev: _Evidence) -> None:
    """Which items are ordered, and which competencies are fitted by WLSMV (all their items
    ordered); a competency with ordered and continuous items is fitted by ML / MLR with a
    note."""
    for c in ev.fw.competencies:
        mode = _competency_criteria(ev.crit, c).ordinal
        flags = {i.id: _item_ordered(i, ev.scores[i.id].to_numpy(dtype=float), mode)
                 for i in c.items}
        ev.item_ordered.update(flags)
        cont = [i for i, f in flags.items() if not f]
        if not cont:
            ev.comp_ordinal[c.id] = (True, None)
        elif len(cont) < len(flags):
            ev.comp_ordinal[c.id] = (False, (
                f"mixed indicators: {', '.join(cont)} continuous (not integer codes, or more "
                f"than {MAX_ORDINAL_CATEGORIES} categories), the others ordered; fitted by "
                "ML/MLR (WLSMV with mixed indicators is not available yet)"))
        else:
            ev.comp_ordinal[c.id] = (False, None)


def _competency_cfa(ev: _Evidence, c: Any, items: list[str], binary: bool,
                    row: dict[str, Any], s: int) -> list[dict[str, Any]]:
    from psychoval.stats.reliability._omega_boot import omega_bootstrap

    if len(items) < 3:
        row.update(estimator=None, omega=math.nan, omega_lower=math.nan,
                   omega_upper=math.nan,
                   identification="under-identified (fewer than 3 items)")
        return []
    ordinal, note = ev.comp_ordinal.get(c.id, (False, None))
    m = ev.fit_model("competency", c.id, "one_factor", ev.fw.to_model(competency=c.id),
                     items, binary, ordinal=ordinal, note=note, tier=c.tier, competency=c.id)
    row["estimator"] = m.estimator
    if not m.ok:
        row.update(omega=math.nan, omega_lower=math.nan, omega_upper=math.nan,
                   identification=f"not estimable: {m.reason}", converged=False,
                   n_obs_cfa=m.fit.n_obs if m.fit is not None else math.nan)
        return [{"item": it, "competency": c.id, "std_loading": math.nan,
                 "loading_lower": math.nan, "loading_upper": math.nan} for it in items]
    fit = m.fit
    omega = float(fit.composite_reliability()[c.id])
    if m.estimator == "WLSMV":  # categorical omega; refitting WLSMV n_boot times is too slow
        oi = fit.omega_interval(confidence_level=ev.level).set_index("factor").loc[c.id]
        row.update(omega_lower=float(oi["ci_lower"]), omega_upper=float(oi["ci_upper"]),
                   omega_se=float(oi["se"]), omega_ci="delta")
        # ordinal alpha (information, not judged: the latent responses' reliability)
        oa = fit.ordinal_alpha(confidence_level=ev.level).set_index("factor").loc[c.id]
        row.update(ordinal_alpha=float(oa["alpha"]), ordinal_alpha_lower=float(oa["ci_lower"]),
                   ordinal_alpha_upper=float(oa["ci_upper"]))
    else:
        boot = omega_bootstrap(ev.scores[items].to_numpy(), n_boot=ev.n_boot, seed=int(s),
                               confidence_level=ev.level)
        row.update(omega_lower=boot.lower, omega_upper=boot.upper, omega_boot_n_obs=boot.n_obs,
                   omega_ci="bootstrap")
    row.update(omega=omega, ave=float(fit.ave()[c.id]),
               identification=("just-identified (3 items: df = 0, fit not testable)"
                               if len(items) == 3 else "over-identified"),
               n_obs_cfa=int(fit.n_obs), converged=bool(fit.converged),
               admissible=bool(fit.admissible))
    std = fit.standardized(confidence_level=ev.level)
    return [{"item": r.rhs, "competency": c.id, "std_loading": float(r.est_std),
             "loading_lower": float(r.ci_lower), "loading_upper": float(r.ci_upper)}
            for r in std[std["op"] == "=~"].itertuples()]


def _step_raters(ev: _Evidence) -> None:
    from psychoval.stats import icc

    rows: list[dict[str, Any]] = []
    rated = [i for i in ev.fw.items if i.raters]
    for it in rated:
        ratings = ev.scored.ratings[list(it.raters)]
        rated_rows = ratings.notna().any(axis=1)  # respondents nobody rated carry no
        ratings = ratings[rated_rows]             # information on agreement
        res = icc(ratings, confidence_level=ev.level)
        ev.run.results[f"icc:{it.id}"] = res
        r2k = res.results.loc["ICC2k"]
        r1 = res.results.loc["ICC2"]
        rows.append({"item": it.id, "competency": it.competency,
                     "n_raters": int(res.n_raters), "n_targets": int(res.n_targets),
                     "icc2": float(r1["icc"]), "icc2k": float(r2k["icc"]),
                     "icc2k_lower": float(r2k["lower"]), "icc2k_upper": float(r2k["upper"]),
                     "available": True})
    ev.raters = pd.DataFrame(rows, columns=["item", "competency", "n_raters", "n_targets",
                                            "icc2", "icc2k", "icc2k_lower", "icc2k_upper",
                                            "available"])
    if rated:
        ev.run.r_calls["icc"] = "psych::ICC(ratings[, raters])  # ICC2k row"


def _step_tiers(ev: _Evidence) -> None:
    """Per tier: omega hierarchical, the correlated-competencies CFA with its discriminant
    evidence and cross-loadings, and the second-order model tested against it."""
    tier_rows: list[dict[str, Any]] = []
    pair_rows: list[dict[str, Any]] = []
    mi_rows: list[dict[str, Any]] = []
    for t in ev.fw.tiers:
        comps = [c for c in t.competencies if len(c.items) >= 3]
        row: dict[str, Any] = {"tier": t.id, "name": t.name,
                               "n_competencies": len(t.competencies)}
        tier_rows.append(row)
        units = 1 + (len(comps) >= 2) + (len(comps) >= 4)
        _tier_models(ev, t, comps, row, pair_rows, mi_rows)
        for k in range(units):
            ev.run.tick(f"tier {t.id}" + ("" if k == 0 else f" ({k + 1}/{units})"))
    tiers = pd.DataFrame(tier_rows)
    for col in ("chisq_diff", "df_diff", "pvalue", "method"):
        if col not in tiers:
            tiers[col] = math.nan if col != "method" else None
    ev.tiers = tiers
    ev.pairs = pd.DataFrame(pair_rows, columns=["tier", "competency_a", "competency_b",
                                                "cor_lv", "htmt", "htmt2"])
    ev.cross = pd.DataFrame(mi_rows, columns=["tier", "item", "competency", "to", "mi",
                                              "sepc_all", "own_loading"])
    ev.run.r_calls["cfa_tier"] = ('fit <- lavaan::cfa(tier_model, data = x, estimator = ..., '
                                  'missing = ...); semTools::compRelSEM(fit); '
                                  'semTools::AVE(fit); lavaan::modindices(fit)')
    ev.run.r_calls["htmt"] = ("semTools::htmt(tier_model, data = x, htmt2 = FALSE)  # "
                              "criterion; htmt2 = TRUE for HTMT2")
    ev.run.r_calls["second_order"] = ("lavaan::lavTestLRT(fit_correlated, fit_second_order)"
                                      "  # WLSMV fits: method satorra.2000 (scaled-shifted)")
    ev.run.r_calls["omega_tier"] = ("psych::omega(x[, tier_items], nfactors = "
                                    "n_competencies, fm = 'minres', rotate = 'oblimin', "
                                    "flip = FALSE)  # tiers with 3 or more competencies")


def _tier_models(ev: _Evidence, t: Any, comps: list, row: dict[str, Any],
                 pair_rows: list[dict[str, Any]], mi_rows: list[dict[str, Any]]) -> None:
    from psychoval.framework._model import factor_lines
    from psychoval.stats import htmt, omega

    scores, comp_df = ev.scores, ev.comp_df
    row.update(_tier_omega(omega, scores, t, comps, ev.run))
    if len(comps) < 2:
        row["second_order"] = "not applicable (fewer than 2 competencies)"
        return
    binary = all(i.type in ("multiple_choice", "dichotomous") for c in comps for i in c.items)
    ordinal, note = ev.ordinal_models(comps)
    model = factor_lines(comps)
    items = [i for c in comps for i in c.item_ids]
    h1 = htmt(scores, model, method="htmt")
    h2 = htmt(scores, model, method="htmt2")
    ev.run.results[f"htmt:{t.id}"] = h1
    m = ev.fit_model("tier", t.id, "correlated", model, items, binary, ordinal=ordinal,
                     note=note, tier=t.id)
    fit = m.fit if m.ok else None
    for a_i, a in enumerate(comps):
        for b in comps[a_i + 1:]:
            pair_rows.append({"tier": t.id, "competency_a": a.id, "competency_b": b.id,
                              "cor_lv": (float(fit.cor_lv.loc[a.id, b.id])
                                         if fit is not None else math.nan),
                              "htmt": float(h1.htmt.loc[a.id, b.id]),
                              "htmt2": float(h2.htmt.loc[a.id, b.id])})
    if fit is None:
        row["second_order"] = "not tested: the correlated model could not be estimated"
        return
    std = fit.standardized()
    ev.tier_loading.update({r.rhs: float(r.est_std) for r in std[std["op"] == "=~"].itertuples()})
    cr = fit.composite_reliability()
    ave = fit.ave()
    fl = fit.fornell_larcker()
    for c in comps:
        at = comp_df.index[comp_df["competency"] == c.id]
        comp_df.loc[at, "cr_tier"] = float(cr[c.id])
        comp_df.loc[at, "ave_tier"] = float(ave[c.id])
        comp_df.loc[at, "sqrt_ave"] = float(fl.sqrt_ave[c.id])
        comp_df.loc[at, "max_cor"] = float(fl.max_cor_per_factor[c.id])
    mi = fit.modindices()
    own = {i: c.id for c in comps for i in c.item_ids}
    cross = mi[(mi["op"] == "=~") & mi["rhs"].isin(own) & (mi["lhs"] != mi["rhs"].map(own))]
    if len(cross):
        top = cross.sort_values("mi", ascending=False).iloc[0]
        std = fit.standardized()
        lam = std[(std["op"] == "=~")].set_index("rhs")["est_std"]
        mi_rows.append({"tier": t.id, "item": top["rhs"], "competency": own[top["rhs"]],
                        "to": top["lhs"], "mi": float(top["mi"]),
                        "sepc_all": float(top["sepc_all"]),
                        "own_loading": float(lam[top["rhs"]])})
    if len(comps) >= 4:
        m2 = ev.fit_model("tier", t.id, "second_order", factor_lines(comps, over=t.id), items,
                          binary, ordinal=ordinal, note=note, tier=t.id)
        if not m2.ok:
            row["second_order"] = "not tested: the second-order model could not be estimated"
        elif m2.estimator != m.estimator:
            row["second_order"] = ("not tested: the two models were fitted by different "
                                   "estimators")
        else:
            try:
                row.update(_nested_test(fit, m2.fit))
                row["second_order"] = "tested against the correlated model"
            except NotImplementedError:
                row["second_order"] = (
                    f"not available for {m.estimator} fits yet: the nested test of ordinal "
                    "models (scaled-shifted chi-square difference) is not implemented; not "
                    "tested")
    elif len(comps) == 3:
        row["second_order"] = ("equivalent to the correlated model (3 competencies: the "
                               "second-order part is just-identified); not tested")
    else:
        row["second_order"] = "not identified with 2 competencies"


def _step_framework(ev: _Evidence) -> None:
    """The whole framework's model (tiers as second-order factors when every tier has 3 or
    more competencies, correlated competencies otherwise) and parallel analysis."""
    from psychoval.framework._model import factor_lines
    from psychoval.stats import parallel_analysis

    fw = ev.fw
    comps = [c for c in fw.competencies if len(c.items) >= 3]
    if len(fw.tiers) >= 2 and all(len(t.competencies) >= 3 for t in fw.tiers):
        model, kind = fw.to_model(structure="second_order"), "tiers_second_order"
    else:
        model, kind = factor_lines(comps), "correlated"
    binary = all(i.type in ("multiple_choice", "dichotomous") for i in fw.items)
    items = [i for c in comps for i in c.item_ids]
    ordinal, note = ev.ordinal_models(comps)
    ev.fit_model("framework", fw.name or "framework", kind, model, items, binary,
                 ordinal=ordinal, note=note)
    ev.run.tick("framework model")
    pa = parallel_analysis(ev.scores[list(fw.item_ids)], seed=ev.seed)
    ev.run.results["parallel_analysis"] = pa
    ev.dimensionality = {"available": True, "n_factors": int(pa.n_factors),
                         "n_components": int(pa.n_components),
                         "n_competencies": len(fw.competencies), "n_tiers": len(fw.tiers),
                         "eigenvalues": [float(v) for v in pa.fa_values[:12]],
                         "thresholds": [float(v) for v in pa.fa_threshold[:12]]}
    ev.run.tick("parallel analysis")
    ev.run.r_calls["cfa_framework"] = ("lavaan::cfa(framework_model, data = x)  # tiers as "
                                       "second-order factors over their competencies")
    ev.run.r_calls["parallel_analysis"] = "psych::fa.parallel(x, fa = 'both')"
    ev.fit_df = pd.DataFrame(ev.fit_rows, columns=FIT_COLUMNS)


def _step_fairness(ev: _Evidence) -> None:
    """Per group column and tier: the invariance ladder of the tier model (its estimator),
    dMACS (continuous tiers), verdicts; adverse impact at the competencies' cut scores."""
    from psychoval.pipeline._fairness import fairness_step

    fairness_step(ev, ordinal_missing=ORDINAL_MISSING)


def _step_decisions(ev: _Evidence) -> None:
    """Classification accuracy and consistency at each competency's cut score, and the added
    value of each competency score over its tier's total."""
    from psychoval.pipeline._decisions import decisions_step

    decisions_step(ev)


def _step_skills_gap(ev: _Evidence) -> None:
    """With roles in the framework: skills gaps by role on the competencies that passed."""
    from psychoval.pipeline._decisions import skills_gap_step

    skills_gap_step(ev)


def _step_content(ev: _Evidence) -> None:
    """With content_ratings: the expert panel's content validity, judged."""
    from psychoval.pipeline._panels import content_step

    content_step(ev)


def _step_standard_setting(ev: _Evidence) -> None:
    """With angoff_ratings: the panel's cut scores, diagnostics and impact."""
    from psychoval.pipeline._panels import standard_setting_step

    standard_setting_step(ev)


def _step_verdicts(ev: _Evidence) -> None:
    """Every statistic judged against its criterion; a model that could not be estimated is
    one 'not estimable' verdict, and what depends on it is not applicable."""
    failed = {(m.level, m.target, m.kind): m.reason for m in ev.models if not m.ok}
    ev.verdicts += [m.verdict() for m in ev.models if not m.ok]
    ev.verdicts += _loading_verdicts(ev.loadings, ev.crit, ev.fw, ev.item_tier, failed)
    ev.verdicts += _competency_verdicts(ev.comp_df, ev.fit_df, ev.crit, ev.fw, failed)
    ev.verdicts += _rater_verdicts(ev.raters, ev.crit, ev.item_tier)
    ev.verdicts += _tier_verdicts(ev.pairs, ev.tiers, ev.cross, ev.crit, ev.fw, ev.details)


# The steps of validate(), in order (after reading the input): (progress name, step, whether
# the step is one progress unit; the others tick per competency, tier model or model).
STEPS: tuple[tuple[str, Callable[[_Evidence], None], bool], ...] = (
    ("data_quality", _step_quality, True),
    ("scoring", _step_scoring, True),
    ("items", _step_items, True),
    ("reliability", _step_reliability, True),
    ("competencies", _step_competencies, False),
    ("raters", _step_raters, True),
    ("tiers", _step_tiers, False),
    ("framework", _step_framework, False),
    ("fairness", _step_fairness, False),
    ("decisions", _step_decisions, True),
    ("verdicts", _step_verdicts, True),
    ("skills_gap", _step_skills_gap, True),
    ("content_validity", _step_content, True),
    ("standard_setting", _step_standard_setting, True),
)


def _report_fields(ev: _Evidence) -> dict[str, Any]:
    """The report model's fields from the evidence of a finished run."""
    vframe = verdict_frame(ev.verdicts)
    actions = recommend(vframe, item_competency=ev.item_competency, details=ev.details)
    crit, fw = ev.crit, ev.fw
    methods = {
        "reliability_missing": "pairwise (psych's default: covariances from all available "
                               "pairs)",
        "cfa_missing": ("FIML (full-information ML: every respondent's answered items) for "
                        "ML / MLR fits; WLSMV fits: "
                        + ("pairwise (thresholds and polychorics from every respondent who "
                           "answered the items: no respondent is lost)"
                           if ORDINAL_MISSING == "pairwise" else
                           "listwise (lavaan's default; pairwise is not available yet, so "
                           "respondents with a missing item of the model are left out: the "
                           "fit table's n_obs)")),
        "cfa_estimator": ("WLSMV (DWLS on polychoric correlations, robust SEs, scaled-shifted "
                          "test; lavaan 0.6.14, delta parameterization) for models whose items "
                          "are all ordered (see ordinal_estimation): linear ML on 0/1 or "
                          "few-category items attenuates loadings and distorts fit. Otherwise "
                          "MLR for rating-scale competencies (ML with FIML where the robust "
                          "correction would cost more than about "
                          f"{MLR_BUDGET:.0e} operations: many items and missingness patterns) "
                          "and ML for multiple-choice / dichotomous ones (fit indices "
                          "approximate); an ordered model whose WLSMV sample statistics would "
                          f"keep more than {WLSMV_BUDGET:.0e} casewise scores (rows x "
                          "(thresholds + correlations): many items on many rows) is fitted as "
                          "continuous; the fit table's estimator and note say which model got "
                          "which"),
        "fit_indices": ("judged: CFI, TLI, RMSEA with its 90% interval - the scaled versions "
                        "(cfi_scaled, tli_scaled, rmsea_scaled) under WLSMV, the robust "
                        "ones under MLR - and SRMR, against Hu & Bentler's (1999) cutoffs; "
                        "for WLSMV fits those cutoffs are conventions, not calibrated bounds "
                        "(Xia & Yang 2019, doi:10.3758/s13428-018-1055-2)"),
        "cfa_not_estimable": ("a model that cannot be estimated (not identified, not "
                              "converged after restarts, singular covariances) gets a "
                              "'not estimable' verdict with the reason; what depends on it is "
                              "not applicable"),
        "omega_interval": (f"ML / MLR: percentile bootstrap ({ev.n_boot} replicates of the "
                           "complete cases of each competency), seeded; WLSMV: categorical "
                           "omega (Green & Yang 2009) with a delta-method Wald interval from "
                           "the sample statistics' asymptotic covariance (no refits); each "
                           "competency's omega_ci says which"),
        "alpha_interval": "Feldt (F distribution)",
        "ordinal_alpha": ("WLSMV competencies also report ordinal alpha (alpha of the "
                          "polychoric correlations; Zumbo, Gadermann & Zeisser 2007) with a "
                          "delta-method interval, as information: it is the reliability of "
                          "the latent responses, not of the sum score (Chalmers 2018, "
                          "doi:10.1177/0013164417727036), so only omega and alpha are judged"),
        "item_analysis_missing": "listwise within each competency",
        "dif": ("each group against all others (Mantel-Haenszel for multiple-choice, "
                "uniform ordinal logistic otherwise), each item matched on the total of "
                "its competency, itself included (prorated over answered items; every "
                "respondent who answered the item), purified of the items flagged in a first "
                "pass; one decision: Holm over every test of "
                "the screen (all comparisons x items). Significant with a large effect (ETS "
                "class C: MH |D| >= 1.5, or |SMD|/SD > .25 for ordered items) fails; a "
                "moderate one (class B) is borderline with a review action; a negligible one "
                "(class A) is information, one line per comparison in the notes"
                if ev.difs else "no group column: not run"),
        "ordinal_estimation": _ordinal_method(crit),
        "validity": ("tier models: composite reliability (categorical omega under WLSMV), AVE "
                     "and Fornell-Larcker as semTools (AVE of a WLSMV fit on the latent-"
                     "response scale: sum of squared loadings over the number of items); HTMT "
                     "on Pearson correlations as semTools::htmt's default (ordered = NULL), "
                     "for every estimator"),
        "fairness": (
            "per group column of the framework and tier: the measurement-invariance ladder "
            "(pv.invariance) of the tier model with the estimator the tier model got - MLR / ML "
            "with FIML: configural, metric, scalar; WLSMV (pairwise): configural, thresholds, "
            "metric, scalar (Wu & Estabrook 2016, semTools measEq.syntax) - each step held unless "
            "its scaled difference test rejects (p < .05) or the changes in CFI / RMSEA / SRMR "
            "cross Chen's (2007) cutoffs. Judged: invariance_metric (before comparing the "
            "competencies' correlations across groups) and invariance_scalar (before "
            "comparing their means), Standards (2014) ch. 3, Vandenberg & Lance (2000), "
            "Putnick & Bornstein (2016); a step rejected by the test alone with fit changes "
            "within the cutoffs is borderline. When metric or scalar fails, the "
            "partial-invariance search (pv.invariance(partial=True): the largest score test - "
            "for ordered tiers the largest refit difference test - freed one at a time, "
            "Bonferroni stop, at most half the items) names the "
            "non-invariant parameters and groups; partial invariance that holds makes the "
            "verdict borderline (latent means comparable in the partial model, observed "
            "scores still carry the freed items' bias; Byrne, Shavelson & Muthen 1989, "
            "doi:10.1037/0033-2909.105.3.456). dMACS per item (Nye & Drasgow 2011, "
            "doi:10.1037/a0022955), continuous tiers only (pv.dmacs needs linear items), as "
            "information, from the partial model when the search ran (scales linked by the "
            "invariant items) and otherwise from the configural fit (scales not linked: an "
            "item's intercept difference there includes the groups' difference in its "
            "competency); no cutoff is judged. Adverse impact of pass "
            "rates at each competency's cut_score (pv.adverse_impact: impact ratio against "
            "the highest pass rate, four-fifths flag, z and Fisher tests) as information: "
            "the four-fifths rule is the Uniform Guidelines' rule of thumb (29 CFR "
            "1607.4(D)), and adverse impact is not itself evidence of measurement bias. "
            "A tier whose ladder would use more than INVARIANCE_BUDGET (5e6) rows x sample "
            "statistics per fit (e.g. 20 items on 50,000 rows) is not fitted inside validate: "
            "its row and verdicts say so with the pv.invariance call to run it. "
            "The DIF screen (see dif) completes the section"
            if fw.group_columns else "no group column: not run"),
        "decisions": (
            "per competency with a cut_score (mean-score scale): expected classification "
            "accuracy and consistency of 'at or above the cut' on the summed score of the "
            "respondents who answered every item (cut x number of items), by Hanson & Brennan "
            "(1990) for 0/1 items and Livingston & Lewis (1995) with the competency's alpha "
            "and declared score range otherwise (pv.classification); the conditional SEM at "
            "the cut (the method's binomial error: Lord's two-term compound binomial for 0/1 "
            "items, the binomial on the effective test length otherwise); judged: "
            "classification_accuracy and classification_consistency. Per tier of 2 or more "
            "competencies: Haberman's (2008) PRMSE of each competency score against the tier "
            "total (pv.subscore_value), judged by subscore_value (report the competency score "
            "separately only when it predicts its true score better than the total). Per "
            "competency of 3 or more integer-scored items: pv.irt (2PL for 0/1 items, GRM "
            "otherwise) and each item's S-X2 (Orlando & Thissen 2000), Holm over every item "
            "of the framework, judged by irt_item_fit"),
        "skills_gap": (
            "with roles in the framework (role -> competency targets on the mean-score "
            "scale): each respondent's competency score +- 1.96 SEM (SD sqrt(1 - alpha)) "
            "against the target of their role (below / cannot tell / meets), per role the "
            "shares and the mean gap with its t interval, training needs ranked by n below x "
            "mean shortfall (pv.skills_gap); a competency whose alpha or omega fails, or "
            "whose model cannot be estimated, is not used (shown with the reason)"
            if fw.roles else "no roles in the framework: not run"),
        "content_validity": (
            "expert panel (content_ratings=): I-CVI, modified kappa*, Aiken's V with its "
            "score interval, Lawshe's CVR with its exact binomial p, assignment agreement "
            "per item, S-CVI/Ave per competency (pv.content_validity), judged by the content "
            "criteria (pv.content_verdicts); " + ev.panel_status.get("content_validity", "")),
        "standard_setting": (
            "modified Angoff (angoff_ratings=): the panel cut is the mean of the judges' "
            "summed ratings, se = SD / sqrt(J) (judges random, items fixed) and the "
            "generalizability SE with items random; change between rounds (paired t); "
            "ICC(2,1) / ICC(2,k) of the items x judges ratings; outlying judges (leave-one-"
            "out, and item ratings uncorrelated with the others'); impact: share at or above "
            "each final cut (pv.standard_setting); information, not judged; "
            + ev.panel_status.get("standard_setting", "")),
    }
    options = {"criteria_preset": crit.preset, "criteria_overrides": dict(crit.overrides),
               "ordinal": crit.ordinal, "ordinal_missing": ORDINAL_MISSING,
               "seed": ev.seed, "n_boot": ev.n_boot, "confidence_level": ev.level,
               "group_column": fw.group_columns[0] if fw.group_columns else None}
    responses = ev.responses
    provenance = {
        "psychoval": __version__, "numpy": np.__version__,
        "scipy": importlib.import_module("scipy").__version__, "pandas": pd.__version__,
        "python": platform.python_version(), "input_sha256": ev.sha,
        "input": str(responses) if isinstance(responses, (str, Path)) else
        type(responses).__name__, "seed": ev.seed,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "r_calls": dict(ev.run.r_calls),
    }
    return dict(
        framework_name=fw.name or "framework", n_respondents=int(ev.quality.n_respondents),
        data_quality=_quality_facts(ev.quality), competencies=ev.comp_df,
        items=_items_table(fw, ev.ia, ev.loadings, vframe).assign(
            tier_loading=lambda t: t["item"].map(ev.tier_loading).astype(float)),
        tiers=ev.tiers,
        discriminant=ev.pairs, cross_loadings=ev.cross, fit=ev.fit_df, raters=ev.raters,
        dimensionality=ev.dimensionality, verdicts=vframe, actions=actions, methods=methods,
        options=options, provenance=provenance, timings=dict(ev.run.timings),
        fairness=ev.fairness, invariance=ev.invariance, dmacs=ev.dmacs,
        adverse_impact=ev.adverse_impact, decisions=ev.decisions, subscores=ev.subscores,
        irt_items=ev.irt_items, skills_gap=ev.skills_gap, training_needs=ev.training_needs,
        content_items=ev.content_items, content_competencies=ev.content_competencies,
        content_comments=ev.content_comments, cut_scores=ev.cut_scores, impact=ev.impact,
        notes=tuple(ev.run.notes), framework=fw, criteria=crit, results=dict(ev.run.results))


# -- helpers ------------------------------------------------------------------------------
def _ordinal_method(crit: CriteriaSet) -> str:
    rule = {
        "auto": ("multiple-choice / dichotomous items (scored 0/1) and rating items with at "
                 f"most {MAX_ORDINAL_CATEGORIES} observed integer categories are ordered"),
        "always": "every item with integer codes is ordered",
        "never": "no item is fitted as ordered (ML / MLR throughout)",
    }[crit.ordinal]
    return (f"option ordinal = {crit.ordinal} (criteria or framework 'ordinal: auto | always | "
            f"never'): {rule}. A competency whose items are all ordered, and a tier or "
            "framework model whose competencies all are, is fitted by WLSMV; one with ordered "
            "and continuous items by ML / MLR with a note (mixed indicators are not available "
            "yet)")


def _resolve_criteria(criteria: Any, fw: Any) -> CriteriaSet:
    if criteria is None:
        base = make_criteria("default")
    elif isinstance(criteria, CriteriaSet):
        base = criteria
    elif isinstance(criteria, (str, Path)):
        base = make_criteria(criteria)
    elif isinstance(criteria, Mapping):
        base = make_criteria("default", dict(criteria))
    else:
        raise SpecificationError(
            "criteria must be None, a preset name, a criteria file path, a mapping "
            f"{{name: threshold}} or pv.criteria(...); got {type(criteria).__name__}")
    if fw.criteria:
        base = base.with_overrides(dict(fw.criteria), where="framework criteria")
    return base


def _competency_criteria(crit: CriteriaSet, comp: Any) -> CriteriaSet:
    if comp.criteria:
        return crit.with_overrides(dict(comp.criteria), where=f"competency {comp.id!r} criteria")
    return crit


@dataclasses.dataclass
class _Model:
    """One CFA of a validation run: its fit, or why it could not be estimated."""

    level: str
    target: str
    kind: str
    syntax: str
    estimator: str
    missing: str
    fit: Any = None
    reason: str | None = None  # set when the model could not be estimated
    note: str | None = None  # e.g. why ML rather than MLR
    tier: str | None = None
    competency: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    def row(self, *, approximate: bool) -> dict[str, Any]:
        """Its row of the fit table (fit indices empty when it was not estimated)."""
        if self.ok:
            return _fit_row(self.level, self.target, self.kind, self.fit,
                            approximate=approximate, note=self.note)
        row = dict.fromkeys(FIT_COLUMNS, math.nan)
        row.update(level=self.level, target=self.target, model=self.kind,
                   estimator=self.estimator, missing=self.missing,
                   n_obs=int(self.fit.n_obs) if self.fit is not None else None,
                   converged=bool(self.fit is not None and self.fit.converged),
                   admissible=bool(self.fit is not None and self.fit.admissible),
                   status="not_estimable", note=self.reason, robust=False,
                   approximate=approximate)
        return row

    def verdict(self) -> Verdict:
        what = {"one_factor": "one-factor", "correlated": "correlated-competencies",
                "second_order": "second-order",
                "tiers_second_order": "second-order (tiers)"}.get(self.kind, self.kind)
        return not_estimable(ESTIMABLE, target=self.target, level=self.level,
                             tier=self.tier, competency=self.competency,
                             reason=f"{what} CFA: {self.reason}")


def _mlr_cost(x: np.ndarray) -> tuple[float, int]:
    """Operations of MLR's robust pieces for these items (see MLR_BUDGET), and the number
    of missingness patterns."""
    miss = np.isnan(x)
    used = ~miss.all(axis=1)
    n_pat = len(np.unique(np.packbits(miss[used], axis=1), axis=0)) if used.any() else 0
    p = x.shape[1]
    dim = p + p * (p + 1) // 2
    return float(n_pat) * p**4 + float(used.sum()) * dim**2, n_pat


def _wlsmv_cost(x: np.ndarray) -> tuple[float, int, int]:
    """Casewise scores WLSMV's sample statistics keep for these items (see WLSMV_BUDGET):
    (rows x statistics, rows with an answer, thresholds + correlations)."""
    obs = ~np.isnan(x)
    n_rows = int(obs.any(axis=1).sum())
    nth = sum(max(len(np.unique(col[ok])) - 1, 0) for col, ok in zip(x.T, obs.T, strict=True))
    p = x.shape[1]
    n_stats = nth + p * (p - 1) // 2
    return float(n_rows) * n_stats, n_rows, n_stats


def _fit_model(cfa: Any, level: str, target: str, kind: str, syntax: str,
               data: pd.DataFrame, items: list[str], *, binary: bool, missing: str,
               ordinal: bool = False, note: str | None = None,
               tier: str | None = None, competency: str | None = None,
               table: Any = None) -> _Model:
    """Fit one CFA of the run; a model that cannot be estimated is returned with the reason
    (and the fix) instead of stopping the run.

    Estimator: WLSMV when every item is ordered (``ordinal``; missing data as
    ``ORDINAL_MISSING``); otherwise ML for dichotomous items (fit approximate) and MLR for the
    rest, unless its robust pieces would cost more than ``MLR_BUDGET`` operations (many
    items and missingness patterns), then ML with FIML and a note saying so. A WLSMV fit
    that cannot be made (e.g. an empty cell of a 0/1 pair's table) falls back to ML / MLR
    with the reason in the note. ``table``: the items' response patterns on every row of a
    scanned source (a :class:`ResponsePatterns`), which a WLSMV fit uses instead of ``data``.
    """
    if ordinal and table is None:
        cost, n_rows, n_stats = _wlsmv_cost(data[items].to_numpy(dtype=float))
        if cost > WLSMV_BUDGET:
            ordinal = False
            note = (f"fitted as continuous: WLSMV's sample statistics of this {len(items)}-item "
                    f"model would keep {n_rows} rows x {n_stats} thresholds and correlations "
                    f"({cost:.1e} casewise scores, about {cost * 20 / 1e9:.1f} GB)"
                    + (f"; {note}" if note else ""))
    if ordinal:
        m = _Model(level, target, kind, syntax, "WLSMV", ORDINAL_MISSING, note=note,
                   tier=tier, competency=competency)
        try:
            with collect_warnings() as caught:
                m.fit = cfa(syntax, data[items] if table is None else table.select(items),
                            ordered=True, estimator="WLSMV", missing=ORDINAL_MISSING)
        except (PsychovalError, np.linalg.LinAlgError) as exc:
            note = f"WLSMV not possible here ({exc}); fitted as continuous"
        else:
            r = m.fit.sample_cov.to_numpy()
            hit = np.argwhere(np.triu(np.abs(r) >= POLYCHORIC_BOUND, 1))
            if len(hit):  # lavaan's bound: the two items are (nearly) the same item
                a, b = (m.fit.sample_cov.index[k] for k in hit[0])
                m.reason = (f"items {a!r} and {b!r} have a polychoric correlation at the "
                            f"bound ({r[hit[0][0], hit[0][1]]:.3f}): they are linearly "
                            "dependent (a duplicated or recoded item); remove or fix the "
                            "offending items; nothing from this model is judged")
                return m
            return _judge_fit(m, caught)
    estimator = "ML"
    if not binary:
        x = data[items].to_numpy(dtype=float)
        cost, n_pat = _mlr_cost(x)
        if cost <= MLR_BUDGET:
            estimator = "MLR"
        else:
            note = (f"ML with FIML, normal-theory fit: the robust (MLR) correction of this "
                    f"{len(items)}-item model needs the saturated model's information over "
                    f"{n_pat} missingness patterns (about {cost:.1e} operations)"
                    + (f"; {note}" if note else ""))
    m = _Model(level, target, kind, syntax, estimator, missing, note=note, tier=tier,
               competency=competency)
    try:
        with collect_warnings() as caught:
            m.fit = cfa(syntax, data, estimator=estimator, missing=missing)
    except (PsychovalError, np.linalg.LinAlgError) as exc:
        m.reason = str(exc)
        if isinstance(exc, np.linalg.LinAlgError):
            m.reason = (f"the estimation failed numerically ({exc}); check the items for "
                        "zero variance or near-duplicates")
        return m
    return _judge_fit(m, caught)


def _judge_fit(m: _Model, caught: list) -> _Model:
    """Pass on the fit's warnings other than non-convergence; set the reason when it did not
    converge or is not identified."""
    conv = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    for w in caught:
        if w not in conv:
            warn(w.message, w.category)
    if m.fit.converged and not m.fit.identified:
        m.reason = (f"{m.fit.problems[0]}. Fix: drop or merge the factor or items named, or "
                    "constrain their loadings; nothing from this model is judged")
    elif not m.fit.converged:
        msg = str(conv[0].message) if conv else "the CFA did not converge"
        m.reason = (f"{msg}. Fix: look at the items named, check them for near-zero variance "
                    "or loadings, or drop the weakest item; nothing from this model is judged")
    return m


def _nested_test(fit: Any, fit2: Any) -> dict[str, Any]:
    from psychoval.stats import compare

    res = compare(fit, fit2, names=["correlated", "second_order"])
    return {"chisq_diff": float(res.chisq_diff[-1]), "df_diff": float(res.df_diff[-1]),
            "pvalue": float(res.pvalue[-1]), "method": res.method}


def _quality_facts(q: Any) -> dict[str, Any]:
    from scipy import stats as st

    resp = q.respondents
    # flagged, never dropped: Mahalanobis D2 beyond the chi-square .999 point on the items
    # each respondent answered (Meade & Craig 2012, doi:10.1037/a0028085)
    d2 = resp["mahalanobis"].to_numpy(dtype=float)
    df = resp["mahalanobis_df"].to_numpy(dtype=float)
    ok = ~np.isnan(d2) & (df > 0)
    crit = np.full(len(d2), np.inf)
    crit[ok] = st.chi2.isf(0.001, df[ok])
    outliers = resp.loc[ok & (d2 > crit), "id"].astype(str).tolist()
    return {
        "n_multivariate_outliers": len(outliers),
        "multivariate_outliers": outliers[:50],
        "outlier_rule": "Mahalanobis D2 above the chi-square .999 point (df = items answered); "
                        "flagged for review, not dropped (Meade & Craig 2012, "
                        "doi:10.1037/a0028085)",
        "n_respondents": int(q.n_respondents), "n_columns": int(q.n_columns),
        "missing_fraction": float(q.missing_fraction),
        "n_out_of_range": int(q.n_out_of_range), "n_invalid_codes": int(q.n_invalid_codes),
        "n_all_missing_rows": int(q.n_all_missing_rows),
        "n_duplicate_ids": int(q.n_duplicate_ids), "min_pairwise_n": int(q.min_pairwise_n),
        "n_complete": int((resp["n_missing"] == 0).sum()) if "n_missing" in resp else None,
        "problems": [str(p) for p in q.problems],
        "unknown_columns": [str(c) for c in q.unknown_columns],
    }


def item_evidence(scored: Any, fw: Any, groups: pd.Series | None,
                  criteria: Any = None) -> tuple[Any, Any, list, Any]:
    """The item-level evidence of a framework: item analysis within competencies, distractor
    analysis of the multiple-choice items, the DIF screen and the item flags.

    DIF: each group of ``groups`` against all the others (one comparison with two groups),
    ``pv.dif(method="auto", match="competency", missing="available", dif_type="uniform",
    purify=True)``: Mantel-Haenszel for 0/1 items, uniform cumulative-logit DIF otherwise, each
    item matched on the total of its own competency, studied item included (prorated over the
    answered items; every respondent who answered the item), items flagged in a first pass left
    out of the other items' matching scores until the flags repeat (purification, Holland &
    Thayer 1988; it keeps one DIF item from lending the other items of a short competency
    the opposite DIF); then ``pv.dif_screen``: one Holm family
    over every test of the screen (all comparisons x items) and ETS effect classes from that
    screen-wide significance. The studied item stays in its matching score because that keeps the
    test valid when groups differ in the competency itself (impact); a rest score does not
    (tests/test_dif.py measures both). Returns ``(item_analysis, distractors or None,
    [dif...], flags)``.
    """
    from psychoval.stats import dif, dif_screen, distractors, item_analysis
    from psychoval.verdicts._flags import flag_items

    ia = item_analysis(scored, framework=fw)
    sources: list[Any] = [ia]
    mc = {i.id: i.answer_key for i in fw.items if i.type == "multiple_choice"}
    dis = None
    if mc:
        dis = distractors(scored.options[list(mc)], answer_key=mc)
        sources.append(dis)
    difs = []
    if groups is not None and groups.nunique() >= 2:
        g = groups.astype("string").fillna("<missing>").to_numpy(dtype=object)
        levels = sorted(set(g) - {"<missing>"})
        keep = g != "<missing>"
        x = scored.scores.loc[keep, list(fw.item_ids)]
        for lv in levels[:1] if len(levels) == 2 else levels:
            lab = np.where(g[keep] == lv, lv, "others")
            difs.append(dif(x, group=lab, reference="others", focal=lv, method="auto",
                            framework=fw, match="competency", missing="available",
                            dif_type="uniform", purify=True))
        difs = dif_screen(difs)
        sources.extend(difs)
    flags = flag_items(sources, criteria=criteria)
    return ia, dis, difs, flags


def _tier_omega(omega_fn: Any, scores: pd.DataFrame, tier: Any, comps: list,
                run: Any) -> dict[str, Any]:
    """Omega hierarchical of a tier: psych's omega (Schmid-Leiman) with one group factor per
    competency, for tiers of 3 or more competencies (CONVENTIONS: never with 2)."""
    out: dict[str, Any] = {"omega_h": math.nan, "omega_total": math.nan, "ecv": math.nan}
    if len(comps) < 3:
        out["omega_note"] = (f"not computed: {len(comps)} competencies (omega hierarchical "
                             "needs at least 3 group factors)")
    else:
        items = [i for c in comps for i in c.item_ids]
        try:
            res = omega_fn(scores[items], n_factors=len(comps))
        except PsychovalError as exc:
            out["omega_note"] = f"not computed: {exc}"
            return out
        run.results[f"omega_tier:{tier.id}"] = res
        out.update(omega_h=float(res.omega_h), omega_total=float(res.omega_total),
                   ecv=float(res.ecv),
                   omega_note=(f"Schmid-Leiman over {len(comps)} group factors (one per "
                               f"competency), {len(items)} items, pairwise Pearson "
                               "correlations; no item reversed"))
    return out


def _item_verdicts(flags: Any, crit: CriteriaSet, item_competency: dict, item_tier: dict,
                   difs: list, details: dict) -> list[Verdict]:
    out: list[Verdict] = []
    by_name = {c.name: c for c in crit.items}
    dif_effect = _dif_effects(difs)
    for r in flags.flags.itertuples():
        c = by_name[r.flag]
        soften = None
        if r.flag == "dif":
            klass = dif_effect.get(r.item, "B")
            details[("dif", r.item)] = r.detail
            if klass != "C":
                soften = ("the effect is moderate (ETS class B: MH |D| 1 to 1.5 for 0/1 "
                          "items, |SMD|/SD .17 to .25 for ordered items); review it")
        if r.flag == "likely_miskey":
            details[("likely_miskey", r.item)] = f" ({r.detail})"
        out.append(judge(c, r.value, target=r.item, level="item",
                         tier=item_tier.get(r.item), competency=item_competency.get(r.item),
                         soften=soften, what=f"{r.item} {c.statistic}"))
    # an item flagged twice by DIF (two groups) keeps one verdict per comparison: fine
    return out


def _dif_class(effect: Any) -> str:
    """The class letter of a DIF row's effect class ("ETS class C (SMD)" -> "C"), or ""."""
    import re

    m = re.search(r"class ([ABC])\b", str(effect))
    return m.group(1) if m else ""


def _dif_effects(difs: list) -> dict[str, str]:
    """Largest effect class per item among its significant comparisons."""
    out: dict[str, str] = {}
    for d in difs:
        t = d.table
        for item, k, flagged in zip(t["item"], t["effect_class"], t["flagged"], strict=True):
            if flagged and _dif_class(k) > out.get(item, ""):
                out[item] = _dif_class(k)
    return out


def _dif_negligible(difs: list) -> list[str]:
    """One line per comparison naming the items with a significant but negligible (class A)
    DIF: information, not a verdict."""
    lines = []
    for d in difs:
        t = d.table
        a = [i for i, k, f in zip(t["item"], t["effect_class"], t["flagged"], strict=True)
             if f and _dif_class(k) == "A"]
        if a:
            lines.append(f"dif: {', '.join(map(str, d.focal))} vs {d.reference}: significant "
                         f"but negligible DIF (ETS class A) on {', '.join(a)} - information "
                         "only")
    return lines


_UNESTIMATED = "not judged: the {what} CFA of {target} could not be estimated (see its " \
    "'not estimable' verdict)"


def _loading_verdicts(loadings: pd.DataFrame, crit: CriteriaSet, fw: Any,
                      item_tier: dict, failed: dict) -> list[Verdict]:
    out = []
    for r in loadings.itertuples():
        cc = _competency_criteria(crit, fw.competency(r.competency)).get("loading")
        if cc is None:
            continue
        if ("competency", r.competency, "one_factor") in failed:
            out.append(not_applicable(cc, target=r.item, tier=item_tier[r.item],
                                      competency=r.competency, reason=_UNESTIMATED.format(
                                          what="one-factor", target=r.competency)))
            continue
        out.append(judge(cc, r.std_loading, lower=r.loading_lower, upper=r.loading_upper,
                         target=r.item, tier=item_tier[r.item], competency=r.competency,
                         what=f"{r.item} standardized loading"))
    return out


def _competency_verdicts(comp: pd.DataFrame, fit: pd.DataFrame, crit: CriteriaSet,
                         fw: Any, failed: dict) -> list[Verdict]:
    out: list[Verdict] = []
    for r in comp.itertuples():
        cs = _competency_criteria(crit, fw.competency(r.competency))
        kw = {"target": r.competency, "tier": r.tier, "competency": r.competency}
        own = ("competency", r.competency, "one_factor") in failed
        tier_failed = ("tier", r.tier, "correlated") in failed
        why_own = _UNESTIMATED.format(what="one-factor", target=r.competency)
        why_tier = _UNESTIMATED.format(what="correlated-competencies", target=r.tier)
        c = cs.get("alpha")
        if c is not None:
            out.append(judge(c, r.alpha, lower=r.alpha_lower, upper=r.alpha_upper,
                             what="alpha", **kw))
        c = cs.get("omega")
        if c is not None and own:
            out.append(not_applicable(c, reason=why_own, **kw))
        elif c is not None:
            out.append(judge(c, r.omega, lower=r.omega_lower, upper=r.omega_upper,
                             what="omega", **kw))
        f = fit[(fit["level"] == "competency") & (fit["target"] == r.competency)]
        for name in ("cfi", "tli", "rmsea", "srmr"):
            c = cs.get(name)
            if c is None:
                continue
            if own or not len(f):
                out.append(not_applicable(c, reason=why_own if own else
                                          f"{r.identification}: no fit indices", **kw))
                continue
            row = f.iloc[0]
            stat = name
            if c.robust and row["estimator"] == "WLSMV":
                stat = f"{name}_scaled"
            elif c.robust and row["robust"]:
                stat = f"{name}_robust"
            lo = row["rmsea_ci_lower"] if name == "rmsea" else math.nan
            hi = row["rmsea_ci_upper"] if name == "rmsea" else math.nan
            v = judge(c, row[name], lower=lo, upper=hi, statistic=stat,
                      what=stat.upper().replace("_ROBUST", " (robust)").replace(
                          "_SCALED", " (scaled, WLSMV)")
                      + (" (approximate: ML on dichotomous items)" if row["approximate"]
                         else ""), **kw)
            out.append(v)
        c = cs.get("ave")
        ave = getattr(r, "ave_tier", math.nan)
        crt = getattr(r, "cr_tier", math.nan)
        tf = fit[(fit["level"] == "tier") & (fit["target"] == r.tier)
                 & (fit["model"] == "correlated")]
        tier_ml = not len(tf) or tf.iloc[0]["estimator"] != "WLSMV"
        approx = ("ML loadings of dichotomous items are attenuated, so AVE is "
                  "underestimated (approximate: the tier model is not fitted as ordinal)"
                  if bool(getattr(r, "approximate_fit", False)) and tier_ml else None)
        if c is not None and tier_failed:
            out.append(not_applicable(c, reason=why_tier, **kw))
        elif c is not None:
            soften = (f"composite reliability {crt:.3f} >= .60" if not _nan(crt)
                      and crt >= 0.60 else approx)
            out.append(judge(c, ave, soften=soften, what="AVE", **kw))
        c = cs.get("fornell_larcker")
        if c is not None and tier_failed:
            out.append(not_applicable(c, reason=why_tier, **kw))
        elif c is not None and not _nan(getattr(r, "sqrt_ave", math.nan)):
            diff = r.sqrt_ave - r.max_cor
            out.append(judge(c, diff, soften=approx,
                             what=f"sqrt(AVE) {r.sqrt_ave:.3f} minus largest "
                             f"factor correlation {r.max_cor:.3f} =", **kw))
    return out


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _rater_verdicts(raters: pd.DataFrame, crit: CriteriaSet, item_tier: dict) -> list[Verdict]:
    c = crit.get("icc")
    out = []
    if c is None:
        return out
    for r in raters.itertuples():
        kw = {"target": r.item, "tier": item_tier.get(r.item), "competency": r.competency}
        if not r.available:
            out.append(not_applicable(c, reason="rater agreement (pv.icc) is not in this "
                                      "build of psychoval", **kw))
        else:
            out.append(judge(c, r.icc2k, lower=r.icc2k_lower, upper=r.icc2k_upper,
                             statistic="icc2k", what="ICC(2,k)", **kw))
    return out


def _tier_verdicts(pairs: pd.DataFrame, tiers: pd.DataFrame, cross: pd.DataFrame,
                   crit: CriteriaSet, fw: Any, details: dict) -> list[Verdict]:
    out: list[Verdict] = []
    c = crit.get("htmt")
    if c is not None:
        for r in pairs.itertuples():
            out.append(judge(c, r.htmt, target=f"{r.competency_a} ~ {r.competency_b}",
                             level="tier", tier=r.tier,
                             what=f"HTMT({r.competency_a}, {r.competency_b})"))
    c_mi, c_epc = crit.get("cross_loading_mi"), crit.get("cross_loading_epc")
    for r in cross.itertuples():
        kw = {"target": r.item, "tier": r.tier, "competency": r.competency, "level": "item"}
        details[("cross_loading", r.item)] = r.to
        details[("cross_loading_own", r.item)] = r.own_loading
        # Saris, Satorra & van der Veen (2009): the two are read together; either one alone
        # is not a misspecification worth acting on (borderline)
        small_epc = c_epc is not None and not c_epc.fires(abs(r.sepc_all))
        small_mi = c_mi is not None and not c_mi.fires(r.mi)
        if c_mi is not None:
            out.append(judge(c_mi, r.mi, what=f"MI of {r.to} =~ {r.item}", soften=(
                f"its standardized expected change {abs(r.sepc_all):.3f} is small"
                if small_epc else None), **kw))
        if c_epc is not None:
            out.append(judge(c_epc, abs(r.sepc_all), statistic="sepc_all",
                             what=f"|standardized EPC| of {r.to} =~ {r.item}", soften=(
                                 f"its modification index {r.mi:.2f} is not significant"
                                 if small_mi else None), **kw))
    c = crit.get("second_order")
    if c is not None:
        for r in tiers.itertuples():
            if r.n_competencies >= 4 and not _nan(getattr(r, "pvalue", math.nan)):
                out.append(judge(c, r.pvalue, target=r.tier, level="tier", tier=r.tier,
                                 what="nested test p-value (second-order vs correlated)"))
            else:
                out.append(not_applicable(c, target=r.tier, level="tier", tier=r.tier,
                                          reason=f"second-order model: {r.second_order}"))
    return out


def _items_table(fw: Any, ia: Any, loadings: pd.DataFrame, verdicts: pd.DataFrame
                 ) -> pd.DataFrame:
    t = ia.items
    lam = loadings.set_index("item")
    rows = []
    iv = verdicts[verdicts["level"] == "item"]
    for it in fw.items:
        r = t.loc[it.id] if it.id in t.index else None
        v = iv[iv["target"] == it.id]
        fails = v.loc[v["verdict"] == "fail", "criterion"].drop_duplicates().tolist()
        border = v.loc[v["verdict"] == "borderline", "criterion"].drop_duplicates().tolist()
        rows.append({
            "item": it.id, "competency": it.competency, "tier": it.tier, "type": it.type,
            "text": it.text, "reverse": bool(it.reverse),
            "n": float(r["n"]) if r is not None else math.nan,
            "mean": float(r["mean"]) if r is not None else math.nan,
            "sd": float(r["sd"]) if r is not None else math.nan,
            "difficulty": float(r["difficulty"]) if r is not None else math.nan,
            "r_drop": float(r["r_drop"]) if r is not None else math.nan,
            "alpha_if_dropped": float(r["alpha_if_dropped"]) if r is not None else math.nan,
            "std_loading": float(lam.loc[it.id, "std_loading"]) if it.id in lam.index
            else math.nan,
            "loading_lower": float(lam.loc[it.id, "loading_lower"]) if it.id in lam.index
            else math.nan,
            "loading_upper": float(lam.loc[it.id, "loading_upper"]) if it.id in lam.index
            else math.nan,
            "verdict": "fail" if fails else ("borderline" if border else "pass"),
            "flags": ", ".join(fails + [f"{b} (borderline)" for b in border]),
        })
    return pd.DataFrame(rows)
