"""Statistics: pure computation (reliability, items, correlation, EFA, CFA, raters).

Statistics know nothing about thresholds; verdicts live in ``psychoval.validate``.
"""

# correlation / EFA / dimensionality (issue 4)

# reliability (issue 5)

# rater agreement (issue 6)

# CFA (issues 7, 8)

# item analysis (issue 9)

__all__: list[str] = []  # each area extends this list below its imports

# data quality (issue 3)
from psychoval.stats._quality import DataQualityReport, check_data  # noqa: E402

__all__ += ["check_data", "DataQualityReport"]

