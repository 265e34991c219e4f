"""Data shared by the engine tests (dask, Spark): the same rows in memory and partitioned."""

from __future__ import annotations

import numpy as np
import pandas as pd

import psychoval as pv
from tests._tolerances import assert_close


def likert_frame(n: int = 2000, k: int = 6, seed: int = 1) -> pd.DataFrame:
    """n x k one-factor Likert answers 1..5 (q1 ... qk), 5% of the cells missing (NaN)."""
    rng = np.random.default_rng(seed)
    x = np.clip(np.round(3 + rng.normal(size=(n, 1)) + rng.normal(size=(n, k))), 1, 5)
    x[rng.random(x.shape) < 0.05] = np.nan
    return pd.DataFrame(x, columns=[f"q{i + 1}" for i in range(k)])


def assert_alpha_and_efa_equal(df: pd.DataFrame, collection) -> None:
    """pv.alpha (psych's whole output) and a one-factor pv.efa of a partitioned collection
    equal those of the same rows in memory."""
    a, b = pv.alpha(df), pv.alpha(collection)
    for f in ("raw_alpha", "std_alpha", "g6", "ase", "mean", "sd", "ci_lower", "ci_upper"):
        assert_close(getattr(b, f), getattr(a, f), "merged_statistics", what=f)
    assert_close(b.item_stats.to_numpy(), a.item_stats.to_numpy(), "merged_statistics",
                 what="item_stats")
    pd.testing.assert_frame_equal(b.response_freq, a.response_freq, rtol=1e-12)
    e1, e2 = pv.efa(df, n_factors=1), pv.efa(collection, n_factors=1)
    assert_close(e2.loadings.to_numpy(), e1.loadings.to_numpy(), "merged_efa", what="loadings")
