"""pv.score_items: psych::scoreItems without imputation (extra R reference), options, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval._input import as_item_matrix
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.reliability._common import reverse_items
from tests._reliability_refs import extra_checks
from tests._tolerances import assert_close
from tests.reference._refs import load_data


def _keys(spec):
    keys = {s: [i.lstrip("-") for i in its] for s, its in spec.items()}
    rev = sorted({i[1:] for its in spec.values() for i in its if i.startswith("-")})
    return keys, rev


def test_no_imputation_matches_psych_impute_none():
    check = extra_checks()["scoreItems.bfi.none"]
    keys, rev = _keys(check["options"]["keys"])
    res = pv.score_items(load_data("bfi"), keys, reverse=rev)
    assert res.impute == "none"
    v = check["values"]
    scales = list(keys)
    for name, ours in (("alpha", "alpha"), ("G6", "g6"), ("av.r", "average_r"), ("sn", "s_n")):
        assert_close(getattr(res, ours)[scales].to_numpy(), [v[name][s] for s in scales],
                     "closed_form", what=name)
    assert_close(res.cor.loc[scales, scales].to_numpy(),
                 [[v["cor"][a][b] for b in scales] for a in scales], "closed_form", what="cor")
    assert_close(res.scores.mean()[scales].to_numpy(), [v["score_means"][s] for s in scales],
                 "closed_form", what="means")
    assert_close(res.scores.std()[scales].to_numpy(), [v["score_sds"][s] for s in scales],
                 "closed_form", what="sds")
    assert_close(res.scores.iloc[:5][scales].to_numpy(),
                 [[row[s] for s in scales] for row in v["scores_first5"]], "closed_form",
                 what="first5")


def test_alpha_agrees_with_alpha_on_complete_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(80, 1)) + rng.normal(size=(80, 6))
    df = pd.DataFrame(x, columns=list("abcdef"))
    res = pv.score_items(df, {"s1": ["a", "b", "c"], "s2": ["d", "e", "f"]})
    for s, its in (("s1", list("abc")), ("s2", list("def"))):
        a = pv.alpha(df[its])
        assert res.alpha[s] == pytest.approx(a.raw_alpha, rel=1e-12)
        assert res.ase[s] == pytest.approx(a.ase, rel=1e-12)
        np.testing.assert_allclose(res.scores[s], df[its].mean(axis=1), rtol=1e-14)
    assert res.corrected.loc["s1", "s2"] == pytest.approx(
        res.cor.loc["s1", "s2"] / np.sqrt(res.alpha["s1"] * res.alpha["s2"]))
    assert res.corrected.loc["s2", "s1"] == res.cor.loc["s2", "s1"]
    assert res.to_frame().shape[0] == 2 and "Scale scores" in str(res.summary())


def test_reverse_keying_twice_is_identity():
    m = as_item_matrix(pd.DataFrame({"a": [1, 2, 5], "b": [3, 4, 1]}))
    once, _, rng = reverse_items(m, ["a"])
    twice, _, _ = reverse_items(once, ["a"], rng)
    np.testing.assert_array_equal(twice.values, m.values)


def test_score_items_errors():
    df = pd.DataFrame({"a": [1, 2, 3], "b": [2, 1, 3]})
    with pytest.raises(SpecificationError, match="keys must be a non-empty mapping"):
        pv.score_items(df, {})
    with pytest.raises(SpecificationError, match="scale 's' must list its items"):
        pv.score_items(df, {"s": "a"})
    with pytest.raises(DataError, match=r"item\(s\) 'z' not among the columns"):
        pv.score_items(df, {"s": ["a", "z"]})
    with pytest.raises(SpecificationError, match="impute='zero' is not one of"):
        pv.score_items(df, {"s": ["a", "b"]}, impute="zero")
