"""Extreme location and scale (issue 15, section 4 "numerics").

Multiplying the data by 1e300 or 1e-150, or adding 1e15, must give the statistics of the
original data (alpha, omega and EFA are scale-free, alpha and EFA location-free) to 1e-8
relative, or a DataError naming the item and the fix. Holzinger-Swineford (complete,
continuous scores: x + 1e15 rounds them to steps of 0.125, which no method can undo) and bfi
(integer codes with missing values, so the pairwise path; integers stay exact at 1e15).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import DataError
from tests.reference._refs import dat_r, load_data

HS9 = [f"x{i}" for i in range(1, 10)]
BFI15 = [f"{t}{i}" for t in "ACE" for i in range(1, 6)]
RTOL = 1e-8  # the bar: the statistics of the untransformed data to 1e-8 relative

TRANSFORMS = {
    "x1e300": (lambda d: d * 1e300, 1e300, 0.0),
    "x1e-150": (lambda d: d * 1e-150, 1e-150, 0.0),
    "plus1e15": (lambda d: d + 1e15, 1.0, 1e15),
}


def _hs() -> pd.DataFrame:
    return load_data("HolzingerSwineford1939")[HS9].astype(float)


def _bfi() -> pd.DataFrame:
    return dat_r("bfi")[BFI15].astype(float)


DATA = {"hs": _hs, "bfi": _bfi, "bfi_complete": lambda: _bfi().dropna()}


def _close(actual, expected, what: str, rtol: float = RTOL, atol: float = 0.0) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float),
                               np.asarray(expected, dtype=float), rtol=rtol, atol=atol,
                               equal_nan=True, err_msg=what)


def _lossy(name: str, transform: str) -> bool:
    """HS + 1e15: the continuous scores are rounded to multiples of 0.125 by the addition."""
    return name == "hs" and transform == "plus1e15"


# ----------------------------------------------------------------------------------- alpha


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("name", list(DATA))
def test_alpha_is_unchanged_by_extreme_scale_and_location(name, transform):
    fn, mult, add = TRANSFORMS[transform]
    data = DATA[name]()
    if _lossy(name, transform):
        with pytest.raises(DataError, match=r"item 'x1' .*steps of 0\.125.*Subtract a constant"):
            pv.alpha(fn(data))
        return
    ref = pv.alpha(data)
    res = pv.alpha(fn(data))
    for f in ("raw_alpha", "std_alpha", "g6", "average_r", "s_n", "ase", "median_r", "var_r",
              "feldt_lower", "feldt_upper"):
        _close(getattr(res, f), getattr(ref, f), f"{transform} {f}")
    _close(res.alpha_drop.to_numpy(), ref.alpha_drop.to_numpy(), f"{transform} alpha_drop")
    cols = ["n", "raw_r", "std_r", "r_cor", "r_drop"]
    _close(res.item_stats[cols].to_numpy(), ref.item_stats[cols].to_numpy(),
           f"{transform} item_stats")
    # location and scale come back in the data's units
    _close(res.item_stats["mean"], ref.item_stats["mean"] * mult + add, f"{transform} means")
    _close(res.item_stats["sd"], ref.item_stats["sd"] * mult, f"{transform} item sd")
    _close(res.mean, ref.mean * mult + add, f"{transform} total mean")
    _close(res.sd, ref.sd * mult, f"{transform} total sd", rtol=RTOL if add == 0 else 1e-6)


def test_alpha_bootstrap_is_unchanged_by_extreme_scale():
    data = _bfi().dropna()
    ref = pv.alpha(data, ci_method="bca", n_boot=200, seed=3)
    res = pv.alpha(data * 1e300, ci_method="bca", n_boot=200, seed=3)
    _close(res.boot_alphas, ref.boot_alphas, "bootstrap alphas")
    _close([res.ci_lower, res.ci_upper], [ref.ci_lower, ref.ci_upper], "BCa interval")


def test_pairwise_total_keeps_its_digits_far_from_zero():
    """The total score's SD and the item-total r on the pairwise path are formed around the
    row centre: 1e15 + x used to lose them to cancellation in the raw row means."""
    data = _bfi()
    ref = pv.alpha(data)
    res = pv.alpha(data + 1e15)
    _close(res.item_stats["raw_r"], ref.item_stats["raw_r"], "raw_r")
    _close(res.sd, ref.sd, "sd of the total", rtol=1e-6)


# ---------------------------------------------------------------------------- omega, efa


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("name", ["hs", "bfi"])
def test_omega_is_unchanged_by_extreme_scale_and_location(name, transform):
    fn, _mult, _add = TRANSFORMS[transform]
    data = DATA[name]()
    if _lossy(name, transform):
        with pytest.raises(DataError, match=r"item 'x1' .*Subtract a constant"):
            pv.omega(fn(data), n_factors=3)
        return
    ref = pv.omega(data, n_factors=3)
    res = pv.omega(fn(data), n_factors=3)
    for f in ("omega_h", "omega_total", "alpha"):
        _close(getattr(res, f), getattr(ref, f), f"{transform} {f}")


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("name", ["hs", "bfi"])
def test_efa_is_unchanged_by_extreme_scale_and_location(name, transform):
    fn, _mult, _add = TRANSFORMS[transform]
    data = DATA[name]()
    if _lossy(name, transform):
        with pytest.raises(DataError, match=r"item 'x1' .*Subtract a constant"):
            pv.efa(fn(data), n_factors=3)
        return
    ref = pv.efa(data, n_factors=3)
    res = pv.efa(fn(data), n_factors=3)
    _close(res.e_values, ref.e_values, f"{transform} eigenvalues of R", atol=1e-13)
    _close(res.uniquenesses.to_numpy(), ref.uniquenesses.to_numpy(),
           f"{transform} uniquenesses", atol=1e-12)
    # oblimin (GPA) stops at a gradient norm of 1e-8, so where it stops moves with the last
    # bits of R (x * 1e300 rounds every value): measured up to 1.04e-8 (bfi + 1e15), against
    # 1e-15 for the extraction and varimax below
    _close(res.loadings.to_numpy(), ref.loadings.to_numpy(), f"{transform} loadings",
           atol=5e-8)
    _close(res.statistic, ref.statistic, f"{transform} chi-square")
    # unrotated and varimax solutions agree to rounding
    for rotation in (None, "varimax"):
        a = pv.efa(data, n_factors=3, rotation=rotation).loadings.to_numpy()
        b = pv.efa(fn(data), n_factors=3, rotation=rotation).loadings.to_numpy()
        _close(b, a, f"{transform} {rotation} loadings", atol=1e-12)


def test_kmo_and_bartlett_are_unchanged_by_extreme_scale():
    data = _hs()
    for fn in (lambda d: d * 1e300, lambda d: d * 1e-150):
        _close(pv.kmo(fn(data)).msa, pv.kmo(data).msa, "kmo")
        _close(pv.bartlett(fn(data)).chisq, pv.bartlett(data).chisq, "bartlett")


# ------------------------------------------------------------------ the resolution check


def test_resolution_error_names_item_values_and_fix():
    data = _hs()
    data["x5"] = data["x5"] + 1e15
    with pytest.raises(DataError) as err:
        pv.alpha(data)
    msg = str(err.value)
    assert "'x5'" in msg and "1e+15" in msg and "0.125" in msg
    assert "Subtract a constant" in msg


def test_integer_codes_far_from_zero_are_exact():
    """Integers below 2**53 are stored exactly: 1e15 + a Likert code loses nothing."""
    data = _bfi().dropna()
    assert pv.alpha(data + 1e15).raw_alpha == pytest.approx(pv.alpha(data).raw_alpha,
                                                            rel=1e-12)


def test_moderate_offsets_pass_the_resolution_check():
    """1e6 + x keeps about ten significant digits of the differences (the scores are rounded
    to steps of 1.2e-10): no error, and the statistics move only by that rounding."""
    data = _hs()
    _close(pv.alpha(data + 1e6).raw_alpha, pv.alpha(data).raw_alpha, "alpha", rtol=1e-9)
    _close(pv.efa(data + 1e6, n_factors=3).loadings.to_numpy(),
           pv.efa(data, n_factors=3).loadings.to_numpy(), "efa", atol=1e-7)


def test_mixed_scales_within_one_data_set():
    """Columns on very different scales: correlations are per column, so each is scaled
    on its own."""
    data = _hs()
    scaled = data.copy()
    scaled["x1"] *= 1e300
    scaled["x2"] *= 1e-150
    _close(pv.efa(scaled, n_factors=3).loadings.to_numpy(),
           pv.efa(data, n_factors=3).loadings.to_numpy(), "efa", atol=5e-8)
