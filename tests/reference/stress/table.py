"""Fit every stress problem with psychoval and print a Markdown convergence table.

Run from the repository root::

    .venv/bin/python tests/reference/stress/table.py            # all problems
    .venv/bin/python tests/reference/stress/table.py --fast     # the fast subset
    .venv/bin/python tests/reference/stress/table.py --json /tmp/stress_outcomes.json

Rows: family (and a total). Columns: problems; lavaan converged; psychoval converged; both;
agree (chi-square within TOL["cfa_stress_chisq"] of lavaan's chisq_tight, same df); psychoval
lower (a strictly lower chi-square than lavaan's: a better optimum); fail (lavaan converged,
psychoval did not agree); psychoval restarted (``CFAResult.restarts`` non-empty); median
seconds of one psychoval fit and of one lavaan fit (the R script's ``system.time`` elapsed of
the default fit). Then the failures, the lower chi-squares and the problems lavaan did not
converge on, one line each.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.reference.stress import _suite  # noqa: E402

FAMILY_ORDER = ("one_factor", "correlated", "second_order", "bifactor", "weak_marker",
                "small_n", "hard")


def _row(name: str, outs: list[_suite.Outcome]) -> str:
    pv_conv = [o.fit.converged is True for o in outs]
    cells = [
        len(outs),
        sum(o.lavaan_converged for o in outs),
        sum(pv_conv),
        sum(c and o.lavaan_converged for c, o in zip(pv_conv, outs, strict=True)),
        sum(o.status == "agree" for o in outs),
        sum(o.status == "lower" for o in outs),
        sum(o.status == "fail" for o in outs),
        sum(o.status == "not_identified" for o in outs),
        sum(bool(o.fit.restarts) for o in outs),
        f"{statistics.median(o.fit.seconds for o in outs):.3f}",
        f"{statistics.median(o.lavaan_seconds for o in outs):.3f}",
    ]
    return "| " + " | ".join([name] + [str(c) for c in cells]) + " |"


def _num(x: float) -> str:
    return "NA" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.10g}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fast", action="store_true", help="only the fast subset of the tests")
    ap.add_argument("--json", help="also write every outcome to this JSON file")
    args = ap.parse_args(argv)
    keep = set(_suite.fast_ids()) if args.fast else None
    outcomes: list[_suite.Outcome] = []
    by_id = {}
    for p in _suite.problems():
        if keep is not None and p["id"] not in keep:
            continue
        o = _suite.classify(p, _suite.fit(p))
        outcomes.append(o)
        by_id[p["id"]] = p
    fams = [f for f in FAMILY_ORDER if any(o.family == f for o in outcomes)]
    print("| family | problems | lavaan converged | psychoval converged | both | agree "
          "(rtol 1e-6) | psychoval lower | fail | not identified (both) | psychoval restarted "
          "| median psychoval s | median lavaan s |")
    print("|---|" + "---:|" * 11)
    for f in fams:
        print(_row(f, [o for o in outcomes if o.family == f]))
    print(_row("**all**", outcomes))
    ref = _suite.lavaan_file()
    print(f"\nlavaan {ref['software']['lavaan']} ({ref['generated']}); chi-squares compared "
          f"with lavaan's chisq_tight; total psychoval time "
          f"{sum(o.fit.seconds for o in outcomes):.1f} s")

    def listing(title: str, rows: list[_suite.Outcome]) -> None:
        print(f"\n**{title}** ({len(rows)})\n")
        for o in rows:
            p = by_id[o.id]
            print(f"- {o.id} {o.family}/{p['structure']} n={p['n']} items={p['n_items']} "
                  f"{p['item_type']} missing={p['missing']}: psychoval converged="
                  f"{o.fit.converged} chisq={_num(o.fit.chisq)} restarts="
                  f"{','.join(o.fit.restarts) or '-'}; lavaan converged={o.lavaan_converged} "
                  f"chisq_tight={_num(o.lavaan_chisq)}"
                  + (f"; {o.reason}" if o.reason else "")
                  + (f"; note: {p['note']}" if p["note"] else ""))

    listing("Failures", [o for o in outcomes if o.status == "fail"])
    listing("psychoval found a lower chi-square", [o for o in outcomes if o.status == "lower"])
    listing("Not identified (lavaan could not invert its information; psychoval raised)",
            [o for o in outcomes if o.status == "not_identified"])
    listing("lavaan did not converge", [o for o in outcomes
                                        if o.status == "lavaan_nonconverged"])
    if args.json:
        rows = [{**dataclasses.asdict(o), "fit": dataclasses.asdict(o.fit)} for o in outcomes]
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str) + "\n",
                                   encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
