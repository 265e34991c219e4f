"""The completed lavaan syntax (issue 23, section 5): constraints (labels, ==, <, >), defined
parameters (:=) with delta-method SEs, latent regressions, intercepts (~ 1), start() and the
modifiers (fixed, NA, labels, equal(), c() per group), checked against lavaan 0.6.14 on
HolzingerSwineford1939 and PoliticalDemocracy (tests/reference/r/cfa_syntax.R), and the
errors for what is not supported."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import SpecificationError
from psychoval.framework._expr import affine, evaluate
from psychoval.framework._partable import build_partable
from psychoval.framework._syntax import parse_syntax
from tests._tolerances import assert_close

# ~5 s of lavaan-reference fits (eight models, FIML and MLR among them): main CI pass only
pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
REF = HERE / "reference"
FIT_NAMES = ("npar", "fmin", "chisq", "df", "pvalue", "baseline_chisq", "cfi", "tli", "logl",
             "aic", "bic", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr")
MLR_NAMES = ("chisq_scaled", "chisq_scaling_factor", "cfi_scaled", "cfi_robust",
             "rmsea_robust", "tli_robust")


@pytest.fixture(scope="module")
def refs() -> dict:
    with open(REF / "ref_extra" / "cfa_syntax.json", encoding="utf-8") as fh:
        return {c["id"]: c for c in json.load(fh)["checks"]}


@pytest.fixture(scope="module")
def data() -> dict:
    return {"hs": pd.read_csv(REF / "data" / "HolzingerSwineford1939.csv"),
            "pd": pd.read_csv(REF / "data" / "PoliticalDemocracy.csv"),
            "hsmis": pd.read_csv(REF / "ref_extra" / "hs_missing.csv")}


_FITS: dict = {}


def _fit(cid: str, refs, data) -> pv.CFAResult:
    if cid not in _FITS:
        kw: dict = {"estimator": "MLR"} if cid.endswith(".mlr") else {}
        if cid == "hs.groups.c":
            kw["group"] = "school"
        if ".fiml" in cid:
            kw["missing"] = "fiml"
        _FITS[cid] = pv.cfa(refs[cid]["model"], data[cid.split(".")[0]], **kw)
    return _FITS[cid]


CASES = ("hs.constraints", "hs.constraints.mlr", "pd.sem", "pd.sem.mlr", "hs.intercepts",
         "hs.groups.c", "hsmis.constraints.fiml", "hsmis.constraints.fiml.mlr", "hs.linear",
         "hs.linear.mlr", "hs.linear.ineq")


@pytest.mark.parametrize("cid", CASES)
def test_fit_measures_match_lavaan(cid, refs, data):
    fit = _fit(cid, refs, data)
    ref = {k.replace(".", "_"): v for k, v in refs[cid]["fitMeasures"].items()}
    assert fit.converged
    for name in FIT_NAMES:
        assert_close(fit.fit_measures[name], ref[name], "cfa", what=f"{cid} {name}")
    if cid.endswith(".mlr"):
        for name in MLR_NAMES:
            assert_close(fit.fit_measures[name], ref[name], "mlr", what=f"{cid} {name}")


@pytest.mark.parametrize("cid", CASES)
def test_parameter_estimates_match_lavaan(cid, refs, data):
    """Every row of parameterEstimates (free, fixed, labelled, := ), matched by lhs op rhs
    group: est, se, z (NA where lavaan's se is 0) and std.all."""
    fit = _fit(cid, refs, data)
    ours = fit.estimates(standardized=True)
    if "group" not in ours:
        ours["group"] = 1
    ref = pd.DataFrame(refs[cid]["parameterEstimates"])
    if fit.group_labels:
        ref.loc[ref["op"] == ":=", "group"] = 0
    assert len(ours) == len(ref)
    m = ref.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""), validate="1:1")
    assert len(m) == len(ref), "rows of lavaan missing from estimates()"
    assert (m["label"] == m["label_r"]).all()
    for col in ("est", "se", "std_all"):
        assert_close(m[col], m[col + "_r"].astype(float), "cfa", what=f"{cid} {col}")
    # z where lavaan has one; NaN where lavaan's is NA (fixed, or a constraint holds it)
    assert_close(m["z"], m["z_r"].astype(float), "mlr" if cid.endswith(".mlr") else "cfa",
                 what=f"{cid} z")


