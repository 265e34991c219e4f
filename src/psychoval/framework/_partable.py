"""The parameter table every model form becomes (framework layer), like lavaan's partable.

One row per model parameter, fixed or free::

    id lhs op rhs group user free ustart start label line col

- ``op``: ``=~`` loading (rhs an indicator or, for higher-order models, a factor), ``~~``
  (co)variance, ``~`` regression among factors, ``~1`` intercept/mean.
- ``group``: 1-based block. A single-group CFA has only group 1; a multi-group fit repeats the
  rows per group (``group.equal`` then shares labels across groups).
- ``user``: 1 written by the user, 0 added by a default (marker loading, variances, factor
  covariances, intercepts), 10 a candidate parameter added for modification indices.
- ``free``: 0 for a fixed parameter, else the 1-based index of the free parameter. Rows that
  share a label share one index (equality through shared labels).
- ``ustart``: the user's fixed value (or the default fixed value, e.g. 1 for a marker loading);
  NaN where free. ``start``: the starting value (filled by the estimator from the data).

Constraints (lavaan's ``==``, ``<``, ``>``) and defined parameters (``:=``) are kept beside the
rows (``constraints``, ``defined``). An equality between two labels (``a == b``) makes their
rows share one free parameter, and a label equal to a number (``v == 1``) fixes its rows
(``eq_fixed`` keeps them countable as lavaan's free parameters); both give lavaan's estimates,
standard errors and degrees of freedom. Other linear equalities (``2*a == b``,
``a + b + c == 3``) are fitted by the estimator in the null space of the constraints, and
inequalities by an active set (an active one is turned into an equality: :func:`assign_free`
with ``active=``). Nonlinear constraints are refused; ``:=`` can define any function.

Estimators (ML here; FIML, MLR, WLSMV, multi-group later) read this table; they never re-parse
the syntax. :func:`build_partable` applies lavaan's ``cfa()`` defaults: ``auto.fix.first``
(marker variable) or ``std.lv``, ``auto.var``, ``auto.cov.lv.x``, and, when asked,
``meanstructure`` (free observed intercepts, latent means fixed at 0).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import SpecificationError
from psychoval.framework._expr import affine, names
from psychoval.framework._syntax import Formula, syntax_error

__all__ = ["ParTable", "build_partable", "assign_free", "linear_form", "simple_shape"]


@dataclasses.dataclass(frozen=True)
class ParTable:
    """A parameter table (see the module docstring). Columns are equal-length tuples."""

    lhs: tuple[str, ...]
    op: tuple[str, ...]
    rhs: tuple[str, ...]
    group: tuple[int, ...]
    user: tuple[int, ...]
    free: tuple[int, ...]
    ustart: tuple[float, ...]
    start: tuple[float, ...]
    label: tuple[str, ...]
    line: tuple[int, ...]
    col: tuple[int, ...]
    observed: tuple[str, ...]  # observed variables in lavaan's order
    latent: tuple[str, ...]  # latent variables in lavaan's order
    meanstructure: bool = False
    std_lv: bool = False
    source: str = ""  # the syntax, for messages
    # per row: c(...) modifiers, one (fixed, free_forced, label) per group, or ()
    group_mods: tuple[tuple, ...] = ()
    constraints: tuple[Formula, ...] = ()  # == < > in syntax order
    defined: tuple[Formula, ...] = ()  # := in syntax order
    eq_fixed: tuple[int, ...] = ()  # rows free in lavaan but fixed by a constraint (v == 1)
    active: tuple[int, ...] = ()  # indices into constraints of the active inequalities
    ustart_user: tuple[float, ...] = ()  # ustart before constraints fixed rows (assign_free)

    def __len__(self) -> int:
        return len(self.lhs)

    @property
    def n_free(self) -> int:
        return max(self.free, default=0)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "id": np.arange(1, len(self) + 1), "lhs": self.lhs, "op": self.op, "rhs": self.rhs,
            "group": self.group, "user": self.user, "free": self.free, "ustart": self.ustart,
            "start": self.start, "label": self.label,
        })

    def replace(self, **changes: Any) -> ParTable:
        return dataclasses.replace(self, **changes)

    def with_rows(self, rows: Sequence[dict[str, Any]]) -> ParTable:
        """A new table with ``rows`` appended (missing columns take neutral defaults)."""
        cols = {f: list(getattr(self, f)) for f in _ROW_FIELDS}
        if len(cols["group_mods"]) != len(self):
            cols["group_mods"] = [()] * len(self)
        for r in rows:
            for f in _ROW_FIELDS:
                cols[f].append(r[f] if f in r else _DEFAULTS[f])
        return dataclasses.replace(self, **{f: tuple(v) for f, v in cols.items()})


_ROW_FIELDS = ("lhs", "op", "rhs", "group", "user", "free", "ustart", "start", "label",
               "line", "col", "group_mods")
_DEFAULTS: dict[str, Any] = {"group": 1, "user": 0, "free": 0, "ustart": math.nan,
                             "start": math.nan, "label": "", "line": 0, "col": 0,
                             "group_mods": ()}


def _err(lines: list[str], line: int, col: int, what: str) -> SpecificationError:
    if line <= 0:
        return SpecificationError(what)
    return syntax_error(lines, line, col, what)


def build_partable(
    formulas: Sequence[Formula],
    *,
    std_lv: bool = False,
    meanstructure: bool = False,
    source: str = "",
) -> ParTable:
    """Build the parameter table of a CFA from parsed formulas with lavaan's cfa() defaults."""
    lines = source.split("\n")
    latent: list[str] = []
    for f in formulas:
        if f.op == "=~" and f.lhs not in latent:
            latent.append(f.lhs)
    if not latent:
        raise SpecificationError(
            "the model defines no factor: a CFA needs at least one 'factor =~ item + item' line"
        )
    lv_set = set(latent)
    observed: list[str] = []

    def note_ov(name: str) -> None:
        if name not in lv_set and name not in observed:
            observed.append(name)

    for f in formulas:
        if f.op == "=~":
            for t in f.rhs:
                note_ov(t.name)
    for f in formulas:
        if f.op in ("~~", "~"):
            note_ov(f.lhs)
            for t in f.rhs:
                note_ov(t.name)
        elif f.op == "~1":
            note_ov(f.lhs)

    rows: list[dict[str, Any]] = []
    index: dict[tuple[str, str, str], int] = {}
    constraints: list[Formula] = []
    defined: list[Formula] = []
    meanstructure = meanstructure or any(f.op == "~1" for f in formulas)

    def add(lhs: str, op: str, rhs: str, *, user: int, fixed: float | None = None,
            free_forced: bool = False, label: str = "", start: float | None = None,
            line: int = 0, col: int = 0, groups: tuple = ()) -> None:
        key = (lhs, op, rhs)
        if groups:  # c(...): group 1's value here, the others in multigroup_partable
            fixed, free_forced, label = groups[0]
        if op == "~~" and (rhs, op, lhs) in index:
            key = (rhs, op, lhs)
        if key in index:
            raise _err(lines, line, col,
                       f"parameter {lhs} {op} {rhs} is specified twice; write it once")
        index[key] = len(rows)
        rows.append({"lhs": key[0], "op": op, "rhs": key[2], "user": user,
                     "ustart": math.nan if fixed is None else float(fixed),
                     "free_forced": free_forced, "label": label,
                     "start": math.nan if start is None else float(start),
                     "line": line, "col": col, "group_mods": groups})

    first_indicator: dict[str, str] = {}
    for f in formulas:
        if f.op == "=~":
            for k, t in enumerate(f.rhs):
                if t.name == f.lhs:
                    raise _err(lines, t.line, t.col, f"factor {f.lhs!r} cannot indicate itself")
                if f.lhs not in first_indicator and k == 0:
                    first_indicator[f.lhs] = t.name
                add(f.lhs, "=~", t.name, user=1, fixed=t.fixed, free_forced=t.free_forced,
                    label=t.label, start=t.start, line=t.line, col=t.col, groups=t.groups)
        elif f.op == "~~":
            for t in f.rhs:
                if (f.lhs in lv_set) != (t.name in lv_set):
                    raise _err(lines, t.line, t.col,
                               f"{f.lhs} ~~ {t.name} mixes a factor and an observed variable; "
                               "covariances are between two factors or two observed variables")
                add(f.lhs, "~~", t.name, user=1, fixed=t.fixed, free_forced=t.free_forced,
                    label=t.label, start=t.start, line=t.line, col=t.col, groups=t.groups)
        elif f.op == "~":
            for t in f.rhs:
                if f.lhs not in lv_set or t.name not in lv_set:
                    bad = f.lhs if f.lhs not in lv_set else t.name
                    line, col = (f.line, f.col) if bad == f.lhs else (t.line, t.col)
                    raise _err(lines, line, col,
                               f"regression {f.lhs} ~ {t.name}: {bad!r} is not a factor; cfa() "
                               "fits regressions among factors only (no observed predictors)")
                add(f.lhs, "~", t.name, user=1, fixed=t.fixed, free_forced=t.free_forced,
                    label=t.label, start=t.start, line=t.line, col=t.col, groups=t.groups)
        elif f.op == "~1":
            t = f.rhs[0] if f.rhs else None
            if t is None:
                add(f.lhs, "~1", "", user=1, line=f.line, col=f.col)
            else:
                add(f.lhs, "~1", "", user=1, fixed=t.fixed, free_forced=t.free_forced,
                    label=t.label, start=t.start, line=t.line, col=t.col, groups=t.groups)
        elif f.op in ("==", "<", ">"):
            constraints.append(f)
        elif f.op == ":=":
            defined.append(f)
        else:  # pragma: no cover - the parser knows no other operator
            raise _err(lines, f.line, f.col, f"operator {f.op!r} is not supported")

    # marker variable: the first indicator's loading is fixed to 1 unless the user fixed it
    # or freed it with NA*
    for r in rows:
        if r["op"] == "=~" and first_indicator.get(r["lhs"]) == r["rhs"]:
            if not std_lv and math.isnan(r["ustart"]) and not r["free_forced"]:
                r["ustart"] = 1.0

    # endogenous factors: indicated by another factor, or lhs of a regression
    endo_lv = {r["rhs"] for r in rows if r["op"] == "=~" and r["rhs"] in lv_set}
    endo_lv |= {r["lhs"] for r in rows if r["op"] == "~"}
    for ov in observed:
        if (ov, "~~", ov) not in index:
            add(ov, "~~", ov, user=0)
    for lv in latent:
        if (lv, "~~", lv) not in index:
            add(lv, "~~", lv, user=0, fixed=1.0 if std_lv else None)
        elif std_lv:
            pass  # the user's own specification wins
    exo = [lv for lv in latent if lv not in endo_lv]
    for a in range(len(exo)):
        for b in range(a + 1, len(exo)):
            if (exo[a], "~~", exo[b]) not in index and (exo[b], "~~", exo[a]) not in index:
                add(exo[a], "~~", exo[b], user=0)
    if meanstructure:
        for ov in observed:
            if (ov, "~1", "") not in index:
                add(ov, "~1", "", user=0)
        for lv in latent:
            if (lv, "~1", "") not in index:
                add(lv, "~1", "", user=0, fixed=0.0)

    pt = ParTable(
        lhs=tuple(r["lhs"] for r in rows), op=tuple(r["op"] for r in rows),
        rhs=tuple(r["rhs"] for r in rows), group=tuple(1 for _ in rows),
        user=tuple(r["user"] for r in rows), free=tuple(0 for _ in rows),
        ustart=tuple(r["ustart"] for r in rows), start=tuple(r["start"] for r in rows),
        label=tuple(r["label"] for r in rows), line=tuple(r["line"] for r in rows),
        col=tuple(r["col"] for r in rows), observed=tuple(observed), latent=tuple(latent),
        meanstructure=meanstructure, std_lv=std_lv, source=source,
        group_mods=tuple(r["group_mods"] for r in rows), constraints=tuple(constraints),
        defined=tuple(defined),
    )
    check_constraints(pt)
    return assign_free(pt)


