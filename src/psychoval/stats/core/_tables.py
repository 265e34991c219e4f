"""Mergeable frequency table of response patterns: ordinal statistics of data too large for
one array.

A :class:`ResponsePatterns` holds, for a set of ordinal items, every distinct response vector
(a missing answer is a value of its own) and the number of rows that gave it. Two tables add
(``a + b``, :meth:`ResponsePatterns.merge`) by adding counts; the counts are integers, so the
merged table *is* the table of the concatenated rows, exactly, in a canonical order
(patterns sorted lexicographically by value, missing first). It travels as JSON
(``to_dict()`` / ``from_dict()``).

Why patterns and not only the pairwise tables: the univariate and bivariate tables (and so
thresholds and polychoric correlations) are sums of the patterns' counts, but WLSMV also
needs Gamma, the asymptotic covariance of the thresholds and polychorics, ``sum_rows s(x)
s(x)'`` with ``s`` the per-row scores of all thresholds and pairs at once. Each row's score
is a function of its response vector alone, so ``Gamma = sum_patterns freq s(pattern)
s(pattern)'``: the patterns with their counts are sufficient, the pairwise tables are not
(Gamma's cross terms between two pairs need three- and four-way tables).

Compression. A chunk of n rows of k items with c categories has at most min(n, (c + 1)^k)
patterns. Few items with few categories compress enormously (6 items x 5 categories: at
most 15,625 patterns whatever n). Many items with many categories do not: with 20 5-point
items almost every respondent has a pattern of their own, the table holds about n patterns
(memory O(patterns x k), like the rows themselves in int16) and merging is a sort of all of
them. Everything still works and stays exact; it just does not save memory.

Counting is vectorised per chunk: each row becomes one integer (mixed radix over each item's
observed values plus missing, item 1 the most significant digit, so integer order is the
canonical order), counted by ``np.bincount`` when the code space is at most 2**22 and by
``np.unique`` otherwise (rows of codes when the space exceeds 64 bits).

Length: one accumulator with its construction, merge, subsets, tables and JSON form.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._version import __version__
from psychoval.exceptions import DataError
from psychoval.stats.core._suffstats import (
    frequency_weights,
    item_block,
    item_positions,
    same_columns,
)

__all__ = ["ResponsePatterns", "weighted_items", "MAX_LEVELS"]

MAX_LEVELS = 255  # distinct answered values per item (an ordinal item has a handful)
_SCHEMA = "psychoval.response_patterns/1"
_BINCOUNT_SPACE = 1 << 22  # code spaces up to this size are counted by np.bincount


def _group(codes: np.ndarray, radix: np.ndarray, weights: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``codes`` (P, k; -1 = missing, else 0..radix-2) in lexicographic
    order and their counts (or summed ``weights``)."""
    n, k = codes.shape
    if n == 0:
        return codes[:0].astype(np.int16), np.zeros(0, np.int64)
    space = 1
    for r in radix.tolist():
        space *= int(r)
    digits = codes.astype(np.int64) + 1
    if space < 2 ** 63:
        mult = np.ones(k, dtype=np.int64)
        for j in range(k - 2, -1, -1):  # item 1 is the most significant digit
            mult[j] = mult[j + 1] * int(radix[j + 1])
        key = digits @ mult
        if space <= _BINCOUNT_SPACE and space <= max(8 * n, 1 << 16):
            cnt = np.bincount(key, weights=weights, minlength=0)
            keys = np.flatnonzero(cnt)
            counts = cnt[keys]
        else:
            keys, inv = np.unique(key, return_inverse=True)
            counts = np.bincount(inv.reshape(-1), weights=weights, minlength=keys.size)
        out = np.empty((keys.size, k), dtype=np.int16)
        rest = keys
        for j in range(k):
            out[:, j], rest = np.divmod(rest, mult[j])
        out -= 1
    else:
        uniq, inv = np.unique(codes, axis=0, return_inverse=True)
        counts = np.bincount(inv.reshape(-1), weights=weights, minlength=len(uniq))
        out = uniq.astype(np.int16)
    # weighted bincounts are float64: exact for totals below 2**53 rows
    return out, np.rint(counts).astype(np.int64)


