"""The one validation step at the top of every public statistic (cross-cutting, bottom layer).

:func:`as_item_matrix` turns any accepted input (ResponseTable, DataFrame, 2-d array) into a
clean float64, C-contiguous matrix with item names, or raises a :class:`DataError` naming the
item, row and value at fault. :func:`apply_missing` applies a ``missing=`` policy and records
what it dropped, so results can state n used and rows dropped.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError
from psychoval.io._table import ResponseTable, check_items, column_names, describe_row

__all__ = ["ItemMatrix", "MissingInfo", "as_item_matrix", "apply_missing", "check_choice",
           "check_confidence_level", "check_range"]


@dataclasses.dataclass(frozen=True)
class ItemMatrix:
    """Responses as a float64 (n, k) matrix (NaN = missing), item names and respondent ids."""

    values: np.ndarray
    items: tuple[str, ...]
    ids: pd.Index
    # True when the validation step proved ``values`` free of NaN (and infinities), so that
    # apply_missing need not scan it again
    complete: bool = dataclasses.field(default=False, repr=False, compare=False)

    @property
    def n(self) -> int:
        return self.values.shape[0]

    @property
    def k(self) -> int:
        return self.values.shape[1]

    def row(self, position: int) -> str:
        return describe_row(self.ids, position)


@dataclasses.dataclass(frozen=True)
class MissingInfo:
    """What a missing-data policy did: the rows kept, and the rows it dropped (0-based)."""

    policy: str
    n_total: int
    n_used: int
    rows_dropped: tuple[int, ...]
    any_missing: bool


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``; else raise a SpecificationError naming it."""
    from psychoval.exceptions import SpecificationError

    if value not in choices:
        raise SpecificationError(
            f"{name}={value!r} is not one of {', '.join(map(repr, choices))}"
        )
    return value


def check_confidence_level(value: Any, *, low: float = 0.0, significance: bool = False
                           ) -> float:
    """Return ``value`` as a float strictly between ``low`` and 1, else raise a
    SpecificationError naming the argument: ``confidence_level=`` of an interval (``low=0.5``
    where a level below one half makes no sense), or with ``significance=True`` a test's
    ``significance_level=``."""
    from psychoval.exceptions import SpecificationError

    try:
        level = float(value)
    except (TypeError, ValueError):
        level = math.nan
    if not low < level < 1.0:
        name, what, example = (("significance_level", "a number between", 0.05) if significance
                               else ("confidence_level", "between", 0.95))
        raise SpecificationError(
            f"{name}={value!r} must be {what} {low:g} and 1 (e.g. {example:g})"
        )
    return level


def check_range(value: Any, name: str, *, example: str = "(1, 5)") -> tuple[float, float]:
    """Return a declared range ``(min, max)`` as two floats, else raise a SpecificationError
    naming the argument (``name``, e.g. ``"scale"`` or ``"scale_range['q1']"``): both ends
    must be finite numbers and min below max."""
    from psychoval.exceptions import SpecificationError

    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise SpecificationError(
            f"{name}={value!r} must be a pair (min, max) of numbers, e.g. {name}={example}"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise SpecificationError(
            f"{name}={value!r} must be a pair (min, max) of finite numbers with min < max"
        )
    return lo, hi


def as_item_matrix(
    data: Any,
    *,
    items: Sequence[str] | None = None,
    min_items: int = 1,
    min_rows: int = 2,
    what: str = "data",
    _names: tuple[str, ...] | None = None,
    _ids: pd.Index | None = None,
) -> ItemMatrix:
    """Turn ``data`` into an :class:`ItemMatrix` or raise a clear DataError.

    Accepts a ResponseTable, a DataFrame (every selected column must be numeric, boolean, or
    text holding numbers; the frame's index becomes the respondent ids) or a 2-d array-like
    (items named ``item1``, ``item2``, ...).
    """
    complete = False
    if isinstance(data, ResponseTable):
        table = data if items is None else data.select(items)
        for item in table.text_items:
            cells = table.text_cells(item)
            raw = table._raw_at(item, cells[:1])[0]
            raise DataError(
                f"item {item!r} has the non-numeric code {raw!r} at "
                f"{describe_row(table.ids, cells[0])} ({len(cells)} such cell(s)); score it "
                "first (framework.score() or answer_key=) or recode it as a number or blank"
            )
        values = table._values.to_numpy(dtype="float64")
        names = table.items
        ids = table._values.index
    elif isinstance(data, pd.DataFrame):
        labels = column_names(data.columns, what)
        chosen = labels if items is None else check_items(items, labels, what)
        where = {name: j for j, name in enumerate(labels)}
        fast = _numeric_block(data, [where[c] for c in chosen])
        if fast is None:  # text, booleans, dates...: the response table's rules and messages
            table = ResponseTable.from_frame(data, items=chosen, source=what)
            return as_item_matrix(table, min_items=min_items, min_rows=min_rows, what=what)
        values, complete = fast
        names = tuple(chosen)
        ids = data.index
    else:
        try:
            arr = np.asarray(data, dtype="float64")
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"{what} must be a DataFrame, ResponseTable or numeric 2-d array; converting a "
                f"{type(data).__name__} to numbers failed ({exc})"
            ) from exc
        if arr.ndim != 2:
            raise DataError(
                f"{what} must be 2-d (respondents x items); got an array of shape {arr.shape}"
            )
        names = _names or tuple(f"item{j + 1}" for j in range(arr.shape[1]))
        if items is not None:
            raise DataError("items= selects columns by name; an array has no names: slice it")
        values = arr
        ids = pd.RangeIndex(arr.shape[0]) if _ids is None else _ids
    values = np.ascontiguousarray(values, dtype="float64")
    if not complete:
        # one BLAS pass: a finite column sum proves the column free of infinities (and NaN)
        complete = values.size == 0 or bool(np.isfinite(np.ones(values.shape[0]) @ values).all())
    if not complete and np.isinf(values).any():
        r, c = np.argwhere(np.isinf(values))[0]
        raise DataError(
            f"item {names[c]!r} has an infinite value at {describe_row(ids, int(r))}; "
            "responses must be finite numbers or missing"
        )
    if values.shape[1] < min_items:
        raise DataError(
            f"{what} has {values.shape[1]} item(s); this statistic needs at least {min_items}"
        )
    if values.shape[0] < min_rows:
        raise DataError(
            f"{what} has {values.shape[0]} respondent(s); this statistic needs at least {min_rows}"
        )
    return ItemMatrix(values=values, items=tuple(names), ids=ids, complete=complete)


