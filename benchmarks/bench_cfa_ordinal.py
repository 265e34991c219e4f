"""Ordinal CFA benchmark (issue 18): psychoval vs lavaan 0.6.14, WLSMV.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_cfa_ordinal.py [--quick]
Writes benchmarks/results/cfa_ordinal.json (``--quick``: one short round, printed only).

Same outputs on both sides: the fit with every fit measure (scaled test, robust CFI/TLI/RMSEA),
parameter estimates with robust SEs and the standardized solution with delta-method SEs
(lavaan: cfa(ordered = TRUE, estimator = "WLSMV") + fitMeasures + parameterEstimates +
standardizedSolution; psychoval: cfa(ordered=True) (fit measures come with the fit) +
estimates() + standardized() + fit_measures).
Data: 5-category Likert items cut from a seeded factor model with correlated factors (0.3),
loadings U(0.5, 0.8) and per-item thresholds around (-1.5, -0.5, 0.5, 1.5):
(a) 20 items / 4 factors / n = 2,000 (the design of issue 18) and (b) 40 items / 8 factors /
n = 5,000. The CSV is written once and read by R.
Interleaved: each round times psychoval, then lavaan (one Rscript, untimed warm-up), so that
both see the same load on a shared machine; per-round ratios and their median are reported.
Before timing, the outputs are checked to agree (estimates and SEs to rtol 1e-4, chisq_scaled
and the robust fit measures).
Thread settings: BLAS pools pinned to 1 thread on both sides (OPENBLAS/OMP_NUM_THREADS=1).
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, time_python, time_r, write_results  # noqa: E402

import psychoval as pv  # noqa: E402

DESIGNS = {"sim_20items_4f_2000": (2000, 4, 5), "sim_40items_8f_5000": (5000, 8, 5)}
RTOL = 1e-4
FIT_KEYS = ("chisq", "chisq_scaled", "chisq_scaling_factor", "cfi_scaled", "rmsea_scaled",
            "cfi_robust", "tli_robust", "rmsea_robust", "srmr")


def simulate(n: int, n_factors: int, per: int, seed: int = 20261218):
    """Likert 1..5 items from a correlated-factor model (seeded)."""
    rng = np.random.default_rng(seed)
    phi = np.full((n_factors, n_factors), 0.3)
    np.fill_diagonal(phi, 1.0)
    f = rng.multivariate_normal(np.zeros(n_factors), phi, size=n)
    lam = rng.uniform(0.5, 0.8, size=(n_factors, per))
    cols, lines = {}, []
    for j in range(n_factors):
        names = [f"y{j + 1}_{k + 1}" for k in range(per)]
        lines.append(f"F{j + 1} =~ " + " + ".join(names))
        for k, name in enumerate(names):
            ystar = lam[j, k] * f[:, j] + rng.normal(0, np.sqrt(1 - lam[j, k] ** 2), n)
            cuts = np.array([-1.5, -0.5, 0.5, 1.5]) + rng.uniform(-0.3, 0.3)
            cols[name] = np.digitize(ystar, cuts) + 1
    return pd.DataFrame(cols), "\n".join(lines)


def psychoval_run(model, data):
    fit = pv.cfa(model, data, ordered=True)
    fit.estimates()
    fit.standardized()
    fit.fit_measures  # noqa: B018 (computed with the fit; touched as lavaan's fitMeasures)
    return fit


def _r_setup(csv: Path, model: str) -> str:
    return (f'library(lavaan); dat <- utils::read.csv("{csv}"); '
            f'model <- {json.dumps(model)}')


R_FULL = ('{ fit <- lavaan::cfa(model, data = dat, ordered = TRUE, estimator = "WLSMV"); '
          "fm <- lavaan::fitMeasures(fit); pe <- lavaan::parameterEstimates(fit); "
          "ss <- lavaan::standardizedSolution(fit) }")


def lavaan_outputs(csv: Path, model: str, out_dir: Path) -> dict:
    """lavaan's parameterEstimates, standardizedSolution and fitMeasures (untimed)."""
    script = f"""
suppressPackageStartupMessages({{ {_r_setup(csv, model)} }})
{R_FULL}
utils::write.csv(pe, "{out_dir / 'pe.csv'}", row.names = FALSE)
utils::write.csv(ss, "{out_dir / 'ss.csv'}", row.names = FALSE)
utils::write.csv(data.frame(name = names(fm), value = as.numeric(fm)),
                 "{out_dir / 'fm.csv'}", row.names = FALSE)
"""
    subprocess.run(["Rscript", "--vanilla", "-e", script], check=True, capture_output=True)
    fm = pd.read_csv(out_dir / "fm.csv")
    return {"pe": pd.read_csv(out_dir / "pe.csv"), "ss": pd.read_csv(out_dir / "ss.csv"),
            "fm": dict(zip(fm["name"].str.replace(".", "_", regex=False), fm["value"],
                           strict=True))}


