"""Scoring responses by a framework: answer keys, labels, reverse keys, rater means; scale
scores with the CONVENTIONS.md missing-data rule."""

from __future__ import annotations

import dataclasses
import math
import threading
import weakref
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError, SpecificationWarning, warn
from psychoval.framework._ids import norm_label, normalize_id
from psychoval.io._table import MissingCodes, ResponseTable, describe_row, list_names

if TYPE_CHECKING:  # pragma: no cover
    from psychoval.framework._framework import Framework, Item

__all__ = ["ScoredResponses", "ScaleScores", "score", "scale_scores", "decode_column",
           "reverse_score", "as_response_table", "OK", "MISSING", "OUT_OF_RANGE", "BAD_CODE"]

# status of a decoded cell
OK, MISSING, OUT_OF_RANGE, BAD_CODE = 0, 1, 2, 3



def _row_nanstat(a: np.ndarray, how: str) -> np.ndarray:
    """Per row the median (``how="median"``) or mean of the non-missing values; NaN for a
    row with none (computed only where there are values, so numpy never warns - a warnings
    filter would be process-wide)."""
    out = np.full(a.shape[0], np.nan)
    ok = ~np.isnan(a).all(axis=1)
    if ok.any():
        out[ok] = np.nanmedian(a[ok], axis=1) if how == "median" else np.nanmean(a[ok], axis=1)
    return out

def reverse_score(x: Any, lo: float, hi: float) -> Any:
    """Reverse-key on the item's own declared range: ``lo + hi - x`` (NaN stays NaN)."""
    return lo + hi - x


