"""pv.validate at scale (issue 14): 50,000 and 500,000 respondents x 60 items, 3% missing.

Data: a three-tier framework (tiers correlate .5; each tier over 4 competencies loading .75;
each competency over 5 Likert items loading U(.55, .80), cut at 4 sorted N(0, .9) thresholds
into 1..5; the fifth item of each competency reverse-keyed; 3% of cells missing completely at
random) - the model of the product's ``second_order.py`` case generator, rewritten here so
the benchmark runs anywhere. ``--data PREFIX`` uses an existing ``PREFIX.csv`` +
``PREFIX.yaml`` instead (e.g. the files that generator writes).

psychoval: ``psychoval validate FILE --framework FW --json OUT`` in a fresh process per run
(so that peak RSS is the run's own): wall time, the report's step timings, peak RSS.
Peer in the same run: lavaan 0.6.14 fitting the three tier CFAs (correlated competencies,
``estimator = "MLR", missing = "ml"``) on the 50,000 file - only part of what validate does.

Threads: psychoval pins BLAS to one thread inside validate; R uses the reference BLAS.
Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_validate_large.py [--sizes 50000]
[--repeat 5] [--r-repeat 1] [--no-r]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, time_r, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIERS = {"foundation": ["F1", "F2", "F3", "F4"], "practice": ["P1", "P2", "P3", "P4"],
         "strategy": ["S1", "S2", "S3", "S4"]}


def simulate(n: int, seed: int, out: Path) -> tuple[Path, Path]:
    """Write ``out.csv`` and ``out.yaml`` (see the module docstring)."""
    import numpy as np
    import pandas as pd
    import yaml

    rng = np.random.default_rng(seed)
    k = len(TIERS)
    t = rng.multivariate_normal(np.zeros(k), np.full((k, k), 0.5) + 0.5 * np.eye(k), size=n)
    cols, fw_tiers = {}, []
    for ti, (tier, comps) in enumerate(TIERS.items()):
        fw_comps = []
        for c in comps:
            eta = 0.75 * t[:, ti] + np.sqrt(1 - 0.75**2) * rng.standard_normal(n)
            items = []
            for j in range(5):
                lam = rng.uniform(0.55, 0.80)
                y = lam * eta + np.sqrt(1 - lam**2) * rng.standard_normal(n)
                x = 1 + np.searchsorted(np.sort(rng.normal(0, 0.9, 4)), y).astype(float)
                iid = f"{c}_{j + 1}"
                if j == 4:
                    x = 6 - x
                x[rng.random(n) < 0.03] = np.nan
                cols[iid] = x
                items.append({"id": iid, "reverse": True} if j == 4 else {"id": iid})
            fw_comps.append({"id": c, "name": f"Competency {c}", "items": items})
        fw_tiers.append({"id": tier, "name": tier.title(), "competencies": fw_comps})
    df = pd.DataFrame(cols)
    df.insert(0, "unit", rng.choice(["north", "south", "east", "west"], size=n))
    df.insert(0, "rid", [f"P{i:07d}" for i in range(n)])
    fw = {"name": "Simulated second-order framework", "id_column": "rid",
          "group_columns": ["unit"], "defaults": {"type": "likert", "min": 1, "max": 5},
          "tiers": fw_tiers}
    csv, yml = out.with_suffix(".csv"), out.with_suffix(".yaml")
    df.to_csv(csv, index=False, float_format="%.0f")
    yml.write_text(yaml.safe_dump(fw, sort_keys=False))
    return csv, yml


def run_validate(csv: Path, yml: Path) -> dict:
    """One validate run in a fresh process: wall seconds, step timings, peak RSS (MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "psychoval", "validate", str(csv),
                               "--framework", str(yml), "--seed", "1", "--json", str(out),
                               "--quiet"], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        rep = json.loads(out.read_text())
    return {"wall_s": wall, "peak_rss_mb": max(peak, before) / 1024.0,
            "peak_rss_is_max_so_far": peak == before,
            "steps_s": rep["timings"], "summary": rep["summary"],
            "fit": [{k: r[k] for k in ("level", "target", "model", "estimator", "status",
                                       "chisq", "cfi", "rmsea")} for r in rep["fit"]]}


def lavaan_tiers(csv: Path, repeat: int) -> dict:
    items = {c: [f"{c}_{j}" for j in range(1, 6)] for comps in TIERS.values() for c in comps}
    models = {t: "\n".join(f"{c} =~ {' + '.join(items[c])}" for c in comps)
              for t, comps in TIERS.items()}
    r_models = "list(" + ", ".join(f"{t} = {json.dumps(m)}" for t, m in models.items()) + ")"
    rev = ", ".join(f'"{c}_5"' for comps in TIERS.values() for c in comps)
    setup = f"""library(lavaan)
x <- read.csv("{csv}")
for (v in c({rev})) x[[v]] <- 6 - x[[v]]
models <- {r_models}
fit3 <- function() for (m in models) cfa(m, data = x, estimator = "MLR", missing = "ml")
"""
    return time_r(setup, "fit3()", repeat=repeat, warmup=0, timeout=7200)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50000,500000")
    ap.add_argument("--repeat", type=int, default=5, help="validate runs at 50,000 (median)")
    ap.add_argument("--repeat-large", type=int, default=1, help="runs at larger sizes")
    ap.add_argument("--r-repeat", type=int, default=1)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--data", help="use PREFIX.csv + PREFIX.yaml for the 50,000 size")
    a = ap.parse_args()
    results: dict = {"task": "psychoval validate on simulated 3-tier x 4-competency x 5-item "
                             "Likert data, 3% MCAR; one fresh process per run",
                     "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for n in (int(s) for s in a.sizes.split(",")):
            if a.data and n == 50_000:
                csv, yml = Path(a.data + ".csv"), Path(a.data + ".yaml")
            else:
                csv, yml = simulate(n, seed=11, out=Path(tmp) / f"large{n}")
            files[n] = csv
            runs = [run_validate(csv, yml)
                    for _ in range(a.repeat if n <= 50_000 else a.repeat_large)]
            walls = [r["wall_s"] for r in runs]
            results["sizes"][str(n)] = {
                "median_wall_s": statistics.median(walls), "runs_wall_s": walls,
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                "steps_median_s": {k: statistics.median(r["steps_s"][k] for r in runs)
                                   for k in runs[0]["steps_s"]},
                "summary": runs[-1]["summary"], "fit": runs[-1]["fit"]}
            print(f"n={n}: {statistics.median(walls):.1f} s, peak "
                  f"{results['sizes'][str(n)]['peak_rss_mb']:.0f} MB", flush=True)
            write_results("validate_large", results)
        if not a.no_r and 50_000 in files:
            r = lavaan_tiers(files[50_000], a.r_repeat)
            results["lavaan_three_tier_fits_50000"] = r
            results["ratio_lavaan_tiers_over_validate_50000"] = (
                r["median_s"] / results["sizes"]["50000"]["median_wall_s"])
            results["versions"] = r_versions(["lavaan"])
            print(f"lavaan three tier fits: {r['median_s']:.1f} s; ratio "
                  f"{results['ratio_lavaan_tiers_over_validate_50000']:.1f}", flush=True)
    path = write_results("validate_large", results)
    print(f"-> {path}")


if __name__ == "__main__":
    main()
