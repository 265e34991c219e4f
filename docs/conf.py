"""Sphinx configuration: Markdown pages (MyST) plus an API reference from numpydoc docstrings.

Built in the test suite with warnings as errors (tests/test_docs.py).
"""

import psychoval

project = "psychoval"
author = "The psychoval developers"
release = psychoval.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "**/*.schema.json"]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()
autodoc_typehints = "none"
html_theme = "alabaster"
suppress_warnings = ["myst.header"]
