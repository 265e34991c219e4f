"""The wide-data path of :func:`psychoval.stats.factor._efa.fit_fa` (more than ``WIDE_K`` items).

The small path (``k <= WIDE_K``, the R-referenced one) takes a full eigendecomposition of
the reduced matrix at every step, and a projected Newton step with the analytic Hessian
(minres / uls) or a finite-difference one (ml): O(k^3) per step, O(k^4) for ml's Hessian,
with the number of steps growing with k. Every criterion needs only the leading ``nf``
eigenpairs, so here each evaluation computes those (ARPACK's Lanczos, ``eigsh``, started from
the previous evaluation's vectors): O(k^2) per matrix-vector product, and L-BFGS-B over the
uniquenesses (psych's optimiser, converged much more tightly than psych's ``factr = 1e7``).

- minres / uls: ``f(psi) = ||S - Psi - L L'||_F^2`` with L the leading eigenvectors of
  ``S - Psi`` scaled by ``sqrt(max(value, 0))``, i.e. the sum of the squared discarded
  eigenvalues (``||S - Psi||^2 - sum_{j <= nf} max(l_j, 0)^2``); gradient
  ``-2 diag(S - Psi - L L')`` (psych's FAgr.minres is the half of it with the sign changed:
  the same stationary points). The value is summed from the residual matrix itself (O(k^2
  nf)), not from the difference of the two large norms, so it keeps its digits.
- ml: psych's FAfn / FAgr (factanal's), with the discarded eigenvalues of
  ``Psi^-1/2 S Psi^-1/2`` reached through its log-determinant and trace:
  ``sum_{j > nf}(log e_j - e_j) = log|S| - sum log psi - sum S_ii / psi_i
  - sum_{j <= nf}(log e_j - e_j)``.
- pa: psych's principal-axis iterations, each with the leading eigenpairs only; the
  reported ``values`` (every eigenvalue of the last reduced matrix) take one full
  decomposition at the end.

The full spectra psych reports (``e_values``, ``values``), the SMC start (one inverse) and the
fit statistics stay one O(k^3) decomposition each, so the whole fit is O(k^3), not O(k^3) per
step.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from psychoval.exceptions import DataError

WIDE_K = 300  # above this many items fit_fa takes this path (tests/test_efa_wide.py)
_GTOL = 1e-10  # projected-gradient tolerance of L-BFGS-B (the small path's Newton: 1e-10)


class TopEigen:
    """Leading ``nf`` eigenpairs (descending) of ``diag(w) S diag(w) - diag(psi)``, each call
    started from the previous call's vectors (consecutive optimiser steps move little)."""

    def __init__(self, S: np.ndarray, nf: int) -> None:
        self.S, self.nf, self.k = S, nf, S.shape[0]
        self.vecs: np.ndarray | None = None
        # ARPACK needs ncv > 2 nf + 1 Lanczos vectors; with few items beyond that the dense
        # decomposition is as cheap
        self.dense = self.k <= max(4 * nf + 40, 60)

    def __call__(self, psi: np.ndarray | None = None, w: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        S, nf = self.S, self.nf
        if self.dense:
            A = S if w is None else S * np.outer(w, w)
            A = A - np.diag(psi) if psi is not None else A
            vals, vecs = np.linalg.eigh(A)
            return vals[::-1][:nf], vecs[:, ::-1][:, :nf]

        def matvec(v: np.ndarray) -> np.ndarray:
            v2 = v if v.ndim == 2 else v[:, None]
            out = S @ (v2 if w is None else v2 * w[:, None])
            if w is not None:
                out *= w[:, None]
            if psi is not None:
                out -= psi[:, None] * v2
            return out if v.ndim == 2 else out[:, 0]

        op = LinearOperator((self.k, self.k), matvec=matvec, matmat=matvec, dtype=float)
        # a fixed start (ARPACK's own random start depends on earlier calls in the process,
        # so results would differ in the last digits from run to run); then the last vectors
        v0 = np.random.default_rng(0).standard_normal(self.k) if self.vecs is None else \
            self.vecs.sum(axis=1)
        try:
            vals, vecs = eigsh(op, k=nf, which="LA", v0=v0, tol=0.0)
        except ArpackNoConvergence:
            vals, vecs = eigsh(op, k=nf, which="LA", v0=v0, tol=0.0,
                               ncv=min(self.k, max(4 * nf + 20, 40)), maxiter=50 * self.k)
        order = np.argsort(-vals)
        vals, vecs = vals[order], vecs[:, order]
        self.vecs = vecs
        return vals, vecs


def _held(x: np.ndarray, g: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0))


