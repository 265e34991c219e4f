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
    parser.add_argument("--json", metavar="OUT",
                        help="also write the result as JSON to OUT ('-': to stdout, instead "
                             "of the summaries)")


def run(args: argparse.Namespace) -> int:
    import json

    import psychoval as pv
    from psychoval.cli._common import STDOUT, echo, reading, write_outputs
    from psychoval.cli._main import EXIT_OK
    from psychoval.pipeline._validate import item_evidence

    dis, difs = None, []
    criteria = pv.criteria("default").items
    fw = None
    if args.framework:
        with reading(args.framework):
            fw = pv.read_framework(args.framework)
    with reading(args.responses):
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
    if args.json != STDOUT:
        echo(res.summary())
        if dis is not None:
            echo()
            echo(dis.summary())
        for d in difs:
            echo()
            t = d.table
            hit = t[t["flagged"]]
            echo(f"DIF: {d.focal[0]!r} vs {d.reference!r} ({len(t)} items; {d.match}; "
                 f"{d.correction}): " + ("no item flagged" if hit.empty else "flagged"))
            if not hit.empty:
                echo(hit[["item", "method", "p_value", "p_adjusted", "effect_class",
                          "favours"]].to_string(index=False))
        echo()
        echo(flags.summary())
    if args.json:
        doc = {"item_analysis": res.to_dict(), "flags": flags.to_dict()}
        if dis is not None:
            doc["distractors"] = dis.to_dict()
        if difs:
            doc["dif"] = [d.to_dict() for d in difs]
        write_outputs([(args.json, json.dumps(doc, indent=2, allow_nan=False), True)])
    return EXIT_OK
