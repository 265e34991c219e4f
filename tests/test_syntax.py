"""lavaan model syntax parser and parameter table (issue 7)."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from psychoval.exceptions import SpecificationError
from psychoval.framework._partable import build_partable
from psychoval.framework._syntax import model_to_formulas, parse_syntax


def test_operators_modifiers_comments_and_multiline():
    text = """
    # a comment line
    visual  =~ x1 + 0.5*x2 +   ! another comment
               NA*x3 + start(0.7)*x4
    textual =~ x5 + b*x6
             + label("b")*x7 ; speed =~ x8 + x9 + x10
    x1 ~~ x5
    visual ~~ 0*speed
    x8 ~1
    """
    f = parse_syntax(text)
    assert [(x.lhs, x.op) for x in f] == [("visual", "=~"), ("textual", "=~"),
                                          ("speed", "=~"), ("x1", "~~"), ("visual", "~~"),
                                          ("x8", "~1")]
    vis = f[0].rhs
    assert [t.name for t in vis] == ["x1", "x2", "x3", "x4"]
    assert vis[1].fixed == 0.5 and vis[2].free_forced and vis[3].start == 0.7
    assert (vis[0].line, vis[0].col) == (3, 16)
    assert [t.label for t in f[1].rhs] == ["", "b", "b"]
    assert f[4].rhs[0].fixed == 0.0


def test_partable_defaults_marker_and_std_lv():
    f, text = model_to_formulas({"F1": ["a", "b", "c"], "F2": ["d", "e", "g"]})
    pt = build_partable(f, source=text)
    rows = list(zip(pt.lhs, pt.op, pt.rhs, pt.free, pt.ustart, strict=True))
    assert rows[0] == ("F1", "=~", "a", 0, 1.0)
    assert rows[1][:4] == ("F1", "=~", "b", 1)
    assert ("F1", "~~", "F2") == rows[-1][:3] and rows[-1][3] > 0
    assert pt.n_free == 6 * 2 - 2 + 2 + 1  # 4 loadings + 6 residuals + 2 variances + 1 cov
    pt2 = build_partable(f, std_lv=True, source=text)
    var = {(a, c): (fr, u) for a, o, c, fr, u in zip(pt2.lhs, pt2.op, pt2.rhs, pt2.free,
                                                      pt2.ustart, strict=True) if o == "~~"}
    assert var[("F1", "F1")] == (0, 1.0)
    assert all(fr > 0 for o, fr in zip(pt2.op, pt2.free, strict=True) if o == "=~")
    assert math.isnan(pt2.ustart[0])


def test_second_order_and_shared_labels():
    text = "A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\nG =~ A + B\nA =~ lam*a4\nB =~ lam*b4"
    pt = build_partable(parse_syntax(text), source=text)
    assert pt.latent == ("A", "B", "G") and "A" not in pt.observed
    # G exogenous; A, B endogenous: no A ~~ B covariance is added
    assert ("A", "~~", "B") not in set(zip(pt.lhs, pt.op, pt.rhs, strict=True))
    lam = [fr for lab, fr in zip(pt.label, pt.free, strict=True) if lab == "lam"]
    assert len(lam) == 2 and lam[0] == lam[1] > 0


@pytest.mark.parametrize("text,line,col,what", [
    ("F =~ x1 + x2 +\n", 1, 15, "a '+' must be followed by a term"),
    ("F =~ x1 + x2\nG =~ x3 x4", 2, 9, "expected '+' between terms, found 'x4'"),
    ("F =~ x1 + x2 $ x3", 1, 14, "unexpected character '$'"),
    ("F x1 + x2", 1, 1, "no operator"),
    ("F G =~ x1", 1, 3, "the left-hand side must be a single variable name"),
    ("F =~ x1 + foo(1)*x2", 1, 11, "unknown modifier foo"),
    ("F =~ x1 + x1", 1, 11, "'x1' appears twice"),
    ("F =~ x1 + c(1, 2)*", 1, 19, "expected a variable name"),
])
def test_syntax_errors_name_line_and_column_with_caret(text, line, col, what):
    with pytest.raises(SpecificationError,
                       match=f"line {line}, column {col}: .*{re.escape(what)}") as e:
        parse_syntax(text)
    src = text.split("\n")[line - 1]
    assert str(e.value).endswith(f"  {src}\n  {' ' * (col - 1)}^")


def test_partable_errors():
    with pytest.raises(SpecificationError, match="specified twice"):
        build_partable(parse_syntax("F =~ x1 + x2 + x3\nx1 ~~ x2\nx2 ~~ x1"))
    with pytest.raises(SpecificationError, match="mixes a factor and an observed variable"):
        build_partable(parse_syntax("F =~ x1 + x2 + x3\nF ~~ x1"))
    with pytest.raises(SpecificationError, match="no factor"):
        build_partable(parse_syntax("x1 ~~ x2"))
    with pytest.raises(SpecificationError, match="'x1' is not a factor"):
        build_partable(parse_syntax("F =~ x1 + x2 + x3\nF ~ x1"))
    with pytest.raises(SpecificationError, match="'c' in 'a == c' is not a label"):
        build_partable(parse_syntax("F =~ x1 + a*x2 + b*x3\na == c"))
    eq = build_partable(parse_syntax("F =~ x1 + a*x2 + b*x3\na == b"))  # one parameter
    assert eq.free[eq.label.index("a")] == eq.free[eq.label.index("b")] > 0
    with pytest.raises(SpecificationError, match="empty"):
        parse_syntax("  # nothing\n")
    with pytest.raises(SpecificationError, match="must map to a non-empty list"):
        model_to_formulas({"F": "x1"})
    with pytest.raises(SpecificationError, match="item name 'x 1' of factor 'F' is not a valid"):
        model_to_formulas({"F": ["x 1", "x2"]})
    with pytest.raises(SpecificationError, match="model must be lavaan syntax"):
        model_to_formulas(42)


@example(names=[".0", "0", "1"])  # a dot then a digit is a number in R, not a name
@given(names=st.lists(st.text(min_size=1, max_size=8).filter(lambda s: "\x00" not in s),
                      min_size=3, max_size=3, unique=True))
def test_any_id_round_trips_through_quote_name(names):
    """Every id (dashes, spaces, backticks, backslashes, newlines, leading digits, 'NA',
    non-Latin letters) written by quote_name parses back to itself."""
    from psychoval.framework._syntax import quote_name

    lhs, a, b = names
    (f,) = parse_syntax(f"{quote_name(lhs)} =~ {quote_name(a)} + {quote_name(b)}")
    assert (f.lhs, f.op, [t.name for t in f.rhs]) == (lhs, "=~", [a, b])
    assert all(t.fixed is None and not t.free_forced and not t.label for t in f.rhs)


def test_plain_names_stay_unquoted_and_unicode_letters_are_names():
    from psychoval.framework._syntax import quote_name

    assert [quote_name(n) for n in ("x1", "über3", "q.5", "_a", "NA", "Q-1", "1st")] == [
        "x1", "über3", "q.5", "_a", "`NA`", "`Q-1`", "`1st`"]
    (f,) = parse_syntax("fähig =~ über1 + `Q-1` + NA*`NA`")
    assert [t.name for t in f.rhs] == ["über1", "Q-1", "NA"]
    assert f.rhs[2].free_forced
    with pytest.raises(SpecificationError, match="backticks"):
        parse_syntax("f =~ a|b + x2")
