"""Framework -> lavaan model syntax for the CFA engine (text only; the parser lives elsewhere)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from psychoval._input import check_choice
from psychoval.exceptions import SpecificationError
from psychoval.framework._syntax import quote_name

if TYPE_CHECKING:  # pragma: no cover
    from psychoval.framework._framework import Competency, Framework

__all__ = ["to_model", "factor_lines"]

STRUCTURES = ("correlated", "second_order")


def _factor(c: Competency) -> str:
    return f"{quote_name(c.id)} =~ {' + '.join(map(quote_name, c.item_ids))}"


def factor_lines(competencies: Sequence[Competency], over: str | None = None) -> str:
    """``competency =~ item + ...`` lines for ``competencies`` (any ids: names that are not
    plain are backtick-quoted), and with ``over`` a factor of that name measured by them."""
    lines = [_factor(c) for c in competencies]
    if over is not None:
        lines.append(f"{quote_name(over)} =~ {' + '.join(quote_name(c.id) for c in competencies)}")
    return "\n".join(lines)


def to_model(framework: Framework, *, tier: str | None = None, competency: str | None = None,
             structure: str = "correlated") -> str:
    """lavaan model syntax: one factor per competency, measured by its items.

    Parameters
    ----------
    tier : str, optional
        Only this tier's competencies (default: every competency of the framework).
    competency : str, optional
        Only this competency: a one-factor model.
    structure : {"correlated", "second_order"}
        ``"correlated"``: competency factors, correlated (lavaan's ``cfa()`` default).
        ``"second_order"``: each tier is a factor measured by its competency factors
        (``literacy =~ concepts + data + ethics``); with several tiers the tier factors
        correlate. A second-order factor needs at least 3 competencies to be identified
        without constraints.

    Returns
    -------
    str
        One ``factor =~ item + item ...`` line per factor, in framework order. Rated items
        appear under their item id (the scored column, the mean of the raters).

    Raises
    ------
    SpecificationError
        An unknown tier or competency, ``competency`` with ``tier`` or with
        ``structure="second_order"``, a second-order tier with fewer than 3 competencies.
    """
    check_choice("structure", structure, STRUCTURES)
    if competency is not None:
        if tier is not None or structure != "correlated":
            raise SpecificationError(
                "competency= gives a one-factor model; do not combine it with tier= or "
                "structure='second_order'"
            )
        return _factor(framework.competency(competency))
    tiers = framework.tiers if tier is None else (framework.tier(tier),)
    lines = [_factor(c) for t in tiers for c in t.competencies]
    if structure == "second_order":
        for t in tiers:
            if len(t.competencies) < 3:
                raise SpecificationError(
                    f"tier {t.id!r} has {len(t.competencies)} competenc"
                    f"{'y' if len(t.competencies) == 1 else 'ies'}; a second-order factor needs "
                    "at least 3 first-order factors to be identified (use "
                    "structure='correlated', or constrain its loadings in your own syntax)"
                )
        lines += [f"{quote_name(t.id)} =~ {' + '.join(quote_name(c.id) for c in t.competencies)}"
                  for t in tiers]
    return "\n".join(lines)
