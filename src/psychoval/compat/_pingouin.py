"""pingouin's ``cronbach_alpha`` on psychoval's engine (:func:`psychoval.alpha`): same
arguments, same return shape ``(alpha, array([lower, upper]))``. pingouin is not imported."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError, SpecificationError

__all__ = ["cronbach_alpha"]


def cronbach_alpha(data: Any = None, items: str | None = None, scores: str | None = None,
                   subject: str | None = None, nan_policy: str = "pairwise",
                   ci: float = 0.95) -> tuple[float, np.ndarray]:
    """Cronbach's alpha with its Feldt interval, as ``pingouin.cronbach_alpha``.

    A drop-in replacement: ``from psychoval.compat import cronbach_alpha``. Computed by
    :func:`psychoval.alpha` (psych::alpha), which gives much more (``pv.alpha(data)``:
    standardized alpha, lambda 6, item statistics, alpha if dropped, three interval methods).

    Parameters
    ----------
    data : DataFrame
        Wide (respondents x items) or long format (with ``items``, ``scores`` and
        ``subject`` naming its columns; pivoted to wide).
    items, scores, subject : str, optional
        Columns of a long-format ``data``: item names, responses, respondent ids.
    nan_policy : {"pairwise", "listwise"}
        Pairwise-complete covariances with n = all rows (psych's ``use = "pairwise"``), or
        complete rows only.
    ci : float
        Confidence level of the Feldt interval.

    Returns
    -------
    alpha : float
        Raw alpha, :math:`\\frac{k}{k-1}(1 - \\operatorname{tr}C / \\mathbf 1'C\\mathbf 1)`.
    ci : ndarray
        ``[lower, upper]`` Feldt interval, rounded to 3 decimals (as pingouin).

    Raises
    ------
    DataError
        Not a DataFrame, non-numeric columns, fewer than 2 items or respondents.
    SpecificationError
        Unknown ``nan_policy`` or a ``ci`` outside (0, 1).

    Notes
    -----
    Feldt's interval: :math:`1 - (1 - \\alpha) F_{1-a/2}` to :math:`1 - (1 - \\alpha)
    F_{a/2}` with :math:`a = 1 - ci` and :math:`F` on :math:`n - 1` and :math:`(n-1)(k-1)`
    degrees of freedom (psych::alpha.ci).

    References
    ----------
    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
    coefficient alpha. Applied Psychological Measurement 11, 93-103.
    https://doi.org/10.1177/014662168701100107

    Examples
    --------
    >>> import psychoval as pv
    >>> from psychoval.compat import cronbach_alpha
    >>> data = pv.load_sample().to_frame()[["DAT1", "DAT2", "DAT4"]]
    >>> a, interval = cronbach_alpha(data)  # psych::alpha(data)$total$raw_alpha
    >>> round(a, 4), interval
    (0.7394, array([0.716, 0.761]))
    """
    from psychoval.stats import alpha as pv_alpha

    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a DataFrame (pingouin's rule); got {type(data).__name__}")
    if nan_policy not in ("pairwise", "listwise"):
        raise SpecificationError(
            f"nan_policy={nan_policy!r} is not one of 'pairwise', 'listwise'")
    if not 0.0 < float(ci) < 1.0:
        raise SpecificationError(f"ci={ci!r} must be between 0 and 1 (e.g. 0.95)")
    long_form = [v is not None for v in (items, scores, subject)]
    if any(long_form):
        if not all(long_form):
            raise SpecificationError(
                "long-format data needs all of items=, scores= and subject= (the columns "
                "holding the item names, the responses and the respondent ids)")
        data = data.pivot(index=subject, values=scores, columns=items)
    n, k = data.shape
    if k < 2:
        raise DataError(f"data has {k} item(s); alpha needs at least 2")
    if n < 2:
        raise DataError(f"data has {n} respondent(s); alpha needs at least 2")
    for col in data.columns:
        if data[col].dtype.kind not in "bfiu":
            raise DataError(f"column {col!r} is not numeric ({data[col].dtype}); all columns "
                            "must be numeric")
    res = pv_alpha(data.astype(float), missing=nan_policy, confidence_level=float(ci),
                   ci_method="feldt")
    return float(res.raw_alpha), np.round([res.feldt_lower, res.feldt_upper], 3)
