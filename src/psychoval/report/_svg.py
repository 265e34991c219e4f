"""Inline SVG charts of the HTML report, drawn by our own code: no JavaScript, no network, no
matplotlib. Each function takes plain lists (the report's tables, read by ``_html``) and
returns one ``<figure>`` holding an ``<svg role="img">`` with a ``<title>``, a ``<desc>`` and an
``aria-label``, followed by a text alternative (a caption and, for the diagrams, a
``<details>`` list of every number drawn). Colours are the verdict palette (``_palette``):
borderline is yellow with a dashed black outline, never the colour of pass or fail. SVGs
scale to the page (``viewBox``, width 100% up to their natural width), so nothing overflows
a phone or an A4 page.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from psychoval.report._palette import COLORS, FAIL, INK, LABELS, NA, PASS

__all__ = ["bar_chart", "path_diagram", "heat_map", "scree"]

MUTED = "#555555"  # unflagged paths, axes
FONT = "font-family='system-ui,sans-serif'"


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _f(v: float, digits: int = 2) -> str:
    return "&ndash;" if _nan(v) else f"{v:.{digits}f}"


def _open(width: float, height: float, title: str, desc: str) -> str:
    return (f"<svg xmlns='http://www.w3.org/2000/svg' role='img' aria-label='{_e(title)}' "
            f"viewBox='0 0 {width:.0f} {height:.0f}' width='{width:.0f}' "
            f"style='max-width:100%;height:auto' {FONT}>"
            f"<title>{_e(title)}</title><desc>{_e(desc)}</desc>")


def _figure(svg: str, caption: str, rows: list[str] | None = None) -> str:
    alt = ""
    if rows:
        alt = ("<details class='alt'><summary>The numbers in this figure</summary><ul>"
               + "".join(f"<li>{r}</li>" for r in rows) + "</ul></details>")
    return f"<figure class='chart'>{svg}<figcaption>{caption}</figcaption>{alt}</figure>"


def _mark(verdict: str) -> str:
    """Fill and stroke attributes of a verdict's mark: borderline dashed, as its badge."""
    fill = COLORS.get(verdict, NA)
    dash = " stroke-dasharray='3 2'" if verdict == "borderline" else ""
    return f"fill='{fill}' stroke='{INK}' stroke-width='1'{dash}"


def legend(verdicts: Sequence[str], x: float, y: float) -> str:
    """A row of verdict swatches with their words, drawn from (x, y)."""
    parts = []
    for v in verdicts:
        parts.append(f"<rect x='{x:.0f}' y='{y - 9:.0f}' width='12' height='10' {_mark(v)}/>"
                     f"<text x='{x + 16:.0f}' y='{y:.0f}' font-size='11'>{_e(LABELS[v])}</text>")
        x += 24 + 7 * len(LABELS[v])
    return "".join(parts)


