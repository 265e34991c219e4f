"""Checkers for the CFA engine: ML fits, compRelSEM, AVE, HTMT, Fornell-Larcker (issue 7);
MLR, FIML, multi-group fits and lavTestLRT (issue 8)."""

from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import PsychovalWarning
from tests._tolerances import assert_close, assert_pvalue
from tests.reference import _refs
from tests.reference.checkers import checker


def dataset_for(check: _refs.RefCheck) -> pd.DataFrame:
    """The data object a check's R call used (``dat`` or ``dat_r``)."""
    uses_r = check.options.get("data") == "dat_r" or "data = dat_r" in check.call
    return _refs.dat_r(check.dataset) if uses_r else check.data()


def fit_listwise(model, df: pd.DataFrame, **kw):
    """pv.cfa, asserting the listwise-deletion warning where over 5% of rows are dropped."""
    items = [i for i in df.columns if re.search(rf"(?<![\w.]){re.escape(i)}(?![\w.])",
                                                 model if isinstance(model, str) else
                                                 " ".join(sum(model.values(), [])))]
    dropped = int(df[items].isna().any(axis=1).sum())
    if dropped > 0.05 * len(df):
        with pytest.warns(PsychovalWarning, match=f"listwise deletion dropped {dropped} of"):
            return pv.cfa(model, df, **kw)
    return pv.cfa(model, df, **kw)


def fit_options(opts: dict) -> dict:
    """pv.cfa keyword arguments for a check's lavaan options (estimator, missing, group)."""
    kw = {"std_lv": bool(opts.get("std.lv", False))}
    if opts.get("estimator") in ("MLR", "WLSMV", "DWLS"):
        kw["estimator"] = opts["estimator"]
    if isinstance(opts.get("ordered"), list):  # otherwise "none (continuous)" and the like
        kw["ordered"] = opts["ordered"]
    if opts.get("missing") == "ml":
        kw["missing"] = "fiml"
    if opts.get("group"):
        kw["group"] = opts["group"]
    if opts.get("group.equal"):
        kw["group_equal"] = opts["group.equal"]
    return kw


@functools.cache
def _fit(dataset: str, check_id: str):
    check = _refs.get(f"{dataset}/{check_id}")
    opts = check.options
    kw = fit_options(opts)
    if kw.get("missing") == "fiml":
        return pv.cfa(opts["model"], dataset_for(check), **kw)
    return fit_listwise(opts["model"], dataset_for(check), **kw)


def fitted_object(check: _refs.RefCheck, name: str):
    """The CFA result that the R object ``name`` holds (the check that made it)."""
    for c in _refs.checks(check.dataset).values():
        if c.get("object") == name:
            return _fit(check.dataset, c["id"])
    raise KeyError(name)


def _key(lhs, op, rhs):
    return f"{lhs}{op}{rhs}"


def assert_fit_measures(fit, ref: dict, what: str) -> None:
    for name, value in ref.items():
        ours = fit.fit_measures[name.replace(".", "_")]
        if name.endswith("pvalue") and value is not None:
            assert_pvalue(ours, value, "cfa", what=f"{what} {name}")
        else:
            assert_close(ours, value, "cfa", what=f"{what} {name}")
    assert len(ref) == len(fit.fit_measures), f"{what}: fit measure names differ"


def assert_table(df: pd.DataFrame, ref: dict, est_col: str, ref_est: str, what: str) -> None:
    keys = [_key(a, b, c) for a, b, c in zip(df["lhs"], df["op"], df["rhs"], strict=True)]
    assert sorted(keys) == sorted(ref), f"{what}: parameter rows differ"
    ours = df.set_index(pd.Index(keys))
    for key, vals in ref.items():
        row = ours.loc[key]
        w = f"{what} {key}"
        assert_close(row[est_col], vals[ref_est], "cfa", what=f"{w} est")
        assert_close(row["se"], vals["se"], "cfa", what=f"{w} se")
        assert_close(row["z"], vals["z"], "cfa", what=f"{w} z")
        if vals["pvalue"] is None:
            assert np.isnan(row["pvalue"]), f"{w} pvalue should be NA"
        else:
            assert_pvalue(row["pvalue"], vals["pvalue"], "cfa", what=f"{w} pvalue")
        assert_close(row["ci_lower"], vals["ci.lower"], "cfa", what=f"{w} ci.lower")
        assert_close(row["ci_upper"], vals["ci.upper"], "cfa", what=f"{w} ci.upper")


