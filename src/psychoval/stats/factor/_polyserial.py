"""Two-step polyserial correlation (lavaan 0.6.14's ``lav_bvmix_cor_twostep_fit``) and its
casewise scores (``lav_bvmix_cor_scores``), vectorized over respondents.

A continuous y1 (mean ``mu``, variance ``var`` fixed at their ML estimates, divisor N) and an
ordered y2 (thresholds ``tau`` fixed at the univariate probit estimates) are taken as a
bivariate normal (y1, y2*) with correlation rho; with ``z = (y1 - mu) / sd``, ``R =
sqrt(1 - rho^2)`` and ``a = (tau_upper - rho z) / R``, ``b = (tau_lower - rho z) / R`` the
likelihood of a respondent is ``phi(y1; mu, sd) [Phi(a) - Phi(b)]`` (lavaan's offsets +-100
stand for the infinite outer thresholds; the conditional probability is clamped at machine
epsilon and a likelihood below sqrt(eps) is left out, as lavaan). rho maximizes the
log-likelihood on [-0.995, 0.995] (lavaan's bounds); the root of the analytic gradient is
found to machine precision (lavaan's nlminb stops at rel.tol 1e-10).

Scores (derivatives of each respondent's log-likelihood): ``d/d mu = (z + rho/R (phi(a) -
phi(b)) / p) / sd``, ``d/d var = ((z^2 - 1) + rho z / R (phi(a) - phi(b)) / p) / (2 var)``,
``d/d tau_k = (1{upper = k} phi(a) - 1{lower = k} phi(b)) / (R p)`` and ``d/d rho =
(phi(a)(tau_upper rho - z) - phi(b)(tau_lower rho - z)) / (p R^3)``.

Reference: Olsson, U., Drasgow, F., & Dorans, N. J. (1982). The polyserial correlation
coefficient. Psychometrika, 47(3), 337-347. https://doi.org/10.1007/BF02294164
"""
from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["PolyserialScores", "polyserial_twostep", "polyserial_scores"]

_EPS = float(np.finfo(float).eps)
_SQRT_EPS = float(np.sqrt(_EPS))
_BOUND = 0.995


def _bounds(codes: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower threshold of each respondent's category (lavaan's z1, z2: +-100 for
    the outer ones)."""
    ext = np.concatenate([[-100.0], np.asarray(tau, dtype=float), [100.0]])
    return ext[codes + 1], ext[codes]


def _pieces(rho: float, z: np.ndarray, up: np.ndarray, lo: np.ndarray):
    from scipy.special import ndtr

    r = np.sqrt(1.0 - rho * rho)
    a = (up - rho * z) / r
    b = (lo - rho * z) / r
    p = np.maximum(ndtr(a) - ndtr(b), _EPS)
    fa = np.exp(-0.5 * a * a) / np.sqrt(2 * np.pi)
    fb = np.exp(-0.5 * b * b) / np.sqrt(2 * np.pi)
    return r, p, fa, fb


def polyserial_twostep(y1: np.ndarray, codes: np.ndarray, *, mean: float, var: float,
                       tau: np.ndarray) -> float:
    """The two-step polyserial correlation of continuous ``y1`` and ordered ``codes``
    (0-based categories) over the rows where both are observed (NaN / -1 elsewhere)."""
    from scipy.optimize import brentq, minimize_scalar

    y1 = np.asarray(y1, dtype=float)
    codes = np.asarray(codes)
    ok = ~np.isnan(y1) & (codes >= 0)
    sd = np.sqrt(var)
    z = (y1[ok] - mean) / sd
    up, lo = _bounds(codes[ok], tau)
    log_py1 = -0.5 * z * z - np.log(sd) - 0.5 * np.log(2 * np.pi)

    def keep(rho):
        _, p, _, _ = _pieces(rho, z, up, lo)
        return np.exp(log_py1) * p >= _SQRT_EPS, p

    def grad(rho):
        r, p, fa, fb = _pieces(rho, z, up, lo)
        dx = (fa * (up * rho - z) - fb * (lo * rho - z)) / (p * r ** 3)
        return float(np.sum(dx[np.exp(log_py1) * p >= _SQRT_EPS]))

    def negll(rho):
        k, p = keep(rho)
        return -float(np.sum(log_py1[k] + np.log(p[k])))

    g_lo, g_hi = grad(-_BOUND), grad(_BOUND)
    if g_lo > 0 > g_hi:
        return float(brentq(grad, -_BOUND, _BOUND, xtol=1e-15, rtol=4 * _EPS, maxiter=200))
    res = minimize_scalar(negll, bounds=(-_BOUND, _BOUND), method="bounded",
                          options={"xatol": 1e-12})
    return float(res.x)


@dataclasses.dataclass(frozen=True, eq=False)
class PolyserialScores:
    """Per-respondent scores at (mu, var, tau, rho); 0 where a response is missing."""

    rho: np.ndarray  # (n,)
    mean: np.ndarray  # (n,)
    var: np.ndarray  # (n,)
    tau: np.ndarray  # (n, C - 1)


def polyserial_scores(y1: np.ndarray, codes: np.ndarray, *, mean: float, var: float,
                      tau: np.ndarray, rho: float) -> PolyserialScores:
    """lavaan's ``lav_bvmix_cor_scores`` (see module); rows with a missing response score 0
    (lavaan: NA, dropped by its NA-removing cross-products)."""
    y1 = np.asarray(y1, dtype=float)
    codes = np.asarray(codes)
    tau = np.asarray(tau, dtype=float)
    n = y1.size
    ok = ~np.isnan(y1) & (codes >= 0)
    sd = np.sqrt(var)
    z = (y1[ok] - mean) / sd
    c = codes[ok]
    up, lo = _bounds(c, tau)
    r, p, fa, fb = _pieces(rho, z, up, lo)
    diff = (fa - fb) / p
    out_rho = np.zeros(n)
    out_mu = np.zeros(n)
    out_var = np.zeros(n)
    out_tau = np.zeros((n, tau.size))
    out_mu[ok] = (z + rho / r * diff) / sd
    out_var[ok] = ((z * z - 1.0) + rho * z / r * diff) / (2.0 * var)
    out_rho[ok] = (fa * (up * rho - z) - fb * (lo * rho - z)) / (p * r ** 3)
    th = np.zeros((c.size, tau.size))
    rows = np.arange(c.size)
    top = c < tau.size  # the category's upper threshold is tau[c]
    th[rows[top], c[top]] += fa[top] / (r * p[top])
    bot = c > 0  # its lower threshold is tau[c - 1]
    th[rows[bot], c[bot] - 1] -= fb[bot] / (r * p[bot])
    out_tau[ok] = th
    return PolyserialScores(rho=out_rho, mean=out_mu, var=out_var, tau=out_tau)
