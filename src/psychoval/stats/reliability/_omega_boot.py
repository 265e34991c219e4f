"""Bootstrap interval of one-factor omega (composite reliability, semTools ``compRelSEM``
with ``obs.var = TRUE``), vectorized over the bootstrap replicates.

Each replicate's covariance matrix comes from its multinomial resampling counts: the counts of
a block of replicates times the n x (k + k(k+1)/2) matrix of centred scores and their pairwise
products gives every replicate's first and second moments in one matrix product, so memory is
one block of counts, not a copy of the data per replicate. The one-factor ML solution of every
replicate is found together by the fixed-point iteration of the ML stationary equations
(Joreskog, 1967), started from the full-sample solution, so the cost is a few batched k x k
eigen-decompositions instead of one optimizer run per replicate.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from psychoval.exceptions import renamed_keyword

__all__ = ["OmegaBootstrap", "omega_bootstrap", "one_factor_ml"]

# counts of this many (replicate, row) cells are drawn at a time (16 MB as int64)
_BLOCK_CELLS = 2**21


@dataclasses.dataclass(frozen=True)
class OmegaBootstrap:
    """Percentile bootstrap interval of one-factor omega.

    ``omega`` is the estimate on the complete cases the bootstrap resamples; ``values`` holds
    the replicate estimates (NaN where a replicate did not converge).
    """

    omega: float
    lower: float
    upper: float
    confidence_level: float
    n_boot: int
    n_failed: int
    n_obs: int
    seed: Any
    values: np.ndarray = dataclasses.field(repr=False)


def _omega_from(lam: np.ndarray, s: np.ndarray) -> np.ndarray:
    return lam.sum(axis=-1) ** 2 / s.sum(axis=(-1, -2))


def one_factor_ml(s: np.ndarray, *, max_iter: int = 2000, tol: float = 1e-11,
                  start: tuple[np.ndarray, np.ndarray] | None = None):
    """One-factor ML loadings and uniquenesses of a batch of covariance matrices.

    Iterates ``lambda = Psi^(1/2) u sqrt(theta - 1)`` (theta, u the largest eigenpair of
    ``Psi^(-1/2) S Psi^(-1/2)``) and ``Psi = diag(S - lambda lambda')``: the ML stationary
    equations. Returns ``(lambda, psi, converged)`` with a leading batch axis.
    """
    s = np.asarray(s, dtype=float)
    single = s.ndim == 2
    if single:
        s = s[None]
    d = np.diagonal(s, axis1=1, axis2=2).copy()
    if start is None:
        psi = d * 0.5
    else:
        psi = np.broadcast_to(start[1], d.shape).copy()
    floor = d * 1e-8
    converged = np.zeros(len(s), dtype=bool)
    lam = np.zeros_like(d)
    for _ in range(max_iter):
        r = 1.0 / np.sqrt(psi)
        m = s * r[:, :, None] * r[:, None, :]
        w, v = np.linalg.eigh(m)
        theta = w[:, -1]
        u = v[:, :, -1]
        lam = np.sqrt(psi) * u * np.sqrt(np.maximum(theta - 1.0, 0.0))[:, None]
        new = np.maximum(d - lam**2, floor)
        step = np.max(np.abs(new - psi) / d, axis=1)
        psi = new
        converged = step < tol
        if converged.all():
            break
    sign = np.where(lam[:, :1] < 0, -1.0, 1.0)
    lam = lam * sign
    if single:
        return lam[0], psi[0], bool(converged[0])
    return lam, psi, converged


def omega_bootstrap(x: np.ndarray, *, n_boot: int = 200, seed: Any = None,
                    confidence_level: float = 0.95,
                    level: float | None = None) -> OmegaBootstrap:
    """Percentile bootstrap interval of one-factor omega on the complete rows of ``x``.

    Parameters
    ----------
    x : array (n, k)
        Item scores; rows with a missing value are left out (the bootstrap resamples complete
        cases).
    n_boot : int
        Replicates.
    seed : int, Generator or None
        numpy random seed.
    confidence_level : float
        Coverage of the percentile interval (default 0.95).
    level : float, optional
        Deprecated alias of ``confidence_level``.

    Notes
    -----
    omega = (sum lambda)^2 / 1'S1 with S the ML (divisor n) covariance matrix of the replicate
    and lambda its one-factor ML loadings: semTools ``compRelSEM(obs.var = TRUE)`` of a
    one-factor lavaan model. The interval is the percentile interval of the replicates.
    """
    confidence_level = renamed_keyword("omega_bootstrap", "level", level,
                                       "confidence_level", confidence_level, 0.95)
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x).any(axis=1)]
    n, k = x.shape
    rng = np.random.default_rng(seed)
    xc = x - x.mean(axis=0)
    s0 = xc.T @ xc / n
    lam0, psi0, _ = one_factor_ml(s0)
    est = float(_omega_from(lam0, s0))
    s = _resampled_covariances(xc, n_boot, rng)
    lam, _psi, ok = one_factor_ml(s, start=(lam0, psi0))
    values = np.where(ok, _omega_from(lam, s), np.nan)
    alpha = (1 - confidence_level) / 2
    good = values[~np.isnan(values)]
    lo, hi = (np.quantile(good, [alpha, 1 - alpha]) if len(good) else (np.nan, np.nan))
    return OmegaBootstrap(omega=est, lower=float(lo), upper=float(hi),
                          confidence_level=confidence_level,
                          n_boot=n_boot, n_failed=int((~ok).sum()), n_obs=n, seed=seed,
                          values=values)


def _distinct_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``x`` (lexicographic order) and how often each occurs."""
    n = len(x)
    xs = x[np.lexsort(x.T[::-1])]
    first = np.ones(n, dtype=bool)
    first[1:] = (xs[1:] != xs[:-1]).any(axis=1)
    starts = np.flatnonzero(first)
    return xs[starts], np.diff(np.append(starts, n))


def _resampled_covariances(xc: np.ndarray, n_boot: int, rng: np.random.Generator
                           ) -> np.ndarray:
    """ML covariance matrices (n_boot, k, k) of ``n_boot`` bootstrap resamples of the rows of
    the centred scores ``xc``.

    A resample of n rows drawn with replacement is, for its moments, the number of times
    each distinct response pattern is drawn: Multinomial(n, f_1/n, ..., f_d/n) over the d
    distinct rows with frequencies f. Item scores take few values, so d is far below n (a
    5-item Likert scale: at most 5^5 patterns) and drawing d counts per replicate instead of
    n is the whole cost saving; the counts times [pattern, pattern_i pattern_j] / n are the
    replicate's means and second moments.
    """
    n, k = xc.shape
    patterns, freq = _distinct_rows(xc)
    iu, ju = np.triu_indices(k)
    z = np.concatenate([patterns, patterns[:, iu] * patterns[:, ju]], axis=1)
    pvals = freq / n
    sums = np.empty((n_boot, z.shape[1]))
    block = max(1, _BLOCK_CELLS // max(len(patterns), 1))
    for start in range(0, n_boot, block):
        stop = min(start + block, n_boot)
        counts = rng.multinomial(n, pvals, size=stop - start)
        sums[start:stop] = counts.astype(np.float64) @ z
    sums /= n
    mean = sums[:, :k]
    s = np.empty((n_boot, k, k))
    s[:, iu, ju] = sums[:, k:]
    s[:, ju, iu] = sums[:, k:]
    return s - mean[:, :, None] * mean[:, None, :]
