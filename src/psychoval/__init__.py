"""psychoval: validate competency assessments.

``import psychoval as pv``. The everyday API is re-exported here; names are resolved on first
use so that ``import psychoval`` stays cheap (scipy and the optional extras load only when a
statistic needs them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from psychoval._version import __version__
from psychoval.exceptions import (
    ConvergenceWarning,
    DataError,
    DegenerateDataWarning,
    EstimationError,
    ImproperSolutionWarning,
    PsychovalError,
    PsychovalWarning,
    SmallSampleWarning,
    SpecificationError,
)

# public name -> module that defines it (each layer's package exports it in its __all__)
_API: dict[str, str] = {
    # ingest
    "read_responses": "psychoval.io",
    "ResponseTable": "psychoval.io",
    # framework & scoring (issue 3)
    # correlation / EFA / dimensionality (issue 4)
    # reliability (issue 5)
    # rater agreement (issue 6)
    "icc": "psychoval.stats",
    "cohen_kappa": "psychoval.stats",
    "pairwise_kappa": "psychoval.stats",
    "fleiss_kappa": "psychoval.stats",
    "krippendorff_alpha": "psychoval.stats",
    "agreement_table": "psychoval.stats",
    # CFA (issues 7, 8)
    # item analysis (issue 9)
    # verdicts (issue 10)
}

__all__ = sorted(
    [
        "__version__",
        "PsychovalError",
        "DataError",
        "SpecificationError",
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
