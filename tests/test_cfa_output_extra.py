"""Four output details against lavaan 0.6.14 / psych 2.2.9, references made by
tests/reference/r/cfa_output_extra.R (ref_extra/cfa_output_extra.json):

- the candidate set of modification indices (lavaan's ``lav_partable_full`` merged with the
  fixed parameters of the model): second-order factors, equal loadings across groups, fixed
  user parameters, regressions among factors, std.lv with a mean structure;
- every fit measure of just-identified (df = 0) fits under FIML and MLR;
- psych's TLI of a zero-df EFA (-Inf or NaN by the sign of rounding noise; we give NaN);
- the ultra-Heywood warning of Schmid-Leiman (a general loading above 1).

Every value of every check is asserted here or listed with its reason (``NOT_COMPARED``).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import ImproperSolutionWarning, PsychovalWarning
from tests._tolerances import assert_close, assert_pvalue
from tests.reference import _refs
from tests.reference.checkers.cfa import _group_keys, _kind

NAME = "cfa_output_extra"

# values of the reference that are documentation, not assertions, each with the reason
NOT_COMPARED = {
    ("fit.zero_df.ML.fiml", "fiml_c_hat3"):
        "lavaan's c.hat3 = k / 0 with a rounding-level k: +-Inf by the sign of the noise; the "
        "robust indices it feeds are compared (they take their df = 0 values either way)",
    ("fit.zero_df.MLR.fiml", "fiml_c_hat3"): "as fit.zero_df.ML.fiml",
    ("fit.zero_df.MLR.listwise", "fiml_c_hat3"): "not a FIML fit (null)",
    ("fit.zero_df.MLR.listwise", "fiml_XX3_scaled"): "not a FIML fit (null)",
    ("schmid.ultra_heywood", "omega_h"):
        "psych's fa of the factor correlations stops short at the Heywood bound (g loadings "
        ".7222/1.0341 vs our converged .7240/1.0333), so omega_h differs by 2e-3; the check "
        "is about the warning",
}

# fit measures where lavaan's value is rounding noise of its own chi-square (documented in
# docs/differences.md); ours is asserted to be NaN
NOISE_FIT_MEASURES = {
    ("fit.zero_df.MLR.listwise", "cn_05"):
        "lavaan's CN = qchisq(.95, 0) / (X2 / N) + 1 is 1 when its X2 (7.3e-12, optimizer noise) "
        "exceeds .Machine$double.eps and NA otherwise; our X2 is -2.4e-12: NaN (lavaan's NA "
        "branch, as its FIML fits of the same model with X2 = 0)",
    ("fit.zero_df.MLR.listwise", "cn_01"): "as cn_05",
}




def checks() -> dict:
    return _refs.extra_checks(NAME)


def _data(name: str) -> pd.DataFrame:
    return {"bfi_r": lambda: _refs.dat_r("bfi"),
            "hs": lambda: _refs.load_data("HolzingerSwineford1939")}[name]()


def _take(check_id: str, seen: set, name: str):
    seen.add(name)
    return checks()[check_id]["values"][name]


def _all_seen(check_id: str, seen: set) -> None:
    left = {k for k in checks()[check_id]["values"] if k not in seen
            and (check_id, k) not in NOT_COMPARED}
    assert not left, f"{check_id}: reference values neither asserted nor listed: {left}"


# -- 1, 2. modification indices: lavaan's candidate set --------------------------------------
MI_FITS = {
    "mi.bfi.second_order": {},
    "mi.hs.groups.equal_loadings": {"group": "school", "group_equal": ["loadings"]},
    "mi.hs.fixed_covariance": {},
    "mi.hs.latent_regression": {},
    "mi.hs.stdlv.fiml": {"std_lv": True, "missing": "fiml"},
}


@functools.cache
def _mi_fit(check_id: str):
    opts = checks()[check_id]["options"]
    if opts["data"] == "bfi_r":  # listwise drops 13% of the rows: CONVENTIONS' warning
        with pytest.warns(PsychovalWarning, match="listwise deletion dropped 364 of 2800"):
            return pv.cfa(opts["model"], _data(opts["data"]), **MI_FITS[check_id])
    return pv.cfa(opts["model"], _data(opts["data"]), **MI_FITS[check_id])


def _at_lavaan_estimates(fit, ref_est: dict):
    """The fit moved to lavaan's estimates (the MI formula, exactly)."""
    pt = fit._pt
    multi = max(pt.group) > 1
    keys = [f"{a}{o}{b}" + (f".g{g}" if multi else "")
            for a, o, b, g in zip(pt.lhs, pt.op, pt.rhs, pt.group, strict=True)]
    x = fit._model.x_from_table([ref_est[k]["est"] for k in keys])
    return dataclasses.replace(fit, _x=x)


