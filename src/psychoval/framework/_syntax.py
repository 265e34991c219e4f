"""lavaan model syntax -> a list of :class:`Formula` records (framework layer).

The grammar is lavaan's (``R/lav_syntax_parser.R``, 0.6.14) for the parts a CFA needs:

- operators ``=~`` (measured by), ``~~`` (variance / covariance), ``~`` (regression),
  ``~ 1`` (intercept, also with modifiers: ``x1 ~ a*1``, ``x1 ~ 0*1``), ``==`` (equality
  constraint), ``<`` and ``>`` (inequality constraints) and ``:=`` (defined parameter), whose
  sides are arithmetic in the labels (:mod:`psychoval.framework._expr`);
- terms joined by ``+``; each term may carry modifiers joined by ``*``: a fixed value
  (``1*x1``, ``-0.5*x1``), ``NA`` (free: ``NA*x1``), a label (``a*x1``, ``label("a")*x1``,
  ``equal("a")*x1``), a starting value (``start(0.7)*x1``), one value per group
  (``c(a, b)*x1``, ``c(NA, 0.5)*x1``); several modifiers may be chained (``a*start(.5)*x1``);
- lavaan operators this package does not fit (``<~`` formative, ``~*~`` scaling, ``|``
  thresholds in syntax, ``%``, block headers ``group:``) are syntax errors that name them;
- comments from ``#`` or ``!`` to the end of the line; statements end at a newline or ``;``;
  a formula continues on the next line when the line ends in ``+``, ``*`` or an operator, or the
  next line starts with ``+``.

Errors are :class:`~psychoval.exceptions.SpecificationError` naming the line and column, with
the offending line and a caret under the fault.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from psychoval.exceptions import SpecificationError
from psychoval.framework._expr import FUNCTIONS, Expr

__all__ = ["Term", "Formula", "parse_syntax", "model_to_formulas", "syntax_error", "quote_name"]

OPERATORS = ("=~", "~~", "~", "==", ":=", "<", ">")
CONSTRAINT_OPS = ("==", "<", ">", ":=")

# lavaan operators outside what this package fits: the error says what to do instead
_UNSUPPORTED = {
    "<~": "formative (composite) factors '<~' are not supported; model the construct as a "
          "reflective factor (=~) or score the composite yourself",
    "~*~": "scaling factors '~*~' apply to ordered indicators; give ordered= to pv.cfa, "
           "which sets them by its parameterization= (theta or delta)",
    "|": "thresholds '|' are not written in the syntax here; give ordered= to pv.cfa and "
         "the thresholds are estimated for every ordered item",
    "%": "the '%' operator (lavaan's efa/multilevel blocks) is not supported",
    ":": "block headers (group: / level:) are not supported; fit groups with group= and "
         "give per-group values with c() modifiers (c(a, b)*x1)",
}


@dataclasses.dataclass(frozen=True)
class Term:
    """One right-hand-side term with its modifiers."""

    name: str
    fixed: float | None = None  # value the parameter is fixed to (None: free)
    free_forced: bool = False  # NA* : free even where lavaan would fix it (first loading)
    label: str = ""
    start: float | None = None
    line: int = 0
    col: int = 0
    # c(...) modifiers: one (fixed, free_forced, label) per group; () without c()
    groups: tuple[tuple[float | None, bool, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Formula:
    """One statement: ``lhs op rhs-terms`` with the position of its lhs in the source."""

    lhs: str
    op: str
    rhs: tuple[Term, ...]
    line: int = 0
    col: int = 0
    text: str = ""  # the statement's (first) source line, for messages
    # == < > := : the parsed sides (lhs None for := whose lhs is the new name)
    expr: tuple[Expr | None, Expr] | None = None


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r]+)
  | (?P<comment>[#!][^\n]*)
  | (?P<nl>[\n;])
  | (?P<op>=~|<~|~\*~|~~|==|:=|~|<|>|\||%|:)
  | (?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<arith>[-/^])
  | (?P<name>(?:[^\W\d]|\.)[\w.]*)
  | (?P<quoted>`(?:[^`\\\n]|\\.)*`)
  | (?P<string>"[^"\n]*"|'[^'\n]*')
  | (?P<plus>\+)
  | (?P<star>\*)
  | (?P<lpar>\()
  | (?P<rpar>\))
  | (?P<comma>,)
  | (?P<other>.)
    """,
    re.VERBOSE,
)


