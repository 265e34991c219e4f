"""ResponseTable: the one canonical respondents x items table every layer reads.

Cells keep what was written (CONVENTIONS.md, "Missing data"): a cell is missing only when it
is empty (blank after trimming surrounding spaces), a missing value of a typed source (None,
NaN, NA), or listed in ``missing_codes=``; no library's NA strings apply. Text is a number
when it parses as one (``"4.0"`` is 4, ``"1e3"`` is 1000); the words ``true``/``false`` (any
case) and boolean values of every source are 1 and 0. Respondent ids keep their values: text
stays text as written (``"007"`` is not ``"7"``), numbers of typed sources keep their type.

Length: the ResponseTable and the cell rules it applies at construction (missing codes,
text/number classification, ids); the rules and the table change together.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError

__all__ = ["ResponseTable", "MissingCodes", "describe_row", "show_id"]

_BOOL_WORDS = {"true": 1.0, "false": 0.0}


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (``7`` rather than ``np.int64(7)``)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def show_id(value: Any) -> str:
    """A respondent id as messages print it: ``'007'`` for text, ``7`` for a number."""
    return repr(_plain(value))


def describe_row(ids: pd.Index, position: int) -> str:
    """Name a respondent in a message: 1-based row number, plus the id when there is one."""
    if isinstance(ids, pd.RangeIndex) and ids.start == 0 and ids.step == 1:
        return f"row {position + 1}"
    return f"row {position + 1} (id {show_id(ids[position])})"


def _is_datetime_like(value: Any) -> bool:
    return isinstance(value, (_dt.date, _dt.time, _dt.timedelta, np.datetime64,
                              np.timedelta64))


def _datetime_dtype(dtype: Any) -> bool:
    return (pd.api.types.is_datetime64_any_dtype(dtype)
            or pd.api.types.is_timedelta64_dtype(dtype)
            or isinstance(dtype, pd.PeriodDtype))


def _dates_error(source: str, item: str, what: str) -> DataError:
    return DataError(
        f"{source}: item {item!r} holds dates or times ({what}); responses must be numbers "
        "or text codes: leave the column out (items=) or convert it"
    )


# -- missing codes ----------------------------------------------------------------------


def _number_or_none(text: str) -> float | None:
    """The number a stripped text cell stands for, as :func:`_classify` reads it."""
    num = pd.to_numeric(pd.Series([text, np.nan], dtype=object), errors="coerce").to_numpy(
        dtype="float64")[0]
    return None if np.isnan(num) else float(num)


@dataclasses.dataclass(frozen=True)
class MissingCodes:
    """Codes that stand for a missing answer (``missing_codes=``).

    A code that is a number (``-99``, ``"99"``) matches cells of that number (``99``,
    ``"99.0"``); any other code matches a text cell equal to it after trimming surrounding
    spaces (case-sensitive: ``"NA"`` is not ``"na"``).
    """

    text: frozenset[str] = frozenset()
    numbers: tuple[float, ...] = ()

    @classmethod
    def parse(cls, codes: Any, where: str = "missing_codes") -> MissingCodes:
        """Check and split ``codes`` (None, one code, or a list of codes)."""
        if codes is None:
            return cls()
        if isinstance(codes, MissingCodes):
            return codes
        if isinstance(codes, (str, numbers.Number)):
            codes = [codes]
        if isinstance(codes, dict) or not isinstance(codes, Iterable):
            raise DataError(
                f"{where} must be a list of codes (text or numbers), e.g. [-99, 'NA']; got "
                f"{type(codes).__name__} {codes!r}"
            )
        text: set[str] = set()
        nums: list[float] = []
        for code in codes:
            code = _plain(code)
            if isinstance(code, bool) or not isinstance(code, (str, int, float)):
                raise DataError(
                    f"{where}: {code!r} is not a code; list text or numbers, e.g. [-99, 'NA']"
                )
            if isinstance(code, str):
                stripped = code.strip()
                if not stripped:
                    raise DataError(
                        f"{where}: {code!r} is blank; an empty cell is always missing, list "
                        "only the codes written in the cells"
                    )
                if stripped.lower() in _BOOL_WORDS:
                    raise DataError(
                        f"{where}: {code!r} cannot be a missing code: the words true/false are "
                        f"read as the numbers 1/0; list {int(_BOOL_WORDS[stripped.lower()])} "
                        "if that number means missing"
                    )
                value = _number_or_none(stripped)
                if value is None:
                    text.add(stripped)
                    continue
            else:
                try:
                    value = float(code)
                except OverflowError:
                    value = float("inf")
            if not np.isfinite(value):
                raise DataError(f"{where}: {code!r} is not a finite number")
            if value not in nums:
                nums.append(value)
        return cls(frozenset(text), tuple(nums))

    def __bool__(self) -> bool:
        return bool(self.text or self.numbers)

    def numeric_mask(self, values: np.ndarray) -> np.ndarray:
        """Which numeric values are missing codes."""
        if not self.numbers:
            return np.zeros(values.shape, dtype=bool)
        return np.isin(values, np.asarray(self.numbers, dtype="float64"))

    def text_mask(self, cells: np.ndarray) -> np.ndarray:
        """Which text cells (stripped strings) are missing codes."""
        if not self.text or not len(cells):
            return np.zeros(len(cells), dtype=bool)
        return np.fromiter((isinstance(c, str) and c.strip() in self.text for c in cells),
                           dtype=bool, count=len(cells))

    def to_list(self) -> list[Any]:
        """The codes, numbers first (whole numbers as int), as a JSON-safe list."""
        nums = [int(v) if float(v).is_integer() else v for v in self.numbers]
        return nums + sorted(self.text)


# -- classifying cells ------------------------------------------------------------------


def _classify(cells: np.ndarray, item: str, source: str
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read cells (a 1-d object array): per cell its number (float64, NaN unless the cell is
    a number), whether it is missing, and the cell as kept (text stripped of surrounding
    spaces, numpy scalars as Python values).

    Text: blank is missing; ``true``/``false`` (any case) are 1/0; otherwise the number it
    parses as (``pd.to_numeric``), or a text code. Booleans are 1/0, numbers are themselves
    (NaN missing), None/NA missing; dates and times raise a DataError naming the item.
    """
    n = len(cells)
    num = np.full(n, np.nan)
    missing = np.zeros(n, dtype=bool)
    kept = np.empty(n, dtype=object)
    parse: list[int] = []
    for i, v in enumerate(cells):
        if isinstance(v, str):
            s = v.strip()
            kept[i] = s
            if not s:
                missing[i] = True
            elif len(s) <= 5 and s.lower() in _BOOL_WORDS:
                num[i] = _BOOL_WORDS[s.lower()]
            else:
                parse.append(i)
            continue
        if v is None or v is pd.NA or v is pd.NaT:
            missing[i] = True
            kept[i] = v
            continue
        if _is_datetime_like(v):
            raise _dates_error(source, item, type(v).__name__)
        v = _plain(v)
        kept[i] = v
        if isinstance(v, bool):
            num[i] = float(v)
        elif isinstance(v, numbers.Number):
            try:
                f = float(v)  # type: ignore[arg-type]
            except (TypeError, ValueError):  # complex numbers: a code
                continue
            if np.isnan(f):
                missing[i] = True
                kept[i] = np.nan
            else:
                num[i] = f
    if parse:
        idx = np.asarray(parse, dtype=np.intp)
        # with a NaN beside them the cells parse as floats (an all-integer parse would turn
        # "-0" into 0)
        probe = pd.Series(np.append(kept[idx], np.nan), dtype=object)
        num[idx] = pd.to_numeric(probe, errors="coerce").to_numpy(dtype="float64")[:-1]
    return num, missing, kept


