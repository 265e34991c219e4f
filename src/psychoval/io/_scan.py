"""scan_responses: a response source read in Arrow record batches (bounded memory).

A :class:`ResponseScan` never holds the whole source: each pass opens the source again and
yields record batches of at most ``batch_size`` rows (Parquet file or folder through
``pyarrow.dataset``, delimited text through ``pyarrow.csv.open_csv``, a DuckDB query through
``to_arrow_reader``, a Dask DataFrame partition by partition). A batch becomes a :class:`ResponseTable` by the same cell rules as
:func:`psychoval.read_responses` (:meth:`ResponseTable.from_frame`): ids as written, missing
only when empty or listed in ``missing_codes``, text codes kept. Rows are numbered across the
whole source, so a row number in a message is the row of the file.

Length: one reader per kind of source (Parquet, text, DuckDB, Dask) with its own batching and
error messages, beside the shared pass and id checks; split, each would repeat the scan's
state.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError
from psychoval.io._read import (
    arrow_codes,
    check_header,
    need_package,
    raise_undecodable,
    refuse,
    text_head,
)
from psychoval.io._table import (
    Coded,
    MissingCodes,
    ResponseTable,
    TextColumns,
    check_items,
    column_names,
    list_names,
)

__all__ = ["scan_responses", "ResponseScan", "is_dask_dataframe"]

_TEXT = {".csv", ".tsv", ".txt", ".tab"}
_PARQUET = {".parquet", ".pq"}
_DUCKDB = {".duckdb", ".ddb"}
_ROW_NAMES = ""  # the header name R's write.csv gives the row-name column


def scan_responses(
    source: Any,
    *,
    id_column: str | None = None,
    items: Sequence[str] | None = None,
    query: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    missing_codes: Sequence[str | float] | None = None,
    batch_size: int = 65_536,
) -> ResponseScan:
    """Scan responses too large for memory: a source read in record batches.

    Nothing is read but the schema (Parquet, DuckDB) or the first 64 KiB (text) until a pass
    is made (:meth:`ResponseScan.batches`, :meth:`ResponseScan.tables`, or
    ``pv.validate(scan, framework)``); each pass reads the source again, ``batch_size`` rows
    at a time, so memory is bounded by the batch, not by the source.

    Parameters
    ----------
    source : path, duckdb connection or dask DataFrame
        A Parquet file or a folder of Parquet files (a dataset, read in file order), a
        delimited text file (``.csv``, ``.tsv``, ``.txt``), a DuckDB database file
        (``.duckdb``) or an open ``duckdb`` connection (both with ``query``), or a
        ``dask.dataframe.DataFrame`` (its partitions computed one at a time, in order, by
        the current Dask scheduler or ``distributed`` client; the index is not read: name
        the id column).
    id_column : str, optional
        Column of respondent ids, kept as written (``"007"`` stays ``"007"``). Without it the
        rows are numbered from 0 across the whole source (R's ``write.csv`` row names are
        the ids, as in :func:`psychoval.read_responses`).
    items : sequence of str, optional
        Item columns to read, in this order (only these and the id column are read from a
        Parquet or DuckDB source). Default: every column but the id column.
    query : str, optional
        SQL of a DuckDB source.
    sep, encoding : str, optional
        Delimiter and encoding of a text file, as in :func:`psychoval.read_responses`.
    missing_codes : sequence of str or number, optional
        Codes that mean "missing" (see :func:`psychoval.read_responses`).
    batch_size : int
        Rows per record batch (default 65,536).

    Returns
    -------
    ResponseScan

    Raises
    ------
    DataError
        No such file, an unknown file type, a DuckDB source without ``query``, a column
        named in ``id_column`` / ``items`` that the source does not have, a text file that
        is not in the encoding given; during a pass, whatever
        :func:`psychoval.read_responses` refuses in a batch (an empty id, a date column), and
        a text row with more or fewer cells than the header (read such a file with
        ``read_responses``, which fills short rows).

    Examples
    --------
    >>> import pandas as pd, psychoval as pv, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "r.csv")
    >>> pd.DataFrame({"id": ["007", "8", "9"], "q1": [1, 2, 3]}).to_csv(path, index=False)
    >>> scan = pv.scan_responses(path, id_column="id", batch_size=2)
    >>> [list(t.ids) for t in scan.tables()]
    [['007', '8'], ['9']]
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise DataError(f"batch_size={batch_size!r} must be a positive integer of rows")
    codes = MissingCodes.parse(missing_codes)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise DataError(f"encoding={encoding!r} is not an encoding Python knows; e.g. "
                            "'utf-8', 'utf-16', 'cp1252', 'latin-1'") from None
    if _is_duckdb_connection(source):
        kind, label, text = "duckdb", "DuckDB connection", None
    elif is_dask_dataframe(source):
        kind, text = "dask", None
        label = f"Dask DataFrame ({source.npartitions} partitions)"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = str(path)
        if not path.exists():
            raise DataError(f"{label}: no such file or folder")
        suffix = path.suffix.lower()
        text = None
        if path.is_dir():
            kind = "parquet"
        elif suffix in _PARQUET:
            kind = "parquet"
        elif suffix in _TEXT:
            kind = "csv"
            text = _TextSource.open(path, sep, encoding)
        elif suffix in _DUCKDB:
            kind = "duckdb"
        else:
            raise DataError(f"{label}: unknown file type {suffix!r}; scan_responses reads "
                            ".parquet files and folders, .csv/.tsv/.txt and .duckdb (with "
                            "query=)")
    else:
        raise DataError(f"cannot scan responses from a {type(source).__name__}; pass the "
                        "path of a Parquet file or folder, a CSV file, a DuckDB database "
                        "(or connection) with query=, or a dask DataFrame")
    if kind == "duckdb" and not query:
        raise DataError(f"{label}: a DuckDB source needs query=, e.g. "
                        "query='SELECT * FROM responses'")
    scan = ResponseScan(source=source, kind=kind, label=label, id_column=id_column,
                        items=None, query=query, missing_codes=codes,
                        batch_size=int(batch_size), _text=text)
    names = scan.columns
    if id_column is not None and str(id_column) not in names:
        raise DataError(f"{label}: id column {id_column!r} does not exist; columns are "
                        f"{list_names(names)}; pass id_column=None to number rows instead")
    if items is not None:
        chosen = check_items(items, names, label)
        if id_column is not None and str(id_column) in chosen:
            raise DataError(f"{label}: {id_column!r} is the id column; leave it out of items=")
        scan = dataclasses.replace(scan, items=tuple(chosen))
    return scan


