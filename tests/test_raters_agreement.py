"""agreement_table: one row per rated item, equal to the single statistics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError
from tests.reference._refs import load_data


@pytest.fixture(scope="module")
def two_items() -> pd.DataFrame:
    df = load_data("rubric_ratings")
    out = df[["candidate"]].copy()
    out[["pres_r1", "pres_r2", "pres_r3"]] = df[["rater1", "rater2", "rater3"]].to_numpy()
    out[["team_r1", "team_r2"]] = df[["rater2", "rater4"]].to_numpy()
    out.loc[5, "team_r2"] = np.nan
    return out


def test_rows_equal_the_single_statistics(two_items):
    raters = {"presenting": ["pres_r1", "pres_r2", "pres_r3"], "teamwork": ["team_r1", "team_r2"]}
    tab = pv.agreement_table(two_items, raters=raters, targets="candidate", scale=(1, 4),
                             n_boot=200, seed=7)
    t = tab.table
    assert list(t.index) == ["presenting", "teamwork"]
    pres = pv.icc(two_items, targets="candidate", raters=raters["presenting"])
    assert t.loc["presenting", "icc2"] == pres["ICC2"]
    assert t.loc["presenting", "icc_method"] == "anova"
    assert t.loc["teamwork", "icc_method"] == "reml" and t.loc["teamwork", "n_missing"] == 1
    kp = pv.pairwise_kappa(two_items, raters=raters["presenting"], scale=(1, 4))
    assert t.loc["presenting", "weighted_kappa_mean"] == kp.av_weighted
    fk = pv.fleiss_kappa(two_items, raters=raters["presenting"], scale=(1, 4))
    assert t.loc["presenting", "fleiss_kappa"] == fk.kappa
    assert np.isnan(t.loc["teamwork", "fleiss_kappa"])  # unequal numbers of ratings
    ka = pv.krippendorff_alpha(two_items, raters=raters["teamwork"], level="interval",
                               n_boot=200, seed=7)
    assert (t.loc["teamwork", "alpha_lower"], t.loc["teamwork", "alpha_upper"]) == (
        ka.lower, ka.upper)
    assert set(tab.icc) == set(raters) and set(tab.fleiss) == {"presenting"}
    assert "Rater agreement by item" in str(tab.summary())
    assert tab.to_frame().columns[0] == "item"
    json.dumps(tab.to_dict())


def test_errors_name_the_item(two_items):
    with pytest.raises(SpecificationError, match=r"raters= must map each rated item"):
        pv.agreement_table(two_items, raters=["pres_r1", "pres_r2"])
    with pytest.raises(SpecificationError, match=r"item 'teamwork': raters= needs a list of "
                                                 r"at least two rater columns"):
        pv.agreement_table(two_items, raters={"teamwork": ["team_r1"]})
    with pytest.raises(DataError, match=r"item 'teamwork': .*'team_r9'"):
        pv.agreement_table(two_items, raters={"teamwork": ["team_r1", "team_r9"]})
    with pytest.raises(DataError, match=r"rater 'pres_r2' gave 3 to candidate 'C01' \(row 1\), "
                                        r"outside the rubric's scale 0 to 2"):
        pv.agreement_table(two_items, targets="candidate",
                           raters={"presenting": ["pres_r1", "pres_r2"]},
                           scale={"presenting": (0, 2)})


def test_agreement_table_from_the_framework():
    """framework= finds the rated items, their rater columns and rubric range, decodes labels."""
    from psychoval.datasets import sample_framework

    fw = sample_framework()
    raw = pv.load_sample()
    tab = pv.agreement_table(raw, framework=fw)
    assert tab.table.index.tolist() == ["EVA4"]
    cols = ["EVA4_r1", "EVA4_r2", "EVA4_r3"]
    ratings = fw.score(raw).ratings
    direct = pv.icc(ratings, raters=cols, scale=(1, 4))
    assert tab.table.loc["EVA4", "icc2"] == pytest.approx(direct.results.loc["ICC2", "icc"],
                                                           rel=1e-12)
    with pytest.raises(pv.SpecificationError, match="give framework= or raters=, not both"):
        pv.agreement_table(raw, framework=fw, raters={"EVA4": cols})
