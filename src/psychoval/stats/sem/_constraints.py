"""Inequality constraints and defined parameters of a fitted model (stats layer).

``violated_inequality`` drives the active set of :func:`psychoval.cfa` (lavaan's ``<`` and
``>``); ``defined_table`` gives lavaan's ``:=`` rows of ``parameterEstimates``: the value of each
expression at the estimates and its delta-method standard error
``se = sqrt(J V J')``, ``J`` the derivative of the expression in the free parameters by the
complex step (exact for the arithmetic and functions of :mod:`psychoval.framework._expr`),
``V`` the covariance of the estimates (robust under MLR, as lavaan). Linear equality
constraints that shared labels and fixed values do not express are fitted in their null space
(``linear_system``, ``Reparam``, ``fit_linear``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.linalg import null_space

from psychoval.exceptions import SpecificationError
from psychoval.framework._expr import evaluate
from psychoval.framework._partable import ParTable, linear_form, simple_shape
from psychoval.stats.sem._optimize import Estimate, minimize, quasi_newton

__all__ = ["label_env", "violated_inequality", "defined_values", "defined_se", "linear_system",
           "Reparam", "fit_linear"]

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


def linear_system(pt: ParTable) -> tuple[np.ndarray, np.ndarray, int] | None:
    """``(A, b, n_eq)``: the linear constraints ``A x = b`` on the free parameters that shared
    labels and fixed values do not express (``2*a == b``, ``a + b + c == 3``, and such active
    inequalities); ``n_eq`` the rank of the equality rows (lavaan's constraint count for df).
    None when there are none."""
    rows = []
    for k, f in enumerate(pt.constraints):
        if (f.op == "==" or k in pt.active) and simple_shape(f) is None:
            coef, const = linear_form(f)
            rows.append((coef, const, f.op == "==", f))
    if not rows:
        return None
    first: dict[str, int] = {}
    for r, lab in enumerate(pt.label):
        if lab and lab not in first:
            first[lab] = r
    a = np.zeros((len(rows), pt.n_free))
    b = np.zeros(len(rows))
    for i, (coef, const, _, _) in enumerate(rows):
        b[i] = const
        for lab, c in coef.items():
            r = first[lab]
            if pt.free[r] > 0:
                a[i, pt.free[r] - 1] += c
            else:
                b[i] -= c * pt.ustart[r]
    for i, (_, _, _, f) in enumerate(rows):
        if not np.any(a[i]) and abs(b[i]) > 1e-12:
            raise SpecificationError(f"constraint '{f.text}' (line {f.line}) cannot hold: its "
                                     "labels are fixed at other values; remove it or free them")
    eq = np.array([r[2] for r in rows])
    n_eq = int(np.linalg.matrix_rank(a[eq])) if eq.any() else 0
    return a, b, n_eq


class Reparam:
    """A discrepancy in the null space of ``A x = b``: ``x = K z + x_p`` (lavaan fits linear
    equality constraints the same way, ``lav_model_estimate`` with ``eq.constraints.K``)."""

    def __init__(self, disc, a: np.ndarray, b: np.ndarray):
        self.disc = disc
        self.k = null_space(a)
        self.xp = np.linalg.lstsq(a, b, rcond=None)[0]
        if np.max(np.abs(a @ self.xp - b), initial=0.0) > 1e-8 * max(1.0, np.abs(b).max()):
            raise SpecificationError("the equality constraints contradict each other (no "
                                     "parameter values satisfy them all); remove one")

    def x(self, z: np.ndarray) -> np.ndarray:
        return self.k @ z + self.xp

    def z(self, x: np.ndarray) -> np.ndarray:
        return self.k.T @ (x - self.xp)

    def value(self, z: np.ndarray) -> float:
        return self.disc.value(self.x(z))

    def pieces(self, z: np.ndarray, hessian: bool = True):
        f, g, h, extra = self.disc.pieces(self.x(z), hessian)
        if g is None:
            return f, g, h, extra
        return f, self.k.T @ g, (None if h is None else self.k.T @ h @ self.k), extra

    def project(self, info: np.ndarray) -> np.ndarray:
        """``K (K' I K)^-1 K'``: the inverse of the information under the constraints (the
        upper-left block of lavaan's inverted augmented information)."""
        inner = np.linalg.inv(self.k.T @ info @ self.k)
        out = self.k @ inner @ self.k.T
        return 0.5 * (out + out.T)


def fit_linear(disc, x0: np.ndarray, system: tuple[np.ndarray, np.ndarray, int]):
    """Fit under linear equality constraints from ``x0`` projected onto them:
    ``(Estimate, Reparam)``."""
    rp = Reparam(disc, system[0], system[1])
    z0 = rp.z(x0)
    if not np.isfinite(rp.value(z0)):
        z0 = rp.z(np.where(np.isfinite(x0), x0, 0.0))
    opt = minimize(rp, z0)
    if not opt.converged:
        alt = quasi_newton(rp, opt.x)
        if alt.f <= opt.f:
            opt = dataclasses.replace(alt, iterations=opt.iterations + alt.iterations)
    est = Estimate(rp.x(opt.x), opt.f, opt.converged, opt.iterations, (),
                   "lavaan's starting values projected onto the linear constraints", (), False,
                   opt.reason)
    return est, rp
