"""ItemScoreTables (item x response x total x group counts) and BootstrapMoments (Poisson
replicates of Moments): merged chunks against the in-memory functions on the concatenated
rows."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.datasets import sample_framework
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._bootmoments import BootstrapMoments
from psychoval.stats.core._rowhash import poisson1_weights, splitmix64
from psychoval.stats.items._tables import ItemScoreTables

# the closed forms (MH, item statistics) are the same arithmetic on the same counts; the
# regressions are the same Newton iterations on the same cells, so both come out (nearly)
# bitwise equal: measured 0 for every binary column, 3e-16 for the SMD (an SD from counts)
CLOSED = 1e-10
FITTED = 1e-8


def _binary_data(n=900, k=8, seed=1, missing=0.02):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    g = rng.choice(["a", "b", "c"], n)
    b = np.linspace(-1, 1, k)
    shift = 0.8 * (g == "b")[:, None] * (np.arange(k) == 0)
    x = (rng.random((n, k)) < 1 / (1 + np.exp(-(theta[:, None] - b - shift)))) * 1.0
    x[rng.random((n, k)) < missing] = np.nan
    df = pd.DataFrame(x, columns=[f"q{i}" for i in range(k)])
    df["grp"] = g
    df.loc[rng.random(n) < 0.02, "grp"] = None
    return df


def _likert_data(n=900, k=6, seed=2):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    g = np.where(rng.random(n) < 0.5, "f", "m")
    y = np.clip(np.rint(theta[:, None] + rng.normal(size=(n, k)) + 3
                        - 0.7 * (g == "f")[:, None] * (np.arange(k) == 1)), 1, 5)
    y[rng.random((n, k)) < 0.02] = np.nan
    df = pd.DataFrame(y, columns=[f"l{i}" for i in range(k)])
    df["sex"] = g
    return df


def _chunks(df, sizes):
    out, start = [], 0
    for s in sizes:
        out.append(df.iloc[start:start + s])
        start += s
    out.append(df.iloc[start:])
    return out


def _assert_same_dif(a, b, rtol):
    """Every column of two DIF tables: floats to rtol, the rest equal; and the result face."""
    ta, tb = a.table, b.table
    assert list(ta.columns) == list(tb.columns)
    worst = 0.0
    for col in ta.columns:
        va, vb = ta[col].to_numpy(), tb[col].to_numpy()
        if col in ("focal", "item", "method", "effect_class", "ets_class", "zt_class",
                   "jg_class", "favours", "flagged", "converged"):
            assert list(va) == list(vb), col
            continue
        fa, fb = va.astype(float), vb.astype(float)
        np.testing.assert_array_equal(np.isnan(fa), np.isnan(fb), err_msg=col)
        ok = ~np.isnan(fb)
        np.testing.assert_allclose(fa[ok], fb[ok], rtol=rtol, atol=0, err_msg=col)
        if ok.any():
            rel = np.abs(fa[ok] - fb[ok]) / np.maximum(np.abs(fb[ok]), 1e-300)
            worst = max(worst, float(rel.max()))
    for f in ("n_used", "rows_dropped", "dif_type", "match", "reference", "focal", "notes",
              "method", "correction", "level"):
        assert getattr(a, f) == getattr(b, f), f
    return worst


# -- counts ---------------------------------------------------------------------------------


@settings(deadline=None, max_examples=40)
@given(st.integers(0, 2**31 - 1), st.integers(1, 60), st.integers(1, 5),
       st.lists(st.integers(0, 30), max_size=4), st.booleans())
def test_merged_counts_equal_those_of_the_concatenated_rows(seed, n, k, cuts, shuffle):
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 4, size=(n, k)).astype(float)
    x[rng.random((n, k)) < 0.15] = np.nan
    labels = rng.choice(np.array(["x", "y", 3, None], dtype=object), n)
    df = pd.DataFrame(x, columns=[f"v{j}" for j in range(k)]).assign(g=labels)
    parts = [ItemScoreTables.from_array(c, group="g") for c in _chunks(df, sorted(cuts))]
    if shuffle:
        parts = parts[::-1]
    merged = sum(parts)
    whole = ItemScoreTables.from_array(df, group="g")
    assert merged == whole
    aligned = merged + ItemScoreTables.zeros_like(whole)
    assert aligned.groups == whole.groups
    if whole.counts.size:
        assert aligned.response_min == whole.response_min
        assert aligned.score_min == whole.score_min or not whole.n_complete
        np.testing.assert_array_equal(aligned.answered, whole.answered)
    np.testing.assert_array_equal(aligned.rows, whole.rows)
    assert merged.n == n and merged.n_complete == int((~np.isnan(x)).all(axis=1).sum())


def test_cells_are_the_counts_of_each_row():
    x = np.array([[1, 0, 1], [0, 0, np.nan], [1, 1, 1], [1, 0, 1]], dtype=float)
    t = ItemScoreTables.from_array(pd.DataFrame(x, columns=["a", "b", "c"]),
                                   group=np.array(["r", "f", "f", None], dtype=object))
    assert t.groups == ("f", "r") and t.rows.tolist() == [2, 1, 1]
    # complete rows: (1,0,1) total 2 in "r", (1,1,1) total 3 in "f", (1,0,1) total 2 unlabelled
    c = t.counts
    assert c.sum() == 3 * 3
    assert c[0, 1 - t.response_min, 2 - t.score_min].tolist() == [0, 1, 1]
    assert c[1, 1 - t.response_min, 3 - t.score_min].tolist() == [1, 0, 0]
    assert t.answered[1].sum() == 4 and t.answered[2].sum() == 3


def test_json_round_trip():
    df = _binary_data()
    t = ItemScoreTables.merge([ItemScoreTables.from_array(c, group="grp")
                               for c in _chunks(df, [300, 300])])
    back = ItemScoreTables.from_dict(json.loads(json.dumps(t.to_dict())))
    assert back == t and back.groups == t.groups
    np.testing.assert_array_equal(back.counts, t.counts)
    with pytest.raises(DataError, match="not a psychoval.item_score_tables/1"):
        ItemScoreTables.from_dict({"schema": "other"})


# -- DIF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["mh", "gmh", "logistic", "auto"])
@pytest.mark.parametrize("studied", ["include", "exclude"])
def test_binary_dif_from_chunks_equals_dif_of_the_rows(method, studied):
    df = _binary_data()
    t = sum(ItemScoreTables.from_array(c, group="grp") for c in _chunks(df, [250, 17, 400]))
    kw = dict(method=method, studied=studied, reference="a")
    worst = _assert_same_dif(pv.dif(t, **kw), pv.dif(df, group="grp", **kw), CLOSED)
    assert worst < CLOSED


@pytest.mark.parametrize("studied", ["include", "exclude"])
@pytest.mark.parametrize("dif_type", ["both", "uniform", "nonuniform"])
def test_ordinal_dif_from_chunks_equals_dif_of_the_rows(studied, dif_type):
    df = _likert_data()
    t = ItemScoreTables.merge([ItemScoreTables.from_array(c, group="sex")
                               for c in _chunks(df, [100] * 8)])
    kw = dict(studied=studied, dif_type=dif_type, correction="fdr_bh")
    a, b = pv.dif(t, **kw), pv.dif(df, group="sex", **kw)
    _assert_same_dif(a, b, FITTED)
    assert a.flagged == b.flagged
    assert "l1" in a.flagged or dif_type == "nonuniform"  # l1 has uniform DIF


def test_logistic_likelihoods_equal_a_weighted_glm():
    """Independent of the shared fitting code: statsmodels' binomial GLM on the tables'
    (total, group, response) cells with frequency weights gives the same log-likelihoods."""
    sm = pytest.importorskip("statsmodels.api")
    df = _binary_data(missing=0.0)
    t = ItemScoreTables.from_array(df, group="grp")
    res = pv.dif(t, method="logistic", reference="a", focal="b").table
    G = len(t.groups)
    j = 0
    rows = []
    for r in range(t.counts.shape[1]):
        for s in range(t.counts.shape[2]):
            for g, lab in enumerate(t.groups[:G]):
                w = t.counts[j, r, s, g]
                if w and lab in ("a", "b"):
                    rows.append((t.response_min + r, t.score_min + s, float(lab == "b"), w))
    y, score, foc, w = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    designs = [np.column_stack([np.ones_like(score), score]),
               np.column_stack([np.ones_like(score), score, foc]),
               np.column_stack([np.ones_like(score), score, foc, score * foc])]
    for m, X in enumerate(designs):
        fit = sm.GLM(y, X, family=sm.families.Binomial(), freq_weights=w).fit(tol=1e-12)
        assert fit.llf == pytest.approx(res.loc[0, f"ll{m}"], rel=1e-9)


def _sample():
    scored = sample_framework().score(pv.load_sample())
    frame = scored.scores.drop(columns=["EVA4"])  # EVA4 is a mean of three (not whole)
    return frame.assign(job_family=scored.covariates["job_family"].to_numpy())


@pytest.mark.parametrize("items", [["CON1", "CON2", "CON3", "CON4", "CON5"],
                                   ["DAT1", "DAT2", "DAT3", "DAT4", "ETH1", "ETH2", "ETH3"]])
def test_dif_on_the_sample_data(items):
    data = _sample()[items + ["job_family"]]
    t = sum(ItemScoreTables.from_array(c, group="job_family")
            for c in _chunks(data, [500, 499]))
    for kw in (dict(reference="product"), dict(reference="product", studied="exclude"),
               dict(reference="sales", focal=["product", "operations"], method="gmh")
               if items[0] == "CON1" else dict(reference="sales", method="ordinal_logistic")):
        a = pv.dif(t, **kw)
        b = pv.dif(data, group="job_family", **kw)
        _assert_same_dif(a, b, FITTED)
        assert a.rows_dropped > 0  # the sample has missing answers


def test_dif_refusals():
    df = _binary_data()
    t = ItemScoreTables.from_array(df, group="grp")
    for kw, what in ((dict(purify=True), "purify=True"),
                     (dict(missing="available"), "missing='available'"),
                     (dict(match={"s": list(t.columns)}), "match="),
                     (dict(match=np.zeros(900)), "match="),
                     (dict(items=["q0", "q1"]), "items="),
                     (dict(group="grp"), "group=")):
        with pytest.raises(SpecificationError, match="not available from ItemScoreTables"):
            pv.dif(t, reference="a", **kw)
        with pytest.raises(SpecificationError, match=what.split("=")[0]):
            pv.dif(t, reference="a", **kw)
    with pytest.raises(DataError, match="without group="):
        pv.dif(ItemScoreTables.from_array(df.drop(columns="grp")))
    with pytest.raises(DataError, match="needs 0/1 items"):
        pv.dif(ItemScoreTables.from_array(_likert_data(), group="sex"), method="mh")
    with pytest.raises(SpecificationError, match="needs group="):
        pv.dif(df.drop(columns="grp"))


def test_construction_refusals():
    with pytest.raises(DataError, match="item 'b' has the value 0.5"):
        ItemScoreTables.from_array(pd.DataFrame({"a": [1.0, 0.0], "b": [0.5, 1.0]}))
    a = ItemScoreTables.from_array(pd.DataFrame({"a": [1.0, 0.0], "b": [0.0, 1.0]}))
    b = ItemScoreTables.from_array(pd.DataFrame({"b": [1.0, 0.0], "a": [0.0, 1.0]}))
    with pytest.raises(DataError, match="different items"):
        a + b
    with pytest.raises(DataError, match="Framework.score|score it"):
        ItemScoreTables.from_array(pv.load_sample(), group="job_family")


# -- item statistics ------------------------------------------------------------------------


@pytest.mark.parametrize("make", ["binary", "likert", "sample"])
def test_item_statistics_equal_item_analysis(make):
    if make == "binary":
        data = _binary_data().drop(columns="grp")
    elif make == "likert":
        data = _likert_data().drop(columns="sex")
    else:
        data = _sample()[["DAT1", "DAT2", "DAT3", "DAT4", "ETH1", "ETH2", "ETH3", "ETH4"]]
    t = sum(ItemScoreTables.from_array(c) for c in _chunks(data, [123, 321]))
    mine = t.item_statistics()
    ref = pv.item_analysis(data).items
    for col in mine.columns:
        a, b = mine[col].to_numpy(), ref[col].to_numpy()
        if col == "dichotomous":
            assert list(a) == list(b)
            continue
        np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=CLOSED, atol=1e-12,
                                   err_msg=col)
    # declared ranges and another group fraction
    kw = dict(scale_range=(0, 6), group_fraction=0.33)
    if make != "binary":
        ref = pv.item_analysis(data, **kw).items
        mine = t.item_statistics(**kw)
        for col in ("difficulty", "difficulty_available", "p_upper", "p_lower", "floor_pct"):
            np.testing.assert_allclose(mine[col], ref[col], rtol=CLOSED, atol=1e-12,
                                       err_msg=col)


# -- Poisson bootstrap ----------------------------------------------------------------------


def test_row_keys_are_the_stream_sample_keys():
    from psychoval.pipeline._stream import bottom_k_keys

    rows = np.arange(0, 10**6, 997, dtype=np.int64)
    np.testing.assert_array_equal(splitmix64(rows, 42), bottom_k_keys(rows, 42))


def test_poisson_weights_depend_on_seed_row_and_replicate_only():
    w = poisson1_weights(np.arange(200_000), np.arange(3), 7)
    part = poisson1_weights(np.arange(150_000, 200_000), np.array([2]), 7)
    np.testing.assert_array_equal(part[0], w[2, 150_000:])
    assert abs(w.mean() - 1) < 0.005 and abs(w.var() - 1) < 0.01  # Poisson(1)
    # P(W = j) = e^-1 / j!
    freq = np.bincount(w.ravel(), minlength=5)[:5] / w.size
    np.testing.assert_allclose(freq, np.exp(-1) / np.array([1, 1, 2, 6, 24]), atol=0.003)
    assert not np.array_equal(w[0], poisson1_weights(np.arange(200_000), [0], 8)[0])


def _likert_matrix(n, k=5, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1)) + rng.normal(size=(n, k))
    x[rng.random((n, k)) < 0.03] = np.nan
    return x


def test_replicates_do_not_depend_on_the_chunking():
    x = _likert_matrix(700)
    cols = [f"i{j}" for j in range(5)]

    def build(cuts):
        edges = [0, *cuts, len(x)]
        return [BootstrapMoments.from_array(x[a:b], start=a, columns=cols, n_replicates=40,
                                            seed=11)
                for a, b in zip(edges[:-1], edges[1:], strict=True)]

    a = BootstrapMoments.merge(build([100, 350, 351]))
    b = sum(reversed(build([699])))
    assert a.ranges == b.ranges == ((0, 700),)
    for ra, rb in zip(a.replicates, b.replicates, strict=True):
        assert ra.n == rb.n and ra.n_complete == rb.n_complete
        np.testing.assert_array_equal(ra.npair, rb.npair)
        assert ra.value_counts == rb.value_counts or ra.value_counts is None
        np.testing.assert_allclose(ra.cov(), rb.cov(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(a.replicate_alphas(), b.replicate_alphas(), rtol=1e-12)
    # a replicate is the Moments of the rows repeated by their weights
    w = poisson1_weights(np.arange(700), [5], 11)[0]
    direct = pv.Moments.from_array(np.repeat(x, w, axis=0), columns=cols)
    np.testing.assert_allclose(a.replicates[5].cov(), direct.cov(), rtol=1e-12)
    assert a.replicates[5].n == int(w.sum())
    # its alpha is pv.alpha's of that replicate
    assert a.replicate_alphas()[5] == pytest.approx(pv.alpha(a.replicates[5]).raw_alpha,
                                                    rel=1e-13)
    # JSON
    back = BootstrapMoments.from_dict(json.loads(json.dumps(a.to_dict())))
    np.testing.assert_array_equal(back.replicate_alphas(), a.replicate_alphas())


def test_alpha_interval_from_replicates():
    x = _likert_matrix(2000)
    boot = BootstrapMoments.merge(
        [BootstrapMoments.from_array(x[s:s + 500], start=s, n_replicates=200, seed=1)
         for s in range(0, 2000, 500)])
    res = pv.alpha(boot, ci_method="bootstrap")
    whole = pv.alpha(x)
    assert res.raw_alpha == pytest.approx(whole.raw_alpha, rel=1e-12)
    assert res.ci_method == "bootstrap" and res.boot_alphas.size == 200 and res.seed == 1
    assert res.ci_lower < res.raw_alpha < res.ci_upper
    # the same sampling distribution as the in-memory (multinomial) bootstrap: the interval
    # ends agree within a fraction of the interval's width (B = 200 and 1000 resamples)
    rows = pv.alpha(x, ci_method="bootstrap", n_boot=1000, seed=2)
    width = rows.ci_upper - rows.ci_lower
    assert abs(res.ci_lower - rows.ci_lower) < 0.25 * width
    assert abs(res.ci_upper - rows.ci_upper) < 0.25 * width
    listwise = pv.alpha(boot, ci_method="bootstrap", missing="listwise")
    assert listwise.raw_alpha == pytest.approx(pv.alpha(x, missing="listwise").raw_alpha,
                                               rel=1e-12)


@pytest.mark.slow
def test_interval_coverage_sanity():
    """Parallel items (loadings 1, unique variances 1): population alpha k / (k + 1). The
    95% percentile interval of 100 Poisson replicates covers it in most of 40 samples."""
    k, n = 4, 150
    truth = k / (k + 1)
    hits = 0
    for rep in range(40):
        rng = np.random.default_rng(100 + rep)
        x = rng.normal(size=(n, 1)) + rng.normal(size=(n, k))
        boot = BootstrapMoments.from_array(x, start=0, n_replicates=100, seed=rep)
        res = pv.alpha(boot, ci_method="bootstrap")
        hits += res.ci_lower <= truth <= res.ci_upper
    assert 32 <= hits <= 40  # 95% nominal: P(hits < 32) is about 1e-3 at 0.92 coverage


def test_bootstrap_refusals():
    x = _likert_matrix(100)
    a = BootstrapMoments.from_array(x[:60], start=0, n_replicates=10, seed=1)
    with pytest.raises(DataError, match="in two chunks"):
        a + BootstrapMoments.from_array(x[50:], start=50, n_replicates=10, seed=1)
    with pytest.raises(DataError, match="same seed"):
        a + BootstrapMoments.from_array(x[60:], start=60, n_replicates=10, seed=2)
    with pytest.raises(SpecificationError, match="start="):
        BootstrapMoments.from_array(x, start=-1)
    with pytest.raises(SpecificationError, match="n_replicates"):
        BootstrapMoments.from_array(x, start=0, n_replicates=1)
    with pytest.raises(SpecificationError, match="not available from Moments"):
        pv.alpha(a, ci_method="bca")
    with pytest.raises(SpecificationError, match="BootstrapMoments"):
        pv.alpha(a.moments, ci_method="bootstrap")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(pv.alpha(a).raw_alpha)
