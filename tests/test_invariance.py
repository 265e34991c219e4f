"""``pv.invariance`` (issue 19, the ladder) against lavaan 0.6.14 / semTools 0.5.6:
tests/reference/r/invariance.R -> ref_extra/invariance.json.

HolzingerSwineford1939 by school, configural / metric / scalar / strict under ML, MLR and
MLR with FIML (pv.invariance's default): every fit measure of every step and lavTestLRT
between consecutive steps at the "cfa" tolerance; bfi A1-A5, C1-C5 by gender (WLSMV,
listwise): lavaan's group.equal ladder (configural, thresholds, thresholds + loadings;
``id_cat="default"``) the same way, and semTools' Wu & Estabrook (2016) ladder
(pv.invariance's default for ordered items) with its tests and a partial scalar model; the
same Wu & Estabrook ladder on HolzingerSwineford1939's x1-x9 cut into quartiles. Every check
of the JSON is asserted or listed in XFAIL. Then the decision rule on its own.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import SpecificationError
from psychoval.stats.sem._invariance import FIT_CUTOFFS, step_decision
from tests._tolerances import assert_close, assert_pvalue
from tests.reference import _refs

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
BFI_MODEL = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
AC = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
VARIANTS = {"ml": ("ML", "listwise"), "mlr": ("MLR", "listwise"), "mlr_fiml": ("MLR", "fiml")}
CONTINUOUS = ("configural", "metric", "scalar", "strict")
ORDINAL = ("configural", "thresholds", "scalar")
WE_LEVELS = ("configural", "thresholds", "metric", "scalar")
# semTools measEq.syntax(ID.cat = "Wu.Estabrook.2016") step -> our level
WE_STEP = {"configural": "configural", "thresholds": "thresholds",
           "thresholds_loadings": "metric", "thresholds_loadings_intercepts": "scalar"}
WE_LADDERS = {"bfi.gender.semtools_we": "bfi", "hs_ordered.school.semtools_we": "hs_ordered"}
XFAIL: dict[str, str] = {}
REFS = _refs.extra_checks("invariance")


def _hs() -> pd.DataFrame:
    return _refs.load_data("HolzingerSwineford1939")


def _bfi() -> pd.DataFrame:
    return _refs.load_data("bfi")[AC + ["gender"]].dropna(subset=AC).reset_index(drop=True)


@pytest.fixture(scope="module")
def ladders():
    out = {}
    hs = _hs()
    for v, (est, miss) in VARIANTS.items():
        out[f"hs.school.{v}"] = pv.invariance(HS_MODEL, hs, group="school", estimator=est,
                                              missing=miss)
    out["bfi.gender.wlsmv"] = pv.invariance(BFI_MODEL, _bfi(), group="gender", ordered=True,
                                            id_cat="default")
    out["bfi.gender.semtools_we"] = pv.invariance(BFI_MODEL, _bfi(), group="gender",
                                                  ordered=True)
    out["hs_ordered.school.semtools_we"] = pv.invariance(
        HS_MODEL, _refs.extra_data("hs_ordered"), group="school", ordered=True)
    return out


def _ladder_of(cid: str) -> str:
    for prefix in WE_LADDERS:
        if cid.startswith(prefix + "."):
            return prefix
    return cid.split(".lrt.")[0] if ".lrt." in cid else cid.rsplit(".", 1)[0]


def test_every_reference_check_is_owned():
    ladders = {f"hs.school.{v}" for v in VARIANTS} | {"bfi.gender.wlsmv"} | set(WE_LADDERS)
    owned = {cid for cid in REFS if _ladder_of(cid) in ladders} | set(XFAIL)
    assert owned == set(REFS)
    assert not set(XFAIL) - set(REFS)


def _assert_fit_measures(got, want_raw):
    want = {k.replace(".", "_"): v for k, v in want_raw.items()}
    assert set(got) == set(want)
    for k, v in want.items():
        if v is None:
            assert math.isnan(float(got[k])), k
        elif k.startswith("pvalue") or "_pvalue" in k:
            assert_pvalue(got[k], v, "cfa", what=k)
        else:
            assert_close(got[k], v, "cfa", what=k)


FIT_IDS = [c for c in REFS if ".lrt." not in c and ".semtools_we." not in c]
LRT_IDS = [c for c in REFS if ".lrt." in c and ".semtools_we." not in c]
WE_FIT_IDS = [c for c in REFS if ".semtools_we." in c and ".lrt." not in c
              and not c.endswith(".partial")]
WE_LRT_IDS = [c for c in REFS if ".semtools_we.lrt." in c and not c.endswith(".partial")]


@pytest.mark.parametrize("cid", FIT_IDS)
def test_each_step_is_lavaans_fit(ladders, cid):
    ref = REFS[cid]
    res = ladders[_ladder_of(cid)]
    level = ref["level"]
    fit = res.fits[level]
    assert fit.converged and ref["values"]["converged"]
    eq = ref["group_equal"]
    eq = [eq] if isinstance(eq, str) else eq
    assert list(fit.group_equal or ()) == [e for e in eq if e]
    _assert_fit_measures(fit.fit_measures, ref["values"]["fitMeasures"])
    row = res.ladder.set_index("level").loc[level]
    fm = ref["values"]["fitMeasures"]
    suffix = {"ML": "", "MLR": ".robust", "WLSMV": ".scaled"}[ref["estimator"]]
    for col in ("cfi", "tli", "rmsea"):
        assert_close(row[col], fm[col + suffix], "cfa", what=col)
    for col in ("chisq", "srmr", "npar", "df"):
        assert_close(row[col], fm[col], "cfa", what=col)


@pytest.mark.parametrize("cid", LRT_IDS)
def test_each_step_test_is_lavTestLRT(ladders, cid):
    want = REFS[cid]["values"]
    res = ladders[_ladder_of(cid)]
    level = cid.rsplit("_vs_", 1)[1]
    row = res.ladder.set_index("level").loc[level]
    assert_close(row["chisq_diff"], want["chisq_diff"], "cfa", what="chisq_diff")
    assert row["df_diff"] == want["df_diff"]
    assert_pvalue(row["pvalue_diff"], want["pvalue"], "cfa", what="pvalue_diff")
    assert res.tests[level].method == ("satorra.2000" if "wlsmv" in cid else
                                       "satorra.bentler.2001" if "mlr" in cid else "standard")


@pytest.mark.parametrize("cid", WE_FIT_IDS)
def test_ordinal_ladder_is_semtools_wu_estabrook(ladders, cid):
    """Each step of the default ordinal ladder is semTools' measEq.syntax(ID.cat =
    "Wu.Estabrook.2016") model: every fit measure."""
    ref = REFS[cid]
    fit = ladders[_ladder_of(cid)].fits[WE_STEP[ref["level"]]]
    assert fit.converged and ref["values"]["converged"]
    _assert_fit_measures(fit.fit_measures, ref["values"]["fitMeasures"])


@pytest.mark.parametrize("cid", WE_LRT_IDS)
def test_wu_estabrook_steps_are_lavTestLRT(ladders, cid):
    want = REFS[cid]["values"]
    res = ladders[_ladder_of(cid)]
    level = WE_STEP[cid.rsplit("_vs_", 1)[1]]
    row = res.ladder.set_index("level").loc[level]
    assert_close(row["chisq_diff"], want["chisq_diff"], "cfa", what="chisq_diff")
    assert row["df_diff"] == want["df_diff"]
    assert_pvalue(row["pvalue_diff"], want["pvalue"], "cfa", what="pvalue_diff")
    assert res.tests[level].method == "satorra.2000"


def test_wu_estabrook_partial_scalar_is_semtools_group_partial(ladders):
    """Freed intercepts of ordered items (group_partial 'A1 ~1'): semTools' partial scalar
    model and its test against the metric step."""
    ref = REFS["bfi.gender.semtools_we.partial"]
    fit = pv.cfa(BFI_MODEL, _bfi(), group="gender", ordered=True,
                 group_equal=["thresholds", "loadings", "intercepts"],
                 group_partial=[p.replace(" ", "").replace("~1", " ~1")
                                for p in ref["group_partial"]], id_cat="Wu.Estabrook.2016")
    _assert_fit_measures(fit.fit_measures, ref["values"]["fitMeasures"])
    want = REFS["bfi.gender.semtools_we.lrt.partial"]["values"]
    cmp = pv.compare(ladders["bfi.gender.semtools_we"].fits["metric"], fit)
    assert_close(cmp.chisq_diff[1], want["chisq_diff"], "cfa", what="chisq_diff")
    assert cmp.df_diff[1] == want["df_diff"]
    assert_pvalue(cmp.pvalue[1], want["pvalue"], "cfa", what="pvalue_diff")
    est = fit.estimates()
    a1 = est[(est["lhs"] == "A1") & (est["op"] == "~1")]
    assert a1["est"].iloc[0] == 0 and a1["se"].iloc[0] == 0  # fixed at 0 in group 1
    assert a1["se"].iloc[1] > 0 and a1["est"].iloc[1] < -0.1  # free in group 2


def test_ordinal_partial_search_frees_the_loading_lavaan_flags(ladders):
    """The default (Wu & Estabrook) bfi ladder fails at metric by the test (p = .007); the
    refit search frees A5's loading (the largest difference test, p = 2e-5 < .05 / 8) and
    the partial metric model then holds."""
    res = pv.invariance(BFI_MODEL, _bfi(), group="gender", ordered=True,
                        levels=("configural", "thresholds", "metric"), partial=True)
    assert res.partial_level == "metric" and res.partial_decision == "holds"
    assert res.freed[["lhs", "op", "rhs"]].drop_duplicates().values.tolist() == [
        ["A", "=~", "A5"]]
    assert "satorra.2000" in res.partial_method
    last = res.partial_search.iloc[-1]
    assert last["decision"] == "holds" and last["df"] == 105


def test_ladder_decisions_on_holzinger_swineford(ladders):
    for v in VARIANTS:
        res = ladders[f"hs.school.{v}"]
        lad = res.ladder.set_index("level")
        assert tuple(lad.index) == CONTINUOUS
        assert res.highest == "metric"
        assert lad.loc["configural", "decision"] == "baseline"
        assert lad.loc["metric", "decision"] == "holds"
        assert lad.loc["scalar", "decision"] == "fails"
        assert lad.loc["scalar", "reason"] == "test and fit"
        assert bool(lad.loc["strict", "after_failure"])
        assert not lad.loc[["configural", "metric", "scalar"], "after_failure"].any()
        np.testing.assert_allclose(lad["delta_cfi"].iloc[1:].to_numpy(),
                                   np.diff(lad["cfi"].to_numpy()), rtol=0, atol=0)
    ordinal = ladders["bfi.gender.wlsmv"]
    assert tuple(ordinal.levels) == ORDINAL and ordinal.estimator == "WLSMV"
    assert ordinal.ladder["group_equal"].tolist() == ["", "thresholds",
                                                      "thresholds, loadings"]
    we = ladders["bfi.gender.semtools_we"]
    assert tuple(we.levels) == WE_LEVELS and we.id_cat == "wu.estabrook.2016"
    assert we.ladder["df"].tolist() == [68, 98, 106, 114]
    assert "Wu & Estabrook's (2016) ladder" in str(we.summary())


def test_result_face(ladders):
    res = ladders["hs.school.mlr_fiml"]
    assert res.estimator == "MLR" and res.missing == "fiml"
    assert repr(res) == ("<InvarianceResult levels=4, highest=metric, estimator=MLR, "
                         "decide_by=both>")
    text = str(res.summary())
    assert "Chen (2007)" in text and "Fitted after a failed step (not held): strict" in text
    assert "<table" in res._repr_html_()
    frame = res.to_frame()
    assert list(frame.columns[:4]) == ["level", "group_equal", "npar", "chisq"]
    frame.loc[0, "chisq"] = -1.0
    assert res.ladder.loc[0, "chisq"] > 0  # a copy
    d = res.to_dict()
    assert d["schema"] == "psychoval.invariance/1" and "fits" not in d
    json.dumps(d)
    assert res.sample.n_used == 301 and res.sample.missing == "fiml"


# the decision rule on its own ---------------------------------------------------------

LOAD, OTHER = FIT_CUTOFFS["loadings"], FIT_CUTOFFS["other"]


def test_step_failing_only_by_the_test():
    d = step_decision(pvalue_diff=0.001, delta_cfi=-0.004, delta_rmsea=0.002,
                      delta_srmr=0.003, cutoff=OTHER)
    assert d == {"test_fails": True, "fit_fails": False, "crossed": "", "decision": "fails",
                 "reason": "test"}
    assert step_decision(pvalue_diff=0.001, delta_cfi=-0.004, delta_rmsea=0.002,
                         delta_srmr=0.003, cutoff=OTHER, decide_by="fit")["decision"] == "holds"


def test_step_failing_only_by_the_fit_change():
    d = step_decision(pvalue_diff=0.40, delta_cfi=-0.002, delta_rmsea=0.001,
                      delta_srmr=0.012, cutoff=OTHER)
    assert d == {"test_fails": False, "fit_fails": True, "crossed": "delta_srmr",
                 "decision": "fails", "reason": "fit"}
    # the same SRMR change is within the loadings step's cutoff (.030)
    assert step_decision(pvalue_diff=0.40, delta_cfi=-0.002, delta_rmsea=0.001,
                         delta_srmr=0.012, cutoff=LOAD)["decision"] == "holds"
    assert step_decision(pvalue_diff=0.40, delta_cfi=-0.002, delta_rmsea=0.001,
                         delta_srmr=0.012, cutoff=OTHER,
                         decide_by="test")["decision"] == "holds"


def test_step_failing_by_both():
    d = step_decision(pvalue_diff=1e-8, delta_cfi=-0.011, delta_rmsea=0.016,
                      delta_srmr=0.001, cutoff=LOAD, significance_level=0.01)
    assert d["reason"] == "test and fit" and d["crossed"] == "delta_cfi, delta_rmsea"
    assert step_decision(pvalue_diff=1e-8, delta_cfi=-0.011, delta_rmsea=0.016,
                         delta_srmr=0.001, cutoff=LOAD, decide_by="test")["reason"] == "test"


def test_cutoffs_are_inclusive_and_nan_fails_nothing():
    d = step_decision(pvalue_diff=0.05, delta_cfi=-0.010, delta_rmsea=0.015,
                      delta_srmr=0.030, cutoff=LOAD)
    assert d["decision"] == "holds"
    d = step_decision(pvalue_diff=math.nan, delta_cfi=math.nan, delta_rmsea=math.nan,
                      delta_srmr=math.nan, cutoff=OTHER)
    assert d["decision"] == "holds" and not d["test_fails"] and not d["fit_fails"]


def test_decide_by_changes_the_ladder_not_the_numbers(ladders):
    hs = _hs()
    by_test = pv.invariance(HS_MODEL, hs, group="school", missing="listwise",
                            levels=("configural", "metric", "scalar"), decide_by="test")
    ref = ladders["hs.school.mlr"].ladder.iloc[:3]
    pd.testing.assert_series_equal(by_test.ladder["chisq_diff"], ref["chisq_diff"])
    assert by_test.ladder["reason"].tolist() == ["", "", "test"]


def test_levels_and_options_are_checked():
    hs = _hs()
    with pytest.raises(SpecificationError, match="unknown level 'weak'"):
        pv.invariance(HS_MODEL, hs, group="school", levels=("configural", "weak"))
    with pytest.raises(SpecificationError, match="not in ladder order"):
        pv.invariance(HS_MODEL, hs, group="school", levels=("metric", "configural"))
    with pytest.raises(SpecificationError, match="Wu & Estabrook"):
        pv.invariance(BFI_MODEL, _bfi(), group="gender", ordered=True,
                      levels=("configural", "metric"), id_cat="default")
    with pytest.raises(SpecificationError, match="ID.cat"):
        pv.invariance(BFI_MODEL, _bfi(), group="gender", ordered=True, id_cat="Millsap")
    with pytest.raises(SpecificationError, match="need equal thresholds"):
        pv.cfa(BFI_MODEL, _bfi(), group="gender", ordered=True, group_partial="A1 ~1",
               group_equal="loadings")
    with pytest.raises(SpecificationError, match="only item intercepts"):
        pv.cfa(BFI_MODEL, _bfi(), group="gender", ordered=True, group_partial="A ~1",
               group_equal="thresholds")
    with pytest.raises(SpecificationError, match="several groups of ordered"):
        pv.cfa(HS_MODEL, hs, group="school", id_cat="Wu.Estabrook.2016")
    with pytest.raises(SpecificationError, match="delta"):
        pv.invariance(BFI_MODEL, _bfi(), group="gender", ordered=True,
                      levels=("configural", "strict"))
    with pytest.raises(ValueError, match="decide_by"):
        pv.invariance(HS_MODEL, hs, group="school", decide_by="either")
    with pytest.raises(SpecificationError, match="significance_level"):
        pv.invariance(HS_MODEL, hs, group="school", significance_level=5)


def test_extra_levels_add_their_constraints():
    res = pv.invariance(HS_MODEL, _hs(), group="school", missing="listwise",
                        levels=("configural", "scalar", "means"))
    assert res.ladder["group_equal"].tolist() == ["", "loadings, intercepts",
                                                  "loadings, intercepts, means"]
    assert res.ladder["df_diff"].tolist()[1:] == [12.0, 3.0]


def test_ordinal_group_jacobian_is_the_complex_step_one(monkeypatch):
    """The analytic Jacobian of the multi-group ordinal moments (thresholds through (tau - mu)
    Delta, correlations through sigma Delta Delta) equals the complex-step derivative, with
    free intercepts, free scales and a partial intercept."""
    import psychoval.stats.sem._cfa_ordinal_groups as og
    from psychoval.framework._partable import build_partable
    from psychoval.framework._syntax import model_to_formulas

    seen = {}
    real = og.minimize

    def spy(disc, z0, **kw):
        seen["disc"] = disc
        return real(disc, z0, **kw)

    monkeypatch.setattr(og, "minimize", spy)
    formulas, text = model_to_formulas(BFI_MODEL)
    pt1 = build_partable(formulas, std_lv=False, meanstructure=True, source=text)
    rng = np.random.default_rng(7)
    for eq, part in ((["thresholds"], ()), (["thresholds", "loadings", "intercepts"],
                                            (("A1", "~1", ""),))):
        fit = og.fit_ordinal_groups(pt1, _bfi(), "gender", eq, "WLSMV",
                                    id_cat="wu.estabrook.2016", partial=part)
        z = fit.z + rng.normal(0, 0.05, fit.z.size)
        for g in range(2):
            np.testing.assert_allclose(seen["disc"].jac_group(g, z),
                                       seen["disc"].jac_group_complex(g, z), rtol=0,
                                       atol=1e-12)
