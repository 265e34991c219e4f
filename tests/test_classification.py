"""pv.classification (issue 20, section 2): classification accuracy and consistency at cut
scores by Livingston-Lewis, Hanson-Brennan, Rudner and Lee, and pv.conditional_sem.

Checks: closed forms (effective test length and Lord's k at KR-21, true-score moments of
exact beta-binomial distributions, the four-parameter beta moment fit); the quadrature of the
beta methods against scipy.integrate.quad; the Lord-Wingersky recursion against enumeration of
every response pattern; recovery of simulated truth (seeded; Monte Carlo intervals stated at
each check); properties (tables sum to one, a cut below every score classifies everyone alike,
rescaling the score scale changes nothing); errors.

R references (tests/reference/r/decisions.R -> ref_extra/decisions.json): cacIRT 1.4's
documented class.Lee / class.Rud examples and Lee on 3PL and graded items (to 1e-8), and
betafunctions 1.9.0's documented HB.CA example and LL.CA.MC (its cells integrated by R's
stats::integrate: "r_integrate" tolerance). No published worked example from the papers could
be checked: Livingston & Lewis (1995), Hanson & Brennan (1990) and Lee (2010) report numbers
for operational data that are not public.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.decisions._irtprob import category_probabilities, summed_score_distribution
from psychoval.stats.decisions._truescore import (
    BetaModel,
    effective_length,
    error_pmf,
    fit_beta,
    level_nodes,
    lords_k,
    true_moments,
)
from tests._tolerances import assert_close

# numpy numerics behind a thin pandas layer: run in the main CI pass only (the pandas 2.2
# pass skips slow tests), to keep CI short
pytestmark = pytest.mark.slow

REF = json.loads((Path(__file__).parent / "reference" / "ref_extra" / "decisions.json")
                 .read_text())


def _level(x, cuts):
    return np.searchsorted(np.asarray(cuts, dtype=float), x, side="right")


# ---------------------------------------------------------------------------------------
# closed forms


def test_effective_length_and_lords_k_at_kr21():
    # with reliability = KR-21 the effective length is the number of items and Lord's k is 0
    n, mu, var = 25, 15.3, 17.2
    kr21 = n / (n - 1) * (1 - mu * (n - mu) / (n * var))
    assert effective_length(mu, var, 0, n, kr21) == pytest.approx(n, rel=1e-12)
    assert lords_k(mu, var, n, kr21) == pytest.approx(0.0, abs=1e-10)
    # a higher reliability (KR-20 > KR-21 when difficulties vary) gives k > 0
    assert lords_k(mu, var, n, kr21 + 0.03) > 0


@pytest.mark.parametrize(("a", "b"), [(2.0, 3.0), (6.0, 4.0), (0.7, 1.5)])
def test_true_moments_of_exact_beta_binomial(a, b):
    # P(X = x) of the beta-binomial; its true proportion is Beta(a, b): raw moments exact
    n = 20
    x = np.arange(n + 1)
    pmf = stats.betabinom.pmf(x, n, a, b)
    m = true_moments(x, n, 0.0, weights=pmf)
    exact = [stats.beta.moment(r, a, b) for r in range(1, 5)]
    np.testing.assert_allclose(m, exact, rtol=1e-10)


def test_true_moments_with_lords_k_invert_the_two_term_model():
    # observed distribution built from the two-term compound binomial at k = 1.5 over a
    # four-parameter beta; the moment equations with the same k give back the beta's moments
    model = BetaModel(3.0, 2.0, 0.2, 0.9, "4P")
    n, k = 30, 1.5
    tau, w, _ = level_nodes(model, np.array([]), per_level=400)
    pmf = w @ error_pmf(tau, n, k)
    m = true_moments(np.arange(n + 1), n, k, weights=pmf)
    raw = [w @ tau ** r for r in range(1, 5)]
    np.testing.assert_allclose(m, raw, rtol=1e-9)


def test_four_parameter_beta_fit_recovers_parameters():
    a, b, lo, hi = 4.0, 2.5, 0.15, 0.85
    z = [stats.beta.moment(r, a, b) for r in range(1, 5)]
    # raw moments of lo + (hi - lo) Z
    c = hi - lo
    m = [sum(math.comb(r, j) * lo ** (r - j) * c ** j * (z[j - 1] if j else 1.0)
             for j in range(r + 1)) for r in range(1, 5)]
    fit = fit_beta(np.array(m))
    assert fit.kind == "4P" and not fit.note
    np.testing.assert_allclose([fit.alpha, fit.beta, fit.l, fit.u], [a, b, lo, hi], rtol=1e-9)
    # the two-parameter model keeps mean and variance
    two = fit_beta(np.array(m), true_model="2P")
    mean, var = stats.beta.stats(two.alpha, two.beta, moments="mv")
    assert (two.l, two.u) == (0.0, 1.0)
    np.testing.assert_allclose([mean, var], [m[0], m[1] - m[0] ** 2], rtol=1e-12)


def test_two_term_pmf_sums_to_one_and_shrinks_the_variance():
    tau = np.array([0.3, 0.5, 0.8])
    n, k = 12, 2.0
    pmf = error_pmf(tau, n, k)
    x = np.arange(n + 1)
    np.testing.assert_allclose(pmf.sum(axis=1), 1.0, rtol=1e-13)
    np.testing.assert_allclose(pmf @ x, n * tau, rtol=1e-12)
    var = pmf @ x ** 2 - (pmf @ x) ** 2
    np.testing.assert_allclose(var, (n - 2 * k) * tau * (1 - tau), rtol=1e-12)


def test_error_pmf_is_exact_at_the_ends():
    pmf = error_pmf(np.array([0.0, 1.0, 1e-300]), 5)
    np.testing.assert_array_equal(pmf[0], [1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(pmf[1], [0, 0, 0, 0, 0, 1])
    assert pmf[2, 0] == 1.0
    np.testing.assert_allclose(error_pmf(np.array([0.37]), 9)[0],
                               stats.binom.pmf(np.arange(10), 9, 0.37), rtol=1e-12)


def test_hostile_inputs_found_by_fuzzing():
    # a large Lord's k makes the two-term probabilities negative: clipped, rescaled, said
    x = np.array([0.0] + [4.0] * 26)
    res = pv.classification(x, [2, 9, 11], method="hanson_brennan", reliability=0.972,
                            n_items=13)
    assert any("set to 0" in n for n in res.notes)
    assert 0 <= res.p_a <= 1 and 0 <= res.p_c <= 1
    assert (res.accuracy_table.to_numpy() >= 0).all()
    # three items identify only two true-score moments
    short = pv.classification(np.array([0, 1, 2, 3, 2, 1, 2, 3, 3, 1.0]), [2],
                              method="hanson_brennan", n_items=3, reliability=0.6)
    assert short.parameters["true_model"] == "2P" and "below 4" in short.notes[0]
    # scores piled at both ends with a low reliability: no usable beta
    with pytest.raises(DataError, match="degenerate|no beta"):
        pv.classification(np.array([0.0, 28.0] * 20), [7, 25], method="hanson_brennan",
                          n_items=28, reliability=0.07)


def test_quadrature_matches_adaptive_integration():
    # the accuracy and consistency integrals of the beta methods, by scipy.integrate.quad
    model = BetaModel(3.5, 2.2, 0.1, 0.95, "4P")
    n, k = 25, 0.8
    cuts_p = np.array([0.45, 0.7])
    obs_cut = np.ceil(cuts_p * n)
    tau, w, tl = level_nodes(model, cuts_p)
    pmf = error_pmf(tau, n, k)
    bounds = np.concatenate([[0], obs_cut, [n + 1]]).astype(int)
    cum = np.concatenate([np.zeros((len(tau), 1)), np.cumsum(pmf, 1)], 1)
    obs = cum[:, bounds[1:]] - cum[:, bounds[:-1]]

    def dens(t):
        return stats.beta.pdf((t - model.l) / (model.u - model.l), model.alpha, model.beta) / (
            model.u - model.l)

    def p_level(t, o):
        p = error_pmf(np.array([t]), n, k)[0]
        return p[bounds[o]:bounds[o + 1]].sum()

    edges = np.concatenate([[model.l], cuts_p, [model.u]])
    for t in range(3):
        for o in range(3):
            ref = integrate.quad(lambda u, o=o: dens(u) * p_level(u, o), edges[t],
                                 edges[t + 1], epsabs=1e-13, epsrel=1e-11)[0]
            got = np.sum(w[tl == t] * obs[tl == t, o])
            assert got == pytest.approx(ref, abs=1e-9), (t, o)
    for i, j in [(0, 0), (0, 1), (1, 2), (2, 2)]:
        ref = integrate.quad(lambda u, i=i, j=j: dens(u) * p_level(u, i) * p_level(u, j),
                             model.l, model.u, epsabs=1e-13, epsrel=1e-11, limit=200)[0]
        assert np.sum(w * obs[:, i] * obs[:, j]) == pytest.approx(ref, abs=1e-9)


# ---------------------------------------------------------------------------------------
# R references: cacIRT 1.4 and betafunctions 1.9.0


def _marginal(res):
    """cacIRT's Marginal matrix: each cut (accuracy, consistency), then "Simultaneous"."""
    rows = list(zip(res.cut_table["accuracy"], res.cut_table["consistency"], strict=True))
    return np.array(rows + [(res.p_a, res.p_c)])


