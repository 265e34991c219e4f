"""Greatest lower bound as ``psych::glb.fa``, with a small PRIVATE minres factor fitter.

TEMPORARY: ``_minres_unrotated`` duplicates what the EFA module (stats/_efa.py, issue 4) is
building; after the merge, glb should call the EFA module's unrotated minres fit instead.
It reproduces psych 2.2.9 ``fa(fm = "minres", rotate = "none")``: uniquenesses minimise the
sum of squared off-diagonal residuals, bounded to [0.005, 1], starting at 1 - smc; loadings
are the leading eigenvectors of R - diag(psi) scaled by the square roots of their eigenvalues.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from psychoval.stats._rel_common import psych_smc

__all__ = ["glb_fa", "GLB"]

_EPS = np.finfo(float).eps


def _loadings(r: np.ndarray, psi: np.ndarray, nf: int, floor: float) -> np.ndarray:
    s = r.copy()
    s[np.diag_indices_from(s)] = 1.0 - psi
    vals, vecs = np.linalg.eigh(s)
    vals, vecs = vals[::-1][:nf], vecs[:, ::-1][:, :nf]
    vals = np.where(vals < _EPS, floor, vals)
    return vecs * np.sqrt(vals)


def _minres_unrotated(r: np.ndarray, nf: int, fit: str = "psych") -> tuple[np.ndarray, bool]:
    """Unrotated minres loadings (k, nf) of correlation matrix ``r``; and convergence.

    ``fit="psych"`` runs L-BFGS-B as R's ``optim`` does in psych (parameters scaled by
    parscale 0.01, factr 1e7, 5 corrections), which follows psych's path to the same (local)
    minimum; ``fit="tight"`` runs to a much tighter tolerance from the same start.
    """
    from scipy.optimize import minimize

    k = r.shape[0]
    low = np.tril_indices(k, -1)

    def fun(psi: np.ndarray) -> float:
        lam = _loadings(r, psi, nf, 100 * _EPS)
        res = (r - lam @ lam.T)[low]
        return float(res @ res)

    def grad(psi: np.ndarray) -> np.ndarray:
        # psych's FAgr.minres: zero exactly at the minres fixed point diag(LL') = 1 - psi
        s = r - np.diag(psi)
        vals, vecs = np.linalg.eigh(s)
        vals, vecs = vals[::-1][:nf], vecs[:, ::-1][:, :nf]
        lam = vecs * np.sqrt(np.maximum(vals, 0.0))
        return np.einsum("ij,ij->i", lam, lam) + psi - np.diag(r)

    start = 1.0 - psych_smc(r)
    upper = max(float(psych_smc(r).max()), 1.0)
    if fit == "psych":
        ps = 0.01
        res = minimize(lambda z: fun(z * ps), start / ps, jac=lambda z: grad(z * ps) * ps,
                       method="L-BFGS-B", bounds=[(0.005 / ps, upper / ps)] * k,
                       options={"ftol": 1e7 * _EPS, "gtol": 0.0, "maxcor": 5, "maxiter": 100})
        psi = res.x * ps
    else:
        res = minimize(fun, start, jac=grad, method="L-BFGS-B",
                       bounds=[(0.005, upper)] * k,
                       options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10000, "maxcor": 20})
        psi = res.x
    lam = _loadings(r, psi, nf, 100 * _EPS)
    # projected gradient at the bounds: zero at a (bounded) stationary point
    g = grad(psi)
    g = np.where((psi <= 0.005 + 1e-12) & (g > 0), 0.0, g)
    g = np.where((psi >= upper - 1e-12) & (g < 0), 0.0, g)
    return lam, bool(res.success) or float(np.abs(g).max()) < 1e-4


@dataclasses.dataclass(frozen=True)
class GLB:
    glb: float
    improper: bool
    communality: np.ndarray
    n_factors: int
    converged: bool


def glb_fa(r: np.ndarray, *, zero_tol: float = 1e-8, fit: str = "psych") -> GLB:
    """Greatest lower bound from a factor model, as ``psych::glb.fa``.

    A one-factor minres fit gives the eigenvalues of R with its communalities on the
    diagonal; the number of positive ones (above ``zero_tol``: psych counts any value > 0,
    which for numerically zero eigenvalues depends on rounding), reduced by one if the
    model would have negative degrees of freedom, is the number of factors of a second,
    unrotated minres fit. glb = (sum(R) - tr(R) + sum(h2)) / sum(R).
    """
    k = r.shape[0]
    lam1, ok1 = _minres_unrotated(r, 1, fit)
    s = r.copy()
    s[np.diag_indices_from(s)] = np.einsum("ij,ij->i", lam1, lam1)
    values = np.linalg.eigvalsh(s)
    nf = int(np.sum(values > zero_tol))
    df = k * (k - 1) / 2 - nf * k + nf * (nf - 1) / 2
    if df < 0:
        nf -= 1
    nf = max(nf, 1)
    lam, ok = _minres_unrotated(r, nf, fit)
    h2 = np.einsum("ij,ij->i", lam, lam)
    rr = r.copy()
    rr[np.diag_indices_from(rr)] = h2
    return GLB(glb=float(rr.sum() / r.sum()), improper=bool((h2 > 1.0).any()),
               communality=h2, n_factors=nf,
               converged=ok1 and ok)
