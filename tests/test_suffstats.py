"""Mergeable sufficient statistics: chunk moments added with ``+`` equal the moments of the
concatenated rows, and the statistics that accept them equal the in-memory ones."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._moments import pairwise_moments
from psychoval.stats.core._pearson import pairwise_cor
from psychoval.stats.core._suffstats import Moments, PatternMoments
from tests._tolerances import assert_close


def _data(seed: int, n: int = 120, k: int = 5, p_miss: float = 0.12, offset: float = 0.0,
          scale: float = 1.0, constant: bool = False, integer: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 1))
    x = f + rng.normal(size=(n, k))
    if integer:
        x = np.clip(np.round(3 + x), 1, 5)
    x = offset + scale * x
    if constant:
        x[:, -1] = offset + 0.1
    x[rng.random(x.shape) < p_miss] = np.nan
    return x


def _split(x: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    edges = sorted({min(max(c, 0), len(x)) for c in cuts})
    return np.split(x, edges)


def _units(direct: Moments) -> np.ndarray:
    """Each item's scale: its SD, or (constant items) a small fraction of its size."""
    mean = direct.means()
    sd = np.sqrt(np.clip(np.diag(direct.cov()), 0, None))
    return np.maximum(np.nan_to_num(sd), 1e-6 * (np.abs(np.nan_to_num(mean)) + 1.0))


def _assert_same_moments(merged: Moments, direct: Moments) -> None:
    u = _units(direct)
    uu = np.outer(u, u)
    np.testing.assert_array_equal(merged.npair, direct.npair)
    assert (merged.n, merged.n_complete, merged.n_scored) == (
        direct.n, direct.n_complete, direct.n_scored)
    seen = direct.nobs > 0
    assert_close((merged.means() - direct.means())[seen] / u[seen], np.zeros(seen.sum()),
                 "merged_moments", what="means")
    ok = direct.npair > 1
    assert_close(np.where(ok, merged.cov() / uu, 0), np.where(ok, direct.cov() / uu, 0),
                 "merged_moments", what="pairwise cov")
    if direct.n_complete > 1:
        assert_close(merged.cov("listwise") / uu, direct.cov("listwise") / uu,
                     "merged_moments", what="listwise cov")
    if direct.n_scored > 1:
        mt, st_, rr = merged.total_score()
        dt, dst, drr = direct.total_score()
        assert_close([mt / u.max(), st_ / u.max()], [dt / u.max(), dst / u.max()],
                     "merged_moments", what="mean score")
    assert merged.value_counts == direct.value_counts
    np.testing.assert_array_equal(merged.lo, direct.lo)
    np.testing.assert_array_equal(merged.hi, direct.hi)


chunks = st.tuples(
    st.integers(0, 10_000),  # seed
    st.lists(st.integers(-5, 140), min_size=0, max_size=5),  # cut points
    st.sampled_from([0.0, 1e6, -3e3]),  # offset
    st.sampled_from([1e-3, 1.0, 1e3]),  # scale
    st.booleans(),  # a constant column
    st.sampled_from([0.0, 0.1, 0.4]),  # share missing
    st.booleans(),  # integer codes
)


@settings(deadline=None, max_examples=40)
@given(chunks)
def test_sum_of_chunks_equals_concatenation(case):
    seed, cuts, offset, scale, constant, p_miss, integer = case
    x = _data(seed, offset=offset, scale=scale, constant=constant, p_miss=p_miss,
              integer=integer)
    parts = [Moments.from_array(p) for p in _split(x, cuts)]
    direct = Moments.from_array(x)
    _assert_same_moments(sum(parts[1:], parts[0]), direct)
    _assert_same_moments(Moments.merge(parts[::-1]), direct)  # order does not matter


@settings(deadline=None, max_examples=20)
@given(st.integers(0, 10_000), st.lists(st.integers(0, 120), max_size=4),
       st.sampled_from([0.0, 0.2]))