def _ref_marginal(case):
    return np.array([[m["accuracy"], m["consistency"]] for m in case["marginal"]])


def test_lee_against_cacirt_3pl_and_graded():
    e = REF["lee_3pl"]
    res = pv.classification(e["nodes"], e["cuts"], method="lee", weights=e["weights"], D=e["D"],
                            item_params={"a": e["a"], "b": e["b"], "c": e["c"]})
    assert_close(_marginal(res), _ref_marginal(e), "closed_form", what="class.Lee 3PL")
    g = REF["lee_graded"]  # Lee.poly.P: equal weights over the abilities given
    res = pv.classification(g["theta"], g["cuts"], method="lee", D=g["D"],
                            item_params={"a": g["a"], "thresholds": g["thresholds"]})
    assert_close(_marginal(res), _ref_marginal(g), "closed_form", what="Lee.poly.P graded")


def test_lee_against_cacirt_documented_example():
    # ?class.Lee: class.Lee(c(2, 3), params, quadrature = normal.qu(40), D = 1). cacIRT's
    # Lee.D computes the summed-score distribution with recursive.raw's default D = 1.7 whatever
    # D says (the true score uses D = 1): pv.classification with D = 1 differs (by .07), and the
    # same mixture built from our pieces reproduces cacIRT's numbers exactly.
    e = REF["lee_example"]
    ip = {"a": e["a"], "b": e["b"], "c": e["c"]}
    nodes, w = np.array(e["nodes"]), np.array(e["weights"])
    dist = summed_score_distribution(category_probabilities(nodes, ip, D=1.7))
    tau = category_probabilities(nodes, ip, D=1.0)[:, :, 1].sum(1)
    for cut, ref in zip(e["cuts"], e["marginal"], strict=False):
        up = dist[:, math.ceil(cut):].sum(1)
        acc = w @ np.where(tau >= cut, up, 1 - up)
        con = w @ (up ** 2 + (1 - up) ** 2)
        assert_close([acc, con], [ref["accuracy"], ref["consistency"]], "closed_form",
                     what=f"class.Lee example, cut {cut}")
    ours = pv.classification(nodes, e["cuts"], method="lee", weights=w, item_params=ip, D=1.0)
    assert abs(ours.p_a - e["marginal"][-1]["accuracy"]) > 0.05


