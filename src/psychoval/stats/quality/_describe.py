"""Descriptive statistics per item as ``psych::describe`` (psych 2.2.9): ``describe``.

Each column is described from its answered cells (psych's ``na.rm = TRUE``): n, mean, sd,
median, trimmed mean, MAD, min, max, range, skew, kurtosis and the standard error of the mean.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import as_item_matrix, check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import SpecificationError

__all__ = ["DescribeResult", "describe"]

COLUMNS = ("vars", "n", "mean", "sd", "median", "trimmed", "mad", "min", "max", "range",
           "skew", "kurtosis", "se")
_MAD_CONSTANT = 1.4826  # R's stats::mad: consistency with the sd of a normal distribution


@dataclasses.dataclass(frozen=True, repr=False)
class DescribeResult(Result):
    """Descriptive statistics per item, psych::describe's columns and definitions.

    Attributes
    ----------
    table : DataFrame
        One row per item (index: item names), psych's columns ``vars, n, mean, sd, median,
        trimmed, mad, min, max, range, skew, kurtosis, se``; NaN where a statistic is
        undefined (no answers, or a constant item for skew and kurtosis).
    trim : float
        Proportion trimmed from each end for ``trimmed``.
    type : int
        psych's skew / kurtosis type (1, 2 or 3).
    n_total : int
        Rows given (each item is described from its own answered cells).
    missing : str
        ``"available"``: each column from its answered cells.
    """

    table: pd.DataFrame
    trim: float
    type: int
    n_total: int
    missing: str = "available"

    _schema: ClassVar[str] = "psychoval.describe/1"

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(self.table.index)

    def __getitem__(self, column: str) -> pd.Series:
        """A column of the table (``res["skew"]``)."""
        return self.table[column]

    def _repr_fields(self) -> dict[str, Any]:
        return {"items": len(self.table), "n_total": self.n_total}

    def summary(self) -> Summary:
        return Summary(
            title="Descriptive statistics",
            facts=(("items", len(self.table)), ("respondents", self.n_total),
                   ("trim", self.trim), ("skew/kurtosis type", self.type)),
            tables=(("Items", self.table),),
            notes=("Each item is described from its answered cells (psych::describe, "
                   "na.rm = TRUE).",),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per item: ``item`` then psych's columns."""
        return self.table.reset_index(names="item")


def _moments(x: np.ndarray, n: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, ...]:
    d = np.where(np.isnan(x), 0.0, x - mean)
    return (d * d).sum(axis=0), (d ** 3).sum(axis=0), (d ** 4).sum(axis=0)


