"""Helpers shared by the reliability statistics (alpha, split-half, Guttman, scores, KR).

Private: input preparation with ``reverse=`` (psych's min + max - x rule), psych-compatible
squared multiple correlations and the Feldt interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from psychoval._input import ItemMatrix, MissingInfo, apply_missing, as_item_matrix, check_range
from psychoval.exceptions import DataError, SpecificationError

__all__ = [
    "prepare",
    "reverse_items",
    "psych_smc",
    "pinv",
    "smc_and_dropped",
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
        lo, hi = check_range(reverse_range, "reverse_range")
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


def _clip_smc(diag_inv: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(1.0 - 1.0 / diag_inv, 0.0, 1.0)


def _row_sums_off_diagonal(inv_diag: np.ndarray, first: int) -> np.ndarray:
    """Row sums of clip(1 - 1/inv_diag, 0, 1) leaving out column ``first + row`` (the item
    dropped); ``inv_diag`` is overwritten."""
    with np.errstate(divide="ignore", invalid="ignore"):
        np.reciprocal(inv_diag, out=inv_diag)
        np.subtract(1.0, inv_diag, out=inv_diag)
        np.clip(inv_diag, 0.0, 1.0, out=inv_diag)
    rows = np.arange(inv_diag.shape[0])
    inv_diag[rows, first + rows] = 0.0
    return inv_diag.sum(axis=1)


_PINV_TOL = float(np.sqrt(np.finfo(float).eps))  # psych::Pinv's tolerance
_ROW_BLOCK_CELLS = 4_000_000  # item rows per block of the k x k work (about 32 MB each)


def _certified_inverse(r: np.ndarray) -> np.ndarray | None:
    """inv(R) when that provably equals psych's Pinv(R) (no singular value below sqrt(eps)
    times the largest), else None.

    For a symmetric R, the largest singular value is at most the 1-norm, so the 2-norm
    condition number is at most ||R||_1 ||R^-1||_1; a bound below 1/(2 sqrt(eps)) proves that
    Pinv drops nothing - in R and, by interlacing, in every principal submatrix of R. One LU
    inverse (O(k^3)) instead of an eigendecomposition (several times slower)."""
    try:
        p = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        return None
    if not np.isfinite(p).all():
        return None
    p = (p + p.T) / 2.0
    bound = float(np.abs(r).sum(axis=0).max()) * float(np.abs(p).sum(axis=0).max())
    return p if bound < 0.5 / _PINV_TOL else None


def _eigen_kept(r: np.ndarray, z: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Eigenpairs of R that psych's Pinv keeps (|value| > sqrt(eps) * the largest): values
    (descending by magnitude), vectors, the largest dropped |value| (0 if none) and the
    second largest |value| of R. With ``z`` (n x k, R = z'z, n < k) the nonzero spectrum comes
    from the n x n matrix z z' (the other k - n eigenvalues of R are 0)."""
    if z is not None:
        g = z @ z.T
        d, u = np.linalg.eigh((g + g.T) / 2.0)
    else:
        d, v = np.linalg.eigh(r)
    order = np.argsort(-np.abs(d), kind="stable")
    d = d[order]
    ad = np.abs(d)
    keep = ad > _PINV_TOL * ad[0]
    dropped = float(ad[~keep].max()) if (~keep).any() else 0.0
    if z is not None:
        u = u[:, order][:, keep]
        v = (z.T @ u) / np.sqrt(d[keep])  # the other k - n eigenvalues of R are 0
    else:
        v = v[:, order][:, keep]
    second = float(ad[1]) if ad.size > 1 else float(ad[0])
    return d[keep], v, dropped, second