def test_rudner_against_cacirt_documented_example():
    # ?class.Rud: class.Rud(c(-.5, 1.5), params, quadrature = normal.qu(40), D = 1); the SEs
    # are cacIRT's own (its SEM() at D = 1.7), passed as se=
    e = REF["rudner_example"]
    res = pv.classification(e["nodes"], e["cuts"], method="rudner", weights=e["weights"],
                            se=e["se"])
    assert_close(_marginal(res), _ref_marginal(e), "closed_form", what="class.Rud example")


def test_hanson_brennan_against_betafunctions_documented_example():
    # ?HB.CA: 1,000 people, 20 items, cut 10, reliability = cba(rawdata)
    e = REF["hanson_brennan"]
    res = pv.classification(e["scores"], [e["cut"]], method="hanson_brennan",
                            n_items=e["n_items"], reliability=e["reliability"])
    p = res.parameters
    assert_close([p["beta_alpha"], p["beta_beta"], p["beta_l"], p["beta_u"], p["lord_k"]],
                 [e["parameters"][k] for k in ("alpha", "beta", "l", "u", "k")], "closed_form",
                 what="HB.CA parameters (Lords.k, HB.tsm, Beta.4p.fit)")
    assert_close([res.p_a, res.p_c, res.kappa], [e["accuracy"], e["consistency"], e["kappa"]],
                 "r_integrate", what="HB.CA accuracy, consistency p, Kappa")


