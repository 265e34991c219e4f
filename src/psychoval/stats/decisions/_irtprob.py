"""IRT pieces of Lee's (2010) classification method, self-contained (no dependency on the IRT
room): category probabilities of 2PL / 3PL / graded-response items at given abilities, and
the Lord-Wingersky (1984) recursion for the conditional distribution of the summed score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from psychoval.exceptions import SpecificationError

__all__ = ["category_probabilities", "summed_score_distribution"]


def _vector(params: Mapping[str, Any], key: str, n: int | None) -> np.ndarray:
    try:
        v = np.asarray(params[key], dtype=float)
    except (TypeError, ValueError) as exc:
        raise SpecificationError(f"item_params[{key!r}] must be numbers ({exc})") from None
    if v.ndim != 1 or (n is not None and len(v) != n) or not np.isfinite(v).all():
        raise SpecificationError(
            f"item_params[{key!r}] must be a finite vector with one value per item"
            + (f" ({n} items)" if n is not None else ""))
    return v


def category_probabilities(theta: np.ndarray, item_params: Mapping[str, Any], *,
                           D: float = 1.0) -> np.ndarray:
    """P(item j = c | theta) as an array (nodes x items x categories), zero-padded.

    ``item_params`` holds ``a`` (slopes) and either ``b`` (difficulties; with optional ``c``,
    lower asymptotes: 2PL / 3PL, two categories 0/1) or ``thresholds`` (items x m matrix of
    increasing graded-response boundaries b_j1 < ... ; NaN pads items with fewer categories).
    P(X_j >= c) = 1 / (1 + exp(-D a_j (theta - b_jc))).
    """
    if not isinstance(item_params, Mapping) or "a" not in item_params:
        raise SpecificationError(
            "item_params must be a mapping with 'a' and 'b' (2PL; optional 'c' for 3PL) or 'a' "
            "and 'thresholds' (graded response), e.g. {'a': [1.2, 0.8], 'b': [-0.5, 0.3]}")
    a = _vector(item_params, "a", None)
    th = np.asarray(theta, dtype=float)[:, None]
    if "thresholds" in item_params:
        try:
            b = np.atleast_2d(np.asarray(item_params["thresholds"], dtype=float))
        except (TypeError, ValueError) as exc:
            raise SpecificationError(f"item_params['thresholds'] must be numbers ({exc})") \
                from None
        if b.shape[0] != len(a):
            raise SpecificationError(
                f"item_params['thresholds'] has {b.shape[0]} rows for {len(a)} slopes")
        for j, row in enumerate(b):
            ok = row[np.isfinite(row)]
            if len(ok) == 0 or np.isnan(row[: len(ok)]).any() or np.any(np.diff(ok) <= 0):
                raise SpecificationError(
                    f"item {j}: thresholds {row.tolist()} must be increasing, with NaN only "
                    "as padding at the end")
        with np.errstate(over="ignore"):
            star = 1.0 / (1.0 + np.exp(-D * a[None, :, None] * (th[:, :, None] - b[None])))
        star = np.where(np.isnan(b)[None], 0.0, star)
        q = th.shape[0]
        upper = np.concatenate([np.ones((q, len(a), 1)), star, np.zeros((q, len(a), 1))], 2)
        return upper[:, :, :-1] - upper[:, :, 1:]
    if "b" not in item_params:
        raise SpecificationError("item_params needs 'b' (2PL/3PL) or 'thresholds' (graded)")
    b = _vector(item_params, "b", len(a))
    c = _vector(item_params, "c", len(a)) if "c" in item_params else np.zeros(len(a))
    if np.any((c < 0) | (c >= 1)):
        raise SpecificationError("item_params['c'] (lower asymptotes) must be in [0, 1)")
    with np.errstate(over="ignore"):
        p = c + (1 - c) / (1.0 + np.exp(-D * a * (th - b)))
    return np.stack([1.0 - p, p], axis=2)


def summed_score_distribution(probs: np.ndarray) -> np.ndarray:
    """P(X = x | node) for the summed score X = sum of item categories (0-based), x = 0..max,
    by the Lord-Wingersky recursion over items (nodes x (max + 1)); ``probs`` is nodes x items
    x categories (zero-padded)."""
    q, j, c = probs.shape
    dist = np.ones((q, 1))
    for i in range(j):
        cats = int(np.max(np.nonzero(probs[:, i, :].any(axis=0))[0])) + 1 if probs[:, i].any() \
            else 1
        new = np.zeros((q, dist.shape[1] + cats - 1))
        for k in range(cats):
            new[:, k:k + dist.shape[1]] += dist * probs[:, i, k:k + 1]
        dist = new
    return dist
