"""pv.cfa with missing="fiml", estimator="MLR" and groups, against lavaan 0.6.14 references
made by tests/reference/r/cfa_fiml_mlr_extra.R (ref_extra/cfa_fiml_mlr_extra.json), plus
properties and error messages. The shared reference checks (HS / bfi / ability MLR, FIML and
multi-group) run through tests/reference/checkers/cfa.py."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import DataError, PsychovalWarning, SpecificationError
from tests._tolerances import assert_close, assert_pvalue
from tests.reference import _refs
from tests.reference.checkers.cfa import _assert_estimates, _kind

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def extra() -> dict:
    return _refs.extra_checks("cfa_fiml_mlr_extra")


def dataset(name: str) -> pd.DataFrame:
    """The data an R call used: hs_missing, or a shared data set as dat_r (bfi reversed)."""
    return _refs.extra_data(name) if name == "hs_missing" else _refs.dat_r(name)


CASES = {
    "cfa.5f.ML.fiml.bfi": ("bfi", {"missing": "fiml"}),
    "cfa.3f.MLR.expected.hs": ("HolzingerSwineford1939",
                               {"estimator": "MLR", "information": "expected"}),
    "cfa.3f.ML.fiml.hs_missing": ("hs_missing", {"missing": "ml"}),
    "cfa.3f.MLR.fiml.hs_missing": ("hs_missing", {"missing": "fiml", "estimator": "MLR"}),
}


@pytest.mark.parametrize("check_id", list(CASES))
def test_fits_match_lavaan(check_id):
    ref = extra()[check_id]
    name, kw = CASES[check_id]
    fit = pv.cfa(ref["options"]["model"], dataset(name), **kw)
    vals = ref["values"]
    assert fit.converged is vals["converged"]
    assert {"1": fit.n_obs} == vals["nobs"]
    assert fit.fit_measures["npar"] == vals["npar"]
    fm = vals["fitMeasures"]
    assert list(fit.fit_measures) == [k.replace(".", "_") for k in fm]  # lavaan's names, order
    for key, value in fm.items():
        ours = fit.fit_measures[key.replace(".", "_")]
        if "pvalue" in key and value is not None:
            assert_pvalue(ours, value, _kind(key), what=f"{check_id} {key}")
        else:
            assert_close(ours, value, _kind(key), what=f"{check_id} {key}")
    se_kind = "mlr" if fit.estimator == "MLR" else "cfa"
    _assert_estimates(fit.estimates(), vals["parameterEstimates"], "est", "est", check_id,
                      se_kind)
    _assert_estimates(fit.standardized(), vals["standardizedSolution"], "est_std", "est.std",
                      f"{check_id} std", se_kind)


def test_fiml_defers_the_costly_pieces_until_asked():
    """ML with FIML: the FIML-corrected robust indices and the observed-information standard
    errors are computed on first use (they need (p + p*)^2 saturated information); the values
    are the same as when computed at once (the lavaan comparison above asks for all)."""
    ref = extra()["cfa.5f.ML.fiml.bfi"]
    fit = pv.cfa(ref["options"]["model"], dataset("bfi"), missing="fiml")
    fm = fit.fit_measures
    assert fm._full is not None and fit._vcov is None
    cheap = {k: fm[k] for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic")}
    assert "cfi_robust" in fm and fm._full is not None  # membership does not compute
    assert list(fm)[:3] == ["npar", "fmin", "chisq"]
    robust = fm["cfi_robust"]
    assert fm._full is None
    assert_close(robust, ref["values"]["fitMeasures"]["cfi.robust"], "mlr", what="cfi.robust")
    for k, v in cheap.items():
        assert fm[k] == v
    with pytest.raises(KeyError):
        fm["no_such_measure"]
    est = fit.estimates()
    assert np.isfinite(est["se"]).all() and fit._vcov is None  # computed into the cache


def test_fiml_on_complete_data_is_ml_with_a_mean_structure():
    hs = dataset("HolzingerSwineford1939")
    ml = pv.cfa(HS_MODEL, hs)
    fiml = pv.cfa(HS_MODEL, hs, missing="fiml")
    for key in ("chisq", "df", "cfi", "rmsea", "logl", "srmr_bentler_nomean"):
        assert_close(fiml.fit_measures[key], ml.fit_measures[key], "cfa", what=key)
    a = ml.estimates().set_index(["lhs", "op", "rhs"])
    b = fiml.estimates().set_index(["lhs", "op", "rhs"]).loc[a.index]
    assert_close(b["est"].to_numpy(), a["est"].to_numpy(), "cfa", what="estimates")
    assert fiml.fit_measures["npar"] == ml.fit_measures["npar"] + 9  # the 9 intercepts
    assert "cfi_robust" in fiml.fit_measures  # lavaan reports FIML-corrected indices


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_fiml_does_not_depend_on_row_order(seed):
    df = dataset("hs_missing")
    base = _hs_missing_fit()
    perm = df.sample(frac=1.0, random_state=np.random.RandomState(seed % (2**31)))
    fit = pv.cfa(HS_MODEL, perm, missing="fiml")
    assert_close(fit.fit_measures["chisq"], base.fit_measures["chisq"], "cfa", what="chisq")
    assert_close(fit.estimates()["se"].to_numpy(), base.estimates()["se"].to_numpy(), "cfa",
                 what="se")


@functools.cache
def _hs_missing_fit():
    return pv.cfa(HS_MODEL, dataset("hs_missing"), missing="fiml")


def test_fiml_leaves_out_empty_rows_with_a_warning():
    df = dataset("hs_missing").copy()
    df.loc[[3, 7], [f"x{i}" for i in range(1, 10)]] = np.nan
    with pytest.warns(PsychovalWarning, match=r"2 row\(s\) have no response on the model's "
                                              "variables .* left out, as lavaan does"):
        fit = pv.cfa(HS_MODEL, df, missing="fiml")
    assert fit.n_obs == len(df) - 2 and fit.rows_dropped == (3, 7) and fit.missing == "fiml"


def test_listwise_warning_suggests_fiml():
    with pytest.warns(PsychovalWarning, match=r"listwise deletion dropped \d+ of 301 rows "
                                              r".*missing='fiml'"):
        fit = pv.cfa(HS_MODEL, dataset("hs_missing"))
    assert fit.n_obs < 301


def test_multigroup_errors_and_single_group_methods():
    hs = dataset("HolzingerSwineford1939")
    with pytest.raises(SpecificationError, match="group_equal needs group="):
        pv.cfa(HS_MODEL, hs, group_equal="loadings")
    with pytest.raises(SpecificationError, match="group_equal='slopes' is not one of"):
        pv.cfa(HS_MODEL, hs, group="school", group_equal=["slopes"])
    with pytest.raises(SpecificationError, match="group='campus' is not a column"):
        pv.cfa(HS_MODEL, hs, group="campus")
    with pytest.raises(DataError, match="group column 'school' is missing in row"):
        pv.cfa(HS_MODEL, hs.assign(school=hs["school"].where(hs.index != 5)), group="school")
    with pytest.raises(DataError, match="has only one value"):
        pv.cfa(HS_MODEL, hs.assign(school="A"), group="school")
    with pytest.raises(SpecificationError, match="sample_cov= supports estimator='ML'"):
        pv.cfa(HS_MODEL, sample_cov=hs[[f"x{i}" for i in range(1, 10)]].cov(),
               sample_nobs=301, estimator="MLR")
    with pytest.raises(SpecificationError, match="information='hessian' is not one of"):
        pv.cfa(HS_MODEL, hs, information="hessian")
    fit = pv.cfa(HS_MODEL, hs, group="school", group_equal="loadings")
    assert fit.group_labels == ("Pasteur", "Grant-White") and fit.n_groups == 2
    assert fit.group_equal == ("loadings",)
    assert set(fit.cov_lv) == {"Pasteur", "Grant-White"}
    est = fit.estimates()
    lam = est[(est.op == "=~") & (est.rhs == "x2")]
    assert lam["group"].tolist() == [1, 2] and lam["est"].nunique() == 1  # equal loadings
    with pytest.raises(SpecificationError, match="ave\\(\\) is computed for one group"):
        fit.ave()
    assert "Pasteur" in fit.summary().__str__() or fit.summary() is not None


def test_equal_intercepts_free_the_latent_means_of_later_groups():
    hs = dataset("HolzingerSwineford1939")
    fit = pv.cfa(HS_MODEL, hs, group="school", group_equal=["loadings", "intercepts"])
    est = fit.estimates()
    means = est[(est.op == "~1") & est.lhs.isin(["visual", "textual", "speed"])]
    assert (means[means.group == 1]["se"] == 0).all()  # fixed at 0 in the first group
    assert (means[means.group == 2]["se"] > 0).all()  # free in the second


def test_cli_cfa_mlr_fiml(tmp_path, capsys):
    from psychoval.cli._main import main

    csv = tmp_path / "hs_missing.csv"
    dataset("hs_missing").to_csv(csv, index=False)
    out = tmp_path / "fit.json"
    code = main(["cfa", str(csv), "--model", HS_MODEL, "--estimator", "MLR", "--missing",
                 "fiml", "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "Scaled test statistic (Yuan-Bentler, Mplus)" in text and "Robust CFI" in text
    fm = json.loads(out.read_text())["fit_measures"]
    ref = extra()["cfa.3f.MLR.fiml.hs_missing"]["values"]["fitMeasures"]
    assert_close(fm["chisq_scaled"], ref["chisq.scaled"], "mlr", what="chisq.scaled")


def groups_extra() -> dict:
    return _refs.extra_checks("cfa_fiml_groups_extra")


@functools.cache
def _mg_fiml(estimator: str, equal: bool):
    df = dataset("hs_missing").copy()
    hs = dataset("HolzingerSwineford1939").set_index("id")
    df["school"] = hs.loc[df["id"], "school"].to_numpy()
    return pv.cfa(HS_MODEL, df, missing="fiml", estimator=estimator, group="school",
                  group_equal=["loadings"] if equal else None)


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
@pytest.mark.parametrize("form", ["configural", "metric"])
def test_multigroup_fiml_matches_lavaan(form, estimator):
    # tests/reference/r/cfa_fiml_groups_extra.R: two schools, 8% MCAR, missing = "ml"
    check_id = f"cfa.mg.{form}.{estimator}.fiml.hs_missing"
    vals = groups_extra()[check_id]["values"]
    fit = _mg_fiml(estimator, form == "metric")
    assert {str(g + 1): b.n for g, b in enumerate(fit._blocks)} == vals["nobs"]
    assert sum(1 for f in fit._pt.free if f > 0) == vals["npar"]
    fm = vals["fitMeasures"]
    assert list(fit.fit_measures) == [k.replace(".", "_") for k in fm]
    for key, value in fm.items():
        ours = fit.fit_measures[key.replace(".", "_")]
        if "pvalue" in key and value is not None:
            assert_pvalue(ours, value, _kind(key), what=f"{check_id} {key}")
        else:
            assert_close(ours, value, _kind(key), what=f"{check_id} {key}")
    _assert_estimates(fit.estimates(), vals["parameterEstimates"], "est", "est", check_id,
                      "mlr" if estimator == "MLR" else "cfa")


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_multigroup_fiml_compare_matches_lavtestlrt(estimator):
    ref = groups_extra()[f"lrt.mg.fiml.{estimator}"]["values"]
    res = pv.compare(_mg_fiml(estimator, False), _mg_fiml(estimator, True),
                     names=list(ref["Df"]))
    frame = res.to_frame().set_index("model")
    kind = "mlr" if estimator == "MLR" else "cfa"
    for rname, col in (("Df", "df"), ("AIC", "aic"), ("BIC", "bic"), ("Chisq", "chisq"),
                       ("Chisq diff", "chisq_diff"), ("Df diff", "df_diff")):
        for model, value in ref[rname].items():
            if value is None:
                assert np.isnan(frame.loc[model, col])
            else:
                assert_close(frame.loc[model, col], value, kind if "diff" in rname else "cfa",
                             what=f"{rname} {model}")
    model = list(ref["Df"])[1]
    assert_pvalue(frame.loc[model, "pvalue"], ref["Pr(>Chisq)"][model], kind, what="p")


def test_factor_scores_of_fiml_fits():
    with pytest.raises(SpecificationError, match="factor scores of rows with missing"):
        _hs_missing_fit().factor_scores()
    hs = dataset("HolzingerSwineford1939")
    a = pv.cfa(HS_MODEL, hs).factor_scores()
    b = pv.cfa(HS_MODEL, hs, missing="fiml").factor_scores()
    assert_close(b.to_numpy(), a.to_numpy(), "cfa", what="scores, complete data")


def test_std_lv_with_equal_loadings_frees_later_factor_variances():
    # lavaan: std.lv = TRUE + group.equal = "loadings" frees the factor variances of groups
    # 2..; the model is then the marker-scaled scalar model reparametrised (same chi-square as
    # the reference cfa.mg.scalar: lavaan 164.1028309251825)
    hs = dataset("HolzingerSwineford1939")
    fit = pv.cfa(HS_MODEL, hs, group="school", std_lv=True,
                 group_equal=["loadings", "intercepts"])
    assert_close(fit.fit_measures["chisq"], 164.1028309251825, "cfa", what="chisq")
    assert fit.fit_measures["df"] == 60
    est = fit.estimates()
    var = est[(est.op == "~~") & (est.lhs == est.rhs) & (est.lhs == "visual")]
    assert var["se"].tolist()[0] == 0 and var["se"].tolist()[1] > 0
