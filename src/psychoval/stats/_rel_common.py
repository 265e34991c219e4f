"""Helpers shared by the reliability statistics (alpha, split-half, Guttman, scores, KR).

Private: input preparation with ``reverse=`` (psych's min + max - x rule), psych-compatible
squared multiple correlations, pairwise Pearson correlations and the Feldt interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from psychoval._input import ItemMatrix, MissingInfo, apply_missing, as_item_matrix
from psychoval.exceptions import DataError, SpecificationError

__all__ = [
    "prepare",
    "reverse_items",
    "psych_smc",
    "pinv",
    "pairwise_pearson",
    "check_variances",
    "feldt_interval",
]


def _as_list(reverse: Any) -> list[str]:
    if reverse is None:
        return []
    if isinstance(reverse, str):
        return [reverse]
    return list(reverse)


def reverse_items(
    m: ItemMatrix,
    reverse: Sequence[str] | str | None,
    reverse_range: tuple[float, float] | None = None,
) -> tuple[ItemMatrix, tuple[str, ...], tuple[float, float] | None]:
    """Rescore the items named in ``reverse`` as ``lo + hi - x``.

    ``lo``/``hi`` are ``reverse_range`` if given, else the smallest and largest observed value
    over *all* the items analysed (psych's rule in ``alpha`` and ``scoreItems``).
    """
    names = _as_list(reverse)
    if not names:
        return m, (), None
    unknown = [r for r in names if r not in m.items]
    if unknown:
        raise SpecificationError(
            f"reverse= names item(s) {', '.join(map(repr, unknown))} that are not among the "
            f"items analysed ({', '.join(m.items)}); check the spelling"
        )
    dup = sorted({r for r in names if names.count(r) > 1})
    if dup:
        raise SpecificationError(f"reverse= lists {', '.join(map(repr, dup))} more than once")
    if reverse_range is None:
        lo, hi = float(np.nanmin(m.values)), float(np.nanmax(m.values))
    else:
        try:
            lo, hi = (float(v) for v in reverse_range)
        except (TypeError, ValueError) as exc:
            raise SpecificationError(
                f"reverse_range={reverse_range!r} must be a pair (lowest, highest) of numbers"
            ) from exc
        if not lo < hi:
            raise SpecificationError(
                f"reverse_range={reverse_range!r}: the lowest value must be below the highest"
            )
    idx = [m.items.index(r) for r in names]
    values = m.values.copy()
    values[:, idx] = (lo + hi) - values[:, idx]
    return ItemMatrix(values=values, items=m.items, ids=m.ids), tuple(names), (lo, hi)


def check_variances(m: ItemMatrix) -> None:
    """Raise a DataError naming an item with fewer than two answers or no variance."""
    x = m.values
    obs = ~np.isnan(x)
    nobs = obs.sum(axis=0)
    for j in np.flatnonzero(nobs < 2):
        raise DataError(
            f"item {m.items[j]!r} has {int(nobs[j])} answer(s); at least 2 are needed. "
            "Drop the item or supply more responses"
        )
    lo = np.nanmin(x, axis=0)
    hi = np.nanmax(x, axis=0)
    for j in np.flatnonzero(lo == hi):
        raise DataError(
            f"item {m.items[j]!r} has no variance (every answer is {lo[j]:g}); "
            "drop it from the items analysed"
        )


def prepare(
    data: Any,
    *,
    reverse: Sequence[str] | str | None,
    missing: str,
    reverse_range: tuple[float, float] | None = None,
    allowed: Sequence[str] = ("pairwise", "listwise", "raise"),
    min_items: int = 2,
    what: str = "data",
    check: bool = True,
) -> tuple[ItemMatrix, MissingInfo, tuple[str, ...], tuple[float, float] | None]:
    """Validate, apply the missing-data policy, then reverse-key (one step at the top).

    ``check=False`` leaves the per-item variance check to the caller (alpha does it from its
    covariance matrix, saving two passes over large data).
    """
    m = as_item_matrix(data, min_items=min_items, min_rows=2, what=what)
    m, info = apply_missing(m, missing, allowed=allowed)
    if check:
        check_variances(m)
    m, rev, rng = reverse_items(m, reverse, reverse_range)
    return m, info, rev, rng


def pinv(a: np.ndarray) -> np.ndarray:
    """Pseudo-inverse as psych's ``Pinv``: singular values below sqrt(eps) * d[0] dropped.

    For a symmetric matrix the singular values are the absolute eigenvalues, so the
    (faster) symmetric eigendecomposition gives the same pseudo-inverse.
    """
    if np.array_equal(a, a.T):
        d, v = np.linalg.eigh(a)
        ad = np.abs(d)
        keep = ad > max(np.sqrt(np.finfo(float).eps) * ad.max(), 0.0)
        return (v[:, keep] / d[keep]) @ v[:, keep].T
    u, d, vt = np.linalg.svd(a)
    keep = d > max(np.sqrt(np.finfo(float).eps) * d[0], 0.0)
    return (vt[keep].T / d[keep]) @ u[:, keep].T


def psych_smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations as ``psych::smc``: 1 - 1/diag(Pinv(R)), clipped to [0, 1].

    ``r`` may be a covariance matrix; it is rescaled to correlations first (as psych).
    """
    sd = np.sqrt(np.diag(r))
    rr = r / np.outer(sd, sd)
    smc = 1.0 - 1.0 / np.diag(pinv(rr))
    return np.clip(smc, 0.0, 1.0)


def smc_dropped(r: np.ndarray) -> np.ndarray | None:
    """smc of every item within R without item i, for all i at once: row i, column j holds
    smc_j of R[-i, -i] (diagonal NaN). From the inverse of R by the rank-one downdate
    inv(R_-i)_jj = P_jj - P_ij^2 / P_ii. None when R is too ill-conditioned for that (the
    caller then inverts each submatrix as psych does)."""
    d = np.linalg.eigvalsh(r)
    if d[0] <= 1e-8 * d[-1]:
        return None
    p = np.linalg.inv(r)
    dp = np.diag(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_diag = dp[None, :] - p * p / dp[:, None]
        smc = np.clip(1.0 - 1.0 / inv_diag, 0.0, 1.0)
    np.fill_diagonal(smc, np.nan)
    return smc


def pairwise_pearson(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlations on pairwise-complete rows, as ``cor(x, use = "pairwise")``.

    Unlike ``cov2cor`` of the pairwise covariance matrix, each r_ij uses the means and
    standard deviations of items i and j over the rows where both are observed.
    Returns (r, n_pairwise).
    """
    obs = ~np.isnan(x)
    if obs.all():
        xc = x - x.mean(axis=0)
        cp = xc.T @ xc
        sd = np.sqrt(np.diag(cp))
        r = cp / np.outer(sd, sd)
        np.fill_diagonal(r, 1.0)
        n = np.full(r.shape, x.shape[0], dtype="int64")
        return r, n
    m = obs.astype("float64")
    colmean = np.where(obs, x, 0.0).sum(axis=0) / np.maximum(m.sum(axis=0), 1)
    xc = np.where(obs, x - colmean, 0.0)
    npair = m.T @ m
    s = xc.T @ m  # s[i, j]: sum of item i (centred) over rows where i and j are observed
    ss = (xc * xc).T @ m  # ss[i, j]: sum of squares of item i over those rows
    cross = xc.T @ xc
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = cross - s * s.T / npair
        vi = ss - s * s / npair
        r = cov / np.sqrt(vi * vi.T)
    np.fill_diagonal(r, 1.0)
    return r, npair.astype("int64")


def feldt_interval(alpha: float, n: int, k: int, confidence_level: float) -> tuple[float, float]:
    """Feldt (1965) F-based interval, as ``psych::alpha.ci`` (n = rows, k = items)."""
    from scipy.stats import f

    p = 1.0 - confidence_level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1.0 - (1.0 - alpha) * f.ppf(1.0 - p / 2.0, df1, df2)
    upper = 1.0 - (1.0 - alpha) * f.ppf(p / 2.0, df1, df2)
    return float(lower), float(upper)


def check_confidence_level(confidence_level: float) -> float:
    try:
        cl = float(confidence_level)
    except (TypeError, ValueError) as exc:
        raise SpecificationError(
            f"confidence_level={confidence_level!r} must be a number between 0 and 1"
        ) from exc
    if not 0.0 < cl < 1.0:
        raise SpecificationError(
            f"confidence_level={confidence_level!r} must be between 0 and 1 (e.g. 0.95)"
        )
    return cl
