"""Arithmetic of lavaan's constraint and defined-parameter syntax (framework layer).

The right-hand side of ``:=`` and both sides of ``==``, ``<``, ``>`` are R expressions in the
parameter labels (``ind := a*b``, ``total := c + a*b``, ``a + b == 1``, ``l3 < 0.6``). This
module parses the subset lavaan users write - numbers, labels, ``+ - * / ^``, parentheses and
the functions of :data:`FUNCTIONS` - into a small tree with the source position of every name,
and evaluates it on real or complex values (complex-step derivatives for the delta method).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["FUNCTIONS", "Expr", "names", "evaluate", "affine"]

FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "log10": np.log10,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "tanh": np.tanh,
    # abs on a complex step: |x| has the derivative sign(x) (R's abs is not analytic either)
    "abs": lambda v: v * np.sign(np.real(v)) if np.iscomplexobj(v) else np.abs(v),
}

# a node: ("num", value) | ("name", name, line, col) | ("neg", node)
#       | ("bin", op, left, right) with op in + - * / ^ | ("call", fname, node)
Expr = tuple


def names(node: Expr) -> list[tuple[str, int, int]]:
    """(name, line, column) of every label the expression reads, in order."""
    kind = node[0]
    if kind == "name":
        return [(node[1], node[2], node[3])]
    if kind == "neg":
        return names(node[1])
    if kind == "bin":
        return names(node[2]) + names(node[3])
    if kind == "call":
        return names(node[2])
    return []


def evaluate(node: Expr, env: Mapping[str, Any]) -> Any:
    """The value of the expression with labels taken from ``env`` (floats or complex)."""
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "name":
        return env[node[1]]
    if kind == "neg":
        return -evaluate(node[1], env)
    if kind == "call":
        return FUNCTIONS[node[1]](evaluate(node[2], env))
    a, b = evaluate(node[2], env), evaluate(node[3], env)
    op = node[1]
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    return a ** b


def affine(node: Expr) -> tuple[dict[str, float], float] | None:
    """``(coefficients, constant)`` when the expression is affine in its labels
    (``2*a - b + 1`` -> ``({"a": 2, "b": -1}, 1)``), else None."""
    kind = node[0]
    if kind == "num":
        return {}, float(node[1])
    if kind == "name":
        return {node[1]: 1.0}, 0.0
    if kind == "neg":
        inner = affine(node[1])
        if inner is None:
            return None
        return {k: -v for k, v in inner[0].items()}, -inner[1]
    if kind == "call":
        return None
    op, left, right = node[1], affine(node[2]), affine(node[3])
    if left is None or right is None:
        return None
    (ca, ka), (cb, kb) = left, right
    if op in "+-":
        s = 1.0 if op == "+" else -1.0
        out = dict(ca)
        for k, v in cb.items():
            out[k] = out.get(k, 0.0) + s * v
        return out, ka + s * kb
    if op == "*" and (not ca or not cb):
        c, k, f = (cb, kb, ka) if not ca else (ca, ka, kb)
        return {n: v * f for n, v in c.items()}, k * f
    if op == "/" and not cb and kb != 0:
        return {n: v / kb for n, v in ca.items()}, ka / kb
    if op == "^" and not ca and not cb:
        return {}, ka ** kb
    return None