def test_livingston_lewis_against_betafunctions():
    # LL.CA.MC on its documented example's kind of data, five cuts where the effective length
    # times the cut's proportion is an integer (there its rounding and our ceiling agree)
    e = REF["livingston_lewis"]
    res = pv.classification(e["scores"], e["cuts"], reliability=e["reliability"],
                            score_range=e["score_range"])
    p = res.parameters
    assert_close(p["effective_test_length"], e["etl"], "closed_form", what="ETL")
    assert p["effective_test_length_rounded"] == e["etl_rounded"]
    assert_close([p["beta_alpha"], p["beta_beta"], p["beta_l"], p["beta_u"]],
                 [e["parameters"][k] for k in ("alpha", "beta", "l", "u")], "closed_form",
                 what="Beta.tp.fit parameters")
    assert_close([res.p_a, res.p_c, res.kappa], [e["accuracy"], e["consistency"], e["kappa"]],
                 "r_integrate", what="LL.CA.MC overall")
    assert_close(res.level_table["accuracy"], e["level_accuracy"], "r_integrate",
                 what="LL.CA.MC sensitivity by category")
    assert_close(res.level_table["consistency"], e["level_consistency"], "r_integrate",
                 what="LL.CA.MC consistency p by category")


# ---------------------------------------------------------------------------------------
# recovery by simulation


@pytest.fixture(scope="module")
def binomial_test():
    """40,000 people, 20 equally difficult items (the beta-binomial model holds), true
    proportions from a four-parameter beta, two independent forms."""
    rng = np.random.default_rng(20261207)
    n_people, n = 40_000, 20
    tau = 0.15 + 0.7 * rng.beta(6, 4, n_people)
    form1 = (rng.random((n_people, n)) < tau[:, None]).astype(float)
    form2 = rng.binomial(n, tau)
    return tau, form1, form2, n


def _empirical(tau, x1, x2, n, cuts):
    true = _level(n * tau, cuts)
    o1, o2 = _level(x1, cuts), _level(x2, cuts)
    return float(np.mean(true == o1)), float(np.mean(o1 == o2))


@pytest.mark.parametrize("method", ["livingston_lewis", "hanson_brennan"])
def test_beta_methods_recover_simulated_truth(binomial_test, method):
    tau, form1, form2, n = binomial_test
    cuts = [10, 14]
    p_a, p_c = _empirical(tau, form1.sum(1), form2, n, cuts)
    res = pv.classification(form1, cuts, method=method)
    # Monte Carlo: an empirical proportion near .7 with N = 40,000 has SE .0023; the estimate
    # from one sample varies about as much: tolerance .012 is about 3.7 combined SEs
    assert res.p_a == pytest.approx(p_a, abs=0.012)
    assert res.p_c == pytest.approx(p_c, abs=0.012)
    for k, cut in enumerate(cuts):
        true_hi = n * tau >= cut
        obs_hi = form1.sum(1) >= cut
        row = res.cut_table.iloc[k]
        assert row["accuracy"] == pytest.approx(np.mean(true_hi == obs_hi), abs=0.01)
        assert row["consistency"] == pytest.approx(np.mean(obs_hi == (form2 >= cut)), abs=0.01)
        assert row["false_positive"] == pytest.approx(np.mean(~true_hi & obs_hi), abs=0.008)
        assert row["false_negative"] == pytest.approx(np.mean(true_hi & ~obs_hi), abs=0.008)
    assert res.parameters["reliability_source"] == "KR-20 of the items"
    obs_share = np.bincount(_level(form1.sum(1), cuts), minlength=3) / len(tau)
    np.testing.assert_allclose(res.level_table["observed_proportion"], obs_share, atol=0.01)


