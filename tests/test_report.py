"""Renderings of a ValidationReport (issue 10): self-contained escaped HTML that renders in
headless Chromium without console errors or network requests; JSON valid against the strict
schema in docs/; Markdown; the CLI."""

from __future__ import annotations

import copy
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

import psychoval as pv
from psychoval.cli import main
from psychoval.datasets import sample_framework, sample_path
from psychoval.report import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>alert('x')</script> & \"quoted\""


@pytest.fixture(scope="module")
def report():
    spec = sample_framework().to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] in ("applied", "leadership")]
    spec.pop("roles", None)  # they name competencies of the other tiers
    spec["name"] = "Sample <b>bold</b> framework"
    spec["tiers"][1]["competencies"][0]["items"][0]["text"] = EVIL
    spec["tiers"][1]["competencies"][0]["name"] = "Strategy <img src=x onerror=alert(1)>"
    return pv.validate(pv.load_sample(), pv.read_framework(spec), seed=2, n_boot=40)


def test_html_escapes_every_label_and_is_self_contained(report, tmp_path):
    page = report.to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>bold</b>" not in page and "Sample &lt;b&gt;bold&lt;/b&gt; framework" in page
    # no external resources: the only URL is the SVG namespace name, never fetched
    urls = set(re.findall(r"https?://[^\s'\"<>)]+", page))
    assert urls == {"http://www.w3.org/2000/svg"}
    # links only within the page (the table of contents), no src attribute at all (escaped
    # text inside an attribute, such as an aria-label holding "<img src=x", is no attribute)
    assert not re.search(r"<[^>]*\ssrc\s*=\s*['\"]", page) and "@import" not in page
    assert set(re.findall(r"\shref\s*=\s*['\"](.)", page)) == {"#"}
    assert "url(" not in page
    # verdict overview per tier comes first, then the competencies
    assert page.index("Overview") < page.index("Data quality") < page.index("Competency:")
    assert page.count("<svg") >= len(report.competencies)
    # numbers come from the report's tables
    omega = report.competencies.set_index("competency").loc["prompting", "omega"]
    assert f"{omega:.3f}" in page


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", page, flags=re.S)


def test_html_contents_print_styles_and_accessible_tables(report):
    page = report.to_html()
    # a table of contents linking every section's anchored heading, ids unique
    ids = re.findall(r"<h2 id='([^']+)'>", page)
    assert len(ids) == len(set(ids)) and "contents" in ids
    toc = page[page.index("<nav class='toc'"):page.index("</nav>")]
    assert set(re.findall(r"href='#([^']+)'", toc)) == set(ids) - {"contents"}
    assert toc.count("<ul>") == len(report.framework.tiers)  # competencies under their tier
    # print: A4, nothing collapsed, a page break before each major section
    css = page[page.index("<style>"):page.index("</style>")]
    assert "@page{size:A4" in css and "@media print{" in css
    printed = css[css.index("@media print{"):]
    assert "details::details-content{content-visibility:visible;display:block}" in printed
    assert "section.major{break-before:page}" in printed
    assert page.count("<section class='card major'") == len(re.findall(
        r"<h2 id='[^']+'>(?!Competency:)", page)) - 1  # every h2 but the contents
    # no heading twice (a screen reader's list of headings tells the tiers apart)
    heads = re.findall(r"<h([23])[^>]*>(.*?)</h\1>", page)
    assert len(heads) == len(set(heads)) > 20
    # every table header has a scope; no table repeats a column header
    ths = re.findall(r"<th[ >][^>]*", re.sub(r"<svg.*?</svg>", "", page, flags=re.S))
    assert ths and all("scope=" in t for t in ths)
    for head in re.findall(r"<thead><tr>(.*?)</tr></thead>", page):
        labels = re.findall(r"<th scope='col'>(.*?)</th>", head)
        assert len(labels) == len(set(labels)), labels
    # counts as integers, booleans as words, lavaan's codes as words
    assert ">True<" not in page and ">False<" not in page
    fit = report.fit[report.fit["level"] == "tier"]
    for df in fit["df"]:
        assert f"<td class='num'>{int(df)}</td>" in page and f">{df:.3f}<" not in page
    assert re.findall(r">[^<]*satorra\.bentler\.2001", page) == []
    assert "scaled difference test (Satorra &amp; Bentler 2001)" in page
    # "not passed" counts fail, borderline and not estimable, never not applicable
    v = report.verdicts[report.verdicts["competency"] == "evaluation"]
    na = int((v["verdict"] == "not_applicable").sum())
    bad = int(v["verdict"].isin(["fail", "borderline", "not_estimable"]).sum())
    assert na > 0
    assert (f"Verdicts ({len(v) - na}; {bad} not passed; {na} not applicable)</summary>"
            in page)
    # overview counts carry their verdict's colour
    assert "<span class='pv-badge pv-fail'>" in page and "<td class='num zero'>0</td>" in page


