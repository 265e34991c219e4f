"""Guttman's six lower bounds and their relatives, as psych::guttman (psych 2.2.9)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import ConvergenceWarning, DataError, ImproperSolutionWarning, warn
from psychoval.stats.core._moments import alpha_from_cov
from psychoval.stats.core._pearson import pairwise_cor
from psychoval.stats.reliability._common import prepare, psych_smc
from psychoval.stats.reliability._glb import glb_fa
from psychoval.stats.reliability._split_half import ENUMERATIONS, split_half_core

__all__ = ["guttman", "GuttmanResult"]

_FIELDS = ("lambda_1", "lambda_2", "lambda_3", "lambda_4", "lambda_5", "lambda_5p",
           "lambda_6", "alpha_pc", "glb", "tenberge_mu0", "tenberge_mu1", "tenberge_mu2",
           "tenberge_mu3", "r_pc", "beta_pc", "beta")


@dataclasses.dataclass(frozen=True, repr=False)
class GuttmanResult(Result):
    """Guttman's lambdas, ten Berge's mu, glb and principal-component bounds (see :func:`guttman`)."""

    lambda_1: float
    lambda_2: float
    lambda_3: float
    lambda_4: float
    lambda_5: float
    lambda_5p: float
    lambda_6: float
    alpha_pc: float
    glb: float
    tenberge_mu0: float
    tenberge_mu1: float
    tenberge_mu2: float
    tenberge_mu3: float
    r_pc: float
    beta_pc: float
    beta: float
    glb_n_factors: int
    glb_communality: np.ndarray
    glb_converged: bool
    glb_improper: bool
    split_method: str
    n_splits: int
    items: tuple[str, ...]
    reverse: tuple[str, ...]
    n_obs: int
    missing: str
    min_pairwise_n: int

    _schema = "psychoval.guttman/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"lambda_3": self.lambda_3, "lambda_4": self.lambda_4, "lambda_6": self.lambda_6,
                "glb": self.glb, "k": len(self.items)}

    def summary(self) -> Summary:
        facts = tuple((name.replace("_", " "), getattr(self, name)) for name in _FIELDS)
        notes = (f"lambda 4 and beta from {self.n_splits} splits ({self.split_method})",
                 f"glb from an unrotated {self.glb_n_factors}-factor minres fit",
                 "lambda 3 is standardized alpha (correlations)")
        return Summary(title="Guttman lower bounds", facts=facts + (("items", len(self.items)),
                                                                     ("respondents", self.n_obs)),
                       notes=notes)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([(n, getattr(self, n)) for n in _FIELDS],
                            columns=["statistic", "value"])


def tenberge(r: np.ndarray) -> tuple[float, float, float, float]:
    """ten Berge & Zegers (1978) mu0..mu3, as psych::tenberge."""
    k = r.shape[0]
    vt = float(r.sum())
    off = r - np.diag(np.diag(r))
    so = float(off.sum())
    s2 = float((off**2).sum())
    s4 = float((off**4).sum())
    s8 = float((off**8).sum())
    mu0 = k * so / ((k - 1) * vt)
    mu1 = (so + math.sqrt(s2 * k / (k - 1))) / vt
    mu2 = (so + math.sqrt(s2 + math.sqrt(k * s4 / (k - 1)))) / vt
    mu3 = (so + math.sqrt(s2 + math.sqrt(s4 + math.sqrt(k * s8 / (k - 1))))) / vt
    return mu0, mu1, mu2, mu3


def guttman(
    data: Any,
    *,
    reverse: Sequence[str] | str | None = None,
    missing: str = "pairwise",
    enumeration: str = "exhaustive",
    max_exhaustive: int = 16,
    n_sample: int = 10000,
    seed: Any = None,
    reverse_range: tuple[float, float] | None = None,
    glb_fit: str = "psych",
) -> GuttmanResult:
    """Guttman's lambda 1-6 (and 5'), beta, glb, ten Berge's mu and principal-component bounds.

    Lower bounds to the reliability of the standardized total score, computed from the
    inter-item correlation matrix as ``psych::guttman`` (psych 2.2.9), which psych has
    deprecated in favour of splitHalf but which remains the one place these all appear.

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        Respondents in rows, items in columns (at least 3 items).
    reverse : sequence of str, optional
        Items reverse-keyed (``lo + hi - x``) first. (``psych::guttman(key=)`` fails in psych
        2.2.9; the references use rescored data, which this reproduces.)
    missing : {"pairwise", "listwise", "raise"}
        Pairwise Pearson correlations (each pair on its complete rows, as
        ``cor(use = "pairwise")``) or listwise deletion.
    enumeration, max_exhaustive, n_sample, seed
        Splits for lambda 4 and beta, as :func:`split_half`.
    reverse_range : (float, float), optional
        Scale endpoints for reverse-keying.
    glb_fit : {"psych", "tight"}
        How the minres fits behind glb are optimised. ``"psych"`` is the EFA module's minres
        fit, which reaches the same solution as psych (possibly a local minimum);
        ``"tight"`` minimises the same criterion by L-BFGS-B to a tight tolerance from the
        same start and can reach a lower minimum (a different glb), see docs/reliability.md.

    Returns
    -------
    GuttmanResult
        ``lambda_1`` ... ``lambda_6``, ``lambda_5p``, ``alpha_pc``, ``glb``,
        ``tenberge_mu0`` ... ``tenberge_mu3``, ``r_pc``, ``beta_pc``, ``beta``, and how glb
        and the splits were obtained.

    Raises
    ------
    DataError
        Fewer than 3 items, an item without variance, non-numeric data.

    Warns
    -----
    ConvergenceWarning
        The minres fit behind glb did not converge (glb is still returned).
    ImproperSolutionWarning
        That fit has a communality above 1 (glb is still returned, ``glb_improper`` True).

    Notes
    -----
    With V = sum(R), ``lambda_1 = 1 - tr(R)/V``, ``lambda_3 = k/(k-1) lambda_1`` (alpha),
    ``lambda_2 = (V - tr(R) + sqrt(k/(k-1) sum_{i!=j} r_ij^2)) / V``,
    ``lambda_5 = lambda_1 + 2 sqrt(max_j sum_{i!=j} r_ij^2) / V`` (5': times k/(k-1)),
    ``lambda_6 = (V - tr(R) + sum(smc)) / V``, ``lambda_4`` the maximum split half and
    ``beta`` the minimum (floored at 0). With e1 >= e2 the leading eigenvalues of R,
    ``alpha_pc = k/(k-1) (1 - 1/e1)``, ``r_pc = (2 e1/(e1+e2) - 1) alpha_pc``,
    ``beta_pc = 2 r_pc/(1 + r_pc)``. ``glb`` as psych::glb.fa (see docs/reliability.md).

    References
    ----------
    Guttman, L. (1945). A basis for analyzing test-retest reliability. Psychometrika, 10,
    255-282. https://doi.org/10.1007/BF02288892

    ten Berge, J. M. F., & Zegers, F. E. (1978). A series of lower bounds to the reliability
    of a test. Psychometrika, 43, 575-579. https://doi.org/10.1007/BF02293815

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> x = np.array([[5, 5, 5, 5], [1, 1, 1, 1], [4, 3, 3, 5], [3, 2, 2, 3], [4, 2, 2, 3],
    ...               [2, 3, 3, 3], [1, 2, 1, 2], [2, 1, 3, 3], [2, 1, 2, 2], [5, 5, 5, 5]])
    >>> res = pv.guttman(x)
    >>> round(res.lambda_2, 6), round(res.glb, 6)  # psych::guttman(as.data.frame(x))[c("lambda.2", "glb")]
    (0.956578, 0.95662)
    """
    check_choice("enumeration", enumeration, ENUMERATIONS)
    check_choice("glb_fit", glb_fit, ("psych", "tight"))
    m, info, rev, _ = prepare(data, reverse=reverse, missing=missing,
                              reverse_range=reverse_range, min_items=3)
    r, npair = pairwise_cor(m.values)
    if not np.isfinite(r).all():
        i, j = np.argwhere(~np.isfinite(r))[0]
        raise DataError(
            f"items {m.items[i]!r} and {m.items[j]!r} have no correlation (answered together "
            f"by {int(npair[i, j])} respondent(s), or constant there); drop one of them"
        )
    k = r.shape[0]
    vt = float(r.sum())
    tr = float(np.trace(r))
    off = r - np.diag(np.diag(r))
    sum_off = float(off.sum())
    sumsq_off = float((off**2).sum())
    l1 = 1.0 - tr / vt
    l2 = (sum_off + math.sqrt(sumsq_off * k / (k - 1))) / vt
    l3 = alpha_from_cov(r)
    l6 = (vt + float(psych_smc(r).sum()) - tr) / vt
    cco = (r**2).sum(axis=0) - np.diag(r) ** 2
    cmax = float(cco.max())
    l5 = l1 + 2.0 * math.sqrt(cmax) / vt
    l5p = l1 + k / (k - 1) * 2.0 * math.sqrt(cmax) / vt
    ev = np.linalg.eigvalsh(r)[::-1]
    alpha_pc = (1.0 - 1.0 / ev[0]) * k / (k - 1)
    r_pc = (2.0 * ev[0] / (ev[0] + ev[1]) - 1.0) * alpha_pc
    beta_pc = 2.0 * r_pc / (1.0 + r_pc)
    core = split_half_core(r, m.items, enumeration=enumeration, n_sample=int(n_sample),
                           max_exhaustive=int(max_exhaustive), seed=seed)
    g = glb_fa(r, fit=glb_fit)
    if not g.converged:
        warn("the minres fit behind glb did not converge; glb may be inaccurate",
                      ConvergenceWarning, stacklevel=2)
    if g.improper:
        warn("the factor fit behind glb has a communality above 1 (ultra-Heywood "
                      "case); glb is not a proper bound here", ImproperSolutionWarning,
                      stacklevel=2)
    mu = tenberge(r)
    return GuttmanResult(
        lambda_1=l1, lambda_2=l2, lambda_3=l3, lambda_4=core.max_split, lambda_5=l5,
        lambda_5p=l5p, lambda_6=l6, alpha_pc=float(alpha_pc), glb=g.glb, tenberge_mu0=mu[0],
        tenberge_mu1=mu[1], tenberge_mu2=mu[2], tenberge_mu3=mu[3], r_pc=float(r_pc),
        beta_pc=float(beta_pc), beta=max(core.min_split, 0.0), glb_n_factors=g.n_factors,
        glb_communality=g.communality, glb_converged=g.converged, glb_improper=g.improper, split_method=core.method,
        n_splits=core.n_splits, items=m.items, reverse=rev, n_obs=m.n, missing=info.policy,
        min_pairwise_n=int(npair.min()),
    )
