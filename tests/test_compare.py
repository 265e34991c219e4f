"""pv.compare (lavTestLRT) on fitted pv.cfa results against lavaan 0.6.14: single-group nested
models on ability (ref_extra/cfa_fiml_mlr_extra.json: correlated factors vs second order, ML and
MLR). The HS invariance sequences run through the reference harness (checkers/cfa.py)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import PsychovalWarning, SpecificationError
from tests._tolerances import assert_close, assert_pvalue
from tests.reference import _refs


def extra() -> dict:
    return _refs.extra_checks("cfa_fiml_mlr_extra")


def ability() -> pd.DataFrame:
    return _refs.load_data("ability")


@functools.cache
def fits(estimator: str):
    opts = extra()["lrt.ability.corr_vs_2nd.ML"]["options"]
    with pytest.warns(PsychovalWarning, match="listwise deletion dropped"):
        a = pv.cfa(opts["model_a"], ability(), estimator=estimator)
    with pytest.warns(PsychovalWarning, match="listwise deletion dropped"):
        b = pv.cfa(opts["model_b"], ability(), estimator=estimator)
    return a, b


COLS = {"Df": "df", "AIC": "aic", "BIC": "bic", "Chisq": "chisq", "Chisq diff": "chisq_diff",
        "RMSEA": "rmsea", "Df diff": "df_diff", "Pr(>Chisq)": "pvalue"}


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_nested_models_match_lavtestlrt(estimator):
    ref = extra()[f"lrt.ability.corr_vs_2nd.{estimator}"]["values"]
    names = list(ref["Df"])  # lavaan's object names, correlated model first
    a, b = fits(estimator)
    res = pv.compare(b, a, names=names[::-1])  # any order: sorted by df as lavTestLRT
    assert list(res.models) == names
    assert res.scaled is (estimator == "MLR")
    frame = res.to_frame().set_index("model")
    kind = "mlr" if estimator == "MLR" else "cfa"
    for rname, col in COLS.items():
        if rname not in ref:
            assert col not in frame  # no RMSEA column for the scaled test, as lavaan
            continue
        for model, value in ref[rname].items():
            ours = frame.loc[model, col]
            if value is None:
                assert np.isnan(ours), f"{rname} {model} should be NA"
            elif rname == "Pr(>Chisq)":
                assert_pvalue(ours, value, kind, what=f"{rname} {model}")
            else:
                assert_close(ours, value, kind if "diff" in rname else "cfa",
                             what=f"{rname} {model}")


def test_compare_errors():
    a, b = fits("ML")
    ar, _ = fits("MLR")
    with pytest.raises(SpecificationError, match="compare needs at least two models, got 1"):
        pv.compare(a)
    with pytest.raises(SpecificationError, match="names has 1 entries for 2 models"):
        pv.compare(a, b, names=["only"])
    with pytest.raises(SpecificationError, match="not a fitted model"):
        pv.compare(a, "fit")
    with pytest.raises(SpecificationError):
        pv.compare(a, ar)  # ML and MLR mixed


def test_compare_result_faces():
    a, b = fits("ML")
    res = pv.compare(a, b)
    assert res.models == ("model_1", "model_2")
    assert "Chi-squared difference test" in str(res.summary())
    d = res.to_dict()
    assert d["schema"] == "psychoval.compare/1"
