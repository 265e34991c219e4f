"""EFA on wide data (issue 22, "Wide tests"): above ``WIDE_K`` items ``fit_fa`` takes the
leading eigenpairs only (Lanczos) with L-BFGS-B (psychoval.stats.factor._efa_wide). Checked
against the small, R-referenced path (full eigendecomposition + Newton) on the same data, and
the wide optimum against the optimality conditions computed from a full eigendecomposition."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.stats.factor import _efa, _efa_wide
from tests._tolerances import assert_close


def _low_rank_data(k: int, n: int, m: int, seed: int) -> np.ndarray:
    """n x k responses: m sparse factors plus unit noise."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.3, 0.8, (k, m)) * (rng.random((k, m)) < 0.5)
    return rng.standard_normal((n, m)) @ lam.T + rng.standard_normal((n, k))


def _low_rank_cor(k: int, m: int, noise: float, seed: int) -> np.ndarray:
    """A correlation matrix: m-factor structure plus a random symmetric perturbation."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.2, 0.8, (k, m)) * (rng.random((k, m)) < 0.6)
    h2 = (lam * lam).sum(axis=1)
    lam *= np.sqrt(np.minimum(1.0, 0.8 / np.maximum(h2, 1e-300)))[:, None]  # h2 <= .8
    e = rng.standard_normal((k, k)) * noise
    r = lam @ lam.T + (e + e.T) / 2.0
    np.fill_diagonal(r, 1.0)
    return r


def _both(monkeypatch, data, threshold: int | None = None, **kw):
    """(small-path result, wide-path result) of pv.efa on the same data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monkeypatch.setattr(_efa, "WIDE_K", 10**9)
        small = pv.efa(data, **kw)
        monkeypatch.setattr(_efa, "WIDE_K", threshold or _efa_wide.WIDE_K)
        wide = pv.efa(data, **kw)
    return small, wide


CHI_SQUARE_BASED = ("objective", "statistic", "pval", "tli", "bic", "rmsea", "rmsea_lower",
                    "rmsea_upper")


def _assert_same(small, wide, what: str, chi_square_kind: str = "efa_wide") -> None:
    assert small.converged and wide.converged, what
    for field in ("loadings", "communalities", "uniquenesses", "phi"):
        assert_close(getattr(wide, field).to_numpy(), getattr(small, field).to_numpy(),
                     "efa_wide", what=f"{what} {field}")
    assert_close(wide.e_values, small.e_values, "efa_wide", what=f"{what} e_values")
    assert_close(wide.values, small.values, "efa_wide", what=f"{what} values")
    for name, value in small.fit_measures.items():
        kind = chi_square_kind if name in CHI_SQUARE_BASED else "efa_wide"
        assert_close(wide.fit_measures[name], value, kind, what=f"{what} {name}")
    assert wide.heywood == small.heywood


