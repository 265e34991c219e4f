"""check_data: the data-quality report, its statistics, and the `psychoval check` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.cli import main
from psychoval.exceptions import DataError
from psychoval.stats.quality._check import (
    _missing_items,
    _pair_counts,
    _pattern_strings,
    _unique_rows,
    irv,
    longstring,
    mahalanobis,
)
from tests._tolerances import assert_close
from tests.reference._refs import load_data

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
REF_EXTRA = ROOT / "tests" / "reference" / "ref_extra"

FW = {
    "id_column": "pid",
    "group_columns": ["team"],
    "tiers": [{"id": "t", "competencies": [
        {"id": "self", "items": [
            {"id": "q1", "type": "likert", "min": 1, "max": 5},
            {"id": "q2", "type": "likert", "min": 1, "max": 5, "reverse": True},
            {"id": "q3", "type": "likert", "categories": ["never", "sometimes", "often"]},
        ]},
        {"id": "know", "items": [
            {"id": "k1", "type": "multiple_choice", "options": ["A", "B", "C"], "answer_key": "A"},
            {"id": "k2", "type": "dichotomous"},
            {"id": "task", "type": "rating", "min": 1, "max": 4, "raters": ["r1", "r2"]},
        ]},
    ]}],
}


def messy() -> pd.DataFrame:
    return pd.DataFrame({
        "pid": [1, 2, 3, 3, 5, 6],
        "team": ["x", "y", "x", "y", "x", "y"],
        "q1": [1, 9, 3, 3, None, 4],
        "q2": [2, 2, 2, 2, None, "n/a"],
        "q3": ["Never", "OFTEN", "sometimes", "always", None, 2],
        "k1": ["A", "b", "E", "A", None, "C"],
        "k2": [0, 1, 1, 1, None, 1],
        "r1": [1, 2, 4, 5, None, None],
        "r2": [1, 2, 3, 4, None, 2],
    })


@pytest.fixture(scope="module")
def report():
    return pv.check_data(messy(), pv.read_framework(FW))


def test_counts(report):
    assert report.n_respondents == 6
    assert report.n_columns == 7  # q1 q2 q3 k1 k2 r1 r2
    assert report.n_cells == 42
    assert report.n_missing_cells == 8  # row 5 all blank (7) + r1 row 6
    assert report.missing_fraction == 8 / 42
    assert report.n_out_of_range == 2  # q1=9, r1=5
    assert report.n_invalid_codes == 3  # q2 'n/a', q3 'always', k1 'E'
    assert report.n_all_missing_rows == 1
    assert report.n_duplicate_ids == 1
    assert repr(report) == ("<DataQualityReport n=6, columns=7, missing=19.0%, out_of_range=2, "
                            "invalid_codes=3, duplicate_ids=1>")


def test_per_column(report):
    items = report.items.set_index("column")
    assert items.loc["q1", "n_out_of_range"] == 1
    assert items.loc["q1", "examples"] == "'9' at row 2"
    assert items.loc["q2", "examples"] == "'n/a' at row 6"
    assert items.loc["q3", "examples"] == "'always' at row 4"
    assert items.loc["k1", "examples"] == "'E' at row 3"
    assert items.loc["r1", "examples"] == "'5' at row 4"
    # q2 answered 2 by everyone who answered validly: constant
    assert bool(items.loc["q2", "constant"]) and not bool(items.loc["q1", "constant"])
    assert items.loc["q1", "n"] == 4 and items.loc["q1", "n_missing"] == 1
    assert items.loc["r1", "missing_pct"] == pytest.approx(100 * 2 / 6)
    # every declared category counts; fewer than 5 responses is "sparse"
    assert items.loc["q3", "sparse_categories"] == "never (1), sometimes (2), often (1)"
    cats = report.categories
    k1 = cats[cats["column"] == "k1"].set_index("category")["count"].to_dict()
    assert k1 == {"A": 2, "B": 1, "C": 1}
    assert items.loc["q1", "mean"] == pytest.approx(np.mean([1, 3, 3, 4]))
    bad = report.invalid_cells
    assert bad.to_dict("records")[0] == {"column": "q1", "row": 2, "id": 2, "value": "9",
                                         "kind": "out_of_range"}
    assert set(bad["kind"]) == {"out_of_range", "invalid_code"}
    assert len(bad) == 5


def test_respondents_duplicates_patterns_policies(report):
    resp = report.respondents
    assert resp["all_missing"].tolist() == [False, False, False, False, True, False]
    assert resp["n_missing"].tolist()[4] == 6  # six items (the rated item counts once)
    dup = report.duplicate_ids
    assert dup.to_dict("records") == [{"id": 3, "count": 2, "rows": "3, 4"}]
    pat = report.missing_patterns
    assert pat["count"].sum() == 6
    assert pat.iloc[0]["pattern"] == "111111"  # complete (valid) rows come first
    pol = report.policies.set_index("policy")
    assert pol.loc["pairwise", "n_dropped"] == 0
    assert pol.loc["fiml", "rows"] == [5]
    assert pol.loc["listwise", "rows"] == [2, 3, 3, 5, 6]
    assert bool(pol.loc["raise", "raises"])
    assert "scale_scores(min_answered=0.5)" in pol.index
    assert report.careless_items == ("q1", "q2", "q3")
    assert report.min_pairwise_n == 3  # invalid cells count as unanswered
    assert report.problems == ("2 out-of-range value(s)", "3 invalid code(s)",
                               "1 duplicated id(s)", "1 respondent(s) with no answer",
                               "constant column(s) q2")


def test_renderings(report):
    text = str(report.summary())
    assert text.startswith("Data-quality report")
    for part in ("Columns", "Invalid cells", "Duplicated ids", "missingness patterns".title()
                 .replace("Patterns", "patterns"), "Rows each missing-data policy would drop"):
        assert part in text
    d = report.to_dict()
    assert d["schema"] == "psychoval.data_quality/1"
    json.dumps(d, allow_nan=False)
    assert list(report.to_frame()["column"]) == ["q1", "q2", "q3", "k1", "k2", "r1", "r2"]
    assert "<table" in report._repr_html_()


def test_without_framework():
    df = messy().drop(columns=["pid"])
    rep = pv.check_data(df)
    items = rep.items.set_index("column")
    assert items.loc["team", "type"] == "text" and items.loc["k1", "type"] == "text"
    assert items.loc["q2", "n_invalid_codes"] == 1  # text in a numeric column
    assert items.loc["q1", "n_out_of_range"] == 0  # no declared range
    assert rep.framework_name is None
    assert "team" not in rep.careless_items


def test_unknown_columns_warn_and_absent_items_raise():
    fw = pv.read_framework(FW)
    with pytest.warns(pv.SpecificationWarning, match=r"'extra' are not in the framework"):
        rep = pv.check_data(messy().assign(extra=1), fw)
    assert rep.unknown_columns == ("extra",)
    with pytest.raises(DataError, match=r"framework item column\(s\) 'r2' not in the data"):
        pv.check_data(messy().drop(columns="r2"), fw)


# -- careless-responding statistics ------------------------------------------------------------


def test_careless_statistics_match_base_r():
    ref = json.loads((REF_EXTRA / "careless_stats.json").read_text())["checks"][0]
    items = ref["options"]["items"]
    x = load_data("bfi")[items].iloc[: ref["options"]["rows"]].to_numpy(dtype=float)
    vals = ref["values"]
    assert_close(longstring(x), vals["longstring"], "closed_form", what="longstring")
    assert_close(irv(x), vals["irv"], "closed_form", what="irv")
    d2, df = mahalanobis(x)
    assert_close(d2, vals["mahalanobis_pairwise"], "closed_form", what="D2 pairwise")
    d2p, _ = mahalanobis(x, _by_pattern=True)  # the fallback for non-PD covariances
    assert_close(d2p, vals["mahalanobis_pairwise"], "closed_form", what="D2 by pattern")
    assert_close(df, vals["mahalanobis_df"], "closed_form", what="D2 df")
    complete = np.asarray(vals["complete_rows"]) - 1
    d2c, _ = mahalanobis(x[complete])
    assert_close(d2c, vals["mahalanobis_complete"], "closed_form", what="D2 complete")


def test_mahalanobis_singular_covariance_falls_back():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(40, 3))
    x = np.column_stack([a, a[:, 0] + a[:, 1]])  # the fourth item is a sum: S is singular
    d2, df = mahalanobis(x)
    dev = x - x.mean(axis=0)
    expected = np.einsum("ij,jk,ik->i", dev, np.linalg.pinv(np.cov(x, rowvar=False)), dev)
    np.testing.assert_allclose(d2, expected, rtol=1e-8)
    np.testing.assert_array_equal(df, 4)


def test_careless_edge_cases():
    nan = np.nan
    x = np.array([[1, 1, 1, 1], [1, nan, 1, 1], [nan, nan, nan, nan], [1, 2, 1, 2]])
    np.testing.assert_array_equal(longstring(x), [4, 2, nan, 1])
    np.testing.assert_allclose(irv(x), [0, 0, nan, np.std([1, 2, 1, 2], ddof=1)])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_mahalanobis_row_order_invariant(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, size=(30, 4)).astype(float)
    x[rng.uniform(size=x.shape) < 0.1] = np.nan
    perm = rng.permutation(30)
    d2, df = mahalanobis(x)
    d2p, dfp = mahalanobis(x[perm])
    np.testing.assert_allclose(d2p, d2[perm], rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(dfp, df[perm])
    np.testing.assert_array_equal(longstring(x[perm]), longstring(x)[perm])


# -- the CLI ------------------------------------------------------------------------------


def test_cli_check_sample(tmp_path, capsys):
    out = tmp_path / "demo" / "check.json"
    code = main(["check", str(SAMPLE / "responses.csv"), "--framework",
                 str(SAMPLE / "framework.yaml"), "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "Data-quality report" in text and "respondents                 1500" in text
    d = json.loads(out.read_text())
    assert d["schema"] == "psychoval.data_quality/1" and d["n_respondents"] == 1500
    assert main(["check", str(SAMPLE / "responses.csv"), "--framework",
                 str(SAMPLE / "framework.yaml"), "--strict"]) == 0


def test_cli_check_exit_codes(tmp_path, capsys):
    fw = tmp_path / "fw.json"
    fw.write_text(json.dumps(FW))
    data = tmp_path / "messy.csv"
    messy().to_csv(data, index=False)
    assert main(["check", str(data), "--framework", str(fw)]) == 0
    assert main(["check", str(data), "--framework", str(fw), "--strict"]) == 1
    assert "--strict: 2 out-of-range value(s)" in capsys.readouterr().err
    messy().drop(columns="q1").to_csv(data, index=False)
    assert main(["check", str(data), "--framework", str(fw)]) == 3
    assert "error: framework item column(s) 'q1' not in the data" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "none.csv")]) == 3
    assert main(["check", "--bogus"]) == 2


def test_make_demo_command(tmp_path, monkeypatch, capsys):
    """`make demo` runs `psychoval check data/sample/responses.csv --framework
    data/sample/framework.yaml --json out/demo/check.json` from the repository root."""
    makefile = (ROOT / "Makefile").read_text()
    assert "check data/sample/responses.csv --framework data/sample/framework.yaml" in makefile
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out" / "demo" / "check.json"  # not written into the repository
    assert main(["check", "data/sample/responses.csv", "--framework",
                 "data/sample/framework.yaml", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Data-quality report" in text and "Missingness patterns" in text
    assert json.loads(out.read_text())["n_columns"] == 43


# -- vectorized helpers ---------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 140), p=st.floats(0.0, 1.0))
def test_unique_rows_and_pair_counts(seed, k, p):
    rng = np.random.default_rng(seed)
    a = rng.uniform(size=(int(rng.integers(1, 120)), k)) > p
    a[rng.integers(0, a.shape[0], size=a.shape[0] // 2)] = a[0]  # repeated rows
    rows, counts = _unique_rows(a)
    expected_rows, expected_counts = np.unique(a, axis=0, return_counts=True)
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_array_equal(counts, expected_counts)
    af = a.astype(float)
    np.testing.assert_array_equal(_pair_counts(a), af.T @ af)
    names = [f"i{j}" for j in range(k)]
    assert _pattern_strings(rows) == ["".join("1" if v else "0" for v in r) for r in rows]
    assert _missing_items(rows, names) == [", ".join(np.asarray(names)[~r]) for r in rows]


def test_check_data_from_path_equals_from_table(tmp_path):
    data = tmp_path / "messy.csv"
    messy().to_csv(data, index=False)
    fw = pv.read_framework(FW)
    from_path = pv.check_data(data, fw)
    from_table = pv.check_data(pv.read_responses(data, id_column="pid"), fw)
    for name in ("items", "invalid_cells", "respondents", "missing_patterns", "policies"):
        pd.testing.assert_frame_equal(getattr(from_path, name), getattr(from_table, name))


def test_mahalanobis_with_more_items_than_rows_uses_the_gram_matrix():
    """n <= k: the covariance matrix is singular; D2 by the n x n Gram matrix equals the
    pseudo-inverse route of the pattern fallback (numpy's pinv), without a k x k SVD."""
    rng = np.random.default_rng(4)
    for n, k in ((30, 60), (40, 40)):
        x = np.round(rng.normal(size=(n, k)) + rng.normal(size=(n, 1)) + 3)
        d2, df = mahalanobis(x)
        d2p, _ = mahalanobis(x, _by_pattern=True)
        np.testing.assert_allclose(d2, d2p, rtol=1e-9)
        np.testing.assert_allclose(d2, (n - 1) ** 2 / n, rtol=1e-9)  # rank n - 1: constant
        assert (df == k).all()


def test_check_data_on_wide_data_has_the_per_column_statistics():
    """The per-column table from one sort per column (no pandas value_counts): the same
    n_distinct, categories and sparse counts as counting by hand."""
    rng = np.random.default_rng(2)
    x = rng.integers(1, 6, size=(50, 80)).astype(float)
    x[0, 3] = np.nan
    df = pd.DataFrame(x, columns=[f"i{j}" for j in range(80)])
    rep = pv.check_data(df)
    assert rep.min_pairwise_n == 49
    for j in (0, 3, 79):
        col = x[:, j][~np.isnan(x[:, j])]
        row = rep.items.iloc[j]
        assert row["n_distinct"] == np.unique(col).size
        cats = rep.categories[rep.categories["column"] == f"i{j}"]
        counts = {float(c): int(n) for c, n in zip(cats["category"], cats["count"],
                                                   strict=True)}
        assert counts == {float(v): int((col == v).sum()) for v in np.unique(col)}
    complete = pv.check_data(df.fillna(3.0))
    assert complete.min_pairwise_n == 50


def test_mahalanobis_over_budget_is_not_computed_and_says_why(monkeypatch):
    """Fewer respondents than items and missing answers: every missingness pattern needs its
    own pseudo-inverse (minutes at thousands of items). Over the budget, D2 is NaN with a
    warning naming why; under it, the per-pattern route runs as before."""
    from psychoval.stats.quality import _check

    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 40))
    x[rng.random(x.shape) < 0.05] = np.nan
    d2, df = _check.mahalanobis(x)  # under the default budget: computed
    assert np.isfinite(d2).all() and (df == (~np.isnan(x)).sum(axis=1)).all()
    monkeypatch.setattr(_check, "PATTERN_BUDGET", 1e3)
    with pytest.warns(pv.PsychovalWarning, match=r"Mahalanobis D2 not computed: .*singular "
                      r"\(30 respondents, 40 items\)"):
        d2, df = _check.mahalanobis(x)
    assert np.isnan(d2).all() and (df > 0).all()
