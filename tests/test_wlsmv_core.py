"""Ordinal CFA, first slice (src/psychoval/stats/sem/_ordinal.py) against lavaan 0.6.14:
``cfa(mod, data, ordered = TRUE, estimator = "WLSMV")`` on bfi A1-A5, C1-C5 (raw codes,
listwise; references from tests/reference/r/wlsmv_core.R).

Achieved on the main check (bfi.AC.wlsmv): NACOV max |diff| 7e-8 (7.7e-9 of its largest
element); sample thresholds/polychorics 3e-8 (lavaan's nlminb probit thresholds vs the
closed form); standard errors 7e-8; chisq, scaled chisq, scaling factor and shift ~3e-8
relative. Estimates: 1.1e-6 absolute on two loadings of about -1.8 (6e-7 relative): lavaan's
nlminb stops with a gradient of ~1.5e-6 there (fed lavaan's own WLS.obs and Gamma our
optimiser lands at the same point as on our sample statistics, and lavaan's solution is
5e-13 above our minimum of F), so estimates are compared to 1e-6 relative to max(1, |est|).
"""

from __future__ import annotations

import numpy as np
import pytest

from psychoval.stats.sem._cfa_ordinal import fit_dwls
from psychoval.stats.sem._ordinal import ordinal_sample_stats
from tests.reference import _refs

ITEMS = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
MODEL = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
CHECKS = ("bfi.AC.wlsmv", "bfi.AC.wlsmv.collapsed")


def _data(cid: str):
    df = _refs.load_data("bfi")[ITEMS].copy()  # raw codes: lavaan reverses nothing
    if cid == "bfi.AC.wlsmv.collapsed":
        for col, lut in (("A1", [1, 1, 1, 2, 2, 2]), ("A2", [1, 1, 1, 2, 2, 3]),
                         ("C1", [1, 1, 2, 3, 4, 4])):
            v = df[col].to_numpy()
            ok = ~np.isnan(v)
            out = np.full(v.shape, np.nan)
            out[ok] = np.array(lut, dtype=float)[v[ok].astype(int) - 1]
            df[col] = out
    return df


@pytest.fixture(scope="module")
def fits():
    out = {}
    for cid in CHECKS:
        ref = _refs.extra_checks("wlsmv_core")[cid]
        out[cid] = (ref, fit_dwls(ref["model"], _data(cid), ordered_items=ITEMS))
    return out


@pytest.mark.parametrize("cid", CHECKS)
def test_sample_statistics_and_nacov_match_lavaan(fits, cid):
    ref, fit = fits[cid]
    vals = ref["values"]
    ss = fit.sample
    assert ss.nobs == vals["nobs"]
    assert list(ss.names) == vals["gamma_names"]
    np.testing.assert_allclose(ss.wls_obs, vals["wls_obs"], rtol=0, atol=1e-7)
    gam = np.array(vals["gamma"])
    assert gam.shape == ss.nacov.shape
    # relative to the largest element: 1e-7 asserted (7.7e-9 achieved on bfi.AC.wlsmv)
    assert np.abs(ss.nacov - gam).max() <= 1e-7 * np.abs(gam).max()
    # element by element, every element of at least 1e-3 of the largest: 1e-6 relative
    big = np.abs(gam) >= 1e-3 * np.abs(gam).max()
    assert (np.abs(ss.nacov - gam)[big] / np.abs(gam)[big]).max() <= 1e-6


def test_sample_statistics_standalone_equal_the_fit():
    df = _data("bfi.AC.wlsmv")
    ss = ordinal_sample_stats(df, items=ITEMS)
    ref = _refs.extra_checks("wlsmv_core")["bfi.AC.wlsmv"]["values"]
    for name, t in zip(ss.threshold_names, ss.thresholds, strict=True):
        assert t == pytest.approx(ref["sampstat_th"][name], abs=1e-7)
    cor = np.array([[row[c] for c in ITEMS] for row in ref["sampstat_cor"]])
    np.testing.assert_allclose(ss.cor, cor, rtol=0, atol=1e-7)
    np.testing.assert_allclose(ss.nacov, ss.nacov.T, rtol=0, atol=0)


@pytest.mark.parametrize("cid", CHECKS)
def test_estimates_and_robust_se_match_lavaan(fits, cid):
    ref, fit = fits[cid]
    assert fit.converged
    pe = ref["values"]["parameterEstimates"]
    est = fit.estimates
    keys = [f"{r.lhs}{r.op}{r.rhs}" for r in est.itertuples()]
    # every lavaan row except the fixed scales (~*~) and intercepts (~1) of the delta
    # parameterization
    assert sorted(keys) == sorted(k for k in pe if "~*~" not in k and not k.endswith("~1"))
    for r, k in zip(est.itertuples(), keys, strict=True):
        assert r.est == pytest.approx(pe[k]["est"], rel=0, abs=1e-6 * max(1.0, abs(r.est))), k
        assert r.se == pytest.approx(pe[k]["se"], rel=0, abs=1e-6), k


@pytest.mark.parametrize("cid", CHECKS)
def test_scaled_shifted_test_matches_lavaan(fits, cid):
    ref, fit = fits[cid]
    fm = ref["values"]["fitMeasures"]
    assert fit.df == fm["df"]
    assert fit.npar == fm["npar"]
    assert fit.chisq == pytest.approx(fm["chisq"], rel=1e-6)
    assert fit.fmin == pytest.approx(fm["fmin"], rel=1e-6)
    assert fit.chisq_scaled == pytest.approx(fm["chisq.scaled"], rel=1e-6)
    assert fit.scaling_factor == pytest.approx(fm["chisq.scaling.factor"], rel=1e-6)
    assert fit.shift == pytest.approx(ref["values"]["shift_parameter"], rel=1e-6)
    assert fit.pvalue_scaled == pytest.approx(fm["pvalue.scaled"], abs=1e-12)
    assert fit.pvalue == pytest.approx(fm["pvalue"], abs=1e-12)


def test_an_indicator_not_in_ordered_is_continuous():
    """lavaan: the indicators not in ``ordered =`` are continuous (values against lavaan:
    tests/test_wlsmv_mixed.py)."""
    fit = fit_dwls(MODEL, _data("bfi.AC.wlsmv"), ordered_items=ITEMS[:-1])
    assert fit.sample.numeric == (False,) * (len(ITEMS) - 1) + (True,)
    assert f"{ITEMS[-1]}~~{ITEMS[-1]}" in fit.sample.names


def test_two_empty_cells_of_two_dichotomies_warn():
    """Two empty cells of a 2 x 2 table: lavaan sets rho to +-1 and still computes the NACOV
    (0.5 phi(tau) threshold terms, the density's rho capped at 0.9999); so do we, with a
    DegenerateDataWarning naming the items (values against lavaan: tests/test_wlsmv_missing.py).
    """
    from psychoval.exceptions import DegenerateDataWarning

    x = np.array([[1, 1, 1], [1, 1, 2], [2, 2, 1], [2, 2, 2], [1, 1, 2], [2, 2, 1]] * 5,
                 dtype=float)
    with pytest.warns(DegenerateDataWarning, match="two empty cells"):
        ss = ordinal_sample_stats(x)
    assert ss.cor[0, 1] == 1.0 and np.isfinite(ss.nacov).all()
