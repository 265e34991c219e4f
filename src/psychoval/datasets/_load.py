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
# the expert panels (issue 21): DataFrames of the ratings as written, not response tables
PANELS = {"content_ratings": "content_ratings.csv", "angoff_ratings": "angoff_ratings.csv"}
FILES = tuple(SAMPLES.values()) + ("framework.yaml", "framework_items.csv",
                                   "true_model.json") + tuple(PANELS.values())


def sample_path(filename: str = "responses.csv") -> Path:
    """Path of a packaged sample file (``responses.csv``, ``responses_clean.csv``,
    ``responses_seed2.csv``, ``framework.yaml``, ``framework_items.csv``, ``true_model.json``,
    ``content_ratings.csv``, ``angoff_ratings.csv``)."""
    check_choice("filename", filename, FILES)
    return Path(str(resources.files("psychoval.datasets").joinpath("data", filename)))


def load_sample(name: str = "responses"):
    """Load the sample AI-competency assessment (1,500 respondents, 41 items in 10 competencies
    and 3 tiers, a job_family column).

    Parameters
    ----------
    name : {"responses", "clean", "seed2", "content_ratings", "angoff_ratings"}
        ``"responses"``: the data with the four planted defects (weak item ETH4, miskeyed
        CON3, WRK3 belonging to another competency, DIF on PRM4 in the "engineering" family);
        ``"seed2"``: the same population model with another seed; ``"clean"``: a replicate of
        the model without the defects. The model is in ``sample_true_model()``.
        ``"content_ratings"``: an expert panel's content ratings of the 41 items (8 experts;
        columns expert, item, relevance, essentiality, assignment, comment; most experts put
        WRK3 in prompting and rate ETH4 not relevant), for :func:`psychoval.content_validity`.
        ``"angoff_ratings"``: a modified-Angoff panel on the 5 concepts items (6 judges, 2
        rounds, levels "proficient" and "advanced"; columns judge, round, level, item,
        rating), for :func:`psychoval.standard_setting`.

    Returns
    -------
    ResponseTable or DataFrame
        The responses: raw (option letters, labels and numbers as written), ids from
        ``respondent_id``; score them with ``sample_framework().score(...)``. The panels: a
        DataFrame of the ratings (text cells as written, blanks empty strings).

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
    >>> pv.load_sample("angoff_ratings").shape
    (120, 5)
    """
    from psychoval.io import read_responses

    check_choice("name", name, tuple(SAMPLES) + tuple(PANELS))
    if name in PANELS:
        import pandas as pd

        numeric = {"round": int, "rating": float, "relevance": int}
        frame = pd.read_csv(sample_path(PANELS[name]), dtype=str, keep_default_na=False)
        return frame.astype({k: v for k, v in numeric.items() if k in frame})
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
    Source: Holzinger, K. J., & Swineford, F. (1939). *A study in factor analysis: the
    stability of a bi-factor solution*. Supplementary Educational Monographs 48, University of
    Chicago. lavaan (GPL >= 2) distributes this nine-test subset and names no separate licence
    for the data; provenance and licences of the bundled data are in ``docs/tutorials.md``.

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
