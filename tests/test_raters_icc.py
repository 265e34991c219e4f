"""pv.icc: extra R references (psych::ICC lmer=TRUE with missing ratings, tight lme4 REML),
REML = ANOVA on complete data, layouts, invariances, errors and the result face."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.raters._icc import _anova_ms
from tests._tolerances import assert_close
from tests.reference._refs import load_data
from tests.reference.checkers.raters import assert_icc_values

EXTRA = Path(__file__).parent / "reference" / "ref_extra" / "raters_extra.json"


def extra(check_id: str) -> dict:
    with open(EXTRA, encoding="utf-8") as fh:
        return {c["id"]: c for c in json.load(fh)["checks"]}[check_id]


def frame_of(check: dict) -> pd.DataFrame:
    """The data of an extra check (rubric_ratings' four raters unless ``columns`` says)."""
    rows = [[np.nan if v is None else v for v in row] for row in check["options"]["data"]]
    cols = check["options"].get("columns", ["rater1", "rater2", "rater3", "rater4"])
    return pd.DataFrame(rows, columns=cols, dtype=float)


@pytest.fixture(scope="module")
def rubric() -> pd.DataFrame:
    return load_data("rubric_ratings")


@pytest.mark.parametrize("cid", ["ICC.lmer.missing", "ICC.lmer.unbalanced",
                                 "ICC.lmer.missing.alpha10", "ICC.lmer.rated_once"])
def test_icc_reml_matches_psych_lmer_with_missing_ratings(cid):
    check = extra(cid)
    res = pv.icc(frame_of(check), confidence_level=1 - check["options"]["alpha"])
    assert res.method == "reml" and res.converged
    # psych runs lme4 with default tolerances: its stopping error sets the tolerance here;
    # the accuracy check is test_reml_matches_tightly_converged_lme4
    assert_icc_values(res, check["values"], reml=True, what=cid, unit="reml_lme4")
    lme = check["values"]["lme"]["variance"]
    comps = res.variance_components
    assert_close([comps["target"], comps["rater"], comps["residual"]],
                 [lme["ID"], lme["Items"], lme["Residual"]], "reml_lme4", what=f"{cid} lme")


@pytest.mark.parametrize("cid", ["reml.tight.missing", "reml.tight.unbalanced",
                                 "reml.tight.rated_once"])
def test_reml_matches_tightly_converged_lme4(cid):
    check = extra(cid)
    res = pv.icc(frame_of(check), method="reml")
    v = check["values"]
    comps = res.variance_components
    # both optimizers converged tightly: much closer than lme4's defaults (~3e-6 relative)
    np.testing.assert_allclose([comps["target"], comps["rater"], comps["residual"]],
                               [v["target"], v["rater"], v["residual"]], rtol=1e-6, atol=1e-9)
    assert_close(res.reml_deviance, v["REMLcrit"], "iterative", what=f"{cid} REMLcrit")
    assert res.n_ratings == v["n_obs"]


def test_reml_equals_anova_on_the_complete_rubric(rubric):
    cols = ["rater1", "rater2", "rater3", "rater4"]
    a = pv.icc(rubric, targets="candidate", raters=cols, method="anova")
    r = pv.icc(rubric, targets="candidate", raters=cols, method="reml")
    for key in ("target", "rater", "residual"):
        assert r.variance_components[key] == pytest.approx(a.variance_components[key],
                                                           rel=1e-7)
    np.testing.assert_allclose(r.results["icc"], a.results["icc"], rtol=0, atol=1e-8)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(8, 40), k=st.integers(2, 6))
def test_reml_equals_anova_when_the_anova_components_are_positive(seed, n, k):
    rng = np.random.default_rng(seed)
    y = (rng.normal(0, 1.0, (n, 1)) + rng.normal(0, 0.7, (1, k))
         + rng.normal(0, 0.5, (n, k)))
    ms = _anova_ms(y)
    comps = ((ms["msb"] - ms["mse"]) / k, (ms["msj"] - ms["mse"]) / n, ms["mse"])
    if min(comps) < 1e-3:  # REML is bounded at 0; ANOVA is not
        return
    res = pv.icc(y, method="reml")
    got = res.variance_components
    np.testing.assert_allclose([got["target"], got["rater"], got["residual"]], comps,
                               rtol=1e-6, atol=1e-9)


