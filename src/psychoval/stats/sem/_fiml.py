"""Full-information ML pieces that do not depend on a model: missingness patterns, the casewise
normal log-likelihood of (mu, Sigma), its gradient, Hessian and casewise scores, the saturated
(H1) model by EM and the FIML independence (baseline) model.

Everything here is engine-agnostic: a CFA engine supplies the model-implied ``mu`` and
``Sigma`` (and, for derivatives with respect to its parameters, the Jacobian
``Delta = d(mu, vech Sigma) / d theta``); this module does the data side as lavaan 0.6.14 does
for ``missing = "ml"`` (``lav_mvnorm_missing_*`` in lavaan's ``R/lav_mvnorm_missing.R``).

Conventions pinned to lavaan:

* The moment vector is ``(mu, vech(Sigma))``: means first, then the lower triangle of Sigma
  taken column by column (lavaan's ``lav_matrix_vech``). :func:`vech_indices` gives its order.
* Derivatives with respect to ``vech(Sigma)`` treat Sigma as symmetric (``D' vec(dL/dSigma)``):
  off-diagonal entries get both halves; casewise scores follow
  ``lav_mvnorm_missing_scores_mu_vech_sigma`` (diagonal halved).
* Information matrices are per observation (divided by N), the way lavaan stores them.
* Rows with every item missing carry no information: they are left out (lavaan drops them
  with a warning before fitting); :attr:`MissingPatterns.empty_rows` names them.

How it scales. Each pattern g (the rows sharing one set of observed items o) enters the
likelihood through its frequency f_g, its mean and its scatter matrix. The scatter is kept as
*compressed rows*: the pattern's centred rows when it has no more rows than observed items,
otherwise the rows of a square-root factor of its scatter (at most k rows for k observed
items). Every quantity is then a sum over these rows (and one mean row per pattern), so the
cost grows with ``min(rows, patterns x items)``, not with the respondents. With
``P = Sigma^-1`` and ``C = P_mm^-1`` for the missing items m of a pattern,
``E_g = P - P_:m C P_m:`` is ``Sigma_oo^-1`` embedded in p x p (lavaan's inverse update), so
one p x p inverse serves every pattern and ``E_g r`` costs O(p^2 + p m) per row; patterns
missing more items than they observe are inverted directly. Nothing per respondent is looped
over in Python, and no p x p matrix is stored per pattern except in the moment-space
information matrices, which are (p + p(p+1)/2)^2 objects by nature.

Length: the model-free FIML pieces (patterns, EM, casewise likelihood, information matrices in
factored form) that must stay vectorized together.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

__all__ = [
    "MissingPatterns",
    "H1Moments",
    "IndependenceModel",
    "missing_patterns",
    "patterns_from_stats",
    "vech_indices",
    "vech",
    "unvech",
    "loglik",
    "loglik_casewise",
    "gradient",
    "loglik_gradient",
    "gradient_theta",
    "scores",
    "information_observed",
    "information_expected",
    "information_firstorder",
    "firstorder_theta",
    "firstorder_factored",
    "information_observed_theta",
    "expected_quadratic",
    "moment_information_cost",
    "em_saturated",
    "independence_model",
    "model_delta",
    "FIMLDiscrepancy",
]

LOG_2PI = math.log(2.0 * math.pi)

# rows per chunk where a per-row (n x p*) or per-pattern (B x p x p) array is formed
_CHUNK_ENTRIES = 4_000_000


# ---------------------------------------------------------------------------------------------
# vech helpers (lavaan's order: lower triangle, column by column)


@functools.cache
def vech_indices(p: int, diag: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices (r >= c; r > c with ``diag=False``) of ``vech`` of a p x p
    matrix, in lavaan's order."""
    # row-major upper triangle == column-major lower triangle
    c, r = np.triu_indices(p, 0 if diag else 1)
    r.setflags(write=False)
    c.setflags(write=False)
    return r, c


def vech(m: np.ndarray, diag: bool = True) -> np.ndarray:
    """Lower triangle of ``m`` (last two axes), column by column; without the diagonal
    with ``diag=False``."""
    r, c = vech_indices(m.shape[-1], diag)
    return m[..., r, c]


def unvech(v: np.ndarray, p: int) -> np.ndarray:
    """Symmetric p x p matrix from its ``vech``."""
    r, c = vech_indices(p)
    out = np.zeros((p, p))
    out[r, c] = v
    out[c, r] = v
    return out


# ---------------------------------------------------------------------------------------------
# missingness patterns


@dataclasses.dataclass(frozen=True)
class _Batch:
    """Patterns that miss the same number m of items (and so observe k = p - m)."""

    patterns: np.ndarray  # (B,) pattern numbers
    obs: np.ndarray  # (B, k) observed item indices
    mis: np.ndarray  # (B, m) missing item indices
    freq: np.ndarray  # (B,) float
    obs_mask: np.ndarray  # (B, p) True where observed


@dataclasses.dataclass(frozen=True)
class MissingPatterns:
    """A data matrix grouped by missingness pattern, with each pattern's sufficient statistics.

    Attributes
    ----------
    x : (n_total, p) array with NaN for missing.
    observed : (n_patterns, p) bool, True where the pattern observes the item.
    freq : (n_patterns,) number of rows with each pattern.
    row_pattern : (n_total,) pattern number of each row (-1 for an empty row).
    empty_rows : positions of rows with no observed item (left out of every computation).
    means : (n_patterns, p) each pattern's means of its observed items (0 where missing).
    zrows, zpat : compressed centred rows (0 where missing) and their patterns: for each
        pattern, the sum of ``z z'`` over its rows is its scatter matrix (frequency times its
        ML covariance).
    n : rows used (n_total minus empty rows) - lavaan's N under ``missing = "ml"``.
    """

    x: np.ndarray
    observed: np.ndarray
    freq: np.ndarray
    row_pattern: np.ndarray
    empty_rows: np.ndarray
    batches: tuple[_Batch, ...]
    means: np.ndarray
    zrows: np.ndarray
    zpat: np.ndarray
    batch_of: np.ndarray  # (P,) batch of each pattern
    pos_of: np.ndarray  # (P,) position of each pattern within its batch
    # available-case means and pairwise covariances (lavaan's WLS.obs under missing = "ml")
    # when built without rows (patterns_from_stats); None: computed from ``x``
    available: Any = None
    # complete data without rows: an object whose ``about(mu)`` gives the sums of w w' over
    # the rows, w = (1, u, vech(u u')) with u = y - mu (psychoval.stats.core._fourth
    # .FourthMoments); the first-order (MLR) information then comes from it
    fourth: Any = None

    @property
    def n(self) -> int:
        return int(self.freq.sum())

    @property
    def p(self) -> int:
        return self.x.shape[1]

    @property
    def n_patterns(self) -> int:
        return self.observed.shape[0]

    @property
    def complete(self) -> bool:
        return self.n_patterns == 1 and bool(self.observed.all())

    @property
    def coverage(self) -> np.ndarray:
        """Proportion of used rows observing both items i and j (lavaan's coverage matrix)."""
        m = self.observed.astype(float) * self.freq[:, None]
        return (m.T @ self.observed.astype(float)) / self.n

    @functools.cached_property
    def _zindex(self) -> tuple[np.ndarray, np.ndarray]:
        """Compressed rows sorted by pattern, and each pattern's start in that order."""
        order = np.argsort(self.zpat, kind="stable")
        return order, np.searchsorted(self.zpat[order], np.arange(self.n_patterns + 1))

    @functools.cached_property
    def _zgroups(self) -> list[np.ndarray]:
        """Per batch, the compressed rows belonging to it."""
        b = self.batch_of[self.zpat]
        order = np.argsort(b, kind="stable")
        cuts = np.searchsorted(b[order], np.arange(len(self.batches) + 1))
        return [order[cuts[i]:cuts[i + 1]] for i in range(len(self.batches))]


