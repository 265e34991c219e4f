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
    parser.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when the data have problems: out-of-range values, invalid "
                             "codes, duplicated ids, respondents with no answer, constant "
                             "columns, columns not in the framework")


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    import warnings
    from pathlib import Path

    from psychoval._results import to_jsonable
    from psychoval.cli._main import EXIT_OK, EXIT_STRICT_FAIL
    from psychoval.exceptions import PsychovalWarning
    from psychoval.framework import read_framework
    from psychoval.io import read_responses
    from psychoval.stats import check_data

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PsychovalWarning)
        framework = read_framework(args.framework) if args.framework else None
        id_column = args.id_column or (framework.id_column if framework else None)
        table = read_responses(args.responses, id_column=id_column)
        report = check_data(table, framework)
    for w in caught:
        print(f"psychoval check: warning: {w.message}", file=sys.stderr)
    print(report.summary())
    if args.json:
        out = Path(args.json)
        if out.parent and not out.parent.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(to_jsonable(report.to_dict()), indent=2, allow_nan=False)
                       + "\n", encoding="utf-8")
        print(f"\nJSON report written to {out}")
    if args.strict and report.problems:
        print(f"psychoval check: --strict: {'; '.join(report.problems)}", file=sys.stderr)
        return EXIT_STRICT_FAIL
    return EXIT_OK
