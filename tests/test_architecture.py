"""The house rules (issue 17): the layers of the data flow, no import cycles, no private
names taken across modules, no overlong module without a reason. docs/architecture.md
describes the tree these rules keep."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "psychoval"
MAX_LINES = 600  # longer modules say why in their docstring ("Length: ...")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def test_layer_contracts_hold():
    """pyproject's import-linter contracts: io -> framework -> stats -> verdicts -> report
    -> pipeline -> cli, and the rooms of stats (the same check as ``lint-imports``)."""
    pytest.importorskip("importlinter")
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(SRC.parents[1] / "pyproject.toml")) == 0


def test_no_import_cycles():
    """No strongly connected component of more than one module in the import graph
    (imports inside functions count; imports for type checkers only do not)."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("psychoval", exclude_type_checking_imports=True)
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for m in sorted(edges):
        if m not in index:
            visit(m)
    assert cycles == []


def _private_imports() -> list[str]:
    found = []
    for name, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if not node.module.startswith("psychoval"):
                continue
            for alias in node.names:
                if not alias.name.startswith("_") or alias.name.startswith("__"):
                    continue
                try:
                    if importlib.util.find_spec(f"{node.module}.{alias.name}") is not None:
                        continue  # a private module of a package: its room's own file
                except ModuleNotFoundError:  # node.module is a module, not a package
                    pass
                found.append(f"{name}:{node.lineno} takes {node.module}.{alias.name}")
    return found


def test_no_private_names_across_modules():
    """What one module uses from another has a public name (a leading underscore means
    'this module only')."""
    assert _private_imports() == []


def test_long_modules_say_why():
    long = []
    for name, path in _modules():
        text = path.read_text(encoding="utf-8")
        n = text.count("\n")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if n > MAX_LINES and "Length:" not in doc:
            long.append(f"{name} ({n} lines)")
    assert long == []


def test_architecture_doc_shows_the_import_graph():
    """docs/architecture.md's import graph is the code's (regenerate it with
    ``python docs/import_graph.py`` when a layer gains or loses an import)."""
    pytest.importorskip("grimp")
    import importlib.util as iu
    import re

    spec = iu.spec_from_file_location("import_graph", SRC.parents[1] / "docs" / "import_graph.py")
    mod = iu.module_from_spec(spec)
    spec.loader.exec_module(mod)
    doc = (SRC.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"## The import graph.*?```\n(.*?)```", doc, re.S).group(1)
    assert mod.parse(block) == set(mod.edges())
