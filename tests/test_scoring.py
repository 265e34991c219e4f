"""Scoring by a framework, and scale scores against psych::scoreItems."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError
from psychoval.framework._scoring import reverse_score
from tests._tolerances import assert_close
from tests.reference._refs import checks, load_data


def one_tier(tier: str, comps: dict[str, list[str]], **item) -> dict:
    return {"tiers": [{"id": tier, "competencies": [
        {"id": c, "items": [{"id": i.lstrip("-"), "reverse": i.startswith("-"), **item}
                            for i in items]}
        for c, items in comps.items()]}]}


MIXED = {
    "tiers": [{"id": "t", "competencies": [
        {"id": "know", "items": [
            {"id": "mc1", "type": "multiple_choice", "options": ["A", "B", "C", "D"],
             "answer_key": "B"},
            {"id": "mc2", "type": "multiple_choice", "options": ["yes", "No", "maybe"],
             "answer_key": "no"},
            {"id": "tf", "type": "dichotomous"},
        ]},
        {"id": "self", "items": [
            {"id": "lik", "type": "likert", "min": 1, "max": 5},
            {"id": "rev", "type": "likert", "min": 1, "max": 5, "reverse": True},
            {"id": "freq", "type": "likert", "categories": ["Never", "Sometimes", "Often"],
             "reverse": True},
            {"id": "task", "type": "rating", "min": 0, "max": 4, "raters": ["task_a", "task_b"]},
            {"id": "task2", "type": "rating", "min": 0, "max": 4, "raters": ["t2a", "t2b", "t2c"],
             "combine": "median"},
        ]},
    ]}],
}


@pytest.fixture(scope="module")
def mixed():
    return pv.read_framework(MIXED)


def mixed_data() -> pd.DataFrame:
    return pd.DataFrame({
        "mc1": ["B", " b", "C", None],
        "mc2": ["NO", "yes ", "Maybe", "no"],
        "tf": [1, 0, None, 1],
        "lik": [1, 5, 3, None],
        "rev": [1, 5, 2, 4],
        "freq": ["never", " OFTEN ", "Sometimes", 2],
        "task_a": [4, None, 1, None],
        "task_b": [3, 2, 2, None],
        "t2a": [0, 4, None, 1],
        "t2b": [1, 4, 3, 1],
        "t2c": [4, 0, None, 2],
    })


def test_score_mixed_formats(mixed):
    s = mixed.score(mixed_data())
    sc = s.scores
    assert list(sc.columns) == ["mc1", "mc2", "tf", "lik", "rev", "freq", "task", "task2"]
    np.testing.assert_array_equal(sc["mc1"], [1, 1, 0, np.nan])
    np.testing.assert_array_equal(sc["mc2"], [1, 0, 0, 1])
    np.testing.assert_array_equal(sc["tf"], [1, 0, np.nan, 1])
    np.testing.assert_array_equal(sc["lik"], [1, 5, 3, np.nan])
    # reversed on the item's own range 1-5: 6 - x
    np.testing.assert_array_equal(sc["rev"], [5, 1, 4, 2])
    # labels Never/Sometimes/Often = 1/2/3, reversed on 1-3: 4 - x; a number is taken as is
    np.testing.assert_array_equal(sc["freq"], [3, 1, 2, 2])
    # mean of the raters who rated; missing when none did
    np.testing.assert_array_equal(sc["task"], [3.5, 2, 1.5, np.nan])
    np.testing.assert_array_equal(sc["task2"], [1, 4, 3, 1])
    # the options chosen are kept, spelled as in the framework
    assert s.options["mc1"].tolist() == ["B", "B", "C", None]
    assert s.options["mc2"].tolist() == ["No", "yes", "maybe", "No"]
    assert list(s.ratings.columns) == ["task_a", "task_b", "t2a", "t2b", "t2c"]
    assert s.reversed_items == ("rev", "freq")
    assert repr(s) == "<ScoredResponses n=4, items=8, missing=12.5%, reversed=2>"
    assert "Item scores" in str(s.summary())
    d = s.to_dict()
    assert d["schema"] == "psychoval.scored_responses/1" and "framework" not in d
    table = s.to_table()
    assert table.items == tuple(sc.columns) and table.shape == (4, 8)


def test_own_range_differs_from_psych_test_wide_range(mixed):
    """psych reverses with the test-wide min and max (here 0 and 5: 5 - x); we use the
    item's declared 1-5 range (6 - x). The difference is documented in docs/framework.md."""
    s = mixed.score(mixed_data())
    raw = mixed_data()["rev"].to_numpy(dtype=float)
    assert np.array_equal(s.scores["rev"], 6 - raw)
    assert not np.array_equal(s.scores["rev"], 5 - raw)


