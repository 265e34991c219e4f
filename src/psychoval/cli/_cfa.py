"""``psychoval cfa``: fit a CFA (lavaan syntax) to a response file and print lavaan's summary.

Exit 0 when the fit converged, 4 when it did not (the summary and ``--json`` are still
written, with ``converged: false``; the reason is on stderr). ``--model`` is lavaan syntax
when it holds ``=~`` or a line break, else the path of a file holding it (3 when there is no
such file)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="response file (CSV, Excel, Parquet, ...)")
    from psychoval.cli._common import add_framework, add_id_column, add_json, add_md

    parser.add_argument("--model",
                        help="lavaan model syntax, or a path to a file holding it (default, "
                             "with --framework: the framework's model)")
    add_framework(parser)
    add_id_column(parser)
    parser.add_argument("--std-lv", action="store_true",
                        help="fix factor variances at 1 instead of the first loadings")
    parser.add_argument("--estimator", default="ML",
                        choices=("ML", "MLR", "WLSMV", "DWLS", "ULSMV", "ULS", "WLS"),
                        help="ML (default) or MLR (robust standard errors and scaled test); "
                             "with --ordered: WLSMV (its default), DWLS, ULSMV, ULS or WLS")
    parser.add_argument("--ordered", nargs="?", const="all", default=None, metavar="ITEMS",
                        help="the indicators are ordered categories (lavaan's ordered =): "
                             "all of them, or the comma-separated ITEMS (the others "
                             "continuous)")
    parser.add_argument("--parameterization", default="delta", choices=("delta", "theta"),
                        help="with --ordered: lavaan's parameterization (default delta)")
    parser.add_argument("--missing", default="listwise",
                        choices=("listwise", "pairwise", "fiml", "ml", "raise"),
                        help="missing-data handling (default: listwise, as lavaan; fiml = "
                             "full-information ML; pairwise with --ordered)")
    parser.add_argument("--modindices", type=int, default=0, metavar="K",
                        help="also print the K largest modification indices")
    add_json(parser)
    add_md(parser)


def model_text(spec: str) -> str:
    """The model syntax of ``--model``: the text itself, or the file it names."""
    from psychoval.cli._common import reading
    from psychoval.exceptions import DataError

    if "=~" in spec or "\n" in spec:
        return spec
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(f"--model {spec!r}: file not found (give lavaan syntax such as "
                        "'visual =~ x1 + x2 + x3', or the path of a file holding it)")
    if path.is_dir():
        raise DataError(f"--model {spec!r}: is a folder, not a file")
    with reading(spec):
        return path.read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    import psychoval as pv
    from psychoval._results import text_table
    from psychoval.cli._common import (
        STDOUT,
        UsageError,
        echo,
        emit,
        reading,
        split_names,
        terminal_width,
    )

    if args.model is None and args.framework is None:
        raise UsageError("give --model (lavaan syntax or a file) or --framework")
    fw = None
    if args.framework:
        with reading(args.framework):
            fw = pv.read_framework(args.framework)
    model = model_text(args.model) if args.model else fw.to_model()
    with reading(args.data):
        data = pv.read_responses(args.data, id_column=args.id_column or (
            fw.id_column if fw is not None else None))
    if fw is not None:
        data = fw.score(data).scores

    ordered = None if args.ordered is None else (
        True if args.ordered == "all" else split_names(args.ordered))
    fit = pv.cfa(model, data, std_lv=args.std_lv, missing=args.missing,
                 estimator=args.estimator, ordered=ordered,
                 parameterization=args.parameterization)
    emit(fit, args)
    if args.modindices > 0 and STDOUT not in (args.json, args.md):
        echo()
        echo(text_table(fit.modindices().head(args.modindices), width=terminal_width()))
    if not fit.converged:
        from psychoval.cli._main import EXIT_ESTIMATION

        echo("psychoval cfa: the model did not converge (see the warning above); the "
             "estimates are not trustworthy", err=True)
        return EXIT_ESTIMATION
    return 0
