"""``psychoval cfa``: fit a CFA (lavaan syntax) to a response file and print lavaan's summary.

Exit 0 when the fit converged, 4 when it did not (the summary and ``--json`` are still
written, with ``converged: false``; the reason is on stderr)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="response file (CSV, Excel, Parquet, ...)")
    parser.add_argument("--model", required=True,
                        help="lavaan model syntax, or a path to a file holding it")
    parser.add_argument("--std-lv", action="store_true",
                        help="fix factor variances at 1 instead of the first loadings")
    parser.add_argument("--estimator", default="ML", choices=("ML", "MLR"),
                        help="ML (default) or MLR (robust standard errors and scaled test)")
    parser.add_argument("--missing", default="listwise",
                        choices=("listwise", "fiml", "ml", "raise"),
                        help="missing-data handling (default: listwise, as lavaan; fiml = "
                             "full-information ML)")
    parser.add_argument("--modindices", type=int, default=0, metavar="K",
                        help="also print the K largest modification indices")
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON to PATH")


def run(args: argparse.Namespace) -> int:
    import warnings

    import psychoval as pv

    model = args.model
    path = Path(model)
    if "=~" not in model and path.exists():
        model = path.read_text(encoding="utf-8")
    data = pv.read_responses(args.data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = pv.cfa(model, data, std_lv=args.std_lv, missing=args.missing,
                     estimator=args.estimator)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    print(fit.summary())
    if args.modindices > 0:
        print()
        print(fit.modindices().head(args.modindices).to_string(index=False))
    if args.json:
        Path(args.json).write_text(json.dumps(fit.to_dict(), indent=2) + "\n", encoding="utf-8")
    if not fit.converged:
        from psychoval.cli._main import EXIT_ESTIMATION

        print("psychoval cfa: the model did not converge (see the warning above); the "
              "estimates are not trustworthy", file=sys.stderr)
        return EXIT_ESTIMATION
    return 0
