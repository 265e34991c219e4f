"""Adverse impact of pass rates by group: the four-fifths rule of the Uniform Guidelines
(29 CFR 1607.4(D)) with a significance test and an interval for the impact ratio.

Information next to the measurement evidence (invariance, DIF): a statistic, not a verdict.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import check_confidence_level
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError

__all__ = ["adverse_impact", "AdverseImpactResult"]

_COLUMNS = ["group", "n", "n_missing", "passes", "pass_rate", "impact_ratio", "four_fifths",
            "ratio_ci_lower", "ratio_ci_upper", "rate_difference", "z", "pvalue_z",
            "pvalue_fisher"]


@dataclasses.dataclass(frozen=True, repr=False)
class AdverseImpactResult(Result):
    """Pass rates by group and their impact ratios against a reference group.

    Attributes
    ----------
    table : DataFrame
        One row per group (sorted by label): ``n`` (scores used), ``n_missing`` (missing
        scores left out), ``passes``, ``pass_rate``, ``impact_ratio`` (pass rate over the
        reference group's), ``four_fifths`` (ratio below 0.8), ``ratio_ci_lower`` /
        ``ratio_ci_upper`` (log-ratio interval), ``rate_difference`` (group minus reference),
        ``z`` and ``pvalue_z`` (two-proportion z test, pooled variance) and ``pvalue_fisher``
        (Fisher's exact test, two-sided). The reference group's tests are NaN.
    reference : str
        The reference group (by default the one with the highest pass rate).
    cut : float
    higher_passes : bool
        True: a score at or above the cut passes; False: at or below.
    confidence_level : float
    n_total, n_used, n_missing : int
        Scores given, used, and missing (left out).
    """

    _schema: ClassVar[str] = "psychoval.adverse_impact/1"
    table: pd.DataFrame
    reference: str
    cut: float
    higher_passes: bool
    confidence_level: float
    n_total: int
    n_used: int
    n_missing: int

    def _repr_fields(self) -> dict[str, Any]:
        others = self.table[self.table["group"] != self.reference]
        ratio = others["impact_ratio"].to_numpy(dtype=float)
        return {"reference": self.reference, "groups": len(self.table),
                "min_impact_ratio": float(np.nanmin(ratio)) if np.isfinite(ratio).any()
                else float("nan"),
                "four_fifths_flags": int(others["four_fifths"].sum()), "n_used": self.n_used}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        rule = ">=" if self.higher_passes else "<="
        facts = (("Cut", self.cut), ("Passes", f"score {rule} cut"),
                 ("Reference group", self.reference), ("Scores used", self.n_used),
                 ("Missing scores (left out)", self.n_missing),
                 ("Confidence level", self.confidence_level))
        notes = ["impact ratio = pass rate / reference pass rate; below 0.8 is the "
                 "four-fifths rule's evidence of adverse impact (Uniform Guidelines, 29 CFR "
                 "1607.4(D)); with small groups read it with the tests and the interval",
                 "interval: log ratio (Katz et al. 1978); tests: two-proportion z (pooled) and "
                 "Fisher's exact, each group against the reference"]
        return Summary(title="Adverse impact of pass rates", facts=facts,
                       tables=(("By group", self.table.set_index("group")),), notes=tuple(notes))


def _as_vector(x: Any, name: str) -> pd.Series:
    if isinstance(x, pd.DataFrame):
        if x.shape[1] != 1:
            raise DataError(f"{name} must be one column; got a frame with {x.shape[1]} columns")
        x = x.iloc[:, 0]
    s = pd.Series(x) if not isinstance(x, pd.Series) else x
    if s.ndim != 1:
        raise DataError(f"{name} must be one-dimensional")
    return s.reset_index(drop=True)


def _fisher(a: int, n1: int, c: int, n2: int) -> float:
    from scipy.stats import fisher_exact

    return float(fisher_exact([[a, n1 - a], [c, n2 - c]]).pvalue)


def adverse_impact(scores: Any, groups: Any, *, cut: float, reference: Any = None,
                   higher_passes: bool = True, confidence_level: float = 0.95
                   ) -> AdverseImpactResult:
    """Adverse impact of a cut score: pass rates by group and the four-fifths rule.

    Each group's pass rate is compared with the reference group's: the impact ratio, the
    Uniform Guidelines' four-fifths flag (ratio below 0.8), a two-proportion z test and
    Fisher's exact test of the difference, and a log-ratio confidence interval of the ratio.
    Information next to the measurement evidence: adverse impact is not itself evidence of
    bias in the test.

    Parameters
    ----------
    scores : array-like or Series
        One score per respondent; missing scores are left out and counted per group.
    groups : array-like or Series
        The group of each respondent (same length; compared as text).
    cut : float
        The cut score.
    reference : optional
        The reference group; by default the group with the highest pass rate (the first by
        label among ties), as the Guidelines compare with the highest rate.
    higher_passes : bool
        True (default): a score at or above the cut passes; False: at or below (e.g. an
        error count).
    confidence_level : float
        Coverage of the interval of the impact ratio.

    Returns
    -------
    AdverseImpactResult

    Raises
    ------
    DataError
        Scores that are not numbers, lengths that differ, a missing group label, fewer than two
        groups with scores.
    SpecificationError
        A cut that is not a finite number, an unknown reference group, a bad confidence level.

    Notes
    -----
    With passes x_g of n_g in group g and the reference r: rate p_g = x_g / n_g, impact ratio
    IR = p_g / p_r; the interval is exp(log IR -+ z * se) with
    se^2 = 1/x_g - 1/n_g + 1/x_r - 1/n_r (undefined when a group has no passes);
    z = (p_g - p_r) / sqrt(p (1 - p) (1/n_g + 1/n_r)) with the pooled rate p.

    References
    ----------
    Uniform Guidelines on Employee Selection Procedures (1978), 29 CFR 1607.4(D).
    Katz, D., Baptista, J., Azen, S. P., & Pike, M. C. (1978). Obtaining confidence intervals
    for the risk ratio in cohort studies. Biometrics, 34(3), 469-474.
    https://doi.org/10.2307/2530610
    Morris, S. B., & Lobsenz, R. E. (2000). Significance tests and confidence intervals for
    the adverse impact ratio. Personnel Psychology, 53(1), 89-111.
    https://doi.org/10.1111/j.1744-6570.2000.tb00195.x

    Examples
    --------
    >>> import psychoval as pv
    >>> res = pv.adverse_impact([1, 2, 3, 4, 5, 6, 7, 8], ["a"] * 4 + ["b"] * 4, cut=3)
    >>> res.reference, float(res.table["impact_ratio"].iloc[0])
    ('b', 0.5)
    """
    from scipy.special import ndtr, ndtri

    level = check_confidence_level(confidence_level)
    try:
        cut = float(cut)
    except (TypeError, ValueError):
        cut = math.nan
    if not math.isfinite(cut):
        raise SpecificationError(f"cut={cut!r} must be a finite number (the cut score)")
    s = _as_vector(scores, "scores")
    g = _as_vector(groups, "groups")
    if len(s) != len(g):
        raise DataError(f"scores ({len(s)}) and groups ({len(g)}) must have the same length")
    try:
        x = pd.to_numeric(s, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        bad = next(v for v in s if pd.to_numeric(pd.Series([v]), errors="coerce").isna().all()
                   and not pd.isna(v))
        raise DataError(f"scores must be numbers; found {bad!r}") from exc
    if g.isna().any():
        row = int(np.flatnonzero(g.isna().to_numpy())[0])
        raise DataError(f"groups has a missing label at row {row}: give every respondent a "
                        "group (or leave the row out)")
    lab = g.astype(str).to_numpy()
    missing = np.isnan(x)
    passed = (x >= cut) if higher_passes else (x <= cut)
    names = sorted(set(lab))
    n = {k: int(np.sum((lab == k) & ~missing)) for k in names}
    n_miss = {k: int(np.sum((lab == k) & missing)) for k in names}
    passes = {k: int(np.sum((lab == k) & ~missing & passed)) for k in names}
    used = [k for k in names if n[k] > 0]
    if len(used) < 2:
        raise DataError(f"adverse impact compares groups: {len(used)} group(s) with scores "
                        f"({used})")
    rate = {k: passes[k] / n[k] if n[k] else math.nan for k in names}
    if reference is None:
        reference = max(used, key=lambda k: (rate[k], -used.index(k)))
    reference = str(reference)
    if reference not in names:
        raise SpecificationError(f"reference group {reference!r} is not among the groups "
                                 f"{names}")
    if n[reference] == 0:
        raise DataError(f"the reference group {reference!r} has no scores")
    zq = float(ndtri(0.5 + level / 2))
    xr, nr, pr = passes[reference], n[reference], rate[reference]
    rows = []
    for k in names:
        xg, ng, pg = passes[k], n[k], rate[k]
        row = {"group": k, "n": ng, "n_missing": n_miss[k], "passes": xg, "pass_rate": pg}
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = float(np.float64(pg) / np.float64(pr)) if ng else math.nan
        row["impact_ratio"] = ratio
        row["four_fifths"] = bool(ratio < 0.8)
        if k == reference or ng == 0:
            row.update(ratio_ci_lower=math.nan, ratio_ci_upper=math.nan,
                       rate_difference=0.0 if k == reference else math.nan, z=math.nan,
                       pvalue_z=math.nan, pvalue_fisher=math.nan)
            if k == reference:
                row.update(ratio_ci_lower=ratio, ratio_ci_upper=ratio)
            rows.append(row)
            continue
        if xg > 0 and xr > 0:
            se = math.sqrt(1 / xg - 1 / ng + 1 / xr - 1 / nr)
            lo, hi = ratio * math.exp(-zq * se), ratio * math.exp(zq * se)
        else:
            lo = hi = math.nan
        pool = (xg + xr) / (ng + nr)
        var = pool * (1 - pool) * (1 / ng + 1 / nr)
        z = (pg - pr) / math.sqrt(var) if var > 0 else math.nan
        row.update(ratio_ci_lower=lo, ratio_ci_upper=hi, rate_difference=pg - pr, z=z,
                   pvalue_z=float(2 * ndtr(-abs(z))) if math.isfinite(z) else math.nan,
                   pvalue_fisher=_fisher(xg, ng, xr, nr))
        rows.append(row)
    n_used = int((~missing).sum())
    return AdverseImpactResult(
        table=pd.DataFrame(rows, columns=_COLUMNS), reference=reference, cut=cut,
        higher_passes=bool(higher_passes), confidence_level=level, n_total=len(x),
        n_used=n_used, n_missing=int(missing.sum()))
