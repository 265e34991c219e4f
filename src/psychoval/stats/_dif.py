"""Differential item functioning: Mantel-Haenszel, logistic and ordinal logistic regression
(issue 9)."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import as_item_matrix, check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import ConvergenceWarning, DataError, SpecificationError

__all__ = ["DifResult", "dif", "adjust_pvalues"]

_METHODS = ("mh", "gmh", "logistic", "ordinal_logistic", "auto")
_MAX_PURIFY = 10
# Zumbo & Thomas (1997) and Jodoin & Gierl (2001) cut points on the Nagelkerke R^2 change
_ZT = (0.13, 0.26)
_JG = (0.035, 0.070)


def adjust_pvalues(p: np.ndarray, method: str) -> np.ndarray:
    """Holm (step-down) or Benjamini-Hochberg adjusted p-values (NaN kept out of the family)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    sorted_p = q[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * sorted_p)
    elif method == "fdr_bh":
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * sorted_p[::-1])[::-1]
    else:  # "none"
        adj = sorted_p
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _classes(value: np.ndarray, cuts: tuple[float, float]) -> np.ndarray:
    v = np.asarray(value, dtype=float)
    return np.where(np.isnan(v), None, np.where(v < cuts[0], "A", np.where(v < cuts[1], "B", "C")))


# --------------------------------------------------------------------------------------------
# Mantel-Haenszel
def _strata(score: np.ndarray, cache: dict[int, tuple[np.ndarray, int]]
            ) -> tuple[np.ndarray, int]:
    """Stratum index of each respondent (cached per score array: most items share one)."""
    key = id(score)
    if key not in cache:
        levels, s = np.unique(score, return_inverse=True)
        cache[key] = (s, levels.size)
    return cache[key]


def _mh(y: np.ndarray, focal: np.ndarray, strata: tuple[np.ndarray, int]) -> dict[str, float]:
    """MH statistics for one 0/1 item; ``focal`` is 1 for the focal group, 0 for reference."""
    from scipy.stats import chi2

    s, ns = strata
    ref = focal == 0
    a = np.bincount(s, weights=(ref & (y == 1)), minlength=ns)
    b = np.bincount(s, weights=(ref & (y == 0)), minlength=ns)
    c = np.bincount(s, weights=(~ref & (y == 1)), minlength=ns)
    d = np.bincount(s, weights=(~ref & (y == 0)), minlength=ns)
    t = a + b + c + d
    keep = t > 1
    a, b, c, d, t = a[keep], b[keep], c[keep], d[keep], t[keep]
    nr, nf, m1, m0 = a + b, c + d, a + c, b + d
    num = np.sum(a - nr * m1 / t)
    var = np.sum(nr * nf * m1 * m0 / (t * t * (t - 1)))
    stat = (abs(num) - 0.5) ** 2 / var if var > 0 else np.nan
    r, sv = a * d / t, b * c / t
    rs, ss = r.sum(), sv.sum()
    alpha = rs / ss if ss > 0 else np.nan
    pp, qq = (a + d) / t, (b + c) / t
    with np.errstate(divide="ignore", invalid="ignore"):
        var_log = (np.sum(pp * r) / (2 * rs**2) + np.sum(pp * sv + qq * r) / (2 * rs * ss)
                   + np.sum(qq * sv) / (2 * ss**2))
        log_alpha = np.log(alpha)
    se = float(np.sqrt(var_log))
    delta = -2.35 * log_alpha
    p_value = float(chi2.sf(stat, 1)) if np.isfinite(stat) else np.nan
    return {"alpha_mh": alpha, "log_alpha_mh": log_alpha, "se_log_alpha_mh": se,
            "chisq_mh": stat, "p_value": p_value, "delta_mh": delta,
            "se_delta_mh": 2.35 * se, "n_strata": int(keep.sum())}


