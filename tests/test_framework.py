"""Competency frameworks: reading (YAML, JSON, dict, item map), the schema, errors, to_model."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError, SpecificationWarning
from psychoval.framework import Framework

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SCHEMA = ROOT / "docs" / "framework.schema.json"


@pytest.fixture(scope="module")
def fw() -> Framework:
    return pv.read_framework(SAMPLE / "framework.yaml")


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load((SAMPLE / "framework.yaml").read_text(encoding="utf-8"))


def small(**item_overrides) -> dict:
    """A valid 1-tier, 1-competency, 3-item framework; overrides apply to item q1."""
    items = [{"id": f"q{j}", "type": "likert", "min": 1, "max": 5} for j in (1, 2, 3)]
    items[0].update(item_overrides)
    return {"tiers": [{"id": "t", "competencies": [{"id": "c", "items": items}]}]}


# -- the four forms ------------------------------------------------------------------------


def test_sample_framework_structure(fw):
    assert [t.id for t in fw.tiers] == ["literacy", "applied", "leadership"]
    assert len(fw.competencies) == 10
    assert len(fw.items) == 41
    assert all(3 <= len(c.items) <= 6 for c in fw.competencies)
    assert fw.id_column == "respondent_id"
    assert fw.group_columns == ("job_family",)
    con3 = fw.item("CON3")
    assert (con3.type, con3.options, con3.answer_key) == ("multiple_choice",
                                                          ("A", "B", "C", "D"), "C")
    eva4 = fw.item("EVA4")
    assert eva4.raters == ("EVA4_r1", "EVA4_r2", "EVA4_r3") and eva4.combine == "mean"
    too1 = fw.item("TOO1")
    assert too1.categories[0] == "Never" and (too1.min, too1.max) == (1.0, 5.0)
    assert [i.id for i in fw.items if i.reverse] == ["DAT3", "ETH2", "WRK2", "CHG3"]
    assert repr(fw) == ("<Framework 'AI competency assessment (sample)': 3 tiers, "
                        "10 competencies, 41 items>")


def test_four_forms_load_to_equal_frameworks(fw, spec, tmp_path):
    as_dict = pv.read_framework(spec)
    path_json = tmp_path / "framework.json"
    path_json.write_text(json.dumps(spec), encoding="utf-8")
    as_json = pv.read_framework(path_json)
    as_csv = pv.read_framework(SAMPLE / "framework_items.csv", name=fw.name)
    table = pd.read_csv(SAMPLE / "framework_items.csv", dtype=str, keep_default_na=False)
    path_xlsx = tmp_path / "framework.xlsx"
    table.to_excel(path_xlsx, index=False)
    as_xlsx = pv.read_framework(path_xlsx, name=fw.name)
    as_frame = pv.read_framework(table, name=fw.name)
    for other in (as_dict, as_json):
        assert other == fw
        assert hash(other) == hash(fw)
    # an item map has no place for the roles (skills-gap targets): equal but for them
    no_roles = dataclasses.replace(fw, roles={}, role_column=None)
    for other in (as_csv, as_xlsx, as_frame):
        assert other == no_roles
        assert hash(other) == hash(no_roles)
    # a difference is seen
    changed = copy.deepcopy(spec)
    changed["tiers"][0]["competencies"][1]["items"][0]["reverse"] = True
    assert pv.read_framework(changed) != fw


def test_round_trips(fw):
    assert pv.read_framework(fw.to_dict()) == fw
    assert pv.read_framework(fw) == fw
    frame = fw.to_frame()
    assert list(frame["item"]) == ["respondent_id", "job_family", *fw.item_ids]
    assert pv.read_framework(frame, name=fw.name) == dataclasses.replace(fw, roles={},
                                                                        role_column=None)


def test_defaults_and_criteria():
    spec = {
        "name": "x", "criteria": {"alpha_min": 0.8},
        "defaults": {"type": "likert", "min": 1, "max": 7},
        "tiers": [{"id": "t", "competencies": [{
            "id": "c", "criteria": {"omega_min": 0.75, "note": "pilot"},
            "items": [{"id": "a"}, {"id": "b", "reverse": True}, {"id": "d", "max": 5}]}]}],
    }
    fw = pv.read_framework(spec)
    assert fw.criteria == {"alpha_min": 0.8}
    assert fw.competency("c").criteria == {"omega_min": 0.75, "note": "pilot"}
    assert [(i.min, i.max, i.reverse) for i in fw.items] == [
        (1.0, 7.0, False), (1.0, 7.0, True), (1.0, 5.0, False)]
    assert pv.read_framework(fw.to_dict()) == fw


def test_dichotomous_defaults_to_zero_one():
    fw = pv.read_framework(small(type="dichotomous", min=None, max=None))
    assert (fw.item("q1").min, fw.item("q1").max) == (0.0, 1.0)


# -- the schema ------------------------------------------------------------------------------

MALFORMED = [
    ("no tiers", lambda s: s.pop("tiers")),
    ("unknown top-level key", lambda s: s.update(tires=[])),
    ("unknown item key", lambda s: s["tiers"][0]["competencies"][0]["items"][0].update(revers=True)),
    ("item without id", lambda s: s["tiers"][0]["competencies"][0]["items"][0].pop("id")),
    ("unknown type", lambda s: s["tiers"][0]["competencies"][0]["items"][0].update(type="slider")),
    ("empty tiers", lambda s: s.update(tiers=[])),
    ("reverse not boolean", lambda s: s["tiers"][0]["competencies"][0]["items"][0].update(reverse="yes")),
    ("competency without items", lambda s: s["tiers"][0]["competencies"][0].pop("items")),
    ("weight other than 1", lambda s: s["tiers"][0]["competencies"][0]["items"][0].update(weight=2)),
    ("answer key on a likert item", lambda s: s["tiers"][0]["competencies"][0]["items"][0].update(answer_key="A")),
]


@pytest.mark.parametrize("what, damage", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_schema_and_reader_reject_malformed(what, damage):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    good = small()
    jsonschema.validate(good, schema)
    bad = copy.deepcopy(good)
    damage(bad)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(SpecificationError):
        pv.read_framework(bad)


def test_schema_accepts_sample_and_is_valid(spec):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(spec, schema)
    jsonschema.validate(pv.read_framework(spec).to_dict(), schema)


def test_schema_rejects_malformed_file(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    path = tmp_path / "bad.yaml"
    path.write_text("tiers:\n  - id: t\n    competencies:\n      - id: c\n        items:\n"
                    "          - id: q1\n            type: multiple_choice\n"
                    "            options: [A, B]\n", encoding="utf-8")
    with pytest.raises(jsonschema.ValidationError, match="answer_key"):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    with pytest.raises(SpecificationError, match="item 'q1': a multiple_choice item needs an answer_key"):
        pv.read_framework(path)


# -- errors and warnings, with their messages -------------------------------------------------


def test_duplicate_item_id():
    spec = small()
    spec["tiers"][0]["competencies"][0]["items"][2]["id"] = "q1"
    with pytest.raises(SpecificationError, match=r"duplicate id 'q1': used for an item and for an item"):
        pv.read_framework(spec)


def test_duplicate_id_across_levels():
    spec = small()
    spec["tiers"][0]["competencies"][0]["id"] = "t"
    with pytest.raises(SpecificationError, match=r"duplicate id 't': used for a competency and for a tier"):
        pv.read_framework(spec)


def test_unknown_type_names_item():
    with pytest.raises(SpecificationError,
                       match=r"item 'q1': unknown type 'slider'; use one of likert, dichotomous, "
                             r"multiple_choice, rating"):
        pv.read_framework(small(type="slider"))


def test_answer_key_outside_options():
    with pytest.raises(SpecificationError,
                       match=r"item 'q1': answer_key 'E' is not one of its options A, B, C, D"):
        pv.read_framework(small(type="multiple_choice", min=None, max=None,
                                options=["A", "B", "C", "D"], answer_key="E"))


def test_answer_key_matches_case_insensitively():
    fw = pv.read_framework(small(type="multiple_choice", min=None, max=None,
                                 options=["A", "B", "C"], answer_key=" b "))
    assert fw.item("q1").answer_key == "B"


def test_min_not_below_max():
    with pytest.raises(SpecificationError, match=r"item 'q1': min 5 must be below max 5"):
        pv.read_framework(small(min=5, max=5))
    with pytest.raises(SpecificationError, match=r"item 'q1': min 6 must be below max 5"):
        pv.read_framework(small(min=6))


def test_weight_other_than_one():
    with pytest.raises(SpecificationError,
                       match=r"item 'q1': weight 2 is not supported: psychoval scores unweighted"):
        pv.read_framework(small(weight=2))
    assert pv.read_framework(small(weight=1)).item("q1").weight == 1.0


def test_range_required():
    with pytest.raises(SpecificationError,
                       match=r"item 'q1': a likert item needs its response range"):
        pv.read_framework(small(min=None, max=None))


def test_categories_must_agree_with_range():
    with pytest.raises(SpecificationError,
                       match=r"item 'q1': 3 categories from min 1 end at 3, but max is 5"):
        pv.read_framework(small(categories=["lo", "mid", "hi"]))


def test_other_item_rules():
    with pytest.raises(SpecificationError, match="cannot be reverse-keyed"):
        pv.read_framework(small(type="multiple_choice", min=None, max=None, options=["A", "B"],
                                answer_key="A", reverse=True))
    with pytest.raises(SpecificationError, match="applies only to multiple_choice items"):
        pv.read_framework(small(answer_key="A"))
    with pytest.raises(SpecificationError, match="raters apply only to rating items"):
        pv.read_framework(small(raters=["r1", "r2"]))
    with pytest.raises(SpecificationError, match=r"combine='mode' is not one of mean, median"):
        pv.read_framework(small(type="rating", raters=["r1"], combine="mode"))
    with pytest.raises(SpecificationError, match=r"item 'q1': unknown key\(s\) 'revers'"):
        pv.read_framework(small(revers=True))
    with pytest.raises(SpecificationError, match=r"a dichotomous item has two values"):
        pv.read_framework(small(type="dichotomous", min=0, max=2))


def test_rater_column_may_not_reuse_an_item_id():
    with pytest.raises(SpecificationError, match=r"duplicate id 'q2': used for an item and for a rater column of item 'q1'"):
        pv.read_framework(small(type="rating", raters=["q2", "r2"]))


def test_small_competency_warns():
    spec = small()
    spec["tiers"][0]["competencies"][0]["items"] = spec["tiers"][0]["competencies"][0]["items"][:2]
    with pytest.warns(SpecificationWarning,
                      match=r"competency 'c' has 2 item\(s\) \(q1, q2\); a one-factor CFA needs "
                            r"at least 3"):
        fw = pv.read_framework(spec)
    assert len(fw.items) == 2


def test_files_errors(tmp_path):
    with pytest.raises(SpecificationError, match="no such framework file"):
        pv.read_framework(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tiers: [\n", encoding="utf-8")
    with pytest.raises(SpecificationError, match=r"bad.yaml: not valid YAML at line"):
        pv.read_framework(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(SpecificationError,
                       match=r"empty.yaml: the file must hold a mapping with a 'tiers' key; "
                             r"found nothing$"):
        pv.read_framework(empty)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{\"tiers\": ", encoding="utf-8")
    with pytest.raises(SpecificationError, match=r"bad.json: not valid JSON"):
        pv.read_framework(bad_json)
    with pytest.raises(SpecificationError, match=r"unknown framework file type '.txt2'"):
        pv.read_framework(tmp_path / "x.txt2") if (tmp_path / "x.txt2").write_text("a") else None
    with pytest.raises(SpecificationError, match="cannot read a framework from a int"):
        pv.read_framework(3)


def test_item_map_errors():
    base = pd.DataFrame({"item": ["a", "b", "c"], "competency": ["c1"] * 3,
                         "tier": ["t"] * 3, "type": ["likert"] * 3, "min": [1] * 3,
                         "max": [5] * 3})
    assert len(pv.read_framework(base).items) == 3
    with pytest.raises(SpecificationError, match=r"unknown column\(s\) 'revrese'"):
        pv.read_framework(base.assign(revrese="true"))
    with pytest.raises(SpecificationError, match=r"required column\(s\) 'tier' missing"):
        pv.read_framework(base.drop(columns="tier"))
    two = base.copy()
    two.loc[2, "tier"] = "u"
    with pytest.raises(SpecificationError,
                       match=r"line 4 \(item 'c'\): competency 'c1' is listed under tier 'u' "
                             r"and under tier 't'"):
        pv.read_framework(two)
    with pytest.raises(SpecificationError, match=r"line 2 \(item 'a'\): min must be a number; got 'one'"):
        pv.read_framework(base.astype(object).assign(min=["one", 1, 1]))
    with pytest.raises(SpecificationError, match=r"line 3 \(item 'b'\): reverse must be true or false"):
        pv.read_framework(base.assign(reverse=["no", "maybe", "yes"]))


def test_item_map_cut_score_is_the_competencys():
    base = pd.DataFrame({"item": list("abcdef"), "competency": ["c1"] * 3 + ["c2"] * 3,
                         "tier": ["t"] * 6, "type": ["likert"] * 6, "min": [1] * 6,
                         "max": [5] * 6})
    once = pv.read_framework(base.assign(cut_score=["", 3.5, "", "", "", ""]))
    every = pv.read_framework(base.assign(cut_score=[3.5, 3.5, 3.5, None, None, None]))
    for fw_ in (once, every):
        cuts = {c.id: c.cut_score for c in fw_.competencies}
        assert cuts == {"c1": 3.5, "c2": None}
    with pytest.raises(SpecificationError, match=r"line 3 \(item 'b'\): cut_score '4' differs "
                                                 r"from 3.5 .* competency 'c1'"):
        pv.read_framework(base.assign(cut_score=["3.5", "4", "", "", "", ""]))
    with pytest.raises(SpecificationError, match="cut_score must be a number"):
        pv.read_framework(base.assign(cut_score=["high", "", "", "", "", ""]))
    tiered = pv.read_framework(base.assign(tier_cut_score=["", "", "", "", "3", ""]))
    assert tiered.tier("t").cut_score == 3.0
    assert pv.read_framework(tiered.to_dict()) == tiered
    assert pv.read_framework(tiered.to_frame()) == tiered
    with pytest.raises(SpecificationError, match="tier_cut_score '2' differs from 3 .* tier"):
        pv.read_framework(base.assign(tier_cut_score=["3", "2", "", "", "", ""]))


def test_items_absent_from_data_raise_and_extra_columns_warn(fw):
    df = pd.DataFrame({"q1": [1, 2], "q2": [2, 3], "q3": [3, 4], "extra": [1, 1]})
    small_fw = pv.read_framework(small())
    with pytest.raises(DataError, match=r"framework item column\(s\) 'q3' not in the data"):
        small_fw.score(df.drop(columns="q3"))
    with pytest.warns(SpecificationWarning,
                      match=r"data column\(s\) 'extra' are not in the framework and are ignored"):
        small_fw.score(df)


# -- to_model ---------------------------------------------------------------------------------


def test_to_model_all_competencies(fw):
    model = fw.to_model()
    lines = model.splitlines()
    assert len(lines) == 10
    assert lines[0] == "concepts =~ CON1 + CON2 + CON3 + CON4 + CON5"
    assert "evaluation =~ EVA1 + EVA2 + EVA3 + EVA4" in lines


def test_to_model_tier_and_competency(fw):
    assert fw.to_model(competency="governance") == "governance =~ GOV1 + GOV2 + GOV3"
    corr = fw.to_model(tier="leadership")
    assert corr == ("strategy =~ STR1 + STR2 + STR3 + STR4\n"
                    "change =~ CHG1 + CHG2 + CHG3 + CHG4\n"
                    "governance =~ GOV1 + GOV2 + GOV3")
    second = fw.to_model(tier="leadership", structure="second_order")
    assert second == corr + "\nleadership =~ strategy + change + governance"
    full = fw.to_model(structure="second_order").splitlines()
    assert full[-3:] == ["literacy =~ concepts + data + ethics",
                         "applied =~ prompting + tools + evaluation + workflow",
                         "leadership =~ strategy + change + governance"]


def test_to_model_errors(fw):
    with pytest.raises(SpecificationError, match=r"tier 'nope' is not in the framework"):
        fw.to_model(tier="nope")
    with pytest.raises(SpecificationError, match=r"competency 'nope' is not in the framework"):
        fw.to_model(competency="nope")
    with pytest.raises(SpecificationError, match=r"structure='bifactor' is not one of"):
        fw.to_model(structure="bifactor")
    with pytest.raises(SpecificationError, match="do not combine it with tier="):
        fw.to_model(competency="change", tier="leadership")
    two = small()
    two["tiers"][0]["competencies"].append(
        {"id": "c2", "items": [{"id": f"z{j}", "type": "likert", "min": 1, "max": 5}
                               for j in range(3)]})
    with pytest.raises(SpecificationError,
                       match=r"tier 't' has 2 competencies; a second-order factor needs at least 3"):
        pv.read_framework(two).to_model(structure="second_order")


def test_roles_are_skills_gap_targets():
    base = {"group_columns": ["family"], "tiers": [{"id": "t", "competencies": [
        {"id": c, "items": [{"id": f"{c}{j}", "type": "likert", "min": 1, "max": 5}
                            for j in range(3)]} for c in ("a", "b")]}]}
    fw = pv.read_framework({**base, "roles": {"eng": {"a": 3.5}, "ops": {"a": 3, "b": 2.5}}})
    assert fw.role_column == "family" and fw.roles["ops"] == {"a": 3.0, "b": 2.5}
    assert pv.read_framework(fw.to_dict()) == fw
    with pytest.raises(SpecificationError, match="'c' is not a competency"):
        pv.read_framework({**base, "roles": {"eng": {"c": 3}}})
    with pytest.raises(SpecificationError, match="role_column 'team' is not one of the group"):
        pv.read_framework({**base, "role_column": "team", "roles": {"eng": {"a": 3}}})
    with pytest.raises(SpecificationError, match="declare it in group_columns"):
        pv.read_framework({"tiers": base["tiers"], "roles": {"eng": {"a": 3}}})
    with pytest.raises(SpecificationError, match="must be a number"):
        pv.read_framework({**base, "roles": {"eng": {"a": "high"}}})