def _assert_mi(mi: pd.DataFrame, ref: dict, kind: str, what: str) -> None:
    ours = mi.set_index(pd.Index(_group_keys(mi)))
    assert ours.index.is_unique, f"{what}: duplicated candidates"
    missing = sorted(set(ref) - set(ours.index))
    extra = sorted(set(ours.index) - set(ref))
    assert not missing and not extra, f"{what}: lavaan lists {missing} we do not; we list {extra}"
    for key, r in ref.items():
        for col in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
            assert_close(ours.loc[key, col.replace(".", "_")], r[col], kind,
                         what=f"{what} {key} {col}")


@pytest.mark.parametrize("check_id", list(MI_FITS))
def test_modindices_candidate_set_and_values_match_lavaan(check_id):
    seen: set = set()
    fit = _mi_fit(check_id)
    assert fit.n_obs == _take(check_id, seen, "nobs")
    assert_close(fit.fit_measures["chisq"], _take(check_id, seen, "chisq"), "cfa",
                 what=f"{check_id} chisq")
    ref = _take(check_id, seen, "modindices")
    est = _take(check_id, seen, "parameterEstimates")
    # the formula, exactly: at lavaan's own estimates
    _assert_mi(_at_lavaan_estimates(fit, est).modindices(), ref, "iterative",
               f"{check_id} (at lavaan's estimates)")
    # our own (more tightly converged) fit: every candidate, at the full-set tolerance
    _assert_mi(fit.modindices(), ref, "modindices_fitted_all", check_id)
    # candidates whose score test is undefined (lavaan's NA rows) are the difference
    n_cand = _take(check_id, seen, "n_candidates")
    assert n_cand >= len(ref)
    _all_seen(check_id, seen)


def test_second_order_modindices_list_first_order_with_higher_order_covariance():
    fit = _mi_fit("mi.bfi.second_order")
    mi = fit.modindices().set_index(["lhs", "op", "rhs"])
    ref = checks()["mi.bfi.second_order"]["values"]["modindices"]["agree~~alpha"]
    assert_close(mi.loc[("agree", "~~", "alpha"), "mi"], ref["mi"], "modindices_fitted",
                 what="agree ~~ alpha")  # lavaan 42.745
    # freeing a marker loading of a single-group fit leaves the model unidentified: not listed
    assert ("agree", "=~", "A1") not in mi.index and ("alpha", "=~", "agree") not in mi.index


def test_equal_loadings_modindices_test_the_fixed_markers_in_each_group():
    mi = _mi_fit("mi.hs.groups.equal_loadings").modindices(sort=False)
    rows = mi[(mi["lhs"] == "visual") & (mi["rhs"] == "x1")]
    assert list(rows["group"]) == [1, 2]
    ref = checks()["mi.hs.groups.equal_loadings"]["values"]["modindices"]
    for g in (1, 2):
        assert_close(rows.loc[rows["group"] == g, "mi"].item(), ref[f"visual=~x1.g{g}"]["mi"],
                     "modindices_fitted", what=f"visual =~ x1 group {g}")  # lavaan 1.932
    # unsorted output keeps lavaan's order: the fixed parameters of the model first
    first = mi.head(3)
    assert list(zip(first["lhs"], first["rhs"], strict=True)) == [
        ("visual", "x1"), ("textual", "x4"), ("speed", "x7")]