def bar_chart(labels: Sequence[str], values: Sequence[float], lowers: Sequence[float],
              uppers: Sequence[float], verdicts: Sequence[str], threshold: float, title: str,
              *, lo: float = 0.0, hi: float = 1.0) -> str:
    """Horizontal bars, one per label, coloured by its verdict (not by the threshold: a
    borderline estimate above or below it is drawn as borderline), with interval whiskers
    and a dashed threshold line."""
    row_h, left, width = 22, 150, 360
    h = row_h * len(labels) + 58
    lo = min([lo] + [v for v in [*values, *lowers] if not _nan(v)])
    hi = max([hi] + [v for v in [*values, *uppers] if not _nan(v)])

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * width

    desc = f"{title} of each of {len(labels)} rows with its interval; threshold {threshold:g}"
    parts = [_open(left + width + 70, h, title, desc)]
    zero = x(0.0)
    rows = []
    for j, (lab, v, a, b, vd) in enumerate(zip(labels, values, lowers, uppers, verdicts,
                                                strict=True)):
        y = 20 + j * row_h
        row = f"{_e(lab)}: {_f(v, 3)} ({_f(a, 3)} to {_f(b, 3)}), {_e(LABELS.get(vd, vd))}"
        rows.append(row)
        parts.append(f"<g aria-label='{row}'><text x='{left - 6}' y='{y + 14}' "
                     f"font-size='12' text-anchor='end'>{_e(lab)}</text>")
        if _nan(v):
            parts.append("</g>")
            continue
        x0, x1 = sorted((zero, x(v)))
        parts.append(f"<rect x='{x0:.1f}' y='{y + 3}' width='{max(x1 - x0, 1):.1f}' "
                     f"height='{row_h - 8}' {_mark(vd)}/>")
        if not _nan(a) and not _nan(b):
            parts.append(f"<line x1='{x(a):.1f}' x2='{x(b):.1f}' y1='{y + 10}' y2='{y + 10}' "
                         f"stroke='{INK}' stroke-width='1.5'/>")
        parts.append(f"<text x='{max(x1, x(b) if not _nan(b) else x1) + 4:.1f}' "
                     f"y='{y + 14}' font-size='11'>{_f(v)}</text></g>")
    tx = x(threshold)
    base = 20 + len(labels) * row_h
    parts.append(f"<line x1='{tx:.1f}' x2='{tx:.1f}' y1='14' y2='{base:.0f}' stroke='{INK}' "
                 "stroke-dasharray='4 3'/>")
    parts.append(f"<text x='{tx:.1f}' y='{base + 14:.0f}' font-size='11' "
                 f"text-anchor='middle'>threshold {threshold:g}</text>")
    parts.append(legend([v for v in COLORS if v in set(verdicts)] or ["pass"], left,
                        base + 32))
    parts.append("</svg>")
    return _figure("".join(parts), f"{_e(title)} with its interval; bars coloured by verdict",
                   rows)


