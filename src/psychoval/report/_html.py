"""HTML rendering of a ValidationReport: one self-contained page (inline CSS and SVG, no
scripts, no external resources). Every number comes from the report's tables; every label
and item text is escaped."""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

__all__ = ["render_html", "render_fragment"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;
background:#f6f7f9;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.3em;margin-top:1.6em;border-bottom:2px solid #d5dae1}
h3{font-size:1.1em;margin-top:1.2em}
section.card{background:#fff;border:1px solid #dfe3e8;border-radius:8px;padding:12px 18px;
margin:14px 0}
table{border-collapse:collapse;margin:8px 0;font-size:.9em}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.v{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.85em;font-weight:600}
.v-pass{background:#dff3e4;color:#1b6b34}.v-borderline{background:#fff1cc;color:#7a5600}
.v-fail{background:#fbdcdc;color:#9b1c1c}.v-not_applicable{background:#e8eaed;color:#4a5561}
.v-not_estimable{background:#e9ddf7;color:#5b2a86}
.small{font-size:.85em;color:#4a5561}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
"""

_COLORS = {"pass": "#2f9e55", "borderline": "#d9a400", "fail": "#c53030",
           "not_applicable": "#9aa5b1", "not_estimable": "#7e57c2"}


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _present(x: Any) -> bool:
    """A value to show (not None or NaN)."""
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _n(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "&ndash;"
    if isinstance(x, (bool,)):
        return "yes" if x else "no"
    if isinstance(x, (int,)) and not isinstance(x, bool):
        return str(x)
    try:
        return f"{float(x):.{digits}f}"
    except (TypeError, ValueError):
        return _e(x)


def _badge(v: str) -> str:
    label = {"not_applicable": "n/a", "not_estimable": "not estimable"}.get(v, v)
    return f"<span class='v v-{_e(v)}'>{_e(label)}</span>"


def _table(df: pd.DataFrame, columns: list[tuple[str, str]], *, verdict_col: str | None = None
           ) -> str:
    head = "".join(f"<th>{_e(label)}</th>" for _, label in columns)
    body = []
    for _, r in df.iterrows():
        cells = []
        for col, _ in columns:
            val = r.get(col)
            if col == verdict_col:
                cells.append(f"<td>{_badge(str(val))}</td>")
            elif isinstance(val, (float, int)) and not isinstance(val, bool):
                cells.append(f"<td class='num'>{_n(val)}</td>")
            elif val is None or (isinstance(val, float) and math.isnan(val)):
                cells.append("<td>&ndash;</td>")
            else:
                cells.append(f"<td>{_e(val)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _bar_chart(labels: list[str], values: list[float], lowers: list[float],
               uppers: list[float], threshold: float, title: str, *, lo: float = 0.0,
               hi: float = 1.0) -> str:
    """Horizontal bars with interval whiskers and a dashed threshold line (inline SVG)."""
    row_h, left, width = 22, 150, 360
    h = row_h * len(labels) + 40
    lo = min([lo] + [v for v in values + lowers if not _nan(v)])
    hi = max([hi] + [v for v in values + uppers if not _nan(v)])

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * width

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' role='img' width='{left + width + 60}' "
             f"height='{h}' viewBox='0 0 {left + width + 60} {h}'><title>{_e(title)}</title>"]
    zero = x(0.0)
    for j, (lab, v, a, b) in enumerate(zip(labels, values, lowers, uppers, strict=True)):
        y = 20 + j * row_h
        parts.append(f"<text x='{left - 6}' y='{y + 14}' font-size='12' text-anchor='end'>"
                     f"{_e(lab)}</text>")
        if _nan(v):
            continue
        bad = v < threshold
        color = _COLORS["fail"] if bad else _COLORS["pass"]
        x0, x1 = sorted((zero, x(v)))
        parts.append(f"<rect x='{x0:.1f}' y='{y + 3}' width='{max(x1 - x0, 1):.1f}' "
                     f"height='{row_h - 8}' fill='{color}' opacity='0.8'/>")
        if not _nan(a) and not _nan(b):
            parts.append(f"<line x1='{x(a):.1f}' x2='{x(b):.1f}' y1='{y + 10}' y2='{y + 10}' "
                         "stroke='#1d2733' stroke-width='1.5'/>")
        parts.append(f"<text x='{max(x1, x(b) if not _nan(b) else x1) + 4:.1f}' "
                     f"y='{y + 14}' font-size='11'>{_n(v, 2)}</text>")
    tx = x(threshold)
    parts.append(f"<line x1='{tx:.1f}' x2='{tx:.1f}' y1='14' y2='{h - 18}' stroke='#555' "
                 "stroke-dasharray='4 3'/>")
    parts.append(f"<text x='{tx:.1f}' y='{h - 4}' font-size='11' text-anchor='middle'>"
                 f"{_e(title)} threshold {threshold:g}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _overview(rep: Any) -> str:
    ov = rep.overview()
    out = []
    for tier, g in ov.groupby("tier", sort=False):
        name = rep.framework.tier(tier).name if tier in {t.id for t in rep.framework.tiers} \
            else tier
        out.append(f"<h3>{_e(name)} <span class='small'>({_e(tier)})</span></h3>")
        out.append(_table(g, [("competency", "competency"), ("pass", "pass"),
                              ("borderline", "borderline"), ("fail", "fail"),
                              ("not_applicable", "not applicable"),
                              ("not_estimable", "not estimable")]))
    return "".join(out)


def _threshold(rep: Any, name: str, default: float) -> float:
    c = rep.criteria.get(name)
    return c.threshold if c is not None else default


def render_fragment(rep: Any) -> str:
    """A compact HTML block for Jupyter (_repr_html_)."""
    c = rep.counts
    return (f"<div class='psychoval-report'><h4>Validation report: {_e(rep.framework_name)}"
            f"</h4><p>{rep.n_respondents} respondents &middot; {_badge('pass')} {c['pass']} "
            f"&middot; {_badge('borderline')} {c['borderline']} &middot; {_badge('fail')} "
            f"{c['fail']} &middot; {_badge('not_applicable')} {c['not_applicable']}"
            + (f" &middot; {_badge('not_estimable')} {c['not_estimable']}"
               if c["not_estimable"] else "") + "</p>"
            + _overview(rep)
            + "<h4>Recommended actions</h4>"
            + _table(rep.actions, [("id", "id"), ("target", "about"), ("text", "action"),
                                   ("verdicts", "because of")])
            + "</div>")


def render_html(rep: Any) -> str:
    fw = rep.framework
    c = rep.counts
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
           "<meta name='viewport' content='width=device-width, initial-scale=1'>",
           f"<title>Validation report: {_e(rep.framework_name)}</title>",
           f"<style>{_CSS}</style></head><body><main>",
           f"<h1>Validation report: {_e(rep.framework_name)}</h1>",
           f"<p class='small'>{rep.n_respondents} respondents &middot; {len(fw.tiers)} tiers "
           f"&middot; {len(fw.competencies)} competencies &middot; {len(fw.items)} items "
           f"&middot; psychoval {_e(rep.provenance['psychoval'])} &middot; created "
           f"{_e(rep.provenance['created'])}</p>"]
    # 1. overview
    out.append("<section class='card'><h2>Overview</h2>")
    out.append(f"<p>{_badge('pass')} {c['pass']} &nbsp; {_badge('borderline')} "
               f"{c['borderline']} &nbsp; {_badge('fail')} {c['fail']} &nbsp; "
               f"{_badge('not_applicable')} {c['not_applicable']} &nbsp; "
               f"{_badge('not_estimable')} {c['not_estimable']}</p>")
    out.append("<p class='small'>pass: meets the criterion; borderline: the interval of the "
               "estimate contains the threshold, or a companion rule softens the verdict; "
               "fail: misses it; n/a: the statistic does not exist here; not estimable: the "
               "model could not be estimated (the reason and the fix are in its verdict).</p>")
    out.append(_overview(rep))
    out.append("<h3>Recommended actions</h3>")
    if len(rep.actions):
        out.append(_table(rep.actions, [("id", "id"), ("target", "about"), ("text", "action"),
                                        ("verdicts", "because of verdicts")]))
    else:
        out.append("<p>No action needed.</p>")
    out.append("</section>")
    # 2. data quality
    dq = rep.data_quality
    out.append("<section class='card'><h2>Data quality</h2><table>")
    for key, label in (("n_respondents", "respondents"), ("n_columns", "columns examined"),
                       ("missing_fraction", "share of missing cells"),
                       ("n_complete", "respondents with every item answered"),
                       ("n_out_of_range", "out-of-range values"),
                       ("n_invalid_codes", "invalid codes"),
                       ("n_all_missing_rows", "respondents with no answer"),
                       ("n_duplicate_ids", "duplicated ids"),
                       ("min_pairwise_n", "smallest pairwise n"),
                       ("n_multivariate_outliers", "respondents flagged as multivariate "
                        "outliers (kept)")):
        out.append(f"<tr><th>{_e(label)}</th><td class='num'>{_n(dq.get(key))}</td></tr>")
    out.append("</table>")
    out.append(f"<p class='small'>{_e(dq.get('outlier_rule', ''))}</p>")
    for p in dq.get("problems", []):
        out.append(f"<p>{_badge('borderline')} {_e(p)}</p>")
    out.append("<h3>How missing data were handled</h3><table>")
    for k, v in rep.methods.items():
        out.append(f"<tr><th>{_e(k.replace('_', ' '))}</th><td>{_e(v)}</td></tr>")
    out.append("</table></section>")
    # 3. tiers
    for t in fw.tiers:
        out.append(f"<section class='card'><h2>Tier: {_e(t.name)} "
                   f"<span class='small'>({_e(t.id)})</span></h2>")
        comp = rep.competencies[rep.competencies["tier"] == t.id]
        out.append(_bar_chart(list(comp["competency"]), list(comp["omega"]),
                              list(comp["omega_lower"]), list(comp["omega_upper"]),
                              _threshold(rep, "omega", 0.70), "omega"))
        out.append(_table(comp, [("competency", "competency"), ("n_items", "items"),
                                 ("alpha", "alpha"), ("alpha_lower", "lower"),
                                 ("alpha_upper", "upper"), ("omega", "omega"),
                                 ("omega_lower", "lower"), ("omega_upper", "upper"),
                                 ("ave_tier", "AVE"), ("cr_tier", "CR")]))
        f = rep.fit[(rep.fit["level"] == "tier") & (rep.fit["target"] == t.id)]
        if len(f):
            out.append("<h3>Tier models</h3>")
            out.append(_fit_table(f))
        trow = rep.tiers[rep.tiers["tier"] == t.id]
        if len(trow):
            r = trow.iloc[0]
            out.append(f"<p>Second-order model: {_e(r['second_order'])}"
                       + (f"; &Delta;&chi;&sup2; = {_n(r['chisq_diff'])}, df = "
                          f"{_n(r['df_diff'], 0)}, p = {_n(r['pvalue'], 4)} "
                          f"({_e(r['method'])})" if not _nan(r.get('pvalue')) else "")
                       + "</p>")
            if not _nan(r.get("omega_h")):
                out.append(f"<p>Omega hierarchical {_n(r['omega_h'])} (omega total "
                           f"{_n(r['omega_total'])}, explained common variance "
                           f"{_n(r['ecv'])}): the share of the tier score's variance due to "
                           f"one tier-wide factor. {_e(r['omega_note'])}.</p>")
        pairs = rep.discriminant[rep.discriminant["tier"] == t.id]
        if len(pairs):
            out.append("<h3>Are the competencies distinct?</h3>")
            out.append(_table(pairs, [("competency_a", "competency"),
                                      ("competency_b", "competency"),
                                      ("cor_lv", "latent correlation"), ("htmt", "HTMT"),
                                      ("htmt2", "HTMT2")]))
        tv = rep.verdicts[(rep.verdicts["tier"] == t.id) & (rep.verdicts["level"] == "tier")]
        if len(tv):
            out.append(_verdict_table(tv))
        out.append("</section>")
        # competencies of the tier
        for cp in t.competencies:
            out.append(_competency_section(rep, cp))
    # 4. framework
    out.append("<section class='card'><h2>The whole framework</h2>")
    f = rep.fit[rep.fit["level"] == "framework"]
    if len(f):
        out.append(_fit_table(f))
    d = rep.dimensionality
    if d.get("available"):
        out.append(f"<p>Parallel analysis suggests {_n(d['n_factors'])} factors "
                   f"({_n(d['n_components'])} components) for {_n(d['n_competencies'])} "
                   f"competencies in {_n(d['n_tiers'])} tiers.</p>")
    else:
        out.append("<p>Parallel analysis was not run.</p>")
    out.append("</section>")
    out.append(_fairness_section(rep))
    out.append(_decisions_section(rep))
    out.append(_skills_gap_section(rep))
    out.append(_content_section(rep))
    out.append(_standard_setting_section(rep))
    # 5. provenance
    out.append("<section class='card'><h2>Provenance</h2><table>")
    prov = rep.provenance
    for k in ("psychoval", "numpy", "scipy", "pandas", "python", "input", "input_sha256",
              "seed", "created"):
        out.append(f"<tr><th>{_e(k)}</th><td>{_e(prov.get(k))}</td></tr>")
    out.append("</table><details><summary>Options</summary><table>")
    for k, v in rep.options.items():
        out.append(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>")
    out.append("</table></details><details><summary>R calls that reproduce each statistic"
               "</summary><table>")
    for k, v in prov.get("r_calls", {}).items():
        out.append(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>")
    out.append("</table></details><details><summary>Time by step (seconds)</summary><table>")
    for k, v in rep.timings.items():
        out.append(f"<tr><th>{_e(k)}</th><td class='num'>{_n(v)}</td></tr>")
    out.append("</table></details>")
    if rep.notes:
        out.append("<details><summary>Notes and warnings</summary><ul>")
        out += [f"<li>{_e(n)}</li>" for n in rep.notes]
        out.append("</ul></details>")
    out.append("<details><summary>Criteria and their sources</summary>")
    out.append(_table(rep.criteria.to_frame(), [("name", "criterion"),
                                                ("statistic", "statistic"),
                                                ("direction", "fails when"),
                                                ("threshold", "threshold"),
                                                ("citation", "source")]))
    out.append("</details></section></main></body></html>\n")
    return "".join(out)


def _fairness_section(rep: Any) -> str:
    """Measurement invariance per group column and tier, the DIF items, dMACS and adverse
    impact (information), with the invariance verdicts."""
    out = ["<section class='card'><h2>Fairness</h2>"]
    if not len(rep.fairness):
        return out[0] + "<p>No group column in the framework: not run.</p></section>"
    out.append("<p>Scalar (or partial scalar) invariance is needed before comparing "
               "competency means across groups, metric invariance before comparing their "
               "correlations (Standards 2014, ch. 3; Vandenberg &amp; Lance 2000; Putnick "
               "&amp; Bornstein 2016).</p>")
    out.append(_table(rep.fairness, [
        ("group_column", "group"), ("tier", "tier"), ("estimator", "estimator"),
        ("highest", "highest level"), ("compare_correlations", "compare correlations"),
        ("compare_means", "compare means"), ("dif_items", "DIF items"),
        ("max_dmacs_item", "largest dMACS"), ("max_dmacs", "dMACS"), ("note", "note")]))
    v = rep.verdicts[rep.verdicts["criterion"].isin(["invariance_metric",
                                                     "invariance_scalar"])]
    if len(v):
        out.append(_verdict_table(v))
    out.append("<details><summary>Invariance ladders</summary>")
    out.append(_table(rep.invariance, [
        ("group_column", "group"), ("tier", "tier"), ("level", "level"),
        ("estimator", "estimator"), ("chisq_diff", "chi-square diff"), ("df_diff", "df"),
        ("pvalue_diff", "p"), ("delta_cfi", "delta CFI"), ("delta_rmsea", "delta RMSEA"),
        ("delta_srmr", "delta SRMR"), ("decision", "decision"), ("reason", "by")]))
    out.append("</details>")
    if len(rep.dmacs):
        top = rep.dmacs.sort_values("dmacs", ascending=False).head(10)
        out.append("<details><summary>dMACS, largest 10 (information)</summary>")
        out.append(_table(top, [("group_column", "group"), ("tier", "tier"),
                                ("item", "item"), ("focal", "focal"),
                                ("reference", "reference"), ("dmacs", "dMACS"),
                                ("mean_difference", "mean difference")]))
        out.append("</details>")
    if len(rep.adverse_impact):
        out.append("<h3>Adverse impact at the cut scores (information; 29 CFR "
                   "1607.4(D))</h3>")
        out.append(_table(rep.adverse_impact, [
            ("group_column", "group column"), ("competency", "competency"),
            ("cut_score", "cut"), ("group", "group"), ("n", "n"),
            ("pass_rate", "pass rate"), ("impact_ratio", "impact ratio"),
            ("four_fifths", "below 4/5"), ("pvalue_fisher", "p (Fisher)")]))
    out.append("</section>")
    return "".join(out)


def _decisions_section(rep: Any) -> str:
    """Classification at the competencies' cut scores and the added value of each
    competency score over its tier's total, with their verdicts."""
    out = ["<section class='card'><h2>Decisions on scores</h2>"]
    if len(rep.decisions):
        out.append("<p>Expected share of respondents on the right side of each cut score "
                   "(accuracy) and on the same side on a parallel form (consistency); "
                   "Standards (2014) 2.14 and 2.16.</p>")
        out.append(_table(rep.decisions, [
            ("level", "level"), ("tier", "tier"), ("competency", "competency"),
            ("method", "method"), ("cut_score", "cut"),
            ("cut_raw", "cut (summed)"), ("n_used", "n"), ("pass_rate", "pass rate"),
            ("accuracy", "accuracy"), ("consistency", "consistency"), ("kappa", "kappa"),
            ("csem_at_cut", "SEM at cut"), ("note", "note")]))
    else:
        out.append("<p>No cut scores in the framework: classification not run (give a "
                   "competency a <code>cut_score</code>).</p>")
    if len(rep.subscores):
        out.append("<h3>Do competency scores add value over the tier score? (Haberman "
                   "2008)</h3>")
        out.append(_table(rep.subscores, [
            ("tier", "tier"), ("competency", "competency"), ("alpha", "alpha"),
            ("prmse_s", "PRMSE own"), ("prmse_x", "PRMSE tier total"),
            ("prmse_sx", "PRMSE both"), ("decision", "decision")]))
    if len(rep.irt_items) and rep.irt_items["s_x2"].notna().any():
        out.append("<details><summary>IRT item fit (S-X2; 2PL for 0/1 items, GRM "
                   "otherwise)</summary>")
        out.append(_table(rep.irt_items, [
            ("item", "item"), ("competency", "competency"), ("model", "model"),
            ("slope", "slope"), ("location", "location"), ("s_x2", "S-X2"), ("df", "df"),
            ("pvalue", "p"), ("pvalue_holm", "p (Holm)"), ("note", "note")]))
        out.append("</details>")
    v = rep.verdicts[rep.verdicts["criterion"].isin(
        ["classification_accuracy", "classification_consistency", "subscore_value"])]
    if len(v):
        out.append(_verdict_table(v))
    out.append("</section>")
    return "".join(out)


def _skills_gap_section(rep: Any) -> str:
    """Share of each role below its target per competency as a heat map (a shaded table:
    darker is more people below; competencies not used are greyed with the reason), and the
    ranked training needs."""
    g = rep.skills_gap
    out = ["<section class='card'><h2>Skills gaps</h2>"]
    if not len(g):
        return out[0] + ("<p>No roles in the framework: skills gaps not computed (declare "
                         "<code>roles</code>: role -&gt; competency targets).</p></section>")
    out.append("<p>Share of each role whose whole score interval (score &plusmn; 1.96 SEM) "
               "lies below the role's target. Darker cells: more people below. Grey: the "
               "competency failed validation, so its gaps are not findings.</p>")
    roles = list(dict.fromkeys(g["role"]))
    comps = list(dict.fromkeys(g["competency"]))
    cell = {(r.competency, r.role): r for r in g.itertuples()}
    head = "<th>competency</th>" + "".join(f"<th>{_e(r)}</th>" for r in roles)
    body = []
    for c in comps:
        cells = [f"<td>{_e(c)}</td>"]
        for r in roles:
            x = cell.get((c, r))
            if x is None:
                cells.append("<td>&ndash;</td>")
            elif not x.used:
                cells.append(f"<td class='na' title='{_e(x.reason)}' "
                             "style='background:#e0e0e0;color:#666'>not used</td>")
            else:
                v = float(x.share_below)
                shade = 0 if math.isnan(v) else min(1.0, v)
                ink = "#fff" if shade > 0.5 else "#000"
                cells.append(f"<td class='num' style='background:rgba(8,69,148,{shade:.2f});"
                             f"color:{ink}' title='target {_n(x.target)}, mean gap "
                             f"{_n(x.mean_gap)}'>{_n(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
    unused = g[~g["used"].astype(bool)].drop_duplicates("competency")
    if len(unused):
        out.append("<p>Not used: " + "; ".join(
            f"{_e(r.competency)} ({_e(r.reason)})" for r in unused.itertuples()) + "</p>")
    if len(rep.training_needs):
        out.append("<h3>Training needs (people below target x their mean shortfall)</h3>")
        out.append(_table(rep.training_needs.head(10), [
            ("rank", "rank"), ("role", "role"), ("competency", "competency"),
            ("tier", "tier"), ("n_below", "n below"), ("mean_shortfall", "mean shortfall"),
            ("need", "need")]))
    out.append("</section>")
    return "".join(out)


_CONTENT = ["i_cvi", "i_cvi_small_panel", "kappa_star", "aiken_v", "cvr",
            "assignment_agreement", "s_cvi_ave"]


def _content_section(rep: Any) -> str:
    """The expert panel's content validity: per-item indices with the worst verdict, per
    competency, the verdicts that are not a pass, and the experts' comments (escaped)."""
    out = ["<section class='card'><h2>Content validity</h2>"]
    if not len(rep.content_items):
        return out[0] + f"<p>{_e(rep.methods.get('content_validity', ''))}</p></section>"
    out.append(f"<p class='small'>{_e(rep.methods['content_validity'])}</p>")
    out.append(_table(rep.content_competencies, [
        ("tier", "tier"), ("competency", "competency"), ("n_items", "items"),
        ("s_cvi_ave", "S-CVI/Ave"), ("s_cvi_ua", "S-CVI/UA"), ("mean_kappa_star", "mean kappa*"),
        ("mean_aiken_v", "mean V"), ("mean_cvr", "mean CVR"),
        ("assignment_agreement", "assignment agreement"), ("verdict", "verdict")],
        verdict_col="verdict"))
    out.append("<details><summary>Per item</summary>")
    out.append(_table(rep.content_items, [
        ("item", "item"), ("competency", "competency"), ("n_experts", "experts"),
        ("i_cvi", "I-CVI"), ("kappa_star", "kappa*"), ("kappa_band", "band"),
        ("aiken_v", "Aiken's V"), ("aiken_lower", "lower"), ("aiken_upper", "upper"),
        ("cvr", "CVR"), ("cvr_critical", "critical"), ("assignment_agreement", "assigned"),
        ("modal_assignment", "most chose"), ("verdict", "verdict")], verdict_col="verdict"))
    out.append("</details>")
    v = rep.verdicts[rep.verdicts["criterion"].isin(_CONTENT)
                     & (rep.verdicts["verdict"] != "pass")]
    if len(v):
        out.append(_verdict_table(v))
    if len(rep.content_comments):
        out.append("<h3>Experts' comments</h3>")
        out.append(_table(rep.content_comments, [("item", "item"), ("expert", "expert"),
                                                 ("comment", "comment")]))
    out.append("</section>")
    return "".join(out)


def _standard_setting_section(rep: Any) -> str:
    """Angoff cut scores per level and round (SE across judges, change, ICC, outlying
    judges) and their impact overall and by group."""
    out = ["<section class='card'><h2>Standard setting</h2>"]
    if not len(rep.cut_scores):
        return out[0] + f"<p>{_e(rep.methods.get('standard_setting', ''))}</p></section>"
    out.append(f"<p class='small'>{_e(rep.methods['standard_setting'])}</p>")
    out.append(_table(rep.cut_scores, [
        ("target", "target"), ("level", "level"), ("round", "round"),
        ("n_judges", "judges"), ("cut", "cut (summed)"), ("se", "SE"),
        ("se_items_random", "SE (items random)"), ("cut_mean_item", "cut per item"),
        ("change", "change"), ("change_pvalue", "p (change)"), ("icc2_1", "ICC(2,1)"),
        ("icc2_k", "ICC(2,k)"), ("outlying_judges", "outlying judges")]))
    if len(rep.impact):
        out.append("<h3>Impact: share at or above each cut</h3>")
        wide = rep.impact.pivot_table(index="group", columns="level",
                                      values="share_at_or_above", sort=False).reset_index()
        wide.columns.name = None
        out.append(_table(wide, [(c, str(c)) for c in wide.columns]))
    out.append("</section>")
    return "".join(out)


def _fit_table(f: pd.DataFrame) -> str:
    return _table(f, [("model", "model"), ("estimator", "estimator"), ("missing", "missing"),
                      ("n_obs", "n"), ("converged", "converged"), ("status", "status"),
                      ("chisq", "chi-square"), ("df", "df"),
                      ("cfi", "CFI"), ("tli", "TLI"), ("rmsea", "RMSEA"), ("srmr", "SRMR"),
                      ("robust", "robust"), ("approximate", "approximate"), ("note", "note")])


def _verdict_table(v: pd.DataFrame) -> str:
    return _table(v, [("id", "id"), ("target", "about"), ("criterion", "criterion"),
                      ("verdict", "verdict"), ("reason", "reason")], verdict_col="verdict")


def _competency_section(rep: Any, cp: Any) -> str:
    out = [f"<section class='card'><h2>Competency: {_e(cp.name)} "
           f"<span class='small'>({_e(cp.id)}, {len(cp.items)} items)</span></h2>"]
    row = rep.competencies[rep.competencies["competency"] == cp.id]
    if len(row):
        r = row.iloc[0]
        out.append(f"<p>alpha {_n(r['alpha'])} ({_n(r['alpha_lower'])} to "
                   f"{_n(r['alpha_upper'])}); omega {_n(r['omega'])} ({_n(r['omega_lower'])} "
                   f"to {_n(r['omega_upper'])}"
                   + ({"delta": ", delta-method interval; categorical omega",
                       "bootstrap": ", bootstrap interval"}.get(r.get("omega_ci"), "")
                      if isinstance(r.get("omega_ci"), str) else "")
                   + ")" + (f"; ordinal alpha {_n(r['ordinal_alpha'])} "
                            f"({_n(r['ordinal_alpha_lower'])} to "
                            f"{_n(r['ordinal_alpha_upper'])}, of the latent responses)"
                            if _present(r.get("ordinal_alpha")) else "")
                   + f"; model {_e(r.get('identification', ''))}; "
                   f"estimator {_e(r.get('estimator', ''))}"
                   + ("; fit indices approximate (ML on dichotomous items)"
                      if bool(r.get("approximate_fit")) else "") + "</p>")
    items = rep.items[rep.items["competency"] == cp.id]
    out.append(_bar_chart(list(items["item"]), list(items["std_loading"]),
                          list(items["loading_lower"]), list(items["loading_upper"]),
                          _threshold(rep, "loading", 0.40), "standardized loading",
                          lo=min(0.0, float(items["std_loading"].min()) if len(items) else 0)))
    out.append(_table(items, [("item", "item"), ("text", "text"), ("type", "type"),
                              ("mean", "mean"), ("sd", "sd"), ("r_drop", "item-rest r"),
                              ("alpha_if_dropped", "alpha if dropped"),
                              ("std_loading", "loading"), ("verdict", "verdict"),
                              ("flags", "flags")], verdict_col="verdict"))
    f = rep.fit[(rep.fit["level"] == "competency") & (rep.fit["target"] == cp.id)]
    if len(f):
        out.append(_fit_table(f))
    rr = rep.raters[rep.raters["competency"] == cp.id]
    if len(rr):
        out.append("<h3>Rater agreement</h3>")
        out.append(_table(rr, [("item", "item"), ("n_raters", "raters"),
                               ("icc2", "ICC(2,1)"), ("icc2k", "ICC(2,k)"),
                               ("icc2k_lower", "lower"), ("icc2k_upper", "upper")]))
    v = rep.verdicts[rep.verdicts["competency"] == cp.id]
    bad = v[v["verdict"] != "pass"]
    out.append(f"<details><summary>Verdicts ({len(v)}; {len(bad)} not passed)</summary>")
    out.append(_verdict_table(v))
    out.append("</details></section>")
    return "".join(out)
