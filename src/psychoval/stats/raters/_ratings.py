"""Rating input shared by the rater-agreement statistics (ICC, kappas, Krippendorff's alpha).

:func:`as_ratings` is the one validation step at the top of ``icc``, ``cohen_kappa``,
``fleiss_kappa``, ``krippendorff_alpha`` and ``agreement_table``. It turns a wide table
(rows = candidates, columns = raters), a long table (candidate, rater, score) or a 2-d array
into a float matrix of candidates x raters with NaN for a missing rating, or raises a
:class:`~psychoval.exceptions.DataError` that names the rater and the candidate at fault.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import check_choice, check_range
from psychoval.exceptions import DataError, SpecificationError
from psychoval.io._table import ResponseTable, list_names, normalise_ids

__all__ = ["Ratings", "as_ratings", "check_scale", "require_ratings_per_target"]


@dataclasses.dataclass(frozen=True)
class Ratings:
    """Scores as a float64 (candidates x raters) matrix, NaN where a rater gave no score."""

    values: np.ndarray
    targets: pd.Index
    raters: tuple[str, ...]

    @property
    def n_targets(self) -> int:
        return self.values.shape[0]

    @property
    def n_raters(self) -> int:
        return self.values.shape[1]

    @property
    def n_ratings(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.values)))

    @property
    def n_missing(self) -> int:
        return int(np.count_nonzero(np.isnan(self.values)))

    def target(self, position: int) -> str:
        """Name a candidate in a message."""
        return describe_target(self.targets, position)


def describe_target(targets: pd.Index, position: int) -> str:
    if isinstance(targets, pd.RangeIndex) and targets.start == 0 and targets.step == 1:
        return f"the candidate in row {position + 1}"
    return f"candidate {targets[position]!r} (row {position + 1})"


def check_scale(scale: Any) -> tuple[float, float] | None:
    """Validate a rubric's declared range ``scale=(min, max)``."""
    return None if scale is None else check_range(scale, "scale", example="(1, 4)")


def _wide(data: Any, targets: str | None, raters: Sequence[str] | None,
          what: str) -> Ratings:
    if isinstance(data, ResponseTable):
        table = data if raters is None else data.select([str(r) for r in raters])
        if targets is not None:
            raise SpecificationError(
                "targets= names an id column of a DataFrame; a ResponseTable already carries "
                "its ids: drop targets="
            )
        ids = table.ids
    elif isinstance(data, pd.DataFrame):
        cols = [str(c) for c in data.columns]
        if targets is not None and str(targets) not in cols:
            raise DataError(
                f"{what}: candidate column targets={targets!r} is not among the columns "
                f"{list_names(cols)}"
            )
        if raters is None:
            raters = [c for c in cols if c != (None if targets is None else str(targets))]
        rater_cols = [str(r) for r in raters]
        absent = [r for r in rater_cols if r not in cols]
        if absent:
            raise DataError(
                f"{what}: rater column(s) {', '.join(map(repr, absent))} not among the columns "
                f"{list_names(cols)}; check the spelling or the raters= list"
            )
        if len(set(cols)) == len(cols) and all(
                pd.api.types.is_numeric_dtype(data.iloc[:, cols.index(r)].dtype)
                for r in rater_cols):
            # fast path: numeric columns need no parsing (same values as the general path)
            pos = [cols.index(r) for r in rater_cols]
            values = np.ascontiguousarray(data.iloc[:, pos].to_numpy(dtype="float64"))
            ids = (pd.RangeIndex(len(data)) if targets is None
                   else normalise_ids(data.iloc[:, cols.index(str(targets))], str(targets)))
            if len(data) == 0:
                raise DataError(f"{what}: the table has no rows (no candidates)")
            _check_unique_ids(ids, what)
            return Ratings(values, ids, tuple(rater_cols))
        frame = data.copy()
        frame.columns = cols
        table = ResponseTable.from_frame(
            frame, id_column=None if targets is None else str(targets),
            items=[str(r) for r in raters], source=what)
        ids = table.ids
    else:
        if targets is not None or raters is not None:
            raise SpecificationError(
                "targets= and raters= select columns by name; an array has no names: "
                "pass a DataFrame, or slice the array"
            )
        try:
            arr = np.asarray(data, dtype="float64")
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"{what} must be a DataFrame, ResponseTable or numeric 2-d array (candidates x "
                f"raters); converting a {type(data).__name__} to numbers failed ({exc})"
            ) from exc
        if arr.ndim != 2:
            raise DataError(
                f"{what} must be 2-d (candidates x raters); got an array of shape {arr.shape}"
            )
        names = tuple(f"rater{j + 1}" for j in range(arr.shape[1]))
        return Ratings(np.ascontiguousarray(arr), pd.RangeIndex(arr.shape[0]), names)
    for rater in table.text_items:
        cells = table.text_cells(rater)
        raw = table.raw[rater].iloc[cells[0]]
        raise DataError(
            f"rater {rater!r} gave the non-numeric score {raw!r} to "
            f"{describe_target(ids, cells[0])} ({len(cells)} such cell(s)); ratings must be "
            "numbers: recode it, or leave the cell blank for a missing rating"
        )
    _check_unique_ids(ids, what)
    values = table.values.to_numpy(dtype="float64")
    return Ratings(np.ascontiguousarray(values), ids, tuple(table.items))


