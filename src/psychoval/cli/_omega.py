"""``psychoval omega FILE``: McDonald's omega hierarchical and total."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="responses: CSV/TSV, XLSX, Parquet, SQLite or DuckDB")
    parser.add_argument("--items", help="comma-separated item columns (default: all but --id)")
    parser.add_argument("--id", dest="id_column", help="column of respondent ids")
    parser.add_argument("--n-factors", type=int, default=3,
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
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH",
                        help="write the result as JSON to PATH; without PATH, or '-': to "
                             "stdout instead of the summary")


def run(args: argparse.Namespace) -> int:
    import json

    from psychoval.cli._common import STDOUT, echo, reading, split_names, write_outputs
    from psychoval.io import read_responses
    from psychoval.stats import omega, omega_sem

    with reading(args.file):
        table = read_responses(args.file, id_column=args.id_column,
                               items=split_names(args.items))
    if args.sem:
        res = omega_sem(table, n_factors=args.n_factors, method=args.method,
                        rotation=args.rotation, reverse=split_names(args.reverse),
                        missing=args.missing, sl_option=args.sl_option)
    else:
        res = omega(table, n_factors=args.n_factors, method=args.method,
                    rotation=args.rotation, cor=args.cor, reverse=split_names(args.reverse),
                    missing=args.missing, sl_option=args.sl_option, n_boot=args.n_boot,
                    confidence_level=args.confidence_level, seed=args.seed)
    if args.json != STDOUT:
        echo(res.summary())
    if args.json:
        write_outputs([(args.json, json.dumps(res.to_dict(), indent=2), True)])
    return 0
