"""Polychoric and tetrachoric correlations: two-step ML, all pairs at once.

Step 1: each item's thresholds from its own marginal proportions (all respondents who
answered it). Step 2: for every pair, the ML correlation of the bivariate normal whose
discretisation at those fixed thresholds best reproduces the pair's contingency table
(pairwise-complete respondents). All contingency tables come from one cross-product of the
one-hot coded responses; Newton / Fisher scoring on rho runs for all pairs simultaneously,
with bivariate normal probabilities from :mod:`psychoval.stats.core._bvn` (accurate to ~1e-15).

Two conventions (``method=``):

``"lavaan"`` (``lavaan::lavCor``): categories are the observed values of each item (an
unobserved category simply does not exist), no smoothing. The estimate is the exact two-step
MLE, bounded to [-0.999, 0.999] as lavaan's nlminb(), except for lavaan's treatment of the
2 x 2 table of two dichotomous items (``zero.add = c(0.5, 0)``, ``zero.keep.margins =
TRUE``): one empty cell gets ``correct`` (0.5) added to it and to the other cell of its
diagonal and subtracted from the other two (margins kept); two empty cells give rho = +-1;
``n11 n22 = n12 n21`` gives 0. Larger tables are not corrected.

``"psych"`` (``psych::polychoric`` / ``psych::tetrachoric`` 2.2.9): responses are coded on the
global range min..max over all items and thresholds are reported on it (an unobserved end
category gives a +-Inf threshold). If the items do not all share the same maximum, psych
switches to per-pair ("local") thresholds: empty rows/columns of a pair's table are dropped
and ``correct`` / n is added to its empty cells. Tetrachoric adds ``correct`` to empty cells of
every 2x2 table. A result that is not positive definite is smoothed (``psych::cor.smooth``).
psych maximises with ``optimize()`` (tolerance ~1.2e-4 on rho); we converge to 1e-10, so we
agree with psych to its optimizer's precision and with lavaan to ~1e-8.

Length: the two-step ML polychoric and tetrachoric estimators, vectorized over all pairs, with
psych's corrections and the mixed (polydi) case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import apply_missing, as_item_matrix, check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import ConvergenceWarning, DataError, DegenerateDataWarning, warn

__all__ = ["PolychoricResult", "polychoric", "tetrachoric", "smooth_correlation"]

MAX_CATEGORIES = 10
_RHO_MAX = 1.0 - 1e-9
_LAVAAN_RHO_MAX = 0.999  # lavaan's nlminb() bounds on a polychoric correlation


@dataclasses.dataclass(frozen=True, repr=False)
class PolychoricResult(Result):
    """Polychoric (tetrachoric) correlation matrix with thresholds and pairwise n.

    Attributes
    ----------
    rho : DataFrame
        The correlation matrix (items x items).
    thresholds : DataFrame
        Items x cut points (``t1``, ``t2``, ...), on the normal scale. Under
        ``method="lavaan"`` an item with fewer observed categories has NaN in its last columns.
    n_pairwise : DataFrame
        Respondents answering both items of each pair.
    n_obs : int
        psych: all rows; lavaan: rows with at least one answer (lavaan drops empty cases).
    method, kind : str
        ``"psych"`` / ``"lavaan"``; ``"polychoric"`` / ``"tetrachoric"``.
    global_thresholds : bool
        Whether each item's marginal thresholds were used for every pair (psych switches to
        per-pair thresholds when items have different numbers of categories).
    corrected_cells : int
        Empty cells to which ``correct`` was added (lavaan: 2 x 2 tables with one empty
        cell, corrected keeping the margins).
    smoothed : bool
        The matrix was not positive definite and was smoothed (psych only).
    converged : bool
        Every pair met the convergence criterion (|step| < 1e-10).
    iterations : int
        Newton iterations used (maximum over pairs).
    """

    rho: pd.DataFrame
    thresholds: pd.DataFrame
    n_pairwise: pd.DataFrame
    n_obs: int
    method: str
    kind: str
    global_thresholds: bool
    corrected_cells: int
    smoothed: bool
    converged: bool
    iterations: int

    _schema: ClassVar[str] = "psychoval.polychoric/1"

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(self.rho.columns)

    @property
    def min_pairwise_n(self) -> int:
        return int(self.n_pairwise.to_numpy().min())

    def _repr_fields(self) -> dict[str, Any]:
        return {"kind": self.kind, "method": self.method, "items": len(self.items),
                "n_obs": self.n_obs, "converged": self.converged}

    def summary(self) -> Summary:
        notes = []
        if self.corrected_cells:
            notes.append(f"{self.corrected_cells} empty cell(s) were given the continuity "
                         f"correction ({self.method} convention).")
        if self.smoothed:
            notes.append("The matrix was not positive definite and was smoothed (cor.smooth).")
        if not self.global_thresholds:
            notes.append("Items differ in their number of categories: per-pair thresholds "
                         "were used (psych convention).")
        return Summary(
            title=f"{self.kind.capitalize()} correlations ({self.method} conventions)",
            facts=(("items", len(self.items)), ("n_obs", self.n_obs),
                   ("min pairwise n", self.min_pairwise_n), ("converged", self.converged)),
            tables=(("Correlations", self.rho), ("Thresholds", self.thresholds)),
            notes=tuple(notes),
        )

    def to_frame(self) -> pd.DataFrame:
        items = self.items
        iu, ju = np.triu_indices(len(items), 1)
        r = self.rho.to_numpy()
        n = self.n_pairwise.to_numpy()
        return pd.DataFrame({
            "item1": [items[i] for i in iu], "item2": [items[j] for j in ju],
            "rho": r[iu, ju], "n": n[iu, ju],
        })


# ----------------------------------------------------------------------------------------
# validation and coding


def category_codes(values: np.ndarray, items: Sequence[str], ids, *, kind: str
           ) -> tuple[float, np.ndarray]:
    """Raise a DataError for non-integer codes, too many categories or constant items;
    return (global minimum, per-item category counts) for the estimator."""
    obs = ~np.isnan(values)
    frac = obs & (values != np.round(values))
    if frac.any():
        r, c = np.argwhere(frac)[0]
        from psychoval.io._table import describe_row

        raise DataError(
            f"item {items[c]!r} has the non-integer value {float(values[r, c])!r} at "
            f"{describe_row(ids, int(r))}; {kind} correlations need integer category codes "
            "(round or recode the item, or use Pearson correlations)"
        )
    gmin, counts = _category_counts(values, obs)
    ncats = (counts > 0).sum(axis=1)
    for j, name in enumerate(items):
        if ncats[j] == 0:
            raise DataError(f"item {name!r} has no answers; drop it")
        if ncats[j] == 1:
            only = gmin + int(np.argmax(counts[j] > 0))
            raise DataError(
                f"item {name!r} is constant (every answer is {only:g}); a {kind} correlation "
                "with it is undefined: drop the item"
            )
        if ncats[j] > MAX_CATEGORIES:
            raise DataError(
                f"item {name!r} has {ncats[j]} distinct values (more than {MAX_CATEGORIES} "
                f"categories); treat it as continuous and use Pearson correlations "
                "(cor='pearson')"
            )
    return gmin, counts


def _category_counts(values: np.ndarray, obs: np.ndarray) -> tuple[float, np.ndarray]:
    """(global minimum, counts (k, range)) of integer codes per item, in one bincount."""
    k = values.shape[1]
    if not obs.any():
        return 0.0, np.zeros((k, 1), dtype=np.int64)
    gmin = float(np.nanmin(values))
    span = int(np.nanmax(values) - gmin) + 1
    if span > 100_000:  # absurd codes: count them item by item instead
        span_items = [np.unique(values[obs[:, j], j]) for j in range(k)]
        counts = np.zeros((k, MAX_CATEGORIES + 2), dtype=np.int64)
        for j, cats in enumerate(span_items):
            counts[j, :min(cats.size, MAX_CATEGORIES + 2)] = 1
        return gmin, counts
    # missing cells go to a dummy bin past the end
    idx = np.where(obs, np.arange(k) * span + np.nan_to_num(values - gmin), k * span)
    counts = np.bincount(idx.astype(np.int64).ravel(), minlength=k * span + 1)
    return gmin, counts[:-1].reshape(k, span)


def check_overlap(npair: np.ndarray, items: Sequence[str], minimum: int = 2) -> None:
    """Raise naming the first pair of items answered together by fewer than ``minimum``."""
    bad = np.argwhere(np.triu(npair < minimum, 1))
    if bad.size:
        i, j = bad[0]
        raise DataError(
            f"items {items[i]!r} and {items[j]!r} have {int(npair[i, j])} respondent(s) in "
            "common; their correlation cannot be estimated: drop one of them or collect "
            "overlapping answers"
        )


def _one_hot_tables(codes: np.ndarray, ncat: int,
                    weights: np.ndarray | None = None) -> np.ndarray:
    """All k x k contingency tables at once: (k, k, C, C) counts, pairwise complete;
    ``weights``: each row's frequency (rows of a :class:`ResponsePatterns`)."""
    n, k = codes.shape
    # float32 cross-products are exact for counts below 2**24 (float64 below 2**53)
    dtype = np.float32 if n < 2 ** 24 and weights is None else np.float64
    # one scatter: row i, item j, category c -> column j * C + c; a missing cell writes a 0
    # into its own item's first column (which that row cannot otherwise use)
    obs = codes >= 0
    flat = np.where(obs, codes, 0) + np.arange(k) * ncat
    flat += (np.arange(n) * (k * ncat))[:, None]
    onehot = np.zeros((n, k * ncat), dtype=dtype)
    onehot.ravel()[flat.ravel()] = obs.ravel()
    right = onehot if weights is None else onehot * weights[:, None]
    tab = (onehot.T @ right).astype(np.float64)
    return tab.reshape(k, ncat, k, ncat).transpose(0, 2, 1, 3)