@pytest.mark.parametrize("cid", ["hs.linear", "hs.constraints"])
def test_modindices_under_constraints_match_lavaan(cid, refs, data):
    """Score tests with lavaan's augmented inverse of the model information: K (K'IK)^-1 K'
    under the linear constraints, the active inequality held like an equality."""
    ours = _fit(cid, refs, data).modindices(minimum_value=1.0)
    ref = pd.DataFrame(refs[cid]["modindices"])
    m = ref.merge(ours, on=["lhs", "op", "rhs"], suffixes=("_r", ""), validate="1:1")
    assert len(m) == len(ref) == len(ours)
    for col in ("mi", "epc"):
        assert_close(m[col], m[col + "_r"], "modindices_fitted", what=f"{cid} {col}")


def test_active_inequality_holds_the_boundary(refs, data):
    """l3 < 0.6 is active (free estimate .73): the estimate is the bound itself, with se 0;
    lavaan counts it as a free parameter (npar 20, df 25), not as a constraint."""
    fit = _fit("hs.constraints", refs, data)
    est = fit.estimates().set_index(["lhs", "op", "rhs"])
    assert est.loc[("visual", "=~", "x3"), "est"] == 0.6
    assert est.loc[("visual", "=~", "x3"), "se"] == 0.0
    assert fit.fit_measures["npar"] == 20 and fit.fit_measures["df"] == 25
    # inactive l9 > 0: dropping it changes nothing
    model = refs["hs.constraints"]["model"].replace("l9 > 0", "")
    other = pv.cfa(model, data["hs"])
    assert other.fit_measures["chisq"] == pytest.approx(fit.fit_measures["chisq"], rel=1e-10)


def test_active_inequality_between_labels_is_an_equality(data):
    """a > b with the free a below b gives the fit of a == b (checked directly)."""
    base = "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
    ineq = pv.cfa(base + "a > b", data["hs"])
    eq = pv.cfa(base + "a == b", data["hs"])
    shared = pv.cfa(base.replace("b*x3", "a*x3"), data["hs"])
    for f in (eq, shared):
        assert f.fit_measures["chisq"] == pytest.approx(ineq.fit_measures["chisq"], rel=1e-9)
    assert ineq.fit_measures["df"] == eq.fit_measures["df"] - 1  # npar counts the active one
    e = ineq.estimates().set_index("label")
    assert e.loc["a", "est"] == pytest.approx(e.loc["b", "est"], rel=1e-12)


def test_defined_parameter_se_is_the_delta_method(refs, data):
    """indirect := p1*p3: se^2 = p3^2 V11 + p1^2 V33 + 2 p1 p3 V13 (by hand from the vcov)."""
    fit = _fit("pd.sem", refs, data)
    est = fit.estimates()
    pt = fit._pt
    idx = {lab: pt.free[pt.label.index(lab)] - 1 for lab in ("p1", "p3")}
    v = fit._cov_est
    p1, p3 = (est.loc[est["label"] == lab, "est"].iloc[0] for lab in ("p1", "p3"))
    i, j = idx["p1"], idx["p3"]
    se = math.sqrt(p3 ** 2 * v[i, i] + p1 ** 2 * v[j, j] + 2 * p1 * p3 * v[i, j])
    row = est[est["lhs"] == "indirect"].iloc[0]
    assert row["est"] == pytest.approx(p1 * p3, rel=1e-14)
    assert row["se"] == pytest.approx(se, rel=1e-10)
    assert row["rhs"] == "p1*p3" and row["op"] == ":="


def test_standardized_solution_matches_lavaan(refs, data):
    """standardizedSolution(fit): every row, the := rows computed from the standardized
    values with their delta-method SEs."""
    fit = _fit("pd.sem", refs, data)
    ref = pd.DataFrame(refs["pd.sem"]["standardizedSolution"])
    m = ref.merge(fit.standardized(), on=["lhs", "op", "rhs"], suffixes=("_r", ""),
                  validate="1:1")
    assert len(m) == len(ref) == len(fit.standardized())
    for col in ("est_std", "se"):
        assert_close(m[col], m[col + "_r"].astype(float), "cfa", what=f"std {col}")


