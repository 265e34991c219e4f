"""Inequality constraints and defined parameters of a fitted model (stats layer).

``violated_inequality`` drives the active set of :func:`psychoval.cfa` (lavaan's ``<`` and
``>``); ``defined_table`` gives lavaan's ``:=`` rows of ``parameterEstimates``: the value of each
expression at the estimates and its delta-method standard error
``se = sqrt(J V J')``, ``J`` the derivative of the expression in the free parameters by the
complex step (exact for the arithmetic and functions of :mod:`psychoval.framework._expr`),
``V`` the covariance of the estimates (robust under MLR, as lavaan).
"""

from __future__ import annotations

import math

import numpy as np

from psychoval.framework._expr import evaluate
from psychoval.framework._partable import ParTable

__all__ = ["label_env", "violated_inequality", "defined_values", "defined_se"]

# a constraint counts as violated beyond this (lavaan's nlminb.constr stops at ~1e-8 of it)
_INEQ_TOL = 1e-10


def label_env(pt: ParTable, rows: np.ndarray) -> dict:
    """label -> value from per-row values (the first row carrying the label)."""
    env: dict = {}
    for r, lab in enumerate(pt.label):
        if lab and lab not in env:
            env[lab] = rows[r]
    return env


def row_values(pt: ParTable, x: np.ndarray) -> np.ndarray:
    """Per-row values of the table at free parameters ``x`` (real or complex)."""
    out = np.array(pt.ustart, dtype=np.result_type(x, float))
    free = np.array(pt.free, dtype=int)
    f = free > 0
    out[f] = x[free[f] - 1]
    return out


def violated_inequality(pt: ParTable, x: np.ndarray) -> int | None:
    """Index (into ``pt.constraints``) of the most violated inactive inequality at ``x``."""
    env = label_env(pt, row_values(pt, x))
    worst, where = _INEQ_TOL, None
    for k, f in enumerate(pt.constraints):
        if f.op == "==" or k in pt.active:
            continue
        left, right = evaluate(f.expr[0], env), evaluate(f.expr[1], env)
        gap = (left - right) if f.op == "<" else (right - left)  # > 0: violated
        scale = max(1.0, abs(left), abs(right))
        if gap / scale > worst:
            worst, where = gap / scale, k
    return where


def defined_values(pt: ParTable, rows: np.ndarray) -> np.ndarray:
    """The ``:=`` parameters at per-row values ``rows`` (each may use those above it)."""
    env = label_env(pt, rows)
    out = []
    for f in pt.defined:
        v = evaluate(f.expr[1], env)
        env[f.lhs] = v
        out.append(v)
    return np.array(out, dtype=np.result_type(rows, float))


def defined_se(pt: ParTable, x: np.ndarray, vcov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, delta-method standard errors) of the ``:=`` parameters."""
    est = defined_values(pt, row_values(pt, x)).real
    q = len(x)
    jac = np.empty((len(est), q))
    h = 1e-20
    for k in range(q):
        xc = np.asarray(x, dtype=complex).copy()
        xc[k] += 1j * h
        jac[:, k] = defined_values(pt, row_values(pt, xc)).imag / h
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.clip(np.diag(jac @ vcov @ jac.T), 0, None))
    se = np.where(np.isfinite(est), se, math.nan)
    return est, se