def test_pattern_moments_merge(seed, cuts, p_miss):
    x = _data(seed, p_miss=p_miss)
    parts = [PatternMoments.from_array(p) for p in _split(x, cuts)]
    merged = sum(parts[1:], parts[0])
    direct = PatternMoments.from_array(x)
    assert merged.n == direct.n == len(x)
    for items in (None, ["item1", "item3"], ["item5", "item2", "item4"]):
        a, b = merged.listwise(items), direct.listwise(items)
        assert a.n == b.n
        if b.n > 1:
            cols = [int(c[4:]) - 1 for c in b.columns]
            xs = x[:, cols]
            xs = xs[~np.isnan(xs).any(axis=1)]
            u = np.outer(xs.std(axis=0), xs.std(axis=0))
            assert_close(a.cov("listwise") / u, np.cov(xs.T) / u, "merged_moments",
                         what="pattern listwise cov")


def test_moments_against_independent_formulas():
    x = _data(7, n=300, k=6, offset=50.0)
    m = Moments.merge([Moments.from_array(p) for p in np.array_split(x, 5)])
    ref = pairwise_moments(x)
    sd = np.sqrt(np.diag(ref.cov))
    assert_close(m.cov() / np.outer(sd, sd), ref.cov / np.outer(sd, sd), "merged_moments",
                 what="cov(use='pairwise')")
    r, npair = pairwise_cor(x)
    assert_close(m.cor(), r, "merged_moments", what="cor(use='pairwise')")
    np.testing.assert_array_equal(m.npair, npair)
    xc = x[~np.isnan(x).any(axis=1)]
    assert_close(m.cor("listwise"), np.corrcoef(xc.T), "merged_moments", what="listwise cor")
    assert m.n_used("listwise") == len(xc)
    # each respondent's mean of answered items (psych::alpha's total)
    t = np.nanmean(x, axis=1)
    mt, sdt, raw_r = m.total_score()
    assert_close([mt, sdt], [t.mean(), t.std(ddof=1)], "merged_moments", what="mean score")
    for j in range(x.shape[1]):
        ok = ~np.isnan(x[:, j])
        assert_close(raw_r[j], np.corrcoef(t[ok], x[ok, j])[0, 1], "merged_moments",
                     what="raw_r")


def test_serialisation_round_trip_is_exact():
    x = _data(3, integer=True)
    m = Moments.from_array(x[:50]) + Moments.from_array(x[50:])
    back = Moments.from_dict(json.loads(json.dumps(m.to_dict())))
    for f in ("npair", "s1", "s2", "cross", "c1", "c2", "tj1", "tj2", "tjz", "shift"):
        np.testing.assert_array_equal(getattr(back, f), getattr(m, f))
    assert back.value_counts == m.value_counts and back.columns == m.columns
    p = PatternMoments.from_array(x)
    pb = PatternMoments.from_dict(json.loads(json.dumps(p.to_dict())))
    np.testing.assert_array_equal(pb.ss, p.ss)
    np.testing.assert_array_equal(pb.observed, p.observed)
    assert m.to_dict()["schema"] == "psychoval.moments/1"
    o = (~np.isnan(x)).astype(int)
    assert repr(m) == (f"Moments(k=5, n=120, n_complete={int(o.all(axis=1).sum())}, "
                       f"min_pairwise_n={int((o.T @ o).min())})")


def test_dataframe_chunks_and_errors():
    x = _data(4)
    frame = pd.DataFrame(x, columns=list("abcde"))
    m = Moments.from_array(frame.iloc[:60]) + Moments.from_array(frame.iloc[60:])
    assert m.columns == tuple("abcde")
    with pytest.raises(DataError, match="only in the first"):
        m + Moments.from_array(frame.rename(columns={"e": "f"}))
    with pytest.raises(DataError, match="another order"):
        m + Moments.from_array(frame[list("edcba")])
    with pytest.raises(SpecificationError, match="'zz' are not in these moments"):
        m.select(["a", "zz"])
    # a subset of items with missing answers has no listwise sums: PatternMoments does
    with pytest.raises(DataError, match="PatternMoments"):
        m.select(["a", "b"]).cov("listwise")
    with pytest.raises(DataError, match="mean score of a subset"):
        m.select(["a", "b"]).total_score()
    empty = Moments.zeros(list("abcde"))
    assert (empty + m).n == m.n and (m + empty).n == m.n


