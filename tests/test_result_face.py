"""The common face (issue 17): every public result class, made by its public function on the
sample assessment, passes the same checks: frozen; a one-line repr; summary as text and HTML;
to_frame a DataFrame; to_dict JSON-safe with its schema name; ``sample`` a SampleInfo (with
the number of respondents used wherever the result is computed from respondents)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import warnings
from pathlib import Path

import pandas as pd
import pytest

import psychoval as pv
from psychoval._results import Result, SampleInfo
from psychoval.datasets import sample_framework, sample_path

SRC = Path(__file__).resolve().parents[1] / "src" / "psychoval"


@pytest.fixture(scope="module")
def sample():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fw = sample_framework()
        table = pv.load_sample()
        scored = fw.score(table)
    return fw, table, scored


LIKERT = ["DAT1", "DAT2", "DAT3", "DAT4"]
MODEL = "data =~ DAT1 + DAT2 + DAT3 + DAT4\nethics =~ ETH1 + ETH2 + ETH3 + ETH4"


def _make(name, fw, table, scored):  # noqa: C901 - one small recipe per class
    x = scored.scores
    mc = {i.id: i.answer_key for i in fw.items if i.type == "multiple_choice"}
    raters = scored.ratings[["EVA4_r1", "EVA4_r2", "EVA4_r3"]].dropna(how="all")
    two = raters[["EVA4_r1", "EVA4_r2"]].dropna()
    group = scored.covariates["job_family"]
    fit = pv.cfa(MODEL, x)
    recipes = {
        "DataQualityReport": lambda: pv.check_data(table, fw),
        "ScanQualityReport": lambda: pv.scan_quality(
            pv.scan_responses(sample_path("responses.csv"), id_column="respondent_id"),
            framework=fw),
        "ScoredResponses": lambda: scored,
        "ScaleScores": lambda: fw.scale_scores(scored),
        "CohenKappaResult": lambda: pv.cohen_kappa(two),
        "PairwiseKappaResult": lambda: pv.pairwise_kappa(raters),
        "FleissKappaResult": lambda: pv.fleiss_kappa(raters.dropna()),
        "ICCResult": lambda: pv.icc(raters),
        "AgreementTable": lambda: pv.agreement_table(scored, framework=fw),
        "ContentValidityResult": lambda: pv.content_validity(pd.DataFrame(
            [{"item": it.id, "expert": f"e{j}", "relevance": 3 + (j + k) % 2,
              "essentiality": "essential", "assignment": it.competency}
             for k, it in enumerate(fw.items) for j in range(5)]), framework=fw),
        "KrippendorffResult": lambda: pv.krippendorff_alpha(raters),
        "PolychoricResult": lambda: pv.polychoric(x[LIKERT]),
        "KMOResult": lambda: pv.kmo(x[LIKERT]),
        "DescribeResult": lambda: pv.describe(x[LIKERT]),
        "BartlettResult": lambda: pv.bartlett(x[LIKERT]),
        "ParallelAnalysisResult": lambda: pv.parallel_analysis(x[LIKERT], seed=1, n_iter=5),
        "SchmidLeimanResult": lambda: pv.schmid_leiman(
            x[[i for c in fw.tier("applied").competencies for i in c.item_ids]], n_factors=3),
        "EFAResult": lambda: pv.efa(x[LIKERT + ["ETH1", "ETH2", "ETH3", "ETH4"]], n_factors=2),
        "GuttmanResult": lambda: pv.guttman(x[LIKERT]),
        "OmegaResult": lambda: pv.omega(
            x[[i for c in fw.tier("applied").competencies for i in c.item_ids]], n_factors=3),
        "OmegaSemResult": lambda: pv.omega_sem(
            x[[i for c in fw.tier("applied").competencies for i in c.item_ids]], n_factors=3),
        "ScoreItemsResult": lambda: pv.score_items(
            x, {c.id: list(c.item_ids) for c in fw.tier("applied").competencies}),
        "SplitHalfResult": lambda: pv.split_half(x[LIKERT]),
        "AlphaResult": lambda: pv.alpha(x[LIKERT]),
        "KRResult": lambda: pv.kr20(x[list(mc)]),
        "SEMResult": lambda: pv.sem_score(x[LIKERT]),
        "ItemAnalysisResult": lambda: pv.item_analysis(scored, framework=fw),
        "DifResult": lambda: pv.dif(x[LIKERT], group=group, reference="sales",
                                   focal="engineering"),
        "DistractorResult": lambda: pv.distractors(scored.options[list(mc)], answer_key=mc),
        "FornellLarckerResult": lambda: fit.fornell_larcker(),
        "CFAResult": lambda: fit,
        "HTMTResult": lambda: pv.htmt(x, MODEL),
        "OneFactorOmega": lambda: pv.stats.one_factor_omega(x[LIKERT]),
        "CompareResult": lambda: pv.compare(
            fit, pv.cfa("f =~ DAT1 + DAT2 + DAT3 + DAT4 + ETH1 + ETH2 + ETH3 + ETH4", x)),
        "InvarianceResult": lambda: pv.invariance(
            "data =~ DAT1 + DAT2 + DAT3 + DAT4", x.assign(job_family=group),
            group="job_family", levels=("configural", "metric")),
        "AlignmentResult": lambda: pv.alignment(
            "data =~ DAT1 + DAT2 + DAT3 + DAT4", x.assign(job_family=group),
            group="job_family", estimator="ML", missing="listwise"),
        "IRTResult": lambda: pv.irt(x[list(mc)], model="2PL"),
        "DMACSResult": lambda: pv.dmacs(pv.cfa("data =~ DAT1 + DAT2 + DAT3 + DAT4",
                                               x.assign(job_family=group), group="job_family")),
        "AdverseImpactResult": lambda: pv.adverse_impact(
            fw.scale_scores(scored).means.iloc[:, 0], group, cut=0.5),
        "ClassificationResult": lambda: pv.classification(x[list(mc)], [3],
                                                          method="hanson_brennan"),
        "ConditionalSEMResult": lambda: pv.conditional_sem(x[list(mc)], at=[3]),
        "SkillsGapResult": lambda: pv.skills_gap(
            scored, framework=fw, targets={"engineering": {"prompting": 3.5}},
            role="job_family"),
        "SubscoreValueResult": lambda: pv.subscore_value(scored, framework=fw, tier="applied"),
        "StandardSettingResult": lambda: pv.standard_setting(
            pd.DataFrame({"judge": [f"J{j}" for j in range(3) for _ in mc],
                          "item": list(mc) * 3,
                          "rating": [0.4 + 0.1 * ((j + k) % 4) for j in range(3)
                                     for k in range(len(mc))]}),
            scores=x[list(mc)].sum(axis=1), groups=group),
        "ItemFlags": lambda: pv.flag_items([pv.item_analysis(scored, framework=fw)]),
        "ValidationReport": None,  # its own suite: tests/test_validate.py, test_report.py
    }
    return recipes[name]


def _result_classes() -> list[str]:
    out = subprocess.run(["grep", "-rhoE", r"^class \w+\(Result\)", str(SRC)],
                         capture_output=True, text=True, check=True).stdout
    return sorted(line.split()[1].split("(")[0] for line in out.splitlines())


@pytest.mark.parametrize("name", _result_classes())
def test_every_result_has_the_common_face(name, sample):
    if name == "ValidationReport":
        pytest.skip("the validation report has its own suite")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _make(name, *sample)()
    assert type(res).__name__ == name and isinstance(res, Result)
    field = dataclasses.fields(res)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(res, field, None)
    text = repr(res)
    assert "\n" not in text and text.startswith(f"<{name}")
    summary = res.summary()
    assert str(summary).strip() and "<" in summary._repr_html_()
    assert isinstance(res.to_frame(), pd.DataFrame)
    doc = res.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["schema"].startswith("psychoval.")
    info = res.sample
    assert isinstance(info, SampleInfo)
    if info.n_used is not None:
        assert info.n_used > 0
        if info.n_total is not None:
            assert info.n_total >= info.n_used
            assert info.n_dropped == info.n_total - info.n_used


def test_sample_info_reads_each_results_own_fields(sample):
    fw, table, scored = sample
    x = scored.scores
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = pv.alpha(x[LIKERT], missing="listwise")
        fit = pv.cfa(MODEL, x)
    assert a.sample == SampleInfo(n_total=a.n_obs + a.rows_dropped, n_used=a.n_obs,
                                  n_dropped=a.rows_dropped, rows_dropped=None,
                                  missing="listwise")
    assert fit.sample.n_used == fit.n_obs and fit.sample.missing == fit.missing
    assert fit.sample.n_total == fit.n_total
