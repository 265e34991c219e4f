"""Rater agreement speed: pv.icc and pv.cohen_kappa against psych::ICC and psych::cohen.kappa.

Simulated rubric: N candidates, K raters, 1-5 scores (the same CSV is read by both sides).
Cases: complete ratings (psych lmer=FALSE vs our ANOVA), 20% missing ratings (psych's default
lmer=TRUE via lme4 vs our REML), and Cohen's kappa of two raters (quadratic weights).
Python peers in the same run: statsmodels (cohens_kappa from the table it builds, fleiss_kappa),
the krippendorff package, and pingouin.intraclass_corr when benchmarks/.bench-env has it
(a bench-only venv: python -m venv benchmarks/.bench-env && .bench-env/bin/pip install pingouin).

Run: PYTHONPATH=src python benchmarks/bench_raters.py  -> benchmarks/results/raters.json
"""

from __future__ import annotations

import json
import os
import subprocess
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


PINGOUIN = Path(__file__).parent / ".bench-env" / "bin" / "python"
PINGOUIN_SCRIPT = """
import json, sys, time, statistics
import pandas as pd, pingouin as pg
full = pd.read_csv(sys.argv[1])
full["cand"] = range(len(full))
long = full.melt(id_vars="cand", var_name="rater", value_name="score")
f = lambda: pg.intraclass_corr(data=long, targets="cand", raters="rater", ratings="score")
f()
tt = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter(); f(); tt.append(time.perf_counter() - t0)
print(json.dumps({"median_s": statistics.median(tt), "runs_s": tt, "repeat": len(tt),
                  "version": pg.__version__}))
"""


def python_peers(full: pd.DataFrame, miss: pd.DataFrame) -> dict:
    import krippendorff
    import statsmodels
    from statsmodels.stats import inter_rater as ir

    lev5 = [1, 2, 3, 4, 5]
    out = {}
    ours = time_python(lambda: pv.cohen_kappa(full, raters=["r1", "r2"], levels=lev5,
                                              weights="unweighted"), repeat=REPEAT)

    def sm_kappa():
        table = ir.to_table(full[["r1", "r2"]].to_numpy() - 1, bins=5)[0]
        return ir.cohens_kappa(table)

    peer = time_python(sm_kappa, repeat=REPEAT)
    out["cohen_kappa_vs_statsmodels"] = {"psychoval": ours, "statsmodels": peer,
                                         "ratio_peer_over_psychoval":
                                         peer["median_s"] / ours["median_s"]}
    ours = time_python(lambda: pv.fleiss_kappa(full, levels=lev5), repeat=REPEAT)
    peer = time_python(lambda: ir.fleiss_kappa(ir.aggregate_raters(full.to_numpy())[0]),
                       repeat=REPEAT)
    out["fleiss_kappa_vs_statsmodels"] = {
        "psychoval": ours, "statsmodels": peer,
        "ratio_peer_over_psychoval": peer["median_s"] / ours["median_s"],
        "note": "psychoval also computes two standard errors, a test and category kappas"}
    x = miss.to_numpy()
    ours = time_python(lambda: pv.krippendorff_alpha(x, level="ordinal", n_boot=0),
                       repeat=REPEAT)
    peer = time_python(lambda: krippendorff.alpha(reliability_data=x.T,
                                                  level_of_measurement="ordinal"),
                       repeat=REPEAT)
    out["krippendorff_alpha_ordinal_vs_krippendorff"] = {
        "psychoval": ours, "krippendorff": peer,
        "ratio_peer_over_psychoval": peer["median_s"] / ours["median_s"]}
    ours = time_python(lambda: pv.krippendorff_alpha(x, level="ordinal", n_boot=1000, seed=1),
                       repeat=REPEAT)
    out["krippendorff_alpha_ordinal_bootstrap_1000"] = {"psychoval": ours}
    out["versions"] = {"statsmodels": statsmodels.__version__,
                       "krippendorff": getattr(krippendorff, "__version__", "0.9.0")}
    return out


def pingouin_peer(csv: Path) -> dict | None:
    if not PINGOUIN.exists():
        return None
    proc = subprocess.run([str(PINGOUIN), "-c", PINGOUIN_SCRIPT, str(csv), str(REPEAT)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout)


def main() -> None:
    full, miss = simulate()
    tmp = Path(tempfile.mkdtemp())
    full.to_csv(tmp / "full.csv", index=False)
    miss.to_csv(tmp / "miss.csv", index=False)
    setup = (f'library(psych); full <- read.csv("{tmp / "full.csv"}"); '
             f'miss <- read.csv("{tmp / "miss.csv"}")')
    only = set(sys.argv[1:])  # optional: names of the R cases to run
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
        if only and name not in only:
            continue
        py = time_python(func, repeat=REPEAT)
        r = time_r(setup, expr, repeat=REPEAT)
        results[name] = {"psychoval": py, "psych": r, "r_expr": expr,
                         "ratio_psych_over_psychoval": r["median_s"] / py["median_s"]}
        print(f"{name:18s} psychoval {py['median_s'] * 1e3:9.2f} ms   psych "
              f"{r['median_s'] * 1e3:9.2f} ms   ratio {r['median_s'] / py['median_s']:7.1f}x")
    for name, res in python_peers(full, miss).items():
        results[name] = res
        if "ratio_peer_over_psychoval" in res:
            peer = [k for k in res if k not in ("psychoval", "ratio_peer_over_psychoval", "note")][0]
            print(f"{name:42s} psychoval {res['psychoval']['median_s'] * 1e3:8.2f} ms   "
                  f"{peer} {res[peer]['median_s'] * 1e3:8.2f} ms   "
                  f"ratio {res['ratio_peer_over_psychoval']:6.1f}x")
    ping = pingouin_peer(tmp / "full.csv")
    if ping is not None:
        entry = {"pingouin": ping, "psychoval": results["icc_complete"]["psychoval"]}
        if "median_s" in ping:
            entry["ratio_pingouin_over_psychoval"] = (
                ping["median_s"] / results["icc_complete"]["psychoval"]["median_s"])
            print(f"icc_complete vs pingouin {ping['version']}: {ping['median_s'] * 1e3:.2f} ms "
                  f"ratio {entry['ratio_pingouin_over_psychoval']:.1f}x")
        results["icc_complete_vs_pingouin"] = entry
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