def path_diagram(factors: Sequence[tuple[str, str]],
                 items: Sequence[tuple[str, str, float, str]],
                 correlations: Sequence[tuple[str, str, float]],
                 cross: Sequence[tuple[str, str, float, str]], title: str) -> str:
    """A factor model as a path diagram: factors (ellipses, left), items (boxes, right), one
    arrow per loading labelled with its standardized value; factor correlations as curved
    double arrows on the left; suggested cross-loadings dotted.

    ``factors``: (id, label); ``items``: (item, factor, standardized loading, verdict of the
    item): a path whose item is borderline or fails is drawn in that verdict's colour and
    thicker; ``correlations``: (factor, factor, r); ``cross``: (item, to factor, expected
    standardized change, verdict) for suggested cross-loadings.
    """
    row_h, top = 24, 16
    fx, ix, iw = 200, 430, 90
    h = top * 2 + row_h * max(len(items), 1) + 34
    ys: dict[str, float] = {}
    for j, (it, *_rest) in enumerate(items):
        ys[it] = top + j * row_h + row_h / 2
    fy: dict[str, float] = {}
    for fid, _ in factors:
        own = [ys[it] for it, f, *_ in items if f == fid]
        fy[fid] = sum(own) / len(own) if own else top
    desc = (f"{len(factors)} factors and {len(items)} items; arrows carry standardized "
            "loadings; coloured arrows are flagged items")
    parts = [_open(ix + iw + 20, h, title, desc)]
    rows = []
    # factor correlations: arcs on the left, wider for factors further apart
    for a, b, r in correlations:
        if a not in fy or b not in fy or _nan(r):
            continue
        ya, yb = fy[a], fy[b]
        bend = fx - 60 - 0.45 * abs(yb - ya)
        parts.append(f"<path d='M{fx - 52},{ya:.1f} C{bend:.1f},{ya:.1f} {bend:.1f},{yb:.1f} "
                     f"{fx - 52},{yb:.1f}' fill='none' stroke='{MUTED}' stroke-width='1'/>")
        my = (ya + yb) / 2
        mx = 0.25 * (fx - 52) + 0.75 * bend
        parts.append(f"<text x='{mx:.1f}' y='{my + 4:.1f}' font-size='10' text-anchor='middle' "
                     f"paint-order='stroke' stroke='#fff' stroke-width='3'>{r:.2f}</text>")
        rows.append(f"correlation {_e(a)} with {_e(b)}: {r:.2f}")
    # loadings (their labels drawn after every line, so that no line crosses a label)
    labels = []
    for it, f, lam, vd in items:
        if f not in fy:
            continue
        flagged = vd in ("fail", "borderline")
        color = COLORS[vd] if flagged else MUTED
        width = 1 + 3 * min(abs(lam), 1) if not _nan(lam) else 1
        dash = " stroke-dasharray='6 3'" if vd == "borderline" else ""
        y0, y1 = fy[f], ys[it]
        # the borderline yellow needs a dark casing to be seen on white
        if vd == "borderline":
            parts.append(f"<line x1='{fx + 52}' y1='{y0:.1f}' x2='{ix}' y2='{y1:.1f}' "
                         f"stroke='{INK}' stroke-width='{width + 2:.1f}'/>")
        parts.append(f"<line x1='{fx + 52}' y1='{y0:.1f}' x2='{ix}' y2='{y1:.1f}' "
                     f"stroke='{color}' stroke-width='{width:.1f}'{dash}/>")
        bold = " font-weight='700'"
        lx, ly = fx + 52 + 0.86 * (ix - fx - 52), y0 + 0.86 * (y1 - y0)
        labels.append(f"<rect x='{lx - 12:.1f}' y='{ly - 6:.1f}' width='24' height='12' "
                      f"fill='#fff'/><text x='{lx:.1f}' y='{ly + 4:.1f}' font-size='10' "
                      f"text-anchor='middle'{bold if flagged else ''}>{_f(lam)}</text>")
        rows.append(f"{_e(f)} &rarr; {_e(it)}: {_f(lam)}"
                    + (f" ({_e(LABELS[vd])})" if flagged else ""))
    for it, to, epc, vd in cross:
        if to not in fy or it not in ys:
            continue
        color = COLORS.get(vd, MUTED) if vd in ("fail", "borderline") else MUTED
        parts.append(f"<line x1='{fx + 52}' y1='{fy[to]:.1f}' x2='{ix}' y2='{ys[it]:.1f}' "
                     f"stroke='{INK}' stroke-width='3.5' stroke-dasharray='2 3'/>"
                     f"<line x1='{fx + 52}' y1='{fy[to]:.1f}' x2='{ix}' y2='{ys[it]:.1f}' "
                     f"stroke='{color}' stroke-width='2' stroke-dasharray='2 3'/>")
        rows.append(f"suggested cross-loading {_e(to)} &rarr; {_e(it)}: expected "
                    f"standardized value {_f(epc)}" + (f" ({_e(LABELS[vd])})" if vd in
                                                         ("fail", "borderline") else ""))
    parts += labels
    for fid, lab in factors:
        parts.append(f"<ellipse cx='{fx}' cy='{fy[fid]:.1f}' rx='52' ry='17' fill='#fff' "
                     f"stroke='{INK}' stroke-width='1.5'/><text x='{fx}' y='{fy[fid] + 4:.1f}' "
                     f"font-size='11' text-anchor='middle'>{_e(_short(lab, 14))}</text>")
    for it, _fac, _lam, vd in items:
        fill = COLORS[vd] if vd in ("fail", "borderline") else "#fff"
        dash = " stroke-dasharray='3 2'" if vd == "borderline" else ""
        parts.append(f"<rect x='{ix}' y='{ys[it] - 9:.1f}' width='{iw}' height='18' "
                     f"fill='{fill}' stroke='{INK}'{dash}/><text x='{ix + iw / 2}' "
                     f"y='{ys[it] + 4:.1f}' font-size='11' text-anchor='middle'>"
                     f"{_e(_short(it, 12))}</text>")
    base = top + row_h * max(len(items), 1) + 20
    parts.append(legend(["pass", "borderline", "fail"], 12, base))
    parts.append(f"<text x='{ix - 150}' y='{base:.0f}' font-size='10'>dotted: "
                 "suggested cross-loading</text>" if cross else "")
    parts.append("</svg>")
    return _figure("".join(parts), f"{_e(title)}: standardized loadings on the arrows; "
                   "arrows to flagged items coloured by their verdict", rows)


