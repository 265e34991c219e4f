"""``psychoval content RATINGS --framework FW [--json PATH|-] [--md PATH|-]
[--strict]``: content
validity of the framework's items from an expert panel (pv.content_validity), judged by the
content criteria with their citations (pv.content_verdicts)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ratings", metavar="RATINGS",
                        help="the panel's ratings (CSV, TSV, XLSX): long, one row per expert "
                             "and item (columns expert, item, and any of relevance, "
                             "essentiality, assignment, comment)")
    from psychoval.cli._common import add_framework, add_json, add_md

    add_framework(parser, required=True)
    parser.add_argument("--layout", choices=("long", "wide"), default="long",
                        help="long (default) or wide: items x experts of relevance scores")
    parser.add_argument("--criteria", metavar="FILE",
                        help="criteria preset name or YAML/JSON criteria file (e.g. "
                             "{criteria: {i_cvi: 0.83}})")
    add_json(parser)
    add_md(parser)
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when at least one criterion failed")


def run(args: argparse.Namespace) -> int:
    import json

    import psychoval as pv
    from psychoval.cli._common import check_one_stdout, echo, reading, show, write_outputs
    from psychoval.cli._main import EXIT_OK, EXIT_STRICT_FAIL
    from psychoval.report import content_markdown

    to_stdout = check_one_stdout(json=args.json, md=args.md)
    with reading(args.framework):
        fw = pv.read_framework(args.framework)
    with reading(args.ratings):
        res = pv.content_validity(args.ratings, framework=fw, layout=args.layout)
    crit = pv.criteria(args.criteria) if args.criteria else None
    verdicts = pv.content_verdicts(res, criteria=crit, framework=fw)
    failed = verdicts[verdicts["verdict"] == "fail"]
    if not to_stdout:
        show(res.summary())
        bad = verdicts[verdicts["verdict"] != "pass"]
        echo("\nVerdicts other than pass:" if len(bad) else "\nEvery content criterion passes.")
        for r in bad.itertuples():
            echo(f"  {r.id} {r.target}: {r.verdict} - {r.reason}")
    doc = {"content_validity": res.to_dict(),
           "verdicts": json.loads(verdicts.to_json(orient="records"))}
    write_outputs([
        (args.json, json.dumps(doc, indent=2, allow_nan=False) if args.json else "", True),
        (args.md, content_markdown(res, verdicts) if args.md else "", False)])
    if args.strict and len(failed):
        echo(f"psychoval content: --strict: {len(failed)} criteria failed "
             f"({', '.join(failed['id'])})", err=True)
        return EXIT_STRICT_FAIL
    return EXIT_OK
