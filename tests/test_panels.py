"""The expert panels in validate and on the CLI (issue 21): the sample's planted content
defects found (WRK3 misaligned, ETH4 not relevant), the Angoff section against a direct
computation, escaping of the experts' comments, the JSON schema, a step that cannot run, and
the ``content`` / ``standard-setting`` commands."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.cli import main
from psychoval.datasets import sample_framework, sample_path
from psychoval.report import SCHEMA
from tests._reports import sample_report

CONTENT = sample_path("content_ratings.csv")
ANGOFF = sample_path("angoff_ratings.csv")


@pytest.fixture(scope="module")
def fw():
    return sample_framework()


@pytest.fixture(scope="module")
def report(fw):
    # the full-sample validate with both panels, shared with other modules
    return sample_report()


def _fails(v: pd.DataFrame) -> set[tuple[str, str]]:
    return {tuple(x) for x in v.loc[v["verdict"] == "fail", ["target", "criterion"]].values}


def test_sample_panel_planted_defects_are_found(fw):
    res = pv.content_validity(CONTENT, framework=fw)
    fails = _fails(pv.content_verdicts(res, framework=fw))
    # WRK3: 6 of 8 experts put it in prompting -> assignment agreement 2/8 < .50
    assert res.items.loc["WRK3", "assignment_agreement"] == 0.25
    assert res.items.loc["WRK3", "modal_assignment"] == "prompting"
    # ETH4: 2 of 8 rate it relevant -> I-CVI .25 < .78; 1 of 8 essential -> CVR -.75 and
    # P(X >= 1 | 8, .5) = 255/256 > .05
    assert res.items.loc["ETH4", "i_cvi"] == 0.25
    assert res.items.loc["ETH4", "cvr_pvalue"] == pytest.approx(255 / 256, rel=1e-12)
    assert fails == {("WRK3", "assignment_agreement"), ("ETH4", "i_cvi"),
                     ("ETH4", "kappa_star"), ("ETH4", "cvr"), ("ethics", "s_cvi_ave")}
    # a criterion changed by name: a stricter I-CVI fails the items 7 of 8 experts accept
    strict = _fails(pv.content_verdicts(res, criteria={"i_cvi": 0.9}))
    assert ("ETH1", "i_cvi") in strict and ("ETH1", "i_cvi") not in fails
    assert "kappa_star" not in set(pv.content_verdicts(res, criteria={"kappa_star": None})
                                   ["criterion"])


def test_sample_angoff_cut_and_se_against_a_direct_computation(fw):
    raw = pd.read_csv(ANGOFF)
    res = pv.standard_setting(raw, framework=fw, competency="concepts")
    for level in ("proficient", "advanced"):
        final = raw[(raw["round"] == 2) & (raw["level"] == level)]
        judge_cuts = final.groupby("judge")["rating"].sum()
        row = res.cuts[(res.cuts["level"] == level) & (res.cuts["round"] == 2)].iloc[0]
        assert row["cut"] == pytest.approx(judge_cuts.mean(), rel=1e-12)
        assert row["se"] == pytest.approx(judge_cuts.std(ddof=1) / np.sqrt(6), rel=1e-12)
    assert res.diagnostics.set_index("level").loc["proficient", "outlying_judges"] == "J6"


def test_validate_content_section_joins_the_framework(report):
    ci = report.content_items.set_index("item")
    assert ci.loc["WRK3", "verdict"] == "fail" and ci.loc["ETH4", "verdict"] == "fail"
    assert ci.loc["WRK3", "tier"] == "applied" and ci.loc["ETH4", "kappa_band"] == "poor"
    assert set(ci.index[ci["verdict"] == "fail"]) == {"WRK3", "ETH4"}
    items = report.items.set_index("item")
    assert "assignment_agreement" in items.loc["WRK3", "flags"]
    assert {"i_cvi", "cvr"} <= set(items.loc["ETH4", "flags"].split(", "))
    cc = report.content_competencies.set_index("competency")
    assert cc.loc["ethics", "verdict"] == "fail" and cc.loc["data", "verdict"] == "pass"
    acts = report.actions
    assert "places WRK3 in prompting" in " ".join(acts.loc[acts["target"] == "WRK3", "text"])
    v = report.verdicts[report.verdicts["criterion"] == "cvr"]
    assert v["citation"].str.contains("Ayre").all()


def test_validate_standard_setting_section(report, fw):
    cuts = report.cut_scores
    direct = pv.standard_setting(pv.load_sample("angoff_ratings"), framework=fw,
                                 competency="concepts")
    final = cuts[cuts["round"] == 2].set_index("level")
    for level, cut in direct.cut_scores.items():
        assert final.loc[level, "cut"] == pytest.approx(cut, rel=1e-12)
    assert final.loc["proficient", "outlying_judges"] == "J6"
    assert final.loc["proficient", "change"] == pytest.approx(
        direct.rounds.set_index("level").loc["proficient", "change"], rel=1e-12)
    # impact: share of complete-case respondents whose concepts sum reaches the cut
    scores = report.results["scored"].scores[[f"CON{k}" for k in range(1, 6)]]
    total = scores.dropna().sum(axis=1)
    imp = report.impact
    everyone = imp[(imp["level"] == "proficient") & (imp["group"] == "all")].iloc[0]
    assert everyone["n"] == len(total)
    assert everyone["share_at_or_above"] == pytest.approx(
        float((total >= final.loc["proficient", "cut"]).mean()), rel=1e-12)
    groups = imp[(imp["level"] == "proficient") & (imp["group"] != "all")]
    assert set(groups["group_column"]) == {"job_family"} and groups["n"].sum() == len(total)


def test_validate_renderings_escape_comments_and_follow_the_schema(report):
    html = report.to_html()
    assert "Content validity</h2>" in html and "Standard setting</h2>" in html
    assert "Wording &lt;unclear&gt; &amp; the options overlap." in html
    assert "<unclear>" not in html
    md = report.to_markdown()
    assert "## Content validity" in md and "## Standard setting" in md
    assert "Wording \\<unclear\\> \\& the options overlap." in md
    doc = report.to_dict()
    jsonschema.validate(doc, SCHEMA)
    assert doc["schema"] == "psychoval.validation_report/7"
    assert {r["item"] for r in doc["content_items"] if r["verdict"] == "fail"} == {"WRK3",
                                                                                    "ETH4"}


def test_validate_a_panel_step_that_cannot_run_says_why(tmp_path):
    fw = sample_framework()
    # the content panel named by the framework (its panels), the Angoff one as an argument
    literacy = dataclasses.replace(fw, tiers=fw.tiers[:1], roles={}, role_column=None,
                                   panels={"content_ratings": str(tmp_path / "missing.csv")})
    bad = pv.load_sample("angoff_ratings")
    bad = bad[bad["item"] != "CON5"]             # not the items of one competency or tier
    rep = pv.validate(pv.load_sample(), literacy, seed=1, n_boot=20, angoff_ratings=bad)
    assert rep.content_items.empty and rep.cut_scores.empty
    assert "no such file" in rep.methods["content_validity"]
    assert "not the items of one competency or tier" in rep.methods["standard_setting"]
    assert any("standard setting not computed" in n for n in rep.notes)
    assert "not the items of one competency" in rep.to_html()
    assert len(rep.competencies) == 3   # the run went on


def test_cli_content(tmp_path, capsys):
    fwp = sample_path("framework.yaml")
    out = tmp_path / "o"
    rc = main(["content", str(CONTENT), "--framework", str(fwp), "--json",
               str(out / "c.json"), "--md", str(out / "c.md")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "WRK3: fail" in text and "ETH4: fail" in text
    doc = json.loads((out / "c.json").read_text())
    assert doc["content_validity"]["schema"] == "psychoval.content_validity/2"
    assert {(v["target"], v["criterion"]) for v in doc["verdicts"]
            if v["verdict"] == "fail"} >= {("WRK3", "assignment_agreement"), ("ETH4", "cvr")}
    md = (out / "c.md").read_text()
    assert "\\<unclear\\>" in md and "<unclear>" not in md
    assert main(["content", str(CONTENT), "--framework", str(fwp), "--strict"]) == 1
    assert main(["content", str(tmp_path / "none.csv"), "--framework", str(fwp)]) == 3


def test_cli_standard_setting_writes_the_cut_into_the_framework(tmp_path, capsys):
    fwp = sample_path("framework.yaml")
    out = tmp_path / "fw.yaml"
    rc = main(["standard-setting", str(ANGOFF), "--framework", str(fwp), "--level",
               "proficient", "--write-framework", str(out), "--json",
               str(tmp_path / "s.json")])
    assert rc == 0
    assert "Cut (proficient)" in capsys.readouterr().out
    new = pv.read_framework(out)
    raw = pd.read_csv(ANGOFF)
    final = raw[(raw["round"] == 2) & (raw["level"] == "proficient")]
    assert new.competency("concepts").cut_score == pytest.approx(
        final.groupby("judge")["rating"].sum().mean() / 5, rel=1e-12)
    assert dataclasses.replace(new, tiers=sample_framework().tiers) == sample_framework()
    # two levels and no --level: which cut to write is a specification error (3)
    assert main(["standard-setting", str(ANGOFF), "--framework", str(fwp),
                 "--write-framework", str(out)]) == 3
    assert main(["standard-setting", str(ANGOFF), "--write-framework", str(out)]) == 3
    assert main(["standard-setting", str(ANGOFF), "--method", "nedelsky"]) == 2


def test_cli_validate_passes_the_panels_on(monkeypatch, tmp_path):
    seen = {}

    class Stop(pv.SpecificationError):
        pass

    def fake(responses, framework, **kw):
        seen.update(kw)
        raise Stop("stop here")

    monkeypatch.setattr(pv, "validate", fake)
    rc = main(["validate", str(sample_path("responses.csv")), "--framework",
               str(sample_path("framework.yaml")), "--content-ratings", str(CONTENT),
               "--angoff-ratings", str(ANGOFF), "--quiet"])
    assert rc == 3
    assert seen["content_ratings"] == str(CONTENT) and seen["angoff_ratings"] == str(ANGOFF)


def test_cli_standard_setting_bookmark(tmp_path, capsys):
    """--method bookmark: the 2PL of the target's items orders the booklet; the cut is the
    mean of the RP locations on the judges' pages, the impact is on the summed score."""
    marks = tmp_path / "bookmarks.csv"
    marks.write_text("judge,page\nJ1,2\nJ2,3\nJ3,3\nJ4,2\n")
    out = tmp_path / "b.json"
    rc = main(["standard-setting", str(marks), "--method", "bookmark", "--framework",
               str(sample_path("framework.yaml")), "--competency", "concepts",
               "--responses", str(sample_path("responses.csv")), "--json", str(out)])
    assert rc == 0 and "Bookmark (RP = 0.67)" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    booklet = pd.DataFrame(doc["items"]["data"], columns=doc["items"]["columns"])
    theta = booklet.set_index("page")["rp_theta"]
    assert booklet["rp_theta"].is_monotonic_increasing and len(booklet) == 5
    cut = dict(zip(doc["cuts"]["columns"], doc["cuts"]["data"][0], strict=True))
    assert cut["cut"] == pytest.approx(np.mean([theta[2], theta[3], theta[3], theta[2]]),
                                       rel=1e-12)
    impact = pd.DataFrame(doc["impact"]["data"], columns=doc["impact"]["columns"])
    assert impact["cut"].iloc[0] == pytest.approx(cut["raw_cut"], rel=1e-12)
    assert main(["standard-setting", str(marks), "--method", "bookmark"]) == 3


