"""validate()'s expert-panel steps (issue 21): content validity from an expert panel's ratings
(``content_ratings=``) and the modified-Angoff cut scores of a standard-setting panel
(``angoff_ratings=``).

Content validity: ``pv.content_validity`` on the framework, judged by the content criteria
(``pv.content_verdicts``: I-CVI, kappa*, Aiken's V, CVR, assignment agreement per item,
S-CVI/Ave per competency); the verdicts join the run's, so an item the panel rejects is a
flagged item of the report. Standard setting: the rated items are those of one competency or
tier of the framework (found from the items), ``pv.standard_setting`` gives the cut per level
and round with its SE across judges, the change between rounds, the judges' ICC and the
outlying judges; impact is the share of respondents at or above each final cut on the summed
score of the target's items (respondents who answered all of them), overall and by the
framework's first group column. The panel diagnostics are information: no verdict.

The panels come from validate's arguments or, when those are not given, from the framework's
``panels`` (files named in the framework file, relative to it). A step whose input cannot be
used says why (in ``methods`` and the notes) and the run goes on.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import PsychovalError, SpecificationError
from psychoval.verdicts._content import content_verdict_list, kappa_star_band

__all__ = ["CONTENT_ITEM_COLUMNS", "CONTENT_COMPETENCY_COLUMNS", "CONTENT_COMMENT_COLUMNS",
           "CUT_COLUMNS", "IMPACT_COLUMNS", "content_step", "standard_setting_step"]

CONTENT_ITEM_COLUMNS = ["item", "competency", "tier", "n_experts", "i_cvi", "kappa_star",
                        "kappa_band", "aiken_v", "aiken_lower", "aiken_upper", "cvr",
                        "cvr_critical", "cvr_pvalue", "assignment_agreement",
                        "modal_assignment", "verdict"]
CONTENT_COMPETENCY_COLUMNS = ["competency", "tier", "n_items", "s_cvi_ave", "s_cvi_ua",
                              "mean_kappa_star", "mean_aiken_v", "mean_cvr", "cvi",
                              "assignment_agreement", "verdict"]
CONTENT_COMMENT_COLUMNS = ["item", "expert", "comment"]
CUT_COLUMNS = ["target", "level", "round", "n_judges", "n_items", "cut", "sd", "se",
               "se_items_random", "cut_mean_item", "change", "change_pvalue", "icc2_1",
               "icc2_k", "outlying_judges", "constant_judges"]
IMPACT_COLUMNS = ["target", "level", "group_column", "group", "n", "n_at_or_above",
                  "share_at_or_above", "cut"]

_RANK = {"fail": 4, "not_estimable": 3, "borderline": 2, "pass": 1, "not_applicable": 0}


def _worst(verdicts: list) -> str | None:
    if not verdicts:
        return None
    return max((v.verdict for v in verdicts), key=_RANK.__getitem__)


def _source(arg: Any, what: str) -> Any:
    """A path stays a path (read by the statistic); a DataFrame as given."""
    if isinstance(arg, (str, Path)):
        path = Path(arg)
        if not path.is_file():
            raise SpecificationError(f"{what}={str(arg)!r}: no such file")
        return path
    if not isinstance(arg, pd.DataFrame):
        raise SpecificationError(f"{what}= takes a DataFrame or the path of a CSV / XLSX "
                                 f"file, not a {type(arg).__name__}")
    return arg


def _panel_arg(ev: Any, key: str) -> Any:
    """The argument of validate, else the framework's ``panels`` entry (a file)."""
    arg = getattr(ev, key)
    return arg if arg is not None else ev.fw.panels.get(key)


def content_step(ev: Any) -> None:
    """Fill ``ev.content_items`` / ``content_competencies`` / ``content_comments`` and add
    the content verdicts."""
    from psychoval.stats import content_validity

    ev.content_items = pd.DataFrame(columns=CONTENT_ITEM_COLUMNS)
    ev.content_competencies = pd.DataFrame(columns=CONTENT_COMPETENCY_COLUMNS)
    ev.content_comments = pd.DataFrame(columns=CONTENT_COMMENT_COLUMNS)
    arg = _panel_arg(ev, "content_ratings")
    if arg is None:
        ev.panel_status["content_validity"] = "no content_ratings given: not run"
        return
    try:
        res = content_validity(_source(arg, "content_ratings"),
                               framework=ev.fw, confidence_level=ev.level)
    except PsychovalError as exc:
        why = f"content validity not computed: {exc}"
        ev.panel_status["content_validity"] = why
        ev.run.notes.append(why)
        return
    ev.run.results["content_validity"] = res
    tier_of = {c.id: c.tier for c in ev.fw.competencies}
    verdicts = content_verdict_list(res, ev.crit, tier_of)
    ev.verdicts += verdicts
    for r in res.items.itertuples():
        if r.competency is not None and r.modal_assignment not in (None, r.competency):
            ev.details[("assignment_agreement", str(r.Index))] = str(r.modal_assignment)
    by_target: dict[tuple[str, str], list] = {}
    for v in verdicts:
        by_target.setdefault((v.level, v.target), []).append(v)
    items = res.items.reset_index()
    items["tier"] = items["competency"].map(tier_of)
    items["kappa_band"] = [kappa_star_band(float(k)) for k in items["kappa_star"]]
    items["verdict"] = [_worst(by_target.get(("item", str(i)), [])) for i in items["item"]]
    ev.content_items = items[CONTENT_ITEM_COLUMNS]
    comps = res.competencies.reset_index()
    comps["tier"] = comps["competency"].map(tier_of)
    comps["verdict"] = [_worst(by_target.get(("competency", str(c)), []))
                        for c in comps["competency"]]
    ev.content_competencies = comps[CONTENT_COMPETENCY_COLUMNS]
    ev.content_comments = res.comments[CONTENT_COMMENT_COLUMNS]
    fk = res.fleiss_kappa
    ev.panel_status["content_validity"] = (
        f"{res.n_experts} experts rated {res.n_items} items ({', '.join(res.measures)})"
        + (f"; {len(res.unrated_items)} framework items unrated" if res.unrated_items else "")
        + (f"; Fleiss' kappa of the assignments {fk.kappa:.3f}" if fk is not None else "")
        + f"; S-CVI/Ave {res.s_cvi_ave:.3f}, S-CVI/UA {res.s_cvi_ua:.3f}")
    ev.run.r_calls["content_validity"] = (
        "I-CVI = mean(relevance >= 3); kappa* = (I-CVI - pc) / (1 - pc), pc = choose(N, A) / "
        "2^N; Aiken's V with the score interval; CVR = (n_e - N/2) / (N/2) with "
        "binom.test(n_e, N, alternative = 'greater')$p.value; assignment agreement; "
        "irr::kappam.fleiss of the assignments")