def at_estimates(fit, ref_estimates: dict):
    """The fitted result moved to lavaan's reported estimates (to test formulas exactly)."""
    est = fit.estimates()
    vals = [ref_estimates[_key(a, b, c)]["est"] for a, b, c in zip(est.lhs, est.op, est.rhs, strict=True)]
    x = fit._model.x_from_table(vals)
    sigma, _ = fit._model.implied(x)
    names = list(fit.observed)
    return dataclasses.replace(fit, _x=x, implied_cov=pd.DataFrame(sigma, index=names,
                                                                   columns=names))


def assert_modindices(fit, ref: list, what: str, kind: str) -> None:
    """Top-10 modification indices compared as a set (ties may reorder)."""
    mi = fit.modindices()
    ours = mi.set_index(pd.Index([_key(a, b, c) for a, b, c in zip(mi.lhs, mi.op, mi.rhs, strict=True)]))
    tenth = mi["mi"].iloc[min(len(ref), len(mi)) - 1]
    for r in ref:
        key = _key(r["lhs"], r["op"], r["rhs"])
        assert key in ours.index, f"{what}: {key} missing from modification indices"
        row = ours.loc[key]
        assert row["mi"] >= tenth - 1e-5, f"{what}: {key} is not among the top {len(ref)}"
        for col in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
            assert_close(row[col.replace(".", "_")], r[col], kind, what=f"{what} {key} {col}")


def assert_matrix(df: pd.DataFrame, ref: dict, kind: str, what: str) -> None:
    for r, row in ref.items():
        for c, v in row.items():
            assert_close(df.loc[r, c], v, kind, what=f"{what}[{r},{c}]")


@checker("*/cfa.*ML.marker", "*/cfa.*ML.stdlv", "bfi/cfa.5f.ML.marker.raw", "ability/cfa.2nd.ML")
def check_cfa_ml(check):
    fit = _fit(check.dataset, check.id)
    assert fit.converged is check.take("converged")
    check.skip("iterations", "CONVENTIONS: iteration counts are not compared (different optimizer)")
    assert fit.n_obs == check.take("nobs")["1"]
    assert fit.fit_measures["npar"] == check.take("npar")
    assert_fit_measures(fit, check.take("fitMeasures"), check.key)
    assert_table(fit.estimates(), check.take("parameterEstimates"), "est", "est", check.key)
    assert_table(fit.standardized(), check.take("standardizedSolution"), "est_std", "est.std",
                 f"{check.key} std")
    mi = check.take("modindices_top10")
    # the formula, exactly: our modification indices at lavaan's own estimates
    lav = at_estimates(fit, check.raw["values"]["parameterEstimates"])
    assert_modindices(lav, mi, f"{check.key} (at lavaan's estimates)", "iterative")
    # our fitted solution (converged more tightly than lavaan's nlminb stop)
    assert_modindices(fit, mi, check.key, "modindices_fitted")
    assert_matrix(fit.cov_lv, check.take("cov.lv"), "cfa", f"{check.key} cov.lv")
    assert_matrix(fit.cor_lv, check.take("cor.lv"), "cfa", f"{check.key} cor.lv")


@checker("*/compRelSEM.onefactor")
def check_comprel_onefactor(check):
    df = dataset_for(check)
    omega, ave, per = check.take("omega"), check.take("AVE"), check.take("per_scale")
    for scale, items in check.options["scales"].items():
        fit = fit_listwise({scale: items}, df)
        assert_close(fit.composite_reliability()[scale], omega[scale], "iterative",
                     what=f"{check.key} omega {scale}")
        assert_close(fit.ave()[scale], ave[scale], "iterative", what=f"{check.key} AVE {scale}")
        for name, value in per[scale]["fit"].items():
            assert_close(fit.fit_measures[name], value, "cfa", what=f"{check.key} {scale} {name}")
        std = fit.standardized()
        load = std[std["op"] == "=~"].set_index("rhs")["est_std"]
        for item, value in per[scale]["std_loadings"].items():
            assert_close(load[item], value, "cfa", what=f"{check.key} {scale} {item}")


