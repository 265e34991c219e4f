"""Statistics: pure computation (reliability, items, correlation, EFA, CFA, raters).

Statistics know nothing about thresholds; verdicts live in ``psychoval.validate``.
"""

# correlation / EFA / dimensionality (issue 4)

# reliability (issue 5)
from psychoval.stats._alpha import AlphaResult, alpha  # noqa: F401
from psychoval.stats._guttman import GuttmanResult, guttman  # noqa: F401
from psychoval.stats._kr import KRResult, SEMResult, kr20, kr21, sem_score  # noqa: F401
from psychoval.stats._scores import ScoreItemsResult, score_items  # noqa: F401
from psychoval.stats._split_half import SplitHalfResult, split_half  # noqa: F401

_RELIABILITY = ["alpha", "AlphaResult", "kr20", "kr21", "KRResult", "sem_score", "SEMResult",
                "split_half", "SplitHalfResult", "guttman", "GuttmanResult", "score_items",
                "ScoreItemsResult"]

# rater agreement (issue 6)

# CFA (issues 7, 8)

# item analysis (issue 9)

__all__: list[str] = []  # each area extends this list below its imports
__all__ += _RELIABILITY  # reliability (issue 5)

