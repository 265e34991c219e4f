"""The sample assessment: reproducible byte for byte, shipped in the package, and its planted
defects real (simple statistics), in both seeds and absent from the clean replicate."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.datasets import sample_framework, sample_path, sample_true_model

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
FILES = ("responses.csv", "responses_clean.csv", "responses_seed2.csv", "true_model.json",
         "framework.yaml", "framework_items.csv", "content_ratings.csv", "angoff_ratings.csv")


def _generator():
    spec = importlib.util.spec_from_file_location("make_sample", SAMPLE / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regenerates_byte_for_byte(tmp_path):
    gen = _generator()
    assert gen.main(["make_sample.py", str(tmp_path)]) == 0
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_package_copy_is_identical():
    for name in FILES:
        assert sample_path(name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_load_sample():
    for name in ("responses", "clean", "seed2"):
        table = pv.load_sample(name)
        assert table.shape == (1500, 44)
        assert table.ids.name == "respondent_id" and table.ids.is_unique
    content = pv.load_sample("content_ratings")
    assert content.shape == (41 * 8, 6) and content["relevance"].dtype.kind == "i"
    assert list(content.columns) == ["expert", "item", "relevance", "essentiality",
                                     "assignment", "comment"]
    angoff = pv.load_sample("angoff_ratings")
    assert angoff.shape == (6 * 2 * 2 * 5, 5) and angoff["rating"].between(0, 1).all()
    with pytest.raises(pv.SpecificationError, match=r"name='raw' is not one of"):
        pv.load_sample("raw")
    assert sample_framework() == pv.read_framework(SAMPLE / "framework.yaml")
    # the item map has everything but the roles (skills-gap targets)
    assert dataclasses.replace(sample_framework(), roles={}, role_column=None) == \
        pv.read_framework(SAMPLE / "framework_items.csv", name=sample_framework().name)


def test_design(scored):
    s = scored["responses"]
    fam = s.covariates["job_family"].value_counts()
    assert fam.to_dict() == {"engineering": 400, "product": 380, "operations": 370, "sales": 350}
    miss = pv.load_sample().raw.drop(columns="job_family").isna().to_numpy().mean()
    assert 0.025 < miss < 0.035
    model = sample_true_model()
    assert {d["kind"] for d in model["defects"]} == {"weak_item", "miskeyed",
                                                     "wrong_competency", "uniform_dif"}
    assert len(model["factor_correlations"]["matrix"]) == 10
    assert np.all(np.linalg.eigvalsh(np.asarray(model["factor_correlations"]["matrix"])) > 0)
    # labelled answers appear in several spellings; scoring maps them all
    raw = pv.load_sample().raw["TOO1"].dropna()
    assert {"often", "OFTEN"} & set(raw) and s.scores["TOO1"].dropna().isin([1, 2, 3, 4, 5]).all()


@pytest.fixture(scope="module")
def scored():
    fw = sample_framework()
    return {name: fw.score(pv.load_sample(name)) for name in ("responses", "seed2", "clean")}


def _r_drop(s, fw) -> pd.Series:
    """Corrected item-total correlation of each Likert item within its competency."""
    out = {}
    for comp in fw.competencies:
        x = s.scores[list(comp.item_ids)]
        for item in comp.items:
            if item.type == "likert":
                out[item.id] = x[item.id].corr(x.drop(columns=item.id).sum(axis=1))
    return pd.Series(out)


def _top_quartile_choices(s, fw) -> pd.Series:
    others = [i for i in fw.competency("concepts").item_ids if i != "CON3"]
    rest = s.scores[others].sum(axis=1)
    top = rest >= rest.quantile(0.75)
    return s.options.loc[top, "CON3"].value_counts(normalize=True)


def _dif_coefficient(s) -> tuple[float, float]:
    """OLS of PRM4 on the rest of its competency and an 'engineering' indicator: (b, t)."""
    rest = s.scores[["PRM1", "PRM2", "PRM3", "PRM5"]].mean(axis=1)
    eng = (s.covariates["job_family"] == "engineering").astype(float)
    d = pd.DataFrame({"y": s.scores["PRM4"], "rest": rest, "eng": eng}).dropna()
    X = np.column_stack([np.ones(len(d)), d["rest"], d["eng"]])
    beta, *_ = np.linalg.lstsq(X, d["y"].to_numpy(), rcond=None)
    resid = d["y"].to_numpy() - X @ beta
    sigma2 = resid @ resid / (len(d) - 3)
    se = np.sqrt(sigma2 * np.linalg.inv(X.T @ X)[2, 2])
    return float(beta[2]), float(beta[2] / se)


@pytest.mark.parametrize("name", ["responses", "seed2"])
def test_planted_defects_are_real(scored, name):
    fw = sample_framework()
    s = scored[name]
    # 1. weak item: the clearly lowest corrected item-total r among the Likert items
    r = _r_drop(s, fw).sort_values()
    assert r.index[0] == "ETH4"
    assert r.iloc[1] - r.iloc[0] > 0.1
    # 2. miskeyed item: keyed option C is chosen by >= 15% of the top quartile, and less
    #    often than the distractor B; its item-total r is negative
    top = _top_quartile_choices(s, fw)
    assert top["C"] >= 0.15 and top["B"] > top["C"]
    rest = s.scores[[i for i in fw.competency("concepts").item_ids if i != "CON3"]].sum(axis=1)
    assert s.scores["CON3"].corr(rest) < 0
    # 3. WRK3 correlates more with prompting than with its own competency
    prompting = s.scores[list(fw.competency("prompting").item_ids)].mean(axis=1)
    workflow = s.scores[["WRK1", "WRK2", "WRK4"]].mean(axis=1)
    assert s.scores["WRK3"].corr(prompting) > s.scores["WRK3"].corr(workflow) + 0.1
    # 4. DIF: engineering scores lower on PRM4 at equal rest score
    b, t = _dif_coefficient(s)
    assert b < -0.1 and t < -2.5


def test_clean_replicate_has_no_defects(scored):
    fw = sample_framework()
    s = scored["clean"]
    r = _r_drop(s, fw)
    assert r.min() > 0.4
    top = _top_quartile_choices(s, fw)
    assert top.idxmax() == "C"
    prompting = s.scores[list(fw.competency("prompting").item_ids)].mean(axis=1)
    workflow = s.scores[["WRK1", "WRK2", "WRK4"]].mean(axis=1)
    assert s.scores["WRK3"].corr(workflow) > s.scores["WRK3"].corr(prompting)
    b, t = _dif_coefficient(s)
    assert abs(t) < 2


def test_true_model_json_is_plain_json():
    model = json.loads((SAMPLE / "true_model.json").read_text())
    assert model["seeds"] == {"responses": 20261, "clean": 20262, "seed2": 20263}
    assert model["raters"]["severity"] == {"EVA4_r1": 0.3, "EVA4_r2": 0.0, "EVA4_r3": -0.4}


def test_packaged_holzinger_swineford_is_the_reference_copy():
    """The packaged HS data (for docstring examples) are byte-identical to the reference copy."""
    from pathlib import Path

    from psychoval.datasets import load_holzinger_swineford

    root = Path(__file__).parents[1]
    packaged = root / "src" / "psychoval" / "datasets" / "data" / "HolzingerSwineford1939.csv"
    reference = root / "tests" / "reference" / "data" / "HolzingerSwineford1939.csv"
    assert packaged.read_bytes() == reference.read_bytes()
    assert load_holzinger_swineford().shape == (301, 15)