def _newton_polish(grad, x: np.ndarray, g: np.ndarray, lo: float, hi: float,
                   max_steps: int = 6) -> tuple[np.ndarray, np.ndarray, float]:
    """Newton steps on the free variables with Hessian-vector products by forward
    differences of the gradient, solved by conjugate gradients (each product one leading
    eigenpair update, O(k^2 nf)). L-BFGS-B's line search compares criterion values, which
    stop resolving the last improvements (their size ~ eps * the criterion) when the
    projected gradient is near 1e-8; these steps need gradients only. A step is kept only if
    it lowers the largest projected gradient."""
    from scipy.sparse.linalg import cg

    pg = float(np.abs(np.where(_held(x, g, lo, hi), 0.0, g)).max())
    for _ in range(max_steps):
        if pg < _GTOL:
            break
        free = ~_held(x, g, lo, hi)

        def hess_vec(v: np.ndarray, x=x, g=g, free=free) -> np.ndarray:
            full = np.zeros_like(x)
            full[free] = v
            h = 1e-7 / max(float(np.abs(v).max()), 1e-300)
            return ((grad(x + h * full) - g) / h)[free]

        op = LinearOperator((int(free.sum()),) * 2, matvec=hess_vec, dtype=float)
        d, _info = cg(op, -g[free], rtol=1e-4, maxiter=50)
        xn = x.copy()
        xn[free] = np.clip(x[free] + d, lo, hi)
        gn = grad(xn)
        pgn = float(np.abs(np.where(_held(xn, gn, lo, hi), 0.0, gn)).max())
        if not pgn < pg:
            break
        x, g, pg = xn, gn, pgn
    return x, g, pg


def _lbfgsb(fun, start: np.ndarray, lo: float, hi: float
            ) -> tuple[np.ndarray, bool, int]:
    """L-BFGS-B to a projected gradient of 1e-10 (then Newton polish): (x, converged,
    iterations)."""
    res = minimize(fun, np.clip(start, lo, hi), jac=True, method="L-BFGS-B",
                   bounds=[(lo, hi)] * start.size,
                   options={"maxiter": 2000, "maxcor": 20, "ftol": 1e-18, "gtol": _GTOL})
    x, g, pg = _newton_polish(lambda z: fun(z)[1], res.x, res.jac, lo, hi)
    return x, pg < _GTOL or (bool(res.success) and pg < 1e-7), int(res.nit)


def uls_value_grad(psi: np.ndarray, S: np.ndarray, top: TopEigen
                   ) -> tuple[float, np.ndarray, np.ndarray]:
    """The least-squares criterion, its gradient and the loadings at ``psi``."""
    vals, vecs = top(psi)
    L = vecs * np.sqrt(np.maximum(vals, 0.0))
    resid = S - L @ L.T
    resid[np.diag_indices_from(resid)] -= psi
    return float(np.einsum("ij,ij->", resid, resid)), -2.0 * np.diag(resid).copy(), L


def ml_value_grad(psi: np.ndarray, S: np.ndarray, top: TopEigen, logdet_s: float
                  ) -> tuple[float, np.ndarray, np.ndarray]:
    """psych's FAfn, FAgr and the loadings at ``psi`` (``logdet_s`` = log|S|)."""
    nf, dS = top.nf, np.diag(S)
    e, vecs = top(w=1.0 / np.sqrt(psi))
    load = np.sqrt(psi)[:, None] * (vecs * np.sqrt(np.maximum(e - 1.0, 0.0)))
    rest = (logdet_s - float(np.log(psi).sum()) - float((dS / psi).sum())
            - float(np.sum(np.log(e) - e)))
    g = (load * load).sum(axis=1) + psi - dS
    return -rest + nf - S.shape[0], g / psi**2, load


def uls_fit(S: np.ndarray, nf: int, start: np.ndarray, lo: float, hi: float
            ) -> tuple[np.ndarray, float, bool, int, np.ndarray]:
    """minres / uls: (psi, criterion, converged, iterations, unrotated loadings)."""
    top = TopEigen(S, nf)
    psi, conv, it = _lbfgsb(lambda x: uls_value_grad(x, S, top)[:2], start, lo, hi)
    f, _g, L = uls_value_grad(psi, S, top)
    return psi, f, conv, it, L


def ml_fit(S: np.ndarray, nf: int, start: np.ndarray, lo: float, hi: float
           ) -> tuple[np.ndarray, float, bool, int, np.ndarray]:
    """ml: (psi, criterion, converged, iterations, loadings). S must be positive definite
    (efa checks it)."""
    top = TopEigen(S, nf)
    logdet_s = float(np.linalg.slogdet(S)[1])
    psi, conv, it = _lbfgsb(lambda x: ml_value_grad(x, S, top, logdet_s)[:2], start, lo, hi)
    f, _g, load = ml_value_grad(psi, S, top, logdet_s)
    return psi, f, conv, it, load


def pa_iterate(eig, diag: np.ndarray, nf: int, min_err: float, max_iter: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, int]:
    """psych's principal-axis iterations from the diagonal ``diag`` (the SMCs); ``eig(d)``
    gives the eigenpairs (descending, at least ``nf``) of R with diagonal ``d``. Returns the
    loadings, the last ``eig`` values and the diagonal they belong to, converged and the
    number of iterations. Shared by both paths of fit_fa."""
    comm = float(diag.sum())
    err, it, converged = comm, 0, True
    while err > min_err:
        used = diag
        vals, vecs = eig(diag)
        L = vecs[:, :nf] * np.sqrt(vals[:nf])
        diag = (L * L).sum(axis=1)
        comm1 = float(diag.sum())
        err = abs(comm - comm1)
        comm = comm1
        it += 1
        if it + 1 > max_iter:
            converged = err <= min_err
            break
    if np.isnan(L).any():
        raise DataError("principal-axis iterations produced imaginary eigenvalues; "
                        "try method='minres'")
    return L, vals, used, converged, it


