"""Wide data (many more items than respondents): alpha, its merged-moments form and
check_data run and give the closed-form numbers. The big cases (1,000 x 5,000 and
100,000 x 1,000) are measured in benchmarks/bench_scale.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.stats.core._suffstats import Moments
from tests._tolerances import assert_close

pytestmark = pytest.mark.slow  # ~5 s of CPU (1,200 items)

N, K = 250, 1200


def _likert(seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.clip(np.round(3.5 + rng.standard_normal((N, 1)) + 1.2 * rng.standard_normal((N, K))),
                1, 6)
    x[rng.random(x.shape) < 0.02] = np.nan
    x[:, 0] = np.where(np.isnan(x[:, 0]), 3.0, x[:, 0])
    return x


def _closed_alpha(c: np.ndarray) -> float:
    k = c.shape[0]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


def test_wide_alpha_and_check_data():
    x = _likert()
    frame = pd.DataFrame(x, columns=[f"i{j + 1}" for j in range(K)])
    res = pv.alpha(frame)
    c = frame.cov().to_numpy()  # pandas: pairwise-complete, as psych
    assert_close(res.raw_alpha, _closed_alpha(c), "closed_form", what="raw_alpha")
    for j in (0, 17, K - 1):
        keep = np.arange(K) != j
        assert_close(res.alpha_drop["raw_alpha"].iloc[j], _closed_alpha(c[np.ix_(keep, keep)]),
                     "closed_form", what=f"alpha without item {j + 1}")
    # the same from merged moments of three chunks
    m = Moments.merge([Moments.from_array(p) for p in np.array_split(frame, 3)])
    merged = pv.alpha(m)
    assert_close([merged.raw_alpha, merged.std_alpha, merged.g6, merged.sd],
                 [res.raw_alpha, res.std_alpha, res.g6, res.sd], "merged_statistics",
                 what="alpha from moments")
    # check_data on the complete answers: with missing answers and fewer respondents than
    # items its Mahalanobis D2 inverts each missingness pattern's singular block (O(k^3) per
    # pattern: 100 s here), which the benchmark notes
    full = frame.fillna(3.0)
    rep = pv.check_data(full)
    assert (rep.n_respondents, rep.n_columns, rep.n_missing_cells) == (N, K, 0)
    assert rep.min_pairwise_n == N
    # n < k: the deviations span n - 1 dimensions, so every row's D2 is (n - 1)^2 / n
    assert_close(rep.respondents["mahalanobis"].to_numpy(), np.full(N, (N - 1) ** 2 / N),
                 "closed_form", what="D2")
