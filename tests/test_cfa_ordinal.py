"""The public ordinal CFA: ``pv.cfa(model, data, ordered=..., estimator="WLSMV" | "DWLS")``.

Every value of lavaan 0.6.14's ``cfa(..., ordered =, estimator = "WLSMV")`` (fitMeasures,
parameterEstimates, standardizedSolution, modindices top 10, cov.lv / cor.lv) is asserted by
the reference harness (tests/reference/checkers/cfa.py::check_cfa_wlsmv: bfi 5 factors,
ability 1 factor, 4 factors and second-order). Here: the public path against the core
(tests/test_wlsmv_core.py's lavaan values for bfi A/C), DWLS, the options, and the outputs
that are refused rather than computed with an ML formula.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.sem._cfa import CFAResult, OrdinalCFAResult
from psychoval.stats.sem._cfa_ordinal import fit_dwls
from tests._tolerances import assert_close
from tests.reference import _refs

ITEMS = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
MODEL = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"


@pytest.fixture(scope="module")
def data():
    return _refs.load_data("bfi")[ITEMS].copy()


@pytest.fixture(scope="module")
def fits(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # listwise deletion of bfi's incomplete rows
        return {"WLSMV": pv.cfa(MODEL, data, ordered=True),
                "DWLS": pv.cfa(MODEL, data, ordered=ITEMS, estimator="DWLS")}


def _keyed(df, col):
    return {f"{a}{o}{b}": v for a, o, b, v in zip(df.lhs, df.op, df.rhs, df[col], strict=True)}


def test_default_estimator_with_ordered_is_wlsmv(fits):
    fit = fits["WLSMV"]
    assert isinstance(fit, OrdinalCFAResult) and isinstance(fit, CFAResult)
    assert fit.estimator == "WLSMV"
    assert fit.converged


def test_public_path_matches_lavaan_core_values(fits):
    """lavaan's parameterEstimates of bfi A/C (ref_extra/wlsmv_core.json) through pv.cfa:
    every row lavaan lists, the ~*~ scales and ~1 intercepts included."""
    ref = _refs.extra_checks("wlsmv_core")["bfi.AC.wlsmv"]["values"]
    pe = ref["parameterEstimates"]
    est = fits["WLSMV"].estimates()
    ours_est, ours_se = _keyed(est, "est"), _keyed(est, "se")
    assert sorted(ours_est) == sorted(pe)
    for k, row in pe.items():
        assert ours_est[k] == pytest.approx(row["est"], abs=1e-6 * max(1.0, abs(row["est"]))), k
        assert ours_se[k] == pytest.approx(row["se"], abs=1e-6), k
    fm = ref["fitMeasures"]
    for name in ("chisq", "df", "chisq.scaled", "chisq.scaling.factor", "npar", "fmin"):
        assert_close(fits["WLSMV"].fit_measures[name.replace(".", "_")], fm[name], "cfa",
                     what=name)


def test_public_path_equals_fit_dwls(fits, data):
    core = fit_dwls(MODEL, data, ordered_items=ITEMS)
    est = fits["WLSMV"].estimates()
    ours = dict(zip((f"{a}{o}{b}" for a, o, b in zip(est.lhs, est.op, est.rhs, strict=True)),
                    est["est"], strict=True))
    for r in core.estimates.itertuples():
        assert ours[f"{r.lhs}{r.op}{r.rhs}"] == pytest.approx(r.est, abs=1e-9)
    assert fits["WLSMV"].fit_measures["chisq_scaled"] == pytest.approx(core.chisq_scaled,
                                                                       rel=1e-10)


def test_dwls_same_estimates_standard_se_and_test(fits):
    """lavaan's estimator = "DWLS" (se = "standard", test = "standard"): the estimates of
    WLSMV, standard errors from E^-1 / (N - 1), no scaled or robust statistics."""
    w, d = fits["WLSMV"], fits["DWLS"]
    assert d.estimator == "DWLS"
    ew, ed = w.estimates(), d.estimates()
    np.testing.assert_allclose(ed["est"], ew["est"], rtol=0, atol=1e-12)
    free = ew["se"] > 0
    assert (ed["se"][free] > 0).all() and not np.allclose(ed["se"][free], ew["se"][free])
    fw, fd = w.fit_measures, d.fit_measures
    for name in ("chisq", "df", "pvalue", "baseline_chisq", "cfi", "tli", "rmsea", "srmr",
                 "gfi", "wrmr"):
        assert fd[name] == pytest.approx(fw[name], rel=1e-12), name
    assert not any(k.endswith(("_scaled", "_robust", "_scaling_factor")) for k in fd)


def test_thresholds_and_delta_rows(fits):
    fit = fits["WLSMV"]
    est = fit.estimates()
    th = est[est.op == "|"]
    assert len(th) == fit.thresholds.size == 10 * 5
    np.testing.assert_allclose(th["est"], fit.thresholds.to_numpy())
    assert (th["se"] > 0).all()
    # residual variances 1 - R^2, fixed (se 0); their std.all carries a delta-method SE
    res = est[(est.op == "~~") & (est.lhs == est.rhs) & est.lhs.isin(ITEMS)]
    std = fit.standardized()
    load = std[std.op == "=~"].set_index("rhs")["est_std"]
    for r in res.itertuples():
        assert r.est == pytest.approx(1 - load[r.lhs] ** 2, abs=1e-12)
        assert r.se == 0 and np.isnan(r.z)
    sres = std[(std.op == "~~") & (std.lhs == std.rhs) & std.lhs.isin(ITEMS)]
    assert (sres["se"] > 0).all()
    assert (est[est.op == "~*~"]["est"] == 1).all()
    assert (est[est.op == "~1"]["est"] == 0).all()
    # the implied latent-response matrix is a correlation matrix; sample_cov the polychorics
    assert np.allclose(np.diag(fit.implied_cov), 1.0)
    assert np.allclose(np.diag(fit.sample_cov), 1.0)


def test_confidence_level(fits):
    est = fits["WLSMV"].estimates(confidence_level=0.90)
    free = est[est.se > 0]
    np.testing.assert_allclose(free["ci_upper"] - free["est"], 1.6448536269514722 * free["se"],
                               rtol=1e-12)


def test_modindices_and_summary_run(fits):
    mi = fits["WLSMV"].modindices()
    assert list(mi.columns) == ["lhs", "op", "rhs", "mi", "epc", "sepc_lv", "sepc_all",
                                "sepc_nox"]
    assert (np.diff(mi["mi"]) <= 0).all()
    assert "Estimator" in str(fits["WLSMV"].summary())
    assert len(fits["WLSMV"].to_frame()) == len(fits["WLSMV"].estimates())


@pytest.mark.parametrize("call", [
    lambda f: f.residuals(), lambda f: f.factor_scores(),
    lambda f: f.composite_reliability(higher=["g"]),
])
def test_outputs_without_an_ordinal_formula_raise(fits, call):
    with pytest.raises(NotImplementedError, match="not available for WLSMV"):
        call(fits["WLSMV"])


def test_compare_of_ordinal_fits_with_equal_df_warns(fits):
    """pv.compare of WLSMV fits is lavTestLRT's satorra.2000 test (tests/test_wlsmv_estimators.py);
    a model against itself has no df to test."""
    from psychoval.exceptions import PsychovalWarning

    with pytest.warns(PsychovalWarning, match="same degrees of freedom"):
        out = pv.compare(fits["WLSMV"], fits["WLSMV"])
    assert out.method == "satorra.2000" and np.isnan(out.pvalue[1])


def test_options(data):
    with pytest.raises(SpecificationError, match="needs ordered indicators"):
        pv.cfa(MODEL, data, estimator="WLSMV")
    with pytest.raises(SpecificationError, match="not available for ordered indicators"):
        pv.cfa(MODEL, data, ordered=True, estimator="MLR")
    with pytest.raises(SpecificationError, match="none of the indicators"):
        pv.cfa(MODEL, data, ordered=["not_an_indicator"])
    with pytest.raises(DataError, match="group column 'g' has only one value"):
        pv.cfa(MODEL, data.assign(g=1), ordered=True, group="g")
    with pytest.raises(SpecificationError, match="listwise"):
        pv.cfa(MODEL, data, ordered=True, missing="fiml")
    with pytest.raises(SpecificationError, match="equality constraints"):
        pv.cfa("A =~ A1 + a*A2 + a*A3 + A4", data, ordered=True)
    with pytest.raises(SpecificationError, match="loadings and \\(co\\)variances only"):
        pv.cfa("A =~ A1 + A2 + A3\nC =~ C1 + C2 + C3\nC ~ A", data, ordered=True)
    with pytest.raises(SpecificationError, match="not identified"):
        pv.cfa("A =~ A1 + A2", data, ordered=True)
    with pytest.raises(SpecificationError, match="raw responses"):
        pv.cfa(MODEL, sample_cov=data.cov(), sample_nobs=100, ordered=True)


ABILITY6 = ["reason.4", "reason.16", "reason.17", "reason.19", "letter.7", "letter.33"]
EXTRA = {  # id -> (data set, pv.cfa keywords); references from r/cfa_ordinal_extra.R
    "ability.6.stdlv": ("ability", {"ordered": ABILITY6, "std_lv": True}),
    "bfi.AC.rescov": ("bfi", {"ordered": True}),
    "ability.3.saturated": ("ability", {"ordered": True}),
    "bfi.AC.rescov.dwls": ("bfi", {"ordered": True, "estimator": "DWLS"}),
}


@pytest.mark.parametrize("cid", list(EXTRA))
def test_more_models_match_lavaan(cid):
    """std.lv = TRUE on 0/1 items, residual covariances between ordered items, DWLS: every
    fit measure, parameterEstimates and standardizedSolution row (std.all and std.lv) at
    "cfa", the top-10 modification indices at "modindices_fitted"."""
    ref = _refs.extra_checks("cfa_ordinal_extra")[cid]
    dataset, kw = EXTRA[cid]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pv.cfa(ref["model"], _refs.load_data(dataset), **kw)
    vals = ref["values"]
    assert fit.n_obs == vals["nobs"]
    fm = vals["fitMeasures"]
    assert sorted(fit.fit_measures) == sorted(k.replace(".", "_") for k in fm)
    for name, value in fm.items():
        ours = fit.fit_measures[name.replace(".", "_")]
        if value is None:
            assert np.isnan(ours), name
        else:
            assert_close(ours, value, "cfa", what=f"{cid} {name}")
    for tab, col, rcol, key in ((fit.estimates(), "est", "est", "parameterEstimates"),
                                (fit.standardized(), "est_std", "est.std",
                                 "standardizedSolution")):
        ref_rows = vals[key]
        keys = [f"{a}{o}{b}" for a, o, b in zip(tab.lhs, tab.op, tab.rhs, strict=True)]
        assert sorted(keys) == sorted(ref_rows), key
        t = tab.set_index(pd.Index(keys))
        for k, row in ref_rows.items():
            for ours_c, ref_c in ((col, rcol), ("se", "se"), ("z", "z"), ("pvalue", "pvalue"),
                                  ("ci_lower", "ci.lower"), ("ci_upper", "ci.upper")):
                if row[ref_c] is None:
                    assert np.isnan(t.loc[k, ours_c]), f"{cid} {key} {k} {ours_c}"
                else:
                    assert_close(t.loc[k, ours_c], row[ref_c], "cfa",
                                 what=f"{cid} {key} {k} {ours_c}")
    std_lv = fit.standardized(type="std_lv")
    std_lv.index = [f"{a}{o}{b}" for a, o, b in
                    zip(std_lv.lhs, std_lv.op, std_lv.rhs, strict=True)]
    assert sorted(std_lv.index) == sorted(vals["standardizedSolution_stdlv"])
    for k, row in vals["standardizedSolution_stdlv"].items():
        assert_close(std_lv.loc[k, "est_std"], row["est.std"], "cfa", what=f"{cid} std.lv {k}")
        assert_close(std_lv.loc[k, "se"], row["se"], "cfa", what=f"{cid} std.lv {k} se")
    mi = fit.modindices()
    mi.index = [f"{a}{o}{b}" for a, o, b in zip(mi.lhs, mi.op, mi.rhs, strict=True)]
    for r in vals["modindices_top10"]:
        k = f"{r['lhs']}{r['op']}{r['rhs']}"
        for c in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
            assert_close(mi.loc[k, c.replace(".", "_")], r[c], "modindices_fitted",
                         what=f"{cid} MI {k} {c}")
    assert set(mi.index[:10]) == {f"{r['lhs']}{r['op']}{r['rhs']}"
                                  for r in vals["modindices_top10"]}


def test_response_table_and_cli(data, tmp_path, capsys):
    """A ResponseTable fits as its DataFrame does; `psychoval cfa --ordered` prints the same
    fit, `--ordered ITEMS` leaves the others continuous."""
    from psychoval.cli import main

    path = tmp_path / "ac.csv"
    data.to_csv(path, index=False)
    table = pv.read_responses(path)
    direct = pv.cfa(MODEL, data, ordered=True, missing="pairwise")
    via = pv.cfa(MODEL, table, ordered=True, missing="pairwise")
    assert via.fit_measures["chisq_scaled"] == direct.fit_measures["chisq_scaled"]
    assert main(["cfa", str(path), "--model", MODEL, "--ordered", "--missing", "pairwise",
                 "--json", str(tmp_path / "fit.json")]) == 0
    out = capsys.readouterr().out
    assert "WLSMV" in out and f"{direct.fit_measures['chisq_scaled']:.3f}" in out
    assert main(["cfa", str(path), "--model", MODEL, "--ordered",
                 ",".join(i for i in ITEMS if i != "A3"), "--estimator", "ULSMV",
                 "--json", "-"]) == 0
    doc = capsys.readouterr().out
    assert '"estimator": "ULSMV"' in doc
