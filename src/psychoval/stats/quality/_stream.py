"""scan_quality: exact data-quality counts of a :class:`ResponseScan`, in one streaming pass.

The counts are those of :func:`psychoval.check_data` that add over batches of rows: rows,
missing cells per column, out-of-range values and invalid codes, respondents with no answer,
response-value counts per column, the smallest pairwise n, mean and SD (merged by Chan et
al.'s pairwise update), and duplicate ids. Per-respondent statistics that need the whole
table (longstring, IRV and Mahalanobis D2 on every row, missingness patterns) are not here.

Duplicate ids are found exactly in two steps: every id is hashed to 64 bits (pandas'
``hash_array``: equal ids give equal hashes), the hashes are sorted (8 bytes per row); only
when two rows share a hash is a second pass over the id column made, comparing the ids
themselves, so a hash collision never counts as a duplicate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._results import Result, Summary
from psychoval.exceptions import collect_warnings, warn
from psychoval.framework._framework import Framework
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
from psychoval.io._scan import ResponseScan
from psychoval.io._table import ResponseTable
from psychoval.stats.quality._check import count_problems, declared_categories

__all__ = ["scan_quality", "ScanQualityReport", "QualityCounter"]

MAX_DISTINCT = 10_000  # distinct values counted per column (responses have a few)
MAX_INVALID = 1_000  # invalid cells listed (all are counted)
EXAMPLES = 3


@dataclasses.dataclass(frozen=True, repr=False)
class ScanQualityReport(Result):
    """Exact data-quality counts of a scanned source (see :func:`scan_quality`).

    Attributes
    ----------
    source, framework_name : str
    n_respondents, n_columns, n_cells, n_missing_cells : int
    missing_fraction : float
    n_out_of_range, n_invalid_codes, n_all_missing_rows, n_duplicate_ids : int
        As :class:`psychoval.DataQualityReport`.
    min_pairwise_n : int
        The smallest number of respondents with valid answers to both of two items.
    items : DataFrame
        Per column: ``column, item, competency, type, position, n, n_missing, missing_pct,
        n_out_of_range, n_invalid_codes, n_distinct, constant, min, max, mean, sd`` (as
        check_data's; ``n_distinct`` is None beyond 10,000 distinct values).
    categories : DataFrame
        ``column, category, count, proportion`` of the declared (or few observed) categories.
    invalid_cells : DataFrame
        The first 1,000 out-of-range or non-numeric cells (``column, row, id, value, kind``);
        all are counted.
    duplicate_ids : DataFrame
        ``id, count, rows`` of ids that occur more than once (rows 1-based).
    duplicate_method : str
        How duplicates were found.
    """

    _schema: ClassVar[str] = "psychoval.scan_quality/1"

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
    duplicate_ids: pd.DataFrame
    duplicate_method: str

    def _repr_fields(self) -> dict[str, Any]:
        return {"n": self.n_respondents, "columns": self.n_columns,
                "missing": f"{self.missing_fraction:.1%}", "out_of_range": self.n_out_of_range,
                "invalid_codes": self.n_invalid_codes, "duplicate_ids": self.n_duplicate_ids}

    def to_frame(self) -> pd.DataFrame:
        """The per-column table."""
        return self.items.copy()

    @property
    def problems(self) -> tuple[str, ...]:
        """Data problems found, as :attr:`DataQualityReport.problems` counts them."""
        return tuple(count_problems(self))

    def summary(self) -> Summary:
        facts: list[tuple[str, Any]] = [
            ("source", self.source), ("respondents", self.n_respondents),
            ("columns examined", self.n_columns),
            ("missing cells", f"{self.n_missing_cells} of {self.n_cells} "
                              f"({self.missing_fraction:.1%})"),
            ("out-of-range values", self.n_out_of_range),
            ("invalid codes", self.n_invalid_codes),
            ("respondents with no answer", self.n_all_missing_rows),
            ("duplicated ids", self.n_duplicate_ids),
            ("smallest pairwise n", self.min_pairwise_n)]
        cols = ["type", "n", "missing_pct", "n_out_of_range", "n_invalid_codes", "n_distinct",
                "mean", "sd"]
        tables = [("Columns", self.items.set_index("column")[cols])]
        if len(self.duplicate_ids):
            tables.append(("Duplicated ids", self.duplicate_ids.head(10).set_index("id")))
        return Summary(title="Data-quality counts (streamed, exact)", facts=tuple(facts),
                       tables=tuple(tables),
                       notes=("Counts over every row of the source; per-respondent "
                              "statistics (longstring, IRV, Mahalanobis D2) need "
                              "pv.check_data on a table in memory.",
                              f"Duplicate ids: {self.duplicate_method}"))


@dataclasses.dataclass
class _Col:
    """Running counts of one column."""

    name: str
    item: Any
    categories: tuple[Any, ...] | None
    n_ok: int = 0
    n_missing: int = 0
    n_oor: int = 0
    n_bad: int = 0
    n_text: int = 0  # without a framework: non-numeric codes (bad, or a text column)
    mean: float = 0.0
    m2: float = 0.0
    lo: float = np.inf
    hi: float = -np.inf
    counts: dict[Any, int] | None = dataclasses.field(default_factory=dict)
    text_counts: dict[Any, int] = dataclasses.field(default_factory=dict)

    def add_values(self, vals: np.ndarray, *, count: bool = True) -> None:
        """Merge a batch's values."""
        if not vals.size:
            return
        u, c = np.unique(vals, return_counts=True) if count else (vals, None)
        self._merge(vals, None, u if count else None, c)

    def add_counted(self, vals: np.ndarray, cnts: np.ndarray, labels: Any = None) -> None:
        """Merge values ``vals`` seen ``cnts`` times each (counted under ``labels`` when
        given: a multiple-choice item's options)."""
        keep = cnts > 0
        keys = vals if labels is None else np.asarray(labels, dtype=object)
        vals, cnts, keys = vals[keep], cnts[keep], keys[keep]
        if cnts.size:
            self._merge(vals, cnts, keys, cnts)

    def _merge(self, vals: np.ndarray, weights: np.ndarray | None, keys: Any,
               counts: Any) -> None:
        """Chan, Golub & LeVeque's merge of (n, mean, M2) with values (each seen ``weights``
        times, default once); ``keys`` and their ``counts`` go to the response counts."""
        m = vals.size if weights is None else int(weights.sum())
        bmean = float(vals.mean() if weights is None else weights @ vals / m)
        dev2 = (vals - bmean) ** 2
        bm2 = float(dev2.sum() if weights is None else weights @ dev2)
        n = self.n_ok
        delta = bmean - self.mean
        tot = n + m
        self.mean += delta * m / tot
        self.m2 += bm2 + delta * delta * n * m / tot
        self.lo = min(self.lo, float(vals.min()))
        self.hi = max(self.hi, float(vals.max()))
        self.n_ok = tot
        if keys is not None and self.counts is not None:
            _add_counts(self.counts, keys.tolist(), counts.tolist())
            if len(self.counts) > MAX_DISTINCT:
                self.counts = None


def id_hashes(ids: Any) -> np.ndarray:
    """64-bit hashes of respondent ids: whole-number ids are their own (distinct ids never
    collide); others by pandas' ``hash_array`` of the ids as written."""
    arr = np.asarray(ids)
    if arr.dtype.kind in "iu" and arr.dtype.itemsize == 8:
        return arr.view(np.uint64)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64).view(np.uint64)
    return pd.util.hash_array(np.asarray(ids, dtype=object))


