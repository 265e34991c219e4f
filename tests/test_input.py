"""The shared validation step: every accepted input becomes one clean matrix, or a clear error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval._input import apply_missing, as_item_matrix
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._moments import pairwise_moments


def test_three_input_types_agree():
    arr = np.array([[1, 2], [3, 5], [2, 2.5]])
    df = pd.DataFrame(arr, columns=["a", "b"])
    table = pv.read_responses(df)
    for data in (arr, df, table):
        m = as_item_matrix(data)
        np.testing.assert_array_equal(m.values, arr)
        assert m.values.flags.c_contiguous and m.values.dtype == np.float64
    assert as_item_matrix(df).items == ("a", "b")
    assert as_item_matrix(arr).items == ("item1", "item2")


def test_text_code_names_item_row_and_value():
    df = pd.DataFrame({"id": ["p1", "p2"], "q1": ["1", "x"]})
    table = pv.read_responses(df, id_column="id")
    with pytest.raises(DataError, match=r"item 'q1' has the non-numeric code 'x' at row 2 \(id 'p2'\)"):
        as_item_matrix(table)
    with pytest.raises(DataError, match=r"non-numeric code 'x' at row 2"):
        as_item_matrix(df[["q1"]])


def test_shape_and_value_errors():
    with pytest.raises(DataError, match=r"must be 2-d .* shape \(3,\)"):
        as_item_matrix(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(DataError, match="has 1 item.*at least 2"):
        as_item_matrix(np.ones((3, 1)), min_items=2)
    with pytest.raises(DataError, match="item 'item2' has an infinite value at row 1"):
        as_item_matrix(np.array([[1.0, np.inf], [1.0, 2.0]]))


def test_missing_policies():
    x = np.array([[1, 2], [np.nan, 3], [2, 1], [4, 4.0]])
    m = as_item_matrix(pd.DataFrame(x, columns=["a", "b"]))
    kept, info = apply_missing(m, "listwise")
    assert kept.n == 3 and info.rows_dropped == (1,) and info.n_used == 3 and info.n_total == 4
    same, info = apply_missing(m, "pairwise")
    assert same.n == 4 and info.rows_dropped == () and info.any_missing
    with pytest.raises(DataError, match=r"item 'a' is missing at row 2 \(1 missing cell"):
        apply_missing(m, "raise")
    with pytest.raises(SpecificationError, match="missing='drop' is not one of"):
        apply_missing(m, "drop")


def test_pairwise_moments_match_pandas():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 5))
    x[rng.random(x.shape) < 0.1] = np.nan
    mom = pairwise_moments(x)
    expected = pd.DataFrame(x).cov().to_numpy()  # pandas uses pairwise-complete observations
    np.testing.assert_allclose(mom.cov, expected, rtol=1e-12)
    obs = (~np.isnan(x)).astype(int)
    np.testing.assert_array_equal(mom.n_pairwise, obs.T @ obs)
    full = pairwise_moments(np.nan_to_num(x))
    np.testing.assert_allclose(full.cov, np.cov(np.nan_to_num(x), rowvar=False), rtol=1e-12)
    np.testing.assert_allclose(np.diag(full.cor), 1.0)


def test_dataframe_copied_in_threads_and_blocks_is_the_same(monkeypatch):
    import psychoval._input as input_module

    rng = np.random.default_rng(5)
    x = rng.normal(size=(1003, 7))
    x[500, 2] = np.nan
    df = pd.DataFrame(x, columns=list("abcdefg"), index=pd.RangeIndex(10, 1013))
    whole = as_item_matrix(df)
    monkeypatch.setattr(input_module, "_THREADED_COPY_CELLS", 1)
    monkeypatch.setattr(input_module, "_COPY_ROWS_BYTES", 8 * 7 * 10)  # 64-row blocks
    split = as_item_matrix(df)
    for m in (whole, split):
        np.testing.assert_array_equal(m.values, x)
        assert m.values.flags.c_contiguous and not m.complete
        assert m.ids.equals(df.index) and m.items == tuple("abcdefg")
    df.iloc[500, 2] = 0.0
    assert as_item_matrix(df).complete
    with pytest.raises(DataError, match=r"^item 'b' has an infinite value at row 1 \(id 10\); "):
        as_item_matrix(df.assign(b=np.inf))
    # a column subset and integer columns take the same route
    sub = as_item_matrix(df.assign(h=np.arange(1003)), items=["h", "a"])
    np.testing.assert_array_equal(sub.values[:, 0], np.arange(1003.0))