def missing_patterns(x: np.ndarray) -> MissingPatterns:
    """Group the rows of ``x`` (NaN = missing) by missingness pattern.

    Pattern statistics are the mean and the scatter (frequency times the ML covariance) of
    each pattern's observed items over its rows (lavaan's ``lav_samplestats_missing_patterns``);
    the scatter is stored as compressed rows (see the module docstring).
    """
    x = np.ascontiguousarray(x, dtype="float64")
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-d array, got shape {x.shape}")
    n_total, p = x.shape
    complete = n_total > 0 and not np.isnan(x).any()
    obs = np.ones((1, p), dtype=bool) if complete else ~np.isnan(x)
    never = np.flatnonzero(~obs.any(axis=0))
    if never.size:
        from psychoval.exceptions import DataError

        raise DataError(f"column {int(never[0])} (0-based) has no observed value; FIML needs at "
                        "least one response per item - remove the item")
    n_obs = np.full(1, p) if complete else obs.sum(axis=1)
    empty = np.flatnonzero(n_obs == 0)
    keep = np.flatnonzero(n_obs > 0) if empty.size else np.arange(n_total)
    packed = np.packbits(obs if complete else obs[keep], axis=1)
    if complete:  # one pattern, nothing to sort
        uniq = packed[:1]
        inverse = np.zeros(n_total, dtype=np.intp)
        counts = np.array([n_total], dtype=np.int64)
    elif packed.shape[1] <= 8:  # one integer key per row: a fast unique
        key = np.zeros(len(keep), dtype=np.uint64)
        for j in range(packed.shape[1]):
            key = (key << np.uint64(8)) | packed[:, j].astype(np.uint64)
        ukey, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True,
                                                 return_counts=True)
        uniq = packed[first]
    else:
        uniq, inverse, counts = np.unique(packed, axis=0, return_inverse=True,
                                          return_counts=True)
    inverse = inverse.reshape(-1)
    observed = np.unpackbits(uniq, axis=1, count=p).astype(bool)
    row_pattern = np.full(n_total, -1, dtype=np.intp)
    row_pattern[keep] = inverse
    freq = counts.astype(float)
    n_pat = len(freq)

    # pattern means (0 where missing), one column at a time (no n x p temporaries)
    means = np.zeros((n_pat, p))
    for j in range(0 if complete else p):
        xj = x[keep, j]
        means[:, j] = np.bincount(inverse, weights=np.where(np.isnan(xj), 0.0, xj),
                                  minlength=n_pat)
    means /= freq[:, None]
    if complete:
        means[0] = x.mean(axis=0)
    k_of = observed.sum(axis=1)
    # compressed centred rows: a pattern with one row has a zero scatter (no rows); one with
    # more rows than observed items keeps a square-root factor of its scatter; the others
    # their centred rows
    big = np.flatnonzero(counts > k_of)
    is_big = np.zeros(n_pat, dtype=bool)
    is_big[big] = True
    kept = np.flatnonzero(~is_big[inverse] & (counts[inverse] > 1))
    zc = x[keep[kept]]
    zc -= means[inverse[kept]]
    np.nan_to_num(zc, copy=False, nan=0.0)
    parts, pats = [zc], [inverse[kept].astype(np.intp)]
    if big.size:
        order = np.argsort(inverse, kind="stable") if n_pat > 1 else None
        starts = np.concatenate([[0], np.cumsum(counts)])
        for g in big:  # loop over patterns, not rows: at most n / k of them
            o = np.flatnonzero(observed[g])
            if complete:  # no gather
                blk = x - means[g]
            else:
                blk = x[keep[order[starts[g]:starts[g + 1]]]][:, o] - means[g, o]
            w, v = np.linalg.eigh(blk.T @ blk)
            pos = w > max(w.max(), 0.0) * 1e-14
            fac = np.zeros((int(pos.sum()), p))
            fac[:, o] = (v[:, pos] * np.sqrt(w[pos])).T
            parts.append(fac)
            pats.append(np.full(len(fac), g, dtype=np.intp))
    zrows = np.ascontiguousarray(np.vstack(parts)) if len(parts) > 1 else zc
    zpat = np.concatenate(pats)
    del zc, parts

    batches, batch_of, pos_of = _batches(observed, freq)
    return MissingPatterns(x=x, observed=observed, freq=freq, row_pattern=row_pattern,
                           empty_rows=empty, batches=tuple(batches), means=means, zrows=zrows,
                           zpat=zpat, batch_of=batch_of, pos_of=pos_of)


def _batches(observed: np.ndarray, freq: np.ndarray
             ) -> tuple[list[_Batch], np.ndarray, np.ndarray]:
    """Patterns grouped by how many items they miss; each pattern's batch and position."""
    n_pat, p = observed.shape
    batches = []
    batch_of = np.empty(n_pat, dtype=np.intp)
    pos_of = np.empty(n_pat, dtype=np.intp)
    m_of = p - observed.sum(axis=1)
    for bi, m in enumerate(np.unique(m_of)):
        pats = np.flatnonzero(m_of == m)
        order = np.argsort(~observed[pats], axis=1, kind="stable")  # observed first
        batches.append(_Batch(pats, order[:, :p - m], order[:, p - m:], freq[pats],
                              observed[pats]))
        batch_of[pats] = bi
        pos_of[pats] = np.arange(len(pats))
    return batches, batch_of, pos_of


def patterns_from_stats(observed: np.ndarray, freq: np.ndarray, means: np.ndarray,
                        scatter: np.ndarray, available: Any = None,
                        fourth: Any = None) -> MissingPatterns:
    """:class:`MissingPatterns` from each pattern's frequency, means (0 where unanswered) and
    scatter ``sum (x - mean)(x - mean)'`` (p x p, 0 outside its items) without the rows
    (merged chunks: ``psychoval.stats.core._suffstats.PatternMoments``). Every FIML quantity
    of a fit (likelihood, EM, information, baseline) uses only these; the casewise ones
    (MLR scores, factor scores, per-row likelihoods) need the rows and see none
    (``x`` has 0 rows). ``available``: the available-case moments (``means``, ``cov``) that
    lavaan's GFI under FIML uses. ``fourth``: with one complete pattern, the fourth-order
    sums of its rows (:attr:`MissingPatterns.fourth`), which give the casewise-score
    (first-order, MLR) information without the rows."""
    observed = np.asarray(observed, dtype=bool)
    n_pat, p = observed.shape
    never = np.flatnonzero(~(observed * (np.asarray(freq) > 0)[:, None]).any(axis=0))
    if never.size:
        from psychoval.exceptions import DataError

        raise DataError(f"column {int(never[0])} (0-based) has no observed value; FIML needs at "
                        "least one response per item - remove the item")
    parts, pats = [np.zeros((0, p))], [np.zeros(0, dtype=np.intp)]
    for g in range(n_pat):
        o = np.flatnonzero(observed[g])
        w, v = np.linalg.eigh(scatter[g][np.ix_(o, o)])
        pos = w > max(w.max(initial=0.0), 0.0) * 1e-14
        if not pos.any():
            continue
        fac = np.zeros((int(pos.sum()), p))
        fac[:, o] = (v[:, pos] * np.sqrt(w[pos])).T
        parts.append(fac)
        pats.append(np.full(len(fac), g, dtype=np.intp))
    freq = np.asarray(freq, dtype=float)
    batches, batch_of, pos_of = _batches(observed, freq)
    return MissingPatterns(x=np.zeros((0, p)), observed=observed, freq=freq,
                           row_pattern=np.zeros(0, dtype=np.intp),
                           empty_rows=np.zeros(0, dtype=np.intp), batches=tuple(batches),
                           means=np.where(observed, means, 0.0),
                           zrows=np.ascontiguousarray(np.vstack(parts)),
                           zpat=np.concatenate(pats), batch_of=batch_of, pos_of=pos_of,
                           available=available, fourth=fourth)