def _gmh(y: np.ndarray, code: np.ndarray, n_groups: int, strata: tuple[np.ndarray, int]
         ) -> dict[str, float]:
    """Generalized Mantel-Haenszel statistic for one 0/1 item over several groups (Somes, 1986;
    Penfield, 2001): ``code`` 0 for the reference group, 1..G-1 for the focal groups.

    Per stratum k, ``A_g`` focal group g's correct count, ``E A_g = n_g m_1 / T``,
    ``Cov(A_g, A_h) = m_1 m_0 (T n_g [g = h] - n_g n_h) / (T^2 (T - 1))``;
    ``chi2 = (sum A - sum E A)' (sum Cov)^-1 (sum A - sum E A)`` on G - 1 df (the rank of the
    summed covariance if a focal group has no informative stratum). No continuity correction
    (as difR::difGMH and R's mantelhaen.test on a 2 x G x K table).
    """
    from scipy.stats import chi2

    s, ns = strata
    G = n_groups
    idx = s * G + code
    n_sg = np.bincount(idx, minlength=ns * G).reshape(ns, G).astype(float)
    a_sg = np.bincount(idx, weights=y, minlength=ns * G).reshape(ns, G)
    t = n_sg.sum(axis=1)
    keep = t > 1
    n_sg, a_sg, t = n_sg[keep], a_sg[keep], t[keep]
    m1 = a_sg.sum(axis=1)
    m0 = t - m1
    nf = n_sg[:, 1:]
    dev = (a_sg[:, 1:] - nf * (m1 / t)[:, None]).sum(axis=0)
    f = m1 * m0 / (t * t * (t - 1))
    cov = np.diag((f * t) @ nf) - (nf * f[:, None]).T @ nf
    rank = int(np.linalg.matrix_rank(cov)) if cov.size else 0
    stat = float(dev @ np.linalg.pinv(cov) @ dev) if rank else np.nan
    p_value = float(chi2.sf(stat, rank)) if rank else np.nan
    return {"chisq_gmh": stat, "df_gmh": rank, "p_value": p_value, "n_strata": int(keep.sum())}


def _ets_class(delta: np.ndarray, se: np.ndarray, p: np.ndarray, level: float) -> np.ndarray:
    """ETS A/B/C (Zieky, 1993; Zwick, 2012): A = |D| < 1 or MH test not significant;
    C = |D| >= 1.5 and |D| significantly above 1 (one-sided z at ``level``); else B."""
    from scipy.stats import norm

    z = norm.isf(level)
    absd = np.abs(delta)
    with np.errstate(invalid="ignore", divide="ignore"):
        above_one = (absd - 1) / se > z
    out = np.where(np.isnan(delta) | np.isnan(p), None,
                   np.where((absd < 1) | (p >= level), "A",
                            np.where((absd >= 1.5) & above_one, "C", "B")))
    return out


# --------------------------------------------------------------------------------------------
# logistic regression (binary) by Newton-Raphson
def _logit_fit(X: np.ndarray, y: np.ndarray, *, tol: float = 1e-10, maxiter: int = 100
               ) -> tuple[np.ndarray, float, bool]:
    n, p = X.shape
    beta = np.zeros(p)
    ybar = y.mean()
    if 0 < ybar < 1:
        beta[0] = np.log(ybar / (1 - ybar))

    def loglik(eta):
        return float(np.sum(y * eta - np.logaddexp(0, eta)))

    eta = X @ beta
    ll = loglik(eta)
    for _ in range(maxiter):
        mu = 1 / (1 + np.exp(-eta))
        w = mu * (1 - mu)
        grad = X.T @ (y - mu)
        hess = (X * w[:, None]).T @ X
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return beta, ll, False
        t = 1.0
        while True:
            new = beta + t * step
            eta_new = X @ new
            ll_new = loglik(eta_new)
            if ll_new >= ll - 1e-12 or t < 1e-8:
                break
            t /= 2
        beta, eta, change, ll = new, eta_new, ll_new - ll, ll_new
        if abs(change) < tol * (abs(ll) + 1) and np.max(np.abs(t * step)) < 1e-8:
            return beta, ll, True
    return beta, ll, False


def _null_loglik(y: np.ndarray) -> float:
    _, counts = np.unique(y, return_counts=True)
    return float(np.sum(counts * np.log(counts / y.size)))


def _nagelkerke(ll: float, ll0: float, n: int) -> float:
    return (1 - np.exp(2 / n * (ll0 - ll))) / (1 - np.exp(2 / n * ll0))


