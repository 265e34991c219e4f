"""Krippendorff's alpha: Krippendorff (2011) worked example with missing values, the
`krippendorff` package (test-only), bootstrap reproducibility, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import DataError, DegenerateDataWarning, SpecificationError

nan = np.nan
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", example C: 4 observers
# (rows here as in the paper), 12 units, values 1-5, missing values.
K2011 = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
                  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
                  [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
                  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]])


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.743), ("ordinal", 0.815),
                                                  ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_2011_worked_example(level, published):
    res = pv.krippendorff_alpha(K2011.T, level=level, n_boot=0)
    assert res.alpha == pytest.approx(published, abs=5e-4)
    # unit 12 has a single value: not pairable; n = 40 pairable values as in the paper
    assert res.n_pairable_targets == 11 and res.n_pairable == 40
    assert np.isnan(res.lower) and np.isnan(res.upper)


def test_nominal_coincidences_of_the_worked_example():
    # Krippendorff (2011), example C: n_c = 9, 13, 10, 5, 3 (values 1..5); n = 40
    res = pv.krippendorff_alpha(K2011.T, level="nominal", n_boot=0)
    np.testing.assert_allclose(res.coincidences.sum(axis=1), [9, 13, 10, 5, 3], atol=1e-12)
    assert res.coincidences.to_numpy() == pytest.approx(res.coincidences.to_numpy().T)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agrees_with_the_krippendorff_package(level, seed):
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, 80)
    x = np.clip(truth[:, None] + rng.integers(-1, 2, (80, 5)), 1, 5).astype(float)
    x[rng.random(x.shape) < 0.25] = nan
    if seed == 3:  # non-integer interval data
        x = x + rng.normal(0, 0.1, x.shape)
    ours = pv.krippendorff_alpha(x, level=level, n_boot=0).alpha
    theirs = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_bootstrap_is_seeded_and_order_invariant():
    rng = np.random.default_rng(5)
    x = np.clip(rng.integers(1, 5, (50, 1)) + rng.integers(-1, 2, (50, 3)), 1, 4).astype(float)
    a = pv.krippendorff_alpha(x, level="ordinal", n_boot=300, seed=42)
    b = pv.krippendorff_alpha(x, level="ordinal", n_boot=300, seed=42)
    c = pv.krippendorff_alpha(x, level="ordinal", n_boot=300, seed=43)
    assert (a.lower, a.upper) == (b.lower, b.upper)
    assert (a.lower, a.upper) != (c.lower, c.upper)
    assert a.lower < a.alpha < a.upper and a.seed == 42 and a.n_boot == 300
    perm = pv.krippendorff_alpha(x[rng.permutation(50)][:, [2, 0, 1]], level="ordinal",
                                 n_boot=0)
    assert perm.alpha == pytest.approx(a.alpha, abs=1e-13)


def test_perfect_agreement_and_long_layout():
    x = np.repeat(np.arange(1.0, 7.0)[:, None], 3, axis=1)
    assert pv.krippendorff_alpha(x, level="nominal", n_boot=0).alpha == 1.0
    df = pd.DataFrame(K2011.T, columns=["A", "B", "C", "D"])
    df["unit"] = [f"u{i}" for i in range(1, 13)]
    long = df.melt(id_vars="unit", var_name="observer", value_name="value").dropna()
    res = pv.krippendorff_alpha(long, layout="long", targets="unit", raters="observer",
                                scores="value", level="interval", n_boot=0)
    assert res.alpha == pytest.approx(0.849, abs=5e-4)
    assert res.n_targets == 12  # unit 12 appears once in the long table
    text = str(res.summary())
    assert "1 candidate(s) rated once" in text
    json.dumps(res.to_dict())
    assert res.to_frame().loc[0, "level"] == "interval"


def test_errors():
    with pytest.raises(DataError, match=r"no candidate was rated by two or more raters"):
        pv.krippendorff_alpha(np.array([[1, nan], [nan, 2]]), n_boot=0)
    with pytest.raises(DataError, match=r"rater 'rater2' gave -1 to the candidate in row 2; "
                                        r"the ratio level"):
        pv.krippendorff_alpha(np.array([[1, 2], [3, -1]]), level="ratio", n_boot=0)
    with pytest.raises(SpecificationError, match=r"level='binary' is not one of"):
        pv.krippendorff_alpha(K2011.T, level="binary")
    with pytest.raises(SpecificationError, match=r"n_boot=-5 must be a whole number"):
        pv.krippendorff_alpha(K2011.T, n_boot=-5)
    with pytest.warns(DegenerateDataWarning, match="every pairable rating has the same value"):
        res = pv.krippendorff_alpha(np.ones((4, 3)), n_boot=0)
    assert np.isnan(res.alpha)
