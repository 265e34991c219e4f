"""pv.validate() on the sample assessment (issue 10), with the time of each step.

psychoval: ``pv.validate(responses, framework, seed=...)`` on data/sample/responses.csv
(1,500 respondents, 40 items, 10 competencies in 3 tiers): data quality, item analysis,
distractors, DIF, alpha, one-factor CFA + omega with a 200-replicate bootstrap interval per
competency, tier models with CR/AVE/Fornell-Larcker/HTMT/modification indices, the
second-order test, the framework model, verdicts. The report records its own step timings
(``report.timings``); the medians of those are written too.

Peer in the same run: the R calls that produce the core of the same numbers (no tool does the
whole job): per competency ``psych::alpha`` and ``lavaan::cfa`` + ``semTools::compRelSEM``;
per tier ``lavaan::cfa`` + ``semTools::AVE`` + ``semTools::htmt`` + ``lavaan::modindices``,
the second-order model and ``lavTestLRT``; the framework model; ``psych::fa.parallel``. R fits
the models with the estimator and missing-data rule this build of psychoval used (recorded).
R does no bootstrap, DIF, distractor or item-flag work here, so the ratio flatters R.

Threads: numpy's BLAS pinned to one thread (R uses the reference BLAS).
Run: ``PYTHONPATH=src /work/main/.venv/bin/python benchmarks/bench_validate.py``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import r_versions, time_python, time_r, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REPEAT = 5
R_REPEAT = 2


def main() -> None:
    import psychoval as pv
    from psychoval.datasets import sample_framework

    fw = sample_framework()
    path = ROOT / "data" / "sample" / "responses.csv"
    reports = []

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reports.append(pv.validate(str(path), fw, seed=20261))

    py = time_python(run, repeat=REPEAT)
    steps = {k: statistics.median(r.timings[k] for r in reports[1:])
             for k in reports[-1].timings}
    scores_csv = ROOT / "benchmarks" / "results" / "_validate_scores.csv"
    scores_csv.parent.mkdir(exist_ok=True)
    fw.score(pv.load_sample()).scores.to_csv(scores_csv)
    comps = {c.id: list(c.item_ids) for c in fw.competencies}
    tiers = {t.id: [c.id for c in t.competencies] for t in fw.tiers}
    r_comps = "list(" + ", ".join(f"{k} = c({', '.join(repr(i) for i in v)})"
                                  for k, v in comps.items()) + ")"
    r_tiers = "list(" + ", ".join(f"{k} = c({', '.join(repr(i) for i in v)})"
                                  for k, v in tiers.items()) + ")"
    # R fits the models as this build of psychoval did (ML/listwise until FIML and MLR land)
    fits = reports[-1].fit
    est = "MLR" if (fits["estimator"] == "MLR").any() else "ML"
    mis = "ml" if (fits["missing"] == "fiml").any() else "listwise"
    setup = f"""
library(psych); library(lavaan); library(semTools)
EST <- "{est}"; MIS <- "{mis}"
x <- read.csv("{scores_csv}", row.names = 1)
comps <- {r_comps}
tiers <- {r_tiers}
m1 <- function(f, it) paste(f, "=~", paste(it, collapse = " + "))
tm <- function(t) paste(sapply(tiers[[t]], function(f) m1(f, comps[[f]])), collapse = "\\n")
pipeline <- function() {{
  for (f in names(comps)) {{
    a <- psych::alpha(x[, comps[[f]]], warnings = FALSE)
    fit <- lavaan::cfa(m1(f, comps[[f]]), data = x, estimator = EST, missing = MIS)
    o <- semTools::compRelSEM(fit)
    s <- lavaan::standardizedSolution(fit)
  }}
  for (t in names(tiers)) {{
    fit <- lavaan::cfa(tm(t), data = x, estimator = EST, missing = MIS)
    cr <- semTools::compRelSEM(fit); av <- semTools::AVE(fit)
    h <- semTools::htmt(tm(t), data = x, htmt2 = FALSE)
    mi <- lavaan::modindices(fit)
    if (length(tiers[[t]]) >= 4) {{
      fit2 <- lavaan::cfa(paste(tm(t), "\\n", t, "=~", paste(tiers[[t]], collapse = " + ")),
                          data = x, estimator = EST, missing = MIS)
      lr <- lavaan::lavTestLRT(fit, fit2)
    }}
  }}
  all <- paste(c(sapply(names(tiers), tm),
                 sapply(names(tiers), function(t) paste(t, "=~",
                        paste(tiers[[t]], collapse = " + ")))), collapse = "\\n")
  fit <- lavaan::cfa(all, data = x, estimator = EST, missing = MIS)
  invisible(utils::capture.output(pa <- psych::fa.parallel(x, plot = FALSE, n.iter = 20)))
}}
"""
    # the R pipeline takes minutes per run on the shared 2-core machine: 2 timed runs, no
    # warm-up (package loading is in the untimed setup)
    write_results("validate", {"psychoval": {**py, "steps_median_s": steps},
                               "r_pipeline": "pending"})
    r = time_r(setup, "pipeline()", repeat=R_REPEAT, warmup=0)
    scores_csv.unlink()
    rep = reports[-1]
    out = {
        "task": "pv.validate on data/sample/responses.csv (1500 x 40, 10 competencies, "
                "3 tiers); R: the core statistics of the same report (no bootstrap, DIF, "
                "distractors or flags)",
        "psychoval": {**py, "steps_median_s": steps, "methods": dict(rep.methods)},
        "r_estimator": est, "r_missing": mis,
        "r_pipeline": r,
        "ratio_r_over_psychoval": r["median_s"] / py["median_s"],
        "versions": r_versions(["psych", "lavaan", "semTools"]),
    }
    path_out = write_results("validate", out)
    print(f"psychoval {py['median_s']:.2f} s; R pipeline {r['median_s']:.2f} s; "
          f"ratio {out['ratio_r_over_psychoval']:.1f}; steps {steps}; -> {path_out}")


if __name__ == "__main__":
    main()
