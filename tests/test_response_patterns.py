"""ResponsePatterns: the mergeable table of response patterns (psychoval.stats.core._tables).

Every check compares the merged chunks with an independent computation on the concatenated
rows: the table from one array, pandas' value counts and crosstabs, and the in-memory
polychoric and ordinal CFA paths.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core import _tables

RP = pv.ResponsePatterns


def assert_close(actual, expected, *, rtol, atol, err_msg=""):
    """In-memory path against merged chunks (no R reference: the tolerances of the brief,
    1e-10 for polychorics, 1e-8 relative for the fit)."""
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=err_msg)
MODEL = "f1 =~ q1 + q2 + q3\nf2 =~ q4 + q5 + q6"


def _same(a: RP, b: RP) -> None:
    """Two tables are equal: items, levels, patterns (canonical order) and counts."""
    assert a.columns == b.columns
    assert len(a.levels) == len(b.levels)
    for la, lb in zip(a.levels, b.levels, strict=True):
        np.testing.assert_array_equal(la, lb)
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.freq, b.freq)


def _chunks(df: pd.DataFrame, parts: int) -> list[pd.DataFrame]:
    edges = np.linspace(0, len(df), parts + 1).astype(int)
    return [df.iloc[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _likert(n: int, k: int, *, missing: float = 0.0, seed: int = 0,
            two_factors: bool = False) -> pd.DataFrame:
    """5-category items from a normal factor model, ``missing`` of the cells blanked."""
    rng = np.random.default_rng(seed)
    lam = np.linspace(0.8, 0.6, k)
    if two_factors:
        f = rng.standard_normal((n, 2)) @ np.linalg.cholesky([[1, .4], [.4, 1]]).T
        common = f[:, np.arange(k) * 2 // k]
    else:
        common = rng.standard_normal((n, 1))
    z = common * lam + rng.standard_normal((n, k)) * np.sqrt(1 - lam ** 2)
    x = np.digitize(z, [-1.2, -0.4, 0.3, 1.1]).astype(float) + 1
    x[rng.random(x.shape) < missing] = np.nan
    return pd.DataFrame(x, columns=[f"q{j + 1}" for j in range(k)])


# -- the table ------------------------------------------------------------------------------


@st.composite
def _blocks(draw):
    n = draw(st.integers(0, 60))
    k = draw(st.integers(1, 5))
    levels = draw(st.integers(1, 6))
    cells = draw(st.lists(st.one_of(st.none(), st.integers(-2, levels - 3)),
                          min_size=n * k, max_size=n * k))
    x = np.array([np.nan if c is None else c / 2.0 for c in cells], dtype=float)
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    return x.reshape(n, k), cuts


@settings(deadline=None, max_examples=50)
@given(_blocks())
def test_merged_chunks_equal_the_concatenation_exactly(block):
    x, cuts = block
    cols = [f"i{j}" for j in range(x.shape[1])]
    whole = RP.from_array(x, columns=cols)
    parts = [RP.from_array(p, columns=cols) for p in np.split(x, cuts)]
    _same(RP.merge(parts), whole)
    _same(sum(parts), whole)
    _same(RP.merge(parts[::-1]), whole)  # order of the chunks does not matter
    assert whole.n == x.shape[0]
    assert whole.n_complete == int((~np.isnan(x)).all(axis=1).sum())
    # the patterns give back the rows (up to order)
    rows = np.repeat(whole.values(), whole.freq, axis=0)
    key = np.nan_to_num(rows, nan=-99.0)
    ref = np.nan_to_num(x, nan=-99.0)
    np.testing.assert_array_equal(key[np.lexsort(key.T[::-1])], ref[np.lexsort(ref.T[::-1])])


@pytest.mark.parametrize("k, cats", [(8, 10), (22, 10)])
def test_large_code_spaces(k, cats):
    """Code spaces beyond the bincount (11^8 > 2^22) and beyond 64 bits (11^22): the other
    two counting paths give the same canonical table."""
    rng = np.random.default_rng(k)
    x = rng.integers(0, cats, size=(3000, k)).astype(float)
    x[rng.random(x.shape) < 0.05] = np.nan
    x[::7] = x[3]  # repeated patterns
    whole = RP.from_array(x)
    _same(RP.merge([RP.from_array(p, columns=whole.columns) for p in np.array_split(x, 4)]),
          whole)
    assert whole.freq.sum() == 3000 and whole.freq[whole.freq > 1].sum() >= 3000 // 7
    codes = whole.codes.astype(np.int64)
    order = np.lexsort(codes.T[::-1])
    np.testing.assert_array_equal(order, np.arange(len(order)))  # lexicographic


def test_tables_equal_pandas_counts():
    df = _likert(2000, 4, missing=0.1, seed=3)
    rp = RP.merge([RP.from_array(c) for c in _chunks(df, 3)])
    for item in df.columns:
        ref = df[item].value_counts().sort_index()
        got = rp.univariate(item)
        np.testing.assert_array_equal(got.index.to_numpy(), ref.index.to_numpy())
        np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())
    ref = pd.crosstab(df["q1"], df["q3"])  # pairwise complete rows
    got = rp.bivariate("q1", "q3")
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())
    np.testing.assert_array_equal(got.index.to_numpy(), ref.index.to_numpy())


def test_select_and_listwise_equal_the_rows_tables():
    df = _likert(1500, 5, missing=0.08, seed=4)
    rp = RP.merge([RP.from_array(c) for c in _chunks(df, 4)])
    _same(rp.select(["q4", "q2"]), RP.from_array(df[["q4", "q2"]]))
    _same(rp.listwise(), RP.from_array(df.dropna()))
    _same(rp.answered(), RP.from_array(df[df.notna().any(axis=1)]))


def test_json_round_trip_is_exact():
    df = _likert(800, 4, missing=0.05, seed=5)
    df.iloc[:, 0] = df.iloc[:, 0] * 0.1  # values that are not integers
    rp = RP.from_array(df)
    back = RP.from_dict(json.loads(json.dumps(rp.to_dict())))
    _same(back, rp)
    assert back.to_dict() == rp.to_dict()
    assert repr(rp) == f"ResponsePatterns(k=4, n=800, patterns={rp.n_patterns})"


def test_zeros_is_neutral():
    rp = RP.from_array(_likert(100, 3, seed=6))
    _same(RP.zeros(rp.columns) + rp, rp)
    _same(rp + RP.zeros(rp.columns), rp)


# -- refusals -------------------------------------------------------------------------------


def test_refusals():
    a = RP.from_array(_likert(50, 3, seed=7))
    b = RP.from_array(_likert(50, 3, seed=7).rename(columns={"q3": "zz"}))
    with pytest.raises(DataError, match="only in the first: \\['q3'\\]"):
        a + b
    with pytest.raises(DataError, match="more than 255"):
        RP.from_array(np.arange(600.0).reshape(300, 2))
    with pytest.raises(DataError, match="not a psychoval.response_patterns/1"):
        RP.from_dict({"schema": "psychoval.moments/1"})
    with pytest.raises(DataError, match="no chunks"):
        RP.merge([])
    miss = RP.from_array(_likert(200, 6, missing=0.1, seed=8, two_factors=True))
    with pytest.raises(DataError, match="miss an answer"):
        pv.polychoric(miss, missing="raise")
    with pytest.raises(DataError, match="miss an answer"):
        pv.cfa(MODEL, miss, missing="raise")
    with pytest.raises(SpecificationError, match="ordered=False"):
        pv.cfa(MODEL, miss, ordered=False)
    with pytest.raises(SpecificationError, match="continuous ones need the rows"):
        pv.cfa(MODEL, miss, ordered=["q1", "q2", "q3", "q4", "q5"])
    with pytest.raises(SpecificationError, match="group="):
        pv.cfa(MODEL, miss, group="school")


# -- polychoric ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["psych", "lavaan"])
@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_polychoric_equals_in_memory(method, missing):
    df = _likert(4000, 6, missing=0.05, seed=9)
    rp = RP.merge([RP.from_array(c) for c in _chunks(df, 5)])
    ref = pv.polychoric(df, method=method, missing=missing)
    got = pv.polychoric(rp, method=method, missing=missing)
    assert_close(got.rho.to_numpy(), ref.rho.to_numpy(), rtol=0, atol=1e-10)
    assert_close(got.thresholds.to_numpy(), ref.thresholds.to_numpy(), rtol=0, atol=1e-10)
    np.testing.assert_array_equal(got.n_pairwise.to_numpy(), ref.n_pairwise.to_numpy())
    assert got.n_obs == ref.n_obs
    assert (got.global_thresholds, got.corrected_cells) == (ref.global_thresholds,
                                                            ref.corrected_cells)


def test_polychoric_local_thresholds_and_tetrachoric():
    df = _likert(3000, 5, missing=0.05, seed=10)
    df["q5"] = df["q5"].clip(upper=4)  # items differ in their categories: psych's per-pair mode
    rp = RP.merge([RP.from_array(c) for c in _chunks(df, 3)])
    ref = pv.polychoric(df, items=["q1", "q3", "q5"])
    got = pv.polychoric(rp, items=["q1", "q3", "q5"])
    assert not ref.global_thresholds
    assert_close(got.rho.to_numpy(), ref.rho.to_numpy(), rtol=0, atol=1e-10)
    binary = (df > 3).where(df.notna())
    rb = RP.merge([RP.from_array(c) for c in _chunks(binary, 4)])
    for method in ("psych", "lavaan"):
        ref = pv.tetrachoric(binary, method=method)
        got = pv.tetrachoric(rb, method=method)
        assert_close(got.rho.to_numpy(), ref.rho.to_numpy(), rtol=0, atol=1e-10)


# -- ordinal CFA (WLSMV) ---------------------------------------------------------------------


def _fit_pair(df, rp, **kw):
    with warnings.catch_warnings(record=True) as wa:
        warnings.simplefilter("always")
        a = pv.cfa(MODEL, df, ordered=True, **kw)
    with warnings.catch_warnings(record=True) as wb:
        warnings.simplefilter("always")
        b = pv.cfa(MODEL, rp, **kw)
    assert [str(w.message) for w in wb] == [str(w.message) for w in wa]
    return a, b


def _assert_same_fit(a, b, rtol=1e-8):
    ea, eb = a.estimates(), b.estimates()
    assert ea[["lhs", "op", "rhs"]].equals(eb[["lhs", "op", "rhs"]])
    for col in ("est", "se", "z"):
        assert_close(eb[col].to_numpy(float), ea[col].to_numpy(float), rtol=rtol, atol=1e-14)
    fa, fb = a.fit_measures, b.fit_measures
    assert list(fa.keys()) == list(fb.keys())
    for key in fa.keys():
        assert_close(np.float64(fb[key]), np.float64(fa[key]), rtol=rtol, atol=1e-300,
                     err_msg=key)
    assert (b.n_obs, b.n_total) == (a.n_obs, a.n_total)


@pytest.mark.parametrize("estimator, parameterization", [("WLSMV", "delta"),
                                                         ("WLSMV", "theta"),
                                                         ("ULSMV", "delta"),
                                                         ("WLS", "delta")])
def test_wlsmv_equals_in_memory_complete(estimator, parameterization):
    df = _likert(10_000, 6, seed=11, two_factors=True)
    rp = RP.merge([RP.from_array(c) for c in _chunks(df, 5)])
    assert rp.n_patterns < len(df)  # it compresses here
    a, b = _fit_pair(df, rp, estimator=estimator, parameterization=parameterization)
    _assert_same_fit(a, b)
    assert "chisq_scaled" in a.fit_measures or estimator == "WLS"


@pytest.mark.parametrize("missing", ["listwise", "pairwise"])
def test_wlsmv_equals_in_memory_with_missing(missing):
    df = _likert(10_000, 6, missing=0.05, seed=12, two_factors=True)
    df.iloc[:4] = np.nan  # empty cases (lavaan drops them under pairwise)
    rp = RP.merge([RP.from_array(c) for c in _chunks(df, 5)])
    a, b = _fit_pair(df, rp, estimator="WLSMV", missing=missing)
    _assert_same_fit(a, b)
    sa, sb = a._ordinal.sample, b._ordinal.sample
    assert_close(sb.nacov, sa.nacov, rtol=1e-10, atol=1e-14)


def test_categorical_omega_equals_in_memory():
    df = _likert(10_000, 6, missing=0.05, seed=13, two_factors=True)
    rp = RP.merge([RP.from_array(c) for c in _chunks(df, 5)])
    a, b = _fit_pair(df, rp, missing="pairwise")
    assert_close(b.composite_reliability().to_numpy(), a.composite_reliability().to_numpy(),
                 rtol=1e-10, atol=0)
    oa, ob = a.omega_interval(), b.omega_interval()
    for col in ("omega", "se", "ci_lower", "ci_upper"):
        assert_close(ob[col].to_numpy(float), oa[col].to_numpy(float), rtol=1e-8, atol=0)
    assert_close(b.ordinal_alpha()["se"].to_numpy(float),
                 a.ordinal_alpha()["se"].to_numpy(float), rtol=1e-8, atol=0)


def test_weighted_items_rows_are_patterns():
    df = _likert(500, 3, missing=0.1, seed=14)
    rp = RP.from_array(df)
    m, w = _tables.weighted_items(rp, items=None, missing="listwise")
    assert int(w.sum()) == int(df.notna().all(axis=1).sum())
    assert not np.isnan(m.values).any()