def test_hanson_brennan_with_unequal_difficulties():
    # items differ in difficulty: the error is compound binomial; Lord's k from KR-20 > 0
    rng = np.random.default_rng(7)
    n_people, n = 40_000, 25
    theta = rng.normal(size=n_people)
    b = np.linspace(-1.5, 1.5, n)
    prob = 1 / (1 + np.exp(-(theta[:, None] - b)))
    f1 = (rng.random(prob.shape) < prob).astype(float)
    f2 = (rng.random(prob.shape) < prob).sum(1)
    tau = prob.mean(1)
    cuts = [13]
    p_a, p_c = _empirical(tau, f1.sum(1), f2, n, cuts)
    res = pv.classification(f1, cuts, method="hanson_brennan")
    assert res.parameters["lord_k"] > 0
    # the beta true-score model is an approximation here: tolerance .015 (MC SE .0022)
    assert res.p_a == pytest.approx(p_a, abs=0.015)
    assert res.p_c == pytest.approx(p_c, abs=0.015)


def test_rudner_recovers_truth_when_its_model_holds():
    # Rudner's model: the true ability is normal around the estimate with its SE
    rng = np.random.default_rng(11)
    n_people = 200_000
    est = rng.normal(size=n_people)
    se = 0.25 + 0.1 * np.abs(est)
    cuts = [-0.6, 0.9]
    true = est + se * rng.normal(size=n_people)
    rep1, rep2 = est + se * rng.normal(size=n_people), est + se * rng.normal(size=n_people)
    res = pv.classification(est, cuts, method="rudner", se=se)
    # MC SE of the empirical proportions about .001: tolerance .005
    assert res.p_a == pytest.approx(np.mean(_level(true, cuts) == _level(est, cuts)), abs=0.005)
    assert res.p_c == pytest.approx(np.mean(_level(rep1, cuts) == _level(rep2, cuts)),
                                    abs=0.005)
    assert res.cut_table["csem"].iloc[0] == pytest.approx(0.25 + 0.1 * 0.6, abs=1e-3)


def _two_pl(rng, n_items=15):
    a = rng.uniform(0.8, 2.0, n_items)
    b = rng.normal(0, 1, n_items)
    return a, b


def test_lee_recovers_simulated_truth():
    rng = np.random.default_rng(3)
    a, b = _two_pl(rng)
    n_people = 60_000
    theta = rng.normal(size=n_people)
    p = 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    x1 = (rng.random(p.shape) < p).sum(1)
    x2 = (rng.random(p.shape) < p).sum(1)
    tau = p.sum(1)
    cuts = [5, 10]
    # the true level jumps where the expected score crosses a cut, so accuracy needs a fine
    # grid (Gauss-Hermite with 61 nodes puts ~.03 of the weight on one node near a cut)
    nodes = np.linspace(-6, 6, 1201)
    w = stats.norm.pdf(nodes)
    res = pv.classification(nodes, cuts, method="lee", weights=w,
                            item_params={"a": a, "b": b})
    # MC SE of the empirical proportions about .002: tolerance .008
    assert res.p_a == pytest.approx(np.mean(_level(tau, cuts) == _level(x1, cuts)), abs=0.008)
    assert res.p_c == pytest.approx(np.mean(_level(x1, cuts) == _level(x2, cuts)), abs=0.008)
    # the same from the category probabilities given directly
    probs = category_probabilities(nodes, {"a": a, "b": b})
    again = pv.classification(probs, cuts, method="lee", weights=w)
    assert again.p_a == pytest.approx(res.p_a, rel=1e-14)
    np.testing.assert_allclose(again.consistency_table, res.consistency_table, rtol=1e-13)


# ---------------------------------------------------------------------------------------
# Lord-Wingersky against enumeration


def _enumerate(probs):
    """P(X = x | node) by summing over every response pattern (slow, direct)."""
    q, j, c = probs.shape
    cats = [int(np.max(np.nonzero(probs[:, i].any(0))[0])) + 1 for i in range(j)]
    out = np.zeros((q, sum(cats) - j + 1))
    for pattern in itertools.product(*[range(m) for m in cats]):
        pr = np.ones(q)
        for i, cat in enumerate(pattern):
            pr = pr * probs[:, i, cat]
        out[:, sum(pattern)] += pr
    return out


