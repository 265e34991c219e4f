"""Ordinal CFA estimators beyond WLSMV / DWLS and the theta parameterization (issue 18):
``pv.cfa(..., ordered=True, estimator="ULSMV" | "ULS" | "WLS")``, ``parameterization="theta"``
and ``pv.compare`` of nested WLSMV / ULSMV fits (lavaan's ``lavTestLRT``, method
"satorra.2000", scaled-shifted difference), against lavaan 0.6.14 on bfi A1-A5, C1-C5 (raw
codes, listwise) and ability (16 items): tests/reference/r/wlsmv_estimators.R.

Achieved (max over all rows): ULSMV / ULS estimates 3.1e-7, WLS 2.2e-6, theta 4.3e-6
absolute (lavaan's nlminb stopping point: its thresholds in the theta fit are 4e-7 off the
closed-form sample thresholds that our fit reproduces); SEs 1.5e-8 (ULS, ULSMV), 2.5e-8 (WLS),
2.6e-7 (theta); standardized solution 1.3e-7 (ULS), 2.2e-6 (WLS), 2.6e-6 (theta); every fit
measure within 1e-5 relative, and the set of names is lavaan's for each estimator exactly.
Difference tests: chisq diff 2.4e-8 (ability 2nd-order vs 4 factors), 7e-8 (bfi 1 vs 2
factors, WLSMV) and 1.6e-7 (ULSMV) relative. Asserted: estimates 1e-5 x max(1, |est|), SEs
1e-6, fit measures and the difference test at the "cfa" tolerance (rtol 1e-4).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import psychoval as pv
from psychoval.exceptions import SpecificationError
from tests._tolerances import assert_close, assert_pvalue
from tests.reference import _refs

AC = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
FITS = {  # check id: (estimator, parameterization, std_lv)
    "bfi.AC.ulsmv": ("ULSMV", "delta", False),
    "bfi.AC.uls": ("ULS", "delta", False),
    "bfi.AC.wls": ("WLS", "delta", False),
    "bfi.AC.theta": ("WLSMV", "theta", False),
    "bfi.AC.theta.stdlv": ("WLSMV", "theta", True),
}
LRTS = {"ability.2nd_vs_4f.lrt": ("ability", "WLSMV"), "bfi.1f_vs_2f.lrt": ("bfi", "WLSMV"),
        "bfi.1f_vs_2f.ulsmv.lrt": ("bfi", "ULSMV")}


def _refs_all():
    return _refs.extra_checks("wlsmv_estimators")


def _bfi():
    """Complete rows only (lavaan's listwise deletion drops 168 of 2,800, with a warning
    here): the same rows lavaan uses."""
    return _refs.load_data("bfi")[AC].dropna().reset_index(drop=True)


def _data(name: str):
    return _bfi() if name == "bfi" else _refs.load_data("ability")


@pytest.fixture(scope="module")
def fits():
    refs = _refs_all()
    out = {}
    data = _bfi()
    for cid, (est, par, std_lv) in FITS.items():
        out[cid] = (refs[cid]["values"],
                    pv.cfa(refs[cid]["model"], data, ordered=True, estimator=est,
                           parameterization=par, std_lv=std_lv))
    return out


def _key(row) -> str:
    return f"{row.lhs}{row.op}{row.rhs}"


@pytest.mark.parametrize("cid", list(FITS))
def test_estimates_and_standard_errors_match_lavaan(fits, cid):
    ref, fit = fits[cid]
    assert fit.converged
    assert fit.n_obs == ref["nobs"]
    pe = ref["parameterEstimates"]
    est = fit.estimates()
    assert sorted(_key(r) for r in est.itertuples()) == sorted(pe)
    for r in est.itertuples():
        want = pe[_key(r)]
        assert r.est == pytest.approx(want["est"], rel=0, abs=1e-5 * max(1.0, abs(r.est))), \
            _key(r)
        assert r.se == pytest.approx(want["se"], rel=0, abs=1e-6), _key(r)


@pytest.mark.parametrize("cid", list(FITS))
def test_standardized_solution_matches_lavaan(fits, cid):
    ref, fit = fits[cid]
    ss = ref["standardizedSolution"]
    std = fit.standardized()
    assert sorted(_key(r) for r in std.itertuples()) == sorted(ss)
    for r in std.itertuples():
        want = ss[_key(r)]
        assert r.est_std == pytest.approx(want["est.std"], rel=0, abs=1e-5), _key(r)
        assert r.se == pytest.approx(want["se"], rel=0, abs=1e-6), _key(r)


@pytest.mark.parametrize("cid", list(FITS))
def test_fit_measures_are_lavaans_set_and_values(fits, cid):
    ref, fit = fits[cid]
    want = {k.replace(".", "_"): v for k, v in ref["fitMeasures"].items()}
    got = fit.fit_measures
    assert set(got) == set(want)
    for k, v in want.items():
        if k.startswith("pvalue") or "_pvalue" in k:
            if v is not None and not math.isnan(float(got[k])):
                assert_pvalue(got[k], v, "cfa", what=k)
            continue
        assert_close(got[k], v, "cfa", what=k)
    np.testing.assert_allclose(fit.implied_cov.to_numpy(), np.array(ref["implied_cov"]),
                               rtol=0, atol=1e-6)


def test_uls_and_ulsmv_share_estimates_not_standard_errors(fits):
    uls = fits["bfi.AC.uls"][1].estimates()
    ulsmv = fits["bfi.AC.ulsmv"][1].estimates()
    np.testing.assert_array_equal(uls["est"], ulsmv["est"])
    free = uls["se"] > 0
    assert not np.allclose(uls["se"][free], ulsmv["se"][free], rtol=1e-3)
    assert "chisq_scaled" in fits["bfi.AC.ulsmv"][1].fit_measures
    assert "chisq_scaled" not in fits["bfi.AC.uls"][1].fit_measures


def test_theta_and_delta_are_the_same_fit(fits):
    """The parameterizations differ in the scale of the latent responses only: the fit
    measures and the standardized solution are the same, the raw estimates are not."""
    theta = fits["bfi.AC.theta"][1]
    delta = pv.cfa(_refs_all()["bfi.AC.theta"]["model"], _bfi(), ordered=True)
    for k, v in delta.fit_measures.items():
        assert theta.fit_measures[k] == pytest.approx(v, rel=1e-6, abs=1e-9, nan_ok=True), k
    a, b = theta.standardized(), delta.standardized()
    np.testing.assert_allclose(a["est_std"], b["est_std"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(a["se"], b["se"], rtol=0, atol=1e-6)
    raw_t, raw_d = theta.estimates(), delta.estimates()
    loads = (raw_t["op"] == "=~") & (raw_t["se"] > 0)
    assert np.abs(raw_t["est"][loads] - raw_d["est"][loads]).max() > 0.1
    resid = (raw_t["op"] == "~~") & (raw_t["lhs"] == raw_t["rhs"]) & raw_t["lhs"].isin(AC)
    assert (raw_t["est"][resid] == 1.0).all()
    assert theta.admissible and not theta.problems
    assert "theta" in str(theta.summary())


@pytest.mark.parametrize("cid", list(LRTS))
def test_nested_ordinal_fits_compare_as_lavtestlrt(cid):
    ref = _refs_all()[cid]
    name, est = LRTS[cid]
    data = _data(name)
    with warnings.catch_warnings():
        # the 1-factor bfi model has negative loadings with a positive marker: no warning
        # is expected, but a fit's own warnings are not this test's subject
        warnings.simplefilter("ignore")
        fa = pv.cfa(ref["models"][0], data, ordered=True, estimator=est)
        fb = pv.cfa(ref["models"][1], data, ordered=True, estimator=est)
    out = pv.compare(fa, fb, names=["a", "b"])
    v = ref["values"]
    assert list(out.models) == v["rownames"]
    assert out.method == "satorra.2000"
    assert out.scaled
    np.testing.assert_array_equal(out.df, v["Df"])
    assert_close(out.chisq, v["Chisq"], "cfa", what="Chisq")
    assert_close(out.chisq_diff[1], v["Chisq_diff"][1], "cfa", what="Chisq diff")
    assert out.df_diff[1] == v["Df_diff"][1]
    assert_pvalue(float(out.pvalue[1]), v["pvalue"][1], "cfa", what="Pr(>Chisq)")
    assert np.isnan(out.aic).all() and np.isnan(out.bic).all()
    assert "rmsea" not in out.to_frame()


def test_compare_refuses_mixed_and_mismatched_ordinal_fits(fits):
    hs = _refs.load_data("HolzingerSwineford1939")
    ml = pv.cfa("visual =~ x1 + x2 + x3", hs, estimator="MLR")
    wlsmv = fits["bfi.AC.theta"][1]
    with pytest.raises(SpecificationError, match="ordinal"):
        pv.compare(ml, wlsmv)
    one = pv.cfa("g =~ A1 + A2 + A3 + A4 + A5", _bfi(), ordered=True)
    with pytest.raises(SpecificationError, match="same items"):
        pv.compare(one, wlsmv)
    with pytest.raises(SpecificationError, match="satorra.2000"):
        pv.compare(one, wlsmv, method="satorra.bentler.2001")


def test_standard_estimators_compare_by_the_plain_difference(fits):
    uls = fits["bfi.AC.uls"][1]
    one = pv.cfa("g =~ " + " + ".join(AC), _bfi(), ordered=True, estimator="ULS")
    out = pv.compare(one, uls)
    assert out.method == "standard" and not out.scaled
    assert out.chisq_diff[1] == pytest.approx(one.fit_measures["chisq"]
                                              - uls.fit_measures["chisq"], rel=1e-12)


def test_unknown_parameterization_is_refused():
    with pytest.raises(SpecificationError, match="parameterization='probit' is not one of"):
        pv.cfa("g =~ A1 + A2 + A3", _bfi(), ordered=True, parameterization="probit")
