"""CFA engine (issue 7): extra lavaan references, analytic derivatives, recovery, errors,
warnings and the result face. The shared reference checks are in
tests/reference/checkers/cfa.py."""

from __future__ import annotations

import dataclasses
import doctest
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import (
    ConvergenceWarning,
    DataError,
    ImproperSolutionWarning,
    PsychovalWarning,
    SpecificationError,
)
from psychoval.framework._partable import build_partable
from psychoval.framework._syntax import parse_syntax
from psychoval.stats.sem import _cfa
from psychoval.stats.sem import _validity as _cfa_validity
from psychoval.stats.sem._model import MatrixModel, MLDiscrepancy
from psychoval.stats.sem._optimize import minimize
from tests._tolerances import assert_close
from tests.reference import _refs

HERE = Path(__file__).parent
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
ITEMS = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return pd.read_csv(HERE / "reference" / "data" / "HolzingerSwineford1939.csv")


@pytest.fixture(scope="module")
def fit(hs):
    return pv.cfa(HS_MODEL, hs)


@pytest.fixture(scope="module")
def extra():
    with open(HERE / "reference" / "ref_extra" / "cfa_extra.json", encoding="utf-8") as fh:
        return {c["id"]: c for c in json.load(fh)["checks"]}


def _records(rows, index):
    """An R data.frame written by jsonlite (list of row records) as a DataFrame."""
    return pd.DataFrame([{k: v for k, v in r.items() if k != "_row"} for r in rows], index=index)


# -- extra lavaan references (tests/reference/r/cfa_extra.R) ----------------------------------
def test_residuals_match_lavaan(fit, extra):
    v = extra["hs.3f.extras"]["values"]
    for kind, key in (("raw", "resid_raw"), ("cor", "resid_cor")):
        ref = _records(v[key], ITEMS)
        assert_close(fit.residuals(kind).loc[ITEMS, ITEMS], ref.loc[ITEMS, ITEMS], "cfa",
                     what=f"residuals {kind}")
    assert_close(fit.implied_cov.loc[ITEMS, ITEMS], _records(v["implied_cov"], ITEMS), "cfa",
                 what="implied cov")


def test_standardized_residuals_match_lavaan(fit, extra):
    ref = _records(extra["hs.3f.extras"]["values"]["resid_std"], ITEMS).loc[ITEMS, ITEMS]
    ours = fit.residuals("standardized").loc[ITEMS, ITEMS]
    assert_close(ours, ref.to_numpy(dtype=float), "cfa", what="standardized residuals")


def test_factor_scores_match_lav_predict(fit, extra):
    v = extra["hs.3f.extras"]["values"]
    for method, key in (("regression", "fs_regression"), ("bartlett", "fs_bartlett")):
        ref = pd.DataFrame(v[key])
        ours = fit.factor_scores(method)
        assert list(ours.columns) == ["visual", "textual", "speed"]
        assert_close(ours.to_numpy(), ref[["visual", "textual", "speed"]].to_numpy(), "cfa",
                     what=f"factor scores {method}")


def test_standardized_columns_and_std_lv_solution(fit, extra):
    v = extra["hs.3f.extras"]["values"]
    est = fit.estimates(standardized=True)
    keys = [f"{a}{b}{c}" for a, b, c in zip(est.lhs, est.op, est.rhs, strict=True)]
    for col in ("std.lv", "std.all", "std.nox"):
        ref = [v["std_columns"][k][col] for k in keys]
        assert_close(est[col.replace(".", "_")], ref, "cfa", what=col)
    std = fit.standardized(type="std.lv")
    ref = v["std_lv_solution"]
    assert_close(std["est_std"], [ref[k]["est.std"] for k in keys], "cfa", what="std.lv est")
    assert_close(std["se"], [ref[k]["se"] for k in keys], "cfa", what="std.lv se")


