"""The ValidationReport in Jupyter (``report._repr_html_()``): a compact dashboard, not the full
report page (that is ``to_html()``, ``_html``).

One ``<div class="pv-dash">`` carrying its own CSS (the verdict palette of
:mod:`psychoval._palette`, scoped to the block so that the notebook's styles and this block's do
not leak into each other), then:

1. a header: framework, respondents, competencies, items, and the verdict counts as coloured
   badges (word + symbol + count: colour is never the only cue);
2. collapsible ``<details>`` sections: verdicts by level (item / competency / tier / ...);
   verdicts per tier and competency; the recommended actions (text in full); the criteria that
   failed or are borderline (with reason); then the evidence tables (reliability per
   competency, items, fit of every model) closed by default; notes.

Every text is escaped; nothing is truncated; numbers are right-aligned.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from psychoval._palette import CSS, LABELS, SYMBOLS, badge_class
from psychoval._results import SUMMARY_CSS, html_table

__all__ = ["DASHBOARD_CSS", "render_notebook"]

DASHBOARD_CSS = (
    ".pv-dash{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "line-height:1.4;max-width:100%}"
    ".pv-dash h3{margin:.2em 0 .1em}.pv-dash .pv-sub{color:#444;margin:0 0 .4em}"
    ".pv-dash .pv-counts{display:flex;flex-wrap:wrap;gap:.4em;margin:.3em 0 .6em}"
    ".pv-dash .pv-counts .pv-badge{font-size:1em;padding:.1em .7em}"
    ".pv-dash details{border:1px solid #ccc;border-radius:6px;padding:.2em .7em;margin:.35em 0}"
    ".pv-dash summary{cursor:pointer;font-weight:600;padding:.15em 0}"
    ".pv-dash .pv-scroll{overflow-x:auto}"
    ".pv-dash td{max-width:48em}"
)
"""CSS of the dashboard block (with the palette's badge CSS and the summaries' table CSS)."""

_ORDER = ("fail", "not_estimable", "borderline", "pass", "not_applicable")


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _badge(verdict: str, count: int | None = None) -> str:
    label = f"{SYMBOLS.get(verdict, '')} {LABELS.get(verdict, verdict)}"
    if count is not None:
        label += f" {count}"
    return f"<span class='{badge_class(verdict)}'>{_e(label)}</span>"


def _section(title: str, body: str, *, open_: bool = False, count: int | None = None) -> str:
    n = f" ({count})" if count is not None else ""
    return (f"<details{' open' if open_ else ''}><summary>{_e(title)}{_e(n)}</summary>"
            f"<div class='pv-scroll'>{body}</div></details>")


def _table(df: pd.DataFrame, columns: list[str] | None = None) -> str:
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    if df.empty:
        return "<p><em>none</em></p>"
    return html_table(df.reset_index(drop=True))


def _by_level(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Counts of each verdict per level (item, competency, tier, ...), in the levels' order of
    first appearance."""
    if verdicts.empty:
        return pd.DataFrame(columns=["level", *_ORDER])
    tab = (verdicts.groupby("level", sort=False)["verdict"].value_counts()
           .unstack(fill_value=0))
    for k in _ORDER:
        if k not in tab:
            tab[k] = 0
    tab = tab[list(_ORDER)].reset_index()
    tab.columns.name = None
    return tab


def render_notebook(report: Any) -> str:
    """The dashboard HTML of a :class:`~psychoval.report.ValidationReport`."""
    c = report.counts
    counts = "".join(_badge(k, c.get(k, 0)) for k in _ORDER)
    head = (f"<h3>Validation report: {_e(report.framework_name)}</h3>"
            f"<p class='pv-sub'>{_e(report.n_respondents)} respondents &middot; "
            f"{len(report.competencies)} competencies &middot; {len(report.items)} items"
            f" &middot; {len(report.flagged_items)} items flagged</p>"
            f"<div class='pv-counts' role='list' aria-label='verdict counts'>{counts}</div>")
    v = report.verdicts
    concern = v[v["verdict"].isin(["fail", "not_estimable", "borderline"])]
    concern = concern.assign(_o=concern["verdict"].map({k: j for j, k in enumerate(_ORDER)}))
    concern = concern.sort_values("_o", kind="stable").drop(columns="_o")
    sections = [
        _section("Verdicts by level", _table(_by_level(v)), open_=True),
        _section("Verdicts per tier and competency", _table(report.overview()), open_=True),
        _section("Recommended actions", _table(report.actions, ["id", "target", "text",
                                                                "verdicts"]),
                 open_=True, count=len(report.actions)),
        _section("Failed, not estimable and borderline criteria",
                 _table(concern, ["id", "verdict", "level", "target", "criterion", "value",
                                  "threshold", "reason"]), count=len(concern)),
        _section("Evidence: reliability per competency",
                 _table(report.competencies, ["competency", "tier", "n_items", "alpha",
                                              "alpha_lower", "alpha_upper", "omega",
                                              "omega_lower", "omega_upper", "ave",
                                              "estimator"])),
        _section("Evidence: items",
                 _table(report.items, ["item", "competency", "n", "mean", "difficulty",
                                       "r_drop", "alpha_if_dropped", "std_loading", "verdict",
                                       "flags"]),
                 count=len(report.items)),
        _section("Evidence: model fit", _table(report.fit), count=len(report.fit)),
    ]
    if report.notes:
        notes = "".join(f"<li>{_e(n)}</li>" for n in report.notes)
        sections.append(_section("Notes", f"<ul>{notes}</ul>", count=len(report.notes)))
    sections.append("<p class='pv-sub'>The full report: <code>report.to_html(path)</code>; "
                    "every table: <code>report.verdicts</code>, <code>report.items</code>, "
                    "...</p>")
    return (f"<div class='pv-dash psychoval-summary'><style>{SUMMARY_CSS}{CSS}{DASHBOARD_CSS}"
            f"</style>{head}{''.join(sections)}</div>")
