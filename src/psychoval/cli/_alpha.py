"""``psychoval alpha FILE``: Cronbach's alpha with its item table."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from psychoval.cli._common import add_framework, add_id_column, add_items, add_json, add_md

    parser.add_argument("file", help="responses: CSV/TSV, XLSX, Parquet, SQLite or DuckDB")
    add_items(parser)
    add_framework(parser, select=True)
    add_id_column(parser, legacy=("--id",))
    parser.add_argument("--reverse", help="comma-separated reverse-keyed items (min + max - x)")
    parser.add_argument("--missing", default="pairwise",
                        choices=["pairwise", "listwise", "raise"])
    parser.add_argument("--ci-method", default="feldt",
                        choices=["feldt", "duhachek", "bootstrap", "bca"])
    parser.add_argument("--confidence-level", type=float, default=0.95)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None)
    add_json(parser)
    add_md(parser)


def run(args: argparse.Namespace) -> int:
    from psychoval.cli._common import emit, item_table, split_names
    from psychoval.stats import alpha

    table = item_table(args, args.file)
    res = alpha(table, reverse=split_names(args.reverse), missing=args.missing,
                confidence_level=args.confidence_level, ci_method=args.ci_method,
                n_boot=args.n_boot, seed=args.seed)
    emit(res, args)
    return 0