def test_labels_equality_fixed_covariance_and_residual_covariance(hs, extra):
    c = extra["hs.syntax.labels"]
    res = pv.cfa(c["model"], hs)
    for name, value in c["values"]["fitMeasures"].items():
        assert_close(res.fit_measures[name], value, "cfa", what=name)
    est = res.estimates()
    keys = [f"{a}{b}{c_}" for a, b, c_ in zip(est.lhs, est.op, est.rhs, strict=True)]
    ref = c["values"]["parameterEstimates"]
    assert sorted(keys) == sorted(ref)
    assert_close(est["est"], [ref[k]["est"] for k in keys], "cfa", what="est")
    assert_close(est["se"], [ref[k]["se"] for k in keys], "cfa", what="se")
    a = est[est["label"] == "a"]
    assert len(a) == 2 and a["est"].iloc[0] == a["est"].iloc[1]


def test_sample_cov_input_rescaled_as_lavaan(hs, extra):
    c = extra["hs.sample_cov"]
    s = _records(c["sample_cov"], ITEMS)[ITEMS]
    res = pv.cfa(HS_MODEL, sample_cov=s, sample_nobs=301)
    for name, value in c["values"]["fitMeasures"].items():
        assert_close(res.fit_measures[name.replace(".", "_")], value, "cfa", what=name)
    est = res.estimates()
    ref = c["values"]["parameterEstimates"]
    keys = [f"{a}{b}{c_}" for a, b, c_ in zip(est.lhs, est.op, est.rhs, strict=True)]
    assert_close(est["est"], [ref[k]["est"] for k in keys], "cfa", what="est")
    assert_close(est["se"], [ref[k]["se"] for k in keys], "cfa", what="se")
    with pytest.raises(DataError, match="factor scores need the raw data"):
        res.factor_scores()


def test_original_htmt_matches_semtools(hs, extra):
    c = extra["hs.htmt.arithmetic"]
    ref = _records(c["values"]["htmt"], ["visual", "textual", "speed"])
    res = pv.htmt(hs, HS_MODEL, method="htmt")
    assert_close(res.htmt, ref.loc[res.htmt.index, res.htmt.columns], "iterative", what="htmt")


# -- analytic derivatives ------------------------------------------------------------------
SECOND_ORDER = HS_MODEL + "\ng =~ visual + textual + speed\nx1 ~~ x4"


@pytest.mark.parametrize("model,meanstructure", [(HS_MODEL, False), (SECOND_ORDER, False),
                                                 (SECOND_ORDER, True)])
