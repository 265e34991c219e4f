"""Statistics: pure computation (reliability, items, correlation, EFA, CFA, raters).

Statistics know nothing about thresholds; verdicts live in ``psychoval.validate``.
"""

# correlation / EFA / dimensionality (issue 4)

# reliability (issue 5)

# rater agreement (issue 6)
from psychoval.stats._agreement import AgreementTable, agreement_table  # noqa: E402
from psychoval.stats._icc import ICCResult, icc  # noqa: E402
from psychoval.stats._kappa import (  # noqa: E402
    CohenKappaResult,
    FleissKappaResult,
    PairwiseKappaResult,
    cohen_kappa,
    fleiss_kappa,
    pairwise_kappa,
)
from psychoval.stats._krippendorff import KrippendorffResult, krippendorff_alpha  # noqa: E402

# CFA (issues 7, 8)

# item analysis (issue 9)

__all__: list[str] = []  # each area extends this list below its imports
# rater agreement (issue 6)
__all__ += ["icc", "ICCResult", "cohen_kappa", "CohenKappaResult", "pairwise_kappa",
            "PairwiseKappaResult", "fleiss_kappa", "FleissKappaResult", "krippendorff_alpha",
            "KrippendorffResult", "agreement_table", "AgreementTable"]

