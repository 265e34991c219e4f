"""CFA benchmark (issue 7): psychoval vs lavaan (and semopy when its bench env exists).

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_cfa.py
Writes benchmarks/results/cfa.json.

Same outputs on both sides: the fit, every fit measure, parameter estimates with SEs and the
standardized solution with delta-method SEs
(lavaan: cfa + fitMeasures + parameterEstimates + standardizedSolution;
psychoval: cfa (fit measures are computed with the fit) + estimates() + standardized()).
Data sets: Holzinger-Swineford (301 x 9, 3 factors) and a simulated 40 items / 8 correlated
factors / 5,000 respondents (seeded; written to a temporary CSV that R reads too).
Thread settings: BLAS pools pinned to 1 thread on both sides (OPENBLAS/OMP_NUM_THREADS=1).
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, time_python, time_r, write_results  # noqa: E402

import psychoval as pv  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HS_CSV = ROOT / "tests" / "reference" / "data" / "HolzingerSwineford1939.csv"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
SEMOPY_PY = ROOT / "benchmarks" / ".bench-env" / "bin" / "python"


def simulate(seed: int = 20261126, n: int = 5000, n_factors: int = 8, per: int = 5):
    rng = np.random.default_rng(seed)
    phi = np.full((n_factors, n_factors), 0.3)
    np.fill_diagonal(phi, 1.0)
    f = rng.multivariate_normal(np.zeros(n_factors), phi, size=n)
    lam = rng.uniform(0.5, 0.8, size=(n_factors, per))
    cols, lines = {}, []
    for j in range(n_factors):
        names = [f"i{j + 1}_{k + 1}" for k in range(per)]
        lines.append(f"F{j + 1} =~ " + " + ".join(names))
        for k, name in enumerate(names):
            cols[name] = lam[j, k] * f[:, j] + rng.normal(0, np.sqrt(1 - lam[j, k] ** 2), n)
    return pd.DataFrame(cols), "\n".join(lines)


def psychoval_run(model, data):
    fit = pv.cfa(model, data)
    fit.estimates()
    fit.standardized()
    return fit


def lavaan_times(csv: Path, model: str, repeat: int) -> dict:
    setup = (f'library(lavaan); dat <- utils::read.csv("{csv}"); '
             f'model <- {json.dumps(model)}')
    full = ("{ fit <- lavaan::cfa(model, data = dat); fm <- lavaan::fitMeasures(fit); "
            "pe <- lavaan::parameterEstimates(fit); "
            "ss <- lavaan::standardizedSolution(fit) }")
    est = "lavaan::cfa(model, data = dat)"
    return {"full": time_r(setup, full, repeat=repeat),
            "estimation_only": time_r(setup, est, repeat=repeat)}


SEMOPY_SCRIPT = r"""
import json, sys, time, statistics, warnings
warnings.filterwarnings("ignore")
import pandas as pd, semopy
csv, model, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
dat = pd.read_csv(csv)
def run():
    m = semopy.Model(model); m.fit(dat); semopy.calc_stats(m); m.inspect(std_est=True)
run()
ts = []
for _ in range(repeat):
    t0 = time.perf_counter(); run(); ts.append(time.perf_counter() - t0)
print(json.dumps({"median_s": statistics.median(ts), "runs_s": ts, "repeat": repeat,
                  "version": semopy.__version__}))
"""


def semopy_times(csv: Path, model: str, repeat: int) -> dict:
    if not SEMOPY_PY.exists():
        return {"skipped": "benchmarks/.bench-env not present"}
    try:
        out = subprocess.run([str(SEMOPY_PY), "-c", SEMOPY_SCRIPT, str(csv), model, str(repeat)],
                             capture_output=True, text=True, timeout=1800, check=True,
                             env={**os.environ, "PYTHONPATH": ""})
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (subprocess.CalledProcessError, json.JSONDecodeError) as exc:
        err = getattr(exc, "stderr", "") or str(exc)
        return {"failed": err.strip().splitlines()[-1] if err.strip() else str(exc)}


def main(repeat: int = 7) -> None:
    hs = pd.read_csv(HS_CSV)
    big, big_model = simulate()
    results: dict = {"repeat": repeat, "thread_settings": "BLAS 1 thread on both sides",
                     "peers": r_versions(["lavaan"]), "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        big_csv = Path(tmp) / "cfa40.csv"
        big.to_csv(big_csv, index=False)
        for name, model, data, csv in (("HolzingerSwineford_3f", HS_MODEL, hs, HS_CSV),
                                       ("sim_40items_8f_5000", big_model, big, big_csv)):
            ours = time_python(lambda m=model, d=data: psychoval_run(m, d), repeat=repeat)
            ours_fit = time_python(lambda m=model, d=data: pv.cfa(m, d), repeat=repeat)
            lav = lavaan_times(csv, model, repeat)
            sem = semopy_times(csv, model, repeat)
            fit = pv.cfa(model, data)
            case = {
                "n": len(data), "items": data.shape[1] if name.startswith("sim") else 9,
                "psychoval_full": ours, "psychoval_fit_and_fit_measures": ours_fit,
                "lavaan": lav, "semopy": sem,
                "chisq_psychoval": fit.fit_measures["chisq"],
                "ratio_lavaan_full_over_psychoval_full":
                    lav["full"]["median_s"] / ours["median_s"],
            }
            if "median_s" in sem:
                case["ratio_semopy_over_psychoval_full"] = sem["median_s"] / ours["median_s"]
                case["semopy_note"] = ("semopy fit + calc_stats + inspect(std_est=True): "
                                       "fewer fit measures (no SRMR), no standardized SEs")
            results["cases"][name] = case
            print(name, json.dumps({k: v for k, v in case.items() if k.startswith("ratio")}))
    path = write_results("cfa", results)
    print("wrote", path)


if __name__ == "__main__":
    main()
