"""Cohen's kappa (two raters, weighted and unweighted, as psych::cohen.kappa), all-pairs Cohen's
kappa, and Fleiss' kappa (many raters) with standard errors and intervals.

Length: Cohen's (weighted and unweighted, with psych's intervals), pairwise and Fleiss' kappas
with their result classes.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import check_choice, check_confidence_level
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, DegenerateDataWarning, SpecificationError, warn
from psychoval.stats.raters._ratings import (
    Ratings,
    as_ratings,
    require_ratings_per_target,
)

__all__ = [
    "cohen_kappa",
    "pairwise_kappa",
    "fleiss_kappa",
    "CohenKappaResult",
    "PairwiseKappaResult",
    "FleissKappaResult",
]


# --------------------------------------------------------------------------- levels, weights


def _levels(r: Ratings, levels: Any, scale: tuple[float, float] | None) -> np.ndarray:
    """The rating categories: ``levels=`` if given, else the integers of an integer ``scale``,
    else the sorted observed values. Raises naming a score that is not a category."""
    v = r.values
    if levels is None:
        if scale is not None and all(float(s).is_integer() for s in scale):
            lev = np.arange(scale[0], scale[1] + 1, dtype=float)
        else:
            lev = np.unique(v[~np.isnan(v)])
    else:
        try:
            lev = np.asarray(levels, dtype=float).ravel()
        except (TypeError, ValueError):
            raise SpecificationError(
                f"levels={levels!r} must be a list of the numeric rating categories, e.g. "
                "levels=[1, 2, 3, 4]"
            ) from None
        if lev.size < 2 or np.unique(lev).size != lev.size or np.isnan(lev).any():
            raise SpecificationError(
                f"levels={levels!r} must list at least two distinct numeric categories"
            )
        lev = np.sort(lev)
        bad = ~np.isnan(v) & ~np.isin(v, lev)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise DataError(
                f"rater {r.raters[j]!r} gave {v[i, j]:g} to {r.target(int(i))}, which is not "
                f"one of the levels {lev.tolist()}; correct the score or add it to levels="
            )
    return lev


def _weights(weights: Any, n_levels: int) -> tuple[np.ndarray, str]:
    idx = np.arange(n_levels)
    dist = np.abs(np.subtract.outer(idx, idx)) / max(n_levels - 1, 1)
    if isinstance(weights, str):
        check_choice("weights", weights, ("quadratic", "linear", "unweighted"))
        if weights == "quadratic":
            return 1.0 - dist**2, weights
        if weights == "linear":
            return 1.0 - dist, weights
        return np.eye(n_levels), weights
    w = np.asarray(weights, dtype=float)
    if w.shape != (n_levels, n_levels) or not np.isfinite(w).all():
        raise SpecificationError(
            f"weights must be 'quadratic', 'linear', 'unweighted' or a finite {n_levels} x "
            f"{n_levels} matrix of agreement weights (one row and column per level); got shape "
            f"{w.shape}"
        )
    return w, "custom"


# --------------------------------------------------------------------------- Cohen's kappa


@dataclasses.dataclass(frozen=True, repr=False)
class CohenKappaResult(Result):
    """Cohen's kappa of two raters, unweighted and weighted, with asymptotic intervals.

    Attributes
    ----------
    kappa, var_kappa, kappa_lower, kappa_upper : float
        Unweighted kappa, its asymptotic variance (Fleiss, Cohen & Everitt 1969) and interval.
    weighted_kappa, var_weighted, weighted_lower, weighted_upper : float
        Weighted kappa with ``weights`` (psych's default: quadratic), variance and interval.
    weights : str
        ``"quadratic"``, ``"linear"``, ``"unweighted"`` or ``"custom"``.
    variance : str
        ``"fce"`` (Fleiss, Cohen & Everitt 1969, the delta method) or ``"psych"``.
    agree : DataFrame
        Joint proportions (rows: first rater's levels, columns: second rater's).
    weight : DataFrame
        The agreement weights used.
    n_obs : int
        Candidates scored by both raters; ``n_dropped`` those scored by only one (left out).
    """

    kappa: float
    var_kappa: float
    kappa_lower: float
    kappa_upper: float
    weighted_kappa: float
    var_weighted: float
    weighted_lower: float
    weighted_upper: float
    weights: str
    variance: str
    agree: pd.DataFrame
    weight: pd.DataFrame
    levels: tuple[float, ...]
    n_obs: int
    n_dropped: int
    confidence_level: float
    raters: tuple[str, str]

    _schema: ClassVar[str] = "psychoval.cohen_kappa/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"kappa": self.kappa, "weighted_kappa": self.weighted_kappa,
                "weights": self.weights, "n_obs": self.n_obs}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "statistic": ["kappa", "weighted_kappa"],
            "estimate": [self.kappa, self.weighted_kappa],
            "variance": [self.var_kappa, self.var_weighted],
            "se": [math.sqrt(self.var_kappa), math.sqrt(self.var_weighted)],
            "lower": [self.kappa_lower, self.weighted_lower],
            "upper": [self.kappa_upper, self.weighted_upper],
            "weights": ["unweighted", self.weights],
            "n_obs": [self.n_obs, self.n_obs],
        })

    def summary(self) -> Summary:
        level = f"{100 * self.confidence_level:g}%"
        facts = (("raters", " vs ".join(self.raters)), ("candidates rated by both", self.n_obs),
                 ("candidates rated by one only", self.n_dropped),
                 ("weights", self.weights), ("confidence level", level))
        notes = ["Intervals: estimate +/- z * sqrt(asymptotic variance), bounded to [-1, 1]."]
        if self.variance == "psych":
            notes.append("Weighted variance as psych 2.2.9 computes it (variance='psych'), "
                         "which differs from Fleiss, Cohen & Everitt (1969) for weighted kappa.")
        return Summary(title="Cohen's kappa", facts=facts,
                       tables=(("Agreement", self.to_frame().set_index("statistic")),
                               ("Joint proportions", self.agree)),
                       notes=tuple(notes))


def _cohen_core(x1: np.ndarray, x2: np.ndarray, lev: np.ndarray, w: np.ndarray,
                variance: str, alpha: float) -> dict[str, Any]:
    """psych::cohen.kappa1 on two complete vectors of category values."""
    from scipy import stats

    n_lev = lev.size
    i1 = np.searchsorted(lev, x1)
    i2 = np.searchsorted(lev, x2)
    tab = np.bincount(i1 * n_lev + i2, minlength=n_lev * n_lev).reshape(n_lev, n_lev)
    tot = float(tab.sum())
    x = tab / tot
    rs = x.sum(axis=1)
    cs = x.sum(axis=0)
    po = float(np.trace(x))
    pc = float(rs @ cs)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (po - pc) / (1 - pc)
        off = cs[:, None] + rs[None, :]
        diag_term = (1 - pc) - (rs + cs) * (1 - po)
        var_k = (float(np.sum(np.diag(x) * diag_term**2))
                 + (1 - po) ** 2 * (float(np.sum(x * off**2)) - float(np.sum(np.diag(x) * np.diag(off) ** 2)))
                 - (po * pc - 2 * pc + po) ** 2) / (tot * (1 - pc) ** 4)
        prob = np.outer(rs, cs)
        wpo = float(np.sum(w * x))
        wpc = float(np.sum(w * prob))
        w_row = w @ cs                      # sum_j w_ij p.j
        if variance == "psych":
            w_col = rs * w.sum(axis=1)      # psych 2.2.9: rowSums(w * rs)
        else:
            w_col = rs @ w                  # sum_i p_i. w_ij (Fleiss, Cohen & Everitt 1969)
        var_w = (float(np.sum(x * (w * (1 - wpc) - (w_row[:, None] + w_col[None, :]) * (1 - wpo)) ** 2))
                 - (wpo * wpc - 2 * wpc + wpo) ** 2) / (tot * (1 - wpc) ** 4)
        wkappa = (wpo - wpc) / (1 - wpc) if np.trace(w) > 0 else 1 - wpo / wpc
    degenerate = []
    if not np.isfinite(kappa) or not np.isfinite(var_k) or var_k < 0:
        degenerate.append("kappa")
        var_k = math.nan if not np.isfinite(var_k) or var_k < 0 else var_k
    if not np.isfinite(wkappa) or not np.isfinite(var_w) or var_w < 0:
        degenerate.append("weighted kappa")
        var_w = math.nan if not np.isfinite(var_w) or var_w < 0 else var_w
    z = float(stats.norm.ppf(1 - alpha / 2))
    with np.errstate(invalid="ignore"):
        bounds = np.array([kappa - z * math.sqrt(var_k), kappa + z * math.sqrt(var_k),
                           wkappa - z * math.sqrt(var_w), wkappa + z * math.sqrt(var_w)])
        bounds = np.clip(bounds, -1.0, 1.0)
    return {"kappa": float(kappa), "var_kappa": float(var_k), "kappa_lower": float(bounds[0]),
            "kappa_upper": float(bounds[1]), "weighted_kappa": float(wkappa),
            "var_weighted": float(var_w), "weighted_lower": float(bounds[2]),
            "weighted_upper": float(bounds[3]), "agree": x, "n_obs": int(tot),
            "degenerate": degenerate}


def _cohen_from_ratings(r: Ratings, j1: int, j2: int, lev: np.ndarray, w: np.ndarray,
                        wname: str, variance: str, alpha: float) -> CohenKappaResult:
    a, b = r.values[:, j1], r.values[:, j2]
    both = ~np.isnan(a) & ~np.isnan(b)
    n_both = int(both.sum())
    names = (r.raters[j1], r.raters[j2])
    if n_both < 2:
        raise DataError(
            f"raters {names[0]!r} and {names[1]!r} both scored {n_both} candidate(s); kappa "
            "needs at least 2 candidates scored by both"
        )
    core = _cohen_core(a[both], b[both], lev, w, variance, alpha)
    if core["degenerate"]:
        why = ("psych's weighted-variance formula is negative here: variance='fce' gives the "
               "delta-method variance" if variance == "psych" and np.isfinite(core["weighted_kappa"])
               else "the ratings fall in too few categories: chance agreement is 1")
        warn(
            f"raters {names[0]!r} and {names[1]!r}: {' and '.join(core['degenerate'])} or its "
            f"variance is undefined ({why}); reported as NaN",
            DegenerateDataWarning, stacklevel=3)
    labels = pd.Index(lev, name=names[0])
    return CohenKappaResult(
        kappa=core["kappa"], var_kappa=core["var_kappa"], kappa_lower=core["kappa_lower"],
        kappa_upper=core["kappa_upper"], weighted_kappa=core["weighted_kappa"],
        var_weighted=core["var_weighted"], weighted_lower=core["weighted_lower"],
        weighted_upper=core["weighted_upper"], weights=wname, variance=variance,
        agree=pd.DataFrame(core["agree"], index=labels, columns=pd.Index(lev, name=names[1])),
        weight=pd.DataFrame(w, index=pd.Index(lev), columns=pd.Index(lev)),
        levels=tuple(float(v) for v in lev), n_obs=core["n_obs"],
        n_dropped=int(np.count_nonzero(~both & (~np.isnan(a) | ~np.isnan(b)))),
        confidence_level=1.0 - alpha, raters=names)





def cohen_kappa(
    data: Any,
    *,
    layout: str = "wide",
    targets: str | None = None,
    raters: Any = None,
    scores: str | None = None,
    weights: Any = "quadratic",
    levels: Any = None,
    scale: tuple[float, float] | None = None,
    variance: str = "fce",
    confidence_level: float = 0.95,
) -> CohenKappaResult:
    """Cohen's kappa between two raters, unweighted and weighted, as ``psych::cohen.kappa``.

    Estimates agreement beyond chance between two raters who sort the same candidates into
    ordered (or unordered) categories. Both the unweighted kappa and a weighted kappa (partial
    credit for near misses) are returned, with asymptotic variances and intervals.

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        Ratings of exactly two raters (wide: two rater columns; long: two distinct raters).
    weights : {"quadratic", "linear", "unweighted"} or array
        Agreement weights of the weighted kappa: quadratic ``1 - (i-j)^2/(L-1)^2`` (psych's
        default), linear ``1 - |i-j|/(L-1)``, the identity, or an L x L matrix of agreement
        weights (disagreement weights with a zero diagonal also work, as in psych).
    variance : {"fce", "psych"}
        Asymptotic variance of the weighted kappa: ``"fce"`` (default) is Fleiss, Cohen &
        Everitt (1969), the delta-method variance; ``"psych"`` reproduces psych 2.2.9, which
        uses ``p_j. * sum_k w_jk`` where the formula has ``sum_i p_i. w_ij`` (identical for
        unweighted kappa, different for weighted). The unweighted variance is the same in both.
    confidence_level : float
        Level of the intervals (psych ``alpha = 1 - confidence_level``).
    layout : {"wide", "long"}
        ``"wide"``: rows are candidates, columns raters. ``"long"``: one row per rating.
    targets : str, optional
        Wide: an optional candidate-id column. Long: the candidate column.
    raters : list of str or str, optional
        Wide: the rater columns. Long: the rater column.
    scores : str, optional
        Long only: the score column.
    levels : sequence of numbers, optional
        The rating categories in order (psych ``levels``). Default: the integers of ``scale``
        when it has integer ends, else the values observed.
    scale : (min, max), optional
        The rubric's declared range; a score outside it raises.
    Returns
    -------
    CohenKappaResult

    Raises
    ------
    DataError
        Not exactly two raters, fewer than 2 candidates scored by both, a score outside
        ``levels`` or ``scale``, a non-numeric score.
    SpecificationError
        Bad ``weights``, ``levels``, ``variance``, ``scale`` or ``confidence_level``.

    Notes
    -----
    With joint proportions ``p_ij``, margins ``p_i.``, ``p_.j``: ``po = sum_i p_ii``,
    ``pc = sum_i p_i. p_.i``, ``kappa = (po - pc) / (1 - pc)``; weighted kappa replaces them by
    ``sum w_ij p_ij`` and ``sum w_ij p_i. p_.j``. Interval: ``kappa +/- z sqrt(var)``, bounded to
    [-1, 1] (as psych). Candidates scored by only one rater are left out; their count is
    ``n_dropped``.

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and
    Psychological Measurement, 20(1), 37-46. https://doi.org/10.1177/001316446002000104

    Cohen, J. (1968). Weighted kappa. Psychological Bulletin, 70(4), 213-220.
    https://doi.org/10.1037/h0026256

    Fleiss, J. L., Cohen, J., & Everitt, B. S. (1969). Large sample standard errors of kappa and
    weighted kappa. Psychological Bulletin, 72(5), 323-327. https://doi.org/10.1037/h0028106

    Examples
    --------
    >>> import pandas as pd, psychoval as pv
    >>> df = pd.DataFrame({"a": [1, 2, 2, 3, 4, 4, 3, 1, 2, 3],
    ...                    "b": [1, 2, 3, 3, 4, 3, 3, 1, 1, 3]})
    >>> res = pv.cohen_kappa(df)
    >>> round(res.kappa, 4)  # R: psych::cohen.kappa(df)$kappa
    0.5946
    """
    check_choice("variance", variance, ("fce", "psych"))
    alpha = 1.0 - check_confidence_level(confidence_level)
    r = as_ratings(data, layout=layout, targets=targets, raters=raters, scores=scores,
                   scale=scale, what="cohen_kappa data")
    if r.n_raters != 2:
        raise DataError(
            f"cohen_kappa compares exactly 2 raters; got {r.n_raters} "
            f"({', '.join(map(repr, r.raters))}): pass raters=[two columns], or use "
            "pairwise_kappa (every pair) or fleiss_kappa (many raters)"
        )
    lev = _levels(r, levels, None if scale is None else tuple(scale))
    w, wname = _weights(weights, lev.size)
    return _cohen_from_ratings(r, 0, 1, lev, w, wname, variance, alpha)


# --------------------------------------------------------------------------- all pairs


@dataclasses.dataclass(frozen=True, repr=False)
class PairwiseKappaResult(Result):
    """Cohen's kappa for every pair of raters (psych::cohen.kappa on more than two columns).

    Attributes
    ----------
    kappa, weighted_kappa : DataFrame
        Symmetric rater x rater matrices (diagonal 1). psych prints both in one matrix
        (unweighted below, weighted above the diagonal).
    av_kappa, av_weighted : float
        Means over the pairs (psych ``av.kappa``, ``av.wt``).
    pairs : tuple of CohenKappaResult
        One per pair, in psych's order.
    """

    kappa: pd.DataFrame
    weighted_kappa: pd.DataFrame
    av_kappa: float
    av_weighted: float
    pairs: tuple[CohenKappaResult, ...]
    weights: str
    raters: tuple[str, ...]

    _schema: ClassVar[str] = "psychoval.pairwise_kappa/1"

    def pair(self, rater_a: str, rater_b: str) -> CohenKappaResult:
        """The result of one pair (either order)."""
        for p in self.pairs:
            if set(p.raters) == {rater_a, rater_b} and rater_a != rater_b:
                return p
        raise SpecificationError(
            f"no pair ({rater_a!r}, {rater_b!r}); raters are {', '.join(map(repr, self.raters))}"
        )

    def _repr_fields(self) -> dict[str, Any]:
        return {"av_kappa": self.av_kappa, "av_weighted": self.av_weighted,
                "n_raters": len(self.raters)}

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for p in self.pairs:
            rows.append({"rater_a": p.raters[0], "rater_b": p.raters[1], "n_obs": p.n_obs,
                         "kappa": p.kappa, "kappa_lower": p.kappa_lower,
                         "kappa_upper": p.kappa_upper, "weighted_kappa": p.weighted_kappa,
                         "weighted_lower": p.weighted_lower, "weighted_upper": p.weighted_upper})
        return pd.DataFrame(rows)

    def summary(self) -> Summary:
        return Summary(title="Cohen's kappa, every pair of raters",
                       facts=(("raters", len(self.raters)), ("weights", self.weights),
                              ("mean kappa", self.av_kappa),
                              ("mean weighted kappa", self.av_weighted)),
                       tables=(("Pairs", self.to_frame().set_index(["rater_a", "rater_b"])),))


def pairwise_kappa(
    data: Any,
    *,
    layout: str = "wide",
    targets: str | None = None,
    raters: Any = None,
    scores: str | None = None,
    weights: Any = "quadratic",
    levels: Any = None,
    scale: tuple[float, float] | None = None,
    variance: str = "fce",
    confidence_level: float = 0.95,
) -> PairwiseKappaResult:
    """Cohen's kappa for every pair of raters, as ``psych::cohen.kappa`` on several columns.

    Each pair uses the candidates both raters scored. Parameters as :func:`cohen_kappa`.

    Returns
    -------
    PairwiseKappaResult
        ``kappa`` and ``weighted_kappa`` matrices, their means ``av_kappa`` / ``av_weighted``
        and one :class:`CohenKappaResult` per pair.

    Examples
    --------
    >>> import pandas as pd, psychoval as pv
    >>> df = pd.DataFrame({"r1": [1, 2, 3, 4, 2, 3, 1, 4], "r2": [1, 2, 3, 3, 2, 4, 1, 4],
    ...                    "r3": [2, 2, 3, 4, 1, 3, 1, 3]})
    >>> res = pv.pairwise_kappa(df)
    >>> round(res.av_kappa, 4), round(res.av_weighted, 4)  # R: psych::cohen.kappa(df)$av.kappa
    (0.4444, 0.8185)
    """
    check_choice("variance", variance, ("fce", "psych"))
    alpha = 1.0 - check_confidence_level(confidence_level)
    r = as_ratings(data, layout=layout, targets=targets, raters=raters, scores=scores,
                   scale=scale, what="pairwise_kappa data")
    lev = _levels(r, levels, None if scale is None else tuple(scale))
    w, wname = _weights(weights, lev.size)
    k = r.n_raters
    km = np.eye(k)
    wm = np.eye(k)
    pairs = []
    for i in range(1, k):          # psych's order: i = 2..nvar, j = 1..i-1
        for j in range(i):
            res = _cohen_from_ratings(r, j, i, lev, w, wname, variance, alpha)
            pairs.append(res)
            km[i, j] = km[j, i] = res.kappa
            wm[i, j] = wm[j, i] = res.weighted_kappa
    low = np.tril_indices(k, -1)
    names = pd.Index(r.raters)
    return PairwiseKappaResult(
        kappa=pd.DataFrame(km, index=names, columns=names),
        weighted_kappa=pd.DataFrame(wm, index=names, columns=names),
        av_kappa=float(np.nanmean(km[low])), av_weighted=float(np.nanmean(wm[low])),
        pairs=tuple(pairs), weights=wname, raters=r.raters)


# --------------------------------------------------------------------------- Fleiss' kappa


@dataclasses.dataclass(frozen=True, repr=False)
class FleissKappaResult(Result):
    """Fleiss' kappa for many raters per candidate, with standard errors and an interval.

    Attributes
    ----------
    kappa : float
        Fleiss (1971) kappa.
    se, lower, upper : float
        Large-sample (non-null) standard error of Gwet (2008), the delta method over
        candidates, and the interval ``kappa +/- t(n-1) * se``.
    se0, z, p : float
        Standard error under the null hypothesis of chance agreement (Fleiss, Nee & Landis
        1979), ``z = kappa / se0`` and its two-sided p-value: a test, not an interval.
    p_o, p_e : float
        Observed and chance agreement.
    categories : DataFrame
        Per category: ``proportion`` and ``kappa`` (Fleiss 1971's category kappas).
    n_targets, n_raters : int
        Candidates, and ratings per candidate.
    """

    kappa: float
    se: float
    lower: float
    upper: float
    se0: float
    z: float
    p: float
    p_o: float
    p_e: float
    categories: pd.DataFrame
    n_targets: int
    n_raters: int
    confidence_level: float

    _schema: ClassVar[str] = "psychoval.fleiss_kappa/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"kappa": self.kappa, "se": self.se, "n_targets": self.n_targets,
                "n_raters": self.n_raters}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "kappa": self.kappa, "se": self.se, "lower": self.lower, "upper": self.upper,
            "se0": self.se0, "z": self.z, "p": self.p, "p_o": self.p_o, "p_e": self.p_e,
            "n_targets": self.n_targets, "n_raters": self.n_raters}])

    def summary(self) -> Summary:
        level = f"{100 * self.confidence_level:g}%"
        return Summary(
            title="Fleiss' kappa",
            facts=(("kappa", self.kappa), ("se", self.se), (f"{level} lower", self.lower),
                   (f"{level} upper", self.upper), ("z (null se)", self.z), ("p", self.p),
                   ("candidates", self.n_targets), ("ratings per candidate", self.n_raters)),
            tables=(("Categories", self.categories),),
            notes=("se: Gwet (2008) large-sample standard error (for the interval); "
                   "z uses the null standard error of Fleiss, Nee & Landis (1979).",))


def fleiss_kappa(
    data: Any,
    *,
    layout: str = "wide",
    targets: str | None = None,
    raters: Any = None,
    scores: str | None = None,
    levels: Any = None,
    scale: tuple[float, float] | None = None,
    confidence_level: float = 0.95,
) -> FleissKappaResult:
    """Fleiss' kappa: chance-corrected agreement of many raters on nominal categories.

    Each candidate is sorted into a category by the same number ``m >= 2`` of raters (not
    necessarily the same raters). Estimates agreement beyond chance with its standard error and
    interval, a test against chance agreement, and a kappa per category.

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        ``layout="wide"``: rows candidates, columns raters, cells the category given.
        ``layout="long"``: one row per rating. ``layout="counts"``: rows candidates, columns
        categories, cells how many raters chose that category (Fleiss 1971's table).
    confidence_level : float
        Level of the interval.
    layout : {"wide", "long", "counts"}
        The table layout, as described under ``data``.
    targets : str, optional
        Wide: an optional candidate-id column. Long: the candidate column.
    raters : list of str or str, optional
        Wide: the rater columns. Long: the rater column.
    scores : str, optional
        Long only: the score column.
    levels : sequence of numbers, optional
        The rating categories in order (psych ``levels``). Default: the integers of ``scale``
        when it has integer ends, else the values observed.
    scale : (min, max), optional
        The rubric's declared range; a score outside it raises.
    Returns
    -------
    FleissKappaResult

    Raises
    ------
    DataError
        A candidate with a different number of ratings than the others, or with fewer than
        two (name given), a score outside ``levels``/``scale``, a non-numeric score.

    Notes
    -----
    With ``n_ij`` raters putting candidate ``i`` in category ``j``, ``N`` candidates, ``m``
    ratings each: ``p_j = sum_i n_ij / (N m)``, ``P_i = sum_j n_ij (n_ij - 1) / (m (m - 1))``,
    ``p_o = mean P_i``, ``p_e = sum p_j^2``, ``kappa = (p_o - p_e) / (1 - p_e)``.
    ``se^2 = sum_i (k_i - kappa)^2 / (N (N-1))`` with the linearized candidate terms
    ``k_i = (P_i - p_e)/(1 - p_e) - 2 (1 - kappa) (pe_i - p_e)/(1 - p_e)``,
    ``pe_i = sum_j (n_ij / m) p_j`` (Gwet 2008). Null:
    ``se0 = sqrt(2 / (N m (m-1))) sqrt((sum p_j q_j)^2 - sum p_j q_j (q_j - p_j)) / sum p_j q_j``.

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
    Bulletin, 76(5), 378-382. https://doi.org/10.1037/h0031619

    Fleiss, J. L., Nee, J. C. M., & Landis, J. R. (1979). Large sample variance of kappa in the
    case of different sets of raters. Psychological Bulletin, 86(5), 974-977.
    https://doi.org/10.1037/0033-2909.86.5.974

    Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of
    high agreement. British Journal of Mathematical and Statistical Psychology, 61(1), 29-48.
    https://doi.org/10.1348/000711006X126600

    Examples
    --------
    >>> import psychoval as pv
    >>> counts = [[0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6]]
    >>> round(pv.fleiss_kappa(counts, layout="counts").kappa, 4)  # statsmodels fleiss_kappa
    0.5765
    """
    from scipy import stats

    alpha = 1.0 - check_confidence_level(confidence_level)
    check_choice("layout", layout, ("wide", "long", "counts"))
    if layout == "counts":
        counts, cats, ids = _counts_input(data, targets, raters, scores, levels, scale)
        m_i = counts.sum(axis=1)
        if m_i.size < 2:
            raise DataError(f"fleiss_kappa needs at least 2 candidates; got {m_i.size}")
        from psychoval.stats.raters._ratings import describe_target

        bad = np.flatnonzero((m_i != m_i[0]) | (m_i < 2))
        if bad.size:
            i = int(bad[0])
            raise DataError(
                f"{describe_target(ids, i)} was rated {int(m_i[i])} time(s) but "
                f"{describe_target(ids, 0)} {int(m_i[0])} time(s); Fleiss' kappa needs the same "
                "number (at least 2) of ratings of every candidate: use krippendorff_alpha for "
                "unequal or missing ratings"
            )
    else:
        r = as_ratings(data, layout=layout, targets=targets, raters=raters, scores=scores,
                       scale=scale, what="fleiss_kappa data")
        require_ratings_per_target(
            r, at_least=2, why="Fleiss' kappa needs at least 2 ratings of every candidate")
        m_i = np.count_nonzero(~np.isnan(r.values), axis=1)
        if (m_i != m_i[0]).any():
            i = int(np.flatnonzero(m_i != m_i[0])[0])
            raise DataError(
                f"{r.target(i)} has {int(m_i[i])} ratings but {r.target(0)} has {int(m_i[0])}; "
                "Fleiss' kappa needs the same number of ratings of every candidate: use "
                "krippendorff_alpha for unequal or missing ratings"
            )
        cats = _levels(r, levels, None if scale is None else tuple(scale))
        obs = ~np.isnan(r.values)
        code = np.searchsorted(cats, np.where(obs, r.values, cats[0]))
        rows = np.repeat(np.arange(r.n_targets), r.n_raters).reshape(r.values.shape)
        counts = np.bincount(rows[obs] * cats.size + code[obs],
                             minlength=r.n_targets * cats.size
                             ).reshape(r.n_targets, cats.size).astype(float)
    n_t = counts.shape[0]
    m = float(counts[0].sum())
    p_j = counts.sum(axis=0) / (n_t * m)
    q_j = 1.0 - p_j
    p_i = (counts * (counts - 1)).sum(axis=1) / (m * (m - 1))
    p_o = np.float64(p_i.mean())
    p_e = np.float64(np.sum(p_j**2))
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (p_o - p_e) / (1 - p_e)
        pe_i = (counts / m) @ p_j
        k_i = (p_i - p_e) / (1 - p_e) - 2 * (1 - kappa) * (pe_i - p_e) / (1 - p_e)
        se = float(np.sqrt(np.sum((k_i - kappa) ** 2) / (n_t * (n_t - 1))))
        pq = float(np.sum(p_j * q_j))
        se0 = (math.sqrt(2.0 / (n_t * m * (m - 1)))
               * math.sqrt(max(pq**2 - float(np.sum(p_j * q_j * (q_j - p_j))), 0.0)) / pq
               if pq > 0 else math.nan)
        z = np.float64(kappa) / se0
        kappa_j = 1 - (counts * (m - counts)).sum(axis=0) / (n_t * m * (m - 1) * p_j * q_j)
    if not np.isfinite(kappa):
        warn(
            "Fleiss' kappa is undefined: every rating falls in one category (chance agreement "
            "is 1); reported as NaN", DegenerateDataWarning, stacklevel=2)
    t = float(stats.t.ppf(1 - alpha / 2, n_t - 1))
    p = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else math.nan
    return FleissKappaResult(
        kappa=float(kappa), se=se, lower=float(kappa - t * se), upper=float(kappa + t * se),
        se0=float(se0), z=float(z), p=p, p_o=float(p_o), p_e=float(p_e),
        categories=pd.DataFrame({"proportion": p_j, "kappa": kappa_j},
                                index=pd.Index(cats, name="category")),
        n_targets=n_t, n_raters=int(m), confidence_level=1.0 - alpha)


def _counts_input(data: Any, targets: Any, raters: Any, scores: Any, levels: Any,
                  scale: Any) -> tuple[np.ndarray, Any, pd.Index]:
    if raters is not None or scores is not None or scale is not None:
        raise SpecificationError(
            "layout='counts' takes a candidates x categories table of counts; raters=, "
            "scores= and scale= do not apply (targets= may name an id column)"
        )
    from psychoval._input import as_item_matrix

    if isinstance(data, pd.DataFrame) and targets is not None:
        data = data.set_index(str(targets))
    m = as_item_matrix(data, min_items=2, min_rows=1, what="fleiss_kappa counts")
    v = m.values
    bad = np.isnan(v) | (v < 0) | (np.mod(v, 1) != 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"category {m.items[j]!r} has the count {v[i, j]:g} at {m.row(int(i))}; counts "
            "must be whole numbers >= 0 (no missing cells)"
        )
    cats: Any = m.items if levels is None else tuple(levels)
    if len(cats) != v.shape[1]:
        raise SpecificationError(
            f"levels= names {len(cats)} categories but the counts table has {v.shape[1]} columns"
        )
    return v, np.asarray(cats, dtype=object), m.ids
