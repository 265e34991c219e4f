"""check_data: a data-quality report of a response table (statistics only, no verdicts).

Thresholds and flags (how much missingness is too much, which longstring is careless) live in
``psychoval.verdicts``; this module only counts and measures.

Length: check_data's sections (codes, missingness, careless responding, duplicates) and their
renderings.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._results import Result, Summary
from psychoval.exceptions import collect_warnings, warn
from psychoval.framework._framework import Framework, Item
from psychoval.framework._scoring import (
    BAD_CODE,
    MISSING,
    OK,
    OUT_OF_RANGE,
    as_response_table,
    check_columns,
    decode_column,
    numstr,
)
from psychoval.io._table import ResponseTable

__all__ = ["check_data", "DataQualityReport", "longstring", "irv", "mahalanobis",
           "count_problems"]

SPARSE_BELOW = 5  # "categories with fewer than 5 responses": a count, not a verdict
EXAMPLES = 3
MAX_CATEGORIES = 20


# -- careless-responding statistics (pure, vectorized over respondents) -----------------


_ROW_BLOCK = 8192  # rows per block of the per-respondent statistics (stays in cache)


def _row_blocks(n: int):
    return (slice(a, min(a + _ROW_BLOCK, n)) for a in range(0, n, _ROW_BLOCK))


def longstring(x: np.ndarray) -> np.ndarray:
    """Longest run of identical consecutive responses in each row (NaN = missing).

    A missing cell ends a run (as ``careless::longstring``, which uses ``rle``); a row with
    no answer gets NaN. Loops over items (in blocks of rows), never over respondents.
    """
    x = np.asarray(x, dtype="float64")
    n, k = x.shape
    out = np.empty(n)
    for rows in _row_blocks(n):
        xb = x[rows]
        obs = ~np.isnan(xb)
        run = obs[:, 0].astype("int64") if k else np.zeros(xb.shape[0], dtype="int64")
        best = run.copy()
        for j in range(1, k):
            same = obs[:, j] & obs[:, j - 1] & (xb[:, j] == xb[:, j - 1])
            run = np.where(same, run + 1, obs[:, j].astype("int64"))
            np.maximum(best, run, out=best)
        out[rows] = best
        out[rows][~obs.any(axis=1)] = np.nan
    return out


def irv(x: np.ndarray) -> np.ndarray:
    """Intra-individual response variability: the SD (n - 1 divisor) of each row's answered
    items (``careless::irv``); NaN with fewer than 2 answers."""
    x = np.asarray(x, dtype="float64")
    out = np.full(x.shape[0], np.nan)
    for rows in _row_blocks(x.shape[0]):  # rows with 2+ answers: nanstd does not warn
        xb = x[rows]
        ok = (~np.isnan(xb)).sum(axis=1) >= 2
        if ok.any():
            out[rows][ok] = np.nanstd(xb[ok], axis=1, ddof=1)
    return out


# the per-pattern route's budget: the sum over missingness patterns of (answered items)^3
# (2e10: about 10 s of pseudo-inverses on one core)
PATTERN_BUDGET = 2e10


def mahalanobis(x: np.ndarray, *, _by_pattern: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Squared Mahalanobis distance of each row from the item means, and its df.

    With complete data this is ``stats::mahalanobis(x, colMeans(x), cov(x))``. A row with
    missing answers is measured on its answered items only, with the pairwise-complete means
    and covariances of those items; its df is the number of answered items (compare D2 with a
    chi-square on that df). Rows with no answers get NaN. Computed from one inverse of the
    covariance matrix by the block-inverse identity (batched over rows); when that matrix is
    not positive definite, each missingness pattern's own block is inverted (pseudo-inverse if
    singular). Never loops over respondents.
    """
    from psychoval.stats.core._moments import pairwise_moments

    x = np.asarray(x, dtype="float64")
    n, k = x.shape
    d2 = np.full(n, np.nan)
    obs = ~np.isnan(x)
    df = obs.sum(axis=1).astype("float64")
    df[df == 0] = np.nan
    if n < 2 or k == 0:
        return d2, df
    if n <= k and not _by_pattern and obs.all():
        # complete data, no more rows than items: S is singular (rank < k) and
        # D2 = dev' pinv(S) dev is (n - 1) times the diagonal of the projector on the
        # deviations' span: from the n x n Gram matrix (pinv's cutoff, 1e-15 of the largest
        # singular value of S), without forming S or a k x k SVD
        dev = x - x.mean(axis=0)
        dev -= dev.mean(axis=0)
        return _mahalanobis_gram(dev), df
    mom = pairwise_moments(x)
    fast = None if _by_pattern else _mahalanobis_block_inverse(x, obs, mom.cov, mom.means)
    if fast is not None:
        fast[~obs.any(axis=1)] = np.nan
        return fast, df
    patterns, inverse = np.unique(obs, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    cost = float(np.sum(patterns.sum(axis=1).astype(float) ** 3))
    if cost > PATTERN_BUDGET:
        # a singular covariance matrix (e.g. fewer respondents than items) with missing
        # answers: one k x k pseudo-inverse per missingness pattern, minutes for thousands
        # of items - and D2 from a singular matrix separates nobody anyway
        warn(f"Mahalanobis D2 not computed: the items' covariance matrix is singular "
             f"({n} respondents, {k} items) and the {len(patterns):,} missingness patterns "
             "would each need a pseudo-inverse of their own block; D2 needs more "
             "respondents than items")
        return d2, df
    for p, pat in enumerate(patterns):
        if not pat.any():
            continue
        rows = np.flatnonzero(inverse == p)
        cols = np.flatnonzero(pat)
        s = mom.cov[np.ix_(cols, cols)]
        dev = x[np.ix_(rows, cols)] - mom.means[cols]
        try:
            if not np.all(np.isfinite(s)) or np.linalg.cond(s) > 1e12:
                raise np.linalg.LinAlgError
            sol = np.linalg.solve(s, dev.T).T
            if not np.all(np.isfinite(sol)):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            sol = dev @ np.linalg.pinv(np.nan_to_num(s)).T
        d2[rows] = np.einsum("ij,ij->i", dev, sol)
    return d2, df


def _mahalanobis_gram(dev: np.ndarray) -> np.ndarray:
    """``dev_i' pinv(S) dev_i`` for S = dev'dev / (n - 1), from the eigenpairs of dev dev'
    (n x n), keeping those above numpy's pinv cutoff (1e-15 of the largest)."""
    n = dev.shape[0]
    g = dev @ dev.T
    g = (g + g.T) / 2.0
    # the usual case: the deviations (centred, so G 1 = 0) span all of 1-perp, i.e. G has
    # rank n - 1, and the projector is I - 11'/n: D2 = (n - 1)^2 / n for every row. Proved
    # by a well-conditioned Cholesky factor of G + c 11' (c: G's mean eigenvalue); repeated
    # rows (straight-liners) or other rank loss take the eigendecomposition
    from scipy.linalg import lapack

    shifted = g + float(np.trace(g)) / (n * max(n - 1, 1))
    try:
        chol = np.linalg.cholesky(shifted)
    except np.linalg.LinAlgError:
        chol = None
    if chol is not None:
        rcond, info = lapack.dpocon(chol, float(np.abs(shifted).sum(axis=0).max()), uplo="L")
        if info == 0 and rcond > 1e-12:
            return np.full(n, (n - 1) ** 2 / n)
    w, u = np.linalg.eigh(g)
    keep = w > 1e-15 * max(float(w.max()), 0.0)
    return (n - 1) * (u[:, keep] ** 2).sum(axis=1)


def _mahalanobis_block_inverse(x: np.ndarray, obs: np.ndarray, cov: np.ndarray,
                               means: np.ndarray) -> np.ndarray | None:
    """D2 on each row's answered items from one inverse P = S^-1 of the full covariance.

    For answered items o and missing items m, (S_oo)^-1 = P_oo - P_om P_mm^-1 P_mo, so with
    d the deviations (0 where missing) and u = (P d)_m, D2 = d'P d - u' P_mm^-1 u. Rows are
    grouped by their number of missing items and solved as batches (no loop over rows or
    patterns). Returns None when S is not positive definite or is badly conditioned (the
    caller then inverts each pattern's own block).
    """
    if not np.all(np.isfinite(cov)):
        return None
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return None
    k = cov.shape[0]
    # condition number of S (2-norm, at most the 1-norm one) by LAPACK's O(k^2) estimate from
    # the Cholesky factor, instead of an SVD (O(k^3), minutes for thousands of items)
    from scipy.linalg import lapack

    rcond, info = lapack.dpocon(chol, float(np.abs(cov).sum(axis=0).max()), uplo="L")
    if info != 0 or not rcond * 1e10 >= 1.0:
        return None
    prec = np.linalg.inv(cov)
    d = x - means
    d[~obs] = 0.0
    pd_ = d @ prec
    d2 = np.einsum("ij,ij->i", d, pd_)
    n_miss = k - obs.sum(axis=1)
    for m in np.unique(n_miss):
        if m == 0 or m == k:
            continue
        rows = np.flatnonzero(n_miss == m)
        idx = np.nonzero(~obs[rows])[1].reshape(rows.size, m)  # missing positions, ascending
        u = pd_[rows[:, None], idx]
        pmm = prec[idx[:, :, None], idx[:, None, :]]
        d2[rows] -= np.einsum("ij,ij->i", u, np.linalg.solve(pmm, u[:, :, None])[:, :, 0])
    return d2


def count_problems(report: Any) -> list[str]:
    """The problems a data-quality report counts (in memory or streamed): out-of-range
    values, invalid codes, duplicate ids, all-missing rows, constant columns."""
    out = []
    if report.n_out_of_range:
        out.append(f"{report.n_out_of_range} out-of-range value(s)")
    if report.n_invalid_codes:
        out.append(f"{report.n_invalid_codes} invalid code(s)")
    if report.n_duplicate_ids:
        out.append(f"{report.n_duplicate_ids} duplicated id(s)")
    if report.n_all_missing_rows:
        out.append(f"{report.n_all_missing_rows} respondent(s) with no answer")
    const = report.items.loc[report.items["constant"], "column"].tolist()
    if const:
        out.append(f"constant column(s) {', '.join(const)}")
    return out


# -- the report --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, repr=False)
class DataQualityReport(Result):
    """What is in a response table: counts, per-column and per-respondent statistics.

    Statistics only: flags with thresholds are computed by ``psychoval.verdicts``.

    Attributes
    ----------
    n_respondents, n_columns : int
        Rows, and the item (or rater) columns examined.
    n_missing_cells, n_out_of_range, n_invalid_codes : int
        Over the examined columns.
    missing_fraction : float
        Missing (blank) cells / all examined cells.
    items : DataFrame
        One row per examined column: ``column, item, competency, type, n, n_missing,
        missing_pct, n_out_of_range, n_invalid_codes, examples, n_distinct, constant, min,
        max, mean, sd, n_sparse_categories, sparse_categories``. ``min``..``sd`` describe the
        decoded answers before reversing (labels as numbers; multiple choice as 0/1 by the
        answer key, so ``mean`` is the proportion choosing the key).
    categories : DataFrame
        ``column, category, count, proportion`` for categorical columns (declared range,
        labels or options with a framework; few integer values or text codes without).
    invalid_cells : DataFrame
        Every out-of-range or non-numeric cell: ``column, row`` (1-based), ``id, value, kind``.
    respondents : DataFrame
        One row per respondent: ``id, n_missing, missing_pct, all_missing, longstring, irv,
        mahalanobis, mahalanobis_df`` (careless-responding statistics on ``careless_items``).
        Per respondent, patterns and policies count items (a rated item is answered when
        any rater rated it), and an item is unanswered when it has no *valid* answer
        (blank, out of range or an invalid code).
    duplicate_ids : DataFrame
        ``id, count, rows`` for ids that occur more than once.
    missing_patterns : DataFrame
        ``pattern`` (one character per item: 1 answered, 0 missing), ``n_missing, count,
        proportion, missing_items``, most frequent first.
    policies : DataFrame
        ``policy, n_dropped, n_kept, raises, rows``: which rows each missing-data policy would
        drop (listwise, pairwise, fiml, raise, and scale scores with a framework).
    min_pairwise_n : int
        The smallest number of respondents answering both of any two items.
    careless_items : tuple of str
        Items used for longstring, IRV and Mahalanobis D2 (raw responses, before reversing).
    unknown_columns : tuple of str
        Data columns the framework does not name.
    """

    _schema: ClassVar[str] = "psychoval.data_quality/1"

    source: str
    framework_name: str | None
    n_respondents: int
    n_columns: int
    n_cells: int
    n_missing_cells: int
    missing_fraction: float
    n_out_of_range: int
    n_invalid_codes: int
    n_all_missing_rows: int
    n_duplicate_ids: int
    min_pairwise_n: int
    items: pd.DataFrame
    categories: pd.DataFrame
    invalid_cells: pd.DataFrame
    respondents: pd.DataFrame
    duplicate_ids: pd.DataFrame
    missing_patterns: pd.DataFrame
    policies: pd.DataFrame
    careless_items: tuple[str, ...]
    unknown_columns: tuple[str, ...]

    @property
    def problems(self) -> tuple[str, ...]:
        """Data problems found (counts above zero of things that should not occur at all):
        out-of-range values, invalid codes, duplicate ids, all-missing rows, constant
        columns, unknown columns. Used by ``psychoval check --strict``."""
        out = count_problems(self)
        if self.unknown_columns:
            out.append(f"column(s) not in the framework: {', '.join(self.unknown_columns)}")
        return tuple(out)

    def _repr_fields(self) -> dict[str, Any]:
        return {"n": self.n_respondents, "columns": self.n_columns,
                "missing": f"{self.missing_fraction:.1%}", "out_of_range": self.n_out_of_range,
                "invalid_codes": self.n_invalid_codes, "duplicate_ids": self.n_duplicate_ids}

    def to_frame(self) -> pd.DataFrame:
        """The per-column table."""
        return self.items.copy()

    def summary(self) -> Summary:
        facts: list[tuple[str, Any]] = [("source", self.source)]
        if self.framework_name is not None:
            facts.append(("framework", self.framework_name or "(unnamed)"))
        facts += [
            ("respondents", self.n_respondents),
            ("columns examined", self.n_columns),
            ("missing cells", f"{self.n_missing_cells} of {self.n_cells} "
                              f"({self.missing_fraction:.1%})"),
            ("out-of-range values", self.n_out_of_range),
            ("invalid codes", self.n_invalid_codes),
            ("respondents with no answer", self.n_all_missing_rows),
            ("duplicated ids", self.n_duplicate_ids),
            ("complete respondents", int((self.respondents["n_missing"] == 0).sum())),
            ("smallest pairwise n", self.min_pairwise_n),
        ]
        cols = (["competency"] if self.framework_name is not None else []) + [
            "type", "n", "missing_pct", "n_out_of_range", "n_invalid_codes", "n_distinct",
            "constant", "mean", "sd", "sparse_categories"]
        items = self.items.set_index("column")[cols].copy()
        items["missing_pct"] = items["missing_pct"].map(lambda v: f"{v:.1f}")
        tables: list[tuple[str, pd.DataFrame]] = [("Columns", items)]
        if len(self.invalid_cells):
            tables.append((f"Invalid cells (first 10 of {len(self.invalid_cells)})",
                           self.invalid_cells.head(10).set_index("column")))
        if len(self.duplicate_ids):
            tables.append(("Duplicated ids", self.duplicate_ids.head(10).set_index("id")))
        pol = self.policies[["policy", "n_dropped", "n_kept", "raises"]].set_index("policy")
        tables.append(("Rows each missing-data policy would drop", pol))
        pat = self.missing_patterns.head(10)[["n_missing", "count", "proportion",
                                              "missing_items"]].copy()
        pat.index = pd.RangeIndex(1, len(pat) + 1, name="pattern")
        tables.append((f"Missingness patterns (10 most frequent of "
                       f"{len(self.missing_patterns)})", pat))
        resp = self.respondents
        if self.careless_items:
            stats = resp[["missing_pct", "longstring", "irv", "mahalanobis"]]
            q = stats.quantile([0.0, 0.25, 0.5, 0.75, 0.9, 1.0]).T
            q.columns = ["min", "25%", "median", "75%", "90%", "max"]
            tables.append((f"Respondents: distribution over {self.n_respondents} "
                           f"(careless statistics on {len(self.careless_items)} items)", q))
        notes = ["Statistics only: thresholds and flags are applied by psychoval.verdicts.",
                 "sparse_categories lists categories with fewer than 5 responses (count in "
                 "parentheses)."]
        if self.unknown_columns:
            notes.append(f"Columns not in the framework (ignored): "
                         f"{', '.join(self.unknown_columns)}")
        return Summary(title="Data-quality report", facts=tuple(facts), tables=tuple(tables),
                       notes=tuple(notes))


@dataclasses.dataclass
class _Column:
    name: str
    item: Item | None
    values: np.ndarray  # float, NaN unless status OK
    status: np.ndarray
    chosen: np.ndarray | None
    categories: tuple[Any, ...] | None  # declared/observed categories, None = continuous
    text: bool = False  # text column without a framework


def _columns_without_framework(table: ResponseTable) -> list[_Column]:
    out = []
    # every column's values in one conversion (column-major: each column contiguous) rather
    # than one DataFrame lookup per column (seconds with thousands of columns)
    frame = table._values
    where = {c: j for j, c in enumerate(frame.columns)}
    block = np.asfortranarray(frame.to_numpy(dtype="float64"))
    for name in table.items:
        num = block[:, where[name]].copy()
        text_pos, text_raw = table._text_of(name)
        status = np.where(np.isnan(num), MISSING, OK).astype(np.int8)
        n_num = int((~np.isnan(num)).sum())
        if text_pos.size and text_pos.size >= n_num:  # mostly text: a categorical text column
            chosen = np.full(num.shape[0], None, dtype=object)
            chosen[text_pos] = pd.Series(text_raw, dtype=object).str.split() \
                .str.join(" ").to_numpy(dtype=object)
            numpos = np.flatnonzero(~np.isnan(num))
            if numpos.size:
                chosen[numpos] = pd.Series(num[numpos]).map(numstr).to_numpy(dtype=object)
            status[text_pos] = OK
            cats = tuple(sorted(pd.unique(chosen[chosen != None]).tolist(), key=str))  # noqa: E711
            out.append(_Column(name, None, np.full(num.shape[0], np.nan), status, chosen, cats,
                               text=True))
            continue
        status[text_pos] = BAD_CODE
        vals = num[~np.isnan(num)]
        distinct = np.unique(vals)
        cats = None
        if distinct.size <= 10 and np.all(np.mod(distinct, 1) == 0):
            cats = tuple(distinct.tolist())
        out.append(_Column(name, None, num, status, None, cats))
    return out


def declared_categories(item: Item) -> tuple[Any, ...] | None:
    if item.type == "multiple_choice":
        return item.options
    lo, hi = float(item.min), float(item.max)  # type: ignore[arg-type]
    if item.categories:
        return tuple(float(lo + j) for j in range(len(item.categories)))
    if lo.is_integer() and hi.is_integer() and hi - lo + 1 <= MAX_CATEGORIES:
        return tuple(float(v) for v in np.arange(lo, hi + 1))
    return None


def check_data(responses: Any, framework: Framework | None = None) -> DataQualityReport:
    """A data-quality report of a response table: what is missing, invalid, duplicated or
    unusual, before any statistic is computed. Statistics only, no verdicts.

    Parameters
    ----------
    responses : ResponseTable, DataFrame or path
        Raw responses (option letters, labels and numbers as collected).
    framework : Framework, optional
        With a framework, each column is decoded by its item's declared type and range:
        labels and options are valid codes, values outside ``min``-``max`` are out of range,
        rater columns are checked one by one, and the framework's id column names the
        respondents. Without one, every column is examined; a column that is mostly text is
        treated as a categorical code column, text in a numeric column is an invalid code.

    Returns
    -------
    DataQualityReport
        Counts; per column: n, missing %, out-of-range values and non-numeric codes (with
        examples and row numbers), constant columns, categories with fewer than 5 responses;
        per respondent: missing %, all-missing rows, longstring, IRV, Mahalanobis D2;
        duplicate ids; the missingness pattern table; the rows each missing-data policy
        would drop.

    Raises
    ------
    DataError
        Framework item columns absent from the data; unreadable input.

    Warns
    -----
    SpecificationWarning
        Data columns the framework does not name.

    Notes
    -----
    Careless-responding statistics use the raw (unreversed) answers to the Likert items in
    data-column order (without a framework: every numeric column): longstring is the longest
    run of identical consecutive answers (a blank ends a run), IRV the within-person SD
    (Dunn et al., 2018), Mahalanobis D2 the distance from the item means in the metric of the
    item covariances, on each respondent's answered items (pairwise-complete moments; df =
    answered items) (Meade & Craig, 2012).

    References
    ----------
    Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey data.
    Psychological Methods, 17(3), 437-455. https://doi.org/10.1037/a0028085

    Dunn, A. M., Heggestad, E. D., Shanock, L. R., & Theilgard, N. (2018). Intra-individual
    response variability as an indicator of insufficient effort responding. Journal of
    Business and Psychology, 33, 105-121. https://doi.org/10.1007/s10869-016-9479-0

    Examples
    --------
    >>> import psychoval as pv
    >>> from psychoval.datasets import sample_framework
    >>> report = pv.check_data(pv.load_sample(), sample_framework())
    >>> report.n_respondents, report.n_columns, report.n_invalid_codes
    (1500, 43, 0)
    """
    table = as_response_table(responses, framework)
    unknown: tuple[str, ...] = ()
    if framework is not None:
        with collect_warnings() as caught:
            check_columns(framework, table)
        known = set(framework.columns)
        unknown = tuple(c for c in table.items if c not in known)
        for w in caught:
            warn(w.message, w.category, stacklevel=2)
        columns = []
        for item in framework.items:
            for col in item.columns:
                values, status, chosen = decode_column(table, col, item)
                columns.append(_Column(col, item, values, status, chosen,
                                       declared_categories(item)))
    else:
        columns = _columns_without_framework(table)
    ids = table.ids
    n = table.n_respondents
    order = {c: j for j, c in enumerate(table.items)}

    # per column ------------------------------------------------------------------------
    item_rows, cat_rows, bad_rows = [], [], []
    for col in columns:
        st = col.status
        n_ok = int((st == OK).sum())
        n_miss = int((st == MISSING).sum())
        bad = np.flatnonzero(st >= OUT_OF_RANGE)
        examples = []
        if bad.size:
            cells = table._raw_at(col.name, bad)
            shown = [numstr(v) if isinstance(v, float) else str(v) for v in cells]
            kinds = np.where(st[bad] == OUT_OF_RANGE, "out_of_range", "invalid_code")
            for pos, value, kind in zip(bad, shown, kinds, strict=True):
                bad_rows.append({"column": col.name, "row": int(pos) + 1,
                                 "id": ids[pos], "value": value, "kind": str(kind)})
            seen: dict[str, list[int]] = {}
            for pos, value in zip(bad, shown, strict=True):
                seen.setdefault(value, []).append(int(pos) + 1)
            for value, rows in list(seen.items())[:EXAMPLES]:
                more = f", ... ({len(rows)})" if len(rows) > EXAMPLES else ""
                examples.append(f"{value!r} at row{'s' if len(rows) > 1 else ''} "
                                f"{', '.join(map(str, rows[:EXAMPLES]))}{more}")
        if col.chosen is not None:  # multiple choice or text codes: count codes
            codes = col.chosen[st == OK]
            observed = pd.Series(codes, dtype=object).value_counts()
            n_distinct = int(observed.size)
            vals = col.values[st == OK]
        else:
            vals = col.values[st == OK]
            # one sort gives the distinct values and their counts (a pandas value_counts
            # per column costs seconds over thousands of columns)
            distinct, counts = np.unique(vals, return_counts=True)
            n_distinct = int(distinct.size)
            observed = dict(zip(distinct.tolist(), counts.tolist(), strict=True))
        sparse = []
        if col.categories is not None:
            for cat in col.categories:
                count = int(observed.get(cat, 0))
                label = cat
                if col.item is not None and col.item.categories and isinstance(cat, float):
                    label = col.item.categories[int(cat - float(col.item.min))]
                shown = numstr(label) if isinstance(label, float) else str(label)
                cat_rows.append({"column": col.name, "category": shown, "count": count,
                                 "proportion": count / n_ok if n_ok else np.nan})
                if count < SPARSE_BELOW:
                    sparse.append(f"{shown} ({count})")
        numeric = vals if not col.text else np.array([])
        item_rows.append({
            "column": col.name,
            "item": col.item.id if col.item is not None else col.name,
            "competency": col.item.competency if col.item is not None else None,
            "type": col.item.type if col.item is not None else ("text" if col.text else
                                                                 "numeric"),
            "position": order[col.name] + 1,
            "n": n_ok,
            "n_missing": n_miss,
            "missing_pct": 100.0 * n_miss / n,
            "n_out_of_range": int((st == OUT_OF_RANGE).sum()),
            "n_invalid_codes": int((st == BAD_CODE).sum()),
            "examples": "; ".join(examples),
            "n_distinct": n_distinct,
            "constant": n_distinct <= 1,
            "min": float(numeric.min()) if numeric.size else np.nan,
            "max": float(numeric.max()) if numeric.size else np.nan,
            "mean": float(numeric.mean()) if numeric.size else np.nan,
            "sd": float(numeric.std(ddof=1)) if numeric.size > 1 else np.nan,
            "n_sparse_categories": len(sparse),
            "sparse_categories": ", ".join(sparse),
        })
    items_df = pd.DataFrame(item_rows)

    # the careless statistics' matrix (copied in blocks of rows, which stay in cache); its
    # columns replace the decoded values, so the responses are held once
    if framework is not None:
        careless = [c for c in columns if c.item is not None and c.item.type == "likert"]
    else:
        careless = [c for c in columns if not c.text]
    careless.sort(key=lambda c: order[c.name])
    xc = np.empty((n, len(careless)))
    for rows in _row_blocks(n):
        block = xc[rows]
        for j, c in enumerate(careless):
            block[:, j] = c.values[rows]
    for j, c in enumerate(careless):
        c.values = xc[:, j]

    # per respondent (item level: a rated item is missing when every rater is) ------------
    if framework is not None:
        by_item: dict[str, list[_Column]] = {}
        for col in columns:
            by_item.setdefault(col.item.id, []).append(col)  # type: ignore[union-attr]
        item_names = list(by_item)
        answered = np.column_stack([
            np.any(np.column_stack([c.status == OK for c in cs]), axis=1)
            for cs in by_item.values()])
    else:
        item_names = [c.name for c in columns]
        answered = np.column_stack([c.status == OK for c in columns])
    blank = np.column_stack([c.status == MISSING for c in columns])
    k = answered.shape[1]
    n_missing_row = k - answered.sum(axis=1)
    all_missing = ~answered.any(axis=1)
    d2, d2df = mahalanobis(xc) if careless else (np.full(n, np.nan), np.full(n, np.nan))
    respondents = pd.DataFrame({
        "id": ids,
        "n_missing": n_missing_row,
        "missing_pct": 100.0 * n_missing_row / k,
        "all_missing": all_missing,
        "longstring": longstring(xc) if careless else np.full(n, np.nan),
        "irv": irv(xc) if careless else np.full(n, np.nan),
        "mahalanobis": d2,
        "mahalanobis_df": d2df,
    })

    # duplicate ids -------------------------------------------------------------------------
    dup_mask = ids.duplicated(keep=False)
    dup_rows = []
    if dup_mask.any():
        pos = np.flatnonzero(dup_mask)
        groups: dict[Any, list[int]] = {}
        for p, key in zip((pos + 1).tolist(), ids[pos].tolist(), strict=True):
            groups.setdefault(key, []).append(p)
        dup_rows = [{"id": key, "count": len(rows), "rows": ", ".join(map(str, rows))}
                    for key, rows in groups.items()]
    duplicate_ids = pd.DataFrame(dup_rows, columns=["id", "count", "rows"])

    # missingness patterns (item level) -------------------------------------------------
    patterns, counts = _unique_rows(answered)
    pat_df = pd.DataFrame({
        "pattern": _pattern_strings(patterns),
        "n_missing": (~patterns).sum(axis=1),
        "count": counts,
        "proportion": counts / n,
        "missing_items": _missing_items(patterns, item_names),
    }).sort_values(["count", "n_missing"], ascending=[False, True], kind="mergesort") \
        .reset_index(drop=True)

    # missing-data policies ------------------------------------------------------------
    incomplete = ~answered.all(axis=1)
    policies = [
        ("listwise", incomplete, False),
        ("pairwise", np.zeros(n, dtype=bool), False),
        ("fiml", all_missing, False),
        ("raise", np.zeros(n, dtype=bool), bool(incomplete.any())),
    ]
    if framework is not None:
        pos = {name: j for j, name in enumerate(item_names)}
        lost = np.zeros(n, dtype=bool)
        for comp in framework.competencies:
            cols = [pos[i] for i in comp.item_ids]
            need = max(1.0, 0.5 * len(cols) - 1e-9)
            lost |= answered[:, cols].sum(axis=1) < need
        policies.append(("scale_scores(min_answered=0.5)", lost, False))
    policies_df = pd.DataFrame([{
        "policy": name, "n_dropped": int(mask.sum()), "n_kept": int(n - mask.sum()),
        "raises": raises, "rows": [to_plain(v) for v in ids[np.flatnonzero(mask)].tolist()],
    } for name, mask, raises in policies])
    # complete answers: every pair is answered by all n (no k x k count matrix)
    npair = np.full((1, 1), n) if answered.size and answered.all() else _pair_counts(answered)
    n_bad_oor = int(sum(int((c.status == OUT_OF_RANGE).sum()) for c in columns))
    n_bad_code = int(sum(int((c.status == BAD_CODE).sum()) for c in columns))
    return DataQualityReport(
        source=table.source,
        framework_name=framework.name if framework is not None else None,
        n_respondents=n,
        n_columns=len(columns),
        n_cells=int(blank.size),
        n_missing_cells=int(blank.sum()),
        missing_fraction=float(blank.mean()) if blank.size else 0.0,
        n_out_of_range=n_bad_oor,
        n_invalid_codes=n_bad_code,
        n_all_missing_rows=int(all_missing.sum()),
        n_duplicate_ids=len(dup_rows),
        min_pairwise_n=int(npair.min()) if npair.size else 0,
        items=items_df,
        categories=pd.DataFrame(cat_rows, columns=["column", "category", "count", "proportion"]),
        invalid_cells=pd.DataFrame(bad_rows, columns=["column", "row", "id", "value", "kind"]),
        respondents=respondents,
        duplicate_ids=duplicate_ids,
        missing_patterns=pat_df,
        policies=policies_df,
        careless_items=tuple(c.name for c in careless),
        unknown_columns=unknown,
    )


def to_plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _pair_counts(answered: np.ndarray) -> np.ndarray:
    """``A'A`` for the boolean answered-matrix ``A``: how many rows answer both of two
    columns. With few unanswered cells, from those cells (``n - u_i - u_j + U'U``)."""
    n, k = answered.shape
    unanswered = ~answered
    n_un = int(unanswered.sum())
    if n_un > 0.1 * n * k:
        a = answered.astype("float64")
        return a.T @ a
    from scipy.sparse import csr_matrix

    rows, cols = np.nonzero(unanswered)
    u = csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, k))
    per_col = np.bincount(cols, minlength=k).astype("float64")
    return n - per_col[:, None] - per_col[None, :] + (u.T @ u).toarray()


