"""HTML rendering of a ValidationReport: one self-contained page (inline CSS and SVG, no
scripts, no external resources). Every number comes from the report's tables; every label
and item text is escaped.

The page opens with a table of contents (every section's heading anchored); its print rules
(A4, a page break before each major section, collapsed sections printed open) serve the
committee that reads it on paper. Verdict colours come from ``_palette`` (Okabe-Ito); the
charts (bars coloured by verdict, the tier path diagram, loading heat maps, scree with
parallel analysis) are drawn by ``_svg``. lavaan's option codes are printed as words, counts
as integers, booleans as yes / no.

Length: one renderer per section of the report, in the page's reading order (overview, data
quality, tiers and their competencies, framework, fairness, decisions, skills gaps, content
validity, standard setting, provenance) over a handful of shared cell and table helpers;
the SVG drawing lives in ``_svg``.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from psychoval.report import _palette, _svg

__all__ = ["render_html", "render_fragment"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;
background:#f6f7f9;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.3em;margin-top:1.6em;border-bottom:2px solid #d5dae1}
h3{font-size:1.1em;margin-top:1.2em}
section.card{background:#fff;border:1px solid #dfe3e8;border-radius:8px;padding:12px 18px;
margin:14px 0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:8px 0;font-size:.9em}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#eef1f4}tbody th{font-weight:600;background:#f7f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.zero{color:#8a949e}
.small{font-size:.85em;color:#4a5561}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
abbr{text-decoration:none}
nav.toc{background:#fff;border:1px solid #dfe3e8;border-radius:8px;padding:8px 18px}
nav.toc>ol{margin:.3em 0;padding-left:1.6em;columns:2 18em}nav.toc li{margin:.1em 0}
nav.toc ul{margin:0;padding-left:1.2em;font-size:.9em;list-style:circle}
nav.toc>ol>li{break-inside:avoid}
nav.toc a{color:#0b4f8a}
figure.chart{margin:10px 0}figure.chart svg{display:block}
figcaption{font-size:.85em;color:#4a5561}
.alt ul{font-size:.85em;columns:2 18em}
@page{size:A4;margin:14mm 12mm}
@media print{
body{background:#fff;font-size:9.5pt;-webkit-print-color-adjust:exact;print-color-adjust:exact}
main{max-width:none;padding:0}
section.card{border:none;border-radius:0;padding:0;margin:0 0 8px 0}
section.major{break-before:page}nav.toc+section.major{break-before:auto}
h2,h3,figure,tr{break-inside:avoid;break-after:avoid}
h2,h3{break-after:avoid}
thead{display:table-header-group}
table{font-size:8pt;width:100%}th,td{padding:2px 4px;overflow-wrap:break-word}
table:has(th:nth-child(10)) :is(th,td){overflow-wrap:anywhere}
.scroll{overflow:visible}
details::details-content{content-visibility:visible;display:block}
details>summary{list-style:none;cursor:auto}details>summary::-webkit-details-marker{display:none}
nav.toc{border:none;padding:0}nav.toc a{color:#000;text-decoration:none}
figure.chart svg{max-width:100%!important;max-height:230mm}
.alt{display:none}
}
""" + _palette.CSS


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _present(x: Any) -> bool:
    """A value to show (not None or NaN)."""
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _n(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "&ndash;"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    try:
        return f"{float(x):.{digits}f}"
    except (TypeError, ValueError):
        return _e(x)


# lavaan's option codes, as words (the code stays in the tooltip)
LAVAAN_WORDS = {
    "satorra.bentler.2001": "scaled difference test (Satorra &amp; Bentler 2001)",
    "satorra.bentler.2010": "scaled difference test (Satorra &amp; Bentler 2010)",
    "satorra.2000": "scaled-shifted difference test (Satorra 2000)",
    "yuan.bentler.mplus": "Yuan-Bentler scaled test (Mplus variant)",
    "yuan.bentler": "Yuan-Bentler scaled test",
    "satorra.bentler": "Satorra-Bentler scaled test",
    "scaled.shifted": "scaled and shifted test",
    "mean.var.adjusted": "mean- and variance-adjusted test",
    "robust.huber.white": "robust (Huber-White sandwich) standard errors",
    "robust.sem": "robust (sandwich) standard errors",
}
_CODE = re.compile(r"(?<![\w.])(?:"
                   + "|".join(re.escape(k) for k in sorted(LAVAAN_WORDS, key=len, reverse=True))
                   + r")(?!\w|\.\w)")


def _words(escaped: str) -> str:
    """Escaped text with lavaan's codes (``satorra.bentler.2001``) put into words."""
    return _CODE.sub(lambda m: f"<abbr title='{m.group(0)}'>{LAVAAN_WORDS[m.group(0)]}</abbr>",
                     escaped)


def _t(x: Any) -> str:
    """A text cell: escaped, lavaan codes in words."""
    return _words(_e(x))


def _badge(v: str) -> str:
    label = _palette.LABELS.get(v, v)
    sym = _palette.SYMBOLS.get(v, "")
    return (f"<span class='{_palette.badge_class(v)}'><span aria-hidden='true'>{_e(sym)}"
            f"</span> {_e(label)}</span>")


# columns that hold counts (degrees of freedom, n): shown as integers
INT_COLUMNS = frozenset({"df", "df_diff", "n", "n_obs", "n_items", "n_used", "n_judges",
                         "n_raters", "n_experts", "n_below", "rank", "round", "n_groups",
                         "n_competencies", "pass", "borderline", "fail", "not_applicable",
                         "not_estimable"})


def _cell(col: str, val: Any) -> str:
    if val is None or (isinstance(val, float) and math.isnan(val)):
        return "<td>&ndash;</td>"
    if isinstance(val, (bool, np.bool_)):
        return f"<td>{'yes' if val else 'no'}</td>"
    if isinstance(val, (float, int, np.floating, np.integer)):
        if col in INT_COLUMNS and float(val).is_integer():
            return f"<td class='num'>{int(val)}</td>"
        return f"<td class='num'>{_n(val)}</td>"
    if str(val) in ("True", "False"):
        return f"<td>{'yes' if str(val) == 'True' else 'no'}</td>"
    return f"<td>{_t(val)}</td>"


def _table(df: pd.DataFrame, columns: list[tuple[str, str]], *, verdict_col: str | None = None,
           caption: str | None = None) -> str:
    head = "".join(f"<th scope='col'>{_e(label)}</th>" for _, label in columns)
    body = []
    for _, r in df.iterrows():
        cells = []
        for col, _ in columns:
            val = r.get(col)
            if col == verdict_col:
                cells.append(f"<td>{_badge(str(val))}</td>")
            else:
                cells.append(_cell(col, val))
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption class='small'>{_e(caption)}</caption>" if caption else ""
    return (f"<div class='scroll'><table>{cap}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _kv(rows: list[tuple[str, str]]) -> str:
    """A two-column table of labelled values: the label is the row's header."""
    return ("<div class='scroll'><table><tbody>"
            + "".join(f"<tr><th scope='row'>{_e(k)}</th>{v}</tr>" for k, v in rows)
            + "</tbody></table></div>")


def _verdict_of(rep: Any, criterion: str, targets: list[str]) -> list[str]:
    """The verdict of ``criterion`` about each target (worst when several; "pass" when
    there is none, "not_applicable" for a target without any)."""
    v = rep.verdicts[rep.verdicts["criterion"] == criterion]
    order = {"fail": 0, "not_estimable": 1, "borderline": 2, "pass": 3, "not_applicable": 4}
    out = []
    for t in targets:
        got = sorted(v.loc[v["target"] == t, "verdict"], key=lambda x: order.get(x, 5))
        out.append(got[0] if got else "not_applicable")
    return out


def _nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _count(v: str, k: int) -> str:
    """An overview count: coloured as its verdict when not zero."""
    if not k:
        return "<td class='num zero'>0</td>"
    return f"<td class='num'><span class='{_palette.badge_class(v)}'>{int(k)}</span></td>"


def _overview(rep: Any) -> str:
    ov = rep.overview()
    out = []
    kinds = list(_palette.COLORS)
    head = ("<th scope='col'>competency</th>"
            + "".join(f"<th scope='col'>{_badge(k)}</th>" for k in kinds))
    for tier, g in ov.groupby("tier", sort=False):
        name = rep.framework.tier(tier).name if tier in {t.id for t in rep.framework.tiers} \
            else tier
        out.append(f"<h3>{_e(name)} <span class='small'>({_e(tier)})</span></h3>")
        rows = []
        for _, r in g.iterrows():
            comp = "tier-wide criteria" if r["competency"] == "(tier)" else r["competency"]
            rows.append(f"<tr><th scope='row'>{_e(comp)}</th>"
                        + "".join(_count(k, r[k]) for k in kinds) + "</tr>")
        out.append(f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>"
                   f"{''.join(rows)}</tbody></table></div>")
    return "".join(out)


def _threshold(rep: Any, name: str, default: float) -> float:
    c = rep.criteria.get(name)
    return c.threshold if c is not None else default


def _counts_line(c: dict[str, int], sep: str = " &middot; ") -> str:
    return sep.join(f"{_badge(k)} {c[k]}" for k in _palette.COLORS)


def render_fragment(rep: Any) -> str:
    """A compact HTML block for Jupyter (_repr_html_)."""
    c = rep.counts
    return (f"<div class='psychoval-report'><style>{_palette.CSS}</style>"
            f"<h4>Validation report: {_e(rep.framework_name)}"
            f"</h4><p>{rep.n_respondents} respondents &middot; {_counts_line(c)}</p>"
            + _overview(rep)
            + "<h4>Recommended actions</h4>"
            + _table(rep.actions, [("id", "id"), ("target", "about"), ("text", "action"),
                                   ("verdicts", "because of")])
            + "</div>")


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", html.unescape(re.sub(r"<[^>]+>", "", text)).lower())
    base = base.strip("-")[:40] or "section"
    slug, k = base, 2
    while slug in used:
        slug, k = f"{base}-{k}", k + 1
    used.add(slug)
    return slug


_H2 = re.compile(r"<section class='card'><h2>(.*?)</h2>")


def _with_toc(body: str) -> tuple[str, str]:
    """Give every section's heading an anchor and return (body, table of contents); tier
    and top-level sections are major (a page break before each when printed), competencies
    are listed under their tier."""
    used: set[str] = set()
    entries: list[tuple[bool, str, str]] = []

    def anchor(m: re.Match[str]) -> str:
        title = m.group(1)
        slug = _slug(title, used)
        sub = title.startswith("Competency:")
        plain = re.sub(r"<span class='small'>.*?</span>", "", title).strip()
        entries.append((sub, slug, plain))
        cls = "card" if sub else "card major"
        return f"<section class='{cls}' aria-labelledby='{slug}'><h2 id='{slug}'>{title}</h2>"

    body = _H2.sub(anchor, body)
    toc = ["<nav class='toc' aria-labelledby='contents'><h2 id='contents'>Contents</h2><ol>"]
    for j, (sub, slug, plain) in enumerate(entries):
        link = f"<a href='#{slug}'>{plain}</a>"
        if sub:
            first = j == 0 or not entries[j - 1][0]
            last = j + 1 == len(entries) or not entries[j + 1][0]
            toc.append(("<ul>" if first else "") + f"<li>{link}</li>"
                       + ("</ul></li>" if last else ""))
        else:
            toc.append(f"<li>{link}" + ("" if j + 1 < len(entries) and entries[j + 1][0]
                                        else "</li>"))
    toc.append("</ol></nav>")
    return body, "".join(toc)


def render_html(rep: Any) -> str:
    fw = rep.framework
    c = rep.counts
    head = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>Validation report: {_e(rep.framework_name)}</title>",
            f"<style>{_CSS}</style></head><body><main>",
            f"<h1>Validation report: {_e(rep.framework_name)}</h1>",
            f"<p class='small'>{rep.n_respondents} respondents &middot; {len(fw.tiers)} tiers "
            f"&middot; {len(fw.competencies)} competencies &middot; {len(fw.items)} items "
            f"&middot; psychoval {_e(rep.provenance['psychoval'])} &middot; created "
            f"{_e(rep.provenance['created'])}</p>"]
    out: list[str] = []
    # 1. overview
    out.append("<section class='card'><h2>Overview</h2>")
    out.append(f"<p>{_counts_line(c, ' &nbsp; ')}</p>")
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
    out.append("<section class='card'><h2>Data quality</h2>")
    out.append(_kv([(label, f"<td class='num'>{_n(dq.get(key))}</td>") for key, label in (
        ("n_respondents", "respondents"), ("n_columns", "columns examined"),
        ("missing_fraction", "share of missing cells"),
        ("n_complete", "respondents with every item answered"),
        ("n_out_of_range", "out-of-range values"), ("n_invalid_codes", "invalid codes"),
        ("n_all_missing_rows", "respondents with no answer"),
        ("n_duplicate_ids", "duplicated ids"), ("min_pairwise_n", "smallest pairwise n"),
        ("n_multivariate_outliers", "respondents flagged as multivariate outliers (kept)"))]))
    out.append(f"<p class='small'>{_e(dq.get('outlier_rule', ''))}</p>")
    for p in dq.get("problems", []):
        out.append(f"<p>{_badge('borderline')} {_e(p)}</p>")
    out.append("<h3>How missing data were handled</h3>")
    out.append(_kv([(k.replace("_", " "), f"<td>{_t(v)}</td>")
                    for k, v in rep.methods.items()]))
    out.append("</section>")
    # 3. tiers
    for t in fw.tiers:
        out.append(_tier_section(rep, t))
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
        if d.get("eigenvalues"):
            out.append(_svg.scree(list(d["eigenvalues"]), list(d.get("thresholds", [])),
                                  int(d["n_factors"]), "Scree plot with parallel analysis"))
    else:
        out.append("<p>Parallel analysis was not run.</p>")
    out.append("</section>")
    out.append(_fairness_section(rep))
    out.append(_decisions_section(rep))
    out.append(_skills_gap_section(rep))
    out.append(_content_section(rep))
    out.append(_standard_setting_section(rep))
    # 5. provenance
    out.append("<section class='card'><h2>Provenance</h2>")
    prov = rep.provenance
    out.append(_kv([(k, f"<td>{_e(prov.get(k))}</td>") for k in (
        "psychoval", "numpy", "scipy", "pandas", "python", "input", "input_sha256", "seed",
        "created")]))
    out.append("<details><summary>Options</summary>")
    out.append(_kv([(k, _cell(k, v)) for k, v in rep.options.items()]))
    out.append("</details><details><summary>R calls that reproduce each statistic</summary>")
    out.append(_kv([(k, f"<td><code>{_e(v)}</code></td>")
                    for k, v in prov.get("r_calls", {}).items()]))
    out.append("</details><details><summary>Time by step (seconds)</summary>")
    out.append(_kv([(k, f"<td class='num'>{_n(v)}</td>") for k, v in rep.timings.items()]))
    out.append("</details>")
    if rep.notes:
        out.append("<details><summary>Notes and warnings</summary><ul>")
        out += [f"<li>{_t(n)}</li>" for n in rep.notes]
        out.append("</ul></details>")
    out.append("<details><summary>Criteria and their sources</summary>")
    out.append(_table(rep.criteria.to_frame(), [("name", "criterion"),
                                                ("statistic", "statistic"),
                                                ("direction", "fails when"),
                                                ("threshold", "threshold"),
                                                ("citation", "source")]))
    out.append("</details></section>")
    body, toc = _with_toc("".join(out))
    return "".join(head) + toc + body + "</main></body></html>\n"


def _int(x: Any) -> str:
    """A count (degrees of freedom) as an integer when it is one."""
    return str(int(x)) if _present(x) and float(x).is_integer() else _n(x)


_WORST = ["fail", "not_estimable", "borderline", "pass", "not_applicable"]


def _tier_section(rep: Any, t: Any) -> str:
    """A tier: omega per competency, the path diagram and loading heat map of its model,
    its fit, the second-order test, omega hierarchical and discriminant validity."""
    out = [f"<section class='card'><h2>Tier: {_e(t.name)} "
           f"<span class='small'>({_e(t.id)})</span></h2>"]
    comp = rep.competencies[rep.competencies["tier"] == t.id]
    ids = list(comp["competency"])
    out.append(_svg.bar_chart(ids, list(comp["omega"]), list(comp["omega_lower"]),
                              list(comp["omega_upper"]), _verdict_of(rep, "omega", ids),
                              _threshold(rep, "omega", 0.70), f"Omega of the {t.name} "
                              "competencies"))
    out.append(_table(comp, [("competency", "competency"), ("n_items", "items"),
                             ("alpha", "alpha"), ("alpha_lower", "alpha lower"),
                             ("alpha_upper", "alpha upper"), ("omega", "omega"),
                             ("omega_lower", "omega lower"), ("omega_upper", "omega upper"),
                             ("ave_tier", "AVE"), ("cr_tier", "CR")]))
    out.append(_tier_diagrams(rep, t))
    f = rep.fit[(rep.fit["level"] == "tier") & (rep.fit["target"] == t.id)]
    if len(f):
        out.append(f"<h3>Fit of the {_e(t.name)} tier models</h3>")
        out.append(_fit_table(f))
    trow = rep.tiers[rep.tiers["tier"] == t.id]
    if len(trow):
        r = trow.iloc[0]
        out.append(f"<p>Second-order model: {_t(r['second_order'])}"
                   + (f"; &Delta;&chi;&sup2; = {_n(r['chisq_diff'])}, df = "
                      f"{_int(r['df_diff'])}, "
                      f"p = {_n(r['pvalue'], 4)} ({_t(r['method'])})"
                      if not _nan(r.get('pvalue')) else "")
                   + "</p>")
        if not _nan(r.get("omega_h")):
            out.append(f"<p>Omega hierarchical {_n(r['omega_h'])} (omega total "
                       f"{_n(r['omega_total'])}, explained common variance "
                       f"{_n(r['ecv'])}): the share of the tier score's variance due to "
                       f"one tier-wide factor. {_e(r['omega_note'])}.</p>")
    pairs = rep.discriminant[rep.discriminant["tier"] == t.id]
    if len(pairs):
        out.append(f"<h3>Are the {_e(t.name)} competencies distinct?</h3>")
        out.append(_table(pairs, [("competency_a", "competency A"),
                                  ("competency_b", "competency B"),
                                  ("cor_lv", "latent correlation"), ("htmt", "HTMT"),
                                  ("htmt2", "HTMT2")]))
    tv = rep.verdicts[(rep.verdicts["tier"] == t.id) & (rep.verdicts["level"] == "tier")]
    if len(tv):
        out.append(f"<h3>{_e(t.name)}: tier-wide verdicts</h3>")
        out.append(_verdict_table(tv))
    out.append("</section>")
    return "".join(out)


def _tier_diagrams(rep: Any, t: Any) -> str:
    """The tier's path diagram (standardized loadings of its correlated-competencies model,
    else each competency's one-factor model) and its loading heat map (Schmid-Leiman
    loadings of the tier's omega when it has one, else the model's loadings)."""
    comps = [c for c in t.competencies if len(c.items) >= 1]
    items = rep.items[rep.items["tier"] == t.id]
    if not len(items):
        return ""
    tier_model = "tier_loading" in items and items["tier_loading"].notna().any()
    lam = items["tier_loading"] if tier_model else items["std_loading"]
    lv = dict(zip(items["item"], _verdict_of(rep, "loading", list(items["item"])),
                  strict=True))
    rows = [(it, c, float(v), lv[it]) for it, c, v in
            zip(items["item"], items["competency"], lam, strict=True)]
    pairs = rep.discriminant[rep.discriminant["tier"] == t.id]
    cors = [(a, b, float(r)) for a, b, r in
            zip(pairs["competency_a"], pairs["competency_b"], pairs["cor_lv"], strict=True)]
    cross = []
    cl = rep.cross_loadings[rep.cross_loadings["tier"] == t.id]
    for r in cl.itertuples():
        vd = min(_verdict_of(rep, "cross_loading_mi", [r.item])
                 + _verdict_of(rep, "cross_loading_epc", [r.item]),
                 key=_WORST.index)
        if vd in ("fail", "borderline"):
            cross.append((r.item, r.to, float(r.sepc_all), vd))
    out = [f"<h3>The {_e(t.name)} tier model as a path diagram</h3>"]
    out.append("<p class='small'>" + ("Standardized loadings of the tier's correlated-"
               "competencies model" if tier_model else "Standardized loadings of each "
               "competency's one-factor model") + "; curved lines: latent correlations. "
               "Arrows and boxes of items whose loading is borderline or fails are drawn in "
               "that verdict's colour; a dotted arrow is a cross-loading the tier model's "
               "modification indices suggest.</p>")
    out.append(_svg.path_diagram([(c.id, c.id) for c in comps], rows, cors, cross,
                                 f"Path diagram of the {t.name} tier"))
    out.append(_heat_map(rep, t, items, rows, cross))
    return "".join(out)


def _heat_map(rep: Any, t: Any, items: pd.DataFrame, rows: list, cross: list) -> str:
    ids = [c.id for c in t.competencies]
    names = list(items["item"])
    om = rep.results.get(f"omega_tier:{t.id}") if isinstance(rep.results, dict) else None
    sl = getattr(om, "sl", None)
    mark = {(it, c): vd for it, c, _, vd in rows if vd in ("fail", "borderline")}
    mark.update({(it, to): vd for it, to, _, vd in cross})
    if sl is not None and set(names) <= set(sl.index):
        groups = [c for c in sl.columns if c.endswith("*")]
        comp_of = dict(zip(items["item"], items["competency"], strict=True))
        # label each group factor by the competency whose items load on it most (mean |l|)
        label = {}
        for g in groups:
            means = {c: sl.loc[[i for i in names if comp_of[i] == c], g].abs().mean()
                     for c in ids if any(comp_of[i] == c for i in names)}
            label[g] = max(means, key=means.get)
        cols = ["g", *sorted(groups, key=lambda g: ids.index(label[g]))]
        values = [[float(sl.loc[i, c]) for c in cols] for i in names]
        marks = [["" if c == "g" else mark.get((i, label[c]), "") for c in cols]
                 for i in names]
        heads = ["general", *[label[g] for g in cols[1:]]]
        return (f"<h3>Loadings heat map of the {_e(t.name)} tier (Schmid-Leiman)</h3>"
                "<p class='small'>Exploratory "
                "loadings of the tier's omega (psych::omega): one general factor and one "
                "group factor per competency, each labelled with the competency whose items "
                "load on it most. An item's own competency should carry its group loading; a "
                "large loading in another column is a cross-loading. Outlined cells: flagged "
                "loadings.</p>"
                + _svg.heat_map(names, heads, values, marks, f"Loadings of the {t.name} "
                                "items (Schmid-Leiman)"))
    own = {it: (c, v) for it, c, v, _ in rows}
    values = [[own[i][1] if own[i][0] == c else math.nan for c in ids] for i in names]
    for it, to, epc, _ in cross:
        values[names.index(it)][ids.index(to)] = epc
    marks = [[mark.get((i, c), "") for c in ids] for i in names]
    return (f"<h3>Loadings heat map of the {_e(t.name)} tier</h3>"
            "<p class='small'>Standardized loadings of the path "
            "diagram, one column per competency; a suggested cross-loading shows its "
            "expected standardized value. Outlined cells: flagged.</p>"
            + _svg.heat_map(names, ids, values, marks, f"Loadings of the {t.name} items"))


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
    head = ("<th scope='col'>competency</th>"
            + "".join(f"<th scope='col'>{_e(r)}</th>" for r in roles))
    body = []
    for c in comps:
        cells = [f"<th scope='row'>{_e(c)}</th>"]
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
    out.append(f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>"
               f"{''.join(body)}</tbody></table></div>")
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
    """Fit measures, one row per model; the models' notes below the table (long text in a
    narrow column would make every row tall)."""
    out = _table(f, [("model", "model"), ("estimator", "estimator"), ("missing", "missing"),
                     ("n_obs", "n"), ("converged", "converged"), ("status", "status"),
                     ("chisq", "chi-square"), ("df", "df"),
                     ("cfi", "CFI"), ("tli", "TLI"), ("rmsea", "RMSEA"), ("srmr", "SRMR"),
                     ("robust", "robust"), ("approximate", "approximate")])
    notes = [(m, n) for m, n in zip(f["model"], f["note"], strict=True)
             if isinstance(n, str) and n]
    if notes:
        out += ("<ul class='small'>" + "".join(f"<li>{_e(m)}: {_t(n)}</li>" for m, n in notes)
                + "</ul>")
    return out


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
    ids = list(items["item"])
    out.append(_svg.bar_chart(ids, list(items["std_loading"]), list(items["loading_lower"]),
                              list(items["loading_upper"]), _verdict_of(rep, "loading", ids),
                              _threshold(rep, "loading", 0.40),
                              f"Standardized loadings of the {cp.name} items",
                              lo=min(0.0, float(items["std_loading"].min()) if len(items)
                                     else 0)))
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
    # not passed: fail, borderline, not estimable (a not-applicable verdict is no verdict)
    bad = v[v["verdict"].isin(["fail", "borderline", "not_estimable"])]
    na = int((v["verdict"] == "not_applicable").sum())
    out.append(f"<details><summary>Verdicts ({len(v) - na}; {len(bad)} not passed"
               + (f"; {na} not applicable" if na else "") + ")</summary>")
    out.append(_verdict_table(v))
    out.append("</details></section>")
    return "".join(out)
