"""Sample validations shared by the test modules that only read them (each costs seconds).

Keyed by the fairness step's budget as well: tests/conftest.py sets it to 0 outside the
fairness tests, and a report made under one budget is not the report of the other.
"""

from __future__ import annotations

import functools

import psychoval as pv
from psychoval.datasets import sample_path
from psychoval.report import ValidationReport

N_BOOT = 100


def sample_report(**options) -> ValidationReport:
    """``pv.validate`` of the sample files (responses.csv, framework.yaml) with its expert
    panels (content_ratings.csv, angoff_ratings.csv, as ``make demo``), ``seed=11``,
    ``n_boot=100`` and ``criteria="default"`` unless given; one run per options and budget."""
    from psychoval.pipeline import _fairness

    panels = {"content_ratings": str(sample_path("content_ratings.csv")),
              "angoff_ratings": str(sample_path("angoff_ratings.csv"))}
    key = tuple(sorted({"seed": 11, "n_boot": N_BOOT, "criteria": "default", **panels,
                        **options}.items(), key=lambda kv: kv[0]))
    return _run(_fairness.INVARIANCE_BUDGET, _freeze(key))


def _freeze(obj):
    if isinstance(obj, dict):
        return ("__dict__", tuple(sorted((k, _freeze(v)) for k, v in obj.items())))
    if isinstance(obj, (list, tuple)):
        return tuple(_freeze(v) for v in obj)
    return obj


def _thaw(obj):
    if isinstance(obj, tuple) and obj and obj[0] == "__dict__":
        return {k: _thaw(v) for k, v in obj[1]}
    if isinstance(obj, tuple):
        return tuple(_thaw(v) for v in obj)
    return obj


@functools.cache
def _run(budget: float, key: tuple) -> ValidationReport:
    options = {k: _thaw(v) for k, v in key}
    return pv.validate(sample_path("responses.csv"), sample_path("framework.yaml"), **options)
