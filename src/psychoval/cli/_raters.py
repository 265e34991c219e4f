"""``psychoval raters``: rater agreement (ICC, kappas, Krippendorff's alpha) of one rated item."""

from __future__ import annotations

import argparse

STATISTICS = ("icc", "kappa", "fleiss", "alpha")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="ratings file (CSV/TSV, XLSX, Parquet, SQLite, DuckDB)")
    parser.add_argument("--layout", choices=("wide", "long"), default="wide",
                        help="wide: one row per candidate, one column per rater (default); "
                        "long: one row per rating")
    from psychoval.cli._common import NameList, add_id_column, add_json, add_md

    add_id_column(parser, legacy=("--targets",))
    parser.add_argument("--raters", metavar="COLUMNS", action=NameList, legacy_spaces=True,
                        help="wide: the rater columns, comma-separated (default: all but "
                        "--id-column); long: the one rater column")
    parser.add_argument("--scores", metavar="COLUMN", help="long: the score column")
    parser.add_argument("--scale", nargs=2, type=float, metavar=("MIN", "MAX"),
                        help="the rubric's declared range; scores outside it are errors")
    parser.add_argument("--statistic", nargs="+", choices=STATISTICS + ("all",),
                        default=["all"], help="what to compute (default: all)")
    parser.add_argument("--level", choices=("nominal", "ordinal", "interval", "ratio"),
                        default="ordinal", help="Krippendorff's alpha level (default ordinal)")
    parser.add_argument("--weights", choices=("quadratic", "linear", "unweighted"),
                        default="quadratic", help="Cohen's kappa weights (default quadratic)")
    parser.add_argument("--n-boot", type=int, default=1000,
                        help="bootstrap resamples for alpha's interval (default 1000)")
    parser.add_argument("--seed", type=int, default=None, help="bootstrap seed")
    parser.add_argument("--confidence-level", type=float, default=0.95)
    add_json(parser, legacy_format=True)
    add_md(parser)


def run(args: argparse.Namespace) -> int:
    import json

    import psychoval as pv
    from psychoval._results import to_jsonable
    from psychoval.cli._common import check_one_stdout, echo, reading, show, write_outputs
    from psychoval.exceptions import SpecificationError

    if args.layout == "long":
        if not (args.id_column and args.raters and args.scores) or len(args.raters) != 1:
            raise SpecificationError(
                "--layout long needs --id-column CANDIDATE_COLUMN --raters RATER_COLUMN "
                "--scores SCORE_COLUMN"
            )
        with reading(args.data):
            table = pv.read_responses(args.data, layout="long", id_column=args.id_column,
                                      item_column=args.raters[0],
                                      response_column=args.scores)
    else:
        if args.scores:
            raise SpecificationError("--scores applies to --layout long only")
        with reading(args.data):
            table = pv.read_responses(args.data, id_column=args.id_column, items=args.raters)
    stats = STATISTICS if "all" in args.statistic else tuple(dict.fromkeys(args.statistic))
    scale = tuple(args.scale) if args.scale else None
    level = args.confidence_level
    results = {}
    for name in stats:
        if name == "icc":
            results[name] = pv.icc(table, scale=scale, confidence_level=level)
        elif name == "kappa":
            if table.n_items == 2:
                results[name] = pv.cohen_kappa(table, scale=scale, weights=args.weights,
                                               confidence_level=level)
            else:
                results[name] = pv.pairwise_kappa(table, scale=scale, weights=args.weights,
                                                  confidence_level=level)
        elif name == "fleiss":
            results[name] = pv.fleiss_kappa(table, scale=scale, confidence_level=level)
        else:
            results[name] = pv.krippendorff_alpha(table, level=args.level, scale=scale,
                                                  n_boot=args.n_boot, seed=args.seed,
                                                  confidence_level=level)
    on_stdout = check_one_stdout(json=args.json, md=args.md)
    if not on_stdout:
        for k, v in enumerate(results.values()):
            if k:
                echo()
            show(v.summary())
    write_outputs([
        (args.json, json.dumps(to_jsonable({k: v.to_dict() for k, v in results.items()}),
                               indent=2, allow_nan=False) if args.json else "", True),
        (args.md, "\n".join(v.summary().to_markdown() for v in results.values())
         if args.md else "", False)])
    return 0
