"""The fairness step of pv.validate(): measurement invariance, dMACS and adverse impact.

For each group column the framework declares and each tier: the invariance ladder
(``pv.invariance``) of the tier's correlated-competencies model with the estimator validate
used for that model, the highest level that holds and its verdicts (``invariance_metric``,
``invariance_scalar``); dMACS per item (``pv.dmacs``) for continuous tiers; and, for
competencies with a ``cut_score``, the adverse impact of pass rates by group
(``pv.adverse_impact``) as information. Together with the DIF screen of the items step this
is the report's fairness section.

The step reads a validation run's evidence (``ev``: framework, scored responses, the fitted
models, the DIF screen) and adds its tables, verdicts and notes; it imports nothing from
the module that runs it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import PsychovalError
from psychoval.verdicts._criteria import ESTIMABLE
from psychoval.verdicts._verdicts import Verdict, judge, not_applicable, not_estimable

__all__ = ["fairness_step", "INVARIANCE_BUDGET", "INVARIANCE_COLUMNS", "DMACS_COLUMNS", "ADVERSE_IMPACT_COLUMNS",
           "FAIRNESS_COLUMNS"]

INVARIANCE_COLUMNS = ["group_column", "tier", "estimator", "missing", "n_obs", "n_groups",
                      "level", "group_equal", "chisq", "df", "cfi", "tli", "rmsea", "srmr",
                      "chisq_diff", "df_diff", "pvalue_diff", "delta_cfi", "delta_rmsea",
                      "delta_srmr", "decision", "reason", "after_failure"]
DMACS_COLUMNS = ["group_column", "tier", "competency", "item", "reference", "focal", "dmacs",
                 "mean_difference", "fit"]
ADVERSE_IMPACT_COLUMNS = ["group_column", "competency", "cut_score", "group", "reference", "n",
                          "n_missing", "passes", "pass_rate", "impact_ratio", "four_fifths",
                          "ratio_ci_lower", "ratio_ci_upper", "pvalue_z", "pvalue_fisher"]
FAIRNESS_COLUMNS = ["group_column", "tier", "estimator", "n_obs", "status", "highest",
                    "partial", "compare_correlations", "compare_means", "dif_items",
                    "max_dmacs_item",
                    "max_dmacs", "note"]

# The ladder is 3 multi-group fits (4 with the partial search's refits) per tier and group
# column, each over every row: rows x sample statistics (thresholds + correlations for
# ordered items, means + covariances otherwise) per fit. Measured on a 2-core machine: three
# 20-item WLSMV tiers on 50,000 rows (1.35e7 each) took 16.8 s, +85% on the rest of the run.
# Above this many a tier's ladder is not fitted inside validate (the report says so and gives
# the pv.invariance call that runs it on its own).
INVARIANCE_BUDGET = 5e6
_RANK = {"configural": 0, "thresholds": 0, "metric": 1, "scalar": 2, "strict": 3}
# the continuous ladder validate fits: the levels its verdicts need (strict invariance,
# equal residual variances, is not needed to compare means or correlations and costs a fit)
_LEVELS = ("configural", "metric", "scalar")


def fairness_step(ev: Any, *, ordinal_missing: str) -> None:
    """Add the fairness evidence of a validation run to ``ev`` (``fairness``,
    ``invariance``, ``dmacs``, ``adverse_impact`` tables, verdicts, details and notes)."""
    fw, scored = ev.fw, ev.scored
    inv_rows: list[dict[str, Any]] = []
    dm_rows: list[dict[str, Any]] = []
    sum_rows: list[dict[str, Any]] = []
    for gcol in fw.group_columns:
        if gcol not in scored.covariates:
            continue
        labels = scored.covariates[gcol].astype("string")
        keep = labels.notna().to_numpy()
        n_groups = int(labels[keep].nunique())
        for t in fw.tiers:
            row = {"group_column": gcol, "tier": t.id}
            sum_rows.append(row)
            if n_groups < 2:
                row.update(status="not applicable", note=f"{n_groups} group(s) in {gcol}")
            else:
                _tier_ladder(ev, t, gcol, labels, keep, n_groups, row, inv_rows, dm_rows,
                             ordinal_missing)
            ev.run.tick(f"invariance {t.id} by {gcol}")
    ev.invariance = pd.DataFrame(inv_rows, columns=INVARIANCE_COLUMNS)
    ev.dmacs = pd.DataFrame(dm_rows, columns=DMACS_COLUMNS)
    ev.fairness = pd.DataFrame(sum_rows, columns=FAIRNESS_COLUMNS)
    ev.adverse_impact = _adverse_impact(ev)
    if len(ev.invariance):
        ev.run.r_calls["invariance"] = (
            "semTools::measEq.syntax / lavaan::cfa(tier_model, data = x, group = group_column, "
            "group.equal = ...) per level (MLR + FIML: configural, loadings, + intercepts, + "
            "residuals; WLSMV, ordered = TRUE: measEq.syntax(ID.cat = 'Wu.Estabrook.2016') "
            "configural, thresholds, + loadings, + intercepts); lavaan::lavTestLRT between "
            "steps")
    if len(ev.dmacs):
        ev.run.r_calls["dmacs"] = ("dMACS (Nye & Drasgow 2011) from the configural fit's "
                                   "parameters: sqrt((a + b kappa_F)^2 + b^2 phi_F) / SD_pooled")
    if len(ev.adverse_impact):
        ev.run.r_calls["adverse_impact"] = ("prop.test / fisher.test of pass rates at the "
                                            "competency's cut_score, each group against the "
                                            "highest pass rate")


def _tier_model(ev: Any, t: Any, comps: list) -> Any:
    """The model validate fitted for the tier (its correlated-competencies model, or the
    one-factor model of a tier with one competency), or None."""
    if len(comps) >= 2:
        key = ("tier", t.id, "correlated")
    else:
        key = ("competency", comps[0].id, "one_factor")
    return next((m for m in ev.models if (m.level, m.target, m.kind) == key), None)


def _tier_ladder(ev: Any, t: Any, gcol: str, labels: pd.Series, keep: np.ndarray,
                 n_groups: int, row: dict[str, Any], inv_rows: list, dm_rows: list,
                 ordinal_missing: str) -> None:
    from psychoval.stats import dmacs, invariance

    crit = ev.crit
    target = f"{t.id} by {gcol}"
    kw = {"target": target, "level": "tier", "tier": t.id}
    c_scalar, c_metric = crit.get("invariance_scalar"), crit.get("invariance_metric")
    comps = [c for c in t.competencies if len(c.items) >= 3]
    m = _tier_model(ev, t, comps) if comps else None
    if m is None or not m.ok:
        why = ("no competency of 3 or more items" if not comps else
               "the tier's CFA could not be estimated (see its 'not estimable' verdict)")
        row.update(status="not applicable", note=why)
        for c in (c_metric, c_scalar):
            if c is not None:
                ev.verdicts.append(not_applicable(c, reason=f"invariance not tested: {why}",
                                                  **kw))
        return
    items = [i for c in comps for i in c.item_ids]
    ordinal = m.estimator == "WLSMV"
    cost = _ladder_cost(ev.scores.loc[keep, items].to_numpy(dtype=float), ordinal)
    if cost > INVARIANCE_BUDGET:
        why = (f"not run: the ladder's {4 if ordinal else '3-4'} multi-group fits of this "
               f"{len(items)}-item model would each use {cost:.1e} row x statistic values "
               f"(budget {INVARIANCE_BUDGET:.0e}); run pv.invariance(fw.to_model(tier="
               f"{t.id!r}), data, group={gcol!r}) on its own")
        row.update(estimator=m.estimator, status="not applicable", note=why)
        for c in (c_metric, c_scalar):
            if c is not None:
                ev.verdicts.append(not_applicable(c, reason=f"invariance {why}", **kw))
        return
    data = ev.scores.loc[keep, items].copy()
    data[gcol] = labels[keep].to_numpy(dtype=object)
    row.update(estimator=m.estimator)
    try:
        res = invariance(m.syntax, data, group=gcol, ordered=True if ordinal else None,
                         estimator=m.estimator, missing=ordinal_missing if ordinal else "fiml",
                         levels=None if ordinal else _LEVELS, partial=True)
    except (PsychovalError, np.linalg.LinAlgError, ValueError, ArithmeticError) as exc:
        # ValueError: e.g. a difference test that cannot be computed; the run goes on
        row.update(status="not estimable", note=str(exc))
        ev.verdicts.append(not_estimable(ESTIMABLE, target=target, level="tier", tier=t.id,
                                         reason=f"multi-group CFA (invariance): {exc}"))
        return
    ev.run.results[f"invariance:{t.id}:{gcol}"] = res
    lad = res.ladder
    for r in lad.to_dict(orient="records"):
        inv_rows.append({"group_column": gcol, "tier": t.id, "estimator": res.estimator,
                         "missing": res.missing, "n_obs": res.n_obs, "n_groups": n_groups,
                         **{k: r.get(k) for k in INVARIANCE_COLUMNS[6:]}})
    row.update(n_obs=res.n_obs, highest=res.highest)
    if res.highest is None:
        row.update(status="not estimable", note="the configural model did not converge")
        ev.verdicts.append(not_estimable(ESTIMABLE, target=target, level="tier", tier=t.id,
                                         reason="multi-group CFA (invariance): the configural "
                                         "model did not converge"))
        return
    row["status"] = "tested"
    steps = lad.set_index("level")
    dif_txt = _dif_items(ev.difs, set(items)) if gcol == ev.fw.group_columns[0] else ""
    row["dif_items"] = dif_txt
    detail = f"; items with DIF by {gcol}: {dif_txt}" if dif_txt else ""
    partial = _partial_text(res)
    row["partial"] = partial
    if partial:
        detail += f"; partial {res.partial_level} invariance {res.partial_decision} with " \
                  f"{partial} freed"
    if not ordinal:
        linked = res.partial_fit is not None
        which = f"partial {res.partial_level}" if linked else "configural"
        try:
            dm = dmacs(res.partial_fit if linked else res.fits["configural"])
        except PsychovalError as exc:
            row["note"] = f"dMACS not computed: {exc}"
        else:
            item_comp = ev.item_competency
            for r in dm.items.itertuples():
                dm_rows.append({"group_column": gcol, "tier": t.id,
                                "competency": item_comp.get(r.item, r.factor), "item": r.item,
                                "reference": str(r.reference), "focal": str(r.focal),
                                "dmacs": float(r.dmacs),
                                "mean_difference": float(r.mean_difference),
                                "fit": which})
            top = dm.items.loc[dm.items["dmacs"].idxmax()]
            row.update(max_dmacs_item=f"{top['item']} ({top['focal']} vs {top['reference']})",
                       max_dmacs=float(top["dmacs"]))
            detail += (f"; largest dMACS {top['item']} {float(top['dmacs']):.2f} "
                       f"({top['focal']} vs {top['reference']}, {which} fit)")
    else:
        row["note"] = ("dMACS not applicable: ordered indicators (WLSMV); pv.dmacs needs "
                       "linear (continuous) items")
    ev.details[("invariance", target)] = detail
    rank = _RANK.get(res.highest, 0)
    metric_ok, scalar_ok = rank >= 1, rank >= 2
    row["compare_correlations"] = "yes" if metric_ok else "no"
    row["compare_means"] = "yes" if scalar_ok else "no"
    ladder_txt = " -> ".join(f"{lv} {'holds' if d in ('baseline', 'holds') else d}"
                             for lv, d in zip(lad["level"], lad["decision"], strict=True))
    if c_metric is not None:
        upto_m = [lv for lv in res.levels[1:] if lv in ("thresholds", "metric")]
        ev.verdicts.append(_ladder_verdict(c_metric, metric_ok, steps, upto_m, ladder_txt,
                                           res.n_obs, partial=_holds_partially(
                                               res, "metric", partial), **kw))
    if c_scalar is not None:
        upto = [lv for lv in res.levels[1:] if lv in ("metric", "thresholds", "scalar")]
        v = _ladder_verdict(c_scalar, scalar_ok, steps, upto, ladder_txt, res.n_obs,
                            partial=_holds_partially(res, "scalar", partial), **kw)
        ev.verdicts.append(v)
        if v.verdict == "borderline":
            row["compare_means"] = (
                "latent means from the partial model only" if _holds_partially(
                    res, "scalar", partial) else "review first: only the difference test "
                "rejects (fit changes within the cutoffs)")


def _ladder_cost(x: np.ndarray, ordinal: bool) -> float:
    """Rows with an answer x sample statistics of one fit (see INVARIANCE_BUDGET)."""
    obs = ~np.isnan(x)
    p = x.shape[1]
    if ordinal:
        n_stat = sum(max(len(np.unique(col[ok])) - 1, 0)
                     for col, ok in zip(x.T, obs.T, strict=True)) + p * (p - 1) // 2
    else:
        n_stat = p + p * (p + 1) // 2
    return float(obs.any(axis=1).sum()) * n_stat


def _partial_text(res: Any) -> str:
    """The parameters the partial search freed, each with the group whose estimate differs
    most from the others' (``"PRM4 ~1 (engineering -0.41)"``), or ``""``."""
    fr = getattr(res, "freed", None)
    if fr is None or not len(fr):
        return ""
    out = []
    for (lhs, op, rhs), g in fr.groupby(["lhs", "op", "rhs"], sort=False):
        top = g.loc[g["diff"].abs().idxmax()]
        name = f"{lhs} {op}".strip() if op == "~1" else f"{lhs} {op} {rhs}"
        out.append(f"{name} ({top['group']} {float(top['diff']):+.2f})")
    return ", ".join(out)


