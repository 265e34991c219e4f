"""The CFA model in matrix form and the normal-theory (ML) discrepancy (stats layer).

LISREL "all-y" representation of one group (block), as lavaan:

    Sigma = Lambda A Psi A' Lambda' + Theta,    A = (I - B)^-1
    mu    = nu + Lambda A alpha                 (only with a mean structure)

``MatrixModel`` maps the free parameters of a :class:`~psychoval.framework._partable.ParTable`
into these matrices and gives the implied moments and their analytic derivatives (``dsigma``:
a (q, p, p) array, ``dmu``: (q, p)). ``MLDiscrepancy`` is the ML fit function of one group with
its analytic gradient and expected (Fisher) information; these are the pieces FIML, MLR and
multi-group estimation reuse (a multi-group fit sums ``n_g / N``-weighted group pieces).

Numbers follow lavaan 0.6.14: ``fmin = F_ML / 2`` with the biased (divisor N) sample covariance,
``chisq = 2 N fmin``, and the unit expected information ``I = Delta' W Delta`` with
``W = 1/2 D'(Sigma^-1 (x) Sigma^-1) D`` (plus ``Sigma^-1`` for the means), so that the
covariance of the estimates is ``I^-1 / N``.
"""

from __future__ import annotations

import numpy as np

from psychoval.framework._partable import ParTable

__all__ = ["MatrixModel", "MLDiscrepancy", "LAMBDA", "BETA", "PSI", "THETA", "NU", "ALPHA"]

LAMBDA, BETA, PSI, THETA, NU, ALPHA = range(6)
MATRIX_NAMES = ("lambda", "beta", "psi", "theta", "nu", "alpha")