def _short(s: str, n: int) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def _blend(v: float) -> str:
    """White -> Okabe-Ito blue (#0072B2) by |v| in [0, 1]."""
    t = min(max(abs(v), 0.0), 1.0)
    r, g, b = (round(255 + (c - 255) * t) for c in (0x00, 0x72, 0xB2))
    return f"#{r:02x}{g:02x}{b:02x}"


def heat_map(rows: Sequence[str], columns: Sequence[str],
             values: Sequence[Sequence[float]], marks: Sequence[Sequence[str]],
             title: str, *, note: str = "") -> str:
    """Rows x columns of loadings shaded white -> blue by absolute value (negative values
    printed with their sign, empty cells blank). ``marks[i][j]`` is a verdict whose outline
    the cell gets ("" for none): a flagged loading or a suggested cross-loading."""
    cw, rh, left, top = 74, 20, 110, 84
    w = left + cw * len(columns) + 10
    h = top + rh * len(rows) + 30
    desc = f"{len(rows)} rows by {len(columns)} columns; darker cells are larger loadings"
    parts = [_open(w, h, title, desc)]
    for j, c in enumerate(columns):
        cx = left + cw * j + cw / 2
        parts.append(f"<text x='{cx:.0f}' y='{top - 8}' font-size='11' text-anchor='start' "
                     f"transform='rotate(-35 {cx:.0f} {top - 8})'>{_e(_short(c, 18))}</text>")
    alt = []
    for i, r in enumerate(rows):
        y = top + rh * i
        parts.append(f"<text x='{left - 6}' y='{y + 14}' font-size='11' text-anchor='end'>"
                     f"{_e(_short(r, 14))}</text>")
        cells = []
        for j, _c in enumerate(columns):
            v = values[i][j]
            x0 = left + cw * j
            if _nan(v):
                parts.append(f"<rect x='{x0}' y='{y}' width='{cw}' height='{rh}' fill='#fff' "
                             "stroke='#e4e7eb'/>")
                continue
            mk = marks[i][j]
            stroke = (f"stroke='{COLORS[mk]}' stroke-width='3'" if mk in ("fail",) else
                      f"stroke='{INK}' stroke-width='2' stroke-dasharray='3 2'"
                      if mk == "borderline" else "stroke='#e4e7eb'")
            ink = "#fff" if abs(v) > 0.55 else INK
            parts.append(f"<rect x='{x0 + 1}' y='{y + 1}' width='{cw - 2}' height='{rh - 2}' "
                         f"fill='{_blend(v)}' {stroke}/><text x='{x0 + cw / 2:.0f}' "
                         f"y='{y + 14}' font-size='11' text-anchor='middle' fill='{ink}'>"
                         f"{v:.2f}</text>")
            cells.append(f"{_e(_c)} {v:.2f}" + (f" ({_e(LABELS[mk])})" if mk else ""))
        alt.append(f"{_e(r)}: " + ", ".join(cells))
    if note:
        parts.append(f"<text x='4' y='{h - 8}' font-size='10'>{_e(note)}</text>")
    parts.append("</svg>")
    return _figure("".join(parts), f"{_e(title)}: darker is a larger loading", alt)


