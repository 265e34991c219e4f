"""Responses -> distinct response patterns coded by category, for the IRT estimators.

Each item's observed values, sorted, become its categories 0..K-1 (mirt's recoding: a
category nobody used is not a category). Missing responses are -1 and drop out of the
likelihood; a row with no response at all is dropped and recorded.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from psychoval._input import as_item_matrix
from psychoval.exceptions import DataError

__all__ = ["Coded", "code_responses", "recode", "patterns", "indicators"]

DICHOTOMOUS = ("Rasch", "1PL", "2PL", "3PL")


@dataclasses.dataclass(frozen=True)
class Coded:
    codes: np.ndarray  # (n_used, k) int8, -1 missing
    items: tuple[str, ...]
    categories: tuple[tuple[float, ...], ...]
    ids: Any
    n_total: int
    rows_dropped: tuple[int, ...]
    kept: np.ndarray  # positions of the used rows


def _check_values(values: np.ndarray, items: tuple[str, ...], model: str):
    cats = []
    for j, name in enumerate(items):
        col = values[:, j]
        obs = col[~np.isnan(col)]
        if obs.size == 0:
            raise DataError(f"item {name!r} has no responses; leave it out (items=)")
        lo, hi = obs.min(), obs.max()
        if lo >= 0 and hi < 1000 and np.array_equal(obs, np.floor(obs)):
            obs = np.flatnonzero(np.bincount(obs.astype(np.int64))).astype(float)
        else:  # small non-negative integers by counting, anything else by sorting
            obs = np.unique(obs)
        if np.any(obs != np.round(obs)):
            bad = obs[obs != np.round(obs)][0]
            raise DataError(f"item {name!r} has the non-integer response {float(bad):g}; IRT models "
                            "need ordered integer categories (score the item first)")
        if model in DICHOTOMOUS and not np.all(np.isin(obs, (0.0, 1.0))):
            bad = obs[~np.isin(obs, (0.0, 1.0))][0]
            raise DataError(f"item {name!r} has the response {float(bad):g}; model={model!r} needs "
                            "0/1 items (score them with answer_key=, or use model='GRM' or "
                            "'GPCM' for ordered categories)")
        if obs.size < 2:
            raise DataError(
                f"item {name!r}: every respondent who answered it gave {obs[0]:g}, so its "
                "parameters cannot be estimated (the difficulty is infinite); leave it out "
                "with items=")
        cats.append(tuple(float(v) for v in obs))
    return tuple(cats)


def code_responses(data: Any, *, items: Any, model: str) -> Coded:
    """Validate ``data`` and code each item's responses 0..K-1 (-1 missing)."""
    m = as_item_matrix(data, items=items, min_items=2, min_rows=2)
    values = m.values
    cats = _check_values(values, m.items, model)
    codes = recode(values, cats, m.items, m.ids)
    answered = (codes >= 0).any(axis=1)
    kept = np.flatnonzero(answered)
    dropped = tuple(np.flatnonzero(~answered).tolist())
    if kept.size < 2:
        raise DataError(f"only {kept.size} respondent(s) answered any item; IRT needs more")
    return Coded(codes=codes[kept] if dropped else codes, items=m.items, categories=cats,
                 ids=m.ids, n_total=m.n, rows_dropped=dropped, kept=kept)


def recode(values: np.ndarray, cats: tuple[tuple[float, ...], ...], items: tuple[str, ...],
           ids: Any) -> np.ndarray:
    """Values -> category codes with the given categories; a value not among them raises."""
    codes = np.full(values.shape, -1, dtype=np.int8)
    for j, c in enumerate(cats):
        col = values[:, j]
        cat = np.asarray(c)
        if cat[0] >= 0 and cat[-1] < 256 and np.array_equal(cat, np.floor(cat)):
            # small integer categories: a lookup table (NaN and strangers map to -2)
            lut = np.full(int(cat[-1]) + 2, -2, dtype=np.int8)
            lut[cat.astype(int)] = np.arange(cat.size, dtype=np.int8)
            idx = np.where(np.isnan(col), -1, np.clip(col, -1, cat[-1] + 1))
            idx = idx.astype(np.int64)
            frac = ~np.isnan(col) & (col != np.floor(np.nan_to_num(col)))
            got = np.where(idx < 0, -2, lut[np.clip(idx, 0, lut.size - 1)])
            got = np.where(np.isnan(col), -1, np.where(frac, -2, got))
            if not (got == -2).any():
                codes[:, j] = got
                continue
        ok = ~np.isnan(col)
        pos = np.searchsorted(cat, col[ok])
        pos = np.minimum(pos, cat.size - 1)
        bad = cat[pos] != col[ok]
        if bad.any():
            r = int(np.flatnonzero(ok)[np.flatnonzero(bad)[0]])
            raise DataError(f"item {items[j]!r} has the response {float(col[r]):g} at row {ids[r]!r}, "
                            f"not one of the fitted categories {list(c)}")
        codes[ok, j] = pos
    return codes


def patterns(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of ``codes``, their counts, and each row's pattern (np.unique on bytes;
    up to 7 one-byte codes a row: on one integer per row, the bytes as base-256 digits, which
    sorts as the bytes do)."""
    c = np.ascontiguousarray(codes)
    if c.dtype.itemsize == 1 and c.shape[1] <= 7:
        view = np.zeros(c.shape[0], dtype=np.int64)
        for col in c.view(np.uint8).T:
            view <<= 8
            view |= col
    else:
        view = c.view(np.dtype((np.void, c.dtype.itemsize * c.shape[1]))).ravel()
    _, first, inverse, counts = np.unique(view, return_index=True, return_inverse=True,
                                          return_counts=True)
    return c[first], counts.astype(float), inverse.ravel()


def indicators(pats: np.ndarray, ncat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One indicator column per item category, (m, sum K); and each item's first column."""
    offset = np.concatenate([[0], np.cumsum(ncat)[:-1]])
    y = np.zeros((pats.shape[0], int(ncat.sum())))
    for j, k in enumerate(ncat):
        y[:, offset[j]:offset[j] + k] = pats[:, j, None] == np.arange(k)[None, :]
    return y, offset
