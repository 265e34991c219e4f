"""``psychoval items RESPONSES [--framework FW] [--json OUT]``: item analysis and flags; with a
framework also the distractor analysis of its multiple-choice items and the DIF screen over its
group column (what ``psychoval validate`` reads)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("responses", metavar="RESPONSES",
                        help="response file (CSV, TSV, XLSX, Parquet)")
    parser.add_argument("--framework", metavar="FW",
                        help="framework file: items are scored by it and analysed within "
                             "their competencies; multiple-choice items get a distractor "
                             "analysis and, with a group column, every item the DIF screen")
    parser.add_argument("--items", metavar="ITEM", nargs="+",
                        help="columns to analyse (default: all numeric columns; with "
                             "--framework, only the item analysis of these)")
    parser.add_argument("--json", metavar="OUT", help="also write the result as JSON to OUT")


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    import warnings
    from pathlib import Path

    import psychoval as pv
    from psychoval.cli._main import EXIT_OK
    from psychoval.exceptions import PsychovalWarning
    from psychoval.validate._validate import item_evidence

    dis, difs = None, []
    criteria = pv.criteria("default").items
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PsychovalWarning)
        fw = pv.read_framework(args.framework) if args.framework else None
        table = pv.read_responses(args.responses,
                                  id_column=fw.id_column if fw is not None else None)
        if fw is not None and not args.items:
            scored = fw.score(table)
            group = fw.group_columns[0] if fw.group_columns else None
            groups = scored.covariates[group] if group in scored.covariates else None
            res, dis, difs, flags = item_evidence(scored, fw, groups, criteria)
        else:
            res = (pv.item_analysis(table, framework=fw, items=args.items) if fw is not None
                   else pv.item_analysis(table, items=args.items))
            flags = pv.flag_items(res, criteria=criteria)
    for w in caught:
        print(f"psychoval items: warning: {w.message}", file=sys.stderr)
    print(res.summary())
    if dis is not None:
        print()
        print(dis.summary())
    for d in difs:
        print()
        t = d.table
        hit = t[t["flagged"]]
        print(f"DIF: {d.focal[0]!r} vs {d.reference!r} ({len(t)} items; {d.match}; "
              f"{d.correction}): " + ("no item flagged" if hit.empty else "flagged"))
        if not hit.empty:
            print(hit[["item", "method", "p_value", "p_adjusted", "effect_class",
                       "favours"]].to_string(index=False))
    print()
    print(flags.summary())
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        doc = {"item_analysis": res.to_dict(), "flags": flags.to_dict()}
        if dis is not None:
            doc["distractors"] = dis.to_dict()
        if difs:
            doc["dif"] = [d.to_dict() for d in difs]
        out.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return EXIT_OK
