"""Item flags: compare item statistics with the criteria of ``_criteria.py``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._results import Result, Summary
from psychoval.exceptions import SpecificationError
from psychoval.verdicts._criteria import ITEM_CRITERIA, Criterion

__all__ = ["ItemFlags", "flag_items"]

_COLUMNS = ["item", "flag", "statistic", "value", "direction", "threshold", "description",
            "citation", "detail"]


@dataclasses.dataclass(frozen=True, repr=False)
class ItemFlags(Result):
    """Item flags (see :func:`flag_items`).

    Attributes
    ----------
    flags : DataFrame
        One row per flag: ``item``, ``flag``, ``statistic``, ``value``, ``direction``,
        ``threshold``, ``description``, ``citation`` and ``detail`` (scale, focal group,
        top distractor...).
    items : tuple of str
        Every item examined.
    criteria : tuple of Criterion
        The criteria applied.
    """

    flags: pd.DataFrame
    items: tuple[str, ...]
    criteria: tuple[Criterion, ...]

    _schema = "psychoval.item_flags/1"

    @property
    def flagged_items(self) -> list[str]:
        return list(dict.fromkeys(self.flags["item"]))

    def of(self, flag: str) -> list[str]:
        """Items carrying ``flag``."""
        return list(dict.fromkeys(self.flags.loc[self.flags["flag"] == flag, "item"]))

    def _repr_fields(self) -> dict[str, Any]:
        return {"items": len(self.items), "flagged": len(self.flagged_items),
                "flags": len(self.flags)}

    def summary(self) -> Summary:
        counts = self.flags["flag"].value_counts()
        return Summary(
            title="Item flags",
            facts=(("items examined", len(self.items)),
                   ("items flagged", len(self.flagged_items)),
                   *((f"flag {k}", int(v)) for k, v in counts.items())),
            tables=(("Flags", self.flags[["item", "flag", "value", "direction", "threshold",
                                          "detail"]]),),
            notes=tuple(f"{c.name}: {c.citation}" for c in self.criteria
                        if c.name in set(self.flags["flag"])))

    def to_frame(self) -> pd.DataFrame:
        return self.flags.copy()


def _resolve(criteria: Any) -> tuple[Criterion, ...]:
    if criteria is None:
        return ITEM_CRITERIA
    if isinstance(criteria, Mapping):
        known = {c.name: c for c in ITEM_CRITERIA}
        unknown = [k for k in criteria if k not in known]
        if unknown:
            raise SpecificationError(
                f"unknown criterion name(s) {', '.join(map(repr, unknown))}; known: "
                f"{', '.join(known)}")
        out = []
        for c in ITEM_CRITERIA:
            if c.name not in criteria:
                out.append(c)
            elif criteria[c.name] is not None:  # None switches a criterion off
                out.append(dataclasses.replace(
                    c, threshold=float(criteria[c.name]),
                    citation=f"user threshold (default {c.threshold:g}: {c.citation})"))
        return tuple(out)
    if isinstance(criteria, Sequence) and all(isinstance(c, Criterion) for c in criteria):
        return tuple(criteria)
    raise SpecificationError(
        "criteria must be None, a mapping {criterion name: threshold or None} or a sequence "
        f"of Criterion; got {type(criteria).__name__}")


def _sources(results: Any) -> dict[str, list[Any]]:
    from psychoval.stats import DifResult, DistractorResult, ItemAnalysisResult

    if isinstance(results, Result):
        results = [results]
    out: dict[str, list[Any]] = {"item_analysis": [], "distractors": [], "dif": []}
    for r in results:
        if isinstance(r, ItemAnalysisResult):
            out["item_analysis"].append(r)
        elif isinstance(r, DistractorResult):
            out["distractors"].append(r)
        elif isinstance(r, DifResult):
            out["dif"].append(r)
        else:
            raise SpecificationError(
                "flag_items reads item_analysis(), distractors() and dif() results; got "
                f"{type(r).__name__}")
    if not any(out.values()):
        raise SpecificationError("flag_items needs at least one result")
    return out


def flag_items(item_result: Any, *, criteria: Any = None) -> ItemFlags:
    """Flag items whose statistics cross a cited threshold.

    Each flag states the value, the threshold, the direction and the source of the threshold.
    Nothing is computed here: the statistics come from the results passed in.

    Parameters
    ----------
    item_result : result or sequence of results
        :func:`~psychoval.item_analysis`, :func:`~psychoval.distractors` and/or
        :func:`~psychoval.dif` results; each criterion reads the result type it names.
    criteria : None, mapping or sequence of Criterion
        ``None``: the defaults (``psychoval.verdicts.ITEM_CRITERIA``). A mapping
        ``{name: threshold}`` changes thresholds (``None`` switches a criterion off); a
        sequence of :class:`Criterion` replaces the set.

    Returns
    -------
    ItemFlags

    Raises
    ------
    SpecificationError
        Unknown criterion names or result types.

    Notes
    -----
    A criterion fires when ``value < threshold`` ("below") or ``value > threshold``
    ("above"); NaN never fires. Criteria marked ``dichotomous`` / ``polytomous`` are applied
    to those items only. When a stronger flag fires (negative discrimination) the weaker one
    it supersedes (low discrimination) is dropped for that item.

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> rng = np.random.default_rng(1)
    >>> theta = rng.normal(size=500)
    >>> x = (rng.random((500, 6)) < 1 / (1 + np.exp(-(theta[:, None] * [1, 1, 1, 1, 1, -1]))))
    >>> flags = pv.flag_items(pv.item_analysis(x * 1.0))
    >>> flags.of("negative_discrimination")
    ['item6']
    """
    crits = _resolve(criteria)
    sources = _sources(item_result)
    rows: list[dict[str, Any]] = []
    items: list[str] = []
    for crit in crits:
        for res in sources[crit.source]:
            if crit.source == "item_analysis":
                table = res.items
                kinds = np.where(table["dichotomous"].to_numpy(dtype=bool), "dichotomous",
                                 "polytomous")
                names = list(table.index)
                details = [f"scale {s}" for s in table["scale"]]
            elif crit.source == "distractors":
                table = res.items
                kinds = np.full(len(table), "dichotomous")
                names = list(table.index)
                details = [f"key {k}; top distractor {d} (r_rest {r:.3f})"
                           for k, d, r in zip(table["key"], table["top_distractor"],
                                              table["top_distractor_r_rest"], strict=True)]
            else:
                table = res.table
                # a DIF flag needs an effect beyond negligible too: a significant class-A row
                # (ETS / Zumbo-Thomas) is information, not a flag
                negligible = table["effect_class"].astype(str).str.fullmatch(
                    r".*class A( \(SMD\))?").to_numpy(dtype=bool)
                kinds = np.where(negligible, "negligible", "all")
                names = list(table["item"])
                details = [f"{meth}: focal {f!r} vs reference {res.reference!r}; {c}; "
                           f"favours {fav}; matching: {res.match}"
                           for f, meth, c, fav in zip(table["focal"], table["method"],
                                                      table["effect_class"], table["favours"],
                                                      strict=True)]
            items.extend(names)
            if crit.statistic not in table:
                raise SpecificationError(
                    f"criterion {crit.name!r} reads {crit.statistic!r}, which the "
                    f"{crit.source} result does not have")
            values = table[crit.statistic].to_numpy(dtype=float)
            for name, kind, value, detail in zip(names, kinds, values, details, strict=True):
                if kind == "negligible":
                    continue
                if crit.applies_to != "all" and kind != "all" and kind != crit.applies_to:
                    continue
                if crit.fires(float(value)):
                    rows.append({"item": name, "flag": crit.name, "statistic": crit.statistic,
                                 "value": float(value), "direction": crit.direction,
                                 "threshold": crit.threshold, "description": crit.description,
                                 "citation": crit.citation, "detail": detail})
    flags = pd.DataFrame(rows, columns=_COLUMNS)
    if len(flags):
        drop = np.zeros(len(flags), dtype=bool)
        for crit in crits:
            if not crit.supersedes:
                continue
            strong = set(flags.loc[flags["flag"] == crit.name, "item"])
            drop |= flags["flag"].isin(crit.supersedes).to_numpy() & \
                flags["item"].isin(strong).to_numpy()
        flags = flags[~drop].reset_index(drop=True)
    return ItemFlags(flags=flags, items=tuple(dict.fromkeys(items)), criteria=crits)
