"""Greatest lower bound as ``psych::glb.fa``, on the EFA module's factor fitter.

Both minres fits behind glb are :func:`psychoval.stats.factor._efa.fit_fa` (unrotated minres as
psych 2.2.9 ``fa(fm = "minres", rotate = "none")``: uniquenesses bounded to [0.005, max(smc,
1)], starting at 1 - smc).
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["glb_fa", "GLB"]


def _minres_unrotated(r: np.ndarray, nf: int, fit: str = "psych") -> tuple[np.ndarray, bool]:
    """Unrotated minres loadings (k, nf) of correlation matrix ``r``; and convergence.

    ``fit="psych"`` is the EFA module's fit (psych's start and bounds, Newton steps capped so
    the search stays in psych's basin: it reaches psych's solution, which can be a local
    minimum). ``fit="tight"`` minimises the same criterion (the EFA module's objective and
    gradient) by L-BFGS-B at a much tighter tolerance from the same start, 1 - smc, which can
    end in a lower minimum.
    """
    from psychoval.stats.factor._efa import fit_fa

    if fit == "psych":
        res = fit_fa(r, nf, "minres")
        return res.loadings, bool(res.converged)
    from scipy.optimize import minimize

    from psychoval.stats.factor._efa import smc_of, uls_loadings, uls_obj_grad

    smc = smc_of(r)
    upper = max(float(smc.max()), 1.0)  # fit_fa's bounds
    out = minimize(uls_obj_grad, np.diag(r) - smc, args=(r, nf), jac=True,
                   method="L-BFGS-B", bounds=[(0.005, upper)] * r.shape[0],
                   options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10000, "maxcor": 20})
    grad = out.jac
    grad = np.where((out.x <= 0.005 + 1e-12) & (grad > 0), 0.0, grad)
    grad = np.where((out.x >= upper - 1e-12) & (grad < 0), 0.0, grad)
    return uls_loadings(out.x, r, nf), bool(out.success) or float(np.abs(grad).max()) < 1e-4


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