def test_gradient_and_dsigma_match_finite_differences(hs, model, meanstructure):
    pt = build_partable(parse_syntax(model), meanstructure=meanstructure, source=model)
    mm = MatrixModel(pt)
    x = hs[ITEMS].to_numpy()
    mean = x.mean(0)
    cov = np.cov(x.T, bias=True)
    disc = MLDiscrepancy(mm, cov, len(x), mean if meanstructure else None)
    rng = np.random.default_rng(7)
    theta = np.array(_start(pt, mm, cov, mean)) + rng.normal(0, 0.05, mm.q)
    f, g, h, _ = disc.pieces(theta)
    d = mm.dsigma(theta)
    # H is tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l), computed in factored form
    sd = np.linalg.solve(mm.implied(theta)[0], d)
    h_ref = np.einsum('kij,lji->kl', sd, sd)
    if not meanstructure:
        np.testing.assert_allclose(h, h_ref, rtol=1e-10, atol=1e-10)
    eps = 1e-6
    num_g = np.empty(mm.q)
    num_d = np.empty_like(d)
    for k in range(mm.q):
        e = np.zeros(mm.q)
        e[k] = eps
        num_g[k] = (disc.value(theta + e) - disc.value(theta - e)) / (2 * eps)
        num_d[k] = (mm.implied(theta + e)[0] - mm.implied(theta - e)[0]) / (2 * eps)
    np.testing.assert_allclose(g, num_g, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(d, num_d, rtol=1e-6, atol=1e-8)
    if meanstructure:
        num_m = np.array([(mm.implied(theta + eps * np.eye(mm.q)[k])[1]
                           - mm.implied(theta - eps * np.eye(mm.q)[k])[1]) / (2 * eps)
                          for k in range(mm.q)])
        np.testing.assert_allclose(mm.dmu(theta), num_m, rtol=1e-6, atol=1e-8)
    # the expected information is symmetric positive definite for an identified model
    assert np.all(np.linalg.eigvalsh(h) > 0)


def _start(pt, mm, cov, mean):
    from psychoval.stats.sem._estimate import start_values

    return start_values(pt, mm, cov, mean)


def test_meanstructure_hook_gives_saturated_means_and_same_chisq(hs, fit):
    pt = build_partable(parse_syntax(HS_MODEL), meanstructure=True, source=HS_MODEL)
    mm = MatrixModel(pt)
    x = hs[ITEMS].to_numpy()
    mean, cov = x.mean(0), np.cov(x.T, bias=True)
    disc = MLDiscrepancy(mm, cov, len(x), mean)
    opt = minimize(disc, _start(pt, mm, cov, mean))
    xhat = opt.x
    assert opt.converged
    assert_close(disc.value(xhat) / 2, fit.fit_measures["fmin"], "cfa", what="fmin")
    assert_close(mm.implied(xhat)[1], mean, "cfa", what="intercepts")


# -- recovery ------------------------------------------------------------------------------
def test_recovers_a_simulated_model():
    rng = np.random.default_rng(20261126)
    n, lam = 20000, np.array([0.8, 0.7, 0.6, 0.75])
    phi = np.array([[1.0, 0.4], [0.4, 1.0]])
    f = rng.multivariate_normal([0, 0], phi, size=n)
    items = {}
    for j in range(2):
        for i, value in enumerate(lam):
            items[f"f{j}i{i}"] = value * f[:, j] + rng.normal(0, math.sqrt(1 - value**2), n)
    data = pd.DataFrame(items)
    res = pv.cfa({"A": [f"f0i{i}" for i in range(4)], "B": [f"f1i{i}" for i in range(4)]},
                 data, std_lv=True)
    est = res.estimates()
    load = est[est.op == "=~"]["est"].to_numpy()
    np.testing.assert_allclose(load, np.tile(lam, 2), atol=0.03)
    assert abs(res.cor_lv.loc["A", "B"] - 0.4) < 0.03
    assert res.fit_measures["rmsea"] < 0.02 and res.fit_measures["cfi"] > 0.995
    # the 95% intervals cover the truth for (nearly) every loading
    covered = (est[est.op == "=~"]["ci_lower"] < np.tile(lam, 2)) & \
              (np.tile(lam, 2) < est[est.op == "=~"]["ci_upper"])
    assert covered.sum() >= 7


def test_item_order_and_model_forms_do_not_change_results(hs, fit):
    d = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
         "speed": ["x7", "x8", "x9"]}
    shuffled = hs[ITEMS[::-1]]
    res = pv.cfa(d, shuffled)

    class Framework:
        def to_model(self):
            return d

    res2 = pv.cfa(Framework(), hs)
    for r in (res, res2):
        assert_close(r.fit_measures["chisq"], fit.fit_measures["chisq"], "cfa", what="chisq")
        assert_close(r.estimates()["est"], fit.estimates()["est"], "cfa", what="est")


# -- identification and input errors -----------------------------------------------------------
def test_unknown_variable_names_line_and_column(hs):
    with pytest.raises(SpecificationError, match=r"line 2, column 17: variable 'x44' is neither") as e:
        pv.cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x44 + x6", hs)
    assert str(e.value).endswith("textual =~ x4 + x44 + x6\n                  ^")


