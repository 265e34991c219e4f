"""Mergeable sufficient statistics: statistics of data too large for one array.

Almost every statistic psychoval computes from continuous item scores is a function of a few
additive sums. The objects here hold those sums for one chunk of rows, add (``a + b``) to the
sums of the concatenated rows, and travel as JSON (``to_dict()`` / ``from_dict()``), so that
chunks can be summarised where they live (a Parquet row group, a Dask partition, another
machine) and the statistics computed from the merged sums:

- :class:`Moments`: n, pairwise counts, shifted sums and cross-products over the rows where
  each pair of items is answered, the same over the complete rows, the sums of the respondents'
  mean score that ``psych::alpha`` reports, and each item's response counts. Gives pairwise and
  listwise means, covariances and correlations (``stats::cov(use = "pairwise")``,
  ``cor(use = "pairwise")``), hence alpha, omega and EFA (``pv.alpha(moments)``, ...).
- :class:`PatternMoments`: the frequency, sums and cross-products of each missingness pattern.
  Gives the complete-case moments of any subset of items (listwise CFA of a model on some of
  the columns) and the pattern statistics that full-information ML (FIML) needs.

Exactness. Every sum is taken of ``z = x - shift`` with a per-item ``shift`` fixed by the
first chunk (its means), so the sums stay small and the covariances lose nothing to
cancellation. Two objects with different shifts are brought to a common one before adding
(``s' = s + n d`` etc.: exact in real arithmetic). Merged statistics then equal those of the
concatenated data up to floating-point rounding (about 1e-13 relative; property tests at
1e-12). What cannot come from sums - bootstrap intervals, anything per respondent - is
refused with the reason.

Length: two accumulators, each with its construction, merge, subsets, statistics and JSON
form, which only make sense together.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from psychoval.exceptions import DataError, SpecificationError

__all__ = ["Moments", "PatternMoments", "as_moments", "is_dask_collection", "is_distributed",
           "distributed_summary", "MAX_VALUES", "item_block"]

MAX_VALUES = 50  # distinct answered values counted per item (response frequencies)
_SCHEMA = "psychoval.moments/1"
_PSCHEMA = "psychoval.pattern_moments/1"


def _version() -> str:
    from psychoval._version import __version__

    return __version__


def _block(data: Any, columns: Sequence[str] | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """A chunk as a float64 (n, k) matrix (NaN = missing) and its column names. Zero rows are
    allowed (an empty partition)."""
    from psychoval._input import as_item_matrix

    names = None if columns is None else tuple(str(c) for c in columns)
    if isinstance(data, np.ndarray) and data.ndim == 2 and names is not None:
        if data.shape[1] != len(names):
            raise DataError(f"the block has {data.shape[1]} column(s) but columns= names "
                            f"{len(names)}")
        m = as_item_matrix(data, min_rows=0, _names=names)
    else:
        m = as_item_matrix(data, min_rows=0, items=None if not hasattr(data, "columns")
                           else names)
    return m.values, m.items


item_block = _block  # for the other summaries (FourthMoments)


def _frequency_weights(weights: Any, n: int) -> np.ndarray | None:
    """Frequency weights as int64 (None without): one whole, non-negative number per row."""
    if weights is None:
        return None
    w = np.asarray(weights)
    if w.shape != (n,):
        raise DataError(f"weights= needs one count per row ({n}); got shape {w.shape}")
    if w.size and (w.dtype.kind not in "iuf" or not np.isfinite(w).all() or (w < 0).any()
                   or (w != np.rint(w)).any()):
        raise DataError("weights= are frequency weights: whole numbers of rows, 0 or more")
    return w.astype(np.int64)


def _first_shift(x: np.ndarray, rows: int = 4096) -> np.ndarray:
    """Per item, the mean of its answers among the chunk's first ``rows`` rows (near the
    item's mean, which is all the shift needs); an item without answers there takes its first
    answer, one never answered 0."""
    head = x[:rows]
    obs = ~np.isnan(head)
    cnt = obs.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(obs, head, 0.0).sum(axis=0) / cnt
    s = np.where(cnt > 0, s, 0.0)
    for j in np.flatnonzero(cnt == 0):
        answered = np.flatnonzero(~np.isnan(x[:, j]))
        if answered.size:
            s[j] = x[answered[0], j]
    return s


def _check_columns(a: tuple[str, ...], b: tuple[str, ...], what: str) -> None:
    if a != b:
        only_a = [c for c in a if c not in b][:3]
        only_b = [c for c in b if c not in a][:3]
        detail = (f"only in the first: {only_a}; only in the second: {only_b}"
                  if only_a or only_b else "the same items in another order")
        raise DataError(f"cannot add {what} of different items ({detail}); summarise every "
                        "chunk with the same columns= in the same order")


# ---------------------------------------------------------------------------------------------
# Moments


@dataclasses.dataclass(frozen=True, eq=False)
class Moments:
    """Additive first- and second-order sums of one or more chunks of item responses.

    Build with :meth:`from_array` (NaN = missing), merge with ``a + b`` (or ``sum(chunks)``),
    store with :meth:`to_dict` / :meth:`from_dict`. All sums are of ``z = x - shift``.

    Attributes
    ----------
    columns : item names, in order.
    n : rows seen (rows without any answer included: psych's n under pairwise deletion).
    shift : (k,) the per-item constant subtracted before summing.
    npair : (k, k) int, rows answering both items i and j (diagonal: item i's answers).
    s1 : (k, k) sum of ``z_i`` over the rows answering i and j.
    s2 : (k, k) sum of ``z_i**2`` over the rows answering i and j.
    cross : (k, k) sum of ``z_i z_j`` over the rows answering i and j.
    n_complete, c1, c2 : rows answering every item, and the sum and cross-products of z over
        them (listwise deletion).
    total_shift : float, subtracted from each respondent's mean of answered items ``t``.
    n_scored : rows answering at least one item; ``t1``, ``t2``: sums of ``t`` and ``t**2``
        over them. ``tj1``, ``tj2``, ``tjz`` (k,): sums of ``t``, ``t**2`` and ``t z_j`` over
        the rows answering item j. None after :meth:`select` of fewer items (the mean of
        answered items then changes).
    lo, hi : (k,) smallest and largest answer per item (NaN without answers).
    value_counts : per item, ``{value: count}`` of its answers, or None for an item with more
        than ``MAX_VALUES`` distinct values.
    """

    columns: tuple[str, ...]
    n: int
    shift: np.ndarray
    npair: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    cross: np.ndarray
    n_complete: int
    c1: np.ndarray | None
    c2: np.ndarray | None
    total_shift: float
    n_scored: int
    t1: float
    t2: float
    tj1: np.ndarray | None
    tj2: np.ndarray | None
    tjz: np.ndarray | None
    lo: np.ndarray
    hi: np.ndarray
    value_counts: tuple[dict[float, int] | None, ...]

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_array(cls, data: Any, *, columns: Sequence[str] | None = None,
                   shift: Sequence[float] | np.ndarray | None = None,
                   weights: Any = None) -> Moments:
        """The sums of one chunk: a 2-d array (NaN = missing), DataFrame or ResponseTable.

        ``columns`` names the columns of an array (or selects those of a DataFrame);
        ``shift`` fixes the per-item constant (default: this chunk's item means). Chunks
        summarised with the same shift add without any recentring. ``weights``: a whole
        number of rows per row (frequency weights: the sums of a table of distinct response
        vectors and their counts equal those of the rows it counts).
        """
        x, names = _block(data, columns)
        n, k = x.shape
        w = _frequency_weights(weights, n)
        if shift is None:
            sh = _first_shift(x if w is None else x[w > 0])
        else:
            sh = np.asarray(shift, dtype=float).reshape(-1)
            if sh.shape != (k,) or not np.isfinite(sh).all():
                raise DataError(f"shift must be {k} finite numbers (one per item)")
        acc = _Accumulator(sh)
        step = max(1, _BLOCK_CELLS // max(k, 1))
        for a in range(0, n, step):  # row blocks that stay in cache
            acc.add(x[a:a + step], None if w is None else w[a:a + step])
        return acc.result(names, n if w is None else int(w.sum()))

    @classmethod
    def zeros(cls, columns: Sequence[str]) -> Moments:
        """The sums of no rows (the neutral element of ``+``)."""
        k = len(columns)
        return cls.from_array(np.empty((0, k)), columns=columns)

    # -- merging ------------------------------------------------------------------------------

    def recentered(self, shift: np.ndarray, total_shift: float) -> Moments:
        """The same sums about another ``shift`` (and ``total_shift``): exact in real
        arithmetic (``sum (z + d) = sum z + n d``, ...)."""
        d = self.shift - np.asarray(shift, dtype=float)  # z_new = z_old + d
        e = self.total_shift - float(total_shift)
        if not d.any() and e == 0.0:
            return self
        npf = self.npair.astype(float)
        s1 = self.s1 + npf * d[:, None]
        s2 = self.s2 + 2.0 * d[:, None] * self.s1 + npf * (d * d)[:, None]
        cross = (self.cross + self.s1 * d[None, :] + self.s1.T * d[:, None]
                 + npf * np.outer(d, d))
        c1 = c2 = None
        if self.c1 is not None:
            c1 = self.c1 + self.n_complete * d
            c2 = (self.c2 + np.outer(self.c1, d) + np.outer(d, self.c1)
                  + self.n_complete * np.outer(d, d))
        nobs = np.diag(npf)
        t1 = self.t1 + self.n_scored * e
        t2 = self.t2 + 2.0 * e * self.t1 + self.n_scored * e * e
        tj1 = tj2 = tjz = None
        if self.tj1 is not None:
            sx = np.diag(self.s1)
            tjz = self.tjz + d * self.tj1 + e * sx + nobs * e * d
            tj2 = self.tj2 + 2.0 * e * self.tj1 + nobs * e * e
            tj1 = self.tj1 + nobs * e
        return dataclasses.replace(self, shift=np.asarray(shift, dtype=float).copy(), s1=s1,
                                   s2=s2, cross=cross, c1=c1, c2=c2,
                                   total_shift=float(total_shift), t1=t1, t2=t2, tj1=tj1,
                                   tj2=tj2, tjz=tjz)

    def __add__(self, other: Any) -> Moments:
        if isinstance(other, int) and other == 0:  # sum(chunks) starts at 0
            return self
        if not isinstance(other, Moments):
            return NotImplemented
        _check_columns(self.columns, other.columns, "Moments")
        a_seen = np.diag(self.npair) > 0
        shift = np.where(a_seen, self.shift, other.shift)
        ts = self.total_shift if self.n_scored > 0 else other.total_shift
        a = self.recentered(shift, ts)
        b = other.recentered(shift, ts)
        both_total = a.tj1 is not None and b.tj1 is not None
        c_ok = a.c1 is not None and b.c1 is not None
        return Moments(
            columns=self.columns, n=a.n + b.n, shift=shift, npair=a.npair + b.npair,
            s1=a.s1 + b.s1, s2=a.s2 + b.s2, cross=a.cross + b.cross,
            n_complete=a.n_complete + b.n_complete,
            c1=a.c1 + b.c1 if c_ok else None, c2=a.c2 + b.c2 if c_ok else None,
            total_shift=ts, n_scored=a.n_scored + b.n_scored, t1=a.t1 + b.t1, t2=a.t2 + b.t2,
            tj1=a.tj1 + b.tj1 if both_total else None,
            tj2=a.tj2 + b.tj2 if both_total else None,
            tjz=a.tjz + b.tjz if both_total else None,
            lo=np.fmin(a.lo, b.lo), hi=np.fmax(a.hi, b.hi),
            value_counts=tuple(_merge_counts(u, v) for u, v in zip(a.value_counts,
                                                                  b.value_counts,
                                                                  strict=True)))

    __radd__ = __add__

    @classmethod
    def merge(cls, parts: Iterable[Moments]) -> Moments:
        """Sum of many chunks' moments as a balanced tree (rounding grows with log(chunks))."""
        items = list(parts)
        if not items:
            raise DataError("no chunks to merge")
        while len(items) > 1:
            items = [items[i] + items[i + 1] if i + 1 < len(items) else items[i]
                     for i in range(0, len(items), 2)]
        return items[0]

    # -- subsets -----------------------------------------------------------------------------

    def select(self, items: Sequence[str]) -> Moments:
        """The moments of some of the items (in the order given). The listwise sums and the
        mean-score sums survive only when no answer is missing (complete rows and each
        respondent's mean of answered items depend on the other items otherwise)."""
        idx = _positions(self.columns, items)
        ix = np.ix_(idx, idx)
        same = list(idx) == list(range(len(self.columns)))
        nomiss = self.n_complete == self.n
        keep_c = self.c1 is not None and (same or nomiss)
        keep_t = self.tj1 is not None and same
        return dataclasses.replace(
            self, columns=tuple(self.columns[i] for i in idx), shift=self.shift[idx],
            npair=self.npair[ix], s1=self.s1[ix], s2=self.s2[ix], cross=self.cross[ix],
            c1=self.c1[idx] if keep_c else None, c2=self.c2[ix] if keep_c else None,
            tj1=self.tj1[idx] if keep_t else None, tj2=self.tj2[idx] if keep_t else None,
            tjz=self.tjz[idx] if keep_t else None, lo=self.lo[idx], hi=self.hi[idx],
            value_counts=tuple(self.value_counts[i] for i in idx))

    # -- statistics --------------------------------------------------------------------------

    @property
    def k(self) -> int:
        return len(self.columns)

    @property
    def nobs(self) -> np.ndarray:
        """Answers per item."""
        return np.diag(self.npair).copy()

    @property
    def complete(self) -> bool:
        """True when no answer is missing."""
        return self.n_complete == self.n

    def means(self, missing: str = "pairwise") -> np.ndarray:
        """Item means over each item's answers (``"pairwise"``) or the complete rows."""
        if _policy(missing) == "listwise":
            c1, _c2, n = self._listwise()
            return c1 / n + self.shift
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diag(self.s1) / self.nobs + self.shift

    def cov(self, missing: str = "pairwise") -> np.ndarray:
        """Unbiased covariance matrix: ``stats::cov(use = "pairwise")`` (each pair's means
        over its rows; each item's own variance on the diagonal) or over complete rows."""
        if _policy(missing) == "listwise":
            c1, c2, n = self._listwise()
            return (c2 - np.outer(c1, c1) / n) / (n - 1)
        npf = self.npair.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.cross - self.s1 * self.s1.T / npf) / (npf - 1)

    def cor(self, missing: str = "pairwise") -> np.ndarray:
        """Correlations: R's ``cor(use = "pairwise")`` (means and SDs over each pair's rows)
        or ``cor`` of the complete rows."""
        c = self.cov(missing)
        if _policy(missing) == "pairwise" and not self.complete:
            npf = self.npair.astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                v = (self.s2 - self.s1 * self.s1 / npf) / (npf - 1)
                r = c / np.sqrt(v * v.T)
        else:
            sd = np.sqrt(np.diag(c))
            with np.errstate(invalid="ignore", divide="ignore"):
                r = c / np.outer(sd, sd)
        np.fill_diagonal(r, 1.0)
        return r

    def n_used(self, missing: str = "pairwise") -> int:
        """Rows behind the statistics: all rows (pairwise, psych's n) or complete rows."""
        return self.n if _policy(missing) == "pairwise" else self._listwise()[2]

    def _listwise(self) -> tuple[np.ndarray, np.ndarray, int]:
        if self.c1 is None:
            raise DataError(
                "these moments no longer hold the complete rows of the selected items (some "
                "answers are missing, and a row complete on these items may miss another); "
                "summarise the chunks with PatternMoments, or select before summarising")
        if self.n_complete < 2:
            raise DataError(f"listwise deletion leaves {self.n_complete} complete row(s) of "
                            f"{self.n}; at least 2 are needed (try missing='pairwise')")
        return self.c1, self.c2, self.n_complete

    def total_score(self) -> tuple[float, float, np.ndarray]:
        """Mean and SD of the respondents' mean of answered items, and each item's
        correlation with it over the rows answering the item (psych::alpha's ``mean``,
        ``sd`` and ``raw.r`` with missing data)."""
        if self.tj1 is None:
            raise DataError("the mean score of a subset of items cannot be recovered from "
                            "moments of more items with missing answers; summarise the "
                            "chunks on the items analysed")
        nt = self.n_scored
        mean_t = self.total_shift + self.t1 / nt
        sd_t = math.sqrt(max(self.t2 - self.t1 * self.t1 / nt, 0.0) / (nt - 1))
        nj = self.nobs.astype(float)
        sx = np.diag(self.s1)
        sxx = np.diag(self.cross)
        with np.errstate(invalid="ignore", divide="ignore"):
            cov_tx = self.tjz - self.tj1 * sx / nj
            raw_r = cov_tx / np.sqrt((self.tj2 - self.tj1 * self.tj1 / nj)
                                     * (sxx - sx * sx / nj))
        return mean_t, sd_t, raw_r

    # -- serialisation -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (schema ``psychoval.moments/1``); floats round-trip exactly."""
        def arr(a):
            return None if a is None else np.asarray(a).tolist()

        return {
            "schema": _SCHEMA, "psychoval_version": _version(), "columns": list(self.columns),
            "n": self.n, "shift": arr(self.shift), "npair": arr(self.npair),
            "s1": arr(self.s1), "s2": arr(self.s2), "cross": arr(self.cross),
            "n_complete": self.n_complete, "c1": arr(self.c1), "c2": arr(self.c2),
            "total_shift": self.total_shift, "n_scored": self.n_scored, "t1": self.t1,
            "t2": self.t2, "tj1": arr(self.tj1), "tj2": arr(self.tj2), "tjz": arr(self.tjz),
            "lo": [None if math.isnan(v) else v for v in self.lo.tolist()],
            "hi": [None if math.isnan(v) else v for v in self.hi.tolist()],
            "value_counts": [None if vc is None else [[v, c] for v, c in sorted(vc.items())]
                             for vc in self.value_counts],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Moments:
        """Inverse of :meth:`to_dict`."""
        if d.get("schema") != _SCHEMA:
            raise DataError(f"not a {_SCHEMA} document (schema {d.get('schema')!r})")
        k = len(d["columns"])

        def arr(v, dtype=float, shape=None):
            if v is None:
                return None
            a = np.asarray(v, dtype=dtype)
            return a.reshape(shape) if shape is not None else a

        def nan_arr(v):
            return np.array([math.nan if e is None else e for e in v], dtype=float)

        return cls(
            columns=tuple(d["columns"]), n=int(d["n"]), shift=arr(d["shift"], shape=(k,)),
            npair=arr(d["npair"], np.int64, (k, k)), s1=arr(d["s1"], shape=(k, k)),
            s2=arr(d["s2"], shape=(k, k)), cross=arr(d["cross"], shape=(k, k)),
            n_complete=int(d["n_complete"]), c1=arr(d["c1"], shape=(k,)),
            c2=arr(d["c2"], shape=(k, k)), total_shift=float(d["total_shift"]),
            n_scored=int(d["n_scored"]), t1=float(d["t1"]), t2=float(d["t2"]),
            tj1=arr(d["tj1"]), tj2=arr(d["tj2"]), tjz=arr(d["tjz"]), lo=nan_arr(d["lo"]),
            hi=nan_arr(d["hi"]),
            value_counts=tuple(None if vc is None else {float(v): int(c) for v, c in vc}
                               for vc in d["value_counts"]))

    def __repr__(self) -> str:
        return (f"Moments(k={self.k}, n={self.n}, n_complete={self.n_complete}, "
                f"min_pairwise_n={int(self.npair.min()) if self.k else 0})")


def _policy(missing: str) -> str:
    from psychoval._input import check_choice

    check_choice("missing", missing, ("pairwise", "listwise"))
    return missing


def _positions(columns: tuple[str, ...], items: Sequence[str]) -> list[int]:
    where = {c: j for j, c in enumerate(columns)}
    absent = [i for i in items if i not in where]
    if absent:
        raise SpecificationError(
            f"item(s) {', '.join(map(repr, absent[:5]))} are not in these moments (they hold "
            f"{', '.join(map(repr, columns[:8]))}{', ...' if len(columns) > 8 else ''})")
    return [where[i] for i in items]


_BLOCK_CELLS = 1 << 18  # cells per row block (2 MB of float64)


class _Accumulator:
    """The sums of :class:`Moments` gathered one row block at a time (no full-size
    temporaries; a complete block takes the short path)."""

    def __init__(self, shift: np.ndarray):
        k = shift.size
        self.sh = shift.copy()
        self.ts: float | None = None
        self.npair = np.zeros((k, k), dtype=np.int64)
        self.s1 = np.zeros((k, k))
        self.s2 = np.zeros((k, k))
        self.cross = np.zeros((k, k))
        self.c1 = np.zeros(k)
        self.c2 = np.zeros((k, k))
        self.n_c = 0
        self.n_scored = 0
        self.t1 = self.t2 = 0.0
        self.tj1 = np.zeros(k)
        self.tj2 = np.zeros(k)
        self.tjz = np.zeros(k)
        self.lo = np.full(k, np.nan)
        self.hi = np.full(k, np.nan)
        self.small: np.ndarray | None = np.zeros((k, 256), dtype=np.int64)  # codes 0..255
        self.general: list[dict[float, int] | None] | None = None

    def add(self, xb: np.ndarray, wb: np.ndarray | None = None) -> None:
        """Add a row block; ``wb``: its rows' frequency weights (None: one each)."""
        if wb is not None:
            keep = wb > 0
            if not keep.all():
                xb, wb = xb[keep], wb[keep]
            if not len(wb):
                return
        m, k = xb.shape
        wf = None if wb is None else wb.astype(np.float64)
        rows = m if wb is None else int(wb.sum())
        nan = np.isnan(xb)
        complete = not nan.any()
        if self.ts is None:
            # total_shift: the mean shift of the items answered in the first block (a stored
            # float, so recentring by a difference of two is exact)
            seen = ~nan.all(axis=0) if not complete else np.ones(k, dtype=bool)
            self.ts = float(self.sh[seen].mean()) if seen.any() else 0.0
        dev = self.sh - self.ts
        z = xb - self.sh
        ones = np.ones(k)
        if complete:
            zw = z if wf is None else z * wf[:, None]
            colsum = zw.sum(axis=0)
            sq = np.einsum("ij,ij->j", zw, z)
            cross = z.T @ zw
            self.npair += rows
            self.s1 += colsum[:, None]
            self.s2 += sq[:, None]
            self.cross += cross
            self.c1 += colsum
            self.c2 += cross
            self.n_c += rows
            # row sums as a matrix-vector product: a reduction along the short axis runs an
            # inner loop of k per row, 20x slower for a handful of items
            t = (z @ ones + dev.sum()) / k
            tw = t if wf is None else t * wf
            self.tj1 += tw.sum()  # every item is answered on every row of the block
            self.tj2 += tw @ t
            self.n_scored += rows
            self.lo = np.fmin(self.lo, xb.min(axis=0))
            self.hi = np.fmax(self.hi, xb.max(axis=0))
        else:
            z[nan] = 0.0
            obs = ~nan
            o = obs.astype(np.float64)
            ow = o if wf is None else o * wf[:, None]
            zw = z if wf is None else z * wf[:, None]
            self.cross += z.T @ zw
            self.npair += np.rint(o.T @ ow).astype(np.int64)
            self.s1 += z.T @ ow
            self.s2 += (z * z).T @ ow
            cnt = o @ ones  # answered items per row (row sums by BLAS, as above)
            full = cnt == k
            if full.any():
                zc = z[full]
                self.c1 += zw[full].sum(axis=0)
                self.c2 += zc.T @ zw[full]
                self.n_c += int(full.sum()) if wb is None else int(wb[full].sum())
            scored = cnt > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                t = (z @ ones + o @ dev) / cnt
            t = np.where(scored, t, 0.0)
            tw = t if wf is None else t * wf
            self.tj1 += tw @ o
            self.tj2 += (tw * t) @ o
            self.n_scored += int(scored.sum()) if wb is None else int(wb[scored].sum())
            seen = obs.any(axis=0)  # column extremes over the answered cells only
            lo = np.where(nan, np.inf, xb).min(axis=0)
            hi = np.where(nan, -np.inf, xb).max(axis=0)
            self.lo = np.fmin(self.lo, np.where(seen, lo, np.nan))
            self.hi = np.fmax(self.hi, np.where(seen, hi, np.nan))
        self.tjz += tw @ z
        self.t1 += float(tw.sum())
        self.t2 += float(tw @ t)
        self._count(xb, nan, complete, wb)

    def _count(self, xb: np.ndarray, nan: np.ndarray, complete: bool,
               wb: np.ndarray | None = None) -> None:
        """Answer counts: one bincount while every answer is a code 0..255, then per-item
        ``{value: count}`` (None beyond ``MAX_VALUES`` values)."""
        m, k = xb.shape
        if self.small is not None:
            with np.errstate(invalid="ignore"):
                codes = xb.astype(np.uint8)
            exact = codes == xb
            if not complete:
                exact |= nan
                codes[nan] = 0
            if exact.all():
                flat = codes.astype(np.intp) + 256 * np.arange(k)
                if wb is None:
                    self.small += np.bincount(flat.ravel(), minlength=256 * k).reshape(k, 256)
                    if not complete:
                        self.small[:, 0] -= nan.sum(axis=0)
                else:
                    cells = np.broadcast_to(wb[:, None], (m, k)).ravel()
                    self.small += np.rint(np.bincount(flat.ravel(), weights=cells,
                                                      minlength=256 * k)).astype(
                        np.int64).reshape(k, 256)
                    if not complete:
                        self.small[:, 0] -= wb @ nan
                return
            self.general = [{float(v): int(c) for v, c in enumerate(row) if c}
                            for row in self.small]
            self.small = None
        for j in range(k):
            if self.general[j] is None:
                continue
            answered = slice(None) if complete else ~nan[:, j]
            vals, inv = np.unique(xb[answered, j], return_inverse=True)
            cnt = np.bincount(inv.reshape(-1), weights=None if wb is None else wb[answered],
                              minlength=len(vals))
            self.general[j] = _merge_counts(
                self.general[j], {float(v): int(round(c))
                                  for v, c in zip(vals, cnt, strict=True)})

    def result(self, names: tuple[str, ...], n: int) -> Moments:
        if self.small is not None:
            counts = tuple({float(v): int(row[v]) for v in np.flatnonzero(row)}
                           for row in self.small)
        else:
            counts = tuple(self.general)
        return Moments(columns=names, n=n, shift=self.sh, npair=self.npair, s1=self.s1,
                       s2=self.s2, cross=self.cross, n_complete=self.n_c, c1=self.c1,
                       c2=self.c2, total_shift=self.ts if self.ts is not None else 0.0,
                       n_scored=self.n_scored, t1=self.t1, t2=self.t2, tj1=self.tj1,
                       tj2=self.tj2, tjz=self.tjz, lo=self.lo, hi=self.hi,
                       value_counts=counts)


def _merge_counts(a: dict[float, int] | None, b: dict[float, int] | None
                  ) -> dict[float, int] | None:
    if a is None or b is None:
        return None
    out = dict(a)
    for v, c in b.items():
        out[v] = out.get(v, 0) + c
    return None if len(out) > MAX_VALUES else out


# ---------------------------------------------------------------------------------------------
# PatternMoments


@dataclasses.dataclass(frozen=True, eq=False)
class PatternMoments:
    """Frequency, sums and cross-products of ``z = x - shift`` per missingness pattern.

    ``observed`` (P, k) marks each pattern's answered items; ``freq`` (P,) its rows; ``s``
    (P, k) and ``ss`` (P, k, k) the sums of z and z z' over its rows (0 at unanswered items).
    Rows answering nothing are counted in ``n_empty`` only. Merge by pattern with ``a + b``.
    Memory grows with patterns x k^2: meant for a few hundred items at most.
    """

    columns: tuple[str, ...]
    shift: np.ndarray
    observed: np.ndarray
    freq: np.ndarray
    s: np.ndarray
    ss: np.ndarray
    n_empty: int

    @classmethod
    def from_array(cls, data: Any, *, columns: Sequence[str] | None = None,
                   shift: Sequence[float] | np.ndarray | None = None,
                   weights: Any = None) -> PatternMoments:
        """The pattern sums of one chunk (2-d array with NaN = missing, or DataFrame);
        ``weights``: frequency weights, as :meth:`Moments.from_array`."""
        x, names = _block(data, columns)
        w = _frequency_weights(weights, x.shape[0])
        if w is not None:
            return cls._weighted(x[w > 0], names, shift, w[w > 0])
        n, k = x.shape
        sh = _first_shift(x) if shift is None else np.asarray(shift, dtype=float).reshape(-1)
        if sh.shape != (k,) or not np.isfinite(sh).all():
            raise DataError(f"shift must be {k} finite numbers (one per item)")
        obs = ~np.isnan(x)
        if obs.all():  # one pattern: no grouping
            z = x - sh
            return cls(names, sh.copy(), np.ones((min(n, 1), k), bool),
                       np.full(min(n, 1), n, dtype=np.int64),
                       z.sum(axis=0)[None, :][:min(n, 1)], (z.T @ z)[None][:min(n, 1)], 0)
        any_obs = obs.any(axis=1)
        n_empty = int(n - any_obs.sum())
        z = np.where(obs, x - sh, 0.0)[any_obs]
        o = obs[any_obs]
        if not len(o):
            return cls(names, sh.copy(), np.zeros((0, k), bool), np.zeros(0, np.int64),
                       np.zeros((0, k)), np.zeros((0, k, k)), n_empty)
        packed = np.packbits(o, axis=1)
        # rows in pattern order: ``order`` sorts them, ``cnt`` rows per pattern
        if k <= 16:  # a 16-bit key per row, sorted by a radix sort
            key = packed[:, 0].astype(np.uint16) << np.uint16(8)
            if packed.shape[1] > 1:
                key |= packed[:, 1]
            order = np.argsort(key, kind="stable")
            ks = key[order]
            cnt = np.diff(np.r_[np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]]), ks.size])
        else:
            if packed.shape[1] <= 8:  # one integer key per row: a fast unique
                key = np.zeros(len(o), dtype=np.uint64)
                for j in range(packed.shape[1]):
                    key = (key << np.uint64(8)) | packed[:, j].astype(np.uint64)
                _u, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
            else:
                _u, inv, cnt = np.unique(packed, axis=0, return_inverse=True,
                                         return_counts=True)
            order = np.argsort(inv.reshape(-1), kind="stable")
        starts = np.concatenate([[0], np.cumsum(cnt)])
        observed = np.unpackbits(packed[order[starts[:-1]]], axis=1, count=k).astype(bool)
        zs = z[order]
        s = np.add.reduceat(zs, starts[:-1], axis=0)
        ss = np.empty((len(cnt), k, k))
        for g in range(len(cnt)):
            zg = zs[starts[g]:starts[g + 1]]
            ss[g] = zg.T @ zg
        return cls(names, sh.copy(), observed, cnt.astype(np.int64), s, ss, n_empty)

    @classmethod
    def _weighted(cls, x: np.ndarray, names: tuple[str, ...], shift: Any,
                  w: np.ndarray) -> PatternMoments:
        """The pattern sums of distinct rows ``x`` counted ``w`` times each: every row a
        pattern of its own, pooled (:func:`_pool`)."""
        n, k = x.shape
        sh = _first_shift(x) if shift is None else np.asarray(shift, dtype=float).reshape(-1)
        if sh.shape != (k,) or not np.isfinite(sh).all():
            raise DataError(f"shift must be {k} finite numbers (one per item)")
        obs = ~np.isnan(x)
        any_obs = obs.any(axis=1)
        n_empty = int(w[~any_obs].sum())
        z = np.where(obs, x - sh, 0.0)[any_obs]
        o, w = obs[any_obs], w[any_obs]
        zw = z * w.astype(np.float64)[:, None]
        # each row its own "pattern" of w rows, then pooled by pattern
        return _pool(cls(names, sh.copy(), o, w, zw, np.einsum("ri,rj->rij", zw, z),
                         n_empty))

    @property
    def k(self) -> int:
        return len(self.columns)

    @property
    def n(self) -> int:
        """Rows seen (rows answering nothing included)."""
        return int(self.freq.sum()) + self.n_empty

    def recentered(self, shift: np.ndarray) -> PatternMoments:
        d = self.shift - np.asarray(shift, dtype=float)  # z_new = z_old + d
        if not d.any():
            return self
        dm = self.observed * d  # 0 where a pattern does not observe the item
        f = self.freq.astype(float)[:, None]
        ss = (self.ss + self.s[:, :, None] * dm[:, None, :] + dm[:, :, None] * self.s[:, None, :]
              + f[:, :, None] * dm[:, :, None] * dm[:, None, :])
        return dataclasses.replace(self, shift=np.asarray(shift, float).copy(),
                                   s=self.s + f * dm, ss=ss)

    def __add__(self, other: Any) -> PatternMoments:
        if isinstance(other, int) and other == 0:
            return self
        if not isinstance(other, PatternMoments):
            return NotImplemented
        _check_columns(self.columns, other.columns, "PatternMoments")
        seen = self.observed.T @ self.freq > 0
        shift = np.where(seen, self.shift, other.shift)
        a, b = self.recentered(shift), other.recentered(shift)
        keys = {row.tobytes(): g for g, row in enumerate(a.observed)}
        extra = [g for g, row in enumerate(b.observed) if row.tobytes() not in keys]
        observed = np.vstack([a.observed, b.observed[extra]])
        freq = np.concatenate([a.freq, np.zeros(len(extra), np.int64)])
        s = np.vstack([a.s, np.zeros((len(extra), self.k))])
        ss = np.concatenate([a.ss, np.zeros((len(extra), self.k, self.k))])
        where = np.array([keys.get(row.tobytes(), -1) for row in b.observed], dtype=np.intp)
        new = np.flatnonzero(where < 0)
        where[new] = len(a.freq) + np.arange(new.size)
        np.add.at(freq, where, b.freq)
        np.add.at(s, where, b.s)
        np.add.at(ss, where, b.ss)
        return PatternMoments(self.columns, shift, observed, freq, s, ss,
                              a.n_empty + b.n_empty)

    __radd__ = __add__

    def select(self, items: Sequence[str]) -> PatternMoments:
        """The pattern sums of some items (patterns that coincide on them are pooled)."""
        idx = _positions(self.columns, items)
        obs = self.observed[:, idx]
        keep = obs.any(axis=1)
        n_empty = self.n_empty + int(self.freq[~keep].sum())
        out = PatternMoments(tuple(self.columns[i] for i in idx), self.shift[idx],
                             np.zeros((0, len(idx)), bool), np.zeros(0, np.int64),
                             np.zeros((0, len(idx))), np.zeros((0, len(idx), len(idx))),
                             n_empty)
        part = PatternMoments(out.columns, out.shift, obs[keep], self.freq[keep],
                              self.s[keep][:, idx], self.ss[keep][:, idx][:, :, idx], 0)
        return out + _pool(part)

    def listwise(self, items: Sequence[str] | None = None) -> Moments:
        """The complete-case moments of ``items`` (default all): the patterns observing
        every one of them. Exact for any subset, unlike :meth:`Moments.select`."""
        sub = self if items is None else self.select(items)
        full = sub.observed.all(axis=1)
        n_c = int(sub.freq[full].sum())
        c1 = sub.s[full].sum(axis=0)
        c2 = sub.ss[full].sum(axis=0)
        k = sub.k
        npair = np.full((k, k), n_c, dtype=np.int64)
        s1 = np.repeat(c1[:, None], k, axis=1)
        s2 = np.repeat(np.diag(c2)[:, None], k, axis=1)
        nan = np.full(k, np.nan)
        return Moments(columns=sub.columns, n=n_c, shift=sub.shift.copy(), npair=npair, s1=s1,
                       s2=s2, cross=c2.copy(), n_complete=n_c, c1=c1, c2=c2,
                       total_shift=0.0, n_scored=0, t1=0.0, t2=0.0, tj1=None, tj2=None,
                       tjz=None, lo=nan, hi=nan.copy(), value_counts=tuple(None for _ in
                                                                         range(k)))

    def pairwise(self) -> Moments:
        """The :class:`Moments` of the same rows (pairwise and listwise parts; without the
        mean-score sums and value counts, which patterns do not keep)."""
        o = self.observed.astype(float)
        f = self.freq.astype(float)
        k = self.k
        npair = np.rint((o * f[:, None]).T @ o).astype(np.int64)
        sq = np.einsum("gii->gi", self.ss) if len(f) else np.zeros((0, k))
        full = self.observed.all(axis=1)
        nan = np.full(k, np.nan)
        return Moments(columns=self.columns, n=self.n, shift=self.shift.copy(), npair=npair,
                       s1=self.s.T @ o, s2=sq.T @ o, cross=self.ss.sum(axis=0),
                       n_complete=int(self.freq[full].sum()), c1=self.s[full].sum(axis=0),
                       c2=self.ss[full].sum(axis=0), total_shift=0.0, n_scored=0, t1=0.0,
                       t2=0.0, tj1=None, tj2=None, tjz=None, lo=nan, hi=nan.copy(),
                       value_counts=tuple(None for _ in range(k)))

    def pattern_stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(observed, freq, means, scatter): each pattern's item means (0 where unanswered)
        and scatter ``sum (x - mean)(x - mean)'`` over its rows (lavaan's
        ``lav_samplestats_missing_patterns``)."""
        f = self.freq.astype(float)
        m = self.s / f[:, None]
        scatter = self.ss - self.s[:, :, None] * m[:, None, :]
        return self.observed, self.freq, np.where(self.observed, m + self.shift, 0.0), scatter

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (schema ``psychoval.pattern_moments/1``)."""
        return {"schema": _PSCHEMA, "psychoval_version": _version(),
                "columns": list(self.columns), "shift": self.shift.tolist(),
                "observed": self.observed.astype(int).tolist(), "freq": self.freq.tolist(),
                "s": self.s.tolist(), "ss": self.ss.tolist(), "n_empty": self.n_empty}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PatternMoments:
        if d.get("schema") != _PSCHEMA:
            raise DataError(f"not a {_PSCHEMA} document (schema {d.get('schema')!r})")
        k = len(d["columns"])
        P = len(d["freq"])
        return cls(tuple(d["columns"]), np.asarray(d["shift"], float),
                   np.asarray(d["observed"], bool).reshape(P, k),
                   np.asarray(d["freq"], np.int64), np.asarray(d["s"], float).reshape(P, k),
                   np.asarray(d["ss"], float).reshape(P, k, k), int(d["n_empty"]))

    def __repr__(self) -> str:
        return f"PatternMoments(k={self.k}, n={self.n}, patterns={len(self.freq)})"


