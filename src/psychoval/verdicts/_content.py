"""Verdicts on an expert panel's content ratings (:func:`psychoval.content_validity`).

The statistics (I-CVI, kappa*, Aiken's V and its interval, CVR and its exact p-value,
assignment agreement, S-CVI/Ave) come from the result; the cutoffs and their citations are the
``CONTENT_CRITERIA`` of the criteria set. Nothing here computes an index.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from psychoval.verdicts._criteria import KAPPA_STAR_BANDS, CriteriaSet
from psychoval.verdicts._criteria import criteria as make_criteria
from psychoval.verdicts._verdicts import Verdict, judge, not_applicable, verdict_frame

__all__ = ["content_verdicts", "content_verdict_list", "kappa_star_band"]

# with fewer experts than this, I-CVI is judged by i_cvi_small_panel (Lynn 1986)
LYNN_MIN_PANEL = 6


def kappa_star_band(kappa: float) -> str:
    """Polit, Beck & Owen's (2007) band of a modified kappa* ("" for NaN)."""
    if kappa is None or math.isnan(kappa):
        return ""
    top, label = KAPPA_STAR_BANDS[0]
    if kappa > top:
        return label
    for bound, label in KAPPA_STAR_BANDS[1:]:
        if kappa >= bound:
            return label
    return KAPPA_STAR_BANDS[-1][1]  # pragma: no cover - the last bound is -inf


def _num(x: Any) -> float:
    try:
        return math.nan if x is None or x is pd.NA else float(x)
    except (TypeError, ValueError):
        return math.nan


def content_verdict_list(result: Any, crit: CriteriaSet,
                         tier_of: dict[str, str] | None = None) -> list[Verdict]:
    """The content-validity verdicts of ``result`` (per item, then per competency)."""
    tier_of = tier_of or {}
    out: list[Verdict] = []
    measures = set(result.measures)
    items = result.items
    for it, r in items.iterrows():
        item = str(it)
        comp = r["competency"] if isinstance(r["competency"], str) else None
        kw = {"target": item, "level": "item", "competency": comp,
              "tier": tier_of.get(comp) if comp else None}
        if "relevance" in measures:
            n = int(r["n_relevance"])
            c = crit.get("i_cvi" if n >= LYNN_MIN_PANEL else "i_cvi_small_panel")
            if c is not None:
                out.append(judge(c, _num(r["i_cvi"]), what=f"I-CVI ({n} experts)", **kw))
            c = crit.get("kappa_star")
            if c is not None:
                k = _num(r["kappa_star"])
                out.append(judge(c, k, what=f"kappa* ({kappa_star_band(k)})", **kw))
            c = crit.get("aiken_v")
            if c is not None:
                out.append(judge(c, _num(r["aiken_v"]), lower=_num(r["aiken_lower"]),
                                 upper=_num(r["aiken_upper"]), what="Aiken's V", **kw))
        c = crit.get("cvr")
        if "essentiality" in measures and c is not None:
            p = _num(r.get("cvr_pvalue"))
            what = (f"CVR {_num(r['cvr']):.3f} ({int(_num(r['n_essential']))} of "
                    f"{int(r['n_essentiality'])} essential; critical value "
                    f"{_num(r['cvr_critical']):.3f}), one-tailed binomial p")
            if math.isnan(_num(r["cvr_critical"])):
                out.append(not_applicable(
                    c, reason=f"CVR {_num(r['cvr']):.3f}: with {int(r['n_essentiality'])} "
                              "experts no CVR is significant at .05 (5 or more are needed)",
                    **kw))
            else:
                out.append(judge(c, p, what=what, **kw))
        c = crit.get("assignment_agreement")
        if "assignment" in measures and comp is not None and c is not None:
            modal = r["modal_assignment"]
            what = "assignment agreement" + (
                f" (most experts chose {modal!r}, share {_num(r['modal_share']):.3f})"
                if modal != comp else "")
            out.append(judge(c, _num(r["assignment_agreement"]), what=what, **kw))
    c = crit.get("s_cvi_ave")
    if "relevance" in measures and c is not None:
        for comp, r in result.competencies.iterrows():
            out.append(judge(c, _num(r["s_cvi_ave"]), target=str(comp), level="competency",
                             competency=str(comp), tier=tier_of.get(str(comp)),
                             what=f"S-CVI/Ave ({int(r['n_items'])} items)"))
    return out


def content_verdicts(result: Any, *, criteria: Any = None,
                     framework: Any = None) -> pd.DataFrame:
    """Judge a :func:`psychoval.content_validity` result against the content criteria.

    Parameters
    ----------
    result : ContentValidityResult
    criteria : None, str, mapping or CriteriaSet
        ``None``: the ``"default"`` preset; a preset name or ``{criterion: threshold or
        None}`` as in :func:`psychoval.criteria`. The content criteria are ``i_cvi`` (.78,
        6 or more experts), ``i_cvi_small_panel`` (1.00, 3 to 5 experts), ``kappa_star``
        (.60), ``aiken_v`` (.50, with its score interval: borderline when the interval
        contains it), ``cvr`` (the CVR's one-tailed binomial p above .05),
        ``assignment_agreement`` (.50) and, per competency, ``s_cvi_ave`` (.90).
    framework : Framework, optional
        Fills the ``tier`` of each verdict.

    Returns
    -------
    DataFrame
        One row per judged criterion (the columns of ``ValidationReport.verdicts``: id,
        level, target, tier, competency, criterion, statistic, value, threshold, direction,
        lower, upper, verdict, citation, reason).

    Examples
    --------
    >>> import psychoval as pv
    >>> from psychoval.datasets import sample_framework, sample_path
    >>> fw = sample_framework()
    >>> res = pv.content_validity(sample_path("content_ratings.csv"), framework=fw)
    >>> v = pv.content_verdicts(res, framework=fw)
    >>> v.loc[v["verdict"] == "fail", ["target", "criterion"]].values.tolist()[:3]
    [['ETH4', 'i_cvi'], ['ETH4', 'kappa_star'], ['ETH4', 'cvr']]
    """
    if isinstance(criteria, CriteriaSet):
        crit = criteria
    elif criteria is None or isinstance(criteria, str):
        crit = make_criteria(criteria or "default")
    else:
        crit = make_criteria("default", dict(criteria))
    tier_of = ({c.id: c.tier for c in framework.competencies} if framework is not None
               else {})
    return verdict_frame(content_verdict_list(result, crit, tier_of))
