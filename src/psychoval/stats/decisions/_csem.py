"""Conditional standard error of measurement of number-correct scores: Lord's binomial error
model and Keats' adjustment of it to the test's reliability."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import apply_missing, as_item_matrix, check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._moments import alpha_from_cov

__all__ = ["conditional_sem", "ConditionalSEMResult"]


@dataclasses.dataclass(frozen=True, repr=False)
class ConditionalSEMResult(Result):
    """Conditional SEM at each raw score (and at the cut scores asked for).

    Attributes
    ----------
    table : DataFrame
        One row per score 0..n: ``score``, ``csem_lord`` (binomial error,
        sqrt(x (n - x) / (n - 1))), ``csem_keats`` (Lord's times sqrt((1 - r) / (1 - KR-21))),
        ``n_observed`` (respondents with that score; 0 without data).
    at : DataFrame
        The same columns at the scores given by ``at=`` (cut scores), which need not be
        integers.
    n_items : int
    reliability : float
        Reliability used by Keats' adjustment (NaN when none is known: Keats' column is NaN).
    reliability_source : str
    kr21 : float
        KR-21 of the scores (NaN without scores).
    sem_overall : float
        The classical SEM, SD sqrt(1 - reliability) (NaN without scores or reliability).
    n_total, n_used : int or None
    rows_dropped : tuple of int
    """

    _schema: ClassVar[str] = "psychoval.conditional_sem/1"
    table: pd.DataFrame
    at: pd.DataFrame
    n_items: int
    reliability: float
    reliability_source: str
    kr21: float
    sem_overall: float
    n_total: int | None
    n_used: int | None
    rows_dropped: tuple[int, ...]

    def _repr_fields(self) -> dict[str, Any]:
        return {"n_items": self.n_items, "reliability": self.reliability,
                "sem_overall": self.sem_overall}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        facts = (("Items", self.n_items), ("Reliability", self.reliability),
                 ("Reliability source", self.reliability_source), ("KR-21", self.kr21),
                 ("Classical SEM", self.sem_overall))
        tables = [("At the cut scores", self.at.set_index("score"))] if len(self.at) else []
        tables.append(("By score", self.table.set_index("score")))
        return Summary(title="Conditional standard error of measurement", facts=facts,
                       tables=tuple(tables),
                       notes=("Lord (1955, 1957): binomial error within a person; Keats "
                              "(1957): scaled so that its average matches the reliability",))


def _csem_columns(x: np.ndarray, n: int, factor: float) -> tuple[np.ndarray, np.ndarray]:
    lord = np.sqrt(np.clip(x * (n - x), 0, None) / (n - 1))
    return lord, lord * factor


def conditional_sem(scores_or_data: Any, *, n_items: int | None = None,
                    reliability: float | None = None, at: Any = None,
                    missing: str = "listwise") -> ConditionalSEMResult:
    """Conditional standard error of measurement of number-correct scores.

    Lord's binomial error model treats a person's score on n items as binomial around the
    person's true proportion: the error SD at observed score x is sqrt(x (n - x) / (n - 1)).
    Its average squared value equals the KR-21 error variance; Keats' adjustment multiplies it
    by sqrt((1 - r) / (1 - KR-21)) so that it averages to the error variance implied by the
    reliability r used (KR-20 / alpha), which allows for items of unequal difficulty.

    Parameters
    ----------
    scores_or_data : array-like or None
        Number-correct scores (1-d; with ``n_items=``), or 0/1 item responses (2-d; n is the
        number of items and KR-20 the reliability unless given), or None for Lord's values
        alone (then ``n_items=`` is required).
    n_items : int, optional
        The number of items.
    reliability : float, optional
        Reliability for Keats' adjustment (default: KR-20 of the items when given).
    at : float or sequence of float, optional
        Scores (e.g. cut scores) at which to report both CSEMs.
    missing : {"listwise", "raise"}

    Returns
    -------
    ConditionalSEMResult

    Raises
    ------
    SpecificationError
        No number of items, reliability outside (0, 1), ``at`` outside 0..n.
    DataError
        Non-binary items, scores that are not number-correct.

    Notes
    -----
    KR-21 = n / (n - 1) (1 - mu (n - mu) / (n s^2)). The classical SEM s sqrt(1 - r) is one
    number for everyone; the conditional SEM is largest in the middle of the score range and
    zero at 0 and n.

    References
    ----------
    Lord, F. M. (1955). Estimating test reliability. Educational and Psychological
    Measurement, 15(4), 325-336. https://doi.org/10.1177/001316445501500401
    Keats, J. A. (1957). Estimation of error variances of test scores. Psychometrika, 22(1),
    29-41. https://doi.org/10.1007/BF02289207
    Feldt, L. S., Steffen, M., & Gupta, N. C. (1985). A comparison of five methods for
    estimating the standard error of measurement at specific score levels. Applied
    Psychological Measurement, 9(4), 351-361. https://doi.org/10.1177/014662168500900402

    Examples
    --------
    >>> import psychoval as pv
    >>> res = pv.conditional_sem(None, n_items=10, at=[5])
    >>> round(float(res.at["csem_lord"].iloc[0]), 4)  # sqrt(5 * 5 / 9)
    1.6667
    """
    check_choice("missing", missing, ("listwise", "raise"))
    x = None
    rel_data = math.nan
    source = "none"
    n_total = n_used = None
    dropped: tuple[int, ...] = ()
    if scores_or_data is not None:
        arrays = (np.ndarray, pd.Series, pd.DataFrame)
        ndim = scores_or_data.ndim if isinstance(scores_or_data, arrays) else \
            np.ndim(np.asarray(scores_or_data, dtype=object))
        if ndim == 1:
            x = np.asarray(scores_or_data, dtype=float)
            bad = np.isnan(x)
            if bad.any() and missing == "raise":
                raise DataError(f"scores is missing at row {int(np.flatnonzero(bad)[0])}; "
                                "choose missing='listwise'")
            n_total, dropped = len(x), tuple(np.flatnonzero(bad).tolist())
            x = x[~bad]
        else:
            m = as_item_matrix(scores_or_data, min_items=2, what="data")
            m, info = apply_missing(m, missing, allowed=("listwise", "raise"))
            if not np.isin(m.values, (0.0, 1.0)).all():
                r, c = np.argwhere(~np.isin(m.values, (0.0, 1.0)))[0]
                raise DataError(f"item {m.items[c]!r} has the value {m.values[r, c]:g} at "
                                f"{m.row(int(r))}: the binomial error model counts items "
                                "right (1) or wrong (0)")
            if n_items is not None and n_items != m.k:
                raise SpecificationError(f"n_items={n_items} but the data have {m.k} items")
            n_items = m.k
            x = m.values.sum(axis=1)
            rel_data = float(alpha_from_cov(np.cov(m.values, rowvar=False)))
            source = "KR-20 of the items"
            n_total, dropped = info.n_total, info.rows_dropped
        n_used = len(x)
    if not (isinstance(n_items, (int, np.integer)) and n_items >= 2):
        raise SpecificationError(f"n_items={n_items!r} must be an integer >= 2 (the number of "
                                 "items of the test)")
    n = int(n_items)
    if x is not None:
        bad_i = np.flatnonzero((x < 0) | (x > n) | (x != np.round(x)))
        if len(bad_i):
            raise DataError(f"the score {x[bad_i[0]]:g} (row {bad_i[0]}) is not a "
                            f"number-correct score 0..{n}")
    if reliability is not None:
        try:
            rel = float(reliability)
        except (TypeError, ValueError):
            rel = math.nan
        if not 0 < rel < 1:
            raise SpecificationError(f"reliability={reliability!r} must be between 0 and 1")
        source = "given"
    else:
        rel = rel_data
    kr21 = sem_all = math.nan
    if x is not None and len(x) > 1:
        mu, var = float(x.mean()), float(x.var(ddof=1))
        if var > 0:
            kr21 = n / (n - 1) * (1 - mu * (n - mu) / (n * var))
            sem_all = math.sqrt(var * (1 - rel)) if 0 < rel < 1 else math.nan
    factor = math.sqrt((1 - rel) / (1 - kr21)) if (0 < rel < 1 and kr21 < 1) else math.nan
    grid = np.arange(n + 1, dtype=float)
    lord, keats = _csem_columns(grid, n, factor)
    counts = np.bincount(x.astype(int), minlength=n + 1) if x is not None else \
        np.zeros(n + 1, dtype=int)
    table = pd.DataFrame({"score": grid, "csem_lord": lord, "csem_keats": keats,
                          "n_observed": counts})
    pts = np.atleast_1d(np.asarray([] if at is None else at, dtype=float))
    if len(pts) and (np.any(pts < 0) or np.any(pts > n) or not np.isfinite(pts).all()):
        raise SpecificationError(f"at={pts.tolist()} must be scores within 0..{n}")
    al, ak = _csem_columns(pts, n, factor)
    at_df = pd.DataFrame({"score": pts, "csem_lord": al, "csem_keats": ak})
    return ConditionalSEMResult(table=table, at=at_df, n_items=n, reliability=rel,
                                reliability_source=source, kr21=kr21, sem_overall=sem_all,
                                n_total=n_total, n_used=n_used, rows_dropped=dropped)
