"""``psychoval alpha FILE``: Cronbach's alpha with its item table."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="responses: CSV/TSV, XLSX, Parquet, SQLite or DuckDB")
    parser.add_argument("--items", help="comma-separated item columns (default: all but --id)")
    parser.add_argument("--id", dest="id_column", help="column of respondent ids")
    parser.add_argument("--reverse", help="comma-separated reverse-keyed items (min + max - x)")
    parser.add_argument("--missing", default="pairwise",
                        choices=["pairwise", "listwise", "raise"])
    parser.add_argument("--ci-method", default="feldt",
                        choices=["feldt", "duhachek", "bootstrap", "bca"])
    parser.add_argument("--confidence-level", type=float, default=0.95)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH",
                        help="write the result as JSON to PATH; without PATH, or '-': to "
                             "stdout instead of the summary")


def run(args: argparse.Namespace) -> int:
    import json

    from psychoval.cli._common import STDOUT, echo, reading, split_names, write_outputs
    from psychoval.io import read_responses
    from psychoval.stats import alpha

    with reading(args.file):
        table = read_responses(args.file, id_column=args.id_column,
                               items=split_names(args.items))
    res = alpha(table, reverse=split_names(args.reverse), missing=args.missing,
                confidence_level=args.confidence_level, ci_method=args.ci_method,
                n_boot=args.n_boot, seed=args.seed)
    if args.json != STDOUT:
        echo(res.summary())
    if args.json:
        write_outputs([(args.json, json.dumps(res.to_dict(), indent=2), True)])
    return 0