def _target(fw: Any, items: set[str]) -> tuple[str, str]:
    """The competency (first) or tier whose items are exactly the rated items."""
    for c in fw.competencies:
        if set(c.item_ids) == items:
            return "competency", c.id
    for t in fw.tiers:
        if {i.id for i in t.items} == items:
            return "tier", t.id
    raise SpecificationError(
        f"the Angoff ratings cover the items {', '.join(sorted(items))}, which are not the "
        "items of one competency or tier of the framework: rate the items of one of them")


def _angoff_frame(arg: Any) -> pd.DataFrame:
    src = _source(arg, "angoff_ratings")
    if isinstance(src, pd.DataFrame):
        return src
    if src.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(src, dtype=object, keep_default_na=False)
    return pd.read_csv(src, sep=None, engine="python", dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")


def standard_setting_step(ev: Any) -> None:
    """Fill ``ev.cut_scores`` and ``ev.impact`` from a modified-Angoff panel."""
    from psychoval.stats import standard_setting

    ev.cut_scores = pd.DataFrame(columns=CUT_COLUMNS)
    ev.impact = pd.DataFrame(columns=IMPACT_COLUMNS)
    arg = _panel_arg(ev, "angoff_ratings")
    if arg is None:
        ev.panel_status["standard_setting"] = "no angoff_ratings given: not run"
        return
    try:
        frame = _angoff_frame(arg)
        cols = {str(c).lower(): c for c in frame.columns}
        if "item" not in cols:
            raise SpecificationError(
                f"the Angoff ratings have no item column (columns: {list(frame.columns)}); "
                "give them long: judge, item, rating, optional round and level")
        level_of, target = _target(ev.fw, {str(i) for i in frame[cols["item"]]})
        items = (list(ev.fw.competency(target).item_ids) if level_of == "competency" else
                 [i.id for i in ev.fw.tier(target).items])
        x = ev.scores[items].apply(pd.to_numeric, errors="coerce")
        complete = x.notna().all(axis=1).to_numpy()
        scores = x.to_numpy(dtype=float)[complete].sum(axis=1)
        group_col = ev.fw.group_columns[0] if ev.fw.group_columns else None
        groups = None
        if group_col is not None:
            groups = ev.scored.covariates[group_col].to_numpy(dtype=object)[complete]
        res = standard_setting(frame, method="angoff", framework=ev.fw,
                               **{level_of: target}, scores=scores, groups=groups,
                               score_scale="summed")
    except PsychovalError as exc:
        why = f"standard setting not computed: {exc}"
        ev.panel_status["standard_setting"] = why
        ev.run.notes.append(why)
        return
    ev.run.results["standard_setting"] = res
    ev.cut_scores = _cut_table(res, target)
    imp = res.impact.copy()
    if len(imp):
        imp.insert(0, "target", target)
        # the first row of each level is everyone ("all"), then one row per group
        first = (imp.groupby("level", sort=False).cumcount() == 0).to_numpy()
        imp["group_column"] = np.where(first, None, group_col)
        ev.impact = imp[IMPACT_COLUMNS]
    n_used = int(complete.sum())
    ev.panel_status["standard_setting"] = (
        f"modified Angoff: {res.n_judges} judges on the {len(items)} items of {level_of} "
        f"{target}; impact on the summed score of the {n_used} respondents who answered all "
        "of them" + (f", by {group_col}" if group_col else ""))
    ev.run.r_calls["standard_setting"] = (
        "judge cuts = colSums(ratings); cut = mean(cuts), se = sd(cuts) / sqrt(J); "
        "psych::ICC(items x judges); t.test(round2, round1, paired = TRUE)")


def _cut_table(res: Any, target: str) -> pd.DataFrame:
    cuts = res.cuts.copy()
    cuts.insert(0, "target", target)
    change = {(str(r["level"]), r["to_round"]): (r["change"], r["pvalue"])
              for _, r in res.rounds.iterrows()}
    cuts["change"] = [change.get((str(lv), rd), (math.nan, math.nan))[0]
                      for lv, rd in zip(cuts["level"], cuts["round"], strict=True)]
    cuts["change_pvalue"] = [change.get((str(lv), rd), (math.nan, math.nan))[1]
                             for lv, rd in zip(cuts["level"], cuts["round"], strict=True)]
    diag = res.diagnostics.set_index(["level", "round"])
    for col in ("icc2_1", "icc2_k", "outlying_judges", "constant_judges"):
        cuts[col] = [diag[col].get((lv, rd), np.nan if col.startswith("icc") else None)
                     for lv, rd in zip(cuts["level"], cuts["round"], strict=True)]
    return cuts[CUT_COLUMNS]