def _add_counts(into: dict[Any, int], keys: Iterable[Any], counts: Iterable[int]) -> None:
    for k, c in zip(keys, counts, strict=True):
        into[k] = into.get(k, 0) + int(c)


class QualityCounter:
    """Exact data-quality counts accumulated batch by batch (:meth:`update` with each
    :class:`ResponseTable` block of a scan, then :meth:`result`)."""

    def __init__(self, framework: Framework | None = None, *, source: str = "",
                 hash_ids: bool = True) -> None:
        self.framework = framework
        self.source = source
        self.hash_ids = hash_ids
        self.n = 0
        self.cols: list[_Col] | None = None
        self.order: dict[str, int] = {}
        self.n_all_missing = 0
        self.pair_n: np.ndarray | None = None
        self.hashes: list[np.ndarray] = []
        self.invalid: list[dict[str, Any]] = []
        self.examples: dict[str, dict[str, list[int]]] = {}
        self.unknown: tuple[str, ...] = ()

    # -- one batch -------------------------------------------------------------------
    def update(self, table: ResponseTable) -> None:
        fw = self.framework
        table = as_response_table(table, fw)
        if self.cols is None:
            self._start(table)
        n = table.n_respondents
        ids = table.ids
        first_row = self.n
        answered_cols = []
        for col in self.cols:  # type: ignore[union-attr]
            if fw is not None:
                values, status, chosen = decode_column(table, col.name, col.item)
            else:
                values, status, chosen = _undecoded(table, col.name)
            col.n_missing += int((status == MISSING).sum())
            col.n_oor += int((status == OUT_OF_RANGE).sum())
            nbad = int((status == BAD_CODE).sum())
            if fw is None:
                col.n_text += nbad
                ok_text = status == BAD_CODE
                if nbad:
                    cells = pd.Series(chosen[ok_text], dtype=object).str.split().str.join(" ")
                    vc = cells.value_counts(sort=False)
                    _add_counts(col.text_counts, vc.index.tolist(), vc.to_numpy().tolist())
            else:
                col.n_bad += nbad
            ok = status == OK
            if chosen is not None and fw is not None:  # multiple choice: count options
                vc = pd.Series(chosen[ok], dtype=object).value_counts(sort=False)
                if col.counts is not None:
                    _add_counts(col.counts, vc.index.tolist(), vc.to_numpy().tolist())
                col.add_values(values[ok], count=False)
            else:
                col.add_values(values[ok])
            self._note_invalid(table, col.name, status, ids, first_row,
                               bad_is_text=fw is None)
            answered_cols.append((col, ok))
        # a rated item is answered when any of its raters rated it (check_data's rule)
        by_item: dict[str, np.ndarray] = {}
        for col, ok in answered_cols:
            key = col.item.id if col.item is not None else col.name
            by_item[key] = by_item[key] | ok if key in by_item else ok
        answered = np.column_stack(list(by_item.values())) if by_item else \
            np.zeros((n, 0), dtype=bool)
        self.n_all_missing += int((~answered.any(axis=1)).sum())
        a = answered.astype(np.float64)
        pairs = a.T @ a  # exact: integers below 2**53
        self.pair_n = pairs if self.pair_n is None else self.pair_n + pairs
        if self.hash_ids:
            self.hashes.append(id_hashes(ids))
        self.n += n

    def update_coded(self, codes: np.ndarray, hashes: np.ndarray | None) -> None:
        """Count a batch that took the short path of :mod:`._coded`: ``codes`` (columns in
        the order of the counter's columns, rows; 0 = missing), every answer valid, one column
        per item; ``hashes`` its respondent ids' :func:`id_hashes`. The columns' answer
        counts come later, from the pattern counts (:meth:`add_counted`)."""
        k, n = codes.shape
        miss = codes == 0
        per_row = np.add.reduce(miss.view(np.int8), axis=0, dtype=np.int32)
        self.n_all_missing += int((per_row == k).sum())
        m = np.add.reduce(miss.view(np.int8), axis=1, dtype=np.int64)
        two = np.compress(per_row >= 2, miss, axis=1)  # rows missing two items or more
        exact = np.float32 if two.shape[1] < 2**24 else np.float64  # whole counts stay exact
        both = two.astype(exact)
        both = np.rint(both @ both.T).astype(np.int64)
        np.fill_diagonal(both, m)
        pairs = n - m[:, None] - m[None, :] + both
        self.pair_n = pairs if self.pair_n is None else self.pair_n + pairs
        if self.hash_ids:
            self.hashes.append(hashes)
        self.n += n

    def add_counted(self, column: str, values: np.ndarray, counts: np.ndarray,
                    n_missing: int, labels: Any = None) -> None:
        """Answers of ``column`` counted on the short path: each of ``values`` answered
        ``counts`` times, and ``n_missing`` rows without an answer; ``labels``: what each
        answer is counted as (a multiple-choice item's options; default its value)."""
        col = self.cols[[c.name for c in self.cols].index(column)]  # type: ignore[index]
        col.n_missing += int(n_missing)
        col.add_counted(np.asarray(values, float), np.asarray(counts, np.int64), labels)

    def start(self, table: ResponseTable) -> None:
        """Begin with the columns of ``table`` (its rows are not counted: a batch's first row
        will do); :meth:`update` begins by itself."""
        if self.cols is None:
            self._start(as_response_table(table, self.framework))

    def _start(self, table: ResponseTable) -> None:
        fw = self.framework
        self.order = {c: j for j, c in enumerate(table.items)}
        if fw is not None:
            with collect_warnings() as caught:
                check_columns(fw, table)
            for w in caught:
                warn(w.message, w.category, stacklevel=4)
            known = set(fw.columns)
            self.unknown = tuple(c for c in table.items if c not in known)
            self.cols = [_Col(c, item, declared_categories(item))
                         for item in fw.items for c in item.columns]
        else:
            self.cols = [_Col(c, None, None) for c in table.items]

    def _note_invalid(self, table: ResponseTable, name: str, status: np.ndarray,
                      ids: pd.Index, first_row: int, *, bad_is_text: bool) -> None:
        bad = np.flatnonzero(status >= OUT_OF_RANGE)
        if not bad.size or (bad_is_text and len(self.invalid) >= MAX_INVALID):
            return
        cells = table._raw_at(name, bad)
        shown = [numstr(v) if isinstance(v, float) else str(v) for v in cells]
        kinds = np.where(status[bad] == OUT_OF_RANGE, "out_of_range", "invalid_code")
        for pos, value, kind in zip(bad, shown, kinds, strict=True):
            if len(self.invalid) >= MAX_INVALID:
                break
            self.invalid.append({"column": name, "row": first_row + int(pos) + 1,
                                 "id": ids[pos], "value": value, "kind": str(kind)})

    # -- the report ------------------------------------------------------------------
    def result(self, scan: ResponseScan | None = None) -> ScanQualityReport:
        """The report; ``scan`` (the scanned source) is read again, id column only, when two
        rows' ids share a 64-bit hash."""
        if self.cols is None:
            raise ValueError("no batch was counted")
        text_cols = {c.name for c in self.cols if self.framework is None and
                     c.n_text and c.n_text >= c.n_ok}
        item_rows, cat_rows = [], []
        n = self.n
        for col in self.cols:
            text = col.name in text_cols
            n_ok = col.n_ok + col.n_text if text else col.n_ok
            n_bad = 0 if text else col.n_bad + col.n_text
            if text:
                observed: dict[Any, int] | None = dict(col.text_counts)
                if col.counts is not None:
                    _add_counts(observed, [numstr(v) for v in col.counts],
                                list(col.counts.values()))
            else:
                observed = col.counts
            cats = col.categories
            if cats is None and self.framework is None:
                if text and observed is not None:
                    cats = tuple(sorted(observed, key=str))
                elif observed is not None and len(observed) <= 10 and \
                        all(float(v).is_integer() for v in observed):
                    cats = tuple(sorted(observed))
            if cats is not None and observed is not None:
                for cat in cats:
                    count = int(observed.get(cat, 0))
                    label = cat
                    if col.item is not None and col.item.categories and \
                            isinstance(cat, float):
                        label = col.item.categories[int(cat - float(col.item.min))]
                    shown = numstr(label) if isinstance(label, float) else str(label)
                    cat_rows.append({"column": col.name, "category": shown, "count": count,
                                     "proportion": count / n_ok if n_ok else np.nan})
            item = col.item
            numeric = not text and col.n_ok > 0
            item_rows.append({
                "column": col.name,
                "item": item.id if item is not None else col.name,
                "competency": item.competency if item is not None else None,
                "type": item.type if item is not None else ("text" if text else "numeric"),
                "position": self.order[col.name] + 1,
                "n": n_ok, "n_missing": col.n_missing,
                "missing_pct": 100.0 * col.n_missing / n if n else np.nan,
                "n_out_of_range": col.n_oor, "n_invalid_codes": n_bad,
                "n_distinct": None if observed is None else len(observed),
                "constant": observed is not None and len(observed) <= 1,
                "min": col.lo if numeric else np.nan, "max": col.hi if numeric else np.nan,
                "mean": col.mean if numeric else np.nan,
                "sd": float(np.sqrt(col.m2 / (col.n_ok - 1))) if numeric and col.n_ok > 1
                else np.nan})
        dups, method = self._duplicates(scan)
        n_cells = n * len(self.cols)
        n_missing = sum(c.n_missing for c in self.cols)
        invalid = [r for r in self.invalid if r["column"] not in text_cols]
        pair_n = self.pair_n if self.pair_n is not None else np.zeros((0, 0))
        return ScanQualityReport(
            source=scan.label if scan is not None else self.source,
            framework_name=self.framework.name if self.framework is not None else None,
            n_respondents=n, n_columns=len(self.cols), n_cells=n_cells,
            n_missing_cells=n_missing,
            missing_fraction=n_missing / n_cells if n_cells else 0.0,
            n_out_of_range=sum(c.n_oor for c in self.cols),
            n_invalid_codes=int(sum(r["n_invalid_codes"] for r in item_rows)),
            n_all_missing_rows=self.n_all_missing, n_duplicate_ids=len(dups),
            min_pairwise_n=int(pair_n.min()) if pair_n.size else 0,
            items=pd.DataFrame(item_rows),
            categories=pd.DataFrame(cat_rows, columns=["column", "category", "count",
                                                       "proportion"]),
            invalid_cells=pd.DataFrame(invalid, columns=["column", "row", "id", "value",
                                                         "kind"]),
            duplicate_ids=dups, duplicate_method=method)

    def _duplicates(self, scan: ResponseScan | None) -> tuple[pd.DataFrame, str]:
        empty = pd.DataFrame([], columns=["id", "count", "rows"])
        if not self.hash_ids:
            return empty, "no id column: rows are numbered, so no id repeats"
        h = np.sort(np.concatenate(self.hashes)) if self.hashes else np.zeros(0, np.uint64)
        same = h[1:] == h[:-1]
        method = ("every id hashed to 64 bits and the hashes sorted; ids sharing a hash are "
                  "compared as written in a second pass over the id column (exact)")
        if not same.any():
            return empty, method
        suspects = np.unique(h[1:][same])
        if scan is None:
            raise ValueError("ids share a hash: pass the scan to compare them")
        groups: dict[Any, list[int]] = {}
        start = 0
        for table in _id_tables(scan):
            ids = table.ids
            hit = np.flatnonzero(np.isin(id_hashes(ids), suspects))
            for p in hit.tolist():
                groups.setdefault(ids[p], []).append(start + p + 1)
            start += table.n_respondents
        rows = [{"id": key, "count": len(r), "rows": ", ".join(map(str, r))}
                for key, r in groups.items() if len(r) > 1]
        return pd.DataFrame(rows, columns=["id", "count", "rows"]), method


