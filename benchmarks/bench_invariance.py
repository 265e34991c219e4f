"""The invariance ladder (issue 19): pv.invariance vs lavaan 0.6.14's 4 fits + 3 tests.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_invariance.py
Writes benchmarks/results/invariance.json.

HolzingerSwineford1939, 3-factor model, group = "school", estimator MLR, listwise (lavaan's
default) and with FIML (``missing = "ml"``, pv.invariance's default). Same outputs on both
sides: configural, metric, scalar and strict fits with every fit measure (``fitMeasures``) and
the three ``lavTestLRT`` between consecutive steps; pv.invariance also makes its decisions.
Ordered items: bfi A1-A5, C1-C5 by gender (listwise, WLSMV), Wu & Estabrook's ladder against
semTools 0.5.6 ``measEq.syntax(ID.cat = "Wu.Estabrook.2016", return.fit = TRUE)`` for the 4
steps with ``fitMeasures`` and 3 ``lavTestLRT``.

Thread settings: BLAS pools pinned to 1 thread on both sides; median of ``repeat`` runs after
one warm-up.
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, time_python, time_r, write_results  # noqa: E402

import psychoval as pv  # noqa: E402

DATA = Path(__file__).parents[1] / "tests" / "reference" / "data"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def main(repeat: int = 7) -> None:
    csv = DATA / "HolzingerSwineford1939.csv"
    hs = pd.read_csv(csv)
    results: dict = {"repeat": repeat, "thread_settings": "BLAS 1 thread on both sides",
                     "peers": r_versions(["lavaan", "semTools"]),
                     "outputs": "4 fits (configural, metric, scalar, strict) with every fit "
                                "measure + 3 lavTestLRT between consecutive steps",
                     "cases": {}}
    for name, miss, r_miss in (("hs_mlr_listwise", "listwise", "listwise"),
                               ("hs_mlr_fiml", "fiml", "ml")):
        def ours(miss=miss):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return pv.invariance(HS_MODEL, hs, group="school", estimator="MLR",
                                     missing=miss)

        res = ours()
        setup = (f'library(lavaan); dat <- utils::read.csv("{csv}"); '
                 f"model <- {json.dumps(HS_MODEL)}; "
                 'eqs <- list("", "loadings", c("loadings", "intercepts"), '
                 'c("loadings", "intercepts", "residuals"))')
        expr = ("{ fits <- lapply(eqs, function(eq) cfa(model, data = dat, group = 'school', "
                f"group.equal = eq, estimator = 'MLR', missing = '{r_miss}')); "
                "fm <- lapply(fits, fitMeasures); "
                "lrt <- lapply(2:4, function(i) lavTestLRT(fits[[i - 1]], fits[[i]])); "
                "list(fm, lrt) }")
        py = time_python(ours, repeat=repeat)
        r = time_r(setup, expr, repeat=repeat)
        results["cases"][name] = {
            "n": res.n_obs, "highest": res.highest,
            "chisq_diff": res.ladder["chisq_diff"].tolist()[1:],
            "psychoval": py, "lavaan": r,
            "ratio_lavaan_over_psychoval": r["median_s"] / py["median_s"]}
        print(name, f"psychoval {py['median_s']:.4g}s", f"lavaan {r['median_s']:.4g}s",
              f"ratio {r['median_s'] / py['median_s']:.2f}", flush=True)
    bfi = pd.read_csv(DATA / "bfi.csv")
    items = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    bfi = bfi[items + ["gender"]].dropna().reset_index(drop=True)
    bfi_model = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"

    def ours_o():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pv.invariance(bfi_model, bfi, group="gender", ordered=True)

    res = ours_o()
    setup = (f'suppressMessages({{library(lavaan); library(semTools)}}); '
             f'dat <- utils::read.csv("{DATA / "bfi.csv"}"); '
             f'items <- c({", ".join(repr(i) for i in items)}); '
             'd <- na.omit(dat[, c(items, "gender")]); '
             f"model <- {json.dumps(bfi_model)}; "
             'eqs <- list("configural", "thresholds", c("thresholds", "loadings"), '
             'c("thresholds", "loadings", "intercepts"))')
    expr = ("{ fits <- lapply(eqs, function(eq) measEq.syntax(model, data = d, ordered = items, "
            "parameterization = 'delta', ID.fac = 'std.lv', ID.cat = 'Wu.Estabrook.2016', "
            "group = 'gender', group.equal = eq, return.fit = TRUE)); "
            "fm <- lapply(fits, fitMeasures); "
            "lrt <- lapply(2:4, function(i) lavTestLRT(fits[[i - 1]], fits[[i]])); "
            "list(fm, lrt) }")
    py = time_python(ours_o, repeat=repeat)
    r = time_r(setup, expr, repeat=repeat)
    results["cases"]["bfi_wlsmv_wu_estabrook"] = {
        "n": res.n_obs, "highest": res.highest,
        "chisq_diff": res.ladder["chisq_diff"].tolist()[1:],
        "psychoval": py, "semTools+lavaan": r,
        "ratio_lavaan_over_psychoval": r["median_s"] / py["median_s"]}
    print("bfi_wlsmv_wu_estabrook", f"psychoval {py['median_s']:.4g}s",
          f"semTools {r['median_s']:.4g}s", f"ratio {r['median_s'] / py['median_s']:.2f}",
          flush=True)
    path = write_results("invariance", results)
    print("wrote", path)


if __name__ == "__main__":
    main()