def test_factor_with_too_few_indicators(hs):
    with pytest.raises(SpecificationError, match="factor 'f' has only two indicators"):
        pv.cfa("f =~ x1 + x2", hs)
    with pytest.raises(SpecificationError, match=r"factor 'g' has a single indicator \(x4\)"):
        pv.cfa("f =~ x1 + x2 + x3\ng =~ x4", hs)
    # two indicators are fine with a covariance to another factor, or equal loadings
    pv.cfa("f =~ x1 + x2 + x3\ng =~ x4 + x5", hs)
    pv.cfa("f =~ a*x1 + a*x2", hs)


def test_more_parameters_than_moments(hs):
    model = "f =~ x1 + x2 + x3\nx1 ~~ x2\nx1 ~~ x3\nx2 ~~ x3"
    with pytest.raises(SpecificationError, match="9 free parameters but the 3 observed "
                                                 "variables give only 6"):
        pv.cfa(model, hs)


def test_factor_without_scale(hs):
    with pytest.raises(SpecificationError, match="factor 'f' has no scale"):
        pv.cfa("f =~ NA*x1 + x2 + x3", hs)
    ok = pv.cfa("f =~ NA*x1 + x2 + x3\nf ~~ 1*f", hs)
    std = pv.cfa("f =~ x1 + x2 + x3", hs, std_lv=True)
    a = ok.estimates().set_index(["lhs", "op", "rhs"])["est"]
    b = std.estimates().set_index(["lhs", "op", "rhs"])["est"]
    assert_close(a.sort_index(), b.sort_index(), "cfa", what="NA* + fixed var")


def test_singular_information_is_reported(hs):
    # a factor correlated with another only through a just-identified 2-indicator block is
    # fine; here the cross-loading duplicates a parameter -> not identified
    with pytest.raises(SpecificationError, match="not identified"):
        pv.cfa("f =~ x1 + x2 + x3\ng =~ x1 + x2 + x3", hs)


def test_options_and_later_features(hs):
    with pytest.raises(SpecificationError, match="estimator='WLSMV' needs ordered indicators"):
        pv.cfa(HS_MODEL, hs, estimator="WLSMV")
    for est in ("ULSMV", "ULS", "WLS", "DWLS"):
        with pytest.raises(SpecificationError, match=f"estimator='{est}' needs ordered"):
            pv.cfa(HS_MODEL, hs, estimator=est)
    with pytest.raises(SpecificationError, match="parameterization='theta' applies to ordered"):
        pv.cfa(HS_MODEL, hs, parameterization="theta")
    with pytest.raises(SpecificationError, match="parameterization='gamma' is not one of"):
        pv.cfa(HS_MODEL, hs, parameterization="gamma")
    with pytest.raises(SpecificationError, match="estimator='MLM' is not available yet"):
        pv.cfa(HS_MODEL, hs, estimator="MLM")
    with pytest.raises(SpecificationError, match="missing='pairwise' is not one of"):
        pv.cfa(HS_MODEL, hs, missing="pairwise")
    with pytest.raises(SpecificationError, match="give either data= or sample_cov="):
        pv.cfa(HS_MODEL)
    with pytest.raises(DataError, match="sample_cov must be a DataFrame"):
        pv.cfa(HS_MODEL, sample_cov=np.eye(9), sample_nobs=10)
    with pytest.raises(DataError, match="zero variance"):
        pv.cfa("f =~ x1 + x2 + c", hs.assign(c=1.0))


