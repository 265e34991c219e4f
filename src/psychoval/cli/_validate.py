"""``psychoval validate RESPONSES --framework FW [--html PATH|-] [--json PATH|-]
[--md PATH|-] [--criteria FILE] [--strict] [--seed N] [--progress | --quiet]``: validate a
framework, write the reports. Progress goes to stderr (on a terminal, or with ``--progress``); stdout carries
only the summary, or the one report whose OUT is ``-``. The reports are written together and
atomically: when one cannot be written none is (exit 5)."""

from __future__ import annotations

import argparse
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("responses", metavar="RESPONSES",
                        help="response file (CSV, TSV, XLSX, Parquet)")
    from psychoval.cli._common import add_framework, add_json, add_md

    add_framework(parser, required=True)
    parser.add_argument("--html", metavar="PATH",
                        help="write the HTML report to PATH ('-': stdout, instead of the "
                             "summary)")
    add_json(parser)
    add_md(parser)
    parser.add_argument("--criteria", metavar="FILE",
                        help="criteria preset name or YAML/JSON criteria file "
                             "({preset: ..., criteria: {name: threshold}})")
    parser.add_argument("--content-ratings", metavar="FILE",
                        help="an expert panel's content ratings of the items (CSV/XLSX, long: "
                             "expert, item, relevance, essentiality, assignment, comment): "
                             "adds the Content validity section and its verdicts")
    parser.add_argument("--angoff-ratings", metavar="FILE",
                        help="a modified-Angoff panel's ratings of one competency's or tier's "
                             "items (CSV/XLSX, long: judge, item, rating, round, level): adds "
                             "the Standard setting section")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when at least one criterion failed")
    parser.add_argument("--seed", metavar="N", type=int, default=None,
                        help="seed of the bootstrap intervals (recorded in the report)")
    parser.add_argument("--n-boot", metavar="B", type=int, default=200,
                        help="bootstrap replicates of the omega interval (default 200)")
    parser.add_argument("--progress", action="store_true",
                        help="show progress on stderr even when it is not a terminal "
                             "(default: only on a terminal)")
    parser.add_argument("--quiet", action="store_true",
                        help="print no summary, and no progress unless --progress")


def _progress(show: bool) -> Any:
    """The progress bar on stderr (or None), fed step names without control characters
    (they hold competency and tier ids)."""
    if not show:
        return None
    from psychoval._output import strip_controls
    from psychoval._progress import progress_callback

    bar = progress_callback(True, "validate")
    return lambda step, done, total: bar(strip_controls(str(step)), done, total)


def run(args: argparse.Namespace) -> int:
    import sys

    import psychoval as pv
    from psychoval.cli._common import check_one_stdout, echo, reading, show, write_outputs
    from psychoval.cli._main import EXIT_OK, EXIT_STRICT_FAIL

    to_stdout = check_one_stdout(html=args.html, json=args.json, md=args.md)
    bar = args.progress or (sys.stderr.isatty() and not args.quiet)
    with reading(args.framework):
        framework = pv.read_framework(args.framework)
    with reading(args.responses, parse_errors=False):
        report = pv.validate(args.responses, framework, criteria=args.criteria,
                             seed=args.seed, n_boot=args.n_boot, progress=_progress(bar),
                             content_ratings=args.content_ratings,
                             angoff_ratings=args.angoff_ratings)
    if not args.quiet and not to_stdout:
        show(report.summary())
    write_outputs([(args.html, report.to_html() if args.html else "", False),
                   (args.json, report.to_json() if args.json else "", True),
                   (args.md, report.to_markdown() if args.md else "", False)])
    if args.strict and not report.passed:
        failed = report.verdicts[report.verdicts["verdict"] == "fail"]
        echo(f"psychoval validate: --strict: {len(failed)} criteria failed "
             f"({', '.join(failed['id'])})", err=True)
        return EXIT_STRICT_FAIL
    return EXIT_OK
