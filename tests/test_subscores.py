"""pv.subscore_value (issue 20, section 2): Haberman's (2008) PRMSE of subscores.

Checks: the PRMSEs against their definition on a simulated population with known true scores
(tau-equivalent items, where alpha is the reliability); against the R package subscore's
CTTsub formulas (Olkin-type expressions in tau, beta, gamma; transcribed here from its source,
a second algebraic route to the same numbers); the decision; listwise missing data; the
framework path; errors; invariance to row order.

No published PRMSE table could be checked: Haberman (2008) and Sinharay (2010) report
operational tests whose data are not public, and subscore's examples print no output in its
documentation.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError


def _population(rng, n, corr, per=6, noise=1.0):
    """Tau-equivalent items: item = T_k + e (equal true-score loadings within a subscore),
    so alpha equals the reliability; the true subscore is per * T_k."""
    k = corr.shape[0]
    t = rng.multivariate_normal(np.zeros(k), corr, size=n)
    sd = noise * rng.uniform(0.8, 1.3, size=k * per)
    x = np.repeat(t, per, axis=1) + rng.normal(size=(n, k * per)) * sd
    cols = [f"s{j}_{i}" for j in range(k) for i in range(per)]
    subs = {f"s{j}": cols[j * per:(j + 1) * per] for j in range(k)}
    return pd.DataFrame(x, columns=cols), subs, per * t


def _r2(y, cols):
    design = np.column_stack([np.ones(len(y))] + cols)
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    return 1 - resid.var() / y.var()


def test_prmse_matches_its_definition_on_a_simulated_population():
    rng = np.random.default_rng(20261207)
    corr = np.array([[1, .6, .8], [.6, 1, .7], [.8, .7, 1]])
    df, subs, true = _population(rng, 100_000, corr)
    res = pv.subscore_value(df, subscores=subs)
    t = res.table.set_index("subscore")
    x = df.sum(axis=1).to_numpy()
    for j, name in enumerate(subs):
        s = df[subs[name]].sum(axis=1).to_numpy()
        tau = true[:, j]
        # PRMSE from its definition: 1 - MSE of the best linear predictor / var(tau).
        # Sampling error of each with N = 100,000 is below .002: tolerance .006
        assert t.loc[name, "prmse_s"] == pytest.approx(_r2(tau, [s]), abs=0.006)
        assert t.loc[name, "prmse_x"] == pytest.approx(_r2(tau, [x]), abs=0.006)
        assert t.loc[name, "prmse_sx"] == pytest.approx(_r2(tau, [s, x]), abs=0.006)
    np.testing.assert_allclose(res.true_correlations.to_numpy(), corr, atol=0.01)


def _cttsub(df, subs):
    """The R package subscore's CTTsub (method "Haberman") formulas, transcribed."""
    names = list(subs)
    s = np.column_stack([df[subs[k]].sum(axis=1) for k in names])
    x = s.sum(axis=1)
    full = np.column_stack([s, x])
    corr = np.corrcoef(full, rowvar=False)

    def alpha(m):
        c = np.cov(m, rowvar=False)
        k = c.shape[0]
        return k / (k - 1) * (1 - np.trace(c) / c.sum())

    rel = np.array([alpha(df[subs[k]].to_numpy()) for k in names] + [alpha(df.to_numpy())])
    var_obs = full.var(axis=0, ddof=1)
    cov = np.cov(full, rowvar=False)
    var_true = var_obs * rel
    true_cov = cov.copy()
    np.fill_diagonal(true_cov, var_true)
    rowsum = true_cov[:, :len(names)].sum(axis=1)
    out = {}
    for t, name in enumerate(names):
        r_stxt = rowsum[t] ** 2 / (var_true[t] * var_true[-1])
        prmse_x = r_stxt * rel[-1]
        tao = (math.sqrt(rel[-1]) * math.sqrt(r_stxt) - corr[t, -1] * math.sqrt(rel[t])) / (
            1 - corr[t, -1] ** 2)
        prmse_sx = rel[t] + tao ** 2 * (1 - corr[t, -1] ** 2)
        out[name] = (rel[t], prmse_x, prmse_sx)
    return out, rel[-1]


def test_agrees_with_the_subscore_package_formulas():
    rng = np.random.default_rng(4)
    corr = np.array([[1, .85, .5, .6], [.85, 1, .55, .6], [.5, .55, 1, .7], [.6, .6, .7, 1]])
    df, subs, _ = _population(rng, 800, corr, per=4, noise=1.4)
    res = pv.subscore_value(df, subscores=subs)
    ref, total_alpha = _cttsub(df, subs)
    t = res.table.set_index("subscore")
    for name, (ps, px, psx) in ref.items():
        np.testing.assert_allclose(t.loc[name, ["prmse_s", "prmse_x", "prmse_sx"]].to_numpy(
            dtype=float), [ps, px, psx], rtol=1e-10)
    assert res.total_alpha == pytest.approx(total_alpha, rel=1e-12)
    assert res.total_alpha == pytest.approx(pv.alpha(df).raw_alpha, rel=1e-10)


