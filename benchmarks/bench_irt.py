"""IRT benchmark (issue 20): pv.irt against psychotools / eRm (R) and the Python mirt package.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_irt.py [--mirt DIR]
Writes benchmarks/results/irt.json.

Cases (seeded simulations, written to a temporary CSV that R reads too):
- 2PL, 100,000 x 40 0/1 items (slopes U(.7, 2), difficulties U(-2, 2)): pv.irt(model="2PL")
  by MML (61 equally spaced points, SEs by se="auto", which picks the cross-product here;
  also timed without SEs),
  and the Python mirt package's fit_mirt(model="2PL") (its default 21 points, tol 1e-4,
  default SEs). psychotools has no 2PL without R's mirt (Debian does not package it); its
  comparable is the Rasch model by conditional ML: psychotools::raschmodel (with its Hessian)
  and pv.irt(model="Rasch", method="CML") on the same data, and eRm::RM on the same data.
- GRM, 10,000 x 20 five-point items: pv.irt(model="GRM") (se="auto": the cross-product;
  also timed without SEs and with the observed information) and mirt's fit_mirt(model="GRM");
  the CML partial credit model on the same data, psychotools::pcmodel and pv.irt(model="PCM",
  method="CML").
mirt (PyPI, bench-only, not a dependency) runs in a subprocess with ``--mirt DIR`` on its
path (``pip install --no-deps --target DIR mirt``); without it the cases say "not available".
Thread settings: BLAS pools pinned to 1 thread on both sides (OPENBLAS/OMP_NUM_THREADS=1);
R uses its reference BLAS. Median of 5 runs after one warm-up (eRm: 3 runs).
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import expit  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, time_python, time_r, write_results  # noqa: E402

import psychoval as pv  # noqa: E402

REPEAT = 5


def sim_2pl(seed: int = 2020, n: int = 100_000, k: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.7, 2.0, k), rng.uniform(-2.0, 2.0, k)
    th = rng.standard_normal(n)
    return (rng.random((n, k)) < expit(a * (th[:, None] - b))).astype(float)


def sim_grm(seed: int = 2021, n: int = 10_000, k: int = 20, cats: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.8, 2.2, k)
    b = np.sort(rng.uniform(-2.0, 2.0, (k, cats - 1)), axis=1)
    th = rng.standard_normal(n)
    cum = expit(a[None, :, None] * (th[:, None, None] - b[None, :, :]))  # P(X >= c)
    return (rng.random((n, k))[:, :, None] < cum).sum(axis=2).astype(float)


_MIRT = """
import json, sys, time, statistics
import numpy as np
import mirt
x = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1).astype(int)
model, repeat = sys.argv[2], int(sys.argv[3])
fit = lambda: mirt.fit_mirt(x, model=model)
r = fit()
times = []
for _ in range(repeat):
    t0 = time.perf_counter(); r = fit(); times.append(time.perf_counter() - t0)
print(json.dumps({"median_s": statistics.median(times), "runs_s": times, "repeat": repeat,
                  "loglik": float(r.log_likelihood), "converged": bool(r.converged),
                  "iterations": int(r.n_iterations), "version": mirt.__version__}))
"""


def time_mirt(mirt_dir: str | None, csv: str, model: str) -> dict:
    if not mirt_dir:
        return {"available": False, "reason": "mirt (PyPI) not given (--mirt DIR)"}
    env = {**os.environ, "PYTHONPATH": mirt_dir}
    try:
        out = subprocess.run([sys.executable, "-c", _MIRT, csv, model, str(REPEAT)], env=env,
                             capture_output=True, text=True, check=True, timeout=3600)
    except subprocess.CalledProcessError as exc:
        return {"available": False, "reason": exc.stderr[-500:]}
    return {"available": True, **json.loads(out.stdout.strip().splitlines()[-1])}


def case(x: np.ndarray, model: str, cml_model: str, r_cml: str, mirt_dir: str | None,
         erm: str | None) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
        np.savetxt(fh, x.astype(int), fmt="%d", delimiter=",",
                   header=",".join(f"i{j + 1}" for j in range(x.shape[1])), comments="")
        csv = fh.name
    try:
        res = pv.irt(x, model=model)
        ours = time_python(lambda: pv.irt(x, model=model), repeat=REPEAT)
        ours.update(loglik=res.loglik, converged=res.converged, iterations=res.iterations,
                    se_method=res.se_method, quadrature=res.quadrature,
                    n_patterns=res.n_patterns)
        # the parts: the fit alone, and with the observed-information SEs
        no_se = time_python(lambda: pv.irt(x, model=model, se="none"), repeat=REPEAT)
        observed = time_python(lambda: pv.irt(x, model=model, se="observed"), repeat=3) \
            if x.shape[0] <= 20_000 else {"skipped": "2p E-steps on 100,000 patterns"}
        cml = pv.irt(x, model=cml_model, method="CML")
        ours_cml = time_python(lambda: pv.irt(x, model=cml_model, method="CML"), repeat=REPEAT)
        ours_cml.update(loglik=cml.loglik, converged=cml.converged)
        setup = (f"library(psychotools); library(eRm); "
                 f"X <- as.matrix(utils::read.csv('{csv}'))")
        peer = time_r(setup, f"{r_cml}(X)", repeat=REPEAT)
        out = {"n": x.shape[0], "items": x.shape[1], "model": model,
               "psychoval_mml": ours, "psychoval_mml_se_none": no_se,
               "psychoval_mml_se_observed": observed,
               "mirt_py": time_mirt(mirt_dir, csv, model),
               "psychoval_cml": ours_cml, f"psychotools_{r_cml}": peer}
        if erm:
            out[f"eRm_{erm}"] = time_r(setup, f"{erm}(X)", repeat=3)
        return out
    finally:
        os.unlink(csv)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirt", default=None, help="directory holding the PyPI mirt package")
    args = ap.parse_args()
    results = {"versions": {**r_versions(["psychotools", "eRm"]),
                            "psychoval": pv.__version__},
               "cases": {}}
    results["cases"]["2pl_100k_x_40"] = case(sim_2pl(), "2PL", "Rasch", "raschmodel",
                                             args.mirt, "RM")
    results["cases"]["grm_10k_x_20"] = case(sim_grm(), "GRM", "PCM", "pcmodel", args.mirt,
                                            None)
    c2, cg = results["cases"]["2pl_100k_x_40"], results["cases"]["grm_10k_x_20"]
    results["ratios"] = {
        "2pl_mml_seconds": c2["psychoval_mml"]["median_s"],
        "rasch_cml_psychotools_over_psychoval": c2["psychotools_raschmodel"]["median_s"]
        / c2["psychoval_cml"]["median_s"],
        "rasch_cml_erm_over_psychoval": c2["eRm_RM"]["median_s"]
        / c2["psychoval_cml"]["median_s"],
        "2pl_psychotools_rasch_cml_over_psychoval_2pl_mml":
            c2["psychotools_raschmodel"]["median_s"] / c2["psychoval_mml"]["median_s"],
        "grm_mml_seconds": cg["psychoval_mml"]["median_s"],
        "pcm_cml_psychotools_over_psychoval": cg["psychotools_pcmodel"]["median_s"]
        / cg["psychoval_cml"]["median_s"],
    }
    for key, c in (("2pl", c2), ("grm", cg)):
        if c["mirt_py"].get("available"):
            results["ratios"][f"{key}_mirt_py_over_psychoval"] = (
                c["mirt_py"]["median_s"] / c["psychoval_mml"]["median_s"])
    path = write_results("irt", results)
    print(json.dumps(results["ratios"], indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
