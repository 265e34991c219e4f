"""Property-based fuzzing of read_responses (issue 15, section 5): random bytes under every
file suffix, damaged and hostile CSV text in several encodings, DataFrames of hostile
objects and long layouts. Every outcome is a ResponseTable or a PsychovalError subclass
with a bounded message; a table that is read keeps every row, and ids as written."""

from __future__ import annotations

import csv
import io
import math
import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import PsychovalError

FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])

SUFFIXES = [".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".sqlite", ".db", ".duckdb", ""]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", "utf-32"]

# cells a person, a spreadsheet or an attacker writes
hostile_cells = st.sampled_from([
    "", " ", "NA", "None", "NULL", "n/a", "nan", "NaN", "inf", "-inf", "1e999", "-0", "007",
    "1e3", "0x1F", "1,5", "TRUE", "false", "\x1b[31mred", "\u202eevil", "\x00", "=cmd|' /C calc'!A0",
    '"quoted"', "a\nb", "a\r\nb", "ü", "𝟘", "\ufeff1", str(2**63 + 5), "-" + "9" * 400,
    "<script>", "'", ";", "\t",
]) | st.integers(-10, 10).map(str) | st.floats(allow_nan=True).map(repr) | st.text(max_size=6)


def outcome(source, **kw):
    """The table, or None after a PsychovalError with a bounded message; anything else fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are information, not outcomes
        try:
            table = pv.read_responses(source, **kw)
        except PsychovalError as exc:
            assert len(str(exc)) < 4000, str(exc)[:300]
            return None
    assert isinstance(table, pv.ResponseTable)
    assert table.n_respondents >= 1 and table.n_items >= 1
    values = table.values
    assert values.dtypes.map(lambda d: d == np.float64).all()
    return table


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ingest_fuzz")


@FUZZ
@given(data=st.binary(max_size=600), suffix=st.sampled_from(SUFFIXES),
       prefix=st.sampled_from([b"", b"PK\x03\x04", b"PAR1", b"SQLite format 3\x00",
                               b"\xef\xbb\xbf", b"\xff\xfe", b"id,q1\n"]))
def test_random_bytes_under_any_suffix(fuzz_dir, data, suffix, prefix):
    path = fuzz_dir / f"bytes{suffix}"
    path.write_bytes(prefix + data)
    outcome(path)


@FUZZ
@given(header=st.lists(hostile_cells, min_size=1, max_size=4),
       rows=st.lists(st.lists(hostile_cells, min_size=1, max_size=4), min_size=0, max_size=6),
       encoding=st.sampled_from(ENCODINGS), tell=st.booleans(),
       use_id=st.booleans(), codes=st.none() | st.lists(hostile_cells, max_size=2),
       sep=st.sampled_from([",", ";", "\t", "|"]))
def test_hostile_csv_text(fuzz_dir, header, rows, encoding, tell, use_id, codes, sep):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    try:
        raw = buf.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return  # not writable in this encoding: nothing to read
    path = fuzz_dir / "hostile.csv"
    path.write_bytes(raw)
    kw = {"encoding": encoding if tell else None, "missing_codes": codes}
    if use_id:
        kw["id_column"] = header[0]
    table = outcome(path, **kw)
    if table is None:
        return
    # a well-formed file (unique names, every row as long as the header, utf-8) read with its
    # id column keeps every row, and ids as written (after trimming surrounding spaces)
    simple = (encoding in ("utf-8", "utf-8-sig") and len(set(header)) == len(header)
              and all(len(r) == len(header) for r in rows)
              and all(c.strip() == c and c and "\x00" not in c and "\ufeff" not in c
                      for c in header))
    if simple and use_id:
        assert table.n_respondents == len(rows)
        assert [str(i) for i in table.ids] == [r[0].strip() for r in rows]


@FUZZ
@given(cells=st.lists(st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5), st.binary(max_size=3), st.just(Decimal("1.5")),
    st.just(pd.Timestamp("2024-01-01")), st.just(pd.NaT), st.just(pd.NA), st.just([1, 2]),
    st.just(complex(1, 2)), st.just(np.int64(3))), min_size=2, max_size=8),
    id_kind=st.sampled_from(["none", "column", "index"]))
def test_hostile_objects_in_a_dataframe(cells, id_kind):
    df = pd.DataFrame({"q1": pd.Series(cells, dtype=object),
                       "q2": pd.Series(cells[::-1], dtype=object)})
    kw = {}
    if id_kind == "column":
        df.insert(0, "id", [f"r{k:03d}" for k in range(len(df))])
        kw["id_column"] = "id"
    elif id_kind == "index":
        df.index = pd.Index([f"x{k}" for k in range(len(df))], name="who")
    table = outcome(df, **kw)
    if table is None:
        return
    assert table.n_respondents == len(df)
    if id_kind == "column":
        assert list(table.ids) == list(df["id"])
    elif id_kind == "index":
        assert list(table.ids) == list(df.index)
    # a number that is a number is its value; nothing else becomes a number silently
    for col in ("q1", "q2"):
        v = table.values[col].to_numpy()
        for cell, x in zip(df[col], v, strict=True):
            if isinstance(cell, (int, float, np.integer)) and not isinstance(cell, bool) \
                    and np.isfinite(float(cell)) and abs(float(cell)) < 1e300:
                assert math.isclose(x, float(cell)), (cell, x)


@FUZZ
@given(resp=st.lists(st.sampled_from(["1", "01", "001", "1e3", "a", " a", "007", "7"]),
                     min_size=1, max_size=8),
       items=st.lists(st.sampled_from(["q1", "q2", "q 3", ""]), min_size=1, max_size=8),
       values=st.lists(hostile_cells, min_size=1, max_size=8))
def test_long_layout(fuzz_dir, resp, items, values):
    n = min(len(resp), len(items), len(values))
    df = pd.DataFrame({"respondent": resp[:n], "item": items[:n], "response": values[:n]})
    path = fuzz_dir / "long.csv"
    df.to_csv(path, index=False)
    table = outcome(path, layout="long", id_column="respondent")
    if table is None:
        return
    # ids exactly as written, never merged by their numeric value
    assert set(map(str, table.ids)) <= {r.strip() for r in resp[:n]}
    assert table.n_respondents == len({r.strip() for r in resp[:n]})
