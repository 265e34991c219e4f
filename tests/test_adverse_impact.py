"""pv.adverse_impact (issue 19): pass rates by group, impact ratios, the four-fifths rule,
z and Fisher tests and the log-ratio interval, against hand computation and scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError


def _data():
    # group A: 60 of 100 pass; group B: 30 of 80 pass, plus 5 missing scores in B
    scores = [1.0] * 60 + [0.0] * 40 + [1.0] * 30 + [0.0] * 50 + [np.nan] * 5
    groups = ["A"] * 100 + ["B"] * 85
    return scores, groups


def test_hand_values_and_scipy():
    scores, groups = _data()
    res = pv.adverse_impact(scores, groups, cut=0.5)
    assert res.reference == "A"
    assert (res.n_total, res.n_used, res.n_missing) == (185, 180, 5)
    t = res.table.set_index("group")
    assert t.loc["B", ["n", "n_missing", "passes"]].tolist() == [80, 5, 30]
    assert t.loc["B", "pass_rate"] == pytest.approx(0.375, rel=1e-15)
    assert t.loc["B", "impact_ratio"] == pytest.approx(0.375 / 0.6, rel=1e-15)
    assert bool(t.loc["B", "four_fifths"]) and not bool(t.loc["A", "four_fifths"])
    assert t.loc["A", "impact_ratio"] == 1.0
    # z test by hand: pooled rate 90/180
    z = (0.375 - 0.6) / math.sqrt(0.5 * 0.5 * (1 / 80 + 1 / 100))
    assert t.loc["B", "z"] == pytest.approx(z, rel=1e-12)
    assert t.loc["B", "pvalue_z"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)
    chi2 = stats.chi2_contingency([[30, 50], [60, 40]], correction=False)
    assert t.loc["B", "pvalue_z"] == pytest.approx(chi2.pvalue, rel=1e-10)
    assert t.loc["B", "pvalue_fisher"] == pytest.approx(
        stats.fisher_exact([[30, 50], [60, 40]]).pvalue, rel=1e-12)
    se = math.sqrt(1 / 30 - 1 / 80 + 1 / 60 - 1 / 100)
    q = stats.norm.ppf(0.975)
    assert t.loc["B", "ratio_ci_lower"] == pytest.approx(0.625 * math.exp(-q * se), rel=1e-12)
    assert t.loc["B", "ratio_ci_upper"] == pytest.approx(0.625 * math.exp(q * se), rel=1e-12)


def test_matches_scipy_relative_risk_interval():
    scores, groups = _data()
    res = pv.adverse_impact(scores, groups, cut=0.5, confidence_level=0.9)
    ci = stats.contingency.relative_risk(30, 80, 60, 100).confidence_interval(0.9)
    row = res.table.set_index("group").loc["B"]
    assert row["ratio_ci_lower"] == pytest.approx(ci.low, rel=1e-10)
    assert row["ratio_ci_upper"] == pytest.approx(ci.high, rel=1e-10)


def test_lower_passes_reference_and_face():
    res = pv.adverse_impact([1, 2, 3, 4, 5, 6], ["x", "x", "x", "y", "y", "y"], cut=3,
                            higher_passes=False, reference="y")
    t = res.table.set_index("group")
    assert t.loc["x", "pass_rate"] == 1.0 and t.loc["y", "pass_rate"] == 0.0
    assert res.reference == "y" and math.isinf(t.loc["x", "impact_ratio"])
    assert "Adverse impact" in str(res.summary()) and repr(res).startswith("<AdverseImpact")
    assert res.to_dict()["schema"] == "psychoval.adverse_impact/1"


def test_errors():
    with pytest.raises(DataError, match="same length"):
        pv.adverse_impact([1, 2], ["a"], cut=1)
    with pytest.raises(SpecificationError, match="cut="):
        pv.adverse_impact([1, 2], ["a", "b"], cut=None)
    with pytest.raises(SpecificationError, match="not among the groups"):
        pv.adverse_impact([1, 2], ["a", "b"], cut=1, reference="c")
    with pytest.raises(DataError, match="row 1"):
        pv.adverse_impact([1, 2], ["a", None], cut=1)
    with pytest.raises(DataError, match="1 group"):
        pv.adverse_impact([1, 2], ["a", "a"], cut=1)
    with pytest.raises(DataError, match="numbers; found 'x'"):
        pv.adverse_impact([1, "x"], ["a", "b"], cut=1)


@st.composite
def _samples(draw):
    k = draw(st.integers(2, 4))
    scores, groups = [], []
    for i in range(k):
        m = draw(st.integers(1, 25))
        scores += draw(st.lists(st.integers(0, 10), min_size=m, max_size=m))
        groups += [f"g{i}"] * m
    return scores, groups


@settings(max_examples=60, deadline=None)
@given(_samples(), st.randoms(use_true_random=False))
def test_invariant_to_row_and_group_order(sample, rnd):
    scores, groups = sample
    a = pv.adverse_impact(scores, groups, cut=5)
    order = list(range(len(scores)))
    rnd.shuffle(order)
    b = pv.adverse_impact([scores[i] for i in order], [groups[i] for i in order], cut=5)
    assert a.reference == b.reference
    pd.testing.assert_frame_equal(a.table, b.table)
    t = a.table.set_index("group")
    ref = t.loc[a.reference]
    if ref["pass_rate"] > 0:
        assert ref["impact_ratio"] == 1.0
        assert (t["impact_ratio"] <= 1.0).all()  # the default reference has the highest rate
        assert (t["four_fifths"] == (t["impact_ratio"] < 0.8)).all()
    lo, hi = t["ratio_ci_lower"], t["ratio_ci_upper"]
    ok = lo.notna()
    assert ((lo[ok] <= t["impact_ratio"][ok]) & (t["impact_ratio"][ok] <= hi[ok])).all()