def _pool(p: PatternMoments) -> PatternMoments:
    """Merge rows of ``p`` that share a pattern."""
    if not len(p.freq):
        return p
    uniq, inv = np.unique(p.observed, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    P = len(uniq)
    freq = np.zeros(P, np.int64)
    s = np.zeros((P, p.k))
    ss = np.zeros((P, p.k, p.k))
    np.add.at(freq, inv, p.freq)
    np.add.at(s, inv, p.s)
    np.add.at(ss, inv, p.ss)
    return PatternMoments(p.columns, p.shift, uniq, freq, s, ss, p.n_empty)


# ---------------------------------------------------------------------------------------------
# entry points for the statistics


# what the other mergeable summaries (ResponsePatterns, ...) share with these
frequency_weights = _frequency_weights
same_columns = _check_columns
item_positions = _positions


def is_dask_collection(data: Any) -> bool:
    """True for a dask DataFrame or Array (without importing dask)."""
    mod = type(data).__module__ or ""
    return mod.startswith("dask.") or mod.startswith("dask_expr")


def is_spark_dataframe(data: Any) -> bool:
    """True for a ``pyspark.sql.DataFrame`` (without importing pyspark)."""
    mod = type(data).__module__ or ""
    return mod.startswith("pyspark.sql") and type(data).__name__ == "DataFrame"


def is_distributed(data: Any) -> bool:
    """True for a collection that an engine summarises where it lives (dask, Spark)."""
    return is_dask_collection(data) or is_spark_dataframe(data)


def distributed_summary(data: Any, kind: Any, *, items: Sequence[str] | None = None) -> Any:
    """The ``kind`` (Moments, PatternMoments, FourthMoments) of a dask collection or Spark
    DataFrame, summarised by its own engine and merged: the one dispatch the statistics use."""
    if is_spark_dataframe(data):
        from psychoval.stats.core._spark import spark_summary

        return spark_summary(data, kind, items=items)
    from psychoval.stats.core._dask import dask_summary

    return dask_summary(data, kind, items=items)


def as_moments(data: Any, *, items: Sequence[str] | None = None) -> Moments | None:
    """``data`` as :class:`Moments` when it is moments (or a dask collection or Spark
    DataFrame, summarised per partition on its cluster); None for in-memory data (the caller's
    ordinary path).
    ``items`` selects columns."""
    if is_distributed(data):  # first: a frame's column could be called "moments"
        return distributed_summary(data, Moments, items=items)
    if not isinstance(data, Moments) and callable(getattr(data, "moments", None)):
        data = data.moments()  # a richer summary (FourthMoments): its second-order part
    if isinstance(data, Moments):
        return data if items is None else data.select(list(items))
    return None


def refuse(what: str, why: str) -> None:
    """Raise the SpecificationError of an option that needs the rows."""
    raise SpecificationError(f"{what} is not available from Moments: {why}")


def check_usable(mo: Moments, missing: str) -> None:
    """The checks a statistic of merged moments makes before it starts: ``missing="raise"``
    with incomplete rows, fewer than 2 items."""
    if missing == "raise" and not mo.complete:
        raise DataError(f"{mo.n - mo.n_complete} of {mo.n} rows miss at least one answer; "
                        "choose missing='pairwise' or 'listwise'")
    if mo.k < 2:
        raise DataError(f"data has {mo.k} item(s); this statistic needs at least 2")
