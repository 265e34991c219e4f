"""Partial invariance (issue 19): ``pv.cfa(group_partial=)`` and ``pv.invariance(partial=True)``
against lavaan 0.6.14: tests/reference/r/invariance_partial.R ->
ref_extra/invariance_partial.json (HolzingerSwineford1939 by school, MLR, listwise).

The score tests of the scalar fit's equality constraints are lavTestScore's univariate
tests; the search frees what lavaan's search by those tests frees, step by step; the partial
fits match lavaan's fitMeasures and parameterEstimates (est, se). Every check is owned.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import psychoval as pv
from psychoval.exceptions import SpecificationError
from psychoval.stats.sem._score import equality_score_tests
from tests._tolerances import assert_close, assert_pvalue
from tests.reference import _refs

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
REFS = _refs.extra_checks("invariance_partial")
PARTIAL_IDS = [c for c in REFS if ".partial." in c]
XFAIL: dict[str, str] = {}


def _hs():
    return _refs.load_data("HolzingerSwineford1939")


@pytest.fixture(scope="module")
def search():
    return pv.invariance(HS_MODEL, _hs(), group="school", missing="listwise", partial=True)


def test_every_reference_check_is_owned():
    owned = set(PARTIAL_IDS) | {"hs.school.mlr.scalar.score", "hs.school.mlr.search"}
    assert owned | set(XFAIL) == set(REFS)


def _as_list(v):
    return [v] if isinstance(v, str) else list(v)


@pytest.mark.parametrize("cid", PARTIAL_IDS)
def test_partial_fit_is_lavaans(cid):
    ref = REFS[cid]
    fit = pv.cfa(HS_MODEL, _hs(), group="school", group_equal=_as_list(ref["group_equal"]),
                 group_partial=_as_list(ref["group_partial"]), estimator="MLR")
    assert fit.converged and ref["values"]["converged"]
    assert fit.group_partial == tuple(p.strip() for p in _as_list(ref["group_partial"]))
    want = {k.replace(".", "_"): v for k, v in ref["values"]["fitMeasures"].items()}
    for k, v in want.items():
        if v is None:
            assert math.isnan(float(fit.fit_measures[k])), k
        elif "pvalue" in k:
            assert_pvalue(fit.fit_measures[k], v, "cfa", what=k)
        else:
            assert_close(fit.fit_measures[k], v, "cfa", what=k)
    pe = ref["values"]["estimates"]
    est = fit.estimates()
    got = {(a, o, b, int(g)): (e, s) for a, o, b, g, e, s in
           zip(est["lhs"], est["op"], est["rhs"], est["group"], est["est"], est["se"],
               strict=True)}
    assert len(got) == len(pe["est"])
    for a, o, b, g, e, s in zip(pe["lhs"], pe["op"], pe["rhs"], pe["group"], pe["est"],
                                pe["se"], strict=True):
        ge, gs = got[(a, o, b, int(g))]
        assert_close(ge, e, "cfa", what=f"est {a}{o}{b} g{g}")
        assert_close(gs, s if s is not None else 0.0, "cfa", what=f"se {a}{o}{b} g{g}")


def test_score_tests_are_lavTestScore():
    want = REFS["hs.school.mlr.scalar.score"]["values"]
    fit = pv.cfa(HS_MODEL, _hs(), group="school", group_equal=["loadings", "intercepts"],
                 estimator="MLR")
    got = equality_score_tests(fit)
    assert list(zip(got["lhs"], got["op"], got["rhs"], strict=True)) == list(
        zip(want["par_lhs"], want["par_op"], want["par_rhs"], strict=True))
    assert_close(got["x2"].to_numpy(), want["X2"], "cfa", what="X2")
    assert (got["df"] == 1).all()
    for p, w in zip(got["pvalue"], want["p_value"], strict=True):
        assert_pvalue(p, w, "cfa", what="p")


def test_search_frees_what_lavaans_search_frees(search):
    want = REFS["hs.school.mlr.search"]["values"]
    assert search.partial_level == "scalar" and search.partial_decision == "holds"
    order = search.freed.drop_duplicates("order")
    assert [f"{a} {o}".strip() for a, o in zip(order["lhs"], order["op"], strict=True)] == \
        want["freed"]
    steps = search.partial_search
    assert len(steps) == len(want["steps"])
    for got, w in zip(steps.to_dict("records"), want["steps"], strict=True):
        assert_close(got["chisq_diff"], w["chisq_diff"], "cfa", what="chisq_diff")
        assert got["df_diff"] == w["df_diff"]
        assert_pvalue(got["pvalue_diff"], w["pvalue"], "cfa", what="pvalue")
        assert (got["decision"] == "holds") == w["holds"]
        if not w["holds"]:
            assert got["best"] == w["best"]
            assert_close(got["best_x2"], w["best_X2"], "cfa", what="best_X2")
            assert got["n_candidates"] == w["candidates"]
            assert got["bonferroni_level"] == pytest.approx(0.05 / w["candidates"])
    # group-specific estimates of the freed intercepts: lavaan's partial fit
    pe = REFS["hs.school.mlr.partial.scalar_search"]["values"]["estimates"]
    for r in search.freed.to_dict("records"):
        g = list(search.group_labels).index(r["group"]) + 1
        i = next(i for i in range(len(pe["lhs"])) if (pe["lhs"][i], pe["op"][i],
                                                      pe["group"][i]) == (r["lhs"], "~1", g))
        assert_close(r["est"], pe["est"][i], "cfa", what="est")
    d = search.freed.set_index(["lhs", "group"])["diff"]
    assert d[("x3", "Pasteur")] == pytest.approx(-d[("x3", "Grant-White")])
    json.dumps(search.to_dict())
    assert "Freed parameters" in str(search.summary())


def test_max_free_stops_the_search():
    res = pv.invariance(HS_MODEL, _hs(), group="school", missing="listwise", partial=True,
                        max_free=1)
    assert res.partial_decision == "fails"
    assert res.freed["lhs"].unique().tolist() == ["x3"]
    assert res.highest == "metric"


def test_no_search_when_every_step_holds_or_partial_off():
    res = pv.invariance(HS_MODEL, _hs(), group="school", missing="listwise",
                        levels=("configural", "metric"), partial=True)
    assert res.partial_level is None and res.freed is None
    res = pv.invariance(HS_MODEL, _hs(), group="school", missing="listwise",
                        levels=("configural", "metric", "scalar"))
    assert res.partial_level is None


def test_group_partial_errors():
    hs = _hs()
    with pytest.raises(SpecificationError, match="not a parameter of the model"):
        pv.cfa(HS_MODEL, hs, group="school", group_equal="intercepts",
               group_partial="x10 ~1")
    with pytest.raises(SpecificationError, match="give group_equal"):
        pv.cfa(HS_MODEL, hs, group="school", group_partial="x3 ~1")


def test_partial_free_in_every_group_others_shared():
    fit = pv.cfa(HS_MODEL, _hs(), group="school", group_equal=["loadings", "intercepts"],
                 group_partial=["x3 ~1"], estimator="ML")
    est = fit.estimates().set_index(["lhs", "op", "rhs", "group"])["est"]
    assert est[("x3", "~1", "", 1)] != pytest.approx(est[("x3", "~1", "", 2)])
    assert est[("x2", "~1", "", 1)] == est[("x2", "~1", "", 2)]
    assert int(fit.fit_measures["df"]) == 59  # scalar: 60 df; one intercept freed
    assert np.isfinite(fit.fit_measures["chisq"])
