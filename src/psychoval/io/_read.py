"""read_responses: many sources -> one ResponseTable.

Every cell is read as written (CONVENTIONS.md, "Missing data"): text files are parsed as text
only (no library's NA strings, no type guessing), ids keep their text, and each typed source
(Excel, Parquet, SQLite, DuckDB, a DataFrame) keeps its values' own types. The rules that
turn cells into numbers live in :mod:`psychoval.io._table`.

Length: every source's reader (text with two parsers, Excel, Parquet, SQLite, DuckDB, the long
layout) and the magic-byte diagnosis they share.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError
from psychoval.io._table import (
    Coded,
    MissingCodes,
    ResponseTable,
    TextColumns,
    list_names,
    show_id,
)

__all__ = ["read_responses"]

_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_SQLITE_SUFFIXES = {".sqlite", ".sqlite3", ".db"}
_DUCKDB_SUFFIXES = {".duckdb", ".ddb"}
_CHUNK_CELLS = 1_000_000  # text cells parsed at a time by the pandas parser (bounds memory)
_SAMPLE = 65536  # bytes read to find the encoding, the delimiter and the header
_ROW_NAMES = ""  # the header name R's write.csv gives the row-name column

# (offset, magic bytes, what the file is, the suffix psychoval reads it under)
_MAGIC = (
    (0, b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?)", ".xlsx"),
    (0, b"PAR1", "a Parquet file", ".parquet"),
    (0, b"SQLite format 3\x00", "a SQLite database", ".sqlite"),
    (8, b"DUCK", "a DuckDB database", ".duckdb"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-format Excel .xls workbook (OLE2)", None),
    (0, b"\x1f\x8b", "a gzip-compressed file", None),
    (0, b"%PDF", "a PDF document", None),
)
# byte-order marks, longest first (a UTF-32 LE mark starts with the UTF-16 LE one)
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)
_ENCODING_HINT = ("pass encoding=, e.g. encoding='cp1252' (Excel on Windows, Western "
                  "Europe) or encoding='latin-1'")


def read_responses(
    source: Any,
    *,
    id_column: str | None = None,
    items: Sequence[str] | None = None,
    layout: str = "wide",
    sheet: str | int | None = None,
    query: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    missing_codes: Sequence[str | float] | None = None,
    item_column: str = "item",
    response_column: str = "response",
) -> ResponseTable:
    """Read responses into a :class:`ResponseTable` (rows respondents, columns items).

    Cells are kept as written: a cell is missing only when it is empty (blank after
    trimming surrounding spaces), a missing value of a typed source (NULL, NaN), or listed
    in ``missing_codes``; text such as ``NA``, ``None`` or ``n/a`` is a code like any other
    (``pv.check_data`` reports it). Text that is a number is that number (``"4.0"`` is 4);
    the words ``true``/``false`` (any case) and boolean values of every source are 1 and 0.

    Parameters
    ----------
    source : DataFrame, path or str
        A pandas DataFrame, or a file: CSV/TSV/TXT (delimiter sniffed unless ``sep`` is given),
        XLSX (``sheet``), Parquet, SQLite (``.sqlite``/``.sqlite3``/``.db``, with ``query``) or
        DuckDB (``.duckdb``, with ``query``).
    id_column : str, optional
        Column of respondent ids, kept as written: text stays text (``"007"`` is not
        ``"7"``, ``"1e3"`` is not 1000), numbers of typed sources keep their type. Without
        it a DataFrame's index is kept, and the rows of a file are numbered from 0 (or, in a
        file written by R's ``write.csv``, the row names are the ids: see Notes). In the
        long layout it names the respondent column (default ``"respondent"``).
    items : sequence of str, optional
        Item columns to keep, in this order, each once. Default: every column but the id
        column.
    layout : {"wide", "long"}
        ``"wide"``: one row per respondent. ``"long"``: one row per response, with columns
        respondent (``id_column``), ``item_column`` and ``response_column``.
    sheet : str or int, optional
        Excel sheet (default: the first).
    query : str, optional
        SQL for SQLite and DuckDB sources.
    sep : str, optional
        Delimiter for text files; sniffed among ``, ; tab |`` when omitted.
    encoding : str, optional
        Encoding of a text file. Default: UTF-8, or the encoding its byte-order mark names
        (UTF-8 with a BOM, UTF-16 as Excel's "Unicode text", UTF-32). A file in another
        encoding (cp1252, latin-1) is refused with a message naming the line, unless given
        here.
    missing_codes : sequence of str or number, optional
        Codes that mean "missing" in every item column, e.g. ``[-99, "NA"]``. A number
        matches cells of that number (``-99`` and ``"-99.0"``); text matches a cell equal to
        it after trimming (case-sensitive). A framework may declare more (framework default
        and per item); they apply when scoring.
    item_column, response_column : str
        Column names of the long layout.

    Returns
    -------
    ResponseTable
        Numeric values (float64, NaN for missing) beside the raw cells: option letters and
        other text codes are kept in ``raw`` for scoring, never silently dropped;
        ``notes`` says what reading did beyond these rules.

    Raises
    ------
    DataError
        Empty file, no item columns, duplicate column names (also ``1`` and ``"1"``), an
        item listed twice in ``items``, a date/time column as an item, an id column that
        does not exist or has an empty cell, a long table with a duplicated (respondent,
        item) pair, an unknown file type, a text file that is not in the encoding given (or
        UTF-8), a file that is not what its name says (a corrupt workbook, a binary file
        named .csv, ...).

    Notes
    -----
    A header row whose first cell is empty (R's ``write.csv`` writes row names so, and
    pandas' ``to_excel`` its index) has row names in the first column: they become the
    respondent ids (or, with ``id_column``, are left out), and ``notes`` says so.

    Text files are parsed by pyarrow's CSV reader when pyarrow is installed (all cells as
    text), else by pandas' C parser; both give the same table. A row with fewer cells than
    the header has its last cells empty; a row with more is an error naming its line.

    Examples
    --------
    >>> import pandas as pd, psychoval as pv
    >>> df = pd.DataFrame({"id": ["007", "7"], "q1": [1, 2], "q2": ["3", "B"]})
    >>> table = pv.read_responses(df, id_column="id")
    >>> table.items, table.text_items, list(table.ids)
    (('q1', 'q2'), ('q2',), ['007', '7'])
    """
    return read_source(source, id_column=id_column, items=items, layout=layout, sheet=sheet,
                 query=query, sep=sep, encoding=encoding, missing_codes=missing_codes,
                 item_column=item_column, response_column=response_column)


def read_source(source: Any, *, id_column: str | None = None, items: Sequence[str] | None = None,
          layout: str = "wide", sheet: Any = None, query: str | None = None,
          sep: str | None = None, encoding: str | None = None, missing_codes: Any = None,
          item_column: str = "item", response_column: str = "response",
          id_if_present: bool = False) -> ResponseTable:
    """:func:`read_responses`; ``id_if_present=True`` uses ``id_column`` only when the
    source has that column (scoring by a framework whose id column may be absent)."""
    if layout not in ("wide", "long"):
        raise DataError(f"layout={layout!r} is not one of 'wide', 'long'")
    codes = MissingCodes.parse(missing_codes)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise DataError(
                f"encoding={encoding!r} is not an encoding Python knows; e.g. 'utf-8', "
                "'utf-16', 'cp1252', 'latin-1'"
            ) from None
    frame, label = _load(source, sheet=sheet, query=query, sep=sep, encoding=encoding,
                         wide=layout == "wide")
    notes: list[str] = []
    if label != "DataFrame" and len(frame.columns) > 1 and frame.columns[0] == _ROW_NAMES:
        what = (f"{label}: the header row's first cell is empty, so column 1 holds row names "
                "(as R's write.csv and pandas' to_excel write them)")
        if layout == "long" or id_column is not None:
            frame = frame.drop_first() if isinstance(frame, TextColumns) else \
                frame.iloc[:, 1:]
            ids_from = (f"the respondent column {id_column or 'respondent'!r}"
                        if layout == "long" else f"column {id_column!r}")
            notes.append(f"{what}: left out, the ids are {ids_from}")
        else:
            id_column = _ROW_NAMES
            notes.append(f"{what}: they are the respondent ids")
    if layout == "long":
        frame = _pivot_long(frame, label, respondent=id_column or "respondent",
                            item=item_column, response=response_column)
        id_column = frame.columns[0]
    elif id_if_present and id_column is not None and \
            id_column not in {str(c) for c in frame.columns}:
        id_column = None
    table = ResponseTable.from_frame(frame, id_column=id_column, items=items, source=label,
                                     missing_codes=codes)
    if id_column == _ROW_NAMES and layout == "wide":
        table._values.index.name = None
    table._notes = tuple(notes)
    return table


# -- loading ---------------------------------------------------------------------------


def _load(source: Any, *, sheet, query, sep, encoding=None,
          wide: bool = True) -> tuple[pd.DataFrame, str]:
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
        return _read_text(path, sep, encoding, compact=wide), label
    if suffix in _EXCEL_SUFFIXES:
        return _read_excel(path, sheet), label
    if suffix in _PARQUET_SUFFIXES:
        return _read_parquet(path), label
    if suffix in _SQLITE_SUFFIXES:
        return _read_sqlite(path, query, label), label
    if suffix in _DUCKDB_SUFFIXES:
        return _read_duckdb(path, query, label), label
    raise DataError(
        f"{label}: unknown file type {suffix!r}; psychoval reads .csv, .tsv, .txt, .xlsx, "
        ".parquet, .sqlite/.db (with query=) and .duckdb (with query=)"
    )


def need_package(module: str, extra: str, label: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise DataError(
            f"{label}: reading this file needs the optional package {module!r}; install it "
            f"with `pip install psychoval[{extra}]`"
        )


def _file_kind(head: bytes) -> tuple[str, str | None] | None:
    """What a file is by its first bytes (ZIP/XLSX, Parquet, SQLite, DuckDB, ...), or None."""
    for offset, magic, what, suffix in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return what, suffix
    return None


def _looks_like(path: Path) -> str:
    """A hint for a file its reader refused: what its first bytes say it is."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return ""
    kind = _file_kind(head)
    if kind is not None:
        what, suffix = kind
        if suffix == path.suffix.lower() or (suffix == ".xlsx" and
                                             path.suffix.lower() in _EXCEL_SUFFIXES):
            return f" (it starts like {what} but is damaged)"
        return f" (it is {what}" + (f": name it *{suffix})" if suffix else ")")
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                return ""
        return " (it looks like delimited text: name it *.csv)"
    return ""


def refuse(label: str, what: str, exc: BaseException, path: Path, fix: str) -> DataError:
    """A file its reader refused: what failed, what the file looks like, what to do."""
    text = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__
    return DataError(f"{label}: cannot read the file: {detail}; not a readable {what}"
                     f"{_looks_like(path)}; {fix}")


def check_header(cells: list[Any], label: str) -> list[str]:
    """The column names of a header row, or a DataError for a blank or duplicated name.

    A blank first cell (R's ``write.csv`` row names, pandas' ``to_excel`` index) is kept as
    the name ``""``; the caller takes that column as row names.
    """
    header = ["" if h is None or (isinstance(h, float) and np.isnan(h)) else
              str(h).strip() for h in cells]
    blank = [i + 1 for i, h in enumerate(header) if h == "" and (i > 0 or len(header) == 1)]
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


def _object_frame(header: list[str], columns: list[list[Any]]) -> pd.DataFrame:
    """A frame of object columns holding the values exactly (no dtype inference)."""
    data = {j: np.fromiter(col, dtype=object, count=len(col))
            for j, col in enumerate(columns)}
    frame = pd.DataFrame(data, copy=False)
    frame.columns = header
    return frame


def _header_frame(rows: list[Sequence[Any]], label: str) -> pd.DataFrame:
    """Make a frame from rows whose first row is the header, checking the header."""
    if not rows:
        raise DataError(f"{label}: the file is empty")
    header = check_header(list(rows[0]), label)
    if len(rows) == 1:
        raise DataError(f"{label}: the file has a header but no rows (no respondents)")
    body = rows[1:]
    if any(len(r) != len(header) for r in body):
        raise DataError(f"{label}: rows have other numbers of cells than the header")
    return _object_frame(header, [list(c) for c in zip(*body, strict=True)])


# -- text files --------------------------------------------------------------------------


def _codec(name: str) -> str:
    return codecs.lookup(name).name


def _family(codec: str) -> str:
    """'utf-8', 'utf-16' or 'utf-32' for the Unicode encodings (with or without a mark or
    byte order); the codec itself otherwise."""
    name = codec.replace("_", "-")
    for family in ("utf-8", "utf-16", "utf-32"):
        if name.startswith(family):
            return family
    return name


def decode_error(label: str, line: int, bad: bytes, encoding: str | None,
                  codec: str) -> DataError:
    shown = " ".join(f"0x{b:02x}" for b in bad[:4])
    if encoding is None:
        return DataError(
            f"{label}: line {line} is not valid UTF-8 (byte {shown}); the file is in another "
            f"encoding: {_ENCODING_HINT}"
        )
    return DataError(
        f"{label}: line {line} cannot be read as {encoding!r} (byte {shown}); check "
        "encoding= (UTF-8 files need none)"
    )


def _find_undecodable(path: Path, codec: str) -> tuple[int, bytes] | None:
    """The line and bytes of the first undecodable character of a file (streamed)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    line = 1
    with open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                start = max(exc.start - pending, 0)
                return line + block[:start].count(b"\n"), exc.object[exc.start:exc.end]
            if not block:
                return None
            line += block.count(b"\n")


def text_encoding(path: Path, head: bytes, encoding: str | None) -> tuple[str, bool]:
    """The codec to read a text file with, and whether it starts with a byte-order mark;
    refuses a binary file (named by its magic bytes when known)."""
    label = str(path)
    bom = next((enc for mark, enc in _BOMS if head.startswith(mark)), None)
    if bom is None:
        kind = _file_kind(head)
        if kind is not None:
            what, suffix = kind
            fix = f"name it *{suffix}" if suffix else "save the data as CSV"
            raise DataError(f"{label}: cannot read the file: it is {what}, not delimited "
                            f"text; {fix}")
    if encoding is None:
        codec = bom or "utf-8"
    else:
        codec = _codec(encoding)
        if bom is not None:
            if _family(codec) != _family(bom):
                raise DataError(
                    f"{label}: the file starts with a {_family(bom).upper()} byte-order mark, "
                    f"but encoding={encoding!r} was given; drop encoding= (the mark names "
                    "the encoding) or re-save the file"
                )
            codec = bom  # the mark is not part of the first cell
    if b"\x00" in head and not codec.startswith(("utf-16", "utf-32", "utf_16", "utf_32")):
        raise DataError(
            f"{label}: cannot read the file: it holds NUL bytes, so it is not text in "
            f"{codec!r} (a binary file, or UTF-16 text without a byte-order mark); if it is "
            "UTF-16 text pass encoding='utf-16-le' (or 'utf-16-be'), else save the data as CSV"
        )
    return codec, bom is not None


def sniff(text: str, path: Path, sep: str | None) -> tuple[str, list[str]]:
    """The delimiter and the first record (the header) of a text sample."""
    body = text.lstrip("\r\n")
    if sep is None:
        if path.suffix.lower() in (".tsv", ".tab"):
            sep = "\t"
        else:
            try:
                sep = csv.Sniffer().sniff(body[:_SAMPLE], delimiters=",;\t|").delimiter
            except csv.Error:
                sep = ","
    try:
        first = next(csv.reader(io.StringIO(body), delimiter=sep), [])
    except csv.Error:
        first = body.split("\n", 1)[0].split(sep)
    return sep, first


def text_head(path: Path, sep: str | None, encoding: str | None
              ) -> tuple[bytes, str, str, list[str]]:
    """The first ``_SAMPLE`` bytes of a text file, its codec, delimiter and header record:
    ``(head, codec, sep, header)``. Raises when the head does not decode, is blank, or
    ``sep`` is not one character."""
    label = str(path)
    with open(path, "rb") as fh:
        head = fh.read(_SAMPLE)
    codec, _ = text_encoding(path, head, encoding)
    try:
        sample = codecs.getincrementaldecoder(codec)(errors="strict").decode(
            head, final=len(head) < _SAMPLE)
    except UnicodeDecodeError as exc:
        line = head[:exc.start].count(b"\n") + 1
        raise decode_error(label, line, exc.object[exc.start:exc.end], encoding,
                           codec) from None
    if not sample.strip():
        raise DataError(f"{label}: the file is empty")
    if sep is not None and (not isinstance(sep, str) or len(sep) != 1):
        raise DataError(f"sep={sep!r} must be one character, e.g. ',' or ';' or '\\t'")
    sep, first = sniff(sample, path, sep)
    return head, codec, sep, first


def _read_text(path: Path, sep: str | None, encoding: str | None = None, *,
               compact: bool = True) -> TextColumns | pd.DataFrame:
    """Read delimited text: every cell as the text written (empty when blank), the first
    row the header.

    Each column is kept as codes into its distinct cells (:class:`TextColumns`), so no
    Python object is held per cell; ``compact=False`` gives a frame of plain object columns
    (None for an empty cell).
    """
    label = str(path)
    _head, codec, sep, first = text_head(path, sep, encoding)
    width = max(len(first), 1)
    parsed = _arrow_text(path, sep, codec, width, encoding) if _arrow_available() else None
    if parsed is None:
        parsed = _pandas_text(path, sep, codec, encoding, width)
    header_cells, cols = parsed
    if header_cells is None:
        raise DataError(f"{label}: the file is empty")
    header = check_header(header_cells, label)
    if not cols or len(cols[0]) == 0:
        raise DataError(f"{label}: the file has a header but no rows (no respondents)")
    table = TextColumns(header, cols)
    return table if compact else table.to_frame()


def _arrow_available() -> bool:
    try:
        import pyarrow.csv  # noqa: F401
    except ImportError:
        return False
    return True


def _arrow_text(path: Path, sep: str, codec: str, width: int, encoding: str | None
                ) -> tuple[list[Any] | None, list[Coded]] | None:
    """Parse with pyarrow's CSV reader, every cell as text (dictionary-encoded). None when
    pyarrow cannot parse the file as it stands (rows of other lengths, a quoted line break
    at a block boundary): the pandas parser then reads it, filling short rows and naming
    the line of a long one."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    names = [f"f{j}" for j in range(width)]
    text = pa.dictionary(pa.int32(), pa.string())
    read = pacsv.ReadOptions(column_names=names,
                             encoding="utf8" if codec in ("utf-8", "utf-8-sig") else codec)
    parse = pacsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True,
                               escape_char=False, newlines_in_values=False,
                               ignore_empty_lines=True)
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(names, text),
                                   strings_can_be_null=True, quoted_strings_can_be_null=True,
                                   null_values=[""], check_utf8=True)
    try:
        table = pacsv.read_csv(path, read_options=read, parse_options=parse,
                               convert_options=convert)
    except UnicodeDecodeError:
        raise_undecodable(path, codec, encoding)
        return None
    except pa.ArrowInvalid as exc:
        if "utf8" in str(exc).lower() or "utf-8" in str(exc).lower():
            raise_undecodable(path, codec, encoding)
        return None
    if table.num_rows == 0:
        return None, []
    header: list[Any] = []
    cols: list[Coded] = []
    for _ in range(width):
        col = table.column(0)
        table = table.remove_column(0)  # free each column once converted
        codes, dictionary = arrow_codes(col)
        del col
        # cells as written; when none has surrounding spaces (the rule is Python's
        # str.strip, applied later otherwise) the column is known clean
        stripped = pc.all(pc.equal(pc.utf8_trim_whitespace(dictionary), dictionary)).as_py()
        distinct = np.asarray(dictionary.to_numpy(zero_copy_only=False), dtype=object)
        header.append(None if codes[0] < 0 else distinct[codes[0]])
        body = codes[1:]
        if distinct.size <= max(1024, body.size // 16):  # few distinct cells: each once
            glob, uniques = pd.factorize(distinct)
            distinct = np.asarray(uniques, dtype=object)
            body = np.append(glob, -1).astype(_code_dtype(distinct.size))[body]
        else:
            body = body.astype(_code_dtype(distinct.size))
        cols.append(Coded(body, distinct, stripped=stripped is not False))
    pa.default_memory_pool().release_unused()
    return header, cols


def arrow_codes(col: Any) -> tuple[np.ndarray, Any]:
    """Codes (-1 = null) of a chunked dictionary column into the chunks' dictionaries laid
    end to end (one dictionary per chunk; nothing is hashed again)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = col.chunks
    codes = np.empty(len(col), dtype=np.int64)
    start = offset = 0
    for chunk in chunks:
        n = len(chunk)
        if chunk.null_count == 0:
            np.add(chunk.indices.to_numpy(), offset, out=codes[start:start + n])
        else:
            part = pc.fill_null(chunk.indices, -1).to_numpy()
            codes[start:start + n] = np.where(part < 0, -1, part + offset)
        start += n
        offset += len(chunk.dictionary)
    dictionary = pa.concat_arrays([c.dictionary for c in chunks]) if len(chunks) > 1 else \
        chunks[0].dictionary
    return codes, dictionary


def raise_undecodable(path: Path, codec: str, encoding: str | None) -> None:
    found = _find_undecodable(path, codec)
    if found is not None:
        line, bad = found
        raise decode_error(str(path), line, bad, encoding, codec) from None


def _pandas_text(path: Path, sep: str, codec: str, encoding: str | None, width: int
                 ) -> tuple[list[Any] | None, list[Coded]]:
    """Parse with pandas' C parser in chunks, every cell as text; a chunk's columns are
    coded into their distinct cells at once, so memory holds codes, not Python strings."""
    label = str(path)
    first: list[Any] | None = None
    local: list[list[np.ndarray]] = []  # per column and chunk: codes into the chunk's cells
    cells: list[list[np.ndarray]] = []  # per column and chunk: its distinct cells
    try:
        with pd.read_csv(path, sep=sep, header=None, dtype=object, keep_default_na=False,
                         na_values=[], na_filter=True, encoding=codec, quotechar='"',
                         skip_blank_lines=True, engine="c", encoding_errors="strict",
                         chunksize=max(1000, _CHUNK_CELLS // width)) as reader:
            for chunk in reader:
                block = chunk.to_numpy(dtype=object)
                if first is None:
                    first = [v if isinstance(v, str) and v else None for v in block[0]]
                    block = block[1:]
                    local = [[] for _ in range(block.shape[1])]
                    cells = [[] for _ in range(block.shape[1])]
                for j in range(block.shape[1]):
                    col = block[:, j]
                    # an empty cell ("") and the absent cells of a short row (NaN) are empty
                    empty = pd.isna(col) | (col == "")
                    codes, distinct = pd.factorize(np.where(empty, None, col))
                    local[j].append(codes.astype(_code_dtype(distinct.size)))
                    cells[j].append(np.asarray(distinct, dtype=object))
    except pd.errors.EmptyDataError:
        return None, []
    except pd.errors.ParserError as exc:
        raise DataError(f"{label}: cannot parse the file as delimited text ({exc}); every "
                        "row needs as many cells as the header") from exc
    except UnicodeDecodeError:
        raise_undecodable(path, codec, encoding)
        raise
    if first is None:
        return None, []
    cols = []
    for codes, distinct in zip(local, cells, strict=True):
        # the chunks' distinct cells, coded once for the whole column
        glob, uniques = pd.factorize(np.concatenate(distinct) if distinct else
                                     np.zeros(0, dtype=object))
        uniques = np.asarray(uniques, dtype=object)
        dtype = _code_dtype(uniques.size)
        parts, start = [], 0
        for part, d in zip(codes, distinct, strict=True):
            parts.append(np.append(glob[start:start + d.size], -1).astype(dtype)[part])
            start += d.size
        all_codes = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
        cols.append(Coded(all_codes, uniques))
    return first, cols


def _code_dtype(n_codes: int) -> np.dtype:
    """The smallest signed integer type holding codes 0..n_codes - 1 and -1 (NA)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_codes <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


# -- typed sources -----------------------------------------------------------------------


def _read_excel(path: Path, sheet) -> pd.DataFrame:
    """Read a sheet with openpyxl: every cell's own value (numbers, text, booleans, dates;
    None when empty), no NA strings."""
    label = str(path)
    need_package("openpyxl", "excel", label)
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or mislabelled file raises what its parser met
        raise refuse(label, "Excel workbook (.xlsx)", exc, path,
                      "open and re-save it in Excel, or export the sheet as CSV") from exc
    try:
        names = book.sheetnames
        if sheet is None:
            sheet = 0
        if isinstance(sheet, (int, np.integer)) and not isinstance(sheet, bool):
            if not 0 <= int(sheet) < len(names):
                raise DataError(
                    f"{label}: no sheet number {int(sheet)} (sheets are numbered from 0); its "
                    f"sheets are {list_names(names)}"
                )
            ws = book[names[int(sheet)]]
        elif isinstance(sheet, str) and sheet in names:
            ws = book[sheet]
        else:
            raise DataError(f"{label}: no sheet {sheet!r}; its sheets are {list_names(names)}")
        try:
            ws.reset_dimensions()  # some writers record a wrong used range
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
        except Exception as exc:
            raise refuse(label, "Excel workbook (.xlsx)", exc, path,
                          "open and re-save it in Excel, or export the sheet as CSV") from exc
    finally:
        book.close()
    rows = [r for r in rows if any(v is not None for v in r)]
    if not rows:
        raise DataError(f"{label}: the sheet is empty")
    width = max(len(r) for r in rows)
    rows = [r + [None] * (width - len(r)) for r in rows]
    while width > 1 and all(r[width - 1] is None for r in rows):
        width -= 1  # trailing columns with nothing in them
    return _header_frame([r[:width] for r in rows], label)


def _read_parquet(path: Path) -> pd.DataFrame:
    label = str(path)
    need_package("pyarrow", "parquet", label)
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise refuse(label, "Parquet file", exc, path,
                      "re-export it, or save the data as CSV") from exc
    # integer columns with nulls stay integers (pandas' nullable Int64), never float-coerced
    return table.to_pandas(integer_object_nulls=True)


def _check_query(query: str | None, label: str, tables: list[str]) -> str:
    if not query:
        raise DataError(
            f"{label}: a database source needs query=, e.g. query='SELECT * FROM responses'; "
            f"its tables are {list_names(tables)}"
        )
    return query


def _sqlite_uri(path: Path) -> str:
    """A read-only ``file:`` URI for ``path``: ``#``, ``?``, ``%`` and spaces are quoted,
    so the name opens that file and no other (and never creates one)."""
    return path.resolve().as_uri() + "?mode=ro"


def _read_sqlite(path: Path, query: str | None, label: str) -> pd.DataFrame:
    import sqlite3

    try:
        con = sqlite3.connect(_sqlite_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise refuse(label, "SQLite database", exc, path, "check the path") from exc
    try:
        try:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")]
        except sqlite3.DatabaseError as exc:
            raise refuse(label, "SQLite database", exc, path,
                          "check that the file is the database you meant") from exc
        query = _check_query(query, label, tables)
        try:
            cur = con.execute(query)
            rows = cur.fetchall()
        except sqlite3.Error as exc:
            raise DataError(f"{label}: the query failed: {exc}; tables are {list_names(tables)}") from exc
        cols = [d[0] for d in cur.description or []]
        return _header_frame([cols] + rows, label)
    finally:
        con.close()


def _read_duckdb(path: Path, query: str | None, label: str) -> pd.DataFrame:
    need_package("duckdb", "duckdb", label)
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise refuse(label, "DuckDB database", exc, path,
                      "check that the file is the database you meant") from exc
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()]
        query = _check_query(query, label, tables)
        try:
            cur = con.execute(query)
            rows = cur.fetchall()
        except duckdb.Error as exc:
            raise DataError(f"{label}: the query failed: {exc}") from exc
        cols = [d[0] for d in cur.description or []]
        return _header_frame([cols] + rows, label)
    finally:
        con.close()


# -- the long layout ---------------------------------------------------------------------


def _pivot_long(frame: pd.DataFrame, label: str, *, respondent: str, item: str,
                response: str) -> pd.DataFrame:
    cols = pd.Index([str(c) for c in frame.columns])
    absent = [c for c in (respondent, item, response) if c not in cols]
    if absent:
        raise DataError(
            f"{label}: long layout needs columns {respondent!r}, {item!r} and {response!r}; "
            f"{', '.join(map(repr, absent))} missing (columns are {list_names(cols)}); "
            "name them with id_column=, item_column=, response_column="
        )
    pick = {name: frame.iloc[:, list(cols).index(name)] for name in (respondent, item, response)}
    who = _long_ids(pick[respondent], respondent, label)
    names = pick[item].to_numpy(dtype=object)
    what = np.asarray([None if v is None or (isinstance(v, float) and np.isnan(v)) or
                       (isinstance(v, str) and not v.strip()) else str(v).strip()
                       for v in names], dtype=object)
    blank = np.flatnonzero(pd.isna(what))
    if blank.size:
        raise DataError(
            f"{label}: row {int(blank[0]) + 1} of the long table has no item name (column "
            f"{item!r}); fill it or drop the row"
        )
    long = pd.DataFrame({respondent: who, item: what,
                         response: pick[response].to_numpy(dtype=object)})
    dup = long.duplicated([respondent, item], keep=False).to_numpy()
    if dup.any():
        r = int(np.flatnonzero(dup)[0])
        n = int(long.duplicated([respondent, item]).sum())
        raise DataError(
            f"{label}: respondent {show_id(who[r])} answered item {what[r]!r} more than "
            f"once ({n} duplicated (respondent, item) pair(s) in all); keep one response per pair"
        )
    resp_codes, resp_order = pd.factorize(pd.Series(who, dtype=object))
    item_codes, item_order = pd.factorize(pd.Series(what, dtype=object))
    if respondent in set(item_order):
        raise DataError(
            f"{label}: an item is named {respondent!r}, as the respondent column; rename it"
        )
    wide = np.full((len(resp_order), len(item_order)), None, dtype=object)
    wide[resp_codes, item_codes] = long[response].to_numpy(dtype=object)
    out = {respondent: pd.Series(np.asarray(resp_order, dtype=object), dtype=object)}
    for j, name in enumerate(item_order):
        out[name] = pd.Series(wide[:, j], dtype=object)
    return pd.DataFrame(out)


def _long_ids(col: pd.Series, name: str, label: str) -> np.ndarray:
    """The respondent column of a long table as an object array of ids (as written)."""
    from psychoval.io._table import normalise_ids

    return np.asarray(normalise_ids(col, name, source=label), dtype=object)
