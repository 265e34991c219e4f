"""Multiple-choice responses: raw option codes and scoring with an answer key.

Private helpers shared by :func:`item_analysis` and :func:`distractors`. A framework scores
its own items (``Framework.score()``); these helpers serve the plain ``answer_key=`` path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError, SpecificationError
from psychoval.io._table import ResponseTable, list_names


def raw_frame(data: Any, *, what: str = "data") -> pd.DataFrame:
    """The responses as read (option letters kept), as a new DataFrame."""
    if isinstance(data, ResponseTable):
        return data.raw
    if isinstance(data, pd.DataFrame):
        cols = pd.Index(data.columns)
        if cols.duplicated().any():
            dup = cols[cols.duplicated()].unique().tolist()
            raise DataError(f"duplicate column name(s) {', '.join(map(repr, dup))}; rename them")
        out = data.copy()
        out.columns = [str(c) for c in out.columns]
        return out
    arr = np.asarray(data, dtype=object)
    if arr.ndim != 2:
        raise DataError(
            f"{what} must be 2-d (respondents x items); got an array of shape {arr.shape}"
        )
    return pd.DataFrame(arr, columns=[f"item{j + 1}" for j in range(arr.shape[1])])


def _code(x: Any) -> str | None:
    """One cell as an option code: text stripped; 3.0 -> '3'; missing -> None."""
    if x is None or x is pd.NA:
        return None
    if isinstance(x, (float, np.floating)):
        if np.isnan(x):
            return None
        return str(int(x)) if float(x).is_integer() else repr(float(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    s = str(x).strip()
    return s or None


def option_codes(col: pd.Series) -> np.ndarray:
    """A column of raw cells as an object array of option codes (None = missing)."""
    return np.array([_code(v) for v in col.tolist()], dtype=object)


def check_answer_key(answer_key: Any, columns: pd.Index | list[str]) -> dict[str, str]:
    """Validate ``answer_key={item: option}``; returns it with option codes normalised."""
    if not isinstance(answer_key, Mapping) or not answer_key:
        raise SpecificationError(
            f"answer_key must be a non-empty mapping {{item: correct option}}; got "
            f"{type(answer_key).__name__}"
        )
    cols = [str(c) for c in columns]
    absent = [str(i) for i in answer_key if str(i) not in cols]
    if absent:
        raise DataError(
            f"answer_key item(s) {', '.join(map(repr, absent))} not among the columns "
            f"{list_names(cols)}; check the spelling"
        )
    key = {}
    for item, opt in answer_key.items():
        code = _code(opt)
        if code is None:
            raise SpecificationError(f"answer_key[{item!r}] = {opt!r} is not an option code")
        key[str(item)] = code
    return key


def score_with_key(data: Any, answer_key: Any, *, what: str = "data") -> pd.DataFrame:
    """Score keyed items 0/1 (missing stays missing); other columns pass through unchanged."""
    raw = raw_frame(data, what=what)
    key = check_answer_key(answer_key, raw.columns)
    out = raw.copy()
    for item, opt in key.items():
        codes = option_codes(raw[item])
        answered = codes != None  # noqa: E711 - elementwise on an object array
        scored = np.where(answered, (codes == opt).astype(float), np.nan)
        out[item] = scored
    if isinstance(data, ResponseTable):
        out.index = data.ids
    return out
