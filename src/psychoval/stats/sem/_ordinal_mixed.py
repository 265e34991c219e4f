"""lavaan 0.6.14's categorical sample statistics when some indicators are continuous
(``cfa(..., ordered = c(<some items>))``: the others are lavaan's "numeric" variables), as its
``muthen1984()``.

Step 1, per item: an ordered item's thresholds (univariate probit); a continuous item's mean
and ML variance (divisor N; lavaan's ``lav_uvreg_fit`` without covariates) with scores
``(y - mu) / var`` and ``-1 / (2 var) + (y - mu)^2 / (2 var^2)``. Step 2, per pair with step 1
fixed: polychoric (two ordered items), polyserial (``psychoval.stats.factor._polyserial``) or
Pearson (two continuous items: the sample correlation of the pair's rows when neither item
has a missing value, else the ML correlation with the means and variances fixed, lavaan's
``lav_bvreg_cor_twostep_fit``), each with its casewise scores.

NACOV: ``SC = [SC_th, SC_var, SC_cor]``, ``INNER = SC' SC``, ``A11`` block diagonal per item
(thresholds, or mean and variance), ``A21[pair, .] = SC_cor[:, pair]' d(pair scores)/d(step
1)``, ``A22 = diag(SC_cor' SC_cor)``, ``B^-1`` as in :mod:`._ordinal`; then the correlations of
pairs with a continuous item become covariances through ``H = [[I, 0], [H21, H22]]`` (``H22``
the product of the SDs, ``H21`` the derivative over the variances): ``NACOV = N H B^-1 INNER
B^-T H'``, and the rows and columns of the means change sign (lavaan keeps ``-mu`` in the
threshold block of ``WLS.obs``). Element order: the thresholds / minus means item by item,
the variances of the continuous items, then the (co)variances below the diagonal.

Missing data as :mod:`._ordinal` (listwise, or pairwise with zero scores for missing
responses and each univariate statistic from its item's answers).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.factor._polychoric import polychoric
from psychoval.stats.factor._polyserial import polyserial_scores, polyserial_twostep
from psychoval.stats.sem._ordinal import OrdinalSampleStats, pair_scores

__all__ = ["mixed_sample_stats"]


def _pearson_twostep(y1, y2, m1, v1, m2, v2) -> float:
    """lavaan's ``lav_bvreg_cor_twostep_fit`` without covariates."""
    from scipy.optimize import brentq

    both = ~np.isnan(y1) & ~np.isnan(y2)
    r0 = float(np.corrcoef(y1[both], y2[both])[0, 1])
    if not (np.isnan(y1).any() or np.isnan(y2).any()):
        return r0
    a = (y1[both] - m1) / np.sqrt(v1)
    b = (y2[both] - m2) / np.sqrt(v2)
    t1 = a * b
    q = a * a + b * b

    def grad(rho):
        rr = 1.0 - rho * rho
        return float(np.sum((rho + t1 - (q - 2 * rho * t1) * rho / rr) / rr))

    lo, hi = -0.999, 0.999
    if grad(lo) > 0 > grad(hi):
        return float(brentq(grad, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=200))
    return lo if grad(lo) <= 0 else hi


def _pearson_scores(y1, y2, m1, v1, m2, v2, rho):
    """lavaan's ``lav_bvreg_cor_scores_cache``: (rho, mu1, var1, mu2, var2), 0 if missing."""
    both = ~np.isnan(y1) & ~np.isnan(y2)
    c1 = np.where(both, y1 - m1, 0.0)
    c2 = np.where(both, y2 - m2, 0.0)
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    rr = 1.0 - rho * rho
    d_mu1 = (2 * c1 / v1 - 2 * rho * c2 / (s1 * s2)) / (2 * rr)
    d_mu2 = -(2 * rho * c1 / (s1 * s2) - 2 * c2 / v2) / (2 * rr)
    d_v1 = -(0.5 / v1 - (c1 * c1 / (v1 * v1) - rho * c1 * c2 / (v1 * s1 * s2)) / (2 * rr))
    d_v2 = -(0.5 / v2 + (rho * c1 * c2 / (v2 * s1 * s2) - c2 * c2 / (v2 * v2)) / (2 * rr))
    z = c1 * c1 / v1 - 2 * rho * c1 * c2 / (s1 * s2) + c2 * c2 / v2
    d_rho = rho / rr + (c1 * c2 / (s1 * s2 * rr) - z * rho / (rr * rr))
    return tuple(np.where(both, s, 0.0) for s in (d_rho, d_mu1, d_v1, d_mu2, d_v2))