def _holds_partially(res: Any, level: str, partial: str) -> str | None:
    if partial and res.partial_level == level and res.partial_decision == "holds":
        return partial
    return None


def _ladder_verdict(c: Any, holds: bool, steps: pd.DataFrame, upto: list[str],
                    ladder_txt: str, n_obs: int, partial: str | None = None,
                    **kw: Any) -> Verdict:
    """Pass when the level holds; borderline when it holds partially (latent means are
    comparable in the partial model, observed scores still carry the freed items' bias) or
    when only the difference test rejected (the fit changes within Chen's cutoffs: at large
    n the test detects differences too small to matter, so the DIF screen and dMACS say
    which items and how much); fail otherwise."""
    soften = None
    if not holds and partial:
        soften = (f"partial {c.name.replace('invariance_', '')} invariance holds with "
                  f"{partial} freed (Byrne, Shavelson & Muthen 1989): compare latent means "
                  "from the partial model, not observed scores, until those items are revised")
    elif not holds:
        failed = [lv for lv in upto if lv in steps.index
                  and steps.loc[lv, "decision"] != "holds"]
        if failed and all(steps.loc[lv, "reason"] == "test" for lv in failed):
            lv = failed[0]
            soften = (f"only the difference test rejects ({lv}: chi-square difference "
                      f"{steps.loc[lv, 'chisq_diff']:.1f} on {steps.loc[lv, 'df_diff']:.0f} "
                      f"df, p = {steps.loc[lv, 'pvalue_diff']:.2g}, n = {n_obs}); the fit "
                      f"changes (delta CFI {steps.loc[lv, 'delta_cfi']:+.3f}, delta RMSEA "
                      f"{steps.loc[lv, 'delta_rmsea']:+.3f}) are within Chen's (2007) "
                      "cutoffs: review the items with DIF and their dMACS")
    return judge(c, 1.0 if holds else 0.0, soften=soften,
                 what=f"{c.name.replace('invariance_', '')} invariance ({ladder_txt})", **kw)


