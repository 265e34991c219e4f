"""Statistics: pure computation (reliability, items, correlation, EFA, CFA, raters).

Statistics know nothing about thresholds; verdicts live in ``psychoval.validate``.
"""

# correlation / EFA / dimensionality (issue 4)

# reliability (issue 5)

# rater agreement (issue 6)

# CFA (issues 7, 8)

# item analysis (issue 9)
from psychoval.stats._dif import DifResult, dif
from psychoval.stats._distractors import DistractorResult, distractors
from psychoval.stats._items import ItemAnalysisResult, item_analysis

__all__: list[str] = []  # each area extends this list below its imports
# item analysis (issue 9)
__all__ += ["item_analysis", "ItemAnalysisResult", "distractors", "DistractorResult", "dif",
            "DifResult"]

