"""Differential item functioning: Mantel-Haenszel, logistic and ordinal logistic regression.

Length: three DIF methods (Mantel-Haenszel and its generalized form, logistic and cumulative-
logit regression fitted in batches), purification, ETS classes and the screen-wide decision.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import as_item_matrix, check_choice, check_confidence_level
from psychoval._results import Result, Summary
from psychoval.exceptions import (
    ConvergenceWarning,
    DataError,
    SpecificationError,
    renamed_keyword,
    warn,
)
from psychoval.stats.items._groups import split_group
from psychoval.stats.items._tables import ItemScoreTables

__all__ = ["DifResult", "dif", "dif_screen", "adjust_pvalues", "ets_class_mh",
           "ets_class_smd", "SMD_BOUNDS"]

_METHODS = ("mh", "gmh", "logistic", "ordinal_logistic", "auto")
_MAX_PURIFY = 10
# Zumbo & Thomas (1997) and Jodoin & Gierl (2001) cut points on the Nagelkerke R^2 change
_ZT = (0.13, 0.26)
_JG = (0.035, 0.070)


def adjust_pvalues(p: np.ndarray, method: str) -> np.ndarray:
    """Holm (step-down) or Benjamini-Hochberg adjusted p-values (NaN kept out of the family)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    sorted_p = q[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * sorted_p)
    elif method == "fdr_bh":
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * sorted_p[::-1])[::-1]
    else:  # "none"
        adj = sorted_p
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _classes(value: np.ndarray, cuts: tuple[float, float]) -> np.ndarray:
    v = np.asarray(value, dtype=float)
    return np.where(np.isnan(v), None, np.where(v < cuts[0], "A", np.where(v < cuts[1], "B", "C")))


# --------------------------------------------------------------------------------------------
# Every statistic below depends on the respondents only through the counts of the cells
# (matching-score level, group, response), so the tables and the likelihoods are built from
# those counts: exact, and the work after one pass over the rows scales with the cells.
def _codes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each value of ``a`` among its sorted distinct values (-1 where NaN) and those
    values, as ``np.unique``; by a bincount instead of a sort when the values are whole
    numbers in a short range (sums of Likert or 0/1 items, the responses themselves)."""
    ok = ~np.isnan(a)
    v = a[ok]
    code = np.full(a.shape, -1, dtype=np.intp)
    if v.size == 0:
        return code, v
    lo, hi = float(v.min()), float(v.max())
    if hi - lo <= 4 * v.size + 1024 and bool(np.all(v == np.floor(v))):
        off = (v - lo).astype(np.intp)
        used = np.bincount(off, minlength=int(hi - lo) + 1) > 0
        code[ok] = (np.cumsum(used) - 1)[off]
        return code, lo + np.flatnonzero(used)
    levels, inv = np.unique(v, return_inverse=True)
    code[ok] = inv.reshape(-1)
    return code, levels


def _score_levels(score: np.ndarray, cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_codes` of a matching score, once per score array (the items of a scale share
    theirs); the cache holds the array so that its identity stays valid."""
    hit = cache.get(id(score))
    if hit is None or hit[0] is not score:
        hit = (score, *_codes(score))
        cache[id(score)] = hit
    return hit[1], hit[2]


def _count(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a non-negative integer ``key`` below ``size`` and their counts."""
    if size <= 2 * key.size + 4096:
        counts = np.bincount(key, minlength=size)
        cells = np.flatnonzero(counts)
        return cells, counts[cells]
    return np.unique(key, return_counts=True)


def _response_codes(x: np.ndarray, answered: np.ndarray, items: np.ndarray
                    ) -> tuple[np.ndarray, int]:
    """Category index of each response in ``x`` (items by respondents; -1 where missing) in
    the order of the item's values, and a bound on the number of categories: the value less
    the lowest when the responses are whole numbers, else the index among the item's own
    values (of the ``items`` selected; the others are left at -1)."""
    if answered.any():
        lo, hi = float(np.fmin.reduce(x, axis=None)), float(np.fmax.reduce(x, axis=None))
        if hi - lo <= 4096 and float(np.fmax.reduce(x - np.floor(x), axis=None)) == 0.0:
            codes = x - lo  # whole numbers
            codes[~answered] = -1.0
            return codes.astype(np.intp), int(hi - lo) + 1
    codes = np.full(x.shape, -1, dtype=np.intp)
    width = 1
    for j in np.flatnonzero(items):
        codes[j], levels = _codes(x[j])
        width = max(width, levels.size)
    return codes, width


# --------------------------------------------------------------------------------------------
# Mantel-Haenszel
def _mh(y: np.ndarray, focal: np.ndarray, strata: tuple[np.ndarray, int]) -> dict[str, float]:
    """MH statistics for one 0/1 item; ``focal`` is 1 for the focal group, 0 for reference;
    ``strata`` the stratum index of each respondent and the number of strata (empty strata
    are dropped with the uninformative ones)."""
    s, ns = strata
    cells = np.bincount(s * 4 + focal * 2 + y.astype(np.intp), minlength=4 * ns)
    return _mh_counts(cells.reshape(ns, 4))


def _mh_counts(cells: np.ndarray) -> dict[str, float]:
    """:func:`_mh` from the counts of its cells: per stratum (rows, in score order) the
    reference wrong, reference correct, focal wrong and focal correct respondents."""
    from scipy.special import chdtrc

    b, a, d, c = np.asarray(cells).T.astype(float)
    t = a + b + c + d
    keep = t > 1
    a, b, c, d, t = a[keep], b[keep], c[keep], d[keep], t[keep]
    nr, nf, m1, m0 = a + b, c + d, a + c, b + d
    num = np.sum(a - nr * m1 / t)
    var = np.sum(nr * nf * m1 * m0 / (t * t * (t - 1)))
    stat = (abs(num) - 0.5) ** 2 / var if var > 0 else np.nan
    r, sv = a * d / t, b * c / t
    rs, ss = r.sum(), sv.sum()
    alpha = rs / ss if ss > 0 else np.nan
    pp, qq = (a + d) / t, (b + c) / t
    with np.errstate(divide="ignore", invalid="ignore"):
        var_log = (np.sum(pp * r) / (2 * rs**2) + np.sum(pp * sv + qq * r) / (2 * rs * ss)
                   + np.sum(qq * sv) / (2 * ss**2))
        log_alpha = np.log(alpha)
    se = float(np.sqrt(var_log))
    delta = -2.35 * log_alpha
    p_value = float(chdtrc(1, stat)) if np.isfinite(stat) else np.nan  # chi2.sf(stat, 1)
    return {"alpha_mh": alpha, "log_alpha_mh": log_alpha, "se_log_alpha_mh": se,
            "chisq_mh": stat, "p_value": p_value, "delta_mh": delta,
            "se_delta_mh": 2.35 * se, "n_strata": int(keep.sum())}


def _gmh(y: np.ndarray, code: np.ndarray, n_groups: int, strata: tuple[np.ndarray, int]
         ) -> dict[str, float]:
    """Generalized Mantel-Haenszel statistic for one 0/1 item over several groups (Somes, 1986;
    Penfield, 2001): ``code`` 0 for the reference group, 1..G-1 for the focal groups.

    Per stratum k, ``A_g`` focal group g's correct count, ``E A_g = n_g m_1 / T``,
    ``Cov(A_g, A_h) = m_1 m_0 (T n_g [g = h] - n_g n_h) / (T^2 (T - 1))``;
    ``chi2 = (sum A - sum E A)' (sum Cov)^-1 (sum A - sum E A)`` on G - 1 df (the rank of the
    summed covariance if a focal group has no informative stratum). No continuity correction
    (as difR::difGMH and R's mantelhaen.test on a 2 x G x K table).
    """
    s, ns = strata
    G = n_groups
    idx = s * G + code
    n_sg = np.bincount(idx, minlength=ns * G).reshape(ns, G).astype(float)
    a_sg = np.bincount(idx, weights=y, minlength=ns * G).reshape(ns, G)
    return _gmh_counts(n_sg, a_sg)


def _gmh_counts(n_sg: np.ndarray, a_sg: np.ndarray) -> dict[str, float]:
    """:func:`_gmh` from the counts per stratum (rows, in score order) and group (columns,
    reference first): respondents ``n_sg`` and correct answers ``a_sg``."""
    from scipy.stats import chi2

    n_sg, a_sg = np.asarray(n_sg, dtype=float), np.asarray(a_sg, dtype=float)
    t = n_sg.sum(axis=1)
    keep = t > 1
    n_sg, a_sg, t = n_sg[keep], a_sg[keep], t[keep]
    m1 = a_sg.sum(axis=1)
    m0 = t - m1
    nf = n_sg[:, 1:]
    dev = (a_sg[:, 1:] - nf * (m1 / t)[:, None]).sum(axis=0)
    f = m1 * m0 / (t * t * (t - 1))
    cov = np.diag((f * t) @ nf) - (nf * f[:, None]).T @ nf
    rank = int(np.linalg.matrix_rank(cov)) if cov.size else 0
    stat = float(dev @ np.linalg.pinv(cov) @ dev) if rank else np.nan
    p_value = float(chi2.sf(stat, rank)) if rank else np.nan
    return {"chisq_gmh": stat, "df_gmh": rank, "p_value": p_value, "n_strata": int(keep.sum())}


def ets_class_mh(delta: np.ndarray, se: np.ndarray, significant: np.ndarray,
                 level: float = 0.05) -> np.ndarray:
    """ETS A/B/C of Mantel-Haenszel D-DIF for 0/1 items (Zieky, 1993; Zwick, 2012, ETS
    RR-12-08): A = |D| < 1 or the test not significant; C = |D| >= 1.5 and |D| significantly
    above 1 (one-sided z at ``level``); else B. ``significant``: the MH test after whatever
    multiplicity correction the caller applies."""
    from scipy.stats import norm

    z = norm.isf(level)
    delta = np.asarray(delta, dtype=float)
    absd = np.abs(delta)
    sig = np.asarray(significant, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        above_one = (absd - 1) / np.asarray(se, dtype=float) > z
    return np.where(np.isnan(delta), None,
                    np.where((absd < 1) | ~sig, "A",
                             np.where((absd >= 1.5) & above_one, "C", "B")))


# ETS's bounds for the standardized mean difference of ordered items, |SMD| / SD of the item
# (Zwick, Thayer & Mazzeo, 1997; Zwick, 2012, ETS RR-12-08, p. 10): AA up to .17, BB up
# to .25, CC above .25 - each beyond AA only when the DIF test is significant
SMD_BOUNDS = (0.17, 0.25)


def ets_class_smd(smd_sd: np.ndarray, significant: np.ndarray) -> np.ndarray:
    """ETS A/B/C for ordered (polytomous) items from |SMD| / SD (see ``SMD_BOUNDS``)."""
    v = np.abs(np.asarray(smd_sd, dtype=float))
    sig = np.asarray(significant, dtype=bool)
    return np.where(np.isnan(v), None,
                    np.where((v <= SMD_BOUNDS[0]) | ~sig, "A",
                             np.where(v > SMD_BOUNDS[1], "C", "B")))


def _smd(y: np.ndarray, focal: np.ndarray, strata: np.ndarray, n_strata: int
         ) -> tuple[float, float]:
    """ETS's standardized mean difference (Dorans & Schmitt, 1991; Zwick, Thayer & Mazzeo,
    1997) of one item: the focal-weighted mean over matching-score levels of
    (focal mean - reference mean) at that level, over the levels both groups reach; and that
    divided by the item's SD in both groups together. Negative: the item is harder (lower
    scores) for the focal group at equal matching score."""
    f = focal.astype(bool)
    n_f = np.bincount(strata[f], minlength=n_strata)
    n_r = np.bincount(strata[~f], minlength=n_strata)
    s_f = np.bincount(strata[f], weights=y[f], minlength=n_strata)
    s_r = np.bincount(strata[~f], weights=y[~f], minlength=n_strata)
    sd = float(np.std(y, ddof=1)) if y.size > 1 else math.nan
    return _smd_sums(n_f, n_r, s_f, s_r, sd)


def _smd_sums(n_f: np.ndarray, n_r: np.ndarray, s_f: np.ndarray, s_r: np.ndarray,
                  sd: float) -> tuple[float, float]:
    """:func:`_smd` from per-level counts and sums of the item in the focal (``n_f``,
    ``s_f``) and reference group, and the item's SD over both."""
    both = (n_f > 0) & (n_r > 0)
    if not both.any():
        return math.nan, math.nan
    w = n_f[both]
    smd = float(np.sum(w * (s_f[both] / w - s_r[both] / n_r[both])) / w.sum())
    return smd, (smd / sd if sd > 0 else math.nan)


