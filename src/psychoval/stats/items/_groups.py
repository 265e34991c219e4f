"""Group labels of respondents for the group comparisons (DIF, the item x score x group
tables): a column of the data, a covariate of ``Framework.score``'s result, or the labels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError

__all__ = ["split_group", "group_labels"]


def split_group(data: Any, group: Any) -> tuple[Any, np.ndarray]:
    """``data`` without its group column and the group label of each row (``group``: a
    column of ``data``, a covariate of ``Framework.score``'s result, or the labels)."""
    if hasattr(data, "scores") and hasattr(data, "covariates"):  # Framework.score's result
        if isinstance(group, str) and group in data.covariates.columns:
            return data.scores, group_labels(data.covariates[group].to_numpy(dtype=object))
        data = data.scores
    if isinstance(group, str):
        from psychoval.stats.items._keyed import raw_frame

        frame = raw_frame(data)
        if group not in frame.columns:
            raise DataError(f"group column {group!r} is not in the data; pass the column "
                            "name or an array of group labels")
        labels = group_labels(frame[group].to_numpy(dtype=object))
        index = data.ids if hasattr(data, "ids") and not isinstance(data, pd.DataFrame) \
            else frame.index
        rest = frame.drop(columns=group)
        rest.index = index
        return rest, labels
    labels = group_labels(np.asarray(pd.Series(group).to_numpy(dtype=object)))
    return data, labels


def group_labels(labels: np.ndarray) -> np.ndarray:
    """Group labels as the user wrote them: a numeric column read as floats (1.0, 2.0) is
    given back its integers (1, 2), so that labels print and compare as written."""
    vals = [v for v in labels if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if vals and all(isinstance(v, (float, np.floating)) and float(v).is_integer()
                    for v in vals):
        return np.array([int(v) if v is not None and not (isinstance(v, float)
                                                          and math.isnan(v)) else v
                         for v in labels], dtype=object)
    return labels
