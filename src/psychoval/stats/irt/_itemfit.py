"""Item fit of a fitted IRT model: S-X2 (Orlando & Thissen, 2000; Kang & Chen, 2008 for
polytomous items) through the Lord-Wingersky recursion, and Yen's (1984) Q3.

S-X2 compares, within each summed-score group s, the observed proportion of each category of
item j with the model's expectation

    E_jc(s) = sum_q pi_q P_jc(theta_q) f_{-j}(s - c | theta_q) / sum_q pi_q f(s | theta_q),

f the summed-score distribution given theta (Lord & Wingersky, 1984), f_{-j} the same without
item j. S-X2_j = sum_s sum_c N_s (O_jc(s) - E_jc(s))^2 / E_jc(s) on complete responses; the
lowest and highest possible scores carry no information and are left out (so are scores
nobody had), and score groups are merged as mirt's ``collapseCells`` merges rows until every
expected count N_s E_jc(s) is at least ``min_expected`` (1, mirt's default ``mincell``);
mirt also merges rare categories of polytomous items within a score group, which we do not.
A category impossible at a score (a polytomous item's top category at score 1) is no cell.
df = sum over groups of (possible categories - 1) - free parameters of item j.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["lord_wingersky", "s_x2", "q3"]


def lord_wingersky(probs: list[np.ndarray]) -> np.ndarray:
    """Summed-score distribution given theta: (Q, max score + 1) from item probabilities
    (each (Q, K_j))."""
    q = probs[0].shape[0]
    f = np.ones((q, 1))
    for p in probs:
        k = p.shape[1]
        new = np.zeros((q, f.shape[1] + k - 1))
        for c in range(k):
            new[:, c:c + f.shape[1]] += f * p[:, c:c + 1]
        f = new
    return f


def _merge(n: np.ndarray, obs: np.ndarray, exp: np.ndarray, min_expected: float):
    """Merge score groups as mirt's collapseCells merges rows: while some group has a
    possible cell with an expected count below ``min_expected``, the first such group joins
    its neighbour (the first the second, the last the one before, an inner one the neighbour
    with fewer respondents, the lower on a tie)."""
    groups = [[i] for i in range(n.size) if n[i] > 0]

    def small(g):
        e = (n[g, None] * exp[g]).sum(axis=0)
        return bool(np.any((e > 0) & (e < min_expected)))

    while len(groups) > 1:
        bad = [i for i, g in enumerate(groups) if small(g)]
        if not bad:
            break
        i = bad[0]
        if i == 0:
            pick = 1
        elif i == len(groups) - 1:
            pick = i - 1
        else:
            pick = i - 1 if n[groups[i - 1]].sum() <= n[groups[i + 1]].sum() else i + 1
        groups[pick] = sorted(groups[pick] + groups[i])
        groups.pop(i)
    out_n, out_o, out_e = [], [], []
    for g in groups:
        tot = n[g].sum()
        out_n.append(tot)
        out_o.append((n[g, None] * obs[g]).sum(axis=0) / tot)
        out_e.append((n[g, None] * exp[g]).sum(axis=0) / tot)
    return np.asarray(out_n), np.asarray(out_o), np.asarray(out_e)


def s_x2(codes: np.ndarray, probs: list[np.ndarray], weights: np.ndarray,
         n_params: list[int], items: tuple[str, ...], min_expected: float = 1.0
         ) -> pd.DataFrame:
    """S-X2 of each item on the complete rows of ``codes`` (0-based categories)."""
    from scipy.stats import chi2

    complete = np.all(codes >= 0, axis=1)
    x = codes[complete].astype(int)
    total = x.sum(axis=1)
    ncat = [p.shape[1] for p in probs]
    smax = int(sum(k - 1 for k in ncat))
    f_all = lord_wingersky(probs)
    denom = weights @ f_all  # (S+1,)
    n_s = np.bincount(total, minlength=smax + 1).astype(float)
    rows = []
    for j, name in enumerate(items):
        k = ncat[j]
        f_no = lord_wingersky([p for i, p in enumerate(probs) if i != j])
        exp = np.zeros((smax + 1, k))
        for c in range(k):
            # P_jc(theta) f_{-j}(s - c | theta), summed over the nodes with the weights
            exp[c:c + f_no.shape[1], c] = (weights * probs[j][:, c]) @ f_no
        with np.errstate(invalid="ignore", divide="ignore"):
            exp = exp / denom[:, None]
        obs = np.zeros((smax + 1, k))
        np.add.at(obs, (total, x[:, j]), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            obs = np.where(n_s[:, None] > 0, obs / np.maximum(n_s, 1)[:, None], 0.0)
        inner = np.arange(1, smax)  # the lowest and highest scores carry no information
        nn, oo, ee = _merge(n_s[inner], obs[inner], exp[inner], min_expected)
        cell = ee > 0  # a category impossible at a score (E = 0) is no cell
        with np.errstate(invalid="ignore", divide="ignore"):
            stat = float(np.sum(np.where(cell, nn[:, None] * (oo - ee) ** 2
                                         / np.where(cell, ee, 1.0), 0.0))) if nn.size else np.nan
        df = int(np.sum(cell.sum(axis=1) - 1) - n_params[j]) if nn.size else 0
        n_used = int(complete.sum())
        if df > 0 and np.isfinite(stat):
            p = float(chi2.sf(stat, df))
            rmsea = float(np.sqrt(max(stat - df, 0.0) / (df * (n_used - 1))))
        else:
            p = rmsea = np.nan
        rows.append({"item": name, "s_x2": stat, "df": df, "pvalue": p,
                     "rmsea_s_x2": rmsea, "groups": int(nn.size), "n": n_used})
    return pd.DataFrame(rows)


def q3(codes: np.ndarray, expected: np.ndarray, items: tuple[str, ...]) -> pd.DataFrame:
    """Yen's Q3: correlations of the residuals x - E[X | theta-hat] (pairwise complete)."""
    resid = np.where(codes >= 0, codes - expected, np.nan)
    return pd.DataFrame(resid, columns=list(items)).corr(min_periods=3)
