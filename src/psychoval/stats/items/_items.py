"""Classical item analysis: difficulty, discrimination, alpha if dropped.

Length: item statistics for every item type, the ADF interval of each alpha gain, and the
result class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import (
    ItemMatrix,
    apply_missing,
    as_item_matrix,
    check_choice,
    check_range,
)
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, DegenerateDataWarning, SpecificationError, warn
from psychoval.stats.core._moments import alpha_from_cov, alpha_if_dropped

__all__ = ["ItemAnalysisResult", "item_analysis"]

# at most this many distinct codes get a response-distribution column
_MAX_CATEGORIES = 20
# integer codes up to this size use uncentred cross-products: X'X is exact and the centring
# error eps * mean^2 / var stays below ~1e-11 for any item with a sensible variance
_MAX_EXACT_CODE = 100
_Z95 = 1.959963984540054  # the normal .975 quantile


def _alpha_gain_se(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Asymptotically distribution-free standard error of each item's alpha gain
    (alpha without the item minus alpha), by the delta method with the sample fourth moments
    (Maydeu-Olivares, Coffman & Hartmann, 2007; no normality assumed).

    With d the centred row, T = tr C, S = 1'C1 and c = k / (k - 1), row i's influence on
    alpha is ``c [-(|d|^2 - T) / S + T ((1'd)^2 - S) / S^2]``; on alpha without item j the
    same over the other items (|d|^2 - d_j^2, 1'd - d_j, T_j, S_j, k - 1). The variance of
    the gain is the mean squared difference of the two influences over n. O(n k) in row
    blocks; NaN with fewer than 3 items."""
    n, k = x.shape
    if k < 3 or n < 3:
        return np.full(k, np.nan)
    t = float(np.trace(cov))
    s = float(cov.sum())
    diag = np.diag(cov)
    t_j = t - diag
    s_j = s - 2 * cov.sum(axis=1) + diag
    c, c_j = k / (k - 1), (k - 1) / (k - 2)
    acc = np.zeros(k)
    step = max(1, 2_000_000 // k)
    for start in range(0, n, step):
        d = x[start:start + step] - mean
        q = np.einsum("ij,ij->i", d, d)
        r = d.sum(axis=1)
        inf_a = c * (-(q - t) / s + t * (r * r - s) / (s * s))
        inf_j = c_j * (-(q[:, None] - d * d - t_j) / s_j
                       + t_j * ((r[:, None] - d) ** 2 - s_j) / (s_j * s_j))
        acc += np.sum((inf_j - inf_a[:, None]) ** 2, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(acc / n / n)


def _upper_lower(total: np.ndarray, groups: str, fraction: float
                 ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Boolean masks of the upper and lower groups, and the cut scores (NaN for rank)."""
    n = total.shape[0]
    if groups == "cut":
        cut_hi, cut_lo = np.quantile(total, [1 - fraction, fraction])  # R's type 7
        return total >= cut_hi, total <= cut_lo, float(cut_hi), float(cut_lo)
    ng = int(np.round(fraction * n))  # R's round(): half to even, as numpy
    upper = np.zeros(n, dtype=bool)
    lower = np.zeros(n, dtype=bool)
    key = total
    if np.all(np.abs(total) < 2**15) and np.array_equal(np.rint(total), total):
        key = total.astype(np.int16)  # whole totals: numpy's stable sort is a radix sort
    upper[np.argsort(-key, kind="stable")[:ng]] = True  # ties: earlier row first
    lower[np.argsort(key, kind="stable")[:ng]] = True
    return upper, lower, np.nan, np.nan


def _binary(values: np.ndarray, nan: np.ndarray | None) -> np.ndarray:
    """Items whose answered responses are all 0 or 1."""
    if nan is None and np.count_nonzero(values) == np.count_nonzero(values == 1):
        return np.ones(values.shape[1], dtype=bool)  # nonzero cells are all 1s: two passes
    ok = (values == 0) | (values == 1)
    if nan is not None:
        ok |= nan
    return ok.all(axis=0)


def _ranges(values: np.ndarray, items: Sequence[str], scale_range: Any, binary: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, str]:
    """Per-item (min, max) used for difficulty, and where they came from."""
    k = len(items)
    if scale_range is None:
        lo, hi = np.zeros(k), np.ones(k)
        if binary.all():
            return lo, hi, "binary 0/1 items"
        rest = values[:, ~binary]
        finite = rest[~np.isnan(rest)]
        a = float(finite.min()) if finite.size else np.nan
        b = float(finite.max()) if finite.size else np.nan
        lo[~binary], hi[~binary] = a, b
        return (lo, hi, f"observed range {a:g}-{b:g} pooled over the non-binary items "
                "(no scale_range= given); 0/1 items use (0, 1)")
    if isinstance(scale_range, Mapping):
        absent = [i for i in items if i not in scale_range]
        if absent:
            raise SpecificationError(
                f"scale_range has no (min, max) for item(s) {', '.join(map(repr, absent))}; "
                "give every item a range or a single (min, max) for all"
            )
        ranges = [check_range(scale_range[i], f"scale_range[{i!r}]") for i in items]
    else:
        ranges = [check_range(scale_range, "scale_range")] * k
    lo = np.empty(k)
    hi = np.empty(k)
    for j, (a, b) in enumerate(ranges):
        col = values[:, j]
        out = col[~np.isnan(col) & ((col < a) | (col > b))]
        if out.size:
            raise DataError(
                f"item {items[j]!r} has the value {out[0]:g} outside its declared range "
                f"({a:g}, {b:g}); fix the data or scale_range="
            )
        lo[j], hi[j] = a, b
    return lo, hi, "declared (scale_range=)"


@dataclasses.dataclass(frozen=True, repr=False)
class ItemAnalysisResult(Result):
    """Classical item statistics, one row per item (see :func:`item_analysis`).

    Attributes
    ----------
    items : DataFrame
        Indexed by item. Columns: ``scale`` (the scale whose total the item is analysed
        against), ``n`` (answered, all rows), ``missing_pct`` (all rows), ``mean``, ``sd``
        (n - 1 divisor; analysis rows), ``min``, ``max`` (range used for difficulty),
        ``difficulty`` ((mean - min) / (max - min); proportion correct for 0/1 items; analysis
        rows), ``difficulty_available`` (same, on every answered response), ``pq``
        (difficulty * (1 - difficulty), 0/1 items only), ``raw_r`` (item-total point-biserial),
        ``r_drop`` (corrected item-rest correlation), ``p_upper``, ``p_lower`` (difficulty in
        the upper and lower groups), ``d`` (upper-lower discrimination ``p_upper - p_lower``),
        ``alpha_if_dropped``, ``alpha_gain`` (alpha if dropped minus the scale's alpha;
        positive = the scale is more consistent without the item) with its asymptotically
        distribution-free standard error ``alpha_gain_se`` and 95% interval
        ``alpha_gain_lower``, ``alpha_gain_upper`` (delta method, sample fourth moments:
        Maydeu-Olivares, Coffman & Hartmann, 2007, doi:10.1037/1082-989X.12.2.157),
        ``floor_pct``,
        ``ceiling_pct`` (share of answered responses at the range's min / max),
        ``dichotomous``; with ``latent_r=True`` also ``r_polyserial`` and
        ``r_polyserial_drop`` (item-total and item-rest biserial for 0/1 items, polyserial
        for ordered codes, as psych::biserial / psych::polyserial).
    scales : DataFrame
        One row per scale: ``k``, ``n_used``, ``rows_dropped``, ``mean_total``,
        ``var_total`` (divisor n), ``sd_total`` (divisor n - 1), ``alpha``, ``cut_hi``,
        ``cut_lo`` (quantile cut scores; NaN under the rank rule), ``n_upper``, ``n_lower``.
    distribution : DataFrame
        Items x response codes: share of answered responses per code (psych's
        ``response.freq``); empty when an item set has more than 20 distinct codes.
    groups, group_fraction, missing, range_source, n_total :
        The settings used and where the difficulty range came from.
    notes : tuple of str
        Plain-language remarks (observed range used, constant items...).
    """

    items: pd.DataFrame
    scales: pd.DataFrame
    distribution: pd.DataFrame
    groups: str
    group_fraction: float
    missing: str
    range_source: str
    n_total: int
    answer_key: dict[str, str] | None
    notes: tuple[str, ...]

    _schema = "psychoval.item_analysis/1"

    @property
    def k(self) -> int:
        return len(self.items)

    def _repr_fields(self) -> dict[str, Any]:
        return {"k": self.k, "scales": len(self.scales),
                "n_used": int(self.scales["n_used"].min()), "groups": self.groups}

    def summary(self) -> Summary:
        cols = ["scale", "n", "missing_pct", "mean", "sd", "difficulty", "raw_r", "r_drop", "d",
                "alpha_if_dropped", "floor_pct", "ceiling_pct"]
        facts = (("items", self.k), ("respondents", self.n_total),
                 ("missing", self.missing), ("upper-lower groups",
                                             f"{self.groups}, fraction {self.group_fraction:g}"),
                 ("difficulty range", self.range_source))
        return Summary(title="Item analysis", facts=facts,
                       tables=(("Scales", self.scales), ("Items", self.items[cols])),
                       notes=self.notes)

    def plot(self, *, discrimination: str = "r_drop", ax: Any = None) -> Any:
        """Difficulty against discrimination (``"r_drop"``, ``"raw_r"`` or ``"d"``), items
        labelled; needs matplotlib (the ``plots`` extra):
        :func:`psychoval.plotting.plot_difficulty_discrimination`. Returns the axes."""
        from psychoval.plotting import plot_difficulty_discrimination

        return plot_difficulty_discrimination(self, discrimination=discrimination, ax=ax)

    def to_frame(self) -> pd.DataFrame:
        out = self.items.reset_index(names="item")
        out["dichotomous"] = out["dichotomous"].astype(bool)
        return out


def _scales_arg(scales: Any, items: tuple[str, ...]) -> dict[str, list[str]]:
    if scales is None:
        return {"total": list(items)}
    if not isinstance(scales, Mapping) or not scales:
        raise SpecificationError(
            "scales must be a non-empty mapping {scale: [items]}; got "
            f"{type(scales).__name__}"
        )
    out: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for name, members in scales.items():
        if isinstance(members, str) or not isinstance(members, Sequence) or not members:
            raise SpecificationError(
                f"scale {name!r} must list its items; got {members!r}"
            )
        members = [str(m) for m in members]
        absent = [m for m in members if m not in items]
        if absent:
            raise DataError(
                f"scale {name!r} names item(s) {', '.join(map(repr, absent))} not in the data"
            )
        for m in members:
            if m in seen:
                raise SpecificationError(
                    f"item {m!r} is in scales {seen[m]!r} and {name!r}; each item is analysed "
                    "within exactly one scale"
                )
            seen[m] = str(name)
        out[str(name)] = members
    return out


def _framework_scales(framework: Any, scales: Any) -> dict[str, list[str]]:
    """``framework.competencies`` ({name: items or an object with ``.items``}) as scales."""
    if scales is not None:
        raise SpecificationError("give framework= or scales=, not both")
    comps = getattr(framework, "competencies", None)
    if not isinstance(comps, Mapping):
        raise SpecificationError(
            f"framework= needs a `competencies` mapping {{competency: items}}; "
            f"{type(framework).__name__} has none: pass scales={{competency: [items]}}"
        )
    out = {}
    for name, members in comps.items():
        members = getattr(members, "items", members)
        out[str(name)] = [str(i) for i in (members() if callable(members) else members)]
    return out


def _analyse_scale(m: ItemMatrix, missing: str, groups: str, fraction: float,
                   lo: np.ndarray, hi: np.ndarray, *, has_nan: bool, integer: bool,
                   total: np.ndarray | None = None, latent: bool = False
                   ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Statistics of one scale on its complete cases.

    For small integer codes the cross-products X'X are exact in float64 (every partial sum
    is an integer below 2**53), so the covariance is taken from them without centring the
    matrix (one BLAS pass instead of three); other data are centred first.
    """
    if has_nan:
        used, info = apply_missing(m, missing, allowed=("listwise", "raise"))
        x, dropped = used.values, len(info.rows_dropped)
    else:
        x, dropped = m.values, 0
    n, k = x.shape
    if total is None:
        total = x @ np.ones(k) if integer else x.sum(axis=1)
    upper, lower, cut_hi, cut_lo = _upper_lower(total, groups, fraction)
    weights = np.empty((3, n))
    weights[0] = 1.0
    weights[1] = upper
    weights[2] = lower
    sums = weights @ x  # column sums, upper-group sums, lower-group sums: one pass
    mean = sums[0] / n
    if integer:
        cov = (x.T @ x - np.outer(sums[0], sums[0]) / n) / (n - 1)
    else:
        xc = x - mean
        cov = xc.T @ xc / (n - 1)
    var = np.diag(cov).copy()
    rows = cov.sum(axis=1)  # cov(item, total)
    var_t = cov.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        raw_r = rows / np.sqrt(var * var_t)
        var_rest = var_t - 2 * rows + var
        r_drop = (rows - var) / np.sqrt(var * var_rest)
    alpha, alpha_drop = alpha_from_cov(cov), alpha_if_dropped(cov)
    n_up, n_lo = int(upper.sum()), int(lower.sum())
    width = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        p_upper = (sums[1] / n_up - lo) / width if n_up else np.full(k, np.nan)
        p_lower = (sums[2] / n_lo - lo) / width if n_lo else np.full(k, np.nan)
        difficulty = (mean - lo) / width
    mean_t = float(total.mean())
    cols = {
        "mean": mean, "sd": np.sqrt(var), "difficulty": difficulty, "raw_r": raw_r,
        "r_drop": r_drop, "p_upper": p_upper, "p_lower": p_lower, "d": p_upper - p_lower,
        "alpha_if_dropped": alpha_drop, "alpha_gain_se": _alpha_gain_se(x, mean, cov),
    }
    if latent:
        cols["r_polyserial"], cols["r_polyserial_drop"] = _latent_r(
            x, lo, hi, var, rows, var_t, raw_r, r_drop, integer)
    scale = {
        "k": k, "n_used": n, "rows_dropped": dropped, "mean_total": mean_t,
        "var_total": float(np.mean((total - mean_t) ** 2)), "sd_total": float(np.sqrt(var_t)),
        "alpha": alpha, "cut_hi": cut_hi, "cut_lo": cut_lo, "n_upper": n_up, "n_lower": n_lo,
    }
    return cols, scale


def _latent_r(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, var: np.ndarray,
              cov_t: np.ndarray, var_t: float, raw_r: np.ndarray, r_drop: np.ndarray,
              integer: bool) -> tuple[np.ndarray, np.ndarray]:
    """Item-total and item-rest correlations with the item's latent continuous response.

    0/1 items: the biserial, psych::biserial's ``(M1 - M0) p q / (phi(z_p) s_x)``, which is
    ``cov(y, x) (n - 1) / n / (phi(z_p) s_x)``. Ordered integer codes: psych::polyserial's ad
    hoc estimator (Olsson, Drasgow & Dorans, 1982) ``r_xy sqrt((n - 1) / n) s_y / sum_j
    phi(tau_j)`` with thresholds ``tau_j`` from the cumulative shares of the codes ``min ..
    max - 1`` of the item's range. Both bounded to [-1, 1] as psych; NaN for other codes."""
    from scipy.stats import norm

    n, k = x.shape
    tot = np.full(k, np.nan)
    rest = np.full(k, np.nan)
    sd_t = np.sqrt(var_t)
    var_rest = var_t - 2 * cov_t + var
    for j in range(k):
        col = x[:, j]
        if not integer or not (np.rint(lo[j]) == lo[j] and np.rint(hi[j]) == hi[j]):
            continue
        codes = np.arange(lo[j], hi[j] + 1)
        if codes.size == 2:  # 0/1 (or any two-point) item: biserial
            p = float(np.count_nonzero(col == codes[1])) / n
            dens = norm.pdf(norm.ppf(p))
            with np.errstate(divide="ignore", invalid="ignore"):
                tot[j] = cov_t[j] * (n - 1) / n / (dens * sd_t)
                rest[j] = (cov_t[j] - var[j]) * (n - 1) / n / (dens * np.sqrt(var_rest[j]))
            continue
        counts = np.array([np.count_nonzero(col == c) for c in codes[:-1]], dtype=float)
        stau = float(norm.pdf(norm.ppf(np.cumsum(counts) / n)).sum())
        factor = np.sqrt((n - 1) / n) * np.sqrt(var[j]) / stau
        tot[j], rest[j] = raw_r[j] * factor, r_drop[j] * factor
    return np.clip(tot, -1, 1), np.clip(rest, -1, 1)


def item_analysis(
    data: Any,
    *,
    items: Sequence[str] | None = None,
    scales: Mapping[str, Sequence[str]] | None = None,
    framework: Any = None,
    answer_key: Mapping[str, Any] | None = None,
    scale_range: Any = None,
    groups: str = "cut",
    group_fraction: float = 0.27,
    missing: str = "listwise",
    latent_r: bool = False,
) -> ItemAnalysisResult:
    """Classical item statistics: difficulty, discrimination, alpha if dropped, distribution.

    Each item is analysed against the total score of its scale (all items by default; with
    ``scales=`` each item within its own scale, the total being that scale's score). The
    statistics assume the items of a scale measure one thing and are scored in the same
    direction (reverse-keyed items rescored first).

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        Rows are respondents, columns items. With ``answer_key=``, the keyed columns may hold
        raw option codes (letters).
    items : sequence of str, optional
        Columns to analyse (default: all, or the items named in ``scales``/``answer_key``).
    scales : mapping {scale: [items]}, optional
        Analyse each item within its own scale.
    framework : Framework or object, optional
        A :class:`~psychoval.Framework`: ``data`` (raw responses, or the framework's
        ``score()`` output) is scored by it (answer keys, labels, reverse keys, rater means),
        each item is analysed within its competency, and difficulty uses each item's declared
        range. Or anything with a ``competencies`` mapping ``{competency: items}``, as
        ``scales=``.
    answer_key : mapping {item: option}, optional
        Score these multiple-choice items 1 when the response equals the option, else 0
        (missing stays missing) before the analysis.
    scale_range : (min, max) or mapping {item: (min, max)}, optional
        Declared response range for the difficulty of polytomous items. Without it, 0/1
        items use (0, 1) and other data the observed range pooled over the items (stated in
        ``range_source``).
    groups : {"cut", "rank"}
        Upper-lower groups. ``"cut"`` (default, order-invariant): upper = total >= the
        (1 - group_fraction) quantile, lower = total <= the group_fraction quantile (R's type
        7 quantile); ties can make groups larger than the fraction. ``"rank"``: the
        ``round(group_fraction * n)`` highest and lowest totals, ties broken by row order
        (earlier row first), as psych/CTT.
    group_fraction : float
        Share of respondents in each extreme group (0 < f <= 0.5); Kelley's 0.27 by default.
    missing : {"listwise", "raise"}
        Statistics involving the total use the scale's complete cases; ``n``,
        ``missing_pct``, ``difficulty_available``, floor, ceiling and the distribution use
        every answered response.
    latent_r : bool
        Add the biserial (0/1 items) / polyserial (ordered integer codes) correlation of each
        item with its scale's total and rest score: the correlation of the item's assumed
        continuous latent response with the score (psych's ad hoc estimators; NaN for
        non-integer codes).

    Returns
    -------
    ItemAnalysisResult

    Raises
    ------
    DataError
        Non-numeric responses on unkeyed items, values outside a declared range, too few
        complete rows.
    SpecificationError
        Bad option values, an item in two scales, a malformed range.

    Notes
    -----
    With C the (n - 1) covariance matrix of a scale's k items on its complete cases and
    T the total: ``raw_r_i = sum_j C_ij / sqrt(C_ii 1'C1)``; the rest score R_i = T - x_i gives
    ``r_drop_i = (sum_j C_ij - C_ii) / sqrt(C_ii (1'C1 - 2 sum_j C_ij + C_ii))``; alpha with
    item i dropped is ``(k-1)/(k-2) (1 - (tr C - C_ii) / (1'C1 - 2 sum_j C_ij + C_ii))``.
    The discrimination index is D = p_upper - p_lower (Kelley, 1939).

    References
    ----------
    Kelley, T. L. (1939). The selection of upper and lower groups for the validation of test
    items. Journal of Educational Psychology, 30(1), 17-24. doi:10.1037/h0057123
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika, 16, 297-334. doi:10.1007/BF02310555

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> x = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 0, 1]])
    >>> res = pv.item_analysis(x)
    >>> res.items["difficulty"].round(2).tolist()   # R: colMeans(x)
    [0.8, 0.4, 0.4]
    >>> round(float(res.items.loc["item1", "r_drop"]), 4)  # R: psych::alpha(x)$item.stats$r.drop[1]
    0.5345
    """
    check_choice("groups", groups, ("cut", "rank"))
    check_choice("missing", missing, ("listwise", "raise"))
    if framework is not None:
        from psychoval.framework import Framework
        from psychoval.framework._scoring import ScoredResponses

        if isinstance(framework, Framework):
            if scales is not None:
                raise SpecificationError("give framework= or scales=, not both")
            if answer_key is not None:
                raise SpecificationError(
                    "framework= scores multiple-choice items by its own answer keys; "
                    "drop answer_key= (or pass scales= instead of framework=)"
                )
            if not isinstance(data, ScoredResponses):
                data = framework.score(data)
            data = data.scores
            scales = {c.id: list(c.item_ids) for c in framework.competencies}
            if items is not None:  # those items, each within the rest of its competency set
                unknown = [i for i in items if i not in framework.item_ids]
                if unknown:
                    raise DataError(f"item(s) {', '.join(map(repr, unknown))} are not in the "
                                    "framework")
                scales = {c: [i for i in members if i in items]
                          for c, members in scales.items()}
                scales = {c: members for c, members in scales.items() if members}
            if scale_range is None:
                scale_range = {i.id: i.score_range for i in framework.items}
        else:
            scales = _framework_scales(framework, scales)
    if not isinstance(group_fraction, (int, float)) or not 0 < group_fraction <= 0.5:
        raise SpecificationError(
            f"group_fraction={group_fraction!r} must be a number in (0, 0.5]"
        )
    key = None
    if answer_key is not None:
        from psychoval.stats.items._keyed import check_answer_key, raw_frame, score_with_key

        cols = raw_frame(data).columns
        key = check_answer_key(answer_key, cols)
        data = score_with_key(data, key)
    if items is None and scales is not None:
        items = list(dict.fromkeys(str(i) for members in scales.values() for i in members))
    m = as_item_matrix(data, items=items, min_items=1, min_rows=2, what="data")
    scale_map = _scales_arg(scales, m.items)
    x = m.values
    row_total = x @ np.ones(m.k)
    any_nan = bool(np.isnan(row_total).any())  # one BLAS pass finds any NaN
    nan = np.isnan(x) if any_nan else None
    binary = _binary(x, nan)
    if binary.all():
        integer = True
    else:  # small integer codes (|x| <= 100): the exact cross-product path is accurate
        whole = (np.rint(x) == x) & (np.abs(x) <= _MAX_EXACT_CODE)
        integer = bool((whole | nan).all() if any_nan else whole.all())
    lo, hi, range_source = _ranges(x, m.items, scale_range, binary)
    notes: list[str] = []
    if latent_r and not integer:
        notes.append("latent_r: the codes are not small integers, so no biserial / polyserial "
                     "correlation (NaN)")
    if range_source.startswith("observed"):
        notes.append(f"difficulty uses the {range_source}; declare it with scale_range=")

    n_ans = m.n - nan.sum(axis=0) if any_nan else np.full(m.k, m.n)
    width = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        col_sum = np.nansum(x, axis=0) if any_nan else None  # complete data: from the scales
        floor = ceiling = None
        if not binary.all():
            floor = np.count_nonzero(x == lo, axis=0) / n_ans * 100
            ceiling = np.count_nonzero(x == hi, axis=0) / n_ans * 100

    k = m.k
    stat_names = ("mean", "sd", "difficulty", "raw_r", "r_drop", "p_upper", "p_lower", "d",
                  "alpha_if_dropped", "alpha_gain", "alpha_gain_se", "alpha_gain_lower",
                  "alpha_gain_upper") + (
        ("r_polyserial", "r_polyserial_drop") if latent_r else ())
    stats = {c: np.full(k, np.nan) for c in stat_names}
    scale_of = np.full(k, "", dtype=object)
    scale_rows = {}
    pos = {name: j for j, name in enumerate(m.items)}
    for name, members in scale_map.items():
        idx = [pos[i] for i in members]
        whole_set = idx == list(range(k))
        sub = m if whole_set else dataclasses.replace(
            m, values=np.ascontiguousarray(x[:, idx]), items=tuple(members))
        cols, scale = _analyse_scale(
            sub, missing, groups, float(group_fraction), lo[idx], hi[idx], has_nan=any_nan,
            integer=integer, total=row_total if whole_set and integer and not any_nan else None,
            latent=bool(latent_r))
        cols["alpha_gain"] = cols["alpha_if_dropped"] - scale["alpha"]
        cols["alpha_gain_lower"] = cols["alpha_gain"] - _Z95 * cols["alpha_gain_se"]
        cols["alpha_gain_upper"] = cols["alpha_gain"] + _Z95 * cols["alpha_gain_se"]
        for c, v in cols.items():
            stats[c][idx] = v
        scale_of[idx] = name
        scale_rows[name] = scale
        if scale["k"] < 3:
            notes.append(f"scale {name!r} has {scale['k']} item(s): alpha if dropped needs 3")
    d = stats["difficulty"]
    if col_sum is None:  # complete data: every row was an analysis row
        col_sum = stats["mean"] * m.n
    with np.errstate(divide="ignore", invalid="ignore"):
        diff_avail = (col_sum / n_ans - lo) / width
        if floor is None:  # 0/1 items: the share of 0s and 1s follow from the sums
            ones = col_sum / n_ans
            floor, ceiling = (1 - ones) * 100, ones * 100
    table = pd.DataFrame({
        "scale": scale_of, "n": n_ans.astype(int), "missing_pct": (1 - n_ans / m.n) * 100,
        "mean": stats["mean"], "sd": stats["sd"], "min": lo, "max": hi, "difficulty": d,
        "difficulty_available": diff_avail, "pq": np.where(binary, d * (1 - d), np.nan),
        **{c: stats[c] for c in stat_names[3:]},
        "floor_pct": floor, "ceiling_pct": ceiling, "dichotomous": binary,
    }, index=pd.Index(m.items, name="item"))
    const = [i for i, s in zip(m.items, table["sd"].to_numpy(), strict=True) if not s > 0]
    if const:
        warn(
            f"item(s) {', '.join(map(repr, const))} do not vary on the analysis rows; their "
            "correlations are undefined (NaN)", DegenerateDataWarning, stacklevel=2)
        notes.append(f"constant item(s): {', '.join(const)}")

    index = pd.Index(m.items, name="item")
    with np.errstate(divide="ignore", invalid="ignore"):
        if binary.all():  # the shares of 0s and 1s follow from the sums
            dist = pd.DataFrame({"0": 1 - col_sum / n_ans, "1": col_sum / n_ans}, index=index)
        else:
            vmin, vmax = np.nanmin(x), np.nanmax(x)
            if integer and vmax - vmin < _MAX_CATEGORIES:
                codes = np.arange(vmin, vmax + 1)
            else:
                codes = np.unique(x[~nan] if any_nan else x)
            if codes.size <= _MAX_CATEGORIES:
                counts = {f"{c:g}": np.count_nonzero(x == c, axis=0) for c in codes}
                dist = pd.DataFrame({c: v / n_ans for c, v in counts.items() if v.any()},
                                    index=index)
            else:
                dist = pd.DataFrame(index=index)
                notes.append(f"{codes.size} distinct response codes: no response distribution")

    scales_df = pd.DataFrame.from_dict(scale_rows, orient="index")
    scales_df.index.name = "scale"
    for c in ("k", "n_used", "rows_dropped", "n_upper", "n_lower"):
        scales_df[c] = scales_df[c].astype(int)
    return ItemAnalysisResult(
        items=table, scales=scales_df, distribution=dist, groups=groups,
        group_fraction=float(group_fraction), missing=missing, range_source=range_source,
        n_total=m.n, answer_key=key, notes=tuple(notes))
