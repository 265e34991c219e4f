"""Ingest keeps values as written (issue 15, section 1; CONVENTIONS.md "Missing data").

Every case ends as a correct result or a DataError / SpecificationError whose exact message
names the file, line, item or row and the fix. Files are written into tmp_path; nothing here
reads outside the repository.
"""

from __future__ import annotations

import json
import re
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import psychoval as pv
import psychoval.io._read as read_module
from psychoval._input import apply_missing, as_item_matrix
from psychoval.exceptions import DataError, SpecificationError, SpecificationWarning

ROOT = Path(__file__).resolve().parents[1]
IDS = ["007", "7", "001", "01", "1", "1e3", "9223372036854775813"]  # 2**63 + 5


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


@pytest.fixture(params=["arrow", "pandas"])
def parser(request, monkeypatch):
    """Run a text-file test with pyarrow's CSV reader and with the pandas fallback."""
    if request.param == "pandas":
        monkeypatch.setattr(read_module, "_arrow_available", lambda: False)
    return request.param


def one_tier(items: list[dict], **extra) -> dict:
    return {"tiers": [{"id": "t", "competencies": [{"id": "c", "items": items}]}], **extra}


def read_fw(spec):
    """read_framework without the small-competency warning (the tests use 1-3 items)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpecificationWarning)
        return pv.read_framework(spec)


# -- 1. ids exactly as written ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "sep"), [("ids.csv", ","), ("ids.tsv", "\t"),
                                           ("ids.txt", ";")])
def test_text_ids_are_the_text_written(tmp_path, parser, name, sep):
    path = tmp_path / name
    path.write_text("id" + sep + "q1\n" + "".join(f"{i}{sep}{j}\n" for j, i in enumerate(IDS)))
    table = pv.read_responses(path, id_column="id")
    assert list(table.ids) == IDS  # 007 is not 7; 001, 01, 1 are three respondents
    assert table.ids.dtype == object and all(type(i) is str for i in table.ids)
    assert table.values["q1"].tolist() == list(range(7))


def test_id_of_spaces_and_empty_id(tmp_path, parser):
    path = tmp_path / "ids.csv"
    path.write_text("id,q1\n 007 ,1\n7,2\n")
    assert list(pv.read_responses(path, id_column="id").ids) == ["007", "7"]
    path.write_text("id,q1\n007,1\n,2\n")
    with pytest.raises(DataError, match=exactly(
            f"{path}: id column 'id' is empty at row 2; every respondent needs an id (fill "
            "it, or pass id_column=None to number rows)")):
        pv.read_responses(path, id_column="id")


def test_typed_sources_keep_their_ids_own_type(tmp_path):
    import duckdb
    import openpyxl

    big = 2**63 + 5
    # Parquet: text ids stay text, uint64 ids stay uint64 (never negative, never float)
    pd.DataFrame({"id": IDS[:3], "q1": [1, 2, 3]}).to_parquet(tmp_path / "s.parquet")
    assert list(pv.read_responses(tmp_path / "s.parquet", id_column="id").ids) == IDS[:3]
    pd.DataFrame({"id": np.array([big, 7], dtype=np.uint64), "q1": [1, 2]}).to_parquet(
        tmp_path / "u.parquet")
    ids = pv.read_responses(tmp_path / "u.parquet", id_column="id").ids
    assert ids.dtype == np.uint64 and ids.tolist() == [big, 7]
    # SQLite: TEXT and INTEGER ids
    con = sqlite3.connect(tmp_path / "r.sqlite")
    con.execute("CREATE TABLE t (sid TEXT, nid INTEGER, q1 INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [("007", 7, 1), ("7", 8, 2)])
    con.commit()
    con.close()
    sql = dict(source=tmp_path / "r.sqlite", query="SELECT * FROM t")
    assert list(pv.read_responses(**sql, id_column="sid").ids) == ["007", "7"]
    nid = pv.read_responses(**sql, id_column="nid").ids
    assert nid.dtype == np.int64 and nid.tolist() == [7, 8]
    # DuckDB: VARCHAR and UBIGINT beyond int64
    con = duckdb.connect(str(tmp_path / "r.duckdb"))
    con.execute("CREATE TABLE t (sid VARCHAR, uid UBIGINT, q1 INTEGER)")
    con.execute(f"INSERT INTO t VALUES ('007', {big}, 1), ('7', 7, 2)")
    con.close()
    duck = dict(source=tmp_path / "r.duckdb", query="SELECT * FROM t")
    assert list(pv.read_responses(**duck, id_column="sid").ids) == ["007", "7"]
    assert pv.read_responses(**duck, id_column="uid").ids.tolist() == [big, 7]
    # XLSX: a text cell "007" stays "007"; a number cell is a number
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["id", "q1"], ["007", 1], ["7", 2], [8, 3]):
        sheet.append(row)
    book.save(tmp_path / "r.xlsx")
    assert pv.read_responses(tmp_path / "r.xlsx", id_column="id").ids.tolist() == [
        "007", "7", 8]
    # DataFrame: object text, int64, and Python ints beyond uint64
    df = pd.DataFrame({"sid": IDS[:2], "nid": [7, 8], "bid": [2**64 + 5, 1], "q1": [1, 2]})
    assert list(pv.read_responses(df, id_column="sid").ids) == IDS[:2]
    assert pv.read_responses(df, id_column="nid").ids.dtype == np.int64
    assert pv.read_responses(df, id_column="bid").ids.tolist() == [2**64 + 5, 1]


def test_long_layout_ids_as_written(tmp_path, parser):
    path = tmp_path / "long.csv"
    path.write_text("respondent,item,response\n001,q1,1\n01,q1,2\n1,q1,3\n001,q2,4\n")
    table = pv.read_responses(path, layout="long")
    assert list(table.ids) == ["001", "01", "1"]  # three respondents, not a duplicate
    assert table.values["q1"].tolist() == [1.0, 2.0, 3.0]
    assert table.values["q2"].tolist()[0] == 4.0 and np.isnan(table.values["q2"]).sum() == 2
    path.write_text("respondent,item,response\n1,q1,1\n01,q1,2\n1,q1,3\n")
    with pytest.raises(DataError, match=exactly(
            f"{path}: respondent '1' answered item 'q1' more than once (1 duplicated "
            "(respondent, item) pair(s) in all); keep one response per pair")):
        pv.read_responses(path, layout="long")
    path.write_text("respondent,item,response\n1,q1,1\n2,,2\n")
    with pytest.raises(DataError, match=exactly(
            f"{path}: row 2 of the long table has no item name (column 'item'); fill it or "
            "drop the row")):
        pv.read_responses(path, layout="long")


def test_ids_are_printed_as_written(tmp_path):
    df = pd.DataFrame({"q1": ["1", "x", "3"], "q2": [1, 2, 3]}, index=np.array([7, 8, 9]))
    with pytest.raises(DataError, match=exactly(
            "item 'q1' has the non-numeric code 'x' at row 2 (id 8) (1 such cell(s)); score "
            "it first (framework.score() or answer_key=) or recode it as a number or blank")):
        pv.alpha(df)
    fw = read_fw(one_tier([{"id": "q1", "type": "likert", "min": 1, "max": 5}],
                                    id_column="id"))
    path = tmp_path / "r.csv"
    path.write_text("id,q1\n007,1\n7,9\n")
    with pytest.raises(DataError, match=r"item 'q1' has the value '9' at row 2 \(id '7'\)"):
        fw.score(path)
    path.write_text("id,q1\n007,1\n7,2\n")
    assert fw.score(path).scores.index.tolist() == ["007", "7"]


# -- 2. no hidden missing-value strings --------------------------------------------------------

NA_WORDS = ["NA", "None", "NULL", "n/a", "nan", "#N/A", "<NA>", "null", "-nan"]


def test_na_words_are_codes_not_missing(tmp_path, parser):
    path = tmp_path / "na.csv"
    path.write_text("id,q1,region\n" + "".join(f"r{j},{w},{w}\n" for j, w in enumerate(NA_WORDS))
                    + "rx,,\n")
    table = pv.read_responses(path, id_column="id")
    assert table.raw["region"].tolist()[:-1] == NA_WORDS
    assert table.text_cells("q1") == list(range(len(NA_WORDS)))  # the empty cell is missing
    report = pv.check_data(path)
    items = report.items.set_index("column")
    assert items.loc["q1", "n_missing"] == 1
    # as given, the same words in a DataFrame are codes too
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert pv.read_responses(frame, id_column="id") == table


def test_check_data_reports_na_words_as_invalid_codes(tmp_path):
    fw = read_fw(one_tier([
        {"id": f"q{j}", "type": "likert", "min": 1, "max": 5} for j in (1, 2, 3)]))
    path = tmp_path / "r.csv"
    path.write_text("q1,q2,q3\n1,NA,2\nNone,3,\n4,n/a,5\n")
    report = pv.check_data(path, fw)
    assert report.n_invalid_codes == 3
    assert report.invalid_cells["value"].tolist() == ["None", "NA", "n/a"]
    with pytest.raises(DataError, match=exactly(
            "item 'q1' has the value 'None' at row 2, which is not a valid response (1 such "
            "cell(s)); its range is 1-5; recode it (blank for missing) or fix the framework; "
            "pv.check_data() lists every such cell")):
        fw.score(path)


def test_missing_codes_argument(tmp_path, parser):
    path = tmp_path / "r.csv"
    path.write_text("id,q1,q2\na,NA,-99\nb,2,-99.0\nc, NA ,na\n")
    table = pv.read_responses(path, id_column="id", missing_codes=["NA", -99])
    assert np.isnan(table.values.to_numpy()[:, 1]).all()
    assert table.raw["q1"].tolist()[1] == 2.0 and table.text_cells("q1") == []
    assert table.raw["q2"].tolist()[2] == "na"  # case-sensitive
    same = pv.read_responses(path, id_column="id", missing_codes=["-99", "NA"])
    assert same == table
    frame = pd.DataFrame({"q1": ["NA", "2"], "q2": [-99, 3]})
    assert np.isnan(pv.read_responses(frame, missing_codes=["NA", -99]).values.iloc[0]).all()


@pytest.mark.parametrize(("codes", "message"), [
    ([""], "missing_codes: '' is blank; an empty cell is always missing, list only the "
           "codes written in the cells"),
    (["TRUE"], "missing_codes: 'TRUE' cannot be a missing code: the words true/false are "
               "read as the numbers 1/0; list 1 if that number means missing"),
    ([None], "missing_codes: None is not a code; list text or numbers, e.g. [-99, 'NA']"),
    ({"q1": ["NA"]}, "missing_codes must be a list of codes (text or numbers), e.g. "
                     "[-99, 'NA']; got dict {'q1': ['NA']}"),
    ([float("inf")], "missing_codes: inf is not a finite number"),
])
def test_missing_codes_argument_errors(codes, message):
    with pytest.raises(DataError, match=exactly(message)):
        pv.read_responses(pd.DataFrame({"q1": [1, 2]}), missing_codes=codes)


MC = {"id": "mc", "type": "multiple_choice", "options": ["Yes", "No", "None"],
      "answer_key": "None"}


def test_framework_missing_codes_default_and_per_item(tmp_path):
    fw = read_fw(one_tier([
        {"id": "q1", "type": "likert", "min": 1, "max": 5},
        {"id": "q2", "type": "likert", "min": 1, "max": 5, "missing_codes": ["."]},
        MC,
    ], defaults={"missing_codes": [-99, "NA"]}))
    assert fw.item("q1").missing_codes == (-99, "NA")
    assert fw.item("q2").missing_codes == (".",)  # an item's own codes replace the default
    path = tmp_path / "r.csv"
    path.write_text("q1,q2,mc\n-99,.,None\nNA,-99,NA\n3,4,no\n")
    with pytest.raises(DataError, match=exactly(
            "item 'q2' has the value '-99' at row 2, which is not a valid response (1 such "
            "cell(s)); its range is 1-5; recode it (blank for missing) or fix the framework; "
            "pv.check_data() lists every such cell")):
        fw.score(path)
    path.write_text("q1,q2,mc\n-99,.,None\nNA,2,NA\n3,4,no\n")
    scored = fw.score(path)
    assert np.isnan(scored.scores["q1"].tolist()[:2]).all()
    assert np.isnan(scored.scores["q2"].tolist()[0])
    # "None" is an option here, not a missing value; "NA" is the framework's missing code
    assert scored.options["mc"].tolist() == ["None", None, "No"]
    assert scored.scores["mc"].tolist()[0] == 1.0 and np.isnan(scored.scores["mc"].tolist()[1])
    report = pv.check_data(path, fw)
    assert report.n_invalid_codes == 0
    assert report.items.set_index("column").loc[["q1", "q2", "mc"], "n_missing"].tolist() == [
        2, 1, 1]
    # the file forms: YAML, JSON and the dict round trip with the codes
    again = read_fw(fw.to_dict())
    assert again == fw and again.item("q1").missing_codes == (-99, "NA")
    (tmp_path / "fw.json").write_text(json.dumps(fw.to_dict()))
    assert read_fw(tmp_path / "fw.json") == fw


def test_framework_missing_codes_follow_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs" / "framework.schema.json").read_text())
    spec = one_tier([{"id": "q1", "type": "likert", "min": 1, "max": 5, "missing_codes": ["."]},
                     MC], defaults={"missing_codes": [-99, "NA"]})
    jsonschema.validate(spec, schema)
    jsonschema.validate(one_tier([{"id": "q", "type": "likert", "min": 1, "max": 5,
                                   "missing_codes": []}]), schema)  # none: drops a default
    for bad in (["NA", "NA"], [None], [" "], "NA"):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(one_tier([{"id": "q", "type": "likert", "min": 1, "max": 5,
                                           "missing_codes": bad}]), schema)


def test_framework_item_map_missing_codes(tmp_path):
    path = tmp_path / "map.csv"
    path.write_text("item,competency,tier,type,min,max,missing_codes\n"
                    "q1,c,t,likert,1,5,-99|NA\nq2,c,t,likert,1,5,\nq3,c,t,likert,1,5,\n")
    fw = read_fw(path)
    assert fw.item("q1").missing_codes == (-99, "NA") and not hasattr(fw.item("q2"),
                                                                      "missing_codes")


@pytest.mark.parametrize(("item", "message"), [
    ({"id": "q", "type": "likert", "min": 1, "max": 5, "missing_codes": [3]},
     "framework: item 'q': missing code 3 lies in its response range 1-5; a missing code "
     "must be outside the answers (e.g. -99)"),
    ({"id": "q", "type": "likert", "categories": ["Never", "Often"], "missing_codes": ["never"]},
     "framework: item 'q': missing code 'never' is also one of its categories (Never, Often); "
     "a code cannot be both an answer and missing"),
    ({**MC, "id": "q", "missing_codes": ["none"]},
     "framework: item 'q': missing code 'none' is also one of its options (Yes, No, None); a "
     "code cannot be both an answer and missing"),
    ({"id": "q", "type": "likert", "min": 1, "max": 5, "missing_codes": "NA"},
     "framework: item 'q': missing_codes must be a list of codes (text or numbers), e.g. "
     "[-99, NA]; got 'NA'"),
    ({"id": "q", "type": "likert", "min": 1, "max": 5, "missing_codes": [True]},
     "framework: item 'q': missing_codes: True is not a code; list text or numbers, e.g. "
     "[-99, 'NA']"),
])
def test_framework_missing_codes_errors(item, message):
    with pytest.raises(SpecificationError, match=exactly(message)):
        read_fw(one_tier([item]))


# -- 3. R's write.csv row names; a DataFrame's index on every per-respondent result ----------------


def test_r_write_csv_row_names_are_the_ids(tmp_path, parser):
    path = tmp_path / "r.csv"
    path.write_text('"","q1","q2"\n"p1",1,2\n"p2",3,NA\n')  # write.csv(df) with row names
    table = pv.read_responses(path)
    assert list(table.ids) == ["p1", "p2"] and table.items == ("q1", "q2")
    assert table.ids.name is None
    assert table.notes == (f"{path}: the header row's first cell is empty, so column 1 holds "
                           "row names (as R's write.csv and pandas' to_excel write them): they "
                           "are the respondent ids",)
    assert table.raw["q2"].tolist()[1] == "NA"  # R's NA is a code unless listed
    assert np.isnan(pv.read_responses(path, missing_codes=["NA"]).values["q2"].iloc[1])
    path.write_text('"","id","q1"\n"1","a",1\n"2","b",2\n')
    table = pv.read_responses(path, id_column="id")
    assert list(table.ids) == ["a", "b"] and table.items == ("q1",)
    assert table.notes[0].endswith("left out, the ids are column 'id'")
    # a blank header cell elsewhere is still an error
    path.write_text("q1,,q3\n1,2,3\n")
    with pytest.raises(DataError, match=exactly(
            f"{path}: column 2 of the header row has no name; give every column a name")):
        pv.read_responses(path)


def test_excel_written_with_its_index(tmp_path):
    df = pd.DataFrame({"q1": [1, 2], "q2": [3, 4]}, index=["a", "b"])
    df.to_excel(tmp_path / "r.xlsx")
    table = pv.read_responses(tmp_path / "r.xlsx")
    assert list(table.ids) == ["a", "b"] and len(table.notes) == 1


def test_dataframe_index_is_kept_on_every_per_respondent_result():
    rng = np.random.default_rng(3)
    x = np.clip(np.round(3 + rng.normal(size=(300, 1)) + rng.normal(size=(300, 6))), 1, 5)
    index = pd.Index([f"p{i:03d}" for i in range(300)], name="pid")
    df = pd.DataFrame(x, columns=[f"q{j}" for j in range(1, 7)], index=index)
    fw = read_fw(one_tier([{"id": f"q{j}", "type": "likert", "min": 1, "max": 5}
                                     for j in range(1, 7)]))
    scored = fw.score(df)
    assert scored.scores.index.equals(index)
    assert fw.scale_scores(scored).means.index.equals(index)
    assert pv.read_responses(df).ids.equals(index)
    assert as_item_matrix(df).ids.equals(index)
    fit = pv.cfa("c =~ q1 + q2 + q3 + q4 + q5 + q6", df)
    assert fit.factor_scores().index.equals(index)
    report = pv.check_data(df, fw)
    assert report.respondents["id"].tolist() == index.tolist()


# -- 4. encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom"])
def test_unicode_files_with_or_without_a_mark(tmp_path, parser, encoding):
    text = "id\tq1\r\nJosé\t1\r\n007\t2\r\n"
    if encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)  # utf-16: little-endian with a mark (Excel's Unicode text)
    (tmp_path / "u.txt").write_bytes(data)
    table = pv.read_responses(tmp_path / "u.txt", id_column="id")
    assert list(table.ids) == ["José", "007"] and table.items == ("q1",)


def test_cp1252_is_refused_naming_encoding_then_read(tmp_path, parser):
    path = tmp_path / "w.csv"
    path.write_bytes("id,q1\nA,1\nJosé,2\n".encode("cp1252"))
    with pytest.raises(DataError, match=exactly(
            f"{path}: line 3 is not valid UTF-8 (byte 0xe9); the file is in another encoding: "
            "pass encoding=, e.g. encoding='cp1252' (Excel on Windows, Western Europe) or "
            "encoding='latin-1'")):
        pv.read_responses(path)
    for enc in ("cp1252", "latin-1"):
        assert list(pv.read_responses(path, id_column="id", encoding=enc).ids) == ["A", "José"]


def test_bad_byte_beyond_the_sample(tmp_path, parser):
    path = tmp_path / "late.csv"
    path.write_bytes(b"id,q1\n" + b"a,1\n" * 40000 + "b,\u00e9\n".encode() + b"c,\xe9\n")
    with pytest.raises(DataError, match=exactly(
            f"{path}: line 40003 is not valid UTF-8 (byte 0xe9); the file is in another "
            "encoding: pass encoding=, e.g. encoding='cp1252' (Excel on Windows, Western "
            "Europe) or encoding='latin-1'")):
        pv.read_responses(path)


def test_encoding_errors(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes("id,q1\na,1\n".encode("utf-16"))
    with pytest.raises(DataError, match=exactly(
            f"{path}: the file starts with a UTF-16 byte-order mark, but encoding='cp1252' was "
            "given; drop encoding= (the mark names the encoding) or re-save the file")):
        pv.read_responses(path, encoding="cp1252")
    with pytest.raises(DataError, match=exactly(
            "encoding='klingon' is not an encoding Python knows; e.g. 'utf-8', 'utf-16', "
            "'cp1252', 'latin-1'")):
        pv.read_responses(path, encoding="klingon")
    path.write_bytes("id,q1\na,1\n".encode("utf-16-le"))  # no mark
    with pytest.raises(DataError, match=exactly(
            f"{path}: cannot read the file: it holds NUL bytes, so it is not text in 'utf-8' "
            "(a binary file, or UTF-16 text without a byte-order mark); if it is UTF-16 text "
            "pass encoding='utf-16-le' (or 'utf-16-be'), else save the data as CSV")):
        pv.read_responses(path)
    assert pv.read_responses(path, encoding="utf-16-le").items == ("id", "q1")
    path.write_bytes("id,q1\nJosé,1\n".encode("cp1252"))
    with pytest.raises(DataError, match=exactly(
            f"{path}: line 2 cannot be read as 'utf-16' (byte 0x0a); check encoding= (UTF-8 "
            "files need none)")):
        pv.read_responses(path, encoding="utf-16")


# -- 5. corrupt or mislabelled files -----------------------------------------------------------


def _real_files(tmp_path):
    df = pd.DataFrame({"q1": [1, 2], "q2": [3, 4]})
    df.to_excel(tmp_path / "real.xlsx", index=False)
    df.to_parquet(tmp_path / "real.parquet")
    con = sqlite3.connect(tmp_path / "real.sqlite")
    df.to_sql("t", con, index=False)
    con.close()
    return {k: (tmp_path / f"real.{k}").read_bytes() for k in ("xlsx", "parquet", "sqlite")}


@pytest.mark.parametrize(("name", "content", "message"), [
    ("x.xlsx", b"q1,q2\n1,2\n",
     "cannot read the file: BadZipFile: File is not a zip file; not a readable Excel workbook "
     "(.xlsx) (it looks like delimited text: name it *.csv); open and re-save it in Excel, or "
     "export the sheet as CSV"),
    ("x.xlsx", "sqlite",
     "cannot read the file: BadZipFile: File is not a zip file; not a readable Excel workbook "
     "(.xlsx) (it is a SQLite database: name it *.sqlite); open and re-save it in Excel, or "
     "export the sheet as CSV"),
    ("x.xlsx", "xlsx[:300]",
     "cannot read the file: BadZipFile: File is not a zip file; not a readable Excel workbook "
     "(.xlsx) (it starts like a ZIP archive (an Excel .xlsx workbook?) but is damaged); open "
     "and re-save it in Excel, or export the sheet as CSV"),
    ("x.parquet", b"PAR1 not really parquet",
     "cannot read the file: ArrowInvalid: "),
    ("x.parquet", "xlsx",
     "cannot read the file: ArrowInvalid: "),
    ("x.sqlite", b"not a database" * 100,
     "cannot read the file: DatabaseError: file is not a database; not a readable SQLite "
     "database (it looks like delimited text: name it *.csv); check that the file is the "
     "database you meant"),
    ("x.db", "parquet",
     "cannot read the file: DatabaseError: file is not a database; not a readable SQLite "
     "database (it is a Parquet file: name it *.parquet); check that the file is the database "
     "you meant"),
    ("x.duckdb", b"not a database" * 100,
     "cannot read the file: IOException: IO Error: The file "),
    ("x.csv", "xlsx",
     "cannot read the file: it is a ZIP archive (an Excel .xlsx workbook?), not delimited "
     "text; name it *.xlsx"),
    ("x.csv", "parquet",
     "cannot read the file: it is a Parquet file, not delimited text; name it *.parquet"),
    ("x.csv", "sqlite",
     "cannot read the file: it is a SQLite database, not delimited text; name it *.sqlite"),
    ("x.csv", bytes(range(256)) * 4,
     "cannot read the file: it holds NUL bytes, so it is not text in 'utf-8' (a binary file, "
     "or UTF-16 text without a byte-order mark); if it is UTF-16 text pass "
     "encoding='utf-16-le' (or 'utf-16-be'), else save the data as CSV"),
    ("x.csv", b"\x1f\x8b\x08\x00rest",
     "cannot read the file: it is a gzip-compressed file, not delimited text; save the data "
     "as CSV"),
])
def test_corrupt_and_mislabelled_files(tmp_path, name, content, message):
    real = _real_files(tmp_path)
    if isinstance(content, str):
        key, _, cut = content.partition("[:")
        content = real[key][:int(cut[:-1])] if cut else real[key]
    path = tmp_path / name
    path.write_bytes(content)
    query = "SELECT * FROM t" if name.endswith((".sqlite", ".db", ".duckdb")) else None
    with pytest.raises(DataError) as info:
        pv.read_responses(path, query=query)
    assert str(info.value).startswith(f"{path}: {message}"), str(info.value)
    if message.endswith(": "):  # the library's own words follow: still one line with the fix
        assert "\n" not in str(info.value) and str(info.value).rstrip().endswith(
            ("re-export it, or save the data as CSV", "check that the file is the database "
             "you meant"))


def test_sqlite_paths_with_hash_and_question_mark_open_that_file_read_only(tmp_path):
    folder = tmp_path / "a#b?c"
    folder.mkdir()
    path = folder / "r#1?.sqlite"
    con = sqlite3.connect(path)
    pd.DataFrame({"id": ["007", "7"], "q1": [1, 2]}).to_sql("t", con, index=False)
    con.close()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    table = pv.read_responses(path, query="SELECT * FROM t", id_column="id")
    assert list(table.ids) == ["007", "7"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no other file was created
    with pytest.raises(DataError, match=exactly(
            f"{path}: the query failed: attempt to write a readonly database; tables are 't'")):
        pv.read_responses(path, query="INSERT INTO t VALUES ('x', 3)")


# -- 6. dates, booleans, duplicate names ----------------------------------------------------------


def test_date_columns_are_refused_by_name(tmp_path):
    import duckdb

    df = pd.DataFrame({"when": pd.to_datetime(["2020-01-01", "2020-02-01"]), "q1": [1, 2]})
    df.to_parquet(tmp_path / "d.parquet")
    df.to_excel(tmp_path / "d.xlsx", index=False)
    con = duckdb.connect(str(tmp_path / "d.duckdb"))
    con.execute("CREATE TABLE t AS SELECT * FROM df")
    con.close()
    cases = {"DataFrame": dict(source=df), str(tmp_path / "d.parquet"): {},
             str(tmp_path / "d.xlsx"): {},
             str(tmp_path / "d.duckdb"): dict(query="SELECT * FROM t")}
    for label, kwargs in cases.items():
        kwargs.setdefault("source", label)
        # the unit is the reader's (pandas 3 and Arrow: us; pandas 2.2 frames: ns)
        with pytest.raises(DataError, match=exactly(
                f"{label}: item 'when' holds dates or times (datetime64[UNIT]); responses must "
                "be numbers or text codes: leave the column out (items=) or convert it"
        ).replace("UNIT", "(?:ns|us)")):
            pv.read_responses(**kwargs)
        assert pv.read_responses(**kwargs, items=["q1"]).items == ("q1",)
    obj = pd.DataFrame({"when": np.array([pd.Timestamp("2020-01-01").date(), None]),
                        "q1": [1, 2]})
    with pytest.raises(DataError, match=exactly(
            "DataFrame: item 'when' holds dates or times (date); responses must be numbers "
            "or text codes: leave the column out (items=) or convert it")):
        pv.read_responses(obj)
    assert pv.read_responses(df, id_column="when").ids.equals(
        pd.DatetimeIndex(df["when"], name="when"))  # dates may be ids


def test_booleans_are_one_and_zero_from_every_source(tmp_path, parser):
    import duckdb

    df = pd.DataFrame({"q": [True, False, True]})
    (tmp_path / "b.csv").write_text("q\nTRUE\nfalse\nTrue\n")  # R, lower case, pandas
    df.to_parquet(tmp_path / "b.parquet")
    df.to_excel(tmp_path / "b.xlsx", index=False)
    con = sqlite3.connect(tmp_path / "b.sqlite")
    df.to_sql("t", con, index=False)
    con.close()
    con = duckdb.connect(str(tmp_path / "b.duckdb"))
    con.execute("CREATE TABLE t AS SELECT * FROM df")
    con.close()
    sources = [dict(source=df), dict(source=df.astype(object)),
               dict(source=df.astype("boolean")), dict(source=tmp_path / "b.csv"),
               dict(source=tmp_path / "b.parquet"), dict(source=tmp_path / "b.xlsx"),
               dict(source=tmp_path / "b.sqlite", query="SELECT * FROM t"),
               dict(source=tmp_path / "b.duckdb", query="SELECT * FROM t")]
    for kwargs in sources:
        table = pv.read_responses(**kwargs)
        assert table.values["q"].tolist() == [1.0, 0.0, 1.0], kwargs
        assert table.text_items == ()
    # a multiple-choice item with options True/False reads booleans as those options
    fw = read_fw(one_tier([{"id": "q", "type": "multiple_choice",
                                      "options": ["True", "False"], "answer_key": "False"}]))
    for kwargs in sources[:4]:
        scored = fw.score(kwargs["source"])
        assert scored.options["q"].tolist() == ["True", "False", "True"]
        assert scored.scores["q"].tolist() == [0.0, 1.0, 0.0]


def test_duplicate_item_names(tmp_path):
    df = pd.DataFrame({"q1": [1, 2], "q2": [3, 4]})
    with pytest.raises(DataError, match=exactly(
            "DataFrame: items= lists 'q1' more than once; name each item once")):
        pv.read_responses(df, items=["q1", "q1"])
    with pytest.raises(DataError, match=exactly(
            "data: items= lists 'q1' more than once; name each item once")):
        as_item_matrix(df, items=["q1", "q1"])
    with pytest.raises(DataError, match=exactly(
            "item(s) 'q1' listed more than once; name each item once")):
        pv.read_responses(df).select(["q1", "q2", "q1"])
    odd = pd.DataFrame([[1, 2], [3, 4]], columns=[1, "1"])
    message = ("columns 1 and '1' (positions 1 and 2) both have the name '1' as text; item "
               "names are text, so rename one of them")
    with pytest.raises(DataError, match=exactly(f"DataFrame: {message}")):
        pv.read_responses(odd)
    with pytest.raises(DataError, match=exactly(f"data: {message}")):
        pv.alpha(odd)
    path = tmp_path / "r.csv"
    path.write_text("id,q1\na,1\n")
    with pytest.raises(DataError, match=exactly(
            f"{path}: 'id' is the id column; leave it out of items=")):
        pv.read_responses(path, id_column="id", items=["id", "q1"])


# -- both text parsers agree; the DataFrame fast path ---------------------------------------------


def test_both_parsers_read_awkward_text_identically(tmp_path, monkeypatch):
    path = tmp_path / "awkward.csv"
    body = ('\ufeffid;q1;q2;note\r\n'
            '007; 3 ;"4";"said ""hi"""\r\n'
            '\r\n'
            ' 8 ;;NA;"two\nlines"\r\n'
            '9;5\r\n'                      # a short row: its last cells are empty
            '010;1.0;-0;  \r\n')
    path.write_bytes(body.encode("utf-8"))
    arrow = pv.read_responses(path, id_column="id")
    monkeypatch.setattr(read_module, "_arrow_available", lambda: False)
    plain = pv.read_responses(path, id_column="id")
    assert arrow == plain
    assert_frame_equal(arrow.raw, plain.raw)
    assert list(arrow.ids) == ["007", "8", "9", "010"]
    assert arrow.raw["note"].tolist() == ['said "hi"', "two\nlines", np.nan, np.nan]
    assert arrow.raw["q2"].tolist()[1] == "NA" and np.signbit(arrow.raw["q2"].tolist()[3])


