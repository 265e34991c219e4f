"""validate()'s fairness section (issue 19, section 2): the invariance ladder per group column
and tier with its verdicts, dMACS, adverse impact at the competencies' cut scores, and the
report's fairness tables in JSON, HTML and Markdown."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.datasets import sample_framework
from psychoval.exceptions import SpecificationError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample_report():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pv.validate(pv.load_sample(), sample_framework(), seed=1)


def test_sample_shows_the_ladder_per_tier(sample_report):
    rep = sample_report
    fw = sample_framework()
    assert rep.fairness["tier"].tolist() == [t.id for t in fw.tiers]
    assert set(rep.fairness["group_column"]) == {"job_family"}
    assert (rep.fairness["status"] == "tested").all(), rep.fairness["note"].tolist()
    # every tier has its ladder, in order, with a decision on each step
    for t in fw.tiers:
        lad = rep.invariance[rep.invariance["tier"] == t.id]
        assert lad["level"].iloc[0] == "configural"
        assert lad["decision"].iloc[0] == "baseline"
        assert "scalar" in lad["level"].tolist()
    # the applied tier (EVA4 is the mean of raters: continuous, MLR) has the continuous
    # ladder; the all-ordered tiers the ordinal one (WLSMV)
    est = rep.fairness.set_index("tier")["estimator"]
    assert est["applied"] == "MLR"
    assert est["literacy"] == est["leadership"] == "WLSMV"
    applied = rep.invariance[rep.invariance["tier"] == "applied"]
    assert applied["level"].tolist() == ["configural", "metric", "scalar"]
    # the ordered tiers: Wu & Estabrook's ladder (thresholds, then loadings, then intercepts)
    lit = rep.invariance[rep.invariance["tier"] == "literacy"]
    assert lit["level"].tolist() == ["configural", "thresholds", "metric", "scalar"]


def test_sample_finds_prm4(sample_report):
    """The planted intercept shift on PRM4 (engineering): DIF flags it, the applied tier's
    largest dMACS is PRM4 for engineering, and the action names it."""
    rep = sample_report
    row = rep.fairness.set_index("tier").loc["applied"]
    assert "PRM4 (engineering" in row["dif_items"]
    assert row["max_dmacs_item"].startswith("PRM4 (engineering")
    # the partial search frees PRM4's intercept, engineering lowest
    assert row["partial"].startswith("PRM4 ~1 (engineering -")
    assert set(rep.dmacs["fit"]) == {"partial scalar"}
    top = rep.dmacs.sort_values("dmacs", ascending=False).iloc[0]
    assert (top["item"], top["focal"]) == ("PRM4", "engineering")
    assert top["mean_difference"] < 0  # engineering scores lower at equal competency
    act = rep.actions[rep.actions["target"] == "applied by job_family"]
    assert len(act) == 1 and "PRM4" in act["text"].iloc[0]


def test_sample_verdicts_are_cited_and_consistent(sample_report):
    rep = sample_report
    v = rep.verdicts[rep.verdicts["criterion"].isin(["invariance_metric",
                                                     "invariance_scalar"])]
    assert len(v) == 2 * 3
    assert v["citation"].str.contains("10.1177/109442810031002").all()
    assert v["citation"].str.contains("10.1016/j.dr.2016.06.004").all()
    # every tier has a metric verdict that agrees with its ladder (the ordered tiers' metric
    # step is Wu & Estabrook's thresholds + loadings)
    highest = rep.fairness.set_index("tier")["highest"]
    for r in v[v["criterion"] == "invariance_metric"].itertuples():
        assert (r.verdict == "pass") == (highest[r.tier] in ("metric", "scalar", "strict"))
    # the scalar verdict agrees with the ladder: pass only when scalar holds
    highest = rep.fairness.set_index("tier")["highest"]
    for r in v[v["criterion"] == "invariance_scalar"].itertuples():
        holds = highest[r.tier] in ("scalar", "strict")
        assert (r.verdict == "pass") == holds
        if not holds:
            lad = rep.invariance[(rep.invariance["tier"] == r.tier)
                                 & (rep.invariance["level"] == "scalar")].iloc[0]
            # fit changes within Chen's cutoffs and only the test rejects: borderline
            expected = "borderline" if lad["reason"] == "test" else "fail"
            assert r.verdict == expected
    # dMACS: not for ordered tiers
    assert set(rep.dmacs["tier"]) == {"applied"}
    assert rep.fairness.set_index("tier").loc["literacy", "note"].startswith(
        "dMACS not applicable")


def test_sample_renderings_have_the_fairness_section(sample_report):
    jsonschema = pytest.importorskip("jsonschema")
    rep = sample_report
    d = json.loads(rep.to_json())
    schema = json.loads((ROOT / "docs" / "validation_report.schema.json").read_text())
    jsonschema.validate(d, schema)
    assert d["schema"] == "psychoval.validation_report/7"
    assert [r["tier"] for r in d["fairness"]] == ["literacy", "applied", "leadership"]
    assert d["invariance"] and d["dmacs"]
    # the sample declares cut scores on concepts, prompting and governance: pass rates by job
    # family at each; engineering's prompting pass rate is below four fifths of product's
    ai = pd.DataFrame(d["adverse_impact"])
    assert set(ai["competency"]) == {"concepts", "prompting", "governance"}
    low = ai[ai["four_fifths"]]
    assert low[["competency", "group"]].values.tolist() == [["prompting", "engineering"]]
    assert "fairness" in d["methods"]
    html = rep.to_html()
    assert "Fairness</h2>" in html and "Invariance ladders" in html
    md = rep.to_markdown()
    assert "## Fairness" in md and "### Invariance ladders" in md


# -- a small continuous framework with cut scores -------------------------------------------
def _small(seed: int = 3, n: int = 600, shift: float = 0.0):
    rng = np.random.default_rng(seed)
    g = np.where(np.arange(n) % 2 == 0, "a", "b")
    eta = rng.normal(size=(n, 2)) @ np.linalg.cholesky([[1, .4], [.4, 1]]).T
    eta[g == "b"] += 0.3
    cols = {}
    for f, name in enumerate(("x", "y")):
        for j in range(4):
            v = 5 + 1.5 * eta[:, f] + rng.normal(scale=1.0, size=n)
            if name == "x" and j == 1:
                v = v + shift * (g == "b")
            cols[f"{name}{j + 1}"] = np.clip(v, 0, 10)
    df = pd.DataFrame(cols)
    df["site"] = g
    spec = {"name": "small", "group_columns": ["site"],
            "defaults": {"type": "rating", "min": 0, "max": 10},
            "tiers": [{"id": "t", "competencies": [
                {"id": "x", "cut_score": 5.0,
                 "items": [{"id": f"x{j}"} for j in range(1, 5)]},
                {"id": "y", "items": [{"id": f"y{j}"} for j in range(1, 5)]}]}]}
    return df, spec


def test_continuous_tier_with_cut_score():
    df, spec = _small(shift=1.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = pv.validate(df, spec, seed=1, n_boot=20)
    row = rep.fairness.iloc[0]
    assert row["estimator"] in ("MLR", "ML") and row["status"] == "tested"
    assert rep.invariance["level"].tolist() == ["configural", "metric", "scalar"]
    # the planted intercept shift on x2 is the largest dMACS
    assert rep.dmacs.sort_values("dmacs").iloc[-1]["item"] == "x2"
    scal = rep.verdicts[rep.verdicts["criterion"] == "invariance_scalar"].iloc[0]
    assert scal["verdict"] in ("fail", "borderline")
    assert rep.actions["target"].eq("t by site").any()
    # adverse impact at x's cut score: information (a table and maybe a note), no verdict
    ai = rep.adverse_impact
    assert ai["competency"].unique().tolist() == ["x"]
    assert sorted(ai["group"]) == ["a", "b"] and (ai["cut_score"] == 5.0).all()
    ref = ai[ai["group"] == ai["reference"]].iloc[0]
    assert ref["impact_ratio"] == pytest.approx(1.0)
    means = pv.read_framework(spec).scale_scores(pv.read_framework(spec).score(df)).means["x"]
    for r in ai.itertuples():
        sel = means[df["site"] == r.group].dropna()
        assert r.pass_rate == pytest.approx(float((sel >= 5.0).mean()), rel=1e-12)
    assert not rep.verdicts["criterion"].str.contains("adverse|four_fifths").any()


def test_invariance_that_cannot_be_fitted_does_not_stop_the_run(monkeypatch):
    import psychoval.stats as stats

    def boom(*args, **kwargs):
        raise SpecificationError("group 'b' has too few rows")

    monkeypatch.setattr(stats, "invariance", boom)
    df, spec = _small()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = pv.validate(df, spec, seed=1, n_boot=20)
    row = rep.fairness.iloc[0]
    assert row["status"] == "not estimable" and "too few rows" in row["note"]
    v = rep.verdicts[rep.verdicts["target"] == "t by site"]
    assert v["verdict"].tolist() == ["not_estimable"]
    assert len(rep.competencies) == 2  # the rest of the run is there


def test_no_group_column_no_fairness_rows():
    df, spec = _small()
    spec = {k: v for k, v in spec.items() if k != "group_columns"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = pv.validate(df.drop(columns="site"), spec, seed=1, n_boot=20)
    assert len(rep.fairness) == 0 and len(rep.invariance) == 0
    assert rep.methods["fairness"] == "no group column: not run"
    assert "No group column" in rep.to_markdown()


# -- the framework's cut_score ---------------------------------------------------------------
def test_cut_score_read_round_tripped_and_checked():
    _, spec = _small()
    fw = pv.read_framework(spec)
    assert fw.competency("x").cut_score == 5.0 and fw.competency("y").cut_score is None
    again = pv.read_framework(fw.to_dict())
    assert again == fw and again.competency("x").cut_score == 5.0
    bad = json.loads(json.dumps(spec))
    bad["tiers"][0]["competencies"][0]["cut_score"] = "high"
    with pytest.raises(SpecificationError, match="cut_score must be a number; got 'high'"):
        pv.read_framework(bad)


def test_cut_score_in_framework_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs" / "framework.schema.json").read_text())
    _, spec = _small()
    jsonschema.validate(spec, schema)
    spec["tiers"][0]["competencies"][0]["cut_score"] = "high"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(spec, schema)


def test_ladder_over_budget_is_not_fitted_and_says_so(monkeypatch):
    import psychoval.pipeline._fairness as fairness

    monkeypatch.setattr(fairness, "INVARIANCE_BUDGET", 100.0)
    df, spec = _small()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = pv.validate(df, spec, seed=1, n_boot=20)
    row = rep.fairness.iloc[0]
    assert row["status"] == "not applicable" and row["note"].startswith("not run:")
    assert "pv.invariance(fw.to_model(tier='t'), data, group='site')" in row["note"]
    assert len(rep.invariance) == 0
    v = rep.verdicts[rep.verdicts["target"] == "t by site"]
    assert (v["verdict"] == "not_applicable").all() and len(v) == 2
