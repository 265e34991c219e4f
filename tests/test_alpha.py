"""pv.alpha: extra R references, intervals, bootstrap, errors, warnings and properties."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import (
    DataError,
    DegenerateDataWarning,
    PsychovalWarning,
    SpecificationError,
)
from psychoval.stats.core._moments import pairwise_moments
from psychoval.stats.reliability._alpha import _alpha_stats, _bootstrap, _jackknife
from tests._reliability_refs import extra_checks
from tests._tolerances import assert_close
from tests.reference._refs import load_data


def _simulate(seed: int, n: int = 200, k: int = 6, loading: float = 0.7,
              missing: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 1))
    x = loading * f + math.sqrt(1 - loading**2) * rng.normal(size=(n, k))
    if missing:
        x[rng.random(x.shape) < missing] = np.nan
    return x


def _quiet_alpha(x, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychovalWarning)
        return pv.alpha(x, **kw)


# --------------------------------------------------------------------------- R references


@pytest.mark.parametrize("cid", [c for c in extra_checks() if c.startswith("alpha.ci.")])
def test_feldt_other_levels_match_psych_alpha_ci(cid):
    check = extra_checks()[cid]
    opt = check["options"]
    df = load_data(opt["data"])
    res = pv.alpha(df[opt["items"]], reverse=opt["reverse_keyed"],
                   confidence_level=opt["confidence_level"])
    v = check["values"]
    assert_close(res.raw_alpha, v["raw_alpha"], "closed_form", what=cid)
    assert_close(res.ase, v["ase"], "closed_form", what=cid)
    assert_close([res.ci_lower, res.ci_upper], [v["lower"], v["upper"]], "closed_form", what=cid)
    assert res.ci_method == "feldt"


def test_duhachek_uses_exact_quantile_unless_told():
    from scipy.stats import norm

    x = _simulate(1)
    exact = pv.alpha(x, ci_method="duhachek", confidence_level=0.9)
    z = norm.ppf(0.95)
    assert exact.duhachek_z == pytest.approx(z, rel=1e-15)
    assert exact.ci_lower == pytest.approx(exact.raw_alpha - z * exact.ase, rel=1e-14)
    compat = pv.alpha(x, ci_method="duhachek", duhachek_z=1.96)
    assert compat.ci_upper == pytest.approx(compat.raw_alpha + 1.96 * compat.ase, rel=1e-14)


# --------------------------------------------------------------------------- bootstrap


def _naive_boot(x: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    n = x.shape[0]
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))  # rows drawn
    out = []
    for b in range(n_boot):
        xb = x[idx[b]]
        out.append(_alpha_stats(pairwise_moments(xb).cov)["raw_alpha"])
    return np.array(out)


@pytest.mark.parametrize("missing", [0.0, 0.08])
def test_weighted_bootstrap_equals_resampling_rows(missing):
    x = _simulate(2, n=60, k=4, missing=missing)
    fast = _bootstrap(x, None if not missing else ~np.isnan(x), 40, 7, None)
    np.testing.assert_allclose(fast, _naive_boot(x, 40, 7), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("missing", [0.0, 0.08])
def test_jackknife_equals_leave_one_out(missing):
    x = _simulate(3, n=40, k=4, missing=missing)
    fast = _jackknife(x, None if not missing else ~np.isnan(x))
    slow = [_alpha_stats(pairwise_moments(np.delete(x, i, axis=0)).cov)["raw_alpha"]
            for i in range(x.shape[0])]
    np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12)


def test_bootstrap_is_seeded_and_reports_progress():
    x = _simulate(4)
    calls = []
    a = pv.alpha(x, ci_method="bootstrap", n_boot=300, seed=11,
                 progress=lambda done, total: calls.append((done, total)))
    b = pv.alpha(x, ci_method="bootstrap", n_boot=300, seed=11)
    c = pv.alpha(x, ci_method="bootstrap", n_boot=300, seed=12)
    np.testing.assert_array_equal(a.boot_alphas, b.boot_alphas)
    assert (a.ci_lower, a.ci_upper) == (b.ci_lower, b.ci_upper)
    assert not np.array_equal(a.boot_alphas, c.boot_alphas)
    assert calls and calls[-1] == (300, 300)
    lo, hi = np.quantile(a.boot_alphas, [0.025, 0.975])
    assert (a.ci_lower, a.ci_upper) == (lo, hi)


def test_bca_interval_and_fields():
    x = _simulate(5, missing=0.05)
    res = pv.alpha(x, ci_method="bca", n_boot=500, seed=3)
    assert res.ci_lower < res.raw_alpha < res.ci_upper
    assert math.isfinite(res.bca_z0) and math.isfinite(res.bca_acceleration)
    assert abs(res.bca_acceleration) < 0.2


@pytest.mark.slow
def test_interval_coverage_by_simulation():
    """Seeded simulation: parallel items, population alpha known; nominal .95 coverage
    must land in [.90, .99] for every interval method (200 replications, n = 150, k = 5)."""
    k, loading, reps = 5, 0.6, 200
    rho = loading**2
    true_alpha = k * rho / (1 + (k - 1) * rho)
    hits = {m: 0 for m in ("feldt", "duhachek", "bootstrap", "bca")}
    for rep in range(reps):
        x = _simulate(1000 + rep, n=150, k=k, loading=loading)
        # one call gives Feldt, Duhachek and BCa; the percentile interval is the quantiles of
        # the same resamples (test_bootstrap_is_seeded_and_reports_progress checks that)
        res = pv.alpha(x, ci_method="bca", n_boot=400, seed=rep)
        lo, hi = np.quantile(res.boot_alphas, [0.025, 0.975])
        hits["feldt"] += res.feldt_lower <= true_alpha <= res.feldt_upper
        hits["duhachek"] += res.duhachek_lower <= true_alpha <= res.duhachek_upper
        hits["bootstrap"] += lo <= true_alpha <= hi
        hits["bca"] += res.ci_lower <= true_alpha <= res.ci_upper
    for method, h in hits.items():
        assert 0.90 <= h / reps <= 0.99, f"{method}: coverage {h / reps:.3f}"


# --------------------------------------------------------------------------- errors, warnings


def test_negative_item_warns_and_is_not_reversed():
    x = _simulate(6, k=4)
    df = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    df["d"] = -df["d"]
    with pytest.warns(PsychovalWarning, match=r"item\(s\) 'd' correlate negatively"):
        res = pv.alpha(df)
    assert res.reverse == () and res.item_stats.loc["d", "r_drop"] < 0
    fixed = pv.alpha(df, reverse=["d"])
    assert fixed.raw_alpha > res.raw_alpha and fixed.reverse == ("d",)


def test_reverse_uses_whole_data_range_or_given_range():
    df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 4, 4, 3], "c": [5, 4, 3, 2, 2, 3]})
    res = pv.alpha(df, reverse=["c"])
    assert res.reverse_range == (1.0, 5.0)
    assert res.item_stats.loc["c", "mean"] == pytest.approx(6 - df["c"].mean())
    given_ = pv.alpha(df, reverse=["c"], reverse_range=(1, 7))
    assert given_.item_stats.loc["c", "mean"] == pytest.approx(8 - df["c"].mean())
    assert given_.raw_alpha == pytest.approx(res.raw_alpha, rel=1e-12)  # a shift only


def test_errors_name_the_problem():
    df = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 2, 2, 2], "c": [1, 3, 2, 4]})
    with pytest.raises(DataError, match=r"item 'b' has no variance \(every answer is 2\)"):
        pv.alpha(df)
    with pytest.raises(DataError, match="needs at least 2"):
        pv.alpha(df[["a"]])
    with pytest.raises(SpecificationError, match="ci_method='percentile' is not one of"):
        pv.alpha(df[["a", "c"]], ci_method="percentile")
    with pytest.raises(SpecificationError, match=r"reverse= names item\(s\) 'z'"):
        pv.alpha(df[["a", "c"]], reverse=["z"])
    with pytest.raises(SpecificationError, match="confidence_level=95 must be between 0 and 1"):
        pv.alpha(df[["a", "c"]], confidence_level=95)
    with pytest.raises(SpecificationError, match="n_boot=1 must be an integer of at least 2"):
        pv.alpha(df[["a", "c"]], ci_method="bootstrap", n_boot=1)
    gap = pd.DataFrame({"a": [1, 2, 3, np.nan, np.nan, np.nan],
                        "b": [np.nan, np.nan, np.nan, 1, 2, 4], "c": [1, 2, 3, 4, 5, 6]})
    with pytest.raises(DataError, match="items 'a' and 'b' are answered together by 0"):
        pv.alpha(gap)
    with pytest.raises(DataError, match="missing at"):
        pv.alpha(gap, missing="raise")


def test_failed_bootstrap_resamples_are_counted():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(12, 3)) + rng.normal(size=(12, 1)) * 2
    x[:9, 0] = np.nan  # item 1 answered by 3 respondents: some resamples lose it
    with pytest.warns(DegenerateDataWarning, match="bootstrap resamples gave no alpha"):
        res = pv.alpha(x, ci_method="bootstrap", n_boot=200, seed=1)
    assert res.n_boot_failed > 0 and math.isfinite(res.ci_lower)


# --------------------------------------------------------------------------- result face


def test_result_face():
    df = load_data("bfi")[["A1", "A2", "A3", "A4", "A5"]]
    res = pv.alpha(df, reverse=["A1"])
    assert repr(res).startswith("<AlphaResult raw_alpha=0.703")
    text = str(res.summary())
    assert "Cronbach's alpha" in text and "reversed as 1 + 6 - x: A1" in text
    assert "<table" in res._repr_html_()
    frame = res.to_frame()
    assert list(frame["item"]) == ["A1", "A2", "A3", "A4", "A5"]
    assert {"r_drop", "drop_raw_alpha", "drop_alpha_se", "reversed"} <= set(frame.columns)
    d = res.to_dict()
    assert d["schema"] == "psychoval.alpha/1"
    json.dumps(d)
    assert res.min_pairwise_n == int(res.n_pairwise.min()) < res.n_obs
    assert res.response_freq.loc["A1", "miss"] == pytest.approx(16 / 2800)


def test_non_integer_categories_are_tabulated():
    x = np.array([[0.5, 1.0, 1.5], [1.0, 1.0, 2.0], [1.5, 2.0, 2.0], [2.0, 2.5, 2.5],
                  [0.5, 0.5, 1.0]])
    res = pv.alpha(x)
    assert list(res.response_freq.columns) == ["0.5", "1", "1.5", "2", "2.5", "miss"]
    np.testing.assert_allclose(res.response_freq.loc["item1"].to_numpy(),
                               [0.4, 0.2, 0.2, 0.2, 0.0, 0.0])


def test_listwise_equals_pairwise_on_complete_rows():
    x = _simulate(9, missing=0.05)
    lw = pv.alpha(x, missing="listwise")
    keep = ~np.isnan(x).any(axis=1)
    pw = pv.alpha(x[keep])
    assert lw.rows_dropped == int((~keep).sum()) and lw.n_obs == int(keep.sum())
    assert lw.raw_alpha == pytest.approx(pw.raw_alpha, rel=1e-13)


# --------------------------------------------------------------------------- properties

seeds = st.integers(min_value=0, max_value=2**32 - 1)
shapes = st.tuples(st.integers(8, 60), st.integers(3, 7))
missing_rates = st.sampled_from([0.0, 0.0, 0.1])


@settings(max_examples=40, deadline=None)
@given(seed=seeds, shape=shapes, miss=missing_rates)
def test_alpha_if_dropped_equals_alpha_without_the_item(seed, shape, miss):
    n, k = shape
    x = _simulate(seed, n=n, k=k, missing=miss)
    full = _quiet_alpha(x)
    for j in range(k):
        sub = _quiet_alpha(np.delete(x, j, axis=1))
        assert full.alpha_drop["raw_alpha"].iloc[j] == pytest.approx(sub.raw_alpha, rel=1e-9,
                                                                      abs=1e-12)
        assert full.alpha_drop["std_alpha"].iloc[j] == pytest.approx(sub.std_alpha, rel=1e-9,
                                                                      abs=1e-12)
        assert full.alpha_drop["g6"].iloc[j] == pytest.approx(sub.g6, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, shape=shapes, miss=missing_rates)
def test_std_alpha_is_spearman_brown_of_mean_r(seed, shape, miss):
    n, k = shape
    res = _quiet_alpha(_simulate(seed, n=n, k=k, missing=miss))
    rbar = res.average_r
    assert res.std_alpha == pytest.approx(k * rbar / (1 + (k - 1) * rbar), rel=1e-10, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, shape=shapes, level=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_each_interval_contains_its_estimate(seed, shape, level):
    n, k = shape
    x = _simulate(seed, n=n, k=k, loading=0.8)
    for method in ("feldt", "duhachek", "bootstrap", "bca"):
        res = _quiet_alpha(x, ci_method=method, confidence_level=level, n_boot=200, seed=seed)
        if method in ("feldt", "duhachek"):
            assert res.ci_lower <= res.raw_alpha <= res.ci_upper, method
        else:  # resampling intervals: the estimate lies within the resampled range
            assert res.ci_lower <= res.ci_upper
            assert np.min(res.boot_alphas) <= res.raw_alpha <= np.max(res.boot_alphas)
        if method == "bootstrap" and n >= 30:
            assert res.ci_lower <= res.raw_alpha <= res.ci_upper


@settings(max_examples=30, deadline=None)
@given(seed=seeds, shape=shapes, miss=missing_rates)
def test_item_and_respondent_order_do_not_matter(seed, shape, miss):
    n, k = shape
    x = _simulate(seed, n=n, k=k, missing=miss)
    rng = np.random.default_rng(seed)
    rows, cols = rng.permutation(n), rng.permutation(k)
    try:
        a = _quiet_alpha(x)
    except DataError:  # too few pairs for a pairwise covariance: refused whatever the order
        with pytest.raises(DataError):
            _quiet_alpha(x[rows][:, cols])
        return
    b = _quiet_alpha(x[rows][:, cols])
    for f in ("raw_alpha", "std_alpha", "g6", "average_r", "median_r", "ase", "mean", "sd",
              "feldt_lower", "duhachek_upper"):
        assert getattr(b, f) == pytest.approx(getattr(a, f), rel=1e-9, abs=1e-12), f
    pd.testing.assert_frame_equal(b.alpha_drop.iloc[np.argsort(cols)].reset_index(drop=True),
                                  a.alpha_drop.reset_index(drop=True), rtol=1e-9, atol=1e-12)
    pd.testing.assert_frame_equal(b.item_stats.iloc[np.argsort(cols)].reset_index(drop=True),
                                  a.item_stats.reset_index(drop=True), rtol=1e-9, atol=1e-12)


def test_progress_true_draws_a_counter_on_stderr(capsys):
    pv.alpha(_simulate(10, n=50), ci_method="bootstrap", n_boot=20, seed=1, progress=True)
    err = capsys.readouterr().err
    assert err.endswith("bootstrap 20/20\n")


@pytest.mark.parametrize("miss", [0.05, 0.3])
def test_sparse_and_dense_missingness_paths_agree_with_direct_formulas(miss):
    x = _simulate(12, n=300, k=6, missing=miss)
    res = pv.alpha(x)
    mom = pairwise_moments(x)
    assert res.raw_alpha == pytest.approx(_alpha_stats(mom.cov)["raw_alpha"], rel=1e-12)
    np.testing.assert_array_equal(res.n_pairwise, mom.n_pairwise)
    df = pd.DataFrame(x)
    total = df.mean(axis=1)  # mean of the items answered (pandas skips NaN)
    np.testing.assert_allclose(res.item_stats["raw_r"], df.corrwith(total), rtol=1e-10)
    assert res.mean == pytest.approx(total.mean(), rel=1e-12)
    assert res.sd == pytest.approx(total.std(), rel=1e-12)


# ------------------------------------------------ wide data: closed-form item table (issue 15)


@pytest.mark.parametrize("n, k, miss", [(25, 40, 0.0), (25, 40, 0.05), (60, 12, 0.0),
                                        (60, 12, 0.1)])
def test_item_table_closed_forms_equal_recomputing_without_each_item(n, k, miss):
    """Every "if dropped" statistic (including G6 from the smc of the reduced matrix, the
    median and variance of its correlations and the ASE) equals psych's route: the statistic
    recomputed on C without the item (psych_smc = 1 - 1/diag(Pinv)). n < k exercises the
    pseudo-inverse (rank-deficient) downdates and, with complete data, the Gram route."""
    from psychoval.stats.reliability._alpha import _alpha_stats

    x = _simulate(n + k, n=n, k=k, missing=miss)
    res = _quiet_alpha(x)
    c = pairwise_moments(x).cov
    for j in range(k):
        keep = np.r_[0:j, j + 1:k]
        st_ = _alpha_stats(c[np.ix_(keep, keep)])
        row = res.alpha_drop.iloc[j]
        for ours, theirs in (("raw_alpha", "raw_alpha"), ("std_alpha", "std_alpha"),
                             ("g6", "g6"), ("average_r", "average_r"), ("s_n", "s_n"),
                             ("var_r", "var_r"), ("med_r", "med_r")):
            assert row[ours] == pytest.approx(st_[theirs], rel=1e-9, abs=1e-12), (j, ours)
        assert row["alpha_se"] == pytest.approx(math.sqrt(st_["q"] / n), rel=1e-9)


def test_smc_downdates_match_pseudo_inverses_of_each_reduced_matrix():
    """The three routes of smc_and_dropped (certified inverse, eigenpairs of R, Gram matrix
    of n < k rows) against k explicit pseudo-inverses, on regular, wide, collinear and
    indefinite matrices."""
    from psychoval.stats.reliability._common import psych_smc, smc_and_dropped

    rng = np.random.default_rng(11)

    def brute(r):
        k = r.shape[0]
        sums = [psych_smc(r[np.ix_(np.r_[0:i, i + 1:k], np.r_[0:i, i + 1:k])]).sum()
                for i in range(k)]
        return psych_smc(r), np.array(sums)

    def cor(x):
        xc = x - x.mean(axis=0)
        sd = np.sqrt((xc * xc).sum(axis=0))
        return (xc.T @ xc) / np.outer(sd, sd), xc / sd

    cases = []
    for n, k in ((200, 10), (30, 60), (20, 20)):
        cases.append(cor(rng.normal(size=(n, k)) + rng.normal(size=(n, 1))))
    x = rng.normal(size=(100, 8)) + rng.normal(size=(100, 1))
    x[:, 2] = x[:, 0] + x[:, 1]  # collinear
    cases.append(cor(x))
    r, _z = cor(rng.normal(size=(50, 12)))
    r[0, 1] = r[1, 0] = 0.99
    r[0, 2] = r[2, 0] = -0.9  # indefinite, as pairwise correlations can be
    assert np.linalg.eigvalsh(r)[0] < 0
    cases.append((r, None))
    for r, z in cases:
        smc0, sums0 = brute(r)
        for zz in (None, z):
            smc, sums = smc_and_dropped(r, z=zz)
            np.testing.assert_allclose(smc, smc0, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(sums, sums0, rtol=1e-10, atol=1e-12)


def test_wide_alpha_runs_in_closed_form():
    """More items than respondents (the 1,000 x 5,000 case in miniature): G6 and its drop
    column come from the pseudo-inverse as psych's, and nothing is O(k^4)."""
    x = _simulate(5, n=40, k=300)
    res = _quiet_alpha(x)
    assert res.alpha_drop.shape == (300, 8)
    assert np.isfinite(res.alpha_drop.to_numpy()).all()
    assert 0 < res.g6 <= 1