# -- statistics from moments ------------------------------------------------------------------


@settings(deadline=None, max_examples=15)
@given(st.integers(0, 10_000), st.lists(st.integers(0, 200), max_size=4),
       st.sampled_from([0.0, 0.08]), st.sampled_from(["pairwise", "listwise"]))
def test_alpha_from_merged_moments(seed, cuts, p_miss, missing):
    x = _data(seed, n=200, k=6, p_miss=p_miss, integer=True)
    m = Moments.merge([Moments.from_array(p) for p in _split(x, cuts)])
    a, b = pv.alpha(x, missing=missing), pv.alpha(m, missing=missing)
    for f in ("raw_alpha", "std_alpha", "g6", "average_r", "s_n", "ase", "mean", "sd",
              "median_r", "var_r", "ci_lower", "ci_upper", "duhachek_lower"):
        assert_close(getattr(b, f), getattr(a, f), "merged_statistics", what=f)
    assert_close(b.item_stats.to_numpy(), a.item_stats.to_numpy(), "merged_statistics",
                 what="item_stats")
    assert_close(b.alpha_drop.to_numpy(), a.alpha_drop.to_numpy(), "merged_statistics",
                 what="alpha_drop")
    assert (b.n_obs, b.rows_dropped, b.min_pairwise_n) == (a.n_obs, a.rows_dropped,
                                                         a.min_pairwise_n)
    if missing == "pairwise" or p_miss == 0:
        pd.testing.assert_frame_equal(b.response_freq, a.response_freq, rtol=1e-12)


def test_alpha_from_moments_refuses_what_needs_rows():
    m = Moments.from_array(_data(1, integer=True))
    with pytest.raises(SpecificationError, match="resampling needs the respondents' rows"):
        pv.alpha(m, ci_method="bca")
    with pytest.raises(SpecificationError, match="reverse-key the items before"):
        pv.alpha(m, reverse=["item1"])
    with pytest.raises(DataError, match="choose missing='pairwise' or 'listwise'"):
        pv.alpha(m, missing="raise")
    const = Moments.from_array(_data(1, constant=True, p_miss=0.0))
    with pytest.raises(DataError, match="'item5' has no variance"):
        pv.alpha(const)


