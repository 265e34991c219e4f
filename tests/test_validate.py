"""pv.validate (issue 10): planted defects are found on both seeds, the clean replicate raises
no item flags, verdict rules, criteria presets and overrides, provenance."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.datasets import sample_framework, sample_path
from psychoval.exceptions import SpecificationError
from psychoval.report import ValidationReport
from psychoval.stats.reliability._omega_boot import _distinct_rows, omega_bootstrap
from psychoval.verdicts import SCALE_CRITERIA
from psychoval.verdicts._verdicts import judge, not_applicable
from tests._reports import sample_report
from tests._tolerances import assert_close

N_BOOT = 100


@pytest.fixture(scope="module")
def reports():
    fw = sample_framework()
    out = {name: pv.validate(pv.load_sample(name), fw, seed=11, n_boot=N_BOOT)
           for name in ("seed2", "clean")}
    # one of them from the files, as the CLI does
    # (shared with other modules: tests/_reports.py)
    out["responses"] = sample_report(seed=11, n_boot=N_BOOT, criteria="default")
    # ordered items fitted as continuous (ML / MLR + FIML): the R references of
    # validate_extra.R were made that way
    out["responses_ml"] = sample_report(seed=11, n_boot=N_BOOT, criteria={"ordinal": "never"})
    return out


def _v(rep, target, criterion):
    v = rep.verdicts
    return v[(v["target"] == target) & (v["criterion"] == criterion)]


@pytest.mark.parametrize("name", ["responses", "seed2"])
def test_every_planted_defect_is_found(reports, name):
    rep = reports[name]
    assert isinstance(rep, ValidationReport)
    # miskeyed CON3: the key draws low scorers; negative discrimination; action names it
    assert _v(rep, "CON3", "likely_miskey")["verdict"].tolist() == ["fail"]
    assert _v(rep, "CON3", "negative_discrimination")["verdict"].tolist() == ["fail"]
    act = rep.actions[rep.actions["target"] == "CON3"]
    assert act["kind"].tolist()[0] == "check_key" and "top distractor B" in act["text"].iloc[0]
    # weak ETH4: its loading interval lies below .40
    lo = _v(rep, "ETH4", "loading")
    assert lo["verdict"].tolist() == ["fail"] and lo["upper"].iloc[0] < 0.40
    assert "revise_item" in rep.actions.loc[rep.actions["target"] == "ETH4", "kind"].tolist()
    # WRK3 belongs to prompting: the tier model's largest cross-loading MI
    assert set(_v(rep, "WRK3", "cross_loading_mi")["verdict"]) == {"fail"}
    assert set(_v(rep, "WRK3", "cross_loading_epc")["verdict"]) == {"fail"}
    cross = rep.cross_loadings.set_index("tier").loc["applied"]
    assert cross["item"] == "WRK3" and cross["to"] == "prompting"
    move = rep.actions[rep.actions["kind"] == "move_item"]
    assert move["target"].tolist() == ["WRK3"] and "prompting" in move["text"].iloc[0]
    # DIF on PRM4 against engineering: significant after Holm over the framework's 41
    # items (matched on its competency's total), the comparison's smallest p-value
    # (negligible size by effect class: borderline)
    dif = _v(rep, "PRM4", "dif")
    assert len(dif) and set(dif["verdict"]) <= {"fail", "borderline"}
    eng = next(d.table for d in rep.results["dif"] if d.focal == ("engineering",))
    assert len(eng) == 41 and eng.loc[eng["p_value"].idxmin(), "item"] == "PRM4"
    assert eng.loc[eng["item"] == "PRM4", "flagged"].item()
    assert eng.loc[eng["item"] == "PRM4", "favours"].item() == "reference"
    assert any("engineering" in t for t in
               rep.actions.loc[rep.actions["target"] == "PRM4", "text"])
    # every action is traceable to verdicts that did not pass
    ids = {i.strip() for s in rep.actions["verdicts"] for i in s.split(",")}
    assert ids and ids <= set(rep.verdicts.loc[rep.verdicts["verdict"] != "pass", "id"])
    assert {"CON3", "ETH4", "WRK3"} <= set(rep.flagged_items)


def test_clean_replicate_raises_no_item_flags(reports):
    rep = reports["clean"]
    assert rep.flagged_items == []
    items = rep.verdicts[rep.verdicts["level"] == "item"]
    assert (items["verdict"] != "fail").all()
    # no miskey at any level of verdict; the four DIF comparisons ran on every item, and
    # what they found is at most borderline (see the strict xfail below)
    assert "likely_miskey" not in set(items.loc[items["verdict"] != "pass", "criterion"])
    assert len(rep.results["dif"]) == 4
    assert all(len(d.table) == 41 for d in rep.results["dif"])
    assert set(items.loc[items["criterion"] == "dif", "verdict"]) <= {"borderline"}
    assert "move_item" not in set(rep.actions["kind"])
    assert "check_key" not in set(rep.actions["kind"])


def test_clean_replicate_has_no_dif_verdict(reports):
    """Issue 16: the screen is one decision (Holm over its 164 tests) and a verdict needs an
    ETS effect beyond negligible; with PRM4's DIF at 0.8 logit it is found on both seeds (see
    test_every_planted_defect_is_found) and the clean file raises none. How often, over
    replicates: benchmarks/calibrate_verdicts.py."""
    v = reports["clean"].verdicts
    assert not (v["criterion"] == "dif").any()


def test_clean_structure_passes(reports):
    """The planted structure (correlated competencies within tiers, one factor per
    competency) passes: fit, discriminant validity, cross-loadings, second-order test."""
    rep = reports["clean"]
    v = rep.verdicts
    structural = v[v["criterion"].isin(["cfi", "tli", "rmsea", "srmr", "htmt",
                                        "cross_loading_mi", "second_order"])]
    assert len(structural) > 30
    assert (structural["verdict"] != "fail").all()
    likert = [c.id for c in sample_framework().competencies if c.id != "concepts"]
    rel = v[v["criterion"].isin(["alpha", "omega"]) & v["target"].isin(likert)]
    assert (rel["verdict"] != "fail").all()
    so = _v(rep, "applied", "second_order")
    assert so["verdict"].tolist() == ["pass"] and so["value"].iloc[0] > 0.05


def test_report_states_models_and_missing_data(reports):
    rep = reports["responses"]
    fw = sample_framework()
    assert rep.n_respondents == 1500
    assert set(rep.competencies["competency"]) == {c.id for c in fw.competencies}
    gov = rep.competencies.set_index("competency").loc["governance"]
    assert gov["identification"].startswith("just-identified")
    assert set(_v(rep, "governance", "cfi")["verdict"]) == {"not_applicable"}
    assert set(rep.tiers.set_index("tier").loc[["literacy", "leadership"], "second_order"]
               .str.startswith("equivalent")) == {True}
    # multiple-choice competency: ordered, WLSMV (ML labelled approximate with ordinal never)
    f = rep.fit.set_index("target").loc["concepts"]
    assert not f["approximate"] and f["estimator"] == "WLSMV"
    f_ml = reports["responses_ml"].fit.set_index("target").loc["concepts"]
    assert f_ml["approximate"] and f_ml["estimator"] == "ML"
    assert {"reliability_missing", "cfa_missing", "cfa_estimator", "fit_indices",
            "ordinal_estimation", "validity"} <= set(rep.methods)
    # rater agreement of the rubric task: ICC(2,k) of the three raters, judged
    r = rep.raters.set_index("item").loc["EVA4"]
    icc = rep.results["icc:EVA4"].results.loc["ICC2k"]
    assert r["available"] and r["icc2k"] == icc["icc"] and r["icc2k_lower"] == icc["lower"]
    v = _v(rep, "EVA4", "icc").iloc[0]
    assert v["verdict"] == "pass" and v["value"] == icc["icc"] and "Koo" in v["citation"]
    # numbers come from the underlying results
    fit = rep.results["cfa:data"]
    assert rep.competencies.set_index("competency").loc["data", "omega"] == \
        fit.composite_reliability()["data"]
    row = rep.fit[(rep.fit["target"] == "data") & (rep.fit["level"] == "competency")].iloc[0]
    key = ("cfi_scaled" if row["estimator"] == "WLSMV" else
           "cfi_robust" if row["robust"] else "cfi")
    assert row["cfi"] == fit.fit_measures[key]


def test_provenance_and_timings(reports):
    rep = reports["responses"]
    prov = rep.provenance
    assert prov["input_sha256"] == hashlib.sha256(
        sample_path("responses.csv").read_bytes()).hexdigest()
    assert prov["numpy"] == np.__version__ and prov["pandas"] == pd.__version__
    assert prov["psychoval"] == pv.__version__ and prov["seed"] == 11
    assert {"alpha", "omega", "cfa_competency", "htmt", "second_order"} <= set(prov["r_calls"])
    assert "compRelSEM" in prov["r_calls"]["omega"]
    assert {"data_quality", "items", "competencies", "tiers", "total"} <= set(rep.timings)
    assert all(t >= 0 for t in rep.timings.values())
    assert rep.options["n_boot"] == N_BOOT and rep.options["criteria_preset"] == "default"


def test_omega_bootstrap_matches_the_cfa_and_is_seeded():
    fw = sample_framework()
    scores = fw.score(pv.load_sample()).scores
    items = list(fw.competency("prompting").item_ids)
    x = scores[items].dropna()
    ref = pv.stats.one_factor_omega(x, items=items)
    b1 = omega_bootstrap(x.to_numpy(), n_boot=50, seed=5)
    b2 = omega_bootstrap(x.to_numpy(), n_boot=50, seed=5)
    assert math.isclose(b1.omega, ref.omega, rel_tol=1e-8)
    assert b1.lower < b1.omega < b1.upper and b1.n_failed == 0
    np.testing.assert_array_equal(b1.values, b2.values)
    # each replicate equals the full one-factor fit on the resampled rows: the counts of
    # the distinct response patterns, Multinomial(n, pattern frequencies / n)
    xv = x.to_numpy()
    patterns, freq = _distinct_rows(xv - xv.mean(axis=0))
    w = np.random.default_rng(5).multinomial(len(x), freq / len(x), size=50)
    for b in (0, 49):
        rows = pd.DataFrame(np.repeat(patterns, w[b], axis=0) + xv.mean(axis=0), columns=items)
        one = pv.stats.one_factor_omega(rows, items=items)
        assert math.isclose(b1.values[b], one.omega, rel_tol=1e-7)


def test_omega_bootstrap_confidence_level_and_its_deprecated_alias():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 1)) + rng.normal(size=(200, 4))
    narrow = omega_bootstrap(x, n_boot=40, seed=2, confidence_level=0.8)
    wide = omega_bootstrap(x, n_boot=40, seed=2)
    assert wide.lower <= narrow.lower < narrow.upper <= wide.upper
    assert (narrow.confidence_level, wide.confidence_level) == (0.8, 0.95)
    with pytest.warns(FutureWarning, match="omega_bootstrap.*use confidence_level=0.8"):
        old = omega_bootstrap(x, n_boot=40, seed=2, level=0.8)
    assert (old.lower, old.upper) == (narrow.lower, narrow.upper)


# -- verdict rules -----------------------------------------------------------------------
ALPHA = next(c for c in SCALE_CRITERIA if c.name == "alpha")
RMSEA = next(c for c in SCALE_CRITERIA if c.name == "rmsea")


def test_verdict_rules():
    assert judge(ALPHA, 0.80, target="x").verdict == "pass"
    assert judge(ALPHA, 0.65, target="x").verdict == "fail"
    assert judge(ALPHA, 0.65, target="x", lower=0.60, upper=0.72).verdict == "borderline"
    assert judge(ALPHA, 0.75, target="x", lower=0.68, upper=0.80).verdict == "borderline"
    assert judge(ALPHA, 0.75, target="x", lower=0.71, upper=0.80).verdict == "pass"
    assert judge(ALPHA, math.nan, target="x").verdict == "not_applicable"
    soft = judge(ALPHA, 0.65, target="x", soften="a companion rule holds")
    assert soft.verdict == "borderline" and "companion rule" in soft.reason
    assert judge(RMSEA, 0.08, target="m").verdict == "fail"
    assert judge(RMSEA, 0.05, target="m").verdict == "pass"
    v = judge(RMSEA, 0.05, target="m", lower=0.03, upper=0.07)
    assert v.verdict == "borderline" and "contains the threshold 0.06" in v.reason
    assert "Hu, L., & Bentler" in v.citation
    na = not_applicable(ALPHA, target="x", reason="no items")
    assert na.verdict == "not_applicable" and math.isnan(na.value)


# -- criteria ----------------------------------------------------------------------------
def test_presets_and_overrides(tmp_path):
    d = pv.criteria()
    assert d.preset == "default" and d.get("floor_effect") is None
    assert d.get("alpha").threshold == 0.70 and "Nunnally" in d.get("alpha").citation
    assert pv.criteria("screening").get("floor_effect") is not None
    hs = pv.criteria("high_stakes")
    assert hs.get("omega").threshold == 0.90
    assert pv.criteria("acceptable_fit").get("rmsea").threshold == 0.08
    o = pv.criteria(alpha=0.8, htmt=None)
    assert o.get("alpha").threshold == 0.8 and "user threshold 0.8" in o.get("alpha").citation
    assert o.get("htmt") is None
    f = tmp_path / "c.yaml"
    f.write_text("preset: high_stakes\ncriteria:\n  rmsea: 0.05\n  dif: null\n")
    c = pv.criteria(str(f))
    assert (c.preset, c.get("rmsea").threshold, c.get("dif")) == ("high_stakes", 0.05, None)
    j = tmp_path / "c.json"
    j.write_text(json.dumps({"criteria": {"loading": 0.3}}))
    assert pv.criteria(j).get("loading").threshold == 0.3


def test_criteria_errors(tmp_path):
    with pytest.raises(SpecificationError, match="unknown criteria preset 'nope'"):
        pv.criteria("nope")
    with pytest.raises(SpecificationError, match=r"unknown criterion name\(s\) 'alfa'"):
        pv.criteria(alfa=0.7)
    with pytest.raises(SpecificationError, match="criterion 'alpha' must be a number or null; "
                       "got 'high'"):
        pv.criteria(alpha="high")
    bad = tmp_path / "bad.json"
    bad.write_text("{\"preset\": ")
    with pytest.raises(SpecificationError, match="invalid JSON at line 1"):
        pv.criteria(bad)
    bad.write_text(json.dumps({"thresholds": {}}))
    with pytest.raises(SpecificationError, match="must be a mapping with keys 'preset'"):
        pv.criteria(bad)
    with pytest.raises(SpecificationError, match="criteria must be None, a preset name"):
        pv.validate(pv.load_sample(), sample_framework(), criteria=3.5)


def _leadership_framework(**competency_criteria):
    spec = sample_framework().to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] == "leadership"]
    spec.pop("roles", None)  # they name competencies of the other tiers
    for c in spec["tiers"][0]["competencies"]:
        if c["id"] in competency_criteria:
            c["criteria"] = competency_criteria[c["id"]]
    return pv.read_framework(spec)


def test_framework_overrides_per_competency():
    fw = _leadership_framework(strategy={"alpha": 0.95})
    rep = pv.validate(pv.load_sample(), fw, seed=1, n_boot=20)
    s = _v(rep, "strategy", "alpha").iloc[0]
    c = _v(rep, "change", "alpha").iloc[0]
    assert s["threshold"] == 0.95 and s["verdict"] == "fail"
    assert "competency 'strategy' criteria" in s["citation"]
    assert c["threshold"] == 0.70 and c["verdict"] == "pass"
    with pytest.raises(SpecificationError, match="competency 'change' criteria: unknown "
                       r"criterion name\(s\) 'alhpa'"):
        pv.validate(pv.load_sample(), _leadership_framework(change={"alhpa": 0.9}), n_boot=20)


def test_progress_callback_and_bad_options():
    calls = []
    fw = _leadership_framework()
    pv.validate(pv.load_sample("clean"), fw, n_boot=20,
                progress=lambda step, d, t: calls.append((step, d, t)))
    assert calls[-1][1] == calls[-1][2] and len(calls) == calls[-1][2]
    assert [c[1] for c in calls] == list(range(1, len(calls) + 1))
    steps = [c[0] for c in calls]
    for name in ("input", "items", "competency strategy", "tier leadership",
                 "framework model", "parallel analysis", "verdicts"):
        assert name in steps
    assert len({c[2] for c in calls[1:]}) == 1  # the total is known after the input step
    with pytest.raises(SpecificationError, match="n_boot=5 must be an integer of at least 20"):
        pv.validate(pv.load_sample(), fw, n_boot=5)
    with pytest.raises(SpecificationError, match="seed=1.5 must be an integer or None"):
        pv.validate(pv.load_sample(), fw, seed=1.5)
    with pytest.raises(SpecificationError, match="progress='yes' must be None, True"):
        pv.validate(pv.load_sample(), fw, n_boot=20, progress="yes")


# -- the report's numbers against R (tests/reference/r/validate_extra.R) -----------------
REF = json.loads((Path(__file__).parent / "reference" / "ref_extra" /
                  "validate_extra.json").read_text(encoding="utf-8"))["values"]


def _variant(fit_row) -> str | None:
    if fit_row["estimator"] == "ML" and fit_row["missing"] == "listwise":
        return "ml_listwise"
    if fit_row["estimator"] == "MLR" and fit_row["missing"] in ("fiml", "ml"):
        return "mlr_fiml"
    return None  # (ML + FIML for the multiple-choice competency has no R reference here)


def test_competency_numbers_match_r(reports):
    rep = reports["responses_ml"]
    comp = rep.competencies.set_index("competency")
    items = rep.items.set_index("item")
    checked = 0
    for cid, ref in REF["competencies"].items():
        fit = rep.results[f"cfa:{cid}"]
        variant = _variant({"estimator": fit.estimator, "missing": fit.missing})
        if rep.methods["reliability_missing"].startswith("pairwise"):
            assert_close(comp.loc[cid, "alpha"], ref["raw_alpha"], "closed_form", what=cid)
            assert_close(comp.loc[cid, "alpha_lower"], ref["feldt_lower"], "closed_form")
            assert_close(comp.loc[cid, "alpha_upper"], ref["feldt_upper"], "closed_form")
        if variant is None:
            continue
        kind = "cfa" if variant == "ml_listwise" else "mlr"
        r = ref[variant]
        assert_close(comp.loc[cid, "omega"], r["omega"], "iterative", what=f"{cid} omega")
        for item, lam in r["std_loading"].items():
            assert_close(items.loc[item, "std_loading"], lam, "iterative", what=item)
            assert_close(items.loc[item, "loading_lower"], r["loading_lower"][item], "iterative")
            assert_close(items.loc[item, "loading_upper"], r["loading_upper"][item], "iterative")
        row = rep.fit[(rep.fit["level"] == "competency") & (rep.fit["target"] == cid)]
        if r["fit"] is not None:
            for key, val in r["fit"].items():
                assert_close(row.iloc[0][key], val, kind, what=f"{cid} {key}")
        else:
            assert row.empty  # 3 items: just-identified, no fit row
        checked += 1
    assert checked >= 9


def test_tier_numbers_match_r(reports):
    rep = reports["responses_ml"]
    comp = rep.competencies.set_index("competency")
    pairs = rep.discriminant.assign(key=lambda d: d["competency_a"] + " ~ " + d["competency_b"])
    pairs = pairs.set_index("key")
    for tid, ref in REF["tiers"].items():
        for key, h in ref["htmt"].items():  # listwise in semTools and here
            assert_close(pairs.loc[key, "htmt"], h["htmt"], "closed_form", what=key)
            assert_close(pairs.loc[key, "htmt2"], h["htmt2"], "closed_form", what=key)
        fit = rep.results[f"cfa_tier:{tid}"]
        variant = _variant({"estimator": fit.estimator, "missing": fit.missing})
        if variant is None:
            continue
        kind = "cfa" if variant == "ml_listwise" else "mlr"
        r = ref[variant]
        for cid, cr in r["composite_reliability"].items():
            assert_close(comp.loc[cid, "cr_tier"], cr, "iterative", what=f"{tid} CR {cid}")
            assert_close(comp.loc[cid, "ave_tier"], r["ave"][cid], "iterative")
        top = rep.cross_loadings.set_index("tier").loc[tid]
        assert (top["to"], top["item"]) == (r["top_cross_loading"]["lhs"],
                                             r["top_cross_loading"]["rhs"])
        assert_close(top["mi"], r["top_cross_loading"]["mi"], "modindices_fitted", what=tid)
        assert_close(top["sepc_all"], r["top_cross_loading"]["sepc_all"], "modindices_fitted")
        row = rep.fit[(rep.fit["level"] == "tier") & (rep.fit["target"] == tid)
                      & (rep.fit["model"] == "correlated")].iloc[0]
        for key, val in r["fit"].items():
            assert_close(row[key], val, kind, what=f"{tid} {key}")
        if "second_order" in r:
            t = rep.tiers.set_index("tier").loc[tid]
            so = r["second_order"]
            assert_close(t["chisq_diff"], so["chisq_diff"], kind, what=f"{tid} LRT")
            assert t["df_diff"] == so["df_diff"]
            assert_close(t["pvalue"], so["pvalue"], kind, what=f"{tid} LRT p")


def test_actions_follow_from_verdicts():
    from psychoval.verdicts._verdicts import recommend, verdict_frame

    crit = {c.name: c for c in pv.criteria("screening").all}
    vs = [judge(crit["cross_loading_mi"], 40.0, target="X1", level="item", competency="a"),
          judge(crit["cross_loading_epc"], 0.5, target="X1", level="item", competency="a"),
          judge(crit["loading"], 0.2, target="X1", competency="a"),
          judge(crit["cross_loading_mi"], 40.0, target="X2", level="item", competency="a",
                soften="its standardized expected change 0.100 is small"),
          judge(crit["cross_loading_epc"], 0.1, target="X2", level="item", competency="a"),
          judge(crit["htmt"], 0.93, target="a ~ b", level="tier", tier="t"),
          judge(crit["second_order"], 0.001, target="t", level="tier", tier="t"),
          judge(crit["alpha"], 0.5, target="a", competency="a", tier="t"),
          judge(crit["alpha"], 0.8, target="b", competency="b", tier="t")]
    frame = verdict_frame(vs)
    acts = recommend(frame, item_competency={"X1": "a", "X2": "a"},
                     details={("cross_loading", "X1"): "b", ("cross_loading_own", "X1"): 0.3})
    kinds = dict(zip(acts["target"], acts["kind"], strict=False))
    assert kinds == {"X1": "move_item", "a ~ b": "not_distinct", "t": "tier_structure",
                     "a": "improve_reliability"}
    move = acts[acts["kind"] == "move_item"].iloc[0]
    assert move["verdicts"] == "V001, V002" and "to b" in move["text"]
    # the loading failure of a moved item is not a second "revise" action
    assert (acts["target"] == "X1").sum() == 1
    # a cross-loading smaller than the item's own loading: reword, not move
    again = recommend(frame, item_competency={"X1": "a", "X2": "a"},
                      details={("cross_loading", "X1"): "b", ("cross_loading_own", "X1"): 0.7})
    row = again[again["target"] == "X1"].iloc[0]
    assert row["kind"] == "cross_loading" and "also measures b" in row["text"]
    assert frame.loc[3, "verdict"] == "borderline"  # MI alone does not flag X2


def test_tier_omega_hierarchical(reports):
    """Each tier of 3+ competencies reports psych-style omega hierarchical with one group
    factor per competency (the same numbers as pv.omega on the tier's items)."""
    rep = reports["clean"]
    fw = sample_framework()
    scores = fw.score(pv.load_sample("clean")).scores
    for t in fw.tiers:
        row = rep.tiers.set_index("tier").loc[t.id]
        items = [i.id for c in t.competencies for i in c.items]
        direct = pv.omega(scores[items], n_factors=len(t.competencies))
        for col in ("omega_h", "omega_total", "ecv"):
            assert row[col] == pytest.approx(getattr(direct, col), rel=1e-12)
        assert f"{len(t.competencies)} group factors" in row["omega_note"]
    assert 0.5 < rep.tiers["omega_h"].min() and rep.tiers["omega_h"].max() < 0.9
    assert "omega_tier" in rep.provenance["r_calls"]
    doc = rep.to_dict()
    assert {"omega_h", "omega_total", "ecv", "omega_note"} <= set(doc["tiers"][0])
    assert "omega total" in rep.to_markdown()


# -- a model that cannot be estimated does not stop the run (issue 14) ----------------------
def _with_duplicate_item(tmp_path) -> Path:
    raw = pd.read_csv(sample_path("responses.csv"), dtype=str, keep_default_na=False)
    raw["DAT2"] = raw["DAT1"]  # a duplicated column: singular covariances
    path = tmp_path / "dup.csv"
    raw.to_csv(path, index=False)
    return path


def test_a_model_that_cannot_be_estimated_becomes_a_verdict(tmp_path):
    rep = pv.validate(_with_duplicate_item(tmp_path), sample_path("framework.yaml"), seed=1,
                      n_boot=20)
    ne = rep.verdicts[rep.verdicts["verdict"] == "not_estimable"].set_index("target")
    assert set(ne.index) == {"data", "literacy", rep.framework_name}
    assert set(ne["level"]) == {"competency", "tier", "framework"}
    for reason in ne["reason"]:
        assert "DAT1" in reason and "DAT2" in reason and "linearly dependent" in reason
        assert "remove or fix the offending items" in reason
    assert rep.counts["not_estimable"] == 3
    # what depends on those models is not applicable, with the reason
    dep = rep.verdicts[(rep.verdicts["competency"] == "data")
                       & rep.verdicts["criterion"].isin(["loading", "omega", "cfi", "ave"])]
    assert set(dep["verdict"]) == {"not_applicable"}
    assert dep["reason"].str.contains("could not be estimated").all()
    # the rest of the report is there: other competencies judged, other tiers fitted
    assert (_v(rep, "ETH4", "loading")["verdict"] == "fail").all()
    fit = rep.fit.set_index(["level", "target", "model"])
    assert fit.loc[("competency", "data", "one_factor"), "status"] == "not_estimable"
    assert fit.loc[("tier", "applied", "correlated"), "status"] == "estimated"
    assert "model_not_estimable" in rep.actions["kind"].tolist()
    # every rendering is produced
    doc = json.loads(rep.to_json())
    assert doc["summary"]["not_estimable"] == 3
    assert "not estimable" in rep.to_html() and "not estimable" in rep.to_markdown()
    assert "models not estimable" in str(rep.summary())


def test_non_convergence_becomes_not_estimable(monkeypatch):
    from psychoval.stats.sem import _optimize as _cfa_optimize
    monkeypatch.setattr(_cfa_optimize, "MAX_ITER", 1)
    fw = _leadership_framework()
    rep = pv.validate(pv.load_sample("clean"), fw, seed=1, n_boot=20)
    ne = rep.verdicts[rep.verdicts["verdict"] == "not_estimable"]
    assert len(ne) == len(rep.fit) and len(ne) > 0
    assert ne["reason"].str.contains("did not converge after").all()
    ml = ne[~ne["reason"].str.contains("ordinal CFA")]  # ML / MLR: the engine's restarts
    assert ml["reason"].str.contains("restarts").all()
    assert set(rep.fit["status"]) == {"not_estimable"}
    assert rep.fit["converged"].eq(False).all()
    # reliability and items are still judged
    assert (rep.verdicts["criterion"] == "alpha").any()
    assert not rep.verdicts.loc[rep.verdicts["criterion"] == "alpha", "verdict"].eq(
        "not_applicable").any()


def test_cli_writes_the_report_when_a_model_cannot_be_estimated(tmp_path):
    from psychoval.cli import main

    raw = pd.read_csv(sample_path("responses.csv"), dtype=str, keep_default_na=False)
    raw["STR2"] = raw["STR1"]  # the leadership tier alone, with a duplicated column
    data = tmp_path / "dup.csv"
    raw.to_csv(data, index=False)
    fw = tmp_path / "fw.json"
    fw.write_text(json.dumps(_leadership_framework().to_dict()))
    out = tmp_path / "r.json"
    code = main(["validate", str(data), "--framework", str(fw), "--seed", "1",
                 "--json", str(out), "--quiet"])
    assert code == 0
    doc = json.loads(out.read_text())
    # the competency and its tier (the only one, so also the framework level's model)
    assert doc["summary"]["not_estimable"] >= 2
    assert any(v["target"] == "strategy" and v["verdict"] == "not_estimable"
               for v in doc["verdicts"])


def test_plain_progress_bar_shows_step_elapsed_and_what_is_left():
    import io

    from psychoval._progress import PlainBar, progress_callback

    out = io.StringIO()
    bar = PlainBar("validate", stream=out)
    bar("input", 1, 4)
    bar("competency data", 2, 4)
    bar("verdicts", 4, 4)
    text = out.getvalue()
    assert "validate [######" in text and "1/4 input" in text and "left" in text
    assert text.endswith("\n") and text.count("\n") == 1  # one line, ended when done
    assert progress_callback(None, "x") is None and progress_callback(False, "x") is None
    f = lambda step, d, t: None  # noqa: E731
    assert progress_callback(f, "x") is f


def test_cli_progress_goes_to_stderr_only(tmp_path, capsys):
    from psychoval.cli import main

    fw = tmp_path / "fw.json"
    fw.write_text(json.dumps(_leadership_framework().to_dict()))
    code = main(["validate", str(sample_path("responses_clean.csv")), "--framework", str(fw),
                 "--seed", "1", "--n-boot", "20", "--progress", "--quiet"])
    assert code == 0
    cap = capsys.readouterr()
    assert cap.out == ""  # --quiet: no summary; progress never goes to stdout
    import re

    done = re.findall(r"(\d+)/(\d+)", cap.err)[-1]  # tqdm's bar or the plain one
    assert "validate" in cap.err and done[0] == done[1]


def test_input_hash_of_a_table_reads_values_ids_and_text_cells():
    from psychoval.pipeline._validate import _hash_input

    table = pv.load_sample()
    same = pv.load_sample()
    assert _hash_input(table, table) == _hash_input(same, same)
    raw = table.raw.copy()
    item = next(i for i in table.text_items if table.text_cells(i))
    raw.iloc[table.text_cells(item)[0], raw.columns.get_loc(item)] = "Z"
    other = pv.read_responses(raw.reset_index(), id_column=raw.index.name or "index")
    assert _hash_input(other, other) != _hash_input(table, table)
    df = table.raw.reset_index()
    assert _hash_input(df, df) == _hash_input(df.copy(), df.copy())


@pytest.mark.slow
def test_validations_in_threads_equal_serial_runs():
    """Notes and every table of each run stay its own when 3 runs share the process
    (warnings are collected per context, not through process-wide warnings filters)."""
    from concurrent.futures import ThreadPoolExecutor

    fw = _leadership_framework()
    names = ["responses", "seed2", "responses"]
    data = {n: pv.load_sample(n) for n in set(names)}

    def run(name):
        return pv.validate(data[name], fw, seed=3, n_boot=20)

    serial = {n: run(n) for n in set(names)}
    with ThreadPoolExecutor(max_workers=3) as pool:
        reports = list(pool.map(run, names))
    for name, rep in zip(names, reports, strict=True):
        ref = serial[name]
        assert rep.notes == ref.notes
        pd.testing.assert_frame_equal(rep.verdicts, ref.verdicts)
        pd.testing.assert_frame_equal(rep.fit, ref.fit)
        assert rep.data_quality == ref.data_quality
        assert rep.provenance["input_sha256"] == ref.provenance["input_sha256"]


def test_ids_that_are_not_plain_names_validate(tmp_path):
    """Item, competency and tier ids with dashes, spaces, a backtick, a bar, a leading digit
    or non-Latin letters become quoted names in the models: every model is estimated and
    its tables name the ids as written; the reports are written."""
    ids = ["Q-1", "Q 2", "über3", "x`y", "a|b", "1st", "q.5", "normal"]
    rng = np.random.default_rng(3)
    f = rng.normal(size=(400, 2))
    data = pd.DataFrame({i: np.clip(np.round(3 + f[:, j % 2] + rng.normal(size=400)), 1, 5)
                         for j, i in enumerate(ids)})
    comps = [{"id": "comp-A", "items": [{"id": i, "type": "likert", "min": 1, "max": 5}
                                        for i in ids[0::2]]},
             {"id": "cömp B", "items": [{"id": i, "type": "likert", "min": 1, "max": 5}
                                        for i in ids[1::2]]}]
    fw = pv.read_framework({"name": "odd ids", "tiers": [{"id": "tier 1",
                                                          "competencies": comps}]})
    rep = pv.validate(data, fw, seed=1, criteria={"ordinal": "never"})
    fit = rep.fit
    assert list(fit["target"]) == ["comp-A", "cömp B", "tier 1", "odd ids"]
    assert fit["converged"].all() and (fit["status"] == "estimated").all()
    assert set(rep.items["item"]) == set(ids)
    assert rep.items["std_loading"].notna().all()
    std = pv.cfa(fw.to_model(), data).standardized()
    assert set(std.loc[std["op"] == "=~", "rhs"]) == set(ids)
    rep.to_html(tmp_path / "r.html")
    rep.to_markdown(tmp_path / "r.md")
    rep.to_json(tmp_path / "r.json")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert {row["item"] for row in doc["items"]} == set(ids)
    assert "x`y" in (tmp_path / "r.html").read_text()


def test_ids_with_a_bar_under_wlsmv():
    ids = ["Q-1", "a|b", "q3", "q4"]
    rng = np.random.default_rng(3)
    f = rng.normal(size=(300, 1))
    data = pd.DataFrame({i: np.clip(np.round(3 + f[:, 0] + rng.normal(size=300)), 1, 5)
                         for i in ids})
    fw = pv.read_framework({"name": "bar", "tiers": [{"id": "t", "competencies": [
        {"id": "c", "items": [{"id": i, "type": "likert", "min": 1, "max": 5} for i in ids]}]}]})
    rep = pv.validate(data, fw, seed=1, n_boot=20)
    assert set(rep.fit["estimator"]) == {"WLSMV"}