# --------------------------------------------------------------------------------------------
# logistic regressions: binary by Newton-Raphson on binomial cells; cumulative logits by
# Newton-Raphson on (score, group, category) cells, many models side by side
def _logit_fit(X: np.ndarray, k: np.ndarray, n: np.ndarray, *, tol: float = 1e-10,
               maxiter: int = 100) -> tuple[np.ndarray, float, bool]:
    """Logistic regression of ``k`` successes in ``n`` trials at each row (cell) of ``X``;
    the log-likelihood is the respondents' (no binomial coefficients)."""
    beta = np.zeros(X.shape[1])
    ybar = k.sum() / n.sum()
    if 0 < ybar < 1:
        beta[0] = np.log(ybar / (1 - ybar))

    def loglik(eta):
        return float(np.sum(k * eta - n * np.logaddexp(0, eta)))

    eta = X @ beta
    ll = loglik(eta)
    for _ in range(maxiter):
        mu = 1 / (1 + np.exp(-eta))
        grad = X.T @ (k - n * mu)
        hess = (X * (n * mu * (1 - mu))[:, None]).T @ X
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return beta, ll, False
        t = 1.0
        while True:
            new = beta + t * step
            eta_new = X @ new
            ll_new = loglik(eta_new)
            if ll_new >= ll - _slack(ll) or t < 1e-8:
                break
            t /= 2
        beta, eta, change, ll = new, eta_new, ll_new - ll, ll_new
        if abs(change) < tol * (abs(ll) + 1) and np.max(np.abs(t * step)) < 1e-8:
            return beta, ll, True
    return beta, ll, False


def _slack(ll: Any) -> Any:
    """How far a step may lower the log-likelihood and still be taken: 1e-12, widened to the
    rounding error of a sum of that size (a few hundred ulps), so that near the optimum the
    order in which the sum was added up does not decide whether a Newton step is taken."""
    return 1e-12 + _ROUNDING * np.abs(ll)


_ROUNDING = 1e-14


def _null_loglik(counts: np.ndarray) -> float:
    """Log-likelihood of the intercept-only model from the counts of the responses."""
    counts = counts[counts > 0]
    return float(np.sum(counts * np.log(counts / counts.sum())))


def _nagelkerke(ll: float, ll0: float, n: int) -> float:
    return (1 - np.exp(2 / n * (ll0 - ll))) / (1 - np.exp(2 / n * ll0))


_BATCH_CELLS = 1 << 18  # padded cells per batch of cumulative-logit fits


def _ordinal_fits(models: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, int]], *,
                  tol: float = 1e-10, maxiter: int = 100
                  ) -> list[tuple[np.ndarray, float, bool]]:
    """Cumulative-logit (proportional odds) models by Newton-Raphson with the analytic Hessian.

    Model ``(X, c, w, J)``: the cells (rows of ``X``) answered category ``c`` (0..J-1) ``w``
    times; ``logit P(Y <= j) = zeta_j - X beta`` (MASS::polr's parameterisation). Returns per
    model ``(beta..., zeta...)``, the log-likelihood and whether it converged. Each model
    takes its own Newton path (start at beta = 0 and the marginal thresholds, step halving,
    stopping rule); the models run side by side, in batches of arrays padded to the largest.
    """
    out: list[tuple[np.ndarray, float, bool]] = []
    start = 0
    while start < len(models):
        stop, width = start, 0
        while stop < len(models) and (stop == start or (stop - start + 1) * max(
                width, models[stop][1].size) <= _BATCH_CELLS):
            width = max(width, models[stop][1].size)
            stop += 1
        out.extend(_ordinal_batch(models[start:stop], tol=tol, maxiter=maxiter))
        start = stop
    return out


