"""Kuder-Richardson 20 and 21 for dichotomous items; standard error of measurement."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import (
    apply_missing,
    as_item_matrix,
    check_choice,
    check_confidence_level,
)
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._moments import alpha_from_cov
from psychoval.stats.reliability._common import check_variances, reverse_items

__all__ = ["kr20", "kr21", "KRResult", "sem_score", "SEMResult"]


@dataclasses.dataclass(frozen=True, repr=False)
class KRResult(Result):
    """A Kuder-Richardson coefficient and the totals it rests on (see :func:`kr20`)."""

    statistic: str  # "kr20" or "kr21"
    estimate: float
    variance: str  # divisor of the total-score variance: "population" (n) or "sample" (n-1)
    n: int
    k: int
    mean_total: float
    var_total_pop: float
    var_total_sample: float
    p: pd.Series
    pq: pd.Series
    missing: str
    rows_dropped: int

    _schema = "psychoval.kr/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {self.statistic: self.estimate, "k": self.k, "n": self.n}

    def summary(self) -> Summary:
        name = "KR-20" if self.statistic == "kr20" else "KR-21"
        facts = ((name, self.estimate), ("items", self.k), ("respondents used", self.n),
                 ("mean total", self.mean_total),
                 (f"total variance ({self.variance})",
                  self.var_total_pop if self.variance == "population" else self.var_total_sample))
        notes = (f"missing={self.missing!r}; {self.rows_dropped} row(s) dropped",)
        tab = pd.DataFrame({"p": self.p, "pq": self.pq})
        return Summary(title=name, facts=facts, tables=(("Items", tab),), notes=notes)

    def to_frame(self) -> pd.DataFrame:
        out = pd.DataFrame({"item": self.p.index.astype(str), "p": self.p.to_numpy(),
                            "pq": self.pq.to_numpy()})
        return out


def _dichotomous(data: Any, missing: str):
    m = as_item_matrix(data, min_items=2, min_rows=2)
    m, info = apply_missing(m, missing, allowed=("listwise", "raise"))
    x = m.values
    bad = ~np.isnan(x) & (x != 0) & (x != 1)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"item {m.items[c]!r} has the value {x[r, c]:g} at {m.row(int(r))}; KR-20/21 need "
            "items scored 0/1 (score them first, e.g. with answer_key=, or use alpha())")
    check_variances(m)
    return m, info


def _totals(x: np.ndarray) -> tuple[float, float, float, np.ndarray]:
    n = x.shape[0]
    total = x.sum(axis=1)
    mean = float(total.mean())
    ss = float(((total - mean) ** 2).sum())
    return mean, ss / n, ss / (n - 1), x.mean(axis=0)


def kr20(data: Any, *, missing: str = "listwise") -> KRResult:
    """Kuder-Richardson formula 20: alpha for items scored 0/1.

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        Respondents in rows, items scored 0/1 in columns (NaN = missing).
    missing : {"listwise", "raise"}
        Incomplete rows are dropped (the number is a field), or an error is raised.

    Returns
    -------
    KRResult
        ``estimate``; ``n``, ``k``, ``mean_total``, ``var_total_pop`` (divisor n),
        ``var_total_sample`` (divisor n-1); item difficulties ``p`` and ``pq``.

    Raises
    ------
    DataError
        A value other than 0/1, fewer than 2 items or complete rows, an item without variance.

    Notes
    -----
    ``KR20 = k/(k-1) (1 - sum p_j q_j / var(X))`` with divisor-n variances; it equals
    Cronbach's alpha of the same (complete) data.

    References
    ----------
    Kuder, G. F., & Richardson, M. W. (1937). The theory of the estimation of test
    reliability. Psychometrika, 2, 151-160. https://doi.org/10.1007/BF02288391

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> x = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 0, 0], [1, 1, 0]])
    >>> round(pv.kr20(x).estimate, 6)   # psych::alpha(as.data.frame(x))$total$raw_alpha
    0.692308
    """
    m, info = _dichotomous(data, missing)
    x = m.values
    n, k = x.shape
    mean, vpop, vsam, p = _totals(x)
    pq = p * (1 - p)
    est = k / (k - 1) * (1 - pq.sum() / vpop)
    idx = pd.Index(m.items, name="item")
    return KRResult(statistic="kr20", estimate=float(est), variance="population", n=n, k=k,
                    mean_total=mean, var_total_pop=vpop, var_total_sample=vsam,
                    p=pd.Series(p, index=idx, name="p"), pq=pd.Series(pq, index=idx, name="pq"),
                    missing=info.policy, rows_dropped=len(info.rows_dropped))


def kr21(data: Any, *, missing: str = "listwise", variance: str = "population") -> KRResult:
    """Kuder-Richardson formula 21: KR-20 assuming all items are equally difficult.

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        Respondents in rows, items scored 0/1.
    missing : {"listwise", "raise"}
        As :func:`kr20`.
    variance : {"population", "sample"}
        Divisor of the total-score variance: n (as KR's original formula) or n - 1.

    Returns
    -------
    KRResult

    Raises
    ------
    DataError
        As :func:`kr20`.

    Notes
    -----
    ``KR21 = k/(k-1) (1 - M (k - M) / (k var(X)))`` with M the mean total score. KR-21 is
    never above KR-20.

    References
    ----------
    Kuder, G. F., & Richardson, M. W. (1937). The theory of the estimation of test
    reliability. Psychometrika, 2, 151-160. https://doi.org/10.1007/BF02288391

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> x = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 0, 0], [1, 1, 0]])
    >>> round(pv.kr21(x).estimate, 6)   # m <- mean(rowSums(x)); v <- mean((rowSums(x) - m)^2)
    0.423077
    """
    check_choice("variance", variance, ("population", "sample"))
    m, info = _dichotomous(data, missing)
    x = m.values
    n, k = x.shape
    mean, vpop, vsam, p = _totals(x)
    v = vpop if variance == "population" else vsam
    est = k / (k - 1) * (1 - mean * (k - mean) / (k * v))
    idx = pd.Index(m.items, name="item")
    return KRResult(statistic="kr21", estimate=float(est), variance=variance, n=n, k=k,
                    mean_total=mean, var_total_pop=vpop, var_total_sample=vsam,
                    p=pd.Series(p, index=idx, name="p"),
                    pq=pd.Series(p * (1 - p), index=idx, name="pq"),
                    missing=info.policy, rows_dropped=len(info.rows_dropped))


@dataclasses.dataclass(frozen=True, repr=False)
class SEMResult(Result):
    """Standard error of measurement and score intervals (see :func:`sem_score`)."""

    sem: float
    see: float
    reliability: float
    reliability_source: str
    sd_total: float
    mean_total: float
    score: str
    confidence_level: float
    intervals: pd.DataFrame
    n: int
    k: int
    missing: str
    rows_dropped: int

    _schema = "psychoval.sem_score/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"sem": self.sem, "reliability": self.reliability, "sd_total": self.sd_total}

    def summary(self) -> Summary:
        facts = (("standard error of measurement", self.sem),
                 ("standard error of estimation", self.see),
                 (f"reliability ({self.reliability_source})", self.reliability),
                 (f"sd of the {self.score} score", self.sd_total),
                 (f"mean of the {self.score} score", self.mean_total),
                 ("respondents used", self.n), ("items", self.k))
        notes = (f"{self.confidence_level:.0%} intervals: observed score +/- z SEM; "
                 "true score (Kelley) +/- z SEE",)
        return Summary(title="Standard error of measurement", facts=facts, notes=notes)

    def to_frame(self) -> pd.DataFrame:
        out = self.intervals.copy()
        out.insert(0, "respondent", out.index.astype(str))
        return out.reset_index(drop=True)


def sem_score(
    data: Any,
    *,
    reliability: float | str = "alpha",
    score: str = "sum",
    reverse: Sequence[str] | str | None = None,
    confidence_level: float = 0.95,
    missing: str = "listwise",
    reverse_range: tuple[float, float] | None = None,
) -> SEMResult:
    """Standard error of measurement of a scale score, with observed- and true-score intervals.

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        Respondents in rows, items in columns.
    reliability : float or {"alpha", "kr20"}
        The reliability to use, or the coefficient to compute from the same rows.
    score : {"sum", "mean"}
        Total (sum) or mean item score.
    reverse : sequence of str, optional
        Items reverse-keyed first (``lo + hi - x``; observed range unless ``reverse_range``).
    confidence_level : float
        Coverage of the intervals.
    missing : {"listwise", "raise"}
        Scores need every item: incomplete rows are dropped (counted) or raise.
    reverse_range : (float, float), optional
        Scale endpoints for reverse-keying.

    Returns
    -------
    SEMResult
        ``sem``, ``see``, ``reliability``, ``sd_total``, ``mean_total`` and ``intervals``:
        per respondent ``score``, ``lower``, ``upper`` (score +/- z SEM), ``true_score``
        (Kelley's regressed estimate), ``true_lower``, ``true_upper`` (+/- z SEE).

    Raises
    ------
    DataError
        Bad data (as :func:`alpha`).
    SpecificationError
        A reliability outside [0, 1] or an unknown option.

    Notes
    -----
    ``SEM = SD_X sqrt(1 - rho)``; Kelley's true-score estimate ``T = rho X + (1 - rho) M``
    with standard error of estimation ``SEE = SD_X sqrt(rho (1 - rho))``. SD_X uses the
    divisor n - 1.

    References
    ----------
    Kelley, T. L. (1947). Fundamentals of statistics. Harvard University Press.

    Harvill, L. M. (1991). Standard error of measurement. Educational Measurement: Issues and
    Practice, 10(2), 33-41. https://doi.org/10.1111/j.1745-3992.1991.tb00195.x

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> x = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4], [5, 4, 5]])
    >>> res = pv.sem_score(x, reliability=0.9)
    >>> round(res.sem, 6)   # sd(rowSums(x)) * sqrt(1 - 0.9)
    1.161895
    """
    check_choice("score", score, ("sum", "mean"))
    cl = check_confidence_level(confidence_level)
    m = as_item_matrix(data, min_items=1, min_rows=2)
    m, info = apply_missing(m, missing, allowed=("listwise", "raise"))
    check_variances(m)
    m, _, _ = reverse_items(m, reverse, reverse_range)
    x = m.values
    n, k = x.shape
    if isinstance(reliability, str):
        check_choice("reliability", reliability, ("alpha", "kr20"))
        if reliability == "kr20":
            rel = kr20(x).estimate
        else:
            if k < 2:
                raise DataError("alpha needs at least 2 items; pass reliability= as a number")
            c = np.cov(x, rowvar=False)
            rel = alpha_from_cov(c)
        source = reliability
    else:
        try:
            rel = float(reliability)
        except (TypeError, ValueError) as exc:
            raise SpecificationError(
                f"reliability={reliability!r} must be a number in [0, 1], 'alpha' or 'kr20'"
            ) from exc
        source = "given"
    if not 0.0 <= rel <= 1.0:
        raise SpecificationError(
            f"reliability {rel!r} is outside [0, 1]; the SEM is undefined (negative alpha means "
            "the items are not a scale: check reverse-keying)")
    from scipy.stats import norm

    total = x.sum(axis=1) if score == "sum" else x.mean(axis=1)
    mean = float(total.mean())
    sd = float(total.std(ddof=1))
    sem = sd * math.sqrt(1.0 - rel)
    see = sd * math.sqrt(rel * (1.0 - rel))
    z = float(norm.ppf(1.0 - (1.0 - cl) / 2.0))
    true = rel * total + (1.0 - rel) * mean
    intervals = pd.DataFrame({"score": total, "lower": total - z * sem, "upper": total + z * sem,
                              "true_score": true, "true_lower": true - z * see,
                              "true_upper": true + z * see}, index=m.ids)
    return SEMResult(sem=sem, see=see, reliability=float(rel), reliability_source=source,
                     sd_total=sd, mean_total=mean, score=score, confidence_level=cl,
                     intervals=intervals, n=n, k=k, missing=info.policy,
                     rows_dropped=len(info.rows_dropped))
