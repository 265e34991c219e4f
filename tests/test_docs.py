"""The documentation builds with warnings as errors (Sphinx: Markdown pages + API reference)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    from sphinx.cmd.build import build_main

    generated = DOCS / "api" / "generated"
    shutil.rmtree(generated, ignore_errors=True)
    try:
        code = build_main(["-W", "--keep-going", "-q", "-b", "html", "-d", str(tmp_path / "doctrees"),
                           str(DOCS), str(tmp_path / "html")])
    finally:
        shutil.rmtree(generated, ignore_errors=True)
    assert code == 0
    assert (tmp_path / "html" / "api" / "index.html").exists()