# -- 3. zero-df fits: every fit measure ------------------------------------------------------
ZERO_DF = {
    "fit.zero_df.ML.fiml": {"missing": "fiml"},
    "fit.zero_df.MLR.listwise": {"estimator": "MLR"},
    "fit.zero_df.MLR.fiml": {"estimator": "MLR", "missing": "fiml"},
}


@functools.cache
def _zero_fit(check_id: str):
    opts = checks()[check_id]["options"]
    # listwise (MLR) drops 64 rows (2.3%): under CONVENTIONS' 5%, no warning
    return pv.cfa(opts["model"], _data(opts["data"]), **ZERO_DF[check_id])


@pytest.mark.parametrize("check_id", list(ZERO_DF))
def test_zero_df_fit_measures_match_lavaan(check_id):
    seen: set = set()
    fit = _zero_fit(check_id)
    assert fit.fit_measures["df"] == 0
    assert fit.n_obs == _take(check_id, seen, "nobs")
    fm = _take(check_id, seen, "fitMeasures")
    ours_names = list(fit.fit_measures)
    assert ours_names == [k.replace(".", "_") for k in fm]  # names and order
    for key, value in fm.items():
        ours = fit.fit_measures[key.replace(".", "_")]
        if (check_id, key) in NOISE_FIT_MEASURES:
            assert value == 1 and math.isnan(ours), f"{check_id} {key}"
        elif "pvalue" in key and value is not None:
            assert_pvalue(ours, value, _kind(key), what=f"{check_id} {key}")
        else:
            assert_close(ours, value, _kind(key), what=f"{check_id} {key}")
    est = fit.estimates()
    ref = _take(check_id, seen, "parameterEstimates")
    keys = _group_keys(est)
    assert sorted(keys) == sorted(ref)
    for k, v in zip(keys, est["est"], strict=True):
        assert_close(v, ref[k]["est"], "cfa", what=f"{check_id} {k}")
    if ZERO_DF[check_id].get("missing") == "fiml":
        # lavaan's XX3.scaled = XX3 / (+-Inf) = 0 feeds the robust RMSEA interval
        assert _take(check_id, seen, "fiml_XX3_scaled") == 0
        assert fit.fit_measures["rmsea_ci_upper_robust"] == 0.0
    _all_seen(check_id, seen)


@pytest.mark.parametrize("check_id", ["fit.zero_df.MLR.listwise", "fit.zero_df.MLR.fiml"])
def test_zero_df_mlr_fit_measure_names_are_lavaans(check_id):
    fm = checks()[check_id]["values"]["fitMeasures"]
    assert list(_zero_fit(check_id).fit_measures) == [k.replace(".", "_") for k in fm]


def test_zero_df_robust_indices_take_their_df_zero_values():
    fiml = _zero_fit("fit.zero_df.ML.fiml").fit_measures
    for k in ("cfi_robust", "tli_robust", "nnfi_robust", "rni_robust"):
        assert_close(fiml[k], 1.0, "mlr", what=k)
    assert fiml["rmsea_robust"] == 0.0 and math.isnan(fiml["rmsea_pvalue_robust"])
    mlr = _zero_fit("fit.zero_df.MLR.listwise").fit_measures
    # complete-data MLR: no scaling factor at df = 0, so lavaan's robust CFI/TLI are NA while
    # its robust RMSEA is 0 (ifelse(df > 0, ..., 0)); the scaled RMSEA is NA (no trace.UGamma)
    assert math.isnan(mlr["cfi_robust"]) and mlr["rmsea_robust"] == 0.0
    assert math.isnan(mlr["rmsea_scaled"]) and math.isnan(mlr["rmsea_ci_upper_scaled"])


