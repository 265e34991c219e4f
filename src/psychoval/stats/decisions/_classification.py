"""Classification consistency and accuracy at cut scores (issue 20, section 2).

One public function, :func:`classification`, four methods that end in the same two tables:

- the accuracy table, P(true level = t, observed level = o);
- the consistency table, P(level on form 1 = i, level on form 2 = j) for two parallel forms
  that are independent given the true score;

and from them the overall indices (P_a, P_c, Cohen's kappa), per-level and per-cut indices
(each cut as a pass/fail decision: accuracy, consistency, kappa, false positives and
negatives) and the conditional SEM at each cut. The methods differ in the true-score model
and the error model: Livingston-Lewis and Hanson-Brennan (beta true scores, binomial or
compound binomial errors; raw scores), Rudner (normal errors around ability estimates) and
Lee (IRT, summed scores by the Lord-Wingersky recursion).

Length: about 800 lines - one function with four methods that share the input step, the
table algebra and the result face; split, each method would repeat them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import apply_missing, as_item_matrix, check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError
from psychoval.io import ResponseTable
from psychoval.stats.core._moments import alpha_from_cov
from psychoval.stats.decisions._irtprob import category_probabilities, summed_score_distribution
from psychoval.stats.decisions._truescore import (
    effective_length,
    error_pmf,
    fit_beta,
    level_nodes,
    lords_k,
    true_moments,
)

__all__ = ["classification", "ClassificationResult"]

METHODS = ("livingston_lewis", "hanson_brennan", "rudner", "lee")
_USED_BY = {"reliability": ("livingston_lewis", "hanson_brennan"),
            "score_range": ("livingston_lewis",), "n_items": ("hanson_brennan",),
            "lord_k": ("hanson_brennan",), "se": ("rudner",), "weights": ("rudner", "lee"),
            "item_params": ("lee",), "true_model": ("livingston_lewis", "hanson_brennan"),
            "D": ("lee",)}
_CUT_COLUMNS = ["cut", "accuracy", "consistency", "kappa", "false_positive", "false_negative",
                "csem"]


@dataclasses.dataclass(frozen=True, repr=False)
class ClassificationResult(Result):
    """Expected classification accuracy and consistency at cut scores.

    Attributes
    ----------
    method : str
    cuts : tuple of float
        The cut scores (increasing); a score at or above ``cuts[k]`` reaches level k + 1.
    levels : tuple of str
        Level labels, lowest first.
    accuracy_table : DataFrame
        Joint proportions P(true level = row, observed level = column); sums to 1.
    consistency_table : DataFrame
        Joint proportions P(form 1 level = row, form 2 level = column) of two parallel forms
        independent given the true score; sums to 1.
    p_a : float
        Overall accuracy, the proportion classified into their true level (trace of the
        accuracy table).
    p_c : float
        Overall consistency, the proportion classified alike on two forms.
    p_chance : float
        Chance agreement of the consistency table, sum of products of its margins.
    kappa : float
        Cohen's kappa of the consistency table, (p_c - p_chance) / (1 - p_chance).
    level_table : DataFrame
        Per level: ``lower`` / ``upper`` score bounds, ``true_proportion``,
        ``observed_proportion`` (expected proportions), ``accuracy`` (P(observed = level |
        true = level)), ``consistency`` (P(both forms in the level)).
    cut_table : DataFrame
        Per cut, the decision "at or above the cut": ``accuracy``, ``consistency``, ``kappa``,
        ``false_positive`` (proportion of everyone: true level below the cut, observed at or
        above), ``false_negative`` (true at or above, observed below) and ``csem`` (conditional
        standard error of measurement at the cut, on the score scale of the cuts).
    parameters : dict
        The fitted model: reliability used, effective test length, Lord's k, the beta
        true-score distribution, the number of items, and so on by method.
    notes : tuple of str
        Fallbacks and caveats (e.g. a four-parameter beta that was impermissible).
    n_total, n_used : int
        Scores given and used (None for Lee's method, which works on a latent distribution).
    rows_dropped : tuple of int
        Positions of the rows left out because of missing values (listwise).
    """

    _schema: ClassVar[str] = "psychoval.classification/1"
    method: str
    cuts: tuple[float, ...]
    levels: tuple[str, ...]
    accuracy_table: pd.DataFrame
    consistency_table: pd.DataFrame
    p_a: float
    p_c: float
    p_chance: float
    kappa: float
    level_table: pd.DataFrame
    cut_table: pd.DataFrame
    parameters: dict[str, Any]
    notes: tuple[str, ...]
    n_total: int | None
    n_used: int | None
    rows_dropped: tuple[int, ...]
    missing: str

    def _repr_fields(self) -> dict[str, Any]:
        return {"method": self.method, "levels": len(self.levels), "p_a": self.p_a,
                "p_c": self.p_c, "kappa": self.kappa, "n_used": self.n_used}

    def to_frame(self) -> pd.DataFrame:
        """The overall indices (``cut`` NaN) and each cut as a pass/fail decision, one row each."""
        overall = pd.DataFrame([{"decision": "overall", "cut": math.nan, "accuracy": self.p_a,
                                 "consistency": self.p_c, "kappa": self.kappa,
                                 "false_positive": math.nan, "false_negative": math.nan,
                                 "csem": math.nan}])
        cuts = self.cut_table.copy()
        cuts.insert(0, "decision", [f"cut {c:g}" for c in self.cuts])
        return pd.concat([overall, cuts], ignore_index=True)

    def summary(self) -> Summary:
        facts: list[tuple[str, Any]] = [("Method", _TITLES[self.method]),
                                        ("Cuts", ", ".join(f"{c:g}" for c in self.cuts)),
                                        ("Accuracy (P_a)", self.p_a),
                                        ("Consistency (P_c)", self.p_c),
                                        ("Kappa (consistency)", self.kappa)]
        facts += [(k.replace("_", " ").capitalize(), v) for k, v in self.parameters.items()
                  if isinstance(v, (int, float, str, np.floating, np.integer))]
        if self.n_used is not None:
            facts += [("Scores used", self.n_used), ("Rows dropped", len(self.rows_dropped))]
        tables = (("Levels", self.level_table.set_index("level")),
                  ("Each cut as a pass/fail decision", self.cut_table.set_index("cut")),
                  ("Accuracy table (true x observed)", self.accuracy_table),
                  ("Consistency table (form 1 x form 2)", self.consistency_table))
        notes = ("a score at or above a cut reaches the level above it",) + self.notes
        return Summary(title="Classification accuracy and consistency", facts=tuple(facts),
                       tables=tables, notes=notes)


_TITLES = {"livingston_lewis": "Livingston & Lewis (1995)",
           "hanson_brennan": "Hanson & Brennan (1990)", "rudner": "Rudner (2001, 2005)",
           "lee": "Lee (2010)"}


# ---------------------------------------------------------------------------------------
# tables -> indices


def _kappa(table: np.ndarray) -> tuple[float, float, float]:
    p = float(np.trace(table))
    chance = float(table.sum(axis=1) @ table.sum(axis=0))
    kappa = (p - chance) / (1 - chance) if chance < 1 - 1e-12 else math.nan
    return p, chance, kappa


def _collapse(table: np.ndarray, k: int) -> np.ndarray:
    """2 x 2 table of a K-level table split between levels < k and >= k."""
    return np.array([[table[:k, :k].sum(), table[:k, k:].sum()],
                     [table[k:, :k].sum(), table[k:, k:].sum()]])


def _labels(cuts: np.ndarray, labels: Sequence[str] | None) -> tuple[str, ...]:
    if labels is not None:
        labels = tuple(str(v) for v in labels)
        if len(labels) != len(cuts) + 1 or len(set(labels)) != len(labels):
            raise SpecificationError(
                f"labels= needs {len(cuts) + 1} distinct names (one per level: cuts + 1); got "
                f"{list(labels)}")
        return labels
    out = [f"below {cuts[0]:g}"]
    out += [f"{lo:g} to below {hi:g}" for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)]
    out.append(f"{cuts[-1]:g} and above")
    return tuple(out)


def _assemble(method: str, cuts: np.ndarray, labels: tuple[str, ...], acc: np.ndarray,
              con: np.ndarray, csem: np.ndarray, bounds: tuple[float, float],
              parameters: dict[str, Any], notes: list[str], n_total: int | None,
              n_used: int | None, dropped: tuple[int, ...], missing: str
              ) -> ClassificationResult:
    acc = acc / acc.sum()
    con = con / con.sum()
    con = (con + con.T) / 2
    p_a = float(np.trace(acc))
    p_c, chance, kappa = _kappa(con)
    true_p, obs_p = acc.sum(axis=1), acc.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        level_acc = np.where(true_p > 0, np.diag(acc) / true_p, np.nan)
    edges = np.concatenate([[bounds[0]], cuts, [bounds[1]]])
    level_table = pd.DataFrame({"level": labels, "lower": edges[:-1], "upper": edges[1:],
                                "true_proportion": true_p, "observed_proportion": obs_p,
                                "accuracy": level_acc, "consistency": np.diag(con)})
    rows = []
    for k, cut in enumerate(cuts, start=1):
        a2, c2 = _collapse(acc, k), _collapse(con, k)
        _, _, kap = _kappa(c2)
        rows.append({"cut": float(cut), "accuracy": float(np.trace(a2)),
                     "consistency": float(np.trace(c2)), "kappa": kap,
                     "false_positive": float(a2[0, 1]), "false_negative": float(a2[1, 0]),
                     "csem": float(csem[k - 1])})
    idx = pd.Index(labels)
    return ClassificationResult(
        method=method, cuts=tuple(float(c) for c in cuts), levels=labels,
        accuracy_table=pd.DataFrame(acc, index=idx.rename("true"),
                                    columns=idx.rename("observed")),
        consistency_table=pd.DataFrame(con, index=idx.rename("form_1"),
                                       columns=idx.rename("form_2")),
        p_a=p_a, p_c=p_c, p_chance=chance, kappa=kappa, level_table=level_table,
        cut_table=pd.DataFrame(rows, columns=_CUT_COLUMNS), parameters=parameters,
        notes=tuple(notes), n_total=n_total, n_used=n_used, rows_dropped=dropped,
        missing=missing)


def _tables(nodes_w: np.ndarray, true_level: np.ndarray, obs_p: np.ndarray, n_levels: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and consistency tables from nodes of the true-score distribution: weights,
    true level of each node, and P(observed level | node) (nodes x levels)."""
    onehot = np.zeros((len(true_level), n_levels))
    onehot[np.arange(len(true_level)), true_level] = 1.0
    wp = obs_p * nodes_w[:, None]
    return onehot.T @ wp, obs_p.T @ wp


# ---------------------------------------------------------------------------------------
# input


def _check_cuts(cuts: Any) -> np.ndarray:
    try:
        c = np.atleast_1d(np.asarray(cuts, dtype=float))
    except (TypeError, ValueError):
        raise SpecificationError(f"cuts={cuts!r} must be a number or a list of numbers") \
            from None
    if c.ndim != 1 or len(c) == 0 or not np.isfinite(c).all():
        raise SpecificationError(f"cuts={cuts!r} must be one or more finite numbers")
    if np.any(np.diff(c) <= 0):
        raise SpecificationError(f"cuts={c.tolist()} must be strictly increasing (one per "
                                 "boundary between levels, lowest first)")
    return c


def _check_reliability(reliability: Any) -> float:
    try:
        r = float(reliability)
    except (TypeError, ValueError):
        r = math.nan
    if not 0 < r < 1:
        raise SpecificationError(
            f"reliability={reliability!r} must be a number between 0 and 1 (e.g. alpha: "
            "pv.alpha(items).raw_alpha)")
    return r


@dataclasses.dataclass
class _Scores:
    x: np.ndarray
    n_total: int
    dropped: tuple[int, ...]
    reliability: float | None
    source: str
    n_items: int | None
    item_range: tuple[float, float] | None


def _scores(data: Any, missing: str, *, need_binary: bool) -> _Scores:
    """1-d scores or a 2-d item matrix (rows summed; alpha of the complete rows)."""
    check_choice("missing", missing, ("listwise", "raise"))
    if isinstance(data, pd.DataFrame):
        ndim = 1 if data.shape[1] == 1 else 2
        if ndim == 1:
            data = data.iloc[:, 0]
    elif isinstance(data, ResponseTable):
        ndim = 2
    elif isinstance(data, (np.ndarray, pd.Series)):
        ndim = data.ndim
    else:
        ndim = np.ndim(np.asarray(data, dtype=object))
    if ndim == 1:
        try:
            x = np.asarray(data, dtype=float)
        except (TypeError, ValueError):
            try:
                x = np.asarray(pd.to_numeric(pd.Series(np.asarray(data, dtype=object)),
                                             errors="raise"), dtype=float)
            except (TypeError, ValueError) as exc:
                raise DataError(f"scores must be numbers ({exc})") from None
        if np.isinf(x).any():
            row = int(np.flatnonzero(np.isinf(x))[0])
            raise DataError(f"scores has an infinite value at row {row}; scores must be finite "
                            "numbers or missing")
        bad = np.isnan(x)
        if bad.any() and missing == "raise":
            raise DataError(f"scores is missing at row {int(np.flatnonzero(bad)[0])} "
                            f"({int(bad.sum())} missing); choose missing='listwise' to leave "
                            "them out")
        dropped = tuple(np.flatnonzero(bad).tolist()) if bad.any() else ()
        x = x[~bad] if bad.any() else x
        if len(x) < 2:
            raise DataError(f"scores has {len(x)} usable value(s); at least 2 are needed")
        return _Scores(x, len(bad), dropped, None, "", None, None)
    m = as_item_matrix(data, min_items=2, what="data")
    m, info = apply_missing(m, missing, allowed=("listwise", "raise"))
    v = m.values
    if need_binary and not np.isin(v, (0.0, 1.0)).all():
        r, c = np.argwhere(~np.isin(v, (0.0, 1.0)))[0]
        raise DataError(
            f"item {m.items[c]!r} has the value {v[r, c]:g} at {m.row(int(r))}: this method "
            "counts items right (1) or wrong (0); score the items first or use "
            "method='livingston_lewis'")
    cov = np.cov(v, rowvar=False)
    rel = float(alpha_from_cov(cov))
    binary = bool(np.isin(v, (0.0, 1.0)).all())
    return _Scores(v.sum(axis=1), info.n_total, info.rows_dropped, rel,
                   "KR-20 of the items" if binary else "alpha of the items", m.k,
                   (0.0, float(m.k)) if binary else None)


# ---------------------------------------------------------------------------------------
# the beta-binomial family


def _beta_method(s: _Scores, cuts: np.ndarray, *, n: int, scale_n: float, k: float, lo: float,
                 hi: float, obs_cut_scaled: np.ndarray, true_cut_prop: np.ndarray, true_model: str,
                 parameters: dict[str, Any], notes: list[str]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shared core: true-score moments on n, beta fit, tables. ``obs_cut_scaled``: the lowest
    score on 0..n at or above each cut; ``true_cut_prop``: each cut as a true proportion;
    ``scale_n``: the length the scores are rescaled to for the moments (the unrounded
    effective length for Livingston-Lewis)."""
    xs = (s.x - lo) / (hi - lo) * scale_n if (lo, hi) != (0.0, scale_n) else s.x
    if scale_n < 4 and true_model == "4P":  # the third and fourth moments are not identified
        true_model = "2P"
        notes.append(f"a test of length {scale_n:.4g} (below 4) identifies only the mean and "
                     "variance of the true scores: the two-parameter beta on [0, 1] is used")
    with np.errstate(all="ignore"):
        m = true_moments(xs, scale_n, k, order=4 if true_model == "4P" else 2)
    if not np.isfinite(m).all():
        raise DataError(f"the true-score moments cannot be computed from these scores with "
                        f"n = {scale_n:.4g} and Lord's k = {k:.4g}: the reliability does not fit "
                        "them (give lord_k= or use method='livingston_lewis')")
    model = fit_beta(np.concatenate([m, np.zeros(4 - len(m))]), true_model=true_model)
    if model is None:
        raise DataError(
            "the scores imply no beta true-score distribution (estimated true-score variance "
            f"{m[1] - m[0] ** 2:.4g} with mean proportion {m[0]:.4g}): the reliability or the "
            "score range does not fit these scores")
    if model.note:
        notes.append(model.note)
    parameters.update(true_model=model.kind, beta_alpha=model.alpha, beta_beta=model.beta,
                      beta_l=model.l, beta_u=model.u, true_mean=float(m[0]),
                      true_variance=float(m[1] - m[0] ** 2))
    try:
        tau, w, tl = level_nodes(model, true_cut_prop)
    except (OverflowError, FloatingPointError, ValueError):
        tau = np.array([np.nan])
    if not np.isfinite(tau).all():
        raise DataError(
            f"the fitted true-score distribution is degenerate (beta shapes {model.alpha:.3g}, "
            f"{model.beta:.3g}): the scores pile up at the ends of the range, or the "
            "reliability does not fit them")
    pmf = error_pmf(tau, n, k)
    bounds = np.concatenate([[0], obs_cut_scaled, [n + 1]]).astype(int)

    def tables(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cum = np.concatenate([np.zeros((len(tau), 1)), np.cumsum(p, axis=1)], axis=1)
        return _tables(w, tl, cum[:, bounds[1:]] - cum[:, bounds[:-1]], len(cuts) + 1)

    acc, con = tables(pmf)
    if min(acc.min(), con.min()) < -1e-12:
        # the two-term approximation's negative probabilities (kept, as in Hanson & Brennan,
        # while the tables stay probabilities) made a table cell negative: set them to 0 and
        # rescale each conditional distribution, and say so
        negative = -np.minimum(pmf, 0.0).sum(axis=1).max()
        notes.append(
            f"Lord's two-term approximation with k = {k:.4g} gives negative probabilities "
            f"(mass up to {negative:.2g} at some true scores) that made a table cell negative: "
            "they were set to 0 and each conditional distribution rescaled to sum to 1; a k "
            "this large means the reliability is high for the number of items (consider "
            "method='livingston_lewis' or a smaller lord_k=)")
        clipped = np.maximum(pmf, 0.0)
        acc, con = tables(clipped / clipped.sum(axis=1, keepdims=True))
    pq = true_cut_prop * (1 - true_cut_prop)
    csem = np.sqrt(np.maximum((n - 2 * k) * pq, 0.0)) * (hi - lo) / n
    return acc, con, csem


def _livingston_lewis(s: _Scores, cuts: np.ndarray, *, reliability: Any, score_range: Any,
                      true_model: str, parameters: dict[str, Any], notes: list[str]):
    if score_range is None:
        if s.item_range is None:
            raise SpecificationError(
                "score_range=(min, max) is needed: the lowest and highest possible scores "
                "(e.g. score_range=(0, 40) for 40 items scored 0/1)")
        lo, hi = s.item_range
    else:
        lo, hi = _range(score_range)
    rel = _reliability(s, reliability, parameters)
    out = np.flatnonzero((s.x < lo) | (s.x > hi))
    if len(out):
        raise DataError(f"the score {s.x[out[0]]:g} (row {out[0]}) is outside score_range="
                        f"({lo:g}, {hi:g})")
    mean, var = float(s.x.mean()), float(s.x.var(ddof=1))
    if var <= 0:
        raise DataError("the scores do not vary: no true-score distribution can be fitted")
    etl = effective_length(mean, var, lo, hi, rel)
    if not (math.isfinite(etl) and etl >= 2):
        raise DataError(f"the effective test length is {etl:.4g} (from reliability {rel:.4g}, "
                        f"mean {mean:.4g}, variance {var:.4g}, range {lo:g}-{hi:g}); it must be "
                        "at least 2: check score_range and reliability")
    n = int(round(etl))
    parameters.update(effective_test_length=etl, effective_test_length_rounded=n,
                      score_min=lo, score_max=hi)
    _check_cut_range(cuts, lo, hi, "the score range (score_range)")
    prop = (cuts - lo) / (hi - lo)
    obs_cut = np.ceil(prop * n - 1e-9)
    acc, con, csem = _beta_method(s, cuts, n=n, scale_n=etl, k=0.0, lo=lo, hi=hi,
                                  obs_cut_scaled=np.clip(obs_cut, 0, n + 1),
                                  true_cut_prop=prop, true_model=true_model,
                                  parameters=parameters, notes=notes)
    return acc, con, csem, (lo, hi)


def _hanson_brennan(s: _Scores, cuts: np.ndarray, *, reliability: Any, n_items: Any,
                    lord_k: Any, true_model: str, parameters: dict[str, Any],
                    notes: list[str]):
    if n_items is None:
        if s.n_items is None:
            raise SpecificationError("n_items= is needed with total scores: the number of "
                                     "items the scores count (e.g. n_items=40)")
        n = s.n_items
    else:
        if not (isinstance(n_items, (int, np.integer)) and n_items >= 2):
            raise SpecificationError(f"n_items={n_items!r} must be an integer >= 2")
        if s.n_items is not None and n_items != s.n_items:
            raise SpecificationError(f"n_items={n_items} but the data have {s.n_items} items")
        n = int(n_items)
    bad = np.flatnonzero((s.x < 0) | (s.x > n) | (s.x != np.round(s.x)))
    if len(bad):
        raise DataError(f"the score {s.x[bad[0]]:g} (row {bad[0]}) is not a number-correct "
                        f"score 0..{n} (n_items={n})")
    mean, var = float(s.x.mean()), float(s.x.var(ddof=1))
    if var <= 0:
        raise DataError("the scores do not vary: no true-score distribution can be fitted")
    if lord_k is None:
        rel = _reliability(s, reliability, parameters)
        k = float(lords_k(mean, var, n, rel))
        if not math.isfinite(k):
            raise DataError(f"Lord's k cannot be computed from reliability {rel:.4g} with these "
                            "scores; give lord_k= directly")
    else:
        k = float(lord_k)
        parameters["reliability"] = math.nan
        parameters["reliability_source"] = "not used (lord_k given)"
    _check_cut_range(cuts, 0.0, float(n), "the number-correct range")
    parameters.update(n_items=n, lord_k=k)
    true_prop = cuts / n
    obs_cut = np.clip(np.ceil(cuts - 1e-9), 0, n + 1)
    acc, con, csem = _beta_method(s, cuts, n=n, scale_n=float(n), k=k, lo=0.0, hi=float(n),
                                  obs_cut_scaled=obs_cut, true_cut_prop=np.clip(true_prop, 0, 1),
                                  true_model=true_model, parameters=parameters, notes=notes)
    return acc, con, csem, (0.0, float(n))


def _check_cut_range(cuts: np.ndarray, lo: float, hi: float, what: str) -> None:
    out = cuts[(cuts < lo) | (cuts > hi)]
    if len(out):
        raise SpecificationError(
            f"cut {out[0]:g} is outside {what} {lo:g}..{hi:g}: cuts are on the scale of the "
            "scores classified (a framework's cut_score is on the mean item scale: times the "
            "number of items gives the total-score cut)")


def _range(score_range: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in score_range)
    except (TypeError, ValueError):
        raise SpecificationError(f"score_range={score_range!r} must be a pair (min, max) of the "
                                 "lowest and highest possible scores") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise SpecificationError(f"score_range={score_range!r} must be finite with min < max")
    return lo, hi


def _reliability(s: _Scores, reliability: Any, parameters: dict[str, Any]) -> float:
    if reliability is None:
        if s.reliability is None:
            raise SpecificationError(
                "reliability= is needed with total scores (e.g. alpha or KR-20 of the test: "
                "pv.alpha(items).raw_alpha), or pass the item responses instead of totals")
        rel, src = s.reliability, s.source
        if not 0 < rel < 1:
            raise DataError(f"the {src} is {rel:.4g}; it must be between 0 and 1 for this method")
    else:
        rel, src = _check_reliability(reliability), "given"
    parameters.update(reliability=rel, reliability_source=src)
    return rel


# ---------------------------------------------------------------------------------------
# IRT-based


def _vector_1d(x: Any, name: str) -> np.ndarray:
    try:
        v = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{name} must be numbers") from None
    if v.ndim == 0:
        v = v[None]
    if v.ndim != 1:
        raise DataError(f"{name} must be one-dimensional; got shape {v.shape}")
    return v


def _weights(weights: Any, n: int, what: str) -> np.ndarray:
    if weights is None:
        return np.full(n, 1.0 / n)
    w = _vector_1d(weights, "weights")
    if len(w) != n:
        raise SpecificationError(f"weights has {len(w)} values for {n} {what}")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise SpecificationError("weights must be finite, non-negative and not all zero")
    return w / w.sum()


def _rudner(theta: Any, cuts: np.ndarray, *, se: Any, weights: Any, missing: str,
            parameters: dict[str, Any]):
    from scipy.special import ndtr

    th = _vector_1d(theta, "theta")
    if se is None:
        raise SpecificationError("method='rudner' needs se= (the standard error of each "
                                 "ability estimate, or one value for all)")
    sev = _vector_1d(se, "se")
    if len(sev) == 1:
        sev = np.full(len(th), sev[0])
    if len(sev) != len(th):
        raise DataError(f"se has {len(sev)} values for {len(th)} ability estimates")
    bad = np.isnan(th) | np.isnan(sev)
    check_choice("missing", missing, ("listwise", "raise"))
    if bad.any() and missing == "raise":
        raise DataError(f"theta or se is missing at row {int(np.flatnonzero(bad)[0])}; choose "
                        "missing='listwise' to leave such rows out")
    n_total = len(th)
    dropped = tuple(np.flatnonzero(bad).tolist()) if bad.any() else ()
    w = None
    if weights is not None:
        w = _vector_1d(weights, "weights")
        if len(w) != n_total:
            raise SpecificationError(f"weights has {len(w)} values for {n_total} abilities")
        w = w[~bad]
    if bad.any():
        th, sev = th[~bad], sev[~bad]
    if len(th) == 0:
        raise DataError("no ability estimate with a standard error is left")
    if not (np.isfinite(th).all() and np.isfinite(sev).all()) or (sev <= 0).any():
        i = int(np.flatnonzero(~np.isfinite(th) | ~np.isfinite(sev) | (sev <= 0))[0])
        raise DataError(f"row {i}: theta {th[i]!r} with se {sev[i]!r}; abilities must be finite "
                        "and standard errors finite and positive")
    w = _weights(w, len(th), "abilities")
    k = len(cuts) + 1
    cdf = np.empty((len(th), k + 1))
    cdf[:, 0], cdf[:, -1] = 0.0, 1.0
    cdf[:, 1:-1] = ndtr((cuts[None, :] - th[:, None]) / sev[:, None])
    p = np.diff(cdf, axis=1)  # P(true level | estimate), normal error
    obs = np.searchsorted(cuts, th, side="right")
    wp = p * w[:, None]
    # true x observed: the estimate's level is the observed level
    acc = np.stack([np.bincount(obs, weights=wp[:, t], minlength=k) for t in range(k)])
    con = p.T @ wp
    csem = np.array([_at_cut(th, sev, c) for c in cuts])
    parameters.update(error_model="normal (theta | estimate ~ N(estimate, se^2))",
                      mean_se=float(np.sum(w * sev)))
    return acc, con, csem, (-math.inf, math.inf), n_total, len(th), dropped


def _at_cut(th: np.ndarray, se: np.ndarray, cut: float) -> float:
    """The standard error at ``cut``, interpolated between the nearest estimates on either
    side (the nearest one when the cut is outside them)."""
    below, above = th <= cut, th >= cut
    if not below.any() or not above.any():
        return float(se[np.argmin(np.abs(th - cut))])
    i = np.flatnonzero(below)[np.argmax(th[below])]
    j = np.flatnonzero(above)[np.argmin(th[above])]
    if th[j] == th[i]:
        return float(se[i])
    f = (cut - th[i]) / (th[j] - th[i])
    return float(se[i] + f * (se[j] - se[i]))


def _lee_csem(cut: float, item_params: Any, D: float) -> float:
    """SD of the summed score at the ability whose expected summed score is ``cut`` (NaN when
    no ability in [-20, 20] has it)."""
    from scipy.optimize import brentq

    def moments(t: float) -> tuple[float, float]:
        p = category_probabilities(np.array([t]), item_params, D=D)[0]
        c = np.arange(p.shape[1])
        mean_j = p @ c
        return float(mean_j.sum()), float((p @ c ** 2 - mean_j ** 2).sum())

    lo, hi = moments(-20.0)[0] - cut, moments(20.0)[0] - cut
    if not lo < 0 < hi:
        return math.nan
    t = brentq(lambda v: moments(v)[0] - cut, -20.0, 20.0, xtol=1e-12)
    return math.sqrt(max(moments(t)[1], 0.0))


def _lee(data: Any, cuts: np.ndarray, *, weights: Any, item_params: Any, D: float,
         parameters: dict[str, Any]):
    if item_params is not None:
        theta = _vector_1d(data, "theta (quadrature nodes)")
        if not np.isfinite(theta).all():
            raise DataError("theta nodes must be finite")
        probs = category_probabilities(theta, item_params, D=D)
        parameters["item_model"] = "graded response" if "thresholds" in item_params else (
            "3PL" if "c" in item_params else "2PL")
        parameters["D"] = D
    else:
        try:
            probs = np.asarray(data, dtype=float)
        except (TypeError, ValueError):
            raise DataError("method='lee' takes category probabilities (nodes x items x "
                            "categories) or theta nodes with item_params=") from None
        if probs.ndim != 3:
            raise DataError(f"method='lee' takes category probabilities as a 3-d array (nodes x "
                            f"items x categories); got shape {probs.shape} - or pass theta "
                            "nodes with item_params=")
        probs = np.nan_to_num(probs, nan=0.0)
        if (probs < 0).any() or not np.allclose(probs.sum(axis=2), 1.0, atol=1e-8):
            q, j = np.argwhere(~np.isclose(probs.sum(axis=2), 1.0, atol=1e-8) |
                               (probs < 0).any(axis=2))[0]
            raise DataError(f"node {q}, item {j}: the category probabilities "
                            f"{probs[q, j].tolist()} must be non-negative and sum to 1")
        parameters["item_model"] = "category probabilities given"
    w = _weights(weights, probs.shape[0], "nodes")
    dist = summed_score_distribution(probs)
    top = dist.shape[1] - 1
    _check_cut_range(cuts, 0.0, float(top), "the summed-score range")
    cats = np.arange(probs.shape[2])
    tau = (probs * cats).sum(axis=(1, 2))
    true_level = np.searchsorted(cuts, tau, side="right")
    cum = np.concatenate([np.zeros((len(tau), 1)), np.cumsum(dist, axis=1)], axis=1)
    bounds = np.concatenate([[0], np.clip(np.ceil(cuts - 1e-9), 0, top + 1), [top + 1]])
    obs = cum[:, bounds[1:].astype(int)] - cum[:, bounds[:-1].astype(int)]
    acc, con = _tables(w, true_level, obs, len(cuts) + 1)
    if item_params is not None:
        csem = np.array([_lee_csem(float(c), item_params, D) for c in cuts])
    else:
        x = np.arange(top + 1)
        var = dist @ x ** 2 - (dist @ x) ** 2
        order = np.argsort(tau, kind="stable")
        csem = np.interp(cuts, tau[order], np.sqrt(np.maximum(var[order], 0)),
                         left=math.nan, right=math.nan)
    parameters.update(n_items=probs.shape[1], max_score=top, n_nodes=probs.shape[0])
    return acc, con, csem, (0.0, float(top))


# ---------------------------------------------------------------------------------------


def classification(scores_or_data: Any, cuts: Any, *, method: str = "livingston_lewis",
                   reliability: float | None = None, score_range: Any = None,
                   n_items: int | None = None, lord_k: float | None = None,
                   true_model: str = "4P", se: Any = None, weights: Any = None,
                   item_params: Mapping[str, Any] | None = None, D: float = 1.0,
                   labels: Sequence[str] | None = None, missing: str = "listwise"
                   ) -> ClassificationResult:
    """Expected classification accuracy and consistency at one or more cut scores.

    Accuracy is the agreement of the observed level with the true level; consistency the
    agreement of the levels on two parallel forms, independent given the true score. Both
    come from one administration and a model of true scores and errors:

    - ``"livingston_lewis"``: scores of any kind on a known range; reliability gives the
      effective test length n (items of a binomial test with that reliability); the true
      proportion has a four-parameter beta distribution (method of moments); observed scores
      rescaled to 0..n are binomial given the true score.
    - ``"hanson_brennan"``: number-correct scores of n items; beta true scores and Lord's
      two-term compound binomial errors (k from reliability; ``lord_k=0`` is the
      beta-binomial).
    - ``"rudner"``: ability estimates with standard errors; the true ability is normal around
      each estimate (cuts on the ability scale).
    - ``"lee"``: IRT category probabilities at quadrature nodes of the ability distribution
      (or nodes and item parameters); the summed score's distribution at each node by the
      Lord-Wingersky recursion; the true level is that of the expected summed score.

    Parameters
    ----------
    scores_or_data : array-like
        ``livingston_lewis`` / ``hanson_brennan``: one total score per respondent, or the item
        responses (respondents x items; rows are summed, alpha / KR-20 of the items is the
        reliability unless given). ``rudner``: ability estimates. ``lee``: category
        probabilities (nodes x items x categories), or theta nodes with ``item_params``.
    cuts : float or sequence of float
        Increasing cut scores on the scale of the scores (summed scores for Lee, abilities for
        Rudner); a score at or above ``cuts[k]`` reaches level k + 1.
    method : {"livingston_lewis", "hanson_brennan", "rudner", "lee"}
    reliability : float, optional
        Reliability of the total score (e.g. alpha); required with total scores for the two
        beta methods.
    score_range : (min, max), optional
        Livingston-Lewis: lowest and highest possible scores (defaults to (0, items) for
        0/1 item data).
    n_items : int, optional
        Hanson-Brennan: number of items the scores count (taken from item data).
    lord_k : float, optional
        Hanson-Brennan: Lord's k given directly instead of from the reliability.
    true_model : {"4P", "2P"}
        Beta true-score model of the two beta methods: four parameters (falling back to the
        two-parameter beta on [0, 1] with a note when impermissible) or two.
    se : array-like or float, optional
        Rudner: standard error of each ability estimate.
    weights : array-like, optional
        Lee: quadrature weights of the nodes (the latent distribution; normalised); Rudner:
        weights of the respondents. Equal by default.
    item_params : mapping, optional
        Lee: ``{"a", "b"}`` (2PL), with ``"c"`` (3PL), or ``{"a", "thresholds"}`` (graded
        response; items x boundaries, NaN-padded); then ``scores_or_data`` are theta nodes.
    D : float
        Lee with item_params: scaling constant of the logistic (1.0; 1.702 for the normal
        metric; cacIRT's default is 1.7).
    labels : sequence of str, optional
        Names of the levels, lowest first.
    missing : {"listwise", "raise"}
        Rows with a missing score, item or standard error are left out and counted, or raise.

    Returns
    -------
    ClassificationResult

    Raises
    ------
    SpecificationError
        Unknown method, cuts not increasing, a required argument missing (reliability,
        score_range, n_items, se), bad item parameters.
    DataError
        Scores outside the range or not number-correct, no variance, an effective test length
        below 2, scores that imply no beta true-score distribution, probabilities that do not
        sum to one.

    Notes
    -----
    With the accuracy table A (true t x observed o) and the consistency table C,
    P_a = sum_t A_tt, P_c = sum_i C_ii, kappa = (P_c - P_e) / (1 - P_e) with
    P_e = sum_i C(i, +) C(+, i) (the margins). For the beta methods, with true proportion
    tau ~ g and
    P_o(tau) = P(observed level o | tau),
    A_to = int_{level t} g(tau) P_o(tau) dtau and C_ij = int g(tau) P_i(tau) P_j(tau) dtau.
    Effective test length (Livingston & Lewis 1995):
    n = ((mu - min)(max - mu) - r s^2) / (s^2 (1 - r)), rounded for the binomial; an observed
    score reaches a cut when its proportion of the range does (the lowest of 0..n at or above
    n (cut - min)/(max - min); betafunctions::LL.CA rounds n times the proportion instead).
    The true-score moments follow from the factorial moments of the scores (Lord 1965;
    Hanson 1991). The conditional SEM at a cut is sqrt((n - 2k) p (1 - p)) on n items,
    rescaled to the score range, at p = the cut's proportion (k = 0 for Livingston-Lewis);
    Rudner: the standard error interpolated at the cut; Lee: the SD of the summed score at the
    ability whose expected summed score is the cut.

    References
    ----------
    Livingston, S. A., & Lewis, C. (1995). Estimating the consistency and accuracy of
    classifications based on test scores. Journal of Educational Measurement, 32(2), 179-197.
    https://doi.org/10.1111/j.1745-3984.1995.tb00462.x
    Hanson, B. A., & Brennan, R. L. (1990). An investigation of classification consistency
    indexes estimated under alternative strong true score models. Journal of Educational
    Measurement, 27(4), 345-359. https://doi.org/10.1111/j.1745-3984.1990.tb00753.x
    Hanson, B. A. (1991). Method of moments estimates for the four-parameter beta compound
    binomial model and the calculation of classification consistency indexes (ACT Research
    Report 91-5). ACT.
    Lord, F. M. (1965). A strong true-score theory, with applications. Psychometrika, 30(3),
    239-270. https://doi.org/10.1007/BF02289490
    Rudner, L. M. (2005). Expected classification accuracy. Practical Assessment, Research &
    Evaluation, 10(13). https://doi.org/10.7275/56a5-6b14
    Lee, W.-C. (2010). Classification consistency and accuracy for complex assessments using
    item response theory. Journal of Educational Measurement, 47(1), 1-17.
    https://doi.org/10.1111/j.1745-3984.2009.00096.x
    Lord, F. M., & Wingersky, M. S. (1984). Comparison of IRT true-score and equipercentile
    observed-score "equatings". Applied Psychological Measurement, 8(4), 453-461.
    https://doi.org/10.1177/014662168400800409

    Examples
    --------
    The five multiple-choice items of the sample assessment, pass at 3 of 5 (Hanson-Brennan;
    the four-parameter beta is impermissible here, so the two-parameter one is used, with a
    note; betafunctions 1.9.0 stops with an error unless told ``true.model = "2P"``):

    >>> import psychoval as pv
    >>> from psychoval.datasets import sample_framework
    >>> fw = sample_framework()
    >>> x = fw.score(pv.load_sample()).scores[["CON1", "CON2", "CON3", "CON4", "CON5"]]
    >>> res = pv.classification(x, [3], method="hanson_brennan")
    >>> res.n_used, res.parameters["true_model"]
    (1298, '2P')
    >>> print(f"{res.p_a:.4f} {res.p_c:.4f} {res.kappa:.4f}")
    0.6651 0.6234 0.2467

    (R, on the complete rows ``x``: ``betafunctions::HB.CA(rowSums(x), cba(x), 3, 5,
    true.model = "2P")`` gives Accuracy 0.6651, p 0.6234, Kappa 0.2467.)

    Livingston-Lewis on total scores with a given reliability and range:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> scores = rng.binomial(40, rng.beta(6, 3, size=2000))
    >>> res = pv.classification(scores, [24, 32], reliability=0.85, score_range=(0, 40))
    >>> res.levels
    ('below 24', '24 to below 32', '32 and above')
    >>> bool(0.5 < res.p_c < res.p_a < 1)
    True
    """
    check_choice("method", method, METHODS)
    check_choice("true_model", true_model, ("4P", "2P"))
    given = {"reliability": reliability, "score_range": score_range, "n_items": n_items,
             "lord_k": lord_k, "se": se, "weights": weights, "item_params": item_params,
             "true_model": None if true_model == "4P" else true_model,
             "D": None if D == 1.0 else D}
    for arg, value in given.items():
        if value is not None and method not in _USED_BY[arg]:
            raise SpecificationError(
                f"{arg}= is not used by method={method!r} (it is for "
                f"{' / '.join(map(repr, _USED_BY[arg]))}); leave it out or choose that method")
    c = _check_cuts(cuts)
    lab = _labels(c, labels)
    parameters: dict[str, Any] = {}
    notes: list[str] = []
    if method in ("livingston_lewis", "hanson_brennan"):
        s = _scores(scores_or_data, missing, need_binary=method == "hanson_brennan")
        if method == "livingston_lewis":
            acc, con, csem, bounds = _livingston_lewis(
                s, c, reliability=reliability, score_range=score_range,
                true_model=true_model, parameters=parameters, notes=notes)
        else:
            acc, con, csem, bounds = _hanson_brennan(
                s, c, reliability=reliability, n_items=n_items, lord_k=lord_k,
                true_model=true_model, parameters=parameters, notes=notes)
        n_total, n_used, dropped = s.n_total, len(s.x), s.dropped
    elif method == "rudner":
        acc, con, csem, bounds, n_total, n_used, dropped = _rudner(
            scores_or_data, c, se=se, weights=weights, missing=missing, parameters=parameters)
    else:
        acc, con, csem, bounds = _lee(scores_or_data, c, weights=weights,
                                      item_params=item_params, D=D, parameters=parameters)
        n_total = n_used = None
        dropped = ()
    return _assemble(method, c, lab, acc, con, np.asarray(csem, dtype=float), bounds,
                     parameters, notes, n_total, n_used, dropped, missing)