def _object_name(check) -> str:
    m = re.search(r"\((fit_\w+)", check.call)
    return check.options.get("fit") or m.group(1)


@checker("*/semTools.*ML*compRelSEM*", "HolzingerSwineford1939/semTools.3f.compRelSEM")
def check_comprel(check):
    fit = fitted_object(check, _object_name(check))
    higher = check.options.get("higher")
    rel = fit.composite_reliability(higher=[higher] if higher else None)
    for f, v in check.take("omega").items():
        assert_close(rel[f], v, "iterative", what=f"{check.key} {f}")


@checker("*/semTools.*ML.AVE", "HolzingerSwineford1939/semTools.3f.AVE")
def check_ave(check):
    fit = fitted_object(check, _object_name(check))
    ave = fit.ave()
    for f, v in check.take("AVE").items():
        assert_close(ave[f], v, "iterative", what=f"{check.key} {f}")


@checker("*/semTools.*ML.htmt", "HolzingerSwineford1939/semTools.3f.htmt")
def check_htmt(check):
    m = re.search(r'htmt\("([^"]*)"', check.call)
    model = m.group(1).replace("\\n", "\n")
    df = dataset_for(check)[check.options["items"]]
    res = pv.htmt(df, model)
    assert_matrix(res.htmt, check.take("htmt"), "iterative", check.key)


@checker("*/semTools.*ML.fornell_larcker", "HolzingerSwineford1939/semTools.3f.fornell_larcker")
def check_fornell_larcker(check):
    fit = fitted_object(check, "fit_ml")
    fl = fit.fornell_larcker()
    for f, v in check.take("sqrt_AVE").items():
        assert_close(fl.sqrt_ave[f], v, "iterative", what=f"{check.key} sqrt_AVE {f}")
    assert_matrix(fl.cor_lv, check.take("cor.lv"), "cfa", f"{check.key} cor.lv")
    for f, v in check.take("max_cor_per_factor").items():
        assert_close(fl.max_cor_per_factor[f], v, "cfa", what=f"{check.key} max_cor {f}")
    for f, v in check.take("max_sq_cor_per_factor").items():
        assert_close(fl.max_sq_cor_per_factor[f], v, "cfa", what=f"{check.key} max_sq {f}")
    for f, v in check.take("FL_pass").items():
        assert bool(fl.sqrt_ave_exceeds_max_cor[f]) is v, f"{check.key} FL_pass {f}"




# -- issue 8: MLR, FIML, multi-group, lavTestLRT ---------------------------------------------


def _kind(name: str) -> str:
    """MLR scaled / robust statistics at the "mlr" tolerance, everything else at "cfa"."""
    return "mlr" if any(w in name for w in ("scaled", "robust", "scaling")) else "cfa"


def _group_keys(df: pd.DataFrame) -> list[str]:
    keys = [_key(a, b, c) for a, b, c in zip(df["lhs"], df["op"], df["rhs"], strict=True)]
    if "group" in df:
        keys = [f"{k}.g{g}" for k, g in zip(keys, df["group"], strict=True)]
    return keys


