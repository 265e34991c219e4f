"""The shortcuts of issue 22 give what the long ways give.

- ordinal_sample_stats: rows pooled into response patterns (frequency weights) equal the
  row-by-row sums; the bincount coding of whole numbers equals np.unique's coding of widely
  spread ones; the content-keyed cache returns the same numbers, read-only, re-issues the
  warnings and does not confuse two data sets of one shape;
- FIML's sum_g w_g E_g (the P M P form) equals the sum of the explicit E_g;
- IRT's integer-keyed response patterns equal np.unique on the rows' bytes;
- categorical omega's SE with the shared real parts equals a finite-difference Jacobian.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from psychoval.exceptions import DegenerateDataWarning
from psychoval.stats.sem import _fiml
from psychoval.stats.sem import _ordinal as ordm
from psychoval.stats.sem._ordinal import ordinal_sample_stats

irt_data = importlib.import_module("psychoval.stats.irt._data")


def _likert(n: int, k: int, cats: int, seed: int, missing: float = 0.05) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 1))
    z = 0.7 * f + 0.7 * rng.standard_normal((n, k))
    x = np.digitize(z, np.linspace(-1.5, 1.5, cats - 1)).astype(float) + 1
    x[rng.random(x.shape) < missing] = np.nan
    return pd.DataFrame(x, columns=[f"y{j + 1}" for j in range(k)])


def _same(a, b, rtol=1e-12):
    assert a.nobs == b.nobs
    np.testing.assert_array_equal(a.n_pairwise, b.n_pairwise)
    np.testing.assert_allclose(a.thresholds, b.thresholds, rtol=rtol, atol=0)
    np.testing.assert_allclose(a.cor, b.cor, rtol=rtol, atol=0)
    scale = np.abs(b.nacov).max()
    assert np.abs(a.nacov - b.nacov).max() <= rtol * scale


@pytest.fixture(autouse=True)
def _fresh_cache():
    ordm._CACHE.clear()
    yield
    ordm._CACHE.clear()


@pytest.mark.parametrize("missing", ["listwise", "pairwise"])
def test_patterns_equal_rows(monkeypatch, missing):
    df = _likert(3000, 5, 3, seed=1)  # at most 4^5 patterns: pooled
    assert ordm._distinct_rows(ordm._codes(df.to_numpy(), list(df))[0], [3] * 5) is not None
    pooled = ordinal_sample_stats(df, missing=missing)
    ordm._CACHE.clear()
    monkeypatch.setattr(ordm, "_distinct_rows", lambda codes, ncat: None)
    rows = ordinal_sample_stats(df, missing=missing)
    _same(pooled, rows)


def test_bincount_coding_equals_unique_coding():
    df = _likert(800, 6, 5, seed=2)
    a = ordinal_sample_stats(df, missing="pairwise")
    b = ordinal_sample_stats(df * 3000 - 7, missing="pairwise")  # codes 12,000 apart: unique
    _same(a, b, rtol=0)


def test_cache_same_numbers_read_only_and_keyed_by_content():
    df = _likert(500, 4, 4, seed=3)
    a = ordinal_sample_stats(df, missing="pairwise")
    b = ordinal_sample_stats(df.copy(), missing="pairwise")
    assert b is a and len(ordm._CACHE) == 1
    with pytest.raises(ValueError):
        a.nacov[0, 0] = 1.0
    other = df.copy()
    other.iloc[0, 0] = 4.0 if other.iloc[0, 0] != 4.0 else 1.0
    c = ordinal_sample_stats(other, missing="pairwise")
    assert c is not a and not np.array_equal(c.cor, a.cor)
    ordm._CACHE.clear()
    _same(ordinal_sample_stats(df, missing="pairwise"), a, rtol=0)


def test_cache_hit_warns_again():
    rng = np.random.default_rng(4)
    y1 = rng.integers(0, 2, 300).astype(float)
    df = pd.DataFrame({"y1": y1, "y2": rng.integers(0, 2, 300).astype(float),
                       "y3": y1.copy()})  # y3 a copy of y1: two empty cells, rho = 1
    for _ in range(2):
        with pytest.warns(DegenerateDataWarning, match="two empty cells"):
            ordinal_sample_stats(df)
    assert len(ordm._CACHE) == 1


def test_fiml_e_sum_equals_explicit_sum():
    rng = np.random.default_rng(5)
    p = 12
    a = rng.standard_normal((p, p))
    sigma = a @ a.T / p + np.eye(p)
    x = rng.multivariate_normal(np.zeros(p), sigma, size=3000)
    x[rng.random(x.shape) < 0.15] = np.nan
    x[:5, :9] = np.nan  # patterns missing more than they observe (the direct inverses)
    pat = _fiml.missing_patterns(x)
    fac = _fiml._Factor(pat, sigma)
    assert fac.low and fac.direct
    w = rng.random(pat.n_patterns)
    explicit = np.zeros((p, p))
    for bi, b in enumerate(pat.batches):
        e = fac.e_full(bi, np.arange(len(b.patterns)))
        explicit += np.einsum("b,bij->ij", w[b.patterns], e)
    np.testing.assert_allclose(fac.e_sum(w), explicit, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k", [1, 3, 7, 8])
def test_irt_patterns_equal_byte_unique(k):
    rng = np.random.default_rng(k)
    codes = rng.integers(-1, 5, size=(4000, k)).astype(np.int8)
    pats, counts, inverse = irt_data.patterns(codes)
    view = codes.view(np.dtype((np.void, k))).ravel()
    _, first, inv, cnt = np.unique(view, return_index=True, return_inverse=True,
                                   return_counts=True)
    np.testing.assert_array_equal(pats, codes[first])
    np.testing.assert_array_equal(counts, cnt.astype(float))
    np.testing.assert_array_equal(inverse, inv.ravel())


def test_omega_se_jacobian_equals_finite_differences():
    import psychoval as pv
    from psychoval.stats.sem._ordinal_omega import omega_function

    df = _likert(1500, 5, 4, seed=6, missing=0.0)
    fit = pv.cfa({"f": list(df)}, df, ordered=True, estimator="WLSMV")
    g, s0, _ = omega_function(fit._ordinal)
    h = 1e-20
    for i in range(s0.size):  # the complex step (shared real parts) vs central differences
        sc = s0.astype(complex)
        sc[i] += 1j * h
        cs = np.imag(g(sc)) / h
        up, down = s0.copy(), s0.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        fd = (np.real(g(up)) - np.real(g(down))) / 2e-6
        np.testing.assert_allclose(cs, fd, rtol=1e-6, atol=1e-8)