def test_lord_wingersky_matches_enumeration_dichotomous():
    rng = np.random.default_rng(5)
    theta = np.linspace(-3, 3, 7)
    probs = category_probabilities(theta, {"a": rng.uniform(.5, 2, 6), "b": rng.normal(size=6),
                                           "c": [0.2, 0, 0.1, 0, 0, 0.25]})
    np.testing.assert_allclose(summed_score_distribution(probs), _enumerate(probs),
                               rtol=1e-12, atol=1e-15)


def test_lord_wingersky_matches_enumeration_graded():
    rng = np.random.default_rng(6)
    theta = np.linspace(-2, 2, 5)
    thr = np.array([[-1.0, 0.0, 1.2], [-0.5, 0.7, np.nan], [0.2, np.nan, np.nan],
                    [-1.5, -0.2, 0.4]])
    probs = category_probabilities(theta, {"a": rng.uniform(.7, 1.8, 4), "thresholds": thr},
                                   D=1.702)
    np.testing.assert_allclose(probs.sum(axis=2), 1.0, rtol=1e-14)
    dist = summed_score_distribution(probs)
    assert dist.shape[1] == 3 + 2 + 1 + 3 + 1
    np.testing.assert_allclose(dist, _enumerate(probs), rtol=1e-12, atol=1e-15)


def test_graded_probabilities_by_hand():
    p = category_probabilities(np.array([0.3]), {"a": [1.4], "thresholds": [[-0.5, 0.8]]})[0, 0]

    def star(b):
        return 1 / (1 + math.exp(-1.4 * (0.3 - b)))
    np.testing.assert_allclose(p, [1 - star(-0.5), star(-0.5) - star(0.8), star(0.8)],
                               rtol=1e-14)


# ---------------------------------------------------------------------------------------
# properties


def _check_tables(res):
    acc = res.accuracy_table.to_numpy()
    con = res.consistency_table.to_numpy()
    assert acc.sum() == pytest.approx(1.0, abs=1e-12)
    assert con.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(con, con.T, atol=1e-15)
    assert res.p_a == pytest.approx(np.trace(acc), abs=1e-14)
    assert res.p_c == pytest.approx(np.trace(con), abs=1e-14)
    assert -1 <= res.kappa <= 1 or math.isnan(res.kappa)
    np.testing.assert_allclose(res.level_table["true_proportion"], acc.sum(1), atol=1e-14)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(8, 40), st.floats(0.55, 0.95),
       st.sampled_from(["livingston_lewis", "hanson_brennan"]))
