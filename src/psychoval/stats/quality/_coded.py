"""The short path of a streaming pass: Arrow batches as small integer response codes.

Most large response files hold whole-number answers on each item's declared range, one column
per item. Such a batch need not become a :class:`ResponseTable`: every column is turned into
one code per respondent, ``0`` for missing and ``value - min + 1`` for an answer, by a few
Arrow kernels. Per competency, the codes of a row are one number in a mixed radix, and the
pass counts those numbers (one ``np.bincount`` per competency and batch). The table of
distinct response vectors and their counts is a sufficient statistic of everything the pass
computes: the item response counts and means, each competency's moments and missingness-
pattern moments (built once at the end with frequency weights), and nothing is rounded.

A batch takes the long path (the cell rules of :func:`psychoval.read_responses` and
:func:`psychoval.check_data`, with the invalid cells named) when any of its cells is not a
whole answer in its item's range, a declared missing code or empty (a fraction, a number out
of range, an unknown label or option), or a respondent id is missing; a framework takes it
always when an item is rated by several raters or has a range that is not whole numbers.
Text cells (delimited files, labels, multiple-choice options) are decoded once per distinct
cell by those same rules (:meth:`Coder._cell_codes`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from psychoval.exceptions import PsychovalError
from psychoval.framework._framework import Framework
from psychoval.framework._scoring import missing_codes_of, reverse_score

__all__ = ["Coder", "PatternCounts"]

MAX_LEVELS = 120  # answers per item on the short path (codes are int8)
DENSE = 1 << 22  # competencies with at most this many code vectors are counted densely


class Coder:
    """Per batch, the (columns, rows) int8 codes of a framework's items, or None when the
    batch must take the long path. ``usable`` is False when the framework itself rules the
    short path out (``reason`` says why).

    Two routes to a column's codes: a numeric column of an item with a numeric range is
    checked and shifted by Arrow kernels (:func:`_column_codes`); any other column (text,
    as every cell of a delimited file is read; a multiple-choice item's options) is
    dictionary-encoded, and each distinct cell is decoded once by the cell rules of
    :func:`psychoval.read_responses` and :func:`psychoval.score` themselves (a one-row-per-cell
    table through the scan's own conversion, cached per column), so both paths read every
    cell alike. A multiple-choice item's code is its option's position (``1..options``).
    """

    def __init__(self, framework: Framework, scan: Any = None):
        self.framework = framework
        self.scan = scan
        self.columns: list[str] = []
        self.items: list[Any] = []
        self.lo: list[int] = []
        self.levels: list[int] = []
        self.missing: list[tuple[float, ...]] = []
        self.reason = ""
        scan_missing = getattr(scan, "missing_codes", None)
        scan_numbers = tuple(getattr(scan_missing, "numbers", ()) or ())
        for item in framework.items:
            why = _why_not(item)
            if why:
                self.reason = f"item {item.id!r} {why}"
                break
            self.columns.append(item.id)
            self.items.append(item)
            if item.type == "multiple_choice":
                self.lo.append(1)
                self.levels.append(len(item.options))
            else:
                self.lo.append(int(item.min))
                self.levels.append(int(item.max) - int(item.min) + 1)
            codes = missing_codes_of(item)
            self.missing.append(tuple(float(v) for v in (*scan_numbers, *codes.numbers)))
        self.usable = not self.reason
        self.position = {c: j for j, c in enumerate(self.columns)}
        self.cells: list[dict[Any, int | None]] = [{} for _ in self.columns]

    def codes(self, batch: Any) -> np.ndarray | None:
        """The codes of a record batch (columns in framework order), or None."""
        import pyarrow as pa

        if not self.usable:
            return None
        out = np.empty((len(self.columns), batch.num_rows), dtype=np.int8)
        names = batch.schema.names
        shifted: list[tuple[int, Any]] = []  # integer columns shifted, checked below at once
        for j, name in enumerate(self.columns):
            if name not in names:
                return None
            col = batch.column(names.index(name))
            if pa.types.is_integer(col.type) and self.items[j].type != "multiple_choice":
                if _shift_into(out[j], col, self.lo[j], self.levels[j]):
                    shifted.append((j, col))
                    continue
            numeric = pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
            if numeric and self.items[j].type != "multiple_choice":
                codes = _column_codes(col, self.lo[j], self.lo[j] + self.levels[j] - 1,
                                      self.missing[j])
            else:
                codes = self._cell_codes(col, j, batch)
            if codes is None:
                return None
            out[j] = codes
        if shifted:
            # a shifted column holds codes when every code is 0..levels and its zeros are its
            # nulls (a value of min - 1 also shifts to 0); otherwise the kernels decide
            rows = np.array([j for j, _ in shifted])
            block = out[rows]
            bad = ((block.min(axis=1) < 0)
                   | (block.max(axis=1) > np.asarray(self.levels)[rows])
                   | (np.add.reduce((block == 0).view(np.int8), axis=1, dtype=np.int64)
                      != np.array([c.null_count for _, c in shifted])))
            for j, col in (shifted[i] for i in np.flatnonzero(bad)):
                codes = _column_codes(col, self.lo[j], self.lo[j] + self.levels[j] - 1,
                                      self.missing[j])
                if codes is None:
                    return None
                out[j] = codes
        return out

    def _cell_codes(self, col: Any, j: int, batch: Any) -> np.ndarray | None:
        """Codes of a column through its distinct cells (each decoded once)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.scan is None:
            return None
        if not pa.types.is_dictionary(col.type):
            try:
                col = pc.dictionary_encode(col)
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
                return None
        cells = col.dictionary.to_pylist()
        known = self.cells[j]
        new = [c for c in cells if c not in known]
        if new:
            self._decode_cells(j, new, col.dictionary.type, batch)
        lut = np.array([-1 if known.get(c) is None else known[c] for c in cells] + [0],
                       dtype=np.int16)
        idx = col.indices.fill_null(len(cells)).to_numpy(zero_copy_only=False)
        codes = lut[idx]
        if (codes < 0).any():  # a cell that is not a whole answer: the long path names it
            return None
        return codes.astype(np.int8)

    def _decode_cells(self, j: int, cells: list[Any], cell_type: Any, batch: Any) -> None:
        """Decode ``cells`` of column ``j`` by the scan's conversion and the item's rules
        (one row per cell, the other columns empty) and remember their codes (None: a cell
        the short path cannot code)."""
        import pyarrow as pa

        from psychoval.framework._scoring import MISSING, OK, decode_column

        n = len(cells)
        arrays = []
        idc = getattr(self.scan, "id_column", None)
        item = self.items[j]
        try:
            for name, field in zip(batch.schema.names, batch.schema, strict=True):
                if name == self.columns[j]:
                    arrays.append(pa.array(cells, type=cell_type).cast(field.type))
                elif name == idc:
                    ids = pa.array([f"cell{r}" for r in range(n)]) if not \
                        pa.types.is_integer(field.type) else pa.array(range(n))
                    arrays.append(ids.cast(field.type))
                else:
                    arrays.append(pa.nulls(n, type=field.type))
            mini = pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
            table = self.scan.to_table(mini)
            values, status, chosen = decode_column(table, self.columns[j], item)
        except (pa.ArrowException, PsychovalError, ValueError, TypeError):
            for cell in cells:  # not decodable alone: the long path reads these batches
                self.cells[j][cell] = None
            return
        for r, cell in enumerate(cells):
            code: int | None = None
            if status[r] == MISSING:
                code = 0
            elif status[r] == OK and item.type == "multiple_choice":
                code = item.options.index(chosen[r]) + 1
            elif status[r] == OK and float(values[r]).is_integer():
                code = int(values[r]) - self.lo[j] + 1
            self.cells[j][cell] = code


def _why_not(item: Any) -> str:
    """Why the short path cannot code an item ("" when it can)."""
    if item.raters:
        return "is rated by raters"
    if item.type == "multiple_choice":
        return "" if len(item.options) <= MAX_LEVELS else f"has more than {MAX_LEVELS} options"
    if item.min is None or item.max is None or not float(item.min).is_integer() or \
            not float(item.max).is_integer():
        return "has a range that is not whole numbers"
    if item.max - item.min + 1 > MAX_LEVELS:
        return f"has more than {MAX_LEVELS} values"
    return ""


def _shift_into(row: np.ndarray, col: Any, lo: int, levels: int) -> bool:
    """Write ``value - lo + 1`` (nulls as ``lo - 1``, so 0) of an integer column into the
    int8 ``row``, unchecked; False when that cannot be done plainly (the caller then takes
    :func:`_column_codes`). Values outside a code's range are caught by the caller's check,
    and wider columns are checked here before they are narrowed."""
    import pyarrow as pa

    try:
        filled = (col.fill_null(lo - 1) if col.null_count else col).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
        return False
    if filled.dtype == np.int8 and lo == 1:
        row[:] = filled
        return True
    shifted = np.subtract(filled, lo - 1, dtype=np.int64)
    if shifted.size and (shifted.min() < 0 or shifted.max() > levels):
        return False
    row[:] = shifted
    return True


def _column_codes(col: Any, lo: int, hi: int, missing: tuple[float, ...]) -> np.ndarray | None:
    """One Arrow column as codes (0 missing, value - lo + 1), or None (long path)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_floating(t):
        if col.null_count < len(col):
            nan = pc.is_nan(col)
            if pc.any(nan).as_py():
                col = pc.if_else(nan, pa.scalar(None, t), col)
        try:  # a safe cast refuses fractions
            col = pc.cast(col, pa.int64(), safe=True)
        except (pa.ArrowInvalid, OverflowError):
            return None
    elif not pa.types.is_integer(t):
        return None
    if col.null_count == len(col):
        return np.zeros(len(col), dtype=np.int8)
    if missing:
        drop = pc.is_in(col, value_set=pa.array(
            [int(v) for v in missing if float(v).is_integer()], type=pa.int64()))
        if pc.any(drop).as_py():
            col = pc.if_else(drop, pa.scalar(None, col.type), col)
            if col.null_count == len(col):
                return np.zeros(len(col), dtype=np.int8)
    mm = pc.min_max(col)
    if mm["min"].as_py() < lo or mm["max"].as_py() > hi:
        return None
    if lo != 1:
        col = pc.subtract(pc.cast(col, pa.int16()), pa.scalar(lo - 1, pa.int16()))
    if col.null_count:
        col = pc.fill_null(col, 0)
    if col.type != pa.int8():
        col = pc.cast(col, pa.int8())
    return col.to_numpy(zero_copy_only=False)


class PatternCounts:
    """The counts of a competency's distinct code vectors, batch by batch.

    ``positions``: the competency's rows in the coder's code matrix; ``levels``: its items'
    numbers of answers. A vector is one integer in the radix ``levels + 1``; counted by a
    dense ``np.bincount`` when there are at most :data:`DENSE` such integers, else by sorting
    (``np.unique``) and merging.
    """

    def __init__(self, positions: list[int], levels: list[int]):
        self.positions = np.asarray(positions, dtype=np.intp)
        self.base = np.asarray(levels, dtype=np.int64) + 1
        size = math.prod(int(b) for b in self.base)
        self.dense = size <= DENSE
        self.counts = np.zeros(size, dtype=np.int64) if self.dense else None
        self.keys = np.zeros(0, dtype=np.int64)
        self.freq = np.zeros(0, dtype=np.int64)
        self.ok = size < 2**62  # the integers fit in int64
        dt = np.int16 if size <= 2**15 else (np.int32 if size <= 2**31 else np.int64)
        self.dtype = dt

    def add(self, codes: np.ndarray) -> None:
        rows = codes[self.positions]
        key = rows[-1].astype(self.dtype)
        for j in range(len(self.positions) - 2, -1, -1):
            key *= self.dtype(self.base[j])
            key += rows[j]
        if self.dense:
            self.counts += np.bincount(key, minlength=self.counts.size)
            return
        u, c = np.unique(key.astype(np.int64), return_counts=True)
        keys = np.concatenate([self.keys, u])
        freq = np.concatenate([self.freq, c])
        self.keys, inv = np.unique(keys, return_inverse=True)
        self.freq = np.bincount(inv.reshape(-1), weights=freq).astype(np.int64)

    def table(self) -> tuple[np.ndarray, np.ndarray]:
        """(codes, counts): the distinct code vectors seen (rows, items) and their counts."""
        if self.dense:
            keys = np.flatnonzero(self.counts)
            freq = self.counts[keys]
        else:
            keys, freq = self.keys, self.freq
        out = np.empty((keys.size, self.base.size), dtype=np.int64)
        rest = keys.astype(np.int64)
        for j, b in enumerate(self.base):
            out[:, j] = rest % b
            rest = rest // b
        return out, freq


def scored_values(framework: Framework, items: list[str], codes: np.ndarray) -> np.ndarray:
    """The scored values (NaN missing; reverse-keyed items reversed on their own range, as
    :func:`psychoval.score`) of code vectors of ``items``."""
    out = np.full(codes.shape, np.nan)
    for j, iid in enumerate(items):
        item = framework.item(iid)
        c = codes[:, j]
        if item.type == "multiple_choice":  # the option's position: 1 for the key
            key = item.options.index(item.answer_key) + 1
            out[:, j] = np.where(c > 0, (c == key).astype(float), np.nan)
            continue
        v = np.where(c > 0, float(item.min) + c - 1.0, np.nan)
        out[:, j] = reverse_score(v, float(item.min), float(item.max)) if item.reverse else v
    return out