def _ordinal_fit(X: np.ndarray, y: np.ndarray, *, tol: float = 1e-10, maxiter: int = 100
                 ) -> tuple[np.ndarray, float, bool]:
    """Cumulative-logit (proportional odds) model by Newton-Raphson with the analytic Hessian.

    ``logit P(Y <= j) = zeta_j - X beta`` (MASS::polr's parameterisation). Returns
    ``(beta..., zeta...)``, the log-likelihood and whether it converged.
    """
    n, q = X.shape
    _, c = np.unique(y, return_inverse=True)
    J = int(c.max()) + 1
    P = q + J - 1
    cum = np.cumsum(np.bincount(c, minlength=J))[:-1] / n
    psi = np.concatenate([np.zeros(q), np.log(cum / (1 - cum))])
    upper_open = c == J - 1  # no upper threshold: F(u) = 1
    lower_open = c == 0      # no lower threshold: F(l) = 0
    rows = np.arange(n)
    A = np.zeros((n, P))
    B = np.zeros((n, P))
    A[:, :q] = -X
    B[:, :q] = -X
    A[rows[~upper_open], q + c[~upper_open]] = 1.0
    B[rows[~lower_open], q + c[~lower_open] - 1] = 1.0
    A[upper_open] = 0.0
    B[lower_open] = 0.0

    def parts(psi):
        eta = X @ psi[:q]
        zeta = np.concatenate([[-np.inf], psi[q:], [np.inf]])
        u = zeta[c + 1] - eta
        low = zeta[c] - eta
        fu = np.where(upper_open, 1.0, 1 / (1 + np.exp(-np.where(upper_open, 0.0, u))))
        fl = np.where(lower_open, 0.0, 1 / (1 + np.exp(-np.where(lower_open, 0.0, low))))
        p = fu - fl
        return fu, fl, p

    def loglik(p):
        return float(np.sum(np.log(p))) if np.all(p > 0) else -np.inf

    fu, fl, p = parts(psi)
    ll = loglik(p)
    for _ in range(maxiter):
        du = np.where(upper_open, 0.0, fu * (1 - fu))
        dl = np.where(lower_open, 0.0, fl * (1 - fl))
        d2u = du * (1 - 2 * fu)
        d2l = dl * (1 - 2 * fl)
        G = (A * (du / p)[:, None]) - (B * (dl / p)[:, None])
        grad = G.sum(axis=0)
        hess = (A * (d2u / p)[:, None]).T @ A - (B * (d2l / p)[:, None]).T @ B - G.T @ G
        try:
            step = -np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return psi, ll, False
        t = 1.0
        while True:
            new = psi + t * step
            fu_n, fl_n, p_n = parts(new)
            ll_new = loglik(p_n)
            if ll_new >= ll - 1e-12 or t < 1e-8:
                break
            t /= 2
        if not np.isfinite(ll_new):
            return psi, ll, False
        change = ll_new - ll
        psi, fu, fl, p, ll = new, fu_n, fl_n, p_n, ll_new
        if abs(change) < tol * (abs(ll) + 1) and np.max(np.abs(t * step)) < 1e-8:
            return psi, ll, True
    return psi, ll, False


def _lr_dif(y: np.ndarray, focal: np.ndarray, score: np.ndarray, ordinal: bool
            ) -> dict[str, Any]:
    from scipy.stats import chi2

    n = y.size
    g = focal.astype(float)
    designs = [np.column_stack([score]), np.column_stack([score, g]),
               np.column_stack([score, g, score * g])]
    lls, conv, params = [], [], []
    for X in designs:
        if ordinal:
            beta, ll, ok = _ordinal_fit(X, y)
        else:
            beta, ll, ok = _logit_fit(np.column_stack([np.ones(n), X]), y)
        lls.append(ll)
        conv.append(ok)
        params.append(beta)
    ll_null = _null_loglik(y)
    r2 = [_nagelkerke(ll, ll_null, n) for ll in lls]
    out = {
        "ll0": lls[0], "ll1": lls[1], "ll2": lls[2], "ll_null": ll_null,
        "lr_uniform": 2 * (lls[1] - lls[0]), "lr_nonuniform": 2 * (lls[2] - lls[1]),
        "lr_both": 2 * (lls[2] - lls[0]),
        "r2_0": r2[0], "r2_1": r2[1], "r2_2": r2[2], "converged": all(conv),
    }
    out["p_uniform"] = float(chi2.sf(out["lr_uniform"], 1))
    out["p_nonuniform"] = float(chi2.sf(out["lr_nonuniform"], 1))
    out["p_both"] = float(chi2.sf(out["lr_both"], 2))
    # group effect at equal score in the uniform model (M1); interaction from M2
    k = 0 if ordinal else 1  # binary fits carry an intercept first
    out["b_group"] = float(params[1][k + 1])
    out["b_interaction"] = float(params[2][k + 2])
    return out


# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, repr=False)
class DifResult(Result):
    """Differential item functioning per item and focal group (see :func:`dif`).

    Attributes
    ----------
    table : DataFrame
        One row per focal group and item: ``focal``, ``item``, ``method`` (the test used for
        the row: ``"mh"``, ``"logistic"`` or ``"ordinal_logistic"``), ``n_reference``,
        ``n_focal`` (the rows analysed for the item); for Mantel-Haenszel rows: ``alpha_mh``
        (common odds ratio, > 1 favours the reference group), ``log_alpha_mh``,
        ``se_log_alpha_mh`` (Robins-Breslow-Greenland), ``chisq_mh`` (with continuity
        correction), ``delta_mh`` (-2.35 ln alpha_mh; negative = the item is harder for the
        focal group), ``se_delta_mh``, ``n_strata``, ``ets_class``; for the logistic rows:
        log-likelihoods ``ll0`` (score), ``ll1`` (+ group), ``ll2`` (+ score x group),
        likelihood-ratio statistics ``lr_uniform`` (df 1), ``lr_nonuniform`` (df 1),
        ``lr_both`` (df 2) with p-values, Nagelkerke ``r2_0``, ``r2_1``, ``r2_2``,
        ``delta_r2`` (for the tested ``dif_type``), ``zt_class`` (Zumbo-Thomas),
        ``jg_class`` (Jodoin-Gierl), ``converged``. Always: ``effect_class`` (the row's ETS
        or Zumbo-Thomas class, named), ``p_value`` (of the tested statistic), ``p_adjusted``
        (over the items of a focal group), ``flagged`` (``p_adjusted < level``), ``favours``
        ("reference"/"focal").
    match : str
        The matching score in words.
    """

    table: pd.DataFrame
    method: str
    dif_type: str
    reference: Any
    focal: tuple[Any, ...]
    match: str
    purify: bool
    purify_iterations: int
    purify_converged: bool
    correction: str
    level: float
    n_used: int
    rows_dropped: int
    notes: tuple[str, ...]

    _schema = "psychoval.dif/1"

    @property
    def flagged(self) -> list[str]:
        return sorted(set(self.table.loc[self.table["flagged"], "item"]))

    def _repr_fields(self) -> dict[str, Any]:
        return {"method": self.method, "reference": self.reference,
                "focal": ",".join(map(str, self.focal)), "flagged": len(self.flagged)}

    def summary(self) -> Summary:
        return Summary(
            title=f"DIF ({self.method})",
            facts=(("method", self.method), ("DIF type tested", self.dif_type),
                   ("reference group", self.reference),
                   ("focal group(s)", ", ".join(map(str, self.focal))),
                   ("matching score", self.match), ("purified", self.purify),
                   ("correction", self.correction), ("level", self.level),
                   ("n used", self.n_used), ("rows dropped", self.rows_dropped)),
            tables=(("Items", self.table.set_index(["focal", "item"])),), notes=self.notes)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _group_arg(data: Any, group: Any) -> tuple[Any, np.ndarray]:
    if isinstance(group, str):
        from psychoval.stats._keyed import raw_frame

        frame = raw_frame(data)
        if group not in frame.columns:
            raise DataError(f"group column {group!r} is not in the data; pass the column "
                            "name or an array of group labels")
        labels = frame[group].to_numpy(dtype=object)
        index = data.ids if hasattr(data, "ids") and not isinstance(data, pd.DataFrame) \
            else frame.index
        rest = frame.drop(columns=group)
        rest.index = index
        return rest, labels
    labels = np.asarray(pd.Series(group).to_numpy(dtype=object))
    return data, labels