def test_cut_at_the_bottom_classifies_everyone_alike(seed, n, rel, method):
    rng = np.random.default_rng(seed)
    x = rng.binomial(n, rng.beta(4, 2, 300))
    if x.var() == 0:
        return
    kw = {"score_range": (0, n)} if method == "livingston_lewis" else {"n_items": n}
    try:
        res = pv.classification(x, [0], method=method, reliability=rel, **kw)
    except DataError:  # a reliability these scores cannot have (no beta true scores)
        return
    assert res.p_a == pytest.approx(1.0, abs=1e-12)
    assert res.p_c == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(res.kappa)
    _check_tables(res)
    two = pv.classification(x, [n // 3, 2 * n // 3], method=method, reliability=rel, **kw)
    _check_tables(two)
    # more levels can only lower agreement
    one = pv.classification(x, [n // 3], method=method, reliability=rel, **kw)
    assert two.p_c <= one.p_c + 1e-12 and two.p_a <= one.p_a + 1e-12


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.5, 4.0), st.floats(-20, 20))
def test_livingston_lewis_ignores_a_linear_change_of_scale(seed, scale, shift):
    rng = np.random.default_rng(seed)
    x = rng.binomial(30, 0.1 + 0.8 * rng.beta(3, 2, 500)).astype(float)
    a = pv.classification(x, [12, 20], reliability=0.8, score_range=(0, 30))
    b = pv.classification(x * scale + shift, [12 * scale + shift, 20 * scale + shift],
                          reliability=0.8, score_range=(shift, 30 * scale + shift))
    assert b.p_a == pytest.approx(a.p_a, rel=1e-9)
    assert b.p_c == pytest.approx(a.p_c, rel=1e-9)
    assert b.cut_table["csem"].iloc[0] == pytest.approx(scale * a.cut_table["csem"].iloc[0],
                                                        rel=1e-9)
    perm = rng.permutation(len(x))
    c = pv.classification(x[perm], [12, 20], reliability=0.8, score_range=(0, 30))
    assert c.p_c == pytest.approx(a.p_c, rel=1e-12)


def test_rudner_and_lee_tables():
    rng = np.random.default_rng(2)
    r = pv.classification(rng.normal(size=500), [-1, 0, 1], method="rudner", se=0.4)
    _check_tables(r)
    # a cut far below every estimate: everyone is above it, surely
    far = pv.classification(rng.normal(size=50), [-40], method="rudner", se=0.4)
    assert far.p_a == 1.0 and far.p_c == 1.0
    nodes, w = np.polynomial.hermite_e.hermegauss(41)
    a, b = _two_pl(rng, 10)
    lee = pv.classification(nodes, [3, 7], method="lee", weights=w,
                            item_params={"a": a, "b": b})
    _check_tables(lee)
    # conditional SEM at a cut: SD of the summed score where the expected score is the cut
    grid = np.linspace(-4, 4, 4001)
    probs = category_probabilities(grid, {"a": a, "b": b})
    tau = probs[:, :, 1].sum(1)
    i = np.argmin(np.abs(tau - 3))
    sd = np.sqrt((probs[i, :, 1] * probs[i, :, 0]).sum())
    assert lee.cut_table["csem"].iloc[0] == pytest.approx(sd, abs=2e-3)


def test_result_face_and_missing_scores():
    x = np.array([3, 5, np.nan, 8, 9, 10, 4, 6, 7, np.nan, 12, 2], dtype=float)
    res = pv.classification(x, [6], method="hanson_brennan", n_items=12, reliability=0.7)
    assert (res.n_total, res.n_used, res.rows_dropped) == (12, 10, (2, 9))
    assert res.sample.n_dropped == 2
    frame = res.to_frame()
    assert frame["decision"].tolist() == ["overall", "cut 6"]
    assert frame.loc[0, "accuracy"] == res.p_a
    assert "Hanson & Brennan" in str(res.summary())
    assert res.to_dict()["schema"] == "psychoval.classification/1"
    with pytest.raises(DataError, match="missing at row 2"):
        pv.classification(x, [6], method="hanson_brennan", n_items=12, reliability=0.7,
                          missing="raise")
    lab = pv.classification(x, [6], method="hanson_brennan", n_items=12, reliability=0.7,
                            labels=["fail", "pass"])
    assert list(lab.accuracy_table.index) == ["fail", "pass"]


def test_errors_name_the_fix():
    x = np.arange(20) % 11
    with pytest.raises(SpecificationError, match="method="):
        pv.classification(x, [5], method="bayes")
    with pytest.raises(SpecificationError, match="strictly increasing"):
        pv.classification(x, [5, 3], reliability=0.8, score_range=(0, 10))
    with pytest.raises(SpecificationError, match="score_range="):
        pv.classification(x, [5], reliability=0.8)
    with pytest.raises(SpecificationError, match="reliability= is needed"):
        pv.classification(x, [5], score_range=(0, 10))
    with pytest.raises(SpecificationError, match="between 0 and 1"):
        pv.classification(x, [5], score_range=(0, 10), reliability=1.2)
    with pytest.raises(DataError, match="outside score_range"):
        pv.classification(x, [5], score_range=(0, 8), reliability=0.8)
    with pytest.raises(SpecificationError, match="n_items="):
        pv.classification(x, [5], method="hanson_brennan", reliability=0.8)
    with pytest.raises(DataError, match="number-correct"):
        pv.classification(x + 0.5, [5], method="hanson_brennan", reliability=0.8, n_items=12)
    with pytest.raises(DataError, match="right \\(1\\) or wrong \\(0\\)"):
        pv.classification(np.full((5, 3), 2.0), [1], method="hanson_brennan")
    with pytest.raises(SpecificationError, match="se="):
        pv.classification(x, [5], method="rudner")
    with pytest.raises(DataError, match="standard errors finite and positive"):
        pv.classification([0.1, 0.2], [0], method="rudner", se=[0.3, 0.0])
    with pytest.raises(DataError, match="3-d array"):
        pv.classification(np.ones((3, 2)), [1], method="lee")
    with pytest.raises(DataError, match="sum to 1"):
        pv.classification(np.full((2, 2, 2), 0.4), [1], method="lee")
    with pytest.raises(SpecificationError, match="increasing"):
        pv.classification([0.0], [1], method="lee", item_params={"a": [1], "thresholds": [[1, 0]]})
    with pytest.raises(SpecificationError, match="cut 12 is outside the score range"):
        pv.classification(x, [5, 12], score_range=(0, 10), reliability=0.8)
    with pytest.raises(SpecificationError, match="mean item scale"):
        pv.classification(x, [-1], method="hanson_brennan", reliability=0.8, n_items=12)
    with pytest.raises(SpecificationError, match="summed-score range 0..2"):
        pv.classification([0.0, 1.0], [3], method="lee", item_params={"a": [1, 1], "b": [0, 1]})
    with pytest.raises(SpecificationError, match="n_items= is not used by method='livingston"):
        pv.classification(x, [5], score_range=(0, 10), reliability=0.8, n_items=10)
    with pytest.raises(SpecificationError, match="se= is not used"):
        pv.classification(x, [5], method="hanson_brennan", n_items=12, reliability=0.8, se=1)
    with pytest.raises(SpecificationError, match="labels="):
        pv.classification(x, [5], score_range=(0, 10), reliability=0.8, labels=["a"])
    with pytest.raises(DataError, match="effective test length is"):
        pv.classification(np.array([0, 10] * 10), [5], score_range=(0, 10), reliability=0.3)
    with pytest.raises(DataError, match="no beta true-score distribution"):
        pv.classification(x, [5], score_range=(0, 10), reliability=0.02)


# ---------------------------------------------------------------------------------------
# conditional SEM


def test_conditional_sem_lord_and_keats():
    rng = np.random.default_rng(8)
    n = 15
    items = (rng.random((3000, n)) < 1 / (1 + np.exp(-(rng.normal(size=(3000, 1))
                                                      - np.linspace(-1, 1, n))))).astype(float)
    res = pv.conditional_sem(items, at=[7.5, 10])
    x = items.sum(1)
    assert res.kr21 == pytest.approx(pv.kr21(items, variance="sample").estimate, rel=1e-10)
    assert res.reliability == pytest.approx(pv.kr20(items).estimate, rel=1e-10)
    lord = np.sqrt(np.arange(n + 1) * (n - np.arange(n + 1)) / (n - 1))
    np.testing.assert_allclose(res.table["csem_lord"], lord, rtol=1e-14)
    factor = math.sqrt((1 - res.reliability) / (1 - res.kr21))
    np.testing.assert_allclose(res.table["csem_keats"], lord * factor, rtol=1e-14)
    assert res.at["csem_lord"].iloc[0] == pytest.approx(math.sqrt(7.5 * 7.5 / 14), rel=1e-14)
    assert res.table["n_observed"].sum() == len(x)
    # Keats' CSEMs average (in squares, over the people) to the error variance of the
    # reliability used, up to the n / (n - 1) of the variance's divisor
    err = float(np.mean((lord * factor)[x.astype(int)] ** 2))
    assert err == pytest.approx(x.var(ddof=1) * (1 - res.reliability), rel=2e-3)
    with pytest.raises(SpecificationError, match="n_items="):
        pv.conditional_sem(None)
    with pytest.raises(SpecificationError, match="within 0..15"):
        pv.conditional_sem(items, at=[16])


def test_frames_and_series_are_accepted():
    rng = np.random.default_rng(9)
    p = rng.beta(5, 3, size=(400, 1))
    items = pd.DataFrame((rng.random((400, 10)) < p).astype(float),
                         columns=[f"q{i}" for i in range(10)])
    a = pv.classification(items, [6], method="livingston_lewis")
    b = pv.classification(items.sum(axis=1), [6], reliability=a.parameters["reliability"],
                          score_range=(0, 10))
    assert a.p_c == pytest.approx(b.p_c, rel=1e-12)
    c = pv.classification(items.sum(axis=1).to_frame(), [6],
                          reliability=a.parameters["reliability"], score_range=(0, 10))
    assert c.p_a == pytest.approx(b.p_a, rel=1e-12)