def test_lavaan_codes_in_words():
    from psychoval.report._html import _t

    assert _t("test yuan.bentler.mplus; se robust.huber.white") == (
        "test <abbr title='yuan.bentler.mplus'>Yuan-Bentler scaled test (Mplus variant)</abbr>; "
        "se <abbr title='robust.huber.white'>robust (Huber-White sandwich) standard errors"
        "</abbr>")
    # the longest code wins; a code inside a longer dotted name is left alone; text escaped
    assert "Satorra &amp; Bentler 2001" in _t("satorra.bentler.2001")
    assert _t("satorra.bentler.2001x <b>") == "satorra.bentler.2001x &lt;b&gt;"
    assert _t("method satorra.2000.") == ("method <abbr title='satorra.2000'>scaled-shifted "
                                          "difference test (Satorra 2000)</abbr>.")
    assert _t("x.satorra.2000 satorra.2000.b") == "x.satorra.2000 satorra.2000.b"


def test_html_charts_colour_by_verdict_not_by_threshold(report):
    """A competency whose omega is below .70 but borderline (its interval contains .70) is
    drawn in the borderline colour, not as a fail."""
    import dataclasses

    from psychoval.report import _palette

    assert len({_palette.PASS, _palette.BORDERLINE, _palette.FAIL}) == 3
    comp = report.competencies.copy()
    comp.loc[comp["competency"] == "workflow", ["omega", "omega_lower", "omega_upper"]] = (
        0.67, 0.62, 0.72)
    v = report.verdicts.copy()
    at = (v["criterion"] == "omega") & (v["target"] == "workflow")
    v.loc[at, ["value", "verdict"]] = (0.67, "borderline")
    v.loc[(v["criterion"] == "omega") & (v["target"] == "tools"), "verdict"] = "fail"
    page = dataclasses.replace(report, competencies=comp, verdicts=v).to_html()

    def bar(name):
        tag = re.search(rf"<g aria-label='{name}: [^']*'>.*?(<rect [^>]*>)", page).group(1)
        return re.search(r"fill='(#[0-9A-F]+)'", tag).group(1), "stroke-dasharray" in tag

    assert bar("workflow") == (_palette.BORDERLINE, True)  # dashed outline as its badge
    assert bar("tools") == (_palette.FAIL, False)
    assert bar("prompting") == (_palette.PASS, False)
    assert "<g aria-label='workflow: 0.670 (0.620 to 0.720), borderline'>" in page