def smc_and_dropped(r: np.ndarray, *, z: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """psych::smc of R, and for every item i the sum over the other items of their smc
    within R without item i (what psych::alpha's "G6 if dropped" needs), in O(k^3) total.

    psych computes ``1 - 1/diag(Pinv(R[-i, -i]))`` for each i (k pseudo-inverses: O(k^4)).
    Here one decomposition of R serves all of them:

    - R well conditioned (certified, see :func:`_certified_inverse`): with P = inv(R), the
      inverse of R without i is the Schur downdate ``P_jj - P_ij^2 / P_ii``.
    - otherwise, from the eigenpairs Pinv keeps (P = V D^-1 V', H = V V' the projector on
      R's range): when item i lies outside the span of the others (H_ii = 1) the same
      downdate holds; when it lies inside (H_ii < 1, e.g. more items than respondents) the
      range does not change and Sherman-Morrison on it gives
      ``P_jj + 2 g H_ij P_ij + g^2 H_ij^2 P_ii`` with g = 1 / (1 - H_ii).
      These equal psych's numbers when R[-i, -i] keeps exactly the eigenvalues R keeps; the
      bounds that guarantee it (interlacing: the smallest kept eigenvalue of R[-i, -i] is at
      least d_r (1 - H_ii), its largest dropped one at most R's) are checked per item, and an
      item that fails them is computed as psych does (its own pseudo-inverse).

    ``z``: optionally an n x k matrix with R = z'z (complete data, n < k): the eigenpairs
    then come from the n x n matrix z z'. Returns (smc (k,), dropped sums (k,)); with k < 3
    the sums are NaN.
    """
    k = r.shape[0]
    sums = np.full(k, np.nan)
    gram = z is not None and z.shape[0] <= k  # R = z'z has rank < k: singular, no inverse
    p = None if gram else _certified_inverse(r)
    step = max(1, _ROW_BLOCK_CELLS // k)
    if p is not None:
        smc = _clip_smc(np.diag(p))
        if k < 3:
            return smc, sums
        dp = np.diag(p).copy()
        for a in range(0, k, step):
            b = min(k, a + step)
            pb = p[a:b]
            inv_diag = dp[None, :] - pb * pb / dp[a:b, None]
            sums[a:b] = _row_sums_off_diagonal(inv_diag, a)
        return smc, sums
    d, v, dropped, second = _eigen_kept(r, z if gram else None)
    vs = v / d
    dp = np.einsum("ij,ij->i", vs, v)
    smc = _clip_smc(dp)
    if k < 3:
        return smc, sums
    hd = np.einsum("ij,ij->i", v, v)
    d_r = float(np.abs(d[-1]))
    d_1 = float(np.abs(d[0]))
    outside = np.abs(1.0 - hd) <= 1e-10
    inside = hd < 1.0 - 1e-6
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = np.where(inside, 1.0 / (1.0 - hd), 0.0)
        low_kept = np.where(inside, d_r * (1.0 - hd), d_r)
    ok = (outside | inside) & (low_kept >= 2.0 * _PINV_TOL * d_1)
    if dropped > 0.0:
        ok &= (dropped < _PINV_TOL * second) & (dropped <= 1e-6 * low_kept)
    for a in range(0, k, step):
        b = min(k, a + step)
        pb = vs[a:b] @ v.T  # P[a:b]
        hb = v[a:b] @ v.T  # H[a:b]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if inside[a:b].any():
                # P_jj + 2 g H_ij P_ij + g^2 H_ij^2 P_ii, in place
                hb *= gamma[a:b, None]
                inv_in = pb * hb
                inv_in *= 2.0
                inv_in += dp[None, :]
                hb *= hb
                hb *= dp[a:b, None]
                inv_in += hb
            else:
                inv_in = None
            if not inside[a:b].all():
                pb *= pb
                pb /= dp[a:b, None]
                inv_out = dp[None, :] - pb
                inv_diag = inv_out if inv_in is None else np.where(inside[a:b, None], inv_in,
                                                                   inv_out)
            else:
                inv_diag = inv_in
        sums[a:b] = _row_sums_off_diagonal(inv_diag, a)
    for i in np.flatnonzero(~ok):
        keep = np.r_[0:i, i + 1:k]
        sums[i] = float(psych_smc(r[np.ix_(keep, keep)]).sum())
    return smc, sums


def feldt_interval(alpha: float, n: int, k: int, confidence_level: float) -> tuple[float, float]:
    """Feldt (1965) F-based interval, as ``psych::alpha.ci`` (n = rows, k = items)."""
    from scipy.stats import f

    p = 1.0 - confidence_level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1.0 - (1.0 - alpha) * f.ppf(1.0 - p / 2.0, df1, df2)
    upper = 1.0 - (1.0 - alpha) * f.ppf(p / 2.0, df1, df2)
    return float(lower), float(upper)
