"""The verdict palette shared by every rendering (HTML report, notebook dashboard, result
``_repr_html_``, plots): one colour per verdict from the Okabe-Ito palette (Okabe & Ito 2008,
"Color Universal Design"), chosen so that the five verdicts stay distinct under the common
colour-vision deficiencies, and borderline is visibly neither pass nor fail.

- pass: bluish green ``#009E73``
- borderline: yellow ``#F0E442`` (light, where pass and fail are dark: it differs from both in
  lightness as well as hue, so it never reads as either one in greyscale or with deuteranopia)
- fail: vermillion ``#D55E00``
- not applicable: neutral grey ``#BBBBBB`` (not a judgement, so no hue)
- not estimable: reddish purple ``#CC79A7``

Colour is never the only cue: every badge carries its word and a symbol (``SYMBOLS``), and a
borderline badge a dashed border. Text on every badge is black (contrast >= 4.5:1 on each of
the five fills). No imports: any module may use it (it sits with the shared bottom modules, so
that every result's ``_repr_html_`` can use it; ``psychoval.report._palette`` re-exports it for
the report's renderers).
"""

from __future__ import annotations

PASS = "#009E73"
BORDERLINE = "#F0E442"
FAIL = "#D55E00"
NA = "#BBBBBB"
NOT_ESTIMABLE = "#CC79A7"
INK = "#000000"  # text on every badge fill

COLORS: dict[str, str] = {
    "pass": PASS,
    "borderline": BORDERLINE,
    "fail": FAIL,
    "not_applicable": NA,
    "not_estimable": NOT_ESTIMABLE,
}
"""Verdict -> fill colour (badges, bars, chart marks)."""

LABELS: dict[str, str] = {
    "pass": "pass",
    "borderline": "borderline",
    "fail": "fail",
    "not_applicable": "n/a",
    "not_estimable": "not estimable",
}
"""Verdict -> the word printed on its badge."""

SYMBOLS: dict[str, str] = {
    "pass": "\u2713",  # check mark
    "borderline": "~",
    "fail": "\u2717",  # ballot x
    "not_applicable": "\u2013",  # en dash
    "not_estimable": "?",
}
"""Verdict -> a symbol shown beside the word, so colour is never the only cue."""

CSS = (
    ".pv-badge{display:inline-block;padding:0 .5em;border-radius:.7em;font-size:.85em;"
    "font-weight:600;white-space:nowrap;color:#000;border:1px solid rgba(0,0,0,.35);"
    "line-height:1.5}"
    f".pv-pass{{background:{PASS}}}"
    f".pv-borderline{{background:{BORDERLINE};border-style:dashed;border-color:#000}}"
    f".pv-fail{{background:{FAIL}}}"
    f".pv-not_applicable{{background:{NA}}}"
    f".pv-not_estimable{{background:{NOT_ESTIMABLE}}}"
)
"""Badge CSS: ``<span class="pv-badge pv-<verdict>">``; scope it with a container class if
the page has its own ``.pv-*`` rules."""


def badge_class(verdict: str) -> str:
    """The class attribute of a verdict's badge: ``"pv-badge pv-fail"``; an unknown verdict
    gets the not-applicable look."""
    key = verdict if verdict in COLORS else "not_applicable"
    return f"pv-badge pv-{key}"


__all__ = ["BORDERLINE", "COLORS", "CSS", "FAIL", "INK", "LABELS", "NA", "NOT_ESTIMABLE", "PASS",
           "SYMBOLS", "badge_class"]