def dif(
    data: Any,
    *,
    group: Any,
    focal: Any = None,
    reference: Any = None,
    method: str = "mh",
    match: Any = "total",
    framework: Any = None,
    studied: str = "include",
    missing: str = "listwise",
    items: Sequence[str] | None = None,
    dif_type: str = "both",
    purify: bool = False,
    correction: str = "holm",
    level: float = 0.05,
) -> DifResult:
    """Differential item functioning between a reference group and focal group(s).

    An item shows DIF when respondents of equal ability (equal matching score) but different
    groups have different chances of answering it correctly (or of higher categories).

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        Scored responses (0/1 for ``"mh"`` and ``"logistic"``; ordered categories for
        ``"ordinal_logistic"``).
    group : str or array-like
        Group label per respondent, or the name of a column of ``data`` holding it.
    focal, reference : label or list of labels, optional
        The reference group, and the focal group(s) each compared with it. With two groups
        and neither given, the first label in sorted order is the reference; with more than
        two groups ``reference=`` is required.
    method : {"mh", "gmh", "logistic", "ordinal_logistic", "auto"}
        Mantel-Haenszel, generalized Mantel-Haenszel (one test over the reference and all
        focal groups at once: columns ``chisq_gmh``, ``df_gmh``), logistic regression (binary)
        or cumulative-logit regression;
        ``"auto"`` uses Mantel-Haenszel for 0/1 items and cumulative-logit regression for the
        others, in one table and one multiple-testing family (column ``method``).
    match : {"total", "competency", "tier"}, array-like or mapping {scale: [items]}
        The matching score: the total of the analysed items; with ``framework=``, the total of
        the item's own competency or tier (among the analysed items); a given score per
        respondent; or each item's own scale total.
    framework : Framework, optional
        Needed for ``match="competency"`` or ``"tier"``.
    studied : {"include", "exclude"}
        Whether the studied item counts in its own matching score. ``"include"`` (difR,
        Holland & Thayer) is right for Mantel-Haenszel under the Rasch model; ``"exclude"``
        matches on the rest score, which keeps a DIF item from diluting its own matching
        (stronger on short scales, as SIBTEST's valid subtest).
    missing : {"listwise", "available"}
        ``"listwise"`` (difR) analyses the rows complete on every analysed item;
        ``"available"`` keeps, for each item, the rows that answered it, with the matching
        score prorated over the respondent's answered matching items (mean x number of items;
        rounded to whole strata for Mantel-Haenszel). Per-item counts are in the table.
    items : sequence of str, optional
        Items to analyse (default: every column but the group column).
    dif_type : {"both", "uniform", "nonuniform"}
        For the logistic methods, the likelihood-ratio test that decides (difR's ``type``).
    purify : bool
        Iteratively drop flagged items from the matching score (the studied item always stays
        in), until the flagged set repeats (at most 10 rounds).
    correction : {"holm", "fdr_bh", "none"}
        Multiple-testing correction across the items of each focal-group comparison.
    level : float
        Significance level for ``flagged`` and for the ETS classes.

    Returns
    -------
    DifResult

    Raises
    ------
    DataError
        Missing or unknown groups, non-0/1 items for ``"mh"``/``"logistic"``.
    SpecificationError
        Bad options; ``purify=True`` with a supplied matching score.

    Notes
    -----
    Mantel-Haenszel, over strata k of the matching score with cells A (reference correct),
    B (reference wrong), C (focal correct), D (focal wrong) and T = A + B + C + D (strata with
    T < 2 carry no information and are dropped):
    ``alpha_MH = sum(A D / T) / sum(B C / T)``,
    ``chi2_MH = (|sum(A - E A)| - 0.5)^2 / sum(Var A)`` with ``E A = n_R m_1 / T`` and
    ``Var A = n_R n_F m_1 m_0 / (T^2 (T - 1))`` (as difR), ``delta_MH = -2.35 ln alpha_MH``
    (Holland & Thayer, 1988). The ETS class uses the MH test and the RBG standard error.

    Logistic regression (Swaminathan & Rogers, 1990): M0 score, M1 + group, M2 + score x group;
    uniform DIF M1 vs M0, non-uniform M2 vs M1, both M2 vs M0, by likelihood ratio;
    ``delta_r2`` is the change in Nagelkerke R^2 classed by Zumbo & Thomas (1997)
    (A < .13 <= B < .26 <= C) and Jodoin & Gierl (2001) (A < .035 <= B < .07 <= C).
    The ordinal version fits cumulative logits (statsmodels ``OrderedModel``), as
    Zumbo (1999).

    References
    ----------
    Holland, P. W., & Thayer, D. T. (1988). Differential item performance and the
    Mantel-Haenszel procedure. In H. Wainer & H. I. Braun (Eds.), Test validity (pp. 129-145).
    Somes, G. W. (1986). The generalized Mantel-Haenszel statistic. The American Statistician,
    40(2), 106-108. doi:10.1080/00031305.1986.10475369
    Penfield, R. D. (2001). Assessing differential item functioning among multiple groups: a
    comparison of three Mantel-Haenszel procedures. Applied Measurement in Education, 14(3),
    235-259. doi:10.1207/S15324818AME1403_3
    Robins, J., Breslow, N., & Greenland, S. (1986). Estimators of the Mantel-Haenszel variance
    consistent in both sparse data and large-strata limiting models. Biometrics, 42, 311-323.
    doi:10.2307/2531052
    Swaminathan, H., & Rogers, H. J. (1990). Detecting differential item functioning using
    logistic regression procedures. Journal of Educational Measurement, 27(4), 361-370.
    doi:10.1111/j.1745-3984.1990.tb00754.x
    Jodoin, M. G., & Gierl, M. J. (2001). Evaluating type I error and power rates using an
    effect size measure with the logistic regression procedure for DIF detection. Applied
    Measurement in Education, 14(4), 329-349. doi:10.1207/S15324818AME1404_2
    Zwick, R. (2012). A review of ETS differential item functioning assessment procedures.
    ETS Research Report RR-12-08. doi:10.1002/j.2333-8504.2012.tb02290.x
    Magis, D., Beland, S., Tuerlinckx, F., & De Boeck, P. (2010). A general framework and an
    R package for the detection of dichotomous differential item functioning. Behavior
    Research Methods, 42, 847-862. doi:10.3758/BRM.42.3.847

    With ``missing="available"`` a respondent who skipped some matching items is matched on
    the mean of the items answered, scaled to the full scale; ``n_reference`` and ``n_focal``
    then vary by item.

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=600); g = np.repeat(["ref", "foc"], 300)
    >>> b = np.linspace(-1, 1, 8); shift = np.r_[1.0, np.zeros(7)] * (g == "foc")[:, None]
    >>> x = (rng.random((600, 8)) < 1 / (1 + np.exp(-(theta[:, None] - b - shift)))) * 1.0
    >>> res = pv.dif(x, group=g, reference="ref")  # as difR::difMH(x, g, focal.name = "foc")
    >>> res.flagged
    ['item1']
    """
    check_choice("method", method, _METHODS)
    check_choice("correction", correction, ("holm", "fdr_bh", "none"))
    check_choice("dif_type", dif_type, ("both", "uniform", "nonuniform"))
    check_choice("studied", studied, ("include", "exclude"))
    check_choice("missing", missing, ("listwise", "available"))
    if not isinstance(level, float) or not 0 < level < 1:
        raise SpecificationError(f"level={level!r} must be a number between 0 and 1")
    data, labels = _group_arg(data, group)
    m = as_item_matrix(data, items=items, min_items=1, min_rows=4, what="data")
    if labels.shape[0] != m.n:
        raise DataError(f"group has {labels.shape[0]} labels for {m.n} respondents")

    # matching score specification
    supplied = None
    scale_of: dict[str, list[str]] | None = None
    if isinstance(match, str):
        check_choice("match", match, ("total", "competency", "tier"))
        if match == "total":
            match_text = f"total score of the {m.k} analysed items"
        else:
            scales = _framework_scales(framework, match, m.items)
            scale_of = {i: members for members in scales.values() for i in members}
            match_text = f"total of each item's own {match} (framework)"
    elif isinstance(match, Mapping):
        scale_of = {}
        for name, members in match.items():
            absent = [i for i in members if i not in m.items]
            if absent:
                raise DataError(f"match scale {name!r} names item(s) "
                                f"{', '.join(map(repr, absent))} not among the analysed items")
            for i in members:
                if i in scale_of:
                    raise SpecificationError(f"item {i!r} is in two match scales; each item "
                                             "is matched on exactly one")
                scale_of[i] = list(members)
        lost = [i for i in m.items if i not in scale_of]
        if lost:
            raise SpecificationError(f"item(s) {', '.join(map(repr, lost))} are in no match "
                                     "scale; every analysed item needs one")
        match_text = "total of each item's own scale"
    else:
        supplied = np.asarray(match, dtype=float)
        if supplied.shape != (m.n,):
            raise DataError(f"match= has shape {supplied.shape}; give one score per "
                            f"respondent ({m.n})")
        if purify:
            raise SpecificationError("purify=True needs a computed matching score "
                                     "(match='total' or scales), not a supplied one")
        match_text = "matching score supplied by the caller (match=)"
    if supplied is None:
        match_text += (" (studied item included)" if studied == "include"
                       else " without the studied item (rest score)")
        if missing == "available":
            match_text += ", prorated over each respondent's answered items"
        members_of = [[m.items.index(i) for i in (scale_of[item] if scale_of else m.items)]
                      for item in m.items]
        if studied == "exclude":
            alone = [item for item, cols in zip(m.items, members_of, strict=True)
                     if len(cols) < 2]
            if alone:
                raise SpecificationError(
                    f"item(s) {', '.join(map(repr, alone))} have no other item in their "
                    "matching scale, so studied='exclude' leaves nothing to match on")

    # rows: listwise over items, group and a supplied score; or per item (available)
    missing_label = pd.isna(pd.Series(labels)).to_numpy()
    usable = ~missing_label
    if supplied is not None:
        usable &= ~np.isnan(supplied)
    answered = ~np.isnan(m.values)
    usable &= answered.all(axis=1) if missing == "listwise" else answered.any(axis=1)
    x = m.values[usable]
    lab = labels[usable]
    score_given = supplied[usable] if supplied is not None else None
    rows_dropped = int((~usable).sum())
    notes: list[str] = []
    if rows_dropped:
        notes.append(f"{rows_dropped} row(s) with "
                     + ("a missing response" if missing == "listwise" else "no response")
                     + ", group or score dropped")

    binary = np.array([np.isin(x[~np.isnan(x[:, j]), j], (0.0, 1.0)).all()
                       for j in range(m.k)])
    if method in ("mh", "gmh", "logistic") and not binary.all():
        bad = [m.items[j] for j in np.flatnonzero(~binary)]
        raise DataError(
            f"method={method!r} needs 0/1 items; item(s) {', '.join(map(repr, bad[:5]))} "
            "have other values: score them first or use method='ordinal_logistic'"
        )
    item_method = (np.where(binary, "mh", "ordinal_logistic") if method == "auto"
                   else np.full(m.k, method))
    lr_key = {"both": "p_both", "uniform": "p_uniform", "nonuniform": "p_nonuniform"}[dif_type]

    levels = sorted(set(lab.tolist()), key=str)
    if len(levels) < 2:
        raise DataError(f"group has {len(levels)} level(s) on the complete rows; DIF needs two")
    if reference is None:
        if len(levels) > 2:
            raise SpecificationError(
                f"group has {len(levels)} levels ({', '.join(map(str, levels))}); name the "
                "reference group with reference="
            )
        reference = levels[0] if focal is None or focal != levels[0] else levels[1]
        notes.append(f"reference group {reference!r} chosen as the first label; pass "
                     "reference= to choose")
    if reference not in levels:
        raise DataError(f"reference={reference!r} is not a group label; labels are "
                        f"{', '.join(map(repr, levels))}")
    if focal is None:
        focals = [lv for lv in levels if lv != reference]
    else:
        focals = list(focal) if isinstance(focal, (list, tuple)) else [focal]
        for f in focals:
            if f not in levels or f == reference:
                raise DataError(f"focal={f!r} is not a group label other than the reference; "
                                f"labels are {', '.join(map(repr, levels))}")

    k = m.k
    tables = []
    iterations = 0
    purify_ok = True
    # one comparison per focal group; generalized MH: one over all the focal groups at once
    comparisons = ([(", ".join(map(str, focals)), focals)] if method == "gmh"
                   else [(f, [f]) for f in focals])
    for f, members in comparisons:
        rows = lab == reference
        for g in members:
            rows |= lab == g
        xs = x[rows]
        code = np.zeros(int(rows.sum()), dtype=np.int64)  # 0 reference, 1.. focal groups
        for i, g in enumerate(members):
            code[lab[rows] == g] = i + 1
        is_focal = (code > 0).astype(int)
        flagged = np.zeros(k, dtype=bool)
        seen: list[tuple[bool, ...]] = []
        for it in range(_MAX_PURIFY + 1):
            if score_given is not None:
                scores = [score_given[rows]] * k
            else:
                scores = _match_scores(xs, members_of, flagged, studied,
                                       prorate=missing == "available")
            recs = []
            cache: dict[int, tuple[np.ndarray, int]] = {}
            for j in range(k):
                ok = ~np.isnan(xs[:, j]) & ~np.isnan(scores[j])
                whole = bool(ok.all())
                y, foc, sc, cd = (xs[:, j], is_focal, scores[j], code) if whole else \
                    (xs[ok, j], is_focal[ok], scores[j][ok], code[ok])
                if item_method[j] in ("mh", "gmh"):
                    rounded = missing == "available" and score_given is None
                    # the cache is keyed by the identity of a score array shared by items
                    strata = (_strata(np.rint(sc) if rounded else sc, {})
                              if rounded or not whole else _strata(sc, cache))
                    rec = (_mh(y, foc, strata) if item_method[j] == "mh"
                           else _gmh(y, cd, len(members) + 1, strata))
                    rec["p_test"] = rec["p_value"]
                else:
                    rec = _lr_dif(y, foc, sc, ordinal=item_method[j] == "ordinal_logistic")
                    rec["p_test"] = rec[lr_key]
                rec["n_reference"] = int((foc == 0).sum())
                rec["n_focal"] = int(foc.sum())
                recs.append(rec)
            tab = pd.DataFrame(recs)
            p = tab.pop("p_test").to_numpy(dtype=float)
            p_adj = adjust_pvalues(p, correction)
            new_flag = p_adj < level
            iterations = max(iterations, it)
            if not purify:
                break
            state = tuple(new_flag.tolist())
            if state == tuple(flagged.tolist()) or state in seen:
                purify_ok = state == tuple(flagged.tolist())
                flagged = new_flag
                break
            seen.append(tuple(flagged.tolist()))
            flagged = new_flag
        else:
            purify_ok = False
        counts = tab.pop("n_reference"), tab.pop("n_focal")
        tab.insert(0, "focal", f)
        tab.insert(1, "item", list(m.items))
        tab.insert(2, "method", item_method)
        tab.insert(3, "n_reference", counts[0].to_numpy())
        tab.insert(4, "n_focal", counts[1].to_numpy())
        is_mh = item_method == "mh"
        is_lr = np.isin(item_method, ("logistic", "ordinal_logistic"))
        favours = np.full(k, None, dtype=object)
        effect = np.full(k, None, dtype=object)
        effect[item_method == "gmh"] = "no effect class (omnibus test)"
        if is_mh.any():
            ets = _ets_class(tab["delta_mh"].to_numpy(dtype=float),
                             tab["se_delta_mh"].to_numpy(dtype=float), p, level)
            tab["ets_class"] = np.where(is_mh, ets, None)
            favours[is_mh] = np.where(tab["alpha_mh"].to_numpy(dtype=float) > 1,
                                      "reference", "focal")[is_mh]
            effect[is_mh] = [f"ETS class {c}" for c in ets[is_mh]]
        if is_lr.any():
            r2 = {c: tab[c].to_numpy(dtype=float) for c in ("r2_0", "r2_1", "r2_2")}
            dr2 = {"both": r2["r2_2"] - r2["r2_0"], "uniform": r2["r2_1"] - r2["r2_0"],
                   "nonuniform": r2["r2_2"] - r2["r2_1"]}[dif_type]
            dr2 = np.where(is_lr, dr2, np.nan)
            tab["delta_r2"] = dr2
            tab["zt_class"] = _classes(dr2, _ZT)
            tab["jg_class"] = _classes(dr2, _JG)
            # b_group < 0: the focal group scores lower at equal matching score
            favours[is_lr] = np.where(tab["b_group"].to_numpy(dtype=float) < 0,
                                      "reference", "focal")[is_lr]
            effect[is_lr] = [f"Zumbo-Thomas class {c}"
                             for c in tab["zt_class"].to_numpy()[is_lr]]
            conv = tab["converged"].to_numpy(dtype=object)
            bad = [m.items[j] for j in np.flatnonzero(is_lr) if not conv[j]]
            if bad:
                warnings.warn(f"the DIF regressions of item(s) {', '.join(map(repr, bad))} did "
                              f"not converge (focal {f!r}); their tests are unreliable",
                              ConvergenceWarning, stacklevel=2)
        tab["effect_class"] = effect
        tab["favours"] = favours
        tab["p_value"] = p
        tab["p_adjusted"] = p_adj
        tab["flagged"] = p_adj < level
        tables.append(tab)
    if purify and not purify_ok:
        notes.append(f"purification did not settle within {_MAX_PURIFY} rounds")
    if method == "mh" or (method == "auto" and binary.all()):
        tested = "uniform (MH)"
    elif method == "gmh":
        tested = f"uniform (generalized MH over {len(focals)} focal groups)"
    elif method == "auto" and binary.any():
        tested = f"uniform (MH, 0/1 items); {dif_type} (cumulative-logit items)"
    else:
        tested = dif_type
    return DifResult(
        table=pd.concat(tables, ignore_index=True), method=method,
        dif_type=tested, reference=reference,
        focal=tuple(focals), match=match_text, purify=bool(purify),
        purify_iterations=iterations, purify_converged=purify_ok, correction=correction,
        level=level, n_used=int(usable.sum()), rows_dropped=rows_dropped, notes=tuple(notes))


