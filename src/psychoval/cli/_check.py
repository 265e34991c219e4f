"""``psychoval check RESPONSES [--framework FW] [--json OUT] [--strict]``: data-quality report."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("responses", metavar="RESPONSES",
                        help="response file (CSV, TSV, XLSX, Parquet)")
    parser.add_argument("--framework", metavar="FW",
                        help="framework file (YAML, JSON, or an item-map CSV/XLSX)")
    parser.add_argument("--id-column", metavar="COL",
                        help="respondent id column (default: the framework's id_column)")
    parser.add_argument("--json", metavar="OUT",
                        help="also write the report as JSON to OUT ('-': to stdout, instead "
                             "of the summary)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when the data have problems: out-of-range values, invalid "
                             "codes, duplicated ids, respondents with no answer, constant "
                             "columns, columns not in the framework")


def run(args: argparse.Namespace) -> int:
    import json

    from psychoval._results import to_jsonable
    from psychoval.cli._common import STDOUT, echo, reading, write_outputs
    from psychoval.cli._main import EXIT_OK, EXIT_STRICT_FAIL
    from psychoval.framework import read_framework
    from psychoval.io import read_responses
    from psychoval.stats import check_data

    framework = None
    if args.framework:
        with reading(args.framework):
            framework = read_framework(args.framework)
    id_column = args.id_column or (framework.id_column if framework else None)
    with reading(args.responses):
        table = read_responses(args.responses, id_column=id_column)
    report = check_data(table, framework)
    if args.json != STDOUT:
        echo(report.summary())
    if args.json:
        write_outputs([(args.json, json.dumps(to_jsonable(report.to_dict()), indent=2,
                                              allow_nan=False), True)])
    if args.strict and report.problems:
        echo(f"psychoval check: --strict: {'; '.join(report.problems)}", err=True)
        return EXIT_STRICT_FAIL
    return EXIT_OK
