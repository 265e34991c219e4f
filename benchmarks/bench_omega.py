"""Omega speed: psychoval.omega vs psych::omega on the 25 bfi items (same run).

Run from the worktree root:  PYTHONPATH=src python benchmarks/bench_omega.py
Writes benchmarks/results/omega.json. Cases (2,800 x 25 bfi with its missing values,
pairwise correlations, 5 group factors, minres, oblimin):
  omega        pv.omega(...)                       vs psych::omega(bfi25, 5, plot = FALSE)
  omega_ml     method="ml"                         vs fm = "ml"
  omega_sem    pv.omega_sem(...)                   vs psych::omegaSem(bfi25, 5, plot = FALSE)
  omega_boot   n_boot=100 (percentile intervals)   vs psych::omega(n.iter = 100)
No Python package computes omega hierarchical, so R is the only peer.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import pandas as pd  # noqa: E402
from _common import HERE, r_versions, time_python, time_r, write_results  # noqa: E402

import psychoval as pv  # noqa: E402

DATA = HERE.parent / "tests" / "reference" / "data" / "bfi.csv"
ITEMS = [f"{t}{i}" for t in "ACENO" for i in range(1, 6)]
REV = ["A1", "C4", "C5", "E1", "E2", "N1", "N2", "N3", "N4", "N5", "O2", "O5"]
R_SETUP = (f'library(psych); dat <- utils::read.csv("{DATA}"); '
           f'x <- dat[, c({", ".join(repr(i) for i in ITEMS)})]'.replace("'", '"'))


def main() -> None:
    df = pd.read_csv(DATA)[ITEMS]
    warnings.simplefilter("ignore")
    cases = {
        "omega": (lambda: pv.omega(df, n_factors=5, reverse=REV),
                  "psych::omega(x, 5, plot = FALSE)", 7),
        "omega_ml": (lambda: pv.omega(df, n_factors=5, method="ml", reverse=REV),
                     'psych::omega(x, 5, fm = "ml", plot = FALSE)', 7),
        "omega_sem": (lambda: pv.omega_sem(df, n_factors=5, reverse=REV),
                      "psych::omegaSem(x, 5, plot = FALSE)", 5),
        "omega_boot": (lambda: pv.omega(df, n_factors=5, reverse=REV, n_boot=100, seed=1),
                       "psych::omega(x, 5, n.iter = 100, plot = FALSE)", 3),
    }
    out = {"versions": r_versions(["psych", "GPArotation", "lavaan"])}
    for name, (fn, rexpr, rep) in cases.items():
        py = time_python(fn, repeat=rep)
        r = time_r(R_SETUP, rexpr, repeat=rep)
        out[name] = {"psychoval": py, "psych": r, "r_call": rexpr,
                     "speedup": r["median_s"] / py["median_s"]}
        print(f"{name:11s} psychoval {py['median_s']:.4f} s   psych {r['median_s']:.4f} s   "
              f"x{out[name]['speedup']:.1f}", flush=True)
    write_results("omega", out)


if __name__ == "__main__":
    main()
