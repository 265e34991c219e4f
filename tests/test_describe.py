"""pv.describe against psych::describe (psych 2.2.9): tests/reference/r/describe.R ->
tests/reference/ref_extra/describe.json. Every check is asserted or listed in XFAIL."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import psychoval as pv
from tests._tolerances import assert_close
from tests.reference._refs import extra_checks, load_data

SAMPLE = Path(pv.__file__).parent / "datasets" / "data" / "responses.csv"

# check id -> reason it is not compared value by value (each still asserted in its own test)
XFAIL = {
    "bfi.describe.type1": (
        "psych's kurtosi(type = 1) on a matrix divides m4 by length(x[, i]), the rows "
        "including missing cells, instead of the answered cells; we use the answered cells. "
        "Measured gap on bfi A1-A5 (9-27 missing of 2800): up to 0.33 relative in kurtosis; "
        "test_type1_kurtosis_gap_is_psych_row_count reproduces psych's number exactly"),
}


def _data(check_id: str) -> tuple[pd.DataFrame, dict]:
    bfi = load_data("bfi")
    cases = {
        "bfi.describe": (bfi, {}),
        "bfi.describe.trim2": (bfi, {"trim": 0.2}),
        "bfi_complete.describe.type1": (bfi.iloc[:, :25].dropna(), {"type": 1}),
        "bfi_complete.describe.type2": (bfi.iloc[:, :25].dropna(), {"type": 2}),
        "bfi.describe.type1": (bfi.iloc[:, :5], {"type": 1}),
        "sample.describe": (pd.read_csv(SAMPLE).select_dtypes("number"), {}),
        "bfi_small.describe": (bfi.loc[:6, ["A1", "A2", "age"]], {}),
    }
    return cases[check_id]


REFS = extra_checks("describe")


def test_every_check_is_compared_or_listed():
    for cid in REFS:
        _data(cid)  # raises KeyError for a check without a case
    assert set(XFAIL) <= set(REFS)


@pytest.mark.parametrize("check_id", sorted(set(REFS) - set(XFAIL)))
def test_matches_psych_describe(check_id):
    data, kw = _data(check_id)
    res = pv.describe(data, **kw)
    ref = REFS[check_id]["values"]
    assert list(res.table.columns) == list(ref)  # psych's columns, psych's order
    for col, vals in ref.items():
        assert list(res.table.index) == list(vals)
        assert_close(res.table[col].to_numpy(dtype=float), list(vals.values()), "closed_form",
                     what=f"{check_id} {col}")


def test_type1_kurtosis_gap_is_psych_row_count():
    data, kw = _data("bfi.describe.type1")
    ref = REFS["bfi.describe.type1"]["values"]
    res = pv.describe(data, **kw).table
    for col in ("n", "mean", "sd", "median", "trimmed", "mad", "skew", "se"):
        assert_close(res[col].to_numpy(dtype=float), list(ref[col].values()), "closed_form")
    psych_kurt = (res["kurtosis"] + 3) * len(data) / res["n"] - 3
    assert_close(psych_kurt.to_numpy(), list(ref["kurtosis"].values()), "closed_form")
    assert not np.allclose(res["kurtosis"], list(ref["kurtosis"].values()), atol=1e-3)


def test_result_face():
    res = pv.describe(load_data("bfi").iloc[:50, :3])
    assert repr(res) == "<DescribeResult items=3, n_total=50>"
    frame = res.to_frame()
    assert list(frame.columns[:3]) == ["item", "vars", "n"]
    assert frame["item"].tolist() == ["A1", "A2", "A3"]
    assert "Descriptive statistics" in str(res.summary())
    assert "<table" in res._repr_html_()
    d = res.to_dict()
    assert d["schema"] == "psychoval.describe/1" and d["trim"] == 0.1
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.trim = 0.2  # type: ignore[misc]


def test_all_missing_and_constant_columns():
    df = pd.DataFrame({"a": [np.nan, np.nan, np.nan], "b": [2.0, 2.0, 2.0],
                       "c": [1.0, 2.0, np.nan]})
    t = pv.describe(df).table
    assert t.loc["a", "n"] == 0 and t.loc["a"].drop(["vars", "n"]).isna().all()
    assert t.loc["b", "sd"] == 0 and np.isnan(t.loc["b", "skew"])  # psych: NaN (0/0)
    assert t.loc["c", "n"] == 2 and t.loc["c", "mean"] == 1.5 and t.loc["c", "range"] == 1


def test_does_not_mutate_and_selects_items():
    df = load_data("bfi").iloc[:20, :4].copy()
    before = df.copy()
    res = pv.describe(df, items=["A3", "A1"])
    pd.testing.assert_frame_equal(df, before)
    assert res.items == ("A3", "A1") and res["vars"].tolist() == [1, 2]


def test_bad_input_messages():
    with pytest.raises(pv.SpecificationError, match=r"trim=0\.5 must be in \[0, 0\.5\)"):
        pv.describe(np.ones((3, 2)), trim=0.5)
    with pytest.raises(pv.SpecificationError, match="type=4 is not one of 1, 2, 3"):
        pv.describe(np.ones((3, 2)), type=4)
    with pytest.raises(pv.DataError, match="'g'.*non-numeric"):
        pv.describe(pd.DataFrame({"x": [1, 2], "g": ["a", "b"]}))


@settings(deadline=None, max_examples=25)
@given(arrays(np.float64, st.tuples(st.integers(4, 30), st.integers(1, 3)),
              elements=st.integers(1, 7).map(float)))
def test_matches_direct_formulas(x):
    """Type 3 skew/kurtosis and the trimmed mean against their textbook forms; order of
    respondents does not matter."""
    res = pv.describe(x).table
    shuffled = pv.describe(x[::-1]).table
    pd.testing.assert_frame_equal(res, shuffled, rtol=1e-10, atol=1e-12)
    for j in range(x.shape[1]):
        c = x[:, j]
        n = c.size
        s = c.std(ddof=1)
        cut = int(np.floor(n * 0.1))
        srt = np.sort(c)
        assert_close(res["trimmed"].iloc[j], srt[cut:n - cut].mean(), "closed_form")
        assert_close(res["se"].iloc[j], s / np.sqrt(n), "closed_form")
        if s > 0:
            d = c - c.mean()
            assert_close(res["skew"].iloc[j], (d ** 3).mean() / s ** 3, "closed_form")
            assert_close(res["kurtosis"].iloc[j], (d ** 4).mean() / s ** 4 - 3, "closed_form")
