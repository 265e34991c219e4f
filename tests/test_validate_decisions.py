"""validate()'s decisions section (issue 20, section 3): classification accuracy and
consistency at each competency's cut score (pv.classification) and the added value of each
competency score over its tier total (pv.subscore_value), with their verdicts, in JSON, HTML
and Markdown. The numbers themselves are checked against R in test_classification /
test_subscores; here: that validate computes them on the right data, cut and scale."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.datasets import sample_framework
from tests._reports import sample_report as shared_sample_report

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample_report():
    return shared_sample_report()  # the sample files, seed 11 (tests/_reports.py)


def test_sample_declares_cut_scores_and_gets_the_section(sample_report):
    rep = sample_report
    assert rep.decisions["level"].tolist() == ["competency"] * 3 + ["tier"]
    tier = rep.decisions.iloc[3]
    # the applied tier's cut (3.25 on the mean of its 17 items): Livingston-Lewis on the
    # range of the summed items, listwise over all 17 (n_used + rows_dropped = 1,500)
    assert (tier["tier"], tier["method"], tier["n_items"]) == ("applied", "livingston_lewis", 17)
    assert tier["cut_raw"] == pytest.approx(3.25 * 17) and tier["score_max"] == 84
    assert tier["n_used"] + tier["rows_dropped"] == 1500
    dec = rep.decisions[rep.decisions["level"] == "competency"].set_index("competency")
    assert list(dec.index) == ["concepts", "prompting", "governance"]
    assert (dec["status"] == "computed").all()
    # multiple-choice (0/1) items: Hanson & Brennan; Likert: Livingston & Lewis on the
    # declared range; the mean-scale cut times the number of items
    assert dec.loc["concepts", "method"] == "hanson_brennan"
    assert dec.loc["prompting", "method"] == dec.loc["governance", "method"] == \
        "livingston_lewis"
    assert dec.loc["prompting", "cut_raw"] == pytest.approx(3.5 * 5)
    assert (dec.loc["prompting", "score_min"], dec.loc["prompting", "score_max"]) == (5, 25)
    for c in dec.itertuples():
        assert 0 < c.consistency < c.accuracy < 1
        assert c.n_used + c.rows_dropped == 1500


def test_decision_numbers_are_pv_classification_on_the_complete_rows(sample_report):
    fw = sample_framework()
    scores = fw.score(pv.load_sample()).scores
    items = list(fw.competency("prompting").item_ids)
    direct = pv.classification(scores[items], [17.5], method="livingston_lewis",
                               score_range=(5, 25))
    dec = sample_report.decisions
    row = dec[dec["competency"] == "prompting"].iloc[0]
    assert row["accuracy"] == direct.p_a and row["consistency"] == direct.p_c
    complete = scores[items].dropna()
    assert row["pass_rate"] == pytest.approx(float((complete.sum(axis=1) >= 17.5).mean()))
    assert row["csem_at_cut"] == direct.cut_table["csem"].iloc[0]


def test_verdicts_and_actions(sample_report):
    rep = sample_report
    v = rep.verdicts
    cls = v[v["criterion"].isin(["classification_accuracy", "classification_consistency"])]
    assert len(cls) == 2 * 4
    assert (cls.loc[cls["target"] == "applied", "level"] == "tier").all()
    assert cls["citation"].str.contains("Standard 2.16").all()
    # concepts (five 0/1 items, alpha .33 with the miskeyed CON3): not dependable at its cut
    conc = cls[cls["target"] == "concepts"].set_index("criterion")["verdict"]
    assert set(conc) == {"fail"}
    sub = v[v["criterion"] == "subscore_value"].set_index("target")
    assert len(sub) == 10  # every competency: every tier has 3 or 4 of them
    assert sub.loc["concepts", "verdict"] == "fail"
    assert (sub.drop(index="concepts")["verdict"] == "pass").all()
    kinds = rep.actions.set_index("target")["kind"]
    assert "classification" in rep.actions["kind"].tolist()
    assert set(rep.actions.loc[rep.actions["target"] == "concepts", "kind"]) >= {
        "classification", "subscore"}
    assert kinds.get("prompting") != "classification"
    s = rep.subscores.set_index("competency")
    assert s.loc["concepts", "decision"] == "do not report separately"
    assert s.loc["concepts", "prmse_s"] < s.loc["concepts", "prmse_x"]


def test_irt_item_fit_joins_the_item_evidence(sample_report):
    rep = sample_report
    irt = rep.irt_items.set_index("item")
    assert list(irt.index) == list(sample_framework().item_ids)
    assert irt.loc["CON1", "model"] == "2PL" and irt.loc["DAT1", "model"] == "GRM"
    # the raters' mean (EVA4) is not an integer score: no IRT model for its competency
    assert irt.loc["EVA4", "model"] == "" and "non-integer" in irt.loc["EVA4", "note"]
    # the miskeyed CON3 gets a negative 2PL slope, said in the note
    assert irt.loc["CON3", "slope"] < 0 and "negative slope" in irt.loc["CON3", "note"]
    # the fits are pv.irt's, and Holm runs over every tested item of the framework
    fw = sample_framework()
    scores = fw.score(pv.load_sample()).scores
    direct = pv.irt(scores[list(fw.competency("concepts").item_ids)], model="2PL")
    fit = direct.itemfit().set_index("item")
    assert irt.loc["CON4", "s_x2"] == pytest.approx(fit.loc["CON4", "s_x2"], rel=1e-12)
    tested = irt["pvalue"].notna()
    m = int(tested.sum())
    low = irt.loc[tested, "pvalue"].min()
    assert irt.loc[irt["pvalue"] == low, "pvalue_holm"].iloc[0] == pytest.approx(min(1, m * low))
    v = rep.verdicts[rep.verdicts["criterion"] == "irt_item_fit"]
    assert len(v) == len(irt)
    assert set(v.loc[v["target"].isin(irt.index[~tested]), "verdict"]) == {"not_applicable"}


def test_renderings(sample_report):
    jsonschema = pytest.importorskip("jsonschema")
    rep = sample_report
    d = json.loads(rep.to_json())
    schema = json.loads((ROOT / "docs" / "validation_report.schema.json").read_text())
    jsonschema.validate(d, schema)
    assert [r["competency"] or r["tier"] for r in d["decisions"]] == [
        "concepts", "prompting", "governance", "applied"]
    assert len(d["subscores"]) == 10 and "decisions" in d["methods"]
    html = rep.to_html()
    assert "Decisions on scores</h2>" in html and "PRMSE tier total" in html
    md = rep.to_markdown()
    assert "## Decisions on scores" in md


def test_no_cut_scores_no_classification_but_subscores():
    fw = pv.read_framework({"tiers": [{"id": "t", "competencies": [
        {"id": f"c{k}", "items": [{"id": f"c{k}_{j}", "type": "likert", "min": 1, "max": 5}
                                  for j in range(4)]} for k in range(2)]}]})
    rng = np.random.default_rng(3)
    eta = rng.normal(size=(400, 2)) @ np.linalg.cholesky([[1, .5], [.5, 1]]).T
    cols = {f"c{k}_{j}": np.clip(np.round(3 + eta[:, k] + rng.normal(size=400)), 1, 5)
            for k in range(2) for j in range(4)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = pv.validate(pd.DataFrame(cols), fw, seed=1)
    assert len(rep.decisions) == 0
    assert rep.subscores["competency"].tolist() == ["c0", "c1"]
    assert "No cut scores in the framework" in rep.to_html()
    v = rep.verdicts
    assert not v["criterion"].isin(["classification_accuracy"]).any()


def test_one_item_competency_is_not_applicable():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fw = pv.read_framework({"tiers": [{"id": "t", "competencies": [
            {"id": "c", "cut_score": 3, "items": [
                {"id": f"i{j}", "type": "likert", "min": 1, "max": 5} for j in range(4)]},
            {"id": "d", "cut_score": 3, "items": [
                {"id": "solo", "type": "likert", "min": 1, "max": 5}]}]}]})
        rng = np.random.default_rng(5)
        eta = rng.normal(size=300)
        data = pd.DataFrame({f"i{j}": np.clip(np.round(3 + eta + rng.normal(size=300)), 1, 5)
                             for j in range(4)})
        data["solo"] = np.clip(np.round(3 + eta + rng.normal(size=300)), 1, 5)
        rep = pv.validate(data, fw, seed=1)
    dec = rep.decisions.set_index("competency")
    assert dec.loc["c", "status"] == "computed"  # (no tier cut score: competency rows only)
    assert dec.loc["d", "status"] == "not applicable" and "one item" in dec.loc["d", "note"]
    v = rep.verdicts[(rep.verdicts["target"] == "d")
                     & rep.verdicts["criterion"].str.startswith("classification")]
    assert (v["verdict"] == "not_applicable").all() and len(v) == 2


def test_skills_gap_section(sample_report):
    """The sample framework declares role targets: validate reports the share of each job
    family below target per competency, the ranked needs, and leaves out ethics (its alpha
    fails) with the reason - never as a finding."""
    rep = sample_report
    g = rep.skills_gap
    assert set(g["role"]) == {"engineering", "product", "sales", "operations"}
    eth = g[g["competency"] == "ethics"].iloc[0]
    assert not eth["used"] and eth["reason"].startswith("alpha fail")
    assert np.isnan(eth["share_below"])
    top = rep.training_needs.iloc[0]
    assert (top["role"], top["competency"], top["rank"]) == ("engineering", "prompting", 1)
    assert "ethics" not in set(rep.training_needs["competency"])
    direct = pv.skills_gap(pv.load_sample(), framework=sample_framework(),
                           exclude={"ethics": "x"})
    pd.testing.assert_series_equal(
        g.loc[g["used"].astype(bool), "share_below"].reset_index(drop=True),
        direct.groups.loc[direct.groups["used"], "share_below"].reset_index(drop=True))
    html = rep.to_html()
    assert "Skills gaps</h2>" in html and "not used" in html
    assert "## Skills gaps" in rep.to_markdown()
    d = json.loads(rep.to_json())
    assert len(d["skills_gap"]) == len(g) and d["training_needs"][0]["rank"] == 1