def _labels(pt: ParTable) -> set[str]:
    return {lab for lab in pt.label if lab} | {
        m[2] for mods in pt.group_mods for m in mods if m[2]}


def check_constraints(pt: ParTable) -> None:
    """Raise, naming line and column, on a constraint or defined parameter that reads an
    unknown label or has a form this package cannot fit (an equality or inequality other than
    label-label or label-number)."""
    lines = pt.source.split("\n")
    known = _labels(pt)
    for f in pt.constraints:
        for name, line, col in names(f.expr[0]) + names(f.expr[1]):
            if name not in known:
                what = ("a defined parameter (:=); constraints on defined parameters are not "
                        "supported - constrain the labels it is made of" if any(
                            d.lhs == name for d in pt.defined) else
                        f"not a label of the model; label a parameter with {name}*item")
                raise _err(lines, line, col, f"{name!r} in '{f.text}' is {what}")
        _check_form(f, lines)
    seen: set[str] = set()
    for f in pt.defined:
        if f.lhs in known:
            raise _err(lines, f.line, f.col, f"defined parameter {f.lhs!r} has the name of a "
                       "label of the model; choose another name")
        if f.lhs in seen:
            raise _err(lines, f.line, f.col, f"defined parameter {f.lhs!r} is defined twice")
        for name, line, col in names(f.expr[1]):
            if name not in known and name not in seen:
                raise _err(lines, line, col, f"{name!r} in '{f.text}' is not a label of the "
                           f"model nor a parameter defined above it; label a parameter with "
                           f"{name}*item")
        seen.add(f.lhs)