def _factor_data(seed: int = 5, n: int = 500, k: int = 9, p_miss: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 3))
    load = np.zeros((k, 3))
    load[np.arange(k), np.arange(k) // 3] = 0.7
    x = f @ load.T + 0.3 * f[:, [0]] + 0.6 * rng.normal(size=(n, k)) + 3.0
    x[rng.random(x.shape) < p_miss] = np.nan
    return x


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_efa_and_omega_from_merged_moments(missing):
    x = _factor_data()
    m = Moments.merge([Moments.from_array(p) for p in np.array_split(x, 6)])
    for method in ("minres", "ml"):
        a = pv.efa(x, n_factors=3, method=method, missing=missing)
        b = pv.efa(m, n_factors=3, method=method, missing=missing)
        assert_close(b.loadings.to_numpy(), a.loadings.to_numpy(), "merged_efa",
                     what=f"{method} loadings")
        assert_close([b.rms, b.tli], [a.rms, a.tli], "merged_efa", what=f"{method} fit")
        assert_close(b.chi / a.chi, 1.0, "merged_efa", what=f"{method} chi")
        assert b.n_obs == a.n_obs
    a, b = pv.omega(x, missing=missing), pv.omega(m, missing=missing)
    assert_close([b.omega_h, b.omega_total, b.alpha], [a.omega_h, a.omega_total, a.alpha],
                 "merged_omega", what="omega")
    with pytest.raises(SpecificationError, match="polychoric and tetrachoric"):
        pv.efa(m, n_factors=1, cor="polychoric")
    with pytest.raises(SpecificationError, match="n_boot > 0 is not available from Moments"):
        pv.omega(m, n_boot=10)


HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"


def _compare_cfa(a, b):
    ea, eb = a.estimates(), b.estimates()
    assert_close(eb["est"].to_numpy(), ea["est"].to_numpy(), "merged_cfa", what="est")
    assert_close(eb["se"].to_numpy(), ea["se"].to_numpy(), "merged_cfa", what="se")
    for key in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl", "bic"):
        assert_close(b.fit_measures[key], a.fit_measures[key], "merged_cfa", what=key)
    assert (b.n_obs, b.n_total) == (a.n_obs, a.n_total)


def test_cfa_from_merged_moments():
    from psychoval.datasets import load_holzinger_swineford

    hs = load_holzinger_swineford()[[f"x{i}" for i in range(1, 10)]]
    cuts = np.array_split(np.arange(len(hs)), 5)
    m = Moments.merge([Moments.from_array(hs.iloc[c]) for c in cuts])
    _compare_cfa(pv.cfa(HS_MODEL, hs), pv.cfa(HS_MODEL, m))
    # missing answers: listwise and FIML from the pattern sums
    holes = hs.mask(np.random.default_rng(3).random(hs.shape) < 0.03)
    pm = PatternMoments.from_array(holes.iloc[cuts[0]])
    for c in cuts[1:]:
        pm = pm + PatternMoments.from_array(holes.iloc[c])
    with pytest.warns(pv.PsychovalWarning, match="listwise deletion dropped"):
        a = pv.cfa(HS_MODEL, holes)
    with pytest.warns(pv.PsychovalWarning, match="listwise deletion dropped"):
        b = pv.cfa(HS_MODEL, pm)
    _compare_cfa(a, b)
    a, b = pv.cfa(HS_MODEL, holes, missing="fiml"), pv.cfa(HS_MODEL, pm, missing="fiml")
    _compare_cfa(a, b)
    assert_close(b.fit_measures["gfi"], a.fit_measures["gfi"], "merged_cfa", what="gfi")
    # a model on some of the items: exact from PatternMoments, refused from Moments
    sub = "visual =~ x1 + x2 + x3"
    with pytest.warns(pv.PsychovalWarning, match="dropped 23 of 301 rows"):
        a = pv.cfa(sub, holes)
    with pytest.warns(pv.PsychovalWarning, match="dropped 23 of 301 rows"):
        b = pv.cfa(sub, pm)
    _compare_cfa(a, b)
    mh = Moments.from_array(holes)
    with pytest.raises(DataError, match="summarise the chunks with PatternMoments"):
        pv.cfa(sub, mh)
    with pytest.raises(SpecificationError, match="needs the sums of each missingness pattern"):
        pv.cfa(HS_MODEL, mh, missing="fiml")
    with pytest.raises(SpecificationError, match="estimator='MLR' is not available from"):
        pv.cfa(HS_MODEL, m, estimator="MLR")
    with pytest.raises(SpecificationError, match="one Moments per group"):
        pv.cfa(HS_MODEL, m, group="school")
    with pytest.raises(SpecificationError, match="ordered= is not available"):
        pv.cfa(HS_MODEL, m, ordered=True)


def test_pattern_keys_of_few_and_many_items_agree():
    """Up to 16 items the patterns are grouped by a 16-bit key (radix sort), beyond by the
    packed bytes: the same rows give the same pattern sums either way."""
    rng = np.random.default_rng(4)
    x = rng.integers(1, 6, size=(3000, 20)).astype(float)
    x[rng.random(x.shape) < 0.05] = np.nan
    wide = PatternMoments.from_array(x, shift=np.full(20, 3.0))
    for cols in (list(range(5)), list(range(16)), [2, 7, 19]):
        few = PatternMoments.from_array(x[:, cols], shift=np.full(len(cols), 3.0))
        names = [wide.columns[c] for c in cols]
        sub, own = wide.select(names).listwise(), few.listwise()
        assert sub.n == own.n
        assert_close(own.c2, sub.c2, "merged_moments", what="complete-case cross-products")
        assert_close(own.c1, sub.c1, "merged_moments", what="complete-case sums")
        assert few.n == wide.n and int(few.freq.sum()) + few.n_empty == len(x)
