"""Reliability speed: psychoval.alpha vs one X.T @ X, pingouin and psych::alpha (same run).

Run from the worktree root:  PYTHONPATH=src python benchmarks/bench_reliability.py
Writes benchmarks/results/reliability.json. pingouin runs in benchmarks/.bench-env (a
bench-only venv: ``python -m venv benchmarks/.bench-env && benchmarks/.bench-env/bin/pip
install pingouin``); it is skipped (and said so) when that environment is missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import HERE, r_versions, time_python, time_r, write_results  # noqa: E402

import psychoval as pv  # noqa: E402

MAKE = '''
import numpy as np
def make_likert(n, k, seed, missing=0.0):
    """Float64 C-contiguous 1..6 Likert codes from a one-factor model (seeded)."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 1), dtype=np.float32)
    e = rng.standard_normal((n, k), dtype=np.float32)
    x = np.clip(np.round(3.5 + f + 1.2 * e), 1, 6).astype(np.float64)
    if missing:
        x[rng.random((n, k), dtype=np.float32) < missing] = np.nan
    return np.ascontiguousarray(x)
'''
_NS: dict = {}
exec(MAKE, _NS)  # the pingouin subprocess runs the same code, so both see the same data
make_likert = _NS["make_likert"]

PINGOUIN = MAKE + '''
import json, sys, pandas as pd, pingouin
sys.path.insert(0, {here!r})
from _common import time_python
x = make_likert({n}, {k}, {seed})
df = pd.DataFrame(x)
r = time_python(lambda: pingouin.cronbach_alpha(data=df), repeat=7)
r["alpha"] = float(pingouin.cronbach_alpha(data=df)[0])
r["version"] = pingouin.__version__
print(json.dumps(r))
'''


def run_pingouin(n: int, k: int, seed: int) -> dict:
    py = HERE / ".bench-env" / "bin" / "python"
    if not py.exists():
        return {"skipped": "benchmarks/.bench-env not installed"}
    code = PINGOUIN.format(here=str(HERE), n=n, k=k, seed=seed)
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ratio(a: dict, b: dict) -> float:
    return a["median_s"] / b["median_s"]


def main() -> None:
    res: dict = {"notes": [], "R": r_versions(["psych"])}
    res["notes"].append("R: reference BLAS, single thread; numpy: OpenBLAS with the threads "
                        "listed under `threads`; 2 shared cores, so compare only within a run")

    # 1. 1,000,000 x 50 complete float64
    x = make_likert(1_000_000, 50, 1)
    big = {
        "xtx": time_python(lambda: x.T @ x),
        "psychoval_alpha": time_python(lambda: pv.alpha(x)),
    }
    a = pv.alpha(x)
    big["psychoval_alpha_value"] = a.raw_alpha
    big["frequencies_included"] = a.response_freq is not None
    big["pingouin_cronbach_alpha"] = run_pingouin(1_000_000, 50, 1)
    big["ratio_alpha_over_xtx"] = ratio(big["psychoval_alpha"], big["xtx"])
    if "median_s" in big["pingouin_cronbach_alpha"]:
        big["ratio_alpha_over_pingouin"] = ratio(big["psychoval_alpha"],
                                                 big["pingouin_cronbach_alpha"])
    res["complete_1e6x50"] = big

    # 2. the same with 3% missing, pairwise deletion
    x = None  # free the complete copy
    xm = make_likert(1_000_000, 50, 1, missing=0.03)
    miss = {
        "xtx_complete_float64": big["xtx"],
        "psychoval_alpha_pairwise": time_python(lambda: pv.alpha(xm), repeat=5),
    }
    miss["ratio_alpha_over_xtx"] = ratio(miss["psychoval_alpha_pairwise"], big["xtx"])
    res["missing3pct_1e6x50"] = miss
    xm = None

    with tempfile.TemporaryDirectory() as tmp:
        # 3. 100,000 x 20: psychoval vs psych::alpha (item statistics included in both)
        s = make_likert(100_000, 20, 2)
        path = Path(tmp) / "s.csv"
        np.savetxt(path, s, fmt="%d", delimiter=",", header=",".join(
            f"item{j + 1}" for j in range(20)), comments="")
        mid = {
            "psychoval_alpha": time_python(lambda: pv.alpha(s)),
            "psych_alpha": time_r(f'library(psych); x <- read.csv("{path}")',
                                  "psych::alpha(x)", repeat=5),
            "xtx": time_python(lambda: s.T @ s),
        }
        mid["ratio_psych_over_psychoval"] = ratio(mid["psych_alpha"], mid["psychoval_alpha"])
        res["complete_1e5x20"] = mid

        # 4. 1,000 bootstrap resamples on 2,000 x 20
        b = make_likert(2000, 20, 3)
        bpath = Path(tmp) / "b.csv"
        np.savetxt(bpath, b, fmt="%d", delimiter=",", header=",".join(
            f"item{j + 1}" for j in range(20)), comments="")
        boot = {
            "psychoval_bootstrap_1000": time_python(
                lambda: pv.alpha(b, ci_method="bootstrap", n_boot=1000, seed=1)),
            "psychoval_bca_1000": time_python(
                lambda: pv.alpha(b, ci_method="bca", n_boot=1000, seed=1)),
            "psych_alpha_n_iter_1000": time_r(
                f'library(psych); x <- read.csv("{bpath}")',
                "psych::alpha(x, n.iter = 1000)", repeat=5),
        }
        boot["ratio_psych_over_psychoval_bootstrap"] = ratio(boot["psych_alpha_n_iter_1000"],
                                                             boot["psychoval_bootstrap_1000"])
        boot["ratio_psych_over_psychoval_bca"] = ratio(boot["psych_alpha_n_iter_1000"],
                                                       boot["psychoval_bca_1000"])
        res["bootstrap_2000x20"] = boot
        res["notes"].append("psych::alpha(n.iter=1000) runs its resamples with mclapply at "
                            "psych's default (getOption('mc.cores', 2): both cores)")
    path = write_results("reliability", res)
    print(path)
    print(json.dumps({k: v for k, v in res.items() if k != "R"}, indent=1, default=str)[:4000])


if __name__ == "__main__":
    main()