def _dif_items(difs: list, items: set) -> str:
    """The items of ``items`` the DIF screen flagged, with the focal group and ETS class."""
    import re

    out = []
    for d in difs:
        t = d.table
        for item, k, flagged in zip(t["item"], t["effect_class"], t["flagged"], strict=True):
            if flagged and item in items:
                m = re.search(r"class ([ABC])\b", str(k))
                if m and m.group(1) in "BC":
                    out.append(f"{item} ({', '.join(map(str, d.focal))}, class {m.group(1)})")
    return ", ".join(out)


def _adverse_impact(ev: Any) -> pd.DataFrame:
    """Pass rates by group at each competency's cut score (information, not a verdict)."""
    from psychoval.stats import adverse_impact

    fw, scored = ev.fw, ev.scored
    cut = [c for c in fw.competencies if c.cut_score is not None]
    groups = [g for g in fw.group_columns if g in scored.covariates]
    rows: list[dict[str, Any]] = []
    if not cut or not groups:
        return pd.DataFrame(rows, columns=ADVERSE_IMPACT_COLUMNS)
    means = fw.scale_scores(scored).means
    for gcol in groups:
        lab = scored.covariates[gcol].astype("string")
        keep = lab.notna().to_numpy()
        for c in cut:
            try:
                res = adverse_impact(means.loc[keep, c.id].to_numpy(dtype=float),
                                     lab[keep].to_numpy(dtype=object), cut=c.cut_score)
            except PsychovalError as exc:
                ev.run.notes.append(f"adverse impact of {c.id} by {gcol}: not computed: {exc}")
                continue
            ev.run.results[f"adverse_impact:{c.id}:{gcol}"] = res
            tab = res.table
            for r in tab.to_dict(orient="records"):
                rows.append({"group_column": gcol, "competency": c.id,
                             "cut_score": float(c.cut_score), "reference": str(res.reference),
                             **{k: r.get(k) for k in ADVERSE_IMPACT_COLUMNS[5:]},
                             "group": str(r.get("group"))})
            low = tab.loc[tab["four_fifths"].astype(bool), "group"].astype(str).tolist()
            if low:
                ev.run.notes.append(
                    f"adverse impact: {c.id} at cut {c.cut_score:g} by {gcol}: pass-rate "
                    f"ratio below four-fifths of {res.reference}'s for {', '.join(low)} "
                    "(29 CFR 1607.4(D), a rule of thumb; information, not a verdict)")
    out = pd.DataFrame(rows, columns=ADVERSE_IMPACT_COLUMNS)
    for col in ("n", "n_missing", "passes"):
        out[col] = out[col].astype("int64")
    return out

