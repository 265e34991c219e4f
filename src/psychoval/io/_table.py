"""ResponseTable: the one canonical respondents x items table every layer reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError

__all__ = ["ResponseTable", "describe_row"]


def describe_row(ids: pd.Index, position: int) -> str:
    """Name a respondent in a message: 1-based row number, plus the id when there is one."""
    if isinstance(ids, pd.RangeIndex) and ids.start == 0 and ids.step == 1:
        return f"row {position + 1}"
    return f"row {position + 1} (id {ids[position]!r})"


def _same_kind(distinct: np.ndarray) -> bool:
    """Whether factorizing kept every cell as written: all strings, or all integers (cells
    of mixed kinds, such as ``True``, ``1`` and ``1.0``, compare equal and share a code)."""
    if distinct.ndim != 1:
        return False
    if all(isinstance(v, str) for v in distinct):
        return True
    return all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in distinct)


_Text = dict[str, tuple[np.ndarray, np.ndarray]]  # item -> (positions, raw cells)


def _split_column(col: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split one column into float values and its non-numeric cells.

    Returns ``values`` (float64, NaN where missing or non-numeric), the 0-based positions of
    the non-numeric cells and those cells as written (strings stripped of surrounding
    whitespace). A cell is missing when it is NA or blank after stripping; a number is what
    ``pd.to_numeric`` makes of the stripped cell. Each distinct cell is examined once
    (columns of responses hold few distinct codes), so no Python work runs per cell.
    """
    none = np.zeros(0, dtype=np.intp)
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.astype("float64").to_numpy(), none, np.zeros(0, dtype=object)
    if pd.api.types.is_numeric_dtype(col.dtype):
        num = pd.to_numeric(col, errors="coerce").astype("float64").to_numpy()
        return num, none, np.zeros(0, dtype=object)
    if isinstance(col.dtype, pd.CategoricalDtype):  # codes into distinct cells already
        codes = col.cat.codes.to_numpy().astype(np.intp)
        distinct = np.asarray(col.cat.categories, dtype=object)
        used = np.bincount(codes[codes >= 0], minlength=distinct.size) > 0
        if not used.all():  # unused categories are not cells
            distinct = distinct[used]
            codes = np.append(np.cumsum(used) - 1, -1)[codes]
    else:
        try:
            codes, uniques = pd.factorize(col, use_na_sentinel=True)
        except TypeError:  # unhashable cells (lists, dicts): examine them one by one
            return _split_cells(col)
        distinct = np.asarray(uniques, dtype=object)
        if not _same_kind(distinct):  # True, 1, 1.0 (and 0.0, -0.0) would share a code
            return _split_cells(col)
    stripped = pd.Series([v.strip() if isinstance(v, str) else v for v in distinct],
                         dtype=object)
    missing = stripped.isna().to_numpy() | (stripped == "").to_numpy()
    # the same set of cells as one parse of the whole column, NaN standing for the missing
    probe = stripped.where(~missing)
    if len(codes) and codes.min() < 0 and not missing.any():
        probe = pd.concat([probe, pd.Series([np.nan], dtype=object)], ignore_index=True)
    num = pd.to_numeric(probe, errors="coerce").astype("float64").to_numpy()[:distinct.size]
    text = ~missing & np.isnan(num)
    codes = np.where(codes < 0, distinct.size, codes)
    values = np.append(num, np.nan)[codes]
    pos = np.flatnonzero(np.append(text, False)[codes])
    return values, pos, stripped.to_numpy(dtype=object)[codes[pos]]


