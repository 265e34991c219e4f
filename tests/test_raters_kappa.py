"""Cohen's, all-pairs and Fleiss' kappa: extra psych references, Fleiss (1971)'s published
example, the delta-method variances checked by finite differences, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import DataError, DegenerateDataWarning, SpecificationError
from tests._tolerances import assert_close
from tests.reference._refs import load_data
from tests.reference.checkers.raters import assert_kappa_values
from tests.test_raters_icc import extra, frame_of

# Fleiss (1971), Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses (depression,
# personality disorder, schizophrenia, neurosis, other): how many psychiatrists chose each.
FLEISS_1971 = np.array([
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
    [0, 0, 5, 0, 1], [3, 0, 0, 1, 2], [5, 1, 0, 0, 0], [0, 2, 0, 4, 0], [1, 0, 2, 0, 3],
    [0, 0, 0, 0, 6], [0, 1, 0, 5, 0], [0, 2, 0, 1, 3], [2, 0, 0, 4, 0], [1, 0, 0, 4, 1],
    [0, 5, 0, 1, 0], [4, 0, 0, 0, 2], [0, 2, 0, 4, 0], [1, 0, 5, 0, 0], [0, 0, 0, 0, 6],
])


@pytest.fixture(scope="module")
def rubric() -> pd.DataFrame:
    return load_data("rubric_ratings")


def test_linear_weights_match_psych(rubric):
    check = extra("kappa.linear.rater1_rater3")
    res = pv.cohen_kappa(rubric, raters=check["options"]["raters"], levels=[1, 2, 3, 4],
                         weights="linear", variance="psych")
    assert res.weights == "linear"
    assert_kappa_values(res, check["values"], check["id"])


def test_missing_ratings_leave_the_pair_out_as_psych():
    check = extra("kappa.missing.rater2_rater4")
    df = frame_of(check)
    res = pv.cohen_kappa(df, raters=check["options"]["raters"], levels=[1, 2, 3, 4],
                         variance="psych")
    assert_kappa_values(res, check["values"], check["id"])
    assert res.n_dropped == 8  # scored by one of the two only; one candidate by neither


def test_all_pairs_with_missing_match_psych():
    check = extra("kappa.all_pairs.missing")
    raters = check["options"]["raters"]
    res = pv.pairwise_kappa(frame_of(check), levels=[1, 2, 3, 4])
    mat = np.array([[check["values"]["cohen.kappa"][r][c] for c in raters] for r in raters])
    low, up = np.tril_indices(4, -1), np.triu_indices(4, 1)
    assert_close(res.kappa.to_numpy()[low], mat[low], "closed_form")
    assert_close(res.weighted_kappa.to_numpy()[up], mat[up], "closed_form")
    assert_close(res.av_kappa, check["values"]["av.kappa"], "closed_form")
    assert_close(res.av_weighted, check["values"]["av.wt"], "closed_form")
    assert res.pair("rater4", "rater2").n_obs == 51
    frame = res.to_frame()
    assert len(frame) == 6 and {"rater_a", "rater_b", "kappa"} <= set(frame.columns)


def test_unused_level_psych_variance_breaks_fce_does_not(rubric):
    """psych's weighted variance goes negative with an unused level; psych then reports 0 (a
    zero-width interval). psychoval's psych mode reports NaN with a warning; the default (FCE
    1969) variance is positive."""
    check = extra("kappa.levels5.rater1_rater4")
    v = check["values"]
    assert v["var.weighted"] == 0
    with pytest.warns(DegenerateDataWarning, match=r"'rater1' and 'rater4': weighted kappa"):
        res = pv.cohen_kappa(rubric, raters=["rater1", "rater4"], levels=[1, 2, 3, 4, 5],
                             variance="psych", confidence_level=0.9)
    assert np.isnan(res.var_weighted)
    assert_close(res.kappa, v["kappa"], "closed_form")
    assert_close(res.var_kappa, v["var.kappa"], "closed_form")
    assert_close(res.weighted_kappa, v["weighted.kappa"], "closed_form")
    assert_close([res.kappa_lower, res.kappa_upper],
                 [v["confid"]["unweighted kappa"]["lower"],
                  v["confid"]["unweighted kappa"]["upper"]], "closed_form")
    fce = pv.cohen_kappa(rubric, raters=["rater1", "rater4"], levels=[1, 2, 3, 4, 5])
    assert fce.var_weighted > 0 and fce.weighted_lower < fce.weighted_kappa


def _delta_variance(tab: np.ndarray, w: np.ndarray) -> float:
    """Delta-method variance of weighted kappa from finite differences of the cell
    proportions (multinomial covariance)."""
    n = tab.sum()
    x = tab / n

    def kw(p):
        p = p / p.sum()
        po = np.sum(w * p)
        pe = np.sum(w * np.outer(p.sum(1), p.sum(0)))
        return (po - pe) / (1 - pe)

    g = np.zeros_like(x)
    h = 1e-6
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            e = np.zeros_like(x)
            e[i, j] = h
            g[i, j] = (kw(x + e) - kw(x - e)) / (2 * h)
    return float((np.sum(x * g**2) - np.sum(x * g) ** 2) / n)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 100_000), weights=st.sampled_from(["quadratic", "linear",
                                                              "unweighted"]))
def test_fce_variance_is_the_delta_method(seed, weights):
    rng = np.random.default_rng(seed)
    n = 80
    a = rng.integers(1, 5, n)
    b = np.clip(a + rng.integers(-1, 2, n), 1, 4)
    df = pd.DataFrame({"a": a, "b": b})
    res = pv.cohen_kappa(df, weights=weights, levels=[1, 2, 3, 4])
    tab = np.zeros((4, 4))
    np.add.at(tab, (a - 1, b - 1), 1)
    w = res.weight.to_numpy()
    assert res.var_weighted == pytest.approx(_delta_variance(tab, w), rel=1e-6)
    assert res.var_kappa == pytest.approx(_delta_variance(tab, np.eye(4)), rel=1e-6)
    # unweighted: psych's formula is the same
    psych = pv.cohen_kappa(df, weights="unweighted", levels=[1, 2, 3, 4], variance="psych")
    assert psych.var_kappa == res.var_kappa
    assert psych.var_weighted == pytest.approx(res.var_kappa, rel=1e-12)
    # kappa does not depend on which rater is "first"
    swapped = pv.cohen_kappa(df[["b", "a"]], weights=weights, levels=[1, 2, 3, 4])
    assert swapped.weighted_kappa == pytest.approx(res.weighted_kappa, abs=1e-14)
    assert swapped.var_weighted == pytest.approx(res.var_weighted, rel=1e-10)


def test_cohen_kappa_errors_and_face(rubric):
    with pytest.raises(DataError, match=r"exactly 2 raters; got 4"):
        pv.cohen_kappa(rubric, targets="candidate")
    with pytest.raises(DataError, match=r"rater 'rater2' gave 3 to candidate 'C01' \(row 1\), "
                                        r"which is not one of the levels \[1.0, 2.0\]"):
        pv.cohen_kappa(rubric, targets="candidate", raters=["rater1", "rater2"], levels=[1, 2])
    with pytest.raises(SpecificationError, match=r"weights='cubic' is not one of"):
        pv.cohen_kappa(rubric, raters=["rater1", "rater2"], weights="cubic")
    with pytest.raises(SpecificationError, match=r"4 x 4 matrix"):
        pv.cohen_kappa(rubric, raters=["rater1", "rater2"], weights=np.eye(3))
    res = pv.cohen_kappa(rubric, raters=["rater1", "rater2"], scale=(1, 4))
    assert res.levels == (1.0, 2.0, 3.0, 4.0)
    assert "Cohen's kappa" in str(res.summary())
    assert list(res.to_frame()["statistic"]) == ["kappa", "weighted_kappa"]
    json.dumps(res.to_dict())
    # a custom matrix equal to the quadratic weights gives the same result
    same = pv.cohen_kappa(rubric, raters=["rater1", "rater2"], weights=res.weight.to_numpy())
    assert same.weighted_kappa == res.weighted_kappa and same.weights == "custom"


def test_fleiss_1971_published_example():
    res = pv.fleiss_kappa(FLEISS_1971, layout="counts")
    # Fleiss (1971): kappa = .430; category kappas .245, .245, .520, .471, .566
    assert res.kappa == pytest.approx(0.430, abs=5e-4)
    np.testing.assert_allclose(res.categories["kappa"], [0.245, 0.245, 0.520, 0.471, 0.566],
                               atol=5e-4)
    # R irr 0.84.1 kappam.fleiss(diagnoses): Kappa = 0.4302445, z = 17.65183 (printed digits,
    # as recorded in statsmodels' test_inter_rater.py)
    assert res.kappa == pytest.approx(0.4302445, abs=5e-8)
    assert res.z == pytest.approx(17.65183, abs=5e-6)
    assert res.n_targets == 30 and res.n_raters == 6
    assert res.lower < res.kappa < res.upper


def test_fleiss_layouts_agree_and_statsmodels_agrees():
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    aggregate_raters, sm_fleiss = inter_rater.aggregate_raters, inter_rater.fleiss_kappa

    rng = np.random.default_rng(11)
    truth = rng.integers(1, 5, 40)
    wide = np.where(rng.random((40, 5)) < 0.7, truth[:, None], rng.integers(1, 5, (40, 5)))
    res = pv.fleiss_kappa(wide.astype(float))
    counts, _ = aggregate_raters(wide)
    assert res.kappa == pytest.approx(sm_fleiss(counts), abs=1e-13)
    via_counts = pv.fleiss_kappa(counts, layout="counts")
    assert via_counts.kappa == pytest.approx(res.kappa, abs=1e-14)
    assert via_counts.se == pytest.approx(res.se, rel=1e-12)
    frame = pd.DataFrame(wide, columns=[f"r{j}" for j in range(5)])
    frame["cand"] = [f"K{i}" for i in range(40)]
    long = frame.melt(id_vars="cand", var_name="rater", value_name="score")
    via_long = pv.fleiss_kappa(long, layout="long", targets="cand", raters="rater",
                               scores="score")
    assert via_long.kappa == pytest.approx(res.kappa, abs=1e-14)


def test_fleiss_se_is_the_linearized_variance():
    """Gwet's se^2 = sum(U_i^2) / (N (N - 1)) with U_i the infinitesimal-jackknife influence of
    candidate i, computed here by finite differences of kappa in the candidate weights."""
    counts = FLEISS_1971.astype(float)
    n, m = counts.shape[0], counts[0].sum()

    def kappa(wts):
        wts = wts / wts.sum()
        po = wts @ ((counts * (counts - 1)).sum(1) / (m * (m - 1)))
        pj = wts @ (counts / m)
        pe = np.sum(pj**2)
        return (po - pe) / (1 - pe)

    base = np.full(n, 1.0 / n)
    h = 1e-6
    u = np.empty(n)
    for i in range(n):
        d = -base.copy()
        d[i] += 1.0
        u[i] = (kappa(base + h * d) - kappa(base - h * d)) / (2 * h)
    res = pv.fleiss_kappa(counts, layout="counts")
    assert res.se == pytest.approx(np.sqrt(np.sum(u**2) / (n * (n - 1))), rel=1e-6)


def test_fleiss_errors_name_the_candidate(rubric):
    miss = rubric.copy()
    miss.loc[3, "rater2"] = np.nan
    with pytest.raises(DataError, match=r"candidate 'C04' \(row 4\) has 3 ratings but "
                                        r"candidate 'C01' \(row 1\) has 4.*krippendorff_alpha"):
        pv.fleiss_kappa(miss, targets="candidate")
    miss.loc[3, ["rater1", "rater3"]] = np.nan
    with pytest.raises(DataError, match=r"candidate 'C04' \(row 4\) has 1 rating\(s\); Fleiss"):
        pv.fleiss_kappa(miss, targets="candidate")
    with pytest.raises(DataError, match=r"count 2.5"):
        pv.fleiss_kappa([[1, 2.5], [2, 1.5]], layout="counts")
    with pytest.warns(DegenerateDataWarning, match="every rating falls in one category"):
        res = pv.fleiss_kappa(np.ones((5, 3)))
    assert np.isnan(res.kappa)
    res = pv.fleiss_kappa(rubric, targets="candidate")
    assert "Fleiss' kappa" in str(res.summary()) and len(res.to_frame()) == 1
