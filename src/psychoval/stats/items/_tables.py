"""Mergeable item x response x total score x group counts: DIF and item statistics by chunks.

Mantel-Haenszel, generalized MH, logistic and cumulative-logit DIF matched on the total score
depend on the respondents only through the counts of the cells (item, response, matching
score, group); so do the classical item statistics of complete rows (means, SDs,
item-total and item-rest correlations, alpha if dropped, upper-lower difficulty). An
:class:`ItemScoreTables` holds those counts for one chunk of rows, adds (``a + b``) to the
counts of the concatenated rows, and travels as JSON; ``pv.dif(tables, ...)`` and
:meth:`ItemScoreTables.item_statistics` then give what the in-memory functions give on the
concatenated data.

The matching score is ``pv.dif``'s default: the total of all the items in the tables over the
rows that answer every item (``missing="listwise"``), the studied item included
(``studied="include"``) or not (``"exclude"``: the rest score ``total - response``, read off the
same counts). What the counts cannot give, and is refused with the reason: purification (it
matches each item on the total of the unflagged items, a subset chosen after seeing the data:
the joint counts of an item with every subset total are not kept), ``missing="available"``
(prorated scores need each row's count of answered items), other matching scores
(competency or tier totals, a supplied score: build one table per scale, or keep the rows),
and the item statistics that need the rows (ADF standard errors of alpha gains, polyserial
correlations, the rank rule for upper-lower groups).

Length: the accumulator (construction, merge, JSON), DIF from it and item statistics from it,
which only make sense together.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import as_item_matrix, check_range
from psychoval.exceptions import DataError, SpecificationError
from psychoval.io._table import describe_row
from psychoval.stats.items._groups import split_group

__all__ = ["ItemScoreTables"]

_SCHEMA = "psychoval.item_score_tables/1"
_MAX_CELLS = 1 << 28  # item x response x score x group cells of one table (2 GB of int64)


def _version() -> str:
    from psychoval._version import __version__

    return __version__


def _plain(label: Any) -> Any:
    """A group label as a JSON scalar (numpy scalars to Python; integer floats to int, as
    ``pv.dif`` reads them)."""
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, float) and label.is_integer():
        return int(label)
    if not isinstance(label, (str, int, float, bool)):
        raise DataError(f"group label {label!r} is not a string or number; tables keep the "
                        "labels as JSON, recode the group column as text")
    return label


@dataclasses.dataclass(frozen=True, eq=False)
class ItemScoreTables:
    """Counts of (item, response, total score, group) over the complete rows of some chunks.

    Build with :meth:`from_array`, merge with ``a + b`` or :meth:`merge`, store with
    :meth:`to_dict` / :meth:`from_dict`. All counts are integers, so merged tables equal the
    tables of the concatenated rows exactly, in any order and chunking.

    Attributes
    ----------
    columns : item names, in order.
    groups : group labels, sorted by their text (as ``pv.dif`` orders them); the last slot of
        every group axis (``len(groups)``) counts the rows without a label (a missing label,
        or tables built without ``group=``).
    response_min, score_min : the response value and total score of index 0 on their axes.
    counts : (k, R, S, G + 1) int64; ``counts[j, r, s, g]`` rows answering every item with
        response ``response_min + r`` to item j, total ``score_min + s``, in group slot g.
    answered : (k, R, G + 1) int64, the answers of every row (incomplete rows included).
    rows : (G + 1,) int64, rows seen per group slot.

    Examples
    --------
    >>> import numpy as np, pandas as pd, psychoval as pv
    >>> rng = np.random.default_rng(0)
    >>> x = (rng.random((600, 6)) < 0.6) * 1.0
    >>> df = pd.DataFrame(x, columns=list("abcdef")).assign(g=np.repeat(["f", "r"], 300))
    >>> t = (pv.ItemScoreTables.from_array(df[:250], group="g")
    ...      + pv.ItemScoreTables.from_array(df[250:], group="g"))
    >>> t
    ItemScoreTables(k=6, n=600, n_complete=600, groups=2)
    >>> a = pv.dif(t, reference="r").table["chisq_mh"]
    >>> b = pv.dif(df, group="g", reference="r").table["chisq_mh"]
    >>> bool((a == b).all())
    True
    """

    columns: tuple[str, ...]
    groups: tuple[Any, ...]
    response_min: int
    score_min: int
    counts: np.ndarray
    answered: np.ndarray
    rows: np.ndarray

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_array(cls, data: Any, *, group: Any = None,
                   items: Sequence[str] | None = None) -> ItemScoreTables:
        """The counts of one chunk: a DataFrame, ResponseTable, ``Framework.score``'s result
        or 2-d array of whole-number item scores (NaN = missing), and ``group`` as in
        ``pv.dif`` (a column name or one label per row; None: no groups). ``items`` selects
        the items (default every column but the group column); the total score is theirs."""
        labels = None
        if group is not None:
            data, labels = split_group(data, group)
        m = as_item_matrix(data, items=items, min_items=1, min_rows=0, what="data")
        x = m.values
        n, k = x.shape
        if labels is not None and labels.shape[0] != n:
            raise DataError(f"group has {labels.shape[0]} labels for {n} respondents")
        obs = ~np.isnan(x)
        whole = np.where(obs, x, 0.0)
        bad = np.argwhere(whole != np.rint(whole))
        if bad.size:
            i, j = bad[0]
            raise DataError(f"item {m.items[j]!r} has the value {float(x[i, j]):g} at "
                            f"{describe_row(m.ids, int(i))}; the tables count whole-number "
                            "item scores: score or round the items first")
        xi = whole.astype(np.int64)
        # group slot of every row: its label's index among the sorted labels, or the last
        if labels is None:
            groups: tuple[Any, ...] = ()
            g = np.zeros(n, dtype=np.int64)
        else:
            miss = pd.isna(pd.Series(labels)).to_numpy()
            codes, uniq = pd.factorize(pd.Series(labels[~miss], dtype=object))
            plain = [_plain(u) for u in uniq]  # one per distinct label
            groups = tuple(sorted(set(plain), key=str))
            where = np.array([groups.index(p) for p in plain], dtype=np.int64)
            g = np.full(n, len(groups), dtype=np.int64)
            g[~miss] = where[codes]
        G = len(groups) + 1
        rows = np.bincount(g, minlength=G).astype(np.int64)
        if not obs.any():
            return cls(m.items, groups, 0, 0, np.zeros((k, 0, 0, G), np.int64),
                       np.zeros((k, 0, G), np.int64), rows)
        rmin = int(xi[obs].min())
        R = int(xi[obs].max()) - rmin + 1
        ii, jj = np.nonzero(obs)
        answered = np.bincount((jj * R + xi[ii, jj] - rmin) * G + g[ii],
                               minlength=k * R * G).reshape(k, R, G)
        complete = obs.all(axis=1)
        xc = xi[complete]
        if not xc.shape[0]:
            return cls(m.items, groups, rmin, 0, np.zeros((k, R, 0, G), np.int64),
                       answered.astype(np.int64), rows)
        total = xc @ np.ones(k, dtype=np.int64)
        smin = int(total.min())
        S = int(total.max()) - smin + 1
        _check_size(k, R, S, G)
        code = ((np.arange(k, dtype=np.int64) * R + (xc - rmin)) * S
                + (total - smin)[:, None]) * G + g[complete][:, None]
        counts = np.bincount(code.ravel(), minlength=k * R * S * G).reshape(k, R, S, G)
        return cls(m.items, groups, rmin, smin, counts.astype(np.int64),
                   answered.astype(np.int64), rows)

    # -- merging ------------------------------------------------------------------------------

    def _expanded(self, groups: tuple[Any, ...], rmin: int, R: int, smin: int, S: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The counts on wider axes: more groups (in the order of ``groups``), responses from
        ``rmin`` (R of them), scores from ``smin`` (S of them)."""
        G = len(groups) + 1
        where = {lab: i for i, lab in enumerate(groups)}
        slot = np.array([where[lab] for lab in self.groups] + [G - 1], dtype=np.intp)
        k, r0, s0 = self.k, self.response_min - rmin, self.score_min - smin
        Rs, Ss = self.counts.shape[1], self.counts.shape[2]
        counts = np.zeros((k, R, S, G), np.int64)
        answered = np.zeros((k, R, G), np.int64)
        rows = np.zeros(G, np.int64)
        counts[:, r0:r0 + Rs, s0:s0 + Ss, slot] = self.counts
        answered[:, r0:r0 + self.answered.shape[1], slot] = self.answered
        rows[slot] = self.rows
        return counts, answered, rows

    def __add__(self, other: Any) -> ItemScoreTables:
        if isinstance(other, int) and other == 0:  # sum(chunks) starts at 0
            return self
        if not isinstance(other, ItemScoreTables):
            return NotImplemented
        if self.columns != other.columns:
            raise DataError("cannot add ItemScoreTables of different items (or the same "
                            f"items in another order): {list(self.columns[:5])} and "
                            f"{list(other.columns[:5])}; build every chunk with the same items=")
        groups = tuple(sorted(set(self.groups) | set(other.groups), key=str))
        parts = [t for t in (self, other) if t.answered.shape[1]]
        rmin = min((t.response_min for t in parts), default=0)
        rmax = max((t.response_min + t.answered.shape[1] for t in parts), default=0)
        full = [t for t in (self, other) if t.counts.shape[2]]
        smin = min((t.score_min for t in full), default=0)
        smax = max((t.score_min + t.counts.shape[2] for t in full), default=0)
        _check_size(self.k, rmax - rmin, smax - smin, len(groups) + 1)
        a = self._expanded(groups, rmin, rmax - rmin, smin, smax - smin)
        b = other._expanded(groups, rmin, rmax - rmin, smin, smax - smin)
        return ItemScoreTables(self.columns, groups, rmin, smin, a[0] + b[0], a[1] + b[1],
                               a[2] + b[2])

    __radd__ = __add__

    @classmethod
    def merge(cls, parts: Sequence[ItemScoreTables]) -> ItemScoreTables:
        """The sum of many chunks' tables (integer counts: any order gives the same)."""
        parts = list(parts)
        if not parts:
            raise DataError("no chunks to merge")
        return functools.reduce(operator.add, parts)

    # -- serialisation -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (schema ``psychoval.item_score_tables/1``): the non-zero cells as
        ``[item, response, score, group slot, count]`` rows (values, not indices)."""
        j, r, s, g = np.nonzero(self.counts)
        ja, ra, ga = np.nonzero(self.answered)
        return {
            "schema": _SCHEMA, "psychoval_version": _version(), "columns": list(self.columns),
            "groups": list(self.groups), "rows": self.rows.tolist(),
            "cells": np.column_stack([j, r + self.response_min, s + self.score_min, g,
                                      self.counts[j, r, s, g]]).tolist(),
            "answered": np.column_stack([ja, ra + self.response_min, ga,
                                         self.answered[ja, ra, ga]]).tolist(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ItemScoreTables:
        """Inverse of :meth:`to_dict`."""
        if d.get("schema") != _SCHEMA:
            raise DataError(f"not a {_SCHEMA} document (schema {d.get('schema')!r})")
        k, G = len(d["columns"]), len(d["groups"]) + 1
        cells = np.asarray(d["cells"], dtype=np.int64).reshape(-1, 5)
        ans = np.asarray(d["answered"], dtype=np.int64).reshape(-1, 4)
        rmin = int(ans[:, 1].min()) if len(ans) else 0
        R = int(ans[:, 1].max()) - rmin + 1 if len(ans) else 0
        smin = int(cells[:, 2].min()) if len(cells) else 0
        S = int(cells[:, 2].max()) - smin + 1 if len(cells) else 0
        counts = np.zeros((k, R, S, G), np.int64)
        counts[cells[:, 0], cells[:, 1] - rmin, cells[:, 2] - smin, cells[:, 3]] = cells[:, 4]
        answered = np.zeros((k, R, G), np.int64)
        answered[ans[:, 0], ans[:, 1] - rmin, ans[:, 2]] = ans[:, 3]
        return cls(tuple(d["columns"]), tuple(d["groups"]), rmin, smin, counts, answered,
                   np.asarray(d["rows"], dtype=np.int64).reshape(G))

    # -- views -------------------------------------------------------------------------------

    @property
    def k(self) -> int:
        return len(self.columns)

    @property
    def n(self) -> int:
        """Rows seen."""
        return int(self.rows.sum())

    @property
    def n_complete(self) -> int:
        """Rows answering every item (any group slot)."""
        return int(self.counts[0].sum()) if self.k else 0

    def __eq__(self, other: object) -> bool:
        """Equal counts of the same items and groups (axes trimmed to the values seen)."""
        if not isinstance(other, ItemScoreTables):
            return NotImplemented
        if self.columns != other.columns or set(self.groups) != set(other.groups):
            return False
        a, b = self + ItemScoreTables.zeros_like(other), other + ItemScoreTables.zeros_like(self)
        return (a.response_min == b.response_min and a.score_min == b.score_min
                and np.array_equal(a.counts, b.counts)
                and np.array_equal(a.answered, b.answered) and np.array_equal(a.rows, b.rows))

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def zeros_like(cls, t: ItemScoreTables) -> ItemScoreTables:
        """No rows, with the items, groups and axes of ``t``."""
        return dataclasses.replace(t, counts=np.zeros_like(t.counts),
                                   answered=np.zeros_like(t.answered),
                                   rows=np.zeros_like(t.rows))

    def __repr__(self) -> str:
        return (f"ItemScoreTables(k={self.k}, n={self.n}, n_complete={self.n_complete}, "
                f"groups={len(self.groups)})")

    def item_cells(self, j: int, slots: Sequence[int], studied: str = "include"
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Item j's counts against its matching score in the group ``slots`` (in that
        order): (R, L, len(slots)) counts on the L score levels that occur there, and those
        L scores. ``studied="exclude"``: the rest score ``total - response`` (each
        response's counts moved down by its value)."""
        cj = self.counts[j][..., list(slots)]
        R, S, _ = cj.shape
        if studied == "exclude":
            rest = np.zeros((R, S + R - 1, cj.shape[2]), dtype=cj.dtype)
            for r in range(R):  # a loop over response values, not rows
                rest[r, R - 1 - r:R - 1 - r + S] = cj[r]
            cj, base = rest, self.score_min - self.response_min - (R - 1)
        else:
            base = self.score_min
        occur = cj.sum(axis=(0, 2)) > 0
        return cj[:, occur], (base + np.flatnonzero(occur)).astype(float)

    # -- item statistics ---------------------------------------------------------------------

    def item_statistics(self, *, scale_range: Any = None,
                        group_fraction: float = 0.27) -> pd.DataFrame:
        """The columns of ``pv.item_analysis(data).items`` that the counts give exactly, on
        the same rows (complete rows for the statistics of the scale; every answer for
        ``n``, ``missing_pct``, ``difficulty_available``, floor and ceiling): ``n``,
        ``missing_pct``, ``mean``, ``sd``, ``min``, ``max``, ``difficulty``,
        ``difficulty_available``, ``pq``, ``raw_r``, ``r_drop``, ``p_upper``, ``p_lower``, ``d``
        (quantile-cut groups, ``groups="cut"``), ``alpha_if_dropped``, ``alpha_gain``,
        ``floor_pct``, ``ceiling_pct``, ``dichotomous``; the scale (every item) is the one
        of ``item_analysis`` without ``scales=``. Not here (they need the rows):
        ``alpha_gain_se`` and its interval, polyserial correlations, the rank rule."""
        if not isinstance(group_fraction, (int, float)) or not 0 < group_fraction <= 0.5:
            raise SpecificationError(f"group_fraction={group_fraction!r} must be a number in "
                                     "(0, 0.5]")
        k = self.k
        n_total = self.n
        nc = self.n_complete
        if nc < 2:
            raise DataError(f"{nc} row(s) answer every item; item statistics need at least 2")
        v = self.response_min + np.arange(self.answered.shape[1], dtype=np.int64)
        ans = self.answered.sum(axis=2)  # (k, R) every answer
        n_ans = ans.sum(axis=1)
        col_sum = (ans * v).sum(axis=1)
        binary = ((ans[:, (v != 0) & (v != 1)]).sum(axis=1) == 0)
        lo, hi = self._ranges(ans, v, binary, scale_range)
        c = self.counts.sum(axis=3)  # (k, R, S)
        t = self.score_min + np.arange(c.shape[2], dtype=np.int64)
        nt = c[0].sum(axis=0)  # rows per total
        # integer sums (exact), then the covariances in float as item_analysis does
        sx = (c.sum(axis=2) * v).sum(axis=1)
        sxx = (c.sum(axis=2) * v * v).sum(axis=1)
        sxt = np.einsum("jrs,r,s->j", c, v, t)
        st, stt = int(nt @ t), int(nt @ (t * t))
        with np.errstate(divide="ignore", invalid="ignore"):
            var = (sxx - sx * sx / nc) / (nc - 1)
            cov_t = (sxt - sx * st / nc) / (nc - 1)
            var_t = (stt - st * st / nc) / (nc - 1)
            raw_r = cov_t / np.sqrt(var * var_t)
            var_rest = var_t - 2 * cov_t + var
            r_drop = (cov_t - var) / np.sqrt(var * var_rest)
            alpha = k / (k - 1) * (1 - var.sum() / var_t) if k > 1 else math.nan
            alpha_drop = ((k - 1) / (k - 2) * (1 - (var.sum() - var) / var_rest)
                          if k > 2 else np.full(k, np.nan))
        # upper and lower groups: R's type-7 quantiles of the totals, as item_analysis
        cut_hi, cut_lo = _quantile_from_counts(t, nt, [1 - group_fraction, group_fraction])
        up, low = t >= cut_hi, t <= cut_lo
        n_up, n_lo = int(nt[up].sum()), int(nt[low].sum())
        width = hi - lo
        mean = sx / nc
        with np.errstate(divide="ignore", invalid="ignore"):
            s_up = (c[:, :, up].sum(axis=2) * v).sum(axis=1)
            s_lo = (c[:, :, low].sum(axis=2) * v).sum(axis=1)
            p_upper = (s_up / n_up - lo) / width if n_up else np.full(k, np.nan)
            p_lower = (s_lo / n_lo - lo) / width if n_lo else np.full(k, np.nan)
            difficulty = (mean - lo) / width
            diff_avail = (col_sum / n_ans - lo) / width
            floor = (ans * (v == lo[:, None])).sum(axis=1) / n_ans * 100
            ceiling = (ans * (v == hi[:, None])).sum(axis=1) / n_ans * 100
        return pd.DataFrame({
            "n": n_ans.astype(int), "missing_pct": (1 - n_ans / n_total) * 100, "mean": mean,
            "sd": np.sqrt(var), "min": lo, "max": hi, "difficulty": difficulty,
            "difficulty_available": diff_avail,
            "pq": np.where(binary, difficulty * (1 - difficulty), np.nan), "raw_r": raw_r,
            "r_drop": r_drop, "p_upper": p_upper, "p_lower": p_lower, "d": p_upper - p_lower,
            "alpha_if_dropped": alpha_drop, "alpha_gain": alpha_drop - alpha,
            "floor_pct": floor, "ceiling_pct": ceiling, "dichotomous": binary,
        }, index=pd.Index(self.columns, name="item"))

    def _ranges(self, ans: np.ndarray, v: np.ndarray, binary: np.ndarray, scale_range: Any
                ) -> tuple[np.ndarray, np.ndarray]:
        """Per item (min, max) for difficulty, as item_analysis: 0/1 items (0, 1), the others
        the range observed over all of them, or the declared ``scale_range``."""
        k = self.k
        if scale_range is None:
            lo, hi = np.zeros(k), np.ones(k)
            seen = v[ans[~binary].sum(axis=0) > 0]
            if seen.size:
                lo[~binary], hi[~binary] = float(seen.min()), float(seen.max())
            return lo, hi
        if isinstance(scale_range, Mapping):
            absent = [i for i in self.columns if i not in scale_range]
            if absent:
                raise SpecificationError(f"scale_range has no (min, max) for item(s) "
                                         f"{', '.join(map(repr, absent))}")
            ranges = [check_range(scale_range[i], f"scale_range[{i!r}]") for i in self.columns]
        else:
            ranges = [check_range(scale_range, "scale_range")] * k
        lo = np.array([a for a, _ in ranges], dtype=float)
        hi = np.array([b for _, b in ranges], dtype=float)
        for j in range(k):
            outside = v[(ans[j] > 0) & ((v < lo[j]) | (v > hi[j]))]
            if outside.size:
                raise DataError(f"item {self.columns[j]!r} has the value {outside[0]} outside "
                                f"its declared range ({lo[j]:g}, {hi[j]:g})")
        return lo, hi


def _check_size(k: int, R: int, S: int, G: int) -> None:
    if k * R * S * G > _MAX_CELLS:
        raise DataError(f"{k} items x {R} response values x {S} total scores x {G} group "
                        f"slots is more than {_MAX_CELLS} cells; recode the responses to a "
                        "short range of whole numbers or build tables for fewer items")


def _quantile_from_counts(values: np.ndarray, counts: np.ndarray, probs: Sequence[float]
                          ) -> list[float]:
    """numpy's (R's type 7) quantiles of the data holding ``counts[i]`` copies of
    ``values[i]`` (increasing), without expanding them."""
    n = int(counts.sum())
    cum = np.cumsum(counts)
    out = []
    for p in probs:
        h = (n - 1) * float(p)
        lo_i = math.floor(h)
        a = float(values[np.searchsorted(cum, lo_i, side="right")])
        b = float(values[np.searchsorted(cum, min(lo_i + 1, n - 1), side="right")])
        g = h - lo_i
        # numpy's _lerp: a + (b - a) g, taken from b's side when g >= 0.5
        out.append(b - (b - a) * (1 - g) if g >= 0.5 else a + (b - a) * g)
    return out
