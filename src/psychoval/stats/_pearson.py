"""Pearson correlations with R's ``cor(x, use = "pairwise.complete.obs")`` semantics.

For each pair, the means *and the standard deviations* are taken over the rows where both
items are observed. (Rescaling the pairwise covariance by each item's own variance, as
``Moments.cor`` does, differs from R when data are missing.) All pairs at once from masked
cross-products; no loop over pairs or respondents.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pairwise_cor"]


def pairwise_cor(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(correlation matrix, pairwise n) of the columns of ``x`` (NaN = missing)."""
    x = np.asarray(x, dtype="float64")
    obs = ~np.isnan(x)
    if obs.all():
        n = x.shape[0]
        xc = x - x.mean(axis=0)
        ss = np.sqrt((xc * xc).sum(axis=0))
        r = (xc.T @ xc) / np.outer(ss, ss)
        np.fill_diagonal(r, 1.0)
        return r, np.full((x.shape[1], x.shape[1]), n, dtype=np.int64)
    m = obs.astype("float64")
    colmean = np.where(obs, x, 0.0).sum(axis=0) / np.maximum(m.sum(axis=0), 1)
    xc = np.where(obs, x - colmean, 0.0)  # centred for accuracy
    npair = m.T @ m
    s = xc.T @ m            # s[i, j]: sum of item i over rows where both are observed
    q = (xc * xc).T @ m     # q[i, j]: sum of squares of item i over those rows
    cross = xc.T @ xc
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = cross - s * s.T / npair
        var_i = q - s * s / npair          # item i's SS about its pair mean
        r = cov / np.sqrt(var_i * var_i.T)
    np.fill_diagonal(r, 1.0)
    return r, npair.astype(np.int64)
