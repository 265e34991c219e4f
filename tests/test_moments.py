"""Pairwise-complete moments (psychoval.stats.core._moments): the cache-blocked pass against a
direct per-pair computation, over block sizes, missing-data densities and awkward columns;
alpha's response frequencies counted inside that pass against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.stats.core._moments import pairwise_moments, pairwise_sums
from tests._tolerances import assert_close


def _direct(x: np.ndarray) -> dict:
    """Pairwise statistics pair by pair, as R's cov(use = "pairwise")."""
    obs = ~np.isnan(x)
    k = x.shape[1]
    cov = np.full((k, k), np.nan)
    npair = np.zeros((k, k), dtype=np.int64)
    for i in range(k):
        for j in range(k):
            both = obs[:, i] & obs[:, j]
            npair[i, j] = both.sum()
            if both.sum() > 1:
                a, b = x[both, i], x[both, j]
                cov[i, j] = np.sum((a - a.mean()) * (b - b.mean())) / (both.sum() - 1)
    means = np.array([x[obs[:, j], j].mean() if obs[:, j].any() else np.nan
                      for j in range(k)])
    return {"cov": cov, "npair": npair, "rowsum": np.where(obs, x, 0.0).sum(axis=1),
            "cnt": obs.sum(axis=1), "means": means}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 120), k=st.integers(2, 9),
       rate=st.sampled_from([0.0, 0.03, 0.2, 0.6]), block=st.sampled_from([5, 40, 10_000]),
       offset=st.sampled_from([0.0, 1e6]))
def test_blocked_pairwise_sums_equal_the_direct_computation(seed, n, k, rate, block, offset):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, size=(n, k)).astype(float) + rng.normal(size=(n, k)) * 0.3 + offset
    x[rng.random((n, k)) < rate] = np.nan
    x[0, :] = np.nan                       # a row with nothing answered
    x[: min(n, 3), 0] = np.nan             # a column empty in the first block
    ref = _direct(x)
    ps = pairwise_sums(x, block_cells=block)
    np.testing.assert_array_equal(ps.npair, ref["npair"])
    np.testing.assert_array_equal(ps.cnt, ref["cnt"])
    ok = ref["npair"] > 1
    # a large offset (1e6) on unit-scale data: the shifted sums keep the covariances accurate
    assert_close(ps.cov[ok], ref["cov"][ok], "closed_form", what="pairwise cov")
    assert_close(ps.rowsum, ref["rowsum"], "closed_form", what="row sums")
    seen = ref["npair"].diagonal() > 0
    assert_close(ps.means[seen], ref["means"][seen], "closed_form", what="means")
    # zrow: sum over rows of (row mean - row_center) * (x - shift), 0 where missing
    z = np.where(np.isnan(x), 0.0, x - ps.shift)
    assert ps.row_center == pytest.approx(ps.shift.mean(), rel=1e-12)
    dev = np.where(np.isnan(x), 0.0, x - ps.row_center).sum(axis=1)
    rm = np.where(ref["cnt"] > 0, dev / np.maximum(ref["cnt"], 1), 0.0)
    assert_close(ps.zrow, rm @ z, "closed_form", what="zrow")
    # missing cells in row-major order
    r, c = np.nonzero(np.isnan(x))
    np.testing.assert_array_equal(ps.miss_r, r)
    np.testing.assert_array_equal(ps.miss_c, c)


def test_pairwise_moments_with_and_without_missing_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 5))
    full = pairwise_moments(x)
    assert full.complete and (full.n_pairwise == 200).all()
    assert_close(full.cov, np.cov(x, rowvar=False), "closed_form", what="complete cov")
    x[rng.random(x.shape) < 0.1] = np.nan
    part = pairwise_moments(x)
    ref = _direct(x)
    assert not part.complete
    np.testing.assert_array_equal(part.n_pairwise, ref["npair"])
    assert_close(part.cov, ref["cov"], "closed_form", what="pairwise cov")
    assert_close(part.cov, pd.DataFrame(x).cov().to_numpy(), "closed_form",
                 what="pandas pairwise cov")


def _freq_by_pandas(x: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(x, columns=[f"item{j + 1}" for j in range(x.shape[1])])
    counts = df.apply(lambda s: s.value_counts()).fillna(0).T
    prop = counts.div(df.notna().sum(axis=0), axis=0)
    prop.columns = [f"{v:g}" for v in prop.columns]
    prop["miss"] = df.isna().mean(axis=0)
    prop.index.name = "item"
    return prop


@pytest.mark.parametrize("kind", ["integers", "halves", "reversed"])
def test_response_frequencies_with_missing_data_match_pandas(kind):
    """Integer codes are counted inside the blocked pass; other values (halves) and
    reverse-keyed runs take the separate route: all agree with pandas."""
    rng = np.random.default_rng(7)
    n = 30_000  # large enough for several blocks
    f = rng.normal(size=(n, 1))
    x = np.clip(np.round(3 + f + rng.normal(size=(n, 6))), 1, 5)
    if kind == "halves":
        x = x / 2
    if kind == "reversed":
        x[:, 1] = 6 - x[:, 1]  # a negatively worded item, reverse-keyed by the call
    x[rng.random(x.shape) < 0.05] = np.nan
    res = pv.alpha(x, reverse=["item2"] if kind == "reversed" else None)
    expected = _freq_by_pandas(x)
    pd.testing.assert_frame_equal(res.response_freq, expected[res.response_freq.columns],
                                  check_names=False, rtol=1e-12, atol=0)


@pytest.mark.parametrize("with_nan", [False, True])
def test_alpha_fast_path_still_names_an_infinite_response(with_nan):
    from psychoval.exceptions import DataError

    x = np.random.default_rng(1).integers(1, 6, size=(50, 4)).astype(float)
    x[7, 2] = np.inf
    if with_nan:
        x[3, 1] = np.nan
    with pytest.raises(DataError, match=r"item 'item3' has an infinite value at row 8"):
        pv.alpha(x)


def test_pairwise_sums_take_any_memory_layout():
    rng = np.random.default_rng(5)
    x = np.clip(np.round(3 + rng.normal(size=(300, 1)) + rng.normal(size=(300, 7))), 1, 5)
    x[rng.random(x.shape) < 0.1] = np.nan
    c = pairwise_sums(x, block_cells=100)
    for other in (np.asfortranarray(x), x.T.copy().T[:, ::1]):
        f = pairwise_sums(other, block_cells=100)
        np.testing.assert_array_equal(f.npair, c.npair)
        assert_close(f.cov, c.cov, "closed_form", what="layout")
    # alpha's frequencies from a Fortran-ordered frame's values agree too
    a = pv.alpha(pd.DataFrame(np.asfortranarray(x))).response_freq
    b = pv.alpha(x).response_freq
    np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-12)
