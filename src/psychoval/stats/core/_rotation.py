"""Factor rotations as psych 2.2.9 does them (stats::varimax, psych::kaiser Promax, GPArotation).

- ``varimax``: ``stats::varimax`` (Kaiser normalisation, SVD iteration).
- ``promax``: ``psych::kaiser(L, "Promax")``: Kaiser-normalised rows, ``psych::Promax`` with
  m = 4 (varimax, then a least-squares fit to the 4th-power target, columns rescaled).
- ``quartimax``, ``geominT`` (orthogonal) and ``oblimin`` (gamma 0), ``quartimin``, ``geominQ``
  (delta .01) (oblique): the gradient projection algorithm of Bernaards & Jennrich (2005),
  ``GPArotation::GPForth`` / ``GPFoblq`` from the identity start, iterated to a projected
  gradient norm of 1e-8 (GPArotation stops at 1e-5).

Every rotation returns ``Rotated(loadings, phi, rotmat, criterion, converged, iterations)``
with ``loadings = L @ inv(rotmat).T``-style conventions hidden: only loadings and Phi matter.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["ROTATIONS", "ORTHOGONAL", "OBLIQUE", "Rotated", "rotate_loadings"]

ORTHOGONAL = ("varimax", "quartimax", "geominT")
OBLIQUE = ("oblimin", "quartimin", "geominQ", "promax")
ROTATIONS = ORTHOGONAL + OBLIQUE


@dataclasses.dataclass(frozen=True)
class Rotated:
    loadings: np.ndarray
    phi: np.ndarray | None  # None for orthogonal rotations
    criterion: float
    converged: bool
    iterations: int


def _varimax(x: np.ndarray, *, normalize: bool = True, eps: float = 1e-5,
             max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """stats::varimax exactly, including its stopping rule (relative criterion gain < eps).

    psych's varimax and promax are defined by this iteration; iterating further moves the
    loadings by up to ~1e-3 on real data, so R's definition is kept."""
    p, nc = x.shape
    if normalize:
        sc = np.sqrt((x * x).sum(axis=1))
        x = x / sc[:, None]
    tt = np.eye(nc)
    d = 0.0
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        z = x @ tt
        b = x.T @ (z ** 3 - z * ((z * z).sum(axis=0) / p))
        u, s, vt = np.linalg.svd(b)
        tt = u @ vt
        dpast = d
        d = s.sum()
        if d < dpast * (1 + eps):
            converged = True
            break
    z = x @ tt
    if normalize:
        z = z * sc[:, None]
    return z, tt, converged, it


def _promax(L: np.ndarray, m: int = 4) -> Rotated:
    """psych::kaiser(L, rotate = "Promax") with pro.m = 4."""
    h2 = (L * L).sum(axis=1)
    x = L / np.sqrt(h2)[:, None]
    xv, rot, conv, it = _varimax(x)
    q = xv * np.abs(xv) ** (m - 1)
    u = np.linalg.lstsq(xv, q, rcond=None)[0]
    d = np.diag(np.linalg.inv(u.T @ u))
    u = u * np.sqrt(d)[None, :]
    z = xv @ u
    u_full = rot @ u
    ui = np.linalg.inv(u_full)
    phi = ui @ ui.T
    crit = float("nan")
    return Rotated(z * np.sqrt(h2)[:, None], phi, crit, conv, it)


# GPA criteria: (value f, gradient Gq) as GPArotation's vgQ.* functions


def _vgq_quartimin(L):
    L2 = L * L
    X = L2.sum(axis=1, keepdims=True) - L2  # L^2 %*% (!diag(k))
    return float((L2 * X).sum() / 4.0), L * X


def _vgq_geomin(L, delta=0.01):
    k = L.shape[1]
    L2 = L * L + delta
    pro = np.exp(np.log(L2).sum(axis=1) / k)
    return float(pro.sum()), (2.0 / k) * (L / L2) * pro[:, None]


def _vgq_quartimax(L):
    L2 = L * L
    return float(-(L2 * L2).sum() / 4.0), -L ** 3


# GPArotation's own criterion: below it, a line search that can no longer improve the
# criterion in floating point means the optimum is reached.
_FLOOR = 1e-5

_CRITERIA = {
    "oblimin": _vgq_quartimin,
    "quartimin": _vgq_quartimin,
    "geominQ": _vgq_geomin,
    "geominT": _vgq_geomin,
    "quartimax": _vgq_quartimax,
}


def _gpf_oblique(A: np.ndarray, vgq, T: np.ndarray, eps: float, max_iter: int) -> Rotated:
    """GPArotation::GPFoblq."""
    al = 1.0
    Ti = np.linalg.inv(T)
    L = A @ Ti.T
    f, Gq = vgq(L)
    G = -(L.T @ Gq @ Ti).T
    converged = False
    it = 0
    for it in range(max_iter + 1):  # noqa: B007
        Gp = G - T * (T * G).sum(axis=0)[None, :]
        s = np.sqrt((Gp * Gp).sum())
        if s < eps:
            converged = True
            break
        al *= 2.0
        for _ in range(11):
            X = T - al * Gp
            v = 1.0 / np.sqrt((X * X).sum(axis=0))
            Tt = X * v[None, :]
            Tti = np.linalg.inv(Tt)
            L = A @ Tti.T
            ft, Gqt = vgq(L)
            if f - ft > 0.5 * s * s * al:
                break
            al /= 2.0
        else:
            if s < _FLOOR:  # no progress possible in floating point: optimum reached
                L = A @ np.linalg.inv(T).T
                converged = True
                break
        T = Tt
        f = ft
        G = -(L.T @ Gqt @ Tti).T
    return Rotated(L, T.T @ T, f, converged, it)


def _gpf_orthogonal(A: np.ndarray, vgq, T: np.ndarray, eps: float, max_iter: int) -> Rotated:
    """GPArotation::GPForth."""
    al = 1.0
    L = A @ T
    f, Gq = vgq(L)
    G = A.T @ Gq
    converged = False
    it = 0
    for it in range(max_iter + 1):  # noqa: B007
        M = T.T @ G
        S = (M + M.T) / 2.0
        Gp = G - T @ S
        s = np.sqrt((Gp * Gp).sum())
        if s < eps:
            converged = True
            break
        al *= 2.0
        for _ in range(11):
            X = T - al * Gp
            u, _d, vt = np.linalg.svd(X)
            Tt = u @ vt
            L = A @ Tt
            ft, Gqt = vgq(L)
            if ft < f - 0.5 * s * s * al:
                break
            al /= 2.0
        else:
            if s < _FLOOR:
                L = A @ T
                converged = True
                break
        T = Tt
        f = ft
        G = A.T @ Gqt
    return Rotated(L, None, f, converged, it)


def rotate_loadings(L: np.ndarray, rotation: str, *, eps: float = 1e-8, max_iter: int = 10000,
                    start: np.ndarray | None = None) -> Rotated:
    """Rotate unrotated loadings ``L`` (p x m, m >= 2) by ``rotation``.

    ``start`` is an optional starting rotation matrix for the GPA rotations (identity by
    default, as GPArotation).
    """
    m = L.shape[1]
    if rotation == "varimax":
        z, _tt, conv, it = _varimax(L)
        return Rotated(z, None, float("nan"), conv, it)
    if rotation == "promax":
        return _promax(L)
    vgq = _CRITERIA[rotation]
    T = np.eye(m) if start is None else start
    if rotation in ("quartimax", "geominT"):
        return _gpf_orthogonal(L, vgq, T, eps, max_iter)
    return _gpf_oblique(L, vgq, T, eps, max_iter)
