"""Conditional maximum likelihood of the Rasch and partial credit models.

Given a person's raw score r over the items answered, the response pattern no longer depends
on theta: P(x | r) = prod_j eps_{j x_j} / gamma_r with eps_{jx} = exp(-eta_{jx}), eta_{jx} =
delta_{j1} + ... + delta_{jx} (cumulative thresholds, eta_{j0} = 0) and gamma_r the
elementary symmetric function of order r (the coefficient of t^r in prod_j sum_x eps_{jx}
t^x; Andersen, 1972; Masters, 1982). Respondents are grouped by the items they answered (each
group has its own gamma). Identification as psychotools: eta of the first item's first
threshold is 0 while estimating; the thresholds are reported normalised to sum zero.

The gradient is analytic (P(x_j = x | r) = eps_{jx} gamma^{(j)}_{r - x} / gamma_r, the
gamma^{(j)} without item j from prefix and suffix products); Newton steps use the Hessian by
central differences of that gradient, which is also the observed information of the SEs.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["CMLFit", "cml"]


@dataclasses.dataclass
class CMLFit:
    eta: np.ndarray  # cumulative thresholds, flat over items (first fixed at 0)
    cov: np.ndarray | None  # of the free eta (all but the first)
    loglik: float
    iterations: int
    converged: bool


def _group_data(codes: np.ndarray, ncat: list[int]):
    answered = codes >= 0
    if answered.all():
        masks, inv = answered[:1], np.zeros(codes.shape[0], dtype=int)
    else:  # distinct answered-item sets (np.unique over the packed bits as bytes)
        packed = np.ascontiguousarray(np.packbits(answered, axis=1))
        view = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
        _, first, inv = np.unique(view, return_index=True, return_inverse=True)
        masks, inv = answered[first], inv.ravel()
    groups = []
    for g, mask in enumerate(masks):
        items = np.flatnonzero(mask)
        if items.size == 0:
            continue
        rows = codes[inv == g][:, items].astype(int)
        r = rows.sum(axis=1)
        rmax = int(sum(ncat[j] - 1 for j in items))
        nr = np.bincount(r, minlength=rmax + 1).astype(float)
        cnt = [np.bincount(rows[:, i], minlength=ncat[j]).astype(float)
               for i, j in enumerate(items)]
        groups.append((items, nr, cnt))
    return groups


def _conv_all(parts: list[np.ndarray]) -> np.ndarray:
    g = np.ones(1)
    for e in parts:
        g = np.convolve(g, e)
    return g


class _CML:
    def __init__(self, codes: np.ndarray, ncat: list[int]):
        self.ncat = ncat
        self.offset = np.concatenate([[0], np.cumsum([k - 1 for k in ncat])[:-1]]).astype(int)
        self.n_eta = int(sum(k - 1 for k in ncat))
        self.groups = _group_data(codes, ncat)

    def full(self, free: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], free])

    def value_grad(self, free: np.ndarray) -> tuple[float, np.ndarray]:
        eta = self.full(free)
        eps = []
        for j, k in enumerate(self.ncat):
            e = -np.concatenate([[0.0], eta[self.offset[j]:self.offset[j] + k - 1]])
            eps.append(e)
        ll = 0.0
        grad = np.zeros(self.n_eta)
        for items, nr, cnt in self.groups:
            logs = [eps[j] for j in items]
            shift = [float(v.max()) for v in logs]  # scale each item's polynomial
            parts = [np.exp(v - s) for v, s in zip(logs, shift, strict=True)]
            pre = [np.ones(1)]
            for p in parts[:-1]:
                pre.append(np.convolve(pre[-1], p))
            suf = [np.ones(1)]
            for p in parts[:0:-1]:
                suf.append(np.convolve(suf[-1], p))
            suf = suf[::-1]
            gamma = np.convolve(pre[-1], parts[-1])
            use = nr > 0
            ll -= float(np.sum(nr[use] * (np.log(gamma[use]) + sum(shift))))
            w = np.where(use, nr / np.where(gamma > 0, gamma, 1.0), 0.0)
            for i, j in enumerate(items):
                k = self.ncat[j]
                gj = np.convolve(pre[i], suf[i])  # gamma without item j
                for x in range(1, k):
                    # expected count of x on item j: sum_r n_r eps_jx gamma^(j)_{r-x} / gamma_r
                    ex = parts[i][x] * float(np.dot(w[x:x + gj.size], gj))
                    o = self.offset[j] + x - 1
                    grad[o] += ex - cnt[i][x]
                    ll += cnt[i][x] * logs[i][x]  # minus eta_{jx} per person
        return ll, grad[1:]

    def hessian(self, free: np.ndarray, central: bool = True) -> np.ndarray:
        """By differences of the analytic gradient: central (for the SEs) or forward (p + 1
        gradients, for the Newton steps)."""
        p = free.size
        h = np.empty((p, p))
        g0 = None if central else self.value_grad(free)[1]
        for i in range(p):
            e = 1e-5 * max(1.0, abs(free[i]))
            up, dn = free.copy(), free.copy()
            up[i] += e
            if central:
                dn[i] -= e
                h[:, i] = (self.value_grad(up)[1] - self.value_grad(dn)[1]) / (2 * e)
            else:
                h[:, i] = (self.value_grad(up)[1] - g0) / e
        return (h + h.T) / 2


def cml(codes: np.ndarray, ncat: list[int], *, tol: float = 1e-10, max_iter: int = 200,
        se: bool = True) -> CMLFit:
    """Conditional ML of the cumulative thresholds (the first fixed at 0)."""
    prob = _CML(codes, ncat)
    # start: log odds of the category totals (each item's against its category below)
    tot = [np.full(k, 0.5) for k in prob.ncat]
    for items, _, cnt in prob.groups:
        for i, j in enumerate(items):
            tot[j] += cnt[i]
    start = np.zeros(prob.n_eta)
    for j, k in enumerate(prob.ncat):
        o = prob.offset[j]
        start[o:o + k - 1] = np.cumsum(np.log(tot[j][:-1] / tot[j][1:]))
    free = start[1:] - start[0]
    ll, g = prob.value_grad(free)
    converged = False
    it = 0
    h = None
    moved = np.inf
    t = 1.0
    for it in range(1, max_iter + 1):  # noqa: B007
        # the Hessian (p + 1 gradients) is kept while full steps are taken (chord steps)
        if h is None or t < 1.0:
            h = prob.hessian(free, central=False)
        try:
            step = np.linalg.solve(h, -g)
        except np.linalg.LinAlgError:
            break
        big = np.max(np.abs(step)) if step.size else 0.0
        if big > 2.0:
            step *= 2.0 / big
        t = 1.0
        for _ in range(30):
            new = free + t * step
            ll2, g2 = prob.value_grad(new)
            if ll2 >= ll - 1e-12 * abs(ll):
                break
            t *= 0.5
        moved = float(np.max(np.abs(t * step))) if step.size else 0.0
        free, ll, g = new, ll2, g2
        if moved < tol:
            converged = True
            break
    cov = None
    if se:
        h = prob.hessian(free)
        try:
            cov = np.linalg.inv(-h)
            if np.any(np.diag(cov) <= 0):
                cov = None
        except np.linalg.LinAlgError:
            cov = None
    return CMLFit(eta=prob.full(free), cov=cov, loglik=ll, iterations=it,
                  converged=converged)
