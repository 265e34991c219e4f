"""FIML / MLR building blocks (issue 8): psychoval.stats.sem._fiml vs lavaan's own functions.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_fiml.py
Writes benchmarks/results/fiml.json.

The CFA engine (issue 7) is not wired to FIML yet, so this times the pieces a FIML / MLR fit
is made of, on the same data in the same run, against the lavaan 0.6.14 functions that do
the same job (lavaan:::lav_mvnorm_missing_*):

- ``em``: saturated H1 moments by EM from the raw data (patterns + pattern statistics + EM)
- ``loglik``: casewise log-likelihood of (mu, Sigma) from the pattern statistics
- ``gradient``: d logL / d(mu, vech Sigma)
- ``information_observed``: observed (H1) information in (mu, vech Sigma)
- ``information_firstorder``: casewise scores -> first-order information

and, for context, lavaan's complete fits (``cfa(missing = "ml")`` and with
``estimator = "MLR"``) on bfi - the targets the wired engine is measured against.
Data: bfi (25 items, 2,800 rows, its own missing responses; reverse-keyed items rescored) and
a simulated 40 items / 8 correlated factors / 1,500 respondents on a 1-5 scale with 3% MCAR
(seeded). Thread settings: BLAS pools pinned to 1 thread on both sides.
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, time_python, time_r, write_results  # noqa: E402

from psychoval.stats import _fiml as F  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BFI_CSV = ROOT / "tests" / "reference" / "data" / "bfi.csv"
BFI_REV = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]
BFI_ITEMS = [f"{t}{i}" for t in "ACENO" for i in range(1, 6)]
BFI_MODEL = "\n".join(f"{name} =~ " + " + ".join(f"{t}{i}" for i in range(1, 6))
                      for name, t in (("agree", "A"), ("conscientious", "C"),
                                      ("extraversion", "E"), ("neuroticism", "N"),
                                      ("openness", "O")))


def simulate(seed: int = 20261126, n: int = 1500, n_factors: int = 8, per: int = 5,
             rate: float = 0.03) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    phi = np.full((n_factors, n_factors), 0.3)
    np.fill_diagonal(phi, 1.0)
    f = rng.multivariate_normal(np.zeros(n_factors), phi, size=n)
    cols = {}
    for j in range(n_factors):
        for k in range(per):
            lam = rng.uniform(0.5, 0.8)
            y = lam * f[:, j] + rng.normal(0, np.sqrt(1 - lam**2), n)
            cols[f"i{j + 1}_{k + 1}"] = np.clip(np.round(1.2 * y + 3), 1, 5)
    x = pd.DataFrame(cols)
    return x.mask(rng.random(x.shape) < rate)


R_SETUP = """library(lavaan); Y <- as.matrix(utils::read.csv("{csv}"));
Mp <- lavaan:::lav_data_missing_patterns(Y);
Yp <- lavaan:::lav_samplestats_missing_patterns(Y = Y, Mp = Mp);
h1 <- lavaan:::lav_mvnorm_missing_h1_estimate_moments(Y = Y, Mp = Mp, Yp = Yp)"""

R_EXPR = {
    "em": "{ Mp2 <- lavaan:::lav_data_missing_patterns(Y); "
          "Yp2 <- lavaan:::lav_samplestats_missing_patterns(Y = Y, Mp = Mp2); "
          "lavaan:::lav_mvnorm_missing_h1_estimate_moments(Y = Y, Mp = Mp2, Yp = Yp2) }",
    "loglik": "lavaan:::lav_mvnorm_missing_loglik_samplestats(Yp = Yp, Mu = h1$Mu, "
              "Sigma = h1$Sigma)",
    "gradient": "{ lavaan:::lav_mvnorm_missing_dlogl_dmu(Y = Y, Mu = h1$Mu, Sigma = h1$Sigma); "
                "lavaan:::lav_mvnorm_missing_dlogl_dvechSigma(Y = Y, Mu = h1$Mu, "
                "Sigma = h1$Sigma) }",
    "information_observed": "lavaan:::lav_mvnorm_missing_information_observed_samplestats("
                            "Yp = Yp, Mu = h1$Mu, Sigma = h1$Sigma)",
    "information_firstorder": "lavaan:::lav_mvnorm_missing_information_firstorder(Y = Y, "
                              "Mp = Mp, Mu = h1$Mu, Sigma = h1$Sigma)",
}


def ours(x: np.ndarray) -> dict:
    pat = F.missing_patterns(x)
    h1 = F.em_saturated(pat)
    mu, s = h1.mu, h1.sigma
    return {
        "em": lambda: F.em_saturated(x),
        "loglik": lambda: F.loglik(pat, mu, s),
        "gradient": lambda: F.gradient(pat, mu, s),
        "information_observed": lambda: F.information_observed(pat, mu, s),
        "information_firstorder": lambda: F.information_firstorder(pat, mu, s),
    }, pat, h1


def main(repeat: int = 5) -> None:
    bfi = pd.read_csv(BFI_CSV)
    for it in BFI_REV:
        bfi[it] = 7 - bfi[it]
    bfi = bfi[BFI_ITEMS]
    sim = simulate()
    results: dict = {"repeat": repeat, "thread_settings": "BLAS 1 thread on both sides",
                     "peers": r_versions(["lavaan"]), "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in (("bfi_25items_2800", bfi), ("sim_40items_8f_1500_3pct", sim)):
            csv = Path(tmp) / f"{name}.csv"
            data.to_csv(csv, index=False)
            x = data.to_numpy(float)
            funcs, pat, h1 = ours(x)
            case: dict = {"n": int(pat.n), "items": int(pat.p), "patterns": int(pat.n_patterns),
                          "em_iterations": int(h1.iterations), "components": {}}
            setup = R_SETUP.format(csv=csv)
            for comp, fn in funcs.items():
                py = time_python(fn, repeat=repeat)
                r = time_r(setup, R_EXPR[comp], repeat=repeat)
                case["components"][comp] = {
                    "psychoval": py, "lavaan": r,
                    "ratio_lavaan_over_psychoval": r["median_s"] / py["median_s"]}
                print(name, comp, f"psychoval {py['median_s']:.4g}s",
                      f"lavaan {r['median_s']:.4g}s",
                      f"ratio {r['median_s'] / py['median_s']:.1f}", flush=True)
            if name.startswith("bfi"):
                lav_setup = (f'library(lavaan); dat <- utils::read.csv("{csv}"); '
                             f'model <- {json.dumps(BFI_MODEL)}')
                case["lavaan_full_fit_context"] = {
                    "ml_fiml": time_r(lav_setup, 'lavaan::cfa(model, data = dat, missing = "ml")',
                                      repeat=repeat),
                    "mlr_fiml": time_r(lav_setup, 'lavaan::cfa(model, data = dat, '
                                       'missing = "ml", estimator = "MLR")', repeat=repeat),
                }
                print(name, "lavaan full fits", {k: round(v["median_s"], 3) for k, v in
                                                 case["lavaan_full_fit_context"].items()})
            results["cases"][name] = case
    path = write_results("fiml", results)
    print("wrote", path)


if __name__ == "__main__":
    main()
