"""Intraclass correlations: the six Shrout-Fleiss forms, as psych::ICC.

Complete ratings use the two-way ANOVA mean squares (psych ``lmer=FALSE``, exact). Missing
ratings use REML variance components of the crossed random-effects model
``score = mu + candidate + rater + error`` (psych's default ``lmer=TRUE``, which calls lme4);
the REML fit is our own (profiled deviance, Bates et al. 2015), no lme4.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import check_choice, check_confidence_level
from psychoval._results import Result, Summary
from psychoval.exceptions import ConvergenceWarning, DataError, warn
from psychoval.stats.raters._ratings import (
    as_ratings,
    require_ratings_per_target,
)

__all__ = ["icc", "ICCResult"]

ICC_TYPES = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
ICC_DESCRIPTIONS = {
    "ICC1": "single rater, absolute agreement, one-way random",
    "ICC2": "single rater, absolute agreement, two-way random",
    "ICC3": "single rater, consistency, two-way mixed",
    "ICC1k": "mean of k raters, absolute agreement, one-way random",
    "ICC2k": "mean of k raters, absolute agreement, two-way random",
    "ICC3k": "mean of k raters, consistency, two-way mixed",
}


@dataclasses.dataclass(frozen=True, repr=False)
class ICCResult(Result):
    """Intraclass correlations (Shrout & Fleiss 1979) with F tests and intervals.

    Attributes
    ----------
    results : DataFrame
        Index ``ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k`` (psych's ``type``); columns
        ``description, icc, f, df1, df2, p, lower, upper``.
    anova : DataFrame
        Index ``targets, raters, residual`` (psych's ``subjects, Judges, Residual``); columns
        ``df, sum_sq, mean_sq, f, p``. Under REML the mean squares are reconstructed from the
        variance components as psych does.
    msw : float
        Within-candidate mean square (psych ``MSW``).
    variance_components : dict
        ``target``, ``rater``, ``residual`` variances: REML estimates (``method="reml"``) or the
        ANOVA expected-mean-square estimates (``method="anova"``, may be negative).
    method : str
        ``"anova"`` (complete ratings, exact) or ``"reml"`` (REML variance components).
    n_targets, n_raters, n_ratings, n_missing : int
        Candidates, raters, ratings given, ratings missing.
    converged : bool
        REML optimizer converged (always True for ANOVA).
    """

    results: pd.DataFrame
    anova: pd.DataFrame
    msw: float
    variance_components: dict[str, float]
    method: str
    n_targets: int
    n_raters: int
    n_ratings: int
    n_missing: int
    confidence_level: float
    converged: bool
    targets: tuple[Any, ...]
    raters: tuple[str, ...]
    reml_deviance: float | None = None

    _schema: ClassVar[str] = "psychoval.icc/1"

    def __getitem__(self, form: str) -> float:
        """The ICC of one form, e.g. ``res["ICC2k"]``."""
        check_choice("form", form, ICC_TYPES)
        return float(self.results.loc[form, "icc"])

    def _repr_fields(self) -> dict[str, Any]:
        return {"ICC2": self["ICC2"], "ICC2k": self["ICC2k"], "ICC3": self["ICC3"],
                "n_targets": self.n_targets, "n_raters": self.n_raters, "method": self.method}

    def summary(self) -> Summary:
        level = f"{100 * self.confidence_level:g}%"
        facts = (("candidates", self.n_targets), ("raters", self.n_raters),
                 ("ratings", self.n_ratings), ("missing ratings", self.n_missing),
                 ("method", self.method), ("confidence level", level))
        tab = self.results.drop(columns=["description"])
        notes = [
            "ICC1: one-way random; ICC2: two-way random, absolute agreement; ICC3: two-way "
            "mixed, consistency; k = average of the raters (Shrout & Fleiss 1979, as psych::ICC).",
        ]
        if self.method == "reml":
            notes.append(
                "Missing ratings: mean squares rebuilt from REML variance components as "
                "psych::ICC(lmer=TRUE); F tests and intervals use the complete-design degrees "
                "of freedom, so they are approximate."
            )
            if not self.converged:
                notes.append("The REML optimizer did not converge: treat the estimates as rough.")
        return Summary(title="Intraclass correlations", facts=facts,
                       tables=(("ICC", tab), ("Analysis of variance", self.anova)),
                       notes=tuple(notes))

    def to_frame(self) -> pd.DataFrame:
        out = self.results.reset_index(names="type")
        out.insert(1, "method", self.method)
        return out


def _anova_ms(y: np.ndarray) -> dict[str, float]:
    n, k = y.shape
    grand = y.mean()
    rm = y.mean(axis=1)
    cm = y.mean(axis=0)
    resid = y - rm[:, None] - cm[None, :] + grand
    ssb = k * float(np.sum((rm - grand) ** 2))
    ssj = n * float(np.sum((cm - grand) ** 2))
    sse = float(np.sum(resid * resid))
    dfb, dfj, dfe = n - 1, k - 1, (n - 1) * (k - 1)
    return {"ssb": ssb, "ssj": ssj, "sse": sse, "msb": ssb / dfb, "msj": ssj / dfj,
            "mse": sse / dfe, "msw": (ssj + sse) / (dfj + dfe)}


class _CrossedREML:
    """REML for ``y = mu + a_target + b_rater + e`` on the observed cells only.

    The profiled REML deviance of Bates et al. (2015, eq. 42) in the relative standard
    deviations theta = (sd_target, sd_rater) / sd_error. The penalized least-squares system
    of size n_targets + n_raters + 1 is solved by eliminating the (diagonal) target block. Its
    diagonal depends on a target only through its number of ratings, so the elimination is a
    sum over the (at most n_raters) groups of targets with equal counts, precomputed once: one
    evaluation costs O(n_raters^3), whatever the number of candidates.
    """

    def __init__(self, y: np.ndarray) -> None:
        obs = ~np.isnan(y)
        inc = obs.astype(np.float64)
        yz = np.where(obs, y, 0.0)
        d_a = inc.sum(axis=1)
        sy_a = yz.sum(axis=1)
        self.k = k = y.shape[1]
        self.d_b = inc.sum(axis=0)
        self.sy_b = yz.sum(axis=0)
        self.n_obs = float(obs.sum())
        self.sy = float(yz.sum())
        self.yy = float(np.sum(yz * yz))
        a = np.empty((y.shape[0], k + 1))  # target rows of [Z_rater-incidence, X]
        a[:, :k] = inc
        a[:, k] = d_a
        counts, group = np.unique(d_a, return_inverse=True)
        self.g_count = counts                                   # ratings per target
        self.g_size = np.bincount(group).astype(float)          # targets per group
        self.g_aa = np.stack([a[group == g].T @ a[group == g] for g in range(counts.size)])
        self.g_ay = np.stack([a[group == g].T @ sy_a[group == g] for g in range(counts.size)])
        self.g_yy = np.bincount(group, weights=sy_a * sy_a)
        # moment-type starting values from the additive fit on the observed cells
        rm = sy_a / d_a
        cm = self.sy_b / self.d_b
        resid = np.where(obs, y - rm[:, None] - cm[None, :] + self.sy / self.n_obs, 0.0)
        mse0 = float(np.sum(resid * resid)) / max(self.n_obs - y.shape[0] - k + 1.0, 1.0)
        mse0 = max(mse0, 1e-12)
        sa0 = max(float(np.var(rm, ddof=1)) - mse0 * float(np.mean(1.0 / d_a)), 0.05 * mse0)
        sb0 = max(float(np.var(cm, ddof=1)) - mse0 * float(np.mean(1.0 / self.d_b)), 0.05 * mse0)
        self.start = np.sqrt(np.array([sa0, sb0]) / mse0)

    def solve(self, theta: np.ndarray) -> tuple[float, float]:
        """Return (deviance, penalized residual sum of squares) at ``theta``."""
        ta, tb = float(theta[0]), float(theta[1])
        k = self.k
        w = 1.0 / (ta * ta * self.g_count + 1.0)               # 1 / diagonal, per group
        e = np.full(k + 1, ta * tb)
        e[k] = ta
        s_rr = np.zeros((k + 1, k + 1))
        s_rr[np.arange(k), np.arange(k)] = tb * tb * self.d_b + 1.0
        s_rr[:k, k] = s_rr[k, :k] = tb * self.d_b
        s_rr[k, k] = self.n_obs
        c_r = np.append(tb * self.sy_b, self.sy)
        aa = np.tensordot(w, self.g_aa, axes=1)
        ay = w @ self.g_ay
        t = s_rr - e[:, None] * aa * e[None, :]
        rhs = c_r - ta * e * ay
        chol = np.linalg.cholesky(t)
        logdet = (float(-self.g_size @ np.log(w))
                  + 2.0 * float(np.sum(np.log(np.diag(chol)))))
        b_r = np.linalg.solve(chol.T, np.linalg.solve(chol, rhs))
        ca_ba = ta * ta * float(w @ self.g_yy) - ta * float((e * b_r) @ ay)
        r2 = self.yy - ca_ba - float(c_r @ b_r)
        r2 = max(r2, np.finfo(float).tiny)
        dof = self.n_obs - 1.0
        dev = logdet + dof * (1.0 + math.log(2.0 * math.pi * r2 / dof))
        return dev, r2

    @staticmethod
    def _newton(objective: Any, theta: np.ndarray) -> tuple[np.ndarray, bool]:
        """Newton steps on central-difference derivatives, with a fraction-to-the-boundary rule
        (a step goes at most 90% of the way to theta_i = 0) and backtracking. A component that
        shrinks below 1e-9 is set to its bound 0 and held there (the caller checks KKT)."""
        theta = np.maximum(theta.astype(float), 0.0)
        f0 = objective(theta)
        for _ in range(100):
            theta[theta < 1e-9] = 0.0
            free = np.flatnonzero(theta > 0.0)
            if free.size == 0:
                return theta, True
            h = np.minimum(1e-4 * np.maximum(theta, 1e-2), theta / 4)
            g = np.zeros(free.size)
            hess = np.zeros((free.size, free.size))
            for a, i in enumerate(free):
                e = np.zeros(2)
                e[i] = h[i]
                fp, fm = objective(theta + e), objective(theta - e)
                g[a] = (fp - fm) / (2 * h[i])
                hess[a, a] = (fp - 2 * f0 + fm) / h[i] ** 2
                for b in range(a):
                    j = free[b]
                    e2 = np.zeros(2)
                    e2[j] = h[j]
                    hess[a, b] = hess[b, a] = (
                        objective(theta + e + e2) - objective(theta + e - e2)
                        - objective(theta - e + e2) + objective(theta - e - e2)
                    ) / (4 * h[i] * h[j])
            try:
                np.linalg.cholesky(hess)
                step = -np.linalg.solve(hess, g)
            except np.linalg.LinAlgError:  # not convex here: a scaled gradient step
                step = -g * (0.1 * np.max(theta[free]) / max(float(np.max(np.abs(g))), 1e-300))
            neg = step < 0
            t = 1.0
            if neg.any():
                t = min(1.0, 0.9 * float(np.min(theta[free][neg] / -step[neg])))
            while True:
                cand = theta.copy()
                cand[free] = theta[free] + t * step
                fc = objective(cand)
                if fc <= f0 or t < 1e-10:
                    break
                t /= 2
            if fc > f0:  # no decrease along the step: as good as the differences allow
                return theta, bool(np.max(np.abs(g) * np.maximum(theta[free], 1.0)) < 1e-5)
            done = (np.max(np.abs(cand - theta)) < 1e-9 * (1.0 + np.max(theta))
                    or f0 - fc <= 1e-14 * abs(f0))  # the decrease is at rounding level
            theta, f0 = cand, fc
            if done:
                return theta, True
        return theta, False

    @staticmethod
    def _kkt(objective: Any, theta: np.ndarray) -> bool:
        """At a component on its bound 0, the deviance must not decrease into the interior."""
        f0 = objective(theta)
        for i in np.flatnonzero(theta <= 1e-7):
            e = np.zeros(2)
            e[i] = 1e-5
            if objective(np.maximum(theta, 0.0) + e) < f0 - 1e-9:
                return False
        return True

    def fit(self) -> tuple[dict[str, float], bool, float]:
        def objective(theta: np.ndarray) -> float:
            return self.solve(theta)[0]

        # Newton from moment-type starting values; L-BFGS-B (bounded) when Newton cannot
        # proceed or stops at a point that fails the bound (KKT) check, then Newton again
        theta, converged = self._newton(objective, self.start.copy())
        if not converged or not self._kkt(objective, theta):
            from scipy import optimize

            res = optimize.minimize(objective, theta, method="L-BFGS-B",
                                    bounds=[(0.0, None), (0.0, None)],
                                    options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
            theta, polished = self._newton(objective, np.asarray(res.x, dtype=float))
            converged = (bool(res.success) or polished) and self._kkt(objective, theta)
        for i in np.flatnonzero((theta > 0) & (theta < 1e-6)):  # snap to the bound
            at_bound = theta.copy()
            at_bound[i] = 0.0
            if objective(at_bound) <= objective(theta) + 1e-10:
                theta = at_bound
        dev, r2 = self.solve(theta)
        s2 = r2 / (self.n_obs - 1.0)
        comps = {"target": float(theta[0] ** 2 * s2), "rater": float(theta[1] ** 2 * s2),
                 "residual": float(s2)}
        return comps, converged, dev


def _icc_table(msb: float, msj: float, mse: float, msw: float, n: int, k: int,
               alpha: float) -> pd.DataFrame:
    """The six forms, F tests and intervals exactly as psych::ICC (2.2.9)."""
    from scipy import stats

    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k = (msb - msw) / msb
    icc2k = (msb - mse) / (msb + (msj - mse) / n)
    icc3k = (msb - mse) / msb
    f11 = msb / msw
    df11n, df11d = n - 1, n * (k - 1)
    p11 = float(stats.f.sf(f11, df11n, df11d))
    f21 = msb / mse
    df21n, df21d = n - 1, (n - 1) * (k - 1)
    p21 = float(stats.f.sf(f21, df21n, df21d))
    q = 1 - alpha / 2
    f1l = f11 / stats.f.ppf(q, df11n, df11d)
    f1u = f11 * stats.f.ppf(q, df11d, df11n)
    f3l = f21 / stats.f.ppf(q, df21n, df21d)
    f3u = f21 * stats.f.ppf(q, df21d, df21n)
    lower = np.full(6, np.nan)
    upper = np.full(6, np.nan)
    lower[0], upper[0] = (f1l - 1) / (f1l + (k - 1)), (f1u - 1) / (f1u + k - 1)
    lower[2], upper[2] = (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)
    lower[3], upper[3] = 1 - 1 / f1l, 1 - 1 / f1u
    lower[5], upper[5] = 1 - 1 / f3l, 1 - 1 / f3u
    # ICC2: Satterthwaite-type df of McGraw & Wong (1996), psych's algebra
    fj = msj / mse
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    fu = stats.f.ppf(q, n - 1, v)
    fl = stats.f.ppf(q, v, n - 1)
    l2 = n * (msb - fu * mse) / (fu * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (fl * msb - mse) / (k * msj + (k * n - k - n) * mse + n * fl * msb)
    lower[1], upper[1] = l2, u2
    lower[4], upper[4] = l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))
    return pd.DataFrame(
        {
            "description": [ICC_DESCRIPTIONS[t] for t in ICC_TYPES],
            "icc": [icc1, icc2, icc3, icc1k, icc2k, icc3k],
            "f": [f11, f21, f21, f11, f21, f21],
            "df1": np.array([df11n, df21n, df21n, df11n, df21n, df21n], dtype=np.int64),
            "df2": np.array([df11d, df21d, df21d, df11d, df21d, df21d], dtype=np.int64),
            "p": [p11, p21, p21, p11, p21, p21],
            "lower": lower,
            "upper": upper,
        },
        index=pd.Index(ICC_TYPES, name="type"),
    )


def icc(
    data: Any,
    *,
    layout: str = "wide",
    targets: str | None = None,
    raters: Any = None,
    scores: str | None = None,
    scale: tuple[float, float] | None = None,
    method: str = "auto",
    confidence_level: float = 0.95,
) -> ICCResult:
    """Intraclass correlations of ratings: the six Shrout-Fleiss forms, as ``psych::ICC``.

    Estimates how much of the variance of the scores lies between candidates (targets) rather
    than between raters or in rater-by-candidate noise. The model is
    ``score = mu + candidate + rater + error`` with independent normal effects.

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        ``layout="wide"``: rows are candidates, columns are raters (NaN = not rated).
        ``layout="long"``: one row per rating with candidate, rater and score columns.
    layout : {"wide", "long"}
    targets : str, optional
        Wide: name of a candidate-id column (used in messages and ``targets``). Long: the
        candidate column (required).
    raters : list of str or str, optional
        Wide: the rater columns (default: every column but ``targets``). Long: the rater
        column (required).
    scores : str, optional
        Long only: the score column (required).
    scale : (min, max), optional
        The rubric's declared range; a score outside it raises.
    method : {"auto", "anova", "reml"}
        ``"anova"``: two-way ANOVA mean squares (psych ``lmer=FALSE``), needs complete ratings.
        ``"reml"``: REML variance components (psych ``lmer=TRUE``). ``"auto"`` (default) uses
        ANOVA when every rating is present and REML otherwise.
    confidence_level : float
        Level of the intervals (psych ``alpha = 1 - confidence_level``).

    Returns
    -------
    ICCResult
        ``results`` (icc, f, df1, df2, p, lower, upper for ICC1 ... ICC3k), ``anova``, ``msw``,
        ``variance_components``, counts; ``res["ICC2"]`` gives one value.

    Raises
    ------
    DataError
        Fewer than 2 raters or 2 candidates, a rater with no ratings, a candidate with no
        ratings, a non-numeric score or one outside ``scale``; ``method="anova"`` with missing
        ratings.
    SpecificationError
        A bad ``layout``, ``method``, ``scale`` or ``confidence_level``.

    Notes
    -----
    With mean squares between candidates ``MSB``, between raters ``MSJ``, residual ``MSE``,
    within candidates ``MSW`` for ``n`` candidates and ``k`` raters:
    ``ICC1 = (MSB - MSW) / (MSB + (k-1) MSW)``,
    ``ICC2 = (MSB - MSE) / (MSB + (k-1) MSE + k (MSJ - MSE) / n)``,
    ``ICC3 = (MSB - MSE) / (MSB + (k-1) MSE)``, ``ICC1k = (MSB - MSW) / MSB``,
    ``ICC2k = (MSB - MSE) / (MSB + (MSJ - MSE) / n)``, ``ICC3k = (MSB - MSE) / MSB``.
    F tests and intervals follow Shrout & Fleiss (1979) and, for ICC2, McGraw & Wong (1996), in
    psych's algebra. Under REML (missing ratings) the variance components ``s2_t, s2_r, s2_e``
    give ``MSB = k s2_t + s2_e``, ``MSJ = n s2_r + s2_e``, ``MSE = s2_e``,
    ``MSW = s2_e + s2_r`` and the complete-design degrees of freedom, as psych does.

    References
    ----------
    Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: Uses in assessing rater
    reliability. Psychological Bulletin, 86(2), 420-428. https://doi.org/10.1037/0033-2909.86.2.420

    McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass correlation
    coefficients. Psychological Methods, 1(1), 30-46. https://doi.org/10.1037/1082-989X.1.1.30

    Bates, D., Maechler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
    models using lme4. Journal of Statistical Software, 67(1). https://doi.org/10.18637/jss.v067.i01

    Examples
    --------
    Four raters score six candidates on a 1-4 rubric (Shrout & Fleiss 1979 use 1-10):

    >>> import psychoval as pv
    >>> scores = [[2, 3, 2, 3], [4, 4, 4, 4], [2, 2, 2, 3],
    ...           [2, 1, 2, 2], [1, 2, 1, 1], [3, 4, 3, 3]]
    >>> res = pv.icc(scores, scale=(1, 4))
    >>> round(res["ICC2"], 4)  # R: psych::ICC(scores, lmer = FALSE)$results$ICC[2]
    0.8095
    """
    check_choice("method", method, ("auto", "anova", "reml"))
    alpha = 1.0 - check_confidence_level(confidence_level)
    r = as_ratings(data, layout=layout, targets=targets, raters=raters, scores=scores,
                   scale=scale, what="icc data")
    require_ratings_per_target(r, at_least=1, why="every candidate needs at least one rating")
    y = r.values
    n, k = y.shape
    incomplete = r.n_missing > 0
    if method == "anova" and incomplete:
        i, j = np.argwhere(np.isnan(y))[0]
        raise DataError(
            f"rater {r.raters[j]!r} did not score {r.target(int(i))} ({r.n_missing} missing "
            "rating(s)); the ANOVA ICC needs complete ratings: use method='reml' (psych's "
            "lmer=TRUE) or method='auto'"
        )
    use_reml = method == "reml" or (method == "auto" and incomplete)
    from scipy import stats

    dfb, dfj, dfe = n - 1, k - 1, (n - 1) * (k - 1)
    deviance = None
    converged = True
    if use_reml:
        comps, converged, deviance = _CrossedREML(y).fit()
        if not converged:
            warn(
                "the REML fit of the candidate and rater variance components did not converge; "
                "the ICCs are rough (result.converged is False)",
                ConvergenceWarning, stacklevel=2)
        mse = comps["residual"]
        msb = k * comps["target"] + mse
        msj = n * comps["rater"] + mse
        msw = mse + comps["rater"]
        ss = (msb * dfb, msj * dfj, mse * dfe)
        method_name = "reml"
    else:
        a = _anova_ms(y)
        msb, msj, mse, msw = a["msb"], a["msj"], a["mse"], a["msw"]
        ss = (a["ssb"], a["ssj"], a["sse"])
        comps = {"target": (msb - mse) / k, "rater": (msj - mse) / n, "residual": mse}
        method_name = "anova"
    table = _icc_table(msb, msj, mse, msw, n, k, alpha)
    anova = pd.DataFrame(
        {"df": np.array([dfb, dfj, dfe], dtype=np.int64), "sum_sq": ss,
         "mean_sq": [msb, msj, mse],
         "f": [msb / mse, msj / mse, np.nan],
         "p": [float(stats.f.sf(msb / mse, dfb, dfe)), float(stats.f.sf(msj / mse, dfj, dfe)),
               np.nan]},
        index=pd.Index(["targets", "raters", "residual"], name="source"))
    return ICCResult(
        results=table, anova=anova, msw=float(msw), variance_components=comps,
        method=method_name, n_targets=n, n_raters=k, n_ratings=r.n_ratings,
        n_missing=r.n_missing, confidence_level=1.0 - alpha, converged=converged,
        targets=tuple(r.targets.tolist()), raters=r.raters, reml_deviance=deviance)
