"""Polychoric / tetrachoric correlations (issue 4): R references made by
tests/reference/r/efa_extra.R (unobserved categories), bivariate-normal identities, properties
and error messages. The shared-reference checks live in tests/reference/checkers/efa.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._bvn import bvn_cdf
from tests._tolerances import assert_close
from tests.reference._refs import load_data

EXTRA = json.loads((Path(__file__).parent / "reference" / "ref_extra" / "efa_extra.json")
                   .read_text(encoding="utf-8"))
CHECKS = {c["id"]: c for c in EXTRA["checks"]}


def _extra_data(name: str) -> pd.DataFrame:
    """The data sets of efa_extra.R's polychoric checks, built as the R script builds them."""
    bfi = load_data("bfi")
    d = bfi.iloc[:800][["A1", "A2", "A3", "A4", "A5"]].copy()
    d.loc[d["A2"] == 3, "A2"] = 4
    if name == "d_top":
        d.loc[d["A4"] == 6, "A4"] = 5
    return d


def _matrix(d, items):
    return pd.DataFrame(d).T.loc[items, items].to_numpy(dtype=float)


# ---------------------------------------------------------------------------------------
# bivariate normal CDF: exact identities at 1e-15


def test_bvn_orthant_identity():
    rho = np.linspace(-0.999, 0.999, 401)
    got = bvn_cdf(0.0, 0.0, rho)
    np.testing.assert_allclose(got, 0.25 + np.arcsin(rho) / (2 * np.pi), rtol=0, atol=2e-15)


def test_bvn_independence_and_complement():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 500)) * 2
    np.testing.assert_allclose(bvn_cdf(a, b, 0.0), ndtr(a) * ndtr(b), rtol=0, atol=2e-15)
    r = rng.uniform(-0.99, 0.99, 500)
    # P(X<=a, Y<=b) + P(X<=a, Y>b) = P(X<=a); P(X<=a, Y>b) = P(X<=a, -Y<-b) with corr -r
    np.testing.assert_allclose(bvn_cdf(a, b, r) + bvn_cdf(a, -b, -r), ndtr(a), rtol=0,
                               atol=5e-15)
    np.testing.assert_allclose(bvn_cdf(a, b, r), bvn_cdf(b, a, r), rtol=0, atol=1e-15)


def test_bvn_infinite_limits():
    assert bvn_cdf(np.inf, 0.3, 0.5) == pytest.approx(ndtr(0.3), abs=1e-16)
    assert bvn_cdf(-np.inf, 0.3, 0.5) == 0.0
    assert bvn_cdf(np.inf, np.inf, -0.5) == 1.0


# ---------------------------------------------------------------------------------------
# R references: unobserved categories


@pytest.mark.parametrize("name", ["d_mid", "d_top"])
def test_psych_polychoric_unobserved_category(name):
    check = CHECKS[f"polychoric.{name}"]
    items = check["options"]["items"]
    res = pv.polychoric(_extra_data(name), method="psych")
    assert_close(res.rho.to_numpy(), _matrix(check["values"]["rho"], items),
                 "polychoric_psych", what=name)
    tau = pd.DataFrame(check["values"]["tau"]).loc[items]
    inf = pd.DataFrame(check["values"]["tau_inf"]).loc[items].to_numpy(dtype=float)
    ours = res.thresholds.to_numpy()
    ref = np.where(inf != 0, np.copysign(np.inf, inf), tau.to_numpy(dtype=float))
    finite = np.isfinite(ref)
    assert np.array_equal(np.isfinite(ours), finite)
    assert np.array_equal(np.sign(ours[~finite]), np.sign(ref[~finite]))
    assert_close(ours[finite], ref[finite], "thresholds", what=f"{name} tau")
    # d_mid: same range for every item -> global thresholds (A2 has a repeated cut point);
    # d_top: A4 lacks the top category -> psych's per-pair thresholds with the correction
    assert res.global_thresholds is (name == "d_mid")
    if name == "d_mid":
        t = res.thresholds.loc["A2"].to_numpy()
        assert t[1] == t[2]
    else:
        assert res.corrected_cells > 0


@pytest.mark.parametrize("name", ["d_mid", "d_top"])
def test_lavcor_unobserved_category(name):
    check = CHECKS[f"lavCor.{name}"]
    items = check["options"]["items"]
    res = pv.polychoric(_extra_data(name), method="lavaan")
    assert_close(res.rho.to_numpy(), _matrix(check["values"]["cor"], items),
                 "polychoric_lavaan", what=name)
    th = check["values"]["th"]
    ours = {f"{it}|t{c + 1}": v for it in items
            for c, v in enumerate(res.thresholds.loc[it]) if np.isfinite(v)}
    assert list(ours) == list(th)  # lavaan: only observed categories have thresholds
    assert_close(list(ours.values()), list(th.values()), "thresholds", what=name)


def test_psych_and_lavaan_agree_where_conventions_coincide():
    """bfi, global thresholds, no empty cells: psych's estimate differs from the exact MLE
    only by its optimize() stopping point (< 1e-4)."""
    items = ["A1", "A2", "A3", "A4", "A5", "C1", "C2"]
    d = load_data("bfi")[items]
    a = pv.polychoric(d, method="psych").rho.to_numpy()
    b = pv.polychoric(d, method="lavaan").rho.to_numpy()
    assert np.abs(a - b).max() < 1e-4


# ---------------------------------------------------------------------------------------
# properties


