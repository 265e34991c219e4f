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
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._output import strip_controls
from psychoval._version import __version__

__all__ = ["SUMMARY_CSS", "Result", "SampleInfo", "Summary", "html_table", "text_table",
           "to_jsonable"]


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


@dataclasses.dataclass(frozen=True)
class Summary:
    """A printable summary: a title, key-value facts, tables and notes.

    ``str(summary)`` is ``summary.to_text()``: aligned plain text (numbers rounded to
    ``digits`` and right-aligned, text left-aligned, no row-number column), safe for a
    terminal: user text (item names, ids, notes) loses escape sequences and control
    characters (newlines and tabs inside a table cell become spaces);
    ``summary._repr_html_()`` gives escaped HTML for Jupyter. The numbers themselves are the
    result's full-precision values. ``to_markdown()`` gives pipe tables.
    """

    title: str
    facts: tuple[tuple[str, Any], ...] = ()
    tables: tuple[tuple[str, pd.DataFrame], ...] = ()
    notes: tuple[str, ...] = ()
    digits: int = 3

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return str(self)

    def to_text(self, width: int | None = None) -> str:
        """Plain text for a terminal: tables without a meaningless row number column, text
        left-aligned and numbers right-aligned; with ``width``, long text cells wrap and wide
        tables continue below in column blocks so that no line is longer than ``width``
        (the CLI passes the terminal's width)."""
        title = strip_controls(self.title)
        lines = [title, "=" * len(title)]
        if self.facts:
            facts = [(_cell_text(str(k)), _cell_text(_fmt(v, self.digits))) for k, v in self.facts]
            kw = max(len(k) for k, _ in facts)
            for k, v in facts:
                room = None if width is None else max(width - kw - 2, 20)
                wrapped = _wrap(v, room)
                lines.append(f"{k:<{kw}}  {wrapped[0]}")
                lines += [f"{'':<{kw}}  {w}" for w in wrapped[1:]]
        for caption, df in self.tables:
            caption = _cell_text(caption)
            lines += ["", caption, "-" * len(caption), text_table(df, self.digits, width)]
        if self.notes:
            lines.append("")
            for n in self.notes:
                lines += _wrap(f"Note: {_cell_text(n)}", width)
        return strip_controls("\n".join(lines))

    def to_markdown(self) -> str:
        """Markdown: the title as a heading, the facts and tables as pipe tables (numbers
        right-aligned), the notes as a list; every cell's ``|`` escaped."""
        out = [f"## {_md(self.title)}", ""]
        if self.facts:
            out += ["| | |", "|:--|--:|"]
            out += [f"| {_md(k)} | {_md(_fmt(v, self.digits))} |" for k, v in self.facts]
            out.append("")
        for caption, df in self.tables:
            head, rows, numeric = _table_cells(df, self.digits)
            out += [f"### {_md(caption)}", "",
                    "| " + " | ".join(_md(h) for h in head) + " |",
                    "|" + "|".join("--:" if n else ":--" for n in numeric) + "|"]
            out += ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows]
            out.append("")
        out += [f"- Note: {_md(n)}" for n in self.notes]
        return "\n".join(out).rstrip() + "\n"

    def _repr_html_(self) -> str:
        """HTML for Jupyter with its own small CSS (scoped to ``.psychoval-summary``): numbers
        right-aligned, text left-aligned and never truncated, verdict cells as coloured badges
        (the palette of ``psychoval._palette``); every text escaped."""
        from psychoval._palette import CSS

        esc = html.escape
        parts = [f"<div class='psychoval-summary'><style>{SUMMARY_CSS}{CSS}</style>",
                 f"<h4>{esc(self.title)}</h4>"]
        if self.facts:
            rows = "".join(f"<tr><th>{esc(str(k))}</th><td class='num'>"
                           f"{esc(_fmt(v, self.digits))}</td></tr>" for k, v in self.facts)
            parts.append(f"<table class='pv-facts'>{rows}</table>")
        for caption, df in self.tables:
            parts.append(f"<h5>{esc(caption)}</h5>{html_table(df, self.digits)}")
        parts += [f"<p><em>Note:</em> {esc(n)}</p>" for n in self.notes]
        parts.append("</div>")
        return "".join(parts)


_VERDICT_COLUMNS = frozenset({"verdict", "status", "overall"})

SUMMARY_CSS = (
    ".psychoval-summary table{border-collapse:collapse;margin:.3em 0 .8em}"
    ".psychoval-summary th,.psychoval-summary td{padding:2px 8px;border-bottom:1px solid #ddd;"
    "text-align:left;vertical-align:top;white-space:normal}"
    ".psychoval-summary .num{text-align:right;font-variant-numeric:tabular-nums}"
    ".psychoval-summary h4{margin:.2em 0}.psychoval-summary h5{margin:.6em 0 .2em}"
)
"""The CSS every result's ``_repr_html_`` carries (with the badge CSS of the palette)."""


def _md(text: Any) -> str:
    return _cell_text(str(text)).replace("|", "\\|")


_NUMBER_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?%?|NA|NaN|-?Inf")


def _is_number(v: Any) -> bool:
    """A number, or text that is one (a table formatted before it reached the summary):
    right-aligned."""
    if isinstance(v, str):
        return bool(_NUMBER_TEXT.fullmatch(v.strip()))
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_))


