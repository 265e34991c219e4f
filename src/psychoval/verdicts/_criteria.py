"""Criteria as data: each threshold with the statistic it reads and the source it comes from.

The item criteria (``ITEM_CRITERIA``) and the scale, model and data criteria
(``SCALE_CRITERIA``, which includes the content-validity criteria ``CONTENT_CRITERIA``). A
criterion only compares a statistic with its threshold; statistics are computed in
``psychoval.stats``.

Length: the criteria are data - one entry per rule, most of it its citation - and the presets
and criteria-set logic that read them; a split would scatter the one table users read.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from psychoval.exceptions import SpecificationError

__all__ = ["Criterion", "ITEM_CRITERIA", "SCALE_CRITERIA", "CONTENT_CRITERIA",
           "KAPPA_STAR_BANDS", "ESTIMABLE", "PRESETS", "CriteriaSet", "ORDINAL_CHOICES",
           "criteria", "criterion_table"]

ORDINAL_CHOICES = ("auto", "always", "never")
"""Values of the ``ordinal`` option of a criteria set (see :class:`CriteriaSet`)."""

SOURCES = ("item_analysis", "distractors", "dif", "reliability", "loading", "fit", "validity",
           "modindices", "structure", "raters", "invariance", "decisions", "content")


@dataclasses.dataclass(frozen=True)
class Criterion:
    """One verdict rule: flag ``statistic`` when it is ``direction`` ``threshold``.

    Attributes
    ----------
    name : str
        Flag name (``"too_hard"``).
    statistic : str
        Column read from the result (``"difficulty"``).
    threshold : float
    direction : {"below", "above"}
        Flag when value < threshold ("below") or value > threshold ("above").
    citation : str
        Where the threshold comes from (author, year, DOI or page), and how firm it is.
    description : str
        What the flag means, in words.
    source : str
        The result the statistic is read from: ``"item_analysis"``, ``"distractors"``,
        ``"dif"`` (item flags) or, for the verdicts of :func:`psychoval.verdicts`,
        ``"reliability"``, ``"loading"``, ``"fit"``, ``"validity"``, ``"modindices"``,
        ``"structure"``, ``"raters"``.
    applies_to : {"all", "dichotomous", "polytomous"}
        Item types the rule is meant for (item-analysis criteria only).
    supersedes : tuple of str
        Names of weaker flags dropped for an item when this one fires.
    level : {"item", "competency", "tier", "framework"}
        What a verdict of this criterion is about.
    robust : bool
        A fit index read as its ``_robust`` variant when the model is fitted by MLR and as its
        ``_scaled`` variant when it is fitted by WLSMV (ordered items).
    """

    name: str
    statistic: str
    threshold: float
    direction: str
    citation: str
    description: str
    source: str = "item_analysis"
    applies_to: str = "all"
    supersedes: tuple[str, ...] = ()
    level: str = "item"
    robust: bool = False

    def __post_init__(self) -> None:
        from psychoval.exceptions import SpecificationError

        if self.direction not in ("below", "above"):
            raise SpecificationError(
                f"criterion {self.name!r}: direction={self.direction!r} must be 'below' or "
                "'above'")
        if self.source not in SOURCES:
            raise SpecificationError(f"criterion {self.name!r}: unknown source {self.source!r}")
        if self.applies_to not in ("all", "dichotomous", "polytomous"):
            raise SpecificationError(
                f"criterion {self.name!r}: applies_to={self.applies_to!r} must be 'all', "
                "'dichotomous' or 'polytomous'")
        if not isinstance(self.threshold, (int, float)) or math.isnan(self.threshold):
            raise SpecificationError(
                f"criterion {self.name!r}: threshold={self.threshold!r} is not a number")

    def fires(self, value: float) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return value < self.threshold if self.direction == "below" else value > self.threshold


_CROCKER = ("Crocker, L., & Algina, J. (1986). Introduction to Classical and Modern Test Theory, "
            "ch. 14. Conventional screening bounds for proportion correct, not a universal rule")
_EBEL = ("Ebel, R. L., & Frisbie, D. A. (1991). Essentials of Educational Measurement (5th ed.), "
         "p. 232: D >= .40 very good, .30-.39 reasonably good, .20-.29 marginal, < .20 poor")

ITEM_CRITERIA: tuple[Criterion, ...] = (
    Criterion("too_hard", "difficulty", 0.20, "below", _CROCKER,
              "few respondents answer it correctly (proportion correct below .20)",
              applies_to="dichotomous"),
    Criterion("too_easy", "difficulty", 0.90, "above", _CROCKER,
              "nearly everyone answers it correctly (proportion correct above .90)",
              applies_to="dichotomous"),
    Criterion("low_discrimination", "r_drop", 0.20, "below",
              "Kline, P. (2000). The Handbook of Psychological Testing (2nd ed.). Routledge: "
              "corrected item-total correlations below .20 mark items that measure little "
              "of what the rest of the scale measures",
              "the corrected item-rest correlation is below .20"),
    Criterion("low_discrimination_index", "d", 0.20, "below", _EBEL,
              "the upper-lower discrimination index D is below .20 ('poor')",
              applies_to="dichotomous"),
    Criterion("negative_discrimination", "r_drop", 0.0, "below", _EBEL,
              "high scorers on the rest of the test do worse on this item: check the key "
              "and the wording", applies_to="dichotomous",
              supersedes=("low_discrimination", "low_discrimination_index")),
    Criterion("possibly_reverse_keyed", "r_drop", 0.0, "below",
              "Streiner, D. L., Norman, G. R., & Cairney, J. (2015). Health Measurement Scales "
              "(5th ed.), ch. 5: a negative item-rest correlation in a rating scale usually "
              "means a reverse-worded item was not rescored. doi:10.1093/med/9780199685219.001.0001",
              "the item runs against the rest of its scale: rescore it if it is reverse-worded",
              applies_to="polytomous", supersedes=("low_discrimination",)),
    Criterion("alpha_rises_when_dropped", "alpha_gain_lower", 0.0, "above",
              "Streiner, D. L. (2003). Starting at the beginning: an introduction to coefficient "
              "alpha and internal consistency. Journal of Personality Assessment, 80(1), 99-103. "
              "doi:10.1207/S15327752JPA8001_18 (alpha rising when an item is dropped); a rise "
              "within sampling error is not evidence: the rule reads the lower end of the 95% "
              "interval of the gain (asymptotically distribution-free delta method: "
              "Maydeu-Olivares, Coffman & Hartmann, 2007, doi:10.1037/1082-989X.12.2.157)",
              "the scale's alpha is higher without this item, beyond sampling error (the 95% "
              "interval of the gain lies above 0)"),
    Criterion("high_missing", "missing_pct", 10.0, "above",
              "Bennett, D. A. (2001). How can I deal with missing data in my study? Australian "
              "and New Zealand Journal of Public Health, 25(5), 464-469. "
              "doi:10.1111/j.1467-842X.2001.tb00294.x (more than 10% missing likely biases)",
              "more than 10% of respondents left it unanswered"),
    Criterion("floor_effect", "floor_pct", 15.0, "above",
              "Terwee, C. B., et al. (2007). Quality criteria were proposed for measurement "
              "properties of health status questionnaires. Journal of Clinical Epidemiology, "
              "60(1), 34-42. doi:10.1016/j.jclinepi.2006.03.012 (15% rule, stated for scales; "
              "applied here to items as a screen)",
              "more than 15% of responses at the lowest category", applies_to="polytomous"),
    Criterion("ceiling_effect", "ceiling_pct", 15.0, "above",
              "Terwee, C. B., et al. (2007). Journal of Clinical Epidemiology, 60(1), 34-42. "
              "doi:10.1016/j.jclinepi.2006.03.012 (15% rule, stated for scales; applied here "
              "to items as a screen)",
              "more than 15% of responses at the highest category", applies_to="polytomous"),
    Criterion("likely_miskey", "key_r_rest", 0.0, "below",
              "Haladyna, T. M., & Rodriguez, M. C. (2013). Developing and Validating Test "
              "Items, ch. 17. doi:10.4324/9780203850381; Attali, Y., & Fraenkel, T. (2000). "
              "doi:10.1111/j.1745-3984.2000.tb01077.x: a key that correlates negatively with "
              "the rest score is the first sign of a miskey (the flag's detail names the "
              "distractor that draws the high scorers)",
              "choosing the keyed option goes with lower scores on the rest of the test",
              source="distractors"),
    Criterion("dif", "p_adjusted", 0.05, "below",
              "Holland, P. W., & Thayer, D. T. (1988); Zwick, R. (2012). A review of ETS "
              "differential item functioning assessment procedures. ETS Research Report "
              "RR-12-08. doi:10.1002/j.2333-8504.2012.tb02290.x: significance after the "
              "multiple-testing correction (in validate: Holm over every test of the screen) "
              "AND an effect beyond negligible - ETS class B or C: Mantel-Haenszel D-DIF "
              "(|D| 1 / 1.5) for 0/1 items; for ordered items the standardized mean difference "
              "over the item SD (|SMD|/SD .17 / .25; Zwick, Thayer & Mazzeo, 1997, "
              "doi:10.1207/s15324818ame1004_2), since Nagelkerke R-squared classes alone are "
              "too insensitive (Jodoin & Gierl, 2001). Class C fails; class B is borderline",
              "respondents of equal matching score but different groups answer it differently",
              source="dif"),
)


_NB = ("Nunnally, J. C., & Bernstein, I. H. (1994). Psychometric Theory (3rd ed.), "
       "McGraw-Hill, pp. 264-265: .70 for early-stage research; .80 for basic research; "
       ".90 or better where decisions about individuals are made")
_HB = ("Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance "
       "structure analysis. Structural Equation Modeling, 6(1), 1-55. "
       "doi:10.1080/10705519909540118 (combination rules for ML; under MLR the robust "
       "indices of Brosseau-Liard & Savalei are read, doi:10.1080/00273171.2014.933697; "
       "under WLSMV (ordered items) the scaled indices cfi_scaled, tli_scaled, "
       "rmsea_scaled with its interval, and SRMR. Caveat: these cutoffs were derived for ML "
       "on continuous data; with ordered data under WLSMV the same misfit gives better-looking "
       "CFI, TLI and RMSEA and worse SRMR than under ML, so they are applied as conventions, "
       "not calibrated bounds: Xia, Y., & Yang, Y. (2019). RMSEA, CFI, and TLI in structural "
       "equation modeling with ordered categorical data: The story they tell depends on the "
       "estimation methods. Behavior Research Methods, 51, 409-428. "
       "doi:10.3758/s13428-018-1055-2)")
_FL = ("Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with "
       "unobservable variables and measurement error. Journal of Marketing Research, 18(1), "
       "39-50. doi:10.1177/002224378101800104")

_CLASSIFICATION = (
    "AERA, APA & NCME (2014). Standards for Educational and Psychological Testing, Standard "
    "2.16 (when decisions rest on cut scores, estimate how consistently test takers would be "
    "classified) and 2.14 (the conditional standard error near the cut); the indices by "
    "Livingston & Lewis (1995), doi:10.1111/j.1745-3984.1995.tb00462.x, or Hanson & Brennan "
    "(1990), doi:10.1111/j.1745-3984.1990.tb00753.x. The Standards set no minimum: .80 "
    "(accuracy) and .75 (consistency) are psychoval's defaults for a pass/fail decision of "
    "moderate stakes, a convention (Ercikan & Julian 2002, Applied Measurement in Education "
    "15(3), relate the attainable values to reliability and the number of levels); raise them "
    "for high stakes in the framework's criteria")
_SUBSCORE = (
    "Haberman, S. J. (2008). When can subscores have value? Journal of Educational and "
    "Behavioral Statistics, 33(2), 204-229. doi:10.3102/1076998607302636 (a subscore has "
    "added value when it predicts its own true score better than the total does: PRMSE_s > "
    "PRMSE_x); value-added ratio PRMSE_s / PRMSE_x of Feinberg & Wainer (2014), Educational "
    "Measurement: Issues and Practice, 33(3), 55-56; Sinharay (2010), Journal of Educational "
    "Measurement, 47(2), 150-174 (subscores rarely have added value)")
_INVARIANCE = (
    "AERA, APA & NCME (2014). Standards for Educational and Psychological Testing, ch. 3 "
    "(Fairness in testing); Vandenberg, R. J., & Lance, C. E. (2000). A review and synthesis "
    "of the measurement invariance literature. Organizational Research Methods, 3(1), 4-70. "
    "doi:10.1177/109442810031002; Putnick, D. L., & Bornstein, M. H. (2016). Measurement "
    "invariance conventions and reporting. Developmental Review, 41, 71-90. "
    "doi:10.1016/j.dr.2016.06.004: scalar (or partial scalar) invariance before comparing "
    "means across groups, metric invariance before comparing correlations; each step held "
    "by pv.invariance (scaled difference test and Chen 2007 fit changes)")

_LYNN = ("Lynn, M. R. (1986). Determination and quantification of content validity. Nursing "
         "Research, 35(6), 382-385. doi:10.1097/00006199-198611000-00017; Polit, D. F., & "
         "Beck, C. T. (2006). The content validity index: Are you sure you know what's being "
         "reported? Research in Nursing & Health, 29(5), 489-497. doi:10.1002/nur.20147")
_POLIT_KAPPA = (
    "Polit, D. F., Beck, C. T., & Owen, S. V. (2007). Is the CVI an acceptable indicator of "
    "content validity? Appraisal and recommendations. Research in Nursing & Health, 30(4), "
    "459-467. doi:10.1002/nur.20199: kappa* above .74 excellent, .60-.74 good, .40-.59 fair "
    "(after Cicchetti & Sparrow 1981); fair or poor fails here")
_LAWSHE = (
    "Lawshe, C. H. (1975). A quantitative approach to content validity. Personnel "
    "Psychology, 28(4), 563-575. doi:10.1111/j.1744-6570.1975.tb01393.x; exact critical "
    "values from the one-tailed binomial test at p = .5: Wilson, F. R., Pan, W., & Schumsky, "
    "D. A. (2012), doi:10.1177/0748175612440286; Ayre, C., & Scally, A. J. (2014), "
    "doi:10.1177/0748175613513808. The CVR fails when the number of 'essential' ratings is "
    "not significant at .05 (its p-value above .05, i.e. the CVR below its critical value)")
_AIKEN = (
    "Aiken, L. R. (1985). Three coefficients for analyzing the reliability and validity of "
    "ratings. Educational and Psychological Measurement, 45(1), 131-142. "
    "doi:10.1177/0013164485451012; Penfield, R. D., & Giacobbi, P. R. (2004). Applying a "
    "score confidence interval to Aiken's item content-relevance index. Measurement in "
    "Physical Education and Exercise Science, 8(4), 213-225. "
    "doi:10.1207/s15327841mpee0804_3 (judge an item by where V's score interval lies "
    "against a criterion value). The value .50, the middle of V's range, is psychoval's "
    "convention: a fail means the panel placed the item in the lower half of the relevance "
    "scale beyond sampling error; an interval that contains .50 is borderline")
_ROVINELLI = (
    "Rovinelli, R. J., & Hambleton, R. K. (1977). On the use of content specialists in the "
    "assessment of criterion-referenced test item validity. Dutch Journal of Educational "
    "Research, 2, 49-60 (item-objective congruence judged by content experts); the majority "
    "rule - at least half of the experts put the item in its intended competency - is "
    "psychoval's convention")

CONTENT_CRITERIA: tuple[Criterion, ...] = (
    Criterion("i_cvi", "i_cvi", 0.78, "below", _LYNN + " (.78 with 6 or more experts)",
              "fewer than 78% of the experts rate the item relevant (3 or 4 of 4)",
              source="content", level="item"),
    Criterion("i_cvi_small_panel", "i_cvi", 1.0, "below",
              _LYNN + " (with 3 to 5 experts every expert must rate the item relevant)",
              "with 3 to 5 experts, not every expert rates the item relevant",
              source="content", level="item"),
    Criterion("kappa_star", "kappa_star", 0.60, "below", _POLIT_KAPPA,
              "the chance-corrected agreement on relevance (modified kappa*) is only fair or "
              "poor (below .60)", source="content", level="item"),
    Criterion("aiken_v", "aiken_v", 0.50, "below", _AIKEN,
              "the panel's mean relevance (Aiken's V) lies in the lower half of the scale",
              source="content", level="item"),
    Criterion("cvr", "cvr_pvalue", 0.05, "above", _LAWSHE,
              "too few experts call the item essential (CVR below its exact critical value)",
              source="content", level="item"),
    Criterion("assignment_agreement", "assignment_agreement", 0.50, "below", _ROVINELLI,
              "fewer than half of the experts put the item in its intended competency",
              source="content", level="item"),
    Criterion("s_cvi_ave", "s_cvi_ave", 0.90, "below",
              "Polit, D. F., & Beck, C. T. (2006). doi:10.1002/nur.20147; Polit, Beck & Owen "
              "(2007), doi:10.1002/nur.20199: S-CVI/Ave of .90 or higher for excellent content "
              "validity of a scale",
              "the competency's mean I-CVI (S-CVI/Ave) is below .90", source="content",
              level="competency"),
)
"""Content-validity criteria (expert panel): read by :func:`psychoval.verdicts.content_verdicts`
from a :func:`psychoval.content_validity` result; part of ``SCALE_CRITERIA``."""

KAPPA_STAR_BANDS: tuple[tuple[float, str], ...] = (
    (0.74, "excellent"), (0.60, "good"), (0.40, "fair"), (-math.inf, "poor"))
"""Polit, Beck & Owen (2007) bands of kappa*: a value above .74 is excellent, .60-.74 good,
.40-.59 fair, lower poor (the first bound a value exceeds, ``>`` for .74, ``>=`` below)."""


SCALE_CRITERIA: tuple[Criterion, ...] = (
    Criterion("alpha", "raw_alpha", 0.70, "below", _NB,
              "internal consistency (Cronbach's alpha) is below .70",
              source="reliability", level="competency"),
    Criterion("omega", "omega", 0.70, "below", _NB + "; applied to omega as to alpha",
              "composite reliability (omega of the one-factor CFA) is below .70",
              source="reliability", level="competency"),
    Criterion("loading", "std_loading", 0.40, "below",
              "Stevens, J. P. (2009). Applied Multivariate Statistics for the Social Sciences "
              "(5th ed.), Routledge, p. 332: loadings of about .40 and above are interpreted; "
              "a convention, not a test",
              "the item's standardized loading on its competency is below .40",
              source="loading", level="item"),
    Criterion("cfi", "cfi", 0.95, "below", _HB, "CFI below .95", source="fit",
              level="competency", robust=True),
    Criterion("tli", "tli", 0.95, "below", _HB, "TLI below .95", source="fit",
              level="competency", robust=True),
    Criterion("rmsea", "rmsea", 0.06, "above", _HB, "RMSEA above .06", source="fit",
              level="competency", robust=True),
    Criterion("srmr", "srmr", 0.08, "above", _HB, "SRMR above .08", source="fit",
              level="competency"),
    Criterion("ave", "ave", 0.50, "below",
              _FL + "; with AVE below .50 but composite reliability of .60 or more, "
              "convergent validity is still called adequate (Fornell & Larcker, p. 46): "
              "borderline here",
              "average variance extracted is below .50", source="validity", level="competency"),
    Criterion("fornell_larcker", "sqrt_ave_minus_max_cor", 0.0, "below", _FL,
              "the square root of the AVE does not exceed the competency's largest "
              "correlation with another competency of its tier", source="validity",
              level="competency"),
    Criterion("htmt", "htmt", 0.85, "above",
              "Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for "
              "assessing discriminant validity in variance-based structural equation "
              "modeling. Journal of the Academy of Marketing Science, 43(1), 115-135. "
              "doi:10.1007/s11747-014-0403-8 (HTMT.85, defined on the original arithmetic-mean "
              "HTMT, which is the variant compared here; semTools' default HTMT2 is reported "
              "beside it)",
              "two competencies' items correlate almost as much across as within "
              "(heterotrait-monotrait ratio above .85): they may not be distinct",
              source="validity", level="tier"),
    Criterion("cross_loading_mi", "mi", 10.828, "above",
              "Saris, W. E., Satorra, A., & van der Veen, W. M. (2009). Testing structural "
              "equation models or detection of misspecifications? Structural Equation "
              "Modeling, 16(4), 561-582. doi:10.1080/10705510802561295: judge a modification "
              "index (here above the 1-df chi-square .001 point, 10.83) together with its "
              "standardized expected change (next criterion)",
              "a loading on another competency of the tier is strongly indicated",
              source="modindices", level="item"),
    Criterion("cross_loading_epc", "sepc_all", 0.20, "above",
              "Saris, Satorra & van der Veen (2009), doi:10.1080/10705510802561295; "
              "Whittaker, T. A. (2012), doi:10.1080/00220973.2010.531299: a standardized "
              "expected change of .20 or more is a misspecification worth acting on",
              "the expected standardized cross-loading is .20 or more",
              source="modindices", level="item"),
    Criterion("second_order", "pvalue", 0.05, "below",
              "Rindskopf, D., & Rose, T. (1988). Some theory and applications of confirmatory "
              "second-order factor analysis. Multivariate Behavioral Research, 23(1), 51-67. "
              "doi:10.1207/s15327906mbr2301_3 (the second-order model is nested in the "
              "correlated-factors model and tested against it)",
              "the tier factor does not account for the correlations of its competencies "
              "(nested chi-square test p < .05)", source="structure", level="tier"),
    Criterion("icc", "icc", 0.75, "below",
              "Koo, T. K., & Li, M. Y. (2016). A guideline of selecting and reporting "
              "intraclass correlation coefficients for reliability research. Journal of "
              "Chiropractic Medicine, 15(2), 155-163. doi:10.1016/j.jcm.2016.02.012 "
              "(.50-.75 moderate, .75-.90 good, > .90 excellent); ICC(2,k), absolute "
              "agreement of the mean of the raters, the score the item uses",
              "agreement between raters (ICC2k) is below .75", source="raters",
              level="item"),
    Criterion("invariance_scalar", "scalar_holds", 1.0, "below", _INVARIANCE,
              "scalar invariance (equal loadings and intercepts; for ordered items equal "
              "thresholds and loadings) does not hold across the groups: the competencies' "
              "means are not comparable across them", source="invariance", level="tier"),
    Criterion("invariance_metric", "metric_holds", 1.0, "below", _INVARIANCE,
              "metric invariance (equal loadings) does not hold across the groups: the "
              "competencies' correlations and variances are not comparable across them",
              source="invariance", level="tier"),
    Criterion("classification_accuracy", "accuracy", 0.80, "below", _CLASSIFICATION,
              "fewer than 80% of respondents are expected to fall on the same side of the cut "
              "score as their true score", source="decisions", level="competency"),
    Criterion("classification_consistency", "consistency", 0.75, "below", _CLASSIFICATION,
              "fewer than 75% of respondents are expected to fall on the same side of the cut "
              "score on a parallel form", source="decisions", level="competency"),
    Criterion("irt_item_fit", "s_x2_pvalue_holm", 0.05, "below",
              "Orlando, M., & Thissen, D. (2000). Likelihood-based item-fit indices for "
              "dichotomous item response theory models. Applied Psychological Measurement, "
              "24(1), 50-64. doi:10.1177/01466216000241003; Kang, T., & Chen, T. T. (2008), "
              "doi:10.1111/j.1745-3984.2008.00071.x (polytomous S-X2); Holm (1979) over every "
              "item of the framework",
              "the item's responses depart from what the competency's IRT model (2PL / GRM) "
              "predicts at each summed score (S-X2, Holm-adjusted p < .05)",
              source="decisions", level="item"),
    Criterion("subscore_value", "value_added_ratio", 1.0, "below", _SUBSCORE,
              "the competency score predicts its own true score no better than the tier "
              "total does (PRMSE_s <= PRMSE_x): it adds no information over the tier score",
              source="decisions", level="competency"),
) + CONTENT_CRITERIA
"""Scale, model and discriminant-validity criteria of :func:`psychoval.verdicts`."""

ESTIMABLE = Criterion(
    "estimable", "converged", 1.0, "below",
    "Bollen, K. A. (1989). Structural Equations with Latent Variables. Wiley, ch. 4 and 7 "
    "(a model must be identified and its estimates converged before any of its statistics "
    "is read); Kline, R. B. (2016). Principles and Practice of Structural Equation Modeling "
    "(4th ed.), Guilford, ch. 9 (non-convergence and inadmissible solutions)",
    "the model could not be estimated (not identified, not converged, or a singular "
    "covariance matrix): nothing that depends on it is judged", source="fit",
    level="competency")
"""Not a threshold: a model that cannot be estimated gets a ``not_estimable`` verdict from
this criterion (it cannot be switched off; the verdicts that depend on the model become
``not_applicable`` with the reason)."""


def criterion_table(criteria: tuple[Criterion, ...] = ITEM_CRITERIA):
    """The criteria as a DataFrame (one row each), for reports and documentation."""
    import pandas as pd

    return pd.DataFrame([dataclasses.asdict(c) for c in criteria])


_ACCEPTABLE_FIT = {
    "cfi": ("Bentler, P. M., & Bonett, D. G. (1980). doi:10.1037/0033-2909.88.3.588 "
            "(.90, the older 'acceptable' bound)", 0.90),
    "tli": ("Bentler & Bonett (1980), doi:10.1037/0033-2909.88.3.588 (.90)", 0.90),
    "rmsea": ("Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit. "
              "In Bollen & Long (Eds.), Testing Structural Equation Models, 136-162 "
              "(.08 'reasonable error of approximation')", 0.08),
}

PRESETS: dict[str, dict[str, Any]] = {
    # every threshold as defined in ITEM_CRITERIA and SCALE_CRITERIA; floor and ceiling
    # effects are off: Terwee et al. state the 15% rule for scale scores, and a 5-point item
    # centred on the scale midpoint passes it only by chance
    "default": {"floor_effect": None, "ceiling_effect": None},
    # the item screens as well
    "screening": {},
    # decisions about individuals (Nunnally & Bernstein 1994, p. 265)
    "high_stakes": {"floor_effect": None, "ceiling_effect": None, "alpha": 0.90,
                    "omega": 0.90},
    # older, more lenient fit bounds
    "acceptable_fit": {"floor_effect": None, "ceiling_effect": None,
                       **{k: v[1] for k, v in _ACCEPTABLE_FIT.items()}},
}
"""Named criteria presets: ``{criterion name: threshold, or None to switch it off}`` applied
to the full criteria table (``ITEM_CRITERIA + SCALE_CRITERIA``)."""


@dataclasses.dataclass(frozen=True)
class CriteriaSet:
    """The criteria a validation applies, by name (see :func:`criteria`).

    Attributes
    ----------
    preset : str
        The preset it started from.
    items : tuple of Criterion
        The item-flag criteria (for :func:`psychoval.flag_items`).
    scale : tuple of Criterion
        Scale, model and validity criteria.
    overrides : mapping
        The thresholds changed from the preset (name -> value or None), in order applied.
    ordinal : {"auto", "always", "never"}
        Which items validate fits as ordered (WLSMV): ``"auto"`` (default) multiple-choice /
        dichotomous items and rating items with at most 7 observed integer categories;
        ``"always"`` every item with integer codes; ``"never"`` none (ML / MLR throughout).
        Set like a threshold: ``pv.criteria(ordinal="never")``, ``{"ordinal": "never"}``,
        a criteria file's or a framework's (or a competency's) ``criteria: {ordinal: never}``.
    """

    preset: str
    items: tuple[Criterion, ...]
    scale: tuple[Criterion, ...]
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    ordinal: str = "auto"

    def __hash__(self) -> int:
        return hash((self.preset, self.items, self.scale, tuple(self.overrides.items()),
                     self.ordinal))

    @property
    def all(self) -> tuple[Criterion, ...]:
        return self.items + self.scale

    def get(self, name: str) -> Criterion | None:
        for c in self.all:
            if c.name == name:
                return c
        return None

    def with_overrides(self, overrides: Mapping[str, Any] | None, *,
                       where: str = "criteria") -> CriteriaSet:
        """A new set with thresholds replaced (``None`` switches a criterion off) and, with
        the key ``"ordinal"``, the ordinal option set."""
        if not overrides:
            return self
        overrides = dict(overrides)
        ordinal = overrides.pop("ordinal", self.ordinal)
        if ordinal not in ORDINAL_CHOICES:
            raise SpecificationError(
                f"{where}: ordinal={ordinal!r} must be one of {', '.join(ORDINAL_CHOICES)} "
                "(which items are fitted as ordered: auto = 0/1 items and ratings with at most "
                "7 integer categories)")
        if not overrides:
            return dataclasses.replace(self, ordinal=ordinal)
        known = {c.name for c in ITEM_CRITERIA + SCALE_CRITERIA}
        unknown = [k for k in overrides if k not in known]
        if unknown:
            raise SpecificationError(
                f"{where}: unknown criterion name(s) {', '.join(map(repr, unknown))}; known: "
                f"{', '.join(sorted(known))}")
        for k, v in overrides.items():
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise SpecificationError(
                    f"{where}: criterion {k!r} must be a number or null; got {v!r}")

        def apply(crits: tuple[Criterion, ...], base: tuple[Criterion, ...]):
            out = []
            current = {c.name: c for c in crits}
            for c in base:
                if c.name in overrides:
                    v = overrides[c.name]
                    if v is None:
                        continue
                    src = current.get(c.name, c)
                    cite = (src.citation if float(v) == src.threshold else
                            f"user threshold {float(v):g} ({where}; default {c.threshold:g}: "
                            f"{c.citation})")
                    out.append(dataclasses.replace(c, threshold=float(v), citation=cite))
                elif c.name in current:
                    out.append(current[c.name])
            return tuple(out)

        return CriteriaSet(self.preset, apply(self.items, ITEM_CRITERIA),
                           apply(self.scale, SCALE_CRITERIA),
                           {**self.overrides, **overrides}, ordinal)

    def to_frame(self):
        return criterion_table(self.all)


def criteria(preset: str = "default", overrides: Mapping[str, Any] | None = None,
             **thresholds: Any) -> CriteriaSet:
    """A named set of validation criteria, optionally with thresholds changed.

    Parameters
    ----------
    preset : {"default", "screening", "high_stakes", "acceptable_fit"} or path
        A named preset (see ``psychoval.verdicts.PRESETS``), or a YAML/JSON criteria file
        ``{"preset": name, "criteria": {name: threshold or null}}``.
    overrides : mapping, optional
        ``{criterion name: threshold or None}`` (None switches it off); the key
        ``"ordinal"`` (``"auto"``, ``"always"``, ``"never"``) sets which items validate fits as
        ordered (see :class:`CriteriaSet`).
    **thresholds
        The same, as keywords.

    Returns
    -------
    CriteriaSet

    Raises
    ------
    SpecificationError
        Unknown preset or criterion name; a threshold that is not a number.

    Examples
    --------
    >>> import psychoval as pv
    >>> c = pv.criteria("high_stakes", rmsea=0.05)
    >>> c.get("alpha").threshold, c.get("rmsea").threshold
    (0.9, 0.05)
    """
    from pathlib import Path

    where = "criteria"
    if isinstance(preset, Path) or (isinstance(preset, str) and preset not in PRESETS and (
            preset.endswith((".yaml", ".yml", ".json")) or Path(preset).exists())):
        spec = _read_criteria_file(Path(preset))
        where = str(preset)
        preset = spec.get("preset", "default")
        overrides = {**(spec.get("criteria") or {}), **(overrides or {})}
    if preset not in PRESETS:
        raise SpecificationError(
            f"unknown criteria preset {preset!r}; presets: {', '.join(PRESETS)} (or a YAML/"
            "JSON criteria file)")
    base = CriteriaSet(preset, ITEM_CRITERIA, SCALE_CRITERIA).with_overrides(
        PRESETS[preset], where=f"preset {preset!r}")
    base = dataclasses.replace(base, overrides={})
    return base.with_overrides({**(overrides or {}), **thresholds}, where=where)


def _read_criteria_file(path) -> dict[str, Any]:
    import json

    if not path.exists():
        raise SpecificationError(f"criteria file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecificationError(
                f"criteria file {str(path)!r}: invalid JSON at line {exc.lineno}, column "
                f"{exc.colno}: {exc.msg}") from None
    else:
        import yaml

        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SpecificationError(f"criteria file {str(path)!r}: invalid YAML: {exc}") \
                from None
    if not isinstance(spec, dict) or not set(spec) <= {"preset", "criteria"}:
        raise SpecificationError(
            f"criteria file {str(path)!r} must be a mapping with keys 'preset' and/or "
            "'criteria' ({name: threshold or null})")
    if spec.get("criteria") is not None and not isinstance(spec["criteria"], dict):
        raise SpecificationError(
            f"criteria file {str(path)!r}: 'criteria' must map names to thresholds")
    return spec
