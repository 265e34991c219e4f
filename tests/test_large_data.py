"""The large-data routes of parallel analysis and the omega bootstrap draw what the plain
routes draw: per-column resamples, normal-data correlation matrices, multinomial resamples of
rows. (Their speed is measured in benchmarks, never asserted here.)"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
import psychoval.stats.factor._dimensionality as dim
import psychoval.stats.reliability._omega_boot as ob
from psychoval.datasets import sample_framework
from psychoval.stats.core._pearson import pairwise_cor
from tests.reference._refs import load_data

HS9 = [f"x{i}" for i in range(1, 10)]


def _likert(n: int, seed: int, missing: float = 0.03) -> np.ndarray:
    """Two correlated factors, four 1-5 items each, cells missing at random."""
    rng = np.random.default_rng(seed)
    f = rng.multivariate_normal([0, 0], [[1, .3], [.3, 1]], n)
    lam = np.kron(np.eye(2), np.full((4, 1), .7))
    y = f @ lam.T + rng.standard_normal((n, 8)) * .7
    x = np.clip(np.round(y * 1.2 + 3), 1, 5)
    x[rng.random(x.shape) < missing] = np.nan
    return x


# -- parallel analysis --------------------------------------------------------------------
def test_small_data_keep_the_row_major_draws():
    """Below the size limit the replicates are psych's recipe, drawn as before."""
    x = load_data("HolzingerSwineford1939")[HS9]
    res = pv.parallel_analysis(x, n_iter=3, seed=9)
    raw = x.to_numpy(dtype=float)
    n, p = raw.shape
    rng = np.random.default_rng(9)
    pc_r, pc_s = [], []
    for _ in range(3):
        idx = rng.integers(0, n, size=raw.shape)
        pc_r.append(np.linalg.eigvalsh(pairwise_cor(np.take_along_axis(raw, idx, 0))[0])[::-1])
        z = rng.standard_normal((n, p))
        pc_s.append(np.linalg.eigvalsh(np.corrcoef(z, rowvar=False))[::-1])
    np.testing.assert_array_equal(res.pc_simr, np.mean(pc_r, axis=0))
    np.testing.assert_array_equal(res.pc_sim, np.mean(pc_s, axis=0))


@pytest.mark.parametrize("kind", ["integer", "continuous", "wide_range"])
def test_column_major_resample_is_a_per_column_resample(kind):
    x = _likert(400, 1)
    if kind == "continuous":
        x = x + np.random.default_rng(2).standard_normal(x.shape) * .1
    elif kind == "wide_range":
        x = x * 1000.0  # n V^2 >= 2^24: float32 sums would not be exact
    resampler = dim._ColumnResampler(x, "pearson")
    assert (resampler.scores is not None) == (kind == "integer")
    C = resampler(np.random.default_rng(3))
    idx = np.random.default_rng(3).integers(0, x.shape[0], size=x.shape[::-1])
    sample = x[idx.T, np.arange(x.shape[1])]  # column j takes the rows idx[j]
    np.testing.assert_allclose(C, pairwise_cor(sample)[0], rtol=0, atol=1e-13)
    np.testing.assert_array_equal(np.diag(C), 1.0)


def test_integer_route_handles_undefined_correlations():
    x = _likert(50, 4, missing=0.0)
    x[:, 3] = 2.0  # a constant item: every resample has an undefined correlation
    with pytest.raises(pv.DataError, match="100 resampled data sets"):
        dim._resampled_cor(x, dim._ColumnResampler(x, "pearson"),
                           np.random.default_rng(0), "pearson")


