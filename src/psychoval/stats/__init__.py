"""Statistics: pure computation (reliability, items, correlation, EFA, CFA, raters).

Statistics know nothing about thresholds; verdicts live in ``psychoval.verdicts``.
"""

from psychoval.stats.core._bootmoments import BootstrapMoments
from psychoval.stats.core._fourth import FourthMoments
from psychoval.stats.core._suffstats import (
    Moments,
    PatternMoments,
)
from psychoval.stats.core._tables import ResponsePatterns
from psychoval.stats.decisions import (
    ClassificationResult,
    ConditionalSEMResult,
    SkillsGapResult,
    StandardSettingResult,
    SubscoreValueResult,
    classification,
    conditional_sem,
    skills_gap,
    standard_setting,
    subscore_value,
)
from psychoval.stats.factor._dimensionality import (
    BartlettResult,
    KMOResult,
    ParallelAnalysisResult,
    SchmidLeimanResult,
    bartlett,
    kmo,
    parallel_analysis,
    schmid_leiman,
)
from psychoval.stats.factor._efa import (
    EFAResult,
    efa,
)
from psychoval.stats.factor._polychoric import (
    PolychoricResult,
    polychoric,
    tetrachoric,
)
from psychoval.stats.irt import (
    IRTResult,
    irt,
)
from psychoval.stats.items._dif import (
    DifResult,
    dif,
    dif_screen,
)
from psychoval.stats.items._distractors import (
    DistractorResult,
    distractors,
)
from psychoval.stats.items._fairness import (
    AdverseImpactResult,
    adverse_impact,
)
from psychoval.stats.items._items import (
    ItemAnalysisResult,
    item_analysis,
)
from psychoval.stats.items._tables import ItemScoreTables
from psychoval.stats.quality._check import (
    DataQualityReport,
    check_data,
)
from psychoval.stats.quality._describe import (
    DescribeResult,
    describe,
)
from psychoval.stats.quality._stream import (
    ScanQualityReport,
    scan_quality,
)
from psychoval.stats.raters._agreement import (
    AgreementTable,
    agreement_table,
)
from psychoval.stats.raters._content import (
    ContentValidityResult,
    content_validity,
)
from psychoval.stats.raters._icc import (
    ICCResult,
    icc,
)
from psychoval.stats.raters._kappa import (
    CohenKappaResult,
    FleissKappaResult,
    PairwiseKappaResult,
    cohen_kappa,
    fleiss_kappa,
    pairwise_kappa,
)
from psychoval.stats.raters._krippendorff import (
    KrippendorffResult,
    krippendorff_alpha,
)
from psychoval.stats.reliability._alpha import (
    AlphaResult,
    alpha,
)
from psychoval.stats.reliability._guttman import (
    GuttmanResult,
    guttman,
)
from psychoval.stats.reliability._kr import (
    KRResult,
    SEMResult,
    kr20,
    kr21,
    sem_score,
)
from psychoval.stats.reliability._omega import (
    OmegaResult,
    OmegaSemResult,
    omega,
    omega_sem,
)
from psychoval.stats.reliability._scores import (
    ScoreItemsResult,
    score_items,
)
from psychoval.stats.reliability._split_half import (
    SplitHalfResult,
    split_half,
)
from psychoval.stats.sem._alignment import (
    AlignmentResult,
    alignment,
)
from psychoval.stats.sem._cfa import (
    CFAResult,
    FornellLarckerResult,
    OrdinalCFAResult,
    cfa,
)
from psychoval.stats.sem._dmacs import (
    DMACSResult,
    dmacs,
)
from psychoval.stats.sem._invariance import (
    InvarianceResult,
    invariance,
)
from psychoval.stats.sem._lrt import (
    CompareResult,
    compare,
)
from psychoval.stats.sem._validity import (
    HTMTResult,
    OneFactorOmega,
    htmt,
    one_factor_omega,
)

__all__ = [
    "check_data",
    "DataQualityReport",
    "scan_quality",
    "ScanQualityReport",
    "describe",
    "DescribeResult",
    "cfa",
    "CFAResult",
    "OrdinalCFAResult",
    "FornellLarckerResult",
    "htmt",
    "HTMTResult",
    "one_factor_omega",
    "OneFactorOmega",
    "item_analysis",
    "ItemAnalysisResult",
    "distractors",
    "DistractorResult",
    "dif",
    "dif_screen",
    "DifResult",
    "adverse_impact",
    "AdverseImpactResult",
    "irt",
    "IRTResult",
    "polychoric",
    "tetrachoric",
    "PolychoricResult",
    "efa",
    "EFAResult",
    "kmo",
    "KMOResult",
    "bartlett",
    "BartlettResult",
    "parallel_analysis",
    "ParallelAnalysisResult",
    "schmid_leiman",
    "SchmidLeimanResult",
    "alpha",
    "AlphaResult",
    "kr20",
    "kr21",
    "KRResult",
    "sem_score",
    "SEMResult",
    "split_half",
    "SplitHalfResult",
    "guttman",
    "GuttmanResult",
    "score_items",
    "ScoreItemsResult",
    "icc",
    "ICCResult",
    "cohen_kappa",
    "CohenKappaResult",
    "pairwise_kappa",
    "PairwiseKappaResult",
    "fleiss_kappa",
    "FleissKappaResult",
    "krippendorff_alpha",
    "KrippendorffResult",
    "agreement_table",
    "AgreementTable",
    "content_validity",
    "ContentValidityResult",
    "omega",
    "OmegaResult",
    "omega_sem",
    "OmegaSemResult",
    "compare",
    "CompareResult",
    "invariance",
    "InvarianceResult",
    "dmacs",
    "DMACSResult",
    "alignment",
    "AlignmentResult",
    "classification",
    "ClassificationResult",
    "conditional_sem",
    "ConditionalSEMResult",
    "subscore_value",
    "SubscoreValueResult",
    "standard_setting",
    "StandardSettingResult",
    "skills_gap",
    "SkillsGapResult",
    "Moments",
    "PatternMoments",
    "FourthMoments",
    "ResponsePatterns",
    "ItemScoreTables",
    "BootstrapMoments",
]