def test_confidence_level_and_its_deprecated_alias(fit):
    """``confidence_level=`` sets the Wald interval's coverage; ``level=`` still works with a
    FutureWarning at the caller's line, and giving both is an error."""
    from scipy import stats

    est = fit.estimates(confidence_level=0.90)
    np.testing.assert_allclose(est["ci_upper"], est["est"] + stats.norm.ppf(0.95) * est["se"],
                               rtol=1e-12)
    with pytest.warns(FutureWarning, match=r"CFAResult.estimates\(\): level= is deprecated"
                                           r".*use confidence_level=0.9") as w:
        old = fit.estimates(level=0.90)
    assert w[0].filename == __file__
    pd.testing.assert_frame_equal(old, est)
    std = fit.standardized(confidence_level=0.90)
    with pytest.warns(FutureWarning, match=r"CFAResult.standardized\(\): level="):
        old = fit.standardized(level=0.90)
    pd.testing.assert_frame_equal(old, std)
    with pytest.raises(TypeError, match="both confidence_level= and its deprecated alias"):
        fit.estimates(confidence_level=0.9, level=0.8)


def test_listwise_warning_and_raise(hs):
    df = hs.copy()
    df.loc[:19, "x1"] = np.nan  # 20 of 301 rows = 6.6%
    with pytest.warns(PsychovalWarning, match="listwise deletion dropped 20 of 301 rows "
                                              r"\(6.6%\).*missing='fiml'"):
        res = pv.cfa(HS_MODEL, df)
    assert res.n_obs == 281 and res.n_total == 301 and res.rows_dropped == tuple(range(20))
    df.loc[:9, "x1"] = hs.loc[:9, "x1"]  # 10 rows = 3.3%: silent
    assert pv.cfa(HS_MODEL, df).n_obs == 291
    with pytest.raises(DataError, match="item 'x1' is missing at"):
        pv.cfa(HS_MODEL, df, missing="raise")


def test_heywood_case_is_returned_with_warning():
    rng = np.random.default_rng(3)
    n = 200
    f = rng.normal(size=n)
    data = pd.DataFrame({"a": f + rng.normal(0, 0.02, n), "b": 0.3 * f + rng.normal(0, 1, n),
                         "c": 0.3 * f + rng.normal(0, 1, n)})
    data["a"] = data["a"] * 1.0
    cov = data.cov()
    cov.loc["b", "c"] = cov.loc["c", "b"] = 0.02  # forces a loading product beyond the data
    with pytest.warns(ImproperSolutionWarning, match=r"a ~~ a = .* negative residual variance"):
        res = pv.cfa("f =~ a + b + c", sample_cov=cov, sample_nobs=n)
    assert res.admissible is False and "a ~~ a" in res.problems[0]


def test_nonconvergence_is_returned_with_warning(hs, monkeypatch):
    from psychoval.stats.sem import _optimize as _cfa_optimize
    monkeypatch.setattr(_cfa_optimize, "MAX_ITER", 2)
    with pytest.warns(ConvergenceWarning, match=r"did not converge after \d+ iterations and "
                      r"restarts \(quasi_newton, std_lv, perturbed_1, perturbed_2, perturbed_3\)"):
        res = pv.cfa(HS_MODEL, hs)
    assert res.converged is False
    assert res.restarts == ("quasi_newton", "std_lv", "perturbed_1", "perturbed_2",
                            "perturbed_3")


# -- result face ---------------------------------------------------------------------------
def test_result_face(fit):
    assert repr(fit).startswith("<CFAResult chisq=85.306, df=24, cfi=0.931")
    text = str(fit.summary())
    for needle in ("Latent Variables", "visual =~ x2", "Variances", ".x1", "Covariances",
                   "Comparative Fit Index (CFI)", "RMSEA", "SRMR"):
        assert needle in text
    assert "<table" in fit._repr_html_()
    d = fit.to_dict()
    json.dumps(d)
    assert d["schema"] == "psychoval.cfa/1" and d["fit_measures"]["df"] == 24
    assert "_pt" not in d
    frame = fit.to_frame()
    assert list(frame.columns[:5]) == ["lhs", "op", "rhs", "label", "est"]
    with pytest.raises(TypeError):
        fit.fit_measures["chisq"] = 0  # read-only mapping
    mi = fit.modindices(minimum_value=10)
    assert (mi["mi"] > 10).all() and mi["mi"].is_monotonic_decreasing
    assert set(fit.partable.columns) >= {"lhs", "op", "rhs", "free", "ustart", "est", "se"}


