"""Markdown rendering of a ValidationReport (GitHub-flavoured tables)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["render_markdown"]


def _cell(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x).replace("|", "\\|").replace("\n", " ")


def _table(df: pd.DataFrame, columns: list[tuple[str, str]]) -> str:
    lines = ["| " + " | ".join(label for _, label in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(_cell(r.get(c)) for c, _ in columns) + " |")
    return "\n".join(lines)


def render_markdown(rep: Any) -> str:
    c = rep.counts
    out = [f"# Validation report: {rep.framework_name}", "",
           f"{rep.n_respondents} respondents; verdicts: {c['pass']} pass, {c['borderline']} "
           f"borderline, {c['fail']} fail, {c['not_applicable']} not applicable"
           + (f", {c['not_estimable']} models not estimable." if c["not_estimable"] else ".")
           , "",
           "## Overview", "",
           _table(rep.overview(), [("tier", "tier"), ("competency", "competency"),
                                   ("pass", "pass"), ("borderline", "borderline"),
                                   ("fail", "fail"), ("not_applicable", "n/a"),
                                   ("not_estimable", "not estimable")]), "",
           "## Recommended actions", ""]
    out.append(_table(rep.actions, [("id", "id"), ("target", "about"), ("text", "action"),
                                    ("verdicts", "verdicts")]) if len(rep.actions)
               else "No action needed.")
    out += ["", "## Missing data and estimation", ""]
    out += [f"- **{k.replace('_', ' ')}**: {v}" for k, v in rep.methods.items()]
    out += ["", "## Competencies", "",
            _table(rep.competencies, [("tier", "tier"), ("competency", "competency"),
                                      ("n_items", "items"), ("alpha", "alpha"),
                                      ("alpha_lower", "lower"), ("alpha_upper", "upper"),
                                      ("omega", "omega"), ("omega_lower", "lower"),
                                      ("omega_upper", "upper"), ("ave_tier", "AVE")]),
            "", "## Items", "",
            _table(rep.items, [("item", "item"), ("competency", "competency"),
                               ("text", "text"), ("r_drop", "item-rest r"),
                               ("std_loading", "loading"), ("verdict", "verdict"),
                               ("flags", "flags")]),
            "", "## Model fit", "",
            _table(rep.fit, [("level", "level"), ("target", "target"), ("model", "model"),
                             ("estimator", "estimator"), ("n_obs", "n"),
                             ("converged", "converged"), ("status", "status"), ("cfi", "CFI"),
                             ("tli", "TLI"), ("rmsea", "RMSEA"), ("srmr", "SRMR"),
                             ("approximate", "approximate"), ("note", "note")]),
            "", "## Tiers", "",
            _table(rep.tiers, [("tier", "tier"), ("n_competencies", "competencies"),
                               ("second_order", "second-order model"),
                               ("pvalue", "p (nested test)"), ("omega_h", "omega h"),
                               ("omega_total", "omega total"), ("ecv", "ECV")]),
            "", "## Discriminant validity", "",
            _table(rep.discriminant, [("tier", "tier"), ("competency_a", "a"),
                                      ("competency_b", "b"), ("cor_lv", "latent r"),
                                      ("htmt", "HTMT"), ("htmt2", "HTMT2")]),
            "", "## Verdicts", "",
            _table(rep.verdicts, [("id", "id"), ("level", "level"), ("target", "target"),
                                  ("criterion", "criterion"), ("value", "value"),
                                  ("threshold", "threshold"), ("verdict", "verdict"),
                                  ("reason", "reason")]),
            "", "## Provenance", ""]
    prov = rep.provenance
    out += [f"- {k}: `{prov.get(k)}`" for k in ("psychoval", "numpy", "scipy", "pandas",
                                                 "python", "input", "input_sha256", "seed")]
    out += ["", "R calls:", ""] + [f"- {k}: `{v}`" for k, v in prov["r_calls"].items()]
    out += ["", "Time by step (s): " + ", ".join(f"{k} {v:.2f}"
                                                 for k, v in rep.timings.items()), ""]
    if rep.notes:
        out += ["## Notes", ""] + [f"- {n}" for n in rep.notes] + [""]
    return "\n".join(out)