@dataclasses.dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    line: int
    col: int
    quoted: bool = False  # a `backtick-quoted` name (never a keyword such as NA)


_PLAIN_NAME = re.compile(r"(?:[^\W\d]|\.(?!\d))[\w.]*")  # R: a dot not followed by a digit
_ESCAPES = {"\\": "\\\\", "`": "\\`", "\n": "\\n"}


def quote_name(name: str) -> str:
    """``name`` as a term of model syntax: as is when it is a plain name (letters, digits,
    ``_`` and ``.``, not starting with a digit; Unicode letters included), otherwise in
    backticks with ``\\``, backtick and newline escaped (``Q-1`` -> ```Q-1```), so any item,
    competency or tier id can name a variable or a factor."""
    if _PLAIN_NAME.fullmatch(name) and name != "NA":
        return name
    return "`" + "".join(_ESCAPES.get(ch, ch) for ch in name) + "`"


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), body)


def syntax_error(lines: Sequence[str], line: int, col: int, what: str) -> SpecificationError:
    """A SpecificationError quoting ``line`` (1-based) with a caret under ``col`` (1-based)."""
    src = lines[line - 1] if 0 < line <= len(lines) else ""
    caret = " " * (max(col, 1) - 1) + "^"
    return SpecificationError(
        f"model syntax error at line {line}, column {col}: {what}\n  {src}\n  {caret}"
    )


def _tokenize(text: str) -> tuple[list[_Tok], list[str]]:
    lines = text.split("\n")
    toks: list[_Tok] = []
    line, line_start = 1, 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        col = m.start() - line_start + 1
        if kind == "nl":
            toks.append(_Tok("nl", m.group(), line, col))
            if m.group() == "\n":
                line += 1
                line_start = m.end()
            continue
        if kind in ("ws", "comment"):
            continue
        if kind == "other":
            raise syntax_error(lines, line, col, f"unexpected character {m.group()!r}" + (
                "; a name with such characters goes in backticks (`Q-1`)"
                if m.group() not in "`\"'" else ""))
        if kind == "quoted":
            toks.append(_Tok("name", _unquote(m.group()), line, col, quoted=True))
            continue
        toks.append(_Tok(kind, m.group(), line, col))
    return toks, lines


def _statements(toks: list[_Tok]) -> list[list[_Tok]]:
    """Group tokens into statements, joining continued lines."""
    out: list[list[_Tok]] = []
    cur: list[_Tok] = []
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.kind == "nl":
            # continuation: current ends with + * operator ( ,  or next token is +
            nxt = next((u for u in toks[i + 1:] if u.kind != "nl"), None)
            cont = bool(cur) and (
                cur[-1].kind in ("plus", "star", "op", "lpar", "comma", "arith")
                or (nxt is not None and nxt.kind == "plus" and t.text == "\n")
            )
            if not cont and cur:
                out.append(cur)
                cur = []
            i += 1
            continue
        cur.append(t)
        i += 1
    if cur:
        out.append(cur)
    return out


def _parse_number(tok: _Tok) -> float:
    return float(tok.text)