def _assert_estimates(df: pd.DataFrame, ref: dict, est_col: str, ref_est: str, what: str,
                      se_kind: str = "cfa"):
    """Estimates at "cfa"; standard errors and what follows from them at ``se_kind`` ("mlr"
    for the Huber-White standard errors of MLR fits, robust statistics in CONVENTIONS)."""
    keys = _group_keys(df)
    assert sorted(keys) == sorted(ref), f"{what}: parameter rows differ"
    ours = df.set_index(pd.Index(keys))
    for key, vals in ref.items():
        row = ours.loc[key]
        w = f"{what} {key}"
        assert_close(row[est_col], vals[ref_est], "cfa", what=f"{w} est")
        for col, rcol in (("se", "se"), ("z", "z"), ("ci_lower", "ci.lower"),
                          ("ci_upper", "ci.upper")):
            if rcol.startswith("ci") and rcol not in vals:
                continue  # a reference made without intervals (ref_extra)
            assert_close(row[col], vals.get(rcol), se_kind, what=f"{w} {rcol}")
        if vals.get("pvalue") is None:
            assert np.isnan(row["pvalue"]), f"{w} pvalue should be NA"
        else:
            assert_pvalue(row["pvalue"], vals["pvalue"], se_kind, what=f"{w} pvalue")


@checker("*/cfa.*MLR", "*/cfa.*MLR.fiml", "HolzingerSwineford1939/cfa.mg.configural",
         "HolzingerSwineford1939/cfa.mg.metric", "HolzingerSwineford1939/cfa.mg.scalar",
         "HolzingerSwineford1939/cfa.mg.strict")
def check_cfa_mlr_fiml_groups(check):
    fit = _fit(check.dataset, check.id)
    assert fit.converged is check.take("converged")
    check.skip("iterations", "CONVENTIONS: iteration counts are not compared (different optimizer)")
    nobs = check.take("nobs")
    if fit.group_labels:
        ns = [b.n for b in fit._blocks]
        assert {str(g + 1): n for g, n in enumerate(ns)} == nobs
    else:
        assert {"1": fit.n_obs} == nobs
    # lavInspect(fit, "npar") counts free parameters before equality constraints
    assert sum(1 for f in fit._pt.free if f > 0) == check.take("npar")
    fm = check.take("fitMeasures")
    for name, value in fm.items():
        ours = fit.fit_measures[name.replace(".", "_")]
        if name.startswith("pvalue") or name.endswith("pvalue") or ".pvalue" in name:
            if value is not None:
                assert_pvalue(ours, value, _kind(name), what=f"{check.key} {name}")
                continue
        assert_close(ours, value, _kind(name), what=f"{check.key} {name}")
    assert len(fm) == len(fit.fit_measures), f"{check.key}: fit measure names differ"
    se_kind = "mlr" if fit.estimator == "MLR" else "cfa"
    _assert_estimates(fit.estimates(), check.take("parameterEstimates"), "est", "est",
                      check.key, se_kind)
    _assert_estimates(fit.standardized(), check.take("standardizedSolution"), "est_std",
                      "est.std", f"{check.key} std", se_kind)
    mi = fit.modindices()
    keys = _group_keys(mi)
    ours = mi.set_index(pd.Index(keys))
    ref = check.take("modindices_top10")
    tenth = mi["mi"].iloc[min(len(ref), len(mi)) - 1]
    for r in ref:
        key = _key(r["lhs"], r["op"], r["rhs"]) + (f".g{r['group']}" if "group" in r else "")
        assert key in ours.index, f"{check.key}: {key} missing from modification indices"
        row = ours.loc[key]
        assert row["mi"] >= tenth - 1e-5, f"{check.key}: {key} is not among the top {len(ref)}"
        for col in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
            assert_close(row[col.replace(".", "_")], r[col], "modindices_fitted",
                         what=f"{check.key} MI {key} {col}")
    for name, ours_m in (("cov.lv", fit.cov_lv), ("cor.lv", fit.cor_lv)):
        ref_m = check.take(name)
        if fit.group_labels:
            assert sorted(ref_m) == sorted(ours_m), f"{check.key} {name}: group labels"
            for lab, sub in ref_m.items():
                assert_matrix(ours_m[lab], sub, "cfa", f"{check.key} {name} {lab}")
        else:
            assert_matrix(ours_m, ref_m, "cfa", f"{check.key} {name}")