def _ordinal(seed: int, n: int, k: int, ncat: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 1))
    z = 0.7 * f + 0.7 * rng.standard_normal((n, k))
    cuts = np.linspace(-1.2, 1.2, ncat - 1)
    x = np.digitize(z, cuts).astype(float)
    x[rng.random((n, k)) < 0.05] = np.nan
    return x


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["psych", "lavaan"]))
def test_item_and_respondent_order_invariance(seed, method):
    x = _ordinal(seed, 300, 4, 4)
    rng = np.random.default_rng(seed + 1)
    rows = rng.permutation(x.shape[0])
    cols = rng.permutation(x.shape[1])
    base = pv.polychoric(x, method=method)
    perm = pv.polychoric(x[rows][:, cols], method=method)
    # psych mode replays R's optimize(), whose path follows the objective's last bits; a
    # permuted table sums in another order, so agreement is to ~1e-12, not bitwise
    np.testing.assert_allclose(perm.rho.to_numpy(), base.rho.to_numpy()[np.ix_(cols, cols)],
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(perm.thresholds.to_numpy(),
                               base.thresholds.to_numpy()[cols], rtol=0, atol=1e-14)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_polychoric_of_binary_items_is_tetrachoric(seed):
    x = _ordinal(seed, 400, 4, 2)
    for method in ("lavaan", "psych"):
        poly = pv.polychoric(x, method=method)
        tet = pv.tetrachoric(x, method=method)
        if method == "psych" and tet.corrected_cells:
            continue  # psych's tetrachoric adds .5 to empty cells, its polychoric does not
        # (psych: proportions vs counts in the objective change only its last bits)
        np.testing.assert_allclose(poly.rho.to_numpy(), tet.rho.to_numpy(), rtol=0,
                                   atol=1e-9)
        np.testing.assert_allclose(poly.thresholds.to_numpy(), tet.thresholds.to_numpy(),
                                   rtol=0, atol=1e-14)


def test_recovers_latent_correlation():
    rng = np.random.default_rng(11)
    z = rng.multivariate_normal([0, 0, 0], [[1, .6, .3], [.6, 1, .45], [.3, .45, 1]], 20000)
    x = np.digitize(z, [-1.0, -0.2, 0.5, 1.3])
    res = pv.polychoric(x, method="lavaan")
    assert res.converged
    r = res.rho.to_numpy()
    assert abs(r[0, 1] - .6) < .03 and abs(r[0, 2] - .3) < .03 and abs(r[1, 2] - .45) < .03


def test_pairwise_n_and_fields():
    x = _ordinal(3, 200, 3, 3)
    res = pv.polychoric(x, method="lavaan")
    obs = ~np.isnan(x)
    assert np.array_equal(res.n_pairwise.to_numpy(), obs.T.astype(int) @ obs.astype(int))
    assert res.min_pairwise_n == res.n_pairwise.to_numpy().min()
    frame = res.to_frame()
    assert list(frame.columns) == ["item1", "item2", "rho", "n"] and len(frame) == 3
    assert res.to_dict()["schema"] == "psychoval.polychoric/1"
    assert "Polychoric" in str(res.summary())


# ---------------------------------------------------------------------------------------
# errors


def test_error_non_integer_code():
    d = pd.DataFrame({"a": [1, 2, 3, 2.5], "b": [1, 2, 3, 1]})
    with pytest.raises(DataError, match=r"item 'a' has the non-integer value 2\.5 at row 4"):
        pv.polychoric(d)


def test_error_too_many_categories():
    d = pd.DataFrame({"a": np.arange(24) % 12, "b": np.arange(24) % 3})
    with pytest.raises(DataError, match=r"item 'a' has 12 distinct values .*Pearson"):
        pv.polychoric(d)


def test_error_constant_item():
    d = pd.DataFrame({"a": [1, 2, 3, 2], "b": [2, 2, 2, 2]})
    with pytest.raises(DataError, match=r"item 'b' is constant \(every answer is 2\)"):
        pv.polychoric(d)


def test_error_no_overlap():
    d = pd.DataFrame({"a": [1, 2, 1, 2, np.nan, np.nan, np.nan, np.nan],
                      "b": [np.nan, np.nan, np.nan, np.nan, 1, 2, 2, 1],
                      "c": [1, 2, 2, 1, 1, 2, 1, 2]})
    with pytest.raises(DataError, match=r"items 'a' and 'b' have 0 respondent\(s\) in common"):
        pv.polychoric(d)


def test_error_tetrachoric_needs_two_categories():
    d = pd.DataFrame({"a": [0, 1, 2, 1], "b": [0, 1, 1, 0]})
    with pytest.raises(DataError, match=r"item 'a' has more than two categories \(3\)"):
        pv.tetrachoric(d)


def test_error_bad_method():
    with pytest.raises(SpecificationError, match=r"method='mplus' is not one of"):
        pv.polychoric(np.array([[1, 2], [2, 1], [1, 1]]), method="mplus")


def test_psych_smoothing_is_flagged():
    # three items whose pairwise tetrachorics cannot form a positive definite matrix
    rng = np.random.default_rng(5)
    n = 400
    a = rng.integers(0, 2, n)
    b = a.copy()
    b[:8] = 1 - b[:8]
    c = a.copy()
    c[8:16] = 1 - c[8:16]
    d = np.column_stack([a, b, 1 - c, rng.integers(0, 2, n)])
    with pytest.warns(pv.DegenerateDataWarning, match="smoothed"):
        res = pv.tetrachoric(d)
    assert res.smoothed
    assert np.linalg.eigvalsh(res.rho.to_numpy()).min() > 0
    assert math.isclose(res.rho.to_numpy()[0, 0], 1.0)
