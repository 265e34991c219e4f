"""Moments of a dask DataFrame or Array: one summary per partition on the cluster, a tree
reduction, the statistic on the client.

Dask is an optional extra (``pip install psychoval[dask]``); nothing here imports it before a
dask collection is passed. The per-item shift is taken from the first partition's means (one
small task), so every partition is summarised about the same constants and the reduction adds
sums without recentring. Each partition sends back k x k sums, never rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psychoval.exceptions import DataError

__all__ = ["dask_summary"]


def _partitions(data: Any, items: Sequence[str] | None) -> tuple[list[Any], tuple[str, ...]]:
    """The collection's partitions as delayed numpy/pandas blocks, and the column names."""
    import dask.array as da

    if isinstance(data, da.Array):
        if data.ndim != 2:
            raise DataError(f"a dask array of respondents x items must be 2-d; got {data.ndim}-d")
        if items is not None:
            raise DataError("items= selects columns by name; a dask array has no names: "
                            "slice it")
        names = tuple(f"item{j + 1}" for j in range(data.shape[1]))
        arr = data.astype("float64")
        if len(arr.chunks[1]) > 1:
            arr = arr.rechunk({1: -1})  # one block per row range
        return list(arr.to_delayed().ravel()), names
    cols = [str(c) for c in data.columns]
    if items is not None:
        absent = [i for i in items if i not in cols]
        if absent:
            raise DataError(f"item(s) {', '.join(map(repr, absent))} are not columns of the "
                            "dask DataFrame")
        data = data[list(items)]
        cols = [str(i) for i in items]
    return list(data.to_delayed()), tuple(cols)


def _tree(parts: list[Any], add: Any) -> Any:
    import dask

    level = [dask.delayed(p) if not hasattr(p, "dask") else p for p in parts]
    while len(level) > 1:
        level = [dask.delayed(add)(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0]


def _add(a, b):
    return a + b


def dask_summary(data: Any, kind: Any, *, items: Sequence[str] | None = None) -> Any:
    """``kind.from_array`` (:class:`Moments` or :class:`PatternMoments`) of every partition of
    a dask DataFrame / Array about the first partition's means, added as a tree on the
    collection's scheduler (the default one, or the ``distributed.Client`` in use)."""
    import dask

    parts, names = _partitions(data, items)
    if not parts:
        raise DataError("the dask collection has no partitions")
    first = dask.delayed(kind.from_array)(parts[0], columns=names).compute()
    shift = first.shift  # the first partition's item means (0 for an item it never saw)
    summaries = [dask.delayed(kind.from_array)(p, columns=names, shift=shift) for p in parts]
    return _tree(summaries, _add).compute()
