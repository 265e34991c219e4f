"""``psychoval items RESPONSES [--framework FW] [--json OUT]``: item analysis and flags."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("responses", metavar="RESPONSES",
                        help="response file (CSV, TSV, XLSX, Parquet)")
    parser.add_argument("--framework", metavar="FW",
                        help="framework file: items are scored by it and analysed within "
                             "their competencies")
    parser.add_argument("--items", metavar="ITEM", nargs="+",
                        help="columns to analyse (default: all numeric columns)")
    parser.add_argument("--json", metavar="OUT", help="also write the result as JSON to OUT")


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    import warnings
    from pathlib import Path

    import psychoval as pv
    from psychoval.cli._main import EXIT_OK
    from psychoval.exceptions import PsychovalWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PsychovalWarning)
        fw = pv.read_framework(args.framework) if args.framework else None
        table = pv.read_responses(args.responses,
                                  id_column=fw.id_column if fw is not None else None)
        if fw is not None:
            res = pv.item_analysis(table, framework=fw, items=args.items)
        else:
            res = pv.item_analysis(table, items=args.items)
        flags = pv.flag_items(res, criteria=pv.criteria("default").items)
    for w in caught:
        print(f"psychoval items: warning: {w.message}", file=sys.stderr)
    print(res.summary())
    print()
    print(flags.summary())
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"item_analysis": res.to_dict(), "flags": flags.to_dict()},
                                  indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return EXIT_OK