def describe(data: Any, *, items: Sequence[str] | None = None, trim: float = 0.1,
             type: int = 3) -> DescribeResult:
    """Descriptive statistics of each item, as ``psych::describe`` (psych 2.2.9).

    Describes the distribution of each column from its answered cells: location (mean,
    median, trimmed mean), spread (sd, MAD, range), shape (skew, kurtosis) and the standard
    error of the mean. Nothing is assumed about the distribution.

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        Respondents in rows, items in columns (numeric; NaN = missing). Text columns raise:
        select the numeric ones with ``items=`` (psych converts factors to codes silently).
    items : sequence of str, optional
        Columns to describe (default: all).
    trim : float
        Proportion trimmed from each end for the trimmed mean (psych's default .1), in
        ``[0, 0.5)``.
    type : {3, 1, 2}
        psych's skew and kurtosis type (default 3, as psych; 1 is the moment estimator g1 /
        g2, 2 the adjusted estimators of SAS and SPSS).

    Returns
    -------
    DescribeResult
        ``table`` with psych's columns (``res.table``, ``res["mean"]``, ``res.to_frame()``).

    Raises
    ------
    DataError
        A non-numeric or infinite value, or no columns.
    SpecificationError
        ``trim`` outside ``[0, 0.5)``, or an unknown ``type``.

    Notes
    -----
    With :math:`n` answered cells, mean :math:`\\bar x`, deviations :math:`d_i = x_i - \\bar
    x`, :math:`m_r = \\sum d_i^r / n` and :math:`s` the sd (divisor :math:`n - 1`):

    - trimmed: R's ``mean(x, trim = trim)``, the mean of the sorted values from position
      :math:`\\lfloor n\\,\\mathrm{trim}\\rfloor + 1` to :math:`n - \\lfloor n\\,
      \\mathrm{trim}\\rfloor`;
    - mad: :math:`1.4826 \\cdot \\operatorname{median}|x_i - \\operatorname{median}(x)|`;
    - se: :math:`s / \\sqrt n`;
    - skew type 1 :math:`g_1 = m_3 / m_2^{3/2}`; type 2 :math:`g_1 \\sqrt{n(n-1)}/(n-2)`;
      type 3 :math:`g_1 ((n-1)/n)^{3/2} = m_3 / s^3`;
    - kurtosis type 1 :math:`g_2 = m_4 / m_2^2 - 3`; type 2
      :math:`((n+1) g_2 + 6)(n-1)/((n-2)(n-3))`; type 3 :math:`m_4 / s^4 - 3`.

    psych's type-1 kurtosis of a column with missing cells divides by the number of rows
    rather than the answered cells; we use the answered cells.

    References
    ----------
    Joanes, D. N., & Gill, C. A. (1998). Comparing measures of sample skewness and kurtosis.
    Journal of the Royal Statistical Society D 47, 183-189.
    https://doi.org/10.1111/1467-9884.00122
    Revelle, W. (2022). psych: Procedures for Psychological, Psychometric, and Personality
    Research, version 2.2.9. https://CRAN.R-project.org/package=psych

    Examples
    --------
    >>> import psychoval as pv
    >>> data = pv.load_sample().select(["DAT1", "DAT2", "DAT3", "DAT4"])
    >>> res = pv.describe(data)  # psych::describe(responses[, c("DAT1", ..., "DAT4")])
    >>> list(res.table.columns[:5])
    ['vars', 'n', 'mean', 'sd', 'median']
    >>> int(res["n"]["DAT2"]) < 1500  # DAT2 has missing answers
    True
    """
    check_choice("type", type, (1, 2, 3))
    try:
        trim = float(trim)
    except (TypeError, ValueError):
        trim = math.nan
    if not 0.0 <= trim < 0.5:
        raise SpecificationError(f"trim={trim!r} must be in [0, 0.5) (psych's default is 0.1)")
    m = as_item_matrix(data, items=items, min_items=1, min_rows=1, what="data")
    x = m.values
    nan = np.isnan(x)
    n = (~nan).sum(axis=0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.where(nan, 0.0, x).sum(axis=0) / n, np.nan)
        s2, s3, s4 = _moments(x, n, mean)
        sd = np.where(n > 1, np.sqrt(s2 / np.maximum(n - 1, 1)), np.nan)  # R: NA below 2
        m2, m3, m4 = s2 / n, s3 / n, s4 / n
        g1 = m3 / m2 ** 1.5
        g2 = m4 / m2 ** 2 - 3.0
        if type == 1:
            skew, kurt = g1, g2
        elif type == 2:
            skew = g1 * np.sqrt(n * (n - 1)) / (n - 2)
            kurt = ((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3))
        else:
            skew = s3 / (n * sd ** 3)
            kurt = s4 / (n * sd ** 4) - 3.0
        se = sd / np.sqrt(n)
    srt = np.sort(x, axis=0)  # missing cells sort last
    k = x.shape[1]
    median = np.full(k, np.nan)
    trimmed = np.full(k, np.nan)
    mad = np.full(k, np.nan)
    lo = np.full(k, np.nan)
    hi = np.full(k, np.nan)
    for j in range(k):
        nj = int(n[j])
        if nj == 0:
            continue
        col = srt[:nj, j]
        median[j] = np.median(col)
        cut = math.floor(nj * trim)
        trimmed[j] = col[cut:nj - cut].mean() if trim > 0 else mean[j]
        mad[j] = _MAD_CONSTANT * np.median(np.abs(col - median[j]))
        lo[j], hi[j] = col[0], col[-1]
    table = pd.DataFrame(
        {"vars": np.arange(1, k + 1), "n": n.astype(np.int64), "mean": mean, "sd": sd,
         "median": median, "trimmed": trimmed, "mad": mad, "min": lo, "max": hi,
         "range": hi - lo, "skew": skew, "kurtosis": kurt, "se": se},
        index=pd.Index(m.items, name="item"))
    return DescribeResult(table=table, trim=trim, type=int(type), n_total=m.n)
