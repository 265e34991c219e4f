"""read_responses: many sources -> one ResponseTable."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError
from psychoval.io._table import ResponseTable, _list_names

__all__ = ["read_responses"]

_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_SQLITE_SUFFIXES = {".sqlite", ".sqlite3", ".db"}
_DUCKDB_SUFFIXES = {".duckdb", ".ddb"}
_CHUNK_CELLS = 1_000_000  # text cells parsed at a time (bounds the memory of the parsed text)


def read_responses(
    source: Any,
    *,
    id_column: str | None = None,
    items: Sequence[str] | None = None,
    layout: str = "wide",
    sheet: str | int | None = None,
    query: str | None = None,
    sep: str | None = None,
    item_column: str = "item",
    response_column: str = "response",
) -> ResponseTable:
    """Read responses into a :class:`ResponseTable` (rows respondents, columns items).

    Parameters
    ----------
    source : DataFrame, path or str
        A pandas DataFrame, or a file: CSV/TSV/TXT (delimiter sniffed unless ``sep`` is given),
        XLSX (``sheet``), Parquet, SQLite (``.sqlite``/``.sqlite3``/``.db``, with ``query``) or
        DuckDB (``.duckdb``, with ``query``).
    id_column : str, optional
        Column of respondent ids. Without it rows are numbered from 0. In the long layout it
        names the respondent column (default ``"respondent"``).
    items : sequence of str, optional
        Item columns to keep, in this order. Default: every column but the id column.
    layout : {"wide", "long"}
        ``"wide"``: one row per respondent. ``"long"``: one row per response, with columns
        respondent (``id_column``), ``item_column`` and ``response_column``.
    sheet : str or int, optional
        Excel sheet (default: the first).
    query : str, optional
        SQL for SQLite and DuckDB sources.
    sep : str, optional
        Delimiter for text files; sniffed among ``, ; tab |`` when omitted.
    item_column, response_column : str
        Column names of the long layout.

    Returns
    -------
    ResponseTable
        Numeric values (float64, NaN for missing) beside the raw cells: option letters and
        other text codes are kept in ``raw`` for scoring, never silently dropped.

    Raises
    ------
    DataError
        Empty file, no item columns, duplicate column names, an id column that does not exist,
        a long table with a duplicated (respondent, item) pair, an unknown file type.

    Examples
    --------
    >>> import pandas as pd, psychoval as pv
    >>> df = pd.DataFrame({"id": [7, 8], "q1": [1, 2], "q2": ["3", "B"]})
    >>> table = pv.read_responses(df, id_column="id")
    >>> table.items, table.text_items
    (('q1', 'q2'), ('q2',))
    """
    if layout not in ("wide", "long"):
        raise DataError(f"layout={layout!r} is not one of 'wide', 'long'")
    frame, label = _load(source, sheet=sheet, query=query, sep=sep, wide=layout == "wide")
    if layout == "long":
        frame = _pivot_long(frame, label, respondent=id_column or "respondent",
                            item=item_column, response=response_column)
        id_column = frame.columns[0]
    return ResponseTable.from_frame(frame, id_column=id_column, items=items, source=label)


# -- loading ---------------------------------------------------------------------------


def _load(source: Any, *, sheet, query, sep, wide: bool = True) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return source, "DataFrame"
    if isinstance(source, ResponseTable):
        raise DataError("source is already a ResponseTable; use it directly")
    if not isinstance(source, (str, os.PathLike)):
        raise DataError(
            f"cannot read responses from a {type(source).__name__}; pass a DataFrame or the "
            "path of a CSV, TSV, XLSX, Parquet, SQLite or DuckDB file"
        )
    path = Path(source)
    label = str(path)
    if not path.exists():
        raise DataError(f"{label}: no such file")
    if path.is_dir():
        raise DataError(f"{label}: is a folder, not a file")
    if path.stat().st_size == 0:
        raise DataError(f"{label}: the file is empty")
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        return _read_text(path, sep, compact=wide), label
    if suffix in _EXCEL_SUFFIXES:
        return _read_excel(path, sheet), label
    if suffix in _PARQUET_SUFFIXES:
        _need("pyarrow", "parquet", label)
        return pd.read_parquet(path), label
    if suffix in _SQLITE_SUFFIXES:
        return _read_sqlite(path, query, label), label
    if suffix in _DUCKDB_SUFFIXES:
        return _read_duckdb(path, query, label), label
    raise DataError(
        f"{label}: unknown file type {suffix!r}; psychoval reads .csv, .tsv, .txt, .xlsx, "
        ".parquet, .sqlite/.db (with query=) and .duckdb (with query=)"
    )


def _need(module: str, extra: str, label: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise DataError(
            f"{label}: reading this file needs the optional package {module!r}; install it "
            f"with `pip install psychoval[{extra}]`"
        )


def _check_header(cells: list[Any], label: str) -> list[str]:
    """The column names of a header row, or a DataError for a blank or duplicated name."""
    header = ["" if h is None or (isinstance(h, float) and np.isnan(h)) else str(h).strip()
              for h in cells]
    blank = [i + 1 for i, h in enumerate(header) if h == "" or h.lower() == "nan"]
    if blank:
        raise DataError(
            f"{label}: column {blank[0]} of the header row has no name; give every column a name"
        )
    seen: set[str] = set()
    dup = [h for h in header if h in seen or seen.add(h)]
    if dup:
        raise DataError(
            f"{label}: duplicate column name(s) {', '.join(map(repr, dict.fromkeys(dup)))}; "
            "every item needs a unique name: rename the duplicates"
        )
    return header


def _header_frame(rows: list[list[Any]], label: str) -> pd.DataFrame:
    """Make a frame from rows whose first row is the header, checking the header."""
    if not rows:
        raise DataError(f"{label}: the file is empty")
    header = _check_header(rows[0], label)
    if len(rows) == 1:
        raise DataError(f"{label}: the file has a header but no rows (no respondents)")
    return pd.DataFrame(rows[1:], columns=header)


def _read_text(path: Path, sep: str | None, *, compact: bool = True) -> pd.DataFrame:
    """Read delimited text: every cell as written (text, or NA when empty or one of pandas'
    NA strings), the first row the header.

    The file is parsed in chunks and each column is kept as codes into its distinct cells
    (a categorical column), so no Python object is held per cell; ``compact=False`` gives
    plain object columns (None for NA).
    """
    label = str(path)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        sample = fh.read(65536)
    if not sample.strip():
        raise DataError(f"{label}: the file is empty")
    if sep is None:
        if path.suffix.lower() in (".tsv", ".tab"):
            sep = "\t"
        else:
            try:
                sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
            except csv.Error:
                sep = ","
    width = sample.lstrip("\r\n").split("\n", 1)[0].count(sep) + 1
    first: list[Any] | None = None
    local: list[list[np.ndarray]] = []  # per column and chunk: codes into the chunk's cells
    cells: list[list[np.ndarray]] = []  # per column and chunk: its distinct cells
    try:
        with pd.read_csv(path, sep=sep, header=None, dtype=object, keep_default_na=True,
                         encoding="utf-8-sig", skip_blank_lines=True,
                         chunksize=max(1000, _CHUNK_CELLS // width)) as reader:
            for chunk in reader:
                block = chunk.to_numpy(dtype=object)
                if first is None:
                    first = block[0].tolist()
                    block = block[1:]
                    local = [[] for _ in range(block.shape[1])]
                    cells = [[] for _ in range(block.shape[1])]
                for j in range(block.shape[1]):
                    codes, distinct = pd.factorize(block[:, j])
                    local[j].append(codes.astype(_code_dtype(distinct.size)))
                    cells[j].append(distinct)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{label}: the file is empty") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{label}: cannot parse the file as delimited text ({exc})") from exc
    if first is None:
        raise DataError(f"{label}: the file is empty")
    header = _check_header(first, label)
    n_rows = sum(len(c) for c in local[0]) if local else 0
    if n_rows == 0:
        raise DataError(f"{label}: the file has a header but no rows (no respondents)")
    columns = {}
    for name, codes, distinct in zip(header, local, cells, strict=True):
        # the chunks' distinct cells, coded once for the whole column
        glob, uniques = pd.factorize(np.concatenate(distinct))
        dtype = _code_dtype(uniques.size)
        glob = glob.astype(dtype)
        parts, start = [], 0
        for part, d in zip(codes, distinct, strict=True):
            parts.append(np.append(glob[start:start + d.size], dtype.type(-1))[part])
            start += d.size
        columns[name] = pd.Categorical.from_codes(
            np.concatenate(parts), validate=False,
            dtype=pd.CategoricalDtype(pd.Index(uniques, dtype=object)))
    frame = pd.DataFrame(columns, columns=header)
    if not compact:
        rows = frame.astype(object).where(frame.notna(), None).values.tolist()
        return pd.DataFrame(rows, columns=header)
    return frame


def _code_dtype(n_codes: int) -> np.dtype:
    """The smallest signed integer type holding codes 0..n_codes - 1 and -1 (NA)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_codes <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def _read_excel(path: Path, sheet) -> pd.DataFrame:
    label = str(path)
    _need("openpyxl", "excel", label)
    try:
        raw = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, header=None,
                            dtype=object)
    except ValueError as exc:
        raise DataError(f"{label}: cannot read sheet {sheet!r} ({exc})") from exc
    raw = raw.dropna(how="all")
    if raw.shape[0] == 0:
        raise DataError(f"{label}: the sheet is empty")
    return _header_frame(raw.where(raw.notna(), None).values.tolist(), label)