def scree(observed: Sequence[float], reference: Sequence[float], n_suggested: int,
          title: str) -> str:
    """Scree plot: observed eigenvalues (solid, dots) and the parallel-analysis reference
    (dashed); the factors retained (observed above the reference) drawn filled."""
    w, h, left, bottom, top = 520, 260, 48, 36, 14
    k = len(observed)
    vals = [v for v in [*observed, *reference] if not _nan(v)]
    lo, hi = min([0.0, *vals]), max([1.0, *vals])
    pw, ph = w - left - 14, h - top - bottom

    def px(j: int) -> float:
        return left + (j + 0.5) * pw / max(k, 1)

    def py(v: float) -> float:
        return top + (hi - v) / (hi - lo) * ph

    desc = (f"{k} eigenvalues against the parallel-analysis reference; {n_suggested} above "
            "it")
    parts = [_open(w, h, title, desc)]
    parts.append(f"<line x1='{left}' y1='{py(0):.1f}' x2='{w - 14}' y2='{py(0):.1f}' "
                 f"stroke='{MUTED}'/><line x1='{left}' y1='{top}' x2='{left}' "
                 f"y2='{top + ph}' stroke='{MUTED}'/>")
    for t in _ticks(lo, hi):
        parts.append(f"<text x='{left - 4}' y='{py(t) + 4:.1f}' font-size='10' "
                     f"text-anchor='end'>{t:g}</text><line x1='{left - 2}' x2='{left}' "
                     f"y1='{py(t):.1f}' y2='{py(t):.1f}' stroke='{MUTED}'/>")
    for j in range(k):
        parts.append(f"<text x='{px(j):.1f}' y='{h - bottom + 14}' font-size='10' "
                     f"text-anchor='middle'>{j + 1}</text>")
    parts.append(f"<text x='{left + pw / 2:.0f}' y='{h - 6}' font-size='11' "
                 "text-anchor='middle'>factor number</text>")
    ref = " ".join(f"{px(j):.1f},{py(v):.1f}" for j, v in enumerate(reference) if not _nan(v))
    obs = " ".join(f"{px(j):.1f},{py(v):.1f}" for j, v in enumerate(observed) if not _nan(v))
    parts.append(f"<polyline points='{ref}' fill='none' stroke='{FAIL}' stroke-width='2' "
                 "stroke-dasharray='6 4'/>")
    parts.append(f"<polyline points='{obs}' fill='none' stroke='{INK}' stroke-width='2'/>")
    rows = []
    for j, v in enumerate(observed):
        if _nan(v):
            continue
        kept = j < n_suggested
        parts.append(f"<circle cx='{px(j):.1f}' cy='{py(v):.1f}' r='4' "
                     f"fill='{PASS if kept else '#fff'}' stroke='{INK}'/>")
        r = reference[j] if j < len(reference) else math.nan
        rows.append(f"factor {j + 1}: eigenvalue {v:.3f}, reference {_f(r, 3)}"
                    + (" (retained)" if kept else ""))
    lx = w - 200
    parts.append(f"<line x1='{lx}' x2='{lx + 24}' y1='{top + 8}' y2='{top + 8}' stroke='{INK}' "
                 f"stroke-width='2'/><text x='{lx + 30}' y='{top + 12}' font-size='11'>observed "
                 f"(filled: retained)</text><line x1='{lx}' x2='{lx + 24}' y1='{top + 26}' "
                 f"y2='{top + 26}' stroke='{FAIL}' stroke-width='2' stroke-dasharray='6 4'/>"
                 f"<text x='{lx + 30}' y='{top + 30}' font-size='11'>parallel analysis</text>")
    parts.append("</svg>")
    return _figure("".join(parts), f"{_e(title)}: factors whose eigenvalue lies above the "
                   "parallel-analysis reference are retained", rows)


def _ticks(lo: float, hi: float) -> list[float]:
    step = 10 ** math.floor(math.log10(max(hi - lo, 1e-9)))
    if (hi - lo) / step < 3:
        step /= 2
    start = math.ceil(lo / step) * step
    out = []
    t = start
    while t <= hi + 1e-12:
        out.append(round(t, 10))
        t += step
    return out

