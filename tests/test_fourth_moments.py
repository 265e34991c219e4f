"""FourthMoments: mergeable fourth-order sums, and robust (MLR) CFA from them.

The references are independent computations on the concatenated rows: the in-memory
``pv.cfa(..., estimator="MLR")``, the casewise scores of ``_fiml`` and numpy's covariance of
``(u, vech(u u'))``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._fourth import FourthMoments
from psychoval.stats.core._suffstats import Moments
from psychoval.stats.sem import _engine as eng
from psychoval.stats.sem import _fiml, _robust
from psychoval.stats.sem._cfa import _summary_input
from tests._tolerances import assert_close

HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
HS_ITEMS = [f"x{i}" for i in range(1, 10)]


def _data(seed: int, n: int = 150, k: int = 4, p_miss: float = 0.0, offset: float = 0.0,
          scale: float = 1.0, integer: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1)) + rng.gamma(2.0, size=(n, k))  # skewed: real 3rd/4th moments
    if integer:
        x = np.clip(np.round(1 + x), 1, 7)
    x = offset + scale * x
    x[rng.random(x.shape) < p_miss] = np.nan
    return x


def _w(u: np.ndarray) -> np.ndarray:
    """Rows of (1, u, vech(u u')) in lavaan's vech order (independent of the module)."""
    k = u.shape[1]
    pairs = [(r, c) for c in range(k) for r in range(c, k)]
    return np.column_stack([np.ones(len(u)), u] + [u[:, r] * u[:, c] for r, c in pairs])


def _assert_same_sums(merged: FourthMoments, direct: FourthMoments, x: np.ndarray) -> None:
    """Sums about the complete rows' means, in units of n and of each item's SD."""
    assert (merged.n, merged.n_complete, merged.n_dropped) == (
        direct.n, direct.n_complete, direct.n_dropped)
    np.testing.assert_array_equal(merged.base.npair, direct.base.npair)
    xc = x[~np.isnan(x).any(axis=1)]
    if len(xc) < 2:
        return
    centre = xc.mean(axis=0)
    sd = np.maximum(xc.std(axis=0), 1e-300)
    unit = _w(sd[None, :])[0] * len(xc)  # 1, sd_i, sd_r sd_c
    uu = np.outer(unit, unit) / len(xc)
    a, b = merged.about(centre) / uu, direct.about(centre) / uu
    assert_close(a, b, "merged_moments", what="fourth-order sums")
    # and against the rows themselves
    assert_close(a, _w(xc - centre).T @ _w(xc - centre) / uu, "merged_moments",
                 what="fourth-order sums vs rows")


chunks = st.tuples(
    st.integers(0, 10_000),  # seed
    st.lists(st.integers(-5, 160), min_size=0, max_size=5),  # cut points
    st.sampled_from([0.0, 1e6, -3e3]),  # offset
    st.sampled_from([1e-3, 1.0, 1e3]),  # scale
    st.sampled_from([0.0, 0.03, 0.3]),  # share of missing cells
    st.booleans(),  # integer codes
    st.lists(st.floats(-2.0, 2.0), min_size=6, max_size=6),  # shift moves, in SDs
)


@settings(deadline=None, max_examples=40)
@given(chunks)
def test_sum_of_chunks_equals_concatenation(case):
    seed, cuts, offset, scale, p_miss, integer, moves = case
    x = _data(seed, offset=offset, scale=scale, p_miss=p_miss, integer=integer)
    edges = sorted({min(max(c, 0), len(x)) for c in cuts})
    parts = []
    for i, part in enumerate(np.split(x, edges)):
        # each chunk its own shift: its means, moved by up to 2 SDs (or the default)
        shift = None
        if i % 2 and len(part) and not np.isnan(part).all(axis=0).any():
            shift = np.nanmean(part, axis=0) + moves[i] * scale
        parts.append(FourthMoments.from_array(part, columns=list("abcd"), shift=shift))
    direct = FourthMoments.from_array(x, columns=list("abcd"))
    _assert_same_sums(sum(parts[1:], parts[0]), direct, x)
    _assert_same_sums(FourthMoments.merge(parts[::-1]), direct, x)


def test_gamma_and_first_order_information_from_the_sums():
    x = _data(11, n=400, k=5, offset=40.0, integer=True)
    fm = FourthMoments.merge([FourthMoments.from_array(p) for p in np.array_split(x, 4)])
    # Gamma: numpy's covariance (divisor N) of v = (u, vech(u u'))
    v = _w(x - x.mean(axis=0))[:, 1:]
    gam = np.cov(v.T, bias=True)
    assert_close(fm.gamma(), gam, "merged_statistics", what="Gamma")
    assert_close(fm.gamma(meanstructure=False), gam[5:, 5:], "merged_statistics",
                 what="Gamma (vech part)")
    # ... which is lavaan's A1^-1 B1 A1^-1 at the sample moments, computed from the rows
    pat = _fiml.missing_patterns(x)
    mean, cov = x.mean(axis=0), np.cov(x.T, bias=True)
    ref = _robust.gamma(_fiml.information_observed(pat, mean, cov),
                        _fiml.information_firstorder(pat, mean, cov))
    assert_close(fm.gamma(), ref, "merged_statistics", what="Gamma vs lavaan's form")
    # B1 at any (mu, Sigma): the casewise scores of the rows against the sums
    rng = np.random.default_rng(2)
    a = rng.normal(size=(5, 5))
    mu, sigma = mean + rng.normal(size=5), cov + a @ a.T
    stats_pat = _fiml.patterns_from_stats(np.ones((1, 5), bool), [len(x)], mean[None],
                                          (cov * len(x))[None], fourth=fm)
    b_rows = _fiml.information_firstorder(pat, mu, sigma)
    b_sums = _fiml.information_firstorder(stats_pat, mu, sigma)
    assert_close(b_sums, b_rows, "merged_statistics", what="B1")
    delta = rng.normal(size=(20, 3))
    assert_close(_fiml.firstorder_theta(stats_pat, mu, sigma, delta),
                 _fiml.firstorder_theta(pat, mu, sigma, delta), "merged_statistics",
                 what="Delta' B1 Delta")


def _robust_at(block, x, df):
    """The MLR pieces of one complete-data block at the estimates x."""
    fr = np.array([1.0])
    info = eng.information_theta([block], fr, x, "observed")
    p = block.model.p
    rp = eng.robust_pieces([block], fr, x, info, chisq=block.n * block.disc.value(x), df=df,
                           npar_rows=len(x), bases=[_fiml.independence_model(block.pat)],
                           baseline_chisq=2 * (block.h1.loglik - block.baseline_loglik()),
                           baseline_df=p * (p - 1) // 2)
    fm = _robust.scaled_fit_measures(
        chisq=rp.scaled.stat * rp.scaled.scaling_factor, df=df,
        baseline_chisq=rp.baseline_scaled.stat * rp.baseline_scaled.scaling_factor,
        baseline_df=p * (p - 1) // 2, n=block.n, scaled=rp.scaled,
        baseline_scaled=rp.baseline_scaled)
    return info, rp, fm


def _compare_mlr(a, b, model: str, fourth: FourthMoments):
    """End to end (estimates stop at the optimizer's criterion: the in-memory fit itself
    moves by 3.6e-8 when the rows are reversed), then every robust piece at the same
    estimates, where only the sums differ (1e-10)."""
    ea, eb = a.estimates(), b.estimates()
    assert_close(eb["est"].to_numpy(), ea["est"].to_numpy(), "merged_cfa", what="est")
    assert_close(eb["se"].to_numpy(), ea["se"].to_numpy(), "merged_cfa", what="se")
    assert list(b.fit_measures) == list(a.fit_measures)
    for key in a.fit_measures:
        assert_close(b.fit_measures[key], a.fit_measures[key], "merged_cfa", what=key)
    assert (b.n_obs, b.n_total, b.estimator) == (a.n_obs, a.n_total, "MLR")
    # the same estimates: the data block of the in-memory fit against one from the sums
    pat, _, _ = _summary_input(a._pt, fourth, False, model, True)
    block = eng.Block.from_patterns(a._pt, pat, fiml=False)
    df = a.fit_measures["df"]
    ia, ra, fa = _robust_at(a._blocks[0], a._x, df)
    ib, rb, fb = _robust_at(block, a._x, df)
    assert_close(ib, ia, "merged_statistics", what="observed information")
    assert_close(rb.vcov, ra.vcov, "merged_statistics", what="robust vcov")
    for t in ("scaled", "baseline_scaled"):
        for f in ("stat", "scaling_factor", "scaling_factor_h1", "scaling_factor_h0",
                  "trace_ugamma", "pvalue"):
            assert_close(getattr(getattr(rb, t), f), getattr(getattr(ra, t), f),
                         "merged_statistics", what=f"{t}.{f}")
    assert list(fb) == list(fa)
    for key in fa:
        assert_close(fb[key], fa[key], "merged_statistics", what=f"{key} at the same x")


def test_mlr_cfa_holzinger_swineford():
    from psychoval.datasets import load_holzinger_swineford

    hs = load_holzinger_swineford()[HS_ITEMS]
    cuts = np.array_split(np.arange(len(hs)), 3)
    shifts = [None, np.arange(9.0), None]  # one chunk about other constants
    fm = FourthMoments.merge([FourthMoments.from_array(hs.iloc[c], shift=s)
                              for c, s in zip(cuts, shifts, strict=True)])
    a = pv.cfa(HS_MODEL, hs, estimator="MLR")
    b = pv.cfa(HS_MODEL, fm, estimator="MLR")
    _compare_mlr(a, b, HS_MODEL, fm)
    # ML from the same sums: the Moments route
    ml = pv.cfa(HS_MODEL, fm)
    assert_close(ml.fit_measures["chisq"], pv.cfa(HS_MODEL, hs).fit_measures["chisq"],
                 "merged_cfa", what="ML chisq")
    # a model of some of the items (no answer missing: the sums of a subset are exact)
    sub = "visual =~ x1 + x2 + x3\n speed =~ x7 + x8 + x9"
    _compare_mlr(pv.cfa(sub, hs, estimator="MLR"), pv.cfa(sub, fm, estimator="MLR"), sub,
                 fm.select(["x1", "x2", "x3", "x7", "x8", "x9"]))


def _ordinal_two_factor(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    y = np.hstack([f[:, [0]] * lam, f[:, [1]] * lam])
    y = y + rng.normal(size=y.shape) * np.sqrt(1 - np.tile(lam, 2) ** 2)
    cuts = np.array([-1.5, -0.5, 0.3, 1.2])  # five categories, skewed
    x = (y[:, :, None] > cuts).sum(axis=2) + 1.0
    frame = pd.DataFrame(x, columns=[f"q{i}" for i in range(1, 9)])
    return frame.mask(rng.random(frame.shape) < 0.002)  # 1.6% of the rows incomplete


def test_mlr_cfa_20000_rows_in_7_chunks():
    model = "f1 =~ q1 + q2 + q3 + q4\n f2 =~ q5 + q6 + q7 + q8"
    data = _ordinal_two_factor(20_000, 5)
    parts = np.array_split(np.arange(len(data)), 7)
    fm = sum(FourthMoments.from_array(data.iloc[c]) for c in parts)
    incomplete = int(data.isna().any(axis=1).sum())
    assert fm.n_dropped == incomplete > 0 and fm.n == 20_000
    a = pv.cfa(model, data, estimator="MLR")  # listwise, as lavaan
    b = pv.cfa(model, fm, estimator="MLR")
    assert a.n_obs == 20_000 - incomplete
    _compare_mlr(a, b, model, fm)


def test_json_round_trip_is_exact():
    x = _data(3, k=5, p_miss=0.05, integer=True)
    fm = FourthMoments.from_array(x[:70]) + FourthMoments.from_array(x[70:])
    doc = json.loads(json.dumps(fm.to_dict()))
    assert doc["schema"] == "psychoval.fourth_moments/1"
    back = FourthMoments.from_dict(doc)
    np.testing.assert_array_equal(back.q, fm.q)
    for f in ("npair", "s1", "s2", "cross", "c1", "c2", "shift"):
        np.testing.assert_array_equal(getattr(back.base, f), getattr(fm.base, f))
    assert back.to_dict() == fm.to_dict()
    assert repr(back) == (f"FourthMoments(k=5, n=150, n_complete={fm.n_complete}, "
                          f"n_dropped={150 - fm.n_complete})")
    # and a fit from the copy is the fit from the original, bit for bit
    frame = pd.DataFrame(x, columns=[f"item{i}" for i in range(1, 6)])
    model = "f =~ item1 + item2 + item3 + item4 + item5"
    with pytest.warns(pv.PsychovalWarning, match="listwise deletion dropped"):
        fa = pv.cfa(model, fm, estimator="MLR")
    with pytest.warns(pv.PsychovalWarning, match="listwise deletion dropped"):
        fb = pv.cfa(model, back, estimator="MLR")
    assert dict(fa.fit_measures) == dict(fb.fit_measures)
    with pytest.warns(pv.PsychovalWarning, match="listwise deletion dropped"):
        ref = pv.cfa(model, frame, estimator="MLR")
    assert (fa.n_obs, fa.n_total) == (ref.n_obs, ref.n_total)
    # a summary of selected items without missing answers keeps its sums
    y = _data(4, k=5)
    whole = FourthMoments.from_array(y)
    sel = FourthMoments.from_dict(json.loads(json.dumps(whole.select(["item4", "item2"])
                                                        .to_dict())))
    assert_close(sel.about([0.5, 1.5]), FourthMoments.from_array(y[:, [3, 1]]).about(
        [0.5, 1.5]), "merged_moments", what="select")


def test_other_statistics_take_the_second_order_part():
    from psychoval.datasets import load_holzinger_swineford

    hs = load_holzinger_swineford()[HS_ITEMS]
    fm = FourthMoments.from_array(hs.iloc[:120]) + FourthMoments.from_array(hs.iloc[120:])
    assert_close(pv.alpha(fm).raw_alpha, pv.alpha(hs).raw_alpha, "merged_statistics",
                 what="alpha")
    la = pv.efa(fm, n_factors=3, method="minres").to_frame()
    lb = pv.efa(hs, n_factors=3, method="minres").to_frame()
    num = la.select_dtypes("number").columns
    assert_close(la[num].to_numpy(float), lb[num].to_numpy(float), "merged_efa", what="efa")
    assert_close(pv.omega(fm).omega_h, pv.omega(hs).omega_h, "merged_omega", what="omega_h")
    with pytest.raises(SpecificationError, match="n_boot > 0 is not available"):
        pv.omega(fm, n_boot=10)


def test_refusals_say_why_and_what_to_do():
    from psychoval.datasets import load_holzinger_swineford

    hs = load_holzinger_swineford()[HS_ITEMS]
    fm = FourthMoments.from_array(hs)
    with pytest.raises(SpecificationError, match="second pass over the rows"):
        pv.cfa(HS_MODEL, fm, estimator="MLR", missing="fiml")
    with pytest.raises(SpecificationError, match="summarise the chunks with PatternMoments"):
        pv.cfa(HS_MODEL, fm, missing="fiml")
    with pytest.raises(SpecificationError,
                       match="estimator='MLR' is not available from Moments.*pv.FourthMoments"):
        pv.cfa(HS_MODEL, Moments.from_array(hs), estimator="MLR")
    with pytest.raises(SpecificationError, match="'MLM' is not available yet"):
        pv.cfa(HS_MODEL, fm, estimator="MLM")
    with pytest.raises(SpecificationError, match="one Moments per group"):
        pv.cfa(HS_MODEL, fm, estimator="MLR", group="school")
    # a subset of the items when some rows miss answers: which rows are complete is unknown
    holes = hs.mask(np.random.default_rng(1).random(hs.shape) < 0.02)
    fh = FourthMoments.from_array(holes)
    assert fh.select(HS_ITEMS[:3]).q is None and fh.select(HS_ITEMS).q is not None
    with pytest.raises(DataError, match="FourthMoments of the model's items only"):
        pv.cfa("visual =~ x1 + x2 + x3", fh, estimator="MLR")
    with pytest.raises(DataError, match="summarise the chunks on the model's items only"):
        fh.select(HS_ITEMS[:3]).about(np.zeros(3))
    with pytest.raises(DataError, match="cannot add FourthMoments|cannot add Moments"):
        fm + FourthMoments.from_array(hs[HS_ITEMS[::-1]])
    with pytest.raises(DataError, match="not a psychoval.fourth_moments/1 document"):
        FourthMoments.from_dict(Moments.from_array(hs).to_dict())
    with pytest.raises(SpecificationError, match="'x0' are not in these moments"):
        fm.select(["x0"])


def test_dask_collection_goes_through_fourth_moments():
    dd = pytest.importorskip("dask.dataframe")
    from psychoval.datasets import load_holzinger_swineford

    hs = load_holzinger_swineford()[HS_ITEMS]
    a = pv.cfa(HS_MODEL, hs, estimator="MLR")
    b = pv.cfa(HS_MODEL, dd.from_pandas(hs, npartitions=4), estimator="MLR")
    assert_close(b.fit_measures["chisq_scaled"], a.fit_measures["chisq_scaled"],
                 "merged_cfa", what="chisq_scaled (dask)")
    assert_close(b.estimates()["se"].to_numpy(), a.estimates()["se"].to_numpy(),
                 "merged_cfa", what="se (dask)")