def test_html_diagrams_are_accessible_svg_with_the_reports_numbers(report):
    page = report.to_html()
    svgs = _svgs(page)
    for svg in svgs:
        assert "role='img'" in svg and "aria-label='" in svg
        assert re.search(r"<title>[^<]+</title><desc>[^<]+</desc>", svg)
    assert page.count("<figure class='chart'>") == len(svgs)
    assert page.count("<figcaption>") == len(svgs)
    # path diagram: the tier model's standardized loadings (the items table's tier_loading,
    # checked here against the tier CFA itself) on the arrows, one ellipse per competency
    std = report.results["cfa_tier:applied"].standardized()
    lam = std[std["op"] == "=~"].set_index("rhs")["est_std"]
    items = report.items.set_index("item")
    for it, value in lam.items():
        assert items.loc[it, "tier_loading"] == pytest.approx(value, abs=1e-12)
    diagram = next(s for s in svgs if "Path diagram of the Applied AI tier" in s)
    assert diagram.count("<ellipse") == 4 and diagram.count("<rect x='430'") == len(lam)
    for it, value in lam.items():
        assert f">{value:.2f}</text>" in diagram and f">{it}</text>" in diagram
    # flagged: WRK3's suggested cross-loading on prompting (its verdict fails) drawn dashed
    cl = report.cross_loadings.set_index("item").loc["WRK3"]
    assert f"suggested cross-loading prompting &rarr; WRK3: expected standardized value " \
           f"{cl['sepc_all']:.2f} (fail)" in page
    # latent correlations on the arcs
    r = report.discriminant.query("competency_a == 'prompting' and competency_b == 'tools'")
    assert f">{float(r['cor_lv'].iloc[0]):.2f}</text>" in diagram
    # heat map per tier: the Schmid-Leiman loadings of the tier's omega
    for t in report.framework.tiers:
        assert f"Loadings of the {t.name} items" in page
    sl = report.results["omega_tier:applied"].sl
    heat = next(s for s in svgs if "Loadings of the Applied AI items" in s)
    assert f">{sl.loc['WRK3', 'g']:.2f}</text>" in heat
    # scree with parallel analysis: one dot per eigenvalue, the retained ones filled
    d = report.dimensionality
    scree = next(s for s in svgs if "Scree plot" in s)
    assert scree.count("<circle") == len(d["eigenvalues"])
    from psychoval.report._palette import PASS

    kept = sum(1 for ev, th in zip(d["eigenvalues"], d["thresholds"], strict=True)
               if ev > th)
    assert scree.count(f"fill='{PASS}'") == min(d["n_factors"], len(d["eigenvalues"])) == kept
    # text alternatives list every number drawn
    assert f"factor 1: eigenvalue {d['eigenvalues'][0]:.3f}" in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions", "--enable-logging=stderr", "--v=0"]


def _render(path: Path, tmp_path: Path) -> tuple[str, list[str], set[str]]:
    """DOM, console messages and the URLs the page itself requested (from the NetLog: page
    requests carry the file:// network isolation key; the browser's own background traffic
    does not)."""
    net = tmp_path / f"{path.stem}.netlog.json"
    out = subprocess.run([_chromium(), *FLAGS, f"--log-net-log={net}", "--dump-dom",
                          path.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True)
    console = [ln for ln in out.stderr.splitlines() if ":CONSOLE" in ln]
    events = json.loads(net.read_text(encoding="utf-8"))["events"]
    requested = {e["params"]["url"] for e in events
                 if "url" in e.get("params", {})
                 and str(e["params"].get("network_isolation_key", "")).startswith("file://")
                 and not e["params"]["url"].startswith(("file:", "data:"))}
    return out.stdout, console, requested


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (.ci/run installs "
                    "it)")
def test_html_renders_in_headless_chromium(report, tmp_path):
    page = tmp_path / "report.html"
    report.to_html(page)
    dom, console, requested = _render(page, tmp_path)
    assert "Validation report: Sample &lt;b&gt;bold&lt;/b&gt; framework" in dom
    assert "Recommended actions" in dom
    assert console == [] and requested == set()
    # the detector sees what it must: a page with a console error and external requests
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><head><link rel='stylesheet' "
                   "href='https://example.com/x.css'></head><body>"
                   "<img src='http://example.org/a.png'>"
                   "<script>console.error('boom')</script></body></html>", encoding="utf-8")
    _, console, requested = _render(bad, tmp_path)
    assert any("boom" in c for c in console)
    assert requested == {"https://example.com/x.css", "http://example.org/a.png"}


