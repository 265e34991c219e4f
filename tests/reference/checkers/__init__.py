"""Registry of reference checkers, one module per feature.

A checker is a function ``f(check: RefCheck) -> None`` that computes psychoval's result for the
check's call and asserts every value of the check (``check.take``) at the tolerances of
``tests/_tolerances.py``, or sets a value aside with ``check.skip(name, reason)``.
Register it for check keys (``"dataset/check-id"``, fnmatch patterns allowed) with
:func:`checker`. Every module in this package is imported by the harness.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
from collections.abc import Callable

_REGISTRY: list[tuple[tuple[str, ...], Callable]] = []


def checker(*patterns: str) -> Callable[[Callable], Callable]:
    def register(func: Callable) -> Callable:
        _REGISTRY.append((patterns, func))
        return func

    return register


def load_all() -> None:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


def find(key: str) -> list[Callable]:
    return [f for pats, f in _REGISTRY if any(fnmatch.fnmatchcase(key, p) for p in pats)]
