"""MLR pieces (psychoval.stats.sem._robust, _lrt) against lavaan 0.6.14 given the same inputs.

The CFA engine is not needed: tests/_toy_cfa.py turns lavaan's estimates into the implied
moments and Delta, so robust SEs, Yuan-Bentler scaled statistics, scaling factors, robust
CFI/TLI/RMSEA (complete data and FIML-corrected) and lavTestLRT tables are recomputed from
the data and compared with lavaan's numbers.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psychoval.exceptions import PsychovalWarning, SpecificationError
from psychoval.stats.sem import _fiml as F
from psychoval.stats.sem import _robust as R
from psychoval.stats.sem._lrt import ModelTest, lrt_table, satorra_bentler_2001
from tests._tolerances import assert_close, assert_pvalue
from tests._toy_cfa import lavaan_pieces, observed_information
from tests.reference import _refs

HS_ITEMS = [f"x{i}" for i in range(1, 10)]


def refs(source: str) -> dict:
    shared = source in ("HolzingerSwineford1939", "bfi", "ability")
    return _refs.checks(source) if shared else _refs.extra_checks(source)


def data(name: str) -> pd.DataFrame:
    return _refs.extra_data(name) if name == "hs_missing" else _refs.dat_r(name)


# (source, check id, data set, meanstructure, information, estimator)
FITS = {
    "hs.MLR": ("HolzingerSwineford1939", "cfa.3f.MLR", "HolzingerSwineford1939", False,
               "observed", "MLR"),
    "hs.MLR.expected": ("cfa_fiml_mlr_extra", "cfa.3f.MLR.expected.hs", "HolzingerSwineford1939",
                        False, "expected", "MLR"),
    "hs_missing.MLR.fiml": ("cfa_fiml_mlr_extra", "cfa.3f.MLR.fiml.hs_missing", "hs_missing",
                            True, "observed", "MLR"),
    "hs_missing.ML.fiml": ("cfa_fiml_mlr_extra", "cfa.3f.ML.fiml.hs_missing", "hs_missing", True,
                           "observed", "ML"),
    "bfi.MLR.fiml": ("bfi", "cfa.5f.MLR.fiml", "bfi", True, "observed", "MLR"),
    "bfi.ML.fiml": ("cfa_fiml_mlr_extra", "cfa.5f.ML.fiml.bfi", "bfi", True, "observed", "ML"),
    "bfi.MLR.listwise": ("bfi", "cfa.5f.MLR", "bfi", False, "observed", "MLR"),
    "ability.MLR.listwise": ("ability", "cfa.4f.MLR", "ability", False, "observed", "MLR"),
}


@functools.cache
def fit(name: str):
    source, cid, dname, ms, info, estimator = FITS[name]
    values = refs(source)[cid]["values"]
    pe = values["parameterEstimates"]
    est = {k: v["est"] for k, v in pe.items()}
    se = {k: v["se"] for k, v in pe.items()}
    items = [k.split("=~")[1] for k in pe if "=~" in k]
    x = data(dname)[items].to_numpy(float)
    if not ms:  # complete-data MLR: lavaan's default listwise deletion
        x = x[~np.isnan(x).any(axis=1)]
    pieces = lavaan_pieces(est, se, items, x, meanstructure=ms, information=info)
    return pieces, values, estimator


@functools.cache
def _all_measures(name: str):
    pieces, values, estimator = fit(name)
    fm = values["fitMeasures"]
    pat, h1 = pieces.pat, pieces.h1
    n, sl = pat.n, pieces.sl
    df = int(fm["df"])
    base = F.independence_model(pat)
    bchisq = 2 * (h1.loglik - base.loglik)
    scaled = bscaled = None
    if estimator == "MLR":
        a1 = F.information_observed(pat, h1.mu, h1.sigma)[sl, sl]
        b1 = F.information_firstorder(pat, h1.mu, h1.sigma)[sl, sl]
        e_inv = np.linalg.inv(pieces.information)
        scaled = R.yuan_bentler_mplus(pieces.chisq, df, a1=a1, b1=b1, b0=pieces.first_order,
                                      e_inv=e_inv)
        off = 0 if sl.start == 0 else pat.p
        db = base.delta()[sl][:, off:]
        eb = base.information_observed(n)[off:, off:]
        b0b = db.T @ F.information_firstorder(pat, base.mu, base.sigma)[sl, sl] @ db
        bscaled = R.yuan_bentler_mplus(bchisq, base.df, a1=a1, b1=b1, b0=b0b,
                                       e_inv=np.linalg.inv(eb))
    fiml = None
    if not pat.complete:
        fiml = R.fiml_corrected(pat, mu=pieces.mu, sigma=pieces.sigma, delta=pieces.delta,
                                df=df, h1=h1, baseline=base,
                                version="V3" if scaled is not None else "V6")
    out = R.scaled_fit_measures(chisq=pieces.chisq, df=df, baseline_chisq=bchisq,
                                baseline_df=base.df, n=n, scaled=scaled, baseline_scaled=bscaled,
                                fiml=fiml)
    return out, scaled, fm


@pytest.mark.parametrize("name", list(FITS))
def test_standard_errors_match_lavaan(name):
    pieces, values, estimator = fit(name)
    n = pieces.pat.n
    if estimator == "MLR":
        vcov = R.sandwich_vcov(pieces.information, pieces.first_order, n)
        kind = "mlr"
    else:
        vcov = np.linalg.inv(pieces.information) / n
        kind = "cfa"
    se = np.sqrt(np.diag(vcov))
    expected = [values["parameterEstimates"][k]["se"] for k in pieces.model.keys]
    assert_close(se, expected, kind, what=f"{name} se")
    assert_close(pieces.chisq, values["fitMeasures"]["chisq"], "cfa", what=f"{name} chisq")
    assert_close(pieces.loglik, values["fitMeasures"]["logl"], "cfa", what=f"{name} logl")


@pytest.mark.parametrize("name", [k for k, v in FITS.items() if v[5] == "MLR"])
def test_yuan_bentler_scaled_test_matches_lavaan(name):
    _, scaled, fm = _all_measures(name)
    assert_close(scaled.stat, fm["chisq.scaled"], "mlr", what="chisq.scaled")
    assert_close(scaled.scaling_factor, fm["chisq.scaling.factor"], "mlr",
                 what="chisq.scaling.factor")
    assert_close(scaled.scaling_factor_h1, fm["scaling.factor.h1"], "mlr",
                 what="scaling.factor.h1")
    assert_close(scaled.scaling_factor_h0, fm["scaling.factor.h0"], "mlr",
                 what="scaling.factor.h0")
    assert scaled.df == fm["df.scaled"]
    assert_pvalue(scaled.pvalue, fm["pvalue.scaled"], "mlr", what="pvalue.scaled")


@pytest.mark.parametrize("name", list(FITS))
def test_fit_measures_match_lavaan(name):
    out, _, fm = _all_measures(name)
    for key, value in out.items():
        rkey = key.replace("_", ".")
        assert rkey in fm, f"{rkey} is not a lavaan fit measure"
        kind = "mlr" if ("scaled" in key or "robust" in key) else "cfa"
        if "pvalue" in key:
            assert_pvalue(value, fm[rkey], kind, what=f"{name} {rkey}")
        else:
            assert_close(value, fm[rkey], kind, what=f"{name} {rkey}")
    expected = {"cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.upper.robust"}
    assert expected <= {k.replace("_", ".") for k in out}


INTERNALS = {
    "mlr.fit.hs": ("hs.MLR", "observed"),
    "mlr.fit.hs.expected": ("hs.MLR.expected", "expected"),
    "mlr.fit.hs_missing": ("hs_missing.MLR.fiml", "observed"),
    "ml.fit.hs_missing": ("hs_missing.ML.fiml", "observed"),
}


@pytest.mark.parametrize("check_id", list(INTERNALS))
def test_information_matrices_match_lavaan_internals(check_id):
    pieces, _, _ = fit(INTERNALS[check_id][0])
    ref = refs("fiml_h1_extra")[check_id]["values"]
    # same parameter order as lavaan's free parameters
    order = [pieces.model.keys.index(k) for k in ref["free"]]
    e_inv = np.linalg.inv(pieces.information)[np.ix_(order, order)]
    b0 = pieces.first_order[np.ix_(order, order)]
    if INTERNALS[check_id][1] == "observed":
        # lavaan's way: 5-point central differences of the analytic gradient
        mu_fixed = None if pieces.sl.start == 0 else pieces.mu
        numeric = observed_information(pieces.model, pieces.theta, pieces.pat, pieces.sl,
                                       mu_fixed)
        assert_close(np.linalg.inv(numeric)[np.ix_(order, order)], ref["inverted.information"],
                     "cfa", what="inverse of the numerically differentiated Hessian")
    assert_close(pieces.delta[:, order], ref["delta"], "cfa", what="delta (toy model)")
    assert_close(e_inv, ref["inverted.information"], "cfa", what="inverted information")
    assert_close(b0, ref["information.first.order"], "cfa", what="first-order information")


# --------------------------------------------------------------------------------------------
# nested-model tests


def _lrt_models(ref_values: dict, *, scaling: dict | None, n: int, groups: int = 1):
    models = []
    for name in ref_values["Df"]:
        models.append(ModelTest(name=name, chisq=ref_values["Chisq"][name],
                                df=ref_values["Df"][name], aic=ref_values["AIC"][name],
                                bic=ref_values["BIC"][name],
                                scaling_factor=None if scaling is None else scaling[name],
                                n=n, groups=groups))
    return models[::-1]  # reversed on purpose: lrt_table sorts by df


def _assert_lrt(res, ref_values):
    frame = res.to_frame().set_index("model")
    for col, rcol in [("df", "Df"), ("aic", "AIC"), ("bic", "BIC"), ("chisq", "Chisq"),
                      ("chisq_diff", "Chisq diff"), ("df_diff", "Df diff"),
                      ("rmsea", "RMSEA")]:
        if rcol not in ref_values:
            assert col not in frame
            continue
        expected = [ref_values[rcol][m] for m in frame.index]
        kind = "mlr" if res.scaled and col == "chisq_diff" else "cfa"
        assert_close(frame[col].to_numpy(), expected, kind, what=rcol)
    for m in frame.index[1:]:
        assert_pvalue(frame.loc[m, "pvalue"], ref_values["Pr(>Chisq)"][m],
                      "mlr" if res.scaled else "cfa", what=f"Pr(>Chisq) {m}")
    assert list(frame.index) == list(ref_values["Df"])  # sorted by df as lavaan


def test_lrt_plain_matches_lavaan_ability():
    ref = refs("cfa_fiml_mlr_extra")["lrt.ability.corr_vs_2nd.ML"]["values"]
    n = refs("fiml_h1_extra")["mlr.fit.ability.4f"]["values"]["fitMeasures"]["ntotal"]
    res = lrt_table(_lrt_models(ref, scaling=None, n=int(n)))
    assert res.method == "standard" and not res.scaled
    _assert_lrt(res, ref)


def test_lrt_satorra_bentler_matches_lavaan_ability():
    ref = refs("cfa_fiml_mlr_extra")["lrt.ability.corr_vs_2nd.MLR"]["values"]
    extra = refs("fiml_h1_extra")
    scaling = {"fit_cr": extra["mlr.fit.ability.4f"]["values"]["scaling.factor"],
               "fit_sr": extra["mlr.fit.ability.2nd"]["values"]["scaling.factor"]}
    res = lrt_table(_lrt_models(ref, scaling=scaling, n=1525))
    assert res.method == "satorra.bentler.2001" and res.scaled
    _assert_lrt(res, ref)


def test_lrt_plain_matches_lavaan_invariance():
    ref = refs("HolzingerSwineford1939")["lrt.invariance.school"]["values"]
    res = lrt_table(_lrt_models(ref, scaling=None, n=301, groups=2))
    _assert_lrt(res, ref)


def test_lrt_satorra_bentler_matches_lavaan_invariance():
    hs = refs("HolzingerSwineford1939")
    ref = hs["lrt.invariance.school.MLR"]["values"]
    scaling = {
        f"fit_{s}_mlr": hs[f"cfa.mg.{s}.MLR"]["values"]["fitMeasures"]["chisq.scaling.factor"]
        for s in ("configural", "metric", "scalar")
    }
    res = lrt_table(_lrt_models(ref, scaling=scaling, n=301, groups=2))
    _assert_lrt(res, ref)


def test_lrt_errors_and_warnings():
    a = ModelTest("a", 10.0, 5, scaling_factor=1.1)
    b = ModelTest("b", 12.0, 7)
    with pytest.raises(SpecificationError, match="at least two models, got 1"):
        lrt_table([a])
    with pytest.raises(SpecificationError, match=r"method='sb' is not one of"):
        lrt_table([a, b], method="sb")
    with pytest.raises(SpecificationError, match="some models .but not all. have scaled.*b lack"):
        lrt_table([a, b])
    c = ModelTest("c", 9.0, 7)
    d = ModelTest("d", 10.0, 5)
    with pytest.warns(PsychovalWarning, match="restricted models fit better"):
        lrt_table([c, d])
    e = ModelTest("e", 11.0, 5)
    with pytest.warns(PsychovalWarning, match="same degrees of freedom: e"):
        res = lrt_table([d, e])
    assert math.isnan(res.pvalue[1])
    with pytest.warns(PsychovalWarning, match="scaling factor of the difference test is negative"):
        t, cd, m = satorra_bentler_2001(10.0, 5, 3.0, 20.0, 6, 0.1)
    assert math.isnan(cd) and math.isnan(t) and m == 1


def test_compare_result_face():
    res = lrt_table([ModelTest("m1", 10.0, 5, 100.0, 110.0, n=200),
                     ModelTest("m2", 15.0, 8, 99.0, 105.0, n=200)])
    assert repr(res).startswith("<CompareResult models=2, method=standard")
    assert "Chi-squared difference test" in str(res.summary())
    d = res.to_dict()
    assert d["schema"] == "psychoval.compare/1"
    assert list(res.to_frame().columns) == ["model", "df", "aic", "bic", "chisq", "chisq_diff",
                                            "rmsea", "df_diff", "pvalue"]


# --------------------------------------------------------------------------------------------
# properties of the formulas


def test_gamma_equals_fourth_moment_matrix_with_complete_data():
    x = data("HolzingerSwineford1939")[HS_ITEMS].to_numpy(float)
    pat = F.missing_patterns(x)
    mu, sigma = x.mean(axis=0), np.cov(x.T, bias=True)
    g = R.gamma(F.information_observed(pat, mu, sigma), F.information_firstorder(pat, mu, sigma))
    xc = x - mu
    r, c = F.vech_indices(9)
    z = np.hstack([xc, xc[:, r] * xc[:, c]])
    np.testing.assert_allclose(g, np.cov(z.T, bias=True), rtol=1e-8, atol=1e-10)


def test_sandwich_reduces_to_inverse_information_when_b0_equals_e():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 5))
    e = a @ a.T + 5 * np.eye(5)
    np.testing.assert_allclose(R.sandwich_vcov(e, e, 100), np.linalg.inv(e) / 100, rtol=1e-10)


@settings(max_examples=50, deadline=None)
@given(x2=st.floats(0, 500), df=st.integers(1, 100), x2n=st.floats(0, 5000),
       dfn=st.integers(1, 300), c=st.floats(0.5, 2.0), cn=st.floats(0.5, 2.0))
def test_index_properties(x2, df, x2n, dfn, c, cn):
    assert R.cfi(x2, df, x2n, dfn) <= 1.0
    assert R.cfi(x2, df, x2n, dfn) >= 0.0
    # robust indices with c_hat = 1 are the ordinary ones
    assert R.cfi(x2, df, x2n, dfn, 1.0, 1.0) == R.cfi(x2, df, x2n, dfn)
    assert R.tli(x2, df, x2n, dfn, 1.0, 1.0) == R.tli(x2, df, x2n, dfn)
    assert R.rmsea(x2, df, 300) >= 0.0
    lo, hi = R.rmsea_ci(x2, df, 300)
    est = R.rmsea(x2, df, 300)
    assert lo <= est + 1e-9 and est <= hi + 1e-9 or x2 <= df
    r = R.rmsea(x2, df, 300, c_hat=c)
    assert r == pytest.approx(math.sqrt(max(x2 / (300 * df) - c / 300, 0.0)))


def test_scaled_test_with_zero_df_is_unscaled():
    st0 = R.yuan_bentler_mplus(0.0, 0, a1=np.eye(2), b1=np.eye(2), b0=np.eye(1),
                               e_inv=np.eye(1))
    assert st0.stat == 0.0 and math.isnan(st0.scaling_factor)


@pytest.mark.parametrize("check_id", ["mlr.fit.hs", "mlr.fit.hs_missing"])
def test_analytic_observed_information_theta_matches_lavaan_hessian(check_id):
    pieces, _, _ = fit(INTERNALS[check_id][0])
    ref = refs("fiml_h1_extra")[check_id]["values"]
    info = F.information_observed_theta(
        pieces.pat, pieces.mu, pieces.sigma, pieces.delta,
        delta_fn=lambda th: pieces.model.delta(th)[pieces.sl], theta=pieces.theta,
        rows=pieces.sl)
    order = [pieces.model.keys.index(k) for k in ref["free"]]
    assert_close(np.linalg.inv(info)[np.ix_(order, order)], ref["inverted.information"], "cfa",
                 what="inverse of the analytic observed information")
    # without the second-derivative term it is lavaan's observed.information = "h1": different
    h1_type = F.information_observed_theta(pieces.pat, pieces.mu, pieces.sigma, pieces.delta,
                                           rows=pieces.sl)
    assert np.max(np.abs(h1_type - info)) > 1e-4


@pytest.mark.parametrize("name", ["hs_missing.ML.fiml", "bfi.ML.fiml"])
def test_fiml_loglik_is_maximised_at_lavaans_estimates(name):
    # maximise the casewise likelihood from perturbed estimates with the analytic gradient:
    # it returns to lavaan's FIML estimates (the estimator itself, without the engine)
    from scipy.optimize import minimize

    pieces, values, _ = fit(name)
    model, pat = pieces.model, pieces.pat
    n = pat.n

    def objective(th):
        mu, sigma = model.implied(th)
        ll = F.loglik(pat, mu, sigma)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(th)
        return -ll / n, -F.gradient_theta(pat, mu, sigma, model.delta(th)) / n

    start = pieces.theta * (1 + 0.05 * np.cos(np.arange(len(pieces.theta))))
    res = minimize(objective, start, jac=True, method="BFGS",
                   options={"gtol": 1e-9, "maxiter": 2000})
    expected = [values["parameterEstimates"][k]["est"] for k in model.keys]
    assert_close(res.x, expected, "cfa", what=f"{name} FIML estimates")
    assert_close(-res.fun * n, values["fitMeasures"]["logl"], "cfa", what=f"{name} logl")


def _shared(key: str, equal: tuple[str, ...]) -> bool:
    if "loadings" in equal and "=~" in key:
        return True
    return "intercepts" in equal and key.endswith("~1") and key[:-2] in HS_ITEMS


@pytest.mark.parametrize(("check_id", "equal"), [
    ("cfa.mg.configural.MLR", ()),
    ("cfa.mg.metric.MLR", ("loadings",)),
    ("cfa.mg.scalar.MLR", ("loadings", "intercepts")),
])
def test_multigroup_mlr_matches_lavaan(check_id, equal):
    # two groups (school): per-group H1 pieces, group fractions in trace.h0, sqrt(G) in RMSEA;
    # group.equal constraints as shared parameters (theta_g = K_g theta, lavaan's ceq.simple)
    values = refs("HolzingerSwineford1939")[check_id]["values"]
    fm = values["fitMeasures"]
    hs = data("HolzingerSwineford1939")
    schools = list(dict.fromkeys(hs["school"]))  # lavaan's group order: first appearance
    pieces, bases, names = [], [], []
    for g, school in enumerate(schools, start=1):
        pe = {k[: -len(f".g{g}")]: v for k, v in values["parameterEstimates"].items()
              if k.endswith(f".g{g}")}
        x = hs.loc[hs["school"] == school, HS_ITEMS].to_numpy(float)
        pc = lavaan_pieces({k: v["est"] for k, v in pe.items()},
                           {k: v["se"] for k, v in pe.items()}, HS_ITEMS, x,
                           meanstructure=True)
        pieces.append(pc)
        bases.append(F.independence_model(pc.pat))
        names.append([k if _shared(k, equal) else f"{k}.g{g}" for k in pc.model.keys])
    glob = list(dict.fromkeys(n for ns in names for n in ns))
    assert len(glob) == 2 * 54 - int(values["fitMeasures"]["df"])  # free after equalities
    ks = []
    for ns in names:
        k = np.zeros((len(ns), len(glob)))
        k[np.arange(len(ns)), [glob.index(n) for n in ns]] = 1.0
        ks.append(k)
    n_g = np.array([pc.pat.n for pc in pieces], dtype=float)
    n, fg = n_g.sum(), n_g / n_g.sum()
    e = sum(f * k.T @ pc.information @ k for f, k, pc in zip(fg, ks, pieces, strict=True))
    b0 = [k.T @ pc.first_order @ k for k, pc in zip(ks, pieces, strict=True)]
    a1 = [F.information_observed(pc.pat, pc.h1.mu, pc.h1.sigma) for pc in pieces]
    b1 = [F.information_firstorder(pc.pat, pc.h1.mu, pc.h1.sigma) for pc in pieces]
    chisq = sum(pc.chisq for pc in pieces)
    df = int(fm["df"])
    scaled = R.yuan_bentler_mplus(chisq, df, a1=a1, b1=b1, b0=b0, e_inv=np.linalg.inv(e),
                                  group_fractions=fg, npar=values["npar"])
    assert_close(chisq, fm["chisq"], "cfa", what="chisq")
    assert_close(scaled.stat, fm["chisq.scaled"], "mlr", what="chisq.scaled")
    assert_close(scaled.scaling_factor_h1, fm["scaling.factor.h1"], "mlr", what="sf.h1")
    assert_close(scaled.scaling_factor_h0, fm["scaling.factor.h0"], "mlr", what="sf.h0")
    vcov = R.sandwich_vcov(e, sum(f * m for f, m in zip(fg, b0, strict=True)), int(n))
    se = np.sqrt(np.diag(vcov))
    for g, pc in enumerate(pieces, start=1):
        got = [se[glob.index(nm)] for nm in names[g - 1]]
        expected = [values["parameterEstimates"][f"{k}.g{g}"]["se"] for k in pc.model.keys]
        assert_close(got, expected, "mlr", what=f"se group {g}")
    # baseline: independence model per group (never constrained)
    qb = [b.npar for b in bases]
    offs = np.concatenate([[0], np.cumsum(qb)])
    kb = []
    for g in range(len(bases)):
        k = np.zeros((qb[g], offs[-1]))
        k[:, offs[g]:offs[g + 1]] = np.eye(qb[g])
        kb.append(k)
    eb = sum(f * k.T @ b.information_observed(pc.pat.n) @ k
             for f, k, b, pc in zip(fg, kb, bases, pieces, strict=True))
    b0b = [k.T @ b.delta().T @ F.information_firstorder(pc.pat, b.mu, b.sigma) @ b.delta() @ k
           for k, b, pc in zip(kb, bases, pieces, strict=True)]
    bchisq = sum(2 * (pc.h1.loglik - b.loglik) for b, pc in zip(bases, pieces, strict=True))
    bdf = sum(b.df for b in bases)
    bscaled = R.yuan_bentler_mplus(bchisq, bdf, a1=a1, b1=b1, b0=b0b, e_inv=np.linalg.inv(eb),
                                   group_fractions=fg)
    out = R.scaled_fit_measures(chisq=chisq, df=df, baseline_chisq=bchisq, baseline_df=bdf,
                                n=int(n), scaled=scaled, baseline_scaled=bscaled, groups=2)
    for key, value in out.items():
        rkey = key.replace("_", ".")
        kind = "mlr" if ("scaled" in key or "robust" in key) else "cfa"
        if "pvalue" in key:
            assert_pvalue(value, fm[rkey], kind, what=rkey)
        else:
            assert_close(value, fm[rkey], kind, what=rkey)


def test_fiml_discrepancy_adapter_scale_gradient_and_minimum():
    from scipy.optimize import minimize

    from tests._toy_cfa import EngineLike

    pieces, values, _ = fit("hs_missing.ML.fiml")
    model = EngineLike(pieces.model)
    disc = F.FIMLDiscrepancy(model, pieces.pat, h1=pieces.h1)
    fm = values["fitMeasures"]
    f, g, h, _ = disc.pieces(pieces.theta)
    assert_close(f / 2, fm["fmin"], "cfa", what="fmin = F/2")
    assert_close(disc.n * f, fm["chisq"], "cfa", what="chisq = N F")
    assert np.max(np.abs(g)) < 1e-4  # lavaan's estimates are (nearly) stationary
    num = np.array([(disc.value(pieces.theta + e) - disc.value(pieces.theta - e)) / 2e-6
                    for e in np.eye(len(pieces.theta)) * 1e-6])
    np.testing.assert_allclose(g, num, atol=1e-7)
    np.testing.assert_allclose(F.model_delta(model, pieces.theta), pieces.delta, atol=1e-12)
    # H is twice the complete-data expected information at the implied moments
    x_complete = F.missing_patterns(np.zeros((1, 9)))
    expected = pieces.delta.T @ F.information_expected(x_complete, pieces.mu, pieces.sigma) \
        @ pieces.delta
    np.testing.assert_allclose(h, 2 * expected, rtol=1e-10, atol=1e-12)
    res = minimize(lambda x: disc.pieces(x, hessian=False)[:2], pieces.theta * 1.03, jac=True,
                   method="BFGS", options={"gtol": 1e-10})
    assert_close(res.x, pieces.theta, "cfa", what="minimum of F")


def test_compare_reads_fit_measures_of_fitted_models():
    import types

    from psychoval.stats.sem._lrt import compare

    ref = refs("HolzingerSwineford1939")
    lrt = ref["lrt.invariance.school.MLR"]["values"]
    fits = []
    for s in ("scalar", "configural", "metric"):  # any order
        fm = {k.replace(".", "_"): v
              for k, v in ref[f"cfa.mg.{s}.MLR"]["values"]["fitMeasures"].items()}
        fits.append(types.SimpleNamespace(fit_measures=fm, converged=True, n_groups=2))
    res = compare(*fits, names=["fit_scalar_mlr", "fit_configural_mlr", "fit_metric_mlr"])
    _assert_lrt(res, lrt)
    with pytest.raises(SpecificationError, match="names has 1 entries for 3 models"):
        compare(*fits, names=["a"])
    with pytest.raises(SpecificationError, match="x is not a fitted model"):
        compare(fits[0], object(), names=["a", "x"])
    bad = types.SimpleNamespace(fit_measures=fits[0].fit_measures, converged=False, n_groups=2)
    with pytest.warns(PsychovalWarning, match="model_2 did not converge"):
        compare(fits[1], bad)


def test_observed_information_theta_with_vjp_equals_delta_fn():
    pieces, _, _ = fit("hs_missing.ML.fiml")
    kw = dict(theta=pieces.theta, rows=pieces.sl)
    a = F.information_observed_theta(pieces.pat, pieces.mu, pieces.sigma, pieces.delta,
                                     delta_fn=lambda t: pieces.model.delta(t), **kw)
    b = F.information_observed_theta(pieces.pat, pieces.mu, pieces.sigma, pieces.delta,
                                     vjp_fn=lambda t, g: pieces.model.delta(t).T @ g, **kw)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="theta is needed"):
        F.information_observed_theta(pieces.pat, pieces.mu, pieces.sigma, pieces.delta,
                                     vjp_fn=lambda t, g: g)


@pytest.mark.parametrize("check_id", ["mlr.fit.hs"])
def test_gamma_matches_lavaan(check_id):
    # complete data only: under missing = "ml" lavTech(fit, "gamma") is a model-based ADF
    # matrix from lav_object_gamma that lavaan's robust computations do not use (they use
    # Wm^-1 Jm Wm^-1, as gamma() here); the FIML value is asserted through chisq.scaled and
    # the robust indices instead
    pieces, _, _ = fit(INTERNALS[check_id][0])
    pat, h1, sl = pieces.pat, pieces.h1, pieces.sl
    a1 = F.information_observed(pat, h1.mu, h1.sigma)
    b1 = F.information_firstorder(pat, h1.mu, h1.sigma)
    g = R.gamma(a1, b1)[sl, sl]  # complete data without a mean structure: the vech block
    assert_close(g, refs("fiml_h1_extra")[check_id]["values"]["gamma"], "cfa",
                 what=f"{check_id} Gamma")


@pytest.mark.parametrize("kw", [{}, {"group": "school", "group_equal": ["loadings", "intercepts"]},
                                {"std_lv": True, "group": "school"}],
                         ids=["one_group", "scalar_two_groups", "std_lv_two_groups"])
def test_observed_information_second_term_is_the_differences(monkeypatch, kw):
    """The closed-form Hessian of m(x)'g (Block.hvp) that the observed information of ML /
    MLR fits uses equals central differences of Delta(x)'g."""
    import psychoval as pv
    from psychoval.stats.sem import _engine as eng
    from tests.reference import _refs

    real = eng.Block.hvp
    gaps = []

    def spy(self, x, g):
        got = real(self, x, g)
        q, h = len(x), 1e-4
        num = np.column_stack([(self.vjp(x + e, g) - self.vjp(x - e, g)) / (2 * h)
                               for e in np.eye(q) * h])
        gaps.append(float(np.abs(got - num).max() / max(1.0, np.abs(num).max())))
        return got

    monkeypatch.setattr(eng.Block, "hvp", spy)
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    pv.cfa(model, _refs.load_data("HolzingerSwineford1939"), estimator="MLR", **kw)
    assert gaps and max(gaps) < 1e-9
