"""Summaries of a Spark DataFrame: one per partition on the executors (``mapInArrow``), merged
on the driver, the statistic on the driver.

Spark is an optional extra (``pip install psychoval[spark]``: pyspark, which needs Java);
nothing here imports it before a Spark DataFrame is passed. The Arrow batches of a partition,
joined into blocks of at least 65,536 rows, become float64 matrices (null -> NaN) and their
summaries ``kind.from_array`` - the same call as on in-memory rows - about each block's own
shift; the blocks' summaries are added in the partition (``+`` recentres exactly), and the
partition sends one row back: its summary as JSON (``to_dict``). The driver reads those rows,
adds them as a balanced tree and fits. No rows reach the driver, and no pass runs before the summaries (a Dask-style common shift would need
one, which is a whole recomputation when the frame ends in a shuffle).
"""

from __future__ import annotations

import functools
import inspect
import json
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from psychoval.exceptions import DataError

__all__ = ["spark_summary", "tree_sum"]


def tree_sum(parts: Iterable[Any]) -> Any:
    """Sum of summaries in their order as a balanced tree, holding O(log n) of them at once
    (rounding grows with log(parts)); None for no parts."""
    stack: list[tuple[int, Any]] = []  # (height of the subtree, its sum)
    for p in parts:
        height = 0
        while stack and stack[-1][0] == height:
            p = stack.pop()[1] + p
            height += 1
        stack.append((height, p))
    total = None
    while stack:
        v = stack.pop()[1]
        total = v if total is None else v + total
    return total


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _item_columns(data: Any, items: Sequence[str] | None, extra: Sequence[str]
                  ) -> tuple[str, ...]:
    """The item columns (all but ``extra`` by default), checked to be numbers."""
    from pyspark.sql.types import NumericType

    types = {f.name: f.dataType for f in data.schema.fields}
    absent = [c for c in (*(items or ()), *extra) if c not in types]
    if absent:
        raise DataError(f"column(s) {', '.join(map(repr, absent))} are not columns of the "
                        f"Spark DataFrame (its columns: {list(types)[:10]})")
    names = tuple(str(i) for i in items) if items is not None else tuple(
        c for c in types if c not in extra)
    bad = [c for c in names if not isinstance(types[c], NumericType)]
    if bad:
        raise DataError(f"item column(s) {', '.join(repr(c) for c in bad[:5])} of the Spark "
                        f"DataFrame hold {types[bad[0]].simpleString()}, not numbers: cast "
                        "them in Spark (F.col(c).cast('double')) or choose the items with "
                        "items=")
    if not names:
        raise DataError("the Spark DataFrame has no item columns")
    return names


def _summary(kind: Any, x: Any, names: tuple[str, ...], extra: list[tuple[str, Any]],
             options: dict[str, Any]) -> Any:
    """``kind.from_array`` of one float64 block, as on in-memory rows (ItemScoreTables: a
    frame with its group column)."""
    if "columns" in inspect.signature(kind.from_array).parameters:
        return kind.from_array(x, columns=names, **options)
    import pandas as pd

    frame = pd.DataFrame(x, columns=list(names))
    for name, values in extra:
        frame[name] = values
    return kind.from_array(frame, items=list(names), **options)


BLOCK_ROWS = 65_536  # consecutive Arrow batches are joined up to this many rows


def _blocks(batches: Iterator[Any], rows: int = BLOCK_ROWS) -> Iterator[Any]:
    """Consecutive Arrow batches joined into tables of at least ``rows`` rows (the last may
    be shorter): one ``from_array`` per block instead of one per batch (a 10,000-row batch
    costs 2.5 times as much per row as a 10^6-row block)."""
    import pyarrow as pa

    held: list[Any] = []
    n = 0
    for batch in batches:
        held.append(batch)
        n += batch.num_rows
        if n >= rows:
            yield pa.Table.from_batches(held)
            held, n = [], 0
    if held:
        yield pa.Table.from_batches(held)


def _batch_summaries(batches: Iterator[Any], kind: Any, names: tuple[str, ...],
                     extra: tuple[str, ...], options: dict[str, Any],
                     rows: int = BLOCK_ROWS) -> Iterator[Any]:
    """The summary of each block of Arrow batches (runs on an executor)."""
    import numpy as np

    k = len(names)
    for block in _blocks(batches, rows):
        x = np.column_stack([block.column(j).to_numpy() for j in range(k)]
                            ).astype(np.float64, copy=False)
        yield _summary(kind, x, names,
                       [(e, block.column(k + i).to_pandas()) for i, e in enumerate(extra)],
                       options)


def _partition_summary(batches: Iterator[Any], kind: Any, names: tuple[str, ...],
                       extra: tuple[str, ...], options: dict[str, Any]) -> Iterator[Any]:
    """The mapInArrow function: one row (the partition's summary as JSON) per non-empty
    partition."""
    import pyarrow as pa

    total = tree_sum(_batch_summaries(batches, kind, names, extra, options))
    if total is not None:
        yield pa.RecordBatch.from_pydict({"summary": [json.dumps(total.to_dict())]})


def spark_summary(data: Any, kind: Any, *, items: Sequence[str] | None = None,
                  **options: Any) -> Any:
    """``kind.from_array`` (``Moments``, ``PatternMoments``, ``FourthMoments``,
    ``ResponsePatterns``, ``ItemScoreTables``) of every Arrow batch of a
    ``pyspark.sql.DataFrame``, added per partition on the executors and across partitions on
    the driver: the summary of all its rows.

    ``items`` selects the item columns (default: every column but a ``group=`` column); they
    must be numeric and are read as float64, null and NaN meaning missing. ``options`` go to
    ``from_array`` (``group="column"`` for ItemScoreTables).
    """
    from pyspark.sql import functions as F

    group = options.get("group")
    if group is not None and not isinstance(group, str):
        raise DataError("with a Spark DataFrame, group= names a column of it; got "
                        f"{type(group).__name__}")
    extra = (group,) if group is not None else ()
    names = _item_columns(data, items, extra)
    cols = [F.col(_quoted(c)).cast("double").alias(c) for c in names]
    cols += [F.col(_quoted(e)) for e in extra]
    fn = functools.partial(_partition_summary, kind=kind, names=names, extra=extra,
                           options=options)
    with warnings.catch_warnings():
        # pyspark 4 warns about pandas >= 3 on every Arrow UDF; this path hands Arrow batches
        # to numpy and never goes through Spark's pandas conversion
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas",
                                FutureWarning)
        rows = data.select(cols).mapInArrow(fn, "summary string").collect()
    total = tree_sum(kind.from_dict(json.loads(r["summary"])) for r in rows)
    if total is None:  # no rows at all: the summary of an empty chunk, for its message
        import numpy as np
        import pandas as pd

        total = _summary(kind, np.empty((0, len(names))), names,
                         [(e, pd.Series([], dtype=object)) for e in extra], options)
    return total
