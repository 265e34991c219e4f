"""Data shared by the engine tests (dask, Spark): the same rows in memory and partitioned."""

from __future__ import annotations

import numpy as np
import pandas as pd


def likert_frame(n: int = 2000, k: int = 6, seed: int = 1) -> pd.DataFrame:
    """n x k one-factor Likert answers 1..5 (q1 ... qk), 5% of the cells missing (NaN)."""
    rng = np.random.default_rng(seed)
    x = np.clip(np.round(3 + rng.normal(size=(n, 1)) + rng.normal(size=(n, k))), 1, 5)
    x[rng.random(x.shape) < 0.05] = np.nan
    return pd.DataFrame(x, columns=[f"q{i + 1}" for i in range(k)])
