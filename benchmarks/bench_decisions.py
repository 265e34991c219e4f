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

Peers, same run, same data (written to temporary files that R reads): betafunctions 1.9.0
(LL.CA.MC with two cuts, HB.CA with one cut; modelfit = NULL) on the 1,000,000 totals, and
cacIRT 1.4 (Rud.P) on the first 100,000 ability estimates (it loops over people in R: about
50 s for 1,000,000) with psychoval timed on the same 100,000. Neither package is packaged by
Debian: with the packages installed they are library()d, otherwise their R sources are sourced
from the directories named by BETAFUNCTIONS_SRC and CACIRT_SRC (the R/ folders of the CRAN
GitHub mirrors); without either, the peers are skipped and the JSON says so. R runs
single-threaded (no BLAS in these computations). subscore (CTTsub) needs CTT, sirt and cocor,
which are not installed: no peer for subscore_value.
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import time_python, time_r, write_results  # noqa: E402

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


def _r_load(pkg: str, env: str) -> str | None:
    """R code that makes ``pkg`` available (library or sourcing its R files), or None."""
    probe = subprocess.run(["Rscript", "--vanilla", "-e",
                            f'cat(requireNamespace("{pkg}", quietly = TRUE))'],
                           capture_output=True, text=True)
    if probe.stdout.strip() == "TRUE":
        return f"library({pkg})"
    src = os.environ.get(env)
    if src and Path(src).is_dir():
        return (f'for (f in list.files("{src}", "\\\\.[Rr]$", full.names = TRUE)) '
                "source(f)")
    return None


def r_peers(totals: np.ndarray, theta: np.ndarray, se: np.ndarray) -> dict:
    try:
        bf = _r_load("betafunctions", "BETAFUNCTIONS_SRC")
        cac = _r_load("cacIRT", "CACIRT_SRC")
    except FileNotFoundError:  # no Rscript
        return {}
    if bf is None and cac is None:
        return {}
    version = subprocess.run(["Rscript", "--vanilla", "-e", "cat(R.version.string)"],
                             capture_output=True, text=True).stdout.strip()
    out: dict = {"R": version, "times": {},
                 "betafunctions": bf or "not available", "cacIRT": cac or "not available"}
    with tempfile.TemporaryDirectory() as tmp:
        tot = Path(tmp) / "totals.csv"
        th = Path(tmp) / "theta.csv"
        np.savetxt(tot, totals, fmt="%d")
        np.savetxt(th, np.column_stack([theta, se]), delimiter=",", fmt="%.17g")
        if bf is not None:
            setup = f'{bf}; x <- scan("{tot}", quiet = TRUE)'
            out["times"]["LL.CA.MC_1e6_scores"] = time_r(
                setup, "LL.CA.MC(x, 0.85, c(20, 30), min = 0, max = 40, modelfit = NULL)",
                repeat=5)
            out["times"]["HB.CA_1e6_scores"] = time_r(
                setup, "HB.CA(x, 0.85, 20, 40, modelfit = NULL)", repeat=5)
            out["note_hb"] = "HB.CA takes one cut (20); psychoval's run has two (20, 30)"
        if cac is not None:
            setup = f'{cac}; d <- utils::read.csv("{th}", header = FALSE)'
            out["times"]["Rud.P_1e5_scores"] = time_r(
                setup, "Rud.P(c(-0.5, 0.8), d[[1]], d[[2]])", repeat=5)
    return out


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
    rud_n = 100_000
    t = time_python(lambda: pv.classification(theta[:rud_n], [-0.5, 0.8], method="rudner",
                                              se=se[:rud_n]), repeat=7, warmup=1)
    results["rudner_1e5_scores"] = {"median_s": t["median_s"], "runs_s": t["runs_s"]}
    print(f"{'rudner_1e5_scores':36s} {t['median_s']:.3f} s")
    peers = r_peers(totals, theta[:rud_n], se[:rud_n])
    if peers:
        for key, ours in (("LL.CA.MC_1e6_scores", "livingston_lewis_1e6_scores"),
                          ("HB.CA_1e6_scores", "hanson_brennan_1e6_scores"),
                          ("Rud.P_1e5_scores", "rudner_1e5_scores")):
            if key in peers.get("times", {}):
                peers["times"][key]["ratio_to_psychoval"] = (
                    peers["times"][key]["median_s"] / results[ours]["median_s"])
                print(f"{key:36s} {peers['times'][key]['median_s']:.3f} s "
                      f"({peers['times'][key]['ratio_to_psychoval']:.0f}x psychoval)")
    goal = max(results[k]["median_s"] for k in ("livingston_lewis_1e6_scores",
                                                "hanson_brennan_1e6_scores",
                                                "rudner_1e6_scores"))
    path = write_results("decisions", {
        "seed": SEED, "n_scores": N, "n_items": N_ITEMS, "cuts": CUTS,
        "goal": "classification indices on 1,000,000 scores in under 1 s",
        "slowest_1e6_method_s": goal, "goal_met": goal < 1.0,
        "peers": peers or "skipped: betafunctions / cacIRT neither installed nor given as "
                          "sources (BETAFUNCTIONS_SRC, CACIRT_SRC)",
        "results": results,
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
