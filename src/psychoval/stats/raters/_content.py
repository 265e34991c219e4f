"""Content validity from an expert panel: relevance (I-CVI, S-CVI, modified kappa*, Aiken's V
with its score interval), essentiality (Lawshe's CVR with exact critical values) and
item-to-competency assignment (agreement with the framework, Fleiss' kappa).

Experts are raters and items their targets, so the panel lives in the raters room; Fleiss'
kappa of the assignments is :func:`psychoval.fleiss_kappa` on the items x competencies counts.

The cutoffs (I-CVI .78, kappa* bands, CVR significance, Aiken's V, assignment agreement,
S-CVI/Ave) and their citations are criteria of the verdicts layer
(``psychoval.verdicts._criteria.CONTENT_CRITERIA``, judged by ``pv.content_verdicts``): this
module computes the indices only.

Length: one input step (long, wide, CSV / XLSX, three kinds of rating), the per-item indices,
the per-competency table and the result class.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import check_choice, check_confidence_level
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError
from psychoval.framework._ids import norm_label, normalize_id
from psychoval.io._table import list_names
from psychoval.stats.raters._kappa import FleissKappaResult, fleiss_kappa

__all__ = ["content_validity", "ContentValidityResult", "lawshe_critical"]

_ESSENTIAL = {"essential": 3, "useful": 2, "useful but not essential": 2,
              "not necessary": 1}
_LAYOUTS = ("long", "wide")
_EXCEL = (".xlsx", ".xlsm")
_TEXT = {".csv": ",", ".tsv": "\t", ".txt": None}


# --------------------------------------------------------------------------- formulas


def lawshe_critical(n: int, significance_level: float = 0.05) -> tuple[float, float]:
    """Exact critical value of Lawshe's CVR for ``n`` experts: the smallest number ``n_e`` of
    "essential" ratings with ``P(X >= n_e | n, 1/2) <= significance_level`` (one-tailed), and
    ``CVR_critical = (n_e - n/2) / (n/2)``. NaN, NaN when even ``n_e = n`` is not significant
    (fewer than 5 experts at .05). Wilson, Pan & Schumsky (2012); Ayre & Scally (2014)."""
    n = int(n)
    tail = 0.0
    n_e = math.nan
    # P(X >= k) = sum_{j >= k} C(n, j) / 2^n, accumulated from the top in exact integers
    acc = 0
    for k in range(n, -1, -1):
        acc += math.comb(n, k)
        tail = acc / 2.0**n
        if tail > significance_level:
            break
        n_e = float(k)
    if math.isnan(n_e):
        return math.nan, math.nan
    return n_e, (n_e - n / 2) / (n / 2)


def _aiken_interval(v: float, n: int, k: int, z: float) -> tuple[float, float]:
    """Penfield & Giacobbi (2004) score interval of Aiken's V for n raters and k = c - 1."""
    nk = n * k
    centre = 2 * nk * v + z**2
    half = z * math.sqrt(4 * nk * v * (1 - v) + z**2)
    den = 2 * (nk + z**2)
    return (centre - half) / den, (centre + half) / den


# --------------------------------------------------------------------------- result


