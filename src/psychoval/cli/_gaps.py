"""``psychoval gaps RESPONSES --framework FW [--targets TABLE] [--role COLUMN]
[--exclude C1,C2] [--id-column COL] [--json PATH|-] [--md PATH|-] [--csv OUT]``: skills gaps
by role (pv.skills_gap): the share of each role below its target per competency, the ranked
training needs, and the per-person table (ids as read) as CSV."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("responses", metavar="RESPONSES",
                        help="response file (CSV, TSV, XLSX, Parquet)")
    from psychoval.cli._common import (
        NameList,
        add_framework,
        add_id_column,
        add_json,
        add_md,
    )

    add_framework(parser, required=True)
    add_id_column(parser)
    parser.add_argument("--targets", metavar="TABLE",
                        help="targets as a CSV (columns role, competency, target); default: "
                             "the framework's roles (role -> competency targets)")
    parser.add_argument("--role", metavar="COLUMN",
                        help="the column holding each respondent's role (default: the "
                             "framework's role_column)")
    parser.add_argument("--exclude", metavar="COMPETENCIES", action=NameList,
                        legacy_spaces=True, default=[],
                        help="competencies not to use, comma-separated (e.g. ones that "
                             "failed validation)")
    add_json(parser)
    add_md(parser)
    parser.add_argument("--csv", metavar="OUT",
                        help="write the per-person table (id, role, competency, score, "
                             "target, gap, interval, status) as CSV to OUT")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    import psychoval as pv
    from psychoval.cli._common import emit, reading
    from psychoval.cli._main import EXIT_OK

    with reading(args.framework):
        fw = pv.read_framework(args.framework)
    with reading(args.responses):
        table = pv.read_responses(args.responses, id_column=args.id_column or fw.id_column)
    targets = None
    if args.targets:
        with reading(args.targets):
            targets = pd.read_csv(args.targets, dtype={"role": str, "competency": str})
    res = pv.skills_gap(table, framework=fw, targets=targets, role=args.role,
                        exclude={c: "excluded on the command line" for c in args.exclude})
    emit(res, args, extra={"csv": (args.csv, res.persons.to_csv(index=False) if args.csv
                                   else "", False)})
    return EXIT_OK
