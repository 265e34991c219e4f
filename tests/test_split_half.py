"""pv.split_half and pv.guttman: brute force, psych's enumeration, sampling, errors."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._moments import pairwise_moments
from tests._reliability_refs import extra_checks
from tests._tolerances import assert_close
from tests.reference._refs import load_data


def _data(seed: int, n: int = 120, k: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lo = rng.uniform(0.3, 0.8, size=k)
    return rng.normal(size=(n, 1)) * lo + rng.normal(size=(n, k)) * np.sqrt(1 - lo**2)


def _brute(x: np.ndarray) -> list[float]:
    r = np.corrcoef(x, rowvar=False)
    k = r.shape[0]
    out = {}
    for a in itertools.combinations(range(k), k // 2):
        b = tuple(i for i in range(k) if i not in a)
        key = frozenset([a, b])
        out[key] = 4 * r[np.ix_(a, b)].sum() / r.sum()
    return list(out.values())


@pytest.mark.parametrize("k", [4, 5, 7, 8])
def test_exhaustive_visits_every_split_once(k):
    x = _data(k, k=k)
    res = pv.split_half(x)
    vals = _brute(x)
    assert res.method == "exhaustive" and res.n_splits == len(vals)
    assert_close([res.max_split, res.min_split, res.mean_split],
                 [max(vals), min(vals), np.mean(vals)], "closed_form", what=f"k={k}")


def test_psych_enumeration_differs_only_for_odd_k():
    even, odd = _data(1, k=6), _data(2, k=7)
    assert pv.split_half(even, enumeration="psych").mean_split == pytest.approx(
        pv.split_half(even).mean_split, rel=1e-12)
    ps = pv.split_half(odd, enumeration="psych")
    assert ps.method == "psych" and ps.n_splits == math.ceil(math.comb(7, 3) / 2)
    assert ps.max_split <= pv.split_half(odd).max_split + 1e-15


def test_even_k_psych_reference():
    check = extra_checks()["splitHalf.bfi.C5E3"]
    opt = check["options"]
    res = pv.split_half(load_data("bfi")[opt["items"]], reverse=opt["reverse_keyed"])
    v = check["values"]
    for name, ours in (("maxrb", "max_split"), ("minrb", "min_split"), ("meanr", "mean_split"),
                       ("alpha", "alpha"), ("lambda2", "lambda2"), ("lambda6", "lambda6")):
        assert_close(getattr(res, ours), v[name], "closed_form", what=name)


def test_sampling_beyond_max_exhaustive_is_seeded_and_says_so():
    x = _data(3, k=18)
    a = pv.split_half(x, seed=5, n_sample=2000)
    b = pv.split_half(x, seed=5, n_sample=2000)
    assert a.method == "sampled" and a.n_splits == 2000
    assert (a.max_split, a.min_split, a.mean_split) == (b.max_split, b.min_split, b.mean_split)
    assert "random splits (seed=5)" in str(a.summary())
    small = pv.split_half(x[:, :8], max_exhaustive=6, n_sample=500, seed=1)
    assert small.method == "sampled"
    exact = pv.split_half(x[:, :8])
    assert small.max_split <= exact.max_split + 1e-15
    assert small.min_split >= exact.min_split - 1e-15


def test_spearman_brown_of_half_correlations():
    x = _data(4, k=4)
    res = pv.split_half(x)
    r = np.corrcoef(x, rowvar=False)
    sbs = []
    for a in [(0, 1), (0, 2), (0, 3)]:
        b = tuple(i for i in range(4) if i not in a)
        va, vb, vab = r[np.ix_(a, a)].sum(), r[np.ix_(b, b)].sum(), r[np.ix_(a, b)].sum()
        rr = vab / math.sqrt(va * vb)
        sbs.append(2 * rr / (1 + rr))
    assert_close([res.spearman_brown_max, res.spearman_brown_min, res.spearman_brown_mean],
                 [max(sbs), min(sbs), np.mean(sbs)], "closed_form", what="SB")


def test_split_half_errors_and_face():
    x = _data(5, k=5)
    with pytest.raises(SpecificationError, match="enumeration='all' is not one of"):
        pv.split_half(x, enumeration="all")
    with pytest.raises(SpecificationError, match="n_sample=0 must be an integer of at least 1"):
        pv.split_half(x, n_sample=0)
    res = pv.split_half(pd.DataFrame(x, columns=list("abcde")))
    assert set(res.max_split_halves[0]) | set(res.max_split_halves[1]) == set("abcde")
    assert res.to_frame().shape == (11, 2) and res.to_dict()["schema"] == "psychoval.split_half/1"
    assert repr(res).startswith("<SplitHalfResult max_split=")


def test_guttman_relations():
    x = _data(6, k=6)
    g = pv.guttman(x)
    s = pv.split_half(x)
    assert_close([g.lambda_3, g.lambda_2, g.lambda_6, g.lambda_4, g.beta],
                 [s.alpha, s.lambda2, s.lambda6, s.max_split, s.min_split], "closed_form",
                 what="guttman vs split_half")
    assert_close([g.tenberge_mu0, g.tenberge_mu1], [g.lambda_3, g.lambda_2], "closed_form",
                 what="mu0 = lambda3, mu1 = lambda2")
    assert g.lambda_1 < g.lambda_3 <= g.lambda_2 <= g.tenberge_mu2 <= g.tenberge_mu3
    assert g.glb >= g.lambda_2 - 1e-6 and g.glb_converged and not g.glb_improper
    tight = pv.guttman(x, glb_fit="tight")
    assert tight.glb == pytest.approx(g.glb, abs=1e-5)
    assert g.to_frame().shape == (16, 2)


def test_guttman_pairwise_pearson_differs_from_cov2cor_with_missing():
    x = _data(7, k=5)
    x[np.random.default_rng(0).random(x.shape) < 0.15] = np.nan
    g = pv.guttman(x)
    obs = ~np.isnan(x)
    r_pair = np.eye(5)
    for i, j in itertools.combinations(range(5), 2):
        ok = obs[:, i] & obs[:, j]
        r_pair[i, j] = r_pair[j, i] = np.corrcoef(x[ok, i], x[ok, j])[0, 1]
    k = 5
    assert g.lambda_3 == pytest.approx(k / (k - 1) * (1 - k / r_pair.sum()), rel=1e-12)
    r_cov = pairwise_moments(x).cor
    assert abs(g.lambda_3 - k / (k - 1) * (1 - k / r_cov.sum())) > 1e-6


def test_guttman_errors():
    with pytest.raises(DataError, match="needs at least 3"):
        pv.guttman(_data(8, k=2))
    with pytest.raises(SpecificationError, match="glb_fit='best' is not one of"):
        pv.guttman(_data(8, k=4), glb_fit="best")


def test_guttman_heywood_is_flagged():
    x = pd.DataFrame(dict(a=[1, 2, 3, 4, 5, 2, 4, 3], b=[2, 3, 3, 5, 4, 1, 4, 2],
                          c=[2, 3, 4, 4, 5, 2, 3, 3], d=[1, 2, 4, 3, 5, 3, 5, 2]))
    with pytest.warns(pv.ImproperSolutionWarning, match="communality above 1"):
        g = pv.guttman(x)
    assert g.glb_improper
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # psych::guttman(x): lambda.2 = 0.9138510051, lambda.4 = 0.9340001019 (closed forms)
        assert_close([g.lambda_2, g.lambda_4], [0.9138510051, 0.9340001019],
                     "closed_form", what="psych")
