"""``pv.alignment`` (issue 19: approximate invariance across many groups, Asparouhov & Muthen
2014).

There is no R reference: the method's R implementation (sirt's ``invariance.alignment``) has no
Debian package, and Mplus is closed. The checks are therefore: the loss against a plain-loop
second implementation and its gradient against finite differences; recovery of known factor
means and variances and of planted non-invariant parameters from seeded simulations; the aligned
means against the scalar model's latent means on invariant data; invariance to the order of
the groups; the configural fit equal to ``pv.invariance``'s (itself lavaan-exact, see
tests/test_invariance.py); and the errors.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

import psychoval as pv
from psychoval.datasets import load_holzinger_swineford
from psychoval.exceptions import DataError, SpecificationError, SpecificationWarning
from psychoval.stats.sem._alignment import align_factor, invariant_set, simplicity_loss
from tests._tolerances import assert_close

# numpy numerics behind a thin pandas layer: run in the main CI pass only (the pandas 2.2
# pass skips slow tests), to keep CI short
pytestmark = pytest.mark.slow

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    # the fits here are small matrices: a multi-threaded BLAS on a shared, loaded machine made
    # this file 5x slower (50 s against 10 s measured), a single thread never hurts
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _simulate(n_groups: int, n: int, p: int, seed: int, plant: bool):
    """One factor; group 0 has mean 0 and SD 1 (so FIXED alignment with it as reference
    estimates the true means and SDs directly). Planted: item y1's intercept +.6 in groups 3
    and 7, item y2's loading .3 instead of its .64 in group 5."""
    rng = np.random.default_rng(seed)
    lam = np.linspace(0.6, 0.9, p)
    nu = np.linspace(2.0, 3.0, p)
    means = np.r_[0.0, rng.normal(0, 0.4, n_groups - 1)]
    sds = np.r_[1.0, rng.uniform(0.8, 1.25, n_groups - 1)]
    frames = []
    for g in range(n_groups):
        lam_g, nu_g = lam.copy(), nu.copy()
        if plant and g in (3, 7):
            nu_g[0] += 0.6
        if plant and g == 5:
            lam_g[1] = 0.3
        eta = rng.normal(means[g], sds[g], n)
        x = nu_g + eta[:, None] * lam_g + rng.normal(0, 0.6, (n, p))
        d = pd.DataFrame(x, columns=[f"y{i + 1}" for i in range(p)])
        d["unit"] = f"u{g:02d}"
        frames.append(d)
    model = {"F": [f"y{i + 1}" for i in range(p)]}
    return pd.concat(frames, ignore_index=True), model, means, sds


@pytest.fixture(scope="module")
def planted():
    data, model, means, sds = _simulate(15, 500, 8, seed=1, plant=True)
    res = pv.alignment(model, data, group="unit", estimator="ML", missing="listwise")
    return res, means, sds


@pytest.fixture(scope="module")
def invariant():
    data, model, means, sds = _simulate(8, 400, 6, seed=7, plant=False)
    return data, model, means, sds


# -- the loss --------------------------------------------------------------------------------

def _loop_loss(lam0, nu0, alpha, logpsi, n, eps):
    """Asparouhov & Muthen's F written out with plain loops (the second implementation)."""
    g_count, i_count = lam0.shape
    total = 0.0
    for j in range(i_count):
        for g1 in range(g_count):
            for g2 in range(g1 + 1, g_count):
                w = math.sqrt(n[g1] * n[g2])
                l1 = lam0[g1, j] / math.sqrt(math.exp(logpsi[g1]))
                l2 = lam0[g2, j] / math.sqrt(math.exp(logpsi[g2]))
                v1 = nu0[g1, j] - alpha[g1] * l1
                v2 = nu0[g2, j] - alpha[g2] * l2
                total += w * math.sqrt(math.sqrt((l1 - l2) ** 2 + eps))
                total += w * math.sqrt(math.sqrt((v1 - v2) ** 2 + eps))
    return total


