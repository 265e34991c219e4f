"""Item response functions of the IRT models and their analytic derivatives.

Every item kind works on a block of items with the same number of categories K: parameters
``beta`` of shape (J, p), nodes ``theta`` of shape (Q,), and returns the category
probabilities P (J, Q, K) with their derivatives dP/dbeta (J, Q, K, p) and dP/dtheta
(J, Q, K). Parameters are in the slope-intercept form of mirt (Chalmers, 2012):

- ``gpcm`` (2PL when K = 2, GPCM, and with a common slope 1PL, Rasch and PCM): beta =
  (a, c_1, ..., c_{K-1}); P_k proportional to exp(k a theta + c_k), c_0 = 0 (Muraki, 1992).
- ``grm`` (Samejima, 1969): beta = (a, d_1, ..., d_{K-1}), d decreasing;
  P(X >= k) = logistic(a theta + d_k), P_k = P(X >= k) - P(X >= k + 1).
- ``3pl`` (Birnbaum, 1968): beta = (a, d, gamma), guessing c = logistic(gamma);
  P_1 = c + (1 - c) logistic(a theta + d).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

__all__ = ["probs", "probs_derivs", "dtheta", "n_params"]

_TINY = 1e-300


def n_params(kind: str, k: int) -> int:
    return 3 if kind == "3pl" else k


def _gpcm(beta: np.ndarray, theta: np.ndarray, k: int, deriv: bool):
    a = beta[:, 0][:, None, None]
    cats = np.arange(k, dtype=float)
    c = np.concatenate([np.zeros((beta.shape[0], 1)), beta[:, 1:]], axis=1)[:, None, :]
    z = a * theta[None, :, None] * cats[None, None, :] + c
    z -= z.max(axis=2, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=2, keepdims=True)
    if not deriv:
        return p, None
    # dz_k/da = k theta, dz_k/dc_v = 1{k = v}; dP_k = P_k (dz_k - sum_l P_l dz_l)
    dz = np.zeros((beta.shape[0], theta.size, k, k))
    dz[..., 0] = theta[None, :, None] * cats[None, None, :]
    dz[..., 1:] = np.eye(k)[None, None, :, 1:]
    mean = np.einsum("jqk,jqkp->jqp", p, dz)
    dp = p[..., None] * (dz - mean[:, :, None, :])
    return p, dp


def _grm(beta: np.ndarray, theta: np.ndarray, k: int, deriv: bool):
    a = beta[:, 0][:, None, None]
    d = beta[:, 1:][:, None, :]
    ps = expit(a * theta[None, :, None] + d)  # (J, Q, K-1): P(X >= 1..K-1)
    j, q = beta.shape[0], theta.size
    star = np.concatenate([np.ones((j, q, 1)), ps, np.zeros((j, q, 1))], axis=2)
    p = star[..., :-1] - star[..., 1:]
    if not deriv:
        return p, None
    w = ps * (1 - ps)  # (J, Q, K-1)
    dstar = np.zeros((j, q, k + 1, k))  # derivatives of P*_0..P*_K by (a, d_1..d_{K-1})
    dstar[:, :, 1:k, 0] = w * theta[None, :, None]
    idx = np.arange(1, k)
    dstar[:, :, idx, idx] = w
    dp = dstar[:, :, :-1, :] - dstar[:, :, 1:, :]
    return p, dp


def _three(beta: np.ndarray, theta: np.ndarray, deriv: bool):
    a = beta[:, 0][:, None]
    s = expit(a * theta[None, :] + beta[:, 1][:, None])
    c = expit(beta[:, 2])[:, None]
    p1 = c + (1 - c) * s
    p = np.stack([1 - p1, p1], axis=2)
    if not deriv:
        return p, None
    w = (1 - c) * s * (1 - s)
    d1 = np.stack([w * theta[None, :], w, c * (1 - c) * (1 - s)], axis=2)  # (J, Q, 3)
    dp = np.stack([-d1, d1], axis=2)
    return p, dp


def probs(kind: str, beta: np.ndarray, theta: np.ndarray, k: int) -> np.ndarray:
    """Category probabilities (J, Q, K)."""
    return probs_derivs(kind, beta, theta, k, deriv=False)[0]


def probs_derivs(kind: str, beta: np.ndarray, theta: np.ndarray, k: int, deriv: bool = True):
    """Category probabilities (J, Q, K) and their derivatives by beta (J, Q, K, p)."""
    theta = np.asarray(theta, dtype=float)
    if kind == "gpcm":
        return _gpcm(beta, theta, k, deriv)
    if kind == "grm":
        return _grm(beta, theta, k, deriv)
    return _three(beta, theta, deriv)


def dtheta(kind: str, beta: np.ndarray, theta: np.ndarray, k: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Probabilities (J, Q, K) and their derivatives by theta (J, Q, K)."""
    theta = np.asarray(theta, dtype=float)
    a = beta[:, 0][:, None, None]
    if kind == "gpcm":
        p, _ = _gpcm(beta, theta, k, False)
        cats = np.arange(k, dtype=float)[None, None, :]
        dz = a * cats
        return p, p * (dz - (p * dz).sum(axis=2, keepdims=True))
    if kind == "grm":
        p, _ = _grm(beta, theta, k, False)
        ps = expit(a * theta[None, :, None] + beta[:, 1:][:, None, :])
        w = a * ps * (1 - ps)
        j, q = beta.shape[0], theta.size
        ds = np.concatenate([np.zeros((j, q, 1)), w, np.zeros((j, q, 1))], axis=2)
        return p, ds[..., :-1] - ds[..., 1:]
    p, _ = _three(beta, theta, False)
    s = expit(beta[:, 0][:, None] * theta[None, :] + beta[:, 1][:, None])
    c = expit(beta[:, 2])[:, None]
    d1 = (1 - c) * s * (1 - s) * beta[:, 0][:, None]
    return p, np.stack([-d1, d1], axis=2)