def mixed_sample_stats(x: pd.DataFrame, items: Sequence[str], *, numeric: Sequence[str],
                       missing: str = "listwise") -> OrdinalSampleStats:
    """Sample statistics of ordered and continuous (``numeric``) items, as
    :func:`psychoval.stats.sem._ordinal.ordinal_sample_stats` (see module): respondents x
    ``items``, NaN missing; ``"listwise"`` drops rows with a missing item, ``"pairwise"``
    rows with every item missing."""
    from scipy.special import ndtr

    if missing not in ("listwise", "pairwise"):
        raise SpecificationError(f"missing={missing!r}: ordinal sample statistics use "
                                 "'listwise' or 'pairwise'")
    items = list(items)
    values = x[items].to_numpy(dtype=float)
    seen = ~np.isnan(values)
    values = values[seen.all(axis=1) if missing == "listwise" else seen.any(axis=1)]
    num = np.array([v in set(numeric) for v in items])
    n, k = values.shape
    if k < 2:
        raise DataError("ordinal sample statistics need at least two items")
    seen = ~np.isnan(values)
    ordi = np.flatnonzero(~num)
    numi = np.flatnonzero(num)
    codes = np.full((n, k), -1, dtype=np.int64)
    ncat = np.zeros(k, dtype=int)
    for j in ordi:
        cats, inv = np.unique(values[seen[:, j], j], return_inverse=True)
        if cats.size < 2:
            raise DataError(f"item {items[j]!r} has fewer than two observed categories; "
                            "drop it")
        codes[seen[:, j], j] = inv.ravel()
        ncat[j] = cats.size
    for j in numi:
        if np.unique(values[seen[:, j], j]).size < 2:
            raise DataError(f"continuous item {items[j]!r} has no variance; drop it")
    nslot = np.where(num, 1, ncat - 1)
    th_end = np.cumsum(nslot)
    th_start = th_end - nslot
    nth = int(th_end[-1])
    nnum = numi.size
    vpos = {int(j): nth + a for a, j in enumerate(numi)}  # column of each variance score
    cor = np.eye(k)
    taus: dict[int, np.ndarray] = {}
    if ordi.size:
        poly = polychoric(pd.DataFrame(values[:, ordi], columns=[items[j] for j in ordi]),
                          method="lavaan", missing="pairwise")
        rho_o = poly.rho.to_numpy()
        tmat = poly.thresholds.to_numpy()
        for a, j in enumerate(ordi):
            taus[int(j)] = tmat[a, :ncat[j] - 1]
            for b, i in enumerate(ordi):
                cor[i, j] = rho_o[b, a]
    mean = np.zeros(k)
    var = np.ones(k)
    for j in numi:
        col = values[seen[:, j], j]
        mean[j] = col.mean()
        var[j] = float(np.mean((col - mean[j]) ** 2))
    th = np.zeros(nth)
    sc1 = np.zeros((n, nth + nnum))  # [SC_th, SC_var]
    safe = np.where(seen, codes, 0)
    for j in range(k):
        sl = slice(th_start[j], th_end[j])
        if num[j]:
            th[th_start[j]] = mean[j]
            res = np.where(seen[:, j], values[:, j] - mean[j], 0.0)
            sc1[:, th_start[j]] = res / var[j]
            sc1[:, vpos[j]] = np.where(seen[:, j], -1 / (2 * var[j])
                                       + res * res / (2 * var[j] ** 2), 0.0)
            continue
        t = taus[j]
        th[sl] = t
        p = np.diff(ndtr(np.concatenate([[-np.inf], t, [np.inf]])))
        phi = np.exp(-0.5 * t * t) / np.sqrt(2 * np.pi)
        tab = np.zeros((ncat[j], ncat[j] - 1))
        kk = np.arange(ncat[j] - 1)
        tab[kk, kk] = phi / p[kk]
        tab[kk + 1, kk] = -phi / p[kk + 1]
        sc1[:, sl] = np.where(seen[:, j, None], tab[safe[:, j]], 0.0)

    cc, rr = np.triu_indices(k, 1)
    pstar = cc.size
    sc_cor = np.zeros((n, pstar))
    a21 = np.zeros((pstar, nth + nnum))
    h21 = np.zeros((pstar, nth + nnum))
    h22 = np.ones(pstar)
    for pidx, (j, i) in enumerate(zip(cc, rr, strict=True)):
        si = slice(th_start[i], th_end[i])
        sj = slice(th_start[j], th_end[j])
        if num[i] and num[j]:
            y1, y2 = values[:, i], values[:, j]
            rho = _pearson_twostep(y1, y2, mean[i], var[i], mean[j], var[j])
            s_rho, m1, v1, m2, v2 = _pearson_scores(y1, y2, mean[i], var[i], mean[j],
                                                    var[j], rho)
            sc_cor[:, pidx] = s_rho
            a21[pidx, th_start[i]] = s_rho @ m1
            a21[pidx, th_start[j]] = s_rho @ m2
            a21[pidx, vpos[i]] = s_rho @ v1
            a21[pidx, vpos[j]] = s_rho @ v2
            h21[pidx, vpos[i]] = np.sqrt(var[j]) * rho / (2 * np.sqrt(var[i]))
            h21[pidx, vpos[j]] = np.sqrt(var[i]) * rho / (2 * np.sqrt(var[j]))
            h22[pidx] = np.sqrt(var[i] * var[j])
        elif num[i] or num[j]:
            c_, o_ = (i, j) if num[i] else (j, i)
            sc_, so_ = (si, sj) if num[i] else (sj, si)
            y1 = values[:, c_]
            rho = polyserial_twostep(y1, codes[:, o_], mean=mean[c_], var=var[c_],
                                     tau=taus[int(o_)])
            s = polyserial_scores(y1, codes[:, o_], mean=mean[c_], var=var[c_],
                                  tau=taus[int(o_)], rho=rho)
            sc_cor[:, pidx] = s.rho
            a21[pidx, sc_] = s.rho @ s.mean
            a21[pidx, so_] = s.rho @ s.tau
            a21[pidx, vpos[c_]] = s.rho @ s.var
            h21[pidx, vpos[c_]] = rho / (2 * np.sqrt(var[c_]))
            h22[pidx] = np.sqrt(var[c_])
        else:
            rho = cor[i, j]
            ext_i = np.concatenate([[-np.inf], taus[int(i)], [np.inf]])
            ext_j = np.concatenate([[-np.inf], taus[int(j)], [np.inf]])
            s_rho, s_t1, s_t2 = pair_scores(ext_i, ext_j, float(rho))
            both = seen[:, i] & seen[:, j]
            ya, yb = safe[:, i], safe[:, j]
            sc_cor[:, pidx] = np.where(both, s_rho[ya, yb], 0.0)
            c1, c2 = ncat[i], ncat[j]
            cnt = np.bincount(ya[both] * c2 + yb[both], minlength=c1 * c2).reshape(c1, c2)
            w = cnt * s_rho
            a21[pidx, si] = np.einsum("ab,abk->k", w, s_t1)
            a21[pidx, sj] = np.einsum("ab,abk->k", w, s_t2)
        cor[i, j] = cor[j, i] = rho

    sc = np.concatenate([sc1, sc_cor], axis=1)
    inner = sc.T @ sc
    m = nth + nnum
    a11_inv = np.zeros((m, m))
    for j in range(k):
        blk = list(range(th_start[j], th_end[j])) + ([vpos[j]] if num[j] else [])
        a11_inv[np.ix_(blk, blk)] = np.linalg.inv(inner[np.ix_(blk, blk)])
    a22_inv = 1.0 / np.einsum("np,np->p", sc_cor, sc_cor)
    b_inv = np.zeros((m + pstar, m + pstar))
    b_inv[:m, :m] = a11_inv
    b_inv[m:, :m] = -(a22_inv[:, None] * a21) @ a11_inv
    b_inv[m:, m:] = np.diag(a22_inv)
    h = np.eye(m + pstar)
    h[m:, :m] = h21
    h[m:, m:] = np.diag(h22)
    hb = h @ b_inv
    nacov = n * (hb @ inner @ hb.T)
    flip = np.ones(m + pstar)
    th_item = np.repeat(np.arange(k), nslot)
    slot_num = num[th_item]
    flip[:nth][slot_num] = -1.0
    nacov = 0.5 * (nacov + nacov.T) * np.outer(flip, flip)
    th = np.where(slot_num, -th, th)
    names = tuple(f"{items[j]}~1" if num[j] else f"{items[j]}|t{t + 1}"
                  for j in range(k) for t in range(nslot[j]))
    npair = seen.T.astype(float) @ seen.astype(float)
    return OrdinalSampleStats(
        items=tuple(items), thresholds=th, threshold_item=th_item, threshold_names=names,
        cor=cor, nacov=nacov, nobs=int(n), missing=missing,
        n_pairwise=npair.astype(np.int64), numeric=tuple(bool(v) for v in num), var=var)