def _split_cells(col: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_split_column` for columns of arbitrary objects, one cell at a time."""
    obj = col.astype(object).to_numpy()
    as_str = pd.Series(obj, dtype=object).map(lambda v: v.strip() if isinstance(v, str) else v)
    missing = as_str.isna().to_numpy() | (as_str == "").to_numpy()
    num = pd.to_numeric(as_str.where(~missing), errors="coerce").astype("float64").to_numpy()
    bad = np.flatnonzero(~missing & np.isnan(num))
    return num, bad, as_str.to_numpy(dtype=object)[bad]


def _numeric_and_raw(frame: pd.DataFrame) -> tuple[pd.DataFrame, _Text, frozenset[str]]:
    """Split a frame of mixed cells into float values and, per item with non-numeric codes,
    the positions and text of those cells (see :func:`_split_column`); also the items read
    as cells rather than as a numeric column (their missing raw cells are ``np.nan``)."""
    n, k = frame.shape
    block = np.empty((k, n))  # one float64 block, a column per row: no copy into the frame
    text: _Text = {}
    as_cells = set()
    for j, (name, col) in enumerate(frame.items()):
        num, pos, cells = _split_column(col)
        block[j] = num
        if pos.size:
            text[name] = (pos, cells)
        if not (pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype)):
            as_cells.add(name)
    values = pd.DataFrame(block.T, index=frame.index, columns=frame.columns, copy=False)
    return values, text, frozenset(as_cells)


def _as_objects(v: np.ndarray, *, nan: Any) -> np.ndarray:
    """Float values as an object array of Python floats, NaN as ``nan`` (an object, or None
    for a new float object per cell, as ``v.astype(object)`` gives).

    Whole numbers in a short range (response codes) share one float object per value rather
    than one object per cell.
    """
    missing = np.isnan(v)
    seen = v[~missing]
    if seen.size > 64:
        lo, hi = float(seen.min()), float(seen.max())
        if hi - lo <= 1024 and -2.0**53 < lo and hi < 2.0**53 and lo.is_integer() \
                and np.array_equal(seen, np.floor(seen)) \
                and not np.any(np.signbit(seen) & (seen == 0)):  # -0.0 stays -0.0
            shared = np.empty(int(hi - lo) + 1, dtype=object)
            shared[:] = [float(x) for x in range(int(lo), int(hi) + 1)]
            codes = np.zeros(v.size, dtype=np.intp)
            codes[~missing] = (seen - lo).astype(np.intp)
            out = shared[codes]
            if missing.any():
                out[missing] = v[missing].astype(object) if nan is None else nan
            return out
    out = v.astype(object)
    if nan is not None and missing.any():
        out[missing] = nan
    return out


class ResponseTable:
    """Responses of respondents (rows) to items (columns), with respondent ids.

    Holds two aligned tables: ``values`` (float64, NaN for missing or non-numeric cells) and
    ``raw`` (what was read: numbers where a cell is numeric, the text otherwise, so
    multiple-choice letters and text codes survive for scoring and data-quality checks).

    Build one with :func:`psychoval.read_responses`, or directly from a DataFrame with
    :meth:`from_frame`. The table is immutable: accessors return copies.

    Notes
    -----
    A numeric raw cell is its value, so a table built by :meth:`from_frame` stores the
    values (one float64 block) and only the non-numeric cells (positions and text);
    ``raw`` is assembled from them when asked for.
    """

    __slots__ = ("_values", "_raw_frame", "_text_cells", "_text", "_nan_cells", "_source")

    def __init__(self, values: pd.DataFrame, raw: pd.DataFrame | None, *,
                 source: str = "DataFrame",
                 text_cells: dict[str, Sequence[int]] | None = None) -> None:
        self._values = values
        self._raw_frame = raw  # None: numbers are their values, text cells in self._text
        self._text_cells = {name: np.asarray(pos, dtype=np.intp)
                            for name, pos in (text_cells or {}).items()}
        self._text: dict[str, np.ndarray] = {}
        self._nan_cells: frozenset[str] = frozenset()  # items whose missing raw cells are np.nan
        self._source = source

    @classmethod
    def _from_parts(cls, values: pd.DataFrame, text: _Text, *, source: str,
                    nan_cells: Iterable[str] = ()) -> ResponseTable:
        """A table from its values and, per item, the positions (ascending) and raw cells
        of its non-numeric codes; ``nan_cells`` names the items read cell by cell, whose
        missing raw cells are ``np.nan`` (a numeric column's are float objects)."""
        table = cls(values, None, source=source,
                    text_cells={name: pos for name, (pos, _) in text.items()})
        table._text = {name: cells for name, (_, cells) in text.items()}
        table._nan_cells = frozenset(nan_cells)
        return table

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, id_column: str | None = None,
                   items: Sequence[str] | None = None, source: str = "DataFrame") -> ResponseTable:
        """Build a table from a wide DataFrame (the caller's frame is not modified)."""
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}")
        cols = pd.Index(frame.columns)
        dup = cols[cols.duplicated()].unique().tolist()
        if dup:
            raise DataError(
                f"{source}: duplicate column name(s) {', '.join(map(repr, dup))}; every item "
                "needs a unique name: rename the duplicates"
            )
        if frame.shape[0] == 0:
            raise DataError(f"{source}: the table has no rows (no respondents)")
        frame = frame.copy()
        frame.columns = [str(c) for c in frame.columns]
        if id_column is not None:
            if id_column not in frame.columns:
                raise DataError(
                    f"{source}: id column {id_column!r} does not exist; columns are "
                    f"{_list_names(frame.columns)}; pass id_column=None to number rows instead"
                )
            ids = _normalise_ids(frame[id_column], id_column)
            frame = frame.drop(columns=[id_column])
            frame.index = ids
        else:
            frame.index = pd.RangeIndex(len(frame))
        if items is not None:
            items = [str(i) for i in items]
            absent = [i for i in items if i not in frame.columns]
            if absent:
                raise DataError(
                    f"{source}: item(s) {', '.join(map(repr, absent))} not among the columns "
                    f"{_list_names(frame.columns)}; check the spelling or the items= list"
                )
            frame = frame[items]
        if frame.shape[1] == 0:
            raise DataError(
                f"{source}: no item columns (only the id column {id_column!r}); a response "
                "table needs at least one item column"
            )
        values, text, as_cells = _numeric_and_raw(frame)
        return cls._from_parts(values, text, source=source, nan_cells=as_cells)

    def _with_ids(self, id_column: str) -> ResponseTable:
        """The table with column ``id_column`` taken out as the respondent ids: the same
        table as ``from_frame(self.raw, id_column=id_column, source=self.source)``."""
        ids = _normalise_ids(self._raw_columns([id_column])[id_column], id_column)
        rest = [c for c in self.items if c != id_column]
        if not rest:
            raise DataError(
                f"{self._source}: no item columns (only the id column {id_column!r}); a "
                "response table needs at least one item column"
            )
        values = self._values[rest].set_axis(ids, axis=0)
        text = {c: self._text_of(c) for c in rest if c in self._text_cells}
        return ResponseTable._from_parts(values, text, source=self._source, nan_cells=rest)

    # -- raw cells, assembled on demand -----------------------------------------------
    def _text_of(self, item: str) -> tuple[np.ndarray, np.ndarray]:
        """Positions (ascending) and raw cells of an item's non-numeric codes."""
        pos = self._text_cells.get(item)
        if pos is None:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=object)
        if self._raw_frame is not None:
            return pos, self._raw_frame[item].to_numpy(dtype=object)[pos]
        return pos, self._text[item]

    def _raw_at(self, item: str, positions: Any) -> np.ndarray:
        """Raw cells of ``item`` at the 0-based row ``positions`` (an object array)."""
        positions = np.asarray(positions, dtype=np.intp)
        if self._raw_frame is not None:
            return self._raw_frame[item].to_numpy(dtype=object)[positions]
        out = _as_objects(self._values[item].to_numpy(dtype="float64")[positions],
                          nan=np.nan if item in self._nan_cells else None)
        pos, cells = self._text_of(item)
        if pos.size and positions.size:
            at = np.minimum(np.searchsorted(pos, positions), pos.size - 1)
            hit = pos[at] == positions
            out[hit] = cells[at[hit]]
        return out

    def _raw_columns(self, items: Sequence[str], rows: int | None = None) -> pd.DataFrame:
        """The raw cells of ``items`` (the first ``rows`` rows) as a new object frame."""
        if self._raw_frame is not None:
            out = self._raw_frame if list(items) == list(self._raw_frame.columns) else \
                self._raw_frame[list(items)]
            return (out if rows is None else out.iloc[:rows]).copy()
        values = self._values[list(items)] if rows is None else \
            self._values[list(items)].iloc[:rows]
        columns = {}
        for name, v in values.items():
            col = _as_objects(v.to_numpy(dtype="float64"),
                              nan=np.nan if name in self._nan_cells else None)
            pos, cells = self._text_of(name)
            if pos.size:
                keep = pos < col.size
                col[pos[keep]] = cells[keep]
            columns[name] = col
        return pd.DataFrame(columns, index=values.index, columns=values.columns, dtype=object)

    @property
    def _raw(self) -> pd.DataFrame:
        """Every raw cell as an object frame (assembled; prefer the methods above)."""
        return self._raw_columns(self.items)

    # -- read-only views -------------------------------------------------------------
    @property
    def items(self) -> tuple[str, ...]:
        """Item names, in column order."""
        return tuple(self._values.columns)

    @property
    def ids(self) -> pd.Index:
        """Respondent ids (row numbers from 0 when no id column was given)."""
        return self._values.index.copy()

    @property
    def shape(self) -> tuple[int, int]:
        return self._values.shape

    @property
    def n_respondents(self) -> int:
        return self._values.shape[0]

    @property
    def n_items(self) -> int:
        return self._values.shape[1]

    @property
    def source(self) -> str:
        return self._source

    @property
    def values(self) -> pd.DataFrame:
        """Numeric responses (float64; NaN where missing or non-numeric). A copy."""
        return self._values.copy()

    @property
    def raw(self) -> pd.DataFrame:
        """Responses as read (numbers, or text codes such as option letters). A copy."""
        return self._raw

    @property
    def text_items(self) -> tuple[str, ...]:
        """Items with at least one non-numeric code (multiple-choice letters, typos...)."""
        return tuple(i for i in self.items if i in self._text_cells)

    def text_cells(self, item: str) -> list[int]:
        """0-based row positions of an item's non-numeric codes."""
        pos = self._text_cells.get(item)
        return [] if pos is None else pos.tolist()

    def to_frame(self, *, raw: bool = False) -> pd.DataFrame:
        """The table as a DataFrame (a copy): numeric values, or ``raw=True`` for raw cells."""
        return self.raw if raw else self.values

    def select(self, items: Iterable[str]) -> ResponseTable:
        """A new table with only ``items``, in that order."""
        items = [str(i) for i in items]
        absent = [i for i in items if i not in self._values.columns]
        if absent:
            raise DataError(
                f"item(s) {', '.join(map(repr, absent))} not in the response table; it has "
                f"{_list_names(self.items)}"
            )
        if self._raw_frame is not None:
            cells = {i: self._text_cells[i] for i in items if i in self._text_cells}
            return ResponseTable(self._values[items], self._raw_frame[items],
                                 source=self._source, text_cells=cells)
        text = {i: self._text_of(i) for i in items if i in self._text_cells}
        return ResponseTable._from_parts(self._values[items], text, source=self._source,
                                         nan_cells=self._nan_cells.intersection(items))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResponseTable):
            return NotImplemented
        if not (self._values.equals(other._values)
                and self._values.index.equals(other._values.index)):
            return False
        if self._raw_frame is not None or other._raw_frame is not None:
            return self._raw.equals(other._raw)
        # equal values: the raw cells are equal when the non-numeric cells are
        if self._text_cells.keys() != other._text_cells.keys():
            return False
        for item in self._text_cells:
            pos, cells = self._text_of(item)
            opos, ocells = other._text_of(item)
            if not (np.array_equal(pos, opos) and pd.Series(cells, dtype=object).equals(
                    pd.Series(ocells, dtype=object))):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        n, k = self.shape
        miss = float(np.isnan(self._values.to_numpy()).mean()) if n and k else 0.0
        text = f", {len(self._text_cells)} with text codes" if self._text_cells else ""
        return (f"<ResponseTable {n} respondents x {k} items{text}, {miss:.1%} missing, "
                f"from {self._source}>")

    def _repr_html_(self) -> str:
        import html

        head = self._raw_columns(self.items, rows=10).to_html(escape=True)
        return f"<p>{html.escape(repr(self))}</p>{head}"


def _list_names(names: Iterable[object], limit: int = 12) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _normalise_ids(col: pd.Series, name: str) -> pd.Index:
    """Respondent ids: integers when every id is a whole number, strings otherwise."""
    if col.isna().any():
        pos = int(np.flatnonzero(col.isna().to_numpy())[0])
        raise DataError(
            f"id column {name!r} is empty at row {pos + 1}; every respondent needs an id "
            "(fill it, or pass id_column=None to number rows)"
        )
    if not pd.api.types.is_numeric_dtype(col.dtype):
        codes, uniques = pd.factorize(col)
        distinct = np.asarray(uniques, dtype=object)
        if _same_kind(distinct) and isinstance(distinct[0], str):
            # each distinct id parsed once (and none when the first is not a number), as
            # the cell-by-cell rule below
            first = pd.to_numeric(pd.Series(distinct[:1], dtype=object), errors="coerce")
            num = pd.to_numeric(pd.Series(distinct, dtype=object), errors="coerce") \
                if first.notna().all() else first
            if num.notna().all() and np.all(np.mod(num.to_numpy(dtype=float), 1) == 0):
                return pd.Index(num.to_numpy(dtype="int64")[codes], name=name)
            text = np.asarray([str(v).strip() for v in distinct], dtype=object)
            return pd.Index(text[codes], name=name, dtype=object)
    num = pd.to_numeric(col, errors="coerce")
    if num.notna().all() and np.all(np.mod(num.to_numpy(dtype=float), 1) == 0):
        return pd.Index(num.to_numpy(dtype="int64"), name=name)
    return pd.Index(col.map(lambda v: str(v).strip()).to_numpy(dtype=object), name=name, dtype=object)
