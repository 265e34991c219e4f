"""The JSON form of a ValidationReport and its strict, versioned JSON Schema.

``SCHEMA`` is the source of truth; ``docs/validation_report.schema.json`` is written from it
(``python -m psychoval.report._schema docs/validation_report.schema.json``) and a test checks
the two agree. Every object has ``additionalProperties: false`` and lists its required keys.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from psychoval._results import to_jsonable
from psychoval._version import __version__
from psychoval.verdicts._verdicts import VERDICTS

__all__ = ["SCHEMA", "SCHEMA_ID", "report_dict"]

SCHEMA_ID = "psychoval.validation_report/7"

NUM = {"type": ["number", "null"]}
INT = {"type": ["integer", "null"]}
STR = {"type": ["string", "null"]}
BOOL = {"type": "boolean"}
VERDICT = {"enum": list(VERDICTS)}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": props,
            "required": list(props) if required is None else required}


def _rows(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": _obj(props)}


COMPETENCY = {
    "competency": {"type": "string"}, "name": {"type": "string"}, "tier": {"type": "string"},
    "n_items": {"type": "integer"}, "item_types": {"type": "string"},
    "alpha": NUM, "alpha_lower": NUM, "alpha_upper": NUM, "alpha_ci": {"type": "string"},
    "omega": NUM, "omega_lower": NUM, "omega_upper": NUM, "omega_ci": STR,
    "ordinal_alpha": NUM, "ordinal_alpha_lower": NUM, "ordinal_alpha_upper": NUM, "ave": NUM,
    "identification": STR, "estimator": STR, "approximate_fit": {"type": ["boolean", "null"]},
    "cr_tier": NUM, "ave_tier": NUM, "sqrt_ave": NUM, "max_cor": NUM,
}
ITEM = {
    "item": {"type": "string"}, "competency": {"type": "string"}, "tier": {"type": "string"},
    "type": {"type": "string"}, "text": {"type": "string"}, "reverse": BOOL,
    "n": NUM, "mean": NUM, "sd": NUM, "difficulty": NUM, "r_drop": NUM,
    "alpha_if_dropped": NUM, "std_loading": NUM, "loading_lower": NUM, "loading_upper": NUM,
    "verdict": VERDICT, "flags": {"type": "string"},
}
TIER = {
    "tier": {"type": "string"}, "name": {"type": "string"},
    "n_competencies": {"type": "integer"}, "second_order": {"type": "string"},
    "chisq_diff": NUM, "df_diff": NUM, "pvalue": NUM, "method": STR,
    "omega_h": NUM, "omega_total": NUM, "ecv": NUM, "omega_note": {"type": "string"},
}
PAIR = {"tier": {"type": "string"}, "competency_a": {"type": "string"},
        "competency_b": {"type": "string"}, "cor_lv": NUM, "htmt": NUM, "htmt2": NUM}
CROSS = {"tier": {"type": "string"}, "item": {"type": "string"},
         "competency": {"type": "string"}, "to": {"type": "string"}, "mi": NUM,
         "sepc_all": NUM, "own_loading": NUM}
FIT = {"level": {"enum": ["competency", "tier", "framework"]}, "target": {"type": "string"},
       "model": {"type": "string"}, "estimator": {"type": "string"},
       "missing": {"type": "string"}, "n_obs": INT, "converged": BOOL,
       "admissible": BOOL, "status": {"enum": ["estimated", "not_estimable"]},
       "note": STR, "chisq": NUM, "df": NUM, "pvalue": NUM, "cfi": NUM, "tli": NUM,
       "rmsea": NUM, "rmsea_ci_lower": NUM, "rmsea_ci_upper": NUM, "srmr": NUM,
       "robust": BOOL, "approximate": BOOL}
RATER = {"item": {"type": "string"}, "competency": {"type": "string"},
         "n_raters": {"type": "integer"}, "n_targets": INT, "icc2": NUM, "icc2k": NUM,
         "icc2k_lower": NUM, "icc2k_upper": NUM, "available": BOOL}
VERDICT_ROW = {
    "id": {"type": "string", "pattern": "^V[0-9]{3,}$"},
    "level": {"enum": ["item", "competency", "tier", "framework"]},
    "target": {"type": "string"}, "tier": STR, "competency": STR,
    "criterion": {"type": "string"}, "statistic": {"type": "string"}, "value": NUM,
    "threshold": {"type": "number"}, "direction": {"enum": ["below", "above"]},
    "lower": NUM, "upper": NUM, "verdict": VERDICT, "citation": {"type": "string"},
    "reason": {"type": "string"},
}
ACTION = {"id": {"type": "string", "pattern": "^A[0-9]{2,}$"}, "kind": {"type": "string"},
          "target": {"type": "string"}, "text": {"type": "string"},
          "verdicts": {"type": "array", "items": {"type": "string",
                                                  "pattern": "^V[0-9]{3,}$"},
                       "minItems": 1}}
FAIRNESS = {"group_column": {"type": "string"}, "tier": {"type": "string"},
            "estimator": STR, "n_obs": INT,
            "status": {"enum": ["tested", "not applicable", "not estimable"]},
            "highest": STR, "partial": STR, "compare_correlations": STR, "compare_means": STR,
            "dif_items": STR, "max_dmacs_item": STR, "max_dmacs": NUM, "note": STR}
INVARIANCE = {"group_column": {"type": "string"}, "tier": {"type": "string"},
              "estimator": {"type": "string"}, "missing": {"type": "string"}, "n_obs": INT,
              "n_groups": {"type": "integer"}, "level": {"type": "string"},
              "group_equal": {"type": "string"}, "chisq": NUM, "df": NUM, "cfi": NUM,
              "tli": NUM, "rmsea": NUM, "srmr": NUM, "chisq_diff": NUM, "df_diff": NUM,
              "pvalue_diff": NUM, "delta_cfi": NUM, "delta_rmsea": NUM, "delta_srmr": NUM,
              "decision": {"type": "string"}, "reason": {"type": "string"},
              "after_failure": BOOL}
DMACS = {"group_column": {"type": "string"}, "tier": {"type": "string"},
         "competency": {"type": "string"}, "item": {"type": "string"},
         "reference": {"type": "string"}, "focal": {"type": "string"}, "dmacs": NUM,
         "mean_difference": NUM, "fit": {"type": "string"}}
ADVERSE_IMPACT = {"group_column": {"type": "string"}, "competency": {"type": "string"},
                  "cut_score": {"type": "number"}, "group": {"type": "string"},
                  "reference": {"type": "string"}, "n": {"type": "integer"},
                  "n_missing": {"type": "integer"}, "passes": {"type": "integer"},
                  "pass_rate": NUM, "impact_ratio": NUM, "four_fifths": BOOL,
                  "ratio_ci_lower": NUM, "ratio_ci_upper": NUM, "pvalue_z": NUM,
                  "pvalue_fisher": NUM}
DECISIONS = {"level": {"enum": ["competency", "tier"]}, "competency": STR,
             "tier": {"type": "string"},
             "method": {"type": "string"}, "n_items": {"type": "integer"},
             "cut_score": {"type": "number"}, "cut_raw": {"type": "number"},
             "score_min": NUM, "score_max": NUM, "reliability": NUM, "n_used": INT,
             "rows_dropped": INT, "pass_rate": NUM, "accuracy": NUM, "consistency": NUM,
             "kappa": NUM, "false_positive": NUM, "false_negative": NUM, "csem_at_cut": NUM,
             "status": {"enum": ["computed", "not applicable"]}, "note": STR}
SUBSCORES = {"tier": {"type": "string"}, "competency": {"type": "string"},
             "n_items": {"type": "integer"}, "alpha": NUM, "prmse_s": NUM, "prmse_x": NUM,
             "prmse_sx": NUM, "value_added_ratio": NUM, "decision": {"type": "string"},
             "n_used": INT, "note": STR}
IRT_ITEMS = {"item": {"type": "string"}, "competency": {"type": "string"},
             "tier": {"type": "string"}, "model": {"type": "string"}, "slope": NUM,
             "location": NUM, "s_x2": NUM, "df": NUM, "pvalue": NUM, "pvalue_holm": NUM,
             "rmsea_s_x2": NUM, "n_used": INT, "note": STR}
SKILLS_GAP = {"role": {"type": "string"}, "tier": {"type": "string"},
              "competency": {"type": "string"}, "target": {"type": "number"},
              "n": {"type": "integer"}, "n_scored": {"type": "integer"}, "share_below": NUM,
              "share_cannot_tell": NUM, "share_meets": NUM, "mean_gap": NUM, "gap_lower": NUM,
              "gap_upper": NUM, "used": BOOL, "reason": STR}
TRAINING_NEEDS = {"rank": {"type": "integer"}, "role": {"type": "string"},
                  "tier": {"type": "string"}, "competency": {"type": "string"},
                  "n_below": {"type": "integer"}, "mean_shortfall": NUM, "need": NUM}
CONTENT_ITEMS = {"item": {"type": "string"}, "competency": STR, "tier": STR,
                 "n_experts": {"type": "integer"}, "i_cvi": NUM, "kappa_star": NUM,
                 "kappa_band": {"type": "string"}, "aiken_v": NUM, "aiken_lower": NUM,
                 "aiken_upper": NUM, "cvr": NUM, "cvr_critical": NUM, "cvr_pvalue": NUM,
                 "assignment_agreement": NUM, "modal_assignment": STR,
                 "verdict": {"enum": [*VERDICTS, None]}}
CONTENT_COMPETENCIES = {"competency": {"type": "string"}, "tier": STR,
                        "n_items": {"type": "integer"}, "s_cvi_ave": NUM, "s_cvi_ua": NUM,
                        "mean_kappa_star": NUM, "mean_aiken_v": NUM, "mean_cvr": NUM,
                        "cvi": NUM, "assignment_agreement": NUM,
                        "verdict": {"enum": [*VERDICTS, None]}}
CONTENT_COMMENTS = {"item": {"type": "string"}, "expert": {"type": "string"},
                    "comment": {"type": "string"}}
CUT_SCORES = {"target": {"type": "string"}, "level": {"type": "string"},
              "round": {"type": ["integer", "string"]}, "n_judges": {"type": "integer"},
              "n_items": {"type": "integer"}, "cut": NUM, "sd": NUM, "se": NUM,
              "se_items_random": NUM, "cut_mean_item": NUM, "change": NUM,
              "change_pvalue": NUM, "icc2_1": NUM, "icc2_k": NUM, "outlying_judges": STR,
              "constant_judges": STR}
IMPACT = {"target": {"type": "string"}, "level": {"type": "string"}, "group_column": STR,
          "group": {"type": "string"}, "n": {"type": "integer"},
          "n_at_or_above": {"type": "integer"}, "share_at_or_above": NUM, "cut": NUM}
CRITERION = {"name": {"type": "string"}, "statistic": {"type": "string"},
             "threshold": {"type": "number"}, "direction": {"enum": ["below", "above"]},
             "level": {"type": "string"}, "source": {"type": "string"},
             "description": {"type": "string"}, "citation": {"type": "string"}}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://psychoval.invalid/schemas/validation_report-7.json",
    "title": "psychoval validation report, version 7",
    "description": "The JSON form of psychoval.ValidationReport (pv.validate). Numbers are "
                   "full precision; null is a missing value (NA).",
    **_obj({
        "schema": {"const": SCHEMA_ID},
        "psychoval_version": {"type": "string"},
        "framework": _obj({"name": {"type": "string"}, "n_tiers": {"type": "integer"},
                           "n_competencies": {"type": "integer"},
                           "n_items": {"type": "integer"}}),
        "n_respondents": {"type": "integer", "minimum": 0},
        "summary": _obj({**{v: {"type": "integer"} for v in VERDICTS},
                         "passed": BOOL, "items_flagged": {"type": "array",
                                                           "items": {"type": "string"}}}),
        "data_quality": _obj({
            "n_respondents": {"type": "integer"}, "n_columns": {"type": "integer"},
            "missing_fraction": {"type": "number"}, "n_out_of_range": {"type": "integer"},
            "n_invalid_codes": {"type": "integer"}, "n_all_missing_rows": {"type": "integer"},
            "n_duplicate_ids": {"type": "integer"}, "min_pairwise_n": {"type": "integer"},
            "n_complete": INT, "n_multivariate_outliers": {"type": "integer"},
            "multivariate_outliers": {"type": "array", "items": {"type": "string"}},
            "outlier_rule": {"type": "string"},
            "problems": {"type": "array", "items": {"type": "string"}},
            "unknown_columns": {"type": "array", "items": {"type": "string"}}}),
        "methods": _obj({k: {"type": "string"} for k in (
            "reliability_missing", "cfa_missing", "cfa_estimator", "omega_interval",
            "alpha_interval", "ordinal_alpha", "item_analysis_missing", "dif",
            "ordinal_estimation", "cfa_not_estimable", "fit_indices", "validity",
            "fairness", "decisions", "skills_gap", "content_validity",
            "standard_setting")}),
        "options": _obj({"criteria_preset": {"type": "string"},
                         "criteria_overrides": {"type": "object",
                                                "additionalProperties": NUM},
                         "ordinal": {"enum": ["auto", "always", "never"]},
                         "ordinal_missing": {"enum": ["listwise", "pairwise"]},
                         "seed": {"type": ["integer", "null"]}, "n_boot": {"type": "integer"},
                         "confidence_level": {"type": "number"}, "group_column": STR}),
        "competencies": _rows(COMPETENCY),
        "items": _rows(ITEM),
        "tiers": _rows(TIER),
        "discriminant": _rows(PAIR),
        "cross_loadings": _rows(CROSS),
        "fit": _rows(FIT),
        "raters": _rows(RATER),
        "dimensionality": _obj({
            "available": BOOL, "n_factors": {"type": "integer"},
            "n_components": {"type": "integer"}, "n_competencies": {"type": "integer"},
            "n_tiers": {"type": "integer"},
            "eigenvalues": {"type": "array", "items": {"type": "number"}},
            "thresholds": {"type": "array", "items": {"type": "number"}}},
            required=["available"]),
        "fairness": _rows(FAIRNESS),
        "invariance": _rows(INVARIANCE),
        "dmacs": _rows(DMACS),
        "adverse_impact": _rows(ADVERSE_IMPACT),
        "decisions": _rows(DECISIONS),
        "subscores": _rows(SUBSCORES),
        "irt_items": _rows(IRT_ITEMS),
        "skills_gap": _rows(SKILLS_GAP),
        "training_needs": _rows(TRAINING_NEEDS),
        "content_items": _rows(CONTENT_ITEMS),
        "content_competencies": _rows(CONTENT_COMPETENCIES),
        "content_comments": _rows(CONTENT_COMMENTS),
        "cut_scores": _rows(CUT_SCORES),
        "impact": _rows(IMPACT),
        "verdicts": _rows(VERDICT_ROW),
        "actions": _rows(ACTION),
        "criteria": _rows(CRITERION),
        "provenance": _obj({
            "psychoval": {"type": "string"}, "numpy": {"type": "string"},
            "scipy": {"type": "string"}, "pandas": {"type": "string"},
            "python": {"type": "string"},
            "input_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "input": {"type": "string"}, "seed": {"type": ["integer", "null"]},
            "created": {"type": "string"},
            "r_calls": {"type": "object", "additionalProperties": {"type": "string"}}}),
        "timings": {"type": "object", "additionalProperties": {"type": "number",
                                                               "minimum": 0}},
        "notes": {"type": "array", "items": {"type": "string"}},
    }),
}


def _rows_of(df, props: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict(orient="records"):
        out.append({k: to_jsonable(rec.get(k)) for k in props})
    return out


def _int_or_none(x: Any) -> Any:
    v = to_jsonable(x)
    return int(v) if isinstance(v, float) else v


def _int_cols(rows: list[dict[str, Any]], cols: tuple[str, ...]) -> list[dict[str, Any]]:
    for r in rows:
        for c in cols:
            r[c] = _int_or_none(r[c])
    return rows


def report_dict(rep: Any) -> dict[str, Any]:
    """The report as plain JSON-safe data in the layout of :data:`SCHEMA`."""
    fw = rep.framework
    comps = _rows_of(rep.competencies, COMPETENCY)
    for c in comps:
        c["n_items"] = int(c["n_items"])
    tiers = _rows_of(rep.tiers, TIER)
    for t in tiers:
        t["n_competencies"] = int(t["n_competencies"])
    fit = _rows_of(rep.fit, FIT)
    raters = _rows_of(rep.raters, RATER)
    for r in raters:
        r["n_raters"] = int(r["n_raters"])
        r["n_targets"] = _int_or_none(r["n_targets"])
    actions = _rows_of(rep.actions, ACTION)
    for a in actions:
        a["verdicts"] = [v.strip() for v in str(a["verdicts"]).split(",") if v.strip()]
    crit_rows = [{"name": c.name, "statistic": c.statistic, "threshold": float(c.threshold),
                  "direction": c.direction, "level": c.level, "source": c.source,
                  "description": c.description, "citation": c.citation}
                 for c in rep.criteria.all]
    dq = dict(to_jsonable(dict(rep.data_quality)))
    counts = rep.counts
    return {
        "schema": SCHEMA_ID,
        "psychoval_version": __version__,
        "framework": {"name": rep.framework_name, "n_tiers": len(fw.tiers),
                      "n_competencies": len(fw.competencies), "n_items": len(fw.items)},
        "n_respondents": int(rep.n_respondents),
        "summary": {**counts, "passed": rep.passed, "items_flagged": rep.flagged_items},
        "data_quality": dq,
        "methods": dict(rep.methods),
        "options": {**to_jsonable(dict(rep.options))},
        "competencies": comps,
        "items": _rows_of(rep.items, ITEM),
        "tiers": tiers,
        "discriminant": _rows_of(rep.discriminant, PAIR),
        "cross_loadings": _rows_of(rep.cross_loadings, CROSS),
        "fit": fit,
        "raters": raters,
        "dimensionality": to_jsonable(dict(rep.dimensionality)),
        "fairness": _int_cols(_rows_of(rep.fairness, FAIRNESS), ("n_obs",)),
        "invariance": _int_cols(_rows_of(rep.invariance, INVARIANCE), ("n_obs", "n_groups")),
        "dmacs": _rows_of(rep.dmacs, DMACS),
        "adverse_impact": _int_cols(_rows_of(rep.adverse_impact, ADVERSE_IMPACT),
                                    ("n", "n_missing", "passes")),
        "decisions": _int_cols(_rows_of(rep.decisions, DECISIONS),
                               ("n_items", "n_used", "rows_dropped")),
        "subscores": _int_cols(_rows_of(rep.subscores, SUBSCORES), ("n_items", "n_used")),
        "irt_items": _int_cols(_rows_of(rep.irt_items, IRT_ITEMS), ("n_used",)),
        "skills_gap": _int_cols(_rows_of(rep.skills_gap, SKILLS_GAP), ("n", "n_scored")),
        "training_needs": _int_cols(_rows_of(rep.training_needs, TRAINING_NEEDS),
                                    ("rank", "n_below")),
        "content_items": _int_cols(_rows_of(rep.content_items, CONTENT_ITEMS),
                                   ("n_experts",)),
        "content_competencies": _int_cols(_rows_of(rep.content_competencies,
                                                   CONTENT_COMPETENCIES), ("n_items",)),
        "content_comments": _rows_of(rep.content_comments, CONTENT_COMMENTS),
        "cut_scores": _int_cols(_rows_of(rep.cut_scores, CUT_SCORES), ("n_judges", "n_items")),
        "impact": _int_cols(_rows_of(rep.impact, IMPACT), ("n", "n_at_or_above")),
        "verdicts": _rows_of(rep.verdicts, VERDICT_ROW),
        "actions": actions,
        "criteria": crit_rows,
        "provenance": to_jsonable(dict(rep.provenance)),
        "timings": {k: float(v) for k, v in rep.timings.items()},
        "notes": list(rep.notes),
    }


if __name__ == "__main__":  # pragma: no cover - regenerates docs/validation_report.schema.json
    text = json.dumps(SCHEMA, indent=2) + "\n"
    if len(sys.argv) > 1 and sys.argv[1] != "-":
        from psychoval._output import write_text

        write_text(sys.argv[1], text)
    else:
        sys.stdout.write(text)
