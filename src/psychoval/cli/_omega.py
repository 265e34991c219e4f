"""``psychoval omega FILE``: McDonald's omega hierarchical and total."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from psychoval.cli._common import (
        add_framework,
        add_id_column,
        add_items,
        add_json,
        add_md,
    )

    parser.add_argument("file", help="responses: CSV/TSV, XLSX, Parquet, SQLite or DuckDB")
    add_items(parser)
    add_framework(parser, select=True)
    add_id_column(parser, legacy=("--id",))
    parser.add_argument("-f", "--n-factors", type=int, default=3, dest="n_factors",
                        help="group factors (at least 3; 2 needs --sl-option)")
    parser.add_argument("--method", default="minres", choices=["minres", "ml", "pa", "uls"])
    parser.add_argument("--rotation", default="oblimin",
                        choices=["oblimin", "quartimin", "geominQ", "promax"])
    parser.add_argument("--cor", default="pearson",
                        choices=["pearson", "polychoric", "tetrachoric"])
    parser.add_argument("--reverse", help="comma-separated reverse-keyed items")
    parser.add_argument("--missing", default="pairwise",
                        choices=["pairwise", "listwise", "raise"])
    parser.add_argument("--sl-option", default=None, choices=["equal", "first", "second"],
                        help="psych's rule for 2 group factors (only with --n-factors 2)")
    parser.add_argument("--n-boot", type=int, default=0, help="bootstrap resamples (0: none)")
    parser.add_argument("--confidence-level", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--sem", action="store_true",
                        help="also refit the bifactor model as a CFA (psych::omegaSem)")
    add_json(parser)
    add_md(parser)


def run(args: argparse.Namespace) -> int:
    from psychoval.cli._common import emit, item_table, split_names
    from psychoval.stats import omega, omega_sem

    table = item_table(args, args.file)
    if args.sem:
        res = omega_sem(table, n_factors=args.n_factors, method=args.method,
                        rotation=args.rotation, reverse=split_names(args.reverse),
                        missing=args.missing, sl_option=args.sl_option)
    else:
        res = omega(table, n_factors=args.n_factors, method=args.method,
                    rotation=args.rotation, cor=args.cor, reverse=split_names(args.reverse),
                    missing=args.missing, sl_option=args.sl_option, n_boot=args.n_boot,
                    confidence_level=args.confidence_level, seed=args.seed)
    emit(res, args)
    return 0