def _unique_rows(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(mask, axis=0, return_counts=True)`` of a boolean matrix (the same rows in
    the same, lexicographic, order), with each row packed into 64-bit words and sorted as
    integers rather than compared item by item."""
    n, k = mask.shape
    if n == 0 or k == 0:
        return np.unique(mask, axis=0, return_counts=True)
    packed = np.packbits(mask, axis=1)  # first item in the highest bit: order is kept
    words = np.zeros((n, -(-packed.shape[1] // 8) * 8), dtype=np.uint8)
    words[:, :packed.shape[1]] = packed
    words = words.view(">u8").astype(np.uint64)  # big-endian words: first word first
    if words.shape[1] == 1:
        _, first, counts = np.unique(words[:, 0], return_index=True, return_counts=True)
        return mask[first], counts
    order = np.lexsort(words.T[::-1])  # lexsort's last key is the primary one
    ranked = words[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (ranked[1:] != ranked[:-1]).any(axis=1)
    starts = np.flatnonzero(new)
    return mask[order[starts]], np.diff(np.append(starts, n))


def _pattern_strings(patterns: np.ndarray) -> list[str]:
    """Each boolean row as a string of ``1`` (True) and ``0`` (False)."""
    p, k = patterns.shape
    if k == 0:
        return [""] * p
    digits = np.ascontiguousarray(patterns.astype(np.uint8) + ord("0"))
    return digits.view(f"S{k}")[:, 0].astype(f"U{k}").tolist()


def _missing_items(patterns: np.ndarray, names: list[str]) -> list[str]:
    """Per pattern, the names of its False items joined by ``, ``."""
    rows, cols = np.nonzero(~patterns)
    bounds = np.searchsorted(rows, np.arange(patterns.shape[0] + 1)).tolist()
    cols = cols.tolist()
    names = [str(name) for name in names]
    return [", ".join([names[j] for j in cols[a:b]]) for a, b in zip(bounds[:-1], bounds[1:],
                                                                         strict=True)]
