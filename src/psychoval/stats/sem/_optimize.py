"""Minimising a CFA discrepancy: a globally convergent scoring step, and restarts.

:func:`minimize` takes any discrepancy with ``value(x)`` and ``pieces(x, hessian) ->
(F, gradient, H, ...)`` (``H`` the expected Hessian of F, i.e. twice the unit Fisher
information). Each iteration solves a Levenberg-Marquardt (trust-region) system on the
diagonally scaled ``H`` and accepts a step only if F falls by a fair share of what the
quadratic model predicts; a rejected step shrinks the region. Close to the optimum the
damping vanishes and the matrix is BFGS-updated from ``H`` (superlinear where a misfitting
model makes plain Fisher scoring linear). F never rises.

A fit can still fail from lavaan's starting values: the path of a marker-identified
second-order model can slide along a ridge (a factor variance towards 0, its loadings towards
infinity) where every step lowers F a little; a bifactor model near a zero group-factor
variance can make the expected information a poor model of the curvature. When the first
attempt fails, :func:`fit_with_restarts` tries, in order: quasi-Newton (BFGS) steps from the
same starting values (the curvature learnt from the gradients, as lavaan's nlminb does); a
refit in the ``std.lv`` parameterization (factor variances fixed at 1, marker loadings free),
mapped back to the user's identification exactly (a rescaling of each latent variable) and
polished there; perturbed starts. It keeps the best converged solution and records what it
did.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from psychoval.framework._partable import ParTable
from psychoval.stats.sem._model import ALPHA, BETA, LAMBDA, NU, PSI, THETA, MatrixModel

__all__ = ["Optimum", "Estimate", "minimize", "fit_with_restarts", "std_lv_table",
           "to_user_parameterization", "singular_parameters"]

# the first attempt from lavaan's starting values gets this many iterations; a model that
# converges at all converges in far fewer (lavaan's nlminb: 20-60 on the stress suite)
MAX_ITER = 2000
# a path whose diagonally scaled information has become this ill-conditioned is sliding
# along a ridge (a variance -> 0 with its loadings -> infinity): stop and restart
RIDGE_CONDITION = 1e13
RIDGE_AFTER = 40


@dataclasses.dataclass(frozen=True)
class Optimum:
    """Where :func:`minimize` stopped."""

    x: np.ndarray
    f: float
    converged: bool
    iterations: int
    gmax: float  # largest |gradient of fmin|
    decrement: float  # Newton decrement g' H^-1 g (about twice the distance to the optimum in F)
    reason: str


def _scaled(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.sqrt(np.clip(np.diag(m), 0.0, None))
    top = d.max() if d.size else 1.0
    d = np.where(d > 1e-8 * top, d, max(1e-8 * top, 1e-300))
    return m / np.outer(d, d), d


def _solve_damped(ms: np.ndarray, gs: np.ndarray, mu: float) -> np.ndarray | None:
    """Solve (ms + mu I) z = -gs by Cholesky; None if not positive definite."""
    a = ms + mu * np.eye(len(gs))
    try:
        c = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return None
    y = np.linalg.solve(c, -gs)
    return np.linalg.solve(c.T, y)


def _decrement(ms: np.ndarray, gs: np.ndarray) -> float:
    z = _solve_damped(ms, gs, 0.0)
    if z is None:
        z = np.linalg.lstsq(ms, -gs, rcond=1e-12)[0]
    return float(-gs @ z)


def minimize(disc, x0: np.ndarray, *, max_iter: int | None = None, gtol: float = 1e-10,
             switch: float = 1e-3, ridge: bool = True) -> Optimum:
    """Minimise ``disc.value`` from ``x0`` (see the module docstring).

    Converged when the largest gradient of fmin (= F/2) is below ``gtol`` or the Newton
    decrement is below 1e-20, or - once F cannot be lowered any more in floating point - when
    the decrement is below 1e-10 (F within about 5e-11 of its minimum). ``max_iter``
    defaults to ``MAX_ITER``.
    """
    max_iter = MAX_ITER if max_iter is None else max_iter
    x = np.array(x0, dtype=float)
    f, g, h, _ = disc.pieces(x)
    if not np.isfinite(f):
        raise np.linalg.LinAlgError("implied covariance at the starting values is not PD")
    bfgs: np.ndarray | None = None
    mu, nu = 1e-3, 2.0  # damping on the scaled matrix (unit diagonal), Nielsen's update
    it = 0

    def done(conv: bool, why: str, dec: float) -> Optimum:
        return Optimum(x, float(f), bool(conv), it, float(np.max(np.abs(g), initial=0) * 0.5),
                       float(dec), why)

    while True:
        m = h if bfgs is None else bfgs
        ms, d = _scaled(m)
        gs = g / d
        dec = _decrement(ms, gs)  # negative when a BFGS matrix has lost definiteness
        gmax = float(np.max(np.abs(g), initial=0.0)) * 0.5
        if gmax < gtol or 0.0 <= dec < 1e-20:
            return done(True, "gradient", dec)
        if it >= max_iter:
            return done(False, "iteration limit", dec)
        if ridge and it >= RIDGE_AFTER and bfgs is None:
            ev = np.linalg.eigvalsh(ms)
            if ev[0] < ev[-1] / RIDGE_CONDITION:
                return done(False, "ridge: the information is becoming singular", dec)
        it += 1
        floor = 1e-14 * max(abs(f), 1e-12)
        while True:
            z = _solve_damped(ms, gs, mu)
            if z is None:
                mu, nu = max(mu * nu, 1e-8), nu * 2.0
                if mu > 1e12:
                    return done(0.0 <= dec < 1e-10, "no descent step", dec)
                continue
            s = z / d
            pred = -(g @ s + 0.5 * s @ (m @ s))
            if pred <= floor:
                # the quadratic model promises less than F's rounding: nothing left to gain
                return done(0.0 <= dec < 1e-10, "floating-point floor", dec)
            fn = disc.value(x + s)
            rho = (f - fn) / pred if np.isfinite(fn) else -np.inf
            if rho > 1e-4:
                break
            if bfgs is not None:
                bfgs = None  # the quasi-Newton model misled: back to scoring
                m = h
                ms, d = _scaled(m)
                gs = g / d
                continue
            mu, nu = max(mu * nu, 1e-8), nu * 2.0
            if mu > 1e12:
                return done(0.0 <= dec < 1e-10, "no descent step", dec)
        xn = x + s
        fn, gn, hn, _ = disc.pieces(xn)
        if bfgs is None and np.max(np.abs(gn)) * 0.5 < switch and mu < 1e-4:
            bfgs = hn.copy()
        elif bfgs is not None:
            y = gn - g
            sy = s @ y
            if sy > 1e-300:
                bs = bfgs @ s
                bfgs = bfgs + np.outer(y, y) / sy - np.outer(bs, bs) / (s @ bs)
        mu *= max(1.0 / 3.0, 1.0 - (2.0 * min(rho, 1.0) - 1.0) ** 3)
        nu = 2.0
        if mu < 1e-12:
            mu = 0.0
        x, f, g, h = xn, fn, gn, hn


def quasi_newton(disc, x0: np.ndarray, *, max_iter: int | None = None) -> Optimum:
    """BFGS from ``x0`` on F with the analytic gradient and no curvature model but the one it
    builds (scipy's BFGS; lavaan's nlminb is a quasi-Newton method too), then polished by
    :func:`minimize`. Where the expected information misleads the scoring steps - a bifactor
    model near a zero group-factor variance, a misfitting model far from the start - the
    secant updates learn the actual curvature."""
    from scipy import optimize

    max_iter = MAX_ITER if max_iter is None else max_iter
    last: dict[str, Any] = {}

    def evaluate(x: np.ndarray) -> tuple[float, np.ndarray]:
        if last.get("x") is None or not np.array_equal(last["x"], x):
            f, g, _, _ = disc.pieces(x, hessian=False)
            if not np.isfinite(f) or g is None:
                f, g = 1e10, np.zeros_like(x)  # outside the PD region: a wall
            last.update(x=np.array(x), f=float(f), g=np.asarray(g))
        return last["f"], last["g"]

    with np.errstate(all="ignore"):
        res = optimize.minimize(lambda x: evaluate(x)[0], np.array(x0, dtype=float),
                                jac=lambda x: evaluate(x)[1], method="BFGS",
                                options={"maxiter": max_iter, "gtol": 1e-9})
    polished = minimize(disc, res.x, ridge=False, max_iter=max_iter)
    return dataclasses.replace(polished, iterations=polished.iterations + int(res.nit))


# ---------------------------------------------------------------------------------------------
# identification at a solution


def singular_parameters(pt: ParTable, h: np.ndarray, *, tol: float = 1e-10) -> list[str]:
    """The parameters spanning the null space of the information ``h`` (empty if it has full
    rank: every eigenvalue above ``tol`` times the largest, times the dimension). The rank is
    judged on the diagonally scaled matrix: the raw information's eigenvalues carry the
    items' units (an item in units 20 times smaller shrinks its rows 400-fold), which a
    fixed relative tolerance would mistake for singularity."""
    if h.size == 0:
        return []
    ms, _ = _scaled(h)
    w, v = np.linalg.eigh(ms)
    bad = np.flatnonzero(w < max(w.max(), 1.0) * tol * len(w))
    if not bad.size:
        return []
    vec = np.abs(v[:, bad[0]])
    names = []
    for k in np.argsort(-vec)[:4]:
        if vec[k] < 1e-3:
            break
        r = pt.free.index(int(k) + 1)
        names.append(f"{pt.lhs[r]} {pt.op[r]} {pt.rhs[r]}".strip())
    return names


# ---------------------------------------------------------------------------------------------
# the std.lv reparameterization and its exact map back


def std_lv_table(pt: ParTable) -> tuple[ParTable, dict[tuple[int, str], tuple[int, float]]] | None:
    """The table with every marker-scaled factor rescaled to unit (residual) variance.

    A factor is marker-scaled in a group when its (residual) variance is free and one of its
    loadings is fixed at a non-zero value; that loading is freed and the variance fixed at 1
    (lavaan's ``std.lv = TRUE``). Returns the new table and, per (group, factor), the row of
    the marker loading and its fixed value; None when no factor is marker-scaled.
    """
    free = list(pt.free)
    ustart = list(pt.ustart)
    markers: dict[tuple[int, str], tuple[int, float]] = {}
    lv = set(pt.latent)
    rows = range(len(pt))
    for r in rows:
        lhs, op, rhs, g = pt.lhs[r], pt.op[r], pt.rhs[r], pt.group[r]
        if op != "~~" or lhs != rhs or lhs not in lv or pt.free[r] == 0:
            continue
        marker = next((k for k in rows if pt.op[k] == "=~" and pt.lhs[k] == lhs
                       and pt.group[k] == g and pt.free[k] == 0
                       and not math.isnan(pt.ustart[k]) and pt.ustart[k] != 0), None)
        if marker is None:
            continue
        markers[(g, lhs)] = (marker, float(pt.ustart[marker]))
        free[marker] = -1  # to be numbered
        ustart[marker] = math.nan
        free[r] = 0
        ustart[r] = 1.0
    if not markers:
        return None
    # renumber free parameters: keep shared indices shared, number the freed markers anew
    new_index: dict[int, int] = {}
    out = []
    q = 0
    for f_ in free:
        if f_ == 0:
            out.append(0)
        elif f_ == -1:
            q += 1
            out.append(q)
        else:
            if f_ not in new_index:
                q += 1
                new_index[f_] = q
            out.append(new_index[f_])
    return (pt.replace(free=tuple(out), ustart=tuple(ustart), std_lv=True), markers)


def to_user_parameterization(pt: ParTable, pt_std: ParTable,
                             markers: dict[tuple[int, str], tuple[int, float]],
                             x_std: np.ndarray) -> np.ndarray | None:
    """Map a solution of :func:`std_lv_table`'s table to the user's table.

    Rescales each latent variable ``eta = D eta*`` so that its marker loading takes the user's
    fixed value: ``Lambda = Lambda* D^-1``, ``B = D B* D^-1``, ``Psi = D Psi* D``,
    ``alpha = D alpha*`` (Theta and nu unchanged). The implied moments are unchanged, so the
    fit is the same. None if a marker loading is 0 in the std.lv solution (no rescaling maps
    it to a non-zero value).
    """
    groups = sorted(set(pt.group))
    values = np.array(pt.ustart, dtype=float)
    user_rows = np.zeros(len(pt), dtype=bool)
    for g in groups:
        ms = MatrixModel(pt_std, g)
        mats = ms.matrices(x_std)
        lvi = {n: i for i, n in enumerate(pt.latent)}
        ovi = {n: i for i, n in enumerate(pt.observed)}
        d = np.ones(len(pt.latent))
        todo = {f: markers[(g_, f)] for (g_, f) in markers if g_ == g}
        while todo:
            progress = False
            for f, (row, v) in list(todo.items()):
                rhs = pt.rhs[row]
                if rhs in ovi:
                    lam = mats[LAMBDA][ovi[rhs], lvi[f]]
                    d[lvi[f]] = lam / v
                elif rhs in todo:
                    continue  # its own scale first
                else:
                    d[lvi[f]] = d[lvi[rhs]] * mats[BETA][lvi[rhs], lvi[f]] / v
                del todo[f]
                progress = True
            if not progress:
                return None
        if np.any(d == 0) or not np.all(np.isfinite(d)):
            return None
        new = [mats[LAMBDA] / d[None, :], d[:, None] * mats[BETA] / d[None, :],
               d[:, None] * mats[PSI] * d[None, :], mats[THETA], mats[NU], d * mats[ALPHA]]
        mu = MatrixModel(pt, g)
        sel = np.flatnonzero((mu.mat >= 0) & (np.array(pt.group) == g))
        for r in sel:
            k, i, j = mu.mat[r], mu.row[r], mu.col[r]
            values[r] = new[k][i] if k in (NU, ALPHA) else new[k][i, j]
            user_rows[r] = True
    return MatrixModel(pt, groups[0]).x_from_table(values)


# ---------------------------------------------------------------------------------------------
# the whole fit


@dataclasses.dataclass(frozen=True)
class Estimate:
    """The solution kept, and how it was reached."""

    x: np.ndarray
    f: float
    converged: bool
    iterations: int  # summed over attempts
    restarts: tuple[str, ...]  # attempts after the first, in order (empty: none needed)
    method: str  # the attempt whose solution was kept
    # parameters of a singular information at the kept solution (not converged: of a nearly
    # singular one, eigenvalue ratio below 1e-7)
    singular: tuple[str, ...]
    confirmed_singular: bool  # singular in the user's and the std.lv parameterization
    reason: str  # why the kept attempt stopped
    structural: bool = False  # ... and at generic points near the solution too


def _hessian(disc, x: np.ndarray) -> np.ndarray:
    return disc.pieces(x)[2]


def _singular_nearby(pt: ParTable, disc, x: np.ndarray, seed: int) -> bool:
    """Is the information singular at generic points around ``x`` too (structural
    under-identification, Wald's rank rule), or only at ``x`` (empirical: the data put the
    solution where two parameters trade off)? Singular at two random points means
    structural. A point where a variance sits at 0 is itself degenerate, so the points
    move every parameter by a fair amount (x exp(N(0, .3)) + N(0, .1)) and are redrawn when
    the implied covariance is not positive definite."""
    rng = np.random.default_rng(seed + 1)
    hits = tried = 0
    for _ in range(20):
        if tried == 2:
            break
        xk = x * np.exp(rng.normal(0.0, 0.3, size=len(x))) + rng.normal(0.0, 0.1, len(x))
        try:
            with np.errstate(all="ignore"):
                h = _hessian(disc, xk)
        except np.linalg.LinAlgError:
            continue
        if h is None or not np.all(np.isfinite(h)):
            continue
        tried += 1
        hits += bool(singular_parameters(pt, h))
    return tried == 2 and hits == 2


def _attempt(disc, x0, **kw) -> Optimum | None:
    return _attempt_with(minimize, disc, x0, **kw)


def _attempt_with(method, disc, x0, **kw) -> Optimum | None:
    try:
        with np.errstate(all="ignore"):
            return method(disc, x0, **kw)
    except np.linalg.LinAlgError:
        return None


def fit_with_restarts(pt: ParTable, disc, x0: np.ndarray, *,
                      rebuild: Callable[[ParTable], tuple[object, np.ndarray]],
                      seed: int = 20261207, n_perturbed: int = 3) -> Estimate:
    """Fit from lavaan's starts; if that fails, from the std.lv parameterization mapped
    back, then from perturbed starts (see the module docstring).

    ``rebuild(table) -> (discrepancy, starting values)`` builds the same data's discrepancy
    for another parameter table. A converged solution whose information is singular is kept only when the std.lv
    parameterization also converges to a singular one (then the model is not identified);
    otherwise the non-singular solution wins.
    """
    tried: list[str] = []
    iterations = 0
    best: tuple[Optimum, str, list[str]] | None = None
    fallback: tuple[Optimum, str] | None = None

    def consider(opt: Optimum | None, how: str) -> bool:
        """Record an attempt; True when it is a regular (converged, non-singular) solution."""
        nonlocal best, fallback, iterations
        if opt is None:
            return False
        iterations += opt.iterations
        if not opt.converged:
            if fallback is None or opt.f < fallback[0].f:
                fallback = (opt, how)
            return False
        sing = singular_parameters(pt, _hessian(disc, opt.x))
        if best is None or (not sing and best[2]) or (bool(sing) == bool(best[2])
                                                      and opt.f < best[0].f - 1e-12):
            best = (opt, how, sing)
        return not sing

    ok = consider(_attempt(disc, x0), "lavaan's starting values")
    if not ok:
        tried.append("quasi_newton")
        ok = consider(_attempt_with(quasi_newton, disc, x0),
                      "lavaan's starting values, quasi-Newton (BFGS)")
    singular_std: bool | None = None
    re = None
    if not ok:
        re = std_lv_table(pt)
        if re is not None:
            tried.append("std_lv")
            pts, markers = re
            dstd, xs0 = rebuild(pts)
            o2 = _attempt(dstd, xs0)
            if o2 is not None and o2.converged:
                singular_std = bool(singular_parameters(pts, _hessian(dstd, o2.x)))
                xu = to_user_parameterization(pt, pts, markers, o2.x)
                if xu is not None and np.isfinite(disc.value(xu)):
                    ok = consider(_attempt(disc, xu, ridge=False),
                                  "the std.lv parameterization, mapped back")
                iterations += o2.iterations
            elif o2 is not None:
                iterations += o2.iterations
    if not ok:
        rng = np.random.default_rng(seed)
        for k in range(n_perturbed):
            tried.append(f"perturbed_{k + 1}")
            xk = np.array(x0, dtype=float) * np.exp(rng.normal(0.0, 0.3, size=len(x0)))
            if not np.isfinite(disc.value(xk)):
                continue
            if consider(_attempt(disc, xk), f"perturbed starting values ({k + 1})"):
                ok = True
                break
    if best is not None:
        opt, how, sing = best
        # confirmed: the std.lv parameterization is singular too, or there is none to try
        confirmed = bool(sing) and (singular_std is True or re is None)
        structural = confirmed and _singular_nearby(pt, disc, opt.x, seed)
        return Estimate(opt.x, opt.f, True, iterations, tuple(tried), how, tuple(sing),
                        confirmed, opt.reason, structural)
    if fallback is not None:
        opt, how = fallback
        # where it stopped, is the information close to singular? (empirical under-
        # identification: a factor carried by one item, a loading traded against a variance)
        near = singular_parameters(pt, _hessian(disc, opt.x), tol=1e-7)
        return Estimate(opt.x, opt.f, False, iterations, tuple(tried), how, tuple(near), False,
                        opt.reason)
    raise np.linalg.LinAlgError("no attempt produced a positive-definite implied covariance")

