"""Wired FIML / MLR CFA fits (issue 8): pv.cfa vs lavaan 0.6.14, same data, same run.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_cfa_fiml.py
Writes benchmarks/results/cfa_fiml.json.

Cases (same outputs on both sides: the fit with every fit measure, and the parameter table
with standard errors - ``pv.cfa(...).estimates()`` vs ``parameterEstimates(cfa(...))`` plus
``fitMeasures``):

- ``fiml_sim40``: ML with FIML (``missing = "ml"``) on a simulated 40 items / 8 correlated
  factors / 1,500 respondents with 3% MCAR (the data of bench_fiml.py, seeded);
- ``mlr_fiml_bfi``: MLR with FIML on bfi (25 items, 5 factors, 2,800 rows, its own missing
  responses; reverse-keyed items rescored 7 - x);
- ``mlr_hs_metric``: two-group metric invariance with MLR on Holzinger-Swineford (context).

Most of lavaan's time on the 40-item case goes to ``fitMeasures()`` (its FIML-corrected robust
indices refit the model and build the missing-data H1 information pattern by pattern), so
``python benchmarks/bench_cfa_fiml.py --fit-only`` adds, as context, lavaan's ``cfa()`` +
``parameterEstimates()`` alone (no fit measures; 3 runs) to the results file - a comparison
that favours lavaan, since pv.cfa always computes every fit measure.

Thread settings: BLAS pools pinned to 1 thread on both sides; median of ``repeat`` runs after
one warm-up.
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, time_python, time_r, write_results  # noqa: E402
from bench_fiml import BFI_ITEMS, BFI_MODEL, BFI_REV, simulate  # noqa: E402

import psychoval as pv  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "reference" / "data"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def sim_model(n_factors: int = 8, per: int = 5) -> str:
    return "\n".join(f"f{j + 1} =~ " + " + ".join(f"i{j + 1}_{k + 1}" for k in range(per))
                     for j in range(n_factors))


def main(repeat: int = 5) -> None:
    bfi = pd.read_csv(DATA / "bfi.csv")
    for it in BFI_REV:
        bfi[it] = 7 - bfi[it]
    bfi = bfi[BFI_ITEMS]
    sim = simulate()
    hs = pd.read_csv(DATA / "HolzingerSwineford1939.csv")
    cases = {
        "fiml_sim40": (sim, sim_model(), {"missing": "fiml"}, 'missing = "ml"'),
        "mlr_fiml_bfi": (bfi, BFI_MODEL, {"missing": "fiml", "estimator": "MLR"},
                         'missing = "ml", estimator = "MLR"'),
        "mlr_hs_metric": (hs, HS_MODEL, {"estimator": "MLR", "group": "school",
                                         "group_equal": ["loadings"]},
                          'estimator = "MLR", group = "school", group.equal = "loadings"'),
    }
    results: dict = {"repeat": repeat, "thread_settings": "BLAS 1 thread on both sides",
                     "peers": r_versions(["lavaan"]),
                     "outputs": "fit + all fit measures + parameter table with SEs",
                     "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (data, model, kw, r_args) in cases.items():
            csv = Path(tmp) / f"{name}.csv"
            data.to_csv(csv, index=False)

            def ours(data=data, model=model, kw=kw):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = pv.cfa(model, data, **kw)
                return fit.estimates(), dict(fit.fit_measures), fit.converged

            est, fm, conv = ours()
            setup = (f'library(lavaan); dat <- utils::read.csv("{csv}"); '
                     f"model <- {json.dumps(model)}")
            expr = (f"{{ fit <- lavaan::cfa(model, data = dat, {r_args}); "
                    "list(parameterEstimates(fit), fitMeasures(fit)) }")
            py = time_python(ours, repeat=repeat)
            r = time_r(setup, expr, repeat=repeat)
            results["cases"][name] = {
                "n": int(fm["ntotal"]), "items": int(data.shape[1]) - (1 if name.startswith(
                    "mlr_hs") else 0), "npar": int(fm["npar"]), "converged": bool(conv),
                "chisq": float(fm["chisq"]), "psychoval": py, "lavaan": r,
                "ratio_lavaan_over_psychoval": r["median_s"] / py["median_s"]}
            print(name, f"psychoval {py['median_s']:.4g}s", f"lavaan {r['median_s']:.4g}s",
                  f"ratio {r['median_s'] / py['median_s']:.1f}", flush=True)
    path = write_results("cfa_fiml", results)
    print("wrote", path)


def fit_only_context(repeat: int = 3) -> None:
    """lavaan's fit + parameter table without fitMeasures (context; updates the results)."""
    path = Path(__file__).parent / "results" / "cfa_fiml.json"
    results = {k: v for k, v in json.loads(path.read_text()).items()
               if k not in ("benchmark", "when", "machine", "threads")}
    bfi = pd.read_csv(DATA / "bfi.csv")
    for it in BFI_REV:
        bfi[it] = 7 - bfi[it]
    cases = {"fiml_sim40": (simulate(), sim_model(), 'missing = "ml"'),
             "mlr_fiml_bfi": (bfi[BFI_ITEMS], BFI_MODEL, 'missing = "ml", estimator = "MLR"')}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (data, model, r_args) in cases.items():
            csv = Path(tmp) / f"{name}.csv"
            data.to_csv(csv, index=False)
            setup = (f'library(lavaan); dat <- utils::read.csv("{csv}"); '
                     f"model <- {json.dumps(model)}")
            expr = (f"{{ fit <- lavaan::cfa(model, data = dat, {r_args}); "
                    "parameterEstimates(fit) }")
            r = time_r(setup, expr, repeat=repeat)
            case = results["cases"][name]
            case["lavaan_fit_only_context"] = r
            case["ratio_lavaan_fit_only_over_psychoval"] = (
                r["median_s"] / case["psychoval"]["median_s"])
            print(name, f"lavaan fit only {r['median_s']:.4g}s", flush=True)
    write_results("cfa_fiml", results)


if __name__ == "__main__":
    if "--fit-only" in sys.argv:
        fit_only_context()
    else:
        main()