def numstr(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _lookup(cells: np.ndarray, table: dict[str, float], default: float) -> np.ndarray:
    """Map text cells through ``table`` by their normalised form (case and whitespace
    insensitive), normalising each distinct text once (vectorized over respondents)."""
    codes, uniques = pd.factorize(pd.Series(cells, dtype=object), use_na_sentinel=True)
    values = np.asarray([table.get(norm_label(u), default) for u in uniques] + [default],
                        dtype="float64")
    return values[np.where(codes < 0, len(uniques), codes)]


def missing_codes_of(item: Item) -> MissingCodes:
    """The item's missing codes (the framework's ``missing_codes``: its default under
    ``defaults``, or the item's own)."""
    return MissingCodes.parse(getattr(item, "missing_codes", ()) or None)


def _bool_options(options: tuple[str, ...]) -> dict[str, int]:
    """For options named true/false (and no option "1" or "0"): the numbers 1 and 0 (a
    boolean cell of any source reads as 1/0) mapped to those options' positions."""
    norm = [norm_label(o) for o in options]
    if "1" in norm or "0" in norm:
        return {}
    return {num: norm.index(word) for num, word in (("1", "true"), ("0", "false"))
            if word in norm}


# Decoded columns, per table: check_data and score (validate runs both) decode each column
# once. Keyed by the table's identity (a table is immutable; the entry is dropped when the
# table is collected) and (column, item); the arrays are read-only so that no caller can
# change what another reads.
_DECODED: dict[int, dict[tuple[str, Item], Any]] = {}
_DECODED_LOCK = threading.Lock()


def _forget(key: int) -> None:
    with _DECODED_LOCK:
        _DECODED.pop(key, None)


def decode_column(table: ResponseTable, column: str, item: Item
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Decode one data column of ``item`` into numbers, without reversing (once per table,
    column and item: later calls return the same read-only arrays).

    See :func:`_decode_column` for the rules."""
    key = (column, item)
    with _DECODED_LOCK:
        cached = _DECODED.get(id(table), {}).get(key)
    if cached is not None:
        return cached
    out = _decode_column(table, column, item)
    for arr in out:
        if arr is not None:
            arr.flags.writeable = False
    with _DECODED_LOCK:
        if id(table) not in _DECODED:
            _DECODED[id(table)] = {}
            weakref.finalize(table, _forget, id(table))
        _DECODED[id(table)][key] = out
    return out


def _decode_column(table: ResponseTable, column: str, item: Item
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Decode one data column of ``item`` into numbers, without reversing.

    Returns ``(values, status, chosen)``: float64 values (NaN unless status is OK), an int8
    status per cell (OK, MISSING, OUT_OF_RANGE, BAD_CODE), and for multiple-choice items the
    chosen option as written in the framework (object array, None where missing or invalid).
    Labels and options match case- and whitespace-insensitively; the item's missing codes
    (framework ``missing_codes``) are MISSING. Vectorized over respondents.
    """
    num = table._values[column].to_numpy(dtype="float64")
    text_pos, text_raw = table._text_of(column)
    codes = missing_codes_of(item)
    if codes:
        num = np.where(codes.numeric_mask(num), np.nan, num)
        if text_pos.size:
            keep = ~codes.text_mask(text_raw)
            text_pos, text_raw = text_pos[keep], text_raw[keep]
    n = num.shape[0]
    status = np.full(n, MISSING, dtype=np.int8)
    values = np.full(n, np.nan)
    numeric = ~np.isnan(num)
    if item.type == "multiple_choice":
        lookup = {norm_label(o): j for j, o in enumerate(item.options)}
        by_number = {**_bool_options(item.options), **lookup}
        choice = np.full(n, -1, dtype=np.intp)
        present = np.zeros(n, dtype=bool)
        if numeric.any():
            pos = np.flatnonzero(numeric)
            keys = pd.Series(num[pos]).map(numstr)
            choice[pos] = keys.map(by_number).fillna(-1).to_numpy(dtype=np.intp)
            present[pos] = True
        if text_pos.size:
            choice[text_pos] = _lookup(text_raw, lookup, -1).astype(np.intp)
            present[text_pos] = True
        valid = choice >= 0
        status[present] = BAD_CODE
        status[valid] = OK
        key = item.options.index(item.answer_key)  # type: ignore[arg-type]
        values[valid] = (choice[valid] == key).astype("float64")
        opts = np.asarray(item.options + (None,), dtype=object)
        chosen = opts[np.where(valid, choice, len(item.options))]
        return values, status, chosen
    lo, hi = float(item.min), float(item.max)  # type: ignore[arg-type]
    if numeric.any():
        inside = numeric & (num >= lo) & (num <= hi)
        status[numeric] = OUT_OF_RANGE
        status[inside] = OK
        values[inside] = num[inside]
    if text_pos.size:
        mapped = _lookup(text_raw, item.label_map(), np.nan).astype("float64")
        good = ~np.isnan(mapped)
        status[text_pos] = np.where(good, OK, BAD_CODE)
        values[text_pos[good]] = mapped[good]
    return values, status, None


def as_response_table(responses: Any, framework: Framework | None = None) -> ResponseTable:
    """Accept a ResponseTable, a DataFrame or a path; the framework's id column becomes the
    respondent id when present (ids as written); otherwise a DataFrame's index is kept."""
    from psychoval.io._read import read_source

    id_column = framework.id_column if framework is not None else None
    if isinstance(responses, ResponseTable):
        table = responses
    elif isinstance(responses, pd.DataFrame):
        cols = [str(c) for c in responses.columns]
        if id_column is not None and id_column not in cols:
            id_column = next((c for c in cols if normalize_id(c) == id_column), None)
        table = ResponseTable.from_frame(responses, id_column=id_column)
    elif isinstance(responses, (str,)) or hasattr(responses, "__fspath__"):
        table = read_source(responses, id_column=id_column, id_if_present=True)
    else:
        raise DataError(
            f"responses must be a ResponseTable, a DataFrame or a file path; got "
            f"{type(responses).__name__}"
        )
    return table if framework is None else _nfc_columns(table, framework)


def _nfc_columns(table: ResponseTable, framework: Framework) -> ResponseTable:
    """Data columns whose name is a framework id only in Unicode NFC form (an accent typed
    as a combining mark, e.g. by a macOS file name or another keyboard) are renamed to that
    id, with a note on the table; a rename that would collide with another column is not
    made (the column then stays unmatched and check_columns names it)."""
    present = set(table.items)
    wanted = set(framework.columns)
    names = {}
    for col in table.items:
        nfc = normalize_id(col)
        if nfc != col and nfc in wanted and nfc not in present:
            names[col] = nfc
    if not names:
        return table
    return table._renamed(names, (
        f"column(s) {', '.join(map(repr, names))} matched the framework id(s) "
        f"{', '.join(map(repr, names.values()))} in Unicode NFC form (the same text, "
        "composed differently)"))


def check_columns(framework: Framework, table: ResponseTable, *, stacklevel: int = 3) -> None:
    """Framework items absent from the data raise; unexpected data columns warn."""
    present = set(table.items)
    absent = [c for i in framework.items for c in i.columns if c not in present]
    if absent:
        raise DataError(
            f"framework item column(s) {', '.join(map(repr, absent))} not in the data "
            f"({table.source}); its columns are {list_names(table.items)}; fix the item ids "
            "in the framework or the column names in the data"
        )
    known = set(framework.columns)
    extra = [c for c in table.items if c not in known]
    if extra:
        warn(
            f"data column(s) {', '.join(map(repr, extra))} are not in the framework and are "
            "ignored; declare them (as items, or as id_column, group_columns or "
            "criterion_columns) or drop them",
            SpecificationWarning, stacklevel=stacklevel,
        )
    declared = [c for c in framework.group_columns + framework.criterion_columns
                if c not in present]
    if declared:
        warn(
            f"group/criterion column(s) {', '.join(map(repr, declared))} named by the framework "
            "are not in the data",
            SpecificationWarning, stacklevel=stacklevel,
        )


@dataclasses.dataclass(frozen=True, repr=False)
class ScoredResponses(Result):
    """Item scores of every respondent, scored by a framework.

    Attributes
    ----------
    scores : DataFrame
        Respondents x items (framework order), float64, NaN = missing. Multiple-choice items
        are 0/1 by the answer key; labels are numbers; reverse-keyed items are reversed on
        their own declared range; rated items are the mean (or median) of their raters.
    options : DataFrame
        The option each respondent chose on each multiple-choice item, as written in the
        framework (None = no answer), for distractor analysis.
    ratings : DataFrame
        The decoded rater columns of rated items (for rater agreement).
    covariates : DataFrame
        Group and criterion columns, as read.
    reversed_items : tuple of str
        The reverse-keyed items (already reversed in ``scores``).
    """

    _schema: ClassVar[str] = "psychoval.scored_responses/1"

    scores: pd.DataFrame
    options: pd.DataFrame
    ratings: pd.DataFrame
    covariates: pd.DataFrame
    reversed_items: tuple[str, ...]
    source: str
    framework: Framework = dataclasses.field(repr=False, compare=False)

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(self.scores.columns)

    @property
    def n(self) -> int:
        return int(self.scores.shape[0])

    def _repr_fields(self) -> dict[str, Any]:
        miss = float(np.isnan(self.scores.to_numpy()).mean()) if self.scores.size else 0.0
        return {"n": self.n, "items": len(self.items), "missing": f"{miss:.1%}",
                "reversed": len(self.reversed_items)}

    def summary(self) -> Summary:
        s = self.scores
        table = pd.DataFrame({
            "type": [self.framework.item(i).type for i in s.columns],
            "competency": [self.framework.item(i).competency for i in s.columns],
            "reversed": [i in self.reversed_items for i in s.columns],
            "n": s.notna().sum().to_numpy(),
            "mean": s.mean().to_numpy(),
            "sd": s.std(ddof=1).to_numpy(),
        }, index=pd.Index(s.columns, name="item"))
        return Summary(title="Scored responses",
                       facts=(("respondents", self.n), ("items", len(self.items)),
                              ("source", self.source)),
                       tables=(("Item scores", table),))

    def to_frame(self) -> pd.DataFrame:
        """Item scores (respondents x items) with the group/criterion columns appended."""
        return pd.concat([self.scores, self.covariates], axis=1)

    def to_table(self) -> ResponseTable:
        """The item scores as a :class:`ResponseTable` for the statistics."""
        s = self.scores
        return ResponseTable._from_parts(s.copy(), {}, source=f"scored {self.source}")


def score(framework: Framework, responses: Any) -> ScoredResponses:
    """Score ``responses`` by ``framework``.

    Rules
    -----
    - multiple choice: 1 if the chosen option is the answer key, 0 for another listed option
      (options match case- and whitespace-insensitively); the chosen options are kept;
    - labelled categories: the label's number (``min`` for the first label, then ``+1``),
      matched case- and whitespace-insensitively; numbers are accepted as they are;
    - reverse-keyed items: ``min + max - x`` on the item's own declared range. psych's
      ``scoreItems``/``reverse.code`` use the range of the whole test (the min and max over
      every item), which gives wrong scores when formats are mixed (a 1-5 Likert item beside a
      0/1 item); for a single-format test the two agree;
    - rated items with raters: the mean (or ``combine: median``) of the raters who rated,
      missing when no rater did.

    Raises
    ------
    DataError
        An item column absent from the data; a value outside the declared range or a code
        that is neither a label nor an option (the message names the item, the row and the
        value; :func:`psychoval.check_data` lists them all).

    Warns
    -----
    SpecificationWarning
        Data columns the framework does not name.
    """
    table = as_response_table(responses, framework)
    check_columns(framework, table, stacklevel=4)
    scores: dict[str, np.ndarray] = {}
    options: dict[str, np.ndarray] = {}
    ratings: dict[str, np.ndarray] = {}
    for item in framework.items:
        cols = []
        for col in item.columns:
            values, status, chosen = decode_column(table, col, item)
            bad = np.flatnonzero(status >= OUT_OF_RANGE)
            if bad.size:
                r = int(bad[0])
                cell = table._raw_at(col, [r])[0]
                if isinstance(cell, float):
                    cell = numstr(cell)
                what = f"item {item.id!r}" + (f" (rater column {col!r})" if item.raters else "")
                if item.type == "multiple_choice":
                    allowed = f"its options are {', '.join(item.options)}"
                elif item.categories:
                    allowed = (f"its categories are {', '.join(item.categories)} (or the "
                               f"numbers {numstr(item.min)}-{numstr(item.max)})")
                else:
                    allowed = f"its range is {numstr(item.min)}-{numstr(item.max)}"
                raise DataError(
                    f"{what} has the value {cell!r} at {describe_row(table.ids, r)}, which "
                    f"is not a valid response ({int(bad.size)} such cell(s)); {allowed}; "
                    "recode it (blank for missing) or fix the framework; "
                    "pv.check_data() lists every such cell"
                )
            cols.append(values)
            if item.raters:
                ratings[col] = values
            if chosen is not None:
                options[item.id] = chosen
        if len(cols) == 1:
            x = cols[0]
        else:
            stack = np.column_stack(cols)
            x = _row_nanstat(stack, item.combine)  # all raters missing -> NaN
        if item.reverse:
            x = reverse_score(x, float(item.min), float(item.max))  # type: ignore[arg-type]
        scores[item.id] = x
    idx = table.ids
    cov_cols = [c for c in framework.group_columns + framework.criterion_columns
                if c in table.items]
    covariates = table._raw_columns(cov_cols) if cov_cols else pd.DataFrame(index=idx)
    for c in cov_cols:  # numbers stay numbers, text stays text
        if c not in table.text_items:
            covariates[c] = table._values[c]
    return ScoredResponses(
        scores=pd.DataFrame(scores, index=idx, columns=list(framework.item_ids)),
        options=pd.DataFrame(options, index=idx, dtype=object),
        ratings=pd.DataFrame(ratings, index=idx),
        covariates=covariates.set_axis(idx, axis=0),
        reversed_items=tuple(i.id for i in framework.items if i.reverse),
        source=table.source,
        framework=framework,
    )


# -- scale scores ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, repr=False)
class ScaleScores(Result):
    """Competency and tier scores of every respondent.

    Attributes
    ----------
    means : DataFrame
        Respondents x scales (competencies, then tiers): the mean of the answered items, or
        NaN when fewer than ``min_answered`` of the scale's items are answered.
    sums : DataFrame
        ``n_items * mean`` (the sum of the items when all are answered; prorated otherwise),
        NaN where the mean is.
    n_answered : DataFrame
        Number of answered items per respondent and scale.
    n_items : dict
        Items per scale.
    level : dict
        ``"competency"`` or ``"tier"`` per scale.
    min_answered : float
        Fraction of a scale's items that must be answered.
    impute : str
        ``"none"`` or ``"median"`` (psych ``scoreItems`` compatible).
    """

    _schema: ClassVar[str] = "psychoval.scale_scores/1"

    means: pd.DataFrame
    sums: pd.DataFrame
    n_answered: pd.DataFrame
    n_items: dict[str, int]
    level: dict[str, str]
    min_answered: float
    impute: str

    @property
    def competencies(self) -> pd.DataFrame:
        """Competency mean scores."""
        return self.means[[s for s, lv in self.level.items() if lv == "competency"]].copy()

    @property
    def tiers(self) -> pd.DataFrame:
        """Tier mean scores."""
        return self.means[[s for s, lv in self.level.items() if lv == "tier"]].copy()

    def _repr_fields(self) -> dict[str, Any]:
        return {"n": int(self.means.shape[0]), "scales": int(self.means.shape[1]),
                "min_answered": self.min_answered, "impute": self.impute}

    def summary(self) -> Summary:
        m = self.means
        table = pd.DataFrame({
            "level": [self.level[s] for s in m.columns],
            "n_items": [self.n_items[s] for s in m.columns],
            "n_scored": m.notna().sum().to_numpy(),
            "mean": m.mean().to_numpy(),
            "sd": m.std(ddof=1).to_numpy(),
        }, index=pd.Index(m.columns, name="scale"))
        rule = ("missing items imputed by the item median (psych scoreItems)"
                if self.impute == "median" else
                f"mean of answered items when at least {self.min_answered:.0%} are answered, "
                "else missing")
        return Summary(title="Scale scores", facts=(("respondents", int(m.shape[0])),),
                       tables=(("Scales", table),), notes=(rule,))

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per respondent and scale."""
        m = self.means
        ids = m.index
        rows = []
        for s in m.columns:
            rows.append(pd.DataFrame({
                "id": ids, "scale": s, "level": self.level[s], "n_items": self.n_items[s],
                "n_answered": self.n_answered[s].to_numpy(), "mean": m[s].to_numpy(),
                "sum": self.sums[s].to_numpy(),
            }))
        return pd.concat(rows, ignore_index=True)


def scale_scores(framework: Framework, scored: Any, *, min_answered: float = 0.5,
                 impute: str = "none") -> ScaleScores:
    """Competency and tier scores (mean and sum of item scores).

    A tier score pools the items of its competencies (as a psych ``scoreItems`` key listing
    them all would).

    Parameters
    ----------
    scored : ScoredResponses
        From ``framework.score(responses)`` (raw responses are refused: their reverse keys
        and answer keys are not applied yet).
    min_answered : float in [0, 1]
        A scale score is the mean of the answered items when at least this fraction of the
        scale's items is answered (and at least one), else missing (CONVENTIONS.md).
    impute : {"none", "median"}
        ``"median"`` reproduces psych ``scoreItems(impute = "median")``: each missing item
        score is replaced by the item's median, and every respondent gets a score.
        ``min_answered`` is then not used. Nothing is imputed unless asked for by name.

    Returns
    -------
    ScaleScores

    Notes
    -----
    With :math:`A_i` the answered items of scale :math:`s` for respondent :math:`i` and
    :math:`k_s` its number of items, the mean is :math:`\\bar x_{is} = |A_i|^{-1}
    \\sum_{j \\in A_i} x_{ij}` when :math:`|A_i| \\ge \\max(1, \\text{min\\_answered}\\,k_s)`;
    the sum is :math:`k_s \\bar x_{is}`.
    """
    if not isinstance(scored, ScoredResponses):
        raise DataError(
            f"scale_scores needs the result of framework.score(responses); got "
            f"{type(scored).__name__} (raw responses have not had their answer keys and "
            "reverse keys applied)"
        )
    check_choice("impute", impute, ("none", "median"))
    if isinstance(min_answered, bool) or not isinstance(min_answered, (int, float)) or \
            not 0 <= float(min_answered) <= 1 or math.isnan(min_answered):
        raise SpecificationError(
            f"min_answered={min_answered!r} must be a fraction between 0 and 1 (0.5 = at least "
            "half of a scale's items answered)"
        )
    missing_items = [i for i in framework.item_ids if i not in scored.scores.columns]
    if missing_items:
        raise SpecificationError(
            f"scored responses lack the framework item(s) {', '.join(map(repr, missing_items))}; "
            "score them with this framework"
        )
    x = scored.scores[list(framework.item_ids)].to_numpy(dtype="float64")
    pos = {item: j for j, item in enumerate(framework.item_ids)}
    if impute == "median":
        med = _row_nanstat(x.T, "median")  # an item nobody answered stays missing
        x = np.where(np.isnan(x), med, x)
    answered = ~np.isnan(x)
    filled = np.where(answered, x, 0.0)
    scales: list[tuple[str, str, list[int]]] = [
        (c.id, "competency", [pos[i] for i in c.item_ids]) for c in framework.competencies
    ] + [(t.id, "tier", [pos[i] for i in t.item_ids]) for t in framework.tiers]
    means, sums, counts = {}, {}, {}
    for name, _, cols in scales:
        k = len(cols)
        n_ans = answered[:, cols].sum(axis=1)
        total = filled[:, cols].sum(axis=1)
        need = max(1.0, float(min_answered) * k - 1e-9) if impute == "none" else 1.0
        ok = n_ans >= need
        mean = np.full(x.shape[0], np.nan)
        mean[ok] = total[ok] / n_ans[ok]
        means[name], sums[name], counts[name] = mean, mean * k, n_ans
    idx = scored.scores.index
    names = [s[0] for s in scales]
    return ScaleScores(
        means=pd.DataFrame(means, index=idx, columns=names),
        sums=pd.DataFrame(sums, index=idx, columns=names),
        n_answered=pd.DataFrame(counts, index=idx, columns=names),
        n_items={s[0]: len(s[2]) for s in scales},
        level={s[0]: s[1] for s in scales},
        min_answered=float(min_answered),
        impute=impute,
    )