class _StatementParser:
    def __init__(self, toks: list[_Tok], lines: list[str]):
        self.toks = toks
        self.lines = lines
        self.i = 0

    def error(self, tok: _Tok | None, what: str) -> SpecificationError:
        if tok is None:  # end of statement: point just past the last token
            last = self.toks[-1]
            return syntax_error(self.lines, last.line, last.col + len(last.text), what)
        return syntax_error(self.lines, tok.line, tok.col, what)

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok | None:
        t = self.peek()
        self.i += 1
        return t

    def expect(self, kind: str, what: str) -> _Tok:
        t = self.take()
        if t is None or t.kind != kind:
            raise self.error(t, what)
        return t

    def parse(self) -> list[Formula]:
        first = self.toks[0]
        op_pos = next((k for k, t in enumerate(self.toks) if t.kind == "op"), None)
        if op_pos is None:
            raise self.error(first, f"no operator in {' '.join(t.text for t in self.toks)!r}; "
                             "expected one of =~ ~~ ~ == < > :=")
        op_tok = self.toks[op_pos]
        if op_tok.text in _UNSUPPORTED:
            raise self.error(op_tok, _UNSUPPORTED[op_tok.text])
        if op_pos == 0:
            raise self.error(first, f"operator {first.text!r} has no left-hand side")
        lhs_toks = self.toks[:op_pos]
        op = op_tok.text
        text = self.lines[lhs_toks[0].line - 1].strip()
        if op in ("==", "<", ">"):
            return [self.constraint(lhs_toks, op_tok, text)]
        if len(lhs_toks) != 1 or lhs_toks[0].kind != "name":
            bad = lhs_toks[1] if len(lhs_toks) > 1 else lhs_toks[0]
            raise self.error(bad, "the left-hand side must be a single variable name")
        lhs = lhs_toks[0]
        self.i = op_pos + 1
        if op == ":=":
            rest = self.toks[self.i:]
            if not rest:
                raise self.error(None, f"operator {op!r} needs a right-hand side")
            rhs = _ExprParser(self, rest).parse_all()
            return [Formula(lhs.text, op, (Term(_expr_text(rest), line=rest[0].line,
                                                col=rest[0].col),),
                            lhs.line, lhs.col, text, expr=(None, rhs))]
        if self.peek() is None:
            raise self.error(None, f"operator {op!r} needs a right-hand side")
        terms: list[Term] = []
        while True:
            terms.append(self.term(op))
            t = self.take()
            if t is None:
                break
            if t.kind != "plus":
                hint = ("; a name with such characters goes in backticks (`Q-1`)"
                        if t.kind in ("op", "arith") else "")
                raise self.error(t, f"expected '+' between terms, found {t.text!r}{hint}")
            if self.peek() is None:
                raise self.error(None, "a '+' must be followed by a term")
        out: list[Formula] = []
        ones = [t for t in terms if t.name == "1" and op == "~"]
        if len(ones) > 1:
            raise syntax_error(self.lines, ones[1].line, ones[1].col,
                               f"the intercept '1' appears twice on the right of {lhs.text} ~")
        if ones:  # lavaan's y ~ 1 + x: an intercept row and a regression
            out.append(Formula(lhs.text, "~1", tuple(ones), lhs.line, lhs.col, text))
            terms = [t for t in terms if t.name != "1"]
            if not terms:
                return out
        seen: dict[str, Term] = {}
        for term in terms:
            first = seen.get(term.name)
            if first is None:
                seen[term.name] = term
            elif _plain(first) and _plain(term):
                raise syntax_error(self.lines, term.line, term.col,
                                   f"{term.name!r} appears twice on the right of {lhs.text} {op}")
            else:  # lavaan's NA*x1 + a*x1: one parameter with both modifiers
                seen[term.name] = _merge(first, term)
        out.insert(0, Formula(lhs.text, op, tuple(seen.values()), lhs.line, lhs.col, text))
        return out

    def constraint(self, lhs_toks: list[_Tok], op_tok: _Tok, text: str) -> Formula:
        rest = self.toks[len(lhs_toks) + 1:]
        if not rest:
            raise self.error(None, f"operator {op_tok.text!r} needs a right-hand side")
        left = _ExprParser(self, lhs_toks).parse_all()
        right = _ExprParser(self, rest).parse_all()
        first = lhs_toks[0]
        return Formula(_expr_text(lhs_toks), op_tok.text,
                       (Term(_expr_text(rest), line=rest[0].line, col=rest[0].col),),
                       first.line, first.col, text, expr=(left, right))

    def _modifier_value(self, t: _Tok, fname: str) -> tuple[float | None, bool, str]:
        """One element of c(...): a number (fixed), NA (free) or a label (name or string)."""
        if t.kind == "num":
            return float(t.text), False, ""
        if t.kind == "name" and t.text == "NA" and not t.quoted:
            return None, True, ""
        if t.kind == "name":
            return None, False, t.text
        if t.kind == "string":
            return None, False, t.text[1:-1]
        raise self.error(t, f"{t.text!r} cannot be a value of {fname}(...); use numbers, NA "
                         "or labels")

    def term(self, op: str) -> Term:
        fixed: float | None = None
        free_forced = False
        label = ""
        start: float | None = None
        groups: tuple[tuple[float | None, bool, str], ...] = ()
        while True:
            t = self.take()
            if t is None:
                raise self.error(None, "expected a variable name")
            nxt = self.peek()
            if nxt is not None and nxt.kind == "star":
                self.take()  # modifier
                if t.kind == "num":
                    fixed = _parse_number(t)
                elif t.kind == "name" and t.text == "NA" and not t.quoted:
                    free_forced = True
                elif t.kind == "name":
                    label = t.text
                else:
                    raise self.error(t, f"{t.text!r} cannot modify a term; use a number, NA or "
                                     "a label before '*'")
                continue
            if t.kind == "name" and not t.quoted and nxt is not None and nxt.kind == "lpar":
                # function modifier: start(), label(), equal(), c()
                fname = t.text
                self.take()
                args: list[_Tok] = []
                while True:
                    a = self.take()
                    if a is None:
                        raise self.error(None, f"unclosed '(' after {fname}")
                    if a.kind == "rpar":
                        break
                    if a.kind != "comma":
                        args.append(a)
                star = self.take()
                if star is None or star.kind != "star":
                    raise self.error(star, f"{fname}(...) must be followed by '*' and a name")
                if fname == "start" and len(args) == 1 and args[0].kind == "num":
                    start = _parse_number(args[0])
                elif fname in ("label", "equal") and len(args) == 1 and args[0].kind == "string":
                    label = args[0].text[1:-1]
                    if fname == "equal" and any(o in label for o in ("=~", "~")):
                        raise self.error(t, f"equal({args[0].text}) names a parameter; give "
                                         "both parameters the same label instead (a*x1 + a*x2)")
                elif fname == "c" and args:
                    groups = tuple(self._modifier_value(a, fname) for a in args)
                else:
                    raise self.error(t, f"unknown modifier {fname}(...); use start(value), "
                                     "label(\"name\"), equal(\"name\"), c(...) or a plain "
                                     "number / NA / label")
                continue
            if t.kind == "name":
                return Term(t.text, fixed, free_forced, label, start, t.line, t.col, groups)
            if t.kind == "num" and t.text == "1" and op == "~":
                return Term("1", fixed, free_forced, label, start, t.line, t.col, groups)
            raise self.error(t, f"expected a variable name, found {t.text!r}")


