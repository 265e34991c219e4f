"""Streaming input (issue 22, section 2): pv.scan_responses over Parquet (file and folder), CSV
and DuckDB with the cell rules of read_responses; exact streamed data-quality counts against
check_data; the bottom-k sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import psychoval as pv
from psychoval.pipeline._stream import _Sample, bottom_k_keys
from tests._tolerances import assert_close

RAW = pd.DataFrame({
    "id": ["007", "7", "0x1", "1e3", "12", "13", "14", "15", "16", "17", "007"],
    "q1": [1, 2, None, 4, 5, 1, 2, 3, 9, 1, 2],
    "q2": ["A", "3", " 4", "", None, "-99", "2", "NA", "5", "1", "2"],
    "q3": [1.5, 2.0, 3.0, None, 1.0, 2.0, 3.0, 4.0, 5.0, 1.0, -99.0],
})


def _all(scan) -> pv.ResponseTable:
    """Every batch of a scan as one table (the cell rules applied to all rows at once)."""
    batches = list(scan.batches())
    return scan.to_table(pa.Table.from_batches(batches))


def _concat(tables) -> tuple[pd.DataFrame, list]:
    """The values (index dropped) and the ids of a pass, batch after batch."""
    tables = list(tables)
    values = pd.concat([t.values for t in tables]).reset_index(drop=True)
    return values, [i for t in tables for i in t.ids]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream")
    out = {"csv": d / "r.csv", "parquet": d / "r.parquet", "folder": d / "parts",
           "duckdb": d / "r.duckdb"}
    RAW.to_csv(out["csv"], index=False)
    typed = RAW.assign(q2=RAW["q2"].astype(object))
    typed.to_parquet(out["parquet"], index=False)
    out["folder"].mkdir()
    typed.iloc[:6].to_parquet(out["folder"] / "part0.parquet", index=False)
    typed.iloc[6:].to_parquet(out["folder"] / "part1.parquet", index=False)
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect(str(out["duckdb"]))
    con.register("typed", typed)
    con.execute("CREATE TABLE responses AS SELECT * FROM typed")
    con.close()
    return out


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_scan_equals_read_responses(files, kind):
    path = files[kind]
    scan = pv.scan_responses(path, id_column="id", batch_size=3, missing_codes=[-99])
    tables = list(scan.tables())
    assert [t.n_respondents for t in tables] == [3, 3, 3, 2]
    full = pv.read_responses(path, id_column="id", missing_codes=[-99])
    assert _all(scan) == full
    values, ids = _concat(tables)
    pd.testing.assert_frame_equal(values, full.values.reset_index(drop=True))
    assert ids == list(full.ids)
    assert ids[:2] == (["007", "7"] if kind == "csv" else ["007", "7"])
    # text codes kept as written, positions within each batch
    assert tables[0].raw.loc["007", "q2"] == "A"
    assert tables[2].text_items == ("q2",) and tables[2].raw["q2"].iloc[1] == "NA"


def test_csv_rows_numbered_across_batches_without_ids(files):
    scan = pv.scan_responses(files["csv"], items=["q1", "q3"], batch_size=4)
    tables = list(scan.tables())
    assert len(tables) == 3
    assert [list(t.ids) for t in tables] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    assert _all(scan) == pv.read_responses(files["csv"], items=["q1", "q3"])
    assert tables[2].values["q1"].tolist() == [9.0, 1.0, 2.0]


def test_parquet_folder_is_one_source(files):
    scan = pv.scan_responses(files["folder"], id_column="id", batch_size=4)
    values, ids = _concat(scan.tables())
    full = pv.read_responses(files["parquet"], id_column="id")
    pd.testing.assert_frame_equal(values, full.values.reset_index(drop=True))
    assert ids == list(full.ids)
    assert scan.count_rows() == 11


def test_duckdb_query(files):
    query = "SELECT id, q1, q3 FROM responses WHERE q1 IS NOT NULL"
    scan = pv.scan_responses(files["duckdb"], query=query, id_column="id", batch_size=2)
    full = pv.read_responses(files["duckdb"], query=query, id_column="id")
    values, ids = _concat(scan.tables())
    pd.testing.assert_frame_equal(values, full.values.reset_index(drop=True))
    assert ids == list(full.ids) == ["007", "7", "1e3", "12", "13", "14", "15", "16", "17",
                                     "007"]
    assert scan.columns == ["id", "q1", "q3"]


def test_errors_name_the_fix(files, tmp_path):
    with pytest.raises(pv.DataError, match="id column 'ID' does not exist"):
        pv.scan_responses(files["csv"], id_column="ID")
    with pytest.raises(pv.DataError, match="needs query="):
        pv.scan_responses(files["duckdb"])
    with pytest.raises(pv.DataError, match="unknown file type '.xls'"):
        (tmp_path / "r.xls").write_bytes(b"x")
        pv.scan_responses(tmp_path / "r.xls")
    with pytest.raises(pv.DataError, match="batch_size=0"):
        pv.scan_responses(files["csv"], batch_size=0)
    with pytest.raises(pv.DataError, match="not among the columns"):
        pv.scan_responses(files["parquet"], items=["q9"])
    bad = tmp_path / "long.csv"
    bad.write_text("id,q1\n1,2\n2,3,4\n")
    with pytest.raises(pv.DataError, match="as many cells as the header"):
        list(pv.scan_responses(bad).tables())
    empty_id = tmp_path / "noid.csv"
    empty_id.write_text("id,q1\n1,2\n,3\n")
    with pytest.raises(pv.DataError, match="empty at row 2"):
        list(pv.scan_responses(empty_id, id_column="id", batch_size=1).tables())


def test_scan_quality_equals_check_data_without_framework(files):
    scan = pv.scan_responses(files["csv"], id_column="id", batch_size=3, missing_codes=[-99])
    q = pv.scan_quality(scan)
    ref = pv.check_data(pv.read_responses(files["csv"], id_column="id", missing_codes=[-99]))
    for field in ("n_respondents", "n_columns", "n_cells", "n_missing_cells",
                  "n_out_of_range", "n_invalid_codes", "n_all_missing_rows",
                  "n_duplicate_ids", "min_pairwise_n"):
        assert getattr(q, field) == getattr(ref, field), field
    cols = ["column", "type", "n", "n_missing", "n_out_of_range", "n_invalid_codes",
            "n_distinct", "constant", "min", "max"]
    pd.testing.assert_frame_equal(q.items[cols], ref.items[cols], check_dtype=False)
    assert_close(q.items["mean"], ref.items["mean"], "closed_form", what="mean")
    assert_close(q.items["sd"], ref.items["sd"], "closed_form", what="sd")
    pd.testing.assert_frame_equal(q.categories, ref.categories, check_dtype=False)
    # '007' twice (rows 1 and 11): found by the hashes, confirmed by the ids themselves
    assert q.duplicate_ids.to_dict("records") == [{"id": "007", "count": 2, "rows": "1, 11"}]
    assert q.n_invalid_codes == 2  # 'A' and 'NA' in q2 ('-99' is a missing code)
    assert sorted(q.invalid_cells["value"]) == sorted(ref.invalid_cells["value"])


def test_scan_quality_equals_check_data_with_framework(tmp_path):
    from psychoval.datasets import sample_framework

    fw = sample_framework()
    raw = pv.load_sample().raw.reset_index()
    raw.loc[[3, 700], "PRM1"] = 9  # out of range
    raw.loc[5, "respondent_id"] = raw.loc[900, "respondent_id"]  # a duplicated id
    path = tmp_path / "s.parquet"
    raw.to_parquet(path, index=False)
    q = pv.scan_quality(pv.scan_responses(path, batch_size=256), fw)
    ref = pv.check_data(raw, fw)
    for field in ("n_respondents", "n_columns", "n_missing_cells", "n_out_of_range",
                  "n_invalid_codes", "n_all_missing_rows", "n_duplicate_ids",
                  "min_pairwise_n"):
        assert getattr(q, field) == getattr(ref, field), field
    cols = ["column", "item", "competency", "type", "n", "n_missing", "n_out_of_range",
            "n_invalid_codes", "n_distinct", "constant", "min", "max"]
    pd.testing.assert_frame_equal(q.items[cols], ref.items[cols], check_dtype=False)
    assert_close(q.items["mean"], ref.items["mean"], "closed_form", what="mean")
    pd.testing.assert_frame_equal(q.categories, ref.categories, check_dtype=False)
    assert q.n_out_of_range == 2 and q.n_duplicate_ids == 1
    pd.testing.assert_frame_equal(q.duplicate_ids, ref.duplicate_ids, check_dtype=False)


def test_bottom_k_sample_does_not_depend_on_batches(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"q1": rng.integers(1, 6, 1000)})
    path = tmp_path / "x.parquet"
    frame.to_parquet(path, index=False)
    picked = []
    for batch_size in (37, 1000):
        scan = pv.scan_responses(path, batch_size=batch_size)
        sample = _Sample(100, seed=5)
        start = 0
        for batch in scan.batches():
            sample.offer(batch, start)
            start += batch.num_rows
        table = sample.table(scan)
        picked.append(list(table.ids))
        assert table.values["q1"].tolist() == frame["q1"].iloc[table.ids].tolist()
    assert picked[0] == picked[1] and len(picked[0]) == 100
    # the 100 smallest keys of rows 0..999, in file order
    keys = bottom_k_keys(np.arange(1000), 5)
    assert picked[0] == sorted(np.argsort(keys)[:100].tolist())


def test_bottom_k_keys_are_uniform():
    keys = bottom_k_keys(np.arange(200_000), 1)
    counts = np.bincount((keys >> np.uint64(60)).astype(np.int64), minlength=16)
    chi2 = float(((counts - 12_500) ** 2 / 12_500).sum())
    assert chi2 < 37.7  # chi-square(15) .999 point
    assert not np.array_equal(keys[:100], bottom_k_keys(np.arange(100), 2))


def test_parquet_row_groups_stream(tmp_path):
    """A Parquet file written in row groups is read batch by batch, never whole."""
    path = tmp_path / "rg.parquet"
    table = pa.table({"q1": pa.array(np.arange(5000) % 5 + 1, pa.int8())})
    pq.write_table(table, path, row_group_size=1000)
    sizes = [b.num_rows for b in pv.scan_responses(path, batch_size=700).batches()]
    assert sum(sizes) == 5000 and max(sizes) <= 700