@dataclasses.dataclass(frozen=True, repr=False)
class ContentValidityResult(Result):
    """Content validity of a framework's items from an expert panel.

    Attributes
    ----------
    items : DataFrame
        One row per item (index ``item``): ``competency`` (intended, from the framework),
        ``n_experts``; relevance: ``n_relevance``, ``i_cvi``, ``pc``, ``kappa_star``,
        ``aiken_v``, ``aiken_lower``, ``aiken_upper``; essentiality:
        ``n_essentiality``, ``n_essential``, ``cvr``, ``cvr_pvalue`` (one-tailed binomial
        P(X >= n_essential | N, 1/2)), ``cvr_critical``, ``cvr_significant``;
        assignment: ``n_assignment``, ``assignment_agreement``, ``modal_assignment``,
        ``modal_share``. Columns of a kind of rating not given are NaN.
    competencies : DataFrame
        One row per competency with rated items (framework only): ``n_items``,
        ``s_cvi_ave``, ``s_cvi_ua``, ``mean_kappa_star``, ``mean_aiken_v``, ``mean_cvr``,
        ``n_retained`` (items whose CVR reaches its critical value), ``cvi`` (Lawshe's CVI:
        mean CVR of the retained items), ``assignment_agreement`` (mean over items).
    comments : DataFrame
        ``item``, ``expert``, ``comment``: the experts' comments as plain text, never
        interpreted (renderers escape them).
    fleiss_kappa : FleissKappaResult or None
        Fleiss' kappa of the competency assignments (None without assignments, when items
        have unequal numbers of assignments or fewer than two competencies were chosen).
    s_cvi_ave, s_cvi_ua, mean_cvr, cvi, assignment_agreement : float
        Over all items.
    n_items, n_experts : int
        Items rated and experts on the panel; ``experts`` their ids.
    unrated_items : tuple of str
        Framework items nobody rated.
    measures : tuple of str
        The kinds of rating given (``relevance``, ``essentiality``, ``assignment``).
    """

    items: pd.DataFrame
    competencies: pd.DataFrame
    comments: pd.DataFrame
    fleiss_kappa: FleissKappaResult | None
    s_cvi_ave: float
    s_cvi_ua: float
    mean_cvr: float
    cvi: float
    assignment_agreement: float
    n_items: int
    n_experts: int
    experts: tuple[str, ...]
    unrated_items: tuple[str, ...]
    measures: tuple[str, ...]
    scale: int
    confidence_level: float
    significance_level: float

    _schema: ClassVar[str] = "psychoval.content_validity/2"

    def _repr_fields(self) -> dict[str, Any]:
        return {"n_items": self.n_items, "n_experts": self.n_experts,
                "s_cvi_ave": self.s_cvi_ave, "cvi": self.cvi}

    def to_frame(self) -> pd.DataFrame:
        return self.items.reset_index()

    def summary(self) -> Summary:
        facts: list[tuple[str, Any]] = [("items", self.n_items), ("experts", self.n_experts),
                                        ("ratings", ", ".join(self.measures))]
        if "relevance" in self.measures:
            facts += [("S-CVI/Ave", self.s_cvi_ave), ("S-CVI/UA", self.s_cvi_ua)]
        if "essentiality" in self.measures:
            facts += [("mean CVR", self.mean_cvr), ("CVI (retained items)", self.cvi)]
        if "assignment" in self.measures:
            facts.append(("assignment agreement", self.assignment_agreement))
            if self.fleiss_kappa is not None:
                facts.append(("Fleiss' kappa of assignments", self.fleiss_kappa.kappa))
        facts.append(("comments", len(self.comments)))
        cols = [c for c in ("competency", "n_experts", "i_cvi", "kappa_star",
                            "aiken_v", "aiken_lower", "aiken_upper", "cvr", "cvr_critical",
                            "assignment_agreement", "modal_assignment")
                if c in self.items and not self.items[c].isna().all()]
        tables: list[tuple[str, pd.DataFrame]] = [("Items", self.items[cols])]
        if len(self.competencies):
            tables.append(("Competencies", self.competencies))
        level = f"{100 * self.confidence_level:g}%"
        notes = (f"I-CVI: share of experts rating in the upper half of the {self.scale}-point "
                 "relevance scale (3 or 4 of 4); kappa* corrects it "
                 "for chance (Polit, Beck & Owen 2007). Aiken's V with the "
                 f"{level} score interval of Penfield & Giacobbi (2004). CVR critical values "
                 f"exact from the binomial at one-tailed {self.significance_level:g}. "
                 "Verdicts with cutoffs and citations: pv.content_verdicts(result).",)
        return Summary(title="Content validity", facts=tuple(facts), tables=tuple(tables),
                       notes=notes)


# --------------------------------------------------------------------------- input


