"""validate() fits ordered items as ordered (issue 18, part 3): the rule and its option, WLSMV
models with pairwise missing data, the scaled fit indices judged, categorical omega with its
delta-method interval, AVE / Fornell-Larcker of WLSMV tier models, and the planted defects of
the sample found under WLSMV as under ML."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.datasets import sample_framework
from psychoval.exceptions import SpecificationError, SpecificationWarning
from psychoval.pipeline import _validate

N_BOOT = 20


def _without_eva4() -> pv.Framework:
    """The sample framework without its rubric item EVA4 (the mean of three raters, not
    category codes), so that every competency and tier is ordered."""
    spec = sample_framework().to_dict()
    for t in spec["tiers"]:
        for c in t["competencies"]:
            c["items"] = [i for i in c["items"] if i["id"] != "EVA4"]
    return pv.read_framework(spec)


@pytest.fixture(scope="module")
def runs():
    fw = _without_eva4()
    data = pv.load_sample()
    return {"wlsmv": pv.validate(data, fw, seed=3, n_boot=N_BOOT),
            "ml": pv.validate(data, fw, seed=3, n_boot=N_BOOT, criteria={"ordinal": "never"})}


def _v(rep, target, criterion):
    v = rep.verdicts
    return v[(v["target"] == target) & (v["criterion"] == criterion)]


def test_every_model_is_wlsmv_with_pairwise_missing(runs):
    rep = runs["wlsmv"]
    f = rep.fit
    assert set(f["estimator"]) == {"WLSMV"} and set(f["status"]) == {"estimated"}
    assert set(f["missing"]) == {_validate.ORDINAL_MISSING}
    if _validate.ORDINAL_MISSING == "pairwise":
        assert (f["n_obs"] == 1500).all()  # no respondent is lost
        assert "no respondent is lost" in rep.methods["cfa_missing"]
    assert not f["approximate"].any() and not f["robust"].any()
    assert set(rep.competencies["estimator"]) == {"WLSMV"}
    assert set(rep.competencies["omega_ci"]) == {"delta"}
    assert "WLSMV" in rep.methods["cfa_estimator"]
    assert "ordinal = auto" in rep.methods["ordinal_estimation"]
    assert "at most 7" in rep.methods["ordinal_estimation"]
    assert "Xia & Yang 2019" in rep.methods["fit_indices"]
    assert rep.options["ordinal"] == "auto"
    ml = runs["ml"]
    assert "WLSMV" not in set(ml.fit["estimator"]) and ml.options["ordinal"] == "never"
    assert ml.fit.set_index("target").loc["concepts", "approximate"]


def test_numbers_come_from_the_ordinal_fits(runs):
    rep = runs["wlsmv"]
    comp = rep.competencies.set_index("competency")
    fit = rep.results["cfa:data"]
    assert fit.estimator == "WLSMV" and fit.missing == _validate.ORDINAL_MISSING
    oi = fit.omega_interval().set_index("factor").loc["data"]
    assert comp.loc["data", "omega"] == fit.composite_reliability()["data"]
    assert (comp.loc["data", "omega_lower"], comp.loc["data", "omega_upper"]) == \
        (oi["ci_lower"], oi["ci_upper"])
    # the same fit made directly (lavaan: cfa(..., ordered = TRUE, estimator = "WLSMV",
    # missing = "pairwise"))
    fw = _without_eva4()
    items = list(fw.competency("data").item_ids)
    with pytest.warns(SpecificationWarning, match="EVA4_r1"):  # its raters' columns
        scores = fw.score(pv.load_sample()).scores
    direct = pv.cfa(fw.to_model(competency="data"), scores[items], ordered=True,
                    missing=_validate.ORDINAL_MISSING)
    assert direct.composite_reliability()["data"] == pytest.approx(
        comp.loc["data", "omega"], rel=1e-10)
    # ordinal alpha: information beside omega, with its delta-method interval
    oa = fit.ordinal_alpha().set_index("factor").loc["data"]
    assert (comp.loc["data", "ordinal_alpha"], comp.loc["data", "ordinal_alpha_lower"],
            comp.loc["data", "ordinal_alpha_upper"]) == (oa["alpha"], oa["ci_lower"],
                                                        oa["ci_upper"])
    assert "ordinal_alpha" not in set(rep.verdicts["criterion"])
    assert "Chalmers 2018" in rep.methods["ordinal_alpha"]
    assert runs["ml"].competencies.get("ordinal_alpha", pd.Series(dtype=float)).isna().all()
    # fit row: the scaled indices, SRMR as is
    row = rep.fit[(rep.fit["target"] == "data") & (rep.fit["level"] == "competency")].iloc[0]
    fm = fit.fit_measures
    for col, key in (("chisq", "chisq_scaled"), ("pvalue", "pvalue_scaled"),
                     ("cfi", "cfi_scaled"), ("tli", "tli_scaled"), ("rmsea", "rmsea_scaled"),
                     ("rmsea_ci_upper", "rmsea_ci_upper_scaled"), ("srmr", "srmr")):
        assert row[col] == fm[key], col
    v = _v(rep, "data", "cfi").iloc[0]
    assert v["statistic"] == "cfi_scaled" and "Xia" in v["citation"]
    # tier: AVE and Fornell-Larcker of the WLSMV tier model (semTools AVE)
    tier = rep.results["cfa_tier:literacy"]
    assert tier.estimator == "WLSMV"
    assert comp.loc["data", "ave_tier"] == tier.ave()["data"]
    assert comp.loc["data", "sqrt_ave"] == pytest.approx(math.sqrt(tier.ave()["data"]))
    assert comp.loc["data", "cr_tier"] == tier.composite_reliability()["data"]
    ave = _v(rep, "data", "ave").iloc[0]
    assert "approximate" not in ave["reason"]


def test_planted_defects_show_under_wlsmv_as_under_ml(runs):
    """ETH4's weak loading, CON3's negative loading (miskey) and WRK3's cross-loading on
    prompting (docs/validate.md) under both estimators."""
    for name, rep in runs.items():
        lo = _v(rep, "ETH4", "loading")
        assert lo["verdict"].tolist() == ["fail"] and lo["upper"].iloc[0] < 0.40, name
        assert _v(rep, "CON3", "loading")["value"].iloc[0] < 0, name
        cross = rep.cross_loadings.set_index("tier").loc["applied"]
        assert (cross["item"], cross["to"]) == ("WRK3", "prompting"), name
        assert set(_v(rep, "WRK3", "cross_loading_mi")["verdict"]) == {"fail"}, name
        assert set(_v(rep, "WRK3", "cross_loading_epc")["verdict"]) == {"fail"}, name
        assert {"CON3", "ETH4", "WRK3"} <= set(rep.flagged_items), name
    w, m = runs["wlsmv"], runs["ml"]
    # on the latent-response scale the 0/1 loadings are not attenuated
    lw = w.items.set_index("item")["std_loading"]
    lm = m.items.set_index("item")["std_loading"]
    con = ["CON1", "CON2", "CON4", "CON5"]
    assert (lw[con] > lm[con]).all()


def test_second_order_test_of_ordinal_tiers(runs):
    """The applied tier (4 competencies) under WLSMV: the nested test when pv.compare takes
    ordinal fits, otherwise a not-applicable verdict saying why."""
    rep = runs["wlsmv"]
    t = rep.tiers.set_index("tier").loc["applied"]
    v = _v(rep, "applied", "second_order").iloc[0]
    if math.isnan(t["pvalue"]):
        assert t["second_order"].startswith("not available for WLSMV fits yet")
        assert v["verdict"] == "not_applicable" and "WLSMV" in v["reason"]
    else:
        assert t["second_order"] == "tested against the correlated model"
        assert v["verdict"] in ("pass", "fail", "borderline")


def test_report_renders_and_follows_the_schema(runs):
    import jsonschema

    from psychoval.report._schema import SCHEMA

    rep = runs["wlsmv"]
    doc = json.loads(rep.to_json())
    jsonschema.validate(doc, SCHEMA)
    assert doc["schema"] == "psychoval.validation_report/7"
    assert {c["omega_ci"] for c in doc["competencies"]} == {"delta"}
    assert doc["options"]["ordinal"] == "auto"
    md = rep.to_markdown()
    assert "WLSMV" in md and "delta" in md
    assert "delta-method interval" in rep.to_html()
    assert "approximate" not in rep.methods["cfa_estimator"].split("Otherwise")[0]


# -- the rule and its option ---------------------------------------------------------------
def test_the_rule():
    fw = pv.read_framework({"name": "r", "tiers": [{"id": "t", "competencies": [
        {"id": "a", "items": [{"id": f"a{j}", "type": "likert", "min": 1, "max": 9}
                              for j in range(1, 4)]}]}]})
    it = fw.items[0]
    seven = np.array([1, 2, 3, 4, 5, 6, 7, np.nan])
    assert _validate._item_ordered(it, seven, "auto")
    assert not _validate._item_ordered(it, np.append(seven, 8.0), "auto")  # 8 categories
    assert _validate._item_ordered(it, np.append(seven, 8.0), "always")
    assert not _validate._item_ordered(it, np.array([1.0, 2.5, 3.0]), "always")  # not codes
    assert not _validate._item_ordered(it, seven, "never")


def test_the_option_and_its_errors(tmp_path):
    assert pv.criteria().ordinal == "auto"
    assert pv.criteria(ordinal="never").ordinal == "never"
    c = pv.criteria("high_stakes", {"ordinal": "always", "alpha": 0.8})
    assert (c.ordinal, c.get("alpha").threshold, c.preset) == ("always", 0.8, "high_stakes")
    assert "ordinal" not in c.overrides
    f = tmp_path / "c.yaml"
    f.write_text("criteria:\n  ordinal: never\n")
    assert pv.criteria(str(f)).ordinal == "never"
    with pytest.raises(SpecificationError, match="ordinal='sometimes' must be one of auto, "
                       "always, never"):
        pv.criteria(ordinal="sometimes")


def test_framework_and_competency_option():
    """The framework's criteria set it for the run; a competency's for its own models: a
    competency fitted by ML makes its tier's models ML (mixed), with a note."""
    spec = sample_framework().to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] == "leadership"]
    spec.pop("roles", None)  # they name competencies of the other tiers
    spec["tiers"][0]["competencies"][0]["criteria"] = {"ordinal": "never"}
    fw = pv.read_framework(spec)
    rep = pv.validate(pv.load_sample("clean"), fw, seed=1, n_boot=N_BOOT)
    est = rep.fit.set_index(["level", "target"])["estimator"]
    assert est[("competency", "strategy")] == "MLR"
    assert est[("competency", "change")] == "WLSMV"
    tier = rep.fit[rep.fit["level"] == "tier"].iloc[0]
    assert tier["estimator"] == "MLR" and "mixed indicators" in tier["note"]
    spec["criteria"] = {"ordinal": "never"}
    del spec["tiers"][0]["competencies"][0]["criteria"]
    rep2 = pv.validate(pv.load_sample("clean"), pv.read_framework(spec), seed=1,
                       n_boot=N_BOOT)
    assert "WLSMV" not in set(rep2.fit["estimator"])
    assert rep2.options["ordinal"] == "never"