def test_fornell_larcker_and_htmt_faces(fit, hs):
    fl = fit.fornell_larcker()
    assert list(fl.to_frame().columns) == ["factor", "ave", "sqrt_ave", "max_cor", "max_sq_cor",
                                           "sqrt_ave_exceeds_max_cor"]
    assert "Fornell-Larcker" in str(fl.summary())
    h = pv.htmt(hs, HS_MODEL, method="htmt")
    assert h.method == "htmt" and len(h.to_frame()) == 3
    assert "HTMT" in str(h.summary())
    with pytest.raises(SpecificationError, match="'x10'.*not columns of the data"):
        pv.htmt(hs, "f =~ x1 + x10 + x3\ng =~ x4 + x5 + x6")


def test_one_factor_omega_helper(hs):
    from psychoval.stats import one_factor_omega

    res = one_factor_omega(hs, items=["x4", "x5", "x6"])
    assert_close(res.omega, 0.8858809227882416, "iterative", what="omega textual")
    assert_close(res.ave, 0.7226947486063456, "iterative", what="AVE textual")
    json.dumps(res.to_dict())


def test_docstring_examples():
    for mod in (_cfa, _cfa_validity):
        failed, tried = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert tried > 0 and failed == 0, mod.__name__


def test_response_table_input_and_one_factor_fornell_larcker(hs):
    from psychoval.io import ResponseTable

    table = ResponseTable.from_frame(hs[ITEMS])
    res = pv.cfa("f =~ x1 + x2 + x3 + x4", table)
    ref = pv.cfa("f =~ x1 + x2 + x3 + x4", hs)
    assert_close(res.fit_measures["chisq"], ref.fit_measures["chisq"], "cfa", what="chisq")
    fl = res.fornell_larcker()
    assert np.isnan(fl.max_cor_per_factor["f"]) and not fl.sqrt_ave_exceeds_max_cor["f"]


@settings(max_examples=5, deadline=None)
@given(scale=st.floats(0.2, 20.0), shift=st.floats(-50, 50), item=st.sampled_from(ITEMS))
def test_rescaling_an_item_leaves_fit_and_standardized_solution_unchanged(scale, shift, item):
    hs = pd.read_csv(HERE / "reference" / "data" / "HolzingerSwineford1939.csv")
    base = _hs_fit_cached()
    res = pv.cfa(HS_MODEL, hs.assign(**{item: hs[item] * scale + shift}))
    assert_close(res.fit_measures["chisq"], base.fit_measures["chisq"], "cfa", what="chisq")
    assert_close(res.standardized()["est_std"], base.standardized()["est_std"], "cfa",
                 what="std_all")
    # the item's own loading scales with it (unless it is the marker, fixed at 1)
    est, best = res.estimates(), base.estimates()
    row = (est.op == "=~") & (est.rhs == item)
    if best.loc[row, "se"].iloc[0] > 0:
        assert_close(est.loc[row, "est"].iloc[0], best.loc[row, "est"].iloc[0] * scale, "cfa",
                     what="loading")


_CACHE: dict = {}


def _hs_fit_cached():
    if "hs" not in _CACHE:
        hs = pd.read_csv(HERE / "reference" / "data" / "HolzingerSwineford1939.csv")
        _CACHE["hs"] = pv.cfa(HS_MODEL, hs)
    return _CACHE["hs"]


def test_non_positive_definite_factor_covariance_is_flagged():
    rng = np.random.default_rng(0)
    n = 80
    f = rng.normal(size=n)
    data = pd.DataFrame({**{f"a{i}": 0.6 * f + rng.normal(0, 0.8, n) for i in range(3)},
                         **{f"b{i}": 0.6 * f + rng.normal(0, 0.8, n) for i in range(3)}})
    with pytest.warns(ImproperSolutionWarning, match=r"not positive definite .* A ~~ B = 1\.08"):
        res = pv.cfa("A =~ a0 + a1 + a2\nB =~ b0 + b1 + b2", data)
    assert res.admissible is False and res.cor_lv.loc["A", "B"] > 1