class MatrixModel:
    """Free parameters <-> model matrices for one group of a parameter table."""

    def __init__(self, pt: ParTable, group: int = 1):
        self.pt = pt
        self.ov = pt.observed
        self.lv = pt.latent
        p, m = len(self.ov), len(self.lv)
        self.p, self.m = p, m
        self.q = pt.n_free
        self.meanstructure = pt.meanstructure
        ovi = {n: i for i, n in enumerate(self.ov)}
        lvi = {n: i for i, n in enumerate(self.lv)}
        mat, row, col = [], [], []
        for lhs, op, rhs, g in zip(pt.lhs, pt.op, pt.rhs, pt.group, strict=True):
            if g != group:
                mat.append(-1), row.append(0), col.append(0)
                continue
            if op == "=~":
                if rhs in lvi:
                    mat.append(BETA), row.append(lvi[rhs]), col.append(lvi[lhs])
                else:
                    mat.append(LAMBDA), row.append(ovi[rhs]), col.append(lvi[lhs])
            elif op == "~":
                mat.append(BETA), row.append(lvi[lhs]), col.append(lvi[rhs])
            elif op == "~~":
                if lhs in lvi:
                    mat.append(PSI), row.append(lvi[lhs]), col.append(lvi[rhs])
                else:
                    mat.append(THETA), row.append(ovi[lhs]), col.append(ovi[rhs])
            elif op == "~1":
                if lhs in lvi:
                    mat.append(ALPHA), row.append(lvi[lhs]), col.append(0)
                else:
                    mat.append(NU), row.append(ovi[lhs]), col.append(0)
            else:  # pragma: no cover - build_partable rejects other operators
                raise ValueError(op)
        self.mat = np.array(mat, dtype=int)
        self.row = np.array(row, dtype=int)
        self.col = np.array(col, dtype=int)
        self.free = np.array(pt.free, dtype=int)
        ustart = np.array(pt.ustart, dtype=float)
        self.base = [np.zeros((p, m)), np.zeros((m, m)), np.zeros((m, m)), np.zeros((p, p)),
                     np.zeros(p), np.zeros(m)]
        fixed = (self.free == 0) & (self.mat >= 0)
        for r in np.flatnonzero(fixed):
            self._put(self.base, self.mat[r], self.row[r], self.col[r], ustart[r])
        # free rows by matrix: (row index in table, parameter index 0-based, r, c)
        self.sel = {}
        for k in range(6):
            idx = np.flatnonzero((self.mat == k) & (self.free > 0))
            self.sel[k] = (self.free[idx] - 1, self.row[idx], self.col[idx])

    @staticmethod
    def _put(mats, k, r, c, v):
        if k in (NU, ALPHA):
            mats[k][r] = v
        else:
            mats[k][r, c] = v
            if k in (PSI, THETA):
                mats[k][c, r] = v

    def matrices(self, x: np.ndarray) -> list[np.ndarray]:
        """[Lambda, Beta, Psi, Theta, nu, alpha] at parameters ``x`` (complex x allowed)."""
        dt = np.result_type(x, float)
        mats = [b.astype(dt) for b in self.base]
        for k in range(6):
            kk, r, c = self.sel[k]
            if len(kk) == 0:
                continue
            if k in (NU, ALPHA):
                mats[k][r] = x[kk]
            else:
                mats[k][r, c] = x[kk]
                if k in (PSI, THETA):
                    mats[k][c, r] = x[kk]
        return mats

    def x_from_table(self, values) -> np.ndarray:
        """The free-parameter vector from per-row values (first row of each index wins)."""
        x = np.zeros(self.q)
        v = np.asarray(values, dtype=float)
        for i in range(len(self.free) - 1, -1, -1):
            if self.free[i] > 0:
                x[self.free[i] - 1] = v[i]
        return x

    def row_values(self, x: np.ndarray) -> np.ndarray:
        """Per-row values of the table (fixed rows keep their fixed value)."""
        out = np.array(self.pt.ustart, dtype=np.result_type(x, float))
        f = self.free > 0
        out[f] = x[self.free[f] - 1]
        return out

    def parts(self, x):
        """(mats, A, LA, V) with A = (I-B)^-1, LA = Lambda A, V = A Psi A' (factor covariance)."""
        mats = self.matrices(x)
        lam, beta, psi = mats[LAMBDA], mats[BETA], mats[PSI]
        if self.sel[BETA][0].size or np.any(beta != 0):
            a = np.linalg.inv(np.eye(self.m) - beta)
        else:
            a = np.eye(self.m, dtype=lam.dtype)
        la = lam @ a
        v = a @ psi @ a.T
        return mats, a, la, v

    def implied(self, x):
        """(Sigma, mu); mu is None without a mean structure."""
        mats, a, la, v = self.parts(x)
        sigma = la @ mats[PSI] @ la.T + mats[THETA]
        mu = mats[NU] + la @ mats[ALPHA] if self.meanstructure else None
        return sigma, mu

    def dsigma(self, x) -> np.ndarray:
        """d Sigma / d x as a (q, p, p) array (analytic)."""
        mats, a, la, v = self.parts(x)
        lam = mats[LAMBDA]
        lv = lam @ v
        p = self.p
        d = np.zeros((self.q, p, p), dtype=lv.dtype)
        k, i, j = self.sel[LAMBDA]
        if k.size:
            np.add.at(d, (k, i), lv[:, j].T)
            np.add.at(d, (k, slice(None), i), lv[:, j].T)
        k, i, j = self.sel[THETA]
        if k.size:
            np.add.at(d, (k, i, j), 1.0)
            off = i != j
            np.add.at(d, (k[off], j[off], i[off]), 1.0)
        k, i, j = self.sel[PSI]
        if k.size:
            o = np.einsum("pn,qn->npq", la[:, i], la[:, j])
            off = i != j
            o[off] += np.transpose(o[off], (0, 2, 1))
            np.add.at(d, k, o)
        k, i, j = self.sel[BETA]
        if k.size:
            o = np.einsum("pn,qn->npq", la[:, i], lv[:, j])
            o += np.transpose(o, (0, 2, 1))
            np.add.at(d, k, o)
        return d

    def xy(self, x):
        """(X, Y, k): d Sigma / d theta of free row r is X[:, r] Y[:, r]' + Y[:, r] X[:, r]',
        and row r belongs to parameter k[r] (rows sharing a label share a parameter)."""
        mats, a, la, v = self.parts(x)
        lv = mats[LAMBDA] @ v
        eye = np.eye(self.p)
        xs, ys, ks = [], [], []
        k, i, j = self.sel[LAMBDA]
        xs.append(eye[:, i]), ys.append(lv[:, j]), ks.append(k)
        k, i, j = self.sel[THETA]
        xs.append(eye[:, i]), ys.append(eye[:, j] * np.where(i == j, 0.5, 1.0)), ks.append(k)
        k, i, j = self.sel[PSI]
        xs.append(la[:, i]), ys.append(la[:, j] * np.where(i == j, 0.5, 1.0)), ks.append(k)
        k, i, j = self.sel[BETA]
        xs.append(la[:, i]), ys.append(lv[:, j]), ks.append(k)
        dt = np.result_type(*xs, *ys)
        return (np.concatenate(xs, axis=1).astype(dt, copy=False),
                np.concatenate(ys, axis=1).astype(dt, copy=False), np.concatenate(ks))

    @property
    def incidence(self):
        """(rows x q) 0/1 matrix mapping free covariance-structure rows to parameters, or None
        when every free row is its own parameter in order."""
        if not hasattr(self, "_inc"):
            ks = np.concatenate([self.sel[k][0] for k in (LAMBDA, THETA, PSI, BETA)])
            if len(ks) == self.q and np.array_equal(ks, np.arange(self.q)):
                self._inc = None
            else:
                inc = np.zeros((len(ks), self.q))
                inc[np.arange(len(ks)), ks] = 1.0
                self._inc = inc
        return self._inc

    def hess_moments(self, x, g_mu, gm) -> np.ndarray | None:
        """The Hessian of ``x -> tr(G Sigma(x)) + g_mu' mu(x)`` (G = ``gm`` symmetric, fixed)
        over the free parameters, analytic for models without regressions (second-order
        factors): only loading x loading (``2 G_ij Psi_ab``), loading x factor (co)variance
        and loading x latent mean pairs are non-zero. None with regressions."""
        if self.sel[BETA][0].size:
            return None
        mats = self.matrices(x)
        lam, psi = mats[LAMBDA], mats[PSI]
        q = self.q
        h = np.zeros((q, q))
        kl, il, al = self.sel[LAMBDA]
        if not kl.size:
            return h
        blk = 2.0 * gm[np.ix_(il, il)] * psi[np.ix_(al, al)]
        np.add.at(h, (kl[:, None], kl[None, :]), blk)
        kp, bp, cp = self.sel[PSI]
        if kp.size:
            gl = gm @ lam  # (p, m)
            # d^2 / d lambda_ia d psi_bc = 2 (G Lambda)_ib [c == a] + 2 (G Lambda)_ic [b == a]
            # (the second only for b != c: the parameter fills both triangles)
            v = 2.0 * gl[np.ix_(il, bp)] * (cp[None, :] == al[:, None])
            v += 2.0 * gl[np.ix_(il, cp)] * ((bp[None, :] == al[:, None])
                                             & (bp != cp)[None, :])
            np.add.at(h, (kl[:, None], kp[None, :]), v)
            np.add.at(h, (kp[None, :], kl[:, None]), v)
        ka, ba, _ = self.sel[ALPHA]
        if ka.size and g_mu is not None:
            v = g_mu[il][:, None] * (ba[None, :] == al[:, None])
            np.add.at(h, (kl[:, None], ka[None, :]), v)
            np.add.at(h, (ka[None, :], kl[:, None]), v)
        return h

    def dmu(self, x) -> np.ndarray:
        """d mu / d x as a (q, p) array (zero without a mean structure)."""
        d = np.zeros((self.q, self.p))
        if not self.meanstructure:
            return d
        mats, a, la, v = self.parts(x)
        aal = a @ mats[ALPHA]
        k, i, _ = self.sel[NU]
        np.add.at(d, (k, i), 1.0)
        k, i, j = self.sel[LAMBDA]
        np.add.at(d, (k, i), aal[j])
        k, i, _ = self.sel[ALPHA]
        if k.size:
            np.add.at(d, k, la[:, i].T)
        k, i, j = self.sel[BETA]
        if k.size:
            np.add.at(d, k, (la[:, i] * aal[j]).T)
        return d


