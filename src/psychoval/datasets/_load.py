"""The packaged sample assessment (a copy of ``data/sample/``, made by its make_sample.py)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from psychoval._input import check_choice

__all__ = ["load_sample", "sample_framework", "sample_path", "sample_true_model", "SAMPLES",
           "load_holzinger_swineford"]

SAMPLES = {"responses": "responses.csv", "clean": "responses_clean.csv",
           "seed2": "responses_seed2.csv"}
FILES = tuple(SAMPLES.values()) + ("framework.yaml", "framework_items.csv", "true_model.json")


def sample_path(filename: str = "responses.csv") -> Path:
    """Path of a packaged sample file (``responses.csv``, ``responses_clean.csv``,
    ``responses_seed2.csv``, ``framework.yaml``, ``framework_items.csv``, ``true_model.json``)."""
    check_choice("filename", filename, FILES)
    return Path(str(resources.files("psychoval.datasets").joinpath("data", filename)))


def load_sample(name: str = "responses"):
    """Load the sample AI-competency assessment (1,500 respondents, 41 items in 10 competencies
    and 3 tiers, a job_family column).

    Parameters
    ----------
    name : {"responses", "clean", "seed2"}
        ``"responses"``: the data with the four planted defects (weak item ETH4, miskeyed
        CON3, WRK3 belonging to another competency, DIF on PRM4 in the "engineering" family);
        ``"seed2"``: the same population model with another seed; ``"clean"``: a replicate of
        the model without the defects. The model is in ``sample_true_model()``.

    Returns
    -------
    ResponseTable
        Raw responses (option letters, labels and numbers as written), ids from
        ``respondent_id``. Score them with ``sample_framework().score(...)``.

    Examples
    --------
    >>> import psychoval as pv
    >>> from psychoval.datasets import sample_framework
    >>> table = pv.load_sample()
    >>> table.shape
    (1500, 44)
    >>> scored = sample_framework().score(table)
    >>> round(float(scored.scores["CON1"].mean()), 4)
    0.7225
    """
    from psychoval.io import read_responses

    check_choice("name", name, tuple(SAMPLES))
    return read_responses(sample_path(SAMPLES[name]), id_column="respondent_id")


def sample_framework():
    """The framework of the sample assessment (``framework.yaml``)."""
    from psychoval.framework import read_framework

    return read_framework(sample_path("framework.yaml"))


def sample_true_model() -> dict[str, Any]:
    """The population model the sample was generated from (``true_model.json``)."""
    return json.loads(sample_path("true_model.json").read_text(encoding="utf-8"))


def load_holzinger_swineford():
    """The Holzinger & Swineford (1939) data as lavaan ships it (301 pupils, x1..x9).

    The classic CFA teaching data set, for examples that can be checked against lavaan's
    tutorial (``lavaan::HolzingerSwineford1939``, unchanged; ``school`` as its labels).

    Returns
    -------
    pandas.DataFrame
        Columns id, sex, ageyr, agemo, school, grade, x1..x9.

    Examples
    --------
    >>> from psychoval.datasets import load_holzinger_swineford
    >>> load_holzinger_swineford().shape
    (301, 15)
    """
    import pandas as pd

    path = resources.files("psychoval.datasets").joinpath("data", "HolzingerSwineford1939.csv")
    return pd.read_csv(str(path))
