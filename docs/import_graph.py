"""Print the package-level import graph of psychoval (the block in docs/architecture.md): ``python docs/import_graph.py``. Imports for type checkers only
are left out, as in the layer contracts (pyproject.toml)."""

from __future__ import annotations

import grimp

GROUPS = [  # most specific first
    "psychoval.stats.core", "psychoval.stats.factor", "psychoval.stats.sem",
    "psychoval.stats.reliability", "psychoval.stats.items", "psychoval.stats.quality",
    "psychoval.stats.raters", "psychoval.stats.decisions",
    "psychoval.stats", "psychoval.io", "psychoval.framework",
    "psychoval.verdicts", "psychoval.report", "psychoval.pipeline", "psychoval.cli",
    "psychoval.compat",
    "psychoval.plotting", "psychoval.datasets",
]


def group(module: str) -> str | None:
    for g in GROUPS:
        if module == g or module.startswith(g + "."):
            return g.removeprefix("psychoval.")
    return None  # the shared bottom modules (exceptions, _input, _results, ...) and the face


def edges() -> list[tuple[str, str]]:
    graph = grimp.build_graph("psychoval", exclude_type_checking_imports=True)
    out = set()
    for m in graph.modules:
        a = group(m)
        if a is None:
            continue
        for d in graph.find_modules_directly_imported_by(m):
            b = group(d)
            if b is not None and b != a and not (a == "stats" and b.startswith("stats.")):
                out.add((a, b))
    return sorted(out)


def text() -> str:
    """One line per importing package: ``package -> imported, ...``."""
    by: dict[str, list[str]] = {}
    for a, b in edges():
        by.setdefault(a, []).append(b)
    width = max(map(len, by))
    return "\n".join(f"{a:<{width}} -> {', '.join(bs)}" for a, bs in sorted(by.items()))


def parse(text: str) -> set[tuple[str, str]]:
    """The edges of a ``text()`` block (as pasted in docs/architecture.md)."""
    out = set()
    for line in text.strip().splitlines():
        a, _, bs = line.partition("->")
        out |= {(a.strip(), b.strip()) for b in bs.split(",")}
    return out


if __name__ == "__main__":
    print(text())