def _framework_scales(framework: Any, match: str, items: Sequence[str]
                      ) -> dict[str, list[str]]:
    """{competency or tier: analysed items} from a framework, for ``match=``."""
    from psychoval.framework import Framework

    if not isinstance(framework, Framework):
        raise SpecificationError(f"match={match!r} needs framework= (a Framework) to know "
                                 "each item's " + match)
    known = set(framework.item_ids)
    unknown = [i for i in items if i not in known]
    if unknown:
        raise DataError(f"item(s) {', '.join(map(repr, unknown[:5]))} are not in the framework; "
                        f"match={match!r} needs every analysed item in it (or pass items=)")
    scales: dict[str, list[str]] = {}
    for i in items:
        item = framework.item(i)
        scales.setdefault(item.competency if match == "competency" else item.tier,
                          []).append(i)
    return scales


def _match_scores(xs: np.ndarray, members_of: list[list[int]], flagged: np.ndarray,
                  studied: str, *, prorate: bool) -> list[np.ndarray]:
    """Each item's matching score: the sum of its scale's unflagged items (purification),
    the studied item added (``include``) or removed (``exclude``); prorated over the answered
    items (mean x count) when ``prorate``, NaN where none was answered."""
    bases: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray, list[int]]] = {}
    present = ~np.isnan(xs)
    filled = np.where(present, xs, 0.0)
    out = []
    for j, cols in enumerate(members_of):
        key = tuple(cols)
        keep = [c for c in cols if not flagged[c]]
        if studied == "exclude" and not [c for c in keep if c != j]:
            keep = list(cols)  # purification would leave nothing to match on
            key = ("all",) + key
        if key not in bases:
            bases[key] = (filled[:, keep].sum(axis=1), present[:, keep].sum(axis=1), keep)
        total, count, keep = bases[key]
        n_items = len(keep)
        if studied == "include" and j not in keep:
            total, count, n_items = total + filled[:, j], count + present[:, j], n_items + 1
        elif studied == "exclude" and j in keep:
            total, count, n_items = total - filled[:, j], count - present[:, j], n_items - 1
        if prorate:
            with np.errstate(invalid="ignore", divide="ignore"):
                total = np.where(count > 0, total / count * n_items, np.nan)
        out.append(total)
    return out
