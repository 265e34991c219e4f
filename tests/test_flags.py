"""Distractor analysis and item flags (issue 9): exact option statistics, and detection of
planted defects (weak item, miskeyed item, DIF item) on a seeded simulation, quiet on a clean
replicate."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError
from psychoval.verdicts import ITEM_CRITERIA, Criterion, criterion_table
from tests._tolerances import assert_close

OPTIONS = np.array(["A", "B", "C", "D"])


def simulate_mc(seed: int, *, defects: bool, n: int = 1500, n_focal: int = 400, k: int = 20):
    """Multiple-choice responses from a 2PL (wrong answers spread evenly over the distractors).

    With ``defects``: item q03 is weak (slope 0.1), item q07's key says 'A' while 'B' is the
    option the model makes correct (a miskey), and item q12 is 0.5 logit harder for the
    focal group (uniform DIF). Without: every item is keyed right and fair.
    """
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    group = np.where(np.arange(n) < n_focal, "focal", "reference")
    a = np.full(k, 1.4)
    b = np.linspace(-1.5, 1.5, k)
    shift = np.zeros((n, k))
    if defects:
        a[2] = 0.1
        shift[group == "focal", 11] = 0.5
    p = 1 / (1 + np.exp(-(a * (theta[:, None] - b) - shift)))
    correct = rng.random((n, k)) < p
    true_key = rng.choice(OPTIONS, size=k)
    if defects:
        true_key[6] = "B"
    raw = np.empty((n, k), dtype=object)
    for j in range(k):
        wrong = OPTIONS[OPTIONS != true_key[j]]
        raw[:, j] = np.where(correct[:, j], true_key[j], rng.choice(wrong, size=n))
    cols = [f"q{j + 1:02d}" for j in range(k)]
    key = dict(zip(cols, true_key.tolist(), strict=True))
    if defects:
        key["q07"] = "A"
    return pd.DataFrame(raw, columns=cols), key, group


@pytest.fixture(scope="module")
def planted():
    raw, key, group = simulate_mc(2026, defects=True)
    items = pv.item_analysis(raw, answer_key=key)
    dis = pv.distractors(raw, answer_key=key)
    scored = items_scored(raw, key)
    dif = pv.dif(scored, group=group, reference="reference")
    return raw, key, items, dis, dif


@pytest.fixture(scope="module")
def clean():
    raw, key, group = simulate_mc(7, defects=False)
    items = pv.item_analysis(raw, answer_key=key)
    dis = pv.distractors(raw, answer_key=key)
    dif = pv.dif(items_scored(raw, key), group=group, reference="reference")
    return items, dis, dif


def items_scored(raw, key):
    return pd.DataFrame({i: (raw[i] == key[i]).astype(float) for i in raw.columns})


def test_planted_defects_are_flagged(planted):
    """One seeded replicate. The weak and miskeyed items are found in every replicate; the
    0.5-logit DIF item (400 focal of 1500, Holm over 20 items) has ~65% power (26 of 40
    replicates), so detection *rates* are checked in test_dif.py::test_dif_power_and_size."""
    raw, key, items, dis, dif = planted
    flags = pv.flag_items([items, dis, dif])
    assert "q03" in flags.of("low_discrimination")
    assert "q03" in flags.of("low_discrimination_index")
    assert flags.of("likely_miskey") == ["q07"]
    assert flags.of("negative_discrimination") == ["q07"]
    assert "q07" not in flags.of("low_discrimination")  # superseded by the stronger flag
    assert flags.of("dif") == ["q12"]
    row = flags.flags[flags.flags["flag"] == "likely_miskey"].iloc[0]
    assert "top distractor B" in row["detail"] and row["threshold"] == 0.0
    assert row["value"] == dis.items.loc["q07", "key_r_rest"]
    assert "Haladyna" in row["citation"]
    dif_row = flags.flags[flags.flags["flag"] == "dif"].iloc[0]
    assert "favours 'reference'" not in dif_row["detail"]
    assert "favours reference" in dif_row["detail"] and "ETS class" in dif_row["detail"]
    # the distractor table shows the miskey the same way
    q07 = dis.items.loc["q07"]
    assert q07["distractor_above_key"] and q07["key_below_in_upper"]
    assert q07["top_distractor"] == "B" and q07["top_distractor_r_rest"] > 0.2


def test_clean_replicate_is_quiet(clean):
    items, dis, dif = clean
    flags = pv.flag_items([items, dis, dif])
    assert flags.of("likely_miskey") == []
    assert flags.of("dif") == []
    assert flags.of("negative_discrimination") == []
    assert not dis.items["distractor_above_key"].any()


def test_distractor_statistics_by_hand():
    raw, key, _ = simulate_mc(3, defects=False, n=300, k=6)
    raw.iloc[5, 2] = None  # one unanswered cell: that row is dropped
    res = pv.distractors(raw, answer_key=key, n_groups=3)
    assert res.n_used == 299 and res.rows_dropped == 1
    kept = raw.drop(index=5)
    scored = items_scored(kept, key)
    total = scored.sum(axis=1).to_numpy()
    # groups: tied totals stay together; sizes near n / 3
    assert sum(res.group_sizes) == 299
    for item in kept.columns:
        rest = total - scored[item].to_numpy()
        for opt in sorted(set(kept[item])):
            row = res.options[(res.options["item"] == item) & (res.options["option"] == opt)]
            assert len(row) == 1
            chose = (kept[item] == opt).to_numpy().astype(float)
            assert row["n"].iloc[0] == chose.sum()
            assert_close(row["p"].iloc[0], chose.mean(), "closed_form")
            assert_close(row["r_total"].iloc[0], np.corrcoef(chose, total)[0, 1], "closed_form")
            assert_close(row["r_rest"].iloc[0], np.corrcoef(chose, rest)[0, 1], "closed_form")
            assert row["is_key"].iloc[0] == (opt == key[item])
    # the grouping is order-invariant
    again = pv.distractors(raw.iloc[::-1], answer_key=key, n_groups=3)
    pd.testing.assert_frame_equal(again.items, res.items)
    assert again.group_sizes == res.group_sizes
    # lowest group: totals all <= every total in the highest group
    assert res.group_sizes[0] > 0 and res.group_sizes[-1] > 0


def test_distractor_groups_share_ties_and_probabilities_add_up():
    raw, key, _ = simulate_mc(4, defects=False, n=200, k=12)
    res = pv.distractors(raw, answer_key=key, n_groups=4)
    for _item, sub in res.options.groupby("item"):
        for g in range(1, 5):
            assert_close(sub[f"p_g{g}"].sum(), 1.0, "closed_form")
        assert_close(sub["p"].sum(), 1.0, "closed_form")
    assert len(res.group_sizes) == 4 and min(res.group_sizes) > 0
    assert repr(res).startswith("<DistractorResult items=12")
    # few distinct totals: tied totals stay together, so a group can be empty (NaN shares)
    few = pv.distractors(raw.iloc[:, :2], answer_key={c: key[c] for c in raw.columns[:2]},
                         n_groups=4)
    assert 0 in few.group_sizes
    assert few.options[f"p_g{few.group_sizes.index(0) + 1}"].isna().all()
    assert "Miskey statistics" in str(res.summary())
    json.dumps(res.to_dict())
    assert list(res.to_frame().columns[:4]) == ["item", "option", "is_key", "n"]


def test_criteria_overrides_and_table():
    x = np.array([[1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 1], [0, 0, 0, 1], [1, 1, 1, 0],
                  [1, 0, 1, 0]], dtype=float)
    res = pv.item_analysis(x)
    base = pv.flag_items(res)
    assert "item4" in base.of("negative_discrimination")
    off = pv.flag_items(res, criteria={"negative_discrimination": None})
    assert off.of("negative_discrimination") == []
    assert "item4" in off.of("low_discrimination")  # no longer superseded
    stricter = pv.flag_items(res, criteria={"too_easy": 0.5})
    row = stricter.flags[stricter.flags["flag"] == "too_easy"]
    assert set(row["item"]) == {"item1"} and (row["threshold"] == 0.5).all()
    assert row["citation"].iloc[0].startswith("user threshold (default 0.9")
    only = pv.flag_items(res, criteria=[Criterion("hard", "difficulty", 0.6, "below", "mine",
                                                  "hard item")])
    assert only.of("hard") == ["item2", "item3", "item4"]
    table = criterion_table()
    assert len(table) == len(ITEM_CRITERIA) and table["citation"].str.len().min() > 10
    assert repr(base).startswith("<ItemFlags items=4")
    assert "Item flags" in str(base.summary())
    json.dumps(base.to_dict())
    with pytest.raises(SpecificationError, match="unknown criterion name"):
        pv.flag_items(res, criteria={"too_weird": 1})
    with pytest.raises(SpecificationError, match="reads 'nope', which the item_analysis"):
        pv.flag_items(res, criteria=[Criterion("x", "nope", 0, "below", "c", "d")])
    with pytest.raises(SpecificationError, match="direction='under' must be"):
        Criterion("x", "difficulty", 0.1, "under", "c", "d")
    with pytest.raises(SpecificationError, match="flag_items reads item_analysis"):
        pv.flag_items([object()])
    with pytest.raises(dataclasses.FrozenInstanceError):
        ITEM_CRITERIA[0].threshold = 0.5  # type: ignore[misc]


def test_polytomous_flags_reverse_keying_and_floor():
    rng = np.random.default_rng(8)
    theta = rng.normal(size=800)
    lat = theta[:, None] * np.array([1, 1, 1, 1, -1]) + rng.normal(size=(800, 5))
    x = np.clip(np.round(lat + 3), 1, 5)
    x[:, 2] = np.clip(np.round(lat[:, 2] + 1), 1, 5)  # item3 piles up at the bottom
    res = pv.item_analysis(x, scale_range=(1, 5))
    flags = pv.flag_items(res)
    assert flags.of("possibly_reverse_keyed") == ["item5"]
    assert "item5" not in flags.of("low_discrimination")
    assert "item3" in flags.of("floor_effect")
    assert flags.of("negative_discrimination") == []  # that one is for 0/1 items
    assert flags.of("too_easy") == [] and flags.of("too_hard") == []


def test_distractor_errors():
    raw = pd.DataFrame({"q1": list("ABCAB"), "q2": list("BBCAA")})
    with pytest.raises(SpecificationError, match="n_groups=1 must be an integer from 2 to 10"):
        pv.distractors(raw, answer_key={"q1": "A"}, n_groups=1)
    with pytest.raises(DataError, match=r"answer_key item\(s\) 'q3' not among the columns"):
        pv.distractors(raw, answer_key={"q3": "A"})
    with pytest.raises(SpecificationError, match="answer_key must be a non-empty mapping"):
        pv.distractors(raw, answer_key=["A"])
    with pytest.raises(DataError, match="2 complete row"):
        pv.distractors(raw.iloc[:2], answer_key={"q1": "A"})
    gap = raw.copy()
    gap.iloc[1, 1] = None
    with pytest.raises(DataError, match="item 'q2' is unanswered at row 2"):
        pv.distractors(gap, answer_key={"q1": "A", "q2": "B"}, missing="raise", n_groups=2)


def test_plots_draw_on_given_axes(planted):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from psychoval import plotting

    raw, key, items, dis, _ = planted
    fig, axes = plt.subplots(1, 3)
    try:
        ax = plotting.plot_item_curves(raw, items=["q03", "q07"], answer_key=key, ax=axes[0])
        assert ax is axes[0] and len(ax.lines) == 2
        # the miskeyed item's curve falls with the total
        y = ax.lines[1].get_ydata()
        assert y[-1] < y[0]
        ax = plotting.plot_distractors(dis, "q07", ax=axes[1])
        assert ax is axes[1] and len(ax.lines) == 4
        assert max(line.get_linewidth() for line in ax.lines) == 3
        ax = plotting.plot_difficulty_discrimination(items, ax=axes[2])
        assert ax is axes[2] and len(ax.texts) == 20
        with pytest.raises(DataError, match="item 'zz' is not in the distractor result"):
            plotting.plot_distractors(dis, "zz", ax=axes[1])
        own = plotting.plot_difficulty_discrimination(items, discrimination="d")
        assert own.get_ylabel() == "d"
        plt.close(own.figure)
    finally:
        plt.close(fig)
