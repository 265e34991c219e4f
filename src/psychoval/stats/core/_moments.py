"""Means, covariances and correlations with psych's missing-data conventions.

Pairwise-complete moments are computed for all pairs at once from masked cross-products
(no loop over pairs or respondents), matching R's ``cov(x, use = "pairwise")``: each pair's
means are taken over the rows where both items are observed. With missing data one pass over
row blocks that stay in cache (:func:`pairwise_sums`) gathers every sum; the pair counts and
the per-pair sums come from the (sparse) missing cells rather than from a second and third
full-size product.

Cronbach's alpha of a covariance matrix (:func:`alpha_from_cov`) and with each item dropped
(:func:`alpha_if_dropped`) live here because both reliability and item analysis need them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from psychoval.exceptions import DataError

__all__ = ["Moments", "PairwiseSums", "pairwise_moments", "pairwise_sums", "cov_to_cor",
           "alpha_from_cov", "alpha_if_dropped", "check_resolution", "power_of_two",
           "RESOLUTION"]


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
        ``psychoval.stats.core._pearson.pairwise_cor``."""
        return cov_to_cor(self.cov)


def cov_to_cor(cov: np.ndarray) -> np.ndarray:
    """Rescale a covariance matrix to a correlation matrix (unit diagonal exactly)."""
    sd = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / np.outer(sd, sd)
    np.fill_diagonal(r, 1.0)
    return r


def alpha_from_cov(cov: np.ndarray) -> float | np.ndarray:
    """Cronbach's alpha ``k/(k-1) (1 - tr C / 1'C1)`` of a k x k covariance matrix ``C`` (a
    float), or of each matrix of a batch (..., k, k) (an array); of a correlation matrix it is
    the standardized alpha. NaN with fewer than 2 items."""
    k = cov.shape[-1]
    if k < 2:
        out = np.full(cov.shape[:-2], np.nan)
    else:
        tr = np.trace(cov, axis1=-2, axis2=-1)
        tot = cov.sum(axis=(-2, -1))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (1.0 - tr / tot) * k / (k - 1)
    return float(out) if cov.ndim == 2 else out


def alpha_if_dropped(cov: np.ndarray) -> np.ndarray:
    """:func:`alpha_from_cov` of ``cov`` without item i, for every item i (k,), in O(k^2)
    from the trace and the sum of C less row and column i. NaN with fewer than 3 items."""
    k = cov.shape[0]
    if k < 3:
        return np.full(k, np.nan)
    diag = np.diag(cov).copy()
    cs = cov.sum(axis=0)
    tr_d = float(diag.sum()) - diag
    sum_d = float(cs.sum()) - 2.0 * cs + diag
    kd = k - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return (1.0 - tr_d / sum_d) * kd / (kd - 1)


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
        resid = xc.mean(axis=0)  # corrected two-pass: the rounding left in the mean
        cov = (xc.T @ xc - n * np.outer(resid, resid)) / (n - 1)
        mean = mean + resid
        npair = np.full((x.shape[1], x.shape[1]), n, dtype="int64")
        return Moments(cov=cov, n_pairwise=npair, means=mean, complete=True)
    ps = pairwise_sums(x)
    return Moments(cov=ps.cov, n_pairwise=ps.npair, means=ps.means, complete=False)


