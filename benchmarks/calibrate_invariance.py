"""Calibration of pv.invariance's scalar decision and partial search (issue 19 acceptance).

Seeded replicates at n = 1,500 (two groups of 750), 4 factors x 5 continuous items (normal),
estimator MLR, listwise (complete data: the same estimates and tests as FIML),
levels configural / metric / scalar, decide_by = "both" (the default).

Population (both conditions): standardized loadings .6-.8, factor correlations .3,
residual variances 1 - loading^2, item intercepts spread in [2.5, 3.5]; group 2 has latent
means +.2 and latent variances 1.2 (allowed under scalar invariance).
(a) invariant: nothing else differs -> rate of "the ladder reaches scalar" (goal >= 90%)
    and rate of "the scalar step holds given metric held".
(b) one planted intercept shift of `shift` item SDs in group 2 (item f2_3, like the
    sample's PRM4) -> rate the search frees exactly that intercept and the partial scalar
    model holds (goal >= 90%), rate any other parameter is freed.
Clopper-Pearson 95% intervals. Results: benchmarks/results/invariance_calibration.json.

``--ordinal``: the same two conditions for ordered items (WLSMV, Wu & Estabrook's ladder
configural / thresholds / metric / scalar, the refit partial search): 2 factors x 5 items,
the latent responses (standardized in group 1) cut at -1.2, -0.4, 0.4, 1.2 plus an item
offset in [-0.3, 0.3] into 5 categories; the planted shift moves f2_3's latent response in
group 2 by `shift` (its SD in group 1 is 1). Results: invariance_calibration_wlsmv.json.

Run:  python benchmarks/calibrate_invariance.py [--reps 200] [--seed 19] [--ordinal]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

import psychoval as pv  # noqa: E402

N_FACTORS, N_ITEMS, N_PER_GROUP = 4, 5, 750
PLANTED = "f2_3"
MODEL = "\n".join(f"f{f + 1} =~ " + " + ".join(f"f{f + 1}_{i + 1}" for i in range(N_ITEMS))
                  for f in range(N_FACTORS))


CUTS = np.array([-1.2, -0.4, 0.4, 1.2])


def configure(ordinal: bool) -> None:
    global N_FACTORS, MODEL
    if ordinal:
        N_FACTORS = 2
        MODEL = "\n".join(f"f{f + 1} =~ " + " + ".join(f"f{f + 1}_{i + 1}"
                                                    for i in range(N_ITEMS))
                          for f in range(N_FACTORS))


def to_ordinal(data: pd.DataFrame, nu, offsets) -> pd.DataFrame:
    """Latent responses (minus the item intercepts) cut into 5 categories 1..5."""
    out = data.copy()
    names = [c for c in data.columns if c != "g"]
    for j, c in enumerate(names):
        ystar = data[c].to_numpy() - nu.ravel()[j]
        out[c] = 1 + np.searchsorted(CUTS + offsets[j], ystar)
    return out


def population(rng_fixed: np.random.Generator):
    lam = rng_fixed.uniform(0.6, 0.8, size=(N_FACTORS, N_ITEMS))
    nu = rng_fixed.uniform(2.5, 3.5, size=(N_FACTORS, N_ITEMS))
    return lam, nu


def simulate(rng: np.random.Generator, lam, nu, shift: float) -> pd.DataFrame:
    p = N_FACTORS * N_ITEMS
    names = [f"f{f + 1}_{i + 1}" for f in range(N_FACTORS) for i in range(N_ITEMS)]
    big = np.zeros((p, N_FACTORS))
    for f in range(N_FACTORS):
        big[f * N_ITEMS:(f + 1) * N_ITEMS, f] = lam[f]
    theta = 1 - (big**2).sum(axis=1)
    frames = []
    for g, (mean, var) in enumerate(((0.0, 1.0), (0.2, 1.2))):
        phi = np.full((N_FACTORS, N_FACTORS), 0.3) * var
        np.fill_diagonal(phi, var)
        eta = rng.multivariate_normal(np.full(N_FACTORS, mean), phi, size=N_PER_GROUP)
        x = nu.ravel() + eta @ big.T + rng.normal(size=(N_PER_GROUP, p)) * np.sqrt(theta)
        df = pd.DataFrame(x, columns=names)
        if g == 1 and shift:
            df[PLANTED] += shift  # item SD is 1 in group 1 (standardized population)
        df["g"] = f"group{g + 1}"
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def clopper_pearson(k: int, n: int, level: float = 0.95) -> list[float]:
    a = 1 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return [lo, hi]


def rate(k: int, n: int) -> dict:
    return {"count": k, "n": n, "rate": k / n, "ci95": clopper_pearson(k, n)}


def one(seed: int, lam, nu, shift: float, offsets=None) -> dict:
    rng = np.random.default_rng(seed)
    data = simulate(rng, lam, nu, shift)
    if offsets is not None:
        data = to_ordinal(data, nu, offsets)
        res = pv.invariance(MODEL, data, group="g", ordered=True, partial=True)
    else:
        res = pv.invariance(MODEL, data, group="g", missing="listwise", partial=True,
                            levels=("configural", "metric", "scalar"))
    lad = res.ladder.set_index("level")
    freed = [] if res.freed is None else sorted(
        set(f"{a} {o}".strip() + (f" {b}" if b else "")
            for a, o, b in zip(res.freed["lhs"], res.freed["op"], res.freed["rhs"],
                               strict=True)))
    return {"seed": seed, "highest": res.highest,
            "metric": str(lad.loc["metric", "decision"]),
            "scalar": str(lad.loc["scalar", "decision"]),
            "scalar_reason": str(lad.loc["scalar", "reason"]),
            "partial_level": res.partial_level, "partial_decision": res.partial_decision,
            "freed": freed}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--shift", type=float, default=0.4)
    ap.add_argument("--ordinal", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    configure(args.ordinal)
    out_path = args.out or os.path.join(
        os.path.dirname(__file__), "results",
        "invariance_calibration_wlsmv.json" if args.ordinal else "invariance_calibration.json")
    rng_fixed = np.random.default_rng(args.seed)
    lam, nu = population(rng_fixed)
    offsets = (rng_fixed.uniform(-0.3, 0.3, size=N_FACTORS * N_ITEMS) if args.ordinal
               else None)
    out = {"design": {"n": 2 * N_PER_GROUP, "groups": 2, "factors": N_FACTORS,
                      "items_per_factor": N_ITEMS,
                      "estimator": "WLSMV" if args.ordinal else "MLR",
                      "missing": "listwise", "decide_by": "both",
                      "levels": (["configural", "thresholds", "metric", "scalar"]
                                 if args.ordinal else ["configural", "metric", "scalar"]),
                      "categories": 5 if args.ordinal else None,
                      "planted": f"{PLANTED} ~1 (group 2)", "shift_item_sd": args.shift,
                      "reps": args.reps, "seed": args.seed,
                      "search": ("refit scaled-shifted difference tests" if args.ordinal else
                                 "score tests (lavTestScore)")
                                + ", Bonferroni alpha / m, max_free = half the items"},
           "psychoval_version": pv.__version__}
    t0 = time.perf_counter()
    inv = [one(args.seed * 100_000 + r, lam, nu, 0.0, offsets) for r in range(args.reps)]
    t1 = time.perf_counter()
    pl = [one(args.seed * 100_000 + 50_000 + r, lam, nu, args.shift, offsets)
          for r in range(args.reps)]
    t2 = time.perf_counter()
    n = args.reps
    metric_held = [r for r in inv if r["metric"] == "holds"]
    target = f"{PLANTED} ~1"
    out["invariant"] = {
        "ladder_reaches_scalar": rate(sum(r["highest"] == "scalar" for r in inv), n),
        "metric_holds": rate(len(metric_held), n),
        "scalar_step_holds_given_metric": rate(
            sum(r["scalar"] == "holds" for r in metric_held), len(metric_held)),
        "scalar_or_partial_scalar_holds": rate(
            sum(r["highest"] == "scalar" or r["partial_decision"] == "holds" for r in inv), n),
        "any_parameter_freed": rate(sum(bool(r["freed"]) for r in inv), n),
        "seconds_per_replicate": (t1 - t0) / n}
    out["planted"] = {
        "frees_exactly_planted_and_holds": rate(sum(
            r["freed"] == [target] and r["partial_decision"] == "holds" for r in pl), n),
        "frees_planted": rate(sum(target in r["freed"] for r in pl), n),
        "frees_other_parameter": rate(sum(any(f != target for f in r["freed"]) for r in pl), n),
        "scalar_step_fails": rate(sum(r["scalar"] == "fails" for r in pl), n),
        "metric_holds": rate(sum(r["metric"] == "holds" for r in pl), n),
        "seconds_per_replicate": (t2 - t1) / n}
    out["replicates"] = {"invariant": inv, "planted": pl}
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)
    json.dump({k: out[k] for k in ("invariant", "planted")}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