def is_dask_dataframe(source: Any) -> bool:
    """A ``dask.dataframe.DataFrame`` (checked without importing dask)."""
    return (type(source).__module__.split(".")[0] == "dask"
            and hasattr(source, "to_delayed") and hasattr(source, "npartitions")
            and hasattr(source, "columns"))


def _is_duckdb_connection(source: Any) -> bool:
    return type(source).__module__.startswith("duckdb") and hasattr(source, "execute")


@dataclasses.dataclass(frozen=True)
class _TextSource:
    """What the first 64 KiB of a text file say: codec, delimiter, header width."""

    path: Path
    codec: str
    sep: str
    width: int
    bytes_per_row: float

    @classmethod
    def open(cls, path: Path, sep: str | None, encoding: str | None) -> _TextSource:
        label = str(path)
        if path.stat().st_size == 0:
            raise DataError(f"{label}: the file is empty")
        head, codec, sep, first = text_head(path, sep, encoding)
        lines = max(head.count(b"\n"), 1)
        return cls(path, codec, sep, max(len(first), 1), len(head) / lines)


@dataclasses.dataclass(frozen=True, repr=False)
class ResponseScan:
    """A response source read in record batches (see :func:`scan_responses`).

    Attributes
    ----------
    source : path or connection
    kind : {"parquet", "csv", "duckdb", "dask"}
    id_column : str or None
    items : tuple of str or None
        The item columns chosen (None: every column but the id column).
    batch_size : int
    """

    source: Any
    kind: str
    label: str
    id_column: str | None
    items: tuple[str, ...] | None
    query: str | None
    missing_codes: MissingCodes
    batch_size: int
    _text: _TextSource | None = None

    def __repr__(self) -> str:
        n = "all" if self.items is None else str(len(self.items))
        return (f"<ResponseScan {self.kind} {self.label}, {n} item columns, batches of "
                f"{self.batch_size:,} rows>")

    # -- the columns ----------------------------------------------------------------
    @functools.cached_property
    def columns(self) -> list[str]:
        """Every column of the source (header or schema names), in order."""
        if self.kind == "csv":
            return self._csv_header()
        if self.kind == "parquet":
            return column_names(self._dataset().schema.names, self.label)
        if self.kind == "dask":
            return column_names([str(c) for c in self.source.columns], self.label)
        return column_names(self._duckdb_schema(), self.label)

    @property
    def item_columns(self) -> list[str]:
        """The item columns a pass reads."""
        if self.items is not None:
            return list(self.items)
        return [c for c in self.columns if c != self._id_name() and
                not (c == _ROW_NAMES and self.kind == "csv")]

    def with_id_column(self, id_column: str | None) -> ResponseScan:
        """The same scan with another id column (``None``: rows numbered)."""
        if id_column is not None and str(id_column) not in self.columns:
            raise DataError(f"{self.label}: id column {id_column!r} does not exist; columns "
                            f"are {list_names(self.columns)}")
        items = self.items if self.items is None or id_column not in self.items else \
            tuple(i for i in self.items if i != id_column)
        return dataclasses.replace(self, id_column=id_column, items=items)

    def select(self, items: Sequence[str]) -> ResponseScan:
        """The same scan reading only ``items`` (and the id column)."""
        chosen = check_items(items, self.columns, self.label)
        return dataclasses.replace(self, items=tuple(c for c in chosen if c != self.id_column))

    def _id_name(self) -> str | None:
        if self.id_column is not None:
            return str(self.id_column)
        if self.kind == "csv" and self.columns and self.columns[0] == _ROW_NAMES:
            return _ROW_NAMES  # R's write.csv row names are the ids
        return None

    def _read_columns(self) -> list[str]:
        idc = self._id_name()
        return ([idc] if idc is not None else []) + self.item_columns

    # -- passes ---------------------------------------------------------------------
    def batches(self) -> Iterator[Any]:
        """One pass over the source: ``pyarrow.RecordBatch`` es of at most ``batch_size`` rows
        holding the id column (if any) and the item columns, cells as stored (text files:
        every cell as text, null when empty)."""
        cols = self._read_columns()
        if self.kind == "parquet":
            yield from self._parquet_batches(cols)
        elif self.kind == "csv":
            yield from self._csv_batches(cols)
        elif self.kind == "dask":
            yield from self._dask_batches(cols)
        else:
            yield from self._duckdb_batches(cols)

    def tables(self) -> Iterator[ResponseTable]:
        """One pass over the source as :class:`ResponseTable` blocks (one per batch), by the
        cell rules of :func:`psychoval.read_responses`; rows numbered across the source."""
        start = 0
        for batch in self.batches():
            yield self.to_table(batch, rows=pd.RangeIndex(start, start + batch.num_rows))
            start += batch.num_rows

    def to_table(self, data: Any, *, rows: Any = None) -> ResponseTable:
        """A :class:`ResponseTable` of Arrow data (a record batch or table of this scan's
        batches), by the cell rules of :func:`psychoval.read_responses`. ``rows``: the row
        numbers of its rows in the source (default 0, 1, ...): the ids when the scan has no
        id column."""
        import pyarrow as pa

        table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        n = table.num_rows
        index = pd.RangeIndex(n) if rows is None else _as_index(rows)
        if len(index) != n:
            raise DataError(f"rows= has {len(index)} row numbers for {n} rows")
        idc = self._id_name()
        names = list(table.column_names)
        if idc is not None and idc in names:
            self._check_ids(table.column(idc), idc, index)
        if self.kind == "csv":
            cols = [_coded(table.column(j)) for j in range(table.num_columns)]
            frame: Any = TextColumns(names, cols)
            if idc is None:
                frame = _with_index(frame, index)
        else:
            frame = _typed_frame(table.replace_schema_metadata(None), idc)
            frame.index = index
        out = ResponseTable.from_frame(frame, id_column=idc, items=self.item_columns,
                                       source=self.label, missing_codes=self.missing_codes)
        if idc == _ROW_NAMES:
            out._values.index.name = None
            out._notes = (f"{self.label}: the header row's first cell is empty, so column 1 "
                          "holds row names (as R's write.csv and pandas' to_excel write "
                          "them): they are the respondent ids",)
        return out

    def _check_ids(self, col: Any, name: str, index: pd.Index) -> None:
        """An empty id (null, blank text, NaN) raises naming its row in the source (the cell
        rules would name its row in the batch)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        missing = pc.is_null(col, nan_is_null=True)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            missing = pc.or_kleene(missing, pc.equal(pc.utf8_trim_whitespace(col), ""))
        missing = pc.fill_null(missing, True).to_numpy(zero_copy_only=False)
        if missing.any():
            pos = int(np.flatnonzero(missing)[0])
            raise DataError(
                f"{self.label}: id column {name!r} is empty at row {int(index[pos]) + 1}; "
                "every respondent needs an id (fill it, or pass id_column=None to number rows)")

    def count_rows(self) -> int:
        """The number of rows (Parquet: from the file metadata; otherwise one pass)."""
        if self.kind == "parquet":
            return int(self._dataset().count_rows())
        return sum(b.num_rows for b in self.batches())

    # -- Dask -------------------------------------------------------------------------
    def _dask_batches(self, cols: list[str]) -> Iterator[Any]:
        """The partitions in order, one computed at a time (memory: one partition), as
        record batches of at most ``batch_size`` rows (the index is not read)."""
        import pyarrow as pa

        by_name = {str(c): c for c in self.source.columns}
        frame = self.source[[by_name[c] for c in cols]]
        for part in frame.to_delayed():
            df = part.compute()
            df.columns = cols
            table = pa.Table.from_pandas(df, preserve_index=False)
            yield from table.to_batches(max_chunksize=self.batch_size)

    # -- Parquet ----------------------------------------------------------------------
    def _dataset(self) -> Any:
        need_package("pyarrow", "parquet", self.label)
        import pyarrow as pa
        import pyarrow.dataset as ds

        try:
            return ds.dataset(str(self.source), format="parquet")
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise refuse(self.label, "Parquet file or folder", exc, Path(self.source),
                         "re-export it, or save the data as CSV") from exc

    def _parquet_batches(self, cols: list[str]) -> Iterator[Any]:
        import pyarrow as pa

        dataset = self._dataset()
        scanner = dataset.scanner(columns=cols, batch_size=self.batch_size,
                                  batch_readahead=1, fragment_readahead=1, use_threads=True)
        try:
            for batch in scanner.to_batches():
                if batch.num_rows:
                    yield batch
        except (pa.ArrowException, OSError) as exc:
            raise refuse(self.label, "Parquet file or folder", exc, Path(self.source),
                         "re-export it, or save the data as CSV") from exc

    # -- delimited text ---------------------------------------------------------------
    def _csv_reader(self, block_size: int) -> Any:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        src = self._text
        assert src is not None  # noqa: S101 - set for every text scan
        names = [f"f{j}" for j in range(src.width)]
        text = pa.dictionary(pa.int32(), pa.string())
        read = pacsv.ReadOptions(
            column_names=names, block_size=block_size,
            encoding="utf8" if src.codec in ("utf-8", "utf-8-sig") else src.codec)
        parse = pacsv.ParseOptions(delimiter=src.sep, quote_char='"', double_quote=True,
                                   escape_char=False, newlines_in_values=False,
                                   ignore_empty_lines=True)
        convert = pacsv.ConvertOptions(column_types=dict.fromkeys(names, text),
                                       strings_can_be_null=True,
                                       quoted_strings_can_be_null=True,
                                       null_values=[""], check_utf8=True)
        try:
            return pacsv.open_csv(src.path, read_options=read, parse_options=parse,
                                  convert_options=convert)
        except UnicodeDecodeError:
            raise_undecodable(src.path, src.codec, None)
            raise
        except pa.ArrowInvalid as exc:
            raise self._csv_error(exc) from exc

    def _csv_error(self, exc: BaseException) -> DataError:
        src = self._text
        assert src is not None  # noqa: S101
        msg = str(exc)
        if "utf8" in msg.lower() or "utf-8" in msg.lower():
            raise_undecodable(src.path, src.codec, None)
        return DataError(
            f"{self.label}: cannot read the file as delimited text in batches "
            f"({msg.splitlines()[0][:200]}); every row needs as many cells as the header "
            "(read_responses fills short rows: use it when the file fits in memory)")

    def _csv_header(self) -> list[str]:
        import pyarrow as pa

        reader = self._csv_reader(block_size=1 << 16)
        try:
            first = reader.read_next_batch()
        except StopIteration:
            raise DataError(f"{self.label}: the file is empty") from None
        except pa.ArrowInvalid as exc:
            raise self._csv_error(exc) from exc
        return check_header([first.column(j)[0].as_py() for j in range(first.num_columns)],
                            self.label)

    def _csv_batches(self, cols: list[str]) -> Iterator[Any]:
        import pyarrow as pa

        src = self._text
        assert src is not None  # noqa: S101
        header = self.columns
        where = {name: j for j, name in enumerate(header)}
        pick = [where[c] for c in cols]
        # a block of text about batch_size rows long (pyarrow yields one batch per block)
        block = int(min(max(self.batch_size * src.bytes_per_row, 1024), 1 << 28))
        reader = self._csv_reader(block_size=block)
        first = True
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise self._csv_error(exc) from exc
            if first:
                batch = batch.slice(1)  # the header row
                first = False
            batch = pa.RecordBatch.from_arrays([batch.column(j) for j in pick], names=cols)
            for start in range(0, batch.num_rows, self.batch_size):
                yield batch.slice(start, self.batch_size)

    # -- DuckDB ------------------------------------------------------------------------
    def _duckdb_connect(self) -> tuple[Any, bool]:
        if _is_duckdb_connection(self.source):
            return self.source, False
        need_package("duckdb", "duckdb", self.label)
        import duckdb

        try:
            return duckdb.connect(str(self.source), read_only=True), True
        except duckdb.Error as exc:
            raise refuse(self.label, "DuckDB database", exc, Path(self.source),
                         "check that the file is the database you meant") from exc

    def _duckdb_result(self, con: Any) -> Any:
        import duckdb

        try:
            return con.sql(self.query)  # a relation: streamed by to_arrow_reader
        except duckdb.Error as exc:
            raise DataError(f"{self.label}: the query failed: {exc}") from exc

    def _duckdb_schema(self) -> list[str]:
        con, close = self._duckdb_connect()
        try:
            return list(self._duckdb_result(con).columns)  # nothing is run
        finally:
            if close:
                con.close()

    def _duckdb_batches(self, cols: list[str]) -> Iterator[Any]:
        import pyarrow as pa

        con, close = self._duckdb_connect()
        try:
            reader = _record_batches(self._duckdb_result(con), self.batch_size)
            names = None
            for batch in reader:
                if names is None:
                    names = column_names(batch.schema.names, self.label)
                    pick = [names.index(c) for c in cols]
                if batch.num_rows:
                    yield pa.RecordBatch.from_arrays([batch.column(j) for j in pick],
                                                     names=cols)
        finally:
            if close:
                con.close()


def _as_index(rows: Any) -> pd.Index:
    """Row numbers as an index: a RangeIndex when they are consecutive (as read_responses
    numbers the rows of a whole file)."""
    if isinstance(rows, pd.RangeIndex):
        return rows
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size and np.array_equal(rows, np.arange(rows[0], rows[0] + rows.size)):
        return pd.RangeIndex(int(rows[0]), int(rows[0]) + rows.size)
    return pd.Index(rows)


def _coded(col: Any) -> Coded:
    """A dictionary-encoded text column as :class:`Coded` (codes into its distinct cells)."""
    import pyarrow as pa

    if not pa.types.is_dictionary(col.type):  # an empty slice, or a plain text column
        col = col.dictionary_encode() if hasattr(col, "dictionary_encode") else col
    if isinstance(col, pa.Array):
        col = pa.chunked_array([col], type=col.type)
    if col.num_chunks == 0:
        return Coded(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))
    codes, dictionary = arrow_codes(col)
    distinct = np.asarray(dictionary.to_numpy(zero_copy_only=False), dtype=object)
    return Coded(codes, distinct)


class _IndexedText(TextColumns):
    """Text columns with row numbers other than 0..n-1 (a batch within the file)."""

    __slots__ = ("_index",)

    def __init__(self, columns: Sequence[str], data: Sequence[Coded], index: pd.Index):
        super().__init__(columns, data)
        self._index = index

    @property
    def index(self) -> pd.Index:
        return self._index


def _with_index(frame: TextColumns, index: pd.Index) -> TextColumns:
    return _IndexedText(frame.columns, frame.data, index)


def _record_batches(result: Any, batch_size: int) -> Any:
    """A DuckDB result as a stream of Arrow record batches (``to_arrow_reader`` in DuckDB
    2, ``record_batch`` before)."""
    if hasattr(result, "to_arrow_reader"):
        return result.to_arrow_reader(batch_size)
    return result.record_batch(batch_size)


def _typed_frame(table: Any, id_column: str | None) -> pd.DataFrame:
    """A typed Arrow table as the frame read_responses makes of it, faster: integer and
    floating item columns become float64 (NaN for null) - the numbers the cell rules give
    them - when every value is exact in float64; the id column and every other column are
    converted as read_responses converts them (integers with nulls as Python ints)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        t = col.type
        fast = name != id_column and (pa.types.is_floating(t) or (
            pa.types.is_integer(t) and (t.bit_width <= 32 or _within_2_53(col, pc))))
        if fast:
            out[name] = col.cast(pa.float64()).to_numpy(zero_copy_only=False) \
                if col.null_count or not pa.types.is_floating(t) else \
                col.to_numpy().astype("float64", copy=False)
        else:
            out[name] = pa.table({name: col}).to_pandas(integer_object_nulls=True)[name]
    frame = pd.DataFrame(out, copy=False)
    frame.columns = table.column_names
    return frame


def _within_2_53(col: Any, pc: Any) -> bool:
    """Whether every value of an integer column is exact as a float64."""
    lo, hi = pc.min_max(col).values()
    return all(v.as_py() is None or abs(v.as_py()) <= 2**53 for v in (lo, hi))
