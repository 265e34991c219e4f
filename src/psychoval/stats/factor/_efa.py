"""Exploratory factor analysis with psych::fa's conventions (2.2.9).

Internal entry points (used by omega / schmid_leiman / parallel analysis):

- :func:`fit_fa(R, n_factors, method, ...)` -> :class:`FAFit`: unrotated loadings (signs as
  psych), communalities, uniquenesses, eigenvalues, convergence and Heywood information.
- :func:`orient_factors(loadings, phi)` -> psych's sign flips and ordering after a rotation.
- :func:`fa_stats(R, loadings, phi, n_obs, np_obs)`: psych::fa.stats fit statistics.
- :func:`psychoval.stats.core._rotation.rotate_loadings` for the rotations.

Extraction as psych: minres / uls minimise the least-squares residual by L-BFGS-B over the
uniquenesses (bounded below at 0.005) from 1 - SMC; ml minimises the ML discrepancy the same
way; pa iterates principal axes from the SMCs (psych: ``min_err=.001``, ``max_iter=50``).
We converge much more tightly than psych's defaults (L-BFGS-B ``factr=1e7``), so agreement
with psych is to its optimizer's precision (~1e-5 in loadings). Above ``WIDE_K`` (300) items
the same criteria are minimised from the leading eigenpairs only (:mod:`._efa_wide`: O(k^2)
per step instead of O(k^3), ml's O(k^4) Hessian avoided); the two paths agree to 1e-7.

Length: psych::fa's four fitting methods, its fit statistics and the result class; the factor
fitter is shared by omega, glb and dimensionality.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import apply_missing, as_item_matrix, check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import (
    ConvergenceWarning,
    DataError,
    DegenerateDataWarning,
    ImproperSolutionWarning,
    SmallSampleWarning,
    SpecificationError,
    warn,
)
from psychoval.stats.core._suffstats import Moments, as_moments, check_usable, refuse
from psychoval.stats.factor import _efa_wide as _wide
from psychoval.stats.factor._efa_wide import WIDE_K
from psychoval.stats.factor._polychoric import check_overlap

__all__ = ["EFAResult", "efa", "FAFit"]

METHODS = ("minres", "ml", "pa", "uls")
_PREFIX = {"minres": "MR", "ml": "ML", "pa": "PA", "uls": "ULS"}
_LOWER = 0.005
_EPS = np.finfo(float).eps


def smc_of(R: np.ndarray) -> np.ndarray:
    """psych::smc for a correlation matrix: 1 - 1/diag(pinv(R)), clipped to [0, 1]."""
    s = 1.0 - 1.0 / np.diag(np.linalg.pinv(R))
    return np.clip(s, 0.0, 1.0)


def _eigh_desc(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vals, vecs = np.linalg.eigh(S)
    return vals[::-1], vecs[:, ::-1]


def uls_loadings(psi: np.ndarray, S: np.ndarray, nf: int) -> np.ndarray:
    """psych FAout.wls: top eigenvectors of S - diag(psi) scaled by sqrt(max(value, 0))."""
    Sr = S.copy()
    Sr[np.diag_indices_from(Sr)] -= psi
    vals, vecs = _eigh_desc(Sr)
    return vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))


class _ReducedEigh:
    """The eigendecomposition of ``S - diag(psi)`` at the last ``psi`` asked for: the value,
    gradient and Hessian of one Newton step share it (one O(p^3) decomposition, not two)."""

    def __init__(self) -> None:
        self.key: bytes | None = None

    def __call__(self, psi: np.ndarray, S: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = psi.tobytes()
        if key != self.key or self.S is not S:
            Sr = S.copy()
            Sr[np.diag_indices_from(Sr)] -= psi
            vals, vecs = _eigh_desc(Sr)
            self.key, self.S, self.value = key, S, (Sr, vals, vecs)
        return self.value


def _reduced(psi: np.ndarray, S: np.ndarray, eig: _ReducedEigh | None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (eig or _ReducedEigh())(psi, S)


def uls_obj_grad(psi: np.ndarray, S: np.ndarray, nf: int, eig: _ReducedEigh | None = None
                 ) -> tuple[float, np.ndarray]:
    """Least-squares residual (full matrix, diag of S replaced by diag(S) - psi) and gradient."""
    Sr, vals, vecs = _reduced(psi, S, eig)
    top = np.maximum(vals[:nf], 0.0)
    L = vecs[:, :nf] * np.sqrt(top)
    resid = Sr - L @ L.T
    f = float((resid * resid).sum())
    grad = -2.0 * np.diag(resid)
    return f, grad


def _ml_loadings(psi: np.ndarray, S: np.ndarray, nf: int) -> np.ndarray:
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = _eigh_desc(S * np.outer(sc, sc))
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1.0, 0.0))
    return np.sqrt(psi)[:, None] * load


def _ml_obj_grad(psi: np.ndarray, S: np.ndarray, nf: int) -> tuple[float, np.ndarray]:
    """psych FAfn / FAgr."""
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = _eigh_desc(S * np.outer(sc, sc))
    e = vals[nf:]
    f = -(float(np.sum(np.log(e) - e)) - nf + S.shape[0])
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1.0, 0.0))
    load = np.sqrt(psi)[:, None] * load
    g = (load * load).sum(axis=1) + psi - np.diag(S)
    return f, g / psi ** 2


def _uls_hess(psi: np.ndarray, S: np.ndarray, nf: int, eig: _ReducedEigh | None = None
              ) -> np.ndarray:
    """Analytic Hessian of the least-squares criterion sum_{j > m} lambda_j(S - Psi)^2.

    With eigenpairs (lambda_j, v_j) of S - Psi, d lambda_j / d psi_i = -v_ij^2 and the
    second-order perturbation terms; pairs of discarded eigenvalues are combined so that
    near-equal eigenvalues never divide.
    """
    _Sr, vals, vecs = _reduced(psi, S, eig)
    M = vecs[:, nf:]
    N = vecs[:, :nf]
    lm = vals[nf:]
    ln = vals[:nf]
    M2 = M * M
    h = 2.0 * (M2 @ M2.T)
    MM = M @ M.T
    term_a = 0.5 * (MM * MM - M2 @ M2.T)
    c = lm[:, None] / (lm[:, None] - ln[None, :])  # (|J|, m)
    # term_b[i, k] = sum_l N_il N_kl sum_j M_ij c_jl M_kj: one BLAS product per factor
    # (O(m p^3) in BLAS; the equivalent 3-index einsum is O(m p^3) without it and stores
    # p x |J| x m)
    term_b = np.zeros_like(h)
    for col in range(N.shape[1]):
        term_b += np.outer(N[:, col], N[:, col]) * ((M * c[:, col]) @ M.T)
    return h + 4.0 * (term_a + term_b)


def _fd_hess(fun, psi: np.ndarray, S: np.ndarray, nf: int) -> np.ndarray:
    """Hessian by forward differences of the analytic gradient."""
    _f, g0 = fun(psi, S, nf)
    p = psi.size
    H = np.empty((p, p))
    for i in range(p):
        h = 1e-7 * max(1.0, abs(psi[i]))
        x = psi.copy()
        x[i] += h
        H[:, i] = (fun(x, S, nf)[1] - g0) / h
    return (H + H.T) / 2.0


def _newton_box(fun, hess, x0: np.ndarray, lo: float, hi: float, S: np.ndarray, nf: int,
                *, tol: float = 1e-10, max_iter: int = 200, max_step: float = 0.1
                ) -> tuple[np.ndarray, float, bool, int]:
    """Projected Newton for min fun(x) on lo <= x <= hi (fun returns value and gradient).

    Variables at a bound with the gradient pushing outwards are held; the Newton system on
    the free variables uses |eigenvalues| of the Hessian (floored) so every step descends;
    Armijo backtracking along the projected path.
    """
    x = np.clip(x0, lo, hi)
    f, g = fun(x, S, nf)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        active = ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0))
        pg = np.where(active, 0.0, g)
        if np.max(np.abs(pg)) < tol:
            converged = True
            break
        free = ~active
        H = hess(x, S, nf)[np.ix_(free, free)]
        w, U = np.linalg.eigh(H)
        aw = np.abs(w)
        aw = np.maximum(aw, 1e-10 * max(aw.max(), 1e-300))
        d = np.zeros_like(x)
        d[free] = -U @ ((U.T @ g[free]) / aw)
        # a capped step stays in the start's basin, as psych's L-BFGS-B does: with several
        # local optima (over-factoring, Heywood cases) an uncapped Newton step can jump to
        # another one (a stress test of 300 fits found a worse optimum 6 times uncapped, 2
        # times capped, against L-BFGS-B from the same start)
        big = np.abs(d).max()
        if big > max_step:
            d *= max_step / big
        t = 1.0
        while True:
            xn = np.clip(x + t * d, lo, hi)
            fn, gn = fun(xn, S, nf)
            if fn <= f + 1e-4 * float(g @ (xn - x)) or t < 1e-12:
                break
            t /= 2.0
        if fn >= f and np.max(np.abs(xn - x)) < 1e-14:
            converged = bool(np.max(np.abs(pg)) < 1e-7)
            break
        x, f, g = xn, fn, gn
    return x, float(f), converged, it


@dataclasses.dataclass(frozen=True)
class FAFit:
    """Unrotated extraction (signs as psych: positive column sums)."""

    loadings: np.ndarray      # p x m
    communality: np.ndarray   # diag(L L')
    uniquenesses: np.ndarray  # diag(R) - communality
    psi: np.ndarray           # the optimised uniquenesses (minres/ml/uls) or 1 - h2 (pa)
    values: np.ndarray        # eigenvalues of R with communalities on the diagonal
    e_values: np.ndarray      # eigenvalues of R
    converged: bool
    iterations: int
    objective: float          # value of the extraction criterion at the solution
    heywood: tuple[int, ...]  # positions of items with uniqueness at the bound (or h2 >= 1)
    # wide path: (psych::cor.smooth of R, its log-determinant) for fa_stats
    smoothed: tuple[np.ndarray, float] | None = None


def fit_fa(R: np.ndarray, n_factors: int, method: str = "minres", *, min_err: float = 0.001,
            max_iter: int = 50) -> FAFit:
    """Extract ``n_factors`` factors from the correlation matrix ``R`` as psych::fa does.

    ``min_err`` and ``max_iter`` govern ``method="pa"`` only (psych's defaults).
    """
    R = np.asarray(R, dtype=float)
    p = R.shape[0]
    nf = n_factors
    if p > WIDE_K:
        return _fit_wide(R, nf, method, min_err, max_iter)
    e_values = _eigh_desc(R)[0]
    heywood: tuple[int, ...] = ()
    if method == "pa":
        Rm = R.copy()

        def eig(diag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            Rm[np.diag_indices(p)] = diag
            return _eigh_desc(Rm)

        # psych reports the eigenvalues of the last iterate's matrix (pa_values)
        L, pa_values, _d, converged, it = _wide.pa_iterate(eig, smc_of(R), nf, min_err,
                                                           max_iter)
        psi = 1.0 - (L * L).sum(axis=1)
        obj = float("nan")
    else:
        smc = smc_of(R)
        upper = max(float(smc.max()), 1.0)
        start = np.diag(R) - smc
        if method == "ml":
            psi, obj, converged, it = _newton_box(
                _ml_obj_grad, lambda x, S, m: _fd_hess(_ml_obj_grad, x, S, m), start, _LOWER,
                upper, R, nf)
        else:
            eig = _ReducedEigh()
            psi, obj, converged, it = _newton_box(
                lambda x, S, m: uls_obj_grad(x, S, m, eig),
                lambda x, S, m: _uls_hess(x, S, m, eig), start, _LOWER, upper, R, nf)
            del eig
        at_lo = psi <= _LOWER
        L = _ml_loadings(psi, R, nf) if method == "ml" else uls_loadings(psi, R, nf)
        heywood = tuple(int(i) for i in np.flatnonzero(at_lo))
    return _finish(R, L, method, psi, pa_values if method == "pa" else None, e_values,
                   converged, it, obj, heywood)


def _finish(R: np.ndarray, L: np.ndarray, method: str, psi: np.ndarray,
            pa_values: np.ndarray | None, e_values: np.ndarray, converged: bool, it: int,
            obj: float, heywood: tuple[int, ...],
            smoothed: tuple[np.ndarray, float] | None = None) -> FAFit:
    """psych's signs (positive column sums), communalities, Heywood items and ``values``."""
    sign = np.sign(L.sum(axis=0))
    sign[sign == 0] = 1.0
    L = L * sign
    L = np.where(L == 0, 1e-15, L)
    h2 = (L * L).sum(axis=1)
    if method == "pa":
        heywood = tuple(int(i) for i in np.flatnonzero(h2 >= 1.0))
    if pa_values is not None:
        values = pa_values
    else:
        S = R.copy()
        S[np.diag_indices_from(S)] = h2
        values = _eigh_desc(S)[0] if R.shape[0] <= WIDE_K else np.linalg.eigvalsh(S)[::-1]
    return FAFit(L, h2, np.diag(R) - h2, psi, values, e_values, converged, it, obj, heywood,
                 smoothed)


def _fit_wide(R: np.ndarray, nf: int, method: str, min_err: float, max_iter: int) -> FAFit:
    """:func:`fit_fa` for more than ``WIDE_K`` items: the leading eigenpairs only at each
    step (:mod:`psychoval.stats.factor._efa_wide`); the same optimum as the small path."""
    smc, e_values, smoothed = _wide.smc(R)
    if method == "pa":
        L, pa_values, converged, it = _wide.pa_fit(R, nf, smc, min_err, max_iter)
        return _finish(R, L, method, 1.0 - (L * L).sum(axis=1), pa_values, e_values,
                       converged, it, float("nan"), (), smoothed)
    upper = max(float(smc.max()), 1.0)
    fitter = _wide.ml_fit if method == "ml" else _wide.uls_fit
    psi, obj, converged, it, L = fitter(R, nf, np.diag(R) - smc, _LOWER, upper)
    heywood = tuple(int(i) for i in np.flatnonzero(psi <= _LOWER))
    return _finish(R, L, method, psi, None, e_values, converged, it, obj, heywood, smoothed)


def orient_factors(L: np.ndarray, phi: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None,
                                                             np.ndarray]:
    """psych's post-rotation conventions: flip factors to positive column sums, then order by
    variance accounted for (diag(Phi L'L)), largest first. Returns (L, Phi, order)."""
    sign = np.sign(L.sum(axis=0))
    sign[sign == 0] = 1.0
    L = L * sign
    if phi is not None:
        phi = phi * np.outer(sign, sign)
        ev = np.diag(phi @ L.T @ L)
    else:
        ev = (L * L).sum(axis=0)
    order = np.argsort(-ev, kind="stable")
    L = L[:, order]
    if phi is not None:
        phi = phi[np.ix_(order, order)]
    return L, phi, order


def _cor_smooth(r: np.ndarray) -> np.ndarray:
    from psychoval.stats.factor._polychoric import smooth_correlation

    return smooth_correlation(r)[0]


def _rmsea_ci(stat: float, df: float, n: float, conf: float = 0.9) -> tuple[float, float, float]:
    """psych::fa.stats RMSEA and its confidence interval (noncentral chi-square inversion)."""
    from scipy.optimize import brentq
    from scipy.special import chdtr, chndtr

    rmsea = math.sqrt(max(stat / (df * n) - 1.0 / (n - 1.0), 0.0))
    tail = (1 - conf) / 2
    hi_end = max(n, stat) + 2 * n

    def cdf(ncp):
        return float(chdtr(df, stat)) if ncp <= 0 else float(chndtr(stat, df, ncp))

    upper = 0.0
    p0 = float(chdtr(df, stat))
    if p0 > tail:
        try:
            upper = math.sqrt(brentq(lambda x: cdf(x) - tail, 0.0, hi_end, xtol=1e-10)
                              / (n - 1) / df)
        except ValueError:
            upper = 0.0 if rmsea <= 0 else float("nan")
    lower = 0.0
    if p0 > 1 - tail:
        try:
            lower = math.sqrt(brentq(lambda x: cdf(x) - 1 + tail, 0.0, hi_end, xtol=1e-10)
                              / (n - 1) / df)
        except ValueError:
            lower = float("nan")
    if not math.isnan(upper) and upper < rmsea:
        upper = float("nan")
    if not math.isnan(lower) and lower > rmsea:
        lower = float("nan")
    return rmsea, lower, upper


def fa_stats(R: np.ndarray, L: np.ndarray, phi: np.ndarray | None, n_obs: float | None,
              np_obs: np.ndarray | None, *, smoothed: tuple[np.ndarray, float] | None = None
              ) -> dict[str, float]:
    """psych::fa.stats: objective, STATISTIC, dof, PVAL, chi, rms, crms, TLI, BIC, fit,
    fit.off and RMSEA (90% interval), with psych's pairwise-n weighting of chi and rms."""
    from scipy.stats import chi2

    n = R.shape[0]
    nf = L.shape[1]
    model = L @ L.T if phi is None else L @ phi @ L.T
    resid = R - model
    r2 = float((R * R).sum())
    rstar2 = float((resid * resid).sum())
    dof = n * (n - 1) // 2 - n * nf + nf * (nf - 1) // 2
    np.fill_diagonal(resid, 0.0)
    out: dict[str, float] = {"dof": dof}
    nan = float("nan")
    if np_obs is None:
        rstar_off = float((resid * resid).sum())
        r2_off = r2 - float(np.trace(R))
        nobs = nan if n_obs is None else float(n_obs)
        out["chi"] = rstar_off * nobs
        nh = nobs
    else:
        rstar_off = float((resid * resid * np_obs).sum())
        rr = R * R * np_obs
        r2_off = float(rr.sum() - np.trace(rr))
        out["chi"] = rstar_off
        nh = float(np_obs.size / np.sum(1.0 / np_obs))
    out["rms"] = math.sqrt(rstar_off / (nh * n * (n - 1))) if np_obs is not None else \
        math.sqrt(rstar_off / (n * (n - 1)))
    if dof > 0:
        out["crms"] = math.sqrt(rstar_off / (2 * nh * dof)) if np_obs is not None else \
            math.sqrt(rstar_off / (2 * dof))
    else:
        out["crms"] = nan
    out["fit"] = 1 - rstar2 / r2
    out["fit_off"] = 1 - rstar_off / r2_off
    u = np.diag(R) - np.diag(model)
    if n > WIDE_K and u.min() > 1e-8:
        # model + diag(u) has every eigenvalue >= min(u) > eps: cor.smooth leaves it alone
        known = smoothed if smoothed is not None else _wide.smooth_logdet(R)
        Rs, ld0 = known if known is not None else (_cor_smooth(R), None)
        if ld0 is None:
            ld0 = float(np.linalg.slogdet(Rs)[1])
        F = L if phi is None else L @ np.linalg.cholesky(phi)
        objective = _wide.ml_discrepancy(Rs, ld0, F, u)
    else:
        m2 = model.copy()
        np.fill_diagonal(m2, np.diag(R))
        m2 = _cor_smooth(m2)
        Rs = _cor_smooth(R)
        minv = np.linalg.solve(m2, Rs)
        sign, logdet = np.linalg.slogdet(minv)
        objective = float(np.trace(minv) - logdet - n)
        ld0 = None
    out["objective"] = objective
    stat = pval = tli = bic = rmsea = lo = hi = nan
    if n_obs is not None:
        nm = (n_obs - 1) - (2 * n + 5) / 6 - (2 * nf) / 3
        stat = max(objective * nm, 0.0)
        pval = float(chi2.sf(stat, dof)) if dof > 0 else nan
        if ld0 is None:
            ld0 = float(np.linalg.slogdet(Rs)[1])
        F0 = float(np.trace(Rs) - ld0 - n)
        Mm = objective / dof if dof > 0 else nan
        M0 = F0 * 2 / (n * (n - 1))
        tli = (M0 - Mm) / (M0 - 1 / nm)
        if dof > 0:
            rmsea, lo, hi = _rmsea_ci(stat, dof, float(n_obs))
            bic = stat - dof * math.log(n_obs)
    out.update(statistic=stat, pval=pval, tli=tli, bic=bic, rmsea=rmsea, rmsea_lower=lo,
               rmsea_upper=hi)
    return out


# ----------------------------------------------------------------------------------------
# the result


@dataclasses.dataclass(frozen=True, repr=False)
class EFAResult(Result):
    """An exploratory factor analysis (psych::fa conventions).

    Loadings, Phi and variance accounted for are after rotation, with psych's sign and order
    conventions; fit statistics use psych's names in snake_case (``statistic`` is psych's
    STATISTIC, the chi-square with Bartlett's correction; ``chi`` the empirical chi-square;
    ``pval`` its p-value; ``fit_off`` psych's fit.off).
    """

    loadings: pd.DataFrame
    phi: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    e_values: np.ndarray
    values: np.ndarray
    vaccounted: pd.DataFrame
    objective: float
    statistic: float
    dof: int
    pval: float
    chi: float
    rms: float
    crms: float
    tli: float
    bic: float
    fit: float
    fit_off: float
    rmsea: float
    rmsea_lower: float
    rmsea_upper: float
    n_obs: int | None
    n_pairwise: pd.DataFrame | None
    n_factors: int
    method: str
    rotation: str | None
    cor: str
    converged: bool
    iterations: int
    rotation_converged: bool
    heywood: tuple[str, ...]
    n_starts: int
    better_start_found: bool | None
    r: pd.DataFrame = dataclasses.field(repr=False)
    unrotated: pd.DataFrame = dataclasses.field(repr=False)

    _schema: ClassVar[str] = "psychoval.efa/1"

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(self.loadings.index)

    @property
    def structure(self) -> pd.DataFrame:
        """Structure matrix L Phi (item-factor correlations)."""
        return self.loadings @ self.phi

    @property
    def min_pairwise_n(self) -> int | None:
        """Smallest pairwise n behind the correlations (None for a matrix input)."""
        return None if self.n_pairwise is None else int(self.n_pairwise.to_numpy().min())

    @property
    def admissible(self) -> bool:
        return not self.heywood

    @property
    def fit_measures(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in (
            "objective", "statistic", "dof", "pval", "chi", "rms", "crms", "tli", "bic", "fit",
            "fit_off", "rmsea", "rmsea_lower", "rmsea_upper")}

    def rotate(self, rotation: str | None, *, n_starts: int = 1, seed: int | None = None
               ) -> EFAResult:
        """The same extraction rotated by ``rotation`` (a new result; fit statistics as psych
        recomputes them for the rotated solution)."""
        L0 = self.unrotated.to_numpy()
        return _assemble(self.r.to_numpy(), L0, self._fit_info(), rotation=rotation,
                         n_obs=self.n_obs, np_obs=None if self.n_pairwise is None
                         else self.n_pairwise.to_numpy(), cor=self.cor, method=self.method,
                         n_starts=n_starts, seed=seed, items=self.items)

    def _fit_info(self) -> dict[str, Any]:
        return {"e_values": self.e_values, "values": self.values,
                "converged": self.converged, "iterations": self.iterations,
                "heywood": self.heywood}

    def _repr_fields(self) -> dict[str, Any]:
        return {"n_factors": self.n_factors, "method": self.method, "rotation": self.rotation,
                "rmsea": self.rmsea, "tli": self.tli, "converged": self.converged}

    def summary(self) -> Summary:
        tab = self.loadings.copy()
        tab["h2"] = self.communalities
        tab["u2"] = self.uniquenesses
        notes = []
        if self.heywood:
            notes.append("Heywood case: uniqueness at its 0.005 bound for "
                         + ", ".join(self.heywood))
        if not self.converged:
            notes.append("The extraction did not converge.")
        if self.better_start_found:
            notes.append("A random start found a better rotation optimum than the identity "
                         "start (local optimum).")
        facts = (("factors", self.n_factors), ("method", self.method),
                 ("rotation", self.rotation or "none"), ("correlations", self.cor),
                 ("n_obs", self.n_obs if self.n_obs is not None else "NA"),
                 ("chi-square (Bartlett)", self.statistic), ("dof", self.dof),
                 ("p", self.pval), ("RMSEA", self.rmsea), ("RMSEA 90% lower", self.rmsea_lower),
                 ("RMSEA 90% upper", self.rmsea_upper), ("TLI", self.tli), ("BIC", self.bic),
                 ("RMSR", self.rms), ("converged", self.converged))
        tables = [("Loadings", tab), ("Variance accounted for", self.vaccounted)]
        if self.rotation in OBLIQUE_SET:
            tables.append(("Factor correlations (Phi)", self.phi))
        return Summary(title="Exploratory factor analysis", facts=facts, tables=tuple(tables),
                       notes=tuple(notes))

    def plot(self, *, ax: Any = None) -> Any:
        """Heat map of the loadings (items x factors; needs matplotlib, the ``plots`` extra):
        :func:`psychoval.plotting.plot_loadings`. Returns the matplotlib axes."""
        from psychoval.plotting._factor import plot_loadings

        return plot_loadings(self, ax=ax)

    def to_frame(self) -> pd.DataFrame:
        long = self.loadings.reset_index(names="item").melt(
            id_vars="item", var_name="factor", value_name="loading")
        return long


OBLIQUE_SET = frozenset({"oblimin", "quartimin", "geominQ", "promax"})


def _assemble(R: np.ndarray, L0: np.ndarray, info: dict[str, Any], *, rotation: str | None,
              n_obs: int | None, np_obs: np.ndarray | None, cor: str, method: str,
              n_starts: int, seed: int | None, items: Sequence[str]) -> EFAResult:
    from psychoval.stats.core._rotation import ROTATIONS, rotate_loadings

    if rotation is not None:
        check_choice("rotation", rotation, ROTATIONS + (None,))
    p, nf = L0.shape
    names = [f"{_PREFIX[method]}{j + 1}" for j in range(nf)]
    phi = None
    rot_conv = True
    better = None
    if rotation is not None and nf > 1:
        rot = rotate_loadings(L0, rotation)
        L, phi, rot_conv = rot.loadings, rot.phi, rot.converged
        if n_starts > 1 and rotation not in ("varimax", "promax"):
            rng = np.random.default_rng(seed)
            best = rot.criterion
            for _ in range(n_starts - 1):
                q, _r = np.linalg.qr(rng.standard_normal((nf, nf)))
                alt = rotate_loadings(L0, rotation, start=q)
                best = min(best, alt.criterion)
            better = bool(best < rot.criterion - 1e-6 * max(1.0, abs(rot.criterion)))
        if rotation in OBLIQUE_SET and phi is None:
            phi = np.eye(nf)
    else:
        L = L0.copy()
    L, phi, order = orient_factors(L, phi)
    names = [names[o] for o in order]
    phi_arr = np.eye(nf) if phi is None else phi
    stats = fa_stats(R, L, phi, n_obs, np_obs, smoothed=info.get("smoothed"))
    vx = np.diag(phi_arr @ L.T @ L)
    h2 = (L0 * L0).sum(axis=1)
    vtotal = float(h2.sum() + (np.diag(R) - h2).sum())
    rows = {"SS loadings": vx, "Proportion Var": vx / vtotal}
    if nf > 1:
        rows["Cumulative Var"] = np.cumsum(vx / vtotal)
        rows["Proportion Explained"] = vx / vx.sum()
        rows["Cumulative Proportion"] = np.cumsum(vx / vx.sum())
    names_ix = pd.Index(names)
    vacc = pd.DataFrame(np.array(list(rows.values())), index=pd.Index(list(rows)),
                        columns=names_ix)
    items = pd.Index(list(items))  # one Index shared by every field (cheap construction)
    if not rot_conv:
        warn(f"the {rotation} rotation did not converge", ConvergenceWarning,
                      stacklevel=3)
    return EFAResult(
        loadings=pd.DataFrame(L, index=items, columns=names_ix),
        phi=pd.DataFrame(phi_arr, index=names_ix, columns=names_ix),
        communalities=pd.Series(h2, index=items, name="h2"),
        uniquenesses=pd.Series(np.diag(R) - h2, index=items, name="u2"),
        e_values=info["e_values"], values=info["values"], vaccounted=vacc,
        objective=stats["objective"], statistic=stats["statistic"], dof=stats["dof"],
        pval=stats["pval"], chi=stats["chi"], rms=stats["rms"], crms=stats["crms"],
        tli=stats["tli"], bic=stats["bic"], fit=stats["fit"], fit_off=stats["fit_off"],
        rmsea=stats["rmsea"], rmsea_lower=stats["rmsea_lower"],
        rmsea_upper=stats["rmsea_upper"], n_obs=n_obs,
        n_pairwise=None if np_obs is None else pd.DataFrame(np_obs.astype(np.int64),
                                                            index=items, columns=items),
        n_factors=nf, method=method, rotation=rotation if nf > 1 else None, cor=cor,
        converged=info["converged"], iterations=info["iterations"],
        rotation_converged=rot_conv, heywood=tuple(info["heywood"]), n_starts=n_starts,
        better_start_found=better,
        r=pd.DataFrame(R, index=items, columns=items),
        unrotated=pd.DataFrame(L0, index=items, columns=[f"F{j + 1}" for j in range(nf)]),
    )


def _positive_definite(R: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(R)
    except np.linalg.LinAlgError:
        return False
    return bool(np.linalg.eigvalsh(R)[0] > 1e-12 * R.shape[0])


def is_square_matrix(data: Any) -> bool:
    arr = data.to_numpy() if isinstance(data, pd.DataFrame) else None
    if arr is None:
        try:
            arr = np.asarray(data, dtype=float)
        except (TypeError, ValueError):
            return False
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or np.isnan(arr).any():
        return False
    if isinstance(data, pd.DataFrame) and list(data.index) != list(data.columns):
        return False
    return bool(np.allclose(arr, arr.T) and np.all(np.diag(arr) > 0))


def correlation_input(data: Any, *, cor: str, missing: str, items: Sequence[str] | None,
                      n_obs: int | None, method_poly: str = "psych"
                      ) -> tuple[np.ndarray, tuple[str, ...], int | None, np.ndarray | None]:
    """Raw data or a correlation/covariance matrix -> (R, items, n_obs, pairwise n or None)."""
    from psychoval.stats.core._moments import cov_to_cor
    from psychoval.stats.core._pearson import pairwise_cor

    check_choice("cor", cor, ("pearson", "polychoric", "tetrachoric", "mixed"))
    mo = as_moments(data, items=items)
    if mo is not None:
        return _moments_input(mo, cor=cor, missing=missing, n_obs=n_obs)
    if is_square_matrix(data):
        if isinstance(data, pd.DataFrame):
            frame = data if items is None else data.loc[list(items), list(items)]
            names = tuple(str(c) for c in frame.columns)
            arr = frame.to_numpy(dtype=float)
        else:
            arr = np.asarray(data, dtype=float)
            names = tuple(f"item{j + 1}" for j in range(arr.shape[0]))
        if cor != "pearson":
            raise SpecificationError(
                f"cor={cor!r} needs raw responses; a correlation matrix was given (leave "
                "cor='pearson' for a matrix input)")
        return cov_to_cor(arr), names, n_obs, None
    m = as_item_matrix(data, items=items, min_items=2, what="data")
    m, _info = apply_missing(m, missing)
    if cor == "pearson":
        bad = np.flatnonzero(~(np.nanmax(m.values, axis=0) > np.nanmin(m.values, axis=0)))
        if bad.size:
            raise DataError(f"item {m.items[bad[0]]!r} is constant (or unanswered); a "
                            "correlation with it is undefined: drop it")
        R, npair_i = pairwise_cor(m.values, items=m.items)
        npair = npair_i.astype(float)
        check_overlap(npair, m.items, minimum=3)
    elif cor == "mixed":
        R, npair = _mixed(m)
    else:
        from psychoval.stats.factor._polychoric import category_codes, polychoric_matrix

        category_codes(m.values, m.items, m.ids, kind=cor)
        core = polychoric_matrix(m.values, m.items, method=method_poly, kind=cor)
        R, npair = core.rho, core.npair.astype(float)
        if not core.converged:
            warn(f"{cor} estimation did not converge for every pair",
                          ConvergenceWarning, stacklevel=3)
        if core.smoothed:
            warn(f"the {cor} matrix was not positive definite and was smoothed "
                          "(psych::cor.smooth)", DegenerateDataWarning, stacklevel=3)
    n = m.n if n_obs is None else n_obs
    return R, m.items, n, npair


def _moments_input(mo: Moments, *, cor: str, missing: str, n_obs: int | None
                   ) -> tuple[np.ndarray, tuple[str, ...], int | None, np.ndarray | None]:
    """:func:`correlation_input` of merged :class:`Moments`: the Pearson correlations the
    rows would give (R's ``cor(use = "pairwise")``, or of the complete rows)."""
    check_choice("missing", missing, ("pairwise", "listwise", "raise"))
    if cor != "pearson":
        refuse(f"cor={cor!r}", "polychoric and tetrachoric correlations need each pair's "
               "table of categories, which Moments do not hold; use cor='pearson'")
    check_usable(mo, missing)
    policy = "listwise" if missing == "listwise" else "pairwise"
    n = mo.n_used(policy)
    var = np.diag(mo.cov(policy))
    bad = np.flatnonzero(~(var > 0))
    if bad.size:
        raise DataError(f"item {mo.columns[bad[0]]!r} is constant (or unanswered); a "
                        "correlation with it is undefined: drop it")
    npair = (mo.npair.astype(float) if policy == "pairwise"
             else np.full((mo.k, mo.k), float(n)))
    if policy == "pairwise":
        check_overlap(npair, mo.columns, minimum=3)
    return mo.cor(policy), mo.columns, n if n_obs is None else n_obs, npair


_MIXED_NCAT = 8  # psych::mixedCor's ncat


def _mixed(m) -> tuple[np.ndarray, np.ndarray]:
    """psych::mixedCor (2.2.9): items with 2 distinct values are dichotomous, 3 to 8
    polytomous, more continuous. Pearson among continuous items, polychoric among polytomous
    ones, tetrachoric among dichotomous ones (psych conventions, each block smoothed as
    psych does), polyserial (psych's ad-hoc estimator) continuous x polytomous, biserial
    continuous x dichotomous, polydi polytomous x dichotomous. The combined matrix is not
    smoothed (psych does not)."""
    from scipy.special import ndtri

    from psychoval.stats.core._pearson import pairwise_cor
    from psychoval.stats.factor._polychoric import polychoric_matrix, polydi

    x = m.values
    obs = ~np.isnan(x)
    n, k = x.shape
    nvals = np.array([np.unique(x[obs[:, j], j]).size for j in range(k)])
    integer = np.array([bool(np.all(x[obs[:, j], j] == np.round(x[obs[:, j], j])))
                        for j in range(k)])
    dic = np.flatnonzero((nvals == 2) & integer)
    pol = np.flatnonzero((nvals > 2) & (nvals <= _MIXED_NCAT) & integer)
    con = np.flatnonzero(~np.isin(np.arange(k), np.concatenate([dic, pol])))
    for j in pol:
        col = x[obs[:, j], j]
        if nvals[j] != col.max() - col.min() + 1:
            raise DataError(
                f"item {m.items[j]!r} has {nvals[j]} distinct values between {col.min():g} "
                f"and {col.max():g}: an unobserved category inside its range (psych::mixedCor "
                "stops here); recode it to consecutive codes")
    R, npair_i = pairwise_cor(x, items=m.items)
    npair = npair_i.astype(float)
    check_overlap(npair, m.items, minimum=3)
    if pol.size >= 2:
        R[np.ix_(pol, pol)] = polychoric_matrix(x[:, pol], [m.items[j] for j in pol],
                                                 method="psych", kind="polychoric").rho
    if dic.size >= 2:
        R[np.ix_(dic, dic)] = polychoric_matrix(x[:, dic], [m.items[j] for j in dic],
                                                 method="psych", kind="tetrachoric").rho
    if pol.size and dic.size:
        rpd = polydi(x[:, pol], x[:, dic])
        R[np.ix_(pol, dic)] = rpd
        R[np.ix_(dic, pol)] = rpd.T
    if con.size and pol.size:
        # psych::polyserial: thresholds on the polytomous items' global range
        yp = x[:, pol]
        lo, hi = np.nanmin(yp), np.nanmax(yp)
        cats = np.arange(lo, hi + 1)
        for jj, j in enumerate(pol):
            col = yp[obs[:, j], jj]
            freq = (col[:, None] == cats[None, :]).sum(axis=0) / col.size
            with np.errstate(divide="ignore"):
                tau = ndtri(np.clip(np.cumsum(freq)[:-1], 0.0, 1.0))
            stau = np.where(np.isfinite(tau), np.exp(-0.5 * np.where(np.isfinite(tau), tau, 0)
                                                      ** 2) / math.sqrt(2 * math.pi), 0).sum()
            sdy = np.nanstd(x[:, j], ddof=1)
            for i in con:
                rps = R[i, j] * math.sqrt((n - 1) / n) * sdy / stau
                R[i, j] = R[j, i] = min(max(rps, -1.0), 1.0)
    if con.size and dic.size:
        for j in dic:
            for i in con:
                both = obs[:, i] & obs[:, j]
                xi, yj = x[both, i], x[both, j]
                levels = np.unique(yj)
                p_hi = float(np.mean(yj == levels[1]))
                zp = math.exp(-0.5 * float(ndtri(p_hi)) ** 2) / math.sqrt(2 * math.pi)
                r = ((xi[yj == levels[1]].mean() - xi[yj == levels[0]].mean())
                     * p_hi * (1 - p_hi) / (zp * np.std(xi, ddof=1)))
                R[i, j] = R[j, i] = min(max(r, -1.0), 1.0)
    return R, npair


def efa(data: Any, *, n_factors: int, method: str = "minres", rotation: str | None = "oblimin",
        cor: str = "pearson", missing: str = "pairwise", n_starts: int = 1,
        n_obs: int | None = None, items: Sequence[str] | None = None,
        seed: int | None = None, min_err: float = 0.001, max_iter: int = 50) -> EFAResult:
    """Exploratory factor analysis as ``psych::fa`` (2.2.9), converged tightly.

    Extracts ``n_factors`` common factors from the item correlations, rotates them, and
    reports psych's fit statistics. The common factor model is :math:`R = \\Lambda\\Phi
    \\Lambda' + \\Psi` with diagonal :math:`\\Psi` (uniquenesses).

    Parameters
    ----------
    data : DataFrame, ResponseTable, 2-d array, a correlation / covariance matrix, Moments
        Raw responses (respondents x items), or a square symmetric matrix (give ``n_obs`` for
        the chi-square based statistics; a covariance matrix is rescaled to correlations), or
        merged :class:`Moments` / a dask DataFrame or Array (Pearson correlations only; the
        same result as the concatenated rows).
    n_factors : int
        Number of factors (>= 1).
    method : {"minres", "ml", "pa", "uls"}
        Minimum residual (psych's default), maximum likelihood, principal axes (psych's
        iteration: ``min_err``, ``max_iter``), unweighted least squares (same optimum as
        minres; psych labels the factors ULS).
    rotation : {"oblimin", "quartimin", "geominQ", "promax", "varimax", "quartimax", "geominT", None}
        As psych: varimax is ``stats::varimax``; promax is ``psych::kaiser(L, "Promax")`` with
        m = 4; the others are GPArotation's gradient projection (oblimin with gamma 0,
        geomin delta .01), iterated to convergence.
    cor : {"pearson", "polychoric", "tetrachoric", "mixed"}
        Correlations of raw data: Pearson (pairwise complete), :func:`polychoric` /
        :func:`tetrachoric` (psych conventions), or ``psych::mixedCor`` (dichotomous,
        polytomous and continuous items, each pair by its kind).
    missing : {"pairwise", "listwise", "raise"}
        Pairwise (psych's default): n = all rows, pairwise n weights chi and RMSR as psych.
    n_starts : int
        Number of starts for GPA rotations; with more than 1, random orthogonal starts
        (``seed``) report in ``better_start_found`` whether a better optimum than the
        identity start (the one returned, as psych) exists.
    n_obs : int, optional
        Number of respondents when ``data`` is a matrix (or to override it for raw data).
    items : sequence of str, optional
        Columns (or matrix rows/columns) to use.
    seed : int, optional
        Seed of the random starts.
    min_err, max_iter : float, int
        Principal-axis convergence (psych defaults .001 and 50).

    Returns
    -------
    EFAResult
        Loadings, ``phi``, communalities, uniquenesses, ``e_values`` (of R), ``values`` (of
        the reduced matrix), ``vaccounted`` and psych's fit statistics; ``converged``,
        ``heywood`` (items with a uniqueness at the 0.005 bound); ``rotate()``.

    Raises
    ------
    SpecificationError
        Unknown method / rotation / cor, or too many factors for the number of items.
    DataError
        Invalid data (see :func:`polychoric` for the ordinal checks); ``method="ml"`` on a
        correlation matrix that is not positive definite (e.g. fewer respondents than items).

    Warns
    -----
    SmallSampleWarning
        Fewer respondents (``n_obs``) than items: the correlation matrix is singular; the
        solution is still computed, as psych::fa does.

    Notes
    -----
    minres minimises :math:`\\sum_{i \\ne j}(r_{ij} - \\lambda_i'\\lambda_j)^2` over the
    uniquenesses (loadings are the scaled leading eigenvectors of :math:`R - \\Psi`);
    ml minimises :math:`\\operatorname{tr}(\\Sigma^{-1}R) - \\log|\\Sigma^{-1}R| - p`.
    The chi-square is ``objective * ((n - 1) - (2p + 5)/6 - 2m/3)`` (Bartlett's correction)
    with dof = :math:`p(p-1)/2 - pm + m(m-1)/2`. psych's L-BFGS-B stops early (factr 1e7)
    and GPArotation at a gradient norm of 1e-5; we converge further, so loadings agree with
    psych to about 1e-5. Up to 300 items each step uses a full eigendecomposition (projected
    Newton); above, the criteria (which need only the ``n_factors`` leading eigenpairs of
    :math:`R - \\Psi`) are minimised by L-BFGS-B with warm-started Lanczos eigenpairs, O(p^2)
    per step, and the whole fit is O(p^3) (the reported eigenvalues, the SMC start, the fit
    statistics); both reach the same optimum (to 1e-7).

    References
    ----------
    Revelle, W. (2022). psych: Procedures for Psychological, Psychometric, and Personality
    Research, version 2.2.9. https://CRAN.R-project.org/package=psych
    Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection algorithms and software
    for arbitrary rotation criteria in factor analysis. Educational and Psychological
    Measurement 65, 676-696. https://doi.org/10.1177/0013164404272507

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> r = np.array([[1, .56, .48, .40], [.56, 1, .42, .35],
    ...               [.48, .42, 1, .30], [.40, .35, .30, 1]])
    >>> res = pv.efa(r, n_factors=1, n_obs=200)  # psych::fa(r, 1, n.obs = 200)
    >>> [round(float(v), 3) for v in res.loadings.iloc[:, 0]]  # psych: .800 .700 .600 .500
    [0.8, 0.7, 0.6, 0.5]
    >>> bool(res.converged), res.dof
    (True, 2)
    """
    check_choice("method", method, METHODS)
    if rotation is not None:
        from psychoval.stats.core._rotation import ROTATIONS

        check_choice("rotation", rotation, ROTATIONS + (None,))
    if not isinstance(n_factors, (int, np.integer)) or n_factors < 1:
        raise SpecificationError(f"n_factors={n_factors!r} must be a positive integer")
    if not isinstance(n_starts, (int, np.integer)) or n_starts < 1:
        raise SpecificationError(f"n_starts={n_starts!r} must be a positive integer")
    R, names, nobs, npair = correlation_input(data, cor=cor, missing=missing, items=items,
                                              n_obs=n_obs)
    p = R.shape[0]
    if n_factors >= p:
        raise SpecificationError(
            f"n_factors={n_factors} is too many for {p} items; at most {p - 1}")
    if method == "ml" and not _positive_definite(R):
        few = (f" ({nobs} respondents for {p} items: fewer respondents than items make it "
               "singular)" if nobs is not None and nobs < p else "")
        raise DataError(
            f"method='ml' needs a positive definite correlation matrix, and this one is not"
            f"{few}: the ML discrepancy log|Sigma^-1 R| is undefined (psych::fa stops with "
            "'L-BFGS-B needs finite values of fn'). Use method='minres' or 'pa', which do not "
            "need the inverse, or collect more responses")
    if nobs is not None and nobs < p:
        warn(f"{nobs} respondents for {p} items: with fewer respondents than items the "
             f"correlation matrix is singular (rank at most {max(nobs - 1, 0)}), so the "
             "loadings and fit statistics are unstable. The solution is still computed (as "
             "psych::fa does); collect more responses or analyse fewer items",
             SmallSampleWarning, stacklevel=2)
    fit = fit_fa(R, int(n_factors), method, min_err=min_err, max_iter=max_iter)
    heywood = tuple(names[i] for i in fit.heywood)
    if not fit.converged:
        warn(f"the {method} extraction did not converge in {fit.iterations} "
                      "iterations", ConvergenceWarning, stacklevel=2)
    if heywood:
        warn(
            "Heywood case: the uniqueness of " + ", ".join(map(repr, heywood)) + " is at its "
            "lower bound (0.005); the solution is improper, consider fewer factors or "
            "dropping the item", ImproperSolutionWarning, stacklevel=2)
    info = {"e_values": fit.e_values, "values": fit.values, "converged": fit.converged,
            "iterations": fit.iterations, "heywood": heywood, "smoothed": fit.smoothed}
    return _assemble(R, fit.loadings, info, rotation=rotation, n_obs=nobs, np_obs=npair,
                     cor=cor, method=method, n_starts=int(n_starts), seed=seed, items=names)
