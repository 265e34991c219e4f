"""Before a CFA is fitted: identification checks and lavaan's starting values.

The minimisation itself is :mod:`psychoval.stats.sem._optimize`.
"""

from __future__ import annotations

import math

import numpy as np

from psychoval.exceptions import SpecificationError
from psychoval.framework._expr import names
from psychoval.framework._partable import ParTable
from psychoval.framework._syntax import syntax_error
from psychoval.stats.sem._model import MatrixModel

__all__ = ["check_identification", "start_values"]


def _where(pt: ParTable, lhs: str, op: str) -> tuple[int, int]:
    for a, o, ln, c in zip(pt.lhs, pt.op, pt.line, pt.col, strict=True):
        if a == lhs and o == op and ln > 0:
            return ln, c
    return 0, 0


def _spec_error(pt: ParTable, lhs: str, op: str, what: str) -> SpecificationError:
    line, col = _where(pt, lhs, op)
    if line:
        return syntax_error(pt.source.split("\n"), line, col, what)
    return SpecificationError(what)


def check_identification(pt: ParTable, n_moments: int) -> None:
    """Raise SpecificationError for models that cannot be identified (before fitting)."""
    rows = list(zip(pt.lhs, pt.op, pt.rhs, pt.free, pt.ustart, pt.label, strict=True))
    lv_set = set(pt.latent)
    # labels an equality constraint pins down (l1 + l2 + l3 == 3 scales a factor too)
    constrained = {name for c in pt.constraints if c.op == "=="
                   for name, _, _ in names(c.expr[0]) + names(c.expr[1])}
    for f in pt.latent:
        loads = [r for r in rows if r[1] == "=~" and r[0] == f]
        var = next(r for r in rows if r[1] == "~~" and r[0] == f and r[2] == f)
        scaled = (var[3] == 0 or any(r[3] == 0 and r[4] != 0 for r in loads)
                  or any(r[5] in constrained for r in (*loads, var)))  # effects coding
        if not scaled:
            raise _spec_error(pt, f, "=~", f"factor {f!r} has no scale: fix one loading "
                              f"(1*{loads[0][2]}) or its variance ({f} ~~ 1*{f}), or use "
                              "std_lv=True")
        n_ind = len(loads)
        if n_ind == 1:
            ind = loads[0][2]
            resid = next((r for r in rows if r[1] == "~~" and r[0] == ind and r[2] == ind), None)
            loading_fixed = loads[0][3] == 0
            if resid is not None and resid[3] != 0 and not (loading_fixed and var[3] == 0):
                raise _spec_error(pt, f, "=~", f"factor {f!r} has a single indicator ({ind}) "
                                  f"and is not identified; fix its residual variance (e.g. "
                                  f"'{ind} ~~ 0*{ind}') or add indicators")
        elif n_ind == 2 and all(r[2] not in lv_set for r in loads):
            labels = [r[5] for r in loads if r[5]]
            equal = len(labels) == 2 and labels[0] == labels[1]
            fixed_both = all(r[3] == 0 for r in loads)
            linked = any(
                r[1] == "~~" and r[0] != r[2] and f in (r[0], r[2])
                and (r[3] != 0 or r[4] != 0)
                for r in rows
            ) or any(r[1] in ("=~", "~") and f in (r[0], r[2]) and r[0] != f for r in rows) \
                or any(r[1] == "~" and r[0] == f for r in rows)
            if not (equal or fixed_both or linked):
                inds = ", ".join(r[2] for r in loads)
                raise _spec_error(pt, f, "=~", f"factor {f!r} has only two indicators "
                                  f"({inds}) and no covariance with another factor, so it is "
                                  "not identified; add indicators, constrain the loadings equal "
                                  "(a*x1 + a*x2), or let it correlate with another factor")
    q = pt.n_free
    if q > n_moments:
        raise SpecificationError(
            f"the model has {q} free parameters but the {len(pt.observed)} observed variables "
            f"give only {n_moments} variances and covariances, so it is not identified; fix "
            "parameters or add indicators"
        )


def _fabin3(s: np.ndarray, idx: list[int]) -> np.ndarray:
    """FABIN 3 (Hagglund 1982) loadings with the first indicator as the marker (lambda_1 = 1)."""
    lam = np.ones(len(idx))
    if len(idx) < 3:
        return lam
    m = idx[0]
    for a in range(1, len(idx)):
        j = idx[a]
        z = [i for i in idx if i not in (m, j)]
        szz = s[np.ix_(z, z)]
        try:
            w = np.linalg.solve(szz, s[z, m])
        except np.linalg.LinAlgError:
            continue
        den = s[m, z] @ w
        if den != 0:
            lam[a] = (s[j, z] @ w) / den
    return lam


def start_values(pt: ParTable, model: MatrixModel, cov: np.ndarray,
                 mean: np.ndarray | None = None) -> np.ndarray:
    """lavaan's default starting values: FABIN3 loadings, half the observed variances,
    latent variances 0.05, covariances 0; user start() and fixed values kept (the per-row
    values of :func:`start_rows`, as the free-parameter vector)."""
    return model.x_from_table(start_rows(pt, cov, mean))


def start_rows(pt: ParTable, cov: np.ndarray, mean: np.ndarray | None) -> np.ndarray:
    """Per-row lavaan starting values from one group's moments (see ``start_values``)."""
    ovi = {n: i for i, n in enumerate(pt.observed)}
    lv_set = set(pt.latent)
    fabin: dict[tuple[str, str], float] = {}
    for f in pt.latent:
        inds = list(dict.fromkeys(r for lhs, op, r in zip(pt.lhs, pt.op, pt.rhs, strict=True)
                                  if lhs == f and op == "=~" and r not in lv_set))
        if not inds:
            continue
        idx = [ovi[i] for i in inds]
        lam = _fabin3(cov, idx)
        if pt.std_lv:
            others = [cov[idx[0], idx[a]] / lam[a] for a in range(1, len(idx)) if lam[a] != 0]
            psi = max(float(np.mean(others)) if others else 0.5 * cov[idx[0], idx[0]], 0.05)
            lam = lam * math.sqrt(psi)
        for name, v in zip(inds, lam, strict=True):
            fabin[(f, name)] = float(v) if np.isfinite(v) else 1.0
    start = np.zeros(len(pt))
    for r, (lhs, op, rhs) in enumerate(zip(pt.lhs, pt.op, pt.rhs, strict=True)):
        if op == "=~":
            v = fabin.get((lhs, rhs), 1.0)
            start[r] = v if (abs(v) >= 0.05 or v < 0) else 0.05
        elif op == "~~" and lhs == rhs:
            start[r] = 0.5 * cov[ovi[lhs], ovi[lhs]] if lhs in ovi else 0.05
        elif op == "~1" and lhs in ovi and mean is not None:
            start[r] = mean[ovi[lhs]]
    ustart = np.array(pt.ustart)
    fixed = ~np.isnan(ustart)
    start[fixed] = ustart[fixed]
    user_start = np.array(pt.start)
    has = ~np.isnan(user_start)
    start[has] = user_start[has]
    return start
