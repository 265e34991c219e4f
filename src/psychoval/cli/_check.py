"""``psychoval check RESPONSES [--framework FW] [--id-column COL] [--json PATH|-]
[--md PATH|-] [--strict]``: data-quality report."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("responses", metavar="RESPONSES",
                        help="response file (CSV, TSV, XLSX, Parquet)")
    from psychoval.cli._common import add_framework, add_id_column, add_json, add_md

    add_framework(parser)
    add_id_column(parser)
    add_json(parser)
    add_md(parser)
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when the data have problems: out-of-range values, invalid "
                             "codes, duplicated ids, respondents with no answer, constant "
                             "columns, columns not in the framework")


def run(args: argparse.Namespace) -> int:
    from psychoval.cli._common import echo, emit, reading
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
    emit(report, args)
    if args.strict and report.problems:
        echo(f"psychoval check: --strict: {'; '.join(report.problems)}", err=True)
        return EXIT_STRICT_FAIL
    return EXIT_OK
