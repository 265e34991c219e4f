"""pv.irt (issue 20): IRT by marginal ML against LSAT-6's published ltm results, a second
implementation (direct maximisation of the marginal likelihood with scipy, written apart
from the EM code), simulation recovery, psychotools / eRm conditional-ML references, and the
person scores and information against their formulas."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy.special import expit

import psychoval as pv
from psychoval.exceptions import (
    ConvergenceWarning,
    DataError,
    ImproperSolutionWarning,
    SpecificationError,
)
from psychoval.stats.irt import _data, _estimate
from tests._tolerances import assert_close

# numpy numerics behind a thin pandas layer: run in the main CI pass only (the pandas 2.2
# pass skips slow tests), to keep CI short
pytestmark = pytest.mark.slow

# LSAT-6 (Bock & Lieberman, 1970; ltm's LSAT): frequencies of the 32 response patterns of
# 5 items in the order of itertools.product([0, 1], repeat=5) (00000, 00001, ..., 11111)
LSAT_FREQ = [3, 6, 2, 11, 1, 1, 3, 4, 1, 8, 0, 16, 0, 3, 2, 15, 10, 29, 14, 81, 3, 28, 15, 80,
             16, 56, 21, 173, 11, 61, 28, 298]


def lsat() -> np.ndarray:
    assert sum(LSAT_FREQ) == 1000
    return np.repeat(np.array(list(itertools.product([0, 1], repeat=5))), LSAT_FREQ, axis=0)


GH21 = {"quadrature": "gauss_hermite", "quadpts": 21}  # ltm's rasch() default (GHk = 21)


# -- LSAT-6: ltm's published numbers ------------------------------------------------------
def test_lsat_reconstruction():
    x = lsat()
    assert x.shape == (1000, 5)
    # item proportions correct of LSAT section 6 (Bock & Lieberman 1970, Table 1)
    np.testing.assert_array_equal(x.sum(axis=0), [924, 709, 553, 763, 870])


def test_lsat_1pl_ltm_rasch():
    # ltm: rasch(LSAT): logLik -2466.938, Dffclt -3.615 -1.322 -0.318 -1.730 -2.780,
    # Dscrmn .755 (GHk = 21)
    res = pv.irt(lsat(), model="1PL", **GH21)
    assert res.converged
    assert_close(res.loglik, -2466.938, "irt_published_loglik")
    p = res.parameters
    assert_close(p["b"].to_numpy(), [-3.615, -1.322, -0.318, -1.730, -2.780],
                 "irt_published", what="1PL difficulties")
    assert_close(p["a"].to_numpy(), [0.755] * 5, "irt_published", what="common slope")
    # the Rasch parameterization is the same likelihood: slope 1, variance = .755^2
    ras = pv.irt(lsat(), model="Rasch", **GH21)
    assert ras.loglik == pytest.approx(res.loglik, abs=1e-7)
    var = ras.estimates.query("item == 'theta'")["est"].iloc[0]
    assert var == pytest.approx(p["a"].iloc[0] ** 2, rel=1e-6)
    np.testing.assert_allclose(ras.parameters["b"], p["b"] * p["a"], rtol=1e-6)


def test_lsat_rasch_slope_fixed_at_one():
    # ltm: rasch(LSAT, constraint = cbind(6, 1)): logLik -2473.054, Dffclt -2.872 -1.063
    # -0.258 -1.388 -2.219 with SEs .129 .082 .077 .086 .105
    res = pv.irt(lsat(), model="1PL", slope=1.0, **GH21)
    assert_close(res.loglik, -2473.054, "irt_published_loglik")
    p = res.estimates.query("parameter == 'b'")
    assert_close(p["est"].to_numpy(), [-2.872, -1.063, -0.258, -1.388, -2.219], "irt_published")
    assert_close(p["se"].to_numpy(), [0.129, 0.082, 0.077, 0.086, 0.105], "irt_published")
    assert res.estimates.query("parameter == 'a'")["se"].isna().all()  # fixed: no SE


def test_lsat_2pl_ltm():
    # ltm: ltm(LSAT ~ z1): logLik -2466.653, Dscrmn .826 .723 .891 .688 .657 (also at
    # GHk = 15, ltm()'s default; the LSAT slopes are small, so 15 to 61 points agree to 1e-7)
    for quad in (GH21, {"quadrature": "gauss_hermite", "quadpts": 15}, {}):
        res = pv.irt(lsat(), model="2PL", **quad)
        assert_close(res.loglik, -2466.653, "irt_published_loglik")
        assert_close(res.parameters["a"].to_numpy(), [0.826, 0.723, 0.891, 0.688, 0.657],
                     "irt_published", what=str(quad))


# -- the second implementation: direct maximisation of the marginal likelihood ------------
def _gh(q=21):
    x, w = np.polynomial.hermite_e.hermegauss(q)
    return x, w / w.sum()


def _direct_probs(model, par, theta, ncat):
    """P(X = k | theta) per item in the IRT parameterization, written independently:
    2PL/3PL a(theta - b); GRM cumulative a(theta - b_k); GPCM sum_v a(theta - b_v)."""
    out = []
    pos = 0
    for k in ncat:
        if model == "2PL":
            a, b = par[pos:pos + 2]
            pos += 2
            p1 = expit(a * (theta - b))
            out.append(np.stack([1 - p1, p1], axis=1))
        elif model == "3PL":
            a, b, lg = par[pos:pos + 3]
            pos += 3
            c = expit(lg)
            p1 = c + (1 - c) * expit(a * (theta - b))
            out.append(np.stack([1 - p1, p1], axis=1))
        elif model == "GRM":
            a, bs = par[pos], np.sort(par[pos + 1:pos + k])
            pos += k
            cum = [np.ones_like(theta)] + [expit(a * (theta - b)) for b in bs] \
                + [np.zeros_like(theta)]
            out.append(np.stack([cum[i] - cum[i + 1] for i in range(k)], axis=1))
        else:  # GPCM
            a, bs = par[pos], par[pos + 1:pos + k]
            pos += k
            num = np.stack([np.exp(sum(a * (theta - bs[v]) for v in range(c)))
                            if c else np.ones_like(theta) for c in range(k)], axis=1)
            out.append(num / num.sum(axis=1, keepdims=True))
    return out


def _direct_loglik(model, par, x, ncat, q=21):
    nodes, w = _gh(q)
    probs = _direct_probs(model, par, nodes, ncat)
    like = np.ones((x.shape[0], nodes.size))
    for j, pj in enumerate(probs):
        col = x[:, j]
        ok = ~np.isnan(col)
        like[ok] *= pj[:, col[ok].astype(int)].T
    return float(np.sum(np.log(like @ w)))


def _direct_fit(model, x, ncat, start, prior=None):
    def fun(p):
        val = _direct_loglik(model, p, x, ncat)
        if prior is not None:  # Beta(alpha, beta) on each guessing parameter c = expit(lg)
            c = expit(p[2::3])
            val += np.sum((prior[0] - 1) * np.log(c) + (prior[1] - 1) * np.log1p(-c))
        return -val

    res = optimize.minimize(fun, start, method="BFGS", options={"gtol": 1e-7, "maxiter": 5000})
    res = optimize.minimize(fun, res.x, method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000})
    return res.x, _direct_loglik(model, res.x, x, ncat)


def _simulate(model, n, a, bs, rng, c=None):
    theta = rng.standard_normal(n)
    cols = []
    for j in range(len(a)):
        if model in ("2PL", "3PL"):
            p = expit(a[j] * (theta - bs[j]))
            if c is not None:
                p = c[j] + (1 - c[j]) * p
            cols.append((rng.random(n) < p).astype(float))
        else:
            p = _direct_probs(model, np.r_[a[j], bs[j]], theta, [len(bs[j]) + 1])[0]
            u = rng.random(n)[:, None]
            cols.append((u > np.cumsum(p, axis=1)).sum(axis=1).astype(float))
    return np.column_stack(cols)


def _ours_irt_vector(model, res):
    p = res.parameters
    out = []
    for item in res.items:
        row = p.loc[item]
        if model == "2PL":
            out += [row["a"], row["b"]]
        elif model == "3PL":
            out += [row["a"], row["b"], math.log(row["c"] / (1 - row["c"]))]
        else:
            bs = [row[f"b{v}"] for v in range(1, 10) if f"b{v}" in row.index
                  and not np.isnan(row[f"b{v}"])]
            out += [row["a"], *bs]
    return np.asarray(out)


@pytest.mark.parametrize("model", ["2PL", "3PL", "GRM", "GPCM"])
def test_second_implementation(model):
    rng = np.random.default_rng(20)
    n, k = 500 if model != "3PL" else 1500, 4
    a = [1.2, 0.8, 1.5, 1.0] if model != "3PL" else [1.8, 1.5, 2.0, 1.6]
    if model in ("2PL", "3PL"):
        bs = [-0.5, 0.3, 0.0, 0.8]
        x = _simulate(model, n, a, bs, rng, c=[0.2] * k if model == "3PL" else None)
        ncat = [2] * k
        start = np.ravel([[1.0, 0.0] + ([-1.5] if model == "3PL" else []) for _ in range(k)])
    else:
        bs = [[-1.0, 0.0, 1.0], [-0.5, 0.5, 1.2], [-1.5, -0.2, 0.7], [-0.8, 0.4, 1.5]]
        x = _simulate(model, n, a, bs, rng)
        ncat = [4] * k
        start = np.ravel([[1.0, -1.0, 0.0, 1.0] for _ in range(k)])
    x[rng.random(x.shape) < 0.05] = np.nan  # missing at random: out of the likelihood
    # the 3PL with a Beta(5, 17) prior on guessing (a posterior mode; the plain 3PL on four
    # items runs guessing parameters to 0): both sides maximise the log-likelihood + log prior
    prior = (5.0, 17.0) if model == "3PL" else None
    ref, ref_ll = _direct_fit(model, x, ncat, start, prior)
    res = pv.irt(x, model=model, se="none", guessing_prior=prior, **GH21)
    assert res.converged
    assert res.loglik == pytest.approx(ref_ll, abs=1e-6)
    np.testing.assert_allclose(_ours_irt_vector(model, res), ref, atol=1e-4)


@pytest.mark.parametrize("model", ["2PL", "GRM"])
def test_recovery_n5000(model):
    rng = np.random.default_rng(5000)
    k = 8
    a = rng.uniform(0.7, 2.0, k)
    if model == "2PL":
        bs = rng.uniform(-1.5, 1.5, k)
        x = _simulate(model, 5000, a, bs, rng)
        truth = {("b", j): bs[j] for j in range(k)}
    else:
        bs = np.sort(rng.uniform(-2, 2, (k, 4)), axis=1)
        x = _simulate(model, 5000, a, bs, rng)
        truth = {(f"b{v + 1}", j): bs[j, v] for j in range(k) for v in range(4)}
    truth.update({("a", j): a[j] for j in range(k)})
    res = pv.irt(x, model=model)
    est = res.estimates.set_index(["item", "parameter"])
    zs = [(est.loc[(f"item{j + 1}", p), "est"] - t) / est.loc[(f"item{j + 1}", p), "se"]
          for (p, j), t in truth.items()]
    assert np.max(np.abs(zs)) < 4.0
    assert 0.4 < np.std(zs) < 1.6  # SEs of the right size


# -- the estimator's pieces -----------------------------------------------------------------
def _problem(x, model="2PL"):
    res = pv.irt(x, model=model, se="none", **GH21)
    coded = _data.code_responses(x, items=None, model=model)
    return res, coded


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    x = _simulate("GRM", 300, [1.0, 1.4, 0.7], [[-1, 0, 1], [-0.5, 0.4, 1.1], [-1, 0.2, 1]],
                  rng)
    for kind, model in (("grm", "GRM"), ("gpcm", "GPCM")):
        coded = _data.code_responses(x, items=None, model=model)
        pats, w, _ = _data.patterns(coded.codes)
        y, off = _data.indicators(pats, np.array([4, 4, 4]))
        nodes, wts = _estimate.quadrature("gauss_hermite", 21)
        cols = off[:, None] + np.arange(4)[None, :]
        block = _estimate.Block(kind, 4, np.arange(3), cols, np.arange(12).reshape(3, 4))
        prob = _estimate.Problem([block], np.eye(12), np.zeros(12), y, w, nodes, np.log(wts))
        phi = np.tile([1.1, 1.0, 0.1, -0.9], 3)
        _, g = _estimate.gradient(prob, phi)
        num = np.array([(_estimate.estep(prob, phi + e)[0] - _estimate.estep(prob, phi - e)[0])
                        / 2e-6 for e in np.eye(12) * 1e-6])
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-5)


def test_collapsed_patterns_equal_rows():
    x = lsat()
    coded = _data.code_responses(x, items=None, model="2PL")
    nodes, wts = _estimate.quadrature("equally_spaced", 61)
    cols = np.arange(10).reshape(5, 2)
    block = _estimate.Block("gpcm", 2, np.arange(5), cols, np.arange(10).reshape(5, 2))
    pats, w, _ = _data.patterns(coded.codes)
    y, _ = _data.indicators(pats, np.full(5, 2))
    yr, _ = _data.indicators(coded.codes, np.full(5, 2))
    phi = np.tile([0.8, 1.0], 5)
    a = _estimate.Problem([block], np.eye(10), np.zeros(10), y, w, nodes, np.log(wts))
    b = _estimate.Problem([block], np.eye(10), np.zeros(10), yr, np.ones(1000), nodes,
                          np.log(wts))
    assert len(w) == 30 and w.sum() == 1000
    la, ga = _estimate.gradient(a, phi)
    lb, gb = _estimate.gradient(b, phi)
    assert la == pytest.approx(lb, rel=1e-12)
    np.testing.assert_allclose(ga, gb, rtol=1e-10)


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 2 ** 32 - 1))
def test_respondent_order_does_not_matter(seed):
    x = lsat()
    perm = np.random.default_rng(seed).permutation(1000)
    a = pv.irt(x, se="none", **GH21)
    b = pv.irt(x[perm], se="none", **GH21)
    assert a.loglik == pytest.approx(b.loglik, abs=1e-9)
    np.testing.assert_allclose(a.estimates["est"], b.estimates["est"], atol=1e-8)


def test_observed_information_standard_errors():
    # observed-information SEs against the inverse of a finite-difference Hessian of the
    # marginal log-likelihood in the reported (a, b) parameterization
    x = lsat()
    res = pv.irt(x, model="2PL", **GH21)
    par = _ours_irt_vector("2PL", res)
    f = lambda p: _direct_loglik("2PL", p, x.astype(float), [2] * 5)  # noqa: E731
    h = np.empty((10, 10))
    eps = 1e-4
    for i in range(10):
        for j in range(10):
            ei, ej = np.eye(10)[i] * eps, np.eye(10)[j] * eps
            h[i, j] = (f(par + ei + ej) - f(par + ei - ej) - f(par - ei + ej)
                       + f(par - ei - ej)) / (4 * eps * eps)
    se = np.sqrt(np.diag(np.linalg.inv(-h)))
    ours = res.estimates.set_index(["item", "parameter"])["se"]
    mine = np.ravel([[ours[(i, "a")], ours[(i, "b")]] for i in res.items])
    np.testing.assert_allclose(mine, se, rtol=2e-4)


# -- missing data, rows dropped, errors ----------------------------------------------------
def test_missing_rows_dropped_and_recorded():
    x = lsat().astype(float)
    x[[5, 17], :] = np.nan
    x[40, 2] = np.nan
    res = pv.irt(pd.DataFrame(x, columns=list("ABCDE")), se="none")
    assert (res.n_total, res.n_used, res.rows_dropped) == (1000, 998, (5, 17))
    assert res.sample.n_dropped == 2
    sc = res.scores()
    assert sc.loc[5, "note"] == "no responses" and np.isnan(sc.loc[5, "theta"])
    assert np.isfinite(sc.loc[40, "theta"])


def test_errors_name_the_item_and_the_fix():
    x = pd.DataFrame(lsat(), columns=list("ABCDE"))
    x["F"] = 1
    with pytest.raises(DataError, match=r"item 'F': every respondent who answered it gave 1"):
        pv.irt(x)
    y = x.drop(columns="F")
    y.loc[0, "B"] = 2
    with pytest.raises(DataError, match=r"item 'B' has the response 2.*'GRM'"):
        pv.irt(y)
    with pytest.raises(SpecificationError, match="model="):
        pv.irt(lsat(), model="4PL")
    with pytest.raises(SpecificationError, match="slope="):
        pv.irt(lsat(), model="2PL", slope=1.0)


def test_runaway_slope_stops_and_warns():
    rng = np.random.default_rng(7)
    x = _simulate("2PL", 2000, [1.0] * 5, [-0.5, 0.0, 0.5, 0.2, -0.2], rng)
    x = np.column_stack([x, x[:, 4]])  # an exact copy: its slope runs to infinity
    with pytest.warns(ConvergenceWarning), pytest.warns(ImproperSolutionWarning,
                                                        match="item6|item5"):
        res = pv.irt(x, se="none")
    assert not res.converged


def test_non_convergence_warns_and_is_recorded():
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = pv.irt(lsat(), max_iter=3, se="none")
    assert not res.converged


# -- scores and information ------------------------------------------------------------------
def test_scores_against_formulas():
    x = lsat()
    res = pv.irt(x, model="2PL", **GH21)
    p = res.parameters
    a, b = p["a"].to_numpy(), p["b"].to_numpy()
    nodes, w = _gh(21)
    pr = expit(a[None, :] * (nodes[:, None] - b[None, :]))
    pat = np.array([1, 0, 1, 1, 0])
    like = np.prod(np.where(pat == 1, pr, 1 - pr), axis=1) * w
    post = like / like.sum()
    eap = post @ nodes
    row = int(np.flatnonzero((x == pat).all(axis=1))[0])
    sc = res.scores()
    assert sc.loc[row, "theta"] == pytest.approx(eap, abs=1e-10)
    assert sc.loc[row, "se"] == pytest.approx(math.sqrt(post @ nodes ** 2 - eap ** 2), abs=1e-10)
    # ML: the root of sum a_j (x_j - P_j); SE 1 / sqrt(sum a^2 P Q) (the 2PL's observed and
    # expected information agree)
    ml = res.scores(method="ML")
    t = ml.loc[row, "theta"]
    pj = expit(a * (t - b))
    assert np.sum(a * (pat - pj)) == pytest.approx(0, abs=1e-8)
    assert ml.loc[row, "se"] == pytest.approx(1 / math.sqrt(np.sum(a * a * pj * (1 - pj))),
                                              rel=1e-6)
    ones = int(np.flatnonzero(x.sum(axis=1) == 5)[0])
    zeros = int(np.flatnonzero(x.sum(axis=1) == 0)[0])
    assert np.isnan(ml.loc[ones, "theta"]) and "+infinity" in ml.loc[ones, "note"]
    assert np.isnan(ml.loc[zeros, "theta"]) and "-infinity" in ml.loc[zeros, "note"]
    # MAP: sum a (x - P) = theta
    mp = res.scores(method="MAP")
    t = mp.loc[row, "theta"]
    pj = expit(a * (t - b))
    assert np.sum(a * (pat - pj)) == pytest.approx(t, abs=1e-8)
    # new data scored alike
    again = res.scores(pd.DataFrame(x[[row]], columns=res.items), method="EAP")
    assert again["theta"].iloc[0] == pytest.approx(eap, abs=1e-10)


def test_information_and_sem():
    res = pv.irt(lsat(), model="2PL", se="none")
    p = res.parameters
    th = np.array([-2.0, 0.0, 1.5])
    pr = expit(p["a"].to_numpy()[None, :] * (th[:, None] - p["b"].to_numpy()[None, :]))
    info = p["a"].to_numpy() ** 2 * pr * (1 - pr)
    got = res.information(th)
    np.testing.assert_allclose(got[list(res.items)].to_numpy(), info, rtol=1e-10)
    np.testing.assert_allclose(got["test"], info.sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(res.sem(th), 1 / np.sqrt(info.sum(axis=1)), rtol=1e-10)


def test_polytomous_information_is_positive_and_rasch_scale():
    rng = np.random.default_rng(8)
    x = _simulate("GPCM", 800, [1.0] * 4, [[-1, 0, 1]] * 4, rng)
    pcm = pv.irt(x, model="PCM", se="none")
    gpcm = pv.irt(x, model="GPCM", se="none")
    assert pcm.loglik <= gpcm.loglik + 1e-8
    assert (pcm.information(np.linspace(-3, 3, 7))["test"] > 0).all()
    # PCM scores are on the Rasch scale: sd of EAPs below the latent sd
    sd = math.sqrt(pcm.estimates.query("item == 'theta'")["est"].iloc[0])
    assert 0.5 * sd < pcm.scores()["theta"].std() < sd


def test_result_face():
    res = pv.irt(lsat(), model="GRM")  # GRM with two categories is the 2PL
    two = pv.irt(lsat(), model="2PL")
    assert res.loglik == pytest.approx(two.loglik, abs=1e-8)
    assert "IRTResult" in repr(res) and "loglik" in repr(res)
    text = str(res.summary())
    assert "Item parameters" in text and "Quadrature" in text
    assert "<table>" in res._repr_html_()
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["schema"] == "psychoval.irt/1" and d["model"] == "GRM"
    assert list(res.to_frame().columns) == ["item", "parameter", "est", "se", "z"]


# -- conditional ML against psychotools and eRm (tests/reference/r/irt.R) --------------------
def _ref(check):
    from tests.reference._refs import extra_checks

    return extra_checks("irt")[check]["values"]


def _ref_data(name):
    from tests.reference._refs import extra_data

    return extra_data(f"irt_{name}")


@pytest.mark.parametrize("name,check", [("concepts", "sample.concepts"), ("ability", "ability")])
def test_cml_rasch_psychotools_erm(name, check):
    d = _ref_data(name)
    res = pv.irt(d, model="Rasch", method="CML")
    assert res.converged and res.method == "CML"
    ref = _ref(f"{check}.raschmodel")
    assert res.n_parameters == ref["df"]
    assert_close(res.loglik, ref["loglik"], "irt_cml_loglik", what="conditional loglik")
    assert_close(res.estimates["est"].to_numpy(), ref["b"], "irt_cml_psychotools",
                 what="itempar")
    assert_close(res.estimates["se"].to_numpy(), ref["b_se"], "irt_cml_psychotools",
                 what="itempar SE")
    b = res.estimates["est"].to_numpy()
    assert_close(b[1:] - b[0], ref["coef"], "irt_cml_psychotools", what="coef (item 1 = 0)")
    # the estimator's own parameters are psychotools' coef (the first item at 0): vcov
    assert_close(np.sqrt(np.diag(res._cov)), ref["coef_se"], "irt_cml_psychotools",
                 what="coef SE")
    erm = _ref(f"{check}.eRm_RM")
    assert_close(res.loglik, erm["loglik"], "irt_cml_erm", what="eRm loglik")
    assert_close(b, erm["b"], "irt_cml_erm", what="eRm -betapar")
    assert_close(res.estimates["se"].to_numpy(), erm["b_se"], "irt_cml_erm", what="eRm SE")


def test_cml_pcm_psychotools_erm():
    d = _ref_data("prompting")
    res = pv.irt(d, model="PCM", method="CML")
    ref = _ref("sample.prompting.pcmodel")
    assert res.n_parameters == ref["df"]
    assert_close(res.loglik, ref["loglik"], "irt_cml_loglik")
    assert_close(res.estimates["est"].to_numpy(), ref["thresholds"], "irt_cml_psychotools")
    assert_close(res.estimates["se"].to_numpy(), ref["thresholds_se"], "irt_cml_psychotools")
    # coef: cumulative thresholds eta_jx with the first threshold of the first item at 0
    # (moving every threshold by c moves eta_jx by x c)
    first = res.estimates["est"].iloc[0]
    eta = np.concatenate([np.cumsum(g.to_numpy() - first) for _, g in
                          res.estimates.groupby("item", sort=False)["est"]])
    assert_close(eta[1:], ref["coef"], "irt_cml_psychotools", what="coef")
    assert_close(np.sqrt(np.diag(res._cov)), ref["coef_se"], "irt_cml_psychotools",
                 what="coef SE")
    assert_close(res.loglik, _ref("sample.prompting.eRm_PCM")["loglik"], "irt_cml_erm")
    # ML person scores work without a latent distribution; EAP needs one
    sc = res.scores(method="ML")
    assert sc["theta"].notna().sum() > 0.9 * len(sc)
    with pytest.raises(SpecificationError, match="latent distribution"):
        res.scores(method="EAP")


def test_cml_and_mml_rasch_agree_roughly():
    # the same model by two estimators: difficulties (centred) within a few SEs
    d = _ref_data("concepts")
    cml = pv.irt(d, model="Rasch", method="CML")
    mml = pv.irt(d, model="Rasch")
    b = mml.parameters["b"].to_numpy()
    np.testing.assert_allclose(b - b.mean(), cml.estimates["est"], atol=0.05)
    with pytest.raises(SpecificationError, match="CML"):
        pv.irt(d, model="2PL", method="CML")


@pytest.mark.parametrize("kind", ["gpcm", "grm"])
def test_crossproduct_of_pattern_scores(kind):
    # the closed-form (GPCM) and general (GRM) pattern scores against finite differences of
    # each pattern's marginal log-likelihood, with missing responses
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (400, 4)).astype(float)
    x[rng.random(x.shape) < 0.1] = np.nan
    coded = _data.code_responses(x, items=None, model="GPCM")
    pats, w, _ = _data.patterns(coded.codes)
    y, off = _data.indicators(pats, np.full(4, 3))
    nodes, wts = _estimate.quadrature("equally_spaced", 21)
    block = _estimate.Block(kind, 3, np.arange(4), off[:, None] + np.arange(3),
                            np.arange(12).reshape(4, 3))
    prob = _estimate.Problem([block], np.eye(12), np.zeros(12), y, w, nodes, np.log(wts))
    phi = np.tile([1.2, 0.3, -0.2], 4)
    _, _, post = _estimate.estep(prob, phi, posterior=True)
    xpd = _estimate.crossproduct(prob, phi, post)

    def pattern_ll(ph):
        return np.log(np.exp(y @ prob.logp(ph).T) @ wts)

    s = np.array([(pattern_ll(phi + e) - pattern_ll(phi - e)) / 2e-6
                  for e in np.eye(12) * 1e-6]).T
    np.testing.assert_allclose(xpd, (s * w[:, None]).T @ s, rtol=1e-7, atol=1e-6)


# -- item fit ------------------------------------------------------------------------------
def test_lord_wingersky_against_enumeration():
    from psychoval.stats.irt import _itemfit

    rng = np.random.default_rng(4)
    probs = [rng.dirichlet(np.ones(k), size=5) for k in (2, 3, 3, 4)]  # 5 nodes
    f = _itemfit.lord_wingersky(probs)
    brute = np.zeros_like(f)
    for pat in itertools.product(*[range(p.shape[1]) for p in probs]):
        brute[:, sum(pat)] += np.prod([p[:, c] for p, c in zip(probs, pat, strict=True)],
                                      axis=0)
    np.testing.assert_allclose(f, brute, rtol=1e-13)


def test_s_x2_against_brute_force_expectations():
    rng = np.random.default_rng(11)
    x = _simulate("GRM", 3000, [1.2, 0.9, 1.5, 1.1],
                  [[-1, 0.5], [-0.5, 0.8], [-0.8, 0.2], [-1.2, 0.4]], rng)
    res = pv.irt(x, model="GRM", se="none", quadpts=31)
    fit = res.itemfit(min_expected=1e-9)  # no merging: every inner score its own group
    # brute force for item 1: P(X_1 = c | S = s) by enumerating the 81 patterns
    nodes, w = np.linspace(-6, 6, 31), np.exp(-0.5 * np.linspace(-6, 6, 31) ** 2)
    w = w / w.sum()
    par = [res.parameters.loc[i, ["a", "b1", "b2"]].to_numpy() for i in res.items]
    pr = [_direct_probs("GRM", p, nodes, [3])[0] for p in par]
    joint = np.zeros((9, 3))
    for pat in itertools.product(range(3), repeat=4):
        lik = np.prod([pr[j][:, c] for j, c in enumerate(pat)], axis=0) @ w
        joint[sum(pat), pat[0]] += lik
    exp = joint / joint.sum(axis=1, keepdims=True)
    s = x.sum(axis=1).astype(int)
    stat = 0.0
    for sc in range(1, 8):
        grp = x[s == sc, 0]
        obs = np.bincount(grp.astype(int), minlength=3) / grp.size
        ok = exp[sc] > 0  # item 1 cannot be 2 at score 1, nor 0 at score 7
        stat += grp.size * np.sum((obs[ok] - exp[sc][ok]) ** 2 / exp[sc][ok])
    row = fit.iloc[0]
    assert row["groups"] == 7 and row["df"] == (1 + 5 * 2 + 1) - 3
    assert row["s_x2"] == pytest.approx(stat, rel=1e-8)


def test_s_x2_and_q3_under_the_model_and_against_misfit():
    rng = np.random.default_rng(12)
    k, n = 10, 4000
    a = rng.uniform(0.8, 1.8, k)
    b = rng.uniform(-1.5, 1.5, k)
    theta = rng.standard_normal(n)
    z = a * (theta[:, None] - b)
    z[:, 8:] += 1.5 * rng.standard_normal(n)[:, None]  # items 9 and 10 share a nuisance
    p = expit(z)
    p[:, 0] = 0.35 + 0.65 * expit(2.5 * (theta - 1.0))  # item 1: a guessing floor
    x = (rng.random((n, k)) < p).astype(float)
    res = pv.irt(x, model="2PL", se="none")
    fit = res.itemfit().set_index("item")
    assert fit.loc["item1", "pvalue"] < 0.01  # an item off the model (guessing) is flagged
    q = res.q3()
    off_q = q.where(~np.eye(k, dtype=bool))
    assert off_q.stack().idxmax() in (("item9", "item10"), ("item10", "item9"))
    assert q.loc["item9", "item10"] > 0.05  # the baseline is about -1/(k - 1) = -.11
    others = fit.drop(index=["item1", "item9", "item10"])
    assert 0.4 < (others["s_x2"] / others["df"]).mean() < 1.6  # about df under the model
    off = q.to_numpy()[np.triu_indices(k, 1)]
    assert abs(np.median(off) - (-1 / (k - 1))) < 0.05
    with pytest.raises(SpecificationError, match="MML"):
        pv.irt(_ref_data("concepts"), model="Rasch", method="CML").itemfit()


def test_scoring_new_data_rejects_unknown_categories():
    res = pv.irt(lsat(), se="none")
    for bad in (2.0, 0.5, -1.0):
        y = lsat()[:3].astype(float)
        y[1, 2] = bad
        with pytest.raises(DataError, match=rf"item 'item3' has the response {bad:g} at row 1"):
            res.scores(y)


def test_cml_result_face():
    res = pv.irt(_ref_data("concepts"), model="Rasch", method="CML")
    text = str(res.summary())
    assert "CML" in text and "conditional" in text and "Latent distribution" not in text
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["method"] == "CML" and d["quadrature"] == "none (conditional ML)"
    assert res.se_method == "observed"


def test_probabilities_and_expected_scores():
    """Category probabilities sum to 1 per item; a 2PL item's expected score is
    logistic(a theta + d) from its reported parameters; the GRM expected score is the sum of
    category value x probability."""
    res = pv.irt(pd.DataFrame(lsat(), columns=[f"i{j}" for j in range(1, 6)]), model="2PL")
    th = np.linspace(-3, 3, 7)
    pr = res.probabilities(th)
    np.testing.assert_allclose(pr.T.groupby(level="item").sum().T.to_numpy(), 1.0, atol=1e-12)
    ex = res.expected_scores(th)
    par = res.parameters
    for item in par.index:
        want = 1 / (1 + np.exp(-(par.loc[item, "a"] * th + par.loc[item, "d"])))
        np.testing.assert_allclose(ex[item].to_numpy(), want, rtol=1e-10)
    np.testing.assert_allclose(ex["test"], ex.drop(columns="test").sum(axis=1), rtol=1e-12)
    rng = np.random.default_rng(2)
    grm = pv.irt(pd.DataFrame(rng.integers(1, 5, size=(300, 3)), columns=list("abc")),
                 model="GRM")
    p = grm.probabilities([0.5])
    vals = p.columns.get_level_values("category").to_numpy(float)
    items = p.columns.get_level_values("item")
    for item in "abc":
        sel = np.asarray(items == item)
        assert grm.expected_scores([0.5])[item].iloc[0] == pytest.approx(
            float((p.to_numpy()[0, sel] * vals[sel]).sum()))
    with pytest.raises(SpecificationError, match="theta must be finite"):
        res.probabilities([np.nan])


# M2 (Maydeu-Olivares & Joe): the Python mirt package 1.2.0 (bench-only, not a dependency)
# on LSAT-6 with 61 quadrature points and tol 1e-8: 2PL M2 4.738359 on 5 df (p .44864), the
# 1PL with the slope fixed at 1: 16.894878 on 10 df (p .07672). The residual gap (5e-6
# relative) is the two fits' stopping points.
MIRT_M2 = {"2PL": (4.738359275105401, 5, 0.44863809438771274),
           "1PL_slope1": (16.894877830112545, 10, 0.07672267029062481)}


@pytest.mark.parametrize("case", sorted(MIRT_M2))
def test_m2_on_lsat6_is_mirts(case):
    y = pd.DataFrame(lsat(), columns=[f"i{j}" for j in range(1, 6)])
    res = (pv.irt(y, model="2PL") if case == "2PL" else pv.irt(y, model="1PL", slope=1.0))
    m2 = res.m2()
    want, df, p = MIRT_M2[case]
    assert m2["df"] == df and m2["n"] == 1000
    assert m2["m2"] == pytest.approx(want, rel=1e-4)
    assert m2["pvalue"] == pytest.approx(p, rel=1e-4)
    assert m2["rmsea2"] == pytest.approx(np.sqrt(max(m2["m2"] - df, 0) / (1000 * df)))


def test_m2_equals_the_full_multinomial_computation():
    """A second implementation: the 2^n pattern probabilities by quadrature, Xi2 = T (D - p
    p') T' with T the 0/1 map from patterns to first and second margins, Delta by central
    differences of T p over the 2PL's (a, d), and M2 from the same formula."""
    rng = np.random.default_rng(11)
    n, n_items = 800, 4
    a = rng.uniform(0.8, 2.0, n_items)
    d = rng.normal(0, 0.8, n_items)
    th = rng.normal(size=n)
    y = (rng.random((n, n_items)) < 1 / (1 + np.exp(-(th[:, None] * a + d)))).astype(float)
    res = pv.irt(pd.DataFrame(y, columns=list("abcd")), model="2PL", quadrature="gauss_hermite",
                 quadpts=41)
    par = res.parameters
    nodes, w = np.polynomial.hermite_e.hermegauss(41)
    w = w / w.sum()
    pats = np.array(list(itertools.product([0, 1], repeat=n_items)), dtype=float)
    iu = np.triu_indices(n_items, 1)
    t_map = np.hstack([pats, pats[:, iu[0]] * pats[:, iu[1]]]).T

    def pattern_probs(theta_par):
        aa, dd = theta_par[:n_items], theta_par[n_items:]
        p = 1 / (1 + np.exp(-(nodes[:, None] * aa + dd)))
        lik = np.prod(np.where(pats[:, None, :] == 1, p[None], 1 - p[None]), axis=2)
        return lik @ w

    g = np.concatenate([par["a"].to_numpy(float), par["d"].to_numpy(float)])
    pp = pattern_probs(g)
    pi = t_map @ pp
    xi = t_map @ (np.diag(pp) - np.outer(pp, pp)) @ t_map.T
    delta = np.column_stack([(t_map @ pattern_probs(g + e) - t_map @ pattern_probs(g - e))
                             / 2e-6 for e in np.eye(g.size) * 1e-6])
    obs = np.concatenate([y.mean(axis=0), (y.T @ y / n)[iu]])
    xi_inv = np.linalg.inv(xi)
    c = xi_inv - xi_inv @ delta @ np.linalg.solve(delta.T @ xi_inv @ delta, delta.T @ xi_inv)
    want = n * (obs - pi) @ c @ (obs - pi)
    got = res.m2()
    assert got["df"] == 10 - 8
    assert got["m2"] == pytest.approx(want, rel=1e-6)


def test_m2_refuses_what_it_cannot_compute():
    rng = np.random.default_rng(4)
    grm = pv.irt(pd.DataFrame(rng.integers(1, 5, size=(300, 3)), columns=list("abc")),
                 model="GRM")
    with pytest.raises(NotImplementedError, match="polytomous"):
        grm.m2()
    y = pd.DataFrame(lsat(), columns=[f"i{j}" for j in range(1, 6)])
    with pytest.raises(SpecificationError, match="MML"):
        pv.irt(y, model="Rasch", method="CML").m2()
