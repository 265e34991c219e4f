"""Item analysis speed (issue 9): 100,000 x 60 dichotomous items, the full item table.

psychoval: ``pv.item_analysis(x)`` (difficulty, sd, item-total and item-rest r, upper-lower
D, alpha if dropped, floor/ceiling, response distribution), quantile-cut and rank groups.
Peers in the same run, on the same numbers (written once to a binary file both sides read):
``psych::alpha(x)`` (its item statistics, alpha.drop and response.freq) and base R's
``colMeans(x); cor(x)`` (a floor that computes far less). Goal: >= 100x faster than psych.

Threads: R here links the reference BLAS (single-threaded), so numpy's BLAS is pinned to one
thread too (OPENBLAS/OMP/MKL_NUM_THREADS=1 unless already set); both are recorded.
Run: ``PYTHONPATH=src /work/main/.venv/bin/python benchmarks/bench_items.py``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, time_python, time_r, write_results  # noqa: E402

N, K, SEED, REPEAT = 100_000, 60, 20261126, 7


def simulate() -> np.ndarray:
    rng = np.random.default_rng(SEED)
    theta = rng.normal(size=N)
    b = np.linspace(-2, 2, K)
    a = rng.uniform(0.6, 2.0, size=K)
    p = 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    return np.ascontiguousarray((rng.random((N, K)) < p).astype(np.float64))


def main() -> None:
    import psychoval as pv

    x = simulate()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.bin"
        path.write_bytes(np.asfortranarray(x).tobytes(order="F"))  # R reads column-major
        setup = (f'x <- matrix(readBin("{path}", "double", n = {N * K}, size = 8), '
                 f'nrow = {N}, ncol = {K}); library(psych)')
        res_py_cut = time_python(lambda: pv.item_analysis(x), repeat=REPEAT)
        res_py_rank = time_python(lambda: pv.item_analysis(x, groups="rank"), repeat=REPEAT)
        res_psych = time_r(setup, "psych::alpha(x, warnings = FALSE)", repeat=REPEAT)
        res_base = time_r(setup, "{colMeans(x); cor(x)}", repeat=REPEAT)
        # same data, same answer: alpha and one alpha-if-dropped from R
        import subprocess

        check = subprocess.run(
            ["Rscript", "--vanilla", "-e",
             f"suppressPackageStartupMessages({{ {setup} }}); a <- psych::alpha(x, "
             "warnings = FALSE); cat(sprintf('%.17g', c(a$total$raw_alpha, "
             "a$alpha.drop$raw_alpha[1], a$item.stats$r.drop[1])), sep = '\\n')"],
            capture_output=True, text=True, check=True).stdout.split()
    ours = pv.item_analysis(x)
    r_vals = [float(v) for v in check]
    py_vals = [float(ours.scales.loc["total", "alpha"]),
               float(ours.items["alpha_if_dropped"].iloc[0]), float(ours.items["r_drop"].iloc[0])]
    agree = float(np.max(np.abs(np.array(r_vals) - np.array(py_vals))))
    ratio = res_psych["median_s"] / res_py_cut["median_s"]
    payload = {
        "data": {"n": N, "k": K, "seed": SEED, "model": "2PL, a ~ U(0.6, 2), b in [-2, 2]"},
        "software": r_versions(["psych"]),
        "results": {
            "psychoval_item_analysis_cut": res_py_cut,
            "psychoval_item_analysis_rank": res_py_rank,
            "r_psych_alpha": res_psych,
            "r_base_colMeans_cor": res_base,
        },
        "ratio_psych_over_psychoval_cut": ratio,
        "ratio_psych_over_psychoval_rank": res_psych["median_s"] / res_py_rank["median_s"],
        "ratio_base_r_over_psychoval_cut": res_base["median_s"] / res_py_cut["median_s"],
        "max_abs_diff_vs_psych_alpha_alpha_drop1_r_drop1": agree,
        "goal": ">= 100x faster than psych::alpha",
    }
    out = write_results("items", payload)
    print(f"psychoval item_analysis (cut):  {res_py_cut['median_s'] * 1000:8.1f} ms")
    print(f"psychoval item_analysis (rank): {res_py_rank['median_s'] * 1000:8.1f} ms")
    print(f"psych::alpha:                   {res_psych['median_s'] * 1000:8.1f} ms  "
          f"({ratio:.0f}x slower)")
    print(f"base R colMeans + cor:          {res_base['median_s'] * 1000:8.1f} ms")
    print(f"max |psychoval - psych| on alpha, alpha.drop[1], r.drop[1]: {agree:.2e}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