# Test-only probe appended to a copy of the report (the report itself has no script): it
# measures the laid-out page and writes the result into the DOM that --dump-dom prints.
PROBE = """<script>
const W = document.documentElement.clientWidth, wide = [];
for (const el of document.querySelectorAll('body *')) {
  if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
  if (el.parentElement && el.parentElement.closest('.scroll')) continue;
  const r = el.getBoundingClientRect();
  if (r.width > 0 && (r.right > W + 1 || r.left < -1))
    wide.push(el.tagName + '.' + (el.getAttribute('class') || ''));
}
let hidden = 0;
for (const d of document.querySelectorAll('details:not([open])'))
  if (d.checkVisibility()) for (const c of d.children)
    if (c.tagName !== 'SUMMARY' && !c.checkVisibility()) { hidden++; break; }
const out = {W: W, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 10),
  h1: document.querySelectorAll('h1').length, h2: document.querySelectorAll('h2').length,
  th: document.querySelectorAll('th').length,
  thNoScope: document.querySelectorAll('th:not([scope])').length,
  svg: document.querySelectorAll('svg').length,
  svgNoName: document.querySelectorAll('svg:not([aria-label]), svg:not([role=img])').length,
  details: document.querySelectorAll('details:not([open])').length, hiddenDetails: hidden};
const pre = document.createElement('pre'); pre.id = 'probe';
pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
</script>"""