def _weights(n):
    w = np.sqrt(np.outer(n, n))
    np.fill_diagonal(w, 0.0)
    return w


@pytest.mark.parametrize("seed", range(5))
def test_loss_equals_a_plain_loop_implementation(seed):
    rng = np.random.default_rng(seed)
    g, i = rng.integers(2, 9), rng.integers(2, 7)
    lam0 = rng.uniform(0.3, 1.2, (g, i))
    nu0 = rng.normal(2, 1, (g, i))
    alpha, logpsi = rng.normal(0, 0.7, g), rng.normal(0, 0.4, g)
    n = rng.integers(30, 900, g).astype(float)
    eps = float(rng.choice([0.01, 0.001, 0.1]))
    got = simplicity_loss(lam0, nu0, alpha, logpsi, _weights(n), eps)
    want = _loop_loss(lam0, nu0, alpha, logpsi, n, eps)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_gradient_matches_finite_differences(seed):
    rng = np.random.default_rng(100 + seed)
    g, i = 6, 5
    lam0 = rng.uniform(0.3, 1.2, (g, i))
    nu0 = rng.normal(2, 1, (g, i))
    alpha, logpsi = rng.normal(0, 0.7, g), rng.normal(0, 0.4, g)
    w = _weights(rng.integers(30, 900, g).astype(float))
    _, da, dp = simplicity_loss(lam0, nu0, alpha, logpsi, w, 0.01, gradient=True)
    h = 1e-6
    for k in range(g):
        e = np.zeros(g)
        e[k] = h
        fd_a = (simplicity_loss(lam0, nu0, alpha + e, logpsi, w, 0.01)
                - simplicity_loss(lam0, nu0, alpha - e, logpsi, w, 0.01)) / (2 * h)
        fd_p = (simplicity_loss(lam0, nu0, alpha, logpsi + e, w, 0.01)
                - simplicity_loss(lam0, nu0, alpha, logpsi - e, w, 0.01)) / (2 * h)
        assert da[k] == pytest.approx(fd_a, rel=1e-6, abs=1e-6)
        assert dp[k] == pytest.approx(fd_p, rel=1e-6, abs=1e-6)


def test_align_factor_recovers_exact_shifts_and_permutes_with_the_groups():
    # exactly invariant item parameters: the configural values of group g are
    # lam * sd_g and nu + lam * mean_g; alignment must undo that exactly (loss at its floor)
    rng = np.random.default_rng(3)
    lam, nu = rng.uniform(0.5, 1.0, 6), rng.normal(3, 0.5, 6)
    mean = np.r_[0.0, rng.normal(0, 0.5, 9)]
    sd = np.r_[1.0, rng.uniform(0.7, 1.4, 9)]
    lam0 = sd[:, None] * lam
    nu0 = nu + mean[:, None] * lam
    n = rng.integers(100, 600, 10).astype(float)
    sol = align_factor(lam0, nu0, n, ref=0, free=False)
    np.testing.assert_allclose(sol["alpha"], mean, atol=1e-5)
    np.testing.assert_allclose(np.sqrt(sol["psi"]), sd, atol=1e-5)
    assert sol["converged"]
    perm = rng.permutation(10)
    sol_p = align_factor(lam0[perm], nu0[perm], n[perm], ref=int(np.argmin(perm)), free=False)
    np.testing.assert_allclose(sol_p["alpha"], sol["alpha"][perm], atol=1e-6)
    np.testing.assert_allclose(sol_p["psi"], sol["psi"][perm], atol=1e-6)


