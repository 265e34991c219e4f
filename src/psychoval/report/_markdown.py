"""Markdown rendering of a ValidationReport (GitHub-flavoured tables).

Every text that comes from the framework, the data or the run (names, ids, item texts,
reasons, actions, notes, provenance) goes through :func:`_md` (or :func:`_code`): escaped for
CommonMark so that it renders as the text it is - no raw HTML, no links or images, no
emphasis, code, headings or list items of its own - on one line, so a table row stays one
row. Control characters are removed (the file may be printed to a terminal)."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from psychoval._output import strip_controls

__all__ = ["render_markdown"]

# Backslash-escaped wherever they are: HTML and autolinks (<, >), entities (&), links and
# images ([, ]), code spans (`), emphasis (*, and _ unless between two letters or digits,
# where CommonMark never reads it as emphasis), strikethrough (~), table cells (|), escapes
# themselves (\) and # after a space (the closing sequence of a heading).
_INLINE = re.compile(r"[\\`*\[\]<>&|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|(?<!\S)#")
# Read as a block marker at the start of a line (a list item's text): block quotes, list
# items, thematic breaks and setext underlines, ordered lists (1. / 1)).
_LEADING = re.compile(r"^([>+=-])|^(\d{1,9})([.)])")
_BREAK = re.compile(r"\s*(?:\r\n|[\r\n\u2028\u2029])\s*")


def _md(x: Any) -> str:
    """``x`` as Markdown inline text that renders as ``str(x)`` (newlines become spaces)."""
    text = _BREAK.sub(" ", strip_controls(str(x)).replace("\t", " ")).strip()
    text = _INLINE.sub(lambda m: "\\" + m.group(), text)
    return _LEADING.sub(lambda m: ("\\" + m.group(1)) if m.group(1)
                        else m.group(2) + "\\" + m.group(3), text)


def _code(x: Any) -> str:
    """``x`` as a code span: fenced by more backticks than any run inside it (backslash
    escapes do not work in code, so the fence cannot be closed early), padded when the text
    starts or ends with a backtick."""
    text = _BREAK.sub(" ", strip_controls(str(x)).replace("\t", " "))
    if not text.strip():
        return "` `"
    fence = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(x: Any) -> str:
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (float, np.floating)):
        return f"{x:.3f}"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return _md(x) or " "


def _table(df: pd.DataFrame, columns: list[tuple[str, str]]) -> str:
    lines = ["| " + " | ".join(label for _, label in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(_cell(r.get(c)) for c, _ in columns) + " |")
    return "\n".join(lines)


def _fairness(rep: Any) -> list[str]:
    """The fairness section: per group column and tier the invariance summary, the
    ladders, the DIF items, dMACS and adverse impact (information)."""
    out = ["## Fairness", ""]
    if not len(rep.fairness):
        return out + ["No group column in the framework: not run.", ""]
    out += [_table(rep.fairness, [("group_column", "group"), ("tier", "tier"),
                                  ("estimator", "estimator"), ("highest", "highest level"),
                                  ("compare_correlations", "compare correlations"),
                                  ("compare_means", "compare means"),
                                  ("dif_items", "DIF items"), ("max_dmacs_item", "largest dMACS"),
                                  ("max_dmacs", "dMACS"), ("note", "note")]), "",
            "### Invariance ladders", "",
            _table(rep.invariance, [("group_column", "group"), ("tier", "tier"),
                                    ("level", "level"), ("chisq_diff", "chi2 diff"),
                                    ("df_diff", "df"), ("pvalue_diff", "p"),
                                    ("delta_cfi", "delta CFI"), ("delta_rmsea", "delta RMSEA"),
                                    ("delta_srmr", "delta SRMR"), ("decision", "decision"),
                                    ("reason", "by")]), ""]
    if len(rep.dmacs):
        top = rep.dmacs.sort_values("dmacs", ascending=False).head(10)
        out += ["### dMACS (largest 10; information)", "",
                _table(top, [("group_column", "group"), ("tier", "tier"), ("item", "item"),
                             ("focal", "focal"), ("reference", "reference"),
                             ("dmacs", "dMACS"), ("mean_difference", "mean difference")]), ""]
    if len(rep.adverse_impact):
        out += ["### Adverse impact at the cut scores (information; 29 CFR 1607.4(D))", "",
                _table(rep.adverse_impact, [
                    ("group_column", "group column"), ("competency", "competency"),
                    ("cut_score", "cut"), ("group", "group"), ("n", "n"),
                    ("pass_rate", "pass rate"), ("impact_ratio", "impact ratio"),
                    ("four_fifths", "below 4/5"), ("pvalue_fisher", "p (Fisher)")]), ""]
    return out


def _decisions(rep: Any) -> list[str]:
    """Classification at the cut scores and the added value of competency scores."""
    out = ["## Decisions on scores", ""]
    if len(rep.decisions):
        out += [_table(rep.decisions, [
            ("level", "level"), ("tier", "tier"), ("competency", "competency"),
            ("method", "method"), ("cut_score", "cut"),
            ("cut_raw", "cut (summed)"), ("n_used", "n"), ("pass_rate", "pass rate"),
            ("accuracy", "accuracy"), ("consistency", "consistency"), ("kappa", "kappa"),
            ("csem_at_cut", "SEM at cut")]), ""]
    else:
        out += ["No cut scores in the framework: classification not run.", ""]
    if len(rep.subscores):
        out += ["### Added value of competency scores over the tier total (Haberman 2008)",
                "", _table(rep.subscores, [
                    ("tier", "tier"), ("competency", "competency"), ("alpha", "alpha"),
                    ("prmse_s", "PRMSE own"), ("prmse_x", "PRMSE tier total"),
                    ("prmse_sx", "PRMSE both"), ("decision", "decision")]), ""]
    if len(rep.irt_items) and rep.irt_items["s_x2"].notna().any():
        out += ["### IRT item fit (S-X2)", "", _table(rep.irt_items, [
            ("item", "item"), ("competency", "competency"), ("model", "model"),
            ("slope", "slope"), ("location", "location"), ("s_x2", "S-X2"), ("df", "df"),
            ("pvalue", "p"), ("pvalue_holm", "p (Holm)")]), ""]
    return out


def _skills_gaps(rep: Any) -> list[str]:
    """Share below target per competency and role, and the ranked needs."""
    out = ["## Skills gaps", ""]
    g = rep.skills_gap
    if not len(g):
        return out + ["No roles in the framework: skills gaps not computed.", ""]
    used = g[g["used"].astype(bool)]
    wide = used.pivot(index="competency", columns="role", values="share_below")
    wide = wide.reset_index()
    out += ["Share of each role below its target (score interval under the target):", "",
            _table(wide, [(c, c) for c in wide.columns]), ""]
    unused = g[~g["used"].astype(bool)].drop_duplicates("competency")
    for r in unused.itertuples():
        out += [f"- {_md(r.competency)} not used: {_md(r.reason)}"]
    if len(unused):
        out += [""]
    if len(rep.training_needs):
        out += ["### Training needs", "", _table(rep.training_needs.head(10), [
            ("rank", "rank"), ("role", "role"), ("competency", "competency"),
            ("n_below", "n below"), ("mean_shortfall", "mean shortfall"),
            ("need", "need")]), ""]
    return out


def _panels(rep: Any) -> list[str]:
    """Content validity (per competency, the items not passing, comments) and the Angoff
    cut scores with their impact."""
    out = ["## Content validity", ""]
    if len(rep.content_items):
        out += [_table(rep.content_competencies, [
            ("competency", "competency"), ("n_items", "items"), ("s_cvi_ave", "S-CVI/Ave"),
            ("s_cvi_ua", "S-CVI/UA"), ("mean_cvr", "mean CVR"),
            ("assignment_agreement", "assignment agreement"), ("verdict", "verdict")]), ""]
        bad = rep.content_items[rep.content_items["verdict"] != "pass"]
        out += ["Items the panel does not pass:", "", _table(bad, [
            ("item", "item"), ("competency", "competency"), ("i_cvi", "I-CVI"),
            ("kappa_star", "kappa*"), ("aiken_v", "Aiken's V"), ("cvr", "CVR"),
            ("assignment_agreement", "assigned"), ("modal_assignment", "most chose"),
            ("verdict", "verdict")]), ""]
        if len(rep.content_comments):
            out += ["### Experts' comments", "", _table(rep.content_comments, [
                ("item", "item"), ("expert", "expert"), ("comment", "comment")]), ""]
    else:
        out += [_md(rep.methods.get("content_validity", "")), ""]
    out += ["## Standard setting", ""]
    if len(rep.cut_scores):
        out += [_table(rep.cut_scores, [
            ("target", "target"), ("level", "level"), ("round", "round"),
            ("n_judges", "judges"), ("cut", "cut"), ("se", "SE"), ("change", "change"),
            ("icc2_k", "ICC(2,k)"), ("outlying_judges", "outlying judges")]), ""]
        if len(rep.impact):
            out += ["Share at or above each cut:", "", _table(rep.impact, [
                ("level", "level"), ("group", "group"), ("n", "n"),
                ("share_at_or_above", "share")]), ""]
    else:
        out += [_md(rep.methods.get("standard_setting", "")), ""]
    return out


def content_markdown(result: Any, verdicts: pd.DataFrame, *, title: str = "Content validity"
                     ) -> str:
    """A content-validity result and its verdicts (``pv.content_verdicts``) as Markdown: the
    per-competency table, each item with its worst verdict, the verdicts that are not a
    pass, and the experts' comments (every text escaped)."""
    rank = {"fail": 3, "borderline": 2, "pass": 1, "not_applicable": 0}
    worst = (verdicts.assign(r=verdicts["verdict"].map(rank)).sort_values("r")
             .groupby("target")["verdict"].last())
    items = result.items.reset_index()
    items["verdict"] = items["item"].map(worst)
    out = [f"# {_md(title)}", "",
           f"{result.n_experts} experts, {result.n_items} items; S-CVI/Ave "
           f"{_cell(result.s_cvi_ave)}, S-CVI/UA {_cell(result.s_cvi_ua)}.", ""]
    if len(result.competencies):
        comps = result.competencies.reset_index()
        comps["verdict"] = comps["competency"].map(worst)
        out += ["## Competencies", "", _table(comps, [
            ("competency", "competency"), ("n_items", "items"), ("s_cvi_ave", "S-CVI/Ave"),
            ("s_cvi_ua", "S-CVI/UA"), ("mean_cvr", "mean CVR"),
            ("assignment_agreement", "assignment agreement"), ("verdict", "verdict")]), ""]
    out += ["## Items", "", _table(items, [
        ("item", "item"), ("competency", "competency"), ("i_cvi", "I-CVI"),
        ("kappa_star", "kappa*"), ("aiken_v", "Aiken's V"), ("cvr", "CVR"),
        ("assignment_agreement", "assigned"), ("modal_assignment", "most chose"),
        ("verdict", "verdict")]), ""]
    bad = verdicts[verdicts["verdict"] != "pass"]
    if len(bad):
        out += ["## Verdicts other than pass", "", _table(bad, [
            ("id", "id"), ("target", "target"), ("criterion", "criterion"),
            ("value", "value"), ("threshold", "threshold"), ("verdict", "verdict"),
            ("reason", "reason"), ("citation", "source")]), ""]
    if len(result.comments):
        out += ["## Experts' comments", "", _table(result.comments, [
            ("item", "item"), ("expert", "expert"), ("comment", "comment")]), ""]
    return "\n".join(out)


