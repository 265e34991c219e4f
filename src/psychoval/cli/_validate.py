"""``psychoval validate RESPONSES --framework FW [--html OUT] [--json OUT] [--md OUT]
[--criteria FILE] [--strict] [--seed N] [--progress | --quiet]``: validate a framework, write
the reports. Progress goes to stderr (on a terminal, or with ``--progress``); stdout carries
only the summary."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("responses", metavar="RESPONSES",
                        help="response file (CSV, TSV, XLSX, Parquet)")
    parser.add_argument("--framework", metavar="FW", required=True,
                        help="framework file (YAML, JSON, or an item-map CSV/XLSX)")
    parser.add_argument("--html", metavar="OUT", help="write the HTML report to OUT")
    parser.add_argument("--json", metavar="OUT", help="write the JSON report to OUT")
    parser.add_argument("--md", metavar="OUT", help="write the Markdown report to OUT")
    parser.add_argument("--criteria", metavar="FILE",
                        help="criteria preset name or YAML/JSON criteria file "
                             "({preset: ..., criteria: {name: threshold}})")
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


def _write(path: str, text: str) -> None:
    from pathlib import Path

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    import sys

    import psychoval as pv
    from psychoval.cli._main import EXIT_OK, EXIT_STRICT_FAIL

    show = args.progress or (sys.stderr.isatty() and not args.quiet)
    report = pv.validate(args.responses, args.framework, criteria=args.criteria,
                         seed=args.seed, n_boot=args.n_boot, progress=True if show else None)
    if not args.quiet:
        print(report.summary())
    for path, render in ((args.html, report.to_html), (args.json, report.to_json),
                         (args.md, report.to_markdown)):
        if path:
            _write(path, render() if render is not report.to_json else render() + "\n")
            print(f"written: {path}", file=sys.stderr)
    if args.strict and not report.passed:
        failed = report.verdicts[report.verdicts["verdict"] == "fail"]
        print(f"psychoval validate: --strict: {len(failed)} criteria failed "
              f"({', '.join(failed['id'])})", file=sys.stderr)
        return EXIT_STRICT_FAIL
    return EXIT_OK