def _as_pattern(data: MissingPatterns | np.ndarray) -> MissingPatterns:
    return data if isinstance(data, MissingPatterns) else missing_patterns(data)


def _sub(sigma: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Stacked submatrices sigma[rows_b, cols_b] for each batch member b."""
    return sigma[rows[:, :, None], cols[:, None, :]]


def _inv_logdet(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched inverse and log-determinant of symmetric positive-definite matrices."""
    if s.shape[-1] == 0:
        return s.copy(), np.zeros(s.shape[0])
    chol = np.linalg.cholesky(s)
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
    inv = np.linalg.inv(s)
    inv = 0.5 * (inv + np.swapaxes(inv, -1, -2))
    return inv, logdet


def _check_moments(pat: MissingPatterns, mu: np.ndarray, sigma: np.ndarray):
    mu = np.asarray(mu, dtype=float).reshape(-1)
    sigma = np.asarray(sigma, dtype=float)
    if mu.shape != (pat.p,) or sigma.shape != (pat.p, pat.p):
        raise ValueError(f"mu must have shape ({pat.p},) and sigma ({pat.p}, {pat.p}); "
                         f"got {mu.shape} and {sigma.shape}")
    return mu, sigma


# ---------------------------------------------------------------------------------------------
# Sigma_oo^-1 of every pattern, in factored form


class _Factor:
    """``E_g = Sigma_oo^-1`` (embedded) of every pattern at one Sigma.

    ``low[b] = C`` (B, m, m) for batches with m <= k (``E = P - P_:m C P_m:``),
    ``direct[b] = Sigma_oo^-1`` (B, k, k) for batches missing more than they observe;
    ``logdet[g] = log|Sigma_oo|`` per pattern. Raises LinAlgError if Sigma is not PD.
    """

    def __init__(self, pat: MissingPatterns, sigma: np.ndarray):
        self.pat = pat
        inv, logdet = _inv_logdet(sigma[None])
        self.inv = inv[0]
        self.logdet_full = float(logdet[0])
        self.logdet = np.empty(pat.n_patterns)
        self.low: dict[int, np.ndarray] = {}
        self.direct: dict[int, np.ndarray] = {}
        for bi, b in enumerate(pat.batches):
            k, m = b.obs.shape[1], b.mis.shape[1]
            if m == 0:
                self.logdet[b.patterns] = self.logdet_full
            elif m <= k:
                c, ld = _inv_logdet(_sub(self.inv, b.mis, b.mis))
                self.low[bi] = c
                self.logdet[b.patterns] = self.logdet_full + ld
            else:
                s, ld = _inv_logdet(_sub(sigma, b.obs, b.obs))
                self.direct[bi] = s
                self.logdet[b.patterns] = ld

    def apply(self, rows: np.ndarray, pats: np.ndarray,
              groups: list[np.ndarray] | None = None) -> np.ndarray:
        """``E_g r`` for each row r (zero where its pattern g misses; rows must be 0 there).

        ``E r = P r - P_:m C (P r)_m``: one product ``R P``, then per row the m values
        ``w = C (P r)_m`` scattered into a sparse-as-dense matrix W, and ``e -= W P`` (a
        second BLAS product instead of gathering rows of P per respondent)."""
        pat = self.pat
        e = rows @ self.inv
        if groups is None:
            b_of = pat.batch_of[pats]
            groups = [np.flatnonzero(b_of == bi) for bi in range(len(pat.batches))]
        w = None
        for bi, sel in enumerate(groups):
            if not sel.size:
                continue
            b = pat.batches[bi]
            pos = pat.pos_of[pats[sel]]
            if bi in self.low:
                at = (sel[:, None], b.mis[pos])  # each row's missing items
                u = np.einsum("rij,rj->ri", self.low[bi][pos], e[at])  # C (P r)_m
                if w is None:
                    w = np.zeros_like(e)
                w[at] = u
            elif bi in self.direct:
                obs = b.obs[pos]
                ro = np.take_along_axis(rows[sel], obs, axis=1)
                eo = np.einsum("rij,rj->ri", self.direct[bi][pos], ro)
                out = np.zeros((len(sel), pat.p))
                np.put_along_axis(out, obs, eo, axis=1)
                e[sel] = out
        if w is not None:
            e -= w @ self.inv
            e[pat.observed[pats] == 0] = 0.0  # exactly 0 where the pattern misses
        return e

    def e_sum(self, weights: np.ndarray) -> np.ndarray:
        """``sum_g w_g E_g`` (p x p): ``sum_g w_g (P - P_:m C_g P_m:) = (sum_g w_g) P - P M P``
        with ``M = sum_g w_g C_g`` (each C_g placed at its missing items), plus the patterns
        inverted directly."""
        pat = self.pat
        p = pat.p
        out = self.inv * float(weights.sum())
        mid = np.zeros(p * p)
        for bi, b in enumerate(pat.batches):
            w = weights[b.patterns]
            if bi in self.low:
                cell = b.mis[:, :, None] * p + b.mis[:, None, :]  # (B, m, m) in M
                mid += np.bincount(cell.ravel(), weights=(w[:, None, None] * self.low[bi]
                                                          ).ravel(), minlength=p * p)
            elif bi in self.direct:
                out -= self.inv * float(w.sum())
                full = np.zeros((len(w), pat.p, pat.p))
                bidx = np.arange(len(w))[:, None, None]
                full[bidx, b.obs[:, :, None], b.obs[:, None, :]] = self.direct[bi]
                out += np.tensordot(w, full, axes=1)
        out -= self.inv @ mid.reshape(p, p) @ self.inv
        return 0.5 * (out + out.T)

    def e_full(self, bi: int, sel: np.ndarray) -> np.ndarray:
        """``E_g`` (len(sel), p, p) for the patterns at positions ``sel`` of batch ``bi``."""
        pat = self.pat
        b = pat.batches[bi]
        p = pat.p
        if bi in self.low:
            u = np.swapaxes(self.inv[:, b.mis[sel]], 0, 1)  # (s, p, m)
            out = self.inv[None] - u @ self.low[bi][sel] @ np.swapaxes(u, 1, 2)
            mask = b.obs_mask[sel]
            out *= mask[:, :, None] & mask[:, None, :]
            return out
        if bi in self.direct:
            out = np.zeros((len(sel), p, p))
            bidx = np.arange(len(sel))[:, None, None]
            obs = b.obs[sel]
            out[bidx, obs[:, :, None], obs[:, None, :]] = self.direct[bi][sel]
            return out
        return np.broadcast_to(self.inv, (len(sel), p, p)).copy()


def _mean_rows(pat: MissingPatterns, mu: np.ndarray) -> np.ndarray:
    """Per pattern ``ybar_g - mu`` on its observed items (0 elsewhere)."""
    return np.where(pat.observed, pat.means - mu, 0.0)


def _pattern_k(pat: MissingPatterns) -> np.ndarray:
    return pat.observed.sum(axis=1).astype(float)


# ---------------------------------------------------------------------------------------------
# log-likelihood and derivatives


def _loglik_pieces(pat: MissingPatterns, mu: np.ndarray, sigma: np.ndarray, grad: bool):
    fac = _Factor(pat, sigma)
    d = _mean_rows(pat, mu)
    ez = fac.apply(pat.zrows, pat.zpat, pat._zgroups)
    ed = fac.apply(d, np.arange(pat.n_patterns))
    f = pat.freq
    quad = float(np.einsum("ij,ij->", pat.zrows, ez)) + float(f @ np.einsum("ij,ij->i", d, ed))
    const = float(f @ (_pattern_k(pat) * LOG_2PI + fac.logdet))
    ll = -0.5 * (const + quad)
    if not grad:
        return ll, None
    ewe = ez.T @ ez + (ed * f[:, None]).T @ ed
    gsig = 0.5 * (ewe - fac.e_sum(f))
    gsig = 0.5 * (gsig + gsig.T)
    gmu = f @ ed
    return ll, np.concatenate([gmu, _dsigma_to_vech(gsig)])


def loglik(data: MissingPatterns | np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> float:
    """Casewise (FIML) normal log-likelihood of (mu, Sigma), summed over rows.

    ``sum_g -f_g/2 [k_g log(2 pi) + log|Sigma_g| + tr(Sigma_g^-1 (S_g + d_g d_g'))]`` with
    ``d_g = ybar_g - mu_g`` over patterns g (lavaan's ``lav_mvnorm_missing_loglik_samplestats``).
    Returns ``-inf`` if Sigma is not positive definite.
    """
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    try:
        return _loglik_pieces(pat, mu, sigma, grad=False)[0]
    except np.linalg.LinAlgError:
        return -math.inf


def _row_chunks(n: int, width: int):
    step = max(1, _CHUNK_ENTRIES // max(width, 1))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _used_rows(pat: MissingPatterns) -> np.ndarray:
    return np.flatnonzero(pat.row_pattern >= 0)


def loglik_casewise(data: MissingPatterns | np.ndarray, mu: np.ndarray,
                    sigma: np.ndarray) -> np.ndarray:
    """Log-likelihood of each row (NaN for empty rows), as ``lav_mvnorm_missing_llik_casewise``."""
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    fac = _Factor(pat, sigma)
    out = np.full(pat.x.shape[0], np.nan)
    used = _used_rows(pat)
    k = _pattern_k(pat)
    for sl in _row_chunks(len(used), pat.p):
        rows = used[sl]
        g = pat.row_pattern[rows]
        r = np.nan_to_num(pat.x[rows] - mu, nan=0.0)
        e = fac.apply(r, g)
        out[rows] = -0.5 * (k[g] * LOG_2PI + fac.logdet[g] + np.einsum("ij,ij->i", r, e))
    return out


def _dsigma_to_vech(g: np.ndarray) -> np.ndarray:
    """D' vec(G) for symmetric G: diagonal once, off-diagonal entries twice."""
    p = g.shape[0]
    r, c = vech_indices(p)
    return np.where(r == c, 1.0, 2.0) * g[r, c]


def gradient(data: MissingPatterns | np.ndarray, mu: np.ndarray,
             sigma: np.ndarray) -> np.ndarray:
    """Gradient of :func:`loglik` with respect to ``(mu, vech(Sigma))`` (length p + p(p+1)/2).

    ``dL/dmu = sum_g f_g E_g d_g`` and
    ``dL/dSigma = 1/2 (sum_rows e e' - sum_g f_g E_g)`` with ``e = E_g r`` over the compressed
    rows and the mean rows (``sqrt(f_g) d_g``), mapped to vech by ``D'`` (lavaan's
    ``dlogl_dmu``/``dlogl_dvechSigma``).
    """
    return loglik_gradient(data, mu, sigma)[1]


def loglik_gradient(data: MissingPatterns | np.ndarray, mu: np.ndarray,
                    sigma: np.ndarray) -> tuple[float, np.ndarray]:
    """:func:`loglik` and :func:`gradient` in one pass (what an optimizer needs). Returns
    ``-inf`` and a NaN gradient when Sigma is not positive definite."""
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    try:
        return _loglik_pieces(pat, mu, sigma, grad=True)
    except np.linalg.LinAlgError:
        p = pat.p
        return -math.inf, np.full(p + p * (p + 1) // 2, np.nan)


def gradient_theta(data: MissingPatterns | np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                   delta: np.ndarray) -> np.ndarray:
    """Gradient of :func:`loglik` with respect to model parameters: ``Delta' g``.

    ``delta`` is the Jacobian ``d(mu, vech Sigma)/d theta`` with rows in the order of
    :func:`gradient` (means first, then vech). For a model without a mean structure pass only
    the vech rows and a ``mu`` fixed at the data's means.
    """
    return np.asarray(delta).T @ gradient(data, mu, sigma)


def _row_e_chunks(pat: MissingPatterns, mu: np.ndarray, fac: _Factor, width: int):
    """Per chunk of used rows: (slice, rows, patterns, e = E_g (y - mu))."""
    used = _used_rows(pat)
    for sl in _row_chunks(len(used), width):
        rows = used[sl]
        g = pat.row_pattern[rows]
        yield sl, rows, g, fac.apply(np.nan_to_num(pat.x[rows] - mu, nan=0.0), g)


def _e_vech_rows(pat: MissingPatterns, fac: _Factor, g: np.ndarray,
                 cols: np.ndarray | None = None) -> np.ndarray:
    """vech(E_g) (or its entries ``cols``) for the pattern g of each row."""
    p = pat.p
    r, c = vech_indices(p)
    if cols is not None:
        r, c = r[cols], c[cols]
    out = np.empty((len(g), len(r)))
    for bi in range(len(pat.batches)):
        sel = np.flatnonzero(pat.batch_of[g] == bi)
        if not sel.size:
            continue
        upat, inv = np.unique(pat.pos_of[g[sel]], return_inverse=True)
        out[sel] = fac.e_full(bi, upat)[:, r, c][inv.reshape(-1)]
    return out


def _score_chunks(pat: MissingPatterns, mu: np.ndarray, sigma: np.ndarray,
                  cols: np.ndarray | None = None):
    """Casewise scores of the used rows, chunk by chunk: (row positions, scores); ``cols``
    selects columns of the moment vector (means first, then vech) - all by default."""
    p = pat.p
    r, c = vech_indices(p)
    mcols = np.arange(p) if cols is None else cols[cols < p]
    vcols = np.arange(len(r)) if cols is None else cols[cols >= p] - p
    rv, cv = r[vcols], c[vcols]
    half = np.where(rv == cv, 0.5, 1.0)
    fac = _Factor(pat, sigma)
    for sl, _, g, e in _row_e_chunks(pat, mu, fac, p + len(vcols) + p * p):
        ev = _e_vech_rows(pat, fac, g, vcols)
        sc = (e[:, rv] * e[:, cv] - ev) * half
        yield sl, np.hstack([e[:, mcols], sc])


def scores(data: MissingPatterns | np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Casewise scores ``d log L_i / d(mu, vech Sigma)`` of the used rows, shape (n, p + p*).

    Rows are the used rows in their original order (empty rows left out), as
    ``lav_mvnorm_missing_scores_mu_vech_sigma``: for row i with observed items o,
    ``e = Sigma_oo^-1 (y_o - mu_o)`` (zero elsewhere), score_mu = e, and
    score_vech = vech(e e' - Sigma_oo^-1 (embedded)) with the diagonal halved.
    """
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    p = pat.p
    out = np.empty((pat.n, p + p * (p + 1) // 2))
    for sl, sc in _score_chunks(pat, mu, sigma):
        out[sl] = sc
    return out


def _firstorder_from_sums(pat: MissingPatterns, mu: np.ndarray, sigma: np.ndarray
                          ) -> np.ndarray:
    """B1 of complete data from the sums of w w' about mu (``pat.fourth``), no rows.

    With u = y - mu and P = Sigma^-1 a row's score is linear in w = (1, u, vech(u u')):
    ``(P u, H [vech(P u u' P) - vech(P)])`` (H halves the diagonal), i.e. ``A w`` with
    ``vech(P U P) = K vech(U)``, ``K[(r,c),(a,b)] = P_ra P_cb + P_rb P_ca`` (halved for
    a = b). So ``B1 = A (sum w w') A' / N``: exact in real arithmetic."""
    p = pat.p
    qsum = np.asarray(pat.fourth.about(mu), dtype=float)
    pinv, _ = _inv_logdet(sigma[None])
    pinv = pinv[0]
    r, c = vech_indices(p)
    half = np.where(r == c, 0.5, 1.0)
    ps = len(r)
    a = np.zeros((p + ps, 1 + p + ps))
    a[:p, 1:p + 1] = pinv
    a[p:, 0] = -half * pinv[r, c]
    k = pinv[np.ix_(r, r)] * pinv[np.ix_(c, c)] + pinv[np.ix_(r, c)] * pinv[np.ix_(c, r)]
    a[p:, p + 1:] = half[:, None] * k * half[None, :]
    out = a @ qsum @ a.T / pat.n
    return 0.5 * (out + out.T)


def _delta_factored(p: int, xm: np.ndarray, ym: np.ndarray, kk: np.ndarray, q: int,
                    dmu: np.ndarray | None) -> np.ndarray:
    """Delta (means rows only with ``dmu``) from ``dSigma_r = x_r y_r' + y_r x_r'``."""
    r, c = vech_indices(p)
    per_row = xm[r] * ym[c] + ym[r] * xm[c]  # (p*, R)
    dv = np.zeros((len(r), q))
    np.add.at(dv.T, kk, per_row.T)
    return dv if dmu is None else np.vstack([np.asarray(dmu).T, dv])


def information_firstorder(data: MissingPatterns | np.ndarray, mu: np.ndarray,
                           sigma: np.ndarray) -> np.ndarray:
    """First-order (outer product of casewise scores) information per observation, B1
    (accumulated chunk by chunk: the n x (p + p*) score matrix is never formed whole; one
    BLAS product per chunk - numpy's gemm on the C-ordered chunk outruns scipy's syrk,
    which first copies it to Fortran order; from the fourth-order sums when the patterns
    carry them instead of rows)."""
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    if pat.fourth is not None:
        return _firstorder_from_sums(pat, mu, sigma)
    dim = pat.p + pat.p * (pat.p + 1) // 2
    out = np.zeros((dim, dim))
    for _, sc in _score_chunks(pat, mu, sigma):
        out += sc.T @ sc
    out /= pat.n
    return 0.5 * (out + out.T)


def firstorder_theta(data: MissingPatterns | np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                     delta: np.ndarray) -> np.ndarray:
    """``Delta' B1 Delta`` (B1 of :func:`information_firstorder`) from the casewise scores
    projected on the parameters chunk by chunk: O(n k q) for the k moments that ``delta``
    uses, instead of O(n (p + p*)^2). ``delta`` has the rows of the moment vector the model
    uses (all, or the vech rows)."""
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    delta = np.asarray(delta)
    off = pat.p + pat.p * (pat.p + 1) // 2 - delta.shape[0]
    if pat.fourth is not None:
        b1 = _firstorder_from_sums(pat, mu, sigma)[off:, off:]
        return delta.T @ b1 @ delta
    used = np.flatnonzero(np.any(delta != 0, axis=1))
    d = delta[used]
    out = np.zeros((delta.shape[1], delta.shape[1]))
    for _, sc in _score_chunks(pat, mu, sigma, used + off):
        t = sc @ d
        out += t.T @ t
    return out / pat.n


def firstorder_factored(data: MissingPatterns | np.ndarray, mu: np.ndarray,
                        sigma: np.ndarray, xm: np.ndarray, ym: np.ndarray, kk: np.ndarray,
                        q: int, dmu: np.ndarray | None = None) -> np.ndarray:
    """``Delta' B1 Delta`` for a model whose derivatives are factored as
    ``dSigma_r = x_r y_r' + y_r x_r'`` (free row r of parameter ``kk[r]``; ``xm``, ``ym``
    are p x R) and ``dmu`` (q x p, or None without a mean structure).

    The score of row i for parameter a is ``sum_{r: kk[r]=a} [(x_r'e)(y_r'e) - x_r'E_g y_r]
    + dmu_a' e`` with ``e = E_g (y_i - mu)``: O(n p R) instead of O(n (p + p*) q), and
    ``x_r'E_g y_r`` once per pattern."""
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    if pat.fourth is not None:
        d = _delta_factored(pat.p, xm, ym, kk, q, dmu)
        return firstorder_theta(pat, mu, sigma, d)
    fac = _Factor(pat, sigma)
    nr = xm.shape[1]
    # x_r' E_g y_r per pattern: x'Py - (P_m: x)' C (P_m: y) (direct batches: x_o' S y_o)
    kx, ky = fac.inv @ xm, fac.inv @ ym
    base = np.einsum("pr,pr->r", xm, ky)
    trace = np.empty((pat.n_patterns, nr))
    for bi, b in enumerate(pat.batches):
        if bi in fac.low:
            a, bb = kx[b.mis], ky[b.mis]  # (B, m, R)
            trace[b.patterns] = base - np.einsum("bmr,bmn,bnr->br", a, fac.low[bi], bb)
        elif bi in fac.direct:
            a, bb = xm[b.obs], ym[b.obs]  # (B, k, R)
            trace[b.patterns] = np.einsum("bkr,bkl,blr->br", a, fac.direct[bi], bb)
        else:
            trace[b.patterns] = base
    inc = np.zeros((nr, q))
    inc[np.arange(nr), kk] = 1.0
    out = np.zeros((q, q))
    for _, _, g, e in _row_e_chunks(pat, mu, fac, 3 * nr + pat.p):
        srow = (e @ xm) * (e @ ym) - trace[g]
        t = srow @ inc
        if dmu is not None:
            t += e @ dmu.T
        out += t.T @ t
    return out / pat.n


def _kron_vech(a_sum: np.ndarray, p: int) -> np.ndarray:
    """0.5 * D' (sum_g A_g (x) B_g) D from K[j, l, i, k] = sum_g A_g[j, l] B_g[i, k]."""
    r, c = vech_indices(p)
    i, j = r[:, None], c[:, None]
    k, l_ = r[None, :], c[None, :]
    k4 = a_sum
    out = (k4[j, l_, i, k] + k4[j, k, i, l_] + k4[i, l_, j, k] + k4[i, k, j, l_])
    w = np.where(r == c, 0.5, 1.0)
    return 0.5 * out * w[:, None] * w[None, :]


def moment_information_cost(data: MissingPatterns | np.ndarray) -> float:
    """Floating-point operations of one moment-space information matrix
    (:func:`information_observed` / :func:`information_expected`): patterns x p^4. The
    robust (MLR) test and lavaan's FIML-corrected indices need it; a caller can compare this
    with a budget before asking for them."""
    pat = _as_pattern(data)
    return float(pat.n_patterns) * float(pat.p) ** 4


def _pattern_chunks(pat: MissingPatterns):
    """(batch index, positions) in chunks small enough for (chunk, p, p) arrays."""
    step = max(1, _CHUNK_ENTRIES // (pat.p * pat.p))
    for bi, b in enumerate(pat.batches):
        for start in range(0, len(b.patterns), step):
            yield bi, np.arange(start, min(len(b.patterns), start + step))


def _rows_of_patterns(pat: MissingPatterns, pats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compressed rows of the patterns ``pats``: (row indices, position of the pattern in
    ``pats``), grouped by pattern."""
    zorder, zstart = pat._zindex
    lo, hi = zstart[pats], zstart[pats + 1]
    cnt = hi - lo
    slot = np.repeat(np.arange(len(pats)), cnt)
    offs = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return zorder[np.repeat(lo, cnt) + offs], slot


def _outer_sums(e: np.ndarray, slot: np.ndarray, n_slots: int) -> np.ndarray:
    """(n_slots, p*p): for each slot the sum of e e' over its rows (rows grouped by slot)."""
    p = e.shape[1]
    out = np.zeros((n_slots, p * p))
    if not len(slot):
        return out
    starts = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])
    outer = (e[:, :, None] * e[:, None, :]).reshape(len(e), -1)
    out[slot[starts]] = np.add.reduceat(outer, starts, axis=0)
    return out


def information_observed(data: MissingPatterns | np.ndarray, mu: np.ndarray,
                         sigma: np.ndarray) -> np.ndarray:
    """Observed information (minus the Hessian of :func:`loglik`, divided by N) in
    ``(mu, vech Sigma)``, as ``lav_mvnorm_missing_information_observed_samplestats``.

    Per pattern, with S = Sigma_g^-1 (embedded), t = S d_g and
    T = S (2 W_g - Sigma_g) S = 2 S W_g S - S (embedded): the blocks are ``sum f S``,
    ``D'(sum f t (x) S)`` and ``1/2 D'(sum f S (x) T) D``; ``f S W S`` is the sum of ``e e'``
    over the pattern's compressed rows and mean row. At the EM (saturated) estimates this is
    the "unstructured" H1 information; at the model-implied moments lavaan's "structured"
    one. Costs :func:`moment_information_cost`.
    """
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    p = pat.p
    r, c = vech_indices(p)
    fac = _Factor(pat, sigma)
    f = pat.freq
    d = _mean_rows(pat, mu)
    ed = fac.apply(d, np.arange(pat.n_patterns))
    ez = fac.apply(pat.zrows, pat.zpat, pat._zgroups)
    h11 = fac.e_sum(f)
    k3 = np.zeros((p, p * p))  # k3[c, (r, k)] = sum f t[c] S[r, k]
    k4 = np.zeros((p * p, p * p))
    for bi, sel in _pattern_chunks(pat):
        b = pat.batches[bi]
        pats = b.patterns[sel]
        s_full = fac.e_full(bi, sel).reshape(len(sel), -1)
        zi, slot = _rows_of_patterns(pat, pats)
        g = _outer_sums(ez[zi], slot, len(sel))
        fw = f[pats]
        edp = ed[pats]
        g += ((edp * fw[:, None])[:, :, None] * edp[:, None, :]).reshape(len(sel), -1)
        t22 = 2.0 * g - s_full * fw[:, None]  # f T
        k3 += (edp * fw[:, None]).T @ s_full
        k4 += s_full.T @ t22
    k3 = k3.reshape(p, p, p)
    h21 = k3[c, r, :] + k3[r, c, :]  # (p*, p): D'(t (x) S)
    h21[r == c] *= 0.5
    h22 = _kron_vech(k4.reshape(p, p, p, p), p)
    return np.block([[h11, h21.T], [h21, h22]]) / pat.n


def information_expected(data: MissingPatterns | np.ndarray, mu: np.ndarray,
                         sigma: np.ndarray) -> np.ndarray:
    """Expected information per observation in ``(mu, vech Sigma)`` under missing data
    (``lav_mvnorm_missing_information_expected``): block-diagonal ``sum f S`` and
    ``1/2 D'(sum f S (x) S) D``, S = Sigma_g^-1 embedded. ``mu`` is not used."""
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    p = pat.p
    fac = _Factor(pat, sigma)
    k4 = np.zeros((p * p, p * p))
    for bi, sel in _pattern_chunks(pat):
        s_full = fac.e_full(bi, sel).reshape(len(sel), -1)
        k4 += (s_full * pat.batches[bi].freq[sel, None]).T @ s_full
    h22 = _kron_vech(k4.reshape(p, p, p, p), p)
    pstar = h22.shape[0]
    out = np.zeros((p + pstar, p + pstar))
    out[:p, :p] = fac.e_sum(pat.freq)
    out[p:, p:] = h22
    return out / pat.n


def expected_quadratic(data: MissingPatterns | np.ndarray, sigma: np.ndarray,
                       a: np.ndarray) -> float:
    """``a' I a`` with I the expected information (:func:`information_expected`, per
    observation) and ``a = (a_mu, vech A)`` in the moment order, without forming I:
    ``sum_g f_g [a_mu' E_g a_mu + 1/2 tr(E_g A E_g A)] / N``. With ``E = P - U C U'``,
    ``U = P_:m``: ``tr(EAEA) = tr(PAPA) - 2 tr(C (PAPAP)_mm) + tr(C (PAP)_mm C (PAP)_mm)``;
    O(p^3 + sum_g m_g^3) instead of the p^4-per-pattern matrix."""
    pat = _as_pattern(data)
    p = pat.p
    a = np.asarray(a, dtype=float)
    a_mu, amat = a[:p], unvech(a[p:], p)
    fac = _Factor(pat, np.asarray(sigma, dtype=float))
    k = fac.inv
    ka = k @ amat
    kak = ka @ k  # P A P
    kakak = kak @ amat @ k  # P A P A P
    full = float(np.sum(ka * ka.T))  # tr(PAPA)
    kmu = k @ a_mu
    total = 0.0
    for bi, b in enumerate(pat.batches):
        f = b.freq
        if bi in fac.low:
            c = fac.low[bi]
            n1 = _sub(kakak, b.mis, b.mis)
            n2 = _sub(kak, b.mis, b.mis)
            cn2 = c @ n2
            tr = (full - 2.0 * np.einsum("bij,bji->b", c, n1)
                  + np.einsum("bij,bji->b", cn2, cn2))
            km = kmu[b.mis]
            qmu = float(a_mu @ kmu) - np.einsum("bi,bij,bj->b", km, c, km)
        elif bi in fac.direct:
            s = fac.direct[bi]
            a_oo = _sub(amat, b.obs, b.obs)
            sa = s @ a_oo
            tr = np.einsum("bij,bji->b", sa, sa)
            mo = a_mu[b.obs]
            qmu = np.einsum("bi,bij,bj->b", mo, s, mo)
        else:
            tr = np.full(len(f), full)
            qmu = np.full(len(f), float(a_mu @ kmu))
        total += float(f @ (qmu + 0.5 * tr))
    return total / pat.n


def information_observed_theta(
    data: MissingPatterns | np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    delta: np.ndarray,
    *,
    delta_fn=None,
    theta: np.ndarray | None = None,
    rows: slice | np.ndarray | None = None,
    h: float = 1e-4,
    vjp_fn=None,
    gradient_fn=None,
    hvp_fn=None,
) -> np.ndarray:
    """Observed information of the model parameters per observation: minus the Hessian of
    :func:`loglik` with respect to theta, divided by N.

    ``Delta' A Delta - (1/N) sum_k g_k d^2 m_k / d theta d theta'`` with A the observed
    information in the moments (:func:`information_observed`) and g the moment gradient
    (:func:`gradient`), both at the model-implied (mu, Sigma). The second term vanishes only at
    a saturated solution; it is computed by central differences of
    ``theta -> delta_fn(theta)' g`` (g held fixed), which is exact up to rounding when the
    moments are quadratic in theta (CFA without higher-order factors). Without ``delta_fn``
    the term is omitted (lavaan's ``observed.information = "h1"``).

    lavaan (``observed.information = "hessian"``, its default) differentiates its analytic
    gradient numerically instead; both give the same matrix to ~1e-9 (tests), this one with
    two passes over the data instead of 4 x n_parameters.

    ``rows`` selects the moment rows the model uses (e.g. ``slice(p, None)`` for a model
    without a mean structure, whose ``mu`` is then the saturated means).

    ``vjp_fn(theta, g) -> Delta(theta)' g`` may replace ``delta_fn``: an engine can form
    this product without building Delta (for CFA, ``2 x_a' G y_a`` per parameter from the
    factored ``dSigma_a = x_a y_a' + y_a x_a'``), which makes the 2q evaluations cheap.

    ``hvp_fn(theta, g) -> d (Delta(theta)' g) / d theta'`` (analytic, or None where the
    engine has no closed form) replaces those differences.

    ``gradient_fn(theta) -> d loglik / d theta`` (analytic) allows the other route when the
    moment-space matrix would cost more than ``2 q`` gradient passes over the data (many
    items and patterns): the Hessian by central differences of that gradient, as lavaan.
    """
    pat = _as_pattern(data)
    if gradient_fn is not None and theta is not None:
        q = len(theta)
        cost_fd = 2.0 * q * 4.0 * (len(pat.zrows) + pat.n_patterns) * pat.p ** 2
        if cost_fd < moment_information_cost(pat):
            theta = np.asarray(theta, dtype=float)
            step = 1e-5 * np.maximum(np.abs(theta), 1.0)
            hess = np.empty((q, q))
            for j in range(q):
                e = np.zeros(q)
                e[j] = step[j]
                hess[:, j] = (np.asarray(gradient_fn(theta + e))
                              - np.asarray(gradient_fn(theta - e))) / (2 * step[j])
            return -0.5 * (hess + hess.T) / pat.n
    sel = slice(None) if rows is None else rows
    a = information_observed(pat, mu, sigma)[sel][:, sel]
    delta = np.asarray(delta)
    info = delta.T @ a @ delta
    if vjp_fn is None and delta_fn is not None:
        def vjp_fn(t, g_):
            return np.asarray(delta_fn(t)).T @ g_
    if vjp_fn is not None:
        if theta is None:
            raise ValueError("theta is needed with delta_fn or vjp_fn")
        g = gradient(pat, mu, sigma)[sel]
        theta = np.asarray(theta, dtype=float)
        q = len(theta)
        second = hvp_fn(theta, g) if hvp_fn is not None else None
        if second is not None:
            info = info - 0.5 * (second + second.T) / pat.n
            return 0.5 * (info + info.T)
        second = np.empty((q, q))
        for j in range(q):
            e = np.zeros(q)
            e[j] = h
            second[:, j] = (np.asarray(vjp_fn(theta + e, g))
                            - np.asarray(vjp_fn(theta - e, g))) / (2 * h)
        info = info - 0.5 * (second + second.T) / pat.n
    return 0.5 * (info + info.T)


# ---------------------------------------------------------------------------------------------
# saturated (H1) model by EM


@dataclasses.dataclass(frozen=True)
class H1Moments:
    """EM estimates of the saturated model: means, covariance (ML), log-likelihood."""

    mu: np.ndarray
    sigma: np.ndarray
    loglik: float
    iterations: int
    converged: bool


def _observed_moments(pat: MissingPatterns) -> tuple[np.ndarray, np.ndarray]:
    """Sums over rows of the observed parts: sum y_o (embedded) and sum y_o y_o' (embedded).
    They do not change during EM."""
    f = pat.freq
    t1 = f @ pat.means
    t2 = pat.zrows.T @ pat.zrows + (pat.means * f[:, None]).T @ pat.means
    return t1, t2


def _estep(pat: MissingPatterns, mu: np.ndarray, sigma: np.ndarray, fixed=None):
    """Expected sufficient statistics T1 = sum E[y], T2 = sum E[y y'] given the observed parts
    (lavaan's ``lav_mvnorm_missing_estep``).

    With P = Sigma^-1 and C = P_mm^-1 for the missing items m of a pattern:
    ``E[y_m | y_o] = mu_m + B (y_o - mu_o)`` with ``B = Sigma_mo Sigma_oo^-1 = -C P_mo`` and
    ``Cov[y_m | y_o] = Sigma_mm - B Sigma_om = C``. Per pattern the filled-in rows are affine
    in the observed ones, so filling the compressed centred rows (``B z_o``) and the pattern
    means gives T2 without touching the respondents.
    """
    p = pat.p
    if all(b.mis.shape[1] == 0 for b in pat.batches):
        return _observed_moments(pat) if fixed is None else fixed
    pinv, _ = _inv_logdet(sigma[None])
    pinv = pinv[0]
    f = pat.freq
    zh = pat.zrows.copy()
    mh = pat.means.copy()
    v_z = pat.zrows @ pinv
    v_m = _mean_rows(pat, mu) @ pinv
    cond = np.zeros((p, p))
    zb = pat.batch_of[pat.zpat]
    for bi, b in enumerate(pat.batches):
        m = b.mis.shape[1]
        if m == 0:
            continue
        c, _ = _inv_logdet(_sub(pinv, b.mis, b.mis))  # (B, m, m)
        # mean rows: mu_m - C (P r)_m with r = ybar - mu (0 at missing)
        t = np.take_along_axis(v_m[b.patterns], b.mis, axis=1)
        fill = mu[b.mis] - np.einsum("bij,bj->bi", c, t)
        rows_b = mh[b.patterns]
        np.put_along_axis(rows_b, b.mis, fill, axis=1)
        mh[b.patterns] = rows_b
        # centred rows: -C (P z)_m
        sel = np.flatnonzero(zb == bi)
        if sel.size:
            pos = pat.pos_of[pat.zpat[sel]]
            mis = b.mis[pos]
            tz = np.take_along_axis(v_z[sel], mis, axis=1)
            fz = -np.einsum("rij,rj->ri", c[pos], tz)
            rows_z = zh[sel]
            np.put_along_axis(rows_z, mis, fz, axis=1)
            zh[sel] = rows_z
        # conditional covariance C, f-weighted, into the missing block
        idx = (b.mis[:, :, None] * p + b.mis[:, None, :]).ravel()
        cond += np.bincount(idx, weights=(c * b.freq[:, None, None]).ravel(),
                            minlength=p * p).reshape(p, p)
    t1 = f @ mh
    t2 = zh.T @ zh + (mh * f[:, None]).T @ mh + cond
    return t1, 0.5 * (t2 + t2.T)


def _start_values(pat: MissingPatterns) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's EM start: available-case means and ML variances, zero covariances."""
    f = pat.freq
    obs = pat.observed.astype(float) * f[:, None]
    cnt = obs.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu0 = (pat.means * obs).sum(axis=0) / cnt
        zz = np.einsum("ij,ij->j", pat.zrows, pat.zrows)
        dev = np.where(pat.observed, pat.means - mu0, 0.0)
        var0 = (zz + ((dev ** 2) * f[:, None]).sum(axis=0)) / cnt
    var0 = np.where(~np.isfinite(var0) | (var0 == 0), 1.0, var0)
    return mu0, np.diag(var0)


def em_saturated(data: MissingPatterns | np.ndarray, *, max_iter: int = 500,
                 tol: float = 1e-5) -> H1Moments:
    """Saturated normal model (free means and covariances) by EM, as lavaan 0.6.14's
    ``lav_mvnorm_missing_h1_estimate_moments``.

    Starts from the available-case means and ML variances with zero covariances; each
    iteration sets ``mu = T1/N``, ``Sigma = T2/N - mu mu'`` (adding ``1e-8 max(diag)`` to the
    diagonal when an eigenvalue falls below 1e-6) and stops when the largest absolute change
    of ``(mu, vech Sigma)`` is below ``tol``, or after ``max_iter`` iterations
    (``converged=False``). With complete data the first step gives the ML moments.
    """
    pat = _as_pattern(data)
    n = pat.n
    mu0, sigma0 = _start_values(pat)
    mu, sigma = mu0, sigma0
    converged = False
    iterations = 0
    fixed = _observed_moments(pat)
    while iterations < max_iter:
        iterations += 1
        t1, t2 = _estep(pat, mu, sigma, fixed)
        mu = t1 / n
        sigma = t2 / n - np.outer(mu, mu)
        sigma = 0.5 * (sigma + sigma.T)
        ev = np.linalg.eigvalsh(sigma)
        if np.any(ev < 1e-6):
            sigma = sigma + np.eye(pat.p) * (np.max(np.diag(sigma)) * 1e-8)
        delta = max(np.max(np.abs(mu - mu0)), np.max(np.abs(vech(sigma) - vech(sigma0))))
        if delta < tol:
            converged = True
            break
        mu0, sigma0 = mu, sigma
    return H1Moments(mu=mu, sigma=sigma, loglik=loglik(pat, mu, sigma), iterations=iterations,
                     converged=converged)


# ---------------------------------------------------------------------------------------------
# independence (baseline) model


@dataclasses.dataclass(frozen=True)
class IndependenceModel:
    """FIML independence model: free means and variances, zero covariances.

    The likelihood factors over items, so the estimates are each item's available-case mean
    and ML variance. ``npar = 2p``; against the saturated model ``df = p(p-1)/2``.
    """

    mu: np.ndarray
    var: np.ndarray
    loglik: float
    n_available: np.ndarray

    @property
    def sigma(self) -> np.ndarray:
        return np.diag(self.var)

    @property
    def npar(self) -> int:
        return 2 * len(self.mu)

    @property
    def df(self) -> int:
        p = len(self.mu)
        return p * (p - 1) // 2

    def delta(self) -> np.ndarray:
        """Jacobian d(mu, vech Sigma)/d(means, variances) (a 0/1 selection matrix)."""
        p = len(self.mu)
        r, c = vech_indices(p)
        pstar = len(r)
        d = np.zeros((p + pstar, 2 * p))
        d[np.arange(p), np.arange(p)] = 1.0
        diag_pos = np.flatnonzero(r == c)
        d[p + diag_pos, p + r[diag_pos]] = 1.0
        return d

    def information_observed(self, n: int) -> np.ndarray:
        """Observed information per observation of (means, variances) at the estimates
        (the exact Hessian; lavaan differentiates its analytic gradient numerically)."""
        nj = self.n_available
        return np.diag(np.concatenate([nj / self.var, nj / (2.0 * self.var**2)])) / n


def independence_model(data: MissingPatterns | np.ndarray) -> IndependenceModel:
    """Fit the FIML independence (baseline) model in closed form."""
    pat = _as_pattern(data)
    mu0, sigma0 = _start_values(pat)  # available-case means and ML variances
    nj = (pat.observed.astype(float) * pat.freq[:, None]).sum(axis=0)
    var = np.diag(sigma0)
    ll = float(np.sum(-0.5 * nj * (LOG_2PI + np.log(var) + 1.0)))
    return IndependenceModel(mu=mu0, var=var, loglik=ll, n_available=nj)


# ---------------------------------------------------------------------------------------------
# adapter for the CFA engine's optimizer


def model_delta(model, x: np.ndarray, *, meanstructure: bool = True) -> np.ndarray:
    """``Delta = d(mu, vech Sigma)/d x`` from an engine model with ``dsigma(x)`` (q, p, p) and
    ``dmu(x)`` (q, p) (the interface of the engine's ``MatrixModel``); without a mean
    structure only the vech rows."""
    ds = np.asarray(model.dsigma(x))
    r, c = vech_indices(ds.shape[1])
    dv = ds[:, r, c].T
    if not meanstructure:
        return dv
    return np.vstack([np.asarray(model.dmu(x)).T, dv])


class FIMLDiscrepancy:
    """The FIML fit function in the form the engine's optimizer takes
    (``value(x)``, ``pieces(x, hessian=True) -> (F, gradient, H, Sigma^-1)``).

    ``F(x) = 2 (logL_H1 - logL(x)) / N`` so that ``F/2`` is lavaan's ``fmin`` and ``N F`` the
    chi-square (lavaan's scale for ``missing = "ml"``); the gradient is
    ``-2 Delta' g / N``. ``H`` (used only to choose Fisher-scoring steps) is twice the
    complete-data expected information at the implied moments,
    ``tr(P dSigma_a P dSigma_b) + 2 dmu_a' P dmu_b`` with ``P = Sigma^-1`` - an upper bound of
    the missing-data information (3% missing: steps about 3% short, then BFGS takes over).
    Standard errors use :func:`information_observed_theta` at the solution, not this H.

    ``model`` needs ``implied(x) -> (Sigma, mu)``, ``dsigma(x)``, ``dmu(x)`` and ``q``
    (the engine's ``MatrixModel`` with ``meanstructure=True``).
    """

    def __init__(self, model, data: MissingPatterns | np.ndarray, h1: H1Moments | None = None):
        self.model = model
        self.pat = _as_pattern(data)
        self.h1 = em_saturated(self.pat) if h1 is None else h1
        self.n = self.pat.n

    def loglik(self, x: np.ndarray) -> float:
        sigma, mu = self.model.implied(x)
        return loglik(self.pat, mu, sigma)

    def value(self, x: np.ndarray) -> float:
        ll = self.loglik(x)
        return 2.0 * (self.h1.loglik - ll) / self.n if np.isfinite(ll) else np.inf

    def gradient_loglik(self, x: np.ndarray) -> np.ndarray:
        """d logL / d x (analytic)."""
        sigma, mu = self.model.implied(x)
        _, grad = loglik_gradient(self.pat, mu, sigma)
        return model_delta(self.model, x).T @ grad

    def pieces(self, x: np.ndarray, hessian: bool = True):
        sigma, mu = self.model.implied(x)
        ll, grad = loglik_gradient(self.pat, mu, sigma)
        if not np.isfinite(ll):
            return np.inf, None, None, None
        f = 2.0 * (self.h1.loglik - ll) / self.n
        ds = np.asarray(self.model.dsigma(x))
        dm = np.asarray(self.model.dmu(x))
        r, c = vech_indices(ds.shape[1])
        delta = np.vstack([dm.T, ds[:, r, c].T])
        g = -2.0 * (delta.T @ grad) / self.n
        pinv, _ = _inv_logdet(sigma[None])
        pinv = pinv[0]
        if not hessian:
            return f, g, None, pinv
        q = ds.shape[0]
        m = pinv @ ds  # (q, p, p): P dSigma_a
        h = m.reshape(q, -1) @ np.swapaxes(m, 1, 2).reshape(q, -1).T
        h += 2.0 * dm @ pinv @ dm.T
        return f, g, 0.5 * (h + h.T), pinv