def test_a_failed_reml_fit_is_returned_flagged(rubric, monkeypatch):
    from psychoval.exceptions import ConvergenceWarning
    from psychoval.stats.raters import _icc
    real = _icc._CrossedREML.fit
    monkeypatch.setattr(_icc._CrossedREML, "fit",
                        lambda self: (*real(self)[:1], False, real(self)[2]))
    with pytest.warns(ConvergenceWarning, match=r"did not converge; the ICCs are rough"):
        res = pv.icc(rubric, targets="candidate", method="reml")
    assert res.converged is False
    assert "did not converge" in str(res.summary())


def test_reml_at_the_bound_pools_the_rater_term_into_error():
    """Raters with identical means: the REML rater variance sits at its bound 0 and, for a
    balanced design, REML pools the rater sum of squares into the error term."""
    rng = np.random.default_rng(4)
    n, k = 30, 4
    y = rng.normal(0, 1, (n, 1)) + rng.normal(0, 0.6, (n, k))
    y -= y.mean(axis=0) - y.mean()          # equal rater means: SS_raters = 0
    ms = _anova_ms(y)
    s2e = (ms["ssj"] + ms["sse"]) / ((k - 1) + (n - 1) * (k - 1))
    s2a = (ms["msb"] - s2e) / k
    res = pv.icc(y, method="reml")
    assert res.converged
    got = res.variance_components
    assert got["rater"] == 0.0
    np.testing.assert_allclose([got["target"], got["residual"]], [s2a, s2e], rtol=1e-7)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_intervals_contain_the_estimates_and_order_does_not_matter(seed):
    rng = np.random.default_rng(seed)
    n, k = 20, 4
    y = rng.normal(0, 1, (n, 1)) + rng.normal(0, 0.3, (1, k)) + rng.normal(0, 0.8, (n, k))
    res = pv.icc(y)
    t = res.results
    assert ((t["lower"] <= t["icc"]) & (t["icc"] <= t["upper"])).all()
    perm = pv.icc(y[rng.permutation(n)][:, rng.permutation(k)])
    np.testing.assert_allclose(perm.results["icc"], t["icc"], rtol=1e-12, atol=1e-13)


def test_long_layout_equals_wide(rubric):
    cols = ["rater1", "rater2", "rater3", "rater4"]
    long = rubric.melt(id_vars="candidate", value_vars=cols, var_name="assessor",
                       value_name="score").sample(frac=1.0, random_state=3)
    wide = pv.icc(rubric, targets="candidate", raters=cols)
    got = pv.icc(long, layout="long", targets="candidate", raters="assessor", scores="score")
    assert set(got.raters) == set(cols) and set(got.targets) == set(rubric["candidate"])
    np.testing.assert_allclose(got.results["icc"], wide.results["icc"], rtol=1e-12)
    # a missing rating in the long layout is simply an absent row
    dropped = long.iloc[5:]
    res = pv.icc(dropped, layout="long", targets="candidate", raters="assessor",
                 scores="score")
    assert res.method == "reml" and res.n_missing == 5


def test_the_result_face(rubric):
    res = pv.icc(rubric, targets="candidate")
    assert repr(res).startswith("<ICCResult ICC2=0.710")
    text = str(res.summary())
    assert "ICC2k" in text and "Analysis of variance" in text
    assert "<table" in res._repr_html_()
    frame = res.to_frame()
    assert list(frame.columns[:3]) == ["type", "method", "description"]
    assert len(frame) == 6
    d = res.to_dict()
    assert d["schema"] == "psychoval.icc/1"
    json.dumps(d)
    assert res["ICC3k"] == pytest.approx(0.9182276071768447, rel=1e-12)
    with pytest.raises(SpecificationError, match=r"form='ICC4' is not one of"):
        res["ICC4"]