def _meaningful_index(df: pd.DataFrame) -> bool:
    """False for row numbers without a name (pandas' default, or what is left of it after
    filtering rows): not worth a column."""
    idx = df.index
    if idx.name is not None or isinstance(idx, pd.MultiIndex):
        return True
    return not (isinstance(idx, pd.RangeIndex) or pd.api.types.is_integer_dtype(idx.dtype))


def _table_cells(df: pd.DataFrame, digits: int) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, rows of cell text and which columns are numeric (every non-missing value a
    number), the index as the first column when it means something."""
    frame = df.reset_index() if _meaningful_index(df) else df
    if _meaningful_index(df) and df.index.name is None and "index" in frame.columns:
        frame = frame.rename(columns={"index": ""})
    head = [_cell_text(" ".join(str(x) for x in c if str(x)) if isinstance(c, tuple)
                       else str(c)) for c in frame.columns]  # MultiIndex: levels joined
    numeric = []
    for c in range(frame.shape[1]):
        vals = [v for v in frame.iloc[:, c] if not (v is None or (isinstance(v, float)
                                                                  and math.isnan(v)))]
        numeric.append(bool(vals) and all(_is_number(v) for v in vals)
                       and not all(isinstance(v, str) and v.strip() in ("NA", "NaN")
                                   for v in vals))
    rows = [[_cell_text(_fmt(v, digits)) for v in row]
            for row in frame.itertuples(index=False, name=None)]
    return head, rows, numeric


def html_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as an HTML table for Jupyter: every text escaped and never truncated,
    numbers right-aligned (class ``num``), no row-number column, and the cells of a
    ``verdict`` / ``status`` column as badges (``<span class="pv-badge pv-fail">``, the
    classes of :mod:`psychoval._palette`, whose ``CSS`` the page must carry)."""
    from psychoval._palette import LABELS, SYMBOLS, badge_class

    esc = html.escape
    head, rows, numeric = _table_cells(df, digits)

    def cell(col: str, value: str, num: bool) -> str:
        if col.lower() in _VERDICT_COLUMNS and value in LABELS:
            return (f"<td><span class='{badge_class(value)}'>{esc(SYMBOLS[value])} "
                    f"{esc(LABELS[value])}</span></td>")
        return f"<td class='num'>{esc(value)}</td>" if num else f"<td>{esc(value)}</td>"

    ths = "".join(f"<th class='{'num' if n else 'txt'}'>{esc(h)}</th>"
                  for h, n in zip(head, numeric, strict=True))
    body = "".join("<tr>" + "".join(cell(h, c, n) for h, c, n in
                                    zip(head, r, numeric, strict=True)) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{body}</tbody></table>"


def _wrap(text: str, width: int | None) -> list[str]:
    import textwrap

    if width is None or len(text) <= width:
        return [text]
    return textwrap.wrap(text, max(width, 10), break_long_words=True,
                         break_on_hyphens=False) or [""]


def text_table(df: pd.DataFrame, digits: int = 3, width: int | None = None) -> str:
    """A DataFrame as aligned plain text: no row-number column, text left-aligned, numbers
    right-aligned, two spaces between columns. With ``width``: the widest text column wraps
    (down to 16 characters) and, if the table is still wider, its columns continue below in
    blocks, each repeating the first column."""
    head, rows, numeric = _table_cells(df, digits)
    if not head:
        return ""
    widths = [max([len(h)] + [len(r[j]) for r in rows]) for j, h in enumerate(head)]
    gap = 2
    if width is not None and sum(widths) + gap * (len(widths) - 1) > width:
        text_cols = sorted((j for j, n in enumerate(numeric) if not n), key=lambda j: -widths[j])
        for j in text_cols:
            excess = sum(widths) + gap * (len(widths) - 1) - width
            if excess <= 0:
                break
            widths[j] = max(min(16, widths[j]), len(head[j]), widths[j] - excess)
    blocks: list[list[int]] = []
    if width is None:
        blocks = [list(range(len(head)))]
    else:
        current: list[int] = [0]
        used = widths[0]
        for j in range(1, len(head)):
            if used + gap + widths[j] > width and len(current) > 1:
                blocks.append(current)
                current, used = [0], widths[0]
            current.append(j)
            used += gap + widths[j]
        blocks.append(current)
    out: list[str] = []
    for b, cols in enumerate(blocks):
        if b:
            out.append("")

        def line(cells: list[str], cols: list[int] = cols) -> list[str]:
            wrapped = [_wrap(cells[j], widths[j]) if len(cells[j]) > widths[j] else [cells[j]]
                       for j in cols]
            height = max(len(w) for w in wrapped)
            text = []
            for k in range(height):
                parts = []
                for j, w in zip(cols, wrapped, strict=True):
                    piece = w[k] if k < len(w) else ""
                    parts.append(piece.rjust(widths[j]) if numeric[j]
                                 else piece.ljust(widths[j]))
                text.append((" " * gap).join(parts).rstrip())
            return text

        out += line(head)
        out.append((" " * gap).join("-" * widths[j] for j in cols))
        for r in rows:
            out += line(r)
    return "\n".join(out)


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
