"""Limited-information fit of a dichotomous IRT model: Maydeu-Olivares & Joe's (2005, 2006)
M2 on the univariate and bivariate margins, its RMSEA (RMSEA2) and the SRMSR of the item
correlations implied by the margins.

With ``s = (p_i, p_ij)`` the observed first- and second-order proportions correct, ``pi(gamma)``
their model values, ``Delta = d pi / d gamma'`` over the free parameters and ``Xi`` the
covariance of ``sqrt(N) s`` under the model (``Xi_ab = pi_{A u B} - pi_A pi_B``, margins up to
order four),

    M2 = N (s - pi)' C (s - pi),   C = Xi^-1 - Xi^-1 Delta (Delta' Xi^-1 Delta)^-1 Delta' Xi^-1,

on ``n + n(n - 1)/2 - q`` degrees of freedom; ``RMSEA2 = sqrt(max(M2 - df, 0) / (N df))``
(Maydeu-Olivares & Joe 2014). Every margin is an integral over the fit's quadrature.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["m2_statistic"]


def _margins(p: np.ndarray, w: np.ndarray, iu: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """(pi_i, pi_ij for i < j) from P (nodes x items) and the node weights."""
    first = w @ p
    second = np.einsum("q,qi,qj->ij", w, p, p)[iu]
    return np.concatenate([first, second])


def m2_statistic(y: np.ndarray, prob: Callable[[np.ndarray], np.ndarray], gamma: np.ndarray,
                 weights: np.ndarray, *, step: float = 1e-6) -> dict[str, float]:
    """M2 of complete 0/1 data ``y`` (rows x items) for the model whose correct-response
    probabilities at the quadrature nodes are ``prob(gamma)`` (nodes x items), ``gamma`` the
    free parameters at the estimate and ``weights`` the nodes' weights (summing to 1).
    ``Delta`` by central differences of ``prob`` (step ``step``)."""
    n_obs, n = y.shape
    iu = np.triu_indices(n, 1)
    obs = np.concatenate([y.mean(axis=0), (y.T @ y / n_obs)[iu]])
    p = prob(gamma)
    pi = _margins(p, weights, iu)
    # each statistic is an item set (1 or 2 items): S (stats x items) 0/1
    n_stat = n + iu[0].size
    s_mat = np.zeros((n_stat, n))
    s_mat[np.arange(n), np.arange(n)] = 1.0
    s_mat[n + np.arange(iu[0].size), iu[0]] = 1.0
    s_mat[n + np.arange(iu[0].size), iu[1]] = 1.0
    # E[s_a s_b] = sum_q w_q prod_{i in A u B} P_qi = sum_q w_q exp(L_a + L_b - O_ab)
    logp = np.log(np.clip(p, 1e-300, None))
    xi = np.zeros((n_stat, n_stat))
    for q in range(p.shape[0]):
        lq = s_mat @ logp[q]
        over = (s_mat * logp[q]) @ s_mat.T
        xi += weights[q] * np.exp(lq[:, None] + lq[None, :] - over)
    xi -= np.outer(pi, pi)
    q_free = gamma.size
    delta = np.zeros((n_stat, q_free))
    for k in range(q_free):
        up, dn = gamma.copy(), gamma.copy()
        up[k] += step
        dn[k] -= step
        delta[:, k] = (_margins(prob(up), weights, iu) - _margins(prob(dn), weights, iu)) / (
            2 * step)
    xi_inv_delta = np.linalg.solve(xi, delta)
    xi_inv_e = np.linalg.solve(xi, obs - pi)
    inner = delta.T @ xi_inv_delta
    proj = xi_inv_delta @ np.linalg.solve(inner, xi_inv_delta.T @ (obs - pi))
    m2 = float(n_obs * (obs - pi) @ (xi_inv_e - proj))
    df = n_stat - q_free
    rmsea = float(np.sqrt(max(m2 - df, 0.0) / (n_obs * df))) if df > 0 else float("nan")
    # SRMSR: item correlations from the observed and the model margins
    first_o, first_m = obs[:n], pi[:n]
    cov_o = obs[n:] - first_o[iu[0]] * first_o[iu[1]]
    cov_m = pi[n:] - first_m[iu[0]] * first_m[iu[1]]
    sd_o = np.sqrt(first_o * (1 - first_o))
    sd_m = np.sqrt(first_m * (1 - first_m))
    with np.errstate(invalid="ignore", divide="ignore"):
        r_o = cov_o / (sd_o[iu[0]] * sd_o[iu[1]])
        r_m = cov_m / (sd_m[iu[0]] * sd_m[iu[1]])
    srmsr = float(np.sqrt(np.mean((r_o - r_m) ** 2)))
    from scipy.stats import chi2

    return {"m2": m2, "df": int(df), "pvalue": float(chi2.sf(m2, df)) if df > 0 else np.nan,
            "rmsea2": rmsea, "srmsr": srmsr, "n": int(n_obs)}
