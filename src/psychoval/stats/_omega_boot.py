"""Bootstrap interval of one-factor omega (composite reliability, semTools ``compRelSEM``
with ``obs.var = TRUE``), vectorized over the bootstrap replicates (issue 10).

Each replicate's covariance matrix comes from multinomial resampling weights in one batched
product; the one-factor ML solution of every replicate is found together by the fixed-point
iteration of the ML stationary equations (Joreskog, 1967), started from the full-sample
solution, so the cost is a few batched k x k eigen-decompositions instead of one optimizer run
per replicate.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["OmegaBootstrap", "omega_bootstrap", "one_factor_ml"]


@dataclasses.dataclass(frozen=True)
class OmegaBootstrap:
    """Percentile bootstrap interval of one-factor omega.

    ``omega`` is the estimate on the complete cases the bootstrap resamples; ``values`` holds
    the replicate estimates (NaN where a replicate did not converge).
    """

    omega: float
    lower: float
    upper: float
    level: float
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
                    level: float = 0.95) -> OmegaBootstrap:
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
    level : float
        Interval level.

    Notes
    -----
    omega = (sum lambda)^2 / 1'S1 with S the ML (divisor n) covariance matrix of the replicate
    and lambda its one-factor ML loadings: semTools ``compRelSEM(obs.var = TRUE)`` of a
    one-factor lavaan model. The interval is the percentile interval of the replicates.
    """
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x).any(axis=1)]
    n, k = x.shape
    rng = np.random.default_rng(seed)
    xc = x - x.mean(axis=0)
    s0 = xc.T @ xc / n
    lam0, psi0, _ = one_factor_ml(s0)
    est = float(_omega_from(lam0, s0))
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float) / n
    mean = w @ xc
    s = np.einsum("bn,ni,nj->bij", w, xc, xc, optimize=True) - mean[:, :, None] * mean[:, None, :]
    lam, _psi, ok = one_factor_ml(s, start=(lam0, psi0))
    values = np.where(ok, _omega_from(lam, s), np.nan)
    alpha = (1 - level) / 2
    good = values[~np.isnan(values)]
    lo, hi = (np.quantile(good, [alpha, 1 - alpha]) if len(good) else (np.nan, np.nan))
    return OmegaBootstrap(omega=est, lower=float(lo), upper=float(hi), level=level,
                          n_boot=n_boot, n_failed=int((~ok).sum()), n_obs=n, seed=seed,
                          values=values)