def test_dataframe_fast_path_matches_the_array_path():
    rng = np.random.default_rng(0)
    x = np.clip(np.round(3 + rng.normal(size=(5000, 1)) + rng.normal(size=(5000, 7))), 1, 5)
    # a copy: pandas 2.2 wraps the array without copying, and x is changed below
    df = pd.DataFrame(x.copy(), columns=[f"q{j}" for j in range(7)])
    m = as_item_matrix(df)
    assert m.values.flags.c_contiguous and m.complete
    np.testing.assert_array_equal(m.values, x)
    kept, info = apply_missing(m, "listwise")
    assert kept is m and info.n_used == 5000 and not info.any_missing
    x[17, 3] = np.nan
    m = as_item_matrix(pd.DataFrame(x, columns=df.columns))
    assert not m.complete
    assert apply_missing(m, "listwise")[1].rows_dropped == (17,)
    x[17, 3] = np.inf
    with pytest.raises(DataError, match=exactly(
            "item 'q3' has an infinite value at row 18; responses must be finite numbers or "
            "missing")):
        as_item_matrix(pd.DataFrame(x, columns=df.columns))
    ints = pd.DataFrame(rng.integers(1, 6, size=(10, 3)), columns=list("abc"))
    np.testing.assert_array_equal(as_item_matrix(ints).values, ints.to_numpy(dtype=float))
    assert pv.alpha(df).raw_alpha == pv.alpha(np.ascontiguousarray(df.to_numpy())).raw_alpha