def pa_fit(R: np.ndarray, nf: int, start_diag: np.ndarray, min_err: float, max_iter: int
           ) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """psych's principal-axis iterations with the leading eigenpairs only:
    (loadings, values of the last reduced matrix, converged, iterations)."""
    top = TopEigen(R, nf)
    dR = np.diag(R)
    L, _vals, used, converged, it = pa_iterate(lambda d: top(dR - d), start_diag, nf,
                                               min_err, max_iter)
    Rm = R.copy()
    Rm[np.diag_indices_from(Rm)] = used
    return L, np.linalg.eigvalsh(Rm)[::-1], converged, it


def _cholesky_inverse(R: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(lower Cholesky factor of R, lower triangle of R^-1), or None if R is not positive
    definite to LAPACK."""
    from scipy.linalg.lapack import dpotrf, dpotri

    c, info = dpotrf(R, lower=1, clean=1)
    if info != 0:
        return None
    inv, info = dpotri(c, lower=1)
    return None if info != 0 else (c, np.tril(inv))


def _unsmoothed(R: np.ndarray, chol: tuple[np.ndarray, np.ndarray] | None
                ) -> tuple[np.ndarray, float] | None:
    """``(R, log|R|)`` when R is certainly positive definite beyond psych::cor.smooth's
    threshold (smallest eigenvalue >= 1/||R^-1||_F >= 1e-12 > machine epsilon: cor.smooth
    leaves it as it is), from its Cholesky factor and inverse; None otherwise."""
    if chol is None:
        return None
    c, low = chol
    frob2 = 2.0 * float(np.einsum("ij,ij->", low, low)) - float(np.diag(low) @ np.diag(low))
    if not np.isfinite(frob2) or frob2 <= 0.0 or 1.0 / np.sqrt(frob2) < 1e-12:
        return None
    return R, 2.0 * float(np.log(np.diag(c)).sum())


def smc(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, float]]:
    """(SMC as :func:`psychoval.stats.factor._efa.smc_of`, eigenvalues of R descending,
    (psych::cor.smooth of R, its log-determinant) for the fit statistics).

    SMC = 1 - 1/diag(pinv(R)). A well-conditioned R (every eigenvalue above 1e-12 times the
    largest, far above numpy's pinv cutoff of 1e-15) takes its inverse from a Cholesky
    factor; otherwise pinv comes from R's eigenpairs with numpy's cutoff (for a symmetric R
    the same matrix as numpy's SVD, at a third of the cost), and the same eigenpairs smooth
    R."""
    from psychoval.stats.factor._polychoric import smooth_correlation

    chol = _cholesky_inverse(R)  # fails fast on a singular R (e.g. fewer rows than items)
    vals = np.linalg.eigvalsh(R) if chol is not None else None
    if vals is not None and vals[0] > 1e-12 * vals[-1]:
        d = np.diag(chol[1])
        smoothed = _unsmoothed(R, chol)
        if smoothed is None:
            Rs = smooth_correlation(R)[0]
            smoothed = (Rs, float(np.linalg.slogdet(Rs)[1]))
    else:
        vals, vecs = np.linalg.eigh(R)
        keep = np.abs(vals) > 1e-15 * np.abs(vals).max()
        d = (vecs[:, keep] ** 2) @ (1.0 / vals[keep])
        Rs = smooth_correlation(R, eig=(vals, vecs))[0]
        smoothed = (Rs, float(np.linalg.slogdet(Rs)[1]))
    return np.clip(1.0 - 1.0 / d, 0.0, 1.0), vals[::-1], smoothed


def smooth_logdet(R: np.ndarray) -> tuple[np.ndarray, float] | None:
    """:func:`_unsmoothed` of R from a new Cholesky factor (None: the caller smooths)."""
    return _unsmoothed(R, _cholesky_inverse(R))


def ml_discrepancy(Rs: np.ndarray, logdet_rs: float, F: np.ndarray, u: np.ndarray) -> float:
    """tr(Sigma^-1 Rs) - log|Sigma^-1 Rs| - k for Sigma = F F' + diag(u) (u > 0), by
    Woodbury and Sylvester in O(k^2 m): fa_stats' ``objective`` without a k x k solve."""
    k, m = F.shape
    G = F / u[:, None]                    # U^-1 F
    M = np.eye(m) + F.T @ G               # I + F' U^-1 F
    tr = float((np.diag(Rs) / u).sum()) - float(np.trace(np.linalg.solve(M, G.T @ Rs @ G)))
    logdet_sigma = float(np.log(u).sum()) + float(np.linalg.slogdet(M)[1])
    return tr - (logdet_rs - logdet_sigma) - k
