"""Ingest: eight sources read to identical tables; every error path with its message."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import psychoval as pv
from psychoval import DataError

FRAME = pd.DataFrame(
    {
        "rid": ["R1", "R2", "R3", "R4"],
        "q1": [1, 2, np.nan, 4],
        "q2": [5.0, 4.0, 3.0, 2.5],
        "mc1": ["A", "b ", None, "C"],
    }
)


def _write_all(tmp_path):
    paths = {}
    FRAME.to_csv(tmp_path / "r.csv", index=False)
    paths["csv"] = dict(source=tmp_path / "r.csv")
    FRAME.to_csv(tmp_path / "r.tsv", sep="\t", index=False)
    paths["tsv"] = dict(source=tmp_path / "r.tsv")
    FRAME.to_csv(tmp_path / "semi.txt", sep=";", index=False)
    paths["sniffed_txt"] = dict(source=tmp_path / "semi.txt")
    FRAME.to_excel(tmp_path / "r.xlsx", index=False)
    paths["xlsx"] = dict(source=tmp_path / "r.xlsx")
    FRAME.to_parquet(tmp_path / "r.parquet", index=False)
    paths["parquet"] = dict(source=tmp_path / "r.parquet")
    con = sqlite3.connect(tmp_path / "r.sqlite")
    FRAME.to_sql("responses", con, index=False)
    con.close()
    paths["sqlite"] = dict(source=tmp_path / "r.sqlite", query="SELECT * FROM responses")
    import duckdb

    con = duckdb.connect(str(tmp_path / "r.duckdb"))
    frame = FRAME  # noqa: F841 - duckdb reads the local variable by name
    con.execute("CREATE TABLE responses AS SELECT * FROM frame")
    con.close()
    paths["duckdb"] = dict(source=tmp_path / "r.duckdb", query="SELECT * FROM responses")
    long = FRAME.melt(id_vars="rid", var_name="item", value_name="response").dropna()
    long = long.sort_values("rid", kind="stable")  # respondents keep first-appearance order
    long.to_csv(tmp_path / "long.csv", index=False)
    paths["long_csv"] = dict(source=tmp_path / "long.csv", layout="long")
    return paths


def test_every_source_reads_identically(tmp_path):
    ref = pv.read_responses(FRAME, id_column="rid")
    assert ref.items == ("q1", "q2", "mc1")
    assert list(ref.ids) == ["R1", "R2", "R3", "R4"]
    sources = _write_all(tmp_path)
    assert len(sources) == 8  # with the DataFrame: nine ways in, eight file formats
    for name, kwargs in sources.items():
        table = pv.read_responses(id_column="rid", **kwargs)
        assert_frame_equal(table.values, ref.values, check_index_type=False, obj=name)
        assert_frame_equal(table.raw, ref.raw, check_index_type=False, obj=name)
        assert table == ref, name


def test_values_and_raw_keep_text_codes():
    table = pv.read_responses(FRAME, id_column="rid")
    assert table.text_items == ("mc1",)
    assert table.raw["mc1"].tolist()[:2] == ["A", "b"]  # whitespace stripped, case kept
    assert np.isnan(table.values["mc1"]).all()
    assert table.text_cells("mc1") == [0, 1, 3]
    assert table.values["q1"].tolist()[:2] == [1.0, 2.0]


def test_caller_frame_is_not_mutated():
    before = FRAME.copy(deep=True)
    table = pv.read_responses(FRAME, id_column="rid")
    values = table.values
    values.iloc[0, 0] = 99  # accessors return copies
    assert_frame_equal(FRAME, before)
    assert table.values.iloc[0, 0] == 1.0


def test_default_ids_and_item_selection():
    table = pv.read_responses(FRAME, items=["q2", "q1"])
    assert table.items == ("q2", "q1")
    assert list(table.ids) == [0, 1, 2, 3]


def test_ids_are_kept_as_written(tmp_path):
    # text ids stay text: 007 is not 7, 1e3 is not 1000, 2**63 + 5 is not negative
    (tmp_path / "a.csv").write_text("id,x\n007,1\n7,2\n1e3,3\n9223372036854775813,4\n")
    table = pv.read_responses(tmp_path / "a.csv", id_column="id")
    assert table.ids.dtype == object
    assert list(table.ids) == ["007", "7", "1e3", "9223372036854775813"]
    # a typed source keeps its ids' own type
    df = pd.DataFrame({"id": [10, 11], "x": [1, 2]})
    ids = pv.read_responses(df, id_column="id").ids
    assert ids.dtype == np.int64 and list(ids) == [10, 11]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "the file is empty"),
        ("\n\n", "the file is empty"),
        ("a,b\n", "has a header but no rows"),
        ("q1,q2,q1\n1,2,3\n", "duplicate column name.*'q1'"),
        ("q1,,q3\n1,2,3\n", "column 2 of the header row has no name"),
    ],
)
def test_bad_files(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(DataError, match=match):
        pv.read_responses(p)


def test_no_item_columns():
    with pytest.raises(DataError, match="no item columns .*'id'"):
        pv.read_responses(pd.DataFrame({"id": [1, 2]}), id_column="id")


def test_missing_id_column():
    with pytest.raises(DataError, match="id column 'person' does not exist; columns are 'rid'"):
        pv.read_responses(FRAME, id_column="person")


def test_duplicate_columns_in_dataframe():
    df = pd.DataFrame([[1, 2]], columns=["q", "q"])
    with pytest.raises(DataError, match="duplicate column name.*'q'"):
        pv.read_responses(df)


def test_long_duplicates(tmp_path):
    long = pd.DataFrame({"respondent": [1, 1, 2], "item": ["q1", "q1", "q1"], "response": [1, 2, 3]})
    with pytest.raises(DataError, match=r"respondent 1 answered item 'q1' more than once \(1 dup"):
        pv.read_responses(long, layout="long")


def test_long_missing_columns():
    long = pd.DataFrame({"who": [1], "item": ["q1"], "response": [1]})
    with pytest.raises(DataError, match="long layout needs columns 'respondent'.*'respondent' missing"):
        pv.read_responses(long, layout="long")
    table = pv.read_responses(long, layout="long", id_column="who")
    assert table.items == ("q1",) and list(table.ids) == [1]


def test_unknown_items_and_types(tmp_path):
    with pytest.raises(DataError, match="item.*'q9' not among the columns"):
        pv.read_responses(FRAME, items=["q9"])
    with pytest.raises(DataError, match="no such file"):
        pv.read_responses(tmp_path / "nope.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(DataError, match=r"unknown file type '\.json'"):
        pv.read_responses(tmp_path / "x.json")
    with pytest.raises(DataError, match="cannot read responses from a list"):
        pv.read_responses([[1, 2]])
    with pytest.raises(DataError, match="layout='tall' is not one of"):
        pv.read_responses(FRAME, layout="tall")


def test_database_needs_query(tmp_path):
    con = sqlite3.connect(tmp_path / "r.sqlite")
    FRAME.to_sql("responses", con, index=False)
    con.close()
    with pytest.raises(DataError, match="needs query=.*tables are 'responses'"):
        pv.read_responses(tmp_path / "r.sqlite")
    with pytest.raises(DataError, match="the query failed: no such table: nope"):
        pv.read_responses(tmp_path / "r.sqlite", query="SELECT * FROM nope")


def test_errors_are_also_builtin_value_errors():
    with pytest.raises(ValueError):
        pv.read_responses(FRAME, id_column="person")


def _coded_csv(path, n=2500):
    """Codes, labels, blanks, NA strings and padded numbers; some short rows."""
    cells = ["1", "2", " 3 ", "4.0", "", "NA", "x", " b ", "1e0", "-0", "often", "9"]
    lines = ["id,q1,q2,mc"]
    for i in range(n):
        row = [f"P{i:05d}"] + [cells[(i * (j + 3) + j) % len(cells)] for j in range(3)]
        lines.append(",".join(row[: 2 if i % 977 == 13 else 4]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_text_file_read_in_chunks_reads_the_same(tmp_path, monkeypatch):
    import psychoval.io._read as read_module

    path = _coded_csv(tmp_path / "coded.csv")
    whole = pv.read_responses(path, id_column="id")  # pyarrow's parser (all cells as text)
    monkeypatch.setattr(read_module, "_arrow_available", lambda: False)
    monkeypatch.setattr(read_module, "_CHUNK_CELLS", 1)  # pandas' parser, 1000 rows at a time
    chunked = pv.read_responses(path, id_column="id")
    assert chunked == whole
    assert_frame_equal(chunked.raw, whole.raw)
    for item in whole.items:
        assert chunked.text_cells(item) == whole.text_cells(item)
    # the same cells as the frame read by pandas (as text, no NA strings) and handed over
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    via_frame = pv.read_responses(frame, id_column="id")
    assert_frame_equal(whole.raw, via_frame.raw, check_index_type=False)
    head = whole.raw.head(5)
    assert head["q1"].tolist()[:3] == [1.0, 4.0, "x"]  # "4.0" is 4, "x" kept as text
    assert head["mc"].tolist()[:2] == [3.0, "b"]  # " 3 " is 3, " b " is stripped
    assert np.signbit(head["q2"].tolist()[2])  # "-0" is -0.0
    assert head["q2"].tolist()[1] == "NA"  # a code like any other, not missing


@pytest.mark.parametrize("arrow", [True, False])
def test_parse_error_after_the_first_chunk(tmp_path, monkeypatch, arrow):
    import psychoval.io._read as read_module

    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n" + "1,2\n" * 1500 + "1,2,3\n")
    monkeypatch.setattr(read_module, "_CHUNK_CELLS", 1)
    if not arrow:
        monkeypatch.setattr(read_module, "_arrow_available", lambda: False)
    with pytest.raises(DataError, match=r"ragged\.csv: cannot parse the file as delimited text "
                       r"\(Error tokenizing data\. C error: Expected 2 fields in line 1502, saw "
                       r"3\n?\); every row needs as many cells as the header"):
        pv.read_responses(path)


def test_raw_of_numeric_and_text_columns():
    df = pd.DataFrame({"n": [1.0, np.nan, 3.0], "t": ["1", None, "A"], "b": [True, False, True]})
    table = pv.read_responses(df)
    raw = table.raw
    assert raw.dtypes.tolist() == [object] * 3
    assert raw["t"].tolist()[1] is np.nan  # a missing cell of a text column is np.nan
    assert raw["n"].tolist()[0] == 1.0 and np.isnan(raw["n"].tolist()[1])
    assert raw["t"].tolist()[::2] == [1.0, "A"] and raw["b"].tolist() == [1.0, 0.0, 1.0]
    assert table.select(["t"]).raw["t"].tolist()[2] == "A"
    assert table != pv.read_responses(df.assign(t=["1", None, "B"]))
