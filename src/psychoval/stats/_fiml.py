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

Computation is by pattern: the log-likelihood, gradient, Hessian and EM steps use each
pattern's sufficient statistics (frequency, mean and ML covariance of the observed items), so
their cost does not grow with the number of respondents; patterns that share the same number
of observed items are processed as one batch of stacked matrices (no Python loop over
patterns inside a batch, none over respondents anywhere).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

__all__ = [
    "MissingPatterns",
    "H1Moments",
    "IndependenceModel",
    "missing_patterns",
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
    "information_observed_theta",
    "em_saturated",
    "independence_model",
    "model_delta",
    "FIMLDiscrepancy",
]

LOG_2PI = math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------
# vech helpers (lavaan's order: lower triangle, column by column)


@functools.cache
def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices (r >= c) of ``vech`` of a p x p matrix, in lavaan's order."""
    c, r = np.triu_indices(p)  # row-major upper triangle == column-major lower triangle
    r.setflags(write=False)
    c.setflags(write=False)
    return r, c


def vech(m: np.ndarray) -> np.ndarray:
    """Lower triangle of ``m`` (last two axes), column by column."""
    r, c = vech_indices(m.shape[-1])
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
    """Patterns that observe the same number k of items, stacked."""

    patterns: np.ndarray  # (B,) pattern numbers
    obs: np.ndarray  # (B, k) observed item indices
    mis: np.ndarray  # (B, p - k) missing item indices
    freq: np.ndarray  # (B,) float
    mean: np.ndarray  # (B, k) pattern means of the observed items
    cov: np.ndarray  # (B, k, k) pattern ML covariances (divisor = frequency)
    cov_full: np.ndarray  # (B, p, p) the same, zero-padded to all items
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
    n : rows used (n_total minus empty rows) - lavaan's N under ``missing = "ml"``.
    """

    x: np.ndarray
    observed: np.ndarray
    freq: np.ndarray
    row_pattern: np.ndarray
    empty_rows: np.ndarray
    batches: tuple[_Batch, ...]

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


def missing_patterns(x: np.ndarray) -> MissingPatterns:
    """Group the rows of ``x`` (NaN = missing) by missingness pattern.

    Pattern statistics are the mean and the ML covariance (divisor = frequency) of each
    pattern's observed items over its rows (lavaan's ``lav_samplestats_missing_patterns``).
    """
    x = np.ascontiguousarray(x, dtype="float64")
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-d array, got shape {x.shape}")
    n_total, p = x.shape
    obs = ~np.isnan(x)
    never = np.flatnonzero(~obs.any(axis=0))
    if never.size:
        from psychoval.exceptions import DataError

        raise DataError(f"column {int(never[0])} (0-based) has no observed value; FIML needs at "
                        "least one response per item - remove the item")
    n_obs = obs.sum(axis=1)
    empty = np.flatnonzero(n_obs == 0)
    keep = np.flatnonzero(n_obs > 0)
    # encode each row's pattern as bytes and group
    packed = np.packbits(obs[keep], axis=1)
    uniq, inverse, counts = np.unique(packed, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    observed = np.unpackbits(uniq, axis=1, count=p).astype(bool)
    row_pattern = np.full(n_total, -1, dtype=np.intp)
    row_pattern[keep] = inverse
    freq = counts.astype(float)

    # pattern sums and cross-products over rows, grouped by pattern without a Python loop over rows
    order = np.argsort(inverse, kind="stable")
    rows_sorted = keep[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    x0 = np.where(obs, x, 0.0)
    sums = np.add.reduceat(x0[rows_sorted], starts, axis=0)  # (P, p)
    means_full = sums / freq[:, None]
    xc = x0[rows_sorted] - means_full[inverse[order]]
    xc[~obs[rows_sorted]] = 0.0

    batches = []
    k_of = observed.sum(axis=1)
    for k in np.unique(k_of):
        pats = np.flatnonzero(k_of == k)
        obs_idx = np.array([np.flatnonzero(observed[g]) for g in pats], dtype=np.intp).reshape(
            len(pats), k
        )
        mis_idx = np.array([np.flatnonzero(~observed[g]) for g in pats], dtype=np.intp).reshape(
            len(pats), p - k
        )
        covs = np.empty((len(pats), k, k))
        for b, g in enumerate(pats):  # loop over patterns (not rows); each a BLAS crossprod
            blk = xc[starts[g]:starts[g] + counts[g]][:, obs_idx[b]]
            covs[b] = (blk.T @ blk) / counts[g]
        mean = np.take_along_axis(means_full[pats], obs_idx, axis=1)
        cov_full = np.zeros((len(pats), p, p))
        bi = np.arange(len(pats))[:, None, None]
        cov_full[bi, obs_idx[:, :, None], obs_idx[:, None, :]] = covs
        batches.append(_Batch(pats, obs_idx, mis_idx, freq[pats], mean, covs, cov_full,
                              observed[pats]))
    return MissingPatterns(x=x, observed=observed, freq=freq, row_pattern=row_pattern,
                           empty_rows=empty, batches=tuple(batches))


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


class _Inverter:
    """Inverses and log-determinants of Sigma_oo for every pattern of a batch.

    Sigma is inverted once; a pattern missing m items then uses the update (lavaan's
    ``lav_matrix_symmetric_inverse_update``)
    ``Sigma_oo^-1 = P_oo - P_om P_mm^-1 P_mo`` and ``log|Sigma_oo| = log|Sigma| + log|P_mm|``
    with ``P = Sigma^-1``, which costs O(k^2 m) instead of O(k^3). Patterns missing more than
    half of the items are inverted directly.
    """

    def __init__(self, sigma: np.ndarray):
        self.sigma = sigma
        inv, logdet = _inv_logdet(sigma[None])
        self.inv = inv[0]
        self.logdet = float(logdet[0])

    def __call__(self, b: _Batch) -> tuple[np.ndarray, np.ndarray]:
        k, m = b.obs.shape[1], b.mis.shape[1]
        if m == 0:
            n = len(b.freq)
            return (np.broadcast_to(self.inv, (n, k, k)).copy(), np.full(n, self.logdet))
        if m > k:
            return _inv_logdet(_sub(self.sigma, b.obs, b.obs))
        pmm_inv, pmm_logdet = _inv_logdet(_sub(self.inv, b.mis, b.mis))
        pom = _sub(self.inv, b.obs, b.mis)
        out = _sub(self.inv, b.obs, b.obs) - pom @ pmm_inv @ np.swapaxes(pom, 1, 2)
        out = 0.5 * (out + np.swapaxes(out, 1, 2))
        return out, self.logdet + pmm_logdet


def _check_moments(pat: MissingPatterns, mu: np.ndarray, sigma: np.ndarray):
    mu = np.asarray(mu, dtype=float).reshape(-1)
    sigma = np.asarray(sigma, dtype=float)
    if mu.shape != (pat.p,) or sigma.shape != (pat.p, pat.p):
        raise ValueError(f"mu must have shape ({pat.p},) and sigma ({pat.p}, {pat.p}); "
                         f"got {mu.shape} and {sigma.shape}")
    return mu, sigma


# ---------------------------------------------------------------------------------------------
# log-likelihood and derivatives


def _full_inverse(sigma: np.ndarray) -> tuple[np.ndarray, float]:
    inv, logdet = _inv_logdet(sigma[None])
    return inv[0], float(logdet[0])


def _lowrank(pat: MissingPatterns, mu: np.ndarray, pinv: np.ndarray, logdet_full: float):
    """Per batch, the pieces of E_g = (Sigma_oo^-1 embedded) = P - U_g C_g U_g'.

    With P = Sigma^-1, U_g = P[:, m] and C_g = P[m, m]^-1 for the missing items m of pattern
    g, the rows/columns of P - U C U' at m vanish and its observed block is Sigma_oo^-1
    (lavaan's inverse update); log|Sigma_oo| = log|Sigma| + log|P_mm|. Everything below then
    costs O(p^2 m) per pattern instead of O(k^3). Yields (batch, U, C, logdet, d) with
    d the zero-padded (pattern mean - mu).
    """
    for b in pat.batches:
        d = np.where(b.obs_mask, _embed_vec(b, b.mean, pat.p) - mu, 0.0)
        if b.mis.shape[1] == 0:
            nb = len(b.freq)
            yield (b, np.zeros((nb, pat.p, 0)), np.zeros((nb, 0, 0)),
                   np.full(nb, logdet_full), d)
            continue
        c, ld_mm = _inv_logdet(_sub(pinv, b.mis, b.mis))
        u = np.swapaxes(pinv[:, b.mis], 0, 1)  # (B, p, m)
        yield b, u, c, logdet_full + ld_mm, d


def loglik(data: MissingPatterns | np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> float:
    """Casewise (FIML) normal log-likelihood of (mu, Sigma), summed over rows.

    ``sum_g -f_g/2 [k_g log(2 pi) + log|Sigma_g| + tr(Sigma_g^-1 (S_g + d_g d_g'))]`` with
    ``d_g = ybar_g - mu_g`` over patterns g (lavaan's ``lav_mvnorm_missing_loglik_samplestats``).
    Returns ``-inf`` if Sigma is not positive definite.
    """
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    total = 0.0
    try:
        pinv, logdet_full = _full_inverse(sigma)
        for b, u, c, logdet, d in _lowrank(pat, mu, pinv, logdet_full):
            k = b.obs.shape[1]
            nb = len(b.freq)
            # tr(E W) = <P, S_g> + d'Pd - tr(C U'S_g U) - (U'd)' C (U'd)
            dist = b.cov_full.reshape(nb, -1) @ pinv.reshape(-1)
            dist += ((d @ pinv) * d).sum(axis=1)
            if u.shape[2]:
                ut = np.swapaxes(u, 1, 2)
                usu = ut @ b.cov_full @ u
                ud = (ut @ d[:, :, None])[:, :, 0]
                dist -= (c * np.swapaxes(usu, 1, 2)).sum(axis=(1, 2))
                dist -= ((c @ ud[:, :, None])[:, :, 0] * ud).sum(axis=1)
            total += float(np.sum(-0.5 * b.freq * (k * LOG_2PI + logdet + dist)))
    except np.linalg.LinAlgError:
        return -math.inf
    return total


def loglik_casewise(data: MissingPatterns | np.ndarray, mu: np.ndarray,
                    sigma: np.ndarray) -> np.ndarray:
    """Log-likelihood of each row (NaN for empty rows), as ``lav_mvnorm_missing_llik_casewise``."""
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    out = np.full(pat.x.shape[0], np.nan)
    inverter = _Inverter(sigma)
    for b in pat.batches:
        k = b.obs.shape[1]
        sinv, logdet = inverter(b)
        rows, which = _batch_rows(pat, b)
        yc = _gather_rows(pat.x, rows, b.obs[which]) - mu[b.obs[which]]
        dist = np.einsum("ni,nij,nj->n", yc, sinv[which], yc)
        out[rows] = -0.5 * (k * LOG_2PI + logdet[which] + dist)
    return out


def _batch_rows(pat: MissingPatterns, b: _Batch) -> tuple[np.ndarray, np.ndarray]:
    """Rows belonging to a batch, and for each the position of its pattern in the batch."""
    lookup = np.full(pat.n_patterns, -1, dtype=np.intp)
    lookup[b.patterns] = np.arange(len(b.patterns))
    which_all = np.where(pat.row_pattern >= 0, lookup[np.maximum(pat.row_pattern, 0)], -1)
    rows = np.flatnonzero(which_all >= 0)
    return rows, which_all[rows]


def _gather_rows(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return x[rows[:, None], cols]


def _pattern_pieces(pat: MissingPatterns, mu: np.ndarray, sigma: np.ndarray):
    """Per batch: Sigma_g^-1, Sigma_g^-1 d_g and W_g = S_g + d_g d_g'."""
    inverter = _Inverter(sigma)
    for b in pat.batches:
        sinv, _ = inverter(b)
        d = b.mean - mu[b.obs]
        w = b.cov + d[:, :, None] * d[:, None, :]
        yield b, sinv, np.einsum("bij,bj->bi", sinv, d), w


def _embed(b: _Batch, blocks: np.ndarray, p: int) -> np.ndarray:
    """Zero-padded (B, p, p) matrices holding ``blocks`` in the observed rows/columns."""
    full = np.zeros((blocks.shape[0], p, p))
    bi = np.arange(blocks.shape[0])[:, None, None]
    full[bi, b.obs[:, :, None], b.obs[:, None, :]] = blocks
    return full


def _embed_vec(b: _Batch, vecs: np.ndarray, p: int) -> np.ndarray:
    full = np.zeros((vecs.shape[0], p))
    full[np.arange(vecs.shape[0])[:, None], b.obs] = vecs
    return full


def _dsigma_to_vech(g: np.ndarray) -> np.ndarray:
    """D' vec(G) for symmetric G: diagonal once, off-diagonal entries twice."""
    p = g.shape[0]
    r, c = vech_indices(p)
    return np.where(r == c, 1.0, 2.0) * g[r, c]


def gradient(data: MissingPatterns | np.ndarray, mu: np.ndarray,
             sigma: np.ndarray) -> np.ndarray:
    """Gradient of :func:`loglik` with respect to ``(mu, vech(Sigma))`` (length p + p(p+1)/2).

    ``dL/dmu = sum_g f_g Sigma_g^-1 d_g`` and
    ``dL/dSigma = sum_g f_g/2 (Sigma_g^-1 W_g Sigma_g^-1 - Sigma_g^-1)`` embedded in the
    observed rows/columns, mapped to vech by ``D'`` (lavaan's ``dlogl_dmu``/``dlogl_dvechSigma``).
    Computed with E_g = P - U_g C_g U_g' (see :func:`_lowrank`):
    ``sum f E W E = P A P - R P - P R' + sum f U C (U'WU) C U'`` with ``A = sum f W_g`` and
    ``R = sum f U C U'W``, so only one p x p inverse and O(p^2 m) work per pattern.
    """
    return loglik_gradient(data, mu, sigma)[1]


def loglik_gradient(data: MissingPatterns | np.ndarray, mu: np.ndarray,
                    sigma: np.ndarray) -> tuple[float, np.ndarray]:
    """:func:`loglik` and :func:`gradient` in one pass (what an optimizer needs).

    The log-likelihood comes from the gradient's pieces:
    ``sum_g f tr(E_g W_g) = tr(P A) - sum_g f tr(C_g U_g'W_g U_g)``. Returns ``-inf`` and a
    NaN gradient when Sigma is not positive definite.
    """
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    p = pat.p
    try:
        pinv, logdet_full = _full_inverse(sigma)
    except np.linalg.LinAlgError:
        return -math.inf, np.full(p + p * (p + 1) // 2, np.nan)
    const = 0.0  # sum f (k log 2pi + log|Sigma_oo|) - sum f tr(C U'WU)
    a = np.zeros((p, p))  # sum f W_g
    r = np.zeros((p, p))  # sum f U C U' W
    qwq = np.zeros((p, p))  # sum f U C U'WU C U'
    fe = np.zeros((p, p))  # sum f U C U'
    fd = np.zeros(p)  # sum f d
    fucud = np.zeros(p)  # sum f U C U'd
    ftot = 0.0
    try:
        batches = list(_lowrank(pat, mu, pinv, logdet_full))
    except np.linalg.LinAlgError:
        return -math.inf, np.full(p + p * (p + 1) // 2, np.nan)
    for b, u, c, logdet, d in batches:
        f = b.freq
        ftot += f.sum()
        const += float(f @ (b.obs.shape[1] * LOG_2PI + logdet))
        a += np.tensordot(f, b.cov_full, axes=1) + (d * f[:, None]).T @ d
        fd += f @ d
        m = u.shape[2]
        if not m:
            continue
        nb = len(f)
        ut = np.swapaxes(u, 1, 2)  # (B, m, p)
        ud = (ut @ d[:, :, None])[:, :, 0]
        uw = ut @ b.cov_full + ud[:, :, None] * d[:, None, :]  # U'W_g (B, m, p)
        fuc = (u @ c) * f[:, None, None]  # (B, p, m)
        fuc_flat = np.swapaxes(fuc, 0, 1).reshape(p, nb * m)  # (p, B m)
        r += fuc_flat @ uw.reshape(nb * m, p)
        uwu = uw @ u  # (B, m, m)
        const -= float(f @ (c * np.swapaxes(uwu, 1, 2)).sum(axis=(1, 2)))
        t = fuc @ (uwu @ np.swapaxes(c, 1, 2))  # (B, p, m)
        qwq += np.swapaxes(t, 0, 1).reshape(p, nb * m) @ ut.reshape(nb * m, p)
        fe += fuc_flat @ ut.reshape(nb * m, p)
        fucud += fuc_flat @ ud.reshape(nb * m)
    ewe = pinv @ a @ pinv - r @ pinv - pinv @ r.T + qwq
    esum = ftot * pinv - fe
    gsig = 0.5 * (ewe - esum)
    gsig = 0.5 * (gsig + gsig.T)
    gmu = pinv @ fd - fucud
    ll = -0.5 * (const + float(np.sum(pinv * a)))
    return ll, np.concatenate([gmu, _dsigma_to_vech(gsig)])


def gradient_theta(data: MissingPatterns | np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                   delta: np.ndarray) -> np.ndarray:
    """Gradient of :func:`loglik` with respect to model parameters: ``Delta' g``.

    ``delta`` is the Jacobian ``d(mu, vech Sigma)/d theta`` with rows in the order of
    :func:`gradient` (means first, then vech). For a model without a mean structure pass only
    the vech rows and a ``mu`` fixed at the data's means.
    """
    return np.asarray(delta).T @ gradient(data, mu, sigma)


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
    r, c = vech_indices(p)
    n_total = pat.x.shape[0]
    e_all = np.zeros((n_total, p))
    isig_all = np.zeros((n_total, len(r)))
    inverter = _Inverter(sigma)
    for b in pat.batches:
        sinv, _ = inverter(b)
        rows, which = _batch_rows(pat, b)
        obs_rows = b.obs[which]
        yc = _gather_rows(pat.x, rows, obs_rows) - mu[obs_rows]
        e = np.einsum("nij,nj->ni", sinv[which], yc)
        e_all[rows[:, None], obs_rows] = e
        isig_all[rows] = vech(_embed(b, sinv, p))[which]
    used = np.flatnonzero(pat.row_pattern >= 0)
    e_all = e_all[used]
    sc = e_all[:, r] * e_all[:, c] - isig_all[used]
    sc[:, r == c] *= 0.5
    return np.hstack([e_all, sc])


def _kron_vech(a_sum: np.ndarray, p: int) -> np.ndarray:
    """0.5 * D' (sum_g A_g (x) B_g) D from K[j, l, i, k] = sum_g A_g[j, l] B_g[i, k]."""
    r, c = vech_indices(p)
    i, j = r[:, None], c[:, None]
    k, l_ = r[None, :], c[None, :]
    k4 = a_sum
    out = (k4[j, l_, i, k] + k4[j, k, i, l_] + k4[i, l_, j, k] + k4[i, k, j, l_])
    w = np.where(r == c, 0.5, 1.0)
    return 0.5 * out * w[:, None] * w[None, :]


def information_observed(data: MissingPatterns | np.ndarray, mu: np.ndarray,
                         sigma: np.ndarray) -> np.ndarray:
    """Observed information (minus the Hessian of :func:`loglik`, divided by N) in
    ``(mu, vech Sigma)``, as ``lav_mvnorm_missing_information_observed_samplestats``.

    Per pattern, with S = Sigma_g^-1 (embedded), t = S d_g and
    T = S (2 W_g - Sigma_g) S (embedded): the blocks are ``sum f S``,
    ``D'(sum f t (x) S)`` and ``1/2 D'(sum f S (x) T) D``.
    At the EM (saturated) estimates this is the "unstructured" H1 information; at the
    model-implied moments it is lavaan's "structured" one.
    """
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    p = pat.p
    r, c = vech_indices(p)
    h11 = np.zeros((p, p))
    k3 = np.zeros((p, p, p))  # k3[c, r, k] = sum f t[c] S[r, k]
    k4 = np.zeros((p * p, p * p))
    for b, sinv, sd, w in _pattern_pieces(pat, mu, sigma):
        s_full = _embed(b, sinv, p)
        s_sub = _sub(sigma, b.obs, b.obs)
        t22 = _embed(b, sinv @ (2.0 * w - s_sub) @ sinv, p)
        t21 = _embed_vec(b, sd, p)
        f = b.freq
        h11 += np.einsum("b,bij->ij", f, s_full)
        k3 += np.einsum("b,bc,brk->crk", f, t21, s_full)
        k4 += (s_full.reshape(len(f), -1) * f[:, None]).T @ t22.reshape(len(f), -1)
    h21 = k3[c, r, :] + k3[r, c, :]  # (p*, p): D'(t (x) S)
    h21[r == c] *= 0.5
    h22 = _kron_vech(k4.reshape(p, p, p, p), p)
    n = pat.n
    return np.block([[h11, h21.T], [h21, h22]]) / n


def information_expected(data: MissingPatterns | np.ndarray, mu: np.ndarray,
                         sigma: np.ndarray) -> np.ndarray:
    """Expected information per observation in ``(mu, vech Sigma)`` under missing data
    (``lav_mvnorm_missing_information_expected``): block-diagonal ``sum f S`` and
    ``1/2 D'(sum f S (x) S) D``, S = Sigma_g^-1 embedded. ``mu`` is not used."""
    pat = _as_pattern(data)
    mu, sigma = _check_moments(pat, mu, sigma)
    p = pat.p
    h11 = np.zeros((p, p))
    k4 = np.zeros((p * p, p * p))
    inverter = _Inverter(sigma)
    for b in pat.batches:
        sinv, _ = inverter(b)
        s_full = _embed(b, sinv, p).reshape(len(b.freq), -1)
        h11 += np.einsum("b,bi->i", b.freq, s_full).reshape(p, p)
        k4 += (s_full * b.freq[:, None]).T @ s_full
    h22 = _kron_vech(k4.reshape(p, p, p, p), p)
    pstar = h22.shape[0]
    out = np.zeros((p + pstar, p + pstar))
    out[:p, :p] = h11
    out[p:, p:] = h22
    return out / pat.n


def information_firstorder(data: MissingPatterns | np.ndarray, mu: np.ndarray,
                           sigma: np.ndarray) -> np.ndarray:
    """First-order (outer product of casewise scores) information per observation, B1."""
    pat = _as_pattern(data)
    sc = scores(pat, mu, sigma)
    from scipy.linalg.blas import dsyrk

    upper = dsyrk(1.0 / pat.n, sc, trans=1)  # sc' sc / n, upper triangle only
    return np.triu(upper) + np.triu(upper, 1).T


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
    """
    pat = _as_pattern(data)
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
    p = pat.p
    t1 = np.zeros(p)
    t2 = np.zeros((p, p))
    for b in pat.batches:
        mean_full = _embed_vec(b, b.mean, p)
        t1 += b.freq @ mean_full
        t2 += np.tensordot(b.freq, b.cov_full, axes=1) + (mean_full * b.freq[:, None]).T @ mean_full
    return t1, t2


def _estep(pat: MissingPatterns, mu: np.ndarray, sigma: np.ndarray, fixed=None):
    """Expected sufficient statistics T1 = sum E[y], T2 = sum E[y y'] given the observed parts
    (lavaan's ``lav_mvnorm_missing_estep``), from the pattern statistics.

    With P = Sigma^-1 and C = P_mm^-1 for the missing items m of a pattern:
    ``E[y_m | y_o] = mu_m + B (y_o - mu_o)`` with ``B = Sigma_mo Sigma_oo^-1 = -C P_mo`` and
    ``Cov[y_m | y_o] = Sigma_mm - B Sigma_om = C``, so one p x p inverse serves all patterns.
    """
    p = pat.p
    t1, t2 = _observed_moments(pat) if fixed is None else fixed
    t1 = t1.copy()
    t2 = t2.copy()
    pinv, _ = _full_inverse(sigma)
    idx = np.arange(p * p).reshape(p, p)
    for b in pat.batches:
        m = b.mis.shape[1]
        if m == 0:
            continue
        f = b.freq
        c, _ = _inv_logdet(_sub(pinv, b.mis, b.mis))  # (B, m, m)
        beta = -c @ _sub(pinv, b.mis, b.obs)  # (B, m, k)
        mu_o = mu[b.obs]
        mu_m = mu[b.mis]
        yhat = mu_m + (beta @ (b.mean - mu_o)[:, :, None])[:, :, 0]  # (B, m)
        m2 = b.cov + b.mean[:, :, None] * b.mean[:, None, :]
        cross = beta @ (m2 - mu_o[:, :, None] * b.mean[:, None, :]) \
            + mu_m[:, :, None] * b.mean[:, None, :]  # (B, m, k): mean of yhat_m y_o'
        mm = yhat[:, :, None] * yhat[:, None, :] + beta @ b.cov @ np.swapaxes(beta, 1, 2) + c
        fw = f[:, None, None]
        t1 += np.bincount(b.mis.ravel(), weights=(yhat * f[:, None]).ravel(), minlength=p)
        i_mo = idx[b.mis[:, :, None], b.obs[:, None, :]]
        i_om = idx[b.obs[:, :, None], b.mis[:, None, :]]
        i_mm = idx[b.mis[:, :, None], b.mis[:, None, :]]
        fc = (cross * fw).ravel()
        t2 += (np.bincount(i_mo.ravel(), weights=fc, minlength=p * p)
               + np.bincount(i_om.ravel(), weights=(np.swapaxes(cross, 1, 2) * fw).ravel(),
                             minlength=p * p)
               + np.bincount(i_mm.ravel(), weights=(mm * fw).ravel(), minlength=p * p)
               ).reshape(p, p)
    return t1, t2


def _start_values(pat: MissingPatterns) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's EM start: available-case means and ML variances, zero covariances."""
    x = pat.x
    obs = ~np.isnan(x)
    cnt = obs.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu0 = np.where(obs, x, 0.0).sum(axis=0) / cnt
        xc = np.where(obs, x - mu0, 0.0)
        var0 = (xc * xc).sum(axis=0) / cnt
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
    x = pat.x[pat.row_pattern >= 0]
    obs = ~np.isnan(x)
    nj = obs.sum(axis=0).astype(float)
    mu = np.where(obs, x, 0.0).sum(axis=0) / nj
    xc = np.where(obs, x - mu, 0.0)
    var = (xc * xc).sum(axis=0) / nj
    ll = float(np.sum(-0.5 * nj * (LOG_2PI + np.log(var) + 1.0)))
    return IndependenceModel(mu=mu, var=var, loglik=ll, n_available=nj)


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
        pinv, _ = _full_inverse(sigma)
        if not hessian:
            return f, g, None, pinv
        q = ds.shape[0]
        m = pinv @ ds  # (q, p, p): P dSigma_a
        h = m.reshape(q, -1) @ np.swapaxes(m, 1, 2).reshape(q, -1).T
        h += 2.0 * dm @ pinv @ dm.T
        return f, g, 0.5 * (h + h.T), pinv