def _same_kind(distinct: np.ndarray) -> bool:
    """Whether factorizing kept every cell as written: all strings, or all integers (cells
    of mixed kinds, such as ``True``, ``1`` and ``1.0``, compare equal and share a code)."""
    if distinct.ndim != 1:
        return False
    if all(isinstance(v, str) for v in distinct):
        return True
    return all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in distinct)


_Text = dict[str, tuple[np.ndarray, np.ndarray]]  # item -> (positions, raw cells)
_NONE = np.zeros(0, dtype=np.intp)


class Coded:
    """A column of a text file as codes (-1 = empty cell) into its distinct cells, the text
    as written (a text reader's form: no Python object per cell). ``stripped``: the cells
    are already trimmed of surrounding spaces (and none is blank)."""

    __slots__ = ("codes", "distinct", "stripped")
    dtype = np.dtype(object)

    def __init__(self, codes: np.ndarray, distinct: np.ndarray, *, stripped: bool = False):
        self.codes = codes
        self.distinct = distinct
        self.stripped = stripped

    def __len__(self) -> int:
        return len(self.codes)

    def to_numpy(self) -> np.ndarray:
        """The cells as an object array (None for an empty cell)."""
        return np.append(self.distinct, None)[np.where(self.codes < 0, self.distinct.size,
                                                       self.codes)]


