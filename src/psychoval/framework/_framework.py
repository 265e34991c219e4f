"""The competency framework: tiers -> competencies -> items, with item metadata.

A :class:`Framework` is a frozen value. Build it with :func:`psychoval.read_framework` (YAML,
JSON, dict, or an item-map table); every consistency rule is checked there, once.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from psychoval.exceptions import SpecificationError, SpecificationWarning, warn
from psychoval.framework._ids import norm_label, normalize_id

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from psychoval.framework._scoring import ScaleScores, ScoredResponses

__all__ = ["Item", "Competency", "Tier", "Framework", "ITEM_TYPES"]

ITEM_TYPES = ("likert", "dichotomous", "multiple_choice", "rating")
COMBINE_RULES = ("mean", "median")


EXCERPT = 200  # the longest quotation of a user's value in a message

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = _REPR.maxother = EXCERPT
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 8
_REPR.maxlong = 60


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """``repr(value)`` cut to at most ``limit`` characters (ending in ``...`` when cut): what
    an error message may quote of a value from a file, however large or deep the value."""
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int too long for str() (sys.get_int_max_str_digits)
        text = f"<an int of {value.bit_length()} bits>" if isinstance(value, int) else "<?>"
    return clip(text, limit)


def clip(text: str, limit: int = EXCERPT) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``...`` when cut."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


@dataclasses.dataclass(frozen=True)
class Item:
    """One item: where it sits in the framework and how its responses are scored.

    ``min``/``max`` are the declared response range (for ``categories`` the labels stand for
    ``min, min + 1, ..., max``). A ``multiple_choice`` item is scored 0/1 by ``answer_key``
    among ``options``. A ``rating`` item with ``raters`` is scored as the ``combine`` (mean or
    median) of its rater columns.
    """

    id: str
    type: str
    competency: str
    tier: str
    text: str = ""
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    answer_key: str | None = None
    reverse: bool = False
    weight: float = 1.0
    raters: tuple[str, ...] = ()
    combine: str = "mean"

    @property
    def columns(self) -> tuple[str, ...]:
        """Data columns holding this item's responses (its rater columns, or its id)."""
        return self.raters if self.raters else (self.id,)

    @property
    def score_range(self) -> tuple[float, float]:
        """Range of the scored item (0/1 for multiple choice)."""
        if self.type == "multiple_choice":
            return 0.0, 1.0
        return float(self.min), float(self.max)  # type: ignore[arg-type]

    def label_map(self) -> dict[str, float]:
        """Normalised label -> number (empty when the item has no labelled categories)."""
        lo = self.min if self.min is not None else 0.0
        return {norm_label(lab): float(lo + j) for j, lab in enumerate(self.categories)}

    def to_dict(self) -> dict[str, Any]:
        """The item in the framework file format (only fields that differ from defaults)."""
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.text:
            out["text"] = self.text
        if self.type != "multiple_choice":
            if self.categories:
                out["categories"] = list(self.categories)
                if self.min not in (None, 1.0):
                    out["min"] = _num(self.min)
            elif not (self.type == "dichotomous" and (self.min, self.max) == (0.0, 1.0)):
                out["min"] = _num(self.min)
                out["max"] = _num(self.max)
        else:
            out["options"] = list(self.options)
            out["answer_key"] = self.answer_key
        if self.reverse:
            out["reverse"] = True
        if self.weight != 1.0:
            out["weight"] = _num(self.weight)
        if self.raters:
            out["raters"] = list(self.raters)
        if self.combine != "mean":
            out["combine"] = self.combine
        return out


def _num(x: float | None) -> int | float | None:
    if x is None:
        return None
    return int(x) if float(x).is_integer() else float(x)


@dataclasses.dataclass(frozen=True)
class Competency:
    """A competency: a named set of items measuring one attribute (one factor)."""

    id: str
    name: str
    tier: str
    items: tuple[Item, ...]
    description: str = ""
    criteria: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: pass mark on the competency's scale score (the mean of its item scores), or None;
    #: validate reports the adverse impact of pass rates by group at it
    cut_score: float | None = None

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def __hash__(self) -> int:  # criteria is a dict: hash its sorted items
        return hash((self.id, self.name, self.tier, self.items, self.description,
                     tuple(sorted(self.criteria.items(), key=lambda kv: kv[0])),
                     self.cut_score))