def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-8)))


def compare(fit, lav: dict) -> dict:
    """Largest relative differences between psychoval and lavaan (rows matched by key)."""
    out = {}
    for name, ours, theirs, col in (("estimates", fit.estimates(), lav["pe"], "est"),
                                    ("standardized", fit.standardized(), lav["ss"], "est_std")):
        key = ["lhs", "op", "rhs"]
        theirs = theirs.assign(rhs=theirs["rhs"].fillna(""))  # lavaan's "~1" rows: rhs ""
        theirs.columns = [c.replace(".", "_") for c in theirs.columns]
        m = ours.merge(theirs, on=key, suffixes=("", "_lav"), how="inner")
        if len(m) != len(theirs):
            raise AssertionError(f"{name}: {len(theirs) - len(m)} lavaan rows not matched")
        # se 0 rows (fixed) compare absolutely
        se_mask = m["se_lav"].to_numpy() > 1e-8
        out[f"{name}_est_max_rel"] = _max_rel(m[col], m[f"{col}_lav"])
        out[f"{name}_se_max_rel"] = _max_rel(m["se"][se_mask], m["se_lav"][se_mask])
    worst = max(out.values())
    fm = fit.fit_measures
    out["fit_measures_rel"] = {k: _max_rel([fm[k]], [lav["fm"][k]]) for k in FIT_KEYS}
    worst = max(worst, *out["fit_measures_rel"].values())
    out["agree_rtol_1e-4"] = bool(worst < RTOL)
    return out


def main(quick: bool = False) -> None:
    rounds, repeat = (1, 3) if quick else (3, 5)
    results: dict = {"rounds": rounds, "repeat_per_round": repeat,
                     "thread_settings": "BLAS 1 thread on both sides",
                     "interleaving": "per round: psychoval (warm-up + repeat), then lavaan "
                                     "(Rscript: warm-up + repeat)",
                     "peers": r_versions(["lavaan"]), "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (n, nf, per) in DESIGNS.items():
            data, model = simulate(n, nf, per)
            csv = Path(tmp) / f"{name}.csv"
            data.to_csv(csv, index=False)
            fit = psychoval_run(model, data)
            agree = compare(fit, lavaan_outputs(csv, model, Path(tmp)))
            print(name, "agreement:", json.dumps(agree))
            ours_runs, lav_runs, ratios = [], [], []
            for _ in range(rounds):
                ours = time_python(lambda m=model, d=data: psychoval_run(m, d), repeat=repeat)
                lav = time_r(_r_setup(csv, model), R_FULL, repeat=repeat)
                ours_runs += ours["runs_s"]
                lav_runs += lav["runs_s"]
                ratios.append(lav["median_s"] / ours["median_s"])
            case = {
                "n": n, "items": nf * per, "factors": nf, "categories": 5,
                "psychoval_s": {"median_s": statistics.median(ours_runs), "runs_s": ours_runs},
                "lavaan_s": {"median_s": statistics.median(lav_runs), "runs_s": lav_runs},
                "ratio_lavaan_over_psychoval_by_round": ratios,
                "ratio_lavaan_over_psychoval": statistics.median(ratios),
                "agreement": agree,
                "chisq_scaled_psychoval": fit.fit_measures["chisq_scaled"],
            }
            results["cases"][name] = case
            print(name, json.dumps({"psychoval_s": case["psychoval_s"]["median_s"],
                                    "lavaan_s": case["lavaan_s"]["median_s"],
                                    "ratio": case["ratio_lavaan_over_psychoval"]}))
    if quick:  # a smoke run: results/cfa_ordinal.json keeps the full run's numbers
        return
    path = write_results("cfa_ordinal", results)
    print("wrote", path)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one round of 3 runs per side")
    main(quick=ap.parse_args().quick)
