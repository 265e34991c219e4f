"""A minimal CFA parameterisation for tests of the engine-agnostic FIML / MLR pieces.

Not the engine (issue 7): it only turns lavaan's parameter estimates (keys ``f=~x``, ``x~~y``,
``x~1``; second-order ``g=~f``) into the model-implied moments and their Jacobian
``Delta = d(mu, vech Sigma)/d theta`` for the free parameters, so the FIML / robust formulas can
be checked against lavaan at lavaan's own estimates. Model:
``Sigma = Lambda B^-1 Psi B^-T Lambda' + Theta``, ``mu = nu`` (latent means fixed at 0).
The Jacobian is by central differences of the analytic implied moments (exact for the linear
parts; the bilinear parts to ~1e-10).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from psychoval.stats.sem._fiml import vech


@dataclasses.dataclass
class ToyCFA:
    items: list[str]
    latents: list[str]
    keys: list[str]  # free parameter keys, in theta order
    fixed: dict[str, float]
    meanstructure: bool

    @classmethod
    def from_lavaan(cls, est: dict, se: dict, items: list[str], *, meanstructure=True,
                    free: list[str] | None = None):
        latents: list[str] = []
        for k in est:
            if "=~" in k:
                f = k.split("=~")[0]
                if f not in latents:
                    latents.append(f)
        if free is None:
            free = [k for k in est if se.get(k) not in (None, 0)]
        fixed = {k: v for k, v in est.items() if k not in free}
        if not meanstructure:
            free = [k for k in free if "~1" not in k]
        return cls(items, latents, list(free), fixed, meanstructure)

    def theta_from(self, est: dict) -> np.ndarray:
        return np.array([est[k] for k in self.keys], dtype=float)

    def implied(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vals = dict(self.fixed)
        vals.update(zip(self.keys, theta, strict=True))
        p, m = len(self.items), len(self.latents)
        ii = {v: i for i, v in enumerate(self.items)}
        li = {v: i for i, v in enumerate(self.latents)}
        lam = np.zeros((p, m))
        beta = np.zeros((m, m))
        psi = np.zeros((m, m))
        th = np.zeros((p, p))
        nu = np.zeros(p)
        alpha = np.zeros(m)
        for k, v in vals.items():
            if "=~" in k:
                a, b = k.split("=~")
                if b in li:
                    beta[li[b], li[a]] = v
                else:
                    lam[ii[b], li[a]] = v
            elif "~~" in k:
                a, b = k.split("~~")
                if a in li:
                    psi[li[a], li[b]] = psi[li[b], li[a]] = v
                else:
                    th[ii[a], ii[b]] = th[ii[b], ii[a]] = v
            elif k.endswith("~1"):
                a = k[:-2]
                if a in ii:
                    nu[ii[a]] = v
                else:
                    alpha[li[a]] = v
        ib = np.linalg.inv(np.eye(m) - beta)
        sigma = lam @ ib @ psi @ ib.T @ lam.T + th
        return nu + lam @ ib @ alpha, sigma

    def moments(self, theta: np.ndarray) -> np.ndarray:
        mu, sigma = self.implied(theta)
        return np.concatenate([mu, vech(sigma)])

    def delta(self, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
        if not any("=~" in k and k.split("=~")[1] in self.latents
                   for k in list(self.keys) + list(self.fixed)):
            return self._delta_first_order(theta)
        cols = []  # second-order models: central differences (exact for quadratic terms)
        for j in range(len(theta)):
            tp, tm = theta.copy(), theta.copy()
            tp[j] += h
            tm[j] -= h
            cols.append((self.moments(tp) - self.moments(tm)) / (2 * h))
        d = np.column_stack(cols)
        d[np.abs(d) < 1e-9] = 0.0
        return d

    def _delta_first_order(self, theta: np.ndarray) -> np.ndarray:
        """Analytic Jacobian for Sigma = Lambda Psi Lambda' + Theta, mu = nu."""
        vals = dict(self.fixed)
        vals.update(zip(self.keys, theta, strict=True))
        p, m = len(self.items), len(self.latents)
        ii = {v: i for i, v in enumerate(self.items)}
        li = {v: i for i, v in enumerate(self.latents)}
        lam = np.zeros((p, m))
        psi = np.zeros((m, m))
        alpha = np.zeros(m)
        for k, v in vals.items():
            if "=~" in k:
                a, b = k.split("=~")
                lam[ii[b], li[a]] = v
            elif "~~" in k:
                a, b = k.split("~~")
                if a in li:
                    psi[li[a], li[b]] = psi[li[b], li[a]] = v
            elif k.endswith("~1") and k[:-2] in li:
                alpha[li[k[:-2]]] = v
        lp = lam @ psi  # (p, m)
        cols = []
        for k in self.keys:
            dmu = np.zeros(p)
            ds = np.zeros((p, p))
            if "=~" in k:
                a, b = k.split("=~")
                i, f = ii[b], li[a]
                ds[i, :] += lp[:, f]
                ds[:, i] += lp[:, f]
                dmu[i] = alpha[f]
            elif "~~" in k:
                a, b = k.split("~~")
                if a in li:
                    fa, fb = li[a], li[b]
                    ds = np.outer(lam[:, fa], lam[:, fb])
                    if fa != fb:
                        ds = ds + ds.T
                else:
                    ds[ii[a], ii[b]] = ds[ii[b], ii[a]] = 1.0
            elif k.endswith("~1"):
                a = k[:-2]
                if a in ii:
                    dmu[ii[a]] = 1.0
                else:
                    dmu = lam[:, li[a]].copy()
            cols.append(np.concatenate([dmu, vech(ds)]))
        return np.column_stack(cols)


