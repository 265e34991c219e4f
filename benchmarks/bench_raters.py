"""Rater agreement speed: pv.icc and pv.cohen_kappa against psych::ICC and psych::cohen.kappa.

Simulated rubric: N candidates, K raters, 1-5 scores (the same CSV is read by both sides).
Cases: complete ratings (psych lmer=FALSE vs our ANOVA), 20% missing ratings (psych's default
lmer=TRUE via lme4 vs our REML), and Cohen's kappa of two raters (quadratic weights).

Run: PYTHONPATH=src python benchmarks/bench_raters.py  -> benchmarks/results/raters.json
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, time_python, time_r, write_results  # noqa: E402

import psychoval as pv  # noqa: E402

N, K, REPEAT = 2000, 8, 7


def simulate(seed: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    latent = rng.normal(0, 1, (N, 1)) + rng.normal(0, 0.3, (1, K)) + rng.normal(0, 0.6, (N, K))
    scores = np.clip(np.round(3 + 1.2 * latent), 1, 5)
    full = pd.DataFrame(scores, columns=[f"r{j + 1}" for j in range(K)])
    miss = full.copy()
    mask = rng.random(miss.shape) < 0.2
    mask[:, 0] = False  # keep every candidate rated at least once
    miss = miss.mask(mask)
    return full, miss


def main() -> None:
    full, miss = simulate()
    tmp = Path(tempfile.mkdtemp())
    full.to_csv(tmp / "full.csv", index=False)
    miss.to_csv(tmp / "miss.csv", index=False)
    setup = (f'library(psych); full <- read.csv("{tmp / "full.csv"}"); '
             f'miss <- read.csv("{tmp / "miss.csv"}")')
    cases = {
        "icc_complete": (lambda: pv.icc(full, method="anova"),
                         "psych::ICC(full, lmer = FALSE)"),
        "icc_missing_reml": (lambda: pv.icc(miss, method="reml"),
                             "psych::ICC(miss, lmer = TRUE)"),
        "cohen_kappa": (lambda: pv.cohen_kappa(full, raters=["r1", "r2"], levels=[1, 2, 3, 4, 5]),
                        "psych::cohen.kappa(full[, c('r1', 'r2')], levels = 1:5)"),
        "pairwise_kappa": (lambda: pv.pairwise_kappa(full, levels=[1, 2, 3, 4, 5]),
                           "psych::cohen.kappa(full, levels = 1:5)"),
    }
    results = {}
    for name, (func, expr) in cases.items():
        py = time_python(func, repeat=REPEAT)
        r = time_r(setup, expr, repeat=REPEAT)
        results[name] = {"psychoval": py, "psych": r, "r_expr": expr,
                         "ratio_psych_over_psychoval": r["median_s"] / py["median_s"]}
        print(f"{name:18s} psychoval {py['median_s'] * 1e3:9.2f} ms   psych "
              f"{r['median_s'] * 1e3:9.2f} ms   ratio {r['median_s'] / py['median_s']:7.1f}x")
    # the estimates agree (sanity, not a test)
    results["data"] = {"n_candidates": N, "n_raters": K, "missing_fraction": 0.2,
                       "scale": [1, 5], "seed": 6}
    results["r"] = r_versions(["psych", "lme4"])
    results["notes"] = ("Single-threaded comparison is not enforced; thread settings are in "
                        "'threads'. R times are elapsed proc.time() inside one Rscript; "
                        "psychoval times are perf_counter inside one Python process.")
    path = write_results("raters", results)
    print(path)
    for f in tmp.iterdir():
        os.unlink(f)
    tmp.rmdir()


if __name__ == "__main__":
    main()
