"""lavaan model syntax -> a list of :class:`Formula` records (framework layer).

The grammar is lavaan's (``R/lav_syntax_parser.R``, 0.6.14) for the parts a CFA needs:

- operators ``=~`` (measured by), ``~~`` (variance / covariance), ``~`` (regression),
  ``~ 1`` (intercept), ``==`` (equality constraint), ``:=`` (defined parameter);
- terms joined by ``+``; each term may carry modifiers joined by ``*``: a fixed value
  (``1*x1``, ``-0.5*x1``), ``NA`` (free: ``NA*x1``), a label (``a*x1``, ``label("a")*x1``),
  a starting value (``start(0.7)*x1``); several modifiers may be chained (``a*start(.5)*x1``);
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

__all__ = ["Term", "Formula", "parse_syntax", "model_to_formulas", "syntax_error", "quote_name"]

OPERATORS = ("=~", "~~", "~", "==", ":=", "<", ">")


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


@dataclasses.dataclass(frozen=True)
class Formula:
    """One statement: ``lhs op rhs-terms`` with the position of its lhs in the source."""

    lhs: str
    op: str
    rhs: tuple[Term, ...]
    line: int = 0
    col: int = 0
    text: str = ""  # the statement's (first) source line, for messages


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r]+)
  | (?P<comment>[#!][^\n]*)
  | (?P<nl>[\n;])
  | (?P<op>=~|~~|==|:=|~|<|>)
  | (?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
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
                cur[-1].kind in ("plus", "star", "op", "lpar", "comma")
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

    def parse(self) -> Formula:
        first = self.toks[0]
        op_pos = next((k for k, t in enumerate(self.toks) if t.kind == "op"), None)
        if op_pos is None:
            raise self.error(first, f"no operator in {' '.join(t.text for t in self.toks)!r}; "
                             "expected one of =~ ~~ ~ == :=")
        if op_pos == 0:
            raise self.error(first, f"operator {first.text!r} has no left-hand side")
        lhs_toks = self.toks[:op_pos]
        op_tok = self.toks[op_pos]
        if len(lhs_toks) != 1 or lhs_toks[0].kind != "name":
            bad = lhs_toks[1] if len(lhs_toks) > 1 else lhs_toks[0]
            raise self.error(bad, "the left-hand side must be a single variable name")
        lhs = lhs_toks[0]
        text = self.lines[lhs.line - 1].strip()
        self.i = op_pos + 1
        op = op_tok.text
        if op in ("==", "<", ">", ":="):
            rest = self.toks[self.i:]
            if not rest:
                raise self.error(None, f"operator {op!r} needs a right-hand side")
            expr = " ".join(t.text for t in rest)
            return Formula(lhs.text, op, (Term(expr, line=rest[0].line, col=rest[0].col),),
                           lhs.line, lhs.col, text)
        if self.peek() is None:
            raise self.error(None, f"operator {op!r} needs a right-hand side")
        terms: list[Term] = []
        while True:
            terms.append(self.term(op))
            t = self.take()
            if t is None:
                break
            if t.kind != "plus":
                raise self.error(t, f"expected '+' between terms, found {t.text!r}")
            if self.peek() is None:
                raise self.error(None, "a '+' must be followed by a term")
        if op == "~" and len(terms) == 1 and terms[0].name == "1":
            return Formula(lhs.text, "~1", (), lhs.line, lhs.col, text)
        seen: dict[str, Term] = {}
        for term in terms:
            if term.name in seen:
                raise syntax_error(self.lines, term.line, term.col,
                                   f"{term.name!r} appears twice on the right of {lhs.text} {op}")
            seen[term.name] = term
        return Formula(lhs.text, op, tuple(terms), lhs.line, lhs.col, text)

    def term(self, op: str) -> Term:
        fixed: float | None = None
        free_forced = False
        label = ""
        start: float | None = None
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
                elif fname == "c":
                    raise self.error(t, "c(...) modifiers (one value per group) need a "
                                     "multi-group model, which this estimator does not fit")
                else:
                    raise self.error(t, f"unknown modifier {fname}(...); use start(value), "
                                     "label(\"name\") or a plain number / NA / label")
                continue
            if t.kind == "name":
                return Term(t.text, fixed, free_forced, label, start, t.line, t.col)
            if t.kind == "num" and t.text == "1" and op == "~":
                return Term("1", line=t.line, col=t.col)
            raise self.error(t, f"expected a variable name, found {t.text!r}")


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
    return [_StatementParser(s, lines).parse() for s in stmts]


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
