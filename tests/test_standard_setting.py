"""pv.standard_setting (issue 21, section 2): modified Angoff and Bookmark cut scores.

Checks: a small panel computed by hand (the arithmetic in comments); the standard errors
against direct computations (sd / sqrt(J); the generalizability SE by a second algebraic
route); the between-round change and its paired t test; a planted outlying judge and a
planted judge who rates every item alike; ICC(2,1) / ICC(2,k) against pv.icc on the same
matrix; impact by group; the Bookmark on a 2PL (the closed-form RP location and the test
characteristic curve); write-back into a framework; errors; permuting judges changes nothing.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import psychoval as pv
from psychoval.datasets import sample_framework
from psychoval.exceptions import DataError, SpecificationError

# numpy numerics behind a thin pandas layer: run in the main CI pass only (the pandas 2.2
# pass skips slow tests), to keep CI short
pytestmark = pytest.mark.slow

# Round 1 and round 2 ratings of 4 judges on 3 items (probability of a correct answer by a
# minimally competent person).
R1 = {"J1": [.6, .7, .5], "J2": [.5, .6, .4], "J3": [.7, .8, .6], "J4": [.6, .6, .6]}
R2 = {"J1": [.6, .7, .6], "J2": [.6, .6, .5], "J3": [.7, .7, .6], "J4": [.5, .6, .7]}
ITEMS = ["i1", "i2", "i3"]


def _long(rounds: dict[int, dict[str, list[float]]], items=ITEMS, level=None) -> pd.DataFrame:
    rows = [{"judge": j, "item": i, "round": r, "rating": v}
            for r, panel in rounds.items() for j, vals in panel.items()
            for i, v in zip(items, vals, strict=True)]
    df = pd.DataFrame(rows)
    if level is not None:
        df["level"] = level
    return df


@pytest.fixture(scope="module")
def panel():
    return pv.standard_setting(_long({1: R1, 2: R2}))


def test_hand_computed_panel(panel):
    cuts = panel.cuts.set_index("round")
    # round 1 judge cuts: J1 .6+.7+.5 = 1.8, J2 1.5, J3 2.1, J4 1.8; mean 7.2 / 4 = 1.8;
    # deviations 0, -.3, .3, 0 -> SS .18, var .18 / 3 = .06, sd .244949, se sd / 2 = .122474
    assert cuts.loc[1, "cut"] == pytest.approx(1.8, abs=1e-12)
    assert cuts.loc[1, "median"] == pytest.approx(1.8, abs=1e-12)
    assert cuts.loc[1, "sd"] == pytest.approx(math.sqrt(0.06), abs=1e-12)
    assert cuts.loc[1, "se"] == pytest.approx(math.sqrt(0.06) / 2, abs=1e-12)
    assert cuts.loc[1, "cut_mean_item"] == pytest.approx(0.6, abs=1e-12)  # 1.8 / 3 items
    # round 2: J1 1.9, J2 1.7, J3 2.0, J4 1.8 -> mean 7.4 / 4 = 1.85; median (1.8 + 1.9) / 2
    assert cuts.loc[2, "cut"] == pytest.approx(1.85, abs=1e-12)
    assert cuts.loc[2, "median"] == pytest.approx(1.85, abs=1e-12)
    assert panel.cut_scores == {"cut": pytest.approx(1.85, abs=1e-12)}
    j = panel.judges.set_index(["round", "judge"])
    assert j.loc[(1, "J3"), "cut"] == pytest.approx(2.1, abs=1e-12)
    assert j.loc[(2, "J2"), "change"] == pytest.approx(0.2, abs=1e-12)  # 1.7 - 1.5
    assert math.isnan(j.loc[(1, "J2"), "change"])
    # round 1: J4 rates every item .6
    assert bool(j.loc[(1, "J4"), "constant"]) and not bool(j.loc[(2, "J4"), "constant"])
    # item table, round 2: i2 ratings .7 .6 .7 .6 -> mean .65; i1 .6 .6 .7 .5 -> mean .6,
    # deviations 0 0 .1 -.1 -> sd sqrt(.02 / 3)
    it = panel.items.set_index(["round", "item"])
    assert it.loc[(2, "i2"), "mean"] == pytest.approx(0.65, abs=1e-12)
    assert it.loc[(2, "i1"), "sd"] == pytest.approx(math.sqrt(0.02 / 3), abs=1e-12)


def test_round_change_and_paired_test(panel):
    row = panel.rounds.iloc[0]
    # changes J1 .1, J2 .2, J3 -.1, J4 0 -> mean .05; deviations .05 .15 -.15 -.05 -> SS .05,
    # sd sqrt(.05 / 3); t = .05 / (sd / 2) = .774597 on 3 df
    sd = math.sqrt(0.05 / 3)
    assert (row["from_round"], row["to_round"], row["n_judges"]) == (1, 2, 4)
    assert row["change"] == pytest.approx(0.05, abs=1e-12)
    assert row["sd_change"] == pytest.approx(sd, abs=1e-12)
    assert row["t"] == pytest.approx(0.05 / (sd / 2), abs=1e-10)
    ref = stats.ttest_rel([1.9, 1.7, 2.0, 1.8], [1.8, 1.5, 2.1, 1.8])
    assert row["t"] == pytest.approx(ref.statistic, abs=1e-10)
    assert row["pvalue"] == pytest.approx(ref.pvalue, abs=1e-10)
    assert row["cut_to"] - row["cut_from"] == pytest.approx(0.05, abs=1e-12)


def test_rounds_read_as_text_are_numbers(panel):
    """A ratings file read as text gives rounds "2" and "10": the final round is 10, not 2."""
    df = _long({2: R1, 10: R2}).astype({"round": str, "rating": str})
    res = pv.standard_setting(df)
    assert res.cuts["round"].tolist() == [2, 10]
    assert res.cut_scores == {"cut": pytest.approx(1.85, abs=1e-12)}  # R2's cut, as above
    bad = _long({1: R1}).astype({"round": str})
    bad.loc[0, "round"] = "first"
    with pytest.raises(DataError, match="round 'first' is not a whole number"):
        pv.standard_setting(bad)


def test_standard_errors_against_direct_computation():
    rng = np.random.default_rng(21)
    n_items, n_judges = 12, 7
    y = np.clip(rng.uniform(0.3, 0.8, n_items)[:, None] + rng.normal(0, 0.08, n_judges)[None]
                + rng.normal(0, 0.05, (n_items, n_judges)), 0, 1)
    wide = pd.DataFrame(y, index=[f"q{i:02d}" for i in range(n_items)],
                        columns=[f"J{j}" for j in range(n_judges)])
    res = pv.standard_setting(wide)
    row = res.cuts.iloc[0]
    cuts = y.sum(axis=0)
    assert row["cut"] == pytest.approx(cuts.mean(), rel=1e-12)
    assert row["se"] == pytest.approx(np.std(cuts, ddof=1) / math.sqrt(n_judges), rel=1e-12)
    # generalizability SE (judges and items random), by the mean squares directly: with all
    # variance components positive, var(mean rating) = (MS_j + MS_i - MS_e) / (n_i n_j)
    gm = y.mean()
    ms_i = n_judges * np.sum((y.mean(axis=1) - gm) ** 2) / (n_items - 1)
    ms_j = n_items * np.sum((y.mean(axis=0) - gm) ** 2) / (n_judges - 1)
    e = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + gm
    ms_e = np.sum(e ** 2) / ((n_items - 1) * (n_judges - 1))
    assert ms_i > ms_e and ms_j > ms_e
    direct = n_items * math.sqrt((ms_j + ms_i - ms_e) / (n_items * n_judges))
    assert row["se_items_random"] == pytest.approx(direct, rel=1e-12)
    assert row["se_items_random"] > row["se"]


def test_icc_matches_pv_icc(panel):
    wide = pd.DataFrame(R2, index=ITEMS)
    ref = pv.icc(wide)
    d = panel.diagnostics.iloc[0]
    assert d["round"] == 2
    assert d["icc2_1"] == pytest.approx(ref["ICC2"], rel=1e-10)
    assert d["icc2_k"] == pytest.approx(ref["ICC2k"], rel=1e-10)


def test_outlying_and_constant_judges_are_found():
    rng = np.random.default_rng(7)
    base = rng.uniform(0.3, 0.9, 10)
    panel = {f"J{j}": list(np.clip(base + rng.normal(0, 0.03, 10), 0, 1)) for j in range(5)}
    panel["LENIENT"] = list(np.clip(base + 0.09, 0, 1))       # cut far above the others
    panel["REVERSED"] = list(1.2 - base)                      # orders the items backwards
    panel["FLAT"] = [0.6] * 10                                # rates every item alike
    items = [f"q{i}" for i in range(10)]
    res = pv.standard_setting(_long({1: panel}, items=items))
    j = res.judges.set_index("judge")
    assert j.loc["LENIENT", "loo_z"] > 2 and bool(j.loc["LENIENT", "outlying"])
    assert j.loc["REVERSED", "item_correlation"] < 0.3 and bool(j.loc["REVERSED", "outlying"])
    assert bool(j.loc["FLAT", "constant"]) and math.isnan(j.loc["FLAT", "item_correlation"])
    assert not j.loc[[f"J{k}" for k in range(5)], "outlying"].any()
    d = res.diagnostics.iloc[0]
    assert set(d["outlying_judges"].split(", ")) == {"LENIENT", "REVERSED"}
    assert d["constant_judges"] == "FLAT"
    assert any("FLAT" in n and "the same" in n for n in res.notes)


def test_impact_by_group_and_levels():
    lv = pd.concat([_long({1: R1}, level="basic"),
                    _long({1: {k: [min(v + .2, 1) for v in vals] for k, vals in R1.items()}},
                          level="advanced")])
    scores = pd.Series([0, 1, 2, 3, 1, 2, 3, 3], index=list("abcdefgh"))
    groups = pd.Series(["x", "x", "x", "x", "y", "y", "y", "y"], index=scores.index)
    res = pv.standard_setting(lv, scores=scores, groups=groups)
    # basic cut 1.8 (as above); advanced: every rating + .2 -> 1.8 + 3 x .2 = 2.4
    assert res.cut_scores == {"basic": pytest.approx(1.8), "advanced": pytest.approx(2.4)}
    imp = res.impact.set_index(["level", "group"])
    # at or above 1.8: x has 2, 3 -> 2 of 4; y has 2, 3, 3 -> 3 of 4; all 5 of 8
    assert imp.loc[("basic", "all"), "share_at_or_above"] == pytest.approx(5 / 8)
    assert imp.loc[("basic", "x"), "n_at_or_above"] == 2
    assert imp.loc[("basic", "y"), "share_at_or_above"] == pytest.approx(3 / 4)
    # at or above 2.4: x has 3 -> 1 of 4; y has 3, 3 -> 2 of 4
    assert imp.loc[("advanced", "x"), "share_at_or_above"] == pytest.approx(1 / 4)
    assert imp.loc[("advanced", "y"), "share_at_or_above"] == pytest.approx(2 / 4)
    assert res.n_respondents == 8
    # on the mean-item scale: cut .6 for basic
    mean = pv.standard_setting(lv, scores=scores / 3, score_scale="mean")
    m = mean.impact.set_index(["level", "group"])
    assert m.loc[("basic", "all"), "cut"] == pytest.approx(0.6)
    assert m.loc[("basic", "all"), "n_at_or_above"] == 5


@pytest.fixture(scope="module")
def fit_2pl():
    rng = np.random.default_rng(2020)
    theta = rng.standard_normal(600)
    a = np.array([0.8, 1.2, 1.5, 1.0, 2.0, 1.3])
    b = np.array([-1.5, -0.5, 0.0, 0.7, 1.3, -1.0])
    p = 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    x = (rng.random((600, 6)) < p).astype(float)
    return pv.irt(pd.DataFrame(x, columns=[f"m{i}" for i in range(6)]), model="2PL")


def test_bookmark_on_a_2pl(fit_2pl):
    par = fit_2pl.parameters
    rp = 0.67
    # RP location of a 2PL item: P = rp at theta = b + ln(rp / (1 - rp)) / a
    loc = par["b"] + np.log(rp / (1 - rp)) / par["a"]
    order = loc.sort_values()
    pages = {"A": 2, "B": 4, "C": 3}
    res = pv.standard_setting(pages, method="bookmark", irt=fit_2pl, rp=rp)
    oib = res.items
    assert list(oib["item"]) == list(order.index)
    np.testing.assert_allclose(oib["rp_theta"], order.to_numpy(), rtol=0, atol=1e-9)
    judge_cuts = np.array([order.iloc[p - 1] for p in pages.values()])
    row = res.cuts.iloc[0]
    assert row["scale"] == "theta"
    assert row["cut"] == pytest.approx(judge_cuts.mean(), abs=1e-9)
    assert row["se"] == pytest.approx(np.std(judge_cuts, ddof=1) / math.sqrt(3), abs=1e-9)
    # raw equivalent: the test characteristic curve sum_i 1 / (1 + exp(-a_i (theta - b_i)))
    tcc = float(np.sum(1 / (1 + np.exp(-par["a"] * (row["cut"] - par["b"])))))
    assert row["raw_cut"] == pytest.approx(tcc, abs=1e-9)
    assert row["cut_mean_item"] == pytest.approx(tcc / 6, abs=1e-9)
    j = res.judges.set_index("judge")
    assert j.loc["B", "item"] == order.index[3]
    assert j.loc["B", "cut"] == pytest.approx(order.iloc[3], abs=1e-9)
    # a higher RP moves every location up
    hi = pv.standard_setting(pages, method="bookmark", irt=fit_2pl, rp=0.8)
    assert hi.cuts["cut"].iloc[0] > row["cut"]


def test_bookmark_polytomous_graded_response():
    rng = np.random.default_rng(2021)
    theta = rng.standard_normal(500)
    a = np.array([1.0, 1.4, 0.9, 1.7])
    bounds = np.array([[-1.5, -0.3, 1.0], [-1.0, 0.0, 1.2], [-2.0, -0.5, 0.5],
                       [-1.2, 0.2, 1.5]])
    cum = 1 / (1 + np.exp(-a[None, :, None] * (theta[:, None, None] - bounds[None])))
    x = 1 + (rng.random((500, 4))[:, :, None] < cum).sum(axis=2).astype(float)  # scores 1-4
    fit = pv.irt(pd.DataFrame(x, columns=["g1", "g2", "g3", "g4"]), model="GRM")
    par = fit.parameters
    rp = 0.67
    # graded response: P(X >= k) = logistic(a (theta - b_k)) -> theta = b_k + ln(rp/(1-rp)) / a
    want = sorted((par.loc[i, f"b{k}"] + math.log(rp / (1 - rp)) / par.loc[i, "a"], i, k + 1.0)
                  for i in par.index for k in (1, 2, 3))
    res = pv.standard_setting({"A": 5, "B": 7, "C": 9, "D": 6}, method="bookmark", irt=fit)
    oib = res.items
    assert len(oib) == 12
    np.testing.assert_allclose(oib["rp_theta"], [w[0] for w in want], rtol=0, atol=1e-9)
    assert list(zip(oib["item"], oib["category"], strict=True)) == [(w[1], w[2]) for w in want]
    row = res.cuts.iloc[0]
    cut = np.mean([want[p - 1][0] for p in (5, 7, 9, 6)])
    assert row["cut"] == pytest.approx(cut, abs=1e-9)
    assert row["raw_cut"] == pytest.approx(float(fit.expected_scores(cut)["test"].iloc[0]),
                                           abs=1e-9)
    assert row["cut_mean_item"] == pytest.approx(row["raw_cut"] / 4)  # on the 1-4 item scale


def test_bookmark_errors(fit_2pl):
    with pytest.raises(DataError, match="page 7 is not a page"):
        pv.standard_setting({"A": 2, "B": 7}, method="bookmark", irt=fit_2pl)
    with pytest.raises(DataError, match="one judge only"):
        pv.standard_setting({"A": 2}, method="bookmark", irt=fit_2pl)
    with pytest.raises(SpecificationError, match="needs irt="):
        pv.standard_setting({"A": 2, "B": 3}, method="bookmark")
    with pytest.raises(SpecificationError, match="needs irt="):
        pv.standard_setting({"A": 2, "B": 3}, method="bookmark", irt="2PL")


def test_write_back_to_a_framework():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fw = sample_framework()
    items = list(fw.competency("data").item_ids)  # DAT1-DAT4, Likert 1..5
    panel = {"J1": [3, 3.5, 4, 3.5], "J2": [3, 3, 3.5, 3.5], "J3": [3.5, 4, 4, 4.5]}
    res = pv.standard_setting(_long({1: panel}, items=items), framework=fw,
                              competency="data")
    # judge sums 14, 13, 16 -> mean 43 / 3 = 14.3333; on the mean-item scale / 4 = 3.58333
    row = res.cuts.iloc[0]
    assert row["cut"] == pytest.approx(43 / 3)
    assert row["cut_mean_item"] == pytest.approx(43 / 12)
    new = res.to_framework(fw)
    assert new.competency("data").cut_score == pytest.approx(43 / 12)
    assert fw.competency("data").cut_score is None           # the original is unchanged
    assert new.competency("ethics") == fw.competency("ethics")
    with pytest.raises(SpecificationError, match="another set of items"):
        res.to_framework(fw, target="ethics")
    # a tier target
    tier_items = list(fw.tier("leadership").item_ids)
    t = pv.standard_setting(_long({1: {"J1": [3.0] * len(tier_items),
                                       "J2": [4.0] * len(tier_items)}}, items=tier_items),
                            framework=fw, tier="leadership")
    assert t.to_framework(fw).tier("leadership").cut_score == pytest.approx(3.5)
    # a rating outside the item's score range (1..5)
    bad = _long({1: {"J1": [0.5, 3, 3, 3], "J2": [3, 3, 3, 3]}}, items=items)
    with pytest.raises(DataError, match=r"rating 0.5 is outside \[1, 5\]"):
        pv.standard_setting(bad, framework=fw, competency="data")


def test_errors():
    df = _long({1: R1})
    with pytest.raises(DataError, match=r"judge 'J2', item 'i1', round 1: rating 1.5 is outside"):
        pv.standard_setting(df.assign(rating=np.where(
            (df["judge"] == "J2") & (df["item"] == "i1"), 1.5, df["rating"])))
    with pytest.raises(DataError, match=r"judge 'J3' has no rating of items \['i2'\] in round 1"):
        pv.standard_setting(df[~((df["judge"] == "J3") & (df["item"] == "i2"))])
    with pytest.raises(DataError, match="one judge only"):
        pv.standard_setting(df[df["judge"] == "J1"])
    with pytest.raises(DataError, match="given twice"):
        pv.standard_setting(pd.concat([df, df.iloc[:1]]))
    with pytest.raises(DataError, match="not a number"):
        pv.standard_setting(df.assign(rating=df["rating"].astype(object).where(
            df.index != 0, "high")))
    with pytest.raises(SpecificationError, match="method="):
        pv.standard_setting(df, method="ebel")
    with pytest.raises(SpecificationError, match="several|levels"):
        pv.standard_setting(pd.concat([_long({1: R1}, level="a"), _long({1: R1}, level="b")])
                            ).to_framework(sample_framework(), target="data")
    # polytomous expected scores need max_score=
    ok = pv.standard_setting(df.assign(rating=df["rating"] * 3), max_score=3)
    assert ok.cut_scores["cut"] == pytest.approx(5.4)


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(5)), st.integers(0, 10_000))
def test_permuting_judges_changes_nothing(perm, seed):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.2, 0.9, (6, 5))
    names = [f"J{j}" for j in range(5)]
    wide = pd.DataFrame(y, index=[f"q{i}" for i in range(6)], columns=names)
    a = pv.standard_setting(wide)
    b = pv.standard_setting(wide[[names[p] for p in perm]])
    pd.testing.assert_frame_equal(a.cuts, b.cuts, rtol=1e-10, atol=1e-12)
    pd.testing.assert_frame_equal(a.diagnostics, b.diagnostics, rtol=1e-10, atol=1e-12)
    ja = a.judges.set_index("judge").sort_index()
    jb = b.judges.set_index("judge").sort_index()
    pd.testing.assert_frame_equal(ja, jb, rtol=1e-10, atol=1e-12)