@dataclasses.dataclass(frozen=True)
class PairwiseSums:
    """Sums over the answered cells of ``x`` (NaN = missing), with ``z = x - shift`` (0 where
    missing; ``shift`` is near the column means, so the sums are accurate).

    ``ssum[i, j]`` is the sum of ``z_i`` over the rows where items i and j are both answered
    (its diagonal: over item i's rows); ``cross = Z'Z``; ``npair`` the pairwise counts;
    ``rowsum`` and ``cnt`` each row's raw sum of its answered items and how many it answered;
    ``zrow = (m - row_center)'Z`` with ``m`` each row's mean of its answered items (rows
    with none have ``z = 0``) and ``row_center`` the mean shift (accuracy);
    ``miss_r``, ``miss_c`` the missing cells in row-major order.
    """

    shift: np.ndarray
    cross: np.ndarray
    ssum: np.ndarray
    npair: np.ndarray
    rowsum: np.ndarray
    cnt: np.ndarray
    zrow: np.ndarray
    rowdev: np.ndarray
    row_center: float
    miss_r: np.ndarray
    miss_c: np.ndarray

    @property
    def nobs(self) -> np.ndarray:
        return np.diag(self.npair).copy()

    @property
    def sx(self) -> np.ndarray:
        """Sum of ``z`` per item over its own rows."""
        return np.diag(self.ssum).copy()

    @property
    def sxx(self) -> np.ndarray:
        return np.diag(self.cross).copy()

    @property
    def means(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.sx / self.nobs + self.shift

    @property
    def cov(self) -> np.ndarray:
        """Pairwise-complete covariances (divisor n_ij - 1), as ``cov(use = "pairwise")``.
        Values beyond ~1e150 overflow to inf here, without a warning: callers rescale."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (self.cross - self.ssum * self.ssum.T / self.npair) / (self.npair - 1)


_DENSE_BLOCK = 0.1  # above this share of missing cells a block uses dense products


def pairwise_sums(x: np.ndarray, *, block_cells: int = 800_000,
                  on_block: Callable[[np.ndarray, np.ndarray, np.ndarray], Any] | None = None
                  ) -> PairwiseSums:
    """One pass over row blocks of ``x`` (NaN = missing) gathering :class:`PairwiseSums`.

    Per block (about 6 MB, so it stays in cache): ``z = x - shift`` with the missing cells
    zeroed, ``Z'Z`` (BLAS syrk), row sums; the sums over the rows where a second item is
    missing, ``M'Z`` for the missing-cell indicator ``M``, are a sparse product when few cells
    are missing (dense otherwise), and ``npair = n - nmiss_i - nmiss_j + (M'M)_ij`` with
    ``M'M`` counted from the pairs of missing cells in each row. No full-size temporary.
    ``on_block(block, nan_mask, nan_cells)`` is called with each block while it is in cache
    (alpha counts its response frequencies there).
    """
    x = np.ascontiguousarray(x, dtype="float64")  # row blocks, flat cell indices
    n, k = x.shape
    step = max(1, min(n, block_cells // max(k, 1)))
    shift = _shift(x, step)
    row_center = float(shift.mean())
    with np.errstate(invalid="ignore"):  # an infinite response (see below)
        dev = shift - row_center  # the row sums are formed around row_center (accuracy)
    dev_total = float(dev.sum())
    cross = np.zeros((k, k))
    mz = np.zeros((k, k))  # M'Z
    mm = np.zeros((k, k))  # M'M (dense blocks)
    zrow = np.zeros(k)
    sz = np.zeros(k)
    rowsum = np.empty(n)
    rowdev = np.empty(n)
    cnt = np.empty(n)
    buf = np.empty((step, k))
    ones_k = np.ones(k)
    ones_b = np.ones(step)
    rs, cs = [], []
    pair_counts = np.zeros(k * k, dtype=np.int64)
    # an infinite response makes the sums non-finite (callers check), without a warning here
    with np.errstate(invalid="ignore", over="ignore"):
        for a in range(0, n, step):
            xb = x[a:a + step]
            m = xb.shape[0]
            zb = buf[:m]
            nb = np.isnan(xb)
            np.subtract(xb, shift, out=zb)
            cells = np.flatnonzero(nb)
            if on_block is not None:
                on_block(xb, nb, cells)
            rb = cells // k
            cb = cells - rb * k
            zb.reshape(-1)[cells] = 0.0
            cross += zb.T @ zb
            sz += ones_b[:m] @ zb
            per_row = np.bincount(rb, minlength=m)
            c_b = k - per_row
            # each row's sum of its answered items, less row_center per answered item
            centred = zb @ ones_k + (dev_total - np.bincount(rb, weights=dev[cb], minlength=m))
            raw = centred + row_center * c_b
            if per_row.max(initial=0) == k:
                raw[c_b == 0] = 0.0  # nothing answered: exactly 0, not a rounding residue
                centred[c_b == 0] = 0.0
            rowsum[a:a + m] = raw
            rowdev[a:a + m] = centred
            cnt[a:a + m] = c_b
            zrow += (centred / np.maximum(c_b, 1)) @ zb  # rows with nothing answered: z = 0
            if not cells.size:
                continue
            rs.append(rb + a)
            cs.append(cb)
            if cells.size > _DENSE_BLOCK * m * k:
                mf = nb.astype(np.float64)
                mz += mf.T @ zb
                mm += mf.T @ mf
            else:
                from scipy.sparse import csc_matrix

                ptr = np.zeros(m + 1, dtype=np.int64)
                np.cumsum(per_row, out=ptr[1:])
                mz += csc_matrix((np.ones(cells.size), cb, ptr), shape=(k, m)) @ zb
                _count_pairs(rb, cb, k, pair_counts)
    miss_r = np.concatenate(rs) if rs else np.zeros(0, dtype=np.int64)
    miss_c = np.concatenate(cs) if cs else np.zeros(0, dtype=np.int64)
    pc = pair_counts.reshape(k, k)
    mm += pc + pc.T
    nmiss = np.bincount(miss_c, minlength=k).astype(np.float64)
    np.fill_diagonal(mm, nmiss)  # every block's own missing cells
    npair = (n - nmiss[:, None] - nmiss[None, :] + mm).astype(np.int64)
    ssum = sz[:, None] - mz.T
    return PairwiseSums(shift=shift, cross=cross, ssum=ssum, npair=npair, rowsum=rowsum,
                        cnt=cnt, zrow=zrow, rowdev=rowdev, row_center=row_center,
                        miss_r=miss_r, miss_c=miss_c)


def _shift(x: np.ndarray, step: int) -> np.ndarray:
    """Per-column mean of the first block's answered cells (first answered value of a column
    with none there; 0 for an empty column)."""
    head = x[:step]
    seen = ~np.isnan(head)
    count = seen.sum(axis=0)
    shift = np.where(seen, head, 0.0).sum(axis=0) / np.maximum(count, 1)
    for j in np.flatnonzero(count == 0):
        answered = np.flatnonzero(~np.isnan(x[:, j]))
        shift[j] = x[answered[0], j] if answered.size else 0.0
    return shift


def _count_pairs(rows: np.ndarray, cols: np.ndarray, k: int, out: np.ndarray) -> None:
    """Add to ``out`` (k*k) the count of each ordered pair (i < j) of missing cells sharing a
    row; ``rows``/``cols`` in row-major order, so a row's cells are adjacent and ascending.
    The pair codes are gathered first and counted by one bincount (a bincount per distance d
    costs O(k^2) each: minutes for thousands of items with hundreds of missing cells a row)."""
    idx = np.arange(rows.size - 1)
    d = 1
    codes = []
    while idx.size:
        idx = idx[idx + d < rows.size]
        idx = idx[rows[idx + d] == rows[idx]]
        if idx.size:
            codes.append(cols[idx] * k + cols[idx + d])
        d += 1
    if codes:
        out += np.bincount(np.concatenate(codes), minlength=k * k)


# -- extreme location and scale ------------------------------------------------------------

# an item is refused when the spacing of float64 numbers at its largest |value| exceeds this
# fraction of its standard deviation: the rounding of the values to that spacing then moves
# variances by up to RESOLUTION**2 / 12 relative (the statistics stay within 1e-11 of those
# of exact data) - beyond it the differences between respondents have lost digits
RESOLUTION = 1e-5
_EXACT_INT = 2.0**53  # integers below this are exact in float64


def power_of_two(value: float) -> float:
    """The power of two nearest ``value`` (> 0, finite): dividing by it is exact."""
    return math.ldexp(1.0, math.frexp(value)[1] - 1)


def check_resolution(x: np.ndarray, means: np.ndarray, sd: np.ndarray,
                     items: Sequence[str] | None = None, *, scale: float = 1.0) -> None:
    """Raise a :class:`DataError` naming an item whose values are so far from 0 relative to
    their spread that float64 has rounded away the differences between respondents.

    ``x`` holds the values (NaN = missing) divided by ``scale``; ``means`` and ``sd`` are the
    items' means and standard deviations in the same units. The spacing of float64 numbers
    near an item's largest absolute value |x|max is about 2.2e-16 |x|max; above ``RESOLUTION``
    times the item's SD the stored values no longer carry the data's differences (1e15 +
    3.6667 is stored as 1e15 + 3.625). Items whose answers are all integers below 2**53 are
    exact however large, and pass. Only items whose mean is large enough to matter are looked
    at (|x|max <= |mean| + sqrt(n - 1) SD), so the check is O(k) on ordinary data.
    """
    eps = np.finfo(float).eps
    with np.errstate(invalid="ignore", over="ignore"):
        suspect = np.flatnonzero(eps * np.abs(means) > 0.5 * RESOLUTION * sd)
    for j in suspect:
        col = x[:, j]
        col = col[~np.isnan(col)]
        if not col.size:
            continue
        big = float(np.max(np.abs(col)))
        spacing = float(np.spacing(big))
        if not spacing > RESOLUTION * sd[j]:
            continue
        raw_big = big * scale
        if raw_big < _EXACT_INT and np.all(col * scale == np.round(col * scale)):
            continue  # integers: exact
        name = repr(items[j]) if items is not None else f"in column {j + 1}"
        digits = max(0.0, math.log10(sd[j] / spacing)) if sd[j] > 0 else 0.0
        raise DataError(
            f"item {name} has values near {raw_big:.6g} that vary by only {sd[j] * scale:.3g} "
            f"(SD): in float64 they are stored in steps of {spacing * scale:.3g}, so only about "
            f"{digits:.0f} significant digit(s) of the differences between respondents are left "
            "and no statistic of them can be trusted. Subtract a constant from the item (e.g. "
            "its mean or the scale's lowest value) where the values are computed, before they "
            "are rounded to float64, and pass the shifted values"
        )
