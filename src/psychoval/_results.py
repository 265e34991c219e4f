"""The common face of every result object (cross-cutting, below every layer).

Each statistic returns a frozen dataclass deriving from :class:`Result`. They share:

- a one-line ``repr``;
- ``summary()`` -> :class:`Summary` (plain text via ``str()``, HTML via ``_repr_html_``);
- ``to_frame()`` -> a tidy DataFrame, snake_case columns, one scalar per cell;
- ``to_dict()`` -> JSON-safe dict with a ``schema`` name and the psychoval version.

Numbers are kept at full precision; only :class:`Summary` rounds, when printing.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._output import strip_controls
from psychoval._version import __version__

__all__ = ["Result", "SampleInfo", "Summary", "to_jsonable"]


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/pandas/dataclass values into plain JSON-safe Python values.

    NaN becomes ``None``; infinities become the strings ``"Inf"`` / ``"-Inf"`` (as in the
    R reference files); DataFrames become ``{"columns", "index", "data"}`` ("split" layout).
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, Result):
        return obj.to_dict()
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "Inf" if x > 0 else "-Inf"
        return x
    if isinstance(obj, pd.DataFrame):
        return {
            "columns": [to_jsonable(c) for c in obj.columns],
            "index": [to_jsonable(i) for i in obj.index],
            "data": [[to_jsonable(v) for v in row] for row in obj.itertuples(index=False)],
        }
    if isinstance(obj, pd.Series):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.Index):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()] if obj.ndim else to_jsonable(obj.item())
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (Sequence, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)


def _fmt(value: Any, digits: int) -> str:
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "NA"
        if value != 0 and (abs(value) >= 10 ** (digits + 3) or abs(value) < 10 ** (-digits)):
            return f"{value:.{digits}g}"
        return f"{value:.{digits}f}"
    return str(value)


def _cell_text(v: Any) -> Any:
    return strip_controls(v).replace("\n", " ").replace("\t", " ") if isinstance(v, str) else v


def _terminal_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Cells, column names and index labels without control characters, so that the table
    keeps its alignment and one row per line."""
    out = df.map(_cell_text) if len(df) else df
    return out.rename(index=_cell_text, columns=_cell_text)


@dataclasses.dataclass(frozen=True)
class Summary:
    """A printable summary: a title, key-value facts, tables and notes.

    ``str(summary)`` gives aligned plain text (numbers rounded to ``digits``), safe for a
    terminal: user text (item names, ids, notes) loses escape sequences and control
    characters (newlines and tabs inside a table cell become spaces);
    ``summary._repr_html_()`` gives escaped HTML for Jupyter. The numbers themselves are the
    result's full-precision values.
    """

    title: str
    facts: tuple[tuple[str, Any], ...] = ()
    tables: tuple[tuple[str, pd.DataFrame], ...] = ()
    notes: tuple[str, ...] = ()
    digits: int = 3

    def _format_table(self, df: pd.DataFrame) -> pd.DataFrame:
        return df.map(lambda v: _fmt(v, self.digits)) if len(df) else df

    def __str__(self) -> str:
        title = strip_controls(self.title)
        lines = [title, "=" * len(title)]
        if self.facts:
            facts = [(strip_controls(str(k)), v) for k, v in self.facts]
            width = max(len(k) for k, _ in facts)
            lines += [f"{k:<{width}}  {_fmt(v, self.digits)}" for k, v in facts]
        for caption, df in self.tables:
            lines += ["", caption, "-" * len(caption),
                      _terminal_safe(self._format_table(df)).to_string()]
        if self.notes:
            lines += [""] + [f"Note: {n}" for n in self.notes]
        return strip_controls("\n".join(lines))

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [f"<div class='psychoval-summary'><h4>{esc(self.title)}</h4>"]
        if self.facts:
            rows = "".join(
                f"<tr><th>{esc(k)}</th><td>{esc(_fmt(v, self.digits))}</td></tr>" for k, v in self.facts
            )
            parts.append(f"<table>{rows}</table>")
        for caption, df in self.tables:
            parts.append(f"<h5>{esc(caption)}</h5>")
            parts.append(self._format_table(df).to_html(escape=True))
        parts += [f"<p><em>Note:</em> {esc(n)}</p>" for n in self.notes]
        parts.append("</div>")
        return "".join(parts)


