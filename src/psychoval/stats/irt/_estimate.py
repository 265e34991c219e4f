"""Marginal maximum likelihood of IRT item parameters: Bock-Aitkin EM, then Newton polish.

The data are collapsed to their distinct response patterns (with counts) and coded as one
indicator column per item category (a missing response has no indicator, so it drops out of
the product of the likelihood). With fixed quadrature nodes theta_q and prior weights pi_q:

- E-step: log L_mq = sum_c Y_mc log P_c(theta_q), the posterior of pattern m over the nodes,
  the marginal log-likelihood sum_m w_m log sum_q pi_q L_mq and the expected counts
  r_qc = sum_m w_m post_mq Y_mc (one matrix product each way).
- M-step: Fisher scoring of sum_qc r_qc log P_c(theta_q) over all items at once (the item
  blocks are independent unless a common slope ties them; the free parameters map onto the
  item parameters through a matrix ``A``), with step halving.
- Polish: once EM has slowed, Newton steps on the marginal log-likelihood itself, with its
  analytic gradient (Fisher's identity, the M-step gradient at the current posterior) and the
  cross-product of the per-pattern scores as the Hessian (Berndt et al., 1974), until the
  step is below ``tol``.
- Standard errors: the observed information, by central differences of the analytic
  gradient of the marginal log-likelihood.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from psychoval.stats.irt import _models

__all__ = ["Block", "Problem", "quadrature", "fit", "observed_information", "estep"]

_TINY = 1e-300
# Newton polish with the observed Hessian (2p gradients a step) when parameters x patterns
# is at most this; with the cross-product of the pattern scores above it
_EXACT_NEWTON = 20_000
# an item parameter beyond this runs to infinity (a slope of an item that is nearly a copy of
# another, an intercept of an item almost everyone passes): the fit stops, not converged
DIVERGED = 60.0


def quadrature(kind: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and normalised N(0, 1) weights: Gauss-Hermite or equally spaced on [-6, 6]."""
    if kind == "gauss_hermite":
        x, w = np.polynomial.hermite_e.hermegauss(n)
        return x, w / w.sum()
    x = np.linspace(-6.0, 6.0, n)
    w = np.exp(-0.5 * x * x)
    return x, w / w.sum()


@dataclasses.dataclass
class Block:
    """Items of one kind and one number of categories."""

    kind: str
    k: int
    items: np.ndarray  # positions among the items, (J,)
    cols: np.ndarray  # indicator columns, (J, K)
    pidx: np.ndarray  # positions in the flat item-parameter vector, (J, p)


