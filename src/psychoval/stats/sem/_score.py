"""Score tests of releasing across-group equality constraints (lavaan's ``lavTestScore``).

A multi-group ML / FIML fit with ``group_equal`` shares one parameter among the groups for
each constrained row. Releasing the constraint of a row set means giving groups 2..G their
own value: ``theta_g = theta_1 + delta_g``. At the constrained estimates the gradient of the
fit function in the shared parameters is zero, so the score test of ``delta = 0`` is the
modification index of the ``G - 1`` new parameters (Sorbom 1989):
``T = N g_d' (I_dd - I_dm I_mm^-1 I_md)^-1 g_d`` on ``G - 1`` df, with the unit expected
information (N_g / N weighted) as ``modindices()``. With two groups this is lavaan 0.6.14's
``lavTestScore(fit)`` univariate test of the constraint (its default ``information =
"expected"``; under MLR lavaan also falls back to this ordinary score test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from psychoval.stats.sem import _fiml
from psychoval.stats.sem._model import MatrixModel, MLDiscrepancy

__all__ = ["equality_score_tests"]


def equality_score_tests(fit) -> pd.DataFrame:
    """One row per constrained row set of a multi-group ``CFAResult``: ``lhs``, ``op``,
    ``rhs``, ``x2`` (the score statistic), ``df`` (G - 1), ``pvalue``; in the table's
    order. Empty for a fit without equality constraints across groups."""
    pt = fit._pt
    cols = ["lhs", "op", "rhs", "x2", "df", "pvalue"]
    free = np.asarray(pt.free)
    grp = np.asarray(pt.group)
    q = pt.n_free
    # the shared index of each constrained row set: a free index used by rows of several groups
    sets: list[tuple[int, list[int]]] = []  # (free index, [row of group g] for g = 2..G)
    for idx in range(1, q + 1):
        rows = np.flatnonzero(free == idx)
        if len(rows) < 2 or len(set(grp[rows])) < 2:
            continue
        first = rows[grp[rows] == grp[rows].min()][0]
        later = [int(r) for r in rows if grp[r] != grp[first]]
        sets.append((idx, [int(first)] + later))
    if not sets:
        return pd.DataFrame(columns=cols)
    # untied table: every later-group row of a set gets its own index
    new_free = free.copy()
    k = q
    untie: list[tuple[int, int]] = []  # (untied index, shared index), both 1-based
    for idx, rows in sets:
        for r in rows[1:]:
            k += 1
            new_free[r] = k
            untie.append((k, idx))
    ext = pt.replace(free=tuple(int(f) for f in new_free))
    xu = np.concatenate([fit._x, [fit._x[s - 1] for _, s in untie]])
    g, info = score_pieces(ext, fit._blocks, xu)
    # reparameterize: untied = shared + delta  ->  J maps (x, delta) to the untied vector
    jac = np.zeros((k, k))
    jac[:q, :q] = np.eye(q)
    for j, (u, s) in enumerate(untie):
        jac[u - 1, s - 1] = 1.0
        jac[u - 1, q + j] = 1.0
    g2 = jac.T @ g
    i2 = jac.T @ info @ jac
    mdl = np.arange(q)
    i_mm_inv = np.linalg.pinv(i2[np.ix_(mdl, mdl)])
    out = []
    pos = q
    for _idx, rows in sets:
        e = np.arange(pos, pos + len(rows) - 1)
        pos += len(rows) - 1
        v = i2[np.ix_(e, e)] - i2[np.ix_(e, mdl)] @ i_mm_inv @ i2[np.ix_(mdl, e)]
        ge = g2[e]
        x2 = float(fit.n_obs * ge @ np.linalg.solve(v, ge))
        r0 = rows[0]
        out.append({"lhs": pt.lhs[r0], "op": pt.op[r0], "rhs": pt.rhs[r0], "x2": x2,
                    "df": len(e), "pvalue": float(stats.chi2.sf(x2, len(e)))})
    return pd.DataFrame(out, columns=cols)


def score_pieces(ext, blocks, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of F_min and unit expected information of the extended table ``ext`` at
    ``x``, each group weighted by N_g / N (ML or FIML blocks): the pieces of lavaan's score
    tests (modification indices, lavTestScore)."""
    nsum = float(sum(b.n for b in blocks))
    g = 0.0
    info = 0.0
    for gi, b in enumerate(blocks, start=1):
        f = b.n / nsum
        m = MatrixModel(ext, gi)
        if b.fiml:
            gg = _fiml.FIMLDiscrepancy(m, b.pat, b.h1).pieces(x, hessian=False)[1]
            sigma, mu = m.implied(x)
            d = _fiml.model_delta(m, x)
            ii = d.T @ _fiml.information_expected(b.pat, mu, sigma) @ d
        else:
            disc = MLDiscrepancy(m, b.cov, b.n, b.mean if ext.meanstructure else None)
            _, gg, hh, _ = disc.pieces(x)
            ii = 0.5 * hh
        g = g + f * 0.5 * gg  # gradient of fmin
        info = info + f * ii  # unit expected information
    return g, info
