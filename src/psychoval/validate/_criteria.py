"""Criteria as data: each threshold with the statistic it reads and the source it comes from.

Issue 9 adds the item criteria; issue 10 extends this module with scale, model and data
criteria. A criterion only compares a statistic with its threshold; statistics are computed in
``psychoval.stats``.
"""

from __future__ import annotations

import dataclasses
import math

__all__ = ["Criterion", "ITEM_CRITERIA", "criterion_table"]


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
    source : {"item_analysis", "distractors", "dif"}
        The result type the statistic is read from.
    applies_to : {"all", "dichotomous", "polytomous"}
        Item types the rule is meant for (item-analysis criteria only).
    supersedes : tuple of str
        Names of weaker flags dropped for an item when this one fires.
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

    def __post_init__(self) -> None:
        from psychoval.exceptions import SpecificationError

        if self.direction not in ("below", "above"):
            raise SpecificationError(
                f"criterion {self.name!r}: direction={self.direction!r} must be 'below' or "
                "'above'")
        if self.source not in ("item_analysis", "distractors", "dif"):
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
    Criterion("alpha_rises_when_dropped", "alpha_gain", 0.0, "above",
              "Streiner, D. L. (2003). Starting at the beginning: an introduction to coefficient "
              "alpha and internal consistency. Journal of Personality Assessment, 80(1), 99-103. "
              "doi:10.1207/S15327752JPA8001_18 (any rise of alpha when an item is dropped)",
              "the scale's alpha is higher without this item"),
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
              "Holland, P. W., & Thayer, D. T. (1988); Zwick, R. (2012). ETS Research Report "
              "RR-12-08. doi:10.1002/j.2333-8504.2012.tb02290.x (significance after the "
              "result's multiple-testing correction; the effect-size class is in the detail)",
              "respondents of equal matching score but different groups answer it differently",
              source="dif"),
)


def criterion_table(criteria: tuple[Criterion, ...] = ITEM_CRITERIA):
    """The criteria as a DataFrame (one row each), for reports and documentation."""
    import pandas as pd

    return pd.DataFrame([dataclasses.asdict(c) for c in criteria])
