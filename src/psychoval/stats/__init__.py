"""Statistics: pure computation (reliability, items, correlation, EFA, CFA, raters).

Statistics know nothing about thresholds; verdicts live in ``psychoval.validate``.
"""

# correlation / EFA / dimensionality (issue 4)
from psychoval.stats._dimensionality import (
    BartlettResult,
    KMOResult,
    ParallelAnalysisResult,
    SchmidLeimanResult,
    bartlett,
    kmo,
    parallel_analysis,
    schmid_leiman,
)
from psychoval.stats._efa import EFAResult, efa
from psychoval.stats._polychoric import PolychoricResult, polychoric, tetrachoric

# reliability (issue 5)

# rater agreement (issue 6)

# CFA (issues 7, 8)

# item analysis (issue 9)

__all__: list[str] = []  # each area extends this list below its imports
# correlation / EFA / dimensionality (issue 4)
__all__ += ["polychoric", "tetrachoric", "PolychoricResult", "efa", "EFAResult", "kmo",
            "KMOResult", "bartlett", "BartlettResult", "parallel_analysis",
            "ParallelAnalysisResult", "schmid_leiman", "SchmidLeimanResult"]

