"""ValidationReport: the frozen result of :func:`psychoval.verdicts`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from psychoval._output import write_text
from psychoval._results import Result, Summary, to_jsonable
from psychoval._version import __version__
from psychoval.report._schema import SCHEMA_ID
from psychoval.verdicts._verdicts import VERDICTS

__all__ = ["ValidationReport", "SCHEMA_ID"]

# version 2 (2026-11-26): tiers carry omega_h, omega_total, ecv and omega_note
# version 3 (2026-12-07): verdict "not_estimable" (a model that could not be estimated); the
# fit table lists every model with its status and note
# version 4 (2026-12-07): ordered items fitted by WLSMV - competencies carry omega_ci
# ("bootstrap" or "delta") and, under WLSMV, ordinal_alpha with its delta-method interval;
# methods fit_indices and validity, options ordinal and ordinal_missing
# version 5 (2026-12-07): the fairness section - tables fairness (per group column and tier:
# highest invariance level, whether means / correlations may be compared, DIF items, largest
# dMACS), invariance (the ladders), dmacs, adverse_impact; methods.fairness; verdicts
# invariance_metric and invariance_scalar
# version 6 (2026-12-07): the decisions section - tables decisions (per competency with a cut
# score: classification accuracy and consistency, conditional SEM at the cut) and subscores
# (Haberman's PRMSE per competency against its tier total); methods.decisions; verdicts
# classification_accuracy, classification_consistency and subscore_value; table irt_items
# (per item: the competency's 2PL / GRM slope and location, S-X2) and verdict irt_item_fit;
# tables skills_gap (role x competency) and training_needs, methods.skills_gap
# version 7 (2026-12-07): the expert panels (issue 21) - tables content_items (per item: I-CVI,
# kappa*, Aiken's V, CVR, assignment agreement, worst content verdict), content_competencies
# (S-CVI/Ave, S-CVI/UA, ...), content_comments (as written), cut_scores (Angoff cut per level
# and round: SE, change, ICC, outlying judges) and impact (share at or above each cut, by
# group); methods content_validity and standard_setting; the content verdicts (i_cvi,
# i_cvi_small_panel, kappa_star, aiken_v, cvr, assignment_agreement, s_cvi_ave)


def _records(df: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    cols = columns or list(df.columns)
    return [{c: to_jsonable(r[c]) if c in df.columns else None for c in cols}
            for _, r in df.iterrows()]


@dataclasses.dataclass(frozen=True, repr=False)
class ValidationReport(Result):
    """Everything :func:`psychoval.verdicts` found, with its verdicts.

    Attributes
    ----------
    framework_name : str
    n_respondents : int
    data_quality : dict
        Facts of the data-quality check (missing cells, invalid codes, problems).
    competencies : DataFrame
        One row per competency: alpha (interval), omega (bootstrap interval), AVE, fit
        status, estimator, composite reliability and AVE in its tier model.
    items : DataFrame
        One row per item: item statistics, standardized loading (interval), verdict, flags;
        ``tier_loading``: the standardized loading in its tier's correlated-competencies
        model (the HTML path diagram; not in the JSON document).
    tiers : DataFrame
        One row per tier: the second-order test (or why there is none).
    discriminant : DataFrame
        Competency pairs within each tier: latent correlation, HTMT, HTMT2.
    cross_loadings : DataFrame
        The largest cross-loading modification index of each tier model.
    fit : DataFrame
        Fit measures of every CFA model (competency, tier, framework): the scaled variants
        under WLSMV, the robust ones under MLR, ``approximate`` for ML on dichotomous items.
    raters : DataFrame
        Rater agreement of rubric-scored items.
    dimensionality : dict
        Parallel analysis (number of factors suggested) when available.
    fairness : DataFrame
        Per group column and tier: the highest invariance level that holds, whether the
        competencies' correlations and means may be compared across the groups, the items
        the DIF screen flagged, the largest dMACS.
    invariance : DataFrame
        The invariance ladders (one row per group column, tier and level).
    dmacs : DataFrame
        dMACS per item and focal group (continuous tiers; configural fit).
    adverse_impact : DataFrame
        Pass rates by group at each competency's cut score (information).
    decisions : DataFrame
        Per competency with a cut score: the classification method, the cut on the summed
        score, accuracy, consistency, kappa, false positive / negative rates and the
        conditional SEM at the cut.
    subscores : DataFrame
        Per tier and competency: Haberman's PRMSE of the competency score from itself, from
        the tier total and from both, and whether to report it separately.
    irt_items : DataFrame
        Per item: the IRT model of its competency (2PL / GRM), slope, location (mean
        threshold), S-X2 with df, p and Holm-adjusted p, RMSEA of S-X2.
    skills_gap : DataFrame
        With roles in the framework: per role and competency the shares below / cannot tell
        / meeting the target, the mean gap with its interval, whether the competency is used.
    training_needs : DataFrame
        Ranked needs: role, tier, competency, n below, mean shortfall, need.
    content_items, content_competencies, content_comments : DataFrame
        With ``content_ratings=``: the expert panel's indices per item (with the worst content
        verdict) and per competency, and the experts' comments as written (empty otherwise).
    cut_scores : DataFrame
        With ``angoff_ratings=``: per level and round the panel's cut on the summed score of
        the target's items, its SD and SE across judges (and with items random), the cut per
        item, the change from the previous round (and its paired-t p), and for the final
        round the judges' ICC(2,1) / ICC(2,k) and the outlying / constant judges.
    impact : DataFrame
        Share of respondents at or above each final cut, overall and per group.
    verdicts : DataFrame
        One row per judged criterion: ``id, level, target, tier, competency, criterion,
        statistic, value, threshold, direction, lower, upper, verdict, citation, reason``.
    actions : DataFrame
        Recommended actions, each with the ids of the verdicts behind it.
    methods, options, provenance, timings : dict
        Missing-data and estimation statements; options; versions, input SHA-256, seeds and
        the R call of each statistic; seconds per step.
    notes : tuple of str
        Warnings raised by the statistics, and fallbacks taken.
    framework, criteria, results
        The framework, the criteria applied, and every underlying result object (keyed
        ``"cfa:<competency>"``, ``"cfa_tier:<tier>"``, ``"alpha:<competency>"``, ...).
    """

    framework_name: str
    n_respondents: int
    data_quality: Mapping[str, Any]
    competencies: pd.DataFrame
    items: pd.DataFrame
    tiers: pd.DataFrame
    discriminant: pd.DataFrame
    cross_loadings: pd.DataFrame
    fit: pd.DataFrame
    raters: pd.DataFrame
    dimensionality: Mapping[str, Any]
    verdicts: pd.DataFrame
    actions: pd.DataFrame
    methods: Mapping[str, str]
    options: Mapping[str, Any]
    provenance: Mapping[str, Any]
    timings: Mapping[str, float]
    notes: tuple[str, ...]
    fairness: pd.DataFrame
    invariance: pd.DataFrame
    dmacs: pd.DataFrame
    adverse_impact: pd.DataFrame
    decisions: pd.DataFrame
    subscores: pd.DataFrame
    irt_items: pd.DataFrame
    skills_gap: pd.DataFrame
    training_needs: pd.DataFrame
    content_items: pd.DataFrame
    content_competencies: pd.DataFrame
    content_comments: pd.DataFrame
    cut_scores: pd.DataFrame
    impact: pd.DataFrame
    framework: Any = dataclasses.field(repr=False, compare=False)
    criteria: Any = dataclasses.field(repr=False, compare=False)
    results: Mapping[str, Any] = dataclasses.field(repr=False, compare=False)

    _schema: ClassVar[str] = SCHEMA_ID

    # -- views ------------------------------------------------------------------------
    @property
    def counts(self) -> dict[str, int]:
        """Number of verdicts of each kind."""
        vc = self.verdicts["verdict"].value_counts()
        return {k: int(vc.get(k, 0)) for k in VERDICTS}

    @property
    def passed(self) -> bool:
        """True when no criterion failed."""
        return self.counts["fail"] == 0

    @property
    def flagged_items(self) -> list[str]:
        """Items with at least one failed criterion."""
        return self.items.loc[self.items["verdict"] == "fail", "item"].tolist()

    def verdicts_for(self, target: str) -> pd.DataFrame:
        """The verdicts about one item, competency, tier or pair."""
        return self.verdicts[self.verdicts["target"] == target]

    def overview(self) -> pd.DataFrame:
        """Verdict counts per tier and competency (the first table of every rendering)."""
        v = self.verdicts.copy()
        v["competency"] = v["competency"].fillna("(tier)")
        tab = (v.groupby(["tier", "competency"], sort=False)["verdict"].value_counts()
               .unstack(fill_value=0))
        for k in VERDICTS:
            if k not in tab:
                tab[k] = 0
        tab = tab[list(VERDICTS)].reset_index()
        order = {(c.tier, c.id): j for j, c in enumerate(self.framework.competencies)}
        tiers = {t.id: j for j, t in enumerate(self.framework.tiers)}
        key = [(tiers.get(t, 99), order.get((t, c), 999)) for t, c in
               zip(tab["tier"], tab["competency"], strict=True)]
        tab = tab.iloc[sorted(range(len(tab)), key=key.__getitem__)].reset_index(drop=True)
        tab.columns.name = None
        return tab

    # -- Result face --------------------------------------------------------------------
    def _repr_fields(self) -> dict[str, Any]:
        c = self.counts
        return {"framework": repr(self.framework_name), "n": self.n_respondents,
                "pass": c["pass"], "borderline": c["borderline"], "fail": c["fail"],
                "actions": len(self.actions)}

    def summary(self) -> Summary:
        c = self.counts
        cols = ["competency", "tier", "n_items", "alpha", "alpha_lower", "alpha_upper",
                "omega", "omega_lower", "omega_upper", "omega_ci", "estimator"]
        comp = self.competencies[[c for c in cols if c in self.competencies]]
        failed = self.verdicts[self.verdicts["verdict"] == "fail"][
            ["id", "target", "criterion", "value", "threshold"]]
        return Summary(
            title=f"Validation report: {self.framework_name}",
            facts=(("respondents", self.n_respondents),
                   ("competencies", len(self.competencies)), ("items", len(self.items)),
                   ("verdicts pass", c["pass"]), ("verdicts borderline", c["borderline"]),
                   ("verdicts fail", c["fail"]), ("not applicable", c["not_applicable"]),
                   ("models not estimable", c["not_estimable"]),
                   ("items flagged", len(self.flagged_items)),
                   ("missing data (reliability)", self.methods["reliability_missing"]),
                   ("missing data (CFA)", self.methods["cfa_missing"])),
            tables=(("Verdicts per tier and competency", self.overview()),
                    ("Reliability", comp),
                    ("Failed criteria", failed),
                    ("Recommended actions", self.actions[["id", "target", "text",
                                                          "verdicts"]])),
            notes=self.notes)

    def to_frame(self) -> pd.DataFrame:
        """The verdicts, one row each."""
        return self.verdicts.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict following ``docs/validation_report.schema.json``."""
        from psychoval.report._schema import report_dict

        return report_dict(self)

    # Files are written atomically (a temporary file in the same folder, then os.replace):
    # a failure (a full disk) raises OSError and leaves no truncated report behind.
    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """The report as JSON (written to ``path`` when given, atomically); returns the
        text."""
        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)
        if path is not None:
            write_text(path, text + "\n")
        return text

    def to_html(self, path: str | Path | None = None) -> str:
        """One self-contained HTML page (inline CSS and SVG, no scripts, no network);
        written to ``path`` when given, atomically."""
        from psychoval.report._html import render_html

        text = render_html(self)
        if path is not None:
            write_text(path, text)
        return text

    def to_markdown(self, path: str | Path | None = None) -> str:
        """The report as Markdown (GitHub tables), every text escaped for CommonMark;
        written to ``path`` when given, atomically."""
        from psychoval.report._markdown import render_markdown

        text = render_markdown(self)
        if path is not None:
            write_text(path, text)
        return text

    def _repr_html_(self) -> str:
        """The Jupyter dashboard (``report._notebook``): counts, verdicts by level, actions,
        then the evidence in collapsible sections; ``to_html()`` is the full report."""
        from psychoval.report._notebook import render_notebook

        return render_notebook(self)


def _version() -> str:
    return __version__
