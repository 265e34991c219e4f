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
from psychoval.framework._syntax import Formula, syntax_error

__all__ = ["ParTable", "build_partable"]


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
        for r in rows:
            for f in _ROW_FIELDS:
                cols[f].append(r[f] if f in r else _DEFAULTS[f])
        return dataclasses.replace(self, **{f: tuple(v) for f, v in cols.items()})


_ROW_FIELDS = ("lhs", "op", "rhs", "group", "user", "free", "ustart", "start", "label",
               "line", "col")
_DEFAULTS: dict[str, Any] = {"group": 1, "user": 0, "free": 0, "ustart": math.nan,
                             "start": math.nan, "label": "", "line": 0, "col": 0}


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

    def add(lhs: str, op: str, rhs: str, *, user: int, fixed: float | None = None,
            free_forced: bool = False, label: str = "", start: float | None = None,
            line: int = 0, col: int = 0) -> None:
        key = (lhs, op, rhs)
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
                     "line": line, "col": col})

    first_indicator: dict[str, str] = {}
    for f in formulas:
        if f.op == "=~":
            for k, t in enumerate(f.rhs):
                if t.name == f.lhs:
                    raise _err(lines, t.line, t.col, f"factor {f.lhs!r} cannot indicate itself")
                if f.lhs not in first_indicator and k == 0:
                    first_indicator[f.lhs] = t.name
                add(f.lhs, "=~", t.name, user=1, fixed=t.fixed, free_forced=t.free_forced,
                    label=t.label, start=t.start, line=t.line, col=t.col)
        elif f.op == "~~":
            for t in f.rhs:
                if (f.lhs in lv_set) != (t.name in lv_set):
                    raise _err(lines, t.line, t.col,
                               f"{f.lhs} ~~ {t.name} mixes a factor and an observed variable; "
                               "covariances are between two factors or two observed variables")
                add(f.lhs, "~~", t.name, user=1, fixed=t.fixed, free_forced=t.free_forced,
                    label=t.label, start=t.start, line=t.line, col=t.col)
        elif f.op == "~":
            for t in f.rhs:
                if f.lhs not in lv_set or t.name not in lv_set:
                    bad = f.lhs if f.lhs not in lv_set else t.name
                    line, col = (f.line, f.col) if bad == f.lhs else (t.line, t.col)
                    raise _err(lines, line, col,
                               f"regression {f.lhs} ~ {t.name}: {bad!r} is not a factor; cfa() "
                               "fits regressions among factors only (no observed predictors)")
                add(f.lhs, "~", t.name, user=1, fixed=t.fixed, free_forced=t.free_forced,
                    label=t.label, start=t.start, line=t.line, col=t.col)
        elif f.op == "~1":
            add(f.lhs, "~1", "", user=1, line=f.line, col=f.col)
        else:
            raise _err(lines, f.line, f.col,
                       f"operator {f.op!r} (constraints and defined parameters) is not "
                       "supported yet; express equality through shared labels (a*x1 + a*x2)")

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

    # free parameter indices; shared labels share an index
    free: list[int] = []
    by_label: dict[str, int] = {}
    q = 0
    fixed_label = {r["label"]: r["ustart"] for r in rows
                   if r["label"] and not math.isnan(r["ustart"])}
    for r in rows:
        if r["label"] in fixed_label and math.isnan(r["ustart"]):
            r["ustart"] = fixed_label[r["label"]]  # equal to a fixed parameter: fixed too
        if not math.isnan(r["ustart"]):
            free.append(0)
            continue
        if r["label"] and r["label"] in by_label:
            free.append(by_label[r["label"]])
            continue
        q += 1
        free.append(q)
        if r["label"]:
            by_label[r["label"]] = q
    return ParTable(
        lhs=tuple(r["lhs"] for r in rows), op=tuple(r["op"] for r in rows),
        rhs=tuple(r["rhs"] for r in rows), group=tuple(1 for _ in rows),
        user=tuple(r["user"] for r in rows), free=tuple(free),
        ustart=tuple(r["ustart"] for r in rows), start=tuple(r["start"] for r in rows),
        label=tuple(r["label"] for r in rows), line=tuple(r["line"] for r in rows),
        col=tuple(r["col"] for r in rows), observed=tuple(observed), latent=tuple(latent),
        meanstructure=meanstructure, std_lv=std_lv, source=source,
    )