@dataclasses.dataclass
class Pieces:
    """Everything the robust formulas need, recomputed at lavaan's estimates."""

    model: ToyCFA
    theta: np.ndarray
    pat: object
    h1: object
    mu: np.ndarray
    sigma: np.ndarray
    delta: np.ndarray  # rows restricted to the model's moments (vech only without means)
    sl: slice
    information: np.ndarray
    first_order: np.ndarray  # B0 = Delta' B1 Delta (structured)
    chisq: float
    loglik: float


def observed_information(model: ToyCFA, theta: np.ndarray, pat, sl: slice,
                         mu_fixed: np.ndarray | None, h: float = 1e-6) -> np.ndarray:
    """lavaan's observed information: 5-point central differences (h = 1e-6) of the analytic
    gradient of the casewise log-likelihood, symmetrised, per observation."""
    from psychoval.stats.sem import _fiml
    def grad(t):
        mu, sigma = model.implied(t)
        if mu_fixed is not None:
            mu = mu_fixed
        return model.delta(t)[sl].T @ _fiml.gradient(pat, mu, sigma)[sl]

    q = len(theta)
    hess = np.zeros((q, q))
    for j in range(q):
        e = np.zeros(q)
        e[j] = h
        hess[:, j] = (grad(theta - 2 * e) - 8 * grad(theta - e) + 8 * grad(theta + e)
                      - grad(theta + 2 * e)) / (12 * h)
    return -0.5 * (hess + hess.T) / pat.n


def lavaan_pieces(est: dict, se: dict, items: list[str], x: np.ndarray, *,
                  meanstructure: bool, information: str = "observed",
                  free: list[str] | None = None) -> Pieces:
    from psychoval.stats.sem import _fiml
    model = ToyCFA.from_lavaan(est, se, items, meanstructure=meanstructure, free=free)
    theta = model.theta_from(est)
    pat = _fiml.missing_patterns(x)
    h1 = _fiml.em_saturated(pat)
    p = pat.p
    sl = slice(0, None) if meanstructure else slice(p, None)
    mu_fixed = None if meanstructure else h1.mu
    mu, sigma = model.implied(theta)
    if mu_fixed is not None:
        mu = mu_fixed
    delta = model.delta(theta)[sl]
    if information == "observed":
        info = _fiml.information_observed_theta(pat, mu, sigma, delta,
                                                delta_fn=lambda t: model.delta(t)[sl],
                                                theta=theta, rows=sl)
    else:
        info = delta.T @ _fiml.information_expected(pat, mu, sigma)[sl, sl] @ delta
    b1 = _fiml.information_firstorder(pat, mu, sigma)[sl, sl]
    ll = _fiml.loglik(pat, mu, sigma)
    return Pieces(model, theta, pat, h1, mu, sigma, delta, sl, info, delta.T @ b1 @ delta,
                  2.0 * (h1.loglik - ll), ll)


class EngineLike:
    """ToyCFA behind the engine's MatrixModel interface (implied -> (Sigma, mu), dsigma, dmu)."""

    def __init__(self, toy: ToyCFA):
        self.toy = toy
        self.p = len(toy.items)
        self.q = len(toy.keys)

    def implied(self, x):
        mu, sigma = self.toy.implied(x)
        return sigma, mu

    def _delta(self, x):
        return self.toy.delta(x)

    def dmu(self, x):
        return self._delta(x)[: self.p].T

    def dsigma(self, x):
        from psychoval.stats.sem._fiml import unvech

        d = self._delta(x)[self.p:]
        return np.stack([unvech(d[:, j], self.p) for j in range(d.shape[1])])