def test_free_alignment_reports_whether_the_overall_level_is_identified():
    rng = np.random.default_rng(5)
    n = np.full(12, 400.0)
    mean = rng.normal(0, 0.5, 12)
    lam = rng.uniform(0.5, 0.9, 6)
    near = align_factor(lam + rng.normal(0, 0.01, (12, 6)), 2 + mean[:, None] * lam, n,
                        free=True)
    assert near["shift_curvature"] < 0.01  # invariant loadings: a common shift is flat
    lam_g = lam + rng.normal(0, 0.2, (12, 6))
    far = align_factor(lam_g, 2 + mean[:, None] * lam_g, n, free=True)
    assert far["shift_curvature"] > 0.01
    assert math.isnan(align_factor(lam_g, 2 + mean[:, None] * lam_g, n,
                                   free=False)["shift_curvature"])


def test_invariant_set_drops_the_outlying_groups():
    rng = np.random.default_rng(2)
    values = 1.0 + rng.normal(0, 0.02, 12)
    values[[4, 9]] += [0.5, -0.4]
    ses = np.full(12, 0.03)
    inside = invariant_set(values, ses)
    assert list(np.flatnonzero(~inside)) == [4, 9]
    assert invariant_set(np.full(5, 2.0), np.full(5, 0.1)).all()
    # without standard errors nothing can be called different
    assert invariant_set(values, np.full(12, np.nan)).all()


# -- simulation recovery -----------------------------------------------------------------------

def test_recovers_true_means_and_variances(planted):
    res, means, sds = planted
    got = res.groups.set_index("group")
    assert list(got.index) == [f"u{g:02d}" for g in range(15)]
    assert res.converged and res.identified
    assert np.corrcoef(got["mean"], means)[0, 1] > 0.95
    assert np.corrcoef(got["sd"], sds)[0, 1] > 0.95
    # Monte Carlo tolerance: n = 500 per group, so a group's mean relative to the reference
    # group has SE ~ sqrt(2 / 500) = .063 and its SD ratio ~ .045; .2 and .15 are about 3 SE,
    # for the largest of 14 errors
    assert np.max(np.abs(got["mean"] - means)) < 0.2
    assert np.max(np.abs(got["sd"] - sds)) < 0.15
    assert got.loc["u00", "mean"] == 0 and got.loc["u00", "variance"] == 1


def test_planted_parameters_contribute_most_and_are_flagged(planted):
    res, _, _ = planted
    par = res.parameters.sort_values("contribution", ascending=False)
    top = list(zip(par["item"], par["parameter"], strict=True))[:2]
    assert top == [("y1", "intercept"), ("y2", "loading")]
    flagged = par.set_index(["item", "parameter"])["noninvariant_groups"]
    assert flagged[("y1", "intercept")] == "u03, u07"
    assert flagged[("y2", "loading")] == "u05"
    assert (par.loc[(par["item"] != "y1") & (par["item"] != "y2"), "noninvariant_groups"]
            == "").all()
    assert res.share_noninvariant == pytest.approx(3 / (2 * 8 * 15))
    # the R-square of invariance is lowest for the planted parameters
    low = par.sort_values("r2").head(2)
    assert set(zip(low["item"], low["parameter"], strict=True)) == set(top)
    items = res.items.set_index(["item", "group"])
    assert not items.loc[("y1", "u03"), "nu_invariant"]
    assert items.loc[("y1", "u04"), "nu_invariant"]
    # the group shares of an item's loss add up to its contribution
    c = res.items.groupby("item")["nu_contribution"].sum()
    p_int = res.parameters[res.parameters["parameter"] == "intercept"].set_index("item")
    np.testing.assert_allclose(c[p_int.index], p_int["contribution"], rtol=1e-12)


