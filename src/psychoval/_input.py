"""The one validation step at the top of every public statistic (cross-cutting, bottom layer).

:func:`as_item_matrix` turns any accepted input (ResponseTable, DataFrame, 2-d array) into a
clean float64, C-contiguous matrix with item names, or raises a :class:`DataError` naming the
item, row and value at fault. :func:`apply_missing` applies a ``missing=`` policy and records
what it dropped, so results can state n used and rows dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError
from psychoval.io._table import ResponseTable, _list_names, describe_row

__all__ = ["ItemMatrix", "MissingInfo", "as_item_matrix", "apply_missing", "check_choice"]


@dataclasses.dataclass(frozen=True)
class ItemMatrix:
    """Responses as a float64 (n, k) matrix (NaN = missing), item names and respondent ids."""

    values: np.ndarray
    items: tuple[str, ...]
    ids: pd.Index

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
    text holding numbers) or a 2-d array-like (items named ``item1``, ``item2``, ...).
    """
    if isinstance(data, ResponseTable):
        table = data if items is None else data.select(items)
        for item in table.text_items:
            cells = table.text_cells(item)
            raw = table.raw[item].iloc[cells[0]]
            raise DataError(
                f"item {item!r} has the non-numeric code {raw!r} at "
                f"{describe_row(table.ids, cells[0])} ({len(cells)} such cell(s)); score it "
                "first (framework.score() or answer_key=) or recode it as a number or blank"
            )
        values = table._values.to_numpy(dtype="float64")
        names = table.items
        ids = table._values.index
    elif isinstance(data, pd.DataFrame):
        frame = data
        cols = pd.Index(frame.columns)
        fast = _numeric_frame(frame, items)
        if fast is not None:  # all-numeric columns have no raw cells to keep: skip the table
            return as_item_matrix(fast.to_numpy(dtype="float64", na_value=np.nan),
                                  min_items=min_items, min_rows=min_rows, what=what,
                                  _names=tuple(fast.columns), _ids=fast.index)
        if cols.duplicated().any():
            dup = cols[cols.duplicated()].unique().tolist()
            raise DataError(f"duplicate column name(s) {', '.join(map(repr, dup))}; rename them")
        if items is not None:
            absent = [i for i in items if i not in cols]
            if absent:
                raise DataError(
                    f"item(s) {', '.join(map(repr, absent))} not among the columns "
                    f"{_list_names(cols)}; check the spelling or the items= list"
                )
            frame = frame[list(items)]
        table = ResponseTable.from_frame(frame, source=what)
        table = ResponseTable(table._values.set_axis(frame.index, axis=0),
                              table._raw.set_axis(frame.index, axis=0),
                              source=what, text_cells=table._text_cells)
        return as_item_matrix(table, min_items=min_items, min_rows=min_rows, what=what)
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
    # one BLAS pass: a finite column sum proves the column free of infinities (and NaN)
    finite = values.size == 0 or np.isfinite(np.ones(values.shape[0]) @ values).all()
    if not finite and np.isinf(values).any():
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
    return ItemMatrix(values=values, items=tuple(names), ids=ids)


def _numeric_frame(frame: pd.DataFrame, items: Sequence[str] | None) -> pd.DataFrame | None:
    """The selected columns when every one is numeric (not boolean) and named by a unique
    string; else None (then the full path, with its messages, runs)."""
    cols = frame.columns
    if cols.duplicated().any() or not all(isinstance(c, str) for c in cols):
        return None
    if items is not None:
        if not all(i in cols for i in items):
            return None
        frame = frame[list(items)]
    for dt in frame.dtypes:
        if not pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt):
            return None
    return frame


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
