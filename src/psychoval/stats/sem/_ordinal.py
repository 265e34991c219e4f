"""Ordinal CFA, first slice (lavaan 0.6.14's ``ordered =`` / ``estimator = "WLSMV"``).

Not wired into :func:`psychoval.cfa` yet. Two pieces:

:func:`ordinal_sample_stats` - lavaan's categorical sample statistics of one group
(``missing = "listwise"`` or ``"pairwise"``): the thresholds of every item (probit, no
covariates), the polychoric correlations by the two-step estimator
(``polychoric(method="lavaan")``), and their asymptotic covariance matrix ``NACOV``
(lavaan's ``Gamma``; Muthen 1984, lavaan's ``muthen1984()``). With per-respondent scores
``SC = [SC_th, SC_rho]`` (threshold scores of the univariate probit likelihoods, correlation
scores of the bivariate ones at the two-step estimates), ``INNER = SC' SC``, ``A11`` the
block-diagonal (per item) part of ``SC_th' SC_th``, ``A21[pair, th] = sum_n SC_rho[n, pair]
d log pi_pair / d th``, ``A22 = diag(SC_rho' SC_rho)`` and ``B^-1 = [[A11^-1, 0], [-A22^-1
A21 A11^-1, A22^-1]]``:

    NACOV = N  B^-1 INNER B^-T

Element order as lavaan's ``WLS.obs``: all thresholds (item by item, in the item order),
then the correlations below the diagonal column by column (``vech(R, diagonal = FALSE)``).

Missing data (lavaan's ``missing = "pairwise"``): rows with every item missing are dropped
(lavaan's empty cases) and N is the number of the others; each item's thresholds use its own
answers, each polychoric its pair's complete rows, and a score is 0 where its response is
missing (lavaan's scores are NA there and ``lav_matrix_crossprod`` / ``sum(na.rm = TRUE)``
drop them), so INNER, A11, A21 and A22 sum over the rows that have the responses. Empty
cells: a pair's score of a cell with likelihood <= sqrt(eps) is 0 (lavaan: NA); the
polychoric of a 2 x 2 table with one empty cell comes from the zero.add-corrected table
while the scores use the data at that rho; with two empty cells (rho = +-1) lavaan's scores
take 0.5 phi(tau) for the threshold derivatives and its density caps |rho| at 0.9999
(``dbinorm``), both reproduced (with a DegenerateDataWarning).

The fit itself (DWLS / WLSMV and the other estimators, the delta and theta
parameterizations) is :func:`psychoval.stats.sem._cfa_ordinal.fit_ordinal`;
:func:`psychoval.stats.sem._cfa_ordinal.fit_dwls` is its model-syntax front.

Continuous indicators next to ordered ones: :mod:`._ordinal_mixed`.

Not yet: several groups, covariates, the theta
parameterization, mean structures and equality constraints on thresholds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any
from warnings import warn

import numpy as np
import pandas as pd

from psychoval.exceptions import (
    DataError,
    DegenerateDataWarning,
    SpecificationError,
    collect_warnings,
)
from psychoval.exceptions import warn as psychoval_warn
from psychoval.stats.core._bvn import bvn_cdf, bvn_pdf
from psychoval.stats.factor._polychoric import polychoric

__all__ = ["OrdinalSampleStats", "ordinal_sample_stats", "pair_scores"]


@dataclasses.dataclass(frozen=True, eq=False)
class OrdinalSampleStats:
    """Thresholds, polychoric correlations and their NACOV (lavaan's order, see module)."""

    items: tuple[str, ...]
    thresholds: np.ndarray  # all thresholds, item by item
    threshold_item: np.ndarray  # index of each threshold's item
    threshold_names: tuple[str, ...]  # "A1|t1", ...
    cor: np.ndarray  # (k, k) polychoric correlations
    nacov: np.ndarray  # (nth + k(k-1)/2) square, lavaan's Gamma
    nobs: int
    missing: str = "listwise"  # "listwise" or "pairwise"
    n_pairwise: np.ndarray | None = None  # (k, k) rows that answered both items
    # continuous indicators (lavaan's "numeric" ov.types): per item, True if continuous; their
    # threshold slot holds minus the mean and ``var`` their ML variances (1 for ordered items)
    numeric: tuple[bool, ...] = ()
    var: np.ndarray | None = None

    @property
    def numeric_idx(self) -> np.ndarray:
        """Indices of the continuous items (empty when every item is ordered)."""
        return np.flatnonzero(np.asarray(self.numeric, dtype=bool)) if self.numeric \
            else np.zeros(0, dtype=int)

    @property
    def numeric_slot(self) -> np.ndarray:
        """Per threshold slot: True for a continuous item's (minus) mean."""
        if not self.numeric:
            return np.zeros(self.thresholds.size, dtype=bool)
        return np.asarray(self.numeric, dtype=bool)[self.threshold_item]

    @property
    def cov(self) -> np.ndarray:
        """lavaan's sample ``cov``: the correlations with the continuous items' SDs."""
        if self.var is None:
            return self.cor
        sd = np.sqrt(self.var)
        return self.cor * np.outer(sd, sd)

    @property
    def cor_vech(self) -> np.ndarray:
        """Correlations below the diagonal, column by column (lavaan's vech, no diagonal)."""
        c, r = np.triu_indices(len(self.items), 1)
        return self.cor[r, c]

    @property
    def cov_vech(self) -> np.ndarray:
        """``cov`` below the diagonal, column by column (the correlations when every item
        is ordered)."""
        c, r = np.triu_indices(len(self.items), 1)
        return self.cov[r, c]

    @property
    def wls_obs(self) -> np.ndarray:
        """lavaan's ``WLS.obs``: thresholds (minus the means of continuous items), the
        variances of continuous items, then the off-diagonal (co)variances."""
        if self.var is None:
            return np.concatenate([self.thresholds, self.cor_vech])
        return np.concatenate([self.thresholds, self.var[self.numeric_idx], self.cov_vech])

    @property
    def names(self) -> tuple[str, ...]:
        """lavaan's names of the NACOV rows: ``A1|t1``, ..., (``A3~1``, ``A3~~A3`` of a
        continuous A3), ``A1~~A2``, ..."""
        c, r = np.triu_indices(len(self.items), 1)
        var = tuple(f"{self.items[j]}~~{self.items[j]}" for j in self.numeric_idx)
        return self.threshold_names + var + tuple(f"{self.items[a]}~~{self.items[b]}"
                                                  for a, b in zip(c, r, strict=True))


def _codes(values: np.ndarray, items: Sequence[str]
           ) -> tuple[np.ndarray, list[int], list[np.ndarray]]:
    """0-based codes of each item's observed categories (lavaan: ``ordered()`` levels);
    -1 marks a missing response. Also the categories (each item's observed values, sorted).
    Whole-number values spanning a few thousand codes are coded by one bincount; other
    values item by item with ``np.unique`` (the same codes)."""
    n, k = values.shape
    seen = ~np.isnan(values)
    filled = np.where(seen, values, 0.0)
    lo = float(filled.min()) if n else 0.0
    span = float(filled.max()) - lo + 1 if n else 1.0
    if n and span <= 4096 and np.array_equal(filled, np.floor(filled)):
        span_i = int(span)
        # missing cells go to a dummy bin past the end
        flat = np.where(seen, (filled - lo).astype(np.int64) + np.arange(k) * span_i,
                        k * span_i)
        present = np.bincount(flat.ravel(), minlength=k * span_i + 1)[:-1].reshape(
            k, span_i) > 0
        lut = np.cumsum(present, axis=1) - 1
        codes = np.where(seen, lut[np.arange(k), flat % span_i], -1)
        cats = [lo + np.flatnonzero(present[j]) for j in range(k)]
    else:
        codes = np.full((n, k), -1, dtype=np.int64)
        cats = []
        for j in range(k):
            c, inv = np.unique(values[seen[:, j], j], return_inverse=True)
            codes[seen[:, j], j] = inv.ravel()
            cats.append(c)
    ncat = [int(c.size) for c in cats]
    for j in range(k):
        if ncat[j] < 2:
            raise DataError(f"item {items[j]!r} has fewer than two observed categories; "
                            "drop it")
    return codes.astype(np.int64, copy=False), ncat, cats


def _distinct_rows(codes: np.ndarray, ncat: list[int]
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """The distinct rows of ``codes`` (-1 = missing) and their counts when there are at
    most half as many as rows (else None: weighting would not pay)."""
    rows = codes.shape[0]
    radix = [c + 1 for c in ncat]
    if rows < 64 or float(np.prod(np.array(radix, dtype=float))) >= 2.0 ** 62:
        return None
    key = np.zeros(rows, dtype=np.int64)
    for j, r in enumerate(radix):  # mixed radix, item 1 the most significant digit
        key *= r
        key += codes[:, j] + 1
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    if 2 * first.size > rows:
        return None
    return codes[first], np.bincount(inv.ravel(), minlength=first.size).astype(np.int64)


# The statistics of the last few inputs, keyed by their content: the models of one run
# fitted to the same items (a tier's correlated and second-order models) share them.
_CACHE: OrderedDict[tuple, tuple[OrdinalSampleStats, tuple]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_ENTRIES = 4
_CACHE_BYTES = 400e6

_SQRT_EPS = float(np.sqrt(np.finfo(float).eps))


def _dbinorm(u: np.ndarray, v: np.ndarray, rho: float) -> np.ndarray:
    """lavaan's ``dbinorm``: the bivariate normal density with |rho| capped at 0.9999."""
    return bvn_pdf(u, v, float(np.clip(rho, -0.9999, 0.9999)))


def pair_scores(e1: np.ndarray, e2: np.ndarray, rho: float):
    """Per-cell scores of one pair's bivariate probit likelihood at (thresholds, rho), as
    lavaan's ``lav_bvord_cor_scores``: (d log pi / d rho, d log pi / d tau1, d log pi /
    d tau2) on the (C1, C2) grid of cells, 0 where pi <= sqrt(eps) (lavaan: NA, dropped by
    its NA-removing cross-products). At rho = +-1 (two empty cells of a 2 x 2 table) lavaan
    uses 0.5 phi(tau) for the threshold terms and caps the density's rho at 0.9999."""
    from scipy.special import ndtr

    big = bvn_cdf(e1[:, None], e2[None, :], rho)
    pi = big[1:, 1:] - big[:-1, 1:] - big[1:, :-1] + big[:-1, :-1]
    den = _dbinorm(e1[:, None], e2[None, :], rho)
    dpi = den[1:, 1:] - den[:-1, 1:] - den[1:, :-1] + den[:-1, :-1]
    t1, t2 = e1[1:-1], e2[1:-1]
    phi1 = np.exp(-0.5 * t1 * t1) / np.sqrt(2 * np.pi)
    phi2 = np.exp(-0.5 * t2 * t2) / np.sqrt(2 * np.pi)
    c1, c2 = e1.size - 1, e2.size - 1
    if abs(rho) >= 1.0:  # lavaan: identical(R, 0)
        g1 = np.broadcast_to(0.5 * phi1[:, None], (c1 - 1, c2))
        g2 = np.broadcast_to(0.5 * phi2[:, None], (c2 - 1, c1))
    else:
        rr_ = np.sqrt(1.0 - rho * rho)
        # d pi_ab / d tau1_k = phi(tau1_k) [Phi((tau2_b - rho tau1_k)/R) - Phi((tau2_{b-1}
        # - rho tau1_k)/R)], and the same for tau2
        g1 = phi1[:, None] * np.diff(ndtr((e2[None, :] - rho * t1[:, None]) / rr_), axis=1)
        g2 = phi2[:, None] * np.diff(ndtr((e1[None, :] - rho * t2[:, None]) / rr_), axis=1)
    d_t1 = np.zeros((c1, c2, c1 - 1))
    k1 = np.arange(c1 - 1)
    d_t1[k1, :, k1] = g1
    d_t1[k1 + 1, :, k1] -= g1
    d_t2 = np.zeros((c1, c2, c2 - 1))
    k2 = np.arange(c2 - 1)
    d_t2[:, k2, k2] = g2.T
    d_t2[:, k2 + 1, k2] -= g2.T
    ok = pi > _SQRT_EPS  # lavaan clamps pi at sqrt(eps), then a likelihood <= sqrt(eps) is NA
    safe = np.where(ok, pi, 1.0)
    s_rho = np.where(ok, dpi / safe, 0.0)
    s_t1 = np.where(ok[:, :, None], d_t1 / safe[:, :, None], 0.0)
    s_t2 = np.where(ok[:, :, None], d_t2 / safe[:, :, None], 0.0)
    return s_rho, s_t1, s_t2


def _all_pair_scores(e1: np.ndarray, e2: np.ndarray, rho: np.ndarray):
    """:func:`pair_scores` of every pair at once (lavaan's ``lav_bvord_cor_scores``):
    ``e1``, ``e2`` (P, C+1) are the pairs' cut points (-inf, thresholds, +inf; +inf past an
    item's last category, whose cells then have probability 0), ``rho`` (P,). Returns
    ``s_rho`` = d log pi / d rho on the (P, C, C) grid of cells; ``g1`` (P, C-1, C) with
    d pi_ab / d tau1_t = ``g1[t, b]`` for a = t and ``-g1[t, b]`` for a = t + 1; ``g2`` the
    same for tau2 (indexed (t, a)); and ``inv_pi`` = 1 / pi. Scores and ``inv_pi`` are 0
    where pi <= sqrt(eps) (lavaan: NA, dropped by its NA-removing cross-products); at rho =
    +-1 the threshold terms are 0.5 phi(tau) and the density caps |rho| at 0.9999, as
    :func:`pair_scores`."""
    from scipy.special import ndtr

    r3 = rho[:, None, None]
    big = bvn_cdf(e1[:, :, None], e2[:, None, :], r3)
    pi = big[:, 1:, 1:] - big[:, :-1, 1:] - big[:, 1:, :-1] + big[:, :-1, :-1]
    den = bvn_pdf(e1[:, :, None], e2[:, None, :], np.clip(r3, -0.9999, 0.9999))
    dpi = den[:, 1:, 1:] - den[:, :-1, 1:] - den[:, 1:, :-1] + den[:, :-1, :-1]
    t1, t2 = e1[:, 1:-1], e2[:, 1:-1]
    f1, f2 = np.isfinite(t1), np.isfinite(t2)
    t1, t2 = np.where(f1, t1, 0.0), np.where(f2, t2, 0.0)
    phi1 = np.where(f1, np.exp(-0.5 * t1 * t1) / np.sqrt(2 * np.pi), 0.0)
    phi2 = np.where(f2, np.exp(-0.5 * t2 * t2) / np.sqrt(2 * np.pi), 0.0)
    one = np.abs(rho) >= 1.0  # lavaan: identical(R, 0)
    r = np.where(one, 0.0, rho)[:, None, None]
    sd = np.sqrt(1.0 - r * r)
    # d pi_ab / d tau1_t = phi(tau1_t) [Phi((tau2_b - rho tau1_t)/R) - Phi((tau2_{b-1}
    # - rho tau1_t)/R)], and the same for tau2
    g1 = phi1[:, :, None] * np.diff(ndtr((e2[:, None, :] - r * t1[:, :, None]) / sd), axis=2)
    g2 = phi2[:, :, None] * np.diff(ndtr((e1[:, None, :] - r * t2[:, :, None]) / sd), axis=2)
    if one.any():
        g1[one] = 0.5 * phi1[one][:, :, None]
        g2[one] = 0.5 * phi2[one][:, :, None]
    ok = pi > _SQRT_EPS  # lavaan clamps pi at sqrt(eps), then a likelihood <= sqrt(eps) is NA
    inv_pi = np.where(ok, 1.0 / np.where(ok, pi, 1.0), 0.0)
    return dpi * inv_pi, g1, g2, inv_pi


def ordinal_sample_stats(x: Any, items: Sequence[str] | None = None, *,
                         missing: str = "listwise") -> OrdinalSampleStats:
    """lavaan's sample statistics for ordered items: thresholds, polychorics and NACOV.

    Parameters
    ----------
    x : DataFrame, 2-d array or ResponsePatterns
        Respondents x items, integer category codes, NaN = missing; or the pattern table
        of the rows (each pattern a row weighted by its count: the same statistics).
    items : sequence of str, optional
        Columns to use, in this order (default all).
    missing : {"listwise", "pairwise"}
        ``"listwise"`` (lavaan's default) drops rows with any missing item. ``"pairwise"``
        (lavaan's ``missing = "pairwise"``) drops only rows with every item missing
        (lavaan's "empty cases"); each item's thresholds come from the rows that answered
        it, each polychoric from the rows that answered both items, and a missing response
        contributes a zero score to the NACOV (lavaan's scores are NA there and its
        cross-products drop them). ``nobs`` is the number of rows kept.

    Returns
    -------
    OrdinalSampleStats
        ``thresholds``, ``cor``, ``nacov`` (lavaan's ``lavInspect(fit, "gamma")``), ``nobs``.

    Notes
    -----
    Rows that repeat (few items, few categories) are pooled into response patterns weighted
    by their counts when there are at most half as many patterns as rows: the same sums. The
    statistics of the last few inputs are kept, keyed by the rows' content, so that models
    fitted to the same items share them; their arrays are read-only.
    """
    from psychoval.stats.core._tables import ResponsePatterns

    if missing not in ("listwise", "pairwise"):
        raise SpecificationError(f"missing={missing!r}: ordinal sample statistics use "
                                 "'listwise' or 'pairwise'")
    weights = None
    if isinstance(x, ResponsePatterns):
        # one row per response pattern, weighted by its count: every sum over respondents
        # below (tables, A11, A21, A22, INNER) is the same sum over patterns
        items = list(x.columns) if items is None else list(items)
        rp = x.select(items)
        rp = rp.listwise() if missing == "listwise" else rp.answered()
        values, weights = rp.values(), rp.freq.astype(float)
        poly_input: Any = rp
    else:
        frame = x if isinstance(x, pd.DataFrame) else pd.DataFrame(np.asarray(x, dtype=float))
        if items is None:
            items = [str(c) for c in frame.columns]
        else:
            items = list(items)
        frame = frame.copy()
        frame.columns = [str(c) for c in frame.columns]
        values = frame[items].to_numpy(dtype=float)
        seen = ~np.isnan(values)
        keep = seen.all(axis=1) if missing == "listwise" else seen.any(axis=1)
        values = values[keep]
        poly_input = None
    if values.shape[1] < 2:
        raise DataError("ordinal sample statistics need at least two items")
    key = (tuple(items), missing, values.shape, _digest(values, weights))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
    if hit is None:
        with collect_warnings() as caught:
            ss = _sample_stats(values, weights, poly_input, list(items), missing)
        hit = (_frozen(ss), tuple((str(w.message), w.category) for w in caught))
        with _CACHE_LOCK:
            _CACHE[key] = hit
            while len(_CACHE) > 1 and (len(_CACHE) > _CACHE_ENTRIES or sum(
                    v[0].nacov.nbytes for v in _CACHE.values()) > _CACHE_BYTES):
                _CACHE.popitem(last=False)
    ss, notes = hit
    for message, category in notes:  # the polychorics' warnings, on every call
        psychoval_warn(message, category, stacklevel=3)
    cor = ss.cor
    one = np.argwhere(np.triu(np.abs(cor) >= 1.0, 1))
    if one.size:
        a, b = (items[int(v)] for v in one[0])
        warn(f"items {a!r} and {b!r} have two empty cells in their 2 x 2 table: their "
             f"polychoric correlation is {cor[one[0][0], one[0][1]]:+.0f} (lavaan's rule; "
             f"{len(one)} such pair(s)); the NACOV of that correlation rests on lavaan's cap "
             "of the density at rho = 0.9999 and the estimates' covariance may be singular: "
             "drop one of the two items or merge them", DegenerateDataWarning, stacklevel=3)
    return ss


def _frozen(ss: OrdinalSampleStats) -> OrdinalSampleStats:
    """``ss`` with read-only arrays: a cached value is shared by its callers."""
    for f in dataclasses.fields(ss):
        v = getattr(ss, f.name)
        if isinstance(v, np.ndarray):
            v.flags.writeable = False
    return ss


def _digest(values: np.ndarray, weights: np.ndarray | None) -> str:
    """A fingerprint of the rows (and their weights) for the cache."""
    h = hashlib.blake2b(np.ascontiguousarray(values).view(np.uint8), digest_size=20)
    if weights is not None:
        h.update(np.ascontiguousarray(weights, dtype=float).view(np.uint8))
    return h.hexdigest()


def _sample_stats(values: np.ndarray, weights: np.ndarray | None, poly_input: Any,
                  items: list[str], missing: str) -> OrdinalSampleStats:
    """:func:`ordinal_sample_stats` of rows ``values`` (NaN = missing) already kept by the
    missing-data policy, weighted by ``weights`` (None: one respondent each);
    ``poly_input``: the same rows for :func:`polychoric` (None: a frame of ``values``)."""
    from scipy.special import ndtr

    from psychoval.stats.core._tables import ResponsePatterns

    rows, k = values.shape
    codes, ncat, cats = _codes(values, items)
    if weights is None:
        packed = _distinct_rows(codes, ncat)
        if packed is not None:
            # far fewer response patterns than rows: the same sums over the patterns,
            # each weighted by its count (as from a ResponsePatterns)
            codes, freq = packed
            rp = ResponsePatterns(tuple(items), tuple(cats), codes.astype(np.int16), freq)
            values, weights, poly_input = rp.values(), freq.astype(float), rp
            rows = codes.shape[0]
        else:
            poly_input = pd.DataFrame(values, columns=items)
    seen = codes >= 0
    n = rows if weights is None else int(weights.sum())
    poly = polychoric(poly_input, method="lavaan", missing="pairwise")
    cor = poly.rho.to_numpy()
    tau_mat = poly.thresholds.to_numpy()
    taus = [tau_mat[j, :ncat[j] - 1] for j in range(k)]
    nth_i = np.array([c - 1 for c in ncat])
    th_end = np.cumsum(nth_i)
    th_start = th_end - nth_i
    nth = int(th_end[-1])
    cmax = max(ncat)
    # every item's cut points (-inf, thresholds, +inf), +inf past its last category
    ext = np.full((k, cmax + 1), np.inf)
    ext[:, 0] = -np.inf
    for j in range(k):
        ext[j, 1:ncat[j]] = taus[j]
    # Each score depends on a respondent only through the cell of its item (pair), so the
    # scores are tables over categories (cells), and every sum over respondents is a sum
    # over cells weighted by their counts: A11, A21, A22 from the items' and pairs' tables.
    # univariate threshold scores: d log p_y / d tau_t = (1{y=t} - 1{y=t+1}) phi(tau_t) / p_y
    inner_cut = ext[:, 1:-1]
    fin = np.isfinite(inner_cut)
    tf = np.where(fin, inner_cut, 0.0)
    phi = np.where(fin, np.exp(-0.5 * tf * tf) / np.sqrt(2 * np.pi), 0.0)  # (k, C-1)
    p = np.diff(ndtr(ext), axis=1)  # (k, C)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(fin, phi / p[:, :-1], 0.0)
        down = np.where(fin, -phi / p[:, 1:], 0.0)
    kk = np.arange(cmax - 1)
    tab_th = np.zeros((k, cmax, cmax - 1))  # item j, category, threshold
    tab_th[:, kk, kk] = up
    tab_th[:, kk + 1, kk] = down
    # counts of every item's categories and of every pair's cells (missing responses: none)
    # (float32 cross-products are exact for counts below 2**24)
    onehot = np.zeros((rows, k, cmax),
                      dtype=np.float32 if n < 2 ** 24 and weights is None else np.float64)
    r_, c_ = np.nonzero(seen)
    onehot[r_, c_, codes[r_, c_]] = 1.0
    onehot = onehot.reshape(rows, k * cmax)
    tabs = (onehot.T @ (onehot if weights is None else onehot * weights[:, None])
            ).astype(np.float64)
    tabs = tabs.reshape(k, cmax, k, cmax).transpose(0, 2, 1, 3)
    marg = np.einsum("iicc->ic", tabs)

    cc, rr = np.triu_indices(k, 1)  # lavaan's pair order: column j, row i > j
    pstar = cc.size
    cnt = tabs[rr, cc]  # (P, C, C): y1 = item i = rr (rows), y2 = item j = cc (columns)
    s_rho, g1, g2, inv_pi = _all_pair_scores(ext[rr], ext[cc], cor[rr, cc])
    # A21[pair, th] = sum over cells n_ab s_rho d log pi_ab / d th
    w = cnt * s_rho * inv_pi
    a21_1 = np.einsum("ptb,ptb->pt", w[:, :-1, :] - w[:, 1:, :], g1)
    wt = w.transpose(0, 2, 1)
    a21_2 = np.einsum("pta,pta->pt", wt[:, :-1, :] - wt[:, 1:, :], g2)
    a22_inv = 1.0 / (cnt * s_rho * s_rho).sum(axis=(1, 2))
    # NACOV = N B^-1 INNER B^-T = N Z'Z with Z = SC B^-T, again cell tables: the threshold
    # part SC_th A11^-1 per item; the correlation part A22^-1 (SC_rho - SC_th A11^-1 A21'),
    # where A21's row of a pair touches the thresholds of its two items only
    z_th = np.zeros_like(tab_th)
    for j in range(k):
        m = nth_i[j]
        a11 = (tab_th[j, :, :m].T * marg[j]) @ tab_th[j, :, :m]
        z_th[j, :, :m] = tab_th[j, :, :m] @ np.linalg.inv(a11)
    u1 = np.einsum("pct,pt->pc", z_th[rr], a21_1)
    u2 = np.einsum("pct,pt->pc", z_th[cc], a21_2)
    # cell tables with one more category, "missing", whose scores are 0
    z_cor = np.zeros((pstar, cmax + 1, cmax + 1))
    z_cor[:, :cmax, :cmax] = s_rho
    z_cor[:, :cmax, :] -= u1[:, :, None]
    z_cor[:, :, :cmax] -= u2[:, None, :]
    z_cor *= a22_inv[:, None, None]
    # Z (statistics x rows) in one gather from one table of cell values: a threshold's
    # column is its item's category (a missing answer: a last, zero cell), a pair's its cell
    c1 = cmax + 1
    th_item = np.repeat(np.arange(k), nth_i)
    th_slot = np.arange(nth) - th_start[th_item]
    lut = np.zeros(nth * c1 + pstar * c1 * c1)
    lut[:nth * c1].reshape(nth, c1)[:, :cmax] = z_th[th_item, :, th_slot]
    lut[nth * c1:] = z_cor.reshape(-1)
    idt = np.int32 if lut.size < 2 ** 31 else np.int64
    mcodes = np.where(seen, codes, cmax).T.astype(idt)  # (k, rows): row gathers below
    th_off = (np.arange(nth, dtype=idt) * c1)[:, None]
    cor_off = (nth * c1 + np.arange(pstar, dtype=idt) * c1 * c1)[:, None]
    nacov = np.zeros((nth + pstar, nth + pstar))
    step = max(1024, (1 << 20) // (nth + pstar))  # blocks of rows that stay in cache
    idx = np.empty((nth + pstar, min(step, rows)), dtype=idt)
    for lo in range(0, rows, step):
        mc = mcodes[:, lo:lo + step]
        ix = idx[:, :mc.shape[1]]
        np.add(mc[th_item], th_off, out=ix[:nth])
        np.multiply(mc[rr], c1, out=ix[nth:])
        ix[nth:] += mc[cc]
        ix[nth:] += cor_off
        z = lut.take(ix)
        nacov += z @ (z if weights is None else z * weights[lo:lo + step]).T
    nacov *= n
    names = tuple(f"{items[j]}|t{t + 1}" for j in range(k) for t in range(nth_i[j]))
    sf = seen.astype(float)
    npair = sf.T @ (sf if weights is None else sf * weights[:, None])
    return OrdinalSampleStats(
        items=tuple(items), thresholds=np.concatenate(taus),
        threshold_item=np.repeat(np.arange(k), nth_i), threshold_names=names, cor=cor,
        nacov=nacov, nobs=int(n), missing=missing, n_pairwise=npair.astype(np.int64))
