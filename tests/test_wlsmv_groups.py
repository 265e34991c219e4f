"""Multi-group ordinal CFA (issue 18): ``pv.cfa(model, data, ordered=True, group="gender",
group_equal=...)`` against lavaan 0.6.14's ``cfa(..., ordered = TRUE, estimator = "WLSMV",
group = "gender", group.equal = ...)`` on bfi A1-A5, C1-C5 (raw codes, listwise: 867 and
1,765 rows), configural, ``"thresholds"`` and ``c("thresholds", "loadings")``, and
``pv.compare`` of them (lavTestLRT, satorra.2000): tests/reference/r/wlsmv_groups.R.

Achieved (max over all 190 rows of each fit): estimates 3.0e-6 (configural), 5.4e-6
(thresholds), 5.7e-6 (thresholds + loadings) absolute - lavaan's nlminb stopping point;
SEs 5.3e-7; every fit measure (all 70 of lavaan's fitMeasures(), robust CFI / RMSEA NA as
lavaan's for the constrained fits) within 1e-4 relative; difference tests' p-values
7.4222e-09 and 0.031293 as lavaan's. Asserted: estimates 1e-5 x max(1, |est|), SEs 1e-6,
fit measures and difference tests at the "cfa" tolerance (rtol 1e-4).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import psychoval as pv
from psychoval.exceptions import SpecificationError
from tests._tolerances import assert_close, assert_pvalue
from tests.reference import _refs

AC = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
FITS = {"bfi.AC.gender.configural": None, "bfi.AC.gender.thresholds": ["thresholds"],
        "bfi.AC.gender.thresholds+loadings": ["thresholds", "loadings"]}
MOD = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"


def _bfi():
    """Complete rows of the items (lavaan's listwise deletion), with the group column."""
    return _refs.load_data("bfi")[AC + ["gender"]].dropna(subset=AC).reset_index(drop=True)


@pytest.fixture(scope="module")
def fits():
    refs = _refs.extra_checks("wlsmv_groups")
    data = _bfi()
    return {cid: (refs[cid]["values"], pv.cfa(MOD, data, ordered=True, group="gender",
                                              group_equal=eq))
            for cid, eq in FITS.items()}


@pytest.mark.parametrize("cid", list(FITS))
def test_estimates_and_standard_errors_match_lavaan(fits, cid):
    ref, fit = fits[cid]
    assert fit.converged
    assert [ss.nobs for ss in fit._ordinal.samples] == ref["nobs"]
    assert fit.n_obs == sum(ref["nobs"])
    est = fit.estimates()
    got = {(r.lhs, r.op, r.rhs, r.group): (r.est, r.se) for r in est.itertuples()}
    want = {(r["lhs"], r["op"], r["rhs"], r["group"]): (r["est"], r["se"])
            for r in ref["parameterEstimates"]}
    assert set(got) == set(want)
    for k, (e, s) in want.items():
        assert got[k][0] == pytest.approx(e, rel=0, abs=1e-5 * max(1.0, abs(e))), k
        assert got[k][1] == pytest.approx(s, rel=0, abs=1e-6), k


@pytest.mark.parametrize("cid", list(FITS))
def test_fit_measures_are_lavaans_set_and_values(fits, cid):
    ref, fit = fits[cid]
    want = {k.replace(".", "_"): v for k, v in ref["fitMeasures"].items()}
    got = fit.fit_measures
    assert set(got) == set(want)
    for k, v in want.items():
        if v is None:
            assert math.isnan(float(got[k])), k
        elif k.startswith("pvalue") or "_pvalue" in k:
            assert_pvalue(got[k], v, "cfa", what=k)
        else:
            assert_close(got[k], v, "cfa", what=k)


@pytest.mark.parametrize("pair", [("bfi.AC.gender.configural",
                                   "bfi.AC.gender.thresholds+loadings",
                                   "lrt.configural_vs_thresholds+loadings"),
                                  ("bfi.AC.gender.thresholds",
                                   "bfi.AC.gender.thresholds+loadings",
                                   "lrt.thresholds_vs_thresholds+loadings")])
def test_compare_is_lavaans_scaled_shifted_difference(fits, pair):
    a, b, cid = pair
    want = _refs.extra_checks("wlsmv_groups")[cid]["values"]
    out = pv.compare(fits[a][1], fits[b][1]).to_frame()
    assert_close(out["chisq_diff"].iloc[1], want["chisq_diff"], "cfa", what="chisq_diff")
    assert out["df_diff"].iloc[1] == want["df_diff"]
    assert_pvalue(out["pvalue"].iloc[1], want["pvalue"], "cfa", what="pvalue")


def test_equal_thresholds_free_the_scales_and_means_of_group_2(fits):
    est = fits["bfi.AC.gender.thresholds"][1].estimates()
    g2 = est[est["group"] == 2]
    assert (g2.loc[g2["op"] == "~*~", "se"] > 0).all()
    lv_means = g2[(g2["op"] == "~1") & g2["lhs"].isin(["A", "C"])]
    assert (lv_means["se"] > 0).all()
    assert (g2.loc[(g2["op"] == "~1") & g2["lhs"].isin(AC), "est"] == 0).all()
    th = est[est["op"] == "|"]
    np.testing.assert_array_equal(th.loc[th["group"] == 1, "est"].to_numpy(),
                                  th.loc[th["group"] == 2, "est"].to_numpy())
    conf = fits["bfi.AC.gender.configural"][1].estimates()
    assert (conf.loc[conf["op"] == "~*~", "se"] == 0).all()


def test_follow_ups_not_available_for_groups_say_so(fits):
    fit = fits["bfi.AC.gender.thresholds+loadings"][1]
    for name in ("standardized", "modindices", "ave", "composite_reliability",
                 "fornell_larcker", "omega_interval"):
        with pytest.raises(NotImplementedError, match="2-group ordinal fit"):
            getattr(fit, name)()
    assert "group" in fit.to_frame().columns
    assert fit.thresholds.index.names == ["group", "threshold"]
    assert "Equality constraints" in str(fit.summary())


def test_group_equal_errors():
    data = _bfi()
    with pytest.raises(SpecificationError, match="needs group="):
        pv.cfa(MOD, data, ordered=True, group_equal=["thresholds"])
    with pytest.raises(SpecificationError, match="not one of"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pv.cfa(MOD, data, ordered=True, group="gender", group_equal=["slopes"])
