"""psychoval.compat.cronbach_alpha against psych 2.2.9.

The cases are pingouin's own (raphaelvallat/pingouin 14994d6, tests/test_reliability.py::
test_cronbach_alpha and the docstring examples: long format pivoted to wide, missing values
under nan_policy "pairwise" and "listwise", the Feldt interval rounded to 3 decimals),
recomputed with psych::alpha and psych::alpha.ci on bfi's agreeableness items (with their
missing values) by tests/reference/r/compat.R; see README.md beside this file for why no file
of pingouin is copied. pingouin checks ``round(alpha, 3) == 0.592``; we compare alpha at the
closed-form tolerance and the interval exactly as pingouin returns it (rounded).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.compat import cronbach_alpha
from tests._tolerances import assert_close
from tests.reference._refs import extra_checks, load_data

REFS = extra_checks("compat")
AGREE = ["A2", "A3", "A4", "A5"]


def _data(check_id: str) -> pd.DataFrame:
    bfi = load_data("bfi")
    if check_id == "alpha.complete":
        x = bfi.iloc[:, :25].dropna().iloc[:500].reset_index(drop=True)
        return x.loc[:59, ["C1", "C2", "C3", "C4", "C5"]]
    return bfi[AGREE]


CASES = {"alpha.pairwise": {}, "alpha.listwise": {"nan_policy": "listwise"},
         "alpha.pairwise.ci90": {"ci": 0.90}, "alpha.complete": {}}


def test_every_alpha_check_has_a_case():
    assert {c for c in REFS if c.startswith("alpha.")} == set(CASES)


@pytest.mark.filterwarnings("ignore::psychoval.PsychovalWarning")  # C4, C5 unreversed
@pytest.mark.parametrize("check_id", sorted(CASES))
def test_matches_psych_alpha(check_id):
    ref = REFS[check_id]["values"]
    a, ci = cronbach_alpha(_data(check_id), **CASES[check_id])
    assert isinstance(a, float) and isinstance(ci, np.ndarray) and ci.shape == (2,)
    assert_close(a, ref["alpha"], "closed_form", what=check_id)
    assert ci.tolist() == [round(ref["lower"], 3), round(ref["upper"], 3)]


def test_interval_unrounded_is_feldt():
    """The interval behind the rounding: psych::alpha.ci, and the F quantiles directly."""
    from scipy.stats import f

    ref = REFS["alpha.listwise"]["values"]
    res = pv.alpha(_data("alpha.listwise"), missing="listwise", ci_method="feldt")
    assert_close([res.feldt_lower, res.feldt_upper], [ref["lower"], ref["upper"]],
                 "closed_form")
    n, k, a = REFS["alpha.listwise"]["options"]["n"], 4, ref["alpha"]
    lower = 1 - (1 - a) * f.isf(0.025, n - 1, (n - 1) * (k - 1))
    assert_close(res.feldt_lower, lower, "closed_form")


def test_long_format_is_pivoted():
    wide = load_data("bfi")[AGREE].iloc[:200]
    long = (wide.rename_axis("subj").reset_index()
            .melt(id_vars="subj", var_name="item", value_name="score"))
    assert cronbach_alpha(long, items="item", scores="score", subject="subj")[0] == \
        pytest.approx(cronbach_alpha(wide)[0], rel=1e-12)
    # pingouin's test then blanks one long-format score (a missing cell after the pivot)
    long.loc[2, "score"] = np.nan
    holed = wide.copy()
    holed.loc[long.loc[2, "subj"], long.loc[2, "item"]] = np.nan
    for policy in ("pairwise", "listwise"):
        a_long, ci_long = cronbach_alpha(long, items="item", scores="score", subject="subj",
                                         nan_policy=policy)
        a_wide, ci_wide = cronbach_alpha(holed, nan_policy=policy)
        assert a_long == pytest.approx(a_wide, rel=1e-12) and ci_long.tolist() == ci_wide.tolist()
    assert cronbach_alpha(holed, nan_policy="listwise")[0] == pytest.approx(
        cronbach_alpha(holed.dropna())[0], rel=1e-12)
    with pytest.raises(pv.SpecificationError, match="needs all of items=, scores= and subject="):
        cronbach_alpha(long, items="item", scores="score")


def test_bad_input():
    with pytest.raises(pv.DataError, match="data must be a DataFrame"):
        cronbach_alpha(np.ones((5, 3)))
    with pytest.raises(pv.DataError, match="column 'g' is not numeric"):
        cronbach_alpha(pd.DataFrame({"a": [1, 2, 3], "b": [2, 3, 3], "g": list("xyz")}))
    with pytest.raises(pv.SpecificationError, match="nan_policy='raise' is not one of"):
        cronbach_alpha(pd.DataFrame({"a": [1, 2], "b": [2, 3]}), nan_policy="raise")
    with pytest.raises(pv.DataError, match="1 item"):
        cronbach_alpha(pd.DataFrame({"a": [1, 2]}))
