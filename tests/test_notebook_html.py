"""Jupyter renderings (issue 23, section 2): every result's ``_repr_html_`` carries its own CSS,
coloured badges (the Okabe-Ito palette of ``psychoval._palette``), right-aligned numbers and
untruncated text; ``ValidationReport`` shows a compact dashboard with collapsible sections.
Every page is well-formed HTML and every text is escaped."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

import psychoval as pv
from psychoval import _palette
from psychoval._results import Summary, html_table
from psychoval.datasets import sample_framework
from tests.reference._refs import HERE

BFI = HERE / "data" / "bfi.csv"

EVIL = "<script>alert('x')</script> & \"q\""
VOID = {"br", "hr", "img", "meta", "link", "input", "col", "wbr", "source"}
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000"}


class _Tree(HTMLParser):
    """Checks that every element is closed in order; collects text, tags and attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        self._in_style = False

    def handle_data(self, data):
        if not self._in_style:
            self.text.append(data)


def _parse(page: str) -> _Tree:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    assert tree.errors == [] and tree.stack == []
    assert "<script" not in page.lower()
    return tree


def _classes(tree: _Tree, tag: str) -> list[str]:
    return [a.get("class") or "" for t, a in tree.tags if t == tag]


def _luminance(hex_colour: str) -> float:
    c = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]


def test_palette_is_okabe_ito_distinct_and_readable():
    verdicts = ("pass", "borderline", "fail", "not_estimable")
    assert {_palette.COLORS[v] for v in verdicts} <= OKABE_ITO
    assert len(set(_palette.COLORS.values())) == 5
    for colour in _palette.COLORS.values():  # black text on every fill: WCAG AA (4.5:1)
        assert (_luminance(colour) + 0.05) / (_luminance(_palette.INK) + 0.05) >= 4.5
    # borderline differs from pass and fail in lightness too (visible without hue)
    lb = _luminance(_palette.BORDERLINE)
    assert lb > 2 * _luminance(_palette.PASS) and lb > 2 * _luminance(_palette.FAIL)
    for v in _palette.COLORS:
        assert f".pv-{v}{{background:{_palette.COLORS[v]}" in _palette.CSS
    assert _palette.badge_class("fail") == "pv-badge pv-fail"
    assert _palette.badge_class("<odd>") == "pv-badge pv-not_applicable"
    from psychoval.report import _palette as report_palette  # the report's import path

    assert report_palette.COLORS is _palette.COLORS


def test_summary_html_is_escaped_styled_untruncated():
    action = "Revise or drop item A1: " + "it measures little of the competency; " * 6
    df = pd.DataFrame({EVIL: [EVIL, "plain"], "action": [action, "x"],
                       "verdict": ["borderline", "fail"], "n": [3, 12], "r": [0.5, None]})
    s = Summary(EVIL, facts=((EVIL, 0.81234),), tables=((EVIL, df),), notes=(EVIL,))
    page = s._repr_html_()
    tree = _parse(page)
    text = "".join(tree.text)
    assert text.count(EVIL) == 6  # title, fact, caption, column, cell, note: shown as text
    assert action in text  # no "..." at 50 characters
    assert "<style>" in page and ".psychoval-summary .num{text-align:right" in page
    assert _palette.CSS in page
    spans = _classes(tree, "span")
    assert spans == ["pv-badge pv-borderline", "pv-badge pv-fail"]
    assert "~ borderline" in text and "\u2717 fail" in text
    # numbers right-aligned (class num), text not; no row-number column
    row = re.search(r"<tr><td>plain</td><td>x</td><td><span[^>]*>[^<]*</span></td>"
                    r"<td class='num'>12</td><td class='num'>NA</td></tr>", page)
    assert row is not None
    assert "<th class='txt'>action</th><th class='txt'>verdict</th><th class='num'>n</th>" in page


def test_html_table_keeps_a_meaningful_index_and_drops_row_numbers():
    named = pd.DataFrame({"r": [0.1]}, index=pd.Index(["A1"], name="item"))
    assert "<th class='txt'>item</th>" in html_table(named)
    filtered = pd.DataFrame({"r": [0.1, 0.2, 0.3]}).iloc[[0, 2]]  # index 0, 2: row numbers
    assert html_table(filtered).startswith("<table><thead><tr><th class='num'>r</th></tr>")


def test_every_result_repr_html_is_well_formed():
    bfi = pv.read_responses(BFI, items=["A1", "A2", "A3", "A4", "A5"])
    for res in (pv.alpha(bfi, reverse=["A1"]), pv.item_analysis(bfi),
                pv.efa(bfi, n_factors=1)):
        page = res._repr_html_()
        tree = _parse(page)
        assert "psychoval-summary" in _classes(tree, "div")[0]
        assert "<style>" in page


@pytest.fixture(scope="module")
def small_report():
    spec = sample_framework().to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] == "literacy"]
    spec["tiers"][0]["competencies"] = [c for c in spec["tiers"][0]["competencies"]
                                        if c["id"] in ("data", "ethics")]
    spec.pop("roles", None)
    return pv.validate(pv.load_sample(), pv.read_framework(spec), seed=2, n_boot=20)


def test_report_dashboard(small_report):
    long_action = "Check " + "a very long recommended action text " * 5
    actions = small_report.actions.copy()
    actions.loc[0, "text"] = long_action
    actions.loc[1, "target"] = EVIL
    rep = dataclasses.replace(small_report, framework_name=EVIL, actions=actions,
                              notes=(*small_report.notes, EVIL))
    page = rep._repr_html_()
    tree = _parse(page)
    text = "".join(tree.text)
    assert "Validation report: " + EVIL in text and long_action in text
    assert text.count(EVIL) == 3  # name, action target, note
    assert _palette.CSS in page and "class='pv-dash" in page
    # overview counts: one badge per verdict kind, with the report's counts
    counts = {}
    for m in re.finditer(r"<span class='pv-badge pv-(\w+)'>[^<]* (\d+)</span>", page):
        counts.setdefault(m.group(1), int(m.group(2)))
    assert counts == rep.counts
    summaries = re.findall(r"<summary>([^<]*)</summary>", page)
    assert [s.split(" (")[0] for s in summaries[:4]] == [
        "Verdicts by level", "Verdicts per tier and competency", "Recommended actions",
        "Failed, not estimable and borderline criteria"]
    assert any(s.startswith("Evidence: reliability") for s in summaries)
    assert "Recommended actions (2)" in summaries
    opened = re.findall(r"<details( open)?>", page)
    assert opened[:3] == [" open"] * 3 and " open" not in opened[3:]  # evidence collapsed
    # verdicts by level add up to every verdict
    by_level = re.search(r"Verdicts by level</summary>(.*?)</details>", page, re.S).group(1)
    nums = [int(x) for x in re.findall(r"<td class='num'>(\d+)</td>", by_level)]
    assert sum(nums) == len(rep.verdicts)
    # every failed / borderline criterion is listed, as a badge
    concern = rep.verdicts["verdict"].isin(["fail", "borderline", "not_estimable"]).sum()
    section = re.search(r"borderline criteria \(\d+\)</summary>(.*?)</details>", page,
                        re.S).group(1)
    assert section.count("class='pv-badge") == concern


def test_response_table_html_is_escaped_and_keeps_ids():
    df = pd.DataFrame({"id": [EVIL, "007"], "q1": [1, 2], "q2": [3, None]})
    table = pv.read_responses(df, id_column="id")
    page = table._repr_html_()
    tree = _parse(page)
    text = "".join(tree.text)
    assert EVIL in text and "007" in text and "<style>" in page
