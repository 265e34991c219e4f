"""ResponseTable: the one canonical respondents x items table every layer reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError

__all__ = ["ResponseTable", "describe_row"]


def describe_row(ids: pd.Index, position: int) -> str:
    """Name a respondent in a message: 1-based row number, plus the id when there is one."""
    if isinstance(ids, pd.RangeIndex) and ids.start == 0 and ids.step == 1:
        return f"row {position + 1}"
    return f"row {position + 1} (id {ids[position]!r})"


def _numeric_and_raw(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, list[int]]]:
    """Split a frame of mixed cells into float values and raw cells.

    Returns ``values`` (float64, NaN where missing or non-numeric), ``raw`` (object: the numeric
    value where a cell parses as a number, the stripped string where it does not, NaN where
    missing) and, per item, the positions of cells holding non-numeric codes.
    """
    values: dict[str, np.ndarray] = {}
    raw: dict[str, np.ndarray] = {}
    text_cells: dict[str, list[int]] = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_bool_dtype(col.dtype):
            num = col.astype("float64").to_numpy()
            values[name] = num
            raw[name] = num.astype(object)
            continue
        if pd.api.types.is_numeric_dtype(col.dtype):
            num = pd.to_numeric(col, errors="coerce").astype("float64").to_numpy()
            values[name] = num
            raw[name] = num.astype(object)
            continue
        obj = col.astype(object).to_numpy()
        as_str = pd.Series(obj, dtype=object).map(lambda v: v.strip() if isinstance(v, str) else v)
        missing = as_str.isna().to_numpy() | (as_str == "").to_numpy()
        num = pd.to_numeric(as_str.where(~missing), errors="coerce").astype("float64").to_numpy()
        bad = np.flatnonzero(~missing & np.isnan(num))
        rawcol = num.astype(object)
        rawcol[missing] = np.nan
        if bad.size:
            rawcol[bad] = as_str.to_numpy()[bad]
            text_cells[name] = bad.tolist()
        values[name] = num
        raw[name] = rawcol
    idx = frame.index
    return (
        pd.DataFrame(values, index=idx, columns=frame.columns),
        pd.DataFrame(raw, index=idx, columns=frame.columns, dtype=object),
        text_cells,
    )


class ResponseTable:
    """Responses of respondents (rows) to items (columns), with respondent ids.

    Holds two aligned tables: ``values`` (float64, NaN for missing or non-numeric cells) and
    ``raw`` (what was read: numbers where a cell is numeric, the text otherwise, so
    multiple-choice letters and text codes survive for scoring and data-quality checks).

    Build one with :func:`psychoval.read_responses`, or directly from a DataFrame with
    :meth:`from_frame`. The table is immutable: accessors return copies.
    """

    __slots__ = ("_values", "_raw", "_text_cells", "_source")

    def __init__(self, values: pd.DataFrame, raw: pd.DataFrame, *, source: str = "DataFrame",
                 text_cells: dict[str, list[int]] | None = None) -> None:
        self._values = values
        self._raw = raw
        self._text_cells = dict(text_cells or {})
        self._source = source

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
        values, raw, text_cells = _numeric_and_raw(frame)
        return cls(values, raw, source=source, text_cells=text_cells)

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
        return self._raw.copy()

    @property
    def text_items(self) -> tuple[str, ...]:
        """Items with at least one non-numeric code (multiple-choice letters, typos...)."""
        return tuple(i for i in self.items if i in self._text_cells)

    def text_cells(self, item: str) -> list[int]:
        """0-based row positions of an item's non-numeric codes."""
        return list(self._text_cells.get(item, []))

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
        cells = {i: self._text_cells[i] for i in items if i in self._text_cells}
        return ResponseTable(self._values[items], self._raw[items], source=self._source,
                             text_cells=cells)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResponseTable):
            return NotImplemented
        return self._values.equals(other._values) and self._raw.equals(other._raw) and \
            self._values.index.equals(other._values.index)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        n, k = self.shape
        miss = float(np.isnan(self._values.to_numpy()).mean()) if n and k else 0.0
        text = f", {len(self._text_cells)} with text codes" if self._text_cells else ""
        return (f"<ResponseTable {n} respondents x {k} items{text}, {miss:.1%} missing, "
                f"from {self._source}>")

    def _repr_html_(self) -> str:
        import html

        head = self._raw.head(10).to_html(escape=True)
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
    num = pd.to_numeric(col, errors="coerce")
    if num.notna().all() and np.all(np.mod(num.to_numpy(dtype=float), 1) == 0):
        return pd.Index(num.to_numpy(dtype="int64"), name=name)
    return pd.Index(col.map(lambda v: str(v).strip()).to_numpy(dtype=object), name=name, dtype=object)
