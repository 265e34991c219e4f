"""Loader for the R reference files copied from the shared reference set.

``data/<name>.csv`` are the data sets, ``ref/<name>.json`` the checks (schema in
README-shared.md). Every check is identified as ``"<dataset>/<check id>"``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).parent
DATASETS = ("HolzingerSwineford1939", "bfi", "ability", "rubric_ratings")


@functools.cache
def _file(dataset: str) -> dict[str, Any]:
    with open(HERE / "ref" / f"{dataset}.json", encoding="utf-8") as fh:
        return json.load(fh)


@functools.cache
def load_data(dataset: str) -> pd.DataFrame:
    """The data set exactly as R read it (pandas' defaults read the same bytes)."""
    return pd.read_csv(HERE / "data" / f"{dataset}.csv")


@functools.cache
def dat_r(dataset: str) -> pd.DataFrame:
    """The reference setup's ``dat_r``: reverse-keyed items rescored min + max - x on the
    data set's declared scale (bfi: 7 - x); the data as read when nothing is reverse-keyed."""
    meta = load_meta(dataset)
    rev = meta.get("reverse_keyed") or []
    rev = list(rev.values()) if isinstance(rev, dict) else list(rev)
    df = load_data(dataset)
    if not rev:
        return df
    df = df.copy()
    df[rev] = meta["scale_min"] + meta["scale_max"] - df[rev]
    return df


@functools.cache
def extra_checks(name: str) -> dict[str, dict[str, Any]]:
    """The checks of ``ref_extra/<name>.json`` (made by ``r/<name>.R``), by id."""
    with open(HERE / "ref_extra" / f"{name}.json", encoding="utf-8") as fh:
        return {c["id"]: c for c in json.load(fh)["checks"]}


@functools.cache
def extra_data(name: str) -> pd.DataFrame:
    """A data file an extra R script wrote beside its references (``ref_extra/<name>.csv``)."""
    return pd.read_csv(HERE / "ref_extra" / f"{name}.csv")


def load_meta(dataset: str) -> dict[str, Any]:
    with open(HERE / "data" / f"{dataset}.meta.json", encoding="utf-8") as fh:
        return json.load(fh)


def checks(dataset: str) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in _file(dataset)["checks"]}


def all_check_keys() -> list[str]:
    return [f"{d}/{c['id']}" for d in DATASETS for c in _file(d)["checks"]]


@dataclasses.dataclass
class RefCheck:
    """One reference check. Checkers read values with :meth:`take` (or set them aside with
    :meth:`skip` and a reason); the harness then fails if any value was neither."""

    dataset: str
    raw: dict[str, Any]
    _seen: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.id}"

    @property
    def id(self) -> str:
        return self.raw["id"]

    @property
    def options(self) -> dict[str, Any]:
        return self.raw.get("options", {})

    @property
    def call(self) -> str:
        return self.raw["call"]

    def take(self, name: str) -> Any:
        self._seen[name] = "asserted"
        return self.raw["values"][name]

    def has(self, name: str) -> bool:
        return name in self.raw["values"]

    def skip(self, name: str, reason: str) -> None:
        assert reason, "a skipped reference value needs a reason"
        self._seen[name] = reason

    def unchecked(self) -> list[str]:
        return [k for k in self.raw["values"] if k not in self._seen]

    def data(self) -> pd.DataFrame:
        return load_data(self.dataset)


def get(key: str) -> RefCheck:
    dataset, cid = key.split("/", 1)
    return RefCheck(dataset, checks(dataset)[cid])
