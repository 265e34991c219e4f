"""Ordinal CFA with some continuous indicators (lavaan 0.6.14's ``cfa(..., ordered = c(<some
items>), estimator = "WLSMV")``; issue 18) against references from
tests/reference/r/wlsmv_mixed.R -> ref_extra/wlsmv_mixed.json:

- bfi A1-A5, C1-C5 with A3 and C2 continuous: WLSMV (listwise, pairwise, theta
  parameterization) and DWLS;
- the sample assessment's applied tier (ref_extra/sample_scored.csv) with EVA4 (the mean of
  three raters) continuous: WLSMV listwise and pairwise.

Achieved (asserted at the tolerances below; "cfa" = rtol 1e-4, atol 1e-6):

===================================  =========  ========  ========  ==========  ===========
check                                NACOV (*)  WLS.obs   est       SE          fitMeasures
===================================  =========  ========  ========  ==========  ===========
bfi.AC.mixed.wlsmv                   8.3e-9     2.9e-8    4.8e-7    3.5e-8      < 1e-6 rel
bfi.AC.mixed.wlsmv.pairwise          4.9e-8     1.2e-7    1.0e-6    7.3e-8      < 1e-6 rel
bfi.AC.mixed.wlsmv.theta             8.3e-9     2.9e-8    3.2e-5    2.7e-6      3.7e-6 rel
bfi.AC.mixed.dwls                    8.3e-9     2.9e-8    4.8e-7    2.6e-8      < 1e-6 rel
sample.applied.mixed.wlsmv           1.0e-8     2.7e-8    2.1e-6    8.3e-8      < 1e-6 rel
sample.applied.mixed.wlsmv.pairwise  1.1e-8     2.9e-8    3.7e-7    1.6e-8      < 1e-6 rel
===================================  =========  ========  ========  ==========  ===========

(*) max |difference| over the largest |element| of lavaan's ``lavInspect(fit, "gamma")``;
WLS.obs, estimates and SEs as the largest absolute difference. The pairwise WLS.obs gap is
lavaan's nlminb stopping short on the Pearson correlation of A3 and C2 (both with missing
values: an ML correlation with the means and variances fixed); the theta fit's is lavaan's
optimizer stopping short (its fit measures move by 1e-6 relative). Standardized solutions
agree to 4.6e-6 (est.std) and 2.7e-7 (se).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import SpecificationError
from psychoval.stats.sem._ordinal_mixed import mixed_sample_stats
from tests._tolerances import assert_close, assert_pvalue
from tests.reference import _refs

ITEMS = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
APPLIED = ([f"PRM{i}" for i in range(1, 6)] + [f"TOO{i}" for i in range(1, 5)]
           + [f"EVA{i}" for i in range(1, 5)] + [f"WRK{i}" for i in range(1, 5)])
REF = _refs.extra_checks("wlsmv_mixed")
# id -> (data, continuous items, keyword arguments of pv.cfa)
CASES = {
    "bfi.AC.mixed.wlsmv": ("bfi", ["A3", "C2"], {}),
    "bfi.AC.mixed.wlsmv.pairwise": ("bfi", ["A3", "C2"], {"missing": "pairwise"}),
    "bfi.AC.mixed.wlsmv.theta": ("bfi", ["A3", "C2"], {"parameterization": "theta"}),
    "bfi.AC.mixed.dwls": ("bfi", ["A3", "C2"], {"estimator": "DWLS"}),
    "sample.applied.mixed.wlsmv": ("sample", ["EVA4"], {}),
    "sample.applied.mixed.wlsmv.pairwise": ("sample", ["EVA4"], {"missing": "pairwise"}),
}
# max |NACOV - lavaan| / max |lavaan| and max |WLS.obs - lavaan| (achieved: see above)
GAMMA_TOL, OBS_TOL = 1e-7, 5e-7


def _data(name: str) -> tuple[pd.DataFrame, list[str]]:
    if name == "bfi":
        return _refs.load_data("bfi")[ITEMS].astype(float), ITEMS
    return _refs.extra_data("sample_scored")[APPLIED].astype(float), APPLIED


def _fit(cid: str):
    name, cont, kw = CASES[cid]
    df, items = _data(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pv.exceptions.PsychovalWarning)  # rows dropped
        return pv.cfa(REF[cid]["model"], df, ordered=[v for v in items if v not in cont],
                      **kw)


@pytest.fixture(scope="module")
def fits():
    return {cid: _fit(cid) for cid in CASES}


@pytest.mark.parametrize("cid", list(CASES))
def test_sample_statistics_and_nacov_match_lavaan(fits, cid):
    vals = REF[cid]["values"]
    ss = fits[cid]._ordinal.sample
    assert ss.nobs == vals["nobs"] == fits[cid].n_obs
    assert list(ss.names) == vals["gamma_names"]
    gam = np.array(vals["gamma"])
    assert np.abs(ss.nacov - gam).max() <= GAMMA_TOL * np.abs(gam).max()
    np.testing.assert_allclose(ss.wls_obs, vals["wls_obs"], rtol=0, atol=OBS_TOL)
    items = list(ss.items)
    cov = np.array([[row[c] for c in items] for row in vals["sampstat_cov"]])
    np.testing.assert_allclose(ss.cov, cov, rtol=0, atol=OBS_TOL)
    for j, v in enumerate(items):  # a continuous item's mean (lavaan's sampstat mean)
        if ss.numeric[j]:
            assert -ss.thresholds[list(ss.threshold_item).index(j)] == pytest.approx(
                vals["sampstat_mean"][v], abs=1e-10)


@pytest.mark.parametrize("cid", list(CASES))
def test_estimates_and_se_match_lavaan(fits, cid):
    pe = REF[cid]["values"]["parameterEstimates"]
    est = fits[cid].estimates()
    keys = [f"{a}{o}{b}" for a, o, b in zip(est.lhs, est.op, est.rhs, strict=True)]
    assert keys == REF[cid]["values"]["pe_keys"]  # lavaan's rows, in its order
    for key, e, s in zip(keys, est.est, est.se, strict=True):
        assert_close(e, pe[key]["est"], "cfa", what=f"{cid} {key} est")
        assert_close(s, pe[key]["se"], "cfa", what=f"{cid} {key} se")


@pytest.mark.parametrize("cid", list(CASES))
def test_standardized_solution_matches_lavaan(fits, cid):
    ref = REF[cid]["values"]["standardizedSolution"]
    st = fits[cid].standardized()
    col = "est_std" if "est_std" in st.columns else "std_all"
    seen = 0
    for a, o, b, e, s in zip(st.lhs, st.op, st.rhs, st[col], st["se"], strict=True):
        key = f"{a}{o}{b}"
        if key not in ref:
            continue
        seen += 1
        assert_close(e, ref[key]["est.std"], "cfa", what=f"{cid} {key} est.std")
        if ref[key]["se"] is not None and ref[key]["se"] > 0:
            assert_close(s, ref[key]["se"], "cfa", what=f"{cid} {key} se")
    assert seen == len(ref)


@pytest.mark.parametrize("cid", list(CASES))
def test_every_fit_measure_matches_lavaan(fits, cid):
    fm = fits[cid].fit_measures
    for key, val in REF[cid]["values"]["fitMeasures"].items():
        ours = fm[key.replace(".", "_")]
        if "pvalue" in key and val is not None:
            assert_pvalue(ours, val, "cfa", what=f"{cid} {key}")
        else:  # lavaan's robust (catML) measures are NA with continuous indicators
            assert_close(ours, val, "cfa", what=f"{cid} {key}")


def test_shift_parameter_matches_lavaan(fits):
    for cid in ("bfi.AC.mixed.wlsmv", "sample.applied.mixed.wlsmv.pairwise"):
        assert_close(fits[cid]._ordinal.shift, REF[cid]["values"]["shift_parameter"], "cfa",
                     what=cid)


def test_two_continuous_items_without_missing_values_have_the_pearson_correlation():
    df = _refs.load_data("bfi")[ITEMS].astype(float).dropna()
    ss = mixed_sample_stats(df, ITEMS, numeric=["A3", "C2"])
    i, j = ITEMS.index("A3"), ITEMS.index("C2")
    assert ss.cor[i, j] == pytest.approx(np.corrcoef(df["A3"], df["C2"])[0, 1], abs=1e-14)
    assert ss.var[i] == pytest.approx(df["A3"].var(ddof=0), rel=1e-14)


def test_item_and_row_order_do_not_change_the_mixed_statistics():
    df = _refs.load_data("bfi")[ITEMS].astype(float)
    perm = np.random.default_rng(3).permutation(len(df))
    a = mixed_sample_stats(df, ITEMS, missing="pairwise", numeric=["A3", "C2"])
    b = mixed_sample_stats(df.iloc[perm], ITEMS, missing="pairwise", numeric=["A3", "C2"])
    np.testing.assert_allclose(a.wls_obs, b.wls_obs, rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.nacov, b.nacov, rtol=1e-9, atol=1e-10)


def test_modindices_of_a_mixed_fit_are_refused(fits):
    with pytest.raises(NotImplementedError, match="continuous indicators"):
        fits["bfi.AC.mixed.wlsmv"].modindices()


def test_no_ordered_indicator_is_refused():
    df, _ = _data("bfi")
    with pytest.raises(SpecificationError, match="none of the indicators"):
        pv.cfa(REF["bfi.AC.mixed.wlsmv"]["model"], df.dropna(), ordered=["E1"])


def test_omega_and_ave_of_a_mixed_fit_are_refused(fits):
    """semTools 0.5.6's compRelSEM returns NA for a WLSMV fit with a continuous indicator
    (checked on the applied tier's evaluation factor with EVA4): refused, not guessed."""
    fit = fits["sample.applied.mixed.wlsmv"]
    for meth in (fit.composite_reliability, fit.omega_interval, fit.ave):
        with pytest.raises(NotImplementedError, match="continuous indicators \\(EVA4\\)"):
            meth()
