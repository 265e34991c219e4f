"""Means, covariances and correlations with psych's missing-data conventions.

Pairwise-complete moments are computed for all pairs at once from masked cross-products
(no loop over pairs or respondents), matching R's ``cov(x, use = "pairwise")``: each pair's
means are taken over the rows where both items are observed.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Moments", "pairwise_moments", "cov_to_cor"]


@dataclasses.dataclass(frozen=True)
class Moments:
    """Covariance matrix (divisor n_ij - 1), pairwise n, and per-item means over observed rows."""

    cov: np.ndarray
    n_pairwise: np.ndarray
    means: np.ndarray
    complete: bool

    @property
    def cor(self) -> np.ndarray:
        """``cov2cor`` of the pairwise covariances (psych::alpha's convention: each item's
        own variance on the diagonal). With missing data this differs from R's
        ``cor(use = "pairwise")``, whose SDs come from each pair's complete rows; that one is
        ``psychoval.stats._pearson.pairwise_cor``."""
        return cov_to_cor(self.cov)


def cov_to_cor(cov: np.ndarray) -> np.ndarray:
    """Rescale a covariance matrix to a correlation matrix (unit diagonal exactly)."""
    sd = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / np.outer(sd, sd)
    np.fill_diagonal(r, 1.0)
    return r


def pairwise_moments(x: np.ndarray) -> Moments:
    """Pairwise-complete covariances of the columns of ``x`` (NaN = missing).

    With complete data this is the ordinary unbiased covariance matrix. With missing data,
    cov_ij uses the rows where both i and j are observed, with means over those rows (as
    ``stats::cov(use = "pairwise")``); the diagonal is each item's own variance.
    """
    x = np.asarray(x, dtype="float64")
    obs = ~np.isnan(x)
    if obs.all():
        n = x.shape[0]
        mean = x.mean(axis=0)
        xc = x - mean
        cov = (xc.T @ xc) / (n - 1)
        npair = np.full((x.shape[1], x.shape[1]), n, dtype="int64")
        return Moments(cov=cov, n_pairwise=npair, means=mean, complete=True)
    m = obs.astype("float64")
    x0 = np.where(obs, x, 0.0)
    # centre by column means first, for numerical accuracy of the cross-products
    colmean = x0.sum(axis=0) / np.maximum(m.sum(axis=0), 1)
    xc = np.where(obs, x - colmean, 0.0)
    npair = m.T @ m
    cross = xc.T @ xc
    s = xc.T @ m  # s[i, j]: sum of item i over rows where j is observed (and i observed)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (cross - s * s.T / npair) / (npair - 1)
    return Moments(cov=cov, n_pairwise=npair.astype("int64"), means=colmean, complete=False)
