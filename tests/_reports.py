"""Sample validations shared by the test modules that only read them (each costs seconds).

Keyed by the fairness step's budget as well: tests/conftest.py sets it to 0 outside the
fairness tests, and a report made under one budget is not the report of the other.
"""

from __future__ import annotations

import functools
import json

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
    key = {"seed": 11, "n_boot": N_BOOT, "criteria": "default", **panels, **options}
    return _run(_fairness.INVARIANCE_BUDGET, json.dumps(key, sort_keys=True))


@functools.cache
def _run(budget: float, options: str) -> ValidationReport:
    return pv.validate(sample_path("responses.csv"), sample_path("framework.yaml"),
                       **json.loads(options))
