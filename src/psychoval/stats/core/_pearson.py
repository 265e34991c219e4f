"""Pearson correlations with R's ``cor(x, use = "pairwise.complete.obs")`` semantics.

For each pair, the means *and the standard deviations* are taken over the rows where both
items are observed. (Rescaling the pairwise covariance by each item's own variance, as
``Moments.cor`` does, differs from R when data are missing.) All pairs at once from masked
cross-products; no loop over pairs or respondents.

Location and scale: each column is centred (two passes: the mean, then the rounding left in
it) and divided by a power of two near its largest deviation before any product is formed,
so data near 1e300 do not overflow, data near 1e-150 do not underflow, and data far from 0
(1e15 + x) lose nothing to cancellation. Correlations do not depend on the scale, and powers
of two divide exactly, so ordinary data give the same bits as without the scaling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from psychoval.stats.core._moments import check_resolution, power_of_two

__all__ = ["pairwise_cor"]


def _column_scale(xc: np.ndarray) -> np.ndarray:
    """Per column, a power of two near its largest absolute (centred) value (1 if 0)."""
    big = np.max(np.abs(xc), axis=0) if xc.shape[0] else np.zeros(xc.shape[1])
    big = np.where(np.isfinite(big) & (big > 0), big, 1.0)
    return np.ldexp(1.0, np.frexp(big)[1] - 1)


def _prescale(x: np.ndarray, sums: np.ndarray) -> float | None:
    """A power of two to divide ``x`` by when its column sums ``sums`` overflowed (values
    near the largest float64); None otherwise (the usual case)."""
    if np.isfinite(sums).all():
        return None
    big = float(np.nanmax(np.abs(x)))
    return power_of_two(big) if np.isfinite(big) and big > 0 else None


def pairwise_cor(x: np.ndarray, *, items: Sequence[str] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(correlation matrix, pairwise n) of the columns of ``x`` (NaN = missing).

    With ``items`` (the column names), an item whose values are too far from 0 for float64 to
    keep the differences between respondents raises a ``DataError`` naming it
    (:func:`psychoval.stats.core._moments.check_resolution`).
    """
    x = np.asarray(x, dtype="float64")
    obs = ~np.isnan(x)
    if obs.all():
        n = x.shape[0]
        with np.errstate(over="ignore", invalid="ignore"):
            mean = x.mean(axis=0)
        pre = _prescale(x, mean)
        xs = x if pre is None else x / pre
        if pre is not None:
            mean = xs.mean(axis=0)
        xc = xs - mean
        resid = xc.mean(axis=0)  # the rounding left in the mean (corrected two-pass)
        xc -= resid
        scale = _column_scale(xc)
        xc /= scale
        ss = np.sqrt((xc * xc).sum(axis=0))
        if items is not None:
            check_resolution(xs, mean + resid, ss * scale / np.sqrt(max(n - 1, 1)), items,
                             scale=1.0 if pre is None else pre)
        r = (xc.T @ xc) / np.outer(ss, ss)
        np.fill_diagonal(r, 1.0)
        return r, np.full((x.shape[1], x.shape[1]), n, dtype=np.int64)
    m = obs.astype("float64")
    nobs = np.maximum(m.sum(axis=0), 1)
    with np.errstate(over="ignore", invalid="ignore"):
        colmean = np.where(obs, x, 0.0).sum(axis=0) / nobs
    pre = _prescale(x, colmean)
    xs = x if pre is None else x / pre
    if pre is not None:
        colmean = np.where(obs, xs, 0.0).sum(axis=0) / nobs
    xc = np.where(obs, xs - colmean, 0.0)  # centred for accuracy
    resid = xc.sum(axis=0) / nobs
    xc -= np.where(obs, resid, 0.0)
    scale = _column_scale(xc)
    xc /= scale
    if items is not None:
        sd = np.sqrt((xc * xc).sum(axis=0) / np.maximum(nobs - 1, 1)) * scale
        check_resolution(xs, colmean + resid, sd, items, scale=1.0 if pre is None else pre)
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