def _ordinal_batch(models: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, int]], *,
                   tol: float, maxiter: int) -> list[tuple[np.ndarray, float, bool]]:
    """:func:`_ordinal_fits` on one batch.

    With ``F(x) = 1 / (1 + exp(-x))``, cell i's probability is ``p = F(u) - F(l)``,
    ``u = zeta_c - x'beta`` and ``l = zeta_(c-1) - x'beta`` (``F(u) = 1`` for the top
    category, ``F(l) = 0`` for the bottom one). With ``a = F'(u) / p``, ``b = F'(l) / p``,
    ``alpha = F''(u) / p``, ``beta_ = F''(l) / p`` and ``d = a - b``, the gradient is
    ``sum w (-x d)`` for beta and ``sum_[c=j] w a - sum_[c=j+1] w b`` for zeta_j; the Hessian
    has ``sum w (alpha - beta_ - d^2) x x'`` (beta, beta),
    ``-sum_[c=j] w (alpha - a d) x + sum_[c=j+1] w (beta_ - b d) x`` (beta, zeta_j),
    ``sum_[c=j] w (alpha - a^2) - sum_[c=j+1] w (beta_ + b^2)`` (zeta_j, zeta_j) and
    ``sum_[c=j] w a b`` (zeta_j, zeta_j-1) - the sums over cells kept per category by a
    product with the cells' category indicators.
    """
    F = len(models)
    M = max(c.size for _, c, _, _ in models)
    Q = max(X.shape[1] for X, _, _, _ in models)
    Jmax = max(J for *_, J in models)
    K = Jmax - 1  # thresholds of the widest model
    P = Q + K
    X = np.zeros((F, M, Q))
    W = np.zeros((F, M))
    cu = np.full((F, M), Jmax + 1)  # upper and lower limit of each cell in z (below);
    cl = np.zeros((F, M), dtype=np.intp)  # padding cells have p = 1 and weight 0
    E = np.zeros((F, Jmax, M))  # category indicators
    J = np.empty(F, dtype=np.intp)
    q = np.empty(F, dtype=np.intp)
    psi = np.zeros((F, P))
    pad = np.zeros((F, P))  # the parameters a model does not have
    for f, (Xf, c, w, Jf) in enumerate(models):
        m, q[f] = Xf.shape
        J[f] = Jf
        X[f, :m, :q[f]] = Xf
        W[f, :m] = w
        cu[f, :m] = c + 1
        cl[f, :m] = c
        E[f, c, np.arange(m)] = 1.0
        cum = np.cumsum(np.bincount(c, weights=w, minlength=Jf))[:-1] / w.sum()
        psi[f, Q:Q + Jf - 1] = np.log(cum / (1 - cum))
        pad[f, q[f]:Q] = 1.0
        pad[f, Q + Jf - 1:] = 1.0
    Xt = np.ascontiguousarray(X.transpose(0, 2, 1))
    diag, zz = np.arange(P), Q + np.arange(K)

    def parts(psi, X, cu, cl, J):
        """F(u), F(l) and p of every cell; z = (-inf, zeta_1.., +inf at J, .., +inf)."""
        eta = (X @ psi[:, :Q, None])[..., 0]
        z = np.empty((psi.shape[0], Jmax + 2))
        z[:, 0] = -np.inf
        z[:, 1:Jmax] = psi[:, Q:]
        z[np.arange(psi.shape[0]), J] = np.inf
        z[:, Jmax + 1] = np.inf
        with np.errstate(over="ignore"):  # exp(+large) = inf gives F = 0, as it should
            fu = 1 / (1 + np.exp(eta - np.take_along_axis(z, cu, axis=1)))
            fl = 1 / (1 + np.exp(eta - np.take_along_axis(z, cl, axis=1)))
        return fu, fl, fu - fl

    def loglik(p, W):
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = np.sum(W * np.log(p), axis=1)
        return np.where(np.all(p > 0, axis=1), ll, -np.inf)

    result: list[tuple[np.ndarray, float, bool] | None] = [None] * F
    live = np.arange(F)  # the models still iterating, and their arrays
    arrays = (X, Xt, W, cu, cl, E, J, pad)
    fu, fl, p = parts(psi, X, cu, cl, J)
    ll = loglik(p, W)

    def finish(which, ok):
        for i in np.flatnonzero(which):
            f = live[i]
            est = np.concatenate([psi[i, :q[f]], psi[i, Q:Q + J[f] - 1]])
            result[f] = (est, float(ll[i]), ok)

    for _ in range(maxiter):
        X, Xt, W, cu, cl, E, Jl, pad = arrays
        du, dl = fu * (1 - fu), fl * (1 - fl)
        a, b = du / p, dl / p
        al, be = a * (1 - 2 * fu), b * (1 - 2 * fl)
        d = a - b
        u, lw = W * (al - a * d), W * (be - b * d)
        per_category = E @ np.stack(
            [W * a, W * b, W * (al - a * a), W * (be + b * b), W * a * b]
            + [X[..., r] * u for r in range(Q)] + [X[..., r] * lw for r in range(Q)], axis=2)
        sa, sb, su, sl, sab = (per_category[..., r] for r in range(5))
        xu, xl = per_category[..., 5:5 + Q], per_category[..., 5 + Q:]
        n_live = live.size
        grad = np.empty((n_live, P))
        grad[:, :Q] = (Xt @ (-W * d)[..., None])[..., 0]
        grad[:, Q:] = sa[:, :-1] - sb[:, 1:]
        hess = np.zeros((n_live, P, P))
        hess[:, :Q, :Q] = Xt @ (X * (W * (al - be - d * d))[..., None])
        cross = xl[:, 1:, :] - xu[:, :-1, :]  # (live, K, Q)
        hess[:, Q:, :Q] = cross
        hess[:, :Q, Q:] = cross.transpose(0, 2, 1)
        hess[:, zz, zz] = su[:, :-1] - sl[:, 1:]
        hess[:, zz[1:], zz[:-1]] = sab[:, 1:K]
        hess[:, zz[:-1], zz[1:]] = sab[:, 1:K]
        hess[:, diag, diag] += pad
        step = np.empty((n_live, P))
        singular = np.zeros(n_live, dtype=bool)
        try:
            step[:] = -np.linalg.solve(hess, grad[..., None])[..., 0]
        except np.linalg.LinAlgError:
            for i in range(n_live):
                try:
                    step[i] = -np.linalg.solve(hess[i], grad[i])
                except np.linalg.LinAlgError:
                    singular[i] = True
                    step[i] = 0.0
        # step halving, model by model
        t = np.ones(n_live)
        new = psi + step
        fu_n, fl_n, p_n = parts(new, X, cu, cl, Jl)
        ll_new = loglik(p_n, W)
        search = ~(ll_new >= ll - _slack(ll)) & ~singular
        while search.any():
            s = np.flatnonzero(search)
            t[s] /= 2
            new[s] = psi[s] + t[s, None] * step[s]
            fu_n[s], fl_n[s], p_n[s] = parts(new[s], X[s], cu[s], cl[s], Jl[s])
            ll_new[s] = loglik(p_n[s], W[s])
            search[s] = ~((ll_new[s] >= ll[s] - _slack(ll[s])) | (t[s] < 1e-8))
        failed = singular | ~np.isfinite(ll_new)
        finish(failed, False)
        change = ll_new - ll
        moved = ~failed
        psi[moved], fu[moved], fl[moved], p[moved], ll[moved] = (
            new[moved], fu_n[moved], fl_n[moved], p_n[moved], ll_new[moved])
        done = moved & (np.abs(change) < tol * (np.abs(ll) + 1)) & (
            np.max(np.abs(t[:, None] * step), axis=1) < 1e-8)
        finish(done, True)
        keep = ~(failed | done)
        if not keep.all():
            live = live[keep]
            if live.size == 0:
                break
            psi, fu, fl, p, ll = psi[keep], fu[keep], fl[keep], p[keep], ll[keep]
            arrays = tuple(arr[keep] for arr in arrays)
    else:
        finish(np.ones(live.size, dtype=bool), False)
    return result  # type: ignore[return-value]


def _lr_cells(s: np.ndarray, levels: np.ndarray, focal: np.ndarray, y: np.ndarray,
              n_categories: int, ordinal: bool) -> dict[str, Any]:
    """One item's respondents collapsed into (score, group, response) cells: ``s`` each
    respondent's score level (index into ``levels``), ``focal`` 0/1, ``y`` the 0/1 answer
    (binary) or the category index below ``n_categories`` (ordinal). Returns the designs of
    the three models (score; + group; + score x group) on the cells and their counts."""
    ns = levels.size
    if ordinal:
        R = n_categories
        key, w = _count((s * 2 + focal) * R + y, ns * 2 * R)
        return _lr_cells_counts(key, w, levels, R, y.size)
    key = s * 2 + focal
    trials = np.bincount(key, minlength=ns * 2)
    cells = np.flatnonzero(trials)
    return _lr_cells_counts(cells, trials[cells], levels, 0, y.size,
                                successes=np.bincount(key, weights=y, minlength=ns * 2)[cells])


