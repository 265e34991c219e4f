"""pv.validate(scan) (issue 22, section 2): the same report as in memory when every row fits
in the sample (Parquet and CSV); with a smaller sample, exact counts and alpha on every row
and the sample's size and seed in the notes."""

from __future__ import annotations

import re
import warnings

import pandas as pd
import pytest

import psychoval as pv
from psychoval.datasets import sample_framework
from tests._tolerances import assert_close

pytestmark = pytest.mark.slow  # four validate runs of two tiers of the sample (~3 s each)

DIFFER = ("provenance", "timings", "notes")  # where a scan's report says it was streamed


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream_validate")
    spec = sample_framework().to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] in ("applied", "leadership")]
    spec.pop("roles", None)  # they name competencies of the other tiers
    spec.pop("group_columns", None)  # no invariance ladder: the fastest full report
    spec.pop("role_column", None)
    fw = pv.read_framework(spec)
    keep = {fw.id_column, *fw.group_columns, *fw.criterion_columns, *fw.columns}
    raw = pv.load_sample().raw.reset_index().iloc[:800]
    raw = raw[[c for c in raw.columns if c in keep]]
    paths = {"parquet": d / "s.parquet", "csv": d / "s.csv"}
    raw.to_parquet(paths["parquet"], index=False)
    raw.to_csv(paths["csv"], index=False)
    return raw, fw, paths, pv.validate(raw, fw, seed=1, n_boot=40).to_dict()


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_scan_report_equals_in_memory(data, kind):
    raw, fw, paths, expected = data
    report = pv.validate(pv.scan_responses(paths[kind], batch_size=300), fw, seed=1,
                         n_boot=40)
    got = report.to_dict()
    assert got.keys() == expected.keys()
    for key in expected:
        if key not in DIFFER:
            assert got[key] == expected[key], key
    assert got["notes"][1:] == expected["notes"]
    assert re.match(r"Streamed: 800 rows in [3-5] batches of at most 300 \(every batch read "
                    r"by the cell rules: item 'EVA4' is rated by raters\);", got["notes"][0])
    assert "every statistic is computed on all rows" in got["notes"][0]
    assert got["provenance"]["input"] == f"{paths[kind]} (scanned)"
    assert report.timings["stream_pass"] > 0


def test_sampled_report_is_exact_where_it_says(data):
    raw, fw, paths, expected = data
    report = pv.validate(pv.scan_responses(paths["csv"], batch_size=250), fw, seed=1,
                         n_boot=40, sample_rows=300, sample_seed=7)
    quality = pv.check_data(raw, fw)
    assert report.n_respondents == 800
    dq = report.data_quality
    for field in ("n_respondents", "n_columns", "n_out_of_range", "n_invalid_codes",
                  "n_all_missing_rows", "n_duplicate_ids", "min_pairwise_n"):
        assert dq[field] == getattr(quality, field), field
    assert_close(dq["missing_fraction"], quality.missing_fraction, "closed_form")
    assert "uniform random sample of 300 rows" in report.notes[0]
    assert "sample_seed=7" in report.notes[0]
    # alpha on every row from the merged moments = pv.alpha on the whole scored table
    scores = fw.score(raw).scores
    exact = report.results["alpha_all_rows"].set_index("competency")
    for comp in fw.competencies:
        with warnings.catch_warnings():  # CON3's negative r_drop warns, as in validate
            warnings.simplefilter("ignore", pv.PsychovalWarning)
            a = pv.alpha(scores[list(comp.item_ids)], missing="pairwise", ci_method="feldt")
        assert_close(exact.loc[comp.id, ["alpha_all_rows", "lower", "upper"]].tolist(),
                     [a.raw_alpha, a.ci_lower, a.ci_upper], "merged_statistics",
                     what=comp.id)
        assert f"{comp.id} {a.raw_alpha:.4f}" in report.notes[1]
        # ... and it is the alpha of the competencies table (and of its verdict)
        row = report.competencies.set_index("competency").loc[comp.id]
        assert_close([row["alpha"], row["alpha_lower"], row["alpha_upper"]],
                     [a.raw_alpha, a.ci_lower, a.ci_upper], "merged_statistics",
                     what=f"{comp.id} table")
    # the one-factor FIML CFA from merged pattern moments = pv.cfa on the whole table
    fits = report.results["cfa_all_rows"].set_index("competency")
    comp = max(fw.competencies, key=lambda c: len(c.items))
    model = f"{comp.id} =~ " + " + ".join(comp.item_ids)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pv.PsychovalWarning)
        fit = pv.cfa(model, scores[list(comp.item_ids)], missing="fiml")
    assert_close(fits.loc[comp.id, ["omega", "cfi", "rmsea", "srmr"]].tolist(),
                 [fit.composite_reliability().iloc[0], fit.fit_measures["cfi"],
                  fit.fit_measures["rmsea"], fit.fit_measures["srmr"]],
                 "merged_statistics", what=comp.id)
    assert f"{comp.id} omega {fits.loc[comp.id, 'omega']:.4f}" in report.notes[2]
    # the rest is the sample's: 600 rows of the file, in file order
    assert report.results["data_quality"].n_respondents == 300
    assert report.results["scan_quality"].n_respondents == 800
    rows = report.results["data_quality"].respondents["id"]
    assert rows.is_monotonic_increasing and rows.isin(raw["respondent_id"]).all()
    assert isinstance(report.competencies, pd.DataFrame)