def _probe(page: str, tmp_path: Path, width: int, *, print_media: bool = False) -> dict:
    """Layout facts of the page in a viewport ``width`` px wide; ``print_media`` applies
    the print rules on screen (headless --dump-dom cannot emulate print)."""
    if print_media:
        page = page.replace("@media print{", "@media all{")
    probe = tmp_path / f"probe_{width}_{int(print_media)}.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    out = subprocess.run([_chromium(), *FLAGS, f"--window-size={width},900", "--dump-dom",
                          probe.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True)
    return json.loads(html.unescape(re.search(r"<pre id=\"probe\">(.*?)</pre>",
                                              out.stdout).group(1)))


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
def test_html_layout_in_headless_chromium(report, tmp_path):
    """No element wider than the viewport (wide tables scroll inside their own box) on a
    desktop and a phone; headings, scoped table headers and named SVGs for screen readers;
    the print rules open every collapsed section; a screenshot shows nothing drawn in the
    page's right margin."""
    page = report.to_html()
    facts = _probe(page, tmp_path, 390)  # a phone; the A4 width (print rules) below
    assert facts["wide"] == [] and facts["scrollWidth"] <= facts["W"], facts
    assert facts["h1"] == 1 and facts["h2"] >= 10
    assert facts["th"] > 100 and facts["thNoScope"] == 0
    assert facts["svg"] >= 10 and facts["svgNoName"] == 0
    assert facts["details"] > 5 and facts["hiddenDetails"] == facts["details"]  # on screen
    # the probe sees what it must: an element wider than the viewport
    wide = _probe("<html><body><div style='width:3000px'>x</div></body></html>", tmp_path,
                  1200)
    assert wide["wide"] == ["DIV."] and wide["scrollWidth"] > wide["W"]
    printed = _probe(page, tmp_path, 794, print_media=True)  # A4 at 96 dpi
    # every collapsed section printed open (figures' text alternatives are not printed)
    assert printed["hiddenDetails"] == 0 and printed["wide"] == []
    assert printed["scrollWidth"] <= printed["W"]
    # the screenshot: content, and a right margin left blank (nothing overflows into it)
    image = pytest.importorskip("PIL.Image")
    (tmp_path / "r.html").write_text(page, encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run([_chromium(), *FLAGS, "--hide-scrollbars", "--window-size=1000,2400",
                    f"--screenshot={shot}", (tmp_path / "r.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    import numpy as np

    im = np.asarray(image.open(shot).convert("RGB"))
    assert im.shape == (2400, 1000, 3)
    background = im[2, 2]
    assert (im[:, -16:] == background).all()
    assert (im != background).any(axis=2).mean() > 0.2


def test_json_validates_against_the_strict_schema(report, tmp_path):
    doc = json.loads(report.to_json(tmp_path / "r.json"))
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == doc
    jsonschema.validate(doc, SCHEMA)
    assert doc["schema"] == "psychoval.validation_report/7"
    assert doc["summary"]["fail"] == report.counts["fail"]
    # the published schema is this schema
    published = json.loads((ROOT / "docs" / "validation_report.schema.json").read_text())
    assert published == SCHEMA
    # every object is closed and lists its required keys
    def closed(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node["additionalProperties"] is False and node["required"]
            for v in node.values():
                closed(v)
        elif isinstance(node, list):
            for v in node:
                closed(v)
    closed(SCHEMA)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(extra=1), "Additional properties are not allowed"),
    (lambda d: d.pop("verdicts"), "'verdicts' is a required property"),
    (lambda d: d["verdicts"][0].update(verdict="maybe"), "'maybe' is not one of"),
    (lambda d: d["competencies"][0].update(alpha="high"), "'high' is not of type"),
    (lambda d: d["items"][0].pop("verdict"), "'verdict' is a required property"),
    (lambda d: d["provenance"].update(input_sha256="abc"), "does not match"),
    (lambda d: d.update(schema="psychoval.validation_report/1"), "was expected"),
    (lambda d: d["tiers"][0].pop("omega_h"), "'omega_h' is a required property"),
])
def test_mutated_report_fails_validation(report, mutate, message):
    doc = copy.deepcopy(report.to_dict())
    mutate(doc)
    with pytest.raises(jsonschema.ValidationError, match=message):
        jsonschema.validate(doc, SCHEMA)


def test_markdown_summary_and_notebook_html(report, tmp_path):
    md = report.to_markdown(tmp_path / "r.md")
    assert md.startswith("# Validation report: ")
    assert "## Recommended actions" in md and "| id | about | action | verdicts |" in md
    for _, a in report.actions.iterrows():
        assert a["id"] in md
    text = str(report.summary())
    assert "Recommended actions" in text and "verdicts fail" in text
    frag = report._repr_html_()
    assert "<script" not in frag and "&lt;script&gt;" not in frag  # items are not in it
    assert "Recommended actions" in frag
    assert repr(report).startswith("<ValidationReport framework=")
    assert report.to_frame().equals(report.verdicts)


# Every Markdown construct a hostile text could open: raw HTML, a javascript: link and image,
# an autolink, code, emphasis, strikethrough, an entity, a table cell break, a line break with
# a heading and a list item after it, and a trailing backslash.
HOSTILE = ("`tick` ``two`` | pipe [click](javascript:alert(1)) <img src=x onerror=alert(2)> "
           "*em* _u_ ~~s~~ &amp; &#60;b&#62; ![i](http://e.example/x.png) "
           "<javascript:alert(3)>\n# heading\n- item\n1. one \\")
RENDERED = " ".join(line.strip() for line in HOSTILE.split("\n"))  # as text, on one line


@pytest.fixture(scope="module")
def hostile_report():
    """A framework named <svg onload=alert(1)> whose competency names and item texts, and
    the report's notes, provenance, actions and verdict reasons, hold HOSTILE."""
    import dataclasses

    import pandas as pd

    spec = sample_framework().to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] == "leadership"]
    spec.pop("roles", None)  # they name competencies of the other tiers
    spec["name"] = "<svg onload=alert(1)>"
    for comp in spec["tiers"][0]["competencies"]:
        comp["name"] = HOSTILE
        comp["items"][0]["text"] = HOSTILE
    rep = pv.validate(pv.load_sample(), pv.read_framework(spec), seed=2, n_boot=20)
    verdicts = rep.verdicts.copy()
    verdicts.loc[0, "reason"] = HOSTILE
    actions = pd.DataFrame({"id": ["A01"], "kind": ["review"], "target": ["STR1"],
                            "text": [HOSTILE], "verdicts": ["V001"]})
    prov = dict(rep.provenance, input="in`put`` | <b>x</b>.csv",
                r_calls={**rep.provenance["r_calls"], "alpha [x](javascript:y)": HOSTILE})
    return dataclasses.replace(
        rep, verdicts=verdicts, actions=actions, provenance=prov,
        notes=(HOSTILE, "- 1. # > [x]: javascript:alert(1)\n==="),
        methods={**rep.methods, "dif": HOSTILE}, timings={**rep.timings, "<i>step</i>": 1.0})


