"""pv.omega / pv.omega_sem: extra R references, errors, bootstrap, properties."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import (
    ConvergenceWarning,
    ImproperSolutionWarning,
    PsychovalWarning,
    SpecificationError,
)
from psychoval.stats.reliability._omega import _omega_from_sl
from tests._tolerances import assert_close
from tests.reference._refs import load_data

REF = Path(__file__).parent / "reference" / "ref_extra" / "omega_extra.json"
NINE = [f"x{i}" for i in range(1, 10)]


def _extra(cid: str) -> dict:
    with open(REF, encoding="utf-8") as fh:
        checks = json.load(fh)["checks"]
    return next(c for c in checks if c["id"] == cid)


def _records(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).set_index("_row")


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return load_data("HolzingerSwineford1939")


def _check_scalars(res, v, kind_omega="iterative"):
    assert_close(res.omega_h, v["omega_h"], kind_omega, what="omega_h")
    assert_close(res.omega_lim, v["omega.lim"], kind_omega, what="omega.lim")
    assert_close(res.ecv, v["ECV"], kind_omega, what="ECV")
    assert_close(res.omega_total, v["omega.tot"], "iterative", what="omega.tot")
    assert_close(res.alpha, v["alpha"], "closed_form", what="alpha")
    assert_close(res.g6, v["G6"], "closed_form", what="G6")


@pytest.mark.parametrize("option", ["equal", "first", "second"])
def test_two_group_factors_match_psych_option(hs, option):
    v = _extra(f"omega.2f.{option}")["values"]
    res = pv.omega(hs[[f"x{i}" for i in range(1, 7)]], n_factors=2, sl_option=option)
    # With two factors g loadings are sqrt(phi12)-type functions of the factor correlation,
    # which is compared at the EFA tolerance: GPArotation stops oblimin early on this flat
    # criterion (phi12 .305135 in psych; .305149 after 1e5 more GPA iterations, ours .305157),
    # giving omega_h gaps up to 2.2e-5. Omega total does not depend on the rotation.
    _check_scalars(res, v, kind_omega="efa")
    ref_sl = _records(v["schmid_sl"])
    assert_close(res.sl.to_numpy(), ref_sl[list(res.sl.columns)].to_numpy(), "efa", what="sl")
    grp = _records(v["omega.group"])
    assert_close(res.omega_group.to_numpy(), grp[["total", "general", "group"]].to_numpy(),
                 "efa", what="omega.group")
    assert res.sl_option == option
    assert any("not identified" in n for n in res.summary().notes)


def test_matrix_input_matches_psych(hs):
    v = _extra("omega.cor")["values"]
    res = pv.omega(hs[NINE].corr(), n_factors=3, n_obs=301)
    _check_scalars(res, v)
    gs = v["gstats"]
    assert_close(res.gstats["chisq"], gs["chisq"], "efa_fit", what="chisq")
    assert_close(res.gstats["rmsea"], gs["RMSEA"]["RMSEA"], "efa", what="RMSEA")
    raw = pv.omega(hs[NINE], n_factors=3)
    assert res.omega_h == pytest.approx(raw.omega_h, abs=1e-8)  # pandas vs our corr: 1e-16 input gaps


def test_polychoric_bfi_matches_psych():
    bfi = load_data("bfi")
    c = _extra("omega.bfi.poly")
    v = c["values"]
    rev = [k.rstrip("-") for k, s in v["key"].items() if s < 0]
    res = pv.omega(bfi[c["options"]["items"]], n_factors=3, cor="polychoric", reverse=rev)
    _check_scalars(res, v)
    assert res.ordinal
    assert any("ordinal" in f[0] for f in res.summary().facts)


def test_bootstrap_plausible_against_psych(hs):
    v = _extra("omega.boot")["values"]
    res = pv.omega(hs[NINE], n_factors=3, n_boot=40, seed=11)
    again = pv.omega(hs[NINE], n_factors=3, n_boot=40, seed=11)
    pd.testing.assert_frame_equal(res.ci, again.ci)
    ci = res.ci
    for stat in ("omega_h", "alpha", "omega_total", "g6", "omega_lim"):
        est = getattr(res, stat)
        assert ci.loc[stat, "lower"] < est < ci.loc[stat, "upper"], stat
    # psych's n.iter interval (normal theory on Fisher z) is wider; ours lies inside it
    lo, hi = v["ci"]["lower"]["omega_h"], v["ci"]["upper"]["omega_h"]
    assert lo < ci.loc["omega_h", "lower"] and ci.loc["omega_h", "upper"] < hi
    assert res.boot_failed == 0
    assert set(res.to_frame()["statistic"]) >= {"omega_h", "omega_total"}


def test_reverse_equals_negated_matrix(hs):
    x = hs[NINE].copy()
    a = pv.omega(x, n_factors=3)
    x["x3"] = -x["x3"]
    with pytest.warns(PsychovalWarning, match="x3 load negatively on the general factor"):
        pv.omega(x, n_factors=3)
    b = pv.omega(x, n_factors=3, reverse=["x3"])
    assert b.omega_h == pytest.approx(a.omega_h, abs=1e-9)
    assert b.reverse == ("x3",)


def test_item_order_invariance(hs):
    a = pv.omega(hs[NINE], n_factors=3)
    b = pv.omega(hs[NINE[::-1]], n_factors=3)
    assert b.omega_h == pytest.approx(a.omega_h, abs=1e-7)
    assert b.omega_total == pytest.approx(a.omega_total, abs=1e-9)


def test_errors(hs):
    x = hs[NINE]
    with pytest.raises(SpecificationError, match=r"n_factors=1: omega hierarchical needs at "
                       r"least 2 group factors"):
        pv.omega(x, n_factors=1)
    with pytest.raises(SpecificationError, match="n_factors=2: with two group factors the "
                       "general factor is not identified"):
        pv.omega(x, n_factors=2)
    with pytest.raises(SpecificationError, match="sl_option='equal' applies only to "
                       "n_factors=2"):
        pv.omega(x, n_factors=3, sl_option="equal")
    with pytest.raises(SpecificationError, match="reverse= names item"):
        pv.omega(x, n_factors=3, reverse=["x10"])
    with pytest.raises(SpecificationError, match="n_factors=9 is too many for 9 items"):
        pv.omega(x, n_factors=9)
    with pytest.raises(SpecificationError, match="n_boot > 0 needs raw responses"):
        pv.omega(x.corr(), n_factors=3, n_boot=10)
    with pytest.raises(SpecificationError, match="n_boot=-1"):
        pv.omega(x, n_factors=3, n_boot=-1)


@pytest.mark.slow  # 9 s of optimizer restarts: the main CI pass only
def test_omega_sem_empirically_unidentified_ability_does_not_converge():
    """lavaan stops unconverged on this bifactor model too (F4 is carried by matrix.45 alone):
    the result says so, and the warning names the nearly singular direction."""
    ab = load_data("ability")
    items = ["reason.4", "reason.16", "reason.17", "reason.19", "letter.7", "letter.33",
             "letter.34", "letter.58", "matrix.45", "matrix.46", "matrix.47", "matrix.55",
             "rotate.3", "rotate.4", "rotate.6", "rotate.8"]
    with pytest.warns(ConvergenceWarning, match=r"bifactor CFA: the CFA did not converge.*"
                      r"nearly singular along matrix\.45 ~~ matrix\.45, F4 =~ matrix\.45.*"
                      r"empirically unidentified"), \
            pytest.warns(ImproperSolutionWarning, match=r"matrix\.45 ~~ matrix\.45"):
        res = pv.omega_sem(ab[items], n_factors=4)
    assert res.converged is False and res.fit.restarts
    assert "did not converge" in str(res.summary())


def test_results_render(hs):
    res = pv.omega(hs[NINE], n_factors=3)
    assert "omega hierarchical" in str(res.summary())
    d = res.to_dict()
    assert d["schema"] == "psychoval.omega/1"
    assert repr(res).startswith("<OmegaResult omega_h=0.449")


@settings(max_examples=25, deadline=None)
@given(k=st.integers(3, 12), lam=st.floats(0.2, 0.9))
def test_alpha_equals_omega_total_under_tau_equivalence(k, lam):
    """Equal loadings (tau-equivalence, one factor): alpha == omega_total (psych's formulas)."""
    loadings = np.full(k, lam)
    R = np.outer(loadings, loadings)
    np.fill_diagonal(R, 1.0)
    vals = _omega_from_sl(R, loadings, np.zeros((k, 3)), 1.0 - loadings ** 2)
    assert vals["alpha"] == pytest.approx(vals["omega_total"], rel=1e-12)
    assert vals["omega_h"] == pytest.approx(vals["omega_total"], rel=1e-12)


@settings(max_examples=8, deadline=None)
@given(g=st.floats(0.3, 0.7), s=st.floats(0.3, 0.6))
def test_alpha_equals_omega_total_equal_bifactor_population(g, s):
    """Through the whole pipeline: a population bifactor matrix (3 groups x 3 items) with
    equal loadings. omega_total recovers the true reliability; alpha equals it only if the
    group loadings vanish, and is below it otherwise (Zinbarg et al. 2005)."""
    lam_g = np.full(9, g)
    groups = np.kron(np.eye(3), np.full((3, 1), s))
    R = np.outer(lam_g, lam_g) + groups @ groups.T
    np.fill_diagonal(R, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pv.omega(R, n_factors=3)
    true_total = (R.sum() - 9 * (1 - g * g - s * s)) / R.sum()
    assert res.omega_total == pytest.approx(true_total, abs=1e-4)
    assert res.omega_h == pytest.approx((9 * g) ** 2 / R.sum(), abs=1e-3)
    assert res.alpha <= res.omega_total + 1e-9