def _read(source: Any, sheet: Any) -> tuple[pd.DataFrame, bool]:
    """A DataFrame of the ratings and whether it came from a file (cells as written)."""
    if isinstance(source, pd.DataFrame):
        return source, False
    if not isinstance(source, (str, os.PathLike)):
        raise DataError(
            f"content_validity reads ratings from a DataFrame or the path of a CSV / XLSX "
            f"file, not a {type(source).__name__}"
        )
    path = Path(source)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in _TEXT:
        sep = _TEXT[suffix]
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[],
                            engine="python" if sep is None else "c", encoding="utf-8-sig")
    elif suffix in _EXCEL:
        import importlib.util

        if importlib.util.find_spec("openpyxl") is None:
            raise DataError(
                f"{path}: reading this file needs the optional package 'openpyxl'; install "
                "it with `pip install psychoval[excel]`"
            )
        frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object,
                              keep_default_na=False, na_values=[], engine="openpyxl")
    else:
        raise DataError(f"{path}: unknown file type {suffix!r}; give a .csv, .tsv or .xlsx file")
    return frame, True


def _blank(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or \
        (isinstance(v, str) and not v.strip())


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return normalize_id(str(v))


def _wide_to_long(frame: pd.DataFrame, item: str, from_file: bool) -> pd.DataFrame:
    cols = [str(c) for c in frame.columns]
    if item in cols:
        ids = frame.iloc[:, cols.index(item)]
        body = frame.drop(columns=frame.columns[cols.index(item)])
    elif from_file:
        ids = frame.iloc[:, 0]
        body = frame.iloc[:, 1:]
    else:
        ids = pd.Series(frame.index, index=frame.index)
        body = frame
    experts = [str(c) for c in body.columns]
    if len(set(experts)) != len(experts):
        dup = next(e for e in experts if experts.count(e) > 1)
        raise DataError(f"expert column {dup!r} appears twice in the wide ratings")
    rows = {"item": np.repeat(np.asarray(ids, dtype=object), len(experts)),
            "expert": np.tile(np.asarray(experts, dtype=object), len(ids)),
            "relevance": body.to_numpy(dtype=object).ravel()}
    return pd.DataFrame(rows)


def _number(v: Any, what: str) -> float:
    if _blank(v):
        return math.nan
    if isinstance(v, bool):
        raise DataError(f"{what} is {v!r}, not a number")
    try:
        x = float(str(v).strip()) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        raise DataError(f"{what} is {v!r}, not a number") from None
    return x


def _relevance(v: Any, scale: int, what: str) -> float:
    x = _number(v, what)
    if not math.isnan(x) and (not x.is_integer() or not 1 <= x <= scale):
        raise DataError(
            f"{what} is {v!r}; relevance is a whole number from 1 (not relevant) to {scale} "
            f"(highly relevant): correct it, or give scale= if the panel used a longer scale"
        )
    return x


def _essentiality(v: Any, what: str) -> float:
    if _blank(v):
        return math.nan
    if isinstance(v, str):
        key = norm_label(v)
        if key in _ESSENTIAL:
            return float(_ESSENTIAL[key])
    try:
        x = float(v)
    except (TypeError, ValueError):
        x = math.nan
    if x in (1.0, 2.0, 3.0) and not isinstance(v, bool):
        return x
    raise DataError(
        f"{what} is {v!r}; essentiality is 'essential' (3), 'useful' (2) or 'not necessary' "
        "(1), in any case"
    )


def _competency_map(framework: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in framework.competencies:
        out[norm_label(c.id)] = c.id
        if getattr(c, "name", None):
            out.setdefault(norm_label(c.name), c.id)
    return out


# --------------------------------------------------------------------------- the function


def content_validity(
    ratings: Any,
    *,
    framework: Any = None,
    layout: str = "long",
    item: str = "item",
    expert: str = "expert",
    relevance: str = "relevance",
    essentiality: str = "essentiality",
    assignment: str = "assignment",
    comment: str = "comment",
    scale: int = 4,
    sheet: Any = None,
    confidence_level: float = 0.95,
    significance_level: float = 0.05,
) -> ContentValidityResult:
    """Content validity of items from an expert panel's ratings (relevance, essentiality,
    item-to-competency assignment).

    Each expert judges each item: how relevant it is to its competency (1-4), whether it is
    essential (Lawshe), and which competency it measures. The indices summarise the panel's
    consensus per item, per competency and overall; they assume independent experts.

    Parameters
    ----------
    ratings : DataFrame or path
        ``layout="long"``: one row per expert x item with the columns named by ``item``,
        ``expert`` and any of ``relevance``, ``essentiality``, ``assignment``, ``comment``.
        ``layout="wide"``: items x experts of relevance scores (items in the ``item`` column
        if there is one, else the index of a DataFrame or the first column of a file). A
        DataFrame, or a CSV / TSV / XLSX file (XLSX needs the ``excel`` extra).
    framework : Framework, optional
        Gives each item's intended competency (for assignment agreement and the competency
        table) and its item list: an item it does not know raises.
    layout : {"long", "wide"}
    item, expert, relevance, essentiality, assignment, comment : str
        Column names (long layout). Any of relevance / essentiality / assignment may be
        absent, but not all three; a blank cell is a rating not given.
    scale : int
        Points of the relevance scale (default 4). "Relevant" is the upper half: 3 or 4 of 4.
    sheet : str or int, optional
        The sheet of an XLSX file (default the first).
    confidence_level : float
        Level of Aiken's V interval.
    significance_level : float
        One-tailed level of Lawshe's critical values (default .05).

    Returns
    -------
    ContentValidityResult

    Raises
    ------
    DataError
        An item not in the framework, a relevance outside 1..scale, an essentiality or
        competency that is not one of the accepted values, an expert rating an item twice,
        fewer than 3 experts (on the panel or for an item), a missing item / expert id.
    SpecificationError
        No rating column, a named column missing, a bad ``scale`` or level.

    Notes
    -----
    Relevance: ``I-CVI = A / N`` (A of N experts rate 3 or 4), ``S-CVI/Ave`` = mean I-CVI,
    ``S-CVI/UA`` = share of items with I-CVI = 1 (Polit & Beck 2006). Modified kappa:
    ``pc = C(N, A) 0.5^N``, ``kappa* = (I-CVI - pc) / (1 - pc)`` (Polit, Beck & Owen 2007).
    Aiken's ``V = sum(r - 1) / (N (c - 1))`` with its score interval (Penfield & Giacobbi
    2004), ``k = c - 1``, ``z`` the normal quantile::

        (2NkV + z^2 -/+ z sqrt(4NkV(1 - V) + z^2)) / (2 (Nk + z^2))

    Essentiality: ``CVR = (n_e - N/2) / (N/2)`` (Lawshe 1975); its critical value is exact:
    the smallest ``n_e`` with ``P(X >= n_e | N, 1/2) <= significance_level`` (Wilson, Pan &
    Schumsky 2012; Ayre & Scally 2014). Lawshe's CVI is the mean CVR of the retained items.
    Assignment: the share of experts choosing the item's intended competency; Fleiss' kappa
    of the assignments (:func:`psychoval.fleiss_kappa` on items x competencies counts).

    References
    ----------
    Aiken, L. R. (1985). Three coefficients for analyzing the reliability and validity of
    ratings. Educational and Psychological Measurement, 45(1), 131-142.
    https://doi.org/10.1177/0013164485451012

    Ayre, C., & Scally, A. J. (2014). Critical values for Lawshe's content validity ratio.
    Measurement and Evaluation in Counseling and Development, 47(1), 79-86.
    https://doi.org/10.1177/0748175613513808

    Lawshe, C. H. (1975). A quantitative approach to content validity. Personnel Psychology,
    28(4), 563-575. https://doi.org/10.1111/j.1744-6570.1975.tb01393.x

    Lynn, M. R. (1986). Determination and quantification of content validity. Nursing
    Research, 35(6), 382-385. https://doi.org/10.1097/00006199-198611000-00017

    Penfield, R. D., & Giacobbi, P. R. (2004). Applying a score confidence interval to Aiken's
    item content-relevance index. Measurement in Physical Education and Exercise Science,
    8(4), 213-225. https://doi.org/10.1207/s15327841mpee0804_3

    Polit, D. F., & Beck, C. T. (2006). The content validity index: Are you sure you know
    what's being reported? Research in Nursing & Health, 29(5), 489-497.
    https://doi.org/10.1002/nur.20147

    Polit, D. F., Beck, C. T., & Owen, S. V. (2007). Is the CVI an acceptable indicator of
    content validity? Research in Nursing & Health, 30(4), 459-467.
    https://doi.org/10.1002/nur.20199

    Wilson, F. R., Pan, W., & Schumsky, D. A. (2012). Recalculation of the critical values for
    Lawshe's content validity ratio. Measurement and Evaluation in Counseling and
    Development, 45(3), 197-210. https://doi.org/10.1177/0748175612440286

    Examples
    --------
    >>> import pandas as pd, psychoval as pv
    >>> wide = pd.DataFrame({"e1": [4, 4, 2], "e2": [3, 4, 1], "e3": [4, 3, 2],
    ...                      "e4": [4, 4, 3], "e5": [3, 4, 1], "e6": [4, 2, 2]},
    ...                     index=["Q1", "Q2", "Q3"])
    >>> res = pv.content_validity(wide, layout="wide")
    >>> res.items["i_cvi"].round(3).tolist()  # R: colMeans(t(wide) >= 3)
    [1.0, 0.833, 0.167]
    >>> round(res.s_cvi_ave, 4), res.s_cvi_ua
    (0.6667, 0.3333333333333333)
    """
    from scipy import stats

    check_choice("layout", layout, _LAYOUTS)
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 2:
        raise SpecificationError(f"scale={scale!r} must be the number of points of the "
                                 "relevance scale, a whole number >= 2 (e.g. 4)")
    scale = int(scale)
    level = check_confidence_level(confidence_level)
    significance_level = check_confidence_level(significance_level, significance=True)
    if framework is not None:
        from psychoval.framework import Framework

        if not isinstance(framework, Framework):
            raise SpecificationError(
                f"framework= takes a psychoval Framework, not {type(framework).__name__}")

    frame, from_file = _read(ratings, sheet)
    names = {"item": item, "expert": expert, "relevance": relevance,
             "essentiality": essentiality, "assignment": assignment, "comment": comment}
    if layout == "wide":
        frame = _wide_to_long(frame, str(item), from_file)
        names = {"item": "item", "expert": "expert", "relevance": "relevance"}
    p = _panel(frame, names, framework, check_names=layout == "long")
    rel, ess, assign, comp_order = _matrices(frame, p, names, framework, scale)

    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    rows = []
    for i, it in enumerate(p.item_ids):
        row: dict[str, Any] = {"item": it, "competency": p.comp_of.get(it),
                               "n_experts": int(np.count_nonzero(p.r_idx == i))}
        row.update(_relevance_indices(None if rel is None else rel[i], scale, z))
        row.update(_essentiality_indices(None if ess is None else ess[i], significance_level))
        row.update(_assignment_indices(None if assign is None else assign[i],
                                       p.comp_of.get(it), comp_order))
        rows.append(row)
    items_tab = pd.DataFrame(rows).set_index("item")
    items_tab["cvr_significant"] = items_tab["cvr_significant"].astype("boolean")
    if framework is None:
        items_tab["competency"] = items_tab["competency"].astype(object)

    comps = _competency_table(items_tab, [c.id for c in framework.competencies]
                              if framework is not None else [])
    fk = _fleiss(assign, comp_order, p.item_ids)
    comments = _comments(frame, p, names.get("comment"))
    return ContentValidityResult(
        items=items_tab, competencies=comps, comments=comments, fleiss_kappa=fk,
        s_cvi_ave=_mean(items_tab["i_cvi"]), s_cvi_ua=_mean(items_tab["i_cvi"] == 1.0,
                                                           items_tab["i_cvi"]),
        mean_cvr=_mean(items_tab["cvr"]), cvi=_lawshe_cvi(items_tab),
        assignment_agreement=_mean(items_tab["assignment_agreement"]),
        n_items=len(p.item_ids), n_experts=len(p.expert_ids), experts=tuple(p.expert_ids),
        unrated_items=p.unrated, measures=p.present, scale=scale, confidence_level=level,
        significance_level=float(significance_level))


# --------------------------------------------------------------------------- the panel


@dataclasses.dataclass(frozen=True)
class _Panel:
    """Who rated what: ids per row as written, items in framework order, positions."""

    cols: list[str]
    present: tuple[str, ...]
    items_of: list[str]
    experts_of: list[str]
    item_ids: list[str]
    expert_ids: list[str]
    comp_of: dict[str, str]
    unrated: tuple[str, ...]
    r_idx: np.ndarray
    e_idx: np.ndarray

    def column(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        return frame.iloc[:, self.cols.index(str(name))].to_numpy(dtype=object)

    def where(self, pos: int) -> str:
        return (f"the rating of item {self.items_of[pos]!r} by expert "
                f"{self.experts_of[pos]!r} (row {pos + 1})")


_DEFAULTS = {"relevance": "relevance", "essentiality": "essentiality",
             "assignment": "assignment", "comment": "comment"}


def _present(cols: list[str], names: dict[str, Any], check_names: bool) -> tuple[str, ...]:
    """The kinds of rating given; raises for a missing id column or a named column absent."""
    for key in ("item", "expert"):
        if str(names[key]) not in cols:
            hint = " (a table of items x experts? give layout='wide')" if key == "expert" \
                else ""
            raise SpecificationError(
                f"the ratings have no {key} column {names[key]!r}{hint}; their columns are "
                f"{list_names(cols)}: name it with {key}="
            )
    for key, default in _DEFAULTS.items():
        name = names.get(key, default)
        if check_names and name != default and str(name) not in cols:
            raise SpecificationError(
                f"{key}={name!r} is not a column of the ratings; their columns are "
                f"{list_names(cols)}"
            )
    present = tuple(k for k in ("relevance", "essentiality", "assignment")
                    if k in names and str(names[k]) in cols)
    if not present:
        raise SpecificationError(
            f"the ratings have none of the columns relevance={names['relevance']!r}, "
            f"essentiality={names.get('essentiality')!r}, assignment="
            f"{names.get('assignment')!r}; their columns are {list_names(cols)}"
        )
    return present


def _panel(frame: pd.DataFrame, names: dict[str, Any], framework: Any,
           check_names: bool) -> _Panel:
    cols = [str(c) for c in frame.columns]
    present = _present(cols, names, check_names)
    ids: dict[str, list[str]] = {"item": [], "expert": []}
    for what, out in ids.items():
        for pos, v in enumerate(frame.iloc[:, cols.index(str(names[what]))]
                                .to_numpy(dtype=object)):
            if _blank(v):
                raise DataError(f"row {pos + 1} of the ratings has no {what} id; fill it in "
                                "or delete the row")
            out.append(_text(v))
    items_of, experts_of = ids["item"], ids["expert"]
    # framework: each item must be one of its items; items in the framework's order
    comp_of: dict[str, str] = {}
    unrated: tuple[str, ...] = ()
    if framework is not None:
        known = {i.id: i.competency for i in framework.items}
        for pos, it in enumerate(items_of):
            if it not in known:
                raise DataError(
                    f"item {it!r} (row {pos + 1} of the ratings, expert {experts_of[pos]!r}) "
                    f"is not in the framework; its items are {list_names(known)}: correct the "
                    "item id, or add the item to the framework"
                )
        rated = set(items_of)
        item_ids = [i for i in known if i in rated]
        unrated = tuple(i for i in known if i not in rated)
        comp_of = {i: known[i] for i in item_ids}
    else:
        item_ids = list(dict.fromkeys(items_of))
    seen: dict[tuple[str, str], int] = {}
    for pos, key in enumerate(zip(items_of, experts_of, strict=True)):
        if key in seen:
            raise DataError(
                f"expert {key[1]!r} rated item {key[0]!r} twice (rows {seen[key] + 1} and "
                f"{pos + 1} of the ratings); keep one row per expert and item"
            )
        seen[key] = pos
    expert_ids = list(dict.fromkeys(experts_of))
    if len(expert_ids) < 3:
        raise DataError(
            f"the panel has {len(expert_ids)} expert(s) ({list_names(expert_ids)}); content "
            "validity indices need at least 3 experts (Lynn 1986)"
        )
    i_of = {it: i for i, it in enumerate(item_ids)}
    e_of = {e: j for j, e in enumerate(expert_ids)}
    return _Panel(cols=cols, present=present, items_of=items_of, experts_of=experts_of,
                  item_ids=item_ids, expert_ids=expert_ids, comp_of=comp_of, unrated=unrated,
                  r_idx=np.array([i_of[i] for i in items_of], dtype=int),
                  e_idx=np.array([e_of[e] for e in experts_of], dtype=int))


def _matrices(frame: pd.DataFrame, p: _Panel, names: dict[str, Any], framework: Any,
              scale: int) -> tuple[Any, Any, Any, list[str]]:
    """Items x experts matrices of relevance, essentiality (3/2/1) and assignment (NaN / None
    where not given), and the order of the competencies chosen."""
    shape = (len(p.item_ids), len(p.expert_ids))
    rel = ess = assign = None
    if "relevance" in p.present:
        rel = np.full(shape, np.nan)
        for pos, v in enumerate(p.column(frame, names["relevance"])):
            rel[p.r_idx[pos], p.e_idx[pos]] = _relevance(
                v, scale, f"the relevance in {p.where(pos)}")
    if "essentiality" in p.present:
        ess = np.full(shape, np.nan)
        for pos, v in enumerate(p.column(frame, names["essentiality"])):
            ess[p.r_idx[pos], p.e_idx[pos]] = _essentiality(
                v, f"the essentiality in {p.where(pos)}")
    comp_order: list[str] = []
    if "assignment" in p.present:
        assign = np.full(shape, None, dtype=object)
        cmap = _competency_map(framework) if framework is not None else None
        for pos, v in enumerate(p.column(frame, names["assignment"])):
            if _blank(v):
                continue
            label = _text(v).strip()
            if cmap is not None:
                if norm_label(label) not in cmap:
                    raise DataError(
                        f"the assignment in {p.where(pos)} is {v!r}, which is not a "
                        f"competency of the framework "
                        f"({list_names(c.id for c in framework.competencies)})"
                    )
                label = cmap[norm_label(label)]
            assign[p.r_idx[pos], p.e_idx[pos]] = label
        comp_order = ([c.id for c in framework.competencies] if framework is not None
                      else sorted({a for a in assign.ravel() if a is not None}))
    # fewer than 3 ratings of an item for a kind of rating: no index can be trusted
    for kind, mat in (("relevance", rel), ("essentiality", ess)):
        if mat is not None:
            _min_panel(kind, np.count_nonzero(~np.isnan(mat), axis=1), p.item_ids)
    if assign is not None:
        _min_panel("assignment", np.count_nonzero(assign != None, axis=1),  # noqa: E711
                   p.item_ids)
    return rel, ess, assign, comp_order


# --------------------------------------------------------------------------- per item


def _min_panel(kind: str, n_i: np.ndarray, item_ids: list[str]) -> None:
    bad = np.flatnonzero(n_i < 3)
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"item {item_ids[i]!r} has {int(n_i[i])} {kind} rating(s); content validity needs "
            f"at least 3 experts per item: collect more ratings or leave the {kind} column "
            "out"
        )


def _relevance_indices(r: np.ndarray | None, scale: int, z: float) -> dict[str, Any]:
    keys = ("n_relevance", "i_cvi", "pc", "kappa_star", "aiken_v", "aiken_lower",
            "aiken_upper")
    if r is None:
        return dict.fromkeys(keys, math.nan) | {"n_relevance": 0}
    r = r[~np.isnan(r)]
    n = int(r.size)
    a = int(np.count_nonzero(r > (scale + 1) / 2))   # the upper half: 3 or 4 of 4
    i_cvi = a / n
    pc = math.comb(n, a) * 0.5**n
    kappa = (i_cvi - pc) / (1 - pc)
    k = scale - 1
    v = float(np.sum(r - 1)) / (n * k)
    lo, up = _aiken_interval(v, n, k, z)
    return {"n_relevance": n, "i_cvi": i_cvi, "pc": pc, "kappa_star": kappa, "aiken_v": v, "aiken_lower": lo,
            "aiken_upper": up}


def _essentiality_indices(e: np.ndarray | None, significance_level: float) -> dict[str, Any]:
    if e is None:
        return {"n_essentiality": 0, "n_essential": math.nan, "cvr": math.nan,
                "cvr_pvalue": math.nan, "cvr_critical": math.nan, "cvr_significant": pd.NA}
    e = e[~np.isnan(e)]
    n = int(e.size)
    n_e = int(np.count_nonzero(e == 3))
    crit_n, crit = lawshe_critical(n, significance_level)
    # one-tailed binomial p: P(X >= n_e | n, 1/2), in exact integers
    pvalue = sum(math.comb(n, k) for k in range(n_e, n + 1)) / 2.0**n
    return {"n_essentiality": n, "n_essential": n_e, "cvr": (n_e - n / 2) / (n / 2),
            "cvr_pvalue": pvalue, "cvr_critical": crit,
            "cvr_significant": pd.NA if math.isnan(crit_n) else bool(n_e >= crit_n)}


def _assignment_indices(a: np.ndarray | None, intended: str | None,
                        order: list[str]) -> dict[str, Any]:
    if a is None:
        return {"n_assignment": 0, "assignment_agreement": math.nan,
                "modal_assignment": None, "modal_share": math.nan}
    chosen = [x for x in a if x is not None]
    n = len(chosen)
    counts = {c: chosen.count(c) for c in order if c in chosen}
    top = max(counts.values())
    tied = [c for c, m in counts.items() if m == top]
    modal = intended if intended in tied else tied[0]
    agree = math.nan if intended is None else counts.get(intended, 0) / n
    return {"n_assignment": n, "assignment_agreement": agree, "modal_assignment": modal,
            "modal_share": top / n}


# --------------------------------------------------------------------------- aggregates


def _mean(x: pd.Series, defined: pd.Series | None = None) -> float:
    ok = (defined if defined is not None else x).notna()
    return float(x[ok].astype(float).mean()) if ok.any() else math.nan


def _lawshe_cvi(tab: pd.DataFrame) -> float:
    keep = tab["cvr_significant"].fillna(False).astype(bool)
    return float(tab.loc[keep, "cvr"].mean()) if keep.any() else math.nan


def _competency_table(items: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    cols = ["n_items", "s_cvi_ave", "s_cvi_ua", "mean_kappa_star", "mean_aiken_v",
            "mean_cvr", "n_retained", "cvi", "assignment_agreement"]
    rows = []
    for c in order:
        t = items[items["competency"] == c]
        if not len(t):
            continue
        retained = t["cvr_significant"].fillna(False).astype(bool)
        rows.append({"competency": c, "n_items": len(t), "s_cvi_ave": _mean(t["i_cvi"]),
                     "s_cvi_ua": _mean(t["i_cvi"] == 1.0, t["i_cvi"]),
                     "mean_kappa_star": _mean(t["kappa_star"]),
                     "mean_aiken_v": _mean(t["aiken_v"]), "mean_cvr": _mean(t["cvr"]),
                     "n_retained": int(retained.sum()) if t["cvr"].notna().any() else 0,
                     "cvi": _lawshe_cvi(t),
                     "assignment_agreement": _mean(t["assignment_agreement"])})
    out = pd.DataFrame(rows, columns=["competency", *cols])
    return out.set_index("competency")


def _fleiss(assign: np.ndarray | None, order: list[str],
            item_ids: list[str]) -> FleissKappaResult | None:
    """Fleiss' kappa of the assignments: items x chosen competencies counts. None when the
    items have unequal numbers of assignments, or fewer than two competencies (or items)."""
    if assign is None or len(item_ids) < 2:
        return None
    used = [c for c in order if (assign == c).any()]
    counts = np.array([[int(np.sum(assign[i] == c)) for c in used]
                       for i in range(len(item_ids))])
    m = counts.sum(axis=1)
    if len(used) < 2 or (m != m[0]).any():
        return None
    return fleiss_kappa(pd.DataFrame(counts, columns=used, index=pd.Index(item_ids)),
                        layout="counts")


def _comments(frame: pd.DataFrame, p: _Panel, comment: Any) -> pd.DataFrame:
    out = []
    if comment is not None and str(comment) in p.cols:
        for pos, v in enumerate(p.column(frame, comment)):
            if not _blank(v):
                out.append({"item": p.items_of[pos], "expert": p.experts_of[pos],
                            "comment": str(v)})
    return pd.DataFrame(out, columns=["item", "expert", "comment"])
