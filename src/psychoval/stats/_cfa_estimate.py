"""ML estimation of a CFA: identification checks, lavaan's starting values, Fisher scoring.

Reusable by later estimators: :func:`start_values` and :func:`fisher_scoring` take any
discrepancy object with ``value(x)`` and ``pieces(x) -> (F, gradient, H, ...)``.
"""

from __future__ import annotations

import numpy as np

from psychoval.exceptions import SpecificationError
from psychoval.framework._partable import ParTable
from psychoval.framework._syntax import syntax_error
from psychoval.stats._cfa_model import MatrixModel

__all__ = ["check_identification", "start_values", "fisher_scoring"]


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
    for f in pt.latent:
        loads = [r for r in rows if r[1] == "=~" and r[0] == f]
        var = next(r for r in rows if r[1] == "~~" and r[0] == f and r[2] == f)
        scaled = var[3] == 0 or any(r[3] == 0 and r[4] != 0 for r in loads)
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
    values of :func:`psychoval.stats._cfa_engine.start_rows`, as the free-parameter vector)."""
    from psychoval.stats._cfa_engine import start_rows

    return model.x_from_table(start_rows(pt, cov, mean))


def _newton_step(h: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve H step = g; a pseudo-inverse where H is (near) singular, e.g. at starting
    values where a factor is locally unidentified (zero start covariances)."""
    try:
        c = np.linalg.cholesky(h)
        d = np.diag(c)
        if d.min() ** 2 > 1e-12 * d.max() ** 2:
            y = np.linalg.solve(c, g)
            return np.linalg.solve(c.T, y)
    except np.linalg.LinAlgError:
        pass
    return np.linalg.lstsq(h, g, rcond=1e-10)[0]


def fisher_scoring(disc, x0: np.ndarray, *, max_iter: int = 1000, gtol: float = 1e-10,
                   switch: float = 1e-2) -> tuple[np.ndarray, bool, int]:
    """Minimise ``disc.value``: Fisher scoring (expected-information Newton steps) while far
    from the optimum, then BFGS updates started from the current expected information, which
    converge superlinearly where a misfitting model makes plain Fisher scoring linear.

    Converged when the largest gradient of fmin (= F/2) is below ``gtol``, or no step
    decreases F any more while that gradient is below 1e-7 (the floating-point floor).
    Returns (x, converged, iterations).
    """
    x = np.array(x0, dtype=float)
    f, g, h, _ = disc.pieces(x)
    if not np.isfinite(f):
        raise np.linalg.LinAlgError("implied covariance at the starting values is not PD")
    bfgs: np.ndarray | None = None
    it = 0
    for it in range(1, max_iter + 1):
        gmax = np.max(np.abs(g)) * 0.5
        if gmax < gtol:
            return x, True, it - 1
        if bfgs is None:
            step = _newton_step(h, g)
        else:
            try:
                step = np.linalg.solve(bfgs, g)
            except np.linalg.LinAlgError:
                step = _newton_step(h, g)
        slope = -g @ step
        if not slope < 0:  # not a descent direction: restart from the expected information
            bfgs = None
            step = _newton_step(h, g)
            slope = -g @ step
            if not slope < 0:
                step, slope = g, -g @ g
        t = 1.0
        accepted = False
        floor = 1e-15 * max(abs(f), 1.0)
        for _ in range(50):
            xn = x - t * step
            fn = disc.value(xn)
            if np.isfinite(fn) and fn <= f + 1e-4 * t * slope + floor:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            return x, bool(gmax < 1e-7), it
        want_h = bfgs is None
        fn, gn, hn, _ = disc.pieces(xn, hessian=want_h)
        if bfgs is None and np.max(np.abs(gn)) * 0.5 < switch:
            bfgs = hn
        elif bfgs is not None:
            s_, y = xn - x, gn - g
            sy = s_ @ y
            if sy > 1e-300:
                bs = bfgs @ s_
                bfgs = bfgs + np.outer(y, y) / sy - np.outer(bs, bs) / (s_ @ bs)
        x, f, g = xn, fn, gn
        if hn is not None:
            h = hn
    return x, bool(np.max(np.abs(g)) * 0.5 < 1e-7), it


def check_information_rank(pt: ParTable, model: MatrixModel, h: np.ndarray) -> None:
    """Raise if the information matrix is singular (parameters not identified)."""
    if h.size == 0:
        return
    # judge the rank on the diagonally scaled matrix: the raw information's eigenvalues carry
    # the items' units (an item measured in units 20 times smaller shrinks its rows 400-fold),
    # which a fixed relative tolerance would mistake for singularity
    d = np.sqrt(np.clip(np.diag(h), 0.0, None))
    scale = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
    w, v = np.linalg.eigh(h * np.outer(scale, scale))
    tol = max(w.max(), 1.0) * 1e-10 * len(w)
    bad = np.flatnonzero(w < tol)
    if bad.size:
        vec = np.abs(v[:, bad[0]])
        names = []
        for k in np.argsort(-vec)[:4]:
            if vec[k] < 1e-3:
                break
            r = pt.free.index(int(k) + 1)
            names.append(f"{pt.lhs[r]} {pt.op[r]} {pt.rhs[r]}".strip())
        raise SpecificationError(
            "the model is not identified: the information matrix is singular; the "
            f"parameter(s) {', '.join(names)} cannot be determined from the data - fix one "
            "of them or add constraints"
        )

