"""Verdicts: compare a statistic with a criterion; recommended actions from the verdicts.

Nothing here computes a statistic: every value, interval and effect class comes from a result
object. A verdict is one of

- ``pass``: the value meets the threshold (and its interval, if any, lies on the good side);
- ``borderline``: the evidence does not decide - the value's interval contains the threshold,
  or a companion rule softens the verdict (AVE below .50 with composite reliability of .60 or
  more; DIF that is significant but of negligible size);
- ``fail``: the value misses the threshold and its interval (if any) lies wholly on the bad
  side;
- ``not_applicable``: the statistic does not exist for this target (a just-identified model
  has no fit indices; a model that could not be estimated has no loadings; a criterion
  switched off is not judged at all);
- ``not_estimable``: a model (one-factor, tier or framework CFA) could not be estimated: not
  identified, not converged after restarts, or a singular covariance matrix. The reason and
  the fix are in the verdict; the verdicts that read the model are ``not_applicable``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from psychoval.verdicts._criteria import Criterion

__all__ = ["VERDICTS", "Verdict", "judge", "not_applicable", "not_estimable", "verdict_frame",
           "recommend"]

VERDICTS = ("pass", "borderline", "fail", "not_applicable", "not_estimable")

VERDICT_COLUMNS = ["id", "level", "target", "tier", "competency", "criterion", "statistic",
                   "value", "threshold", "direction", "lower", "upper", "verdict", "citation",
                   "reason"]


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One criterion judged for one target (item, competency, pair, tier, framework)."""

    level: str
    target: str
    tier: str | None
    competency: str | None
    criterion: str
    statistic: str
    value: float
    threshold: float
    direction: str
    lower: float
    upper: float
    verdict: str
    citation: str
    reason: str


def _isnan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _f(x: float) -> str:
    return "NA" if _isnan(x) else f"{x:.3f}"


def judge(crit: Criterion, value: float, *, target: str, level: str | None = None,
          tier: str | None = None, competency: str | None = None, lower: float = math.nan,
          upper: float = math.nan, statistic: str | None = None,
          soften: str | None = None, what: str | None = None) -> Verdict:
    """Judge ``value`` (with an optional interval) against ``crit``.

    ``soften``: a companion rule that holds (its text becomes the reason), turning a fail into
    borderline.
    """
    value = float(value) if value is not None else math.nan
    lower = float(lower) if lower is not None else math.nan
    upper = float(upper) if upper is not None else math.nan
    stat = statistic or crit.statistic
    label = what or crit.name
    side = ">=" if crit.direction == "below" else "<="
    bad = "<" if crit.direction == "below" else ">"
    if math.isnan(value):
        verdict, reason = "not_applicable", f"{label}: no estimate"
    else:
        fails = crit.fires(value)
        straddles = (not math.isnan(lower) and not math.isnan(upper)
                     and lower <= crit.threshold <= upper)
        interval = (f" ({_f(lower)} to {_f(upper)})" if not math.isnan(lower) else "")
        if straddles:
            verdict = "borderline"
            reason = (f"{label} {_f(value)}; its interval{interval} contains the threshold "
                      f"{crit.threshold:g}")
        elif fails and soften:
            verdict = "borderline"
            reason = f"{label} {_f(value)} {bad} {crit.threshold:g}, but {soften}"
        elif fails:
            verdict = "fail"
            reason = f"{label} {_f(value)}{interval} {bad} {crit.threshold:g}: {crit.description}"
        else:
            verdict = "pass"
            reason = f"{label} {_f(value)}{interval} {side} {crit.threshold:g}"
    return Verdict(level=level or crit.level, target=target, tier=tier, competency=competency,
                   criterion=crit.name, statistic=stat, value=value, threshold=crit.threshold,
                   direction=crit.direction, lower=lower, upper=upper, verdict=verdict,
                   citation=crit.citation, reason=reason)


def not_applicable(crit: Criterion, *, target: str, reason: str, level: str | None = None,
                   tier: str | None = None, competency: str | None = None,
                   statistic: str | None = None) -> Verdict:
    return Verdict(level=level or crit.level, target=target, tier=tier, competency=competency,
                   criterion=crit.name, statistic=statistic or crit.statistic, value=math.nan,
                   threshold=crit.threshold, direction=crit.direction, lower=math.nan,
                   upper=math.nan, verdict="not_applicable", citation=crit.citation,
                   reason=reason)


def not_estimable(crit: Criterion, *, target: str, level: str, reason: str,
                  tier: str | None = None, competency: str | None = None) -> Verdict:
    """The verdict on a model that could not be estimated (``crit`` is ``ESTIMABLE``)."""
    return Verdict(level=level, target=target, tier=tier, competency=competency,
                   criterion=crit.name, statistic=crit.statistic, value=0.0,
                   threshold=crit.threshold, direction=crit.direction, lower=math.nan,
                   upper=math.nan, verdict="not_estimable", citation=crit.citation,
                   reason=reason)