def test_intercepts_and_start_values(data):
    """x ~ 1 turns on the mean structure: the saturated means are the sample means; a start()
    value changes nothing at the optimum."""
    hs = data["hs"]
    base = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
    fit = pv.cfa(base + "x1 ~ 1", hs)
    ints = fit.estimates().query("op == '~1'").set_index("lhs")["est"]
    assert_close(ints[[f"x{i}" for i in range(1, 10)]], hs[[f"x{i}" for i in range(1, 10)]]
                 .mean().to_numpy(), "cfa", what="intercepts")
    plain = pv.cfa(base, hs)
    assert fit.fit_measures["chisq"] == pytest.approx(plain.fit_measures["chisq"], rel=1e-9)
    started = pv.cfa(base.replace("x2", "start(3)*x2") + "x1 ~ start(2)*1", hs)
    assert started.fit_measures["chisq"] == pytest.approx(plain.fit_measures["chisq"],
                                                          rel=1e-9)
    fixed = pv.cfa(base + "x1 ~ 5*1", hs)
    assert fixed.estimates().query("lhs == 'x1' and op == '~1'")["est"].iloc[0] == 5.0
    assert fixed.fit_measures["df"] == plain.fit_measures["df"] + 1


def test_equal_modifier_and_label_on_a_fixed_loading(data):
    hs = data["hs"]
    base = "textual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
    a = pv.cfa(base + "visual =~ x1 + a*x2 + equal('a')*x3", hs)
    b = pv.cfa(base + "visual =~ x1 + a*x2 + a*x3", hs)
    assert a.fit_measures["chisq"] == pytest.approx(b.fit_measures["chisq"], rel=1e-12)
    # m labels the marker (fixed at 1): m == c fixes x3's loading at 1 too
    c = pv.cfa(base + "visual =~ m*x1 + x2 + c*x3\nm == c", hs)
    assert c.estimates().query("rhs == 'x3'")["est"].iloc[0] == 1.0


def test_linear_constraint_holds_at_the_solution_and_its_se_is_projected(refs, data):
    """l1 + l2 + l3 == 3 (effects coding): the loadings average 1 to rounding; the standard
    errors are those of K (K'IK)^-1 K', so the SE of l1 + l2 + l3 (a := row) is 0."""
    model = refs["hs.linear"]["model"] + "total := l1 + l2 + l3\n"
    fit = pv.cfa(model, data["hs"])
    est = fit.estimates().set_index("label")
    assert est.loc[["l1", "l2", "l3"], "est"].sum() == pytest.approx(3.0, abs=1e-12)
    assert est.loc["s8", "est"] - est.loc["s9", "est"] == pytest.approx(0.1, abs=1e-12)
    assert est.loc["total", "se"] < 1e-7 and est.loc["l1", "se"] > 0.05


def test_duplicated_term_with_modifiers_is_one_parameter():
    """lavaan's NA*x1 + l1*x1: one free, labelled loading; a plain x1 + x1 stays an error."""
    (f,) = parse_syntax("F =~ NA*x1 + l1*x1 + x2")
    assert [(t.name, t.free_forced, t.label) for t in f.rhs] == [("x1", True, "l1"),
                                                                ("x2", False, "")]


def test_parser_reads_modifiers_and_expressions():
    f = parse_syntax("F =~ x1 + c(a, NA)*x2\ny ~ a*1 + F\nab := a*b -1\nt := sqrt(a)/(b-1)^2")
    assert f[0].rhs[1].groups == ((None, False, "a"), (None, True, ""))
    assert [(x.lhs, x.op) for x in f[1:3]] == [("y", "~"), ("y", "~1")]
    assert f[2].rhs[0].label == "a"
    assert evaluate(f[3].expr[1], {"a": 2.0, "b": 3.0}) == 5.0
    assert f[3].rhs[0].name == "a*b-1"
    assert evaluate(f[4].expr[1], {"a": 4.0, "b": 3.0}) == 0.5
    (g,) = parse_syntax("2*a - b + 1 == -(c)/2")
    assert affine(g.expr[0]) == ({"a": 2.0, "b": -1.0}, 1.0)
    assert affine(g.expr[1]) == ({"c": -0.5}, 0.0)
    pt = build_partable(parse_syntax("F =~ x1 + x2 + x3\nx2 ~ 0.5*1"))
    assert pt.meanstructure and ("x2", "~1") in set(zip(pt.lhs, pt.op, strict=True))