def test_aligned_means_match_the_scalar_model_on_invariant_data(invariant):
    data, model, _, _ = invariant
    res = pv.alignment(model, data, group="unit", estimator="ML", missing="listwise")
    scalar = pv.cfa(model, data, group="unit", group_equal=["loadings", "intercepts"])
    est = scalar.estimates()
    k_rows = est[(est["op"] == "~1") & (est["lhs"] == "F")].sort_values("group")
    kappa, kappa_se = k_rows["est"], k_rows["se"]
    p_rows = est[(est["op"] == "~~") & (est["lhs"] == "F") & (est["rhs"] == "F")
                 ].sort_values("group")
    phi, phi_se = p_rows["est"].to_numpy(), p_rows["se"].to_numpy()
    # the scalar model on the reference group's scale: mean 0, variance 1
    np.testing.assert_allclose(res.groups["mean"], kappa.to_numpy() / np.sqrt(phi[0]),
                               atol=0.03)
    np.testing.assert_allclose(res.groups["variance"], phi / phi[0], atol=0.05)
    assert res.share_noninvariant < 0.05
    # delta-method SEs of the aligned means and variances against the scalar model's (on
    # the reference group's scale; the variance ratio's SE from both groups' SEs): on
    # invariant data the two estimators are about equally precise
    se_k = kappa_se.to_numpy()[1:] / np.sqrt(phi[0])
    se_ratio = np.hypot(phi_se[1:], phi[1:] / phi[0] * phi_se[0]) / phi[0]
    np.testing.assert_allclose(res.groups["se_mean"].to_numpy()[1:], se_k, rtol=0.1)
    np.testing.assert_allclose(res.groups["se_variance"].to_numpy()[1:], se_ratio, rtol=0.15)
    assert res.groups.loc[0, ["se_mean", "se_variance"]].tolist() == [0.0, 0.0]


def test_group_order_only_permutes_the_results(invariant):
    data, model, _, _ = invariant
    a = pv.alignment(model, data, group="unit", estimator="ML", missing="listwise")
    order = {f"u{g:02d}": k for k, g in enumerate([5, 2, 7, 0, 1, 6, 3, 4])}
    shuffled = data.iloc[np.argsort(data["unit"].map(order).to_numpy(), kind="stable")]
    b = pv.alignment(model, shuffled.reset_index(drop=True), group="unit",
                     estimator="ML", missing="listwise", reference_group="u00")
    assert b.group_labels[0] == "u05" and b.reference_group == "u00"
    ga = a.groups.set_index("group")
    gb = b.groups.set_index("group").loc[ga.index]
    np.testing.assert_allclose(gb[["mean", "variance"]], ga[["mean", "variance"]], atol=1e-6)
    ia = a.items.set_index(["item", "group"])
    ib = b.items.set_index(["item", "group"]).loc[ia.index]
    np.testing.assert_allclose(ib[["lambda_aligned", "nu_aligned"]],
                               ia[["lambda_aligned", "nu_aligned"]], atol=1e-6)


def test_free_alignment_warns_when_the_level_is_not_identified(invariant):
    data, model, _, _ = invariant
    with pytest.warns(SpecificationWarning, match="alignment='fixed'"):
        res = pv.alignment(model, data, group="unit", alignment="free", estimator="ML",
                           missing="listwise")
    assert not res.identified
    assert res.optimization.loc[0, "shift_curvature"] < 0.01
    assert "poorly identified" in str(res.summary())


# -- Holzinger-Swineford by school -----------------------------------------------------------

@pytest.fixture(scope="module")
def hs_alignment():
    return pv.alignment(HS_MODEL, load_holzinger_swineford(), group="school")


def test_configural_fit_is_the_invariance_ladders(hs_alignment):
    inv = pv.invariance(HS_MODEL, load_holzinger_swineford(), group="school",
                        levels=("configural",))
    want = inv.fits["configural"].fit_measures
    got = hs_alignment.fit_measures
    assert set(got) == set(want)
    for k, v in want.items():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            assert got[k] is None or math.isnan(float(got[k])), k
        else:
            assert_close(got[k], v, "cfa", what=k)
    row = hs_alignment.fit.iloc[0]
    lad = inv.ladder.iloc[0]
    for col in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
        assert_close(row[col], lad[col], "cfa", what=col)