_COPY_ROWS_BYTES = 1 << 20  # rows copied at a time into the C-ordered matrix (in cache)
_THREADED_COPY_CELLS = 1 << 22  # from this size the copy runs in one thread per core (<= 4)


def _numeric_block(frame: pd.DataFrame, positions: list[int]
                   ) -> tuple[np.ndarray, bool] | None:
    """The columns at ``positions`` as one C-contiguous float64 matrix, and whether it is
    complete (no NaN, no infinity), when every one has a plain numpy number dtype (not
    boolean); else None (then the response table's rules run).

    A DataFrame stores each dtype's columns as one column-major block. The matrix is made
    in one pass: blocks of rows are copied (each block in cache, the row ranges split over
    the cores for large data) and each copied block is summed while in cache - a finite
    sum proves it free of NaN and infinities, so no later pass needs to look for them.
    """
    if not positions:
        return None
    for dt in frame.dtypes.iloc[positions]:
        if not isinstance(dt, np.dtype) or dt.kind not in "fiu":
            return None
    whole = positions == list(range(frame.shape[1]))
    src = (frame if whole else frame.iloc[:, positions]).to_numpy(dtype="float64", copy=False)
    n, k = src.shape
    if src.flags.c_contiguous:
        return src, n * k == 0 or bool(np.isfinite(np.ones(n) @ src).all())
    out = np.empty((n, k))
    step = max(64, _COPY_ROWS_BYTES // (8 * max(k, 1)))

    def copy_rows(start: int, stop: int) -> bool:
        finite = True
        for s in range(start, stop, step):
            block = out[s:min(s + step, stop)]
            np.copyto(block, src[s:min(s + step, stop)])
            if finite:
                finite = bool(np.isfinite(np.add.reduce(block, axis=None)))
        return finite

    workers = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                  else (os.cpu_count() or 1))
    if workers < 2 or n * k < _THREADED_COPY_CELLS:
        return out, copy_rows(0, n)
    from concurrent.futures import ThreadPoolExecutor

    bounds = np.linspace(0, n, workers + 1).astype(int)
    with ThreadPoolExecutor(max_workers=workers) as pool:  # numpy's copy releases the GIL
        done = list(pool.map(copy_rows, bounds[:-1], bounds[1:]))
    return out, all(done)


def apply_missing(
    m: ItemMatrix,
    missing: str,
    *,
    allowed: Sequence[str] = ("pairwise", "listwise", "raise"),
    min_rows: int = 2,
) -> tuple[ItemMatrix, MissingInfo]:
    """Apply a ``missing=`` policy. ``pairwise`` keeps every row (consumers use pairwise n).

    ``listwise`` drops incomplete rows and records which; ``raise`` raises a DataError naming
    the first missing cell.
    """
    check_choice("missing", missing, tuple(allowed))
    if m.complete:  # proven free of NaN by the validation step: nothing to drop
        return m, MissingInfo(missing, m.n, m.n, (), False)
    nan = np.isnan(m.values)
    incomplete = nan.any(axis=1)
    any_missing = bool(incomplete.any())
    if missing == "raise" and any_missing:
        r = int(np.flatnonzero(incomplete)[0])
        c = int(np.flatnonzero(nan[r])[0])
        others = [p for p in allowed if p != "raise"]
        raise DataError(
            f"item {m.items[c]!r} is missing at {m.row(r)} ({int(nan.sum())} missing cell(s) in "
            f"{int(incomplete.sum())} row(s)); choose missing= "
            f"{' or '.join(map(repr, others))} to handle them"
        )
    if missing == "listwise" and any_missing:
        keep = ~incomplete
        dropped = tuple(np.flatnonzero(incomplete).tolist())
        if keep.sum() < min_rows:
            raise DataError(
                f"listwise deletion leaves {int(keep.sum())} complete row(s) of {m.n}; "
                f"at least {min_rows} are needed (try missing='pairwise')"
            )
        kept = ItemMatrix(values=np.ascontiguousarray(m.values[keep]), items=m.items,
                          ids=m.ids[keep])
        return kept, MissingInfo(missing, m.n, kept.n, dropped, True)
    return m, MissingInfo(missing, m.n, m.n, (), any_missing)