def _cum_thresholds(freq: np.ndarray) -> np.ndarray:
    """qnorm of cumulative proportions (last column dropped): (..., C) -> (..., C-1)."""
    from scipy.special import ndtri

    tot = freq.sum(axis=-1, keepdims=True)
    cum = np.cumsum(freq, axis=-1)[..., :-1] / tot
    with np.errstate(divide="ignore"):
        return ndtri(np.clip(cum, 0.0, 1.0))


# ----------------------------------------------------------------------------------------
# the estimator: fixed thresholds, ML rho, all pairs at once


def _cell_probs(rho: np.ndarray, ra: np.ndarray, cb: np.ndarray, *, density: bool):
    """Cell probabilities (P, C, C) and their derivatives wrt rho for cut grids ra, cb.

    ``ra``, ``cb``: (P, C+1) cut points including -inf and +inf. When every inner cut point
    is finite (no unobserved category) only the inner grid needs bivariate probabilities;
    the borders are 0 and the univariate margins.
    """
    from scipy.special import ndtr

    from psychoval.stats.core._bvn import bvn_cdf, bvn_pdf, bvnu_finite

    ia = ra[:, 1:-1]
    ib = cb[:, 1:-1]
    npairs, c1 = ia.shape
    R = rho[:, None, None]
    if np.isfinite(ia).all() and np.isfinite(ib).all():
        A = ia[:, :, None]
        B = ib[:, None, :]
        shape = (npairs, c1, ib.shape[1])
        a_b = np.broadcast_to(A, shape).ravel()
        b_b = np.broadcast_to(B, shape).ravel()
        r_b = np.broadcast_to(R, shape).ravel()
        inner = bvnu_finite(-a_b, -b_b, r_b).reshape(shape)
        F = np.zeros((npairs, c1 + 2, ib.shape[1] + 2))
        F[:, 1:-1, 1:-1] = inner
        F[:, -1, 1:-1] = ndtr(ib)
        F[:, 1:-1, -1] = ndtr(ia)
        F[:, -1, -1] = 1.0
        pi = F[:, 1:, 1:] - F[:, :-1, 1:] - F[:, 1:, :-1] + F[:, :-1, :-1]
        if not density:
            return pi, None, None
        om = 1.0 - R * R
        q = (A * A - 2.0 * R * A * B + B * B) / om
        dens = np.exp(-q / 2.0) / (2.0 * np.pi * np.sqrt(om))
        gin = dens * (R / om + A * B / om - R * q / om)
        f = np.zeros_like(F)
        f[:, 1:-1, 1:-1] = dens
        g = np.zeros_like(F)
        g[:, 1:-1, 1:-1] = gin
    else:
        A = ra[:, :, None]
        B = cb[:, None, :]
        F = bvn_cdf(A, B, R)
        pi = F[:, 1:, 1:] - F[:, :-1, 1:] - F[:, 1:, :-1] + F[:, :-1, :-1]
        if not density:
            return pi, None, None
        f = bvn_pdf(A, B, R)
        # derivative of the density wrt rho: f * (rho/(1-r2) + ab/(1-r2) - rho Q/(1-r2)^2)
        fin = np.isfinite(A) & np.isfinite(B)
        a0 = np.where(fin, A, 0.0)
        b0 = np.where(fin, B, 0.0)
        om = 1.0 - R * R
        q = (a0 * a0 - 2.0 * R * a0 * b0 + b0 * b0) / om
        g = f * (R / om + a0 * b0 / om - R * q / om)
    d1 = f[:, 1:, 1:] - f[:, :-1, 1:] - f[:, 1:, :-1] + f[:, :-1, :-1]
    d2 = g[:, 1:, 1:] - g[:, :-1, 1:] - g[:, 1:, :-1] + g[:, :-1, :-1]
    return pi, d1, d2