def test_invalid_codes_raise_naming_item_row_value(mixed):
    df = mixed_data()
    df.loc[2, "mc1"] = "E"
    with pytest.raises(DataError, match=r"item 'mc1' has the value 'E' at row 3, which is not a "
                                        r"valid response \(1 such cell\(s\)\); its options are "
                                        r"A, B, C, D"):
        mixed.score(df)
    df = mixed_data()
    df.loc[1, "lik"] = 9
    with pytest.raises(DataError, match=r"item 'lik' has the value '9' at row 2.*its range is 1-5"):
        mixed.score(df)
    df = mixed_data()
    df.loc[0, "freq"] = "always"
    with pytest.raises(DataError, match=r"item 'freq' has the value 'always' at row 1.*its "
                                        r"categories are Never, Sometimes, Often"):
        mixed.score(df)
    df = mixed_data()
    df.loc[3, "task_b"] = 7
    with pytest.raises(DataError, match=r"item 'task' \(rater column 'task_b'\) has the value "
                                        r"'7' at row 4"):
        mixed.score(df)


def test_ids_from_framework_id_column():
    spec = one_tier("t", {"k": ["a", "b", "c"]}, type="likert", min=1, max=5)
    spec["id_column"] = "pid"
    fw = pv.read_framework(spec)
    df = pd.DataFrame({"pid": [10, 11], "a": [1, 2], "b": [2, 3], "c": [3, 4]})
    s = fw.score(df)
    assert s.scores.index.tolist() == [10, 11]
    assert df.columns.tolist() == ["pid", "a", "b", "c"]  # the caller's frame is untouched


@settings(max_examples=60, deadline=None)
@given(lo=st.integers(-5, 5), width=st.integers(1, 10),
       x=st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=1, max_size=30))
