"""Content validity (issue 21, section 1): each index against its formula computed by hand,
published worked values (Polit, Beck & Owen's kappa* table as reprinted in applications; a
published 12-item x 6-expert CVI table), Lawshe's exact critical values (Ayre & Scally 2014),
the planted content defects of a simulated 8-expert panel over the sample framework, long vs
wide vs files, expert order, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.datasets import sample_framework
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.raters._content import lawshe_critical
from psychoval.verdicts._content import kappa_star_band

# numpy numerics behind a thin pandas layer: run in the main CI pass only (the pandas 2.2
# pass skips slow tests), to keep CI short
pytestmark = pytest.mark.slow

CLOSE = {"rtol": 1e-12, "atol": 1e-12}


def fails(res, fw=None) -> list[tuple[str, str]]:
    """(target, criterion) of the failed content verdicts (pv.content_verdicts)."""
    v = pv.content_verdicts(res, framework=fw)
    return [tuple(x) for x in v.loc[v["verdict"] == "fail", ["target", "criterion"]].values]


@pytest.fixture(scope="module")
def fw():
    return sample_framework()


def long_of(wide: pd.DataFrame, value: str = "relevance") -> pd.DataFrame:
    out = wide.rename_axis("item").reset_index().melt(id_vars="item", var_name="expert",
                                                     value_name=value)
    return out


# --------------------------------------------------------------------------- relevance


def test_i_cvi_kappa_star_and_aiken_by_hand():
    wide = pd.DataFrame({"e1": [4, 4, 2], "e2": [3, 4, 1], "e3": [4, 3, 2],
                         "e4": [4, 4, 3], "e5": [3, 4, 1], "e6": [4, 2, 2]},
                        index=["Q1", "Q2", "Q3"])
    res = pv.content_validity(wide, layout="wide")
    t = res.items
    # Q1: 6 of 6 rate 3 or 4 -> I-CVI 1; pc = C(6,6)/2^6 = 1/64; k* = (1 - 1/64)/(1 - 1/64) = 1
    # Q2: 5 of 6 -> I-CVI 5/6; pc = C(6,5)/64 = 6/64 = .09375; k* = (5/6 - .09375)/.90625
    #     = .816092; Q3: 1 of 6 -> 1/6; pc = 6/64; k* = (1/6 - .09375)/.90625 = .080460
    np.testing.assert_allclose(t["i_cvi"], [1.0, 5 / 6, 1 / 6], **CLOSE)
    np.testing.assert_allclose(t["pc"], [1 / 64, 6 / 64, 6 / 64], **CLOSE)
    np.testing.assert_allclose(t["kappa_star"],
                               [1.0, (5 / 6 - 6 / 64) / (1 - 6 / 64),
                                (1 / 6 - 6 / 64) / (1 - 6 / 64)], **CLOSE)
    assert [kappa_star_band(k) for k in t["kappa_star"]] == ["excellent", "excellent", "poor"]
    # Aiken's V = sum(r - 1) / (n (c - 1)), c = 4: Q1 (3+2+3+3+2+3)/18 = 16/18,
    # Q2 (3+3+2+3+3+1)/18 = 15/18, Q3 (1+0+1+2+0+1)/18 = 5/18
    np.testing.assert_allclose(t["aiken_v"], [16 / 18, 15 / 18, 5 / 18], **CLOSE)
    # S-CVI/Ave = (1 + 5/6 + 1/6)/3 = 2/3; S-CVI/UA = 1 item of 3 with I-CVI = 1
    assert res.s_cvi_ave == pytest.approx(2 / 3, rel=1e-12)
    assert res.s_cvi_ua == pytest.approx(1 / 3, rel=1e-12)


def test_aiken_score_interval_by_hand_and_as_wilson():
    # Q1 above: V = 16/18, n = 6 raters, k = c - 1 = 3, nk = 18, z = 1.959964:
    # L = (2*18*V + z^2 - z sqrt(4*18*V(1-V) + z^2)) / (2 (18 + z^2))
    #   = (32 + 3.841459 - 1.959964 * sqrt(7.111111 + 3.841459)) / 43.682918
    #   = (35.841459 - 6.486436) / 43.682918 = .672002; U = 42.327894 / 43.682918 = .968980
    wide = pd.DataFrame({"e1": [4], "e2": [3], "e3": [4], "e4": [4], "e5": [3], "e6": [4]},
                        index=["Q1"])
    res = pv.content_validity(wide, layout="wide")
    r = res.items.loc["Q1"]
    z = 1.959963984540054
    v = 16 / 18
    half = z * math.sqrt(4 * 18 * v * (1 - v) + z**2)
    lo, up = (32 + z**2 - half) / (2 * (18 + z**2)), (32 + z**2 + half) / (2 * (18 + z**2))
    assert (r["aiken_lower"], r["aiken_upper"]) == (pytest.approx(lo, rel=1e-12),
                                                    pytest.approx(up, rel=1e-12))
    assert lo == pytest.approx(0.672002, abs=1e-6) and up == pytest.approx(0.968980, abs=1e-6)
    # Penfield & Giacobbi's interval is Wilson's score interval for S = 16 successes of nk = 18
    from statsmodels.stats.proportion import proportion_confint

    w = proportion_confint(16, 18, alpha=0.05, method="wilson")
    np.testing.assert_allclose([r["aiken_lower"], r["aiken_upper"]], w, rtol=1e-12)
    # a 90% interval is narrower and still contains V
    r90 = pv.content_validity(wide, layout="wide", confidence_level=0.9).items.loc["Q1"]
    assert r["aiken_lower"] < r90["aiken_lower"] < v < r90["aiken_upper"] < r["aiken_upper"]


# Polit, Beck & Owen (2007) tabulate pc and kappa* by panel size N and agreement A; the same
# values, printed to 3 (pc) and 2 (k*) decimals, appear in applications that reprint them
# (BMC Health Serv Res 2017, doi:10.1186/s12913-017-2469-8, Table 10; BMC Res Notes 2016,
# doi:10.1186/s13104-016-2249-2, Table 4). Compared at half a unit in the last printed digit.
PBO_2007 = [  # (N, A, I-CVI, pc, k*)
    (10, 10, 1.00, 0.001, 1.00), (10, 9, 0.90, 0.010, 0.90), (10, 8, 0.80, 0.044, 0.79),
    (10, 7, 0.70, 0.117, 0.66), (9, 8, 0.89, 0.018, 0.89), (9, 7, 0.78, 0.070, 0.76),
    (9, 6, 0.67, 0.164, 0.60), (7, 7, 1.00, 0.008, 1.00), (7, 6, 0.86, 0.055, 0.85),
]


@pytest.mark.parametrize(("n", "a", "icvi", "pc", "kstar"), PBO_2007)
def test_kappa_star_reproduces_the_published_table(n, a, icvi, pc, kstar):
    ratings = [4] * a + [2] * (n - a)
    wide = pd.DataFrame([ratings], columns=[f"e{j}" for j in range(n)], index=["x"])
    r = pv.content_validity(wide, layout="wide").items.loc["x"]
    assert r["i_cvi"] == pytest.approx(icvi, abs=5e-3 + 1e-9)
    assert r["pc"] == pytest.approx(pc, abs=5e-4 + 1e-9)
    assert r["kappa_star"] == pytest.approx(kstar, abs=5e-3 + 1e-9)
    assert kappa_star_band(r["kappa_star"]) == ("excellent" if kstar > 0.74 else "good")


def test_published_cvi_table_of_twelve_items_and_six_experts():
    # A published worked CVI table (PMC7253559, Table 4): 12 items x 6 experts on the 4-point
    # relevance scale; printed I-CVIs 1.00 except items 6 and 9 (.83), S-CVI/Ave = 0.97,
    # S-CVI/UA = 0.83. By hand: S-CVI/Ave = (10 + 2 * 5/6) / 12 = .97222, UA = 10/12 = .83333.
    rows = [[4, 4, 4, 4, 4, 4], [4, 3, 4, 4, 3, 4], [4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4],
            [3, 4, 4, 4, 4, 4], [2, 3, 4, 3, 3, 4], [4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4],
            [3, 3, 4, 2, 3, 4], [4, 4, 4, 3, 4, 4], [4, 4, 4, 3, 4, 4], [4, 4, 4, 3, 4, 4]]
    wide = pd.DataFrame(rows, columns=[f"Expert {j}" for j in range(1, 7)],
                        index=[str(i) for i in range(1, 13)])
    res = pv.content_validity(wide, layout="wide")
    icvi = res.items["i_cvi"]
    assert icvi.round(2).tolist() == [1.0] * 5 + [0.83] + [1.0] * 2 + [0.83] + [1.0] * 3
    assert res.s_cvi_ave == pytest.approx((10 + 2 * 5 / 6) / 12, rel=1e-12)
    assert round(res.s_cvi_ave, 2) == 0.97 and round(res.s_cvi_ua, 2) == 0.83
    assert fails(res) == []  # 5/6 = .83 >= .78 with 6 experts (Lynn 1986)


# --------------------------------------------------------------------------- essentiality

# Exact critical values of Lawshe's CVR, one-tailed .05: the table of Ayre & Scally (2014)
# (their Table 3 as the issue cites it), N = 5..40: N -> (n_e critical, CVR critical to 3
# decimals). Each row was verified here from the binomial itself: P(X >= n_e | N, .5) <= .05
# and P(X >= n_e - 1) > .05, e.g. N = 8: P(X >= 7) = 9/256 = .035, P(X >= 6) = 37/256 = .145
# -> n_e = 7, CVR = (7 - 4)/4 = .75; N = 10: 11/1024 = .011 and 56/1024 = .055 -> 9, .80;
# N = 12: 79/4096 = .019 and 299/4096 = .073 -> 10, .667; N = 20: .021 and .058 -> 15, .50.
AYRE_SCALLY = {
    5: (5, 1.000), 6: (6, 1.000), 7: (7, 1.000), 8: (7, 0.750), 9: (8, 0.778),
    10: (9, 0.800), 11: (9, 0.636), 12: (10, 0.667), 13: (10, 0.538), 14: (11, 0.571),
    15: (12, 0.600), 16: (12, 0.500), 17: (13, 0.529), 18: (13, 0.444), 19: (14, 0.474),
    20: (15, 0.500), 21: (15, 0.429), 22: (16, 0.455), 23: (16, 0.391), 24: (17, 0.417),
    25: (18, 0.440), 26: (18, 0.385), 27: (19, 0.407), 28: (19, 0.357), 29: (20, 0.379),
    30: (20, 0.333), 31: (21, 0.355), 32: (22, 0.375), 33: (22, 0.333), 34: (23, 0.353),
    35: (23, 0.314), 36: (24, 0.333), 37: (24, 0.297), 38: (25, 0.316), 39: (26, 0.333),
    40: (26, 0.300),
}


def test_lawshe_critical_values_reproduce_ayre_and_scally():
    for n, (n_e, cvr) in AYRE_SCALLY.items():
        got_n, got_cvr = lawshe_critical(n)
        assert got_n == n_e, n
        assert got_cvr == pytest.approx(cvr, abs=5e-4 + 1e-12), n
        assert got_cvr == pytest.approx((n_e - n / 2) / (n / 2), rel=1e-12)
        # the binomial itself, independently of the implementation
        tail = sum(math.comb(n, k) for k in range(n_e, n + 1)) / 2**n
        below = sum(math.comb(n, k) for k in range(n_e - 1, n + 1)) / 2**n
        assert tail <= 0.05 < below, n
    # fewer than 5 experts: even unanimity is not significant at .05 (1/16 = .0625 for N = 4)
    assert all(math.isnan(v) for v in lawshe_critical(4))


def test_cvr_and_cvi_by_hand():
    # 8 experts. i1: 7 essential -> CVR (7-4)/4 = .75 = critical (n_e 7) -> retained;
    # i2: 6 essential -> .50 < .75; i3: 8 -> 1.0 retained; Lawshe CVI = mean(.75, 1.0) = .875;
    # mean CVR = (.75 + .5 + 1)/3 = .75
    codes = {"i1": ["essential"] * 7 + ["useful"],
             "i2": ["Essential", "ESSENTIAL ", 3, "3", 3.0, "essential", "Not necessary", 2],
             "i3": ["essential"] * 8}
    df = pd.DataFrame([{"item": i, "expert": f"e{j}", "essentiality": v}
                       for i, vals in codes.items() for j, v in enumerate(vals)])
    res = pv.content_validity(df)
    t = res.items
    np.testing.assert_allclose(t["cvr"], [0.75, 0.5, 1.0], **CLOSE)
    assert t["cvr_critical"].tolist() == [0.75] * 3
    assert t["cvr_significant"].tolist() == [True, False, True]
    assert res.cvi == pytest.approx(0.875) and res.mean_cvr == pytest.approx(0.75)
    v = pv.content_verdicts(res)
    assert fails(res) == [("i2", "cvr")]
    # the CVR is judged by its exact one-tailed binomial p: P(X >= 6 | 8, .5) = 37/256
    np.testing.assert_allclose(t["cvr_pvalue"], [9 / 256, 37 / 256, 1 / 256], **CLOSE)
    assert "Ayre, C., & Scally, A. J. (2014)" in v.loc[v["verdict"] == "fail", "citation"].iloc[0]
    assert math.isnan(t.loc["i1", "i_cvi"])  # no relevance ratings given


# --------------------------------------------------------------------------- assignment


def test_assignment_agreement_and_fleiss_kappa_by_hand(fw):
    # GOV1: data, ... 3 experts put it in governance, governance, governance;
    # GOV2: governance, governance, ethics; GOV3: ethics x 3 (intended governance).
    # agreement: 1, 2/3, 0. Fleiss on counts [[3,0],[2,1],[0,3]] (governance, ethics):
    # p = (5/9, 4/9); P_i = 1, 1/3, 1; p_o = 7/9; p_e = 41/81; kappa = (63-41)/(81-41) = .55
    picks = {"GOV1": ["governance"] * 3, "GOV2": ["Governance", "AI governance", "ethics"],
             "GOV3": ["ethics"] * 3}
    df = pd.DataFrame([{"item": i, "expert": f"e{j}", "assignment": v}
                       for i, vals in picks.items() for j, v in enumerate(vals)])
    res = pv.content_validity(df, framework=fw)
    t = res.items
    np.testing.assert_allclose(t["assignment_agreement"], [1, 2 / 3, 0], **CLOSE)
    assert t["modal_assignment"].tolist() == ["governance", "governance", "ethics"]
    assert res.fleiss_kappa.kappa == pytest.approx(0.55, rel=1e-12)
    counts = pd.DataFrame([[3, 0], [2, 1], [0, 3]], columns=["governance", "ethics"])
    assert res.fleiss_kappa.kappa == pv.fleiss_kappa(counts, layout="counts").kappa
    assert fails(res, fw) == [("GOV3", "assignment_agreement")]
    v = pv.content_verdicts(res, framework=fw)
    assert "most experts chose 'ethics'" in v.loc[v["target"] == "GOV3", "reason"].iloc[0]
    assert set(v["tier"]) == {"leadership"}
    assert res.competencies.loc["governance", "assignment_agreement"] == pytest.approx(5 / 9)
    assert len(res.unrated_items) == 38 and res.measures == ("assignment",)


# --------------------------------------------------------------------------- the panel


def simulated_panel(fw, seed: int = 21) -> pd.DataFrame:
    """8 experts x the 41 sample items: every item relevant (at most one 2 per item),
    essential (at least 7 of 8) and put in its competency (at most one expert strays), except
    DAT3 (6 experts assign it to ethics) and TOO2 (6 experts rate it 1-2, not necessary)."""
    rng = np.random.default_rng(seed)
    comps = [c.id for c in fw.competencies]
    rows = []
    for it in fw.items:
        low = rng.integers(0, 8)        # the one expert who may dissent on this item
        for j in range(8):
            rel, ess, comp = int(rng.integers(3, 5)), "essential", it.competency
            if j == low:
                rel = int(rng.integers(2, 5))
                ess = rng.choice(["essential", "useful"])
                comp = rng.choice(comps)
            if it.id == "DAT3" and j < 6:
                comp = "ethics"
            if it.id == "TOO2" and j < 6:
                rel, ess = int(rng.integers(1, 3)), "not necessary"
            rows.append({"item": it.id, "expert": f"SME{j + 1}", "relevance": rel,
                         "essentiality": ess, "assignment": comp,
                         "comment": "too vague <b>" if it.id == "TOO2" and j == 0 else ""})
    return pd.DataFrame(rows)


def test_planted_defects_are_found(fw):
    res = pv.content_validity(simulated_panel(fw), framework=fw)
    failed = fails(res, fw)
    assert {t for t, _ in failed} == {"DAT3", "TOO2", "tools"}
    assert {c for t, c in failed if t == "DAT3"} == {"assignment_agreement"}
    assert {c for t, c in failed if t == "TOO2"} >= {"i_cvi", "cvr", "kappa_star"}
    assert res.items.loc["DAT3", "modal_assignment"] == "ethics"
    assert res.items.loc["TOO2", "i_cvi"] <= 2 / 8
    assert [c for t, c in failed if t == "tools"] == ["s_cvi_ave"]
    assert res.n_experts == 8 and res.n_items == 41 and res.unrated_items == ()
    assert res.items["competency"].tolist() == [i.competency for i in fw.items]
    assert res.fleiss_kappa is not None and 0.5 < res.fleiss_kappa.kappa < 1
    assert all(pv.content_verdicts(res)["citation"])
    # comments are kept as written, as plain text
    assert res.comments.to_dict("records") == [
        {"item": "TOO2", "expert": "SME1", "comment": "too vague <b>"}]
    assert res.competencies.loc["tools", "n_items"] == 4


def test_long_wide_and_files_agree(fw, tmp_path):
    panel = simulated_panel(fw)
    long = panel[["item", "expert", "relevance"]]
    wide = long.pivot(index="item", columns="expert", values="relevance")
    a = pv.content_validity(long, framework=fw).items
    b = pv.content_validity(wide, layout="wide", framework=fw).items
    pd.testing.assert_frame_equal(a, b)
    # a wide file with an item column, and the long panel as CSV and XLSX
    wide.reset_index().to_csv(tmp_path / "wide.csv", index=False)
    c = pv.content_validity(tmp_path / "wide.csv", layout="wide", framework=fw).items
    pd.testing.assert_frame_equal(a, c)
    ref = pv.content_validity(panel, framework=fw)
    panel.to_csv(tmp_path / "panel.csv", index=False)
    panel.to_excel(tmp_path / "panel.xlsx", index=False)
    for path in ("panel.csv", "panel.xlsx"):
        got = pv.content_validity(tmp_path / path, framework=fw)
        pd.testing.assert_frame_equal(got.items, ref.items)
        pd.testing.assert_frame_equal(pv.content_verdicts(got), pv.content_verdicts(ref))
        assert got.comments["comment"].tolist() == ["too vague <b>"]


@st.composite
def panels(draw):
    n_items = draw(st.integers(2, 5))
    n_exp = draw(st.integers(3, 7))
    cells = n_items * n_exp
    rel = draw(st.lists(st.integers(1, 4), min_size=cells, max_size=cells))
    ess = draw(st.lists(st.integers(1, 3), min_size=cells, max_size=cells))
    asg = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=cells, max_size=cells))
    perm = draw(st.permutations(range(n_exp)))
    rows = [{"item": f"q{i}", "expert": f"x{j}", "relevance": rel[i * n_exp + j],
             "essentiality": ess[i * n_exp + j], "assignment": asg[i * n_exp + j]}
            for i in range(n_items) for j in range(n_exp)]
    return pd.DataFrame(rows), list(perm)


@settings(max_examples=40, deadline=None)
@given(panels())
def test_permuting_experts_changes_nothing(case):
    df, perm = case
    n_exp = len(perm)
    # relabel the experts by the permutation and shuffle the rows
    renamed = df.assign(expert=df["expert"].map({f"x{j}": f"x{perm[j]}"
                                                 for j in range(n_exp)}))
    shuffled = renamed.iloc[np.argsort([perm[int(e[1:])] for e in df["expert"]],
                                       kind="stable")]
    a, b = pv.content_validity(df), pv.content_validity(shuffled)
    pd.testing.assert_frame_equal(a.items, b.items, check_exact=False, rtol=1e-12)
    for name in ("s_cvi_ave", "s_cvi_ua", "mean_cvr", "cvi"):
        x, y = getattr(a, name), getattr(b, name)
        assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-12)
    assert (a.fleiss_kappa is None) == (b.fleiss_kappa is None)
    if a.fleiss_kappa is not None:
        assert a.fleiss_kappa.kappa == pytest.approx(b.fleiss_kappa.kappa, rel=1e-12)


def test_the_worked_example_of_the_docs(fw):
    # docs/raters.md, "Content validity": 8 experts, the three governance items.
    # GOV1: all 8 relevant, V = (3+3+2+3+3+2+3+3)/24 = 22/24; 8 essential -> CVR 1.
    # GOV2: 7 of 8 relevant -> I-CVI .875, pc = 8/256, k* = (.875 - .03125)/.96875 = .870968;
    #       6 essential -> CVR .5 < .75; 3 of 8 assign governance -> .375, modal strategy.
    # GOV3: 2 of 8 relevant -> .25, pc = 28/256, k* = (.25 - .109375)/.890625 = .157895;
    #       1 essential -> CVR (1 - 4)/4 = -.75. S-CVI/Ave = (1 + .875 + .25)/3 = .708333.
    rel = {"GOV1": [4, 4, 3, 4, 4, 3, 4, 4], "GOV2": [4, 3, 4, 4, 2, 4, 3, 4],
           "GOV3": [2, 1, 3, 2, 1, 2, 4, 2]}
    ess = {"GOV1": ["essential"] * 8, "GOV2": ["essential"] * 6 + ["useful"] * 2,
           "GOV3": ["not necessary"] * 5 + ["useful"] * 2 + ["essential"]}
    asg = {"GOV1": ["governance"] * 8, "GOV2": ["strategy"] * 5 + ["governance"] * 3,
           "GOV3": ["governance"] * 7 + ["ethics"]}
    df = pd.DataFrame([{"item": i, "expert": f"SME{j + 1}", "relevance": rel[i][j],
                        "essentiality": ess[i][j], "assignment": asg[i][j]}
                       for i in rel for j in range(8)])
    res = pv.content_validity(df, framework=fw)
    t = res.items
    np.testing.assert_allclose(t["i_cvi"], [1, 0.875, 0.25], **CLOSE)
    np.testing.assert_allclose(t["kappa_star"], [1, (0.875 - 8 / 256) / (1 - 8 / 256),
                                                 (0.25 - 28 / 256) / (1 - 28 / 256)], **CLOSE)
    np.testing.assert_allclose(t["aiken_v"], [22 / 24, 20 / 24, 9 / 24], **CLOSE)
    np.testing.assert_allclose(t["cvr"], [1, 0.5, -0.75], **CLOSE)
    assert t["aiken_lower"].round(3).tolist() == [0.742, 0.641, 0.212]
    assert t["aiken_upper"].round(3).tolist() == [0.977, 0.933, 0.573]
    assert t["modal_assignment"].tolist() == ["governance", "strategy", "governance"]
    c = res.competencies.loc["governance"]
    assert c["s_cvi_ave"] == pytest.approx(2.125 / 3) and c["s_cvi_ua"] == pytest.approx(1 / 3)
    assert c["cvi"] == 1.0 and c["n_retained"] == 1
    assert fails(res, fw) == [
        ("GOV2", "cvr"), ("GOV2", "assignment_agreement"), ("GOV3", "i_cvi"),
        ("GOV3", "kappa_star"), ("GOV3", "cvr"), ("governance", "s_cvi_ave")]


# --------------------------------------------------------------------------- errors


def small(n_exp: int = 3, **cols) -> pd.DataFrame:
    base = {"item": ["GOV1"] * n_exp, "expert": [f"e{j}" for j in range(n_exp)],
            "relevance": [4] * n_exp}
    base.update(cols)
    return pd.DataFrame(base)


def test_errors_name_the_fault(fw):
    with pytest.raises(DataError, match=r"item 'GOVX' \(row 2 .*not in the framework"):
        pv.content_validity(small(item=["GOV1", "GOVX", "GOV1"]), framework=fw)
    with pytest.raises(DataError, match=r"item 'GOV1' by expert 'e1' \(row 2\) is 5; "
                                        r"relevance is a whole number from 1"):
        pv.content_validity(small(relevance=[4, 5, 3]))
    with pytest.raises(DataError, match=r"is 2.5"):
        pv.content_validity(small(relevance=[4, 2.5, 3]))
    with pytest.raises(DataError, match=r"expert 'e0' rated item 'GOV1' twice \(rows 1 and 3"):
        pv.content_validity(small(expert=["e0", "e1", "e0"]))
    with pytest.raises(DataError, match=r"2 expert\(s\).*at least 3 experts"):
        pv.content_validity(small(2))
    with pytest.raises(DataError, match=r"item 'GOV2' has 2 relevance rating"):
        pv.content_validity(pd.concat([small(), small(2, item=["GOV2"] * 2)]))
    with pytest.raises(DataError, match=r"essentiality in the rating of item 'GOV1' by "
                                        r"expert 'e2' \(row 3\) is 'maybe'"):
        pv.content_validity(small(essentiality=["essential", "useful", "maybe"]))
    with pytest.raises(DataError, match=r"is 'sales', which is not a competency of the "
                                        r"framework \('concepts'"):
        pv.content_validity(small(assignment=["governance", "sales", "ethics"]), framework=fw)
    with pytest.raises(DataError, match=r"row 3 of the ratings has no expert id"):
        pv.content_validity(small(expert=["e0", "e1", None]))
    with pytest.raises(SpecificationError, match=r"none of the columns relevance="):
        pv.content_validity(small().drop(columns="relevance"))
    with pytest.raises(SpecificationError, match=r"no expert column 'expert'.*layout='wide'"):
        pv.content_validity(small().drop(columns="expert"))
    with pytest.raises(SpecificationError, match=r"essentiality='ess' is not a column"):
        pv.content_validity(small(), essentiality="ess")
    with pytest.raises(SpecificationError, match=r"scale=1"):
        pv.content_validity(small(), scale=1)
    with pytest.raises(SpecificationError, match=r"Framework"):
        pv.content_validity(small(), framework={"governance": ["GOV1"]})
    with pytest.raises(DataError, match=r"no such file"):
        pv.content_validity("/nonexistent/panel.csv")


def test_result_face():
    res = pv.content_validity(small(4, relevance=[4, 3, 2, 4]))
    assert repr(res).startswith("<ContentValidityResult n_items=1, n_experts=4")
    assert "S-CVI/Ave" in str(res.summary())
    assert res.to_frame()["item"].tolist() == ["GOV1"]
    doc = res.to_dict()
    assert doc["schema"] == "psychoval.content_validity/2" and doc["fleiss_kappa"] is None
    # 4 experts: no CVR can be significant at .05, so significance is missing, not False
    four = pv.content_validity(small(4, essentiality=["essential"] * 4))
    assert four.items["cvr_significant"].isna().all() and fails(four) == []
    v = pv.content_verdicts(four).set_index("criterion")
    assert v.loc["cvr", "verdict"] == "not_applicable" and "5 or more" in v.loc["cvr", "reason"]
    assert math.isnan(four.items["cvr_critical"].iloc[0]) and four.items["cvr"].iloc[0] == 1
    json.dumps(four.to_dict(), allow_nan=False)
    assert "<ContentValidityResult" in repr(four) and str(four.summary())
