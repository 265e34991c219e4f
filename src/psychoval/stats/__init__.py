"""Statistics: pure computation (reliability, items, correlation, EFA, CFA, raters).

Statistics know nothing about thresholds; verdicts live in ``psychoval.validate``.
Each area imports its public names and lists them in ``__all__`` in its own block.
"""

__all__: list[str] = []

# data quality (issue 3)
from psychoval.stats._quality import DataQualityReport, check_data  # noqa: E402

__all__ += ["check_data", "DataQualityReport"]

# correlation / EFA / dimensionality (issue 4)

# reliability (issue 5)

# rater agreement (issue 6)

# CFA (issues 7, 8)
from psychoval.stats._cfa import CFAResult, FornellLarckerResult, cfa  # noqa: E402
from psychoval.stats._cfa_validity import (  # noqa: E402
    HTMTResult,
    OneFactorOmega,
    htmt,
    one_factor_omega,
)
from psychoval.stats._lrt import CompareResult, compare  # noqa: E402

__all__ += ["cfa", "CFAResult", "FornellLarckerResult", "htmt", "HTMTResult",
            "one_factor_omega", "OneFactorOmega", "compare", "CompareResult"]

# item analysis (issue 9)
from psychoval.stats._dif import DifResult, dif  # noqa: E402
from psychoval.stats._distractors import DistractorResult, distractors  # noqa: E402
from psychoval.stats._items import ItemAnalysisResult, item_analysis  # noqa: E402

__all__ += ["item_analysis", "ItemAnalysisResult", "distractors", "DistractorResult", "dif",
            "DifResult"]