@dataclasses.dataclass
class Problem:
    blocks: list[Block]
    A: np.ndarray  # item parameters = A @ phi + b0
    b0: np.ndarray
    Y: np.ndarray  # (m, C) indicators of the distinct patterns
    w: np.ndarray  # (m,) pattern counts
    nodes: np.ndarray
    logpi: np.ndarray
    guess_prior: tuple[float, float] | None = None
    lower: np.ndarray | None = None  # bounds of the free parameters (3PL: logit guessing)
    upper: np.ndarray | None = None

    def clip(self, phi: np.ndarray) -> np.ndarray:
        if self.lower is None:
            return phi
        return np.clip(phi, self.lower, self.upper)

    def __post_init__(self) -> None:
        # the E-step works with the indicators of the categories above the lowest (C' =
        # sum (K_j - 1) columns) and, when responses are missing, the items answered: the
        # lowest category's indicator is answered minus the others (half the work for 0/1)
        ncol = self.Y.shape[1]
        base = np.empty(ncol, dtype=int)
        item = np.empty(ncol, dtype=int)
        for b in self.blocks:
            base[b.cols] = b.cols[:, :1]
            item[b.cols] = b.items[:, None]
        firsts = np.unique(base)
        self._red = np.setdiff1d(np.arange(ncol), firsts)
        self._red_base = base[self._red]
        k = firsts.size
        order = np.argsort(item[firsts])
        self._base = firsts[order]  # lowest-category column of each item, in item order
        self._red_item = np.searchsorted(item[self._base], item[self._red])
        self._yr = np.ascontiguousarray(self.Y[:, self._red])
        obs = np.zeros((self.Y.shape[0], k))
        for b in self.blocks:
            obs[:, b.items] = np.stack([self.Y[:, c].sum(axis=1) for c in b.cols], axis=1)
        self._obs = None if np.all(obs == 1.0) else obs
        self._yo = None if self._obs is None else np.ascontiguousarray(
            np.concatenate([self._yr, obs], axis=1))
        self._collapse = np.zeros((self._red.size, k))
        self._collapse[np.arange(self._red.size), self._red_item] = 1.0
        self.identity = self.A.shape[0] == self.A.shape[1] and bool(
            np.all(self.A == np.eye(self.A.shape[0])))

    def item_params(self, phi: np.ndarray) -> np.ndarray:
        return self.A @ phi + self.b0

    def logp(self, phi: np.ndarray) -> np.ndarray:
        """log P of every indicator column at every node, (Q, C)."""
        beta = self.item_params(phi)
        out = np.empty((self.nodes.size, self.Y.shape[1]))
        for b in self.blocks:
            p = _models.probs(b.kind, beta[b.pidx], self.nodes, b.k)
            out[:, b.cols] = np.log(np.maximum(p, _TINY)).transpose(1, 0, 2)
        return out

    def prior(self, phi: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log prior of the guessing parameters, its gradient and minus its Hessian (free)."""
        p = self.A.shape[1]
        if self.guess_prior is None:
            return 0.0, np.zeros(p), np.zeros((p, p))
        al, be = self.guess_prior
        beta = self.item_params(phi)
        val, g, h = 0.0, np.zeros(beta.size), np.zeros(beta.size)
        for b in self.blocks:
            if b.kind != "3pl":
                continue
            gi = b.pidx[:, 2]
            c = 1.0 / (1.0 + np.exp(-beta[gi]))
            val += float(np.sum((al - 1) * np.log(c) + (be - 1) * np.log1p(-c)))
            g[gi] = (al - 1) * (1 - c) - (be - 1) * c
            h[gi] = (al + be - 2) * c * (1 - c)
        return val, self.A.T @ g, self.A.T @ (h[:, None] * self.A)


def estep(prob: Problem, phi: np.ndarray, *, posterior: bool = False):
    """Marginal log-likelihood, expected counts r (Q, C) and optionally the posterior."""
    lp = prob.logp(phi)
    low = lp[:, prob._base]  # (Q, k) log P of each item's lowest category
    if prob._obs is None:
        ll = prob._yr @ (lp[:, prob._red] - lp[:, prob._red_base]).T
        ll += prob.logpi + low.sum(axis=1)
    else:  # [Y_r, obs] [log P_r - log P_base, log P_base]' in one product
        ll = prob._yo @ np.concatenate([lp[:, prob._red] - lp[:, prob._red_base], low],
                                       axis=1).T
        ll += prob.logpi
    mx = ll.max(axis=1, keepdims=True)
    np.subtract(ll, mx, out=ll)
    # posterior weights below exp(-600) relative to the largest are set to 0: subnormal
    # numbers would slow every later product by a factor of 100 and weigh nothing
    np.maximum(ll, -600.0, out=ll)
    np.exp(ll, out=ll)
    ll[ll < 1e-250] = 0.0
    s = ll.sum(axis=1)
    loglik = float(prob.w @ (np.log(s) + mx[:, 0]))
    ll *= (prob.w / s)[:, None]  # posterior times the pattern counts
    if prob._obs is not None:
        both = ll.T @ prob._yo  # (Q, C' + k)
        rr, nobs = both[:, :prob._yr.shape[1]], both[:, prob._yr.shape[1]:]
    else:
        rr = ll.T @ prob._yr  # (Q, C')
        nobs = np.repeat(ll.sum(axis=0)[:, None], prob._base.size, axis=1)
    r = np.empty((lp.shape[0], prob.Y.shape[1]))
    r[:, prob._red] = rr
    r[:, prob._base] = nobs - rr @ prob._collapse
    if not posterior:
        return loglik, r
    ll *= (1.0 / prob.w)[:, None]
    return loglik, r, ll


def _derivs(prob: Problem, phi: np.ndarray, r: np.ndarray, info: bool = True):
    """Gradient and Fisher information (free parameters) of sum_qc r_qc log P_c."""
    beta = prob.item_params(phi)
    g = np.zeros(beta.size)
    h = np.zeros((beta.size, beta.size)) if info else None
    comp = 0.0
    for b in prob.blocks:
        p, dp = _models.probs_derivs(b.kind, beta[b.pidx], prob.nodes, b.k)
        p = np.maximum(p, _TINY)
        rb = r[:, b.cols].transpose(1, 0, 2)  # (J, Q, K)
        comp += float(np.sum(rb * np.log(p)))
        g_items = np.einsum("jqk,jqkp->jp", rb / p, dp)
        g[b.pidx.ravel()] += g_items.ravel()
        if info:
            n = rb.sum(axis=2)  # (J, Q)
            ib = np.einsum("jq,jqkp,jqks->jps", n, dp / p[..., None], dp)
            for jj in range(b.pidx.shape[0]):
                ix = b.pidx[jj]
                h[np.ix_(ix, ix)] += ib[jj]
    gf = prob.A.T @ g
    hf = prob.A.T @ h @ prob.A if info else None
    return comp, gf, hf


def gradient(prob: Problem, phi: np.ndarray) -> tuple[float, np.ndarray]:
    """Marginal log-likelihood (+ log prior) and its analytic gradient (Fisher's identity)."""
    loglik, r = estep(prob, phi)
    _, g, _ = _derivs(prob, phi, r, info=False)
    lp, gp, _ = prob.prior(phi)
    return loglik + lp, g + gp


def _valid(prob: Problem, phi: np.ndarray) -> bool:
    beta = prob.item_params(phi)
    if not np.all(np.isfinite(beta)):
        return False
    for b in prob.blocks:
        if b.kind == "grm" and b.k > 2 and np.any(np.diff(beta[b.pidx][:, 1:], axis=1) >= 0):
            return False
    return True


def _mstep(prob: Problem, phi: np.ndarray, r: np.ndarray, steps: int = 3) -> np.ndarray:
    for _ in range(steps):
        comp, g, h = _derivs(prob, phi, r)
        lp, gp, hp = prob.prior(phi)
        g, h, comp = g + gp, h + hp, comp + lp
        try:
            delta = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            delta = np.linalg.lstsq(h, g, rcond=None)[0]
        big = np.max(np.abs(delta))
        if big > 3.0:
            delta *= 3.0 / big
        t = 1.0
        for _ in range(30):
            new = prob.clip(phi + t * delta)
            if _valid(prob, new):
                c2, _, _ = _derivs(prob, new, r, info=False)
                if c2 + prob.prior(new)[0] >= comp - 1e-12 * abs(comp):
                    break
            t *= 0.5
        else:
            return phi
        moved = np.max(np.abs(new - phi))
        phi = new
        if moved < 1e-10:
            break
    return phi


def crossproduct(prob: Problem, phi: np.ndarray, post: np.ndarray, chunk: int = 16384
                 ) -> np.ndarray:
    """Weighted cross-product of the per-pattern scores (free parameters), (p, p).

    The score of pattern m is sum_q post_mq d log P(x_m | theta_q). For the divide-by-total
    items (2PL, GPCM and their common-slope forms) it is, per item, x E[theta] - E[theta
    sum_l l P_l] for the slope and 1{x = v} - E[P_v] for the intercepts (two products
    with the posterior); other kinds go through the general form."""
    beta = prob.item_params(phi)
    pf = prob.A.shape[1]
    xpd = np.zeros((pf, pf))
    nodes = prob.nodes
    pre = []
    for b in prob.blocks:
        p, dp = _models.probs_derivs(b.kind, beta[b.pidx], nodes, b.k, deriv=b.kind != "gpcm")
        if b.kind == "gpcm":  # (Q, J): theta sum_l l P_l; (Q, J (K-1)): P_v, v >= 1
            mean = (p * np.arange(b.k)[None, None, :]).sum(axis=2)
            pre.append((np.ascontiguousarray((mean * nodes[None, :]).T),
                        np.ascontiguousarray(p[:, :, 1:].transpose(1, 0, 2)).reshape(
                            nodes.size, -1)))
        else:
            gq = dp / np.maximum(p, _TINY)[..., None]  # (J, Q, K, p)
            pre.append(np.ascontiguousarray(gq.transpose(1, 0, 2, 3)).reshape(nodes.size, -1))
    m = prob.Y.shape[0]
    for lo in range(0, m, chunk):
        sl = slice(lo, min(m, lo + chunk))
        s_items = np.zeros((sl.stop - lo, beta.size))
        pw = post[sl]
        eth = pw @ nodes
        for b, pr in zip(prob.blocks, pre, strict=True):
            j, p = b.pidx.shape
            y = prob.Y[sl][:, b.cols]  # (m, J, K)
            if b.kind == "gpcm":
                obs = y.sum(axis=2)
                code = (y * np.arange(b.k)[None, None, :]).sum(axis=2)
                s_items[:, b.pidx[:, 0]] = code * eth[:, None] - obs * (pw @ pr[0])
                pv = (pw @ pr[1]).reshape(-1, j, b.k - 1)
                s_items[:, b.pidx[:, 1:].ravel()] = (y[:, :, 1:] - obs[:, :, None] * pv
                                                     ).reshape(-1, j * (b.k - 1))
                continue
            t = (pw @ pr).reshape(-1, j, b.k, p)
            acc = t[:, :, 0, :] * y[:, :, 0, None]
            for c in range(1, b.k):
                acc += t[:, :, c, :] * y[:, :, c, None]
            s_items[:, b.pidx.ravel()] = acc.reshape(-1, j * p)
        if not prob.identity:
            s_items = s_items @ prob.A
        sc = np.asfortranarray(s_items * np.sqrt(prob.w[sl])[:, None])
        xpd += sc.T @ sc
    return xpd


@dataclasses.dataclass
class FitInfo:
    phi: np.ndarray
    loglik: float
    iterations: int
    em_iterations: int
    converged: bool
    max_step: float
    max_gradient: float



def _em(prob: Problem, phi: np.ndarray, it: int, max_iter: int, stop: float
        ) -> tuple[np.ndarray, int, float, bool]:
    """EM steps from iteration ``it`` until the largest change is below ``stop``, an item
    parameter runs past ``DIVERGED`` or ``max_iter``: (phi, it, last change, diverged)."""
    step = math.inf
    while it < max_iter:
        _, r = estep(prob, phi)
        new = _mstep(prob, phi, r)
        it += 1
        step = float(np.max(np.abs(new - phi))) if new.size else 0.0
        phi = new
        if step < stop:
            return phi, it, step, False
        if np.max(np.abs(prob.item_params(phi))) > DIVERGED:
            return phi, it, step, True
    return phi, it, step, False

def fit(prob: Problem, phi: np.ndarray, *, tol: float = 1e-8, max_iter: int = 2000,
        em_switch: float = 1e-2) -> FitInfo:
    """EM until the largest change is below ``em_switch``, then Newton (BHHH) polish to
    ``tol``; if the polish stalls, EM goes on to ``tol``."""
    phi, it, step, diverged = _em(prob, phi, 0, max_iter, em_switch)
    em_it = it
    if diverged:
        return _finish(prob, phi, it, em_it, step, False)
    # polish: Newton steps on the marginal log-likelihood; the E-step at the new point also
    # serves the next step, so a step costs one E-step (and one more per halving)
    polished = False
    loglik, r, post = estep(prob, phi, posterior=True)
    xpd = obs = None
    last = math.inf
    while it < max_iter:
        _, g, _ = _derivs(prob, phi, r, info=False)
        lp, gp, hp = prob.prior(phi)
        g = g + gp
        cur = loglik + lp
        act = np.ones(phi.size, bool)
        if prob.lower is not None:  # a parameter at its bound stays there
            act = ~(((phi <= prob.lower + 1e-9) & (g < 0)) | ((phi >= prob.upper - 1e-9)
                                                              & (g > 0)))
        hess = None
        if phi.size * prob.Y.shape[0] <= _EXACT_NEWTON:  # small: the observed Hessian,
            if obs is None or last > 1e-3:  # kept while the steps are small (chord steps)
                obs = observed_information(prob, phi)
            hess = obs
            try:
                np.linalg.cholesky(hess[np.ix_(act, act)])
            except np.linalg.LinAlgError:
                hess = obs = None
        if hess is None:  # large (or not concave here): the cross-product (BHHH), kept
            if xpd is None or last > 1e-3:  # while the steps are small (chord steps)
                xpd = crossproduct(prob, phi, post)
            hess = xpd + hp
        delta = np.zeros(phi.size)
        try:
            delta[act] = np.linalg.solve(hess[np.ix_(act, act)], g[act])
        except np.linalg.LinAlgError:
            break
        it += 1
        t = 1.0
        accepted = False
        for _ in range(20):
            new = prob.clip(phi + t * delta)
            if _valid(prob, new):
                out = estep(prob, new, posterior=True)
                if out[0] + prob.prior(new)[0] >= cur - 1e-13 * abs(cur):
                    accepted = True
                    break
            t *= 0.5
        if not accepted:
            break
        step = float(np.max(np.abs(new - phi))) if delta.size else 0.0
        last = step if t == 1.0 else math.inf
        phi = new
        loglik, r, post = out
        if step < tol:
            polished = True
            break
    if not polished:  # EM to the end
        start = it
        phi, it, step, _ = _em(prob, phi, it, max_iter, tol)
        em_it += it - start
    return _finish(prob, phi, it, em_it, step, bool(step < tol or polished))


def _finish(prob: Problem, phi: np.ndarray, it: int, em_it: int, step: float,
            converged: bool) -> FitInfo:
    loglik, g = gradient(prob, phi)
    return FitInfo(phi=phi, loglik=loglik - prob.prior(phi)[0], iterations=it,
                   em_iterations=em_it, converged=converged, max_step=step,
                   max_gradient=float(np.max(np.abs(g))) if g.size else 0.0)


def observed_information(prob: Problem, phi: np.ndarray) -> np.ndarray:
    """Minus the Hessian of the marginal log-likelihood (+ log prior), by central differences
    of its analytic gradient, symmetrised."""
    p = phi.size
    h = np.empty((p, p))
    for i in range(p):
        e = 1e-5 * max(1.0, abs(phi[i]))
        up, dn = phi.copy(), phi.copy()
        up[i] += e
        dn[i] -= e
        h[:, i] = (gradient(prob, up)[1] - gradient(prob, dn)[1]) / (2 * e)
    return -(h + h.T) / 2