def test_errors_name_the_rater_and_candidate(rubric):
    with pytest.raises(DataError, match=r"at least 2 raters; got 1 \('rater1'\)"):
        pv.icc(rubric, targets="candidate", raters=["rater1"])
    bad = rubric.copy()
    bad["rater2"] = bad["rater2"].astype(object)
    bad.loc[4, "rater2"] = "x"
    with pytest.raises(DataError, match=r"rater 'rater2' gave the non-numeric score 'x' to "
                                        r"candidate 'C05' \(row 5\)"):
        pv.icc(bad, targets="candidate")
    bad = rubric.copy()
    bad.loc[6, "rater3"] = 5
    with pytest.raises(DataError, match=r"rater 'rater3' gave 5 to candidate 'C07' \(row 7\), "
                                        r"outside the rubric's scale 1 to 4"):
        pv.icc(bad, targets="candidate", scale=(1, 4))
    miss = rubric.copy()
    miss.loc[2, "rater4"] = np.nan
    with pytest.raises(DataError, match=r"rater 'rater4' did not score candidate 'C03' "
                                        r".*use method='reml'"):
        pv.icc(miss, targets="candidate", method="anova")
    miss.loc[2, ["rater1", "rater2", "rater3"]] = np.nan
    with pytest.raises(DataError, match=r"candidate 'C03' \(row 3\) has 0 rating\(s\)"):
        pv.icc(miss, targets="candidate")
    none = rubric.copy()
    none["rater2"] = np.nan
    with pytest.raises(DataError, match=r"rater 'rater2' scored none of the 60 candidates"):
        pv.icc(none, targets="candidate")
    with pytest.raises(SpecificationError, match=r"scale=\(4, 1\) must be a pair"):
        pv.icc(rubric, targets="candidate", scale=(4, 1))
    with pytest.raises(SpecificationError, match=r"method='lmer' is not one of"):
        pv.icc(rubric, targets="candidate", method="lmer")
    with pytest.raises(SpecificationError, match=r"confidence_level=95 must be"):
        pv.icc(rubric, targets="candidate", confidence_level=95)


def test_long_layout_errors(rubric):
    long = rubric.melt(id_vars="candidate", var_name="rater", value_name="score")
    with pytest.raises(SpecificationError, match=r"needs the column names scores="):
        pv.icc(long, layout="long", targets="candidate", raters="rater")
    twice = pd.concat([long, long.iloc[[3]]], ignore_index=True)
    with pytest.raises(DataError, match=r"rater 'rater1' scored candidate 'C04' more than "
                                        r"once \(rows \[4, 241\]"):
        pv.icc(twice, layout="long", targets="candidate", raters="rater", scores="score")
    with pytest.raises(DataError, match=r"scores='points' is not among the columns"):
        pv.icc(long, layout="long", targets="candidate", raters="rater", scores="points")


def test_wide_input_types_and_duplicate_candidates(rubric):
    cols = ["rater1", "rater2", "rater3", "rater4"]
    table = pv.read_responses(rubric, id_column="candidate")
    from_table = pv.icc(table)
    from_array = pv.icc(rubric[cols].to_numpy())
    assert from_table.raters == tuple(cols) and from_table.targets[0] == "C01"
    assert from_array.raters == ("rater1", "rater2", "rater3", "rater4")
    np.testing.assert_allclose(from_table.results["icc"], from_array.results["icc"], rtol=1e-14)
    dup = rubric.copy()
    dup.loc[9, "candidate"] = "C03"
    with pytest.raises(DataError, match=r"candidate 'C03' appears in rows \[3, 10\]"):
        pv.icc(dup, targets="candidate")
    with pytest.raises(DataError, match=r"targets='cand' is not among the columns"):
        pv.icc(rubric, targets="cand")