def test_crossloading_std_lv_heywood_model_matches_lavaan(hs, extra):
    """A cross-loading and a residual covariance under std.lv; lavaan warns that an observed
    variance is negative, and so do we (the estimates still match)."""
    c = extra["hs.crossloading.stdlv"]
    with pytest.warns(ImproperSolutionWarning, match=r"x\d ~~ x\d = -.*negative residual"):
        res = pv.cfa(c["model"], hs, std_lv=True)
    assert res.admissible is False
    v = c["values"]
    for name, value in v["fitMeasures"].items():
        assert_close(res.fit_measures[name.replace(".", "_")], value, "cfa", what=name)
    est = res.estimates()
    keys = [f"{a}{b}{c_}" for a, b, c_ in zip(est.lhs, est.op, est.rhs, strict=True)]
    pe = v["parameterEstimates"]
    assert sorted(keys) == sorted(pe)
    assert_close(est["est"], [pe[k]["est"] for k in keys], "cfa", what="est")
    assert_close(est["se"], [pe[k]["se"] for k in keys], "cfa", what="se")
    ss = v["standardizedSolution"]
    assert_close(res.standardized()["est_std"], [ss[k]["est.std"] for k in keys], "cfa",
                 what="std est")
    # This model is nearly unidentified (condition number of the information ~3e4; SE of
    # x7 ~~ x8 is 6x its estimate): lavaan's stopping point (gradient 2e-7, estimates within
    # 9e-5 of ours) moves the delta-method SE of std(x7 ~~ x8) by 5e-4 relative. At lavaan's
    # own estimates our standardized SEs agree to 1e-6, which is what is asserted here.
    from tests.reference.checkers.cfa import at_estimates

    lav = at_estimates(res, pe)
    lav = dataclasses.replace(lav, _vcov=np.linalg.inv(
        MLDiscrepancy(lav._model, lav.sample_cov.to_numpy(), lav.n_obs).information(lav._x))
        / lav.n_obs)
    assert_close(lav.standardized()["se"], [ss[k]["se"] for k in keys], "cfa", what="std se")
    rel, ave = res.composite_reliability(), res.ave()
    for f in ("visual", "textual", "speed"):
        assert_close(rel[f], v["compRelSEM"][f], "iterative", what=f"omega {f}")
        assert_close(ave[f], v["AVE"][f], "iterative", what=f"AVE {f}")


def test_regression_among_factors_matches_lavaan(hs, extra):
    c = extra["hs.latent.regression"]
    res = pv.cfa(c["model"], hs)
    v = c["values"]
    for name, value in v["fitMeasures"].items():
        assert_close(res.fit_measures[name.replace(".", "_")], value, "cfa", what=name)
    est, std = res.estimates(), res.standardized()
    keys = [f"{a}{b}{c_}" for a, b, c_ in zip(est.lhs, est.op, est.rhs, strict=True)]
    assert sorted(keys) == sorted(v["parameterEstimates"])
    for ours, table, col, rcol in ((est, "parameterEstimates", "est", "est"),
                                   (std, "standardizedSolution", "est_std", "est.std")):
        assert_close(ours[col], [v[table][k][rcol] for k in keys], "cfa", what=f"{table} est")
        assert_close(ours["se"], [v[table][k]["se"] for k in keys], "cfa", what=f"{table} se")
    assert "Regressions" in str(res.summary())