@pytest.mark.parametrize("text,line,col,what", [
    ("F <~ x1 + x2", 1, 3, "formative (composite) factors '<~' are not supported"),
    ("F =~ x1 + x2\nx1 | t1 + t2", 2, 4, "thresholds '|'"),
    ("F ~*~ x1", 1, 3, "scaling factors '~*~'"),
    ("group: 1\nF =~ x1", 1, 6, "block headers"),
    ("F =~ x1 + x2\nF % x1", 2, 3, "'%' operator"),
    ("F =~ x1 + a*x2\nd := sin(a) + foo(a)", 2, 15, "function foo() is not available"),
    ("F =~ x1 + a*x2\nd := a +* 2", 2, 9, "unexpected '*'"),
    ("F =~ x1 + equal(\"F=~x1\")*x2", 1, 11, "names a parameter"),
])
def test_unsupported_syntax_names_line_and_column(text, line, col, what):
    with pytest.raises(SpecificationError,
                       match=f"line {line}, column {col}: .*{re.escape(what)}"):
        parse_syntax(text)


@pytest.mark.parametrize("text,line,col,what", [
    ("F =~ x1 + a*x2 + x3\nd := a * z", 2, 10, "'z' in 'd := a * z' is not a label"),
    ("F =~ x1 + a*x2 + x3\na == zz", 2, 6, "'zz' in 'a == zz' is not a label"),
    ("F =~ x1 + a*x2 + b*x3\na - a == 1", 2, 1, "constraint 'a - a == 1' holds no label"),
    ("F =~ x1 + a*x2 + b*x3\na * b == 1", 2, 1, "constraint 'a * b == 1' is nonlinear"),
    ("F =~ x1 + a*x2 + b*x3\nexp(a) > b", 2, 1, "constraint 'exp(a) > b' is nonlinear"),
    ("F =~ x1 + a*x2 + b*x3\nd := a*b\nd > 0", 3, 1, "is a defined parameter"),
    ("F =~ x1 + a*x2 + x3\na := 2", 2, 1, "has the name of a label"),
    ("F =~ x1 + a*x2 + x3\nd := a\nd := 2*a", 3, 1, "defined twice"),
])
def test_constraint_errors_name_line_and_column(text, line, col, what):
    with pytest.raises(SpecificationError,
                       match=f"line {line}, column {col}: .*{re.escape(what)}"):
        build_partable(parse_syntax(text), source=text)


def test_group_modifiers_must_match_the_groups(data):
    hs = data["hs"]
    model = "visual =~ x1 + c(a, b, c)*x2 + x3\ntextual =~ x4 + x5 + x6"
    with pytest.raises(SpecificationError, match=r"line 1, column 27: c\(\.\.\.\) gives 3 "
                       r"value\(s\) for visual =~ x2 but the data have 2 groups"):
        pv.cfa(model, hs, group="school")
    with pytest.raises(SpecificationError, match="line 1, column 27: .*this fit has one group"):
        pv.cfa(model, hs)


def test_summary_and_modindices_know_the_constraints(refs, data):
    fit = _fit("hs.constraints", refs, data)
    s = fit.summary()
    facts = dict(s.facts)
    assert facts["Constraint l5 == l6"] == "equality"
    assert facts["Constraint l3 < 0.6"] == "active (holds with equality)"
    assert facts["Constraint l9 > 0"] == "inactive"
    tables = dict(s.tables)
    assert list(tables["Defined Parameters"].index) == ["vis_sum := 1+l2+l3", "ratio := l8/l9"]
    # the loading an active inequality holds is a parameter of lavaan's model, not a candidate
    mi = fit.modindices()
    assert not ((mi["lhs"] == "visual") & (mi["op"] == "=~") & (mi["rhs"] == "x3")).any()
    assert ((mi["lhs"] == "visual") & (mi["op"] == "=~") & (mi["rhs"] == "x4")).any()
    groups = _fit("hs.groups.c", refs, data)
    assert "Latent Variables" in dict(groups.summary().tables)


