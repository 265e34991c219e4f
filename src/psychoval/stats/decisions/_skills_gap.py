"""Skills-gap analysis (issue 21, section 3): each respondent's competency scores against the
level their role requires, with the scores' measurement error, and per role the share below
target, the mean gap and a ranked list of training needs.

A person's competency score is the framework's scale score (the mean of the answered items,
``Framework.scale_scores``). Its standard error of measurement is the classical one of the
competency, ``SD * sqrt(1 - alpha)`` (alpha from the items' pairwise covariances, psych's
default), so the interval ``score +- z SEM`` says whether the person is below the target
(the whole interval below it), meets it (the whole interval at or above it) or "cannot tell"
(the interval straddles the target). Nothing is imputed: a respondent without a score (fewer
answered items than ``min_answered``) is "no score".
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._moments import alpha_from_cov

__all__ = ["skills_gap", "SkillsGapResult"]

STATUSES = ("below", "cannot tell", "meets", "no score", "not used")


@dataclasses.dataclass(frozen=True, repr=False)
class SkillsGapResult(Result):
    """Skills gaps by person, role and competency.

    Attributes
    ----------
    persons : DataFrame
        One row per respondent and competency with a target for the respondent's role:
        ``id`` (as read), ``role``, ``tier``, ``competency``, ``score``, ``target``, ``gap``
        (target - score: positive is a shortfall), ``lower`` / ``upper`` (the score's interval),
        ``status`` (``"below"``, ``"cannot tell"``, ``"meets"``, ``"no score"`` or ``"not
        used"``).
    groups : DataFrame
        One row per role and competency: ``n`` (respondents of the role), ``n_scored``,
        ``share_below``, ``share_cannot_tell``, ``share_meets`` (of the scored),
        ``mean_gap`` with its t interval (``gap_lower``, ``gap_upper``), ``target``, ``used``
        and ``reason`` (why a competency is not used).
    needs : DataFrame
        Training needs ranked: ``role``, ``tier``, ``competency``, ``n_below``,
        ``mean_shortfall`` (mean gap of those below), ``need`` = ``n_below x
        mean_shortfall``, ``rank``. Only used competencies.
    tier_needs : DataFrame
        The needs summed per role and tier, ranked.
    sem : dict
        competency -> the SEM used (mean-score scale), with ``alpha`` and ``sd`` in
        ``reliability``.
    reliability : DataFrame
        Per competency: ``alpha``, ``sd``, ``sem`` (classical) and ``sem_method`` (``"alpha"``
        or ``"conditional (Keats)"``: see ``sem=``).
    confidence_level : float
    excluded : dict
        competency -> reason it is not used (failed validation).
    """

    persons: pd.DataFrame
    groups: pd.DataFrame
    needs: pd.DataFrame
    tier_needs: pd.DataFrame
    reliability: pd.DataFrame
    confidence_level: float
    excluded: Mapping[str, str]
    n_total: int
    role_column: str

    _schema: ClassVar[str] = "psychoval.skills_gap/1"

    def _repr_fields(self) -> dict[str, Any]:
        below = self.persons["status"].eq("below").sum()
        return {"roles": int(self.groups["role"].nunique()),
                "competencies": int(self.groups["competency"].nunique()),
                "below": int(below), "n": self.n_total}

    def to_frame(self) -> pd.DataFrame:
        """The role x competency table (a copy)."""
        return self.groups.copy()

    def heatmap(self, value: str = "share_below") -> pd.DataFrame:
        """Competency x role matrix of ``value`` (``share_below``, ``mean_gap``, ...); NaN
        for competencies not used or without a target."""
        g = self.groups[self.groups["used"]]
        return g.pivot(index="competency", columns="role", values=value)

    def summary(self) -> Summary:
        facts = (("Respondents", self.n_total), ("Role column", self.role_column),
                 ("Interval", f"{self.confidence_level:.0%} (score +- z SEM)"),
                 ("Competencies not used", len(self.excluded)))
        tables = [("Share below target (competency x role)", self.heatmap()),
                  ("Training needs (ranked)", self.needs.head(15).set_index("rank")),
                  ("Reliability and SEM", self.reliability.set_index("competency"))]
        notes = ["status: below = the whole interval under the target; meets = the whole "
                 "interval at or above it; cannot tell = it straddles the target"]
        notes += [f"{c} not used: {why}" for c, why in self.excluded.items()]
        return Summary(title="Skills gaps", facts=facts, tables=tuple(tables),
                       notes=tuple(notes))


def _targets(targets: Any, roles: set[str], comps: set[str]) -> pd.DataFrame:
    """Targets as long (role, competency, target)."""
    if isinstance(targets, Mapping):
        rows = []
        for role, spec in targets.items():
            if not isinstance(spec, Mapping):
                raise SpecificationError(
                    f"targets[{role!r}] must map competencies to target scores, got "
                    f"{type(spec).__name__}")
            rows += [{"role": str(role), "competency": str(c), "target": t}
                     for c, t in spec.items()]
        long = pd.DataFrame(rows, columns=["role", "competency", "target"])
    elif isinstance(targets, pd.DataFrame):
        if {"role", "competency", "target"} <= set(targets.columns):
            long = targets[["role", "competency", "target"]].copy()
        else:  # wide: roles as the index, competencies as columns
            long = targets.rename_axis("role").reset_index().melt(
                id_vars="role", var_name="competency", value_name="target").dropna()
        long["role"] = long["role"].astype(str)
        long["competency"] = long["competency"].astype(str)
    else:
        raise SpecificationError("targets must be a mapping {role: {competency: target}} or a "
                                 "DataFrame (long: role, competency, target; or wide: roles "
                                 "as the index, competencies as columns)")
    unknown = sorted(set(long["competency"]) - comps)
    if unknown:
        raise DataError(f"targets name competencies not in the framework: {unknown}; use the "
                        "framework's competency ids")
    dup = long.duplicated(["role", "competency"])
    if dup.any():
        r = long[dup].iloc[0]
        raise DataError(f"targets give role {r['role']!r} two targets for {r['competency']!r}")
    try:
        long["target"] = pd.to_numeric(long["target"], errors="raise").astype(float)
    except (TypeError, ValueError):
        raise DataError("targets must be numbers on the competency's mean-score scale") from None
    if not np.isfinite(long["target"]).all():
        raise DataError("targets must be finite numbers")
    missing_roles = sorted(set(long["role"]) - roles)
    if missing_roles:
        raise DataError(f"targets name roles that no respondent has: {missing_roles}; check "
                        "the spelling against the role column")
    return long.reset_index(drop=True)


def _binary(x: pd.DataFrame) -> bool:
    v = x.to_numpy(dtype=float)
    v = v[~np.isnan(v)]
    return bool(v.size) and bool(np.isin(v, (0.0, 1.0)).all())


def _conditional(x: pd.DataFrame, mean: pd.Series, kr20: float) -> pd.Series:
    """Keats-adjusted Lord CSEM at each person's prorated number correct, on the mean
    scale (divided by the number of items); NaN without a score."""
    from psychoval.stats.decisions._csem import conditional_sem

    n = x.shape[1]
    number = (mean * n).to_numpy(dtype=float)
    ok = ~np.isnan(number)
    at = np.unique(number[ok])
    res = conditional_sem(x, reliability=kr20, at=at, missing="listwise")
    table = dict(zip(res.at["score"].to_numpy(float), res.at["csem_keats"].to_numpy(float),
                     strict=True))
    out = np.full(len(number), np.nan)
    out[ok] = [table[v] / n for v in number[ok]]
    return pd.Series(out, index=x.index)


def skills_gap(data: Any, *, framework: Any, targets: Any = None, role: str | None = None,
               confidence_level: float = 0.95, min_answered: float = 0.5,
               exclude: Mapping[str, str] | None = None, sem: str = "alpha"
               ) -> SkillsGapResult:
    """Skills gaps against the target level of each respondent's role.

    Parameters
    ----------
    data : ResponseTable, DataFrame or ScoredResponses
        Responses (scored by ``framework``) with the role column.
    framework : Framework
    targets : mapping or DataFrame, optional
        ``{role: {competency: target}}`` or a table (long: ``role, competency, target``;
        wide: roles as the index, competencies as columns); targets on the competency's
        mean-score scale (the scale of the framework's ``cut_score``). Default: the
        framework's ``roles``.
    role : str, optional
        The column naming each respondent's role (e.g. ``"job_family"``). Default: the
        framework's ``role_column``.
    confidence_level : float
        Of each person's score interval (default .95).
    min_answered : float
        As ``Framework.scale_scores``.
    exclude : mapping, optional
        competency -> reason: competencies that failed validation (e.g. from a
        ``ValidationReport``); their gaps are reported as ``"not used"``, never as findings.
    sem : {"alpha", "conditional"}
        The score's standard error. ``"alpha"`` (default): the classical SEM of the
        competency, SD sqrt(1 - alpha), the same for everyone. ``"conditional"``: for
        competencies of 0/1 items, the conditional SEM at each person's score
        (:func:`psychoval.conditional_sem`: Lord's binomial error, Keats-adjusted to the
        competency's KR-20), at the number correct prorated from the answered items and
        divided by the number of items (the mean-score scale); it is largest near half
        correct and 0 at none or all correct. Other competencies keep the classical SEM
        (``reliability["sem_method"]`` says which).

    Returns
    -------
    SkillsGapResult

    References
    ----------
    Harvill, L. M. (1991). Standard error of measurement. Educational Measurement: Issues and
    Practice, 10(2), 33-41. https://doi.org/10.1111/j.1745-3992.1991.tb00195.x
    """
    from scipy import stats

    from psychoval._input import check_choice
    from psychoval.framework import Framework
    from psychoval.framework._scoring import ScoredResponses

    check_choice("sem", sem, ("alpha", "conditional"))
    if not isinstance(framework, Framework):
        raise SpecificationError("framework= must be a Framework (pv.read_framework)")
    if targets is None:
        if not framework.roles:
            raise SpecificationError("no targets: give targets= or declare roles in the "
                                     "framework (roles: {role: {competency: target}})")
        targets = framework.roles
    if role is None:
        role = framework.role_column
        if role is None:
            raise SpecificationError("role= names the column holding each respondent's role "
                                     "(or declare role_column in the framework)")
    level = float(confidence_level)
    if not 0.0 < level < 1.0:
        raise SpecificationError(f"confidence_level must be in (0, 1), got {confidence_level!r}")
    scored = data if isinstance(data, ScoredResponses) else framework.score(data)
    cov = scored.covariates
    if role in cov.columns:
        roles = cov[role]
    elif isinstance(data, pd.DataFrame) and role in data.columns:
        roles = data[role]
    else:
        raise DataError(f"role column {role!r} is not in the data (declare it in the "
                        "framework's group_columns or give the column)")
    roles = pd.Series(roles.to_numpy(dtype=object), index=scored.scores.index)
    comps = {c.id: c for c in framework.competencies}
    long = _targets(targets, {str(r) for r in roles.dropna()}, set(comps))
    excluded = {str(k): str(v) for k, v in (exclude or {}).items()}
    means = framework.scale_scores(scored, min_answered=min_answered).means
    z = float(stats.norm.ppf(0.5 + level / 2))
    rel_rows = []
    sems: dict[str, float] = {}
    csem: dict[str, pd.Series] = {}   # competency -> per-person conditional SEM (mean scale)
    for cid in sorted(set(long["competency"]), key=list(comps).index):
        items = list(comps[cid].item_ids)
        x = scored.scores[items]
        if len(items) >= 2:
            a = float(alpha_from_cov(x.cov().to_numpy()))
        else:
            a = math.nan
        sd = float(means[cid].std(ddof=1))
        s = sd * math.sqrt(max(1.0 - a, 0.0)) if np.isfinite(a) else math.nan
        sems[cid] = s
        method = "alpha"
        if sem == "conditional" and np.isfinite(a) and _binary(x):
            csem[cid] = _conditional(x, means[cid], a)
            method = "conditional (Keats)"
        rel_rows.append({"competency": cid, "alpha": a, "sd": sd, "sem": s,
                         "sem_method": method})
    reliability = pd.DataFrame(rel_rows, columns=["competency", "alpha", "sd", "sem",
                                                  "sem_method"])
    for cid, s in sems.items():
        if not np.isfinite(s) and cid not in excluded:
            excluded[cid] = "no reliability estimate (one item or no variance): no SEM"
    # per person x target: vectorized by a merge on role
    ids = scored.scores.index
    person = pd.DataFrame({"id": ids, "role": roles.astype("string").to_numpy(object)})
    merged = person.merge(long, on="role", how="inner")
    score_long = means[list(sems)].rename_axis("id").reset_index().melt(
        id_vars="id", var_name="competency", value_name="score")
    merged = merged.merge(score_long, on=["id", "competency"], how="left")
    s_vec = merged["competency"].map(sems).to_numpy(dtype=float, copy=True)
    if csem:
        pos = {v: i for i, v in enumerate(scored.scores.index)}
        rows = merged["id"].map(pos).to_numpy()
        for cid, per in csem.items():
            hit = (merged["competency"] == cid).to_numpy()
            s_vec[hit] = per.to_numpy(dtype=float)[rows[hit]]
    score = merged["score"].to_numpy(dtype=float)
    lo, hi = score - z * s_vec, score + z * s_vec
    tgt = merged["target"].to_numpy(dtype=float)
    status = np.where(hi < tgt, "below", np.where(lo >= tgt, "meets", "cannot tell"))
    status = np.where(np.isnan(score), "no score", status)
    status = np.where(merged["competency"].isin(list(excluded)), "not used", status)
    merged = merged.assign(tier=merged["competency"].map({c: comps[c].tier for c in comps}),
                           gap=tgt - score, lower=lo, upper=hi, status=status)
    persons = merged[["id", "role", "tier", "competency", "score", "target", "gap", "lower",
                      "upper", "status"]]
    pos = {v: i for i, v in enumerate(ids)}
    order = {c: i for i, c in enumerate(comps)}
    persons = (persons.assign(_i=persons["id"].map(pos), _c=persons["competency"].map(order))
               .sort_values(["_i", "_c"], kind="stable").drop(columns=["_i", "_c"])
               .reset_index(drop=True))
    g_rows = []
    for (rl, cid), g in persons.groupby(["role", "competency"], sort=False):
        scored_g = g[g["status"].isin(["below", "cannot tell", "meets"])]
        n_s = len(scored_g)
        gaps = scored_g["gap"].to_numpy(dtype=float)
        mean_gap = float(gaps.mean()) if n_s else math.nan
        if n_s >= 2:
            half = float(stats.t.ppf(0.5 + level / 2, n_s - 1) * gaps.std(ddof=1)
                         / math.sqrt(n_s))
        else:
            half = math.nan
        used = cid not in excluded
        g_rows.append({
            "role": rl, "tier": comps[cid].tier, "competency": cid, "target": g["target"].iloc[0],
            "n": len(g), "n_scored": n_s,
            "share_below": float((scored_g["status"] == "below").mean()) if n_s else math.nan,
            "share_cannot_tell": (float((scored_g["status"] == "cannot tell").mean())
                                  if n_s else math.nan),
            "share_meets": float((scored_g["status"] == "meets").mean()) if n_s else math.nan,
            "mean_gap": mean_gap, "gap_lower": mean_gap - half, "gap_upper": mean_gap + half,
            "used": used, "reason": "" if used else excluded[cid]})
    groups = pd.DataFrame(g_rows, columns=[
        "role", "tier", "competency", "target", "n", "n_scored", "share_below",
        "share_cannot_tell", "share_meets", "mean_gap", "gap_lower", "gap_upper", "used",
        "reason"])
    below = persons[persons["status"] == "below"]
    needs = (below.groupby(["role", "tier", "competency"], sort=False)["gap"]
             .agg(n_below="size", mean_shortfall="mean").reset_index())
    needs["need"] = needs["n_below"] * needs["mean_shortfall"]
    needs = needs.sort_values("need", ascending=False, kind="stable").reset_index(drop=True)
    needs.insert(0, "rank", np.arange(1, len(needs) + 1))
    tier_needs = (needs.groupby(["role", "tier"], sort=False)[["n_below", "need"]].sum()
                  .reset_index().sort_values("need", ascending=False, kind="stable")
                  .reset_index(drop=True))
    tier_needs.insert(0, "rank", np.arange(1, len(tier_needs) + 1))
    return SkillsGapResult(persons=persons, groups=groups, needs=needs, tier_needs=tier_needs,
                           reliability=reliability, confidence_level=level, excluded=excluded,
                           n_total=len(ids), role_column=role)