def test_decision_follows_prmse_s_against_prmse_x():
    rng = np.random.default_rng(12)
    # two nearly identical constructs and a distinct third one
    corr = np.array([[1, .97, .3], [.97, 1, .3], [.3, .3, 1]])
    df, subs, _ = _population(rng, 5000, corr, per=4, noise=1.6)
    res = pv.subscore_value(df, subscores=subs)
    t = res.table.set_index("subscore")
    assert (t["report_separately"] == (t["prmse_s"] > t["prmse_x"])).all()
    assert t.loc["s2", "decision"] == "report separately"
    assert t.loc["s0", "decision"] == "do not report separately"
    assert t.loc["s0", "value_added_ratio"] == pytest.approx(
        t.loc["s0", "prmse_s"] / t.loc["s0", "prmse_x"], rel=1e-14)
    # augmented never worse than either alone
    assert (t["prmse_sx"] >= np.maximum(t["prmse_s"], t["prmse_x"]) - 1e-12).all()
    assert "Haberman" in str(res.summary()) and res.to_frame().shape[0] == 3


def test_listwise_missing_is_recorded_and_equals_complete_rows():
    rng = np.random.default_rng(2)
    df, subs, _ = _population(rng, 300, np.array([[1, .5], [.5, 1]]), per=3)
    df.iloc[[4, 17, 200], [0, 3, 5]] = np.nan
    res = pv.subscore_value(df, subscores=subs)
    assert (res.n_total, res.n_used, res.rows_dropped) == (300, 297, (4, 17, 200))
    assert res.sample.n_dropped == 3 and "left out 3 of 300" in res.notes[0]
    clean = pv.subscore_value(df.dropna(), subscores=subs)
    pd.testing.assert_frame_equal(res.table, clean.table)
    with pytest.raises(DataError, match="missing"):
        pv.subscore_value(df, subscores=subs, missing="raise")


def test_framework_path_equals_the_subscores_mapping():
    import warnings

    from psychoval.datasets import sample_framework

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fw = sample_framework()
        scored = fw.score(pv.load_sample())
    a = pv.subscore_value(scored, framework=fw, tier="applied")
    subs = {c.id: list(c.item_ids) for c in fw.tier("applied").competencies}
    b = pv.subscore_value(scored.scores, subscores=subs)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert list(a.table["subscore"]) == ["prompting", "tools", "evaluation", "workflow"]
    assert a.n_total == 1500 and a.n_used + len(a.rows_dropped) == 1500


def test_errors():
    rng = np.random.default_rng(1)
    df, subs, _ = _population(rng, 50, np.array([[1, .5], [.5, 1]]), per=3)
    with pytest.raises(SpecificationError, match="at least two subscores"):
        pv.subscore_value(df, subscores={"s0": subs["s0"]})
    with pytest.raises(SpecificationError, match="in subscores 's0' and 's1'"):
        pv.subscore_value(df, subscores={"s0": subs["s0"], "s1": subs["s1"] + [subs["s0"][0]]})
    with pytest.raises(SpecificationError, match="1 item"):
        pv.subscore_value(df, subscores={"s0": subs["s0"], "s1": subs["s1"][:1]})
    with pytest.raises(SpecificationError, match="subscores=\\{name"):
        pv.subscore_value(df)
    with pytest.raises(SpecificationError, match="not both"):
        pv.subscore_value(df, subscores=subs, framework=object())
    with pytest.raises(SpecificationError, match="list of item names"):
        pv.subscore_value(df, subscores={"s0": "s0_0", "s1": subs["s1"]})
    with pytest.raises(DataError, match="nope"):
        pv.subscore_value(df, subscores={"s0": subs["s0"], "s1": ["nope", "s1_0"]})


def test_non_positive_alpha_gives_nan_with_a_note():
    rng = np.random.default_rng(3)
    df, subs, _ = _population(rng, 400, np.array([[1, .5], [.5, 1]]), per=3)
    noise = pd.DataFrame(rng.normal(size=(400, 3)), columns=["z0", "z1", "z2"])
    noise["z1"] = -noise["z0"] + 0.1 * noise["z1"]  # negatively related: alpha < 0
    data = pd.concat([df, noise], axis=1)
    res = pv.subscore_value(data, subscores={**subs, "z": ["z0", "z1", "z2"]})
    z = res.table.set_index("subscore").loc["z"]
    assert z["alpha"] < 0 and math.isnan(z["prmse_s"]) and z["decision"] == "not estimable"
    assert any("z: alpha" in n for n in res.notes)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_row_and_subscore_order_do_not_matter(seed):
    rng = np.random.default_rng(seed)
    df, subs, _ = _population(rng, 120, np.array([[1, .4, .5], [.4, 1, .6], [.5, .6, 1]]),
                              per=3)
    a = pv.subscore_value(df, subscores=subs)
    b = pv.subscore_value(df.sample(frac=1, random_state=seed % 1000),
                          subscores=dict(reversed(list(subs.items()))))
    pd.testing.assert_frame_equal(a.table.set_index("subscore").sort_index(),
                                  b.table.set_index("subscore").sort_index(),
                                  rtol=1e-9, atol=1e-12)
    t = a.table
    ok = t["alpha"] > 0
    # the best linear predictor from both is never worse than from either alone
    assert (t.loc[ok, "prmse_sx"] >= np.maximum(t.loc[ok, "prmse_s"], t.loc[ok, "prmse_x"])
            - 1e-12).all()