def test_threshold_selects_the_wide_path(monkeypatch):
    calls = []
    real = _efa_wide.uls_fit
    monkeypatch.setattr(_efa_wide, "uls_fit", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(_efa, "WIDE_K", 60)
    x = _low_rank_data(61, 200, 1, seed=0)
    pv.efa(x[:, :-1], n_factors=1)
    assert not calls
    pv.efa(x, n_factors=1)
    assert calls == [1]


def test_minres_paths_agree_above_the_threshold(monkeypatch):
    # the real threshold (WIDE_K = 300): one factor on 320 items
    x = _low_rank_data(_efa_wide.WIDE_K + 20, 800, 1, seed=1)
    small, wide = _both(monkeypatch, x, n_factors=1)
    _assert_same(small, wide, "minres 1 factor")


@pytest.mark.parametrize("method", ["minres", "uls", "ml", "pa"])
@pytest.mark.parametrize("nf", [1, 2])
def test_methods_agree_with_a_lowered_threshold(monkeypatch, method, nf):
    # ml's small path (finite-difference Hessian, O(k^4)) is slow at 400 items: the same
    # comparison on 90 items with the threshold lowered to 60 (Lanczos still used)
    x = _low_rank_data(90, 400, 2, seed=2 + nf)
    small, wide = _both(monkeypatch, x, threshold=60, n_factors=nf, method=method,
                        rotation="varimax")
    _assert_same(small, wide, f"{method} {nf} factors")


def test_singular_correlation_matrix(monkeypatch):
    # fewer respondents than items: R singular, smoothed (cor.smooth) for the fit statistics
    # into a matrix with condition number ~1e10, whose log-determinant neither path resolves
    # beyond ~1e-7 relative (the small path's own solve); the extraction agrees as elsewhere
    x = _low_rank_data(340, 250, 2, seed=4)
    small, wide = _both(monkeypatch, x, n_factors=2, rotation=None)
    _assert_same(small, wide, "singular R", chi_square_kind="efa_wide_singular")


def test_heywood_case_on_both_paths(monkeypatch):
    r = _low_rank_cor(80, 1, 0.0, seed=5)
    r[0, 1:] = r[1:, 0] = r[1, 1:] = r[1:, 1] = 0.0
    r[0, 1] = r[1, 0] = 0.999  # two items that are almost the same: uniqueness at the bound
    small, wide = _both(monkeypatch, r, threshold=60, n_factors=2, rotation=None, n_obs=500)
    assert small.heywood and wide.heywood == small.heywood
    _assert_same(small, wide, "Heywood")


def test_smc_and_eigenvalues_equal_the_small_path():
    for r in (_low_rank_cor(120, 2, 0.02, seed=6),                     # positive definite
              np.corrcoef(_low_rank_data(120, 60, 2, seed=7), rowvar=False)):  # singular
        smc, e_values, (rs, logdet) = _efa_wide.smc(r)
        assert_close(smc, _efa.smc_of(r), "closed_form", what="smc")
        assert_close(e_values, np.linalg.eigvalsh(r)[::-1], "closed_form", what="e_values")
        assert_close(rs, _efa._cor_smooth(r), "closed_form", what="cor.smooth")
        assert_close(logdet, np.linalg.slogdet(_efa._cor_smooth(r))[1], "closed_form",
                     what="log-determinant")


@pytest.mark.parametrize("kind", ["uls", "ml"])
def test_criteria_equal_the_full_decomposition(kind):
    # value and gradient from the leading eigenpairs = the small path's (every eigenpair),
    # and the gradient = central finite differences of the value
    r = _low_rank_cor(100, 3, 0.0, seed=8)  # positive definite (h2 <= .8): ml's log|.|
    rng = np.random.default_rng(9)
    psi = rng.uniform(0.3, 0.9, 100)
    top = _efa_wide.TopEigen(r, 3)
    assert not top.dense
    if kind == "uls":
        def value_grad(x):
            return _efa_wide.uls_value_grad(x, r, top)[:2]
        f_full, g_full = _efa.uls_obj_grad(psi, r, 3)
    else:
        logdet = float(np.linalg.slogdet(r)[1])

        def value_grad(x):
            return _efa_wide.ml_value_grad(x, r, top, logdet)[:2]
        f_full, g_full = _efa._ml_obj_grad(psi, r, 3)
    f, g = value_grad(psi)
    assert_close(f, f_full, "closed_form", what=f"{kind} value")
    assert_close(g, g_full, "closed_form", what=f"{kind} gradient")
    h = 1e-6
    fd = np.array([(value_grad(psi + h * e)[0] - value_grad(psi - h * e)[0]) / (2 * h)
                   for e in np.eye(100)[:10]])
    np.testing.assert_allclose(g[:10], fd, rtol=1e-5, atol=1e-6)


@settings(deadline=None, max_examples=6)
@given(k=st.integers(300, 600), m=st.integers(1, 4), noise=st.floats(0.0, 0.03),
       seed=st.integers(0, 2**31 - 1))
def test_wide_path_reaches_the_minimum(k, m, noise, seed):
    # the wide minres optimum satisfies the optimality conditions computed from a full
    # eigendecomposition of R - Psi: the loadings are its scaled leading eigenvectors, the
    # gradient -2 diag(R - Psi - LL') vanishes on the free uniquenesses (points outward at
    # the bound), the criterion equals the sum of the squared discarded eigenvalues, and the
    # analytic Hessian on the free uniquenesses is positive semidefinite (a minimum)
    r = _low_rank_cor(k, m, noise, seed)
    fit = _efa.fit_fa(r, m, "minres")
    assert fit.converged
    psi = fit.psi
    vals, vecs = np.linalg.eigh(r - np.diag(psi))
    vals, vecs = vals[::-1], vecs[:, ::-1]
    L = vecs[:, :m] * np.sqrt(np.maximum(vals[:m], 0.0))
    model = fit.loadings @ fit.loadings.T
    assert_close(model, L @ L.T, "efa_wide", what="L L'")
    f_full, g_full = _efa.uls_obj_grad(psi, r, m)
    free = psi > _efa._LOWER
    assert np.abs(g_full[free]).max() < 1e-8
    assert np.all(g_full[~free] > -1e-8)
    rest = vals[m:]
    assert_close(fit.objective, float(rest @ rest + np.sum(np.minimum(vals[:m], 0.0) ** 2)),
                 "efa_wide", what="criterion")
    assert_close(fit.objective, f_full, "efa_wide", what="criterion")
    hess = _efa._uls_hess(psi, r, m)[np.ix_(free, free)]
    assert np.linalg.eigvalsh(hess).min() > -1e-8