def _lr_cells_counts(key: np.ndarray, w: np.ndarray, levels: np.ndarray,
                         n_categories: int, n_respondents: int, *,
                         successes: np.ndarray | None = None) -> dict[str, Any]:
    """:func:`_lr_cells` from the counts of its non-empty cells, in increasing ``key``:
    binary (``successes`` given), ``key = level * 2 + focal`` with ``w`` trials and
    ``successes`` 1s; ordinal, ``key = (level * 2 + focal) * n_categories + category`` with
    ``w`` respondents."""
    if successes is None:
        R = n_categories
        cells, category = np.divmod(key, R)
        present = np.zeros(R, dtype=bool)
        present[category] = True
        J = int(present.sum())
        c = (np.cumsum(present) - 1)[category]  # the categories answered, from 0
        w = w.astype(float)
        out = {"c": c, "w": w, "J": J, "counts": np.bincount(c, weights=w, minlength=J)}
    else:
        cells = key
        n_cell = np.asarray(w, dtype=float)
        k_cell = np.asarray(successes, dtype=float)
        out = {"k": k_cell, "n": n_cell,
               "counts": np.array([n_cell.sum() - k_cell.sum(), k_cell.sum()])}
    score = levels[cells // 2]
    g = (cells % 2).astype(float)
    out["designs"] = [np.column_stack([score]), np.column_stack([score, g]),
                      np.column_stack([score, g, score * g])]
    out["n_respondents"] = n_respondents
    return out


def _logistic_fits(cells: dict[str, Any]) -> list[tuple[np.ndarray, float, bool]]:
    """The three binary models of :func:`_lr_cells`, each with an intercept first."""
    return [_logit_fit(np.column_stack([np.ones(X.shape[0]), X]), cells["k"], cells["n"])
            for X in cells["designs"]]


def _lr_dif(cells: dict[str, Any], fits: Sequence[tuple[np.ndarray, float, bool]],
            ordinal: bool) -> dict[str, Any]:
    """Likelihood-ratio DIF tests of one item from its three fitted models."""
    from scipy.special import chdtrc

    params, lls, conv = zip(*fits, strict=True)
    n = cells["n_respondents"]
    ll_null = _null_loglik(cells["counts"])
    r2 = [_nagelkerke(ll, ll_null, n) for ll in lls]
    out = {
        "ll0": lls[0], "ll1": lls[1], "ll2": lls[2], "ll_null": ll_null,
        "lr_uniform": 2 * (lls[1] - lls[0]), "lr_nonuniform": 2 * (lls[2] - lls[1]),
        "lr_both": 2 * (lls[2] - lls[0]),
        "r2_0": r2[0], "r2_1": r2[1], "r2_2": r2[2], "converged": all(conv),
    }
    # chi2.sf: 1 below the support (a statistic rounded below 0)
    p = chdtrc([1, 1, 2], np.maximum([out["lr_uniform"], out["lr_nonuniform"],
                                      out["lr_both"]], 0.0))
    out["p_uniform"], out["p_nonuniform"], out["p_both"] = (float(v) for v in p)
    # group effect at equal score in the uniform model (M1); interaction from M2
    k = 0 if ordinal else 1  # binary fits carry an intercept first
    out["b_group"] = float(params[1][k + 1])
    out["b_interaction"] = float(params[2][k + 2])
    return out


# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, repr=False)
class DifResult(Result):
    """Differential item functioning per item and focal group (see :func:`dif`).

    Attributes
    ----------
    table : DataFrame
        One row per focal group and item: ``focal``, ``item``, ``method`` (the test used for
        the row: ``"mh"``, ``"logistic"`` or ``"ordinal_logistic"``), ``n_reference``,
        ``n_focal`` (the rows analysed for the item); for Mantel-Haenszel rows: ``alpha_mh``
        (common odds ratio, > 1 favours the reference group), ``log_alpha_mh``,
        ``se_log_alpha_mh`` (Robins-Breslow-Greenland), ``chisq_mh`` (with continuity
        correction), ``delta_mh`` (-2.35 ln alpha_mh; negative = the item is harder for the
        focal group), ``se_delta_mh``, ``n_strata``, ``ets_class``; for the logistic rows:
        log-likelihoods ``ll0`` (score), ``ll1`` (+ group), ``ll2`` (+ score x group),
        likelihood-ratio statistics ``lr_uniform`` (df 1), ``lr_nonuniform`` (df 1),
        ``lr_both`` (df 2) with p-values, Nagelkerke ``r2_0``, ``r2_1``, ``r2_2``,
        ``delta_r2`` (for the tested ``dif_type``), ``zt_class`` (Zumbo-Thomas),
        ``jg_class`` (Jodoin-Gierl), ``converged``; for the cumulative-logit rows also ETS's
        standardized mean difference ``smd`` and ``smd_sd`` (SMD over the item's SD) with
        ``ets_class`` from ``SMD_BOUNDS``. Always: ``effect_class`` (the row's class, named:
        ETS for MH and cumulative-logit rows, Zumbo-Thomas for binary logistic rows - the
        Nagelkerke classes alone are too insensitive to gate a verdict), ``p_value`` (of the
        tested statistic), ``p_adjusted``
        (over the items of a focal group), ``flagged`` (``p_adjusted`` below the significance
        level, the field ``level``), ``favours``
        ("reference"/"focal").
    match : str
        The matching score in words.
    """

    table: pd.DataFrame
    method: str
    dif_type: str
    reference: Any
    focal: tuple[Any, ...]
    match: str
    purify: bool
    purify_iterations: int
    purify_converged: bool
    correction: str
    level: float
    n_used: int
    rows_dropped: int
    notes: tuple[str, ...]

    _schema = "psychoval.dif/1"

    @property
    def flagged(self) -> list[str]:
        return sorted(set(self.table.loc[self.table["flagged"], "item"]))

    def _repr_fields(self) -> dict[str, Any]:
        return {"method": self.method, "reference": self.reference,
                "focal": ",".join(map(str, self.focal)), "flagged": len(self.flagged)}

    def summary(self) -> Summary:
        return Summary(
            title=f"DIF ({self.method})",
            facts=(("method", self.method), ("DIF type tested", self.dif_type),
                   ("reference group", self.reference),
                   ("focal group(s)", ", ".join(map(str, self.focal))),
                   ("matching score", self.match), ("purified", self.purify),
                   ("correction", self.correction), ("significance level", self.level),
                   ("n used", self.n_used), ("rows dropped", self.rows_dropped)),
            tables=(("Items", self.table.set_index(["focal", "item"])),), notes=self.notes)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


# --------------------------------------------------------------------------------------------
# DIF from merged ItemScoreTables (no rows)
def _refuse_tables(what: str, why: str) -> None:
    raise SpecificationError(f"{what} is not available from ItemScoreTables: {why}")


def _dif_tables(t: ItemScoreTables, *, group: Any, focal: Any, reference: Any, method: str,
                match: Any, framework: Any, studied: str, missing: str,
                items: Sequence[str] | None, dif_type: str, purify: bool, correction: str,
                level: float) -> DifResult:
    """:func:`dif` of merged tables (its arguments checked there): the same result as
    :func:`dif` of the concatenated rows, on the total or rest score of complete rows."""
    if group is not None:
        _refuse_tables("group=", "the tables already hold the group of every row (build "
                       "them with group=); pass group=None")
    if purify:
        _refuse_tables("purify=True", "purification matches each item on the total of the "
                       "items not flagged so far, and the tables keep each item against the "
                       "total of all the items (and the rest score) only; purify on the rows, "
                       "or build the tables on the anchor items you trust")
    if missing != "listwise":
        _refuse_tables(f"missing={missing!r}", "prorated matching scores need each row's "
                       "number of answered items, and the tables count complete rows; use "
                       "missing='listwise'")
    if not (isinstance(match, str) and match == "total") or framework is not None:
        _refuse_tables(f"match={match!r}", "the tables match on the total of all their "
                       "items; for a competency's or scale's total build tables on that "
                       "scale's items, or keep the rows for a supplied score")
    if items is not None and list(items) != list(t.columns):
        _refuse_tables("items=", "the matching total is that of every item in the tables; "
                       "build tables on the items to analyse")
    if not t.groups:
        raise DataError("these tables were built without group=; DIF needs each row's group")
    if t.k < 1 or t.counts.shape[2] == 0:
        raise DataError("no row answers every item; DIF from tables analyses complete rows")

    G = len(t.groups)
    lab_counts = t.counts[..., :G]  # labelled complete rows
    n_used = int(lab_counts[0].sum())
    rows_dropped = t.n - n_used
    notes: list[str] = []
    if rows_dropped:
        notes.append(f"{rows_dropped} row(s) with a missing response, group or score dropped")
    v = t.response_min + np.arange(t.counts.shape[1], dtype=np.int64)
    seen = lab_counts.sum(axis=(2, 3)) > 0  # (k, R) values answered on the used rows
    binary = ~(seen & ((v != 0) & (v != 1))).any(axis=1)
    if method in ("mh", "gmh", "logistic") and not binary.all():
        bad = [t.columns[j] for j in np.flatnonzero(~binary)]
        raise DataError(f"method={method!r} needs 0/1 items; item(s) "
                        f"{', '.join(map(repr, bad[:5]))} have other values: score them first, "
                        "or use method='auto' or 'ordinal_logistic'")
    item_method = (np.where(binary, "mh", "ordinal_logistic") if method == "auto"
                   else np.full(t.k, method))
    lr_key = {"both": "p_both", "uniform": "p_uniform", "nonuniform": "p_nonuniform"}[dif_type]
    present = [g for g in range(G) if lab_counts[..., g].any()]
    reference, focals = _resolve_groups([t.groups[g] for g in present], reference, focal,
                                        notes)
    slot = {lab: i for i, lab in enumerate(t.groups)}
    comparisons = ([(", ".join(map(str, focals)), focals)] if method == "gmh"
                   else [(f, [f]) for f in focals])
    tables = []
    for f, members in comparisons:
        slots = [slot[reference]] + [slot[g] for g in members]
        recs: list[dict[str, Any]] = [{}] * t.k
        pending = []
        for j in range(t.k):
            c, levels = t.item_cells(j, slots, studied)
            counts = {"n_reference": int(c[..., 0].sum()), "n_focal": int(c[..., 1:].sum())}
            by_focal = np.stack([c[..., 0], c[..., 1:].sum(axis=2)], axis=2)  # (R, L, 2)
            if item_method[j] in ("mh", "gmh"):
                y0, y1 = _at(c, v, 0), _at(c, v, 1)  # (L, groups)
                if item_method[j] == "mh":
                    rec = _mh_counts(np.column_stack(
                        [y0[:, 0], y1[:, 0], y0[:, 1:].sum(axis=1), y1[:, 1:].sum(axis=1)]))
                else:
                    rec = _gmh_counts(y0 + y1, y1)
                recs[j] = {**rec, "p_test": rec["p_value"], **counts}
            elif item_method[j] == "logistic":
                trials = _at(by_focal, v, 0) + _at(by_focal, v, 1)
                key = np.flatnonzero(trials.ravel())
                cells = _lr_cells_counts(
                    key, trials.ravel()[key], levels, 0, int(c.sum()),
                    successes=_at(by_focal, v, 1).ravel()[key])
                rec = _lr_dif(cells, _logistic_fits(cells), ordinal=False)
                recs[j] = {**rec, "p_test": rec[lr_key], **counts}
            else:
                lgr = by_focal.transpose(1, 2, 0)  # (L, 2, R)
                key = np.flatnonzero(lgr.ravel())
                cells = _lr_cells_counts(key, lgr.ravel()[key], levels, v.size,
                                         int(c.sum()))
                pending.append((j, cells, {**counts, **_smd_table(lgr, v)}))
        tab, p, p_adj = _records_table(recs, pending, lr_key, correction)
        tables.append(_comparison_table(tab, p, p_adj, f, t.columns, item_method, dif_type,
                                        level))
    match_text = f"total score of the {t.k} analysed items" + (
        " (studied item included)" if studied == "include"
        else " without the studied item (rest score)")
    return DifResult(
        table=pd.concat(tables, ignore_index=True), method=method,
        dif_type=_tested_text(method, binary, len(focals), dif_type), reference=reference,
        focal=tuple(focals), match=match_text, purify=False, purify_iterations=0,
        purify_converged=True, correction=correction, level=level, n_used=n_used,
        rows_dropped=rows_dropped, notes=tuple(notes))


def _at(c: np.ndarray, v: np.ndarray, value: int) -> np.ndarray:
    """The counts of response ``value`` (zeros when no response has it)."""
    r = value - int(v[0])
    return c[r] if 0 <= r < v.size else np.zeros(c.shape[1:], dtype=c.dtype)


def _smd_table(lgr: np.ndarray, v: np.ndarray) -> dict[str, float]:
    """ETS's SMD of one item from its (level, focal, response) counts (:func:`_smd`)."""
    n_r, n_f = lgr[:, 0].sum(axis=1), lgr[:, 1].sum(axis=1)
    s_r, s_f = lgr[:, 0] @ v.astype(float), lgr[:, 1] @ v.astype(float)
    per_value = lgr.sum(axis=(0, 1)).astype(float)
    n = per_value.sum()
    mean = per_value @ v / n
    sd = math.sqrt(per_value @ (v - mean) ** 2 / (n - 1)) if n > 1 else math.nan
    smd, smd_sd = _smd_sums(n_f, n_r, s_f, s_r, sd)
    return {"smd": smd, "smd_sd": smd_sd}


def dif(
    data: Any,
    *,
    group: Any = None,
    focal: Any = None,
    reference: Any = None,
    method: str = "auto",
    match: Any = "total",
    framework: Any = None,
    studied: str = "include",
    missing: str = "listwise",
    items: Sequence[str] | None = None,
    dif_type: str = "both",
    purify: bool = False,
    correction: str = "holm",
    significance_level: float = 0.05,
    level: float | None = None,
) -> DifResult:
    """Differential item functioning between a reference group and focal group(s).

    An item shows DIF when respondents of equal ability (equal matching score) but different
    groups have different chances of answering it correctly (or of higher categories).

    Parameters
    ----------
    data : DataFrame, ResponseTable, ``Framework.score``'s result, 2-d array or ItemScoreTables
        Scored responses (0/1 for ``"mh"`` and ``"logistic"``; ordered categories for
        ``"ordinal_logistic"``), or their merged :class:`ItemScoreTables` (counts of item x
        response x total score x group built chunk by chunk: ``group=`` is then not given,
        and the options that need rows - purification, prorated scores, other matching
        scores - are refused with the reason). With ``Framework.score``'s result, ``group``
        may name one of its covariates (e.g. ``"job_family"``).
    group : str or array-like
        Group label per respondent, or the name of a column of ``data`` holding it
        (required, except with :class:`ItemScoreTables`, which hold it).
    focal, reference : label or list of labels, optional
        The reference group, and the focal group(s) each compared with it. With two groups
        and neither given, the first label in sorted order is the reference; with more than
        two groups ``reference=`` is required.
    method : {"auto", "mh", "gmh", "logistic", "ordinal_logistic"}
        ``"auto"`` (default) uses Mantel-Haenszel for 0/1 items and cumulative-logit
        regression for the others, in one table and one multiple-testing family (column
        ``method``); or, for every item, Mantel-Haenszel, generalized Mantel-Haenszel (one test
        over the reference and all focal groups at once: columns ``chisq_gmh``, ``df_gmh``),
        logistic regression (binary) or cumulative-logit regression.
    match : {"total", "competency", "tier"}, array-like or mapping {scale: [items]}
        The matching score: the total of the analysed items; with ``framework=``, the total of
        the item's own competency or tier (among the analysed items); a given score per
        respondent; or each item's own scale total.
    framework : Framework, optional
        Needed for ``match="competency"`` or ``"tier"``.
    studied : {"include", "exclude"}
        Whether the studied item counts in its own matching score. ``"include"`` (difR,
        Holland & Thayer) is right for Mantel-Haenszel under the Rasch model; ``"exclude"``
        matches on the rest score, which keeps a DIF item from diluting its own matching
        (stronger on short scales, as SIBTEST's valid subtest).
    missing : {"listwise", "available"}
        ``"listwise"`` (difR) analyses the rows complete on every analysed item;
        ``"available"`` keeps, for each item, the rows that answered it, with the matching
        score prorated over the respondent's answered matching items (mean x number of items;
        rounded to whole strata for Mantel-Haenszel). Per-item counts are in the table.
    items : sequence of str, optional
        Items to analyse (default: every column but the group column).
    dif_type : {"both", "uniform", "nonuniform"}
        For the logistic methods, the likelihood-ratio test that decides (difR's ``type``).
    purify : bool
        Iteratively drop flagged items from the matching score (the studied item always stays
        in), until the flagged set repeats (at most 10 rounds).
    correction : {"holm", "fdr_bh", "none"}
        Multiple-testing correction across the items of each focal-group comparison.
    significance_level : float
        Significance level for ``flagged`` and for the ETS classes (default 0.05); the
        result keeps it as ``level``.
    level : float, optional
        Deprecated alias of ``significance_level``.

    Returns
    -------
    DifResult

    Raises
    ------
    DataError
        Missing or unknown groups, non-0/1 items for ``"mh"``/``"logistic"``.
    SpecificationError
        Bad options; ``purify=True`` with a supplied matching score.

    Notes
    -----
    Mantel-Haenszel, over strata k of the matching score with cells A (reference correct),
    B (reference wrong), C (focal correct), D (focal wrong) and T = A + B + C + D (strata with
    T < 2 carry no information and are dropped):
    ``alpha_MH = sum(A D / T) / sum(B C / T)``,
    ``chi2_MH = (|sum(A - E A)| - 0.5)^2 / sum(Var A)`` with ``E A = n_R m_1 / T`` and
    ``Var A = n_R n_F m_1 m_0 / (T^2 (T - 1))`` (as difR), ``delta_MH = -2.35 ln alpha_MH``
    (Holland & Thayer, 1988). The ETS class uses the MH test and the RBG standard error.

    Logistic regression (Swaminathan & Rogers, 1990): M0 score, M1 + group, M2 + score x group;
    uniform DIF M1 vs M0, non-uniform M2 vs M1, both M2 vs M0, by likelihood ratio;
    ``delta_r2`` is the change in Nagelkerke R^2 classed by Zumbo & Thomas (1997)
    (A < .13 <= B < .26 <= C) and Jodoin & Gierl (2001) (A < .035 <= B < .07 <= C).
    The ordinal version fits cumulative logits (statsmodels ``OrderedModel``), as
    Zumbo (1999). The likelihoods depend on the respondents only through the counts of the
    (matching score, group, response) cells, so the models are fitted on those counts (the
    same estimates as respondent by respondent, in time that grows with the cells).

    References
    ----------
    Holland, P. W., & Thayer, D. T. (1988). Differential item performance and the
    Mantel-Haenszel procedure. In H. Wainer & H. I. Braun (Eds.), Test validity (pp. 129-145).
    Somes, G. W. (1986). The generalized Mantel-Haenszel statistic. The American Statistician,
    40(2), 106-108. doi:10.1080/00031305.1986.10475369
    Penfield, R. D. (2001). Assessing differential item functioning among multiple groups: a
    comparison of three Mantel-Haenszel procedures. Applied Measurement in Education, 14(3),
    235-259. doi:10.1207/S15324818AME1403_3
    Robins, J., Breslow, N., & Greenland, S. (1986). Estimators of the Mantel-Haenszel variance
    consistent in both sparse data and large-strata limiting models. Biometrics, 42, 311-323.
    doi:10.2307/2531052
    Swaminathan, H., & Rogers, H. J. (1990). Detecting differential item functioning using
    logistic regression procedures. Journal of Educational Measurement, 27(4), 361-370.
    doi:10.1111/j.1745-3984.1990.tb00754.x
    Jodoin, M. G., & Gierl, M. J. (2001). Evaluating type I error and power rates using an
    effect size measure with the logistic regression procedure for DIF detection. Applied
    Measurement in Education, 14(4), 329-349. doi:10.1207/S15324818AME1404_2
    Zwick, R. (2012). A review of ETS differential item functioning assessment procedures.
    ETS Research Report RR-12-08. doi:10.1002/j.2333-8504.2012.tb02290.x
    Magis, D., Beland, S., Tuerlinckx, F., & De Boeck, P. (2010). A general framework and an
    R package for the detection of dichotomous differential item functioning. Behavior
    Research Methods, 42, 847-862. doi:10.3758/BRM.42.3.847

    With ``missing="available"`` a respondent who skipped some matching items is matched on
    the mean of the items answered, scaled to the full scale; ``n_reference`` and ``n_focal``
    then vary by item.

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=600); g = np.repeat(["ref", "foc"], 300)
    >>> b = np.linspace(-1, 1, 8); shift = np.r_[1.0, np.zeros(7)] * (g == "foc")[:, None]
    >>> x = (rng.random((600, 8)) < 1 / (1 + np.exp(-(theta[:, None] - b - shift)))) * 1.0
    >>> res = pv.dif(x, group=g, reference="ref")  # as difR::difMH(x, g, focal.name = "foc")
    >>> res.flagged
    ['item1']
    """
    check_choice("method", method, _METHODS)
    check_choice("correction", correction, ("holm", "fdr_bh", "none"))
    check_choice("dif_type", dif_type, ("both", "uniform", "nonuniform"))
    check_choice("studied", studied, ("include", "exclude"))
    check_choice("missing", missing, ("listwise", "available"))
    level = renamed_keyword("dif", "level", level, "significance_level", significance_level,
                            0.05)
    level = check_confidence_level(level, significance=True)
    if isinstance(data, ItemScoreTables):
        return _dif_tables(
            data, group=group, focal=focal, reference=reference, method=method, match=match,
            framework=framework, studied=studied, missing=missing, items=items,
            dif_type=dif_type, purify=purify, correction=correction, level=level)
    if group is None:
        raise SpecificationError("dif needs group= (a column of the data or one label per "
                                 "row)")
    data, labels = split_group(data, group)
    m = as_item_matrix(data, items=items, min_items=1, min_rows=4, what="data")
    if labels.shape[0] != m.n:
        raise DataError(f"group has {labels.shape[0]} labels for {m.n} respondents")

    # matching score specification
    supplied = None
    scale_of: dict[str, list[str]] | None = None
    if isinstance(match, str):
        check_choice("match", match, ("total", "competency", "tier"))
        if match == "total":
            match_text = f"total score of the {m.k} analysed items"
        else:
            scales = _framework_scales(framework, match, m.items)
            scale_of = {i: members for members in scales.values() for i in members}
            match_text = f"total of each item's own {match} (framework)"
    elif isinstance(match, Mapping):
        scale_of = {}
        for name, members in match.items():
            absent = [i for i in members if i not in m.items]
            if absent:
                raise DataError(f"match scale {name!r} names item(s) "
                                f"{', '.join(map(repr, absent))} not among the analysed items")
            for i in members:
                if i in scale_of:
                    raise SpecificationError(f"item {i!r} is in two match scales; each item "
                                             "is matched on exactly one")
                scale_of[i] = list(members)
        lost = [i for i in m.items if i not in scale_of]
        if lost:
            raise SpecificationError(f"item(s) {', '.join(map(repr, lost))} are in no match "
                                     "scale; every analysed item needs one")
        match_text = "total of each item's own scale"
    else:
        supplied = np.asarray(match, dtype=float)
        if supplied.shape != (m.n,):
            raise DataError(f"match= has shape {supplied.shape}; give one score per "
                            f"respondent ({m.n})")
        if purify:
            raise SpecificationError("purify=True needs a computed matching score "
                                     "(match='total' or scales), not a supplied one")
        match_text = "matching score supplied by the caller (match=)"
    if supplied is None:
        match_text += (" (studied item included)" if studied == "include"
                       else " without the studied item (rest score)")
        if missing == "available":
            match_text += ", prorated over each respondent's answered items"
        members_of = [[m.items.index(i) for i in (scale_of[item] if scale_of else m.items)]
                      for item in m.items]
        if studied == "exclude":
            alone = [item for item, cols in zip(m.items, members_of, strict=True)
                     if len(cols) < 2]
            if alone:
                raise SpecificationError(
                    f"item(s) {', '.join(map(repr, alone))} have no other item in their "
                    "matching scale, so studied='exclude' leaves nothing to match on")

    # rows: listwise over items, group and a supplied score; or per item (available)
    missing_label = pd.isna(pd.Series(labels)).to_numpy()
    usable = ~missing_label
    if supplied is not None:
        usable &= ~np.isnan(supplied)
    answered = ~np.isnan(m.values)
    usable &= answered.all(axis=1) if missing == "listwise" else answered.any(axis=1)
    x = m.values[usable]
    lab = labels[usable]
    score_given = supplied[usable] if supplied is not None else None
    rows_dropped = int((~usable).sum())
    notes: list[str] = []
    if rows_dropped:
        notes.append(f"{rows_dropped} row(s) with "
                     + ("a missing response" if missing == "listwise" else "no response")
                     + ", group or score dropped")

    x_items = np.ascontiguousarray(x.T)  # item by item
    x_answered = ~np.isnan(x_items)
    binary = np.all(~x_answered | (x_items == 0.0) | (x_items == 1.0), axis=1)
    if method in ("mh", "gmh", "logistic") and not binary.all():
        bad = [m.items[j] for j in np.flatnonzero(~binary)]
        raise DataError(
            f"method={method!r} needs 0/1 items; item(s) {', '.join(map(repr, bad[:5]))} "
            "have other values: score them first, or use method='auto' (Mantel-Haenszel for "
            "0/1 items, cumulative-logit regression for the others; the default) or "
            "'ordinal_logistic'"
        )
    item_method = (np.where(binary, "mh", "ordinal_logistic") if method == "auto"
                   else np.full(m.k, method))
    lr_key = {"both": "p_both", "uniform": "p_uniform", "nonuniform": "p_nonuniform"}[dif_type]
    ordinal = item_method == "ordinal_logistic"
    responses = _response_codes(x_items, x_answered, ordinal) if ordinal.any() else None

    reference, focals = _resolve_groups(sorted(set(lab.tolist()), key=str), reference, focal,
                                       notes)

    k = m.k
    tables = []
    iterations = 0
    purify_ok = True
    # one comparison per focal group; generalized MH: one over all the focal groups at once
    comparisons = ([(", ".join(map(str, focals)), focals)] if method == "gmh"
                   else [(f, [f]) for f in focals])
    for f, members in comparisons:
        rows = lab == reference
        for g in members:
            rows |= lab == g
        every = bool(rows.all())
        code = np.zeros(int(rows.sum()), dtype=np.int64)  # 0 reference, 1.. focal groups
        for i, g in enumerate(members):
            code[lab[rows] == g] = i + 1
        is_focal = (code > 0).astype(np.intp)
        columns, answered = (x_items, x_answered) if every else \
            (x_items[:, rows], x_answered[:, rows])
        if responses is not None:
            categories = responses[0] if every else responses[0][:, rows]
        flagged = np.zeros(k, dtype=bool)
        seen: list[tuple[bool, ...]] = []
        for it in range(_MAX_PURIFY + 1):
            if score_given is not None:
                scores = [score_given[rows]] * k
            else:
                whole_scale: set[int] = set()
                scores = _match_scores(columns, answered, members_of, flagged, studied,
                                       prorate=missing == "available",
                                       whole_scale=whole_scale)
            recs: list[dict[str, Any]] = [{}] * k
            pending = []  # cumulative-logit items, fitted together below
            # score levels, once per score array (the items of a scale share theirs)
            cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
            for j in range(k):
                s_code, s_levels = _score_levels(scores[j], cache)
                ok = answered[j] & (s_code >= 0)
                whole = bool(ok.all())

                def kept(a, whole=whole, ok=ok):
                    return a if whole else a[ok]

                foc, sv = kept(is_focal), kept(s_code)
                counts = {"n_reference": int(foc.size - foc.sum()), "n_focal": int(foc.sum())}
                if item_method[j] in ("mh", "gmh"):
                    y = kept(columns[j])
                    if missing == "available" and score_given is None:  # whole strata
                        whole_levels, to_whole = np.unique(np.rint(s_levels),
                                                           return_inverse=True)
                        strata = (to_whole.reshape(-1)[sv], whole_levels.size)
                    else:
                        strata = (sv, s_levels.size)
                    rec = (_mh(y, foc, strata) if item_method[j] == "mh"
                           else _gmh(y, kept(code), len(members) + 1, strata))
                    recs[j] = {**rec, "p_test": rec["p_value"], **counts}
                elif item_method[j] == "logistic":
                    cells = _lr_cells(sv, s_levels, foc, kept(columns[j]), 2, ordinal=False)
                    rec = _lr_dif(cells, _logistic_fits(cells), ordinal=False)
                    recs[j] = {**rec, "p_test": rec[lr_key], **counts}
                else:
                    cells = _lr_cells(sv, s_levels, foc, kept(categories[j]), responses[1],
                                      ordinal=True)
                    smd, smd_sd = _smd(kept(columns[j]), foc, sv, s_levels.size)
                    pending.append((j, cells, {**counts, "smd": smd, "smd_sd": smd_sd}))
            tab, p, p_adj = _records_table(recs, pending, lr_key, correction)
            new_flag = p_adj < level
            iterations = max(iterations, it)
            if not purify:
                break
            state = tuple(new_flag.tolist())
            if state == tuple(flagged.tolist()) or state in seen:
                purify_ok = state == tuple(flagged.tolist())
                flagged = new_flag
                break
            seen.append(tuple(flagged.tolist()))
            flagged = new_flag
        else:
            purify_ok = False
        if score_given is None and whole_scale:
            notes.append(f"focal {f!r}: purification flagged every other item of the scale "
                         f"of {', '.join(repr(m.items[j]) for j in sorted(whole_scale))}; "
                         "matched on the whole scale instead (no anchor items left)")
        tables.append(_comparison_table(tab, p, p_adj, f, m.items, item_method, dif_type,
                                       level))
    if purify and not purify_ok:
        notes.append(f"purification did not settle within {_MAX_PURIFY} rounds")
    return DifResult(
        table=pd.concat(tables, ignore_index=True), method=method,
        dif_type=_tested_text(method, binary, len(focals), dif_type), reference=reference,
        focal=tuple(focals), match=match_text, purify=bool(purify),
        purify_iterations=iterations, purify_converged=purify_ok, correction=correction,
        level=level, n_used=int(usable.sum()), rows_dropped=rows_dropped, notes=tuple(notes))


def _resolve_groups(levels: list[Any], reference: Any, focal: Any, notes: list[str]
                   ) -> tuple[Any, list[Any]]:
    """The reference group and the focal groups among the group ``levels`` (sorted by their
    text), from the ``reference=`` and ``focal=`` arguments; a note when the reference is
    chosen here."""
    if len(levels) < 2:
        raise DataError(f"group has {len(levels)} level(s) on the complete rows; DIF needs two")
    if reference is None:
        if len(levels) > 2:
            raise SpecificationError(
                f"group has {len(levels)} levels ({', '.join(map(str, levels))}); name the "
                "reference group with reference="
            )
        reference = levels[0] if focal is None or focal != levels[0] else levels[1]
        notes.append(f"reference group {reference!r} chosen as the first label; pass "
                     "reference= to choose")
    if reference not in levels:
        raise DataError(f"reference={reference!r} is not a group label; labels are "
                        f"{', '.join(map(repr, levels))}")
    if focal is None:
        focals = [lv for lv in levels if lv != reference]
    else:
        focals = list(focal) if isinstance(focal, (list, tuple)) else [focal]
        for f in focals:
            if f not in levels or f == reference:
                raise DataError(f"focal={f!r} is not a group label other than the reference; "
                                f"labels are {', '.join(map(repr, levels))}")
    return reference, focals


def _records_table(recs: list[dict[str, Any]], pending: list[tuple[int, dict, dict]],
                   lr_key: str, correction: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One comparison's per-item records as a table, after fitting the cumulative-logit
    items ``pending`` (item, cells, extra columns) side by side; its p-values and adjusted
    p-values."""
    fits = _ordinal_fits([(X, cells["c"], cells["w"], cells["J"])
                          for _, cells, _ in pending for X in cells["designs"]])
    for i, (j, cells, counts) in enumerate(pending):
        rec = _lr_dif(cells, fits[3 * i:3 * i + 3], ordinal=True)
        recs[j] = {**rec, "p_test": rec[lr_key], **counts}
    tab = pd.DataFrame(recs)
    p = tab.pop("p_test").to_numpy(dtype=float)
    return tab, p, adjust_pvalues(p, correction)


def _comparison_table(tab: pd.DataFrame, p: np.ndarray, p_adj: np.ndarray, f: Any,
                     items: Sequence[str], item_method: np.ndarray, dif_type: str,
                     level: float) -> pd.DataFrame:
    """One focal group's finished DIF table from its per-item records ``tab`` (with
    ``n_reference`` and ``n_focal``), their p-values and adjusted p-values: identifying
    columns first, then ``delta_r2`` and the effect classes, ``favours`` and the flags."""
    k = len(items)
    counts = tab.pop("n_reference"), tab.pop("n_focal")
    tab.insert(0, "focal", f)
    tab.insert(1, "item", list(items))
    tab.insert(2, "method", item_method)
    tab.insert(3, "n_reference", counts[0].to_numpy())
    tab.insert(4, "n_focal", counts[1].to_numpy())
    is_mh = item_method == "mh"
    is_lr = np.isin(item_method, ("logistic", "ordinal_logistic"))
    favours = np.full(k, None, dtype=object)
    effect = np.full(k, None, dtype=object)
    effect[item_method == "gmh"] = "no effect class (omnibus test)"
    if is_mh.any():
        favours[is_mh] = np.where(tab["alpha_mh"].to_numpy(dtype=float) > 1,
                                  "reference", "focal")[is_mh]
    if is_lr.any():
        r2 = {c: tab[c].to_numpy(dtype=float) for c in ("r2_0", "r2_1", "r2_2")}
        dr2 = {"both": r2["r2_2"] - r2["r2_0"], "uniform": r2["r2_1"] - r2["r2_0"],
               "nonuniform": r2["r2_2"] - r2["r2_1"]}[dif_type]
        dr2 = np.where(is_lr, dr2, np.nan)
        tab["delta_r2"] = dr2
        tab["zt_class"] = _classes(dr2, _ZT)
        tab["jg_class"] = _classes(dr2, _JG)
        # b_group < 0: the focal group scores lower at equal matching score
        favours[is_lr] = np.where(tab["b_group"].to_numpy(dtype=float) < 0,
                                  "reference", "focal")[is_lr]
        # binary logistic rows keep Zumbo-Thomas; MH and cumulative-logit rows get ETS's
        # classes below
        effect[is_lr] = [f"Zumbo-Thomas class {c}"
                         for c in tab["zt_class"].to_numpy()[is_lr]]
        conv = tab["converged"].to_numpy(dtype=object)
        bad = [items[j] for j in np.flatnonzero(is_lr) if not conv[j]]
        if bad:
            warn(f"the DIF regressions of item(s) {', '.join(map(repr, bad))} did "
                 f"not converge (focal {f!r}); their tests are unreliable",
                 ConvergenceWarning, stacklevel=3)
    tab["effect_class"] = effect
    tab = _classify(tab, p_adj < level, level)
    tab["favours"] = favours
    tab["p_value"] = p
    tab["p_adjusted"] = p_adj
    tab["flagged"] = p_adj < level
    return tab


def _tested_text(method: str, binary: np.ndarray, n_focal: int, dif_type: str) -> str:
    """The DIF type tested, in words (``DifResult.dif_type``)."""
    if method == "mh" or (method == "auto" and binary.all()):
        return "uniform (MH)"
    if method == "gmh":
        return f"uniform (generalized MH over {n_focal} focal groups)"
    if method == "auto" and binary.any():
        return f"uniform (MH, 0/1 items); {dif_type} (cumulative-logit items)"
    return dif_type


def _classify(tab: pd.DataFrame, significant: np.ndarray, level: float) -> pd.DataFrame:
    """ETS classes of the Mantel-Haenszel and cumulative-logit rows of a DIF table, from the
    given significance (the table's own correction, or a screen's)."""
    tab = tab.copy()
    method = tab["method"].to_numpy(dtype=object)
    effect = tab["effect_class"].to_numpy(dtype=object).copy()
    ets = tab["ets_class"].to_numpy(dtype=object).copy() if "ets_class" in tab else \
        np.full(len(tab), None, dtype=object)
    mh = method == "mh"
    if mh.any():
        c = ets_class_mh(tab["delta_mh"].to_numpy(dtype=float),
                         tab["se_delta_mh"].to_numpy(dtype=float), significant, level)
        ets[mh] = c[mh]
        effect[mh] = [f"ETS class {x}" for x in c[mh]]
    ordl = method == "ordinal_logistic"
    if ordl.any() and "smd_sd" in tab:
        c = ets_class_smd(tab["smd_sd"].to_numpy(dtype=float), significant)
        ets[ordl] = c[ordl]
        effect[ordl] = [f"ETS class {x} (SMD)" for x in c[ordl]]
    if mh.any() or ordl.any():
        tab["ets_class"] = ets
    tab["effect_class"] = effect
    return tab


def dif_screen(results: Sequence[DifResult], *, correction: str = "holm",
               significance_level: float | None = None,
               level: float | None = None) -> list[DifResult]:
    """Several DIF analyses as one screen: one multiple-testing family over every test of
    every analysis (e.g. each group of a framework against all the others).

    Returns the results with ``p_adjusted`` over the whole screen, ``flagged`` and the ETS
    effect classes recomputed from that screen-wide significance (``p_value`` unchanged).
    A screen of 4 comparisons x 41 items controls the familywise error over its 164 tests;
    the per-analysis correction controls it over 41 at a time. ``significance_level``
    defaults to the first result's ``level``; ``level=`` is a deprecated alias of it.

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> rng = np.random.default_rng(3)
    >>> x = (rng.random((900, 6)) < 0.5) * 1.0
    >>> g = np.repeat(["a", "b", "c"], 300)
    >>> runs = [pv.dif(x, group=np.where(g == f, f, "rest"), reference="rest", focal=f)
    ...         for f in ("a", "b", "c")]
    >>> screen = pv.dif_screen(runs)
    >>> [len(r.table) for r in screen], screen[0].correction
    ([6, 6, 6], 'holm over the screen (18 tests)')
    """
    check_choice("correction", correction, ("holm", "fdr_bh", "none"))
    results = list(results)
    if not results or not all(isinstance(r, DifResult) for r in results):
        raise SpecificationError("dif_screen takes a list of pv.dif results")
    level = renamed_keyword("dif_screen", "level", level, "significance_level",
                            significance_level, None)
    lvl = results[0].level if level is None else float(level)
    p = np.concatenate([r.table["p_value"].to_numpy(dtype=float) for r in results])
    adj = adjust_pvalues(p, correction)
    out = []
    start = 0
    for r in results:
        stop = start + len(r.table)
        t = r.table.copy()
        t["p_adjusted"] = adj[start:stop]
        t["flagged"] = t["p_adjusted"].to_numpy(dtype=float) < lvl
        t = _classify(t, t["flagged"].to_numpy(dtype=bool), lvl)
        out.append(dataclasses.replace(
            r, table=t, level=lvl, correction=f"{correction} over the screen ({len(p)} tests)"))
        start = stop
    return out


def _framework_scales(framework: Any, match: str, items: Sequence[str]
                      ) -> dict[str, list[str]]:
    """{competency or tier: analysed items} from a framework, for ``match=``."""
    from psychoval.framework import Framework

    if not isinstance(framework, Framework):
        raise SpecificationError(f"match={match!r} needs framework= (a Framework) to know "
                                 "each item's " + match)
    known = set(framework.item_ids)
    unknown = [i for i in items if i not in known]
    if unknown:
        raise DataError(f"item(s) {', '.join(map(repr, unknown[:5]))} are not in the framework; "
                        f"match={match!r} needs every analysed item in it (or pass items=)")
    scales: dict[str, list[str]] = {}
    for i in items:
        item = framework.item(i)
        scales.setdefault(item.competency if match == "competency" else item.tier,
                          []).append(i)
    return scales


def _match_scores(columns: np.ndarray, answered: np.ndarray, members_of: list[list[int]],
                  flagged: np.ndarray, studied: str, *, prorate: bool,
                  whole_scale: set[int] | None = None) -> list[np.ndarray]:
    """Each item's matching score: the sum of its scale's unflagged items (purification),
    the studied item added (``include``) or removed (``exclude``); prorated over the answered
    items (mean x count) when ``prorate``, NaN where none was answered. ``columns`` holds the
    responses item by item, ``answered`` where they are not missing.

    When purification has flagged every other item of a scale, the studied item would be
    matched on itself alone (``include``: perfect separation, no test) or on nothing
    (``exclude``): such items are matched on their whole scale instead, and their indices
    are added to ``whole_scale``."""
    bases: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray, list[int]]] = {}
    prorated: dict[tuple[Any, ...], np.ndarray] = {}
    present = answered
    filled = np.where(present, columns, 0.0)
    out = []
    for j, cols in enumerate(members_of):
        key = tuple(cols)
        keep = [c for c in cols if not flagged[c]]
        if len(cols) > 1 and not [c for c in keep if c != j]:
            keep = list(cols)  # purification would leave nothing else to match on
            key = ("all",) + key
            if whole_scale is not None and flagged.any():
                whole_scale.add(j)
        if key not in bases:
            bases[key] = (filled[keep].sum(axis=0), present[keep].sum(axis=0), keep)
        total, count, keep = bases[key]
        n_items = len(keep)
        if studied == "include" and j not in keep:
            total, count, n_items = total + filled[j], count + present[j], n_items + 1
        elif studied == "exclude" and j in keep:
            total, count, n_items = total - filled[j], count - present[j], n_items - 1
        elif prorate:  # the scale's own score: one array for all its items
            if key not in prorated:
                prorated[key] = _prorate(total, count, n_items)
            out.append(prorated[key])
            continue
        out.append(_prorate(total, count, n_items) if prorate else total)
    return out


def _prorate(total: np.ndarray, count: np.ndarray, n_items: int) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count * n_items, np.nan)