def test_holzinger_swineford_by_school_is_sensible(hs_alignment):
    res = hs_alignment
    assert res.alignment == "fixed" and res.reference_group == "Pasteur"
    assert res.estimator == "MLR" and res.missing == "fiml" and res.n_obs == 301
    assert res.converged and res.identified
    g = res.groups.set_index(["factor", "group"])
    # Grant-White is ahead on the textual factor (lavaan's scalar model: +.58 on Pasteur's
    # scale); visual about equal
    assert 0.3 < g.loc[("textual", "Grant-White"), "mean"] < 0.9
    assert abs(g.loc[("visual", "Grant-White"), "mean"]) < 0.3
    # the intercepts the partial search frees (x3 ~1, x7 ~1; test_invariance_partial.py)
    flagged = res.parameters[res.parameters["noninvariant_groups"] != ""]
    assert set(zip(flagged["item"], flagged["parameter"], strict=True)) == {
        ("x3", "intercept"), ("x7", "intercept")}
    cov = res.cov_lv["Grant-White"]
    np.testing.assert_allclose(np.diag(cov), g.xs("Grant-White", level="group")
                               .loc[list(cov.index), "variance"], rtol=1e-12)
    text = str(res.summary())
    assert "Aligned factor means" in text and "25%" in text
    assert res.to_frame().shape == (6, 8)
    assert (g.xs("Grant-White", level="group")["se_mean"].between(0.05, 0.3)).all()
    json.dumps(res.to_dict())
    assert res.to_dict()["schema"] == "psychoval.alignment/1"
    assert "AlignmentResult" in repr(res)
    assert res._repr_html_()


def test_runs_with_missing_responses_under_fiml():
    hs = load_holzinger_swineford().copy()
    rng = np.random.default_rng(4)
    for col in ("x2", "x5", "x9"):
        hs.loc[rng.choice(len(hs), 15, replace=False), col] = np.nan
    res = pv.alignment(HS_MODEL, hs, group="school")
    assert res.missing == "fiml" and res.n_obs == 301 and res.converged
    assert res.items[["lambda_aligned", "nu_aligned", "se_nu"]].notna().all().all()
    with pytest.warns(Warning):  # listwise leaves out rows (pv.cfa says how many)
        lw = pv.alignment(HS_MODEL, hs, group="school", missing="listwise")
    assert lw.n_obs < 301


# -- errors ----------------------------------------------------------------------------------

def test_errors():
    hs = load_holzinger_swineford()
    with pytest.raises(SpecificationError, match="at least 2"):
        pv.alignment(HS_MODEL, hs.assign(one="a"), group="one")
    small = hs.assign(g=np.where(np.arange(len(hs)) < 5, "tiny", hs["school"]))
    with pytest.raises(DataError, match="'tiny': 5"):
        pv.alignment(HS_MODEL, small, group="g")
    with pytest.raises(SpecificationError, match="cross-loading"):
        pv.alignment(HS_MODEL + "\nspeed =~ x1", hs, group="school")
    with pytest.raises(SpecificationError, match="first-order"):
        pv.alignment(HS_MODEL + "\ng =~ visual + textual + speed", hs, group="school")
    with pytest.raises(SpecificationError, match="not available yet"):
        pv.alignment(HS_MODEL, hs, group="school", ordered=True)
    with pytest.raises(SpecificationError, match="estimator"):
        pv.alignment(HS_MODEL, hs, group="school", estimator="WLSMV")
    with pytest.raises(SpecificationError, match="at least 3 groups"):
        pv.alignment(HS_MODEL, hs, group="school", alignment="free")
    with pytest.raises(SpecificationError, match="reference_group"):
        pv.alignment(HS_MODEL, hs, group="school", reference_group="Eton")
    with pytest.raises(SpecificationError, match="free loadings"):
        pv.alignment("visual =~ 1*x1 + x2 + x3", hs, group="school")
    with pytest.raises(SpecificationError, match="measurement model"):
        pv.alignment(HS_MODEL + "\nvisual ~ textual", hs, group="school")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SpecificationError, match="eps"):
            pv.alignment(HS_MODEL, hs, group="school", eps=0)
