"""Statistics: pure computation (reliability, items, correlation, EFA, CFA, raters).

Statistics know nothing about thresholds; verdicts live in ``psychoval.validate``.
"""

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

# item analysis (issue 9)

__all__: list[str] = []  # each area extends this list below its imports
__all__ += ["cfa", "CFAResult", "FornellLarckerResult", "htmt", "HTMTResult",
            "one_factor_omega", "OneFactorOmega"]  # CFA (issue 7)