def linear_form(f: Formula) -> tuple[dict[str, float], float] | None:
    """``(coefficients, constant)`` with ``sum coef * label = constant`` for a linear
    constraint, else None (nonlinear)."""
    left, right = affine(f.expr[0]), affine(f.expr[1])
    if left is None or right is None:
        return None
    coef = dict(left[0])
    for k, v in right[0].items():
        coef[k] = coef.get(k, 0.0) - v
    return {k: v for k, v in coef.items() if v != 0.0}, right[1] - left[1]


def simple_shape(f: Formula) -> tuple[str, str | float] | None:
    """(label, other label or number) of ``a op b`` / ``a op 1`` (and their rearrangements
    such as ``a - b == 0``): constraints a shared parameter or a fixed value express."""
    form = linear_form(f)
    if form is None:
        return None
    coef, const = form
    if len(coef) == 1:
        ((name, c),) = coef.items()
        return name, const / c
    if len(coef) == 2 and const == 0.0:
        (a, ca), (b, cb) = coef.items()
        if ca == -cb:
            return a, b
    return None


def _check_form(f: Formula, lines: list[str]) -> None:
    form = linear_form(f)
    if form is None or not form[0]:
        what = ("is nonlinear in the labels" if form is None else "holds no label")
        raise _err(lines, f.line, f.col,
                   f"constraint '{f.text}' {what}: equalities and inequalities must be linear "
                   "in the labels (a == b, a == 1, 2*a == b, a + b + c == 3, a > 0); for a "
                   "nonlinear function label the parameters and define it with :=")