def verdict_frame(verdicts: Sequence[Verdict]) -> pd.DataFrame:
    rows = [{"id": f"V{j + 1:03d}", **dataclasses.asdict(v)} for j, v in enumerate(verdicts)]
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


ACTION_COLUMNS = ["id", "kind", "target", "text", "verdicts"]


def recommend(verdicts: pd.DataFrame, *, item_competency: dict[str, str],
              details: dict[tuple[str, str], str]) -> pd.DataFrame:
    """Recommended actions, each naming the verdict ids behind it.

    ``details`` maps (criterion, target) to extra text from the statistics (the distractor
    that draws high scorers, the competency an item cross-loads on).
    """
    bad = verdicts[verdicts["verdict"].isin(["fail", "borderline"])]
    actions: list[dict[str, Any]] = []

    def add(kind: str, target: str, text: str, ids: Sequence[str]) -> None:
        actions.append({"kind": kind, "target": target, "text": text,
                        "verdicts": ", ".join(ids)})

    item_rows = bad[bad["level"] == "item"]
    for item, g in item_rows.groupby("target", sort=False):
        fails = g[g["verdict"] == "fail"]
        crits = set(fails["criterion"])
        comp = item_competency.get(item, "")
        if {"likely_miskey", "negative_discrimination"} & crits:
            ids = fails[fails["criterion"].isin(["likely_miskey", "negative_discrimination"])]
            extra = details.get(("likely_miskey", item), "")
            add("check_key", item, f"Check the answer key of {item}: high scorers on the rest "
                f"of the test avoid the keyed option{extra}.", list(ids["id"]))
        if "possibly_reverse_keyed" in crits:
            ids = fails[fails["criterion"] == "possibly_reverse_keyed"]
            add("reverse_key", item, f"{item} runs against the rest of {comp}: rescore it if "
                "it is reverse-worded, otherwise rewrite it.", list(ids["id"]))
        if {"cross_loading_mi", "cross_loading_epc"} <= crits:
            ids = fails[fails["criterion"].isin(["cross_loading_mi", "cross_loading_epc"])]
            other = details.get(("cross_loading", item), "another competency")
            own = details.get(("cross_loading_own", item))
            epc = float(ids.loc[ids["criterion"] == "cross_loading_epc", "value"].iloc[0])
            if own is None or epc > abs(float(own)):
                add("move_item", item, f"{item} measures {other} more than {comp}: move it to "
                    f"{other} or rewrite it for {comp}.", list(ids["id"]))
            else:
                add("cross_loading", item, f"{item} also measures {other} (expected "
                    f"standardized cross-loading {epc:.2f}, own loading {float(own):.2f}): "
                    f"reword it to measure {comp} only.", list(ids["id"]))
            crits -= {"low_discrimination", "alpha_rises_when_dropped", "loading"}
        weak = crits & {"loading", "low_discrimination", "low_discrimination_index",
                        "alpha_rises_when_dropped"}
        if weak and not ({"likely_miskey", "negative_discrimination"} & crits):
            ids = fails[fails["criterion"].isin(sorted(weak))]
            add("revise_item", item, f"Revise or drop {item}: it measures little of {comp} "
                f"({', '.join(sorted(weak))}).", list(ids["id"]))
        dif = g[g["criterion"] == "dif"]
        if len(dif):
            word = ("Review (large DIF)" if (dif["verdict"] == "fail").any()
                    else "Review (moderate DIF)")
            add("review_dif", item, f"{word} {item} for group bias: "
                f"{details.get(('dif', item), 'respondents of equal score answer it differently by group')}.",
                list(dif["id"]))
        icc = fails[fails["criterion"] == "icc"]
        if len(icc):
            add("rater_training", item, f"Raters of {item} disagree: sharpen the rubric or "
                "train the raters.", list(icc["id"]))
        assign = fails[fails["criterion"] == "assignment_agreement"]
        if len(assign):
            to = details.get(("assignment_agreement", item), "another competency")
            add("content_assignment", item, f"The expert panel places {item} in {to}, not "
                f"{comp}: move it there or reword it for {comp}.", list(assign["id"]))
        relevance = fails[fails["criterion"].isin(["i_cvi", "i_cvi_small_panel",
                                                   "kappa_star", "aiken_v", "cvr"])]
        if len(relevance):
            add("content_relevance", item, f"The expert panel does not judge {item} relevant "
                f"or essential to {comp} ({', '.join(dict.fromkeys(relevance['criterion']))})"
                ": rewrite or drop it (see the experts' comments).", list(relevance["id"]))
        other = fails[fails["criterion"].isin(["high_missing", "too_hard", "too_easy",
                                               "floor_effect", "ceiling_effect",
                                               "irt_item_fit"])]
        if len(other):
            add("revise_item", item, f"Revise {item}: "
                f"{'; '.join(other['reason'].str.split(': ').str[-1])}.", list(other["id"]))
    comp_rows = bad[(bad["level"] == "competency") & (bad["verdict"] == "fail")]
    for comp, g in comp_rows.groupby("target", sort=False):
        rel = g[g["criterion"].isin(["alpha", "omega"])]
        if len(rel):
            add("improve_reliability", comp, f"Competency {comp} is not measured reliably "
                "enough: fix its flagged items or add items.", list(rel["id"]))
        fit = g[g["criterion"].isin(["cfi", "tli", "rmsea", "srmr"])]
        if len(fit):
            add("dimensionality", comp, f"The items of {comp} do not form one factor: inspect "
                "its modification indices and residuals.", list(fit["id"]))
        conv = g[g["criterion"].isin(["ave", "fornell_larcker"])]
        if len(conv):
            add("convergent_validity", comp, f"{comp} shares little variance with its items "
                "or too much with a neighbour: strengthen its items.", list(conv["id"]))
        cls = g[g["criterion"].isin(["classification_accuracy", "classification_consistency"])]
        if len(cls):
            add("classification", comp, f"Pass/fail decisions at the cut score of {comp} are not "
                "dependable: add items that discriminate near the cut, or do not decide on "
                f"{comp} alone{details.get(('classification', comp), '')}.", list(cls["id"]))
        cvi = g[g["criterion"] == "s_cvi_ave"]
        if len(cvi):
            add("content_coverage", comp, f"The expert panel rates the items of {comp} "
                "relevant less often than a content-valid scale needs (S-CVI/Ave): revise "
                "or replace its items judged not relevant.", list(cvi["id"]))
        sub = g[g["criterion"] == "subscore_value"]
        if len(sub):
            add("subscore", comp, f"Do not report {comp} as a score of its own: it predicts "
                "its true score no better than the tier total does (Haberman 2008); report "
                "the tier score, or strengthen its items.", list(sub["id"]))
    pair_rows = bad[(bad["criterion"] == "htmt") & (bad["verdict"] == "fail")]
    for _, r in pair_rows.iterrows():
        a, b = r["target"].split(" ~ ")
        add("not_distinct", r["target"], f"Competencies {a} and {b} are not distinct: merge "
            "them or sharpen what separates their items.", [r["id"]])
    for _, r in verdicts[verdicts["verdict"] == "not_estimable"].iterrows():
        add("model_not_estimable", r["target"], f"The {r['level']} model of {r['target']} "
            f"could not be estimated: {r['reason']}", [r["id"]])
    inv = bad[bad["criterion"].isin(["invariance_metric", "invariance_scalar"])]
    for target, g in inv.groupby("target", sort=False):
        tier, group = str(g["tier"].iloc[0]), target.rsplit(" by ", 1)[-1]
        extra = details.get(("invariance", target), "")
        metric = g[g["criterion"] == "invariance_metric"]
        what, level = (("correlations or means", "metric") if len(metric) else
                       ("means", "scalar"))
        if (g["verdict"] == "fail").any():
            add("invariance", target, f"Do not compare {tier} competency {what} across "
                f"{group} until the items that differ by group are revised ({level} "
                f"invariance does not hold{extra}).", list(g["id"]))
        else:
            add("invariance_review", target, f"Review the items that differ by {group} "
                f"before comparing {tier} competency {what} across {group}: the {level} "
                f"step's difference test rejects though the fit changes are small{extra}.",
                list(g["id"]))
    tcls = bad[(bad["level"] == "tier") & (bad["verdict"] == "fail")
               & bad["criterion"].isin(["classification_accuracy",
                                        "classification_consistency"])]
    for tier, g in tcls.groupby("target", sort=False):
        add("classification", tier, f"Pass/fail decisions at the cut score of tier {tier} are "
            "not dependable: add items that discriminate near the cut"
            f"{details.get(('classification', tier), '')}.", list(g["id"]))
    tier_rows = bad[(bad["criterion"] == "second_order") & (bad["verdict"] == "fail")]
    for _, r in tier_rows.iterrows():
        add("tier_structure", r["target"], f"Tier {r['target']} fits better as correlated "
            "competencies than as one tier factor: report its competencies separately "
            "rather than one tier score.", [r["id"]])
    out = pd.DataFrame(actions, columns=ACTION_COLUMNS[1:])
    out.insert(0, "id", [f"A{j + 1:02d}" for j in range(len(out))])
    return out
