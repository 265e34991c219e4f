"""Operating characteristics of validate's verdicts (issue 16): false alarms and hit rates.

A single file cannot show whether a rule is good; a rate over seeded replicates can. For each
design and condition this draws replicates from a known population model, runs
``pv.validate`` on each (every rule exactly as in a report), and counts per replicate

- false alarms: any item-level ``fail`` verdict, and any DIF verdict (``fail`` or
  ``borderline``), on items that carry no planted defect;
- hits: each planted defect found (miskey: ``likely_miskey`` or ``negative_discrimination``
  fails on the item; weak item: any fail on it; cross-loading: both cross-loading criteria
  fail on it; DIF: a DIF verdict on it).

Designs:

- ``sample``: the population model of ``data/sample`` (``make_sample.simulate``: 1,500
  respondents, 41 items in 10 competencies and 3 tiers, 4 job families without mean
  differences, 3% missing; planted: the four defects of ``true_model.json`` with PRM4's DIF
  at 0.8 logit; clean: none);
- ``impact``: 3,000 respondents in 3 groups of unequal size (1,500 / 1,000 / 500) whose
  traits differ by 0, .5 and 1 SD (impact: DIF tests must stay valid), 2 tiers x 3
  competencies x 6 dichotomous (0/1) items (latent loadings .65-.85, thresholds -.6 to .6,
  so no item is too hard or easy by design), 2% missing; planted: item B2_3 0.8 logit harder
  for the smallest group (DIF) and item A1_6 with loading .15 (weak); clean: none.

Monte Carlo intervals: Clopper-Pearson 95%. Results: ``benchmarks/results/calibration.json``
and a Markdown table on stdout (pasted into docs/validate.md). Run:
``PYTHONPATH=src .venv/bin/python benchmarks/calibrate_verdicts.py [--replicates 150]
[--workers 2]``; the tests run :func:`replicate` on a few seeds.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

SAMPLE_DEFECTS = {"miskey": "CON3", "weak": "ETH4", "cross_loading": "WRK3", "dif": "PRM4"}
IMPACT_DEFECTS = {"weak": "A1_6", "dif": "B2_3"}
BASE_SEED = {"sample": 3_000_000, "impact": 4_000_000}


def _make_sample():
    spec = importlib.util.spec_from_file_location("make_sample",
                                                  ROOT / "data" / "sample" / "make_sample.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def sample_data(seed: int, clean: bool) -> tuple[pd.DataFrame, Any]:
    import psychoval as pv

    header, rows = _make_sample().simulate(seed, clean)
    table = pv.read_responses(pd.DataFrame(rows, columns=header), id_column="respondent_id")
    return table, pv.read_framework(ROOT / "data" / "sample" / "framework.yaml")


def impact_framework() -> dict:
    tiers = []
    for t in ("A", "B"):
        comps = [{"id": f"{t}{c}", "name": f"Competency {t}{c}",
                  "items": [{"id": f"{t}{c}_{j}"} for j in range(1, 7)]} for c in (1, 2, 3)]
        tiers.append({"id": t, "name": f"Tier {t}", "competencies": comps})
    return {"name": "Impact design", "id_column": "rid", "group_columns": ["group"],
            "defaults": {"type": "dichotomous"}, "tiers": tiers}


def impact_data(seed: int, clean: bool) -> tuple[pd.DataFrame, Any]:
    import psychoval as pv

    rng = np.random.default_rng(seed)
    sizes, shifts = (1500, 1000, 500), (0.0, 0.5, 1.0)
    n = sum(sizes)
    group = np.repeat(np.array(["g1", "g2", "g3"]), sizes)
    shift = np.repeat(np.array(shifts), sizes)
    comps = [f"{t}{c}" for t in "AB" for c in (1, 2, 3)]
    phi = np.full((6, 6), 0.35) + np.eye(6) * 0.65
    phi[:3, :3] = phi[3:, 3:] = 0.55
    np.fill_diagonal(phi, 1.0)
    eta = rng.standard_normal((n, 6)) @ np.linalg.cholesky(phi).T + shift[:, None]
    cols = {"rid": [f"P{i:05d}" for i in range(n)], "group": group}
    for c_i, comp in enumerate(comps):
        lam = rng.uniform(0.65, 0.85, 6)  # latent-response loadings of sound items
        tau = rng.uniform(-0.6, 0.6, 6)  # thresholds: proportions correct about .3 to .75
        if not clean and comp == "A1":
            lam[5] = 0.15
        for j in range(6):
            sigma = math.sqrt(1 - lam[j] ** 2) / (math.pi / math.sqrt(3))
            u = rng.uniform(size=n)
            ystar = lam[j] * eta[:, c_i] + sigma * np.log(u / (1 - u))
            iid = f"{comp}_{j + 1}"
            if not clean and iid == IMPACT_DEFECTS["dif"]:
                ystar = ystar - 0.8 * sigma * (group == "g3")
            x = (ystar > tau[j]).astype(float)
            x[rng.uniform(size=n) < 0.02] = np.nan
            cols[iid] = x
    table = pv.read_responses(pd.DataFrame(cols), id_column="rid")
    return table, pv.read_framework(impact_framework())


def replicate(design: str, clean: bool, index: int) -> dict[str, Any]:
    """One replicate: validate, then what fired where."""
    import psychoval as pv

    seed = BASE_SEED[design] + 2 * index + (1 if clean else 0)
    table, fw = (sample_data if design == "sample" else impact_data)(seed, clean)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = pv.validate(table, fw, seed=seed, n_boot=20)
    v = rep.verdicts
    items = v[v["level"] == "item"]
    fails = items[items["verdict"] == "fail"]
    dif = v[(v["criterion"] == "dif") & v["verdict"].isin(["fail", "borderline"])]
    defects = SAMPLE_DEFECTS if design == "sample" else IMPACT_DEFECTS
    planted = set() if clean else set(defects.values())
    found = {}
    if not clean:
        for kind, item in defects.items():
            on = fails[fails["target"] == item]
            if kind == "miskey":
                found[kind] = bool(on["criterion"].isin(["likely_miskey",
                                                          "negative_discrimination"]).any())
            elif kind == "cross_loading":
                found[kind] = {"cross_loading_mi", "cross_loading_epc"} <= set(on["criterion"])
            elif kind == "dif":
                found[kind] = bool((dif["target"] == item).any())
            else:
                found[kind] = len(on) > 0
    other_fails = fails[~fails["target"].isin(planted)]
    other_dif = dif[~dif["target"].isin(planted)]
    return {
        "design": design, "clean": clean, "seed": seed, "found": found,
        "any_item_fail": bool(len(other_fails)), "any_dif": bool(len(other_dif)),
        "fail_rules": sorted(set(other_fails["criterion"])),
        "fail_items": sorted(set(other_fails["target"])),
        "dif_items": sorted(set(other_dif["target"])),
        "not_estimable": int((v["verdict"] == "not_estimable").sum()),
    }


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    from scipy.stats import beta

    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def _rate(k: int, n: int) -> dict[str, float]:
    lo, hi = clopper_pearson(k, n)
    return {"k": k, "n": n, "rate": k / n if n else math.nan, "lower": lo, "upper": hi}


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for design in sorted({r["design"] for r in runs}):
        d = {}
        for clean in (True, False):
            rs = [r for r in runs if r["design"] == design and r["clean"] is clean]
            if not rs:
                continue
            n = len(rs)
            part = {"replicates": n,
                    "any_item_fail": _rate(sum(r["any_item_fail"] for r in rs), n),
                    "any_dif": _rate(sum(r["any_dif"] for r in rs), n)}
            rules: dict[str, int] = {}
            for r in rs:
                for rule in r["fail_rules"]:
                    rules[rule] = rules.get(rule, 0) + 1
            part["files_with_fail_by_rule"] = {k: _rate(v, n) for k, v in sorted(rules.items())}
            if not clean:
                kinds = rs[0]["found"].keys()
                part["hits"] = {kind: _rate(sum(r["found"][kind] for r in rs), n)
                                for kind in kinds}
            part["not_estimable_files"] = sum(r["not_estimable"] > 0 for r in rs)
            d["clean" if clean else "planted"] = part
        out[design] = d
    return out


def table(summary: dict[str, Any]) -> str:
    def pct(r):
        return f"{100 * r['rate']:.1f}% ({100 * r['lower']:.1f}-{100 * r['upper']:.1f})"

    lines = ["| design | files | measure | rate (95% Monte Carlo interval) | goal |",
             "|---|---|---|---|---|"]
    for design, d in summary.items():
        for cond, part in d.items():
            n = part["replicates"]
            lines.append(f"| {design} | {cond} ({n}) | any item fail (no defect planted on "
                         f"it) | {pct(part['any_item_fail'])} | <= 5%, upper <= 8% |")
            lines.append(f"| {design} | {cond} ({n}) | any DIF verdict (no DIF planted on it) "
                         f"| {pct(part['any_dif'])} | <= 5%, upper <= 8% |")
            for kind, r in part.get("hits", {}).items():
                lines.append(f"| {design} | {cond} ({n}) | {kind} found | {pct(r)} | >= 90% |")
            for rule, r in part["files_with_fail_by_rule"].items():
                lines.append(f"| {design} | {cond} ({n}) | files with a false `{rule}` fail "
                             f"| {pct(r)} | - |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from _common import write_results

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=150)
    ap.add_argument("--impact-replicates", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--designs", default="sample,impact")
    a = ap.parse_args(argv)
    jobs = []
    for design in a.designs.split(","):
        reps = a.replicates if design == "sample" else (a.impact_replicates or a.replicates)
        for clean in (False, True):
            jobs += [(design, clean, i) for i in range(reps)]
    t0 = time.perf_counter()
    runs: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=a.workers) as pool:
        for i, r in enumerate(pool.map(replicate, *zip(*jobs, strict=True), chunksize=2)):
            runs.append(r)
            if (i + 1) % 20 == 0:
                print(f"{i + 1}/{len(jobs)} replicates, {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr, flush=True)
    summary = summarize(runs)
    path = write_results("calibration", {
        "task": "operating characteristics of pv.validate's item and DIF verdicts",
        "seconds": time.perf_counter() - t0, "summary": summary, "runs": runs})
    print(table(summary))
    print(f"-> {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