def assign_free(pt: ParTable, active: tuple[int, ...] = ()) -> ParTable:
    """Free-parameter indices of ``pt``: rows that share a label share an index, ``==``
    constraints (and the inequalities in ``active``, indices into ``pt.constraints``, taken as
    equalities) of the simple forms (:func:`simple_shape`) merge labels or fix their rows; a
    label of a fixed row fixes the others. Other linear constraints are left to the estimator
    (``psychoval.stats.sem._constraints.linear_system``)."""
    parent: dict[str, str] = {}

    def root(a: str) -> str:
        while parent.get(a, a) != a:
            a = parent[a]
        return a

    value: dict[str, float] = {}
    base = pt.ustart_user if len(pt.ustart_user) == len(pt) else pt.ustart
    eqs = [f for k, f in enumerate(pt.constraints) if f.op == "==" or k in active]
    for f in eqs:
        shape = simple_shape(f)
        if shape is None:
            continue
        a, b = shape
        if isinstance(b, str):
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[ra] = rb
        else:
            value[a] = b
    for a, v in list(value.items()):
        value[root(a)] = v
    ustart = list(base)
    eq_fixed: list[int] = []
    for r, lab in enumerate(pt.label):
        if lab and math.isnan(ustart[r]) and root(lab) in value:
            ustart[r] = value[root(lab)]
            eq_fixed.append(r)
    fixed_label = {root(lab): ustart[r] for r, lab in enumerate(pt.label)
                   if lab and not math.isnan(ustart[r])}
    free: list[int] = []
    by_label: dict[str, int] = {}
    q = 0
    for r, lab in enumerate(pt.label):
        key = root(lab) if lab else ""
        if key in fixed_label and math.isnan(ustart[r]):
            ustart[r] = fixed_label[key]  # equal to a fixed parameter: fixed too
        if not math.isnan(ustart[r]):
            free.append(0)
            continue
        if key and key in by_label:
            free.append(by_label[key])
            continue
        q += 1
        free.append(q)
        if key:
            by_label[key] = q
    return pt.replace(free=tuple(free), ustart=tuple(ustart), eq_fixed=tuple(eq_fixed),
                      active=tuple(active), ustart_user=tuple(base))
