"""Decisions on scores (issue 20): classification consistency and accuracy at cut scores,
conditional measurement error and subscore added value."""

from psychoval.stats.decisions._classification import ClassificationResult, classification
from psychoval.stats.decisions._csem import ConditionalSEMResult, conditional_sem
from psychoval.stats.decisions._skills_gap import SkillsGapResult, skills_gap
from psychoval.stats.decisions._standard_setting import StandardSettingResult, standard_setting
from psychoval.stats.decisions._subscores import SubscoreValueResult, subscore_value

__all__ = [
    "classification",
    "ClassificationResult",
    "conditional_sem",
    "ConditionalSEMResult",
    "subscore_value",
    "SubscoreValueResult",
    "skills_gap",
    "SkillsGapResult",
    "standard_setting",
    "StandardSettingResult",
]