def test_two_active_inequalities_give_the_fit_with_both_bounds_fixed(data):
    base = "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + c*x9\n"
    ineq = pv.cfa(base + "b < 0.6\nc > 1.3\na > 0", data["hs"])
    fixed = pv.cfa(base.replace("b*x3", "0.6*x3").replace("c*x9", "1.3*x9"), data["hs"])
    assert ineq.fit_measures["chisq"] == pytest.approx(fixed.fit_measures["chisq"], rel=1e-9)
    assert ineq.fit_measures["df"] == fixed.fit_measures["df"] - 2
    assert dict(ineq.summary().facts)["Constraint a > 0"] == "inactive"


def test_equality_between_group_labels_is_the_shared_label(data):
    hs = data["hs"]
    rest = "\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    eq = pv.cfa("visual =~ x1 + c(a1, a2)*x2 + x3" + rest + "\na1 == a2", hs, group="school")
    shared = pv.cfa("visual =~ x1 + c(a, a)*x2 + x3" + rest, hs, group="school")
    assert eq.fit_measures["chisq"] == pytest.approx(shared.fit_measures["chisq"], rel=1e-10)
    assert eq.fit_measures["df"] == shared.fit_measures["df"]


def test_defined_parameter_jacobian_matches_finite_differences(refs, data):
    """The complex-step derivative of a nonlinear := against central differences."""
    from psychoval.stats.sem._constraints import defined_values, row_values

    model = refs["hs.constraints"]["model"] + "g := sqrt(l2) * exp(l8 - l9) / (1 + l5^2)\n"
    fit = pv.cfa(model, data["hs"])
    pt, x = fit._pt, fit._x
    eye = np.eye(len(x))
    h = 1e-6
    fd = np.array([(defined_values(pt, row_values(pt, x + h * eye[k]))
                    - defined_values(pt, row_values(pt, x - h * eye[k]))) / (2 * h)
                   for k in range(len(x))]).T
    cs = np.array([defined_values(pt, row_values(pt, x + 1e-20j * eye[k])).imag / 1e-20
                   for k in range(len(x))]).T
    np.testing.assert_allclose(cs, fd, rtol=1e-6, atol=1e-9)
    se = fit.estimates().set_index("lhs").loc["g", "se"]
    assert se == pytest.approx(float(np.sqrt(cs[-1] @ fit._cov_est @ cs[-1])), rel=1e-12)


_LEAF = st.one_of(st.sampled_from(["a", "b", "c"]),
                  st.floats(0.25, 4.0).map(lambda v: f"{v:.3f}"))


@st.composite
def _expressions(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        return draw(_LEAF)
    op = draw(st.sampled_from(["+", "-", "*", "/"]))
    left, right = draw(_expressions(depth - 1)), draw(_expressions(depth - 1))
    return f"({left}) {op} {right}" if draw(st.booleans()) else f"{left} {op} ({right})"


@settings(deadline=None, max_examples=60)
@given(text=_expressions(), env=st.fixed_dictionaries(
    {k: st.floats(0.5, 3.0) for k in ("a", "b", "c")}))
def test_expressions_evaluate_as_python_and_affine_ones_agree(text, env):
    """parse -> evaluate equals Python's arithmetic on the same text; when the expression is
    affine in the labels, its coefficients reproduce the value."""
    (f,) = parse_syntax(f"d := {text}")
    node = f.expr[1]
    try:
        want = eval(text, {}, dict(env))  # noqa: S307 - our own generated arithmetic
    except ZeroDivisionError:
        assume(False)
    assert evaluate(node, env) == pytest.approx(want, rel=1e-9, abs=1e-9)
    form = affine(node)
    if form is not None:
        coef, const = form
        assert sum(c * env[k] for k, c in coef.items()) + const == pytest.approx(
            want, rel=1e-9, abs=1e-9)


def test_constraints_with_ordered_items_are_refused_by_line(data):
    items = [f"x{i}" for i in range(1, 7)]
    cats = data["hs"][items].round().clip(1, 6).astype(int)
    model = "A =~ x1 + a*x2 + x3\nB =~ x4 + x5 + x6\nd := 2*a"
    with pytest.raises(SpecificationError, match=r"line 3, column 1: ':=' .* continuous"):
        pv.cfa(model, cats, ordered=True)
