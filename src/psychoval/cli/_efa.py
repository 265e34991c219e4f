"""``psychoval efa``: exploratory factor analysis of a response file (psych::fa conventions)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from psychoval.cli._common import (
        add_alias,
        add_framework,
        add_id_column,
        add_items,
        add_json,
        add_md,
    )

    parser.add_argument("source", help="responses file (CSV, XLSX, Parquet, ...)")
    parser.add_argument("-f", "--n-factors", type=int, dest="n_factors",
                        help="number of factors (required)")
    add_alias(parser, "--factors", "--n-factors", "n_factors", type=int)
    parser.add_argument("--method", default="minres", choices=["minres", "ml", "pa", "uls"])
    parser.add_argument("--rotation", default="oblimin",
                        choices=["oblimin", "quartimin", "geominQ", "promax", "varimax",
                                 "quartimax", "geominT", "none"])
    parser.add_argument("--cor", default="pearson",
                        choices=["pearson", "polychoric", "tetrachoric", "mixed"])
    parser.add_argument("--missing", default="pairwise", choices=["pairwise", "listwise", "raise"])
    add_items(parser, legacy_spaces=True)
    add_framework(parser, select=True)
    add_id_column(parser)
    add_json(parser, legacy_format=True)
    add_md(parser)


def run(args: argparse.Namespace) -> int:
    import psychoval as pv
    from psychoval.cli._common import UsageError, emit, item_table

    if args.n_factors is None:
        raise UsageError("the following arguments are required: -f/--n-factors")
    table = item_table(args, args.source)
    res = pv.efa(table, n_factors=args.n_factors, method=args.method,
                 rotation=None if args.rotation == "none" else args.rotation,
                 cor=args.cor, missing=args.missing)
    emit(res, args)
    return 0