def _loglik_parts(w: np.ndarray, pi: np.ndarray):
    use = w > 0
    safe = np.where(use, pi, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.where(use, w * np.log(np.where(safe > 0, safe, np.nan)), 0.0)
    ll = np.where(np.isnan(ll), -np.inf, ll)
    return ll.sum(axis=(1, 2)), use, safe


def _fit_rho(w: np.ndarray, ra: np.ndarray, cb: np.ndarray, start: np.ndarray,
             *, tol: float = 1e-10, max_iter: int = 100) -> tuple[np.ndarray, bool, int]:
    """ML rho for each pair given its cell weights w (P, C, C) and cut grids.

    Newton steps on the log-likelihood (Fisher scoring where the observed curvature is not
    negative), halved when they do not improve it; pairs that converged are frozen.
    """
    rho = np.clip(start.astype(float).copy(), -0.95, 0.95)
    npairs = rho.size
    active = np.arange(npairs)
    best_ll = np.full(npairs, -np.inf)
    step = np.zeros(npairs)
    done = np.zeros(npairs, dtype=bool)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        if active.size == 0:
            break
        wa = w[active]
        pi, d1, d2 = _cell_probs(rho[active], ra[active], cb[active], density=True)
        ll, use, safe = _loglik_parts(wa, pi)
        worse = ll < best_ll[active] - 1e-12 * np.abs(best_ll[active])
        # a worse point: go back half way towards the last accepted one
        if worse.any():
            idx = active[worse]
            step[idx] /= 2.0
            rho[idx] -= step[idx]
        ok = ~worse
        idx = active[ok]
        if idx.size:
            best_ll[idx] = ll[ok]
            wo, po, d1o, d2o, uo = wa[ok], safe[ok], d1[ok], d2[ok], use[ok]
            ratio = np.where(uo, d1o / po, 0.0)
            score = (wo * ratio).sum(axis=(1, 2))
            hess = (wo * (np.where(uo, d2o / po, 0.0) - ratio * ratio)).sum(axis=(1, 2))
            ntot = wo.sum(axis=(1, 2))
            pos = po > 0
            fisher = ntot * np.where(pos, d1o * d1o / np.where(pos, po, 1.0), 0.0).sum(axis=(1, 2))
            curv = np.where(hess < 0, -hess, fisher)
            curv = np.where(curv > 0, curv, 1.0)
            s = score / curv
            s = np.clip(s, -0.5, 0.5)
            new = np.clip(rho[idx] + s, -_RHO_MAX, _RHO_MAX)
            s = new - rho[idx]
            step[idx] = s
            rho[idx] = new
            # Newton converges quadratically: after a Newton step below 1e-7 the remaining
            # error is ~1e-14, so that step is the last one needed
            conv = (np.abs(s) < tol) | ((np.abs(s) < 1e-7) & (hess < 0))
            done[idx[conv]] = True
        active = np.flatnonzero(~done)
    return rho, bool(done.all()), it


def _neg_loglik(rho: np.ndarray, w: np.ndarray, ra: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """psych's objective -sum(w * log(P)), cells with P <= 0 left out (its na.rm = TRUE)."""
    pi, _d1, _d2 = _cell_probs(rho, ra, cb, density=False)
    pos = pi > 0
    return -(np.where(pos, w * np.log(np.where(pos, pi, 1.0)), 0.0)).sum(axis=(1, 2))


def _brent_rho(w: np.ndarray, ra: np.ndarray, cb: np.ndarray,
               tol: float = np.finfo(float).eps ** 0.25) -> tuple[np.ndarray, int]:
    """R's ``optimize(f, c(-1, 1))`` (Brent's localmin, R's Brent_fmin) run for all pairs at
    once, as psych calls it: reproduces psych's estimates including where its optimizer stops
    (up to ~1e-4 from the exact maximum)."""
    c = (3.0 - np.sqrt(5.0)) * 0.5
    eps = np.sqrt(np.finfo(float).eps)
    npairs = w.shape[0]
    a = np.full(npairs, -1.0)
    b = np.full(npairs, 1.0)
    x = a + c * (b - a)
    v = x.copy()
    wv = x.copy()
    d = np.zeros(npairs)
    e = np.zeros(npairs)
    fx = _neg_loglik(x, w, ra, cb)
    fv = fx.copy()
    fw = fx.copy()
    tol3 = tol / 3.0
    active = np.ones(npairs, dtype=bool)
    it = 0
    while True:
        xm = (a + b) * 0.5
        tol1 = eps * np.abs(x) + tol3
        t2 = tol1 * 2.0
        active &= ~(np.abs(x - xm) <= t2 - (b - a) * 0.5)
        if not active.any():
            break
        it += 1
        idx = np.flatnonzero(active)
        A, B, X, V, W = a[idx], b[idx], x[idx], v[idx], wv[idx]
        D, E = d[idx], e[idx]
        FX, FV, FW = fx[idx], fv[idx], fw[idx]
        XM, TOL1, T2 = xm[idx], tol1[idx], t2[idx]
        p = np.zeros(idx.size)
        q = np.zeros(idx.size)
        r = np.zeros(idx.size)
        par = np.abs(E) > TOL1
        r_ = (X - W) * (FX - FV)
        q_ = (X - V) * (FX - FW)
        p_ = (X - V) * q_ - (X - W) * r_
        q_ = (q_ - r_) * 2.0
        p_ = np.where(q_ > 0.0, -p_, p_)
        q_ = np.abs(q_)
        p = np.where(par, p_, p)
        q = np.where(par, q_, q)
        r = np.where(par, E, r)
        E = np.where(par, D, E)
        golden = (np.abs(p) >= np.abs(q * 0.5 * r)) | (p <= q * (A - X)) | (p >= q * (B - X))
        with np.errstate(divide="ignore", invalid="ignore"):
            dpar = p / q
        upar = X + dpar
        near = (upar - A < T2) | (B - upar < T2)
        dpar = np.where(near, np.where(X >= XM, -TOL1, TOL1), dpar)
        egold = np.where(X < XM, B - X, A - X)
        E = np.where(golden, egold, E)
        D = np.where(golden, c * egold, dpar)
        U = np.where(np.abs(D) >= TOL1, X + D, np.where(D > 0.0, X + TOL1, X - TOL1))
        FU = _neg_loglik(U, w[idx], ra[idx], cb[idx])
        better = FU <= FX
        # fu <= fx
        nA = np.where(better, np.where(U < X, A, X), np.where(U < X, U, A))
        nB = np.where(better, np.where(U < X, X, B), np.where(U < X, B, U))
        c1 = ~better & ((FU <= FW) | (W == X))
        c2 = ~better & ~c1 & ((FU <= FV) | (V == X) | (V == W))
        nV = np.where(better, W, np.where(c1, W, np.where(c2, U, V)))
        nFV = np.where(better, FW, np.where(c1, FW, np.where(c2, FU, FV)))
        nW = np.where(better, X, np.where(c1, U, W))
        nFW = np.where(better, FX, np.where(c1, FU, FW))
        nX = np.where(better, U, X)
        nFX = np.where(better, FU, FX)
        a[idx], b[idx], v[idx], wv[idx], x[idx] = nA, nB, nV, nW, nX
        fv[idx], fw[idx], fx[idx] = nFV, nFW, nFX
        d[idx], e[idx] = D, E
    return x, it


def smooth_correlation(r: np.ndarray, eig_tol: float = 1e-12,
                       eig: tuple[np.ndarray, np.ndarray] | None = None
                       ) -> tuple[np.ndarray, bool]:
    """psych::cor.smooth: if the smallest eigenvalue is below machine epsilon, raise the small
    eigenvalues to 100 * eig_tol, rescale them to sum to k, and rescale to unit diagonal.
    ``eig``: r's eigenpairs (``np.linalg.eigh(r)``) when already computed."""
    vals, vecs = np.linalg.eigh(r) if eig is None else eig
    if vals.min() >= np.finfo(float).eps:
        return r, False
    vals = np.where(vals < eig_tol, 100 * eig_tol, vals)
    vals = vals * r.shape[0] / vals.sum()
    s = (vecs * vals) @ vecs.T
    d = np.sqrt(np.diag(s))
    s = s / np.outer(d, d)
    np.fill_diagonal(s, 1.0)
    return s, True


@dataclasses.dataclass(frozen=True)
class _Poly:
    rho: np.ndarray
    thresholds: np.ndarray  # (k, C-1) with NaN padding (lavaan) or +-inf (psych)
    npair: np.ndarray
    n_obs: int
    global_thresholds: bool
    corrected: int
    smoothed: bool
    converged: bool
    iterations: int


def polychoric_matrix(values: np.ndarray, items: Sequence[str], *, method: str, kind: str,
                       correct: float = 0.5, smooth: bool = True,
                       category_counts: tuple[float, np.ndarray] | None = None,
                       weights: np.ndarray | None = None) -> _Poly:
    """Core used by polychoric/tetrachoric and efa(cor=...). ``values``: (n, k), NaN missing;
    ``weights``: (n,) row frequencies (each row stands for that many respondents), so that
    the rows of a :class:`ResponsePatterns` give the tables of the rows they count."""
    n, k = values.shape
    obs = ~np.isnan(values)
    wf = None if weights is None else np.asarray(weights, dtype=float)
    if kind == "tetrachoric":
        vmin = np.nanmin(values, axis=0)
        shifted = values - vmin
        if np.nanmax(shifted) > 1:
            j = int(np.nanargmax(np.nanmax(shifted, axis=0)))
            raise DataError(
                f"item {items[j]!r} has more than two categories "
                f"({np.unique(values[obs[:, j], j]).size}); tetrachoric correlations need "
                "dichotomous items: use polychoric()"
            )
        codes_f = shifted
        ncat = 2
    elif method == "psych":
        gmin = np.nanmin(values)
        codes_f = values - gmin
        ncat = int(np.nanmax(codes_f)) + 1
        if ncat > MAX_CATEGORIES:
            raise DataError(
                f"the items span {ncat} category codes ({gmin:g} to {np.nanmax(values):g}) "
                f"under psych's global coding (more than {MAX_CATEGORIES}); recode them or "
                "use method='lavaan' or Pearson correlations"
            )
    else:
        # lavaan: each item's observed values are its categories
        gmin, counts = category_counts or _category_counts(values, obs)
        present = counts > 0
        lut = np.cumsum(present, axis=1) - 1  # code of each observed value, per item
        ncat = int(present.sum(axis=1).max())
        v = np.where(obs, values - gmin, 0).astype(np.int64)
        codes_f = np.where(obs, lut[np.arange(k)[None, :], v], np.nan)
    codes = np.where(obs, codes_f, -1).astype(np.int64)
    tabs = _one_hot_tables(codes, ncat, wf)  # (k, k, C, C)
    of = obs.astype(float)
    npair = of.T @ (of if wf is None else of * wf[:, None])
    check_overlap(npair, items)
    marg = np.einsum("iicc->ic", tabs)  # (k, C) each item's own counts
    tau = _cum_thresholds(marg)  # (k, C-1)
    iu, ju = np.triu_indices(k, 1)
    w = tabs[iu, ju].copy()  # (P, C, C)
    ext = np.concatenate([np.full((k, 1), -np.inf), tau, np.full((k, 1), np.inf)], axis=1)
    ra = ext[iu]
    cb = ext[ju]
    corrected = 0
    global_thr = True
    if kind == "tetrachoric" and method == "psych" and correct > 0:
        empty = (w == 0) & (w.sum(axis=(1, 2)) > 1)[:, None, None]
        corrected = int(empty.sum())
        w = np.where(empty, correct, w)
    elif kind == "polychoric" and method == "psych":
        imax = np.nanmax(codes_f, axis=0)
        if imax.min() != imax.max():
            global_thr = False
            w, ra, cb, corrected = _local_mode(w, correct)
    fixed = None
    if method == "lavaan":
        w, fixed, corrected = _lavaan_zero_cells(w, (marg > 0).sum(axis=1), iu, ju, correct)
    if method == "psych":
        # psych's objective on proportions (polychoric) or counts (tetrachoric), minimised
        # by R's optimize() exactly as psych does
        wp = w if (kind == "tetrachoric" or not global_thr) else w / w.sum(axis=(1, 2))[:, None, None]
        rho_p, iters = _brent_rho(wp, ra, cb)
        converged = True
    else:
        est = np.isnan(fixed)  # pairs lavaan does not set to -1, 0 or 1 directly
        rho_p = fixed.copy()
        converged, iters = True, 0
        if est.any():
            start = _start_values(w[est], ncat, ra[est], cb[est])
            r_est, converged, iters = _fit_rho(w[est], ra[est], cb[est], start)
            # lavaan's nlminb() keeps rho within [-0.999, 0.999] (the likelihood is
            # unimodal in rho, so the bounded maximum is the clipped one)
            rho_p[est] = np.clip(r_est, -_LAVAAN_RHO_MAX, _LAVAAN_RHO_MAX)
    rho = np.eye(k)
    rho[iu, ju] = rho_p
    rho[ju, iu] = rho_p
    smoothed = False
    if method == "psych" and smooth:
        rho, smoothed = smooth_correlation(rho)
    if method == "lavaan":
        # report only the thresholds of observed categories
        ncats = (marg > 0).sum(axis=1)
        mask = np.arange(ncat - 1)[None, :] >= (ncats - 1)[:, None]
        tau = np.where(mask, np.nan, tau)
        answered = obs.any(axis=1)
        n_obs = int(answered.sum() if wf is None else wf[answered].sum())
    else:
        n_obs = n if wf is None else int(wf.sum())
    return _Poly(rho, tau, npair.astype(np.int64), n_obs, global_thr, corrected, smoothed,
                 converged, iters)


def _lavaan_zero_cells(w: np.ndarray, ncats: np.ndarray, iu: np.ndarray, ju: np.ndarray,
                       zero_add: float) -> tuple[np.ndarray, np.ndarray, int]:
    """lavaan 0.6.14's treatment of empty cells (``lav_bvord_cor_twostep_fit`` with its
    defaults ``zero.add = c(0.5, 0)``, ``zero.keep.margins = TRUE``), on the tables of pairs
    of two dichotomous items only (larger tables are left as they are: ``zero.add[2] = 0``).

    - one empty cell: ``zero_add`` is added to it and to the other cell of its diagonal and
      subtracted from the two cells of the other diagonal (the margins, hence the
      thresholds, do not change);
    - two empty cells: rho is +1 if the (low, low) cell is not empty, else -1 (no estimation);
    - then (every 2 x 2 table) ``n11 n22 == n12 n21`` gives rho = 0 exactly.

    Returns (weights, fixed rho per pair (NaN: estimate it), number of corrected tables).
    """
    fixed = np.full(w.shape[0], np.nan)
    two = (ncats[iu] == 2) & (ncats[ju] == 2)
    if not two.any():
        return w, fixed, 0
    w = w.copy()
    sub = w[two][:, :2, :2]  # a dichotomous item's codes are 0 and 1
    nzero = (sub == 0).sum(axis=(1, 2))
    one = nzero == 1
    if zero_add > 0 and one.any():
        diag_empty = (sub[:, 0, 0] == 0) | (sub[:, 1, 1] == 0)
        sign = np.where(diag_empty, 1.0, -1.0)[:, None, None] * np.array([[1.0, -1.0],
                                                                         [-1.0, 1.0]])
        sub = np.where(one[:, None, None], sub + zero_add * sign, sub)
    fix = np.full(sub.shape[0], np.nan)
    fix = np.where(nzero == 2, np.where(sub[:, 0, 0] > 0, 1.0, -1.0), fix)
    indep = (nzero < 2) & (sub[:, 0, 0] * sub[:, 1, 1] == sub[:, 0, 1] * sub[:, 1, 0])
    fix = np.where(indep, 0.0, fix)
    w[np.flatnonzero(two)[:, None, None], np.arange(2)[None, :, None],
      np.arange(2)[None, None, :]] = sub
    fixed[two] = fix
    corrected = int(one.sum()) if zero_add > 0 else 0
    return w, fixed, corrected


def _local_mode(w: np.ndarray, correct: float):
    """psych's per-pair ("global = FALSE") tables: proportions, empty rows/columns dropped,
    ``correct / n`` added to the empty cells left, thresholds from the corrected margins.
    Returns (weights, row cuts, column cuts, number of corrected cells)."""
    tot = w.sum(axis=(1, 2))
    w = w / tot[:, None, None]
    rows_nz = w.sum(axis=2) > 0
    cols_nz = w.sum(axis=1) > 0
    inside = rows_nz[:, :, None] & cols_nz[:, None, :]
    corrected = 0
    if correct > 0:
        empty = inside & (w == 0)
        corrected = int(empty.sum())
        w = np.where(empty, (correct / tot)[:, None, None], w)
    return (w, _local_cuts(w.sum(axis=2), rows_nz), _local_cuts(w.sum(axis=1), cols_nz),
            corrected)


def polydi(p: np.ndarray, d: np.ndarray, correct: float = 0.5) -> np.ndarray:
    """psych::polydi: polychoric correlations between polytomous items ``p`` (n, np) and
    dichotomous items ``d`` (n, nd), as psych computes them (each item's marginal
    thresholds on the polytomous items' global range, R's optimize()); (np, nd)."""
    from scipy.special import ndtri

    n, n_p = p.shape
    n_d = d.shape[1]
    nvalues = int(np.nanmax(p) - np.nanmin(p)) + 1
    pc = p - np.nanmin(p, axis=0)  # psych shifts each polytomous item by its own minimum
    dc = d - np.nanmin(d, axis=0)
    pmax = np.nanmax(pc, axis=0)
    global_thr = pmax.min() == pmax.max()
    op = np.zeros((n, n_p, nvalues))
    od = np.zeros((n, n_d, 2))
    obs_p = ~np.isnan(pc)
    obs_d = ~np.isnan(dc)
    r, c = np.nonzero(obs_p)
    op[r, c, pc[r, c].astype(np.int64)] = 1.0
    r, c = np.nonzero(obs_d)
    od[r, c, dc[r, c].astype(np.int64)] = 1.0
    tab = op.reshape(n, -1).T @ od.reshape(n, -1)  # (np * C, nd * 2)
    w = tab.reshape(n_p, nvalues, n_d, 2).transpose(0, 2, 1, 3).reshape(n_p * n_d, nvalues, 2)
    pfreq = op.sum(axis=0)  # (np, C)
    with np.errstate(divide="ignore"):
        taup = ndtri(np.clip(np.cumsum(pfreq, axis=1)[:, :-1] / pfreq.sum(axis=1)[:, None],
                             0.0, 1.0))
        dfreq = od.sum(axis=0)
        taud = ndtri(dfreq[:, 0] / dfreq.sum(axis=1))
    ii, jj = np.divmod(np.arange(n_p * n_d), n_d)
    if global_thr:
        ra = np.concatenate([np.full((n_p, 1), -np.inf), taup, np.full((n_p, 1), np.inf)],
                            axis=1)[ii]
        cb = np.column_stack([np.full(n_d, -np.inf), taud, np.full(n_d, np.inf)])[jj]
        w = w / w.sum(axis=(1, 2))[:, None, None]
    else:
        w, ra, cb, _c = _local_mode(w, correct)
    rho, _it = _brent_rho(w, ra, cb)
    return rho.reshape(n_p, n_d)


def _local_cuts(marg: np.ndarray, nonzero: np.ndarray) -> np.ndarray:
    """psych's per-pair thresholds from a corrected table's margins (P, C) -> (P, C+1)."""
    from scipy.special import ndtri

    cum = np.cumsum(marg, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cuts = ndtri(np.clip(cum, 0.0, 1.0))
    c = marg.shape[1]
    last = c - 1 - np.argmax(nonzero[:, ::-1], axis=1)  # last non-empty category
    pos = np.arange(c)[None, :]
    cuts = np.where(pos >= last[:, None], np.inf, cuts)
    first = np.argmax(nonzero, axis=1)
    cuts = np.where(pos < first[:, None], -np.inf, cuts)
    p = marg.shape[0]
    return np.concatenate([np.full((p, 1), -np.inf), cuts[:, :-1], np.full((p, 1), np.inf)],
                          axis=1)


def _start_values(w: np.ndarray, ncat: int, ra: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """Newton start: the Pearson correlation of the category codes, disattenuated by each
    item's correlation with its latent variable, corr(X, Z) = sum(phi(tau)) / sd(X) for unit
    steps between codes (the first-order relation r_XY = rho c_X c_Y)."""
    v = np.arange(ncat, dtype=float)
    tot = w.sum(axis=(1, 2))
    pr = w.sum(axis=2) / tot[:, None]
    pc = w.sum(axis=1) / tot[:, None]
    mr = pr @ v
    mc = pc @ v
    vr = pr @ (v * v) - mr * mr
    vc = pc @ (v * v) - mc * mc
    exy = np.einsum("pab,a,b->p", w, v, v) / tot
    inner_a = ra[:, 1:-1]
    inner_b = cb[:, 1:-1]
    fa = np.where(np.isfinite(inner_a), inner_a, 0.0)
    fb = np.where(np.isfinite(inner_b), inner_b, 0.0)
    phi_a = np.where(np.isfinite(inner_a), np.exp(-0.5 * fa * fa), 0.0)
    phi_b = np.where(np.isfinite(inner_b), np.exp(-0.5 * fb * fb), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (exy - mr * mc) / np.sqrt(vr * vc)
        ca = phi_a.sum(axis=1) / np.sqrt(2 * np.pi) / np.sqrt(vr)
        cb_ = phi_b.sum(axis=1) / np.sqrt(2 * np.pi) / np.sqrt(vc)
        rho0 = r / (ca * cb_)
    return np.clip(np.nan_to_num(rho0), -0.95, 0.95)


# ----------------------------------------------------------------------------------------
# public functions


def _run(data, kind: str, *, method: str, items, missing: str, correct: float,
         smooth: bool) -> PolychoricResult:
    from psychoval.stats.core._tables import ResponsePatterns, weighted_items

    check_choice("method", method, ("psych", "lavaan"))
    weights = None
    if isinstance(data, ResponsePatterns):  # one row per pattern, its count as weight
        m, weights = weighted_items(data, items=items, missing=missing)
    else:
        m = as_item_matrix(data, items=items, min_items=2, what="data")
        m, _info = apply_missing(m, missing)
    counts = category_codes(m.values, m.items, m.ids, kind=kind)
    core = polychoric_matrix(m.values, m.items, method=method, kind=kind, correct=correct,
                              smooth=smooth, category_counts=counts, weights=weights)
    if not core.converged:

        warn(f"{kind} estimation did not converge for every pair in "
                      f"{core.iterations} iterations", ConvergenceWarning, stacklevel=3)
    if core.smoothed:

        warn(f"the {kind} matrix was not positive definite and was smoothed "
                      "(psych::cor.smooth)", DegenerateDataWarning, stacklevel=3)
    names = list(m.items)
    ncut = core.thresholds.shape[1]
    return PolychoricResult(
        rho=pd.DataFrame(core.rho, index=names, columns=names),
        thresholds=pd.DataFrame(core.thresholds, index=names,
                                columns=[f"t{c + 1}" for c in range(ncut)]),
        n_pairwise=pd.DataFrame(core.npair, index=names, columns=names),
        n_obs=core.n_obs, method=method, kind=kind, global_thresholds=core.global_thresholds,
        corrected_cells=core.corrected, smoothed=core.smoothed, converged=core.converged,
        iterations=core.iterations,
    )


def polychoric(data: Any, *, method: str = "psych", items: Sequence[str] | None = None,
               missing: str = "pairwise", correct: float = 0.5,
               smooth: bool = True) -> PolychoricResult:
    """Polychoric correlations of ordinal items (two-step maximum likelihood).

    Each pair of items is taken as the discretisation of a standard bivariate normal at fixed
    thresholds; the thresholds come from each item's marginal proportions, then the
    correlation of every pair is the maximum-likelihood estimate given its contingency table.

    Parameters
    ----------
    data : DataFrame, ResponseTable, 2-d array or ResponsePatterns
        Respondents x items, integer category codes (at most 10 categories), NaN = missing;
        or the merged :class:`~psychoval.ResponsePatterns` of chunks of rows (the same
        result as the concatenated rows: every table is a sum of the patterns' counts).
    method : {"psych", "lavaan"}
        Conventions of ``psych::polychoric`` (global category range, per-pair thresholds and
        a 0.5 correction when items differ in their categories, smoothing of a non-positive
        definite result) or of ``lavaan::lavCor`` (observed categories, lavaan's zero-cell
        correction of 2 x 2 tables only, no smoothing). See Notes.
    items : sequence of str, optional
        Columns to use (default all).
    missing : {"pairwise", "listwise", "raise"}
        Pairwise (default): thresholds from every answer to an item, each pair's table from
        the respondents answering both.
    correct : float
        psych's continuity correction for empty cells (per-pair mode only), default 0.5;
        under ``method="lavaan"`` lavaan's ``zero.add[1]`` for a 2 x 2 table with one empty
        cell (0: no correction).
    smooth : bool
        psych only: smooth a non-positive-definite result (``psych::cor.smooth``).

    Returns
    -------
    PolychoricResult
        ``rho``, ``thresholds``, ``n_pairwise``, ``n_obs`` and convergence fields.

    Raises
    ------
    DataError
        Non-integer codes, more than 10 categories (use Pearson), a constant item, or a pair
        of items answered together by fewer than 2 respondents (all naming the items).

    Notes
    -----
    With thresholds :math:`a_i` (rows) and :math:`b_j` (columns) and counts :math:`n_{ij}`,
    rho maximises :math:`\\ell(\\rho) = \\sum n_{ij}\\log\\pi_{ij}(\\rho)` with
    :math:`\\pi_{ij} = \\Phi_2(a_i, b_j) - \\Phi_2(a_{i-1}, b_j) - \\Phi_2(a_i, b_{j-1})
    + \\Phi_2(a_{i-1}, b_{j-1})`, by Newton steps for all pairs at once until the step is
    below 1e-10. psych stops its ``optimize()`` near 1e-4, so agreement with psych is at that
    level; with lavaan (exact to ~4e-8) at 1e-6 or better.

    References
    ----------
    Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation
    coefficient. Psychometrika 44, 443-460. https://doi.org/10.1007/BF02296207

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> rng = np.random.default_rng(1)
    >>> z = rng.multivariate_normal([0, 0], [[1, .5], [.5, 1]], size=2000)
    >>> x = np.digitize(z, [-1, 0, 1])          # four ordered categories
    >>> res = pv.polychoric(x, method="lavaan")
    >>> round(float(res.rho.iloc[0, 1]), 6)  # lavaan::lavCor(x, ordered = names(x)): 0.476567
    0.476567
    """
    return _run(data, "polychoric", method=method, items=items, missing=missing,
                correct=correct, smooth=smooth)


def tetrachoric(data: Any, *, method: str = "psych", items: Sequence[str] | None = None,
                missing: str = "pairwise", correct: float = 0.5,
                smooth: bool = True) -> PolychoricResult:
    """Tetrachoric correlations of dichotomous items (two-step maximum likelihood).

    The special case of :func:`polychoric` with two categories. Under ``method="psych"``
    (``psych::tetrachoric``) ``correct`` (0.5) is added to every empty cell of a 2x2 table
    and a non-positive-definite result is smoothed; under ``method="lavaan"`` lavaan's
    correction is applied (one empty cell: ``correct`` moved between the diagonals, margins
    kept; two empty cells: rho = +-1).

    Parameters
    ----------
    data, method, items, missing, correct, smooth
        As :func:`polychoric`.

    Returns
    -------
    PolychoricResult
        With one threshold column ``t1`` per item (:math:`\\Phi^{-1}` of the proportion of
        the lower category).

    Raises
    ------
    DataError
        An item with more than two categories, a constant item, non-integer codes, or a pair
        without overlapping respondents.

    Notes
    -----
    Same estimator as :func:`polychoric` on 2 x 2 tables.

    References
    ----------
    Pearson, K. (1900). Mathematical contributions to the theory of evolution VII.
    Philosophical Transactions of the Royal Society A 195, 1-47.
    https://doi.org/10.1098/rsta.1900.0022

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> rng = np.random.default_rng(2)
    >>> z = rng.multivariate_normal([0, 0], [[1, .6], [.6, 1]], size=3000)
    >>> res = pv.tetrachoric((z > 0).astype(int))
    >>> round(float(res.rho.iloc[0, 1]), 6)  # psych::tetrachoric(x)$rho[1, 2]: 0.609560
    0.60956
    """
    return _run(data, "tetrachoric", method=method, items=items, missing=missing,
                correct=correct, smooth=smooth)
