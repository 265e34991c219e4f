"""pv.skills_gap (issue 21, section 3): the person statuses, the role tables and the ranked
needs on a hand-computed example, on the sample, and the errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError

FW = {"group_columns": ["role"], "id_column": "id", "tiers": [{"id": "t", "competencies": [
    {"id": "a", "items": [{"id": f"a{j}", "type": "likert", "min": 1, "max": 5}
                          for j in range(3)]},
    {"id": "b", "items": [{"id": f"b{j}", "type": "likert", "min": 1, "max": 5}
                          for j in range(3)]}]}]}
# six respondents; ids as written (leading zeros kept)
DATA = pd.DataFrame({
    "id": ["001", "002", "003", "004", "005", "006"],
    "role": ["eng", "eng", "eng", "ops", "ops", "ops"],
    "a0": [1, 2, 3, 4, 5, 3], "a1": [1, 2, 4, 4, 5, 2], "a2": [2, 2, 3, 5, 4, 3],
    "b0": [5, 4, 3, 2, 1, 3], "b1": [4, 4, 3, 2, 2, 3], "b2": [5, 3, 3, 1, 1, 4],
}).astype({c: str for c in ["a0", "a1", "a2", "b0", "b1", "b2"]})


@pytest.fixture(scope="module")
def fw():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pv.read_framework(FW)


def _alpha(x: pd.DataFrame) -> float:
    k = x.shape[1]
    c = x.cov().to_numpy()
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


def test_hand_example(fw):
    targets = {"eng": {"a": 3.0}, "ops": {"a": 3.0, "b": 2.5}}
    res = pv.skills_gap(DATA, framework=fw,
                        targets=targets, role="role", confidence_level=0.95)
    x = DATA[["a0", "a1", "a2"]].astype(float)
    mean_a = x.mean(axis=1)
    sem_a = mean_a.std(ddof=1) * math.sqrt(1 - _alpha(x))
    rel = res.reliability.set_index("competency")
    assert rel.loc["a", "sem"] == pytest.approx(sem_a, rel=1e-12)
    z = 1.959963984540054
    p = res.persons
    assert p["id"].tolist()[:1] == ["001"]  # ids as read
    pa = p[p["competency"] == "a"].set_index("id")
    for pid, m in zip(DATA["id"], mean_a, strict=True):
        lo, hi = m - z * sem_a, m + z * sem_a
        want = "below" if hi < 3 else "meets" if lo >= 3 else "cannot tell"
        assert pa.loc[pid, "status"] == want
        assert pa.loc[pid, "gap"] == pytest.approx(3 - m)
    # eng has no target for b: no rows; ops has both
    assert set(p.loc[p["role"] == "eng", "competency"]) == {"a"}
    g = res.groups.set_index(["role", "competency"])
    ops_a = pa.loc[["004", "005", "006"]]
    assert g.loc[("ops", "a"), "share_below"] == pytest.approx((ops_a["status"] == "below").mean())
    gaps = 3 - mean_a[3:].to_numpy()
    half = 4.302652729911275 * gaps.std(ddof=1) / math.sqrt(3)  # t(.975, 2)
    assert g.loc[("ops", "a"), "mean_gap"] == pytest.approx(gaps.mean())
    assert g.loc[("ops", "a"), "gap_upper"] == pytest.approx(gaps.mean() + half)
    # needs: n below x their mean shortfall, ranked
    below = p[p["status"] == "below"]
    for r in res.needs.itertuples():
        sel = below[(below["role"] == r.role) & (below["competency"] == r.competency)]
        assert r.n_below == len(sel) and r.need == pytest.approx(sel["gap"].sum())
    assert res.needs["need"].is_monotonic_decreasing


def test_targets_long_wide_and_mapping_agree(fw):
    mapping = {"eng": {"a": 3.0, "b": 3.5}, "ops": {"a": 3.0, "b": 2.5}}
    long = pd.DataFrame([{"role": r, "competency": c, "target": t}
                         for r, d in mapping.items() for c, t in d.items()])
    wide = pd.DataFrame(mapping).T
    out = [pv.skills_gap(DATA, framework=fw, targets=t, role="role").persons
           for t in (mapping, long, wide)]
    pd.testing.assert_frame_equal(out[0], out[1])
    pd.testing.assert_frame_equal(out[0], out[2])


def test_excluded_competency_is_not_a_finding(fw):
    res = pv.skills_gap(DATA, framework=fw, targets={"ops": {"a": 3.0, "b": 4.5}},
                        role="role", exclude={"b": "alpha .41 < .70 (failed validation)"})
    assert set(res.persons.loc[res.persons["competency"] == "b", "status"]) == {"not used"}
    g = res.groups.set_index("competency")
    assert not g.loc["b", "used"] and "failed validation" in g.loc["b", "reason"]
    assert "b" not in set(res.needs["competency"])
    assert "b" not in res.heatmap().index


def test_sample_engineering_prompting_gap():
    """On the sample, engineering's prompting target of 3.5 leaves the largest training need
    (the family whose prompting scores are also lowered by PRM4's intercept shift: the
    fairness section says to read that gap with care)."""
    from psychoval.datasets import sample_framework

    targets = {"engineering": {"prompting": 3.5, "tools": 3.5},
               "product": {"prompting": 3.0, "governance": 3.0},
               "sales": {"prompting": 3.0}, "operations": {"governance": 3.0}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pv.skills_gap(pv.load_sample(), framework=sample_framework(), targets=targets,
                            role="job_family")
    top = res.needs.iloc[0]
    assert (top["role"], top["competency"]) == ("engineering", "prompting")
    assert res.n_total == 1500 and len(res.persons) == 400 * 2 + 380 * 2 + 350 + 370
    assert set(res.persons["status"]) <= {"below", "cannot tell", "meets", "no score"}
    hm = res.heatmap()
    assert hm.loc["prompting", "engineering"] > hm.loc["prompting", "product"]
    assert "Skills gaps" in str(res.summary())
    res.to_dict()


def test_errors(fw):
    with pytest.raises(DataError, match="not in the framework"):
        pv.skills_gap(DATA, framework=fw, targets={"eng": {"zzz": 3}}, role="role")
    with pytest.raises(DataError, match="no respondent has"):
        pv.skills_gap(DATA, framework=fw, targets={"engineers": {"a": 3}}, role="role")
    with pytest.raises(DataError, match="numbers"):
        pv.skills_gap(DATA, framework=fw, targets={"eng": {"a": "high"}}, role="role")
    with pytest.raises(DataError, match="role column 'team'"):
        pv.skills_gap(DATA, framework=fw, targets={"eng": {"a": 3}}, role="team")
    with pytest.raises(SpecificationError, match="confidence_level"):
        pv.skills_gap(DATA, framework=fw, targets={"eng": {"a": 3}}, role="role",
                      confidence_level=95)
    with pytest.raises(SpecificationError, match="mapping"):
        pv.skills_gap(DATA, framework=fw, targets=[("eng", "a", 3)], role="role")


def test_conditional_sem_option_against_lord_and_keats_by_hand():
    """sem="conditional": 0/1 competencies use Lord's binomial CSEM x Keats' factor at the
    person's (prorated) number correct, on the mean scale; others keep the alpha SEM."""
    from psychoval.datasets import sample_framework

    fw, table = sample_framework(), pv.load_sample()
    targets = {"engineering": {"concepts": 0.6, "data": 3.5}}
    plain = pv.skills_gap(table, framework=fw, targets=targets)
    cond = pv.skills_gap(table, framework=fw, targets=targets, sem="conditional")
    rel = cond.reliability.set_index("competency")
    assert rel["sem_method"].to_dict() == {"concepts": "conditional (Keats)", "data": "alpha"}
    z = 1.959963984540054
    p = cond.persons[(cond.persons["competency"] == "concepts")].dropna(subset=["score"])
    n = 5
    x = fw.score(table).scores[[f"CON{k}" for k in range(1, 6)]].dropna().sum(axis=1)
    kr21 = n / (n - 1) * (1 - x.mean() * (n - x.mean()) / (n * x.var(ddof=1)))
    keats = math.sqrt((1 - rel.loc["concepts", "alpha"]) / (1 - kr21))
    xs = p["score"].to_numpy() * n
    hand = np.sqrt(xs * (n - xs) / (n - 1)) * keats / n
    np.testing.assert_allclose((p["upper"] - p["score"]).to_numpy() / z, hand, rtol=1e-12,
                               atol=1e-14)
    # a person with all 5 right has no binomial error: "meets" at any target up to 1
    full = p[p["score"] == 1.0]
    assert len(full) and (full["lower"] == 1.0).all() and (full["status"] == "meets").all()
    # the rating-scale competency is unchanged
    pd.testing.assert_frame_equal(plain.persons[plain.persons["competency"] == "data"],
                                  cond.persons[cond.persons["competency"] == "data"])
    with pytest.raises(SpecificationError, match="sem="):
        pv.skills_gap(table, framework=fw, targets=targets, sem="irt")