def test_cli_cfa(tmp_path, capsys):
    from psychoval.cli._main import main

    out = tmp_path / "fit.json"
    csv = HERE / "reference" / "data" / "HolzingerSwineford1939.csv"
    code = main(["cfa", str(csv), "--model", HS_MODEL, "--modindices", "3", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "Comparative Fit Index (CFI)" in text and "36.41" in text
    assert json.loads(out.read_text())["fit_measures"]["df"] == 24
    assert main(["cfa", str(csv), "--model", "visual =~ x1 + x2 + nope"]) == 3
    assert "variable 'nope'" in capsys.readouterr().err


def test_cli_cfa_exits_4_when_the_fit_does_not_converge(tmp_path, capsys, monkeypatch):
    from psychoval.cli._main import main
    from psychoval.stats.sem import _optimize as _cfa_optimize
    monkeypatch.setattr(_cfa_optimize, "MAX_ITER", 1)
    out = tmp_path / "fit.json"
    csv = HERE / "reference" / "data" / "HolzingerSwineford1939.csv"
    code = main(["cfa", str(csv), "--model", HS_MODEL, "--json", str(out)])
    cap = capsys.readouterr()
    assert code == 4
    assert "Converged" in cap.out and "did not converge" in cap.err
    assert json.loads(out.read_text())["converged"] is False  # still written


def test_item_in_small_units_is_not_mistaken_for_unidentified(hs):
    """Regression (found by hypothesis): x4 * 20 shrank the information's eigenvalues by the
    items' units and the rank check called the model unidentified; the fit is unchanged."""
    scaled = hs.copy()
    scaled["x4"] = scaled["x4"] * 20
    a, b = pv.cfa(HS_MODEL, hs), pv.cfa(HS_MODEL, scaled)
    assert b.fit_measures["chisq"] == pytest.approx(a.fit_measures["chisq"], rel=1e-8)


def test_empirically_unidentified_solution_is_returned_without_standard_errors():
    """g's two indicators are linked to the model only through cov(f, g); data with no
    covariance between the blocks put the solution where g's loading trades off with its
    variance. Singular there in both parameterizations but not at points around it: the fit
    is returned (as lavaan does, with its 'could not compute standard errors'), flagged."""
    names = ["x1", "x2", "x3", "x4", "x5", "x6"]
    cov = np.eye(6)
    cov[:4, :4] = 0.5 + 0.5 * np.eye(4)
    cov[4, 5] = cov[5, 4] = 0.4
    s = pd.DataFrame(cov, index=names, columns=names)
    with pytest.warns(ImproperSolutionWarning) as rec:
        fit = pv.cfa("f =~ x1 + x2 + x3 + x4\ng =~ x5 + x6", sample_cov=s, sample_nobs=500)
    assert any("not identified at this solution" in str(w.message) for w in rec)
    assert fit.converged and not fit.identified and not fit.admissible
    assert "g =~ x6" in fit.problems[0] and "g ~~ g" in fit.problems[0]
    assert fit.fit_measures["chisq"] == pytest.approx(0.0, abs=1e-6)  # perfect fit: a ridge
    est = fit.estimates()
    free = est["se"] != 0
    assert est.loc[free, "se"].isna().all() and free.sum() == 13


def test_composite_reliability_names_items_of_opposite_sign():
    """bfi's agreeableness items without the reverse key of A1: A1 loads negatively and
    the composite reliability adds cancelling loadings; the warning names A1."""
    bfi = _refs.load_data("bfi")
    fit = pv.cfa("agree =~ A1 + A2 + A3 + A4 + A5", bfi, missing="fiml")
    with pytest.warns(PsychovalWarning, match=r"factor 'agree': item\(s\) 'A1' load with the "
                      r"opposite sign .* reverse-keyed"):
        cr = fit.composite_reliability()["agree"]
    ok = bfi.assign(A1=7 - bfi["A1"])
    fit2 = pv.cfa("agree =~ A1 + A2 + A3 + A4 + A5", ok, missing="fiml")
    assert fit2.composite_reliability()["agree"] > cr + 0.1  # and no warning