@dataclasses.dataclass(frozen=True)
class SampleInfo:
    """Who a result is computed from: the same four facts on every result (``result.sample``).

    Attributes
    ----------
    n_total : int or None
        Respondents (rows, or rated targets) given; None for a result computed from a
        correlation or covariance matrix, or from other results.
    n_used : int or None
        Respondents the statistic used (for pairwise statistics: the complete cases are not
        required, and this is the number of rows with any data).
    n_dropped : int or None
        ``n_total - n_used`` (rows dropped by the missing-data policy).
    rows_dropped : tuple or None
        The dropped rows as the result records them (0-based positions in the data given:
        ``data.index[list(rows_dropped)]`` are their ids) where it keeps them; None where it
        keeps only their number.
    missing : str or None
        The missing-data method (``"listwise"``, ``"pairwise"``, ``"fiml"``, ``"available"``).
    """

    n_total: int | None = None
    n_used: int | None = None
    n_dropped: int | None = None
    rows_dropped: tuple[Any, ...] | None = None
    missing: str | None = None


_N_USED = ("n_used", "n_obs", "n", "n_respondents", "n_targets")


def _int(value: Any) -> int | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else int(value)


def sample_info(result: Any) -> SampleInfo:
    """A result's :class:`SampleInfo` from its own fields (``n_total``, ``n_used`` / ``n_obs``
    / ``n``, ``rows_dropped`` as positions or as a count, ``missing`` as a name or a policy)."""
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    used = next((_int(fields[k]) for k in _N_USED if k in fields), None)
    dropped = fields.get("rows_dropped", fields.get("n_dropped"))
    pos: tuple[Any, ...] | None = None
    if isinstance(dropped, (tuple, list, pd.Index, np.ndarray)):
        pos = tuple(dropped)
        dropped = len(pos)
    dropped = _int(dropped) if dropped is not None else None
    # the total only from what the result states: never guessed from the number used
    total = _int(fields["n_total"]) if "n_total" in fields else (
        used + dropped if used is not None and dropped is not None else None)
    if dropped is None and total is not None and used is not None:
        dropped = total - used
    missing = fields.get("missing")
    if missing is not None and not isinstance(missing, str):
        missing = getattr(missing, "policy", str(missing))
    return SampleInfo(n_total=total, n_used=used, n_dropped=dropped, rows_dropped=pos,
                      missing=missing)


@dataclasses.dataclass(frozen=True, repr=False)
class Result:
    """Base class of result objects. Subclasses are frozen dataclasses.

    Subclasses set ``_schema`` and implement ``_repr_fields`` (a few ``name=value`` pairs for
    the one-line repr), ``summary`` and ``to_frame``.
    """

    _schema: ClassVar[str] = "psychoval.result"

    @property
    def sample(self) -> SampleInfo:
        """Who the result is computed from (:class:`SampleInfo`): respondents given and
        used, the rows dropped (their positions where the result keeps them), the
        missing-data method."""
        return sample_info(self)

    def _repr_fields(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={_fmt(v, 3)}" for k, v in self._repr_fields().items())
        return f"<{type(self).__name__} {fields}>" if fields else f"<{type(self).__name__}>"

    def summary(self) -> Summary:
        return Summary(title=type(self).__name__, facts=tuple(self._repr_fields().items()))

    def to_frame(self) -> pd.DataFrame:
        raise NotImplementedError  # pragma: no cover - every concrete result implements it

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": self._schema, "psychoval_version": __version__}
        for f in dataclasses.fields(self):
            if f.name.startswith("_") or not f.repr:
                continue
            out[f.name] = to_jsonable(getattr(self, f.name))
        return out

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()