def test_sample_framework_eva4_makes_its_models_mixed():
    """On the full sample framework the rubric item EVA4 (raters' mean) is continuous: the
    evaluation competency, the applied tier and the framework model are ML/MLR with a note,
    the other competencies WLSMV."""
    fw = sample_framework()
    spec = fw.to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] == "applied"]
    spec.pop("roles", None)  # they name competencies of the other tiers
    rep = pv.validate(pv.load_sample("clean"), pv.read_framework(spec), seed=1,
                      n_boot=N_BOOT)
    f = rep.fit.set_index(["level", "target", "model"])
    assert f.loc[("competency", "evaluation", "one_factor"), "estimator"] == "MLR"
    assert "EVA4 continuous" in f.loc[("competency", "evaluation", "one_factor"), "note"]
    assert f.loc[("competency", "tools", "one_factor"), "estimator"] == "WLSMV"
    assert f.loc[("tier", "applied", "correlated"), "estimator"] == "MLR"
    comp = rep.competencies.set_index("competency")
    assert comp.loc["evaluation", "omega_ci"] == "bootstrap"
    assert comp.loc["tools", "omega_ci"] == "delta"
    assert isinstance(rep.competencies, pd.DataFrame)


def test_a_model_over_the_wlsmv_budget_is_fitted_as_continuous(monkeypatch):
    """WLSMV keeps rows x (thresholds + correlations) casewise scores; above WLSMV_BUDGET a
    model is fitted by ML / MLR with a note saying why (the 60-item framework model on
    50,000 rows: 1.0e8 scores, 2.1 GB)."""
    monkeypatch.setattr(_validate, "WLSMV_BUDGET", 1500 * 30.0)
    spec = sample_framework().to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] == "leadership"]
    spec.pop("roles", None)  # they name competencies of the other tiers
    rep = pv.validate(pv.load_sample("clean"), pv.read_framework(spec), seed=1,
                      n_boot=N_BOOT)
    f = rep.fit
    comp = f[f["level"] == "competency"]
    assert set(comp["estimator"]) == {"WLSMV"}  # 4 items: 16 thresholds + 6 correlations
    (tier,) = (r for _, r in f.iterrows() if (r["level"], r["model"]) == ("tier", "correlated"))
    assert tier["estimator"] == "MLR"
    assert "fitted as continuous: WLSMV's sample statistics" in tier["note"]
