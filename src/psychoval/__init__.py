"""psychoval: validate competency assessments.

``import psychoval as pv``. The everyday API is re-exported here; names are resolved on first
use so that ``import psychoval`` stays cheap (scipy and the optional extras load only when a
statistic needs them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from psychoval._version import __version__ as __version__
from psychoval.exceptions import ConvergenceWarning as ConvergenceWarning
from psychoval.exceptions import DataError as DataError
from psychoval.exceptions import DegenerateDataWarning as DegenerateDataWarning
from psychoval.exceptions import EstimationError as EstimationError
from psychoval.exceptions import ImproperSolutionWarning as ImproperSolutionWarning
from psychoval.exceptions import PsychovalError as PsychovalError
from psychoval.exceptions import PsychovalWarning as PsychovalWarning
from psychoval.exceptions import SmallSampleWarning as SmallSampleWarning
from psychoval.exceptions import SpecificationError as SpecificationError
from psychoval.exceptions import SpecificationWarning as SpecificationWarning

# public name -> module that defines it (each layer's package exports it in its __all__)
_API: dict[str, str] = {
    # ingest
    "read_responses": "psychoval.io",
    "ResponseTable": "psychoval.io",
    "scan_responses": "psychoval.io",
    "ResponseScan": "psychoval.io",
    # framework & scoring
    "read_framework": "psychoval.framework",
    "Framework": "psychoval.framework",
    "load_sample": "psychoval.datasets",
    "check_data": "psychoval.stats",
    "DataQualityReport": "psychoval.stats",
    "scan_quality": "psychoval.stats",
    "ScanQualityReport": "psychoval.stats",
    "describe": "psychoval.stats",
    "DescribeResult": "psychoval.stats",
    # correlation / EFA / dimensionality
    "polychoric": "psychoval.stats",
    "tetrachoric": "psychoval.stats",
    "efa": "psychoval.stats",
    "kmo": "psychoval.stats",
    "bartlett": "psychoval.stats",
    "parallel_analysis": "psychoval.stats",
    "schmid_leiman": "psychoval.stats",
    # reliability
    "alpha": "psychoval.stats",
    "AlphaResult": "psychoval.stats",
    "kr20": "psychoval.stats",
    "kr21": "psychoval.stats",
    "KRResult": "psychoval.stats",
    "sem_score": "psychoval.stats",
    "SEMResult": "psychoval.stats",
    "split_half": "psychoval.stats",
    "SplitHalfResult": "psychoval.stats",
    "guttman": "psychoval.stats",
    "GuttmanResult": "psychoval.stats",
    "score_items": "psychoval.stats",
    "ScoreItemsResult": "psychoval.stats",
    "omega": "psychoval.stats",
    "OmegaResult": "psychoval.stats",
    "omega_sem": "psychoval.stats",
    "OmegaSemResult": "psychoval.stats",
    # rater agreement
    "icc": "psychoval.stats",
    "cohen_kappa": "psychoval.stats",
    "pairwise_kappa": "psychoval.stats",
    "fleiss_kappa": "psychoval.stats",
    "krippendorff_alpha": "psychoval.stats",
    "agreement_table": "psychoval.stats",
    "content_validity": "psychoval.stats",
    "ContentValidityResult": "psychoval.stats",
    # CFA
    "cfa": "psychoval.stats",
    "CFAResult": "psychoval.stats",
    "OrdinalCFAResult": "psychoval.stats",
    "compare": "psychoval.stats",
    "CompareResult": "psychoval.stats",
    "invariance": "psychoval.stats",
    "InvarianceResult": "psychoval.stats",
    "htmt": "psychoval.stats",
    "dmacs": "psychoval.stats",
    "DMACSResult": "psychoval.stats",
    "alignment": "psychoval.stats",
    "AlignmentResult": "psychoval.stats",
    # item analysis
    "item_analysis": "psychoval.stats",
    "distractors": "psychoval.stats",
    "dif": "psychoval.stats",
    "dif_screen": "psychoval.stats",
    "adverse_impact": "psychoval.stats",
    "AdverseImpactResult": "psychoval.stats",
    # item response theory
    "irt": "psychoval.stats",
    "IRTResult": "psychoval.stats",
    # decisions on scores
    "classification": "psychoval.stats",
    "ClassificationResult": "psychoval.stats",
    "conditional_sem": "psychoval.stats",
    "ConditionalSEMResult": "psychoval.stats",
    "subscore_value": "psychoval.stats",
    "SubscoreValueResult": "psychoval.stats",
    "standard_setting": "psychoval.stats",
    "StandardSettingResult": "psychoval.stats",
    "skills_gap": "psychoval.stats",
    "SkillsGapResult": "psychoval.stats",
    # mergeable sufficient statistics (data beyond one array)
    "Moments": "psychoval.stats",
    "PatternMoments": "psychoval.stats",
    "FourthMoments": "psychoval.stats",
    "ResponsePatterns": "psychoval.stats",
    "ItemScoreTables": "psychoval.stats",
    "BootstrapMoments": "psychoval.stats",
    # verdicts
    "flag_items": "psychoval.verdicts",
    "content_verdicts": "psychoval.verdicts",
    "validate": "psychoval.pipeline",
    "ValidationReport": "psychoval.report",
    "criteria": "psychoval.verdicts",
}

__all__ = sorted(
    [
        "__version__",
        "PsychovalError",
        "DataError",
        "SpecificationError",
        "SpecificationWarning",
        "EstimationError",
        "PsychovalWarning",
        "ConvergenceWarning",
        "ImproperSolutionWarning",
        "DegenerateDataWarning",
        "SmallSampleWarning",
        *_API,
    ]
)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'psychoval' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from psychoval.io import ResponseTable, read_responses  # noqa: F401