def _check_unique_ids(ids: pd.Index, what: str) -> None:
    if ids.has_duplicates:
        dup = ids[ids.duplicated()][0]
        rows = (np.flatnonzero(ids == dup) + 1).tolist()
        raise DataError(
            f"{what}: candidate {dup!r} appears in rows {rows}; each candidate needs one row "
            "in the wide layout (use layout='long' for one row per rating)"
        )


def _long(data: Any, targets: str | None, raters: Any, scores: str | None,
          what: str) -> Ratings:
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"layout='long' needs a DataFrame with one row per rating; got {type(data).__name__}"
        )
    names = {"targets": targets, "raters": raters, "scores": scores}
    absent = [k for k, v in names.items() if v is None]
    if absent:
        raise SpecificationError(
            f"layout='long' needs the column names {', '.join(a + '=' for a in absent)} "
            f"(columns are {list_names(data.columns)})"
        )
    if not isinstance(raters, str):
        raise SpecificationError(
            f"with layout='long', raters= is the name of the rater column; got {raters!r}"
        )
    cols = [str(c) for c in data.columns]
    for key, col in names.items():
        if str(col) not in cols:
            raise DataError(
                f"{what}: {key}={col!r} is not among the columns {list_names(cols)}"
            )
    frame = data.copy()
    frame.columns = cols
    frame.index = pd.RangeIndex(len(frame))
    for key in ("targets", "raters"):
        col = frame[str(names[key])]
        if col.isna().any():
            pos = int(np.flatnonzero(col.isna().to_numpy())[0])
            raise DataError(
                f"{what}: the {key[:-1]} column {names[key]!r} is empty at row {pos + 1}; every "
                "rating needs a candidate and a rater"
            )
    tcol = normalise_ids(frame[str(targets)], str(targets))
    rcol = frame[str(raters)].map(lambda v: str(v).strip())
    table = ResponseTable.from_frame(frame[[str(scores)]], source=what)
    if table.text_items:
        pos = table.text_cells(str(scores))[0]
        raise DataError(
            f"rater {rcol.iloc[pos]!r} gave the non-numeric score "
            f"{table.raw[str(scores)].iloc[pos]!r} to candidate {tcol[pos]!r} (row {pos + 1} of "
            "the long table); ratings must be numbers: recode it or leave it blank"
        )
    score = table.values[str(scores)].to_numpy(dtype="float64")
    t_codes, t_uniques = pd.factorize(tcol)
    r_codes, r_uniques = pd.factorize(rcol)
    pair = pd.Series(t_codes.astype(np.int64) * len(r_uniques) + r_codes)
    dup = pair.duplicated(keep=False).to_numpy()
    if dup.any():
        first = int(np.flatnonzero(dup)[0])
        rows = (np.flatnonzero(pair.to_numpy() == pair.iloc[first]) + 1).tolist()
        raise DataError(
            f"rater {r_uniques[r_codes[first]]!r} scored candidate "
            f"{t_uniques[t_codes[first]]!r} more than once (rows {rows} of the long table); "
            "keep one rating per candidate and rater"
        )
    values = np.full((len(t_uniques), len(r_uniques)), np.nan)
    values[t_codes, r_codes] = score
    ids = pd.Index(t_uniques, name=str(targets))
    return Ratings(values, ids, tuple(str(r) for r in r_uniques))