def _plain(t: Term) -> bool:
    return (t.fixed is None and not t.free_forced and not t.label and t.start is None
            and not t.groups)


def _merge(a: Term, b: Term) -> Term:
    """One term from two writings of the same variable; b's modifiers win where both set one."""
    return dataclasses.replace(
        a, fixed=b.fixed if b.fixed is not None else a.fixed,
        free_forced=a.free_forced or b.free_forced, label=b.label or a.label,
        start=b.start if b.start is not None else a.start, groups=b.groups or a.groups)


def _expr_text(toks: Sequence[_Tok]) -> str:
    """The expression as lavaan prints it in the rhs column (tokens without spaces)."""
    return "".join(f"`{t.text}`" if t.quoted else t.text for t in toks)


class _ExprParser:
    """Recursive descent over the tokens of one side of == < > or of :=."""

    def __init__(self, owner: _StatementParser, toks: list[_Tok]):
        self.owner = owner
        self.toks = list(toks)  # binop() splits "-1" tokens in this copy
        self.i = 0
        self.pending_num: _Tok | None = None  # the number of a split "-1" token

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def error(self, tok: _Tok | None, what: str) -> SpecificationError:
        if tok is None:
            last = self.toks[-1]
            return syntax_error(self.owner.lines, last.line, last.col + len(last.text), what)
        return syntax_error(self.owner.lines, tok.line, tok.col, what)

    def binop(self, ops: str) -> str | None:
        t = self.peek()
        if t is None:
            return None
        if t.kind == "plus" and "+" in ops:
            self.i += 1
            return "+"
        if t.kind == "star" and "*" in ops:
            self.i += 1
            return "*"
        if t.kind == "arith" and t.text in ops:
            self.i += 1
            return t.text
        if t.kind == "num" and t.text.startswith("-") and "-" in ops:
            # "a -1": the tokenizer read "-1" as one number; it is a binary minus here
            self.toks[self.i] = _Tok("num", t.text[1:], t.line, t.col + 1)
            return "-"
        return None

    def parse_all(self) -> Expr:
        node = self.sum()
        t = self.peek()
        if t is not None:
            raise self.error(t, f"unexpected {t.text!r} in the expression")
        return node

    def sum(self) -> Expr:
        node = self.product()
        while (op := self.binop("+-")) is not None:
            node = ("bin", op, node, self.product())
        return node

    def product(self) -> Expr:
        node = self.unary()
        while (op := self.binop("*/")) is not None:
            node = ("bin", op, node, self.unary())
        return node

    def unary(self) -> Expr:
        t = self.peek()
        if t is not None and t.kind == "arith" and t.text == "-":
            self.i += 1
            return ("neg", self.unary())
        node = self.atom()
        if self.binop("^") is not None:
            node = ("bin", "^", node, self.unary())
        return node

    def atom(self) -> Expr:
        t = self.peek()
        if t is None:
            raise self.error(None, "the expression ends too early")
        self.i += 1
        if t.kind == "num":
            return ("num", float(t.text))
        if t.kind == "lpar":
            node = self.sum()
            close = self.peek()
            if close is None or close.kind != "rpar":
                raise self.error(close, "expected ')'")
            self.i += 1
            return node
        if t.kind == "name":
            nxt = self.peek()
            if nxt is not None and nxt.kind == "lpar" and not t.quoted:
                if t.text not in FUNCTIONS:
                    raise self.error(t, f"function {t.text}() is not available in constraints "
                                     f"and defined parameters; use {', '.join(FUNCTIONS)}")
                self.i += 1
                arg = self.sum()
                close = self.peek()
                if close is None or close.kind != "rpar":
                    raise self.error(close, "expected ')'")
                self.i += 1
                return ("call", t.text, arg)
            return ("name", t.text, t.line, t.col)
        raise self.error(t, f"unexpected {t.text!r} in the expression; use labels, numbers, "
                         "+ - * / ^ and parentheses")


