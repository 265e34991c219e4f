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

from psychoval.stats._fiml import vech


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
        ib = np.linalg.inv(np.eye(m) - beta)
        sigma = lam @ ib @ psi @ ib.T @ lam.T + th
        return nu, sigma

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
        for k, v in vals.items():
            if "=~" in k:
                a, b = k.split("=~")
                lam[ii[b], li[a]] = v
            elif "~~" in k:
                a, b = k.split("~~")
                if a in li:
                    psi[li[a], li[b]] = psi[li[b], li[a]] = v
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
                dmu[ii[k[:-2]]] = 1.0
            cols.append(np.concatenate([dmu, vech(ds)]))
        return np.column_stack(cols)
