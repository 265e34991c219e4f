"""``psychoval gaps RESPONSES --framework FW [--targets TABLE] [--role COLUMN] [--json OUT]
[--csv OUT]``: skills gaps by role (pv.skills_gap): the share of each role below its target per
competency, the ranked training needs, and the per-person table (ids as read) as CSV."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("responses", metavar="RESPONSES",
                        help="response file (CSV, TSV, XLSX, Parquet)")
    parser.add_argument("--framework", metavar="FW", required=True,
                        help="framework file; its roles (role -> competency targets) are the "
                             "targets unless --targets is given")
    parser.add_argument("--targets", metavar="TABLE",
                        help="targets as a CSV (columns role, competency, target)")
    parser.add_argument("--role", metavar="COLUMN",
                        help="the column holding each respondent's role (default: the "
                             "framework's role_column)")
    parser.add_argument("--exclude", metavar="COMPETENCY", nargs="+", default=(),
                        help="competencies not to use (e.g. ones that failed validation)")
    parser.add_argument("--json", metavar="OUT",
                        help="also write the result as JSON to OUT ('-': to stdout, instead "
                             "of the summary)")
    parser.add_argument("--csv", metavar="OUT",
                        help="write the per-person table (id, role, competency, score, "
                             "target, gap, interval, status) as CSV to OUT")


def run(args: argparse.Namespace) -> int:
    import json

    import pandas as pd

    import psychoval as pv
    from psychoval.cli._common import STDOUT, echo, reading, write_outputs
    from psychoval.cli._main import EXIT_OK

    with reading(args.framework):
        fw = pv.read_framework(args.framework)
    with reading(args.responses):
        table = pv.read_responses(args.responses, id_column=fw.id_column)
    targets = None
    if args.targets:
        with reading(args.targets):
            targets = pd.read_csv(args.targets, dtype={"role": str, "competency": str})
    res = pv.skills_gap(table, framework=fw, targets=targets, role=args.role,
                        exclude={c: "excluded on the command line" for c in args.exclude})
    if args.json != STDOUT:
        echo(res.summary())
    outputs = []
    if args.json:
        outputs.append((args.json, json.dumps(res.to_dict(), indent=2, allow_nan=False), True))
    if args.csv:
        outputs.append((args.csv, res.persons.to_csv(index=False), False))
    if outputs:
        write_outputs(outputs)
    return EXIT_OK