def parse_syntax(text: str) -> list[Formula]:
    """Parse lavaan model syntax into formulas.

    Parameters
    ----------
    text : str
        lavaan model syntax.

    Returns
    -------
    list of Formula

    Raises
    ------
    SpecificationError
        On any syntax error, naming the line and column with a caret under the fault.
    """
    if not isinstance(text, str):
        raise SpecificationError(f"model syntax must be a string; got {type(text).__name__}")
    toks, lines = _tokenize(text)
    stmts = _statements(toks)
    if not stmts:
        raise SpecificationError("the model syntax is empty: write e.g. 'F1 =~ x1 + x2 + x3'")
    return [f for s in stmts for f in _StatementParser(s, lines).parse()]


def model_to_formulas(model: Any) -> tuple[list[Formula], str]:
    """Accept lavaan syntax, a dict ``{factor: [items]}`` or an object with ``to_model()``.

    Returns the formulas and the model as syntax text (for display).
    """
    if hasattr(model, "to_model") and not isinstance(model, (str, Mapping)):
        model = model.to_model()
    if isinstance(model, Mapping):
        parts = []
        for factor, items in model.items():
            if isinstance(items, str) or not isinstance(items, Sequence) or not items:
                raise SpecificationError(
                    f"factor {factor!r} in the model dict must map to a non-empty list of "
                    f"item names; got {items!r}"
                )
            if not isinstance(factor, str) or not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", factor):
                raise SpecificationError(
                    f"factor name {factor!r} is not a valid name (letters, digits, '.', '_')"
                )
            for it in items:
                if not isinstance(it, str) or not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", it):
                    raise SpecificationError(
                        f"item name {it!r} of factor {factor!r} is not a valid name; rename "
                        "the column (letters, digits, '.', '_')"
                    )
            parts.append(f"{factor} =~ {' + '.join(items)}")
        text = "\n".join(parts)
    elif isinstance(model, str):
        text = model
    else:
        raise SpecificationError(
            "model must be lavaan syntax (str), a dict {factor: [items]} or an object with "
            f"to_model(); got {type(model).__name__}"
        )
    return parse_syntax(text), text