class TextColumns:
    """The columns of a text file (header names and :class:`Coded` columns): what the text
    readers give :meth:`ResponseTable.from_frame` instead of a DataFrame."""

    __slots__ = ("columns", "data")

    def __init__(self, columns: Sequence[str], data: Sequence[Coded]):
        self.columns = list(columns)
        self.data = list(data)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.data[0]) if self.data else 0, len(self.data))

    @property
    def index(self) -> pd.RangeIndex:
        return pd.RangeIndex(self.shape[0])

    def drop_first(self) -> TextColumns:
        return TextColumns(self.columns[1:], self.data[1:])

    def to_frame(self) -> pd.DataFrame:
        """Plain object columns (None for an empty cell)."""
        frame = pd.DataFrame({j: c.to_numpy() for j, c in enumerate(self.data)}, copy=False)
        frame.columns = self.columns
        return frame


def _column(frame: pd.DataFrame | TextColumns, j: int) -> Any:
    return frame.data[j] if isinstance(frame, TextColumns) else frame.iloc[:, j]


def _split_column(col: pd.Series | Coded, item: str, source: str, *,
                  out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split one column into float values and its non-numeric cells.

    Returns ``values`` (float64, NaN where missing or non-numeric), the 0-based positions of
    the non-numeric cells and those cells as written (strings stripped of surrounding
    whitespace); see :func:`_classify` for the rules. Each distinct cell is examined once
    (columns of responses hold few distinct codes), so no Python work runs per cell.
    """
    if isinstance(col, Coded):  # text cells: the distinct cells are all text
        return _split_codes(col.codes, col.distinct, item, source, used_only=False, out=out)
    dtype = col.dtype
    if _datetime_dtype(dtype):
        raise _dates_error(source, item, str(dtype))
    if pd.api.types.is_bool_dtype(dtype):
        return col.to_numpy(dtype="float64", na_value=np.nan), _NONE, np.zeros(0, object)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return col.to_numpy(dtype="float64", na_value=np.nan), _NONE, np.zeros(0, object)
    if isinstance(dtype, pd.CategoricalDtype):  # codes into distinct cells already
        if _datetime_dtype(dtype.categories.dtype):
            raise _dates_error(source, item, str(dtype.categories.dtype))
        return _split_codes(col.cat.codes.to_numpy().astype(np.intp),
                            np.asarray(dtype.categories, dtype=object), item, source)
    else:
        try:
            codes, uniques = pd.factorize(col, use_na_sentinel=True)
        except TypeError:  # unhashable cells (lists, dicts): examine them one by one
            return _split_cells(col, item, source)
        distinct = np.asarray(uniques, dtype=object)
        if not _same_kind(distinct):  # True, 1, 1.0 (and 0.0, -0.0) would share a code
            return _split_cells(col, item, source)
    return _split_codes(codes, distinct, item, source)


def _split_codes(codes: np.ndarray, distinct: np.ndarray, item: str, source: str, *,
                 used_only: bool = True, out: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_split_column` of a column given as codes (-1 = missing) into its distinct
    cells: each distinct cell is classified once (with ``used_only``, only those that
    occur: categories may list values no cell has). ``out`` receives the values."""
    if used_only:
        used = np.zeros(distinct.size + 1, dtype=bool)
        used[codes] = True  # code -1 marks the last slot
        if not used[:-1].all():
            distinct = distinct[used[:-1]]
            codes = np.append(np.cumsum(used[:-1]) - 1, -1)[codes]
    num, missing, kept = _classify(distinct, item, source)
    text = ~missing & np.isnan(num)
    values = np.take(np.append(num, np.nan), codes, out=out)  # code -1: the NaN at the end
    if not text.any():
        return values, _NONE, np.zeros(0, dtype=object)
    pos = np.flatnonzero(np.append(text, False)[codes])
    return values, pos, kept[codes[pos]]


def _split_cells(col: pd.Series, item: str, source: str
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_split_column` for columns of arbitrary objects, one cell at a time."""
    num, missing, kept = _classify(col.to_numpy(dtype=object), item, source)
    bad = np.flatnonzero(~missing & np.isnan(num))
    return num, bad, kept[bad]


def _numeric_and_raw(columns: Sequence[tuple[str, pd.Series]], index: pd.Index, *,
                     source: str, missing_codes: MissingCodes | None = None
                     ) -> tuple[pd.DataFrame, _Text, frozenset[str]]:
    """Split columns of mixed cells into float values and, per item with non-numeric codes,
    the positions and text of those cells (see :func:`_split_column`); also the items read
    as cells rather than as a numeric column (their missing raw cells are ``np.nan``).
    Cells listed in ``missing_codes`` become missing."""
    n, k = len(index), len(columns)
    block = np.empty((k, n))  # one float64 block, a column per row: no copy into the frame
    text: _Text = {}
    as_cells = set()
    for j, (name, col) in enumerate(columns):
        num, pos, cells = _split_column(col, name, source, out=block[j])
        if num is not block[j]:
            block[j] = num
        if missing_codes:
            block[j][missing_codes.numeric_mask(block[j])] = np.nan
            if pos.size:
                keep = ~missing_codes.text_mask(cells)
                pos, cells = pos[keep], cells[keep]
        if pos.size:
            text[name] = (pos, cells)
        dt = col.dtype
        if not (pd.api.types.is_bool_dtype(dt) or pd.api.types.is_numeric_dtype(dt)):
            as_cells.add(name)
    values = pd.DataFrame(block.T, index=index, columns=[c for c, _ in columns], copy=False)
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

    __slots__ = ("_values", "_raw_frame", "_text_cells", "_text", "_nan_cells", "_source",
                 "_notes", "__weakref__")

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
        self._notes: tuple[str, ...] = ()

    @classmethod
    def _from_parts(cls, values: pd.DataFrame, text: _Text, *, source: str,
                    nan_cells: Iterable[str] = (), notes: Sequence[str] = ()) -> ResponseTable:
        """A table from its values and, per item, the positions (ascending) and raw cells
        of its non-numeric codes; ``nan_cells`` names the items read cell by cell, whose
        missing raw cells are ``np.nan`` (a numeric column's are float objects)."""
        table = cls(values, None, source=source,
                    text_cells={name: pos for name, (pos, _) in text.items()})
        table._text = {name: cells for name, (_, cells) in text.items()}
        table._nan_cells = frozenset(nan_cells)
        table._notes = tuple(notes)
        return table

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, id_column: str | None = None,
                   items: Sequence[str] | None = None, source: str = "DataFrame",
                   missing_codes: Any = None) -> ResponseTable:
        """Build a table from a wide DataFrame (the caller's frame is not modified).

        Without ``id_column`` the frame's index is kept as the respondent ids. Cells listed
        in ``missing_codes`` (see :class:`MissingCodes`) become missing.
        """
        if not isinstance(frame, (pd.DataFrame, TextColumns)):
            raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}")
        names = column_names(frame.columns, source)
        codes = MissingCodes.parse(missing_codes)
        if frame.shape[0] == 0:
            raise DataError(f"{source}: the table has no rows (no respondents)")
        where = {name: j for j, name in enumerate(names)}
        if id_column is not None:
            id_column = str(id_column)
            if id_column not in where:
                raise DataError(
                    f"{source}: id column {id_column!r} does not exist; columns are "
                    f"{list_names(names)}; pass id_column=None to number rows instead"
                )
            ids = normalise_ids(_column(frame, where[id_column]), id_column, source=source)
        else:
            ids = frame.index.copy()
        if items is not None:
            chosen = check_items(items, names, source)
            if id_column is not None and id_column in chosen:
                raise DataError(
                    f"{source}: {id_column!r} is the id column; leave it out of items="
                )
        else:
            chosen = [c for c in names if c != id_column]
        if not chosen:
            raise DataError(
                f"{source}: no item columns (only the id column {id_column!r}); a response "
                "table needs at least one item column"
            )
        columns = [(name, _column(frame, where[name])) for name in chosen]
        values, text, as_cells = _numeric_and_raw(columns, ids, source=source,
                                                  missing_codes=codes)
        return cls._from_parts(values, text, source=source, nan_cells=as_cells)

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
    def notes(self) -> tuple[str, ...]:
        """What reading did beyond the plain rules (e.g. R row names taken as the ids)."""
        return self._notes

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
                f"{list_names(self.items)}"
            )
        dup = [i for i, c in pd.Series(items).value_counts(sort=False).items() if c > 1]
        if dup:
            raise DataError(
                f"item(s) {', '.join(map(repr, dup))} listed more than once; name each item once"
            )
        if self._raw_frame is not None:
            cells = {i: self._text_cells[i] for i in items if i in self._text_cells}
            table = ResponseTable(self._values[items], self._raw_frame[items],
                                  source=self._source, text_cells=cells)
            table._notes = self._notes
            return table
        text = {i: self._text_of(i) for i in items if i in self._text_cells}
        return ResponseTable._from_parts(self._values[items], text, source=self._source,
                                         nan_cells=self._nan_cells.intersection(items),
                                         notes=self._notes)

    def _renamed(self, names: dict[str, str], note: str) -> ResponseTable:
        """The same cells with columns renamed by ``names`` (old -> new) and ``note`` added."""
        def new(name: str) -> str:
            return names.get(name, name)
        raw = None if self._raw_frame is None else self._raw_frame.rename(columns=names)
        table = ResponseTable(self._values.rename(columns=names), raw, source=self._source,
                              text_cells={new(k): v for k, v in self._text_cells.items()})
        table._text = {new(k): v for k, v in self._text.items()}
        table._nan_cells = frozenset(new(k) for k in self._nan_cells)
        table._notes = self._notes + (note,)
        return table

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
        """The first 10 rows as written (escaped, not truncated), with the results' CSS."""
        import html

        from psychoval._palette import CSS
        from psychoval._results import SUMMARY_CSS, html_table

        head = html_table(self._raw_columns(self.items, rows=10))
        return (f"<div class='psychoval-summary'><style>{SUMMARY_CSS}{CSS}</style>"
                f"<p>{html.escape(repr(self))}</p>{head}</div>")


def list_names(names: Iterable[object], limit: int = 12) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def column_names(columns: Iterable[Any], source: str) -> list[str]:
    """Column labels as text (every layer names items by ``str(label)``), or a DataError
    for a duplicated name, including two labels that are equal only as text (``1``, ``"1"``)."""
    labels = list(columns)
    names = [str(c) for c in labels]
    seen: dict[str, int] = {}
    exact: list[str] = []
    for j, name in enumerate(names):
        if name not in seen:
            seen[name] = j
            continue
        first = labels[seen[name]]
        if type(_plain(first)) is type(_plain(labels[j])) and first == labels[j]:
            if name not in exact:
                exact.append(name)
            continue
        raise DataError(
            f"{source}: columns {_plain(first)!r} and {_plain(labels[j])!r} (positions "
            f"{seen[name] + 1} and {j + 1}) both have the name {name!r} as text; item names "
            "are text, so rename one of them"
        )
    if exact:
        raise DataError(
            f"{source}: duplicate column name(s) {', '.join(map(repr, exact))}; every item "
            "needs a unique name: rename the duplicates"
        )
    return names


def check_items(items: Any, names: Sequence[str], source: str) -> list[str]:
    """``items=`` as a list of column names: each once, each a column."""
    if isinstance(items, str):
        items = [items]
    chosen = [str(i) for i in items]
    dup = [i for i, c in pd.Series(chosen, dtype=object).value_counts(sort=False).items()
           if c > 1]
    if dup:
        raise DataError(
            f"{source}: items= lists {', '.join(map(repr, dup))} more than once; name each "
            "item once"
        )
    present = set(names)
    absent = [i for i in chosen if i not in present]
    if absent:
        raise DataError(
            f"{source}: item(s) {', '.join(map(repr, absent))} not among the columns "
            f"{list_names(names)}; check the spelling or the items= list"
        )
    return chosen


def _id_cells(distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ids as kept (text stripped, numpy scalars as Python values) and which are missing."""
    kept = np.empty(len(distinct), dtype=object)
    missing = np.zeros(len(distinct), dtype=bool)
    for i, v in enumerate(distinct):
        if isinstance(v, str):
            kept[i] = v.strip()
            missing[i] = not kept[i]
        elif v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            missing[i] = True
        else:
            kept[i] = _plain(v)
            missing[i] = isinstance(kept[i], float) and np.isnan(kept[i])
    return kept, missing


def normalise_ids(col: pd.Series, name: str, source: str = "") -> pd.Index:
    """Respondent ids as they are in the source: text as written (stripped of surrounding
    spaces; ``"007"`` stays ``"007"``, ``"1e3"`` stays ``"1e3"``), numbers of typed sources
    in their own type (never parsed, float-coerced or wrapped). A missing id raises."""
    where = f"{source}: " if source else ""
    if isinstance(col, Coded):
        ids, missing = _ids_from_codes(col, name)
        if missing is not None:
            raise DataError(
                f"{where}id column {name!r} is empty at row {missing + 1}; every respondent "
                "needs an id (fill it, or pass id_column=None to number rows)"
            )
        return ids
    dtype = col.dtype
    if (pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
            and not pd.api.types.is_extension_array_dtype(dtype)) \
            or _datetime_dtype(dtype):
        values = col.to_numpy()
        missing = pd.isna(values)
        ids = pd.Index(values, name=name)
    else:
        if isinstance(dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy()
            distinct = np.asarray(dtype.categories, dtype=object)
        else:
            try:
                codes, uniques = pd.factorize(col.to_numpy(dtype=object), use_na_sentinel=True)
                distinct = np.asarray(uniques, dtype=object)
            except TypeError:  # unhashable ids: one by one
                codes = np.arange(len(col))
                distinct = col.to_numpy(dtype=object)
        kept, blank = _id_cells(distinct)
        codes = np.asarray(codes, dtype=np.intp)
        missing = (codes < 0) | np.append(blank, True)[codes]
        values = np.append(kept, None)[codes]
        if kept.size and all(isinstance(v, int) and not isinstance(v, bool) for v in kept):
            ids = pd.Index(values.tolist(), name=name)  # Python ints: int64 (uint64, object)
        else:
            ids = pd.Index(values, name=name, dtype=object)
    if missing.any():
        pos = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"{where}id column {name!r} is empty at row {pos + 1}; every respondent needs an "
            "id (fill it, or pass id_column=None to number rows)"
        )
    return ids


def _ids_from_codes(col: Coded, name: str) -> tuple[pd.Index, int | None]:
    """Ids of a text column (text as written, stripped), and the first row without one."""
    codes = col.codes.astype(np.intp, copy=False)
    distinct = col.distinct
    if col.stripped:
        blank = np.zeros(distinct.size, dtype=bool)
    else:
        distinct = pd.Series(distinct, dtype=object).str.strip().to_numpy(dtype=object)
        blank = distinct == ""
    missing = (codes < 0) | np.append(blank, True)[codes]
    if missing.any():
        return pd.Index([], name=name), int(np.flatnonzero(missing)[0])
    return pd.Index(distinct[codes], name=name, dtype=object), None
