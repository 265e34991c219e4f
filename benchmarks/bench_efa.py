"""Benchmark issue 4: polychoric correlations and EFA against R (same run).

- polychoric on 20 and 50 five-category items x 5,000 respondents: psychoval (method="lavaan"
  and method="psych") vs lavaan::lavCor(ordered = all) and psych::polychoric; also the
  max |difference| of our matrices to lavCor's and psych's.
- efa minres + oblimin on 30 items x 5,000 respondents vs psych::fa (same outputs on both
  sides: loadings, Phi, fit statistics), and the max |loading difference| after alignment.

Threads: BLAS pinned to one thread on our side (R here links the single-threaded reference
BLAS); psych::polychoric runs with options(mc.cores = 1). Run from the repository root:

    PYTHONPATH=src python benchmarks/bench_efa.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, threads, time_python, time_r, write_results  # noqa: E402

import psychoval as pv  # noqa: E402


def ordinal_data(k: int, n: int = 5000, seed: int = 2026) -> pd.DataFrame:
    """Five-category items from a 3-factor model (independent clusters, loadings .4-.8)."""
    rng = np.random.default_rng(seed)
    f = rng.multivariate_normal(np.zeros(3), 0.3 + 0.7 * np.eye(3), n)
    lam = np.zeros((k, 3))
    lam[np.arange(k), np.arange(k) % 3] = rng.uniform(0.4, 0.8, k)
    z = f @ lam.T + rng.standard_normal((n, k)) * np.sqrt(1 - (lam ** 2).sum(axis=1))
    x = np.digitize(z, [-1.3, -0.4, 0.4, 1.3]) + 1
    return pd.DataFrame(x, columns=[f"i{j + 1}" for j in range(k)])


def r_matrix(csv: str, expr: str) -> np.ndarray:
    script = (f'suppressPackageStartupMessages({{library(psych); library(lavaan)}})\n'
              f'options(mc.cores = 1)\nd <- utils::read.csv("{csv}")\n'
              f'm <- {expr}\nwrite.csv(m, stdout(), row.names = FALSE)\n')
    out = subprocess.run(["Rscript", "--vanilla", "-e", script], capture_output=True,
                         text=True, check=True).stdout
    from io import StringIO

    return pd.read_csv(StringIO(out)).to_numpy(dtype=float)


def bench_polychoric(tmp: Path) -> dict:
    out = {}
    for k in (20, 50):
        df = ordinal_data(k)
        csv = tmp / f"poly{k}.csv"
        df.to_csv(csv, index=False)
        setup = (f'library(psych); library(lavaan); options(mc.cores = 1); '
                 f'd <- utils::read.csv("{csv}")')
        lav_expr = ('lavaan::lavInspect(lavaan::lavCor(d, ordered = names(d), '
                    'output = "fit"), "sampstat")$cov')
        psych_expr = "psych::polychoric(d)$rho"
        ours_lav = time_python(lambda df=df: pv.polychoric(df, method="lavaan"))
        ours_psych = time_python(lambda df=df: pv.polychoric(df, method="psych"))
        r_lav = time_r(setup, lav_expr, repeat=5)
        r_psych = time_r(setup, psych_expr, repeat=5)
        lav_m = r_matrix(str(csv), lav_expr)
        psych_m = r_matrix(str(csv), psych_expr)
        diff_lav = float(np.abs(pv.polychoric(df, method="lavaan").rho.to_numpy() - lav_m).max())
        diff_psych = float(np.abs(pv.polychoric(df, method="psych").rho.to_numpy()
                                  - psych_m).max())
        out[f"{k}_items"] = {
            "n": len(df), "items": k, "categories": 5,
            "psychoval_lavaan_s": ours_lav, "psychoval_psych_s": ours_psych,
            "lavCor_s": r_lav, "psych_polychoric_s": r_psych,
            "ratio_lavCor_over_psychoval": r_lav["median_s"] / ours_lav["median_s"],
            "ratio_psych_over_psychoval": r_psych["median_s"] / ours_psych["median_s"],
            "max_abs_diff_to_lavCor": diff_lav, "max_abs_diff_to_psych": diff_psych,
        }
        print(k, "items:", {key: (v if not isinstance(v, dict) else v["median_s"])
                            for key, v in out[f"{k}_items"].items()}, flush=True)
    return out


def bench_efa(tmp: Path) -> dict:
    rng = np.random.default_rng(30)
    k, n = 30, 5000
    f = rng.multivariate_normal(np.zeros(3), 0.3 + 0.7 * np.eye(3), n)
    lam = np.zeros((k, 3))
    lam[np.arange(k), np.arange(k) % 3] = rng.uniform(0.4, 0.8, k)
    x = f @ lam.T + rng.standard_normal((n, k)) * np.sqrt(1 - (lam ** 2).sum(axis=1))
    df = pd.DataFrame(x, columns=[f"v{j + 1}" for j in range(k)])
    csv = tmp / "efa30.csv"
    df.to_csv(csv, index=False, float_format="%.17g")
    setup = f'library(psych); library(GPArotation); d <- as.matrix(utils::read.csv("{csv}"))'
    # the same outputs on both sides: loadings, Phi, communalities and fit statistics
    expr = 'psych::fa(d, nfactors = 3, fm = "minres", rotate = "oblimin", scores = "none")'
    values = np.ascontiguousarray(df.to_numpy())
    ours = time_python(lambda: pv.efa(values, n_factors=3, method="minres",
                                      rotation="oblimin"), repeat=9)
    theirs = time_r(setup, expr, repeat=9)
    L_r = r_matrix(str(csv), 'unclass(psych::fa(as.matrix(d), nfactors = 3, fm = "minres", '
                   'rotate = "oblimin")$loadings)')
    res = pv.efa(values, n_factors=3)
    a = res.loadings.to_numpy()
    cong = (a.T @ L_r) / np.outer(np.linalg.norm(a, axis=0), np.linalg.norm(L_r, axis=0))
    perm = np.argmax(np.abs(cong), axis=0)
    sg = np.sign(cong[perm, np.arange(3)])
    diff = float(np.abs(a[:, perm] * sg - L_r).max())
    out = {"n": n, "items": k, "psychoval_s": ours, "psych_fa_s": theirs,
           "ratio_psych_over_psychoval": theirs["median_s"] / ours["median_s"],
           "max_abs_loading_diff_to_psych": diff}
    print("efa:", out["ratio_psych_over_psychoval"], ours["median_s"], theirs["median_s"], diff,
          flush=True)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        results = {
            "threads": threads(),
            "r": r_versions(["psych", "lavaan", "GPArotation"]),
            "note": "medians of timed runs after one warm-up; ratios = R median / psychoval "
                    "median from this run",
            "polychoric": bench_polychoric(tmp),
            "efa": bench_efa(tmp),
        }
    path = write_results("efa", results)
    print("wrote", path)


if __name__ == "__main__":
    main()
