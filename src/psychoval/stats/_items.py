"""Input step for the correlation / EFA functions: :func:`psychoval._input.as_item_matrix`,
with a direct path for DataFrames whose selected columns are all numeric.

``as_item_matrix`` keeps each cell's raw value (for text codes and data-quality messages),
which costs more than the whole polychoric estimation at 5,000 x 20. A DataFrame of numeric
columns has no raw cells to keep: it goes straight to the array validation, keeping its
column names and index. Anything else (text columns, duplicates, unknown items) takes the
full path and its messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import ItemMatrix, as_item_matrix

__all__ = ["item_matrix"]


def item_matrix(data: Any, *, items: Sequence[str] | None = None, min_items: int = 2,
                what: str = "data") -> ItemMatrix:
    if isinstance(data, pd.DataFrame) and not data.columns.duplicated().any():
        cols = data.columns
        if items is None or all(i in cols for i in items):
            frame = data if items is None else data[list(items)]
            numeric = all(pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt)
                          for dt in frame.dtypes)
            if numeric and all(isinstance(c, str) for c in frame.columns):
                arr = frame.to_numpy(dtype="float64", na_value=np.nan)
                if not np.isinf(arr).any():  # the full path names the item and row
                    m = as_item_matrix(arr, min_items=min_items, what=what)
                    return ItemMatrix(values=m.values, items=tuple(frame.columns),
                                      ids=frame.index)
    return as_item_matrix(data, items=items, min_items=min_items, what=what)
