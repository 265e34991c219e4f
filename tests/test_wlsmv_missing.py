"""Ordinal CFA with missing data and empty cells against lavaan 0.6.14 (references from
tests/reference/r/wlsmv_missing.R -> ref_extra/wlsmv_missing.json).

- ``missing="pairwise"`` (lavaan's ``missing = "pairwise"``): bfi A1-A5, C1-C5 with their
  natural missing values (2,800 rows, 2,632 complete), WLSMV and DWLS, and the same with three
  rows emptied (lavaan's "empty cases": dropped, ``nobs`` counts the others);
- one empty cell in a 2 x 2 table of two dichotomous items (zero_cells data: four such
  tables), complete and with missing values under pairwise;
- two empty cells (y9 a copy of y1: rho = 1), which lavaan fits with warnings.

Achieved (asserted at the tolerances below; "cfa" = rtol 1e-4, atol 1e-6):

================================  =========  ==========  ==========  ===========
check                             NACOV (*)  estimates   SEs         fitMeasures
================================  =========  ==========  ==========  ===========
bfi.AC.wlsmv.pairwise             5.7e-9     2.1e-6      9.8e-7      8.2e-7
bfi.AC.dwls.pairwise              -          2.1e-6      8.6e-7      8.2e-7
bfi.AC.wlsmv.pairwise.empty_rows  5.7e-9     7.1e-7      3.8e-7      1.9e-8
zero_cells.wlsmv.one_empty        2.4e-8     1.5e-6      6.7e-7      4.6e-7
zero_cells ... one_empty.pairwise 1.5e-7     3.1e-6      3.1e-7      3.0e-6
zero_cells.wlsmv.two_empty        2.4e-8     4.3e-7 abs  1.1e-6      2.3e-7
================================  =========  ==========  ==========  ===========

(*) max |difference| over the largest |element| of lavaan's ``lavInspect(fit, "gamma")``;
estimates, SEs and fit measures as the largest relative difference. The estimates' gap is
lavaan's nlminb stopping short (as in tests/test_wlsmv_core.py); the sample thresholds and
polychorics agree to 3e-8. Two empty cells: lavaan's SE of the loading of the copied item is
NA (its vcov is not positive definite, smallest eigenvalue -1.5e-14); ours is 0 or NaN and is
not compared.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import DataError, DegenerateDataWarning, SpecificationError
from psychoval.stats.sem._ordinal import ordinal_sample_stats
from tests._tolerances import assert_close, assert_pvalue
from tests.reference import _refs

ITEMS = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
REF = _refs.extra_checks("wlsmv_missing")
# max |NACOV - lavaan| / max |lavaan|, per check (achieved: see the module docstring)
GAMMA_TOL = {"bfi.AC.wlsmv.pairwise": 5e-8, "bfi.AC.wlsmv.pairwise.empty_rows": 5e-8,
             "zero_cells.wlsmv.one_empty": 1e-7,
             # rho of the corrected tables agrees to 3e-8; the NACOV of these small tables
             # (N = 200, cells of 1-5 respondents) amplifies it to 1.5e-7
             "zero_cells.wlsmv.one_empty.pairwise": 5e-7,
             "zero_cells.wlsmv.two_empty": 1e-7}
# (data, missing, estimator) of every check
CASES = {"bfi.AC.wlsmv.pairwise": ("bfi", "pairwise", "WLSMV"),
         "bfi.AC.dwls.pairwise": ("bfi", "pairwise", "DWLS"),
         "bfi.AC.wlsmv.pairwise.empty_rows": ("bfi_empty", "pairwise", "WLSMV"),
         "zero_cells.wlsmv.one_empty": ("zc", "listwise", "WLSMV"),
         "zero_cells.wlsmv.one_empty.pairwise": ("zc_missing", "pairwise", "WLSMV"),
         "zero_cells.wlsmv.two_empty": ("zc_copy", "listwise", "WLSMV")}
# parameters whose lavaan SE is NA (not positive definite vcov), not compared
SE_NA = {("zero_cells.wlsmv.two_empty", "F=~y9")}


def _data(name: str) -> pd.DataFrame:
    if name.startswith("bfi"):
        df = _refs.load_data("bfi")[ITEMS].astype(float)
        if name == "bfi_empty":
            df.iloc[[4, 99, 1999]] = np.nan  # R rows 5, 100, 2000
        return df
    zc = _refs.extra_data("zero_cells").astype(float)
    if name == "zc_missing":
        zc.loc[np.arange(6, 200, 7), "y2"] = np.nan  # R: seq(7, 200, by = 7)
        zc.loc[np.arange(10, 200, 11), "y7"] = np.nan
        zc.loc[np.arange(12, 200, 13), "y3"] = np.nan
    elif name == "zc_copy":
        zc["y9"] = zc["y1"]
    return zc


def _fit(cid: str):
    name, missing, est = CASES[cid]
    ref = REF[cid]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)  # two empty cells
        warnings.simplefilter("ignore", pv.exceptions.PsychovalWarning)  # empty rows
        return pv.cfa(ref["model"], _data(name), ordered=True, estimator=est,
                      missing=missing)


@pytest.fixture(scope="module")
def fits():
    return {cid: _fit(cid) for cid in CASES}


@pytest.mark.parametrize("cid", list(GAMMA_TOL))
def test_sample_statistics_and_nacov_match_lavaan(fits, cid):
    vals = REF[cid]["values"]
    ss = fits[cid]._ordinal.sample
    assert ss.nobs == vals["nobs"]
    assert fits[cid].n_obs == vals["nobs"]
    assert list(ss.names) == vals["gamma_names"] if "gamma_names" in vals else True
    gam = np.array(vals["gamma"])
    assert gam.shape == ss.nacov.shape
    assert np.abs(ss.nacov - gam).max() <= GAMMA_TOL[cid] * np.abs(gam).max()
    if "wls_obs" in vals:
        np.testing.assert_allclose(ss.wls_obs, vals["wls_obs"], rtol=0, atol=1e-7)
        for name, t in zip(ss.threshold_names, ss.thresholds, strict=True):
            assert t == pytest.approx(vals["sampstat_th"][name], abs=1e-7)
        items = list(ss.items)
        cor = np.array([[row[c] for c in items] for row in vals["sampstat_cor"]])
        np.testing.assert_allclose(ss.cor, cor, rtol=0, atol=1e-7)


@pytest.mark.parametrize("cid", list(CASES))
def test_estimates_and_se_match_lavaan(fits, cid):
    pe = REF[cid]["values"]["parameterEstimates"]
    est = fits[cid].estimates()
    seen = 0
    for a, o, b, e, s, z in zip(est.lhs, est.op, est.rhs, est.est, est.se, est.z,
                                strict=True):
        key = f"{a}{o}{b}"
        if key not in pe:
            continue
        seen += 1
        assert_close(e, pe[key]["est"], "cfa", what=f"{cid} {key} est")
        if (cid, key) in SE_NA:
            assert pe[key]["se"] is None
            assert not s > 1e-6  # 0 or NaN where lavaan's vcov is not positive definite
            continue
        assert_close(s, pe[key]["se"], "cfa", what=f"{cid} {key} se")
        if "z" in pe[key] and pe[key]["z"] is not None:
            assert_close(z, pe[key]["z"], "cfa", what=f"{cid} {key} z")
    assert seen == len(pe)


@pytest.mark.parametrize("cid", list(CASES))
def test_every_fit_measure_matches_lavaan(fits, cid):
    fm = fits[cid].fit_measures
    ref = REF[cid]["values"]["fitMeasures"]
    for key, val in ref.items():
        ours = fm[key.replace(".", "_")]
        if "pvalue" in key and val is not None:
            assert_pvalue(ours, val, "cfa", what=f"{cid} {key}")
        else:
            assert_close(ours, val, "cfa", what=f"{cid} {key}")


def test_shift_parameter_matches_lavaan(fits):
    for cid in ("bfi.AC.wlsmv.pairwise", "zero_cells.wlsmv.one_empty.pairwise"):
        assert_close(fits[cid]._ordinal.shift, REF[cid]["values"]["shift_parameter"], "cfa",
                     what=cid)


def test_empty_rows_are_dropped_and_recorded():
    vals = REF["bfi.AC.wlsmv.pairwise.empty_rows"]["values"]
    df = _data("bfi_empty")
    with pytest.warns(pv.exceptions.PsychovalWarning, match="3 of 2800 rows have no response"):
        fit = pv.cfa(REF["bfi.AC.wlsmv.pairwise"]["model"], df, ordered=True,
                     missing="pairwise")
    assert fit.missing == "pairwise"
    assert fit.n_obs == vals["nobs"] == 2797
    assert fit.n_total == 2800
    assert [r + 1 for r in fit.rows_dropped] == vals["empty_idx"]


def test_pairwise_keeps_every_row_with_an_answer(fits):
    fit = fits["bfi.AC.wlsmv.pairwise"]
    assert fit.missing == "pairwise"
    assert fit.rows_dropped == ()
    assert fit.n_obs == fit.n_total == 2800
    ss = fit._ordinal.sample
    assert ss.missing == "pairwise"
    df = _data("bfi")
    obs = df.notna().to_numpy().astype(int)
    np.testing.assert_array_equal(ss.n_pairwise, obs.T @ obs)


def test_pairwise_on_complete_data_equals_listwise():
    df = _data("bfi").dropna()
    a = ordinal_sample_stats(df, ITEMS, missing="listwise")
    b = ordinal_sample_stats(df, ITEMS, missing="pairwise")
    np.testing.assert_array_equal(a.wls_obs, b.wls_obs)
    np.testing.assert_allclose(a.nacov, b.nacov, rtol=1e-13, atol=0)
    assert a.nobs == b.nobs == len(df)


def test_row_order_does_not_change_the_pairwise_statistics():
    df = _data("zc_missing")
    perm = np.random.default_rng(7).permutation(len(df))
    a = ordinal_sample_stats(df, missing="pairwise")
    b = ordinal_sample_stats(df.iloc[perm], missing="pairwise")
    np.testing.assert_allclose(a.wls_obs, b.wls_obs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.nacov, b.nacov, rtol=1e-10, atol=1e-12)


def test_two_empty_cells_warn_naming_the_items():
    with pytest.warns(DegenerateDataWarning, match="'y1' and 'y9' have two empty cells.*drop "
                      "one of the two items or merge them"):
        ss = ordinal_sample_stats(_data("zc_copy"))
    assert ss.cor[0, 8] == 1.0
    assert np.isfinite(ss.nacov).all()


def test_missing_choices_for_ordered_items():
    df = _data("bfi")
    model = REF["bfi.AC.wlsmv.pairwise"]["model"]
    for miss in ("fiml", "ml"):
        with pytest.raises(SpecificationError, match="missing='pairwise' to keep every "
                           "answered item"):
            pv.cfa(model, df, ordered=True, missing=miss)
    with pytest.raises(SpecificationError, match="missing"):
        pv.cfa(model, df, ordered=True, missing="available")
    with pytest.raises(DataError, match="item 'C1' is missing in row 62 .*'listwise' or "
                       "'pairwise'"):
        pv.cfa(model, df, ordered=True, missing="raise")
    with pytest.raises(SpecificationError, match="'listwise' or 'pairwise'"):
        ordinal_sample_stats(df, missing="fiml")


def test_raise_on_complete_data_fits_as_listwise():
    df = _data("bfi").dropna().iloc[:600]
    model = "A =~ A1 + A2 + A3 + A4 + A5"
    a = pv.cfa(model, df, ordered=True, missing="raise")
    b = pv.cfa(model, df, ordered=True)
    assert a.fit_measures["chisq"] == b.fit_measures["chisq"]
    assert a.missing == "listwise" and a.rows_dropped == ()