def _commonmark():
    from markdown_it import MarkdownIt

    # html=True: raw HTML would be parsed as such (html_block / html_inline), so its absence
    # means the escaping held, not that the parser ignored HTML
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _text(inline) -> str:
    return "".join(c.content for c in inline.children if c.type in ("text", "code_inline"))


def test_markdown_escapes_every_text_for_commonmark(hostile_report, tmp_path):
    md = hostile_report.to_markdown(tmp_path / "r.md")
    assert (tmp_path / "r.md").read_text(encoding="utf-8") == md
    tokens = _commonmark().parse(md)
    flat = [t for tok in tokens for t in [tok, *(tok.children or [])]]
    kinds = {t.type for t in flat}
    assert not kinds & {"html_block", "html_inline", "link_open", "image", "em_open",
                        "s_open", "code_block", "fence", "hr", "blockquote_open",
                        "ordered_list_open"}
    inlines = [t for t in tokens if t.type == "inline"]
    texts = [_text(t) for t in inlines]
    # the title, as text
    assert texts[0] == "Validation report: <svg onload=alert(1)>"
    # every hostile text renders as itself, on one line
    assert texts.count(RENDERED) == 6  # 3 item texts, a verdict's reason, an action, a note
    assert "- 1. # > [x]: javascript:alert(1) ===" in texts
    assert "dif: " + RENDERED in texts
    assert "input: in`put`` | <b>x</b>.csv" in texts  # a code span fenced by ```
    assert "alpha [x](javascript:y): " + RENDERED in texts
    # tables survive pipes and newlines: the items table has one row per item, 7 cells each
    start = md.index("## Items")
    table = _commonmark().parse(md[start:md.index("## Model fit")])
    rows = [t for t in table if t.type == "tr_open"]
    cells = [t for t in table if t.type == "td_open"]
    assert len(rows) == len(hostile_report.items) + 1 and len(cells) == 7 * (len(rows) - 1)
    assert sum(_text(t) == RENDERED for t in table if t.type == "inline") == 3
    # the HTML a renderer makes of it has no element of the hostile texts
    page = _commonmark().render(md)
    for tag in ("<svg", "<img", "<b>", "<a ", "<i>", "<h1>heading"):
        assert tag not in page.replace("<h1>Validation", "")
    assert "&lt;svg onload=alert(1)&gt;" in page


