"""Decisions benchmark (issue 20, section 2): classification accuracy and consistency on
1,000,000 scores, conditional SEM and subscore value.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_decisions.py
Writes benchmarks/results/decisions.json.

Goal of the issue: classification indices on 1,000,000 scores in under 1 s. Timed (median of
7 after a warm-up, BLAS pools pinned to 1 thread):
- Livingston-Lewis on 1,000,000 totals (0..40; reliability and range given);
- Hanson-Brennan on the same totals as number-correct scores of 40 items (Lord's k from .85);
- Rudner on 1,000,000 ability estimates with one standard error each;
- Lee with 40 2PL items on a 1,001-point grid (its cost does not grow with the number of
  people: it works on the latent distribution);
- Livingston-Lewis from the 100,000 x 40 item matrix (alpha of the items computed too);
- subscore_value on 100,000 x 40 items in 4 subscores; conditional_sem on 100,000 x 40.

Peers: the R packages betafunctions (LL.CA.MC, HB.CA.MC), cacIRT (class.Rud, class.Lee) and
subscore (CTTsub) are not packaged by Debian and are not installed here, so no peer runs in
this benchmark; the JSON says so.
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import time_python, write_results  # noqa: E402

import psychoval as pv  # noqa: E402

SEED = 20261207
N = 1_000_000
N_ITEMS = 40
CUTS = [20, 30]


def data():
    rng = np.random.default_rng(SEED)
    tau = 0.1 + 0.85 * rng.beta(5, 3, N)
    totals = rng.binomial(N_ITEMS, tau).astype(float)
    theta = rng.normal(size=N)
    se = 0.25 + 0.05 * theta ** 2
    m = 100_000
    th = rng.normal(size=(m, 1)) + 0.5 * rng.normal(size=(m, 4)).repeat(10, axis=1)
    b = np.linspace(-1.5, 1.5, N_ITEMS)
    items = (rng.random((m, N_ITEMS)) < 1 / (1 + np.exp(-(th - b)))).astype(float)
    a = rng.uniform(0.8, 2.0, N_ITEMS)
    return totals, theta, se, items, a, b


def main() -> None:
    totals, theta, se, items, a, b = data()
    frame = pd.DataFrame(items, columns=[f"i{j}" for j in range(N_ITEMS)])
    subs = {f"c{k}": list(frame.columns[10 * k:10 * (k + 1)]) for k in range(4)}
    nodes = np.linspace(-6, 6, 1001)
    w = np.exp(-nodes ** 2 / 2)
    cases = {
        "livingston_lewis_1e6_scores": lambda: pv.classification(
            totals, CUTS, reliability=0.85, score_range=(0, N_ITEMS)),
        "hanson_brennan_1e6_scores": lambda: pv.classification(
            totals, CUTS, method="hanson_brennan", reliability=0.85, n_items=N_ITEMS),
        "rudner_1e6_scores": lambda: pv.classification(
            theta, [-0.5, 0.8], method="rudner", se=se),
        "lee_40_items_1001_nodes": lambda: pv.classification(
            nodes, CUTS, method="lee", weights=w, item_params={"a": a, "b": b}),
        "livingston_lewis_items_100k_x_40": lambda: pv.classification(items, CUTS),
        "subscore_value_100k_x_40": lambda: pv.subscore_value(frame, subscores=subs),
        "conditional_sem_100k_x_40": lambda: pv.conditional_sem(items, at=CUTS),
    }
    results = {}
    for name, func in cases.items():
        timing = time_python(func, repeat=7, warmup=1)
        res = func()
        summary = {"median_s": timing["median_s"], "runs_s": timing["runs_s"]}
        if hasattr(res, "p_c"):
            summary.update(p_a=res.p_a, p_c=res.p_c, kappa=res.kappa)
        results[name] = summary
        print(f"{name:36s} {timing['median_s']:.3f} s")
    goal = max(results[k]["median_s"] for k in ("livingston_lewis_1e6_scores",
                                                "hanson_brennan_1e6_scores",
                                                "rudner_1e6_scores"))
    path = write_results("decisions", {
        "seed": SEED, "n_scores": N, "n_items": N_ITEMS, "cuts": CUTS,
        "goal": "classification indices on 1,000,000 scores in under 1 s",
        "slowest_1e6_method_s": goal, "goal_met": goal < 1.0,
        "peers": "none run: R packages betafunctions, cacIRT and subscore are not packaged by "
                 "Debian and not installed on this machine",
        "results": results,
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