def test_wishart_correlations_have_the_distribution_of_simulated_data():
    """Bartlett's construction against simulated data: E r^2 = 1 / (n - 1) for independent
    normal variables (1 / n with one degree of freedom too many), and the mean of the largest
    eigenvalue; both within 4 Monte-Carlo standard errors."""
    n, p, reps = 8, 5, 6000
    off = np.triu_indices(p, 1)
    draws = {}
    for wishart in (True, False):
        rng = np.random.default_rng(11)
        cs = np.array([dim._simulated_cor(rng, n, p, wishart=wishart) for _ in range(reps)])
        draws[wishart] = cs
        r2 = (cs[:, off[0], off[1]] ** 2).mean(axis=1)
        se = r2.std(ddof=1) / math.sqrt(reps)
        assert abs(r2.mean() - 1 / (n - 1)) < 4 * se
    top = {w: np.linalg.eigvalsh(c)[:, -1] for w, c in draws.items()}
    se = math.sqrt(top[True].var(ddof=1) / reps + top[False].var(ddof=1) / reps)
    assert abs(top[True].mean() - top[False].mean()) < 4 * se
    c = draws[True][0]
    np.testing.assert_array_equal(c, c.T)
    np.testing.assert_array_equal(np.diag(c), 1.0)


def test_large_data_route_end_to_end(monkeypatch):
    x = pd.DataFrame(_likert(3000, 5), columns=[f"i{j}" for j in range(8)])
    small = pv.parallel_analysis(x, n_iter=40, seed=6)
    monkeypatch.setattr(dim, "_LARGE_CELLS", 0)
    large = pv.parallel_analysis(x, n_iter=40, seed=6)
    again = pv.parallel_analysis(x, n_iter=40, seed=6)
    np.testing.assert_array_equal(large.fa_threshold, again.fa_threshold)  # seeded
    assert large.n_factors == small.n_factors == 2
    np.testing.assert_array_equal(large.fa_values, small.fa_values)  # the data's own
    # the same reference distributions by other draws: the replicate means agree within
    # Monte-Carlo noise. Over 10 seeds the SDs of these 40-replicate means were <= .003 on
    # either route, except the first factor eigenvalue's, .06 (one-factor fits to nearly
    # uncorrelated data are unstable): bounds of about 5 SDs of a difference
    for field in ("pc_sim", "fa_sim", "pc_simr", "fa_simr"):
        bound = np.full(8, .02)
        if field.startswith("fa"):
            bound[0] = .4
        assert (np.abs(getattr(large, field) - getattr(small, field)) < bound).all(), field


# -- omega bootstrap ----------------------------------------------------------------------
def _prompting() -> pd.DataFrame:
    fw = sample_framework()
    scores = fw.score(pv.load_sample()).scores
    return scores[list(fw.competency("prompting").item_ids)].dropna()


def test_omega_bootstrap_blocks_continue_one_multinomial_stream(monkeypatch):
    x = _prompting()
    n = len(x)
    whole = ob.omega_bootstrap(x.to_numpy(), n_boot=50, seed=5)
    xv = x.to_numpy()
    patterns, freq = ob._distinct_rows(xv - xv.mean(axis=0))
    monkeypatch.setattr(ob, "_BLOCK_CELLS", 7 * len(patterns))  # blocks of 7 replicates
    blocked = ob.omega_bootstrap(xv, n_boot=50, seed=5)
    np.testing.assert_allclose(blocked.values, whole.values, rtol=1e-12, atol=0)
    counts = np.random.default_rng(5).multinomial(n, freq / n, size=50)
    for b in (0, 6, 7, 49):  # first, either side of a block boundary, last
        rows = pd.DataFrame(np.repeat(patterns, counts[b], axis=0) + xv.mean(axis=0),
                            columns=list(x))
        one = pv.stats.one_factor_omega(rows, items=list(x))
        assert math.isclose(blocked.values[b], one.omega, rel_tol=1e-7)


def test_resampled_covariances_are_those_of_the_resampled_rows():
    x = _prompting().to_numpy()
    n = len(x)
    xc = x - x.mean(axis=0)
    s = ob._resampled_covariances(xc, 5, np.random.default_rng(8))
    patterns, freq = ob._distinct_rows(xc)
    assert freq.sum() == n and len(patterns) < n
    counts = np.random.default_rng(8).multinomial(n, freq / n, size=5)
    for b in range(5):
        rows = np.repeat(patterns, counts[b], axis=0)
        np.testing.assert_allclose(s[b], np.cov(rows, rowvar=False, bias=True),
                                   rtol=0, atol=1e-12)
