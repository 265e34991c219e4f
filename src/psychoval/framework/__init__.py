"""Competency frameworks: tiers -> competencies -> items; scoring (answer keys, labels,
reverse keys, rater means); scale scores; lavaan model syntax."""

from psychoval.framework._framework import (
    Competency,
    Framework,
    Item,
    Tier,
)
from psychoval.framework._read import read_framework
from psychoval.framework._scoring import ScaleScores, ScoredResponses

__all__ = [
    "read_framework",
    "Framework",
    "Tier",
    "Competency",
    "Item",
    "ScoredResponses",
    "ScaleScores",
]