def as_ratings(
    data: Any,
    *,
    layout: str = "wide",
    targets: str | None = None,
    raters: Any = None,
    scores: str | None = None,
    scale: Any = None,
    min_raters: int = 2,
    min_targets: int = 2,
    what: str = "ratings",
) -> Ratings:
    """Turn ``data`` into :class:`Ratings` or raise a DataError naming the rater / candidate.

    ``layout="wide"``: rows are candidates, columns raters (``raters=`` selects the rater
    columns, ``targets=`` names an optional candidate-id column). ``layout="long"``: one row per
    rating, ``targets=``, ``raters=`` and ``scores=`` name its columns. Checks: at least
    ``min_raters`` raters and ``min_targets`` candidates, every rater scored someone, every
    score finite and, when ``scale=(min, max)`` is given, inside the rubric's range.
    """
    check_choice("layout", layout, ("wide", "long"))
    lohi = check_scale(scale)
    if layout == "wide":
        if scores is not None:
            raise SpecificationError(
                "scores= names the score column of a long table; with layout='wide' the "
                "rater columns hold the scores: drop scores= or pass layout='long'"
            )
        if isinstance(raters, str):
            raters = [raters]
        r = _wide(data, targets, raters, what)
    else:
        r = _long(data, targets, raters, scores, what)
    v = r.values
    if r.n_raters < min_raters:
        got = ", ".join(map(repr, r.raters)) or "none"
        raise DataError(
            f"{what}: agreement needs at least {min_raters} raters; got {r.n_raters} ({got}). "
            "Pass the columns of every rater who scored these candidates"
        )
    if r.n_targets < min_targets:
        raise DataError(
            f"{what}: agreement needs at least {min_targets} candidates; got {r.n_targets}"
        )
    if np.isinf(v).any():
        i, j = np.argwhere(np.isinf(v))[0]
        raise DataError(
            f"rater {r.raters[j]!r} gave the infinite score {v[i, j]} to {r.target(int(i))}; "
            "ratings must be finite numbers or missing"
        )
    empty_rater = np.isnan(v).all(axis=0)
    if empty_rater.any():
        j = int(np.flatnonzero(empty_rater)[0])
        raise DataError(
            f"rater {r.raters[j]!r} scored none of the {r.n_targets} candidates; drop that "
            "rater's column"
        )
    if lohi is not None:
        with np.errstate(invalid="ignore"):
            out = (v < lohi[0]) | (v > lohi[1])
        if out.any():
            i, j = np.argwhere(out)[0]
            raise DataError(
                f"rater {r.raters[j]!r} gave {v[i, j]:g} to {r.target(int(i))}, outside the "
                f"rubric's scale {lohi[0]:g} to {lohi[1]:g} ({int(out.sum())} such score(s)); "
                "correct the score or the scale="
            )
    return r


def require_ratings_per_target(r: Ratings, *, at_least: int, why: str) -> Ratings:
    """Raise naming the first candidate with fewer than ``at_least`` ratings."""
    counts = np.count_nonzero(~np.isnan(r.values), axis=1)
    few = counts < at_least
    if few.any():
        i = int(np.flatnonzero(few)[0])
        raise DataError(
            f"{r.target(i)} has {int(counts[i])} rating(s); {why} ({int(few.sum())} such "
            "candidate(s)); drop them or collect the missing ratings"
        )
    return r