class MLDiscrepancy:
    """Normal-theory ML discrepancy of one group with complete data.

    ``F(x) = log|Sigma| + tr(S Sigma^-1) - log|S| - p [+ (ybar - mu)' Sigma^-1 (ybar - mu)]``
    with S the covariance with divisor N. ``fmin = F / 2`` as lavaan reports it.
    """

    def __init__(self, model: MatrixModel, cov: np.ndarray, nobs: int,
                 mean: np.ndarray | None = None):
        self.model = model
        self.s = np.asarray(cov, dtype=float)
        self.n = int(nobs)
        self.mean = mean
        sign, logdet = np.linalg.slogdet(self.s)
        self.logdet_s = logdet if sign > 0 else np.nan

    def _chol(self, sigma):
        try:
            return np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return None

    def value(self, x) -> float:
        """F_ML at x (inf where Sigma is not positive definite)."""
        sigma, mu = self.model.implied(x)
        c = self._chol(sigma)
        if c is None:
            return np.inf
        logdet = 2.0 * np.log(np.diag(c)).sum()
        sinv = np.linalg.inv(sigma)
        f = logdet + np.sum(self.s * sinv) - self.logdet_s - self.model.p
        if mu is not None and self.mean is not None:
            r = self.mean - mu
            f += r @ sinv @ r
        return float(f)

    def pieces(self, x, hessian: bool = True):
        """(F, gradient of F, H = expected Hessian of F = 2 x unit information, Sigma^-1).

        Every d Sigma / d theta_a of this model is x_a y_a' + y_a x_a' (``MatrixModel.xy``),
        so ``g_a = 2 x_a' R y_a`` with ``R = Sigma^-1 - Sigma^-1 S Sigma^-1`` and
        ``H_ab = tr(Sigma^-1 dSigma_a Sigma^-1 dSigma_b) = 2 (C o C' + (Y'MY) o (X'MX))``,
        ``C = Y'MX``, ``M = Sigma^-1``: O(q^2 p) work instead of O(q^2 p^2).
        """
        m = self.model
        sigma, mu = m.implied(x)
        c = self._chol(sigma)
        if c is None:
            return np.inf, None, None, None
        sinv = np.linalg.inv(sigma)
        sinv = 0.5 * (sinv + sinv.T)
        f = 2.0 * np.log(np.diag(c)).sum() + np.sum(self.s * sinv) - self.logdet_s - m.p
        s_eff = self.s
        dm = None
        if mu is not None and self.mean is not None:
            r = self.mean - mu
            f += r @ sinv @ r
            s_eff = self.s + np.outer(r, r)
            dm = m.dmu(x)
        rr = sinv - sinv @ s_eff @ sinv
        xm, ym, kk = m.xy(x)
        g_rows = 2.0 * np.einsum("pr,pr->r", xm, rr @ ym)
        g = np.bincount(kk, weights=g_rows, minlength=m.q)
        if dm is not None:
            g -= 2.0 * dm @ (sinv @ r)
        if not hessian:
            return float(f), g, None, sinv
        mx = sinv @ xm
        my = sinv @ ym
        cc = ym.T @ mx
        h_rows = 2.0 * (cc * cc.T + (ym.T @ my) * (xm.T @ mx))
        inc = m.incidence
        h = h_rows if inc is None else inc.T @ h_rows @ inc
        if dm is not None:
            h = h + 2.0 * dm @ sinv @ dm.T
        return float(f), g, 0.5 * (h + h.T), sinv

    def gradient(self, x) -> np.ndarray:
        return self.pieces(x)[1]

    def information(self, x) -> np.ndarray:
        """Unit expected information of the log-likelihood (lavaan's information='expected')."""
        return 0.5 * self.pieces(x)[2]

    def loglik(self, x) -> float:
        """Log-likelihood of the sample under the model at x."""
        p = self.model.p
        return -0.5 * self.n * (p * np.log(2 * np.pi) + self.value(x) + self.logdet_s + p)

    def loglik_saturated(self) -> float:
        p = self.model.p
        return -0.5 * self.n * (p * np.log(2 * np.pi) + self.logdet_s + p)
