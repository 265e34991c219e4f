"""``psychoval efa``: exploratory factor analysis of a response file (psych::fa conventions)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="responses file (CSV, XLSX, Parquet, ...)")
    parser.add_argument("-f", "--factors", type=int, required=True, dest="n_factors",
                        help="number of factors")
    parser.add_argument("--method", default="minres", choices=["minres", "ml", "pa", "uls"])
    parser.add_argument("--rotation", default="oblimin",
                        choices=["oblimin", "quartimin", "geominQ", "promax", "varimax",
                                 "quartimax", "geominT", "none"])
    parser.add_argument("--cor", default="pearson",
                        choices=["pearson", "polychoric", "tetrachoric", "mixed"])
    parser.add_argument("--missing", default="pairwise", choices=["pairwise", "listwise", "raise"])
    parser.add_argument("--id-column", default=None, help="column of respondent ids")
    parser.add_argument("--items", nargs="+", default=None, help="item columns (default all)")
    parser.add_argument("--format", default="text", choices=["text", "json"],
                        help="text summary (default) or the result as JSON")


def run(args: argparse.Namespace) -> int:
    import json

    import psychoval as pv
    from psychoval.cli._common import echo, reading, to_stdout

    with reading(args.source):
        table = pv.read_responses(args.source, id_column=args.id_column, items=args.items)
    res = pv.efa(table, n_factors=args.n_factors, method=args.method,
                 rotation=None if args.rotation == "none" else args.rotation,
                 cor=args.cor, missing=args.missing)
    if args.format == "json":
        to_stdout(json.dumps(res.to_dict(), indent=2), json=True)
    else:
        echo(res.summary())
    return 0
