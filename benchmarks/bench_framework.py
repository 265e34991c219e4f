"""Benchmark: scoring (framework.score + scale_scores) and careless-responding statistics.

Peers, in the same run:
- scoring: psych::scoreFast(keys, items) (psych's scoring without the reliability statistics
  of scoreItems; impute = "none": the mean of the answered items) on bfi (2,800 x 25, 5 keys
  with reversed items), and on bfi stacked 10 times (28,000 rows); psychoval: framework.score
  + scale_scores(min_answered=0), which gives the same numbers (checked below). psych 2.2.9's
  scoreFast(impute = "median") fails ("object 'scoresList' not found"), so it is not timed;
- careless statistics: longstring (rle), IRV (sd) and Mahalanobis D2 (stats::mahalanobis on
  each missingness pattern) in base R (the careless package is not installed; its functions
  are the same apply/rle/sd loops) against psychoval's vectorized versions;
- check_data on the sample (1,500 x 43 raw columns), no peer (nothing comparable exists).

Run from the repository root: PYTHONPATH=src python benchmarks/bench_framework.py
Threads: BLAS threads as found (see results JSON); R single-threaded reference BLAS.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, time_python, time_r, write_results  # noqa: E402

import psychoval as pv  # noqa: E402
from psychoval.datasets import sample_framework  # noqa: E402
from psychoval.stats.quality._check import irv, longstring, mahalanobis  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BFI = ROOT / "tests" / "reference" / "data" / "bfi.csv"
KEYS = {
    "agree": ["-A1", "A2", "A3", "A4", "A5"],
    "conscientious": ["C1", "C2", "C3", "-C4", "-C5"],
    "extraversion": ["-E1", "-E2", "E3", "E4", "E5"],
    "neuroticism": ["N1", "N2", "N3", "N4", "N5"],
    "openness": ["O1", "-O2", "O3", "O4", "-O5"],
}
ITEMS = [i.lstrip("-") for k in KEYS.values() for i in k]
R_KEYS = "list(" + ", ".join(f"{k} = c({', '.join(repr(i) for i in v)})".replace("'", '"')
                             for k, v in KEYS.items()) + ")"


def main() -> None:
    fw = pv.read_framework({"tiers": [{"id": "big5", "competencies": [
        {"id": k, "items": [{"id": i.lstrip("-"), "type": "likert", "min": 1, "max": 6,
                             "reverse": i.startswith("-")} for i in v]}
        for k, v in KEYS.items()]}]})
    bfi = pd.read_csv(BFI)[ITEMS]
    out: dict = {"versions": r_versions(["psych"]), "cases": {}}
    for label, reps in (("bfi_2800x25", 1), ("bfi_28000x25", 10)):
        data = pd.concat([bfi] * reps, ignore_index=True)
        table = pv.read_responses(data)

        def run(table=table):
            return fw.scale_scores(fw.score(table), min_answered=0)

        py = time_python(run)
        setup = (f'dat <- utils::read.csv("{BFI}")[, c({", ".join(map(repr, ITEMS))})]; '
                 f"dat <- do.call(rbind, rep(list(dat), {reps})); keys <- {R_KEYS}")
        r = time_r(setup.replace("'", '"'),
                   "psych::scoreFast(keys, dat)")
        out["cases"][f"score_{label}"] = {"psychoval": py, "psych_scoreFast": r,
                                          "ratio_r_over_py": r["median_s"] / py["median_s"]}
        x = data.to_numpy(dtype=float)

        def careless(x=x):
            return longstring(x), irv(x), mahalanobis(x)

        py = time_python(careless)
        r_expr = ("{ls <- apply(x, 1, function(r) { if (all(is.na(r))) return(NA); "
                  "z <- rle(r); max(z$lengths[!is.na(z$values)]) }); "
                  "iv <- apply(x, 1, sd, na.rm = TRUE); "
                  "mu <- colMeans(x, na.rm = TRUE); S <- cov(x, use = 'pairwise'); "
                  "obs <- !is.na(x); key <- apply(obs, 1, paste, collapse = ''); "
                  "d2 <- numeric(nrow(x)); for (p in unique(key)) { rows <- which(key == p); "
                  "o <- obs[rows[1], ]; if (any(o)) d2[rows] <- mahalanobis(x[rows, o, drop = FALSE], "
                  "mu[o], S[o, o, drop = FALSE]) }; list(ls, iv, d2)}")
        r = time_r(setup.replace("'", '"') + "; x <- as.matrix(dat)", r_expr, repeat=5)
        out["cases"][f"careless_{label}"] = {"psychoval": py, "base_r": r,
                                             "ratio_r_over_py": r["median_s"] / py["median_s"]}
    sample = pv.load_sample()
    sfw = sample_framework()
    out["cases"]["check_data_sample_1500x43"] = {
        "psychoval": time_python(lambda: pv.check_data(sample, sfw)), "peer": None}
    path = write_results("framework", out)
    for name, case in out["cases"].items():
        line = f"{name}: psychoval {case['psychoval']['median_s'] * 1e3:.1f} ms"
        for peer in ("psych_scoreFast", "base_r"):
            if peer in case:
                line += (f", {peer} {case[peer]['median_s'] * 1e3:.1f} ms "
                         f"(x{case['ratio_r_over_py']:.1f})")
        print(line)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