def _check_query(query: str | None, label: str, tables: list[str]) -> str:
    if not query:
        raise DataError(
            f"{label}: a database source needs query=, e.g. query='SELECT * FROM responses'; "
            f"its tables are {_list_names(tables)}"
        )
    return query


def _read_sqlite(path: Path, query: str | None, label: str) -> pd.DataFrame:
    import sqlite3

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")]
        except sqlite3.DatabaseError as exc:
            raise DataError(f"{label}: not a SQLite database ({exc})") from exc
        query = _check_query(query, label, tables)
        try:
            cur = con.execute(query)
        except sqlite3.Error as exc:
            raise DataError(f"{label}: the query failed: {exc}; tables are {_list_names(tables)}") from exc
        cols = [d[0] for d in cur.description or []]
        return _header_frame([cols] + [list(r) for r in cur.fetchall()], label)
    finally:
        con.close()


def _read_duckdb(path: Path, query: str | None, label: str) -> pd.DataFrame:
    _need("duckdb", "duckdb", label)
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        query = _check_query(query, label, tables)
        try:
            cur = con.execute(query)
        except duckdb.Error as exc:
            raise DataError(f"{label}: the query failed: {exc}") from exc
        cols = [d[0] for d in cur.description or []]
        return _header_frame([cols] + [list(r) for r in cur.fetchall()], label)
    finally:
        con.close()


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value, so messages echo ``1`` rather than ``np.int64(1)``."""
    return value.item() if hasattr(value, "item") else value


def _pivot_long(frame: pd.DataFrame, label: str, *, respondent: str, item: str,
                response: str) -> pd.DataFrame:
    cols = pd.Index(frame.columns).astype(str)
    absent = [c for c in (respondent, item, response) if c not in cols]
    if absent:
        raise DataError(
            f"{label}: long layout needs columns {respondent!r}, {item!r} and {response!r}; "
            f"{', '.join(map(repr, absent))} missing (columns are {_list_names(cols)}); "
            "name them with id_column=, item_column=, response_column="
        )
    long = frame.copy()
    long.columns = cols
    long[item] = long[item].map(lambda v: str(v).strip())
    dup = long.duplicated([respondent, item], keep=False)
    if dup.any():
        first = long.loc[dup, [respondent, item]].iloc[0]
        n = int(long.duplicated([respondent, item]).sum())
        raise DataError(
            f"{label}: respondent {_plain(first[respondent])!r} answered item {first[item]!r} more than "
            f"once ({n} duplicated (respondent, item) pair(s) in all); keep one response per pair"
        )
    resp_order = pd.unique(long[respondent])
    item_order = pd.unique(long[item])
    wide = long.pivot(index=respondent, columns=item, values=response)
    wide = wide.reindex(index=resp_order, columns=item_order)
    wide.columns.name = None
    wide.index.name = respondent
    return wide.reset_index()