@dataclasses.dataclass(frozen=True)
class Tier:
    """A tier: a group of related competencies (e.g. "AI literacy")."""

    id: str
    name: str
    competencies: tuple[Competency, ...]
    description: str = ""
    cut_score: float | None = None

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for c in self.competencies for i in c.items)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)


@dataclasses.dataclass(frozen=True, repr=False)
class Framework:
    """A competency framework: tiers -> competencies -> items, plus the data layout.

    Attributes
    ----------
    tiers : tuple of Tier
        In file order; competencies and items keep file order too.
    name, version, description : str
        Free text.
    id_column : str or None
        Respondent id column of the response files.
    group_columns : tuple of str
        Grouping columns (job family, cohort) kept beside the scores for DIF and invariance.
    criterion_columns : tuple of str
        Criterion / outcome columns for validity evidence.
    criteria : mapping
        Framework-wide overrides of validation criteria (stored as data; the validation layer
        reads them). Per-competency overrides live on :class:`Competency`.
    role_column : str or None
        The group column holding each respondent's role (default: the first group column
        when ``roles`` are given).
    roles : mapping
        role -> {competency: target} on the competency's mean-score scale: the level each
        role requires (``pv.skills_gap``).
    panels : mapping
        Expert-panel files that ``pv.validate`` reads when not given as arguments:
        ``content_ratings`` (``pv.content_validity``) and ``angoff_ratings``
        (``pv.standard_setting``), paths as written in a framework file resolved against
        its folder.

    Build one with :func:`psychoval.read_framework`; the object is immutable and compares by
    value, so the YAML, JSON, dict and item-map forms of one framework are equal.
    """

    tiers: tuple[Tier, ...]
    name: str = ""
    version: str = ""
    description: str = ""
    id_column: str | None = None
    group_columns: tuple[str, ...] = ()
    criterion_columns: tuple[str, ...] = ()
    criteria: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    role_column: str | None = None
    roles: Mapping[str, Mapping[str, float]] = dataclasses.field(default_factory=dict)
    panels: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __hash__(self) -> int:  # criteria, roles and panels are dicts: hash sorted items
        return hash((self.tiers, self.name, self.version, self.description, self.id_column,
                     self.group_columns, self.criterion_columns,
                     tuple(sorted(self.criteria.items(), key=lambda kv: kv[0])),
                     self.role_column,
                     tuple((r, tuple(sorted(t.items()))) for r, t in sorted(self.roles.items())),
                     tuple(sorted(self.panels.items()))))

    # -- navigation -----------------------------------------------------------------
    @property
    def competencies(self) -> tuple[Competency, ...]:
        return tuple(c for t in self.tiers for c in t.competencies)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for c in self.competencies for i in c.items)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every data column the framework reads: item (or rater) columns, then id, groups,
        criteria."""
        cols = [c for i in self.items for c in i.columns]
        if self.id_column:
            cols.append(self.id_column)
        return tuple(cols) + self.group_columns + self.criterion_columns

    def item(self, item_id: str) -> Item:
        return _find("item", item_id, self.items)

    def competency(self, competency_id: str) -> Competency:
        return _find("competency", competency_id, self.competencies)

    def tier(self, tier_id: str) -> Tier:
        return _find("tier", tier_id, self.tiers)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    # -- renderings -----------------------------------------------------------------
    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return (f"<Framework{label}: {len(self.tiers)} tiers, {len(self.competencies)} "
                f"competencies, {len(self.items)} items>")

    def to_frame(self) -> pd.DataFrame:
        """The item map: one row per item, after rows naming the id, group and criterion
        columns (the table form ``read_framework`` reads back; the name and criteria
        overrides have no place in it)."""
        import pandas as pd

        rows: list[dict[str, Any]] = []
        layout = ([(self.id_column, "id")] if self.id_column else []) + \
            [(c, "group") for c in self.group_columns] + \
            [(c, "criterion") for c in self.criterion_columns]
        for col, kind in layout:
            rows.append({"item": col, "competency": None, "tier": None, "type": kind})
        for t in self.tiers:
            for c in t.competencies:
                for i in c.items:
                    rows.append({
                        "item": i.id, "competency": c.id, "tier": t.id, "type": i.type,
                        "min": i.min if i.type != "multiple_choice" else None,
                        "max": i.max if i.type != "multiple_choice" else None,
                        "reverse": i.reverse, "answer_key": i.answer_key, "weight": i.weight,
                        "text": i.text, "options": "|".join(i.options) or None,
                        "categories": "|".join(i.categories) or None,
                        "raters": "|".join(i.raters) or None,
                        "combine": i.combine if i.type == "rating" else None,
                        "competency_name": c.name, "tier_name": t.name,
                        "cut_score": c.cut_score, "tier_cut_score": t.cut_score,
                    })
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The framework in the file format (``read_framework(fw.to_dict()) == fw``)."""
        out: dict[str, Any] = {}
        for key in ("name", "version", "description"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.id_column:
            out["id_column"] = self.id_column
        if self.group_columns:
            out["group_columns"] = list(self.group_columns)
        if self.criterion_columns:
            out["criterion_columns"] = list(self.criterion_columns)
        if self.criteria:
            out["criteria"] = dict(self.criteria)
        if self.role_column:
            out["role_column"] = self.role_column
        if self.roles:
            out["roles"] = {r: dict(t) for r, t in self.roles.items()}
        if self.panels:
            out["panels"] = dict(self.panels)
        tiers = []
        for t in self.tiers:
            td: dict[str, Any] = {"id": t.id, "name": t.name}
            if t.description:
                td["description"] = t.description
            if t.cut_score is not None:
                td["cut_score"] = t.cut_score
            comps = []
            for c in t.competencies:
                cd: dict[str, Any] = {"id": c.id, "name": c.name}
                if c.description:
                    cd["description"] = c.description
                if c.criteria:
                    cd["criteria"] = dict(c.criteria)
                if c.cut_score is not None:
                    cd["cut_score"] = c.cut_score
                cd["items"] = [i.to_dict() for i in c.items]
                comps.append(cd)
            td["competencies"] = comps
            tiers.append(td)
        out["tiers"] = tiers
        return out

    # -- scoring and models (implemented in sibling modules) --------------------------
    def score(self, responses: Any) -> ScoredResponses:
        """Score raw responses by the framework.

        Parameters
        ----------
        responses : ResponseTable, DataFrame or path
            Raw answers: option letters, category labels, numbers, rater columns. With a
            DataFrame or path, the framework's ``id_column`` becomes the respondent id.

        Returns
        -------
        ScoredResponses
            ``scores`` (respondents x items, float, NaN = missing), ``options`` (the chosen
            option of each multiple-choice item, for distractor analysis), ``ratings`` (the
            rater columns), ``covariates`` (group and criterion columns).

        Raises
        ------
        DataError
            Framework item columns absent from the data; a value outside an item's declared
            range or a code that is neither one of its labels nor one of its options (the
            message names item, row and value; ``pv.check_data`` lists them all).

        Warns
        -----
        SpecificationWarning
            Data columns the framework does not name.

        Notes
        -----
        Multiple choice: 1 if the chosen option is the answer key, else 0 (options and labels
        match case- and whitespace-insensitively). Labelled categories: the k-th label scores
        ``min + k - 1``. Reverse keys: :math:`x' = \\min_j + \\max_j - x` on item *j*'s own
        declared range; psych (``scoreItems``, ``reverse.code``) uses the minimum and maximum
        over the whole test, which mis-scores mixed formats (a 1-5 item beside 0/1 items);
        for single-format tests the two agree. Rated items: the mean (or median, with
        ``combine: median``) of the raters who rated; missing if none did.

        Examples
        --------
        >>> import psychoval as pv
        >>> from psychoval.datasets import sample_framework
        >>> fw = sample_framework()
        >>> scored = fw.score(pv.load_sample())
        >>> scored.scores.loc["R0001", ["CON1", "CON3", "DAT3", "TOO4", "EVA4"]].tolist()
        [1.0, 0.0, 3.0, 3.0, 4.0]
        """
        from psychoval.framework._scoring import score

        return score(self, responses)

    def scale_scores(self, scored: Any, *, min_answered: float = 0.5,
                     impute: str = "none") -> ScaleScores:
        """Competency and tier scores (mean and sum of item scores) of every respondent.

        Parameters
        ----------
        scored : ScoredResponses
            The result of :meth:`score` (raw responses are refused).
        min_answered : float in [0, 1]
            A score is the mean of the answered items when at least this fraction of the
            scale's items (and at least one) is answered, else missing (CONVENTIONS.md).
        impute : {"none", "median"}
            ``"median"`` reproduces ``psych::scoreItems(impute = "median")``: missing item
            scores are replaced by the item median and every respondent is scored.

        Returns
        -------
        ScaleScores
            ``means``, ``sums`` (``k * mean``), ``n_answered`` per respondent and scale
            (competencies, then tiers; a tier pools its competencies' items).

        Raises
        ------
        DataError
            ``scored`` is not a ScoredResponses.
        SpecificationError
            ``min_answered`` outside [0, 1], an unknown ``impute``.

        Examples
        --------
        >>> import psychoval as pv
        >>> from psychoval.datasets import sample_framework
        >>> fw = sample_framework()
        >>> ss = fw.scale_scores(fw.score(pv.load_sample()))
        >>> round(float(ss.means["data"].mean()), 4)
        3.2439
        >>> # R: psych::scoreItems(keys, items) gives the same means for respondents with
        >>> # no missing item; with impute="median" here, for every respondent.
        """
        from psychoval.framework._scoring import scale_scores

        return scale_scores(self, scored, min_answered=min_answered, impute=impute)

    def to_model(self, *, tier: str | None = None, competency: str | None = None,
                 structure: str = "correlated") -> str:
        """lavaan model syntax for the CFA engine: one factor per competency.

        Parameters
        ----------
        tier : str, optional
            Only this tier's competencies (default: all).
        competency : str, optional
            Only this competency (a one-factor model).
        structure : {"correlated", "second_order"}
            Correlated competency factors, or each tier as a second-order factor over its
            competencies (needs at least 3 competencies per tier).

        Returns
        -------
        str
            ``factor =~ item + ...`` lines (rated items under their item id).

        Raises
        ------
        SpecificationError
            Unknown tier or competency; an unidentified second-order factor.

        Examples
        --------
        >>> from psychoval.datasets import sample_framework
        >>> print(sample_framework().to_model(tier="leadership", structure="second_order"))
        strategy =~ STR1 + STR2 + STR3 + STR4
        change =~ CHG1 + CHG2 + CHG3 + CHG4
        governance =~ GOV1 + GOV2 + GOV3
        leadership =~ strategy + change + governance
        """
        from psychoval.framework._model import to_model

        return to_model(self, tier=tier, competency=competency, structure=structure)


def _find(kind: str, key: str, pool: tuple) -> Any:
    """The tier, competency or item with id ``key``; a SpecificationError listing the ids."""
    wanted = normalize_id(key) if isinstance(key, str) else key
    for x in pool:
        if x.id == wanted:
            return x
    plural = "competencies" if kind == "competency" else f"{kind}s"
    raise SpecificationError(
        f"{kind} {excerpt(key)} is not in the framework; its {plural} are "
        f"{quoted_names([x.id for x in pool])}"
    )


def quoted_names(names: Any, limit: int = 12, width: int = 60) -> str:
    """Quoted names, at most ``limit`` of them and ``width`` characters each."""
    names = list(names)
    shown = ", ".join(excerpt(str(n), width) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def warn_small_competencies(fw: Framework, stacklevel: int = 3) -> None:
    for c in fw.competencies:
        if len(c.items) < 3:
            warn(
                f"competency {excerpt(c.id)} has {len(c.items)} item(s) "
                f"({', '.join(clip(i, 60) for i in c.item_ids)}); a "
                "one-factor CFA needs at least 3 (with 3 it is just-identified) and its "
                "reliability will be poorly estimated: add items or merge it with another "
                "competency",
                SpecificationWarning, stacklevel=stacklevel,
            )