def _radix(levels: Sequence[np.ndarray]) -> np.ndarray:
    return np.array([lv.size + 1 for lv in levels], dtype=np.int64)


@dataclasses.dataclass(frozen=True, eq=False)
class ResponsePatterns:
    """Distinct response vectors of ordinal items and their counts (see module).

    Build with :meth:`from_array` (NaN = missing), merge with ``a + b`` (or ``sum(chunks)``,
    :meth:`merge`), store with :meth:`to_dict` / :meth:`from_dict`.

    Attributes
    ----------
    columns : item names, in order.
    levels : per item, its answered values in increasing order (float).
    codes : (P, k) int16, each pattern's answer as an index into its item's ``levels``, -1
        for a missing answer; patterns distinct and in lexicographic order.
    freq : (P,) int64, rows giving each pattern (all positive).

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> x = np.array([[1, 2], [1, 2], [2, np.nan], [3, 1]])
    >>> t = pv.ResponsePatterns.from_array(x[:2]) + pv.ResponsePatterns.from_array(x[2:])
    >>> t
    ResponsePatterns(k=2, n=4, patterns=3)
    >>> t.bivariate("item1", "item2").to_numpy().tolist()  # rows answering both
    [[0, 2], [0, 0], [1, 0]]
    """

    columns: tuple[str, ...]
    levels: tuple[np.ndarray, ...]
    codes: np.ndarray
    freq: np.ndarray

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_array(cls, data: Any, *, columns: Sequence[str] | None = None,
                   weights: Any = None) -> ResponsePatterns:
        """The pattern table of one chunk: a 2-d array (NaN = missing), DataFrame or
        ResponseTable; ``columns`` names an array's columns (or selects a DataFrame's);
        ``weights``: frequency weights (each row stands for that many rows, e.g. a table of
        distinct rows and their counts)."""
        x, names = item_block(data, columns)
        w = frequency_weights(weights, x.shape[0])
        if w is not None:
            x, w = x[w > 0], w[w > 0]
        n, k = x.shape
        obs = ~np.isnan(x)
        levels = []
        codes = np.full((n, k), -1, dtype=np.int16)
        for j in range(k):  # per item, not per row
            col = x[obs[:, j], j]
            lv = np.unique(col)
            if lv.size > MAX_LEVELS:
                raise DataError(
                    f"item {names[j]!r} has {lv.size} distinct values (more than "
                    f"{MAX_LEVELS}); ResponsePatterns is for ordinal items: summarise "
                    "continuous scores with Moments")
            levels.append(lv)
            codes[obs[:, j], j] = np.searchsorted(lv, col)
        pat, freq = _group(codes, _radix(levels), w)
        return cls(names, tuple(levels), pat, np.rint(freq).astype(np.int64))

    @classmethod
    def zeros(cls, columns: Sequence[str]) -> ResponsePatterns:
        """The table of no rows (the neutral element of ``+``)."""
        k = len(columns)
        return cls(tuple(str(c) for c in columns), tuple(np.zeros(0) for _ in range(k)),
                   np.zeros((0, k), np.int16), np.zeros(0, np.int64))

    # -- merging ------------------------------------------------------------------------------

    def _recoded(self, levels: Sequence[np.ndarray]) -> np.ndarray:
        """``codes`` as indices into ``levels`` (supersets of this table's levels)."""
        out = np.empty_like(self.codes)
        for j, (old, new) in enumerate(zip(self.levels, levels, strict=True)):
            lut = np.append(np.searchsorted(new, old), -1).astype(np.int16)  # -1 -> -1
            out[:, j] = lut[self.codes[:, j]]
        return out

    def __add__(self, other: Any) -> ResponsePatterns:
        if isinstance(other, int) and other == 0:  # sum(chunks) starts at 0
            return self
        if not isinstance(other, ResponsePatterns):
            return NotImplemented
        return ResponsePatterns.merge([self, other])

    __radd__ = __add__

    @classmethod
    def merge(cls, parts: Iterable[ResponsePatterns]) -> ResponsePatterns:
        """The table of many chunks at once: their patterns recoded on the union of the
        levels and counted in one pass (counts are integers: any grouping is exact)."""
        parts = list(parts)
        if not parts:
            raise DataError("no chunks to merge")
        first = parts[0]
        for p in parts[1:]:
            same_columns(first.columns, p.columns, "ResponsePatterns")
        levels = tuple(np.unique(np.concatenate(lv)) for lv in zip(*(p.levels for p in parts),
                                                                  strict=True))
        big = [j for j, lv in enumerate(levels) if lv.size > MAX_LEVELS]
        if big:
            raise DataError(f"item {first.columns[big[0]]!r} has {levels[big[0]].size} distinct "
                            f"values in the merged chunks (more than {MAX_LEVELS}); "
                            "ResponsePatterns is for ordinal items")
        codes = np.vstack([p._recoded(levels) for p in parts])
        freq = np.concatenate([p.freq for p in parts]).astype(float)
        pat, cnt = _group(codes, _radix(levels), weights=freq)
        return cls(first.columns, levels, pat, cnt)

    # -- subsets -----------------------------------------------------------------------------

    def _rows(self, keep: np.ndarray) -> ResponsePatterns:
        """The table of the rows of the patterns in ``keep`` (levels no longer answered are
        dropped, as :meth:`from_array` of those rows would)."""
        codes = self.codes[keep]
        levels, cols = [], []
        for j, lv in enumerate(self.levels):
            c = codes[:, j]
            used = np.zeros(lv.size + 1, dtype=bool)
            used[c] = True  # index -1 marks the missing slot (last)
            lut = np.append(np.cumsum(used[:-1]) - 1, -1).astype(np.int16)
            levels.append(lv[used[:-1]])
            cols.append(lut[c])
        codes = np.column_stack(cols).astype(np.int16) if cols else codes
        return ResponsePatterns(self.columns, tuple(levels), codes, self.freq[keep].copy())

    def select(self, items: Sequence[str]) -> ResponsePatterns:
        """The table of some of the items, in the order given (patterns that coincide on
        them are pooled)."""
        idx = item_positions(self.columns, items)
        levels = tuple(self.levels[i] for i in idx)
        pat, cnt = _group(self.codes[:, idx], _radix(levels), weights=self.freq.astype(float))
        return ResponsePatterns(tuple(self.columns[i] for i in idx), levels, pat, cnt)

    def listwise(self) -> ResponsePatterns:
        """The table of the complete rows (every item answered)."""
        return self._rows((self.codes >= 0).all(axis=1))

    def answered(self) -> ResponsePatterns:
        """The table of the rows answering at least one item (lavaan's non-empty cases)."""
        return self._rows((self.codes >= 0).any(axis=1))

    # -- counts and tables -------------------------------------------------------------------

    @property
    def k(self) -> int:
        return len(self.columns)

    @property
    def n(self) -> int:
        """Rows seen (rows without any answer included)."""
        return int(self.freq.sum())

    @property
    def n_patterns(self) -> int:
        return int(self.freq.size)

    @property
    def n_complete(self) -> int:
        return int(self.freq[(self.codes >= 0).all(axis=1)].sum())

    @property
    def complete(self) -> bool:
        """True when no answer is missing."""
        return bool((self.codes >= 0).all())

    def values(self) -> np.ndarray:
        """(P, k) float: each pattern's answers as values, NaN where missing."""
        out = np.full(self.codes.shape, np.nan)
        for j, lv in enumerate(self.levels):
            c = self.codes[:, j]
            out[c >= 0, j] = lv[c[c >= 0]]
        return out

    def univariate(self, item: str) -> pd.Series:
        """Counts of each answered value of ``item`` (missing answers: ``n`` minus their
        sum)."""
        j = item_positions(self.columns, [item])[0]
        c = self.codes[:, j]
        cnt = np.bincount(c[c >= 0], weights=self.freq[c >= 0].astype(float),
                          minlength=self.levels[j].size)
        return pd.Series(np.rint(cnt).astype(np.int64), index=pd.Index(self.levels[j],
                                                                       name=item), name="n")

    def bivariate(self, a: str, b: str) -> pd.DataFrame:
        """Contingency table of two items over the rows answering both (pairwise
        complete): ``a``'s values as rows, ``b``'s as columns."""
        i, j = item_positions(self.columns, [a, b])
        ci, cj = self.codes[:, i], self.codes[:, j]
        both = (ci >= 0) & (cj >= 0)
        na, nb = self.levels[i].size, self.levels[j].size
        cnt = np.bincount(ci[both].astype(np.int64) * nb + cj[both],
                          weights=self.freq[both].astype(float), minlength=na * nb)
        return pd.DataFrame(np.rint(cnt).astype(np.int64).reshape(na, nb),
                            index=pd.Index(self.levels[i], name=a),
                            columns=pd.Index(self.levels[j], name=b))

    # -- serialisation -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (schema ``psychoval.response_patterns/1``); exact round trip."""
        return {"schema": _SCHEMA, "psychoval_version": __version__,
                "columns": list(self.columns), "levels": [lv.tolist() for lv in self.levels],
                "codes": self.codes.tolist(), "freq": self.freq.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ResponsePatterns:
        """Inverse of :meth:`to_dict`."""
        if d.get("schema") != _SCHEMA:
            raise DataError(f"not a {_SCHEMA} document (schema {d.get('schema')!r})")
        k = len(d["columns"])
        P = len(d["freq"])
        return cls(tuple(d["columns"]), tuple(np.asarray(lv, float) for lv in d["levels"]),
                   np.asarray(d["codes"], np.int16).reshape(P, k),
                   np.asarray(d["freq"], np.int64))

    def __repr__(self) -> str:
        return f"ResponsePatterns(k={self.k}, n={self.n}, patterns={self.n_patterns})"


def weighted_items(rp: ResponsePatterns, *, items: Sequence[str] | None, missing: str,
                   min_items: int = 2):
    """``rp`` as the (ItemMatrix, weights) a row-based statistic reads: one row per pattern
    (its values), its count as the weight; ``missing``: ``"pairwise"`` keeps every pattern,
    ``"listwise"`` the complete ones, ``"raise"`` raises if any answer is missing."""
    from psychoval._input import ItemMatrix, check_choice

    check_choice("missing", missing, ("pairwise", "listwise", "raise"))
    sub = rp if items is None else rp.select(list(items))
    if sub.k < min_items:
        raise DataError(f"data has {sub.k} item(s); this statistic needs at least {min_items}")
    if missing == "raise" and not sub.complete:
        miss = (sub.codes < 0)
        raise DataError(f"{int(sub.freq[miss.any(axis=1)].sum())} of {sub.n} rows miss an "
                        f"answer (first: item {sub.columns[int(np.argmax(miss.any(axis=0)))]!r});"
                        " choose missing='pairwise' or 'listwise'")
    if missing == "listwise":
        sub = sub.listwise()
        if sub.n < 2:
            raise DataError(f"listwise deletion leaves {sub.n} complete row(s) of {rp.n}; at "
                            "least 2 are needed (try missing='pairwise')")
    ids = pd.Index([f"pattern {g + 1}" for g in range(sub.n_patterns)])
    return ItemMatrix(values=sub.values(), items=sub.columns, ids=ids), sub.freq