def test_cli_validate_writes_reports_and_exit_codes(tmp_path, capsys):
    fw = tmp_path / "fw.yaml"
    spec = sample_framework().to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] == "leadership"]
    spec.pop("roles", None)  # they name competencies of the other tiers
    import yaml

    fw.write_text(yaml.safe_dump(spec), encoding="utf-8")
    resp = str(sample_path("responses.csv"))
    args = [resp, "--framework", str(fw), "--html", str(tmp_path / "o" / "r.html"),
            "--json", str(tmp_path / "o" / "r.json"), "--md", str(tmp_path / "o" / "r.md"),
            "--seed", "4", "--n-boot", "20"]
    assert main(["validate", *args]) == 0
    out = capsys.readouterr()
    assert "Validation report" in out.out and "validate [" not in out.err  # no bar off a tty
    doc = json.loads((tmp_path / "o" / "r.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["options"]["seed"] == 4
    assert (tmp_path / "o" / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # --strict: 1 when a criterion failed (strategy's alpha cannot reach .99)
    crit = tmp_path / "strict.yaml"
    crit.write_text("criteria:\n  alpha: 0.99\n", encoding="utf-8")
    assert main(["validate", resp, "--framework", str(fw), "--criteria", str(crit),
                 "--strict", "--quiet", "--n-boot", "20"]) == 1
    assert "--strict:" in capsys.readouterr().err
    # errors: one line, no traceback, exit 3
    crit.write_text("criteria:\n  alfa: 0.9\n", encoding="utf-8")
    assert main(["validate", resp, "--framework", str(fw), "--criteria", str(crit),
                 "--quiet"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("psychoval validate: error:") and "Traceback" not in err
    assert "unknown criterion name(s) 'alfa'" in err
    assert main(["validate", resp]) == 2  # --framework is required


def test_cli_items(tmp_path, capsys):
    resp = str(sample_path("responses.csv"))
    fw = str(sample_path("framework.yaml"))
    assert main(["items", resp, "--framework", fw, "--json", str(tmp_path / "i.json")]) == 0
    out = capsys.readouterr().out
    flags = out.split("Item flags")[1]
    assert "likely_miskey" not in flags or "CON3" in flags
    assert "negative_discrimination" in flags and "CON3" in flags
    doc = json.loads((tmp_path / "i.json").read_text())
    assert doc["item_analysis"]["schema"] and doc["flags"]["schema"]
    assert "CON3" in {r[0] for r in doc["flags"]["flags"]["data"]}
    # with a framework: the distractors and the DIF screen over its group column, as validate
    assert "likely_miskey" in flags and "dif" in flags and "PRM4" in flags
    assert "DIF: 'engineering' vs 'others' (41 items" in out
    assert doc["distractors"]["schema"] == "psychoval.distractors/1"
    assert [d["focal"] for d in doc["dif"]] == [["engineering"], ["operations"], ["product"],
                                               ["sales"]]
    # --items: only the item analysis of those items
    assert main(["items", resp, "--framework", fw, "--items", "PRM1", "PRM2", "PRM3"]) == 0
    assert "DIF:" not in capsys.readouterr().out


@pytest.mark.slow
def test_make_demo_runs_validate(tmp_path, monkeypatch):
    """`make demo` runs `psychoval validate` on data/sample and writes HTML and JSON reports
    into out/demo/ (run here in-process into a temporary folder)."""
    makefile = (ROOT / "Makefile").read_text()
    block = makefile[makefile.index("demo:"):makefile.index("test:")]
    line = block[block.index("psychoval validate"):].replace("\\\n", " ").split("\n")[0]
    argv = line.replace("$(OUT)", str(tmp_path / "out" / "demo")).split()[1:]
    assert argv[:4] == ["validate", "data/sample/responses.csv", "--framework",
                        "data/sample/framework.yaml"]
    assert "--html" in argv and "--json" in argv
    monkeypatch.chdir(ROOT)
    assert main([*argv, "--quiet", "--n-boot", "50"]) == 0
    doc = json.loads((tmp_path / "out" / "demo" / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["n_respondents"] == 1500
    assert (tmp_path / "out" / "demo" / "report.html").stat().st_size > 10_000
    # the whole sample's page (every section: skills gaps, content validity, standard
    # setting) fits a phone and an A4 page, every table header scoped
    if _chromium() is not None:
        page = (tmp_path / "out" / "demo" / "report.html").read_text(encoding="utf-8")
        for width, print_media in ((390, False), (794, True)):
            facts = _probe(page, tmp_path, width, print_media=print_media)
            assert facts["wide"] == [] and facts["scrollWidth"] <= facts["W"], facts
            assert facts["thNoScope"] == 0 and facts["svgNoName"] == 0