def render_markdown(rep: Any) -> str:
    c = rep.counts
    out = [f"# Validation report: {_md(rep.framework_name)}", "",
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
    out += [f"- **{_md(k.replace('_', ' '))}**: {_md(v)}" for k, v in rep.methods.items()]
    out += ["", "## Competencies", "",
            _table(rep.competencies, [("tier", "tier"), ("competency", "competency"),
                                      ("n_items", "items"), ("alpha", "alpha"),
                                      ("alpha_lower", "lower"), ("alpha_upper", "upper"),
                                      ("omega", "omega"), ("omega_lower", "lower"),
                                      ("omega_upper", "upper"), ("omega_ci", "interval"),
                                      ("ordinal_alpha", "ordinal alpha"),
                                      ("estimator", "estimator"), ("ave_tier", "AVE")]),
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
            "", *_fairness(rep), *_decisions(rep), *_skills_gaps(rep), *_panels(rep),
            "## Verdicts", "",
            _table(rep.verdicts, [("id", "id"), ("level", "level"), ("target", "target"),
                                  ("criterion", "criterion"), ("value", "value"),
                                  ("threshold", "threshold"), ("verdict", "verdict"),
                                  ("reason", "reason")]),
            "", "## Provenance", ""]
    prov = rep.provenance
    out += [f"- {k}: {_code(prov.get(k))}" for k in ("psychoval", "numpy", "scipy", "pandas",
                                                      "python", "input", "input_sha256",
                                                      "seed")]
    out += ["", "R calls:", ""] + [f"- {_md(k)}: {_code(v)}"
                                   for k, v in prov["r_calls"].items()]
    out += ["", "Time by step (s): " + ", ".join(f"{_md(k)} {v:.2f}"
                                                 for k, v in rep.timings.items()), ""]
    if rep.notes:
        out += ["## Notes", ""] + [f"- {_md(n)}" for n in rep.notes] + [""]
    return "\n".join(out)