def test_framework_file_names_its_panels_relative_to_itself(tmp_path):
    import shutil

    import yaml

    spec = sample_framework().to_dict()
    spec["panels"] = {"content_ratings": "panels/content.csv",
                      "angoff_ratings": str(tmp_path / "angoff.csv")}
    (tmp_path / "panels").mkdir()
    shutil.copy(CONTENT, tmp_path / "panels" / "content.csv")
    path = tmp_path / "fw.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    fw = pv.read_framework(path)
    assert fw.panels == {"content_ratings": str(tmp_path / "panels" / "content.csv"),
                         "angoff_ratings": str(tmp_path / "angoff.csv")}
    assert pv.read_framework(fw.to_dict()) == fw and hash(pv.read_framework(fw)) == hash(fw)
    assert dataclasses.replace(fw, panels={}) == sample_framework()
    jsonschema.validate(spec, json.loads(
        (Path(__file__).parents[1] / "docs" / "framework.schema.json").read_text()))
    for panels, message in (({"bookmarks": "b.csv"}, "unknown key"),
                            ({"angoff_ratings": 3}, "must be a file path"),
                            (["content.csv"], "panels must be a mapping")):
        with pytest.raises(pv.SpecificationError, match=message):
            pv.read_framework({**spec, "panels": panels})
