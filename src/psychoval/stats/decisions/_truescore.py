"""Strong true-score models of the beta family (Lord 1965; Hanson 1991): the pieces that the
Livingston-Lewis and Hanson-Brennan classification methods share.

- :func:`effective_length`: Livingston and Lewis' effective test length from reliability;
- :func:`lords_k`: Lord's k of the compound binomial error model from reliability;
- :func:`true_moments`: raw moments of the true proportion-correct from the observed
  factorial moments (binomial error, or Lord's two-term compound binomial);
- :func:`fit_beta`: the four-parameter beta with those four moments (method of moments), or the
  two-parameter beta on [0, 1] with the first two;
- :func:`error_pmf`: P(X = x | tau) for x = 0..n at many true scores (binomial or two-term);
- :func:`level_nodes`: quadrature nodes and weights of the true-score distribution, split at
  the true cut points so that each true level is integrated on its own.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["BetaModel", "effective_length", "lords_k", "true_moments", "fit_beta",
           "error_pmf", "level_nodes"]

_NODES_PER_LEVEL = 160


@dataclasses.dataclass(frozen=True)
class BetaModel:
    """A beta distribution of the true proportion-correct on [l, u]."""

    alpha: float
    beta: float
    l: float  # noqa: E741 - the location parameters' names in the literature
    u: float
    kind: str  # "4P" or "2P"
    note: str = ""


def effective_length(mean: float, variance: float, lo: float, hi: float,
                     reliability: float) -> float:
    """Livingston and Lewis' (1995) effective test length
    ((mu - min)(max - mu) - r s^2) / (s^2 (1 - r))."""
    return ((mean - lo) * (hi - mean) - reliability * variance) / (variance * (1.0 - reliability))


def lords_k(mean: float, variance: float, n: int, reliability: float) -> float:
    """Lord's k of the two-term compound binomial error model implied by a reliability
    (Lord 1965, eq. 47; Hanson & Brennan 1990): with error variance s^2 (1 - r),
    k = n [(n - 1)(s^2 - s_e^2) - n s^2 + mu (n - mu)] / (2 [mu (n - mu) - (s^2 - s_e^2)])."""
    s2e = variance * (1.0 - reliability)
    num = n * ((n - 1) * (variance - s2e) - n * variance + mean * (n - mean))
    den = 2.0 * (mean * (n - mean) - (variance - s2e))
    return num / den


def true_moments(x: np.ndarray, n: float, k: float = 0.0, order: int = 4,
                 weights: np.ndarray | None = None) -> np.ndarray:
    """Raw moments E[tau^r], r = 1..order, of the true proportion-correct tau from scores ``x``
    on 0..n (Lord 1965; Hanson 1991, eq. 8): E[X^(r)] are the observed factorial moments,
    m_1 = E[X]/n and m_r = (E[X^(r)] / (n-2)^(r-2) + k r(r-1) m_(r-1)) / (n(n-1) + k r(r-1)),
    with (a)^(j) the falling factorial. k = 0 is the binomial error model. ``weights``: the
    probability of each x (a score distribution instead of a sample)."""
    x = np.asarray(x, dtype=float)
    m = np.empty(order)
    m[0] = float(np.average(x, weights=weights)) / n
    fall = x.copy()  # the falling factorial x (x - 1) ... (x - r + 1), built up one r at a time
    for r in range(2, order + 1):
        fall *= x - (r - 1)
        fact = float(np.average(fall, weights=weights))
        lead = math.prod(n - 2.0 - i for i in range(r - 2))
        m[r - 1] = (fact / lead + k * r * (r - 1) * m[r - 2]) / (n * (n - 1) + k * r * (r - 1))
    return m


def _beta_2p(mean: float, var: float) -> tuple[float, float] | None:
    if not (var > 0 and 0 < mean < 1 and var < mean * (1 - mean)):
        return None
    c = mean * (1 - mean) / var - 1.0
    return mean * c, (1 - mean) * c


def fit_beta(m: np.ndarray, *, true_model: str = "4P") -> BetaModel | None:
    """Method-of-moments beta of the true proportion-correct from its raw moments ``m``.

    "4P": the four-parameter beta with the same mean, variance, skewness and kurtosis (Hanson
    1991, eqs. 11-14); when it is impermissible (a shape <= 0, l < 0, u > 1 or no real
    solution) the two-parameter beta on [0, 1] with the same mean and variance is used and the
    reason recorded. "2P": that two-parameter beta directly. None when no beta exists (the
    true-score variance is not positive or too large for the mean)."""
    m1, m2, m3, m4 = (float(v) for v in m[:4])
    s2 = m2 - m1 ** 2
    note = ""
    if true_model == "4P" and s2 > 0:
        sd = math.sqrt(s2)
        g3 = (m3 - 3 * m1 * m2 + 2 * m1 ** 3) / sd ** 3
        g4 = (m4 - 4 * m1 * m3 + 6 * m1 ** 2 * m2 - 3 * m1 ** 4) / s2 ** 2
        with np.errstate(all="ignore"):
            r = 6 * (g4 - g3 ** 2 - 1) / (6 + 3 * g3 ** 2 - 2 * g4)
            disc = 1 - 24 * (r + 1) / ((r + 2) * (r + 3) * g4 - 3 * (r - 6) * (r + 1))
        ok = math.isfinite(r) and r > 0 and math.isfinite(disc) and 0 <= disc <= 1
        if ok:
            root = math.sqrt(disc)
            big, small = r / 2 * (1 + root), r / 2 * (1 - root)
            a, b = (big, small) if g3 < 0 else (small, big)
            ok = a > 0 and b > 0
        if ok:
            half = math.sqrt(s2 * (a + b + 1) / (a * b))
            lo, hi = m1 - a * half, m1 + b * half
            if 0 <= lo < hi <= 1:
                return BetaModel(a, b, lo, hi, "4P")
            note = (f"the four-parameter beta fit is impermissible (l = {lo:.4g}, u = {hi:.4g}, "
                    "outside [0, 1])")
        else:
            note = ("the four-parameter beta fit has no permissible solution (skewness "
                    f"{g3:.4g}, kurtosis {g4:.4g})")
        note += "; the two-parameter beta on [0, 1] with the same mean and variance is used"
    two = _beta_2p(m1, s2)
    if two is None:
        return None
    return BetaModel(two[0], two[1], 0.0, 1.0, "2P", note)


def error_pmf(tau: np.ndarray, n: int, k: float = 0.0) -> np.ndarray:
    """P(X = x | tau) for x = 0..n at each true proportion ``tau`` (rows): binomial, or with
    k != 0 Lord's two-term approximation to the compound binomial,
    b(x; n, p) - k p q [b(x; n-2, p) - 2 b(x-1; n-2, p) + b(x-2; n-2, p)]."""
    tau = np.asarray(tau, dtype=float)[:, None]
    pmf = _binom_pmf(n, tau)
    if k != 0.0 and n >= 2:
        b2 = np.zeros((tau.shape[0], n + 3))  # x - 2 = -2 .. n: zero outside 0..n-2
        b2[:, 2:n + 1] = _binom_pmf(n - 2, tau)
        second = b2[:, 2:] - 2 * b2[:, 1:-1] + b2[:, :-2]
        pmf = pmf - k * tau * (1 - tau) * second
    return pmf


def _binom_pmf(n: int, p: np.ndarray) -> np.ndarray:
    """Binomial probabilities of 0..n at each p (a column), in logs (exact at p = 0 and 1,
    no overflow for extreme p)."""
    from scipy.special import gammaln, xlog1py, xlogy

    x = np.arange(n + 1, dtype=float)[None, :]
    logc = gammaln(n + 1.0) - gammaln(x + 1.0) - gammaln(n - x + 1.0)
    return np.exp(logc + xlogy(x, p) + xlog1py(n - x, -p))


def level_nodes(model: BetaModel, cuts: np.ndarray, *, per_level: int = _NODES_PER_LEVEL
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quadrature of the true-score distribution split at the true cut points ``cuts``
    (proportions, increasing): nodes tau, weights (summing to 1) and the true level of each
    node. Each level's mass F(c_k) .. F(c_k+1) is integrated by Gauss-Legendre in the
    probability scale (tau = F^-1(p)), so the level proportions are exact and the integrands
    (polynomials in tau) are smooth in p away from the ends."""
    from scipy.special import betainc, betaincinv

    gx, gw = np.polynomial.legendre.leggauss(per_level)
    z = (np.clip((np.asarray(cuts, dtype=float) - model.l) / (model.u - model.l), 0.0, 1.0))
    edges = np.concatenate([[0.0], betainc(model.alpha, model.beta, z), [1.0]])
    nodes, weights, levels = [], [], []
    for lev in range(len(edges) - 1):
        p0, p1 = edges[lev], edges[lev + 1]
        if p1 <= p0:
            continue
        p = p0 + (p1 - p0) * (gx + 1) / 2
        nodes.append(model.l + (model.u - model.l) * betaincinv(model.alpha, model.beta, p))
        weights.append(gw * (p1 - p0) / 2)
        levels.append(np.full(per_level, lev))
    return np.concatenate(nodes), np.concatenate(weights), np.concatenate(levels)
