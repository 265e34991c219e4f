"""Screenshots of the demo report for docs/validate.md (run after `make demo`):

    .venv/bin/python docs/img/make_screenshots.py [out/demo/report.html]

Headless Chromium renders the page once 1000 px wide; a probe script (added to a temporary
copy only: the report has no script) reports where the pictured parts are, and Pillow crops
them, scales them to 760 px and stores them with a 256-colour palette (small PNGs).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from html import unescape
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 1000, 16000
PROBE = """<script>
const box = el => { const r = el.getBoundingClientRect();
  return [r.left, r.top + window.scrollY, r.right, r.bottom + window.scrollY]; };
const fig = t => [...document.querySelectorAll('figure')]
  .find(f => f.querySelector('svg').getAttribute('aria-label').startsWith(t));
const out = {
  overview: [box(document.querySelector('h1')), box(document.querySelector('#overview')
             .parentElement.querySelectorAll('h3')[1])],
  omega: [box(fig('Omega of the AI literacy')), box(fig('Omega of the AI literacy'))],
  diagram: [box(fig('Path diagram of the Applied AI').previousElementSibling
                 .previousElementSibling), box(fig('Loadings of the Applied AI'))],
};
const pre = document.createElement('pre'); pre.id = 'probe';
pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
</script>"""


def main(report: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--window-size={WIDTH},{HEIGHT}"]
    page = report.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
        dom = subprocess.run([*flags, "--dump-dom", probe.as_uri()], capture_output=True,
                             text=True, check=True).stdout
        boxes = json.loads(unescape(re.search(r'<pre id="probe">(.*?)</pre>', dom).group(1)))
        shot = Path(tmp) / "shot.png"
        plain = Path(tmp) / "report.html"
        plain.write_text(page, encoding="utf-8")
        subprocess.run([*flags, f"--screenshot={shot}", plain.as_uri()], capture_output=True,
                       check=True)
        full = Image.open(shot).convert("RGB")
    for name, (first, last) in boxes.items():
        top = max(int(first[1]) - 12, 0)
        bottom = int(last[3]) + 12 if name != "overview" else int(last[1]) - 4
        img = full.crop((0, top, WIDTH, min(bottom, HEIGHT)))
        scale = 760 / img.width
        img = img.resize((760, round(img.height * scale)), Image.LANCZOS)
        out = HERE / f"report_{name}.png"
        img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
        print(out, img.size, out.stat().st_size, "bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo/report.html"))