@checker("HolzingerSwineford1939/lrt.*")
def check_lrt(check):
    names = check.options["models"]
    fits = [fitted_object(check, nm) for nm in names]
    res = pv.compare(*fits, names=names)
    frame = res.to_frame().set_index("model")
    check.skip("heading", "lavaan's printed table heading (text); the method is asserted "
               "through the scaled flag")
    assert res.scaled is ("satorra" in check.raw["values"]["heading"])
    cols = {"Df": "df", "AIC": "aic", "BIC": "bic", "Chisq": "chisq",
            "Chisq diff": "chisq_diff", "RMSEA": "rmsea", "Df diff": "df_diff",
            "Pr(>Chisq)": "pvalue"}
    for rname, col in cols.items():
        if not check.has(rname):
            assert res.scaled == (rname == "RMSEA"), f"{check.key}: {rname} column"
            continue
        for model, value in check.take(rname).items():
            ours = frame.loc[model, col]
            what = f"{check.key} {model} {rname}"
            if value is None:
                assert np.isnan(ours), f"{what} should be NA"
            elif rname == "Pr(>Chisq)":
                assert_pvalue(ours, value, "mlr" if res.scaled else "cfa", what=what)
            else:
                assert_close(ours, value, "mlr" if (res.scaled and "diff" in rname) else "cfa",
                             what=what)


# -- ordinal CFA (WLSMV) ------------------------------------------------------------------


@checker("*/cfa.*WLSMV")
def check_cfa_wlsmv(check):
    """cfa(..., ordered = items, estimator = "WLSMV"): every value at "cfa" (estimates, robust
    SEs, scaled and robust statistics agree to ~1e-6 relative, tests/test_wlsmv_core.py),
    the top-10 modification indices of our fitted solution at "modindices_fitted"."""
    fit = _fit(check.dataset, check.id)
    assert fit.converged is check.take("converged")
    check.skip("iterations", "CONVENTIONS: iteration counts are not compared (different optimizer)")
    assert {"1": fit.n_obs} == check.take("nobs")
    assert fit.fit_measures["npar"] == check.take("npar")
    fm = check.take("fitMeasures")
    for name, value in fm.items():
        ours = fit.fit_measures[name.replace(".", "_")]
        if value is None:
            assert np.isnan(ours), f"{check.key} {name} should be NA"
        elif "pvalue" in name:
            assert_pvalue(ours, value, "cfa", what=f"{check.key} {name}")
        else:
            assert_close(ours, value, "cfa", what=f"{check.key} {name}")
    assert len(fm) == len(fit.fit_measures), f"{check.key}: fit measure names differ"
    _assert_estimates(fit.estimates(), check.take("parameterEstimates"), "est", "est",
                      check.key)
    _assert_estimates(fit.standardized(), check.take("standardizedSolution"), "est_std",
                      "est.std", f"{check.key} std")
    assert_modindices(fit, check.take("modindices_top10"), check.key, "modindices_fitted")
    assert_matrix(fit.cov_lv, check.take("cov.lv"), "cfa", f"{check.key} cov.lv")
    cor_lv = check.take("cor.lv")
    if len(fit.latent) == 1:
        # lavaan 0.6.14's lavInspect(fit, "cor.lv") leaves a 1 x 1 matrix unconverted
        # (cov2cor only when nrow > 1), so it reports the factor variance; ours is 1
        f = fit.latent[0]
        assert_close(cor_lv[f][f], fit.cov_lv.loc[f, f], "cfa", what=f"{check.key} cor.lv")
        assert fit.cor_lv.loc[f, f] == 1.0
    else:
        assert_matrix(fit.cor_lv, cor_lv, "cfa", f"{check.key} cor.lv")


@checker("*/semTools.*WLSMV.compRelSEM")
def check_comprel_wlsmv(check):
    """compRelSEM(fit_wlsmv): categorical omega (ord.scale = TRUE) of our WLSMV fit at
    "iterative" (the loadings agree with lavaan's to ~1e-6 relative)."""
    assert check.options.get("ord.scale") is True
    rel = fitted_object(check, _object_name(check)).composite_reliability()
    omega = check.take("omega")
    assert sorted(rel.index) == sorted(omega), f"{check.key}: factors differ"
    for f, v in omega.items():
        assert_close(rel[f], v, "iterative", what=f"{check.key} {f}")