def _id_tables(scan: ResponseScan) -> Iterable[ResponseTable]:
    """A pass over the id column (and the first item, which a table needs)."""
    return scan.select(scan.item_columns[:1]).tables()


def _undecoded(table: ResponseTable, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Without a framework: values, status (text codes as BAD_CODE until the whole column is
    seen) and the text cells (object array, None elsewhere)."""
    values = table._values[name].to_numpy(dtype="float64")
    status = np.where(np.isnan(values), MISSING, OK).astype(np.int8)
    pos, cells = table._text_of(name)
    chosen = np.full(values.size, None, dtype=object)
    if pos.size:
        status[pos] = BAD_CODE
        chosen[pos] = cells
    return values, status, chosen


def scan_quality(scan: ResponseScan, framework: Framework | None = None
                 ) -> ScanQualityReport:
    """Exact data-quality counts of a scanned source, in one pass of bounded memory.

    The counts are :func:`psychoval.check_data`'s that add over rows - rows, missing cells,
    out-of-range values and invalid codes per column, respondents with no answer, value
    counts, mean and SD, the smallest pairwise n, duplicate ids - computed batch by batch
    with the same decoding (with a framework: each item's declared type, range, labels and
    missing codes). They equal check_data's on the same rows in memory.

    Parameters
    ----------
    scan : ResponseScan
        From :func:`psychoval.scan_responses`.
    framework : Framework, optional
        As in :func:`psychoval.check_data`; its id column is used when the scan has none.

    Returns
    -------
    ScanQualityReport

    Raises
    ------
    DataError
        Framework item columns absent from the source; a batch the cell rules refuse.

    Notes
    -----
    Memory: the running counts per column, the items x items pairwise counts, and 8 bytes
    per row for the id hashes (when there is an id column). Duplicate ids are exact: equal
    ids have equal 64-bit hashes, and ids whose hashes coincide are compared as written in a
    second pass over the id column, which is made only when some hashes coincide. Mean and
    SD are merged across batches (Chan, Golub & LeVeque 1983), equal to the in-memory ones
    to rounding.

    References
    ----------
    Chan, T. F., Golub, G. H., & LeVeque, R. J. (1983). Algorithms for computing the sample
    variance. The American Statistician, 37(3), 242-247. https://doi.org/10.2307/2683386

    Examples
    --------
    >>> import pandas as pd, psychoval as pv, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "r.csv")
    >>> pd.DataFrame({"id": ["007", "8", "007"], "q1": [1, "x", 3]}).to_csv(path, index=False)
    >>> q = pv.scan_quality(pv.scan_responses(path, id_column="id", batch_size=2))
    >>> q.n_respondents, q.n_invalid_codes, q.n_duplicate_ids
    (3, 1, 1)
    """
    if not isinstance(scan, ResponseScan):
        raise TypeError(f"scan must be a ResponseScan (pv.scan_responses); got "
                        f"{type(scan).__name__}")
    scan = framework_scan(scan, framework)
    counter = QualityCounter(framework, source=scan.label,
                             hash_ids=scan.id_column is not None)
    for table in scan.tables():
        counter.update(table)
    return counter.result(scan)


def framework_scan(scan: ResponseScan, framework: Framework | None) -> ResponseScan:
    """The scan with the framework's id column when it has none and the source has it."""
    if framework is not None and scan.id_column is None and framework.id_column and \
            framework.id_column in scan.columns:
        return scan.with_id_column(framework.id_column)
    return scan
