"""Cronbach's alpha with psych::alpha's full output, Feldt / Duhachek / bootstrap / BCa intervals.

Computation follows psych 2.2.9 ``alpha()`` where agreement matters (pairwise covariances,
n = all rows for intervals and standard errors, prorated total score, psych's smc), and is
vectorized: complete data need one cross-product ``X.T @ X``; everything in the item table
derives from the covariance matrix, except response frequencies (one bincount per item).
The "if dropped" table is in closed form (sums of C and R less a row and column; G6 from one
decomposition of R with rank-one downdates; the median by ranks): O(k^2) per statistic and
O(k^3) in all, where recomputing each reduced set costs O(k^4).

Extreme data: values beyond ~1e150 or below ~1e-150 are divided by a power of two (exact)
before any product is formed, and means and SDs are scaled back; data far from 0 are centred
in two passes; values so far from 0 that float64 has rounded away the differences between
respondents (1e15 + 3.6667) raise a DataError naming the item.

Length: psych::alpha's whole output (item statistics, alpha if dropped, response frequencies)
and four interval methods.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import ItemMatrix, MissingInfo, check_choice, check_confidence_level
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, DegenerateDataWarning, PsychovalWarning, warn
from psychoval.stats.core._bootmoments import BootstrapMoments
from psychoval.stats.core._moments import (
    PairwiseSums,
    alpha_from_cov,
    alpha_if_dropped,
    check_resolution,
    pairwise_sums,
    power_of_two,
)
from psychoval.stats.core._suffstats import Moments, as_moments, check_usable, refuse
from psychoval.stats.reliability._common import (
    feldt_interval,
    prepare,
    psych_smc,
    smc_and_dropped,
)

__all__ = ["alpha", "AlphaResult"]

CI_METHODS = ("feldt", "duhachek", "bootstrap", "bca")
_THREAD_MIN_CELLS = 2_000_000  # frequencies counted in a second thread from this size on


# ---------------------------------------------------------------------------------------------
# closed forms on a covariance matrix


def _normalized(c: np.ndarray) -> np.ndarray:
    """``c`` divided by a power of two near its mean variance (exact): the statistics are
    ratios, and sums of cubes of the covariances must neither overflow nor underflow."""
    scale = float(np.mean(np.diag(c)))
    if not (np.isfinite(scale) and scale > 0):
        return c
    return c / power_of_two(scale)


def _alpha_stats(c: np.ndarray, smc_sum: float | None = None,
                 r: np.ndarray | None = None) -> dict[str, float]:
    """psych's ``alpha.1``: raw, std, G6, av.r, S/N, Q, var.r, med.r for covariance ``c``.

    ``smc_sum`` (the sum of the smc of the items) and ``r`` (the correlation matrix) may be
    given when already known."""
    c = _normalized(c)
    k = c.shape[0]
    if r is None:
        sd = np.sqrt(np.diag(c))
        r = c / np.outer(sd, sd)
        np.fill_diagonal(r, 1.0)
    tr_c = float(np.trace(c))
    sum_c = float(c.sum())
    sum_r = float(r.sum())
    raw = alpha_from_cov(c)
    std = alpha_from_cov(r)  # of R: the standardized alpha
    if smc_sum is None:
        smc_sum = float(psych_smc(r).sum())
    g6 = 1.0 - (k - smc_sum) / sum_r
    av_r = (sum_r - k) / (k * (k - 1))
    low = r[np.tri(k, k, -1, dtype=bool)]
    var_r = float(np.var(low, ddof=1)) if low.size > 1 else math.nan
    med_r = float(np.median(low))
    s_n = k * av_r / (1.0 - av_r) if av_r != 1.0 else math.inf
    colsum = c.sum(axis=0)
    tr_cc = float((c * c).sum())  # tr(C C) for symmetric C
    sum_cc = float(colsum @ colsum)  # 1'C C 1
    q = (2.0 * k**2 / ((k - 1) ** 2 * sum_c**3)) * (
        sum_c * (tr_cc + tr_c**2) - 2.0 * tr_c * sum_cc
    )
    return {"raw_alpha": raw, "std_alpha": std, "g6": g6, "average_r": av_r, "s_n": s_n,
            "q": q, "var_r": var_r, "med_r": med_r}


def _drop_stats(c: np.ndarray, r: np.ndarray, smc_sums: np.ndarray, n: int
                ) -> dict[str, np.ndarray]:
    """psych's "reliability if an item is dropped" for every item at once, O(k^2) per
    statistic, from sums of C and R less the item's row and column (closed forms of what
    ``_alpha_stats`` gives on ``c[-i, -i]``). ``smc_sums[i]``: the sum of the smc of the
    other items within R without item i (:func:`smc_and_dropped`)."""
    c = _normalized(c)
    k = c.shape[0]
    kd = k - 1
    diag_c = np.diag(c).copy()
    cs = c.sum(axis=0)
    sum_c = float(cs.sum())
    tr_c = float(diag_c.sum())
    tr_d = tr_c - diag_c
    sum_d = sum_c - 2.0 * cs + diag_c
    rs = r.sum(axis=0)
    sum_rd = float(rs.sum()) - 2.0 * rs + 1.0
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        out["raw_alpha"] = alpha_if_dropped(c)
        out["std_alpha"] = alpha_if_dropped(r)
        out["g6"] = 1.0 - (kd - smc_sums) / sum_rd
        av_r = (sum_rd - kd) / (kd * (kd - 1))
        out["average_r"] = av_r
        out["s_n"] = np.where(av_r != 1.0, kd * av_r / (1.0 - av_r), np.inf)
        # Duhachek's Q of C without item i: tr(C'C') and 1'C'C'1 from C's sums
        row2 = (c * c).sum(axis=0)
        tr_cc = float(row2.sum()) - 2.0 * row2 + diag_c**2
        sum_cc = float(cs @ cs) - 2.0 * (c @ cs) + row2 - (cs - diag_c) ** 2
        q = (2.0 * kd**2 / ((kd - 1) ** 2 * sum_d**3)) * (
            sum_d * (tr_cc + tr_d**2) - 2.0 * tr_d * sum_cc)
        out["alpha_se"] = np.where(q >= 0, np.sqrt(np.abs(q) / n), np.nan)
    out["var_r"], out["med_r"] = _var_med_dropped(r)
    return out


def _var_med_dropped(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Variance and median of the correlations among the items other than i, for each i.

    Variance: from the sum and the sum of squares of the correlations (taken about their
    overall mean, so nothing cancels) less item i's row. Median: the correlations are ranked
    once; item i's row removes k - 1 known ranks, and the median's position among the rest is
    found by counting the removed ranks before it (O(k log k) per item, O(k^2 log k) in all,
    against O(k^3) for k separate medians)."""
    k = r.shape[0]
    var = np.full(k, np.nan)
    med = np.full(k, np.nan)
    m_left = (k - 1) * (k - 2) // 2  # correlations left when one item is dropped
    if m_left < 1:
        return var, med
    upper = np.triu(np.ones((k, k), dtype=bool), 1)
    values = r[upper]
    mu = float(values.mean())
    dev = values - mu
    s1 = float(dev.sum())
    s2 = float(dev @ dev)
    del dev
    e = r - mu
    np.fill_diagonal(e, 0.0)
    row1 = e.sum(axis=1)
    e *= e
    row2 = e.sum(axis=1)
    del e
    if m_left > 1:
        a1 = s1 - row1
        var = ((s2 - row2) - a1 * a1 / m_left) / (m_left - 1)
    # rank of every correlation in the sorted order (ties: distinct ranks; equal values make
    # the removed ranks interchangeable, so the value at a rank is what matters)
    order = np.argsort(values)
    ordered = values[order]
    del values
    itype = np.int32 if order.size < 2**31 else np.int64
    rank_flat = np.empty(order.size, dtype=itype)
    rank_flat[order] = np.arange(order.size, dtype=itype)
    del order
    rank = np.zeros((k, k), dtype=itype)
    rank[upper] = rank_flat
    del rank_flat, upper
    rank += rank.T
    t_lo, t_hi = (m_left - 1) // 2, m_left // 2
    off = ~np.eye(k, dtype=bool)
    idx = np.arange(k - 1, dtype=itype)
    step = max(1, 2_000_000 // k)
    for a in range(0, k, step):
        b = min(k, a + step)
        removed = np.sort(rank[a:b][off[a:b]].reshape(b - a, k - 1), axis=1)
        removed -= idx  # (removed rank) - (its place among the removed): ascending
        lo = ordered[t_lo + (removed <= t_lo).sum(axis=1)]
        hi = lo if t_hi == t_lo else ordered[t_hi + (removed <= t_hi).sum(axis=1)]
        med[a:b] = lo if t_lo == t_hi else (lo + hi) / 2.0
    return var, med


# ---------------------------------------------------------------------------------------------
# moments


@dataclasses.dataclass(frozen=True)
class _Mom:
    cov: np.ndarray
    means: np.ndarray
    nobs: np.ndarray
    npair: np.ndarray | None  # None: complete data (every pair n)
    complete: bool
    sums: PairwiseSums | None = None  # missing data: the pairwise sums behind cov


def _moments(x: np.ndarray, missing: bool, colsum: np.ndarray | None = None,
             on_block: Callable[..., Any] | None = None) -> _Mom:
    n, k = x.shape
    if not missing:
        # complete data: one BLAS cross-product on the raw values, centred afterwards; when
        # means are large relative to the SDs (cancellation) the data are centred first, in
        # two passes (the mean, then the rounding left in it)
        means = (colsum if colsum is not None else np.ones(n) @ x) / n
        with np.errstate(over="ignore", invalid="ignore"):
            xtx = x.T @ x  # overflows (inf) only for values beyond ~1e150: rescaled then
            cov = (xtx - n * np.outer(means, means)) / (n - 1)
        var = np.diag(cov)
        if np.isfinite(xtx).all() and np.any(var <= 1e-4 * means * means):
            xc = x - means
            resid = (np.ones(n) @ xc) / n
            cov = (xc.T @ xc - n * np.outer(resid, resid)) / (n - 1)
            means = means + resid
        return _Mom(cov=cov, means=means, nobs=np.full(k, n, dtype="int64"), npair=None,
                    complete=True)
    # pairwise-complete moments (stats::cov(use = "pairwise")) and the sums the item-total
    # statistics need, in one cache-blocked pass (psychoval.stats.core._moments.pairwise_sums)
    ps = pairwise_sums(x, on_block=on_block)
    return _Mom(cov=ps.cov, means=ps.means, nobs=ps.nobs, npair=ps.npair, complete=False,
                sums=ps)


_SCALE_LIMIT = 2.0**600  # variances beyond 2**+-600: the data are rescaled (exactly)


def _unit(x: np.ndarray, mom: _Mom) -> float | None:
    """A power of two to divide the data by when their moments overflowed or are so small
    that products of deviations would lose digits to underflow (values beyond ~1e150 or
    below ~1e-150); None for ordinary data."""
    var = np.diag(mom.cov)
    with np.errstate(invalid="ignore"):
        top = float(np.max(np.abs(var))) if var.size else 1.0
    if np.isfinite(top) and 1.0 / _SCALE_LIMIT < top < _SCALE_LIMIT:
        return None
    big = float(np.nanmax(np.abs(x)))
    if not np.isfinite(big) or big == 0.0:
        return None
    unit = power_of_two(big)
    return None if unit == 1.0 else unit


def _prepare_fast(data: Any, reverse: Any, missing: str, reverse_range: Any):
    """The validation step, with a fast path for a complete float64 C-contiguous array.

    One BLAS pass (column sums) proves such an array finite and complete: any NaN or
    infinity makes its column sum non-finite. Other inputs take the general route
    (``as_item_matrix`` then ``apply_missing``). Returns the prepared matrix and, on the fast
    path, the column sums (reused for the means).
    """
    if (isinstance(data, np.ndarray) and data.ndim == 2 and data.dtype == np.float64
            and data.flags.c_contiguous and data.shape[0] >= 2 and data.shape[1] >= 2
            and not reverse):
        check_choice("missing", missing, ("pairwise", "listwise", "raise"))
        colsum = np.ones(data.shape[0]) @ data
        n, k = data.shape
        m = ItemMatrix(values=data, items=tuple(f"item{j + 1}" for j in range(k)),
                       ids=pd.RangeIndex(n))
        if np.isfinite(colsum).all():
            return m, MissingInfo(missing, n, n, (), False), (), None, colsum
        if missing == "pairwise":
            # NaN (or an infinity, which the moments reveal: the caller then takes the general
            # route for its error message); pairwise keeps every row
            return m, MissingInfo(missing, n, n, (), True), (), None, None
    m, info, rev, rng = prepare(data, reverse=reverse, missing=missing,
                                reverse_range=reverse_range, check=False)
    return m, info, rev, rng, None


# ---------------------------------------------------------------------------------------------
# response frequencies


def _category_label(v: float) -> str:
    return f"{v:g}"


class _IntCounts:
    """Counts (k, 256) of the values 0..255 per item, fed one row block at a time; ``ok``
    turns False (and counting stops) at the first answered value that is not an integer in
    0..255. Each block is cast to uint8 item-major, checked exactly against the data, and
    counted with one bincount per item."""

    def __init__(self, k: int):
        self.counts = np.zeros((k, 256), dtype=np.int64)
        self.ok = True

    def add(self, block: np.ndarray, miss: np.ndarray | None,
            cells: np.ndarray | None = None) -> None:
        """Count a block; ``miss`` its NaN mask (None: complete), ``cells`` the flat indices
        of its NaN cells when known."""
        if not self.ok:
            return
        with np.errstate(invalid="ignore", over="ignore"):
            codes = block.astype(np.uint8, order="C")  # reshape(-1) below is a view
        if miss is not None:
            if cells is None:
                cells = np.flatnonzero(miss)
            codes.reshape(-1)[cells] = 0
            exact = (codes == block) | miss
            self.counts[:, 0] -= np.bincount(cells % block.shape[1],
                                             minlength=block.shape[1])
        else:
            exact = codes == block
        if not exact.all():
            self.ok = False
            return
        codes = np.ascontiguousarray(codes.T)
        for j, row in enumerate(codes):
            self.counts[j] += np.bincount(row, minlength=256)


def _small_int_counts(x: np.ndarray, missing: bool) -> np.ndarray | None:
    """:class:`_IntCounts` over ``x`` in cache-sized row blocks (no full-size temporaries);
    None if a value is not a small integer."""
    n, k = x.shape
    counter = _IntCounts(k)
    step = max(256, 409600 // max(k, 1))  # ~3 MB of float64 per block: stays in cache
    for s in range(0, n, step):
        block = x[s:s + step]
        counter.add(block, np.isnan(block) if missing else None)
        if not counter.ok:
            return None
    return counter.counts


def _response_freq(x: np.ndarray, missing: bool, items: Sequence[str],
                   max_categories: int, counter: _IntCounts | None = None
                   ) -> pd.DataFrame | None:
    """Proportion of each response among those answering, and the share missing (``miss``).

    As psych's ``response.frequencies(max = 10)``: items spanning more than ``max`` + 1 are
    left out, and nothing is returned when the items use more than ``max`` distinct values.
    Small non-negative integer codes (the usual case) are counted in one pass with
    ``bincount``; other values go through ``np.unique``. ``counter``: the small-integer counts
    when already gathered (by the pass that formed the moments).
    """
    n, k = x.shape
    if counter is not None:
        counts = counter.counts if counter.ok else None
    else:
        counts = _small_int_counts(x, missing)
    if counts is not None:
        present = counts > 0
        has = present.any(axis=1)
        lo = np.where(has, present.argmax(axis=1), 0).astype(float)
        hi = np.where(has, 255 - present[:, ::-1].argmax(axis=1), 0).astype(float)
        select = has & ((hi - lo) < (max_categories + 1))
        if not select.any():
            return None
        cols = np.flatnonzero(select)
        used = counts[cols].sum(axis=0) > 0
        values = np.flatnonzero(used).astype(float)
        counts = counts[np.ix_(cols, used)]
    else:
        if not missing:
            lo, hi = x.min(axis=0), x.max(axis=0)
        else:
            lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
        select = (hi - lo) < (max_categories + 1)
        if not select.any():
            return None
        cols = np.flatnonzero(select)
        xs = x[:, cols]
        ok = ~np.isnan(xs)
        values, inv = np.unique(xs[ok], return_inverse=True)
        if values.size > max_categories:
            return None
        codes = np.full(xs.shape, -1, dtype=np.int64)
        codes[ok] = inv
        counts = np.stack([np.bincount(codes[:, j][codes[:, j] >= 0], minlength=values.size)
                           for j in range(xs.shape[1])])
    return _freq_frame(values, counts, cols, items, n, max_categories)


def _freq_frame(values: np.ndarray, counts: np.ndarray, cols: np.ndarray,
                items: Sequence[str], n: int, max_categories: int) -> pd.DataFrame | None:
    """The response-frequency table from the counts (selected items x values)."""
    if values.size > max_categories:
        return None
    answered = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        prop = counts / answered[:, None]
    frame = pd.DataFrame(prop, index=pd.Index([items[j] for j in cols], name="item"),
                         columns=[_category_label(v) for v in values])
    frame["miss"] = 1.0 - answered / n
    return frame


def _freq_from_moments(mo: Moments, max_categories: int) -> pd.DataFrame | None:
    """:func:`_response_freq` from the value counts that :class:`Moments` carry."""
    with np.errstate(invalid="ignore"):
        select = (mo.hi - mo.lo) < (max_categories + 1)
    if not select.any():
        return None
    cols = np.flatnonzero(select)
    if any(mo.value_counts[j] is None for j in cols):
        return None  # an item with more than MAX_VALUES distinct answers: too many values
    values = np.array(sorted({v for j in cols for v in mo.value_counts[j]}), dtype=float)
    counts = np.array([[mo.value_counts[j].get(v, 0) for v in values] for j in cols],
                      dtype=np.int64).reshape(len(cols), len(values))
    return _freq_frame(values, counts, cols, mo.columns, mo.n, max_categories)


# ---------------------------------------------------------------------------------------------
# bootstrap


def _boot_features(x: np.ndarray, obs: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Per-row contributions whose weighted sums give every moment alpha needs."""
    n, k = x.shape
    if obs is None:
        xc = x - x.mean(axis=0)
        xc -= xc.mean(axis=0)  # the rounding left in the mean (values far from 0)
        t = xc.sum(axis=1)
        return np.column_stack([xc, xc * xc, t, t * t]), k
    m = obs.astype("float64")
    colmean = np.where(obs, x, 0.0).sum(axis=0) / m.sum(axis=0)
    x0 = np.where(obs, x - colmean, 0.0)
    x0 -= np.where(obs, x0.sum(axis=0) / m.sum(axis=0), 0.0)
    mm = (m[:, :, None] * m[:, None, :]).reshape(n, k * k)
    sx = (x0[:, :, None] * m[:, None, :]).reshape(n, k * k)
    sxx = (x0[:, :, None] * x0[:, None, :]).reshape(n, k * k)
    return np.concatenate([mm, sx, sxx], axis=1), k


def _alpha_from_sums(sums: np.ndarray, wsum: np.ndarray, k: int, complete: bool) -> np.ndarray:
    """Raw alpha from weighted feature sums (B, p); ``wsum`` is each weight vector's total."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if complete:
            s1, s2 = sums[:, :k], sums[:, k:2 * k]
            t1, t2 = sums[:, 2 * k], sums[:, 2 * k + 1]
            w = wsum
            var_items = ((s2 - s1 * s1 / w[:, None]) / (w[:, None] - 1)).sum(axis=1)
            var_t = (t2 - t1 * t1 / w) / (w - 1)
            return (1.0 - var_items / var_t) * k / (k - 1)
        kk = k * k
        npair = sums[:, :kk].reshape(-1, k, k)
        sx = sums[:, kk:2 * kk].reshape(-1, k, k)
        sxx = sums[:, 2 * kk:].reshape(-1, k, k)
        cov = (sxx - sx * np.swapaxes(sx, 1, 2) / npair) / (npair - 1)
        return alpha_from_cov(cov)


def _bootstrap(x: np.ndarray, obs: np.ndarray | None, n_boot: int, seed: Any,
               progress: Callable[[int, int], Any] | None) -> np.ndarray:
    n = x.shape[0]
    feats, k = _boot_features(x, obs)
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    # batches bounded to ~64 MB of weights
    batch = max(1, min(n_boot, int(8e6 // max(n, 1))))
    done = 0
    while done < n_boot:
        b = min(batch, n_boot - done)
        # multinomial(n, 1/n) counts = how often each row is drawn in n draws with replacement
        idx = rng.integers(0, n, size=(b, n))
        idx += (np.arange(b) * n)[:, None]
        w = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype("float64")
        sums = w @ feats
        out[done:done + b] = _alpha_from_sums(sums, np.full(b, float(n)), k, obs is None)
        done += b
        if progress is not None:
            progress(done, n_boot)
    return out


def _jackknife(x: np.ndarray, obs: np.ndarray | None) -> np.ndarray:
    n = x.shape[0]
    feats, k = _boot_features(x, obs)
    total = feats.sum(axis=0)
    out = np.empty(n)
    step = max(1, int(4e6 // feats.shape[1]))
    for s in range(0, n, step):
        sums = total[None, :] - feats[s:s + step]
        out[s:s + step] = _alpha_from_sums(sums, np.full(sums.shape[0], float(n - 1)), k,
                                           obs is None)
    return out


def _terminal_progress(done: int, total: int) -> None:
    import sys

    sys.stderr.write(f"\rbootstrap {done}/{total}" + ("\n" if done == total else ""))
    sys.stderr.flush()


def _percentile_interval(boot: np.ndarray, cl: float) -> tuple[float, float]:
    p = 1.0 - cl
    lo, hi = np.quantile(boot, [p / 2.0, 1.0 - p / 2.0])
    return float(lo), float(hi)


def _bca_interval(boot: np.ndarray, jack: np.ndarray, est: float, cl: float
                  ) -> tuple[float, float, float, float]:
    from scipy.stats import norm

    prop = (np.sum(boot < est) + 0.5 * np.sum(boot == est)) / boot.size
    prop = min(max(prop, 1.0 / (2 * boot.size)), 1.0 - 1.0 / (2 * boot.size))
    z0 = float(norm.ppf(prop))
    d = jack.mean() - jack
    den = 6.0 * float(np.sum(d * d)) ** 1.5
    a = float(np.sum(d**3)) / den if den > 0 else 0.0
    p = 1.0 - cl
    z = norm.ppf([p / 2.0, 1.0 - p / 2.0])
    adj = norm.cdf(z0 + (z0 + z) / (1.0 - a * (z0 + z)))
    lo, hi = np.quantile(boot, adj)
    return float(lo), float(hi), z0, a


# ---------------------------------------------------------------------------------------------
# result


@dataclasses.dataclass(frozen=True, repr=False)
class AlphaResult(Result):
    """Cronbach's alpha and psych::alpha's companions (see :func:`alpha`)."""

    raw_alpha: float
    std_alpha: float
    g6: float
    average_r: float
    s_n: float
    ase: float
    mean: float
    sd: float
    median_r: float
    var_r: float
    confidence_level: float
    ci_method: str
    ci_lower: float
    ci_upper: float
    feldt_lower: float
    feldt_upper: float
    duhachek_lower: float
    duhachek_upper: float
    duhachek_z: float
    alpha_drop: pd.DataFrame
    item_stats: pd.DataFrame
    response_freq: pd.DataFrame | None
    items: tuple[str, ...]
    reverse: tuple[str, ...]
    reverse_range: tuple[float, float] | None
    n_obs: int
    n_items: int
    missing: str
    rows_dropped: int
    n_pairwise: np.ndarray
    min_pairwise_n: int
    boot_alphas: np.ndarray | None = None
    n_boot_failed: int = 0
    bca_z0: float = math.nan
    bca_acceleration: float = math.nan
    seed: Any = None

    _schema = "psychoval.alpha/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"raw_alpha": self.raw_alpha, "std_alpha": self.std_alpha,
                "ci": f"[{self.ci_lower:.3f}, {self.ci_upper:.3f}] ({self.ci_method})",
                "k": self.n_items, "n": self.n_obs}

    def summary(self) -> Summary:
        facts = (
            ("raw alpha", self.raw_alpha),
            ("standardized alpha", self.std_alpha),
            ("Guttman lambda 6 (smc)", self.g6),
            ("average r", self.average_r),
            ("median r", self.median_r),
            ("signal/noise", self.s_n),
            ("ASE", self.ase),
            (f"{self.confidence_level:.0%} CI ({self.ci_method})",
             f"[{self.ci_lower:.3f}, {self.ci_upper:.3f}]"),
            ("total mean (item mean)", self.mean),
            ("total sd (item mean)", self.sd),
            ("items", self.n_items),
            ("respondents (n for intervals)", self.n_obs),
            ("smallest pairwise n", self.min_pairwise_n),
        )
        notes = [f"missing={self.missing!r}"
                 + (f"; {self.rows_dropped} incomplete row(s) dropped" if self.rows_dropped else "")]
        if self.reverse:
            lo, hi = self.reverse_range  # type: ignore[misc]
            notes.append(f"reversed as {lo:g} + {hi:g} - x: {', '.join(self.reverse)}")
        tables = [("If the item is dropped", self.alpha_drop), ("Item statistics", self.item_stats)]
        if self.response_freq is not None:
            tables.append(("Response frequencies", self.response_freq))
        return Summary(title="Cronbach's alpha", facts=facts, tables=tuple(tables),
                       notes=tuple(notes))

    def to_frame(self) -> pd.DataFrame:
        """One row per item: item statistics and the statistics if the item is dropped."""
        drop = self.alpha_drop.add_prefix("drop_")
        out = self.item_stats.join(drop)
        out.insert(0, "item", out.index.astype(str))
        out.insert(1, "reversed", [i in self.reverse for i in out["item"]])
        return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# public function


def alpha(
    data: Any,
    *,
    reverse: Sequence[str] | str | None = None,
    missing: str = "pairwise",
    confidence_level: float = 0.95,
    ci_method: str = "feldt",
    n_boot: int = 1000,
    seed: Any = None,
    progress: Callable[[int, int], Any] | bool | None = None,
    duhachek_z: float | None = None,
    reverse_range: tuple[float, float] | None = None,
    max_categories: int = 10,
) -> AlphaResult:
    """Cronbach's alpha with standardized alpha, lambda 6, item statistics and intervals.

    Estimates the internal-consistency reliability of the total (or mean) score of the
    items, assuming essentially tau-equivalent items (alpha is a lower bound otherwise).
    Reproduces every quantity of ``psych::alpha`` (psych 2.2.9).

    Parameters
    ----------
    data : DataFrame, ResponseTable, 2-d array, Moments, a dask or Spark DataFrame
        Respondents in rows, items in columns (numeric; NaN = missing). Merged
        :class:`Moments` of chunks of rows (or a dask collection / Spark DataFrame,
        summarised per partition) give the same result as the concatenated rows, except
        the bootstrap intervals and ``reverse=``, which need the rows (refused), and the
        response frequencies under
        ``missing="listwise"`` with missing answers (None). :class:`BootstrapMoments` add
        ``ci_method="bootstrap"``: the percentile interval of their Poisson-bootstrap
        replicates (``n_boot`` and ``seed`` are theirs).
    reverse : sequence of str, optional
        Items to reverse-key as ``lo + hi - x`` before anything is computed. ``lo`` and ``hi``
        are the smallest and largest observed values over all the items (psych's rule), unless
        ``reverse_range`` gives the scale's endpoints. Nothing is reversed automatically.
    missing : {"pairwise", "listwise", "raise"}
        ``"pairwise"`` (psych's default): pairwise-complete covariances; n for intervals and
        standard errors is the number of rows. ``"listwise"`` drops incomplete rows first.
    confidence_level : float
        Coverage of the interval, default 0.95.
    ci_method : {"feldt", "duhachek", "bootstrap", "bca"}
        Which interval fills ``ci_lower``/``ci_upper``. The Feldt and Duhachek intervals are
        always reported as well.
    n_boot : int
        Bootstrap resamples for ``"bootstrap"`` and ``"bca"``.
    seed : int or numpy Generator, optional
        Seed of the bootstrap (reproducible for a given seed).
    progress : callable or bool, optional
        ``progress(done, total)`` called after each batch of bootstrap resamples; ``True``
        draws a one-line counter on standard error (for terminals).
    duhachek_z : float, optional
        Normal quantile of the Duhachek interval. Default: the exact quantile for
        ``confidence_level``; ``duhachek_z=1.96`` reproduces psych's printed interval.
    reverse_range : (float, float), optional
        Scale endpoints used to reverse-key, instead of the observed minimum and maximum.
    max_categories : int
        Response frequencies are tabulated when the items use at most this many distinct
        values (psych's ``max = 10``); otherwise ``response_freq`` is None.

    Returns
    -------
    AlphaResult
        ``raw_alpha``, ``std_alpha``, ``g6``, ``average_r``, ``s_n``, ``ase``, ``mean``,
        ``sd``, ``median_r``, ``var_r``; the chosen interval ``ci_lower``/``ci_upper`` and the
        Feldt and Duhachek intervals; ``alpha_drop`` (per item: ``raw_alpha``, ``std_alpha``,
        ``g6``, ``average_r``, ``s_n``, ``alpha_se``, ``var_r``, ``med_r`` without the item);
        ``item_stats`` (``n``, ``raw_r``, ``std_r``, ``r_cor``, ``r_drop``, ``mean``, ``sd``);
        ``response_freq``; n used, pairwise n and its minimum.

    Raises
    ------
    DataError
        Fewer than 2 items or rows, an item with no variance or fewer than 2 answers, a pair
        of items never answered together, non-numeric data, or an item whose values are so
        far from 0 relative to their spread that float64 no longer holds their differences
        (e.g. 1e15 + a score with decimals: subtract a constant first).
    SpecificationError
        An unknown option value or a ``reverse`` item that is not analysed.

    Warns
    -----
    PsychovalWarning
        An item correlates negatively with the sum of the other items (``r_drop < 0``): it
        probably needs ``reverse=``.

    Notes
    -----
    With item covariance matrix C (k items) and correlation matrix R:
    ``raw_alpha = k/(k-1) * (1 - tr(C)/sum(C))``, ``std_alpha = k/(k-1) * (1 - k/sum(R))``,
    ``g6 = 1 - (k - sum(smc))/sum(R)``, ``average_r = (sum(R) - k)/(k(k-1))``,
    ``s_n = k * average_r / (1 - average_r)``. The asymptotic standard error (Duhachek &
    Iacobucci 2004, as psych) is ``ase = sqrt(Q/n)`` with
    ``Q = 2k^2/((k-1)^2 sum(C)^3) * (sum(C)(tr(C^2) + tr(C)^2) - 2 tr(C) sum(C^2))``.
    Feldt's interval: ``1 - (1 - alpha) F_{1-p/2, 1-p/2}(n-1, (n-1)(k-1))``.
    ``mean`` and ``sd`` are those of each respondent's mean over the items answered.
    ``r_cor`` is the item-total correlation corrected for overlap and unreliability (smc
    on the diagonal), ``r_drop`` the correlation with the sum of the other items.
    The bootstrap draws multinomial resampling weights and applies them to the per-row
    cross-products (no data copies); BCa adds the jackknife acceleration (Efron 1987).

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika, 16, 297-334. https://doi.org/10.1007/BF02310555

    Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson
    reliability coefficient twenty. Psychometrika, 30, 357-370.
    https://doi.org/10.1007/BF02289499

    Duhachek, A., & Iacobucci, D. (2004). Alpha's standard error (ASE). Journal of Applied
    Psychology, 89, 792-808. https://doi.org/10.1037/0021-9010.89.5.792

    Efron, B. (1987). Better bootstrap confidence intervals. JASA, 82, 171-185.
    https://doi.org/10.1080/01621459.1987.10478410

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> x = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4], [5, 4, 5]])
    >>> res = pv.alpha(x)
    >>> round(res.raw_alpha, 6)   # psych::alpha(as.data.frame(x))$total$raw_alpha
    0.933333
    >>> round(res.ci_lower, 6), round(res.ci_upper, 6)   # psych::alpha(as.data.frame(x))$feldt
    (0.663158, 0.992576)
    """
    check_choice("ci_method", ci_method, CI_METHODS)
    cl = check_confidence_level(confidence_level)
    if progress is True:
        progress = _terminal_progress
    elif progress is False:
        progress = None
    if ci_method in ("bootstrap", "bca"):
        if not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
            from psychoval.exceptions import SpecificationError

            raise SpecificationError(f"n_boot={n_boot!r} must be an integer of at least 2")
    boot = data if isinstance(data, BootstrapMoments) else None
    mo = boot.moments if boot is not None else as_moments(data)
    if mo is not None:
        return _alpha_moments(mo, reverse=reverse, missing=missing, cl=cl, ci_method=ci_method,
                              duhachek_z=duhachek_z, max_categories=max_categories, boot=boot)
    m, info, rev, rng, colsum = _prepare_fast(data, reverse, missing, reverse_range)
    x = m.values
    n, k = x.shape
    has_missing = bool(info.any_missing)
    # with missing data the frequencies are counted inside the moments' blocked pass (the
    # blocks are in cache there); responses as given, so not when items are reverse-keyed
    counter = _IntCounts(k) if has_missing and not rev else None

    def _freq() -> pd.DataFrame | None:
        # frequencies of the responses as given (before reverse-keying), as psych
        if rev:
            idx = [m.items.index(i) for i in rev]
            x_raw = x.copy()
            x_raw[:, idx] = (rng[0] + rng[1]) - x_raw[:, idx]
        else:
            x_raw = x
        return _response_freq(x_raw, has_missing, m.items, max_categories, counter)

    # on large data, count frequencies in a second thread while BLAS forms X'X (numpy releases
    # the GIL in the casts and comparisons): the two overlap on a multi-core machine
    pool = freq_job = None
    if n * k >= _THREAD_MIN_CELLS and counter is None:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1)
        freq_job = pool.submit(_freq)
    try:
        return _alpha_rest(m, info, rev, rng, colsum, x, has_missing, cl, ci_method, n_boot,
                           seed, progress, duhachek_z, freq_job, _freq, counter)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _alpha_rest(m, info, rev, rng, colsum, x, has_missing, cl, ci_method, n_boot, seed,
                progress, duhachek_z, freq_job, freq_fn, counter=None) -> AlphaResult:
    """The body of :func:`alpha` after validation (split out so the frequency thread is
    always shut down)."""
    n, k = x.shape
    mom = _moments(x, has_missing, colsum, None if counter is None else counter.add)
    if mom.sums is not None and not np.isfinite(mom.sums.cross).all():
        from psychoval._input import as_item_matrix

        as_item_matrix(x)  # an infinite response (the fast path's NaN test let it by): raises
    # data beyond ~1e150 (squares overflow) or below ~1e-150 (products underflow): divide by
    # a power of two (exact) and compute again; ``unit`` restores means and SDs at the end
    unit = _unit(x, mom)
    if unit is not None:
        x = x / unit
        mom = _moments(x, has_missing, None if colsum is None else colsum / unit)
    scale = 1.0 if unit is None else unit
    for j in np.flatnonzero(mom.nobs < 2):
        raise DataError(f"item {m.items[j]!r} has {int(mom.nobs[j])} answer(s); at least 2 are "
                        "needed. Drop the item or supply more responses")
    for j in np.flatnonzero(~(np.diag(mom.cov) > 0)):
        value = mom.means[j] * scale
        if j in [m.items.index(i) for i in rev]:
            value = rng[0] + rng[1] - value
        raise DataError(f"item {m.items[j]!r} has no variance (every answer is {value:g}); "
                        "drop it from the items analysed")
    if not mom.complete:
        bad = np.argwhere(mom.npair < 2)
        if bad.size:
            i, j = bad[0]
            raise DataError(
                f"items {m.items[i]!r} and {m.items[j]!r} are answered together by "
                f"{int(mom.npair[i, j])} respondent(s); pairwise covariances need at least 2. "
                "Drop one of them or use more data"
            )
    c = mom.cov
    sd_items = np.sqrt(np.diag(c))
    # values far from 0 relative to their spread (1e15 + x): refused when float64 has
    # rounded away the differences between respondents
    check_resolution(x, mom.means, sd_items, m.items, scale=scale)
    # smc of every item, and of every item within the set without item i (G6 if dropped);
    # with complete data and no more rows than items, from the n x n Gram matrix
    z = None
    if mom.complete and n <= k:
        z = x - mom.means
        z -= (np.ones(n) @ z) / n
        z /= sd_items * math.sqrt(n - 1)
    totals = None if mom.complete else _row_totals(mom)
    freq = freq_job.result() if freq_job is not None else freq_fn()

    def boot_fn(raw: float):
        obs = None if mom.complete else ~np.isnan(x)
        boot_all = _bootstrap(x, obs, int(n_boot), seed, progress)
        jack = _jackknife(x, obs) if ci_method == "bca" else None
        return boot_all, jack

    return _alpha_result(
        c, mom.means, mom.nobs, mom.npair, n, z=z, totals=totals, scale=scale, items=m.items,
        rev=rev, rng=rng, policy=info.policy, rows_dropped=len(info.rows_dropped), cl=cl,
        ci_method=ci_method, n_boot=n_boot, duhachek_z=duhachek_z, freq=freq,
        boot_fn=boot_fn, seed=seed)


def _row_totals(mom: _Mom) -> tuple[float, float, np.ndarray]:
    """Mean and SD of each respondent's mean of answered items, and each item's correlation
    with it over its rows (missing data; from the pairwise sums)."""
    k = mom.cov.shape[0]
    ps = mom.sums
    cnt = ps.cnt
    with np.errstate(invalid="ignore", divide="ignore"):
        # each row's mean of the items it answered, less row_center (no cancellation
        # when the values are far from 0)
        tdev = ps.rowdev / cnt
    tobs = cnt > 0
    tv = tdev[tobs]
    shift_t = float(tv.mean())
    mean_t = ps.row_center + shift_t
    sd_t = float(tv.std(ddof=1))
    tc = np.where(tobs, tdev - shift_t, 0.0)
    tc2 = tc * tc
    nj = mom.nobs.astype(float)
    # sums over each item's rows = over all rows - over the rows missing it
    st = tc.sum() - np.bincount(ps.miss_c, weights=tc[ps.miss_r], minlength=k)
    stt = tc2.sum() - np.bincount(ps.miss_c, weights=tc2[ps.miss_r], minlength=k)
    sx, sxx = ps.sx, ps.sxx
    # sum of tc * z over each item's rows: zrow = sum((total - row_center) * z); rows
    # without a total have z = 0
    stx = ps.zrow - shift_t * sx
    cov_tx = stx - st * sx / nj
    with np.errstate(invalid="ignore", divide="ignore"):
        raw_r = cov_tx / np.sqrt((stt - st * st / nj) * (sxx - sx * sx / nj))
    return mean_t, sd_t, raw_r


def _alpha_result(c: np.ndarray, means: np.ndarray, nobs: np.ndarray, npair: np.ndarray | None,
                  n: int, *, z: np.ndarray | None,
                  totals: tuple[float, float, np.ndarray] | None, scale: float,
                  items: tuple[str, ...], rev: tuple[str, ...], rng: Any, policy: str,
                  rows_dropped: int, cl: float, ci_method: str, n_boot: int,
                  duhachek_z: float | None, freq: pd.DataFrame | None,
                  boot_fn: Callable[[float], tuple[np.ndarray, np.ndarray | None]] | None,
                  seed: Any) -> AlphaResult:
    """Every statistic of :class:`AlphaResult` from the (checked) covariance matrix ``c``,
    item means and counts, and the mean-score statistics ``totals`` (None: complete data,
    where they follow from ``c``). Shared by the data and the :class:`Moments` paths."""
    k = c.shape[0]
    sd_items = np.sqrt(np.diag(c))
    r = c / np.outer(sd_items, sd_items)
    np.fill_diagonal(r, 1.0)
    smc, smc_sums = smc_and_dropped(r, z=z)
    tot = _alpha_stats(c, float(smc.sum()), r)
    ase = math.sqrt(tot["q"] / n) if tot["q"] >= 0 else math.nan

    # alpha if an item is dropped (closed forms on C and R: O(k^2) per statistic)
    keys = ("raw_alpha", "std_alpha", "g6", "average_r", "s_n", "alpha_se", "var_r", "med_r")
    if k > 2:
        drop = _drop_stats(c, r, smc_sums, n)
        drop = {key: drop[key] for key in keys}
    else:
        drop = {key: np.full(k, np.nan) for key in keys}
    alpha_drop = pd.DataFrame(drop, index=pd.Index(items, name="item"))

    # item statistics
    sum_r = r.sum()
    rc = r.copy()
    np.fill_diagonal(rc, smc)
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN, as psych, if a sum is < 0
        std_r = r.sum(axis=0) / np.sqrt(sum_r)
        r_cor = rc.sum(axis=0) / np.sqrt(rc.sum())
    del rc
    colsum_c = c.sum(axis=0)
    sum_c = c.sum()
    diag_c = np.diag(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_drop = (colsum_c - diag_c) / np.sqrt(diag_c * (sum_c - 2 * colsum_c + diag_c))
    if totals is None:
        # total = mean of the k items: its moments follow from C exactly
        mean_t = float(means.mean())
        sd_t = float(np.sqrt(sum_c)) / k if sum_c >= 0 else math.nan
        raw_r = colsum_c / np.sqrt(diag_c * sum_c)
    else:
        mean_t, sd_t, raw_r = totals
    # diagonal of the pairwise covariance = each item's own variance
    item_sd = sd_items * scale
    mean_t *= scale
    sd_t *= scale
    item_stats = pd.DataFrame(
        {"n": nobs, "raw_r": raw_r, "std_r": std_r, "r_cor": r_cor, "r_drop": r_drop,
         "mean": means * scale, "sd": item_sd},
        index=pd.Index(items, name="item"),
    )
    negative = [items[j] for j in np.flatnonzero(r_drop < 0)]
    if negative:
        warn(
            f"item(s) {', '.join(map(repr, negative))} correlate negatively with the sum of the "
            "other items (r_drop < 0); if they are reverse-keyed, pass reverse=[...]",
            PsychovalWarning, stacklevel=4)

    # intervals
    from scipy.stats import norm

    raw = tot["raw_alpha"]
    f_lo, f_hi = feldt_interval(raw, n, k, cl)
    z = float(norm.ppf(1.0 - (1.0 - cl) / 2.0)) if duhachek_z is None else float(duhachek_z)
    d_lo, d_hi = raw - z * ase, raw + z * ase
    boot = None
    n_failed = 0
    z0 = acc = math.nan
    if ci_method == "feldt":
        lo, hi = f_lo, f_hi
    elif ci_method == "duhachek":
        lo, hi = d_lo, d_hi
    else:
        boot_all, jack = boot_fn(raw)
        finite = np.isfinite(boot_all)
        n_failed = int((~finite).sum())
        boot = boot_all
        if n_failed:
            warn(
                f"{n_failed} of {n_boot} bootstrap resamples gave no alpha (a pair of items "
                "never answered together in the resample); the interval uses the others",
                DegenerateDataWarning, stacklevel=4)
        good = boot_all[finite]
        if ci_method == "bootstrap":
            lo, hi = _percentile_interval(good, cl)
        else:
            lo, hi, z0, acc = _bca_interval(good, jack[np.isfinite(jack)], raw, cl)

    return AlphaResult(
        raw_alpha=raw, std_alpha=tot["std_alpha"], g6=tot["g6"], average_r=tot["average_r"],
        s_n=tot["s_n"], ase=ase, mean=mean_t, sd=sd_t, median_r=tot["med_r"],
        var_r=tot["var_r"], confidence_level=cl, ci_method=ci_method, ci_lower=lo,
        ci_upper=hi, feldt_lower=f_lo, feldt_upper=f_hi, duhachek_lower=d_lo,
        duhachek_upper=d_hi, duhachek_z=z, alpha_drop=alpha_drop, item_stats=item_stats,
        response_freq=freq, items=items, reverse=rev, reverse_range=rng, n_obs=n,
        n_items=k, missing=policy, rows_dropped=rows_dropped,
        n_pairwise=(npair if npair is not None else np.full((k, k), n, dtype="int64")),
        min_pairwise_n=int(npair.min()) if npair is not None else n,
        boot_alphas=boot, n_boot_failed=n_failed, bca_z0=z0, bca_acceleration=acc,
        seed=seed if isinstance(seed, (int, np.integer, type(None))) else repr(seed),
    )


def _alpha_moments(mo: Moments, *, reverse: Any, missing: str, cl: float, ci_method: str,
                   duhachek_z: float | None, max_categories: int,
                   boot: BootstrapMoments | None = None) -> AlphaResult:
    """:func:`alpha` from merged :class:`Moments` (no rows): the same statistics as from the
    concatenated data; the bootstrap interval only from :class:`BootstrapMoments` (the
    percentile interval of its Poisson replicates), BCa never (its jackknife needs rows)."""
    check_choice("missing", missing, ("pairwise", "listwise", "raise"))
    if ci_method == "bca" or (ci_method == "bootstrap" and boot is None):
        refuse(f"ci_method={ci_method!r}",
               "resampling needs the respondents' rows; use 'feldt' or 'duhachek', "
               "summarise the chunks with BootstrapMoments (ci_method='bootstrap', Poisson "
               "replicates), or compute the bootstrap where the rows are")
    if reverse:
        refuse("reverse=", "reverse-key the items before summarising the chunks (each "
               "respondent's mean score changes with the keying)")
    check_usable(mo, missing)
    listwise = missing == "listwise" and not mo.complete
    if listwise:
        c = mo.cov("listwise")
        means = mo.means("listwise")
        n = mo.n_complete
        nobs = np.full(mo.k, n, dtype=np.int64)
        npair = None
        totals = None
    else:
        c = mo.cov("pairwise")
        means = mo.means("pairwise")
        n = mo.n
        nobs = mo.nobs
        npair = None if mo.complete else mo.npair
        totals = None if mo.complete else mo.total_score()
    if n < 2:
        raise DataError(f"data has {n} respondent(s); this statistic needs at least 2")
    for j in np.flatnonzero(nobs < 2):
        raise DataError(f"item {mo.columns[j]!r} has {int(nobs[j])} answer(s); at least 2 "
                        "are needed. Drop the item or supply more responses")
    for j in np.flatnonzero(~(np.diag(c) > 0)):
        raise DataError(f"item {mo.columns[j]!r} has no variance (every answer is "
                        f"{means[j]:g}); drop it from the items analysed")
    if npair is not None:
        bad = np.argwhere(npair < 2)
        if bad.size:
            i, j = bad[0]
            raise DataError(
                f"items {mo.columns[i]!r} and {mo.columns[j]!r} are answered together by "
                f"{int(npair[i, j])} respondent(s); pairwise covariances need at least 2. "
                "Drop one of them or use more data")
    freq = None if listwise else _freq_from_moments(mo, max_categories)
    return _alpha_result(
        c, means, nobs, npair, n, z=None, totals=totals, scale=1.0, items=mo.columns, rev=(),
        rng=None, policy=missing, rows_dropped=mo.n - n, cl=cl, ci_method=ci_method,
        n_boot=0 if boot is None else boot.n_replicates, duhachek_z=duhachek_z, freq=freq,
        boot_fn=None if boot is None else (
            lambda raw: (boot.replicate_alphas("listwise" if listwise else "pairwise"), None)),
        seed=None if boot is None else boot.seed)