def test_reversing_twice_is_identity(lo, width, x):
    hi = lo + width
    vals = np.array([np.nan if v is None else lo + v * width for v in x])
    once = reverse_score(vals, lo, hi)
    np.testing.assert_array_equal(np.isnan(once), np.isnan(vals))
    assert np.nanmin(once, initial=hi) >= lo and np.nanmax(once, initial=lo) <= hi
    np.testing.assert_allclose(reverse_score(once, lo, hi), vals, rtol=0, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(data=st.lists(st.lists(st.one_of(st.none(), st.integers(2, 7)), min_size=3, max_size=3),
                     min_size=2, max_size=20))
def test_scoring_reversed_data_with_reverse_keys_is_identity(data):
    """Score, reverse the raw answers, score with every key flipped: the same scores."""
    plain = pv.read_framework(one_tier("t", {"k": ["a", "b", "-c"]}, type="likert", min=2, max=7))
    flipped = pv.read_framework(one_tier("t", {"k": ["-a", "-b", "c"]}, type="likert", min=2,
                                         max=7))
    df = pd.DataFrame(data, columns=["a", "b", "c"], dtype=float)
    pd.testing.assert_frame_equal(plain.score(df).scores, flipped.score(9 - df).scores)


# -- scale scores --------------------------------------------------------------------------


def test_scale_scores_missing_rule():
    fw = pv.read_framework({"tiers": [{"id": "t", "competencies": [
        {"id": "c4", "items": [{"id": f"a{j}", "type": "likert", "min": 1, "max": 5}
                               for j in range(4)]},
        {"id": "c5", "items": [{"id": f"b{j}", "type": "likert", "min": 1, "max": 5}
                               for j in range(5)]}]}]})
    nan = np.nan
    df = pd.DataFrame([
        [1, 2, 3, 4, 1, 1, 1, 1, 1],
        [1, 3, nan, nan, 5, 4, 3, nan, nan],   # 2 of 4 answered: scored; 3 of 5: scored
        [1, nan, nan, nan, 5, 4, nan, nan, nan],  # 1 of 4, 2 of 5: missing
        [nan] * 9,
    ], columns=[f"a{j}" for j in range(4)] + [f"b{j}" for j in range(5)])
    ss = fw.scale_scores(fw.score(df))
    np.testing.assert_array_equal(ss.means["c4"], [2.5, 2, nan, nan])
    np.testing.assert_array_equal(ss.means["c5"], [1, 4, nan, nan])
    np.testing.assert_array_equal(ss.sums["c4"], [10, 8, nan, nan])
    np.testing.assert_array_equal(ss.n_answered["c5"], [5, 3, 2, 0])
    # the tier pools its 9 items: 5/9 answered in row 2 (scored), 3/9 in row 3 (missing)
    np.testing.assert_allclose(ss.means["t"], [15 / 9, 16 / 5, nan, nan])
    assert ss.level == {"c4": "competency", "c5": "competency", "t": "tier"}
    assert list(ss.competencies.columns) == ["c4", "c5"] and list(ss.tiers.columns) == ["t"]
    # min_answered=0: any answer; 1: every item
    loose = fw.scale_scores(fw.score(df), min_answered=0)
    np.testing.assert_array_equal(loose.means["c4"], [2.5, 2, 1, nan])
    strict = fw.scale_scores(fw.score(df), min_answered=1)
    np.testing.assert_array_equal(strict.means["c4"], [2.5, nan, nan, nan])
    tidy = ss.to_frame()
    assert list(tidy.columns) == ["id", "scale", "level", "n_items", "n_answered", "mean", "sum"]
    assert len(tidy) == 12
    assert "at least 50% are answered" in str(ss.summary())


def test_scale_scores_errors():
    fw = pv.read_framework(one_tier("t", {"k": ["a", "b", "c"]}, type="likert", min=1, max=5))
    df = pd.DataFrame({"a": [1, 2], "b": [2, 3], "c": [3, 4]})
    with pytest.raises(DataError, match="scale_scores needs the result of framework.score"):
        fw.scale_scores(df)
    with pytest.raises(SpecificationError, match=r"min_answered=1.5 must be a fraction"):
        fw.scale_scores(fw.score(df), min_answered=1.5)
    with pytest.raises(SpecificationError, match=r"impute='mean' is not one of"):
        fw.scale_scores(fw.score(df), impute="mean")


# -- against psych::scoreItems ---------------------------------------------------------------


def _psych_framework(check: dict, dataset: str, tier: str | None, item: dict) -> pv.Framework:
    keys = dict(check["options"]["keys"])
    if tier is not None:
        keys.pop(tier)
    return pv.read_framework(one_tier(tier or "all", keys, **item))


def _compare(ss, ref: dict, scales: list[str], what: str) -> None:
    for scale in scales:
        assert_close(ss.means[scale].mean(), ref["score_means"][scale], "closed_form",
                     what=f"{what} score_means {scale}")
        assert_close(ss.means[scale].std(ddof=1), ref["score_sds"][scale], "closed_form",
                     what=f"{what} score_sds {scale}")
        for row, vals in ref["scores_first5"].items():
            assert_close(ss.means[scale].iloc[int(row) - 1], vals[scale], "closed_form",
                         what=f"{what} row {row} {scale}")


def test_holzinger_matches_score_items():
    """No missing data and no reversed items: our default rule is psych's. The tier pools
    the three competencies' items, as psych's all9 key does."""
    ref = checks("HolzingerSwineford1939")["scoreItems"]
    fw = _psych_framework(ref, "HolzingerSwineford1939", "all9",
                          {"type": "rating", "min": 0, "max": 10})
    df = load_data("HolzingerSwineford1939")
    with pytest.warns(pv.SpecificationWarning, match="not in the framework"):
        scored = fw.score(df)
    ss = fw.scale_scores(scored)
    renamed = ss.means.rename(columns={"all": "all9"})
    ss = type(ss)(**{**ss.__dict__, "means": renamed})
    _compare(ss, ref["values"], ["visual", "textual", "speed", "all9"], "HS")


def test_bfi_matches_score_items_with_median_imputation():
    """psych imputes each missing answer by the item median; impute='median' does the same
    (reverse keys on 1-6 agree: the declared range is the test-wide range)."""
    ref = checks("bfi")["scoreItems"]
    fw = _psych_framework(ref, "bfi", None, {"type": "likert", "min": 1, "max": 6})
    df = load_data("bfi")
    with pytest.warns(pv.SpecificationWarning, match="'gender', 'education', 'age'"):
        scored = fw.score(df)
    scales = list(ref["options"]["keys"])
    psych_like = fw.scale_scores(scored, impute="median")
    _compare(psych_like, ref["values"], scales, "bfi")
    ours = fw.scale_scores(scored)
    for scale in scales:
        # rows with a missing item: psych's missing_rows count
        assert int((ours.n_answered[scale] < 5).sum()) == ref["values"]["missing_rows"][scale]
        complete = ours.n_answered[scale] == 5
        # where nothing is missing, the conventions agree exactly
        np.testing.assert_array_equal(ours.means.loc[complete, scale],
                                      psych_like.means.loc[complete, scale])
        # elsewhere ours is the mean of the answered items (at least 3 of 5), never imputed
        partial = (ours.n_answered[scale] >= 3) & ~complete
        assert partial.any()
        assert ours.means.loc[ours.n_answered[scale] < 3, scale].isna().all()


def test_ability_matches_score_items_with_median_imputation():
    ref = checks("ability")["scoreItems"]
    fw = _psych_framework(ref, "ability", "ICAR16", {"type": "dichotomous"})
    df = load_data("ability")
    ss = fw.scale_scores(fw.score(df), impute="median")
    means = ss.means.rename(columns={"all": "ICAR16"})
    ss = type(ss)(**{**ss.__dict__, "means": means})
    _compare(ss, ref["values"], list(ref["options"]["keys"]), "ability")
    ours = fw.scale_scores(fw.score(df))
    for scale in ["reasoning", "letters", "matrix", "rotate"]:
        assert int((ours.n_answered[scale] < 4).sum()) == ref["values"]["missing_rows"][scale]


def test_score_from_path_uses_framework_id_column(tmp_path):
    spec = one_tier("t", {"k": ["a", "b", "c"]}, type="likert", min=1, max=5)
    spec["id_column"] = "pid"
    fw = pv.read_framework(spec)
    path = tmp_path / "r.csv"
    pd.DataFrame({"pid": ["x1", "x2"], "a": [1, 2], "b": [2, None], "c": [3, 4]}).to_csv(
        path, index=False)
    s = fw.score(path)
    assert s.scores.index.tolist() == ["x1", "x2"] and s.source == str(path)
    np.testing.assert_array_equal(s.scores["b"], [2, np.nan])


def test_data_columns_match_framework_ids_in_nfc_form():
    """A column typed with a combining accent (NFD, e.g. a macOS export) is the framework's
    precomposed id: it is scored, and the table notes the match; the values are untouched."""
    import unicodedata

    nfc = "Café1"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    fw = pv.read_framework(one_tier("t", {"c": [nfc, "b", "d"]}, type="likert", min=1, max=5))
    assert fw.item_ids[0] == nfc
    df = pd.DataFrame({nfd: [1, 2, 3, 4], "b": [2, 3, 4, 5], "d": [5, 4, 3, 3]})
    scored = fw.score(df)
    assert list(scored.scores.columns) == [nfc, "b", "d"]
    np.testing.assert_array_equal(scored.scores[nfc], [1, 2, 3, 4])
    from psychoval.framework._scoring import as_response_table

    table = as_response_table(df, fw)
    assert nfc in table.items and nfd not in table.items
    assert any("NFC" in n for n in table.notes)
    # a column already named in NFC next to its NFD twin: no rename, the twin is extra
    both = df.assign(**{nfc: [1, 1, 1, 1]})
    with pytest.warns(pv.SpecificationWarning, match="not in the framework"):
        np.testing.assert_array_equal(fw.score(both).scores[nfc], [1, 1, 1, 1])


def test_check_data_and_score_decode_each_column_once(monkeypatch):
    """validate runs check_data and then score on the same table: each (column, item) is
    decoded once, and the shared arrays cannot be changed by a caller."""
    from psychoval.datasets import sample_framework
    from psychoval.framework import _scoring

    calls = []
    real = _scoring._decode_column
    monkeypatch.setattr(_scoring, "_decode_column",
                        lambda table, col, item: calls.append(col) or real(table, col, item))
    fw = sample_framework()
    table = pv.load_sample()
    pv.check_data(table, fw)
    first = len(calls)
    assert first == sum(len(i.columns) for i in fw.items)  # each item's (rater) columns
    scored = fw.score(table)
    assert len(calls) == first  # score reused every decoded column
    values, status, _ = _scoring.decode_column(table, fw.items[0].columns[0], fw.items[0])
    with pytest.raises(ValueError):
        values[0] = 99.0
    assert scored.scores.shape == (table.n_respondents, len(fw.items))