# -- 3b. psych::fa with zero df: TLI -----------------------------------------------------------
@pytest.mark.parametrize("check_id", ["efa.zero_df.A1", "efa.zero_df.N1"])
def test_zero_df_efa_tli_is_nan_where_psych_divides_noise_by_zero(check_id):
    seen: set = set()
    opts = checks()[check_id]["options"]
    res = pv.efa(_data(opts["data"])[opts["items"]], n_factors=1, method="minres")
    assert res.dof == _take(check_id, seen, "dof") == 0
    assert_close(res.loadings.iloc[:, 0].to_numpy(), _take(check_id, seen, "loadings"), "efa",
                 what=f"{check_id} loadings")
    assert_close(res.objective, _take(check_id, seen, "objective"), "efa_fit",
                 what=f"{check_id} objective")
    assert_close(res.statistic, _take(check_id, seen, "STATISTIC"), "efa_fit",
                 what=f"{check_id} STATISTIC")
    # psych: TLI = (M0 - objective / 0) / (M0 - 1/nm): -Inf for A1-A3 (objective 4.4e-16),
    # NaN for N1-N3 (objective exactly 0). Ours: NaN for both (docs/differences.md)
    tli = _take(check_id, seen, "TLI")
    assert tli == ("-Inf" if check_id.endswith("A1") else None)
    assert math.isnan(res.tli)
    _all_seen(check_id, seen)


# -- 4. Schmid-Leiman with a general loading above 1 -------------------------------------------
def _ultra_heywood_matrix(seen: set | None = None) -> pd.DataFrame:
    r = np.array(_take("schmid.ultra_heywood", set() if seen is None else seen, "R"),
                 dtype=float)  # the input psych analysed
    names = [f"V{i}" for i in range(1, 10)]
    return pd.DataFrame(r, index=names, columns=names)


def test_schmid_leiman_warns_on_an_ultra_heywood_general_loading():
    check_id = "schmid.ultra_heywood"
    seen: set = set()
    with pytest.warns(ImproperSolutionWarning, match=r"ultra-Heywood.*F3 \(1\.03"):
        sl = pv.schmid_leiman(_ultra_heywood_matrix(seen), n_factors=3)
    assert sl.ultra_heywood == ("F3",)
    assert "ultra-Heywood" in str(sl.summary())
    # psych: the same factor loads above 1 and fa() warns about it
    g_psych = np.array(_take(check_id, seen, "gloading"))
    assert np.flatnonzero(np.abs(g_psych) > 1).tolist() == [2]
    assert any("ultra-Heywood" in w for w in _take(check_id, seen, "schmid_warnings"))
    assert_close(sl.phi.to_numpy(), _take(check_id, seen, "phi"), "efa", what="phi")
    with pytest.warns(ImproperSolutionWarning, match=r"ultra-Heywood.*F3"):
        om = pv.omega(_ultra_heywood_matrix(), n_factors=3)
    assert om.ultra_heywood == ("F3",)
    assert any("ultra-Heywood" in w for w in _take(check_id, seen, "omega_warnings"))
    _all_seen(check_id, seen)


def test_admissible_schmid_leiman_has_no_ultra_heywood(recwarn):
    hs = _refs.load_data("HolzingerSwineford1939")[[f"x{i}" for i in range(1, 10)]]
    sl = pv.schmid_leiman(hs, n_factors=3)
    assert sl.ultra_heywood == () and (sl.g_loadings.abs() <= 1).all()
    assert not [w for w in recwarn if issubclass(w.category, ImproperSolutionWarning)]


def test_every_check_is_covered():
    covered = set(MI_FITS) | set(ZERO_DF) | {"efa.zero_df.A1", "efa.zero_df.N1",
                                             "schmid.ultra_heywood"}
    assert covered == set(checks())
