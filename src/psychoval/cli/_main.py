"""Argument parsing and dispatch. Exit codes (CONVENTIONS.md):

0 ran; 1 ``--strict`` and a criterion failed; 2 usage error; 3 data or specification error;
4 estimation failed where no result exists.

Subcommand modules are imported only when their command runs (or for ``--help`` of the
parser), and they import the statistics lazily inside ``run``, so ``psychoval --help``
answers without loading numpy, pandas or scipy.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from psychoval._version import __version__

EXIT_OK = 0
EXIT_STRICT_FAIL = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_ESTIMATION = 4

# name -> (module with add_arguments(parser) and run(args) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    # check (issue 3)
    "check": ("psychoval.cli._check", "data-quality report of a response file"),
    # efa (issue 4)
    "efa": ("psychoval.cli._efa", "exploratory factor analysis (psych::fa conventions)"),
    # alpha, omega (issue 5)
    "alpha": ("psychoval.cli._alpha", "Cronbach's alpha, intervals and the item table"),
    "omega": ("psychoval.cli._omega", "McDonald's omega hierarchical and total "
              "(psych::omega, Schmid-Leiman)"),
    # raters (issue 6)
    "raters": ("psychoval.cli._raters", "rater agreement: ICC, Cohen's / Fleiss' kappa, "
               "Krippendorff's alpha"),
    # cfa (issue 7)
    "cfa": ("psychoval.cli._cfa", "confirmatory factor analysis (lavaan syntax) with fit "
            "measures"),
    # items (issue 9)
    # validate (issue 10)
    "validate": ("psychoval.cli._validate", "validate a framework: verdicts and HTML / JSON / "
                 "Markdown reports"),
    "items": ("psychoval.cli._items", "item analysis and item flags"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="psychoval",
        description="Validate competency assessments: reliability, item analysis, EFA and CFA "
        "checked against R's psych, lavaan and semTools.",
        epilog="Exit codes: 0 ran, 1 --strict and a criterion failed, 2 usage error, "
        "3 data or specification error, 4 estimation failed.",
    )
    parser.add_argument("--version", action="version", version=f"psychoval {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        return int(exc.code or 0)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from psychoval.exceptions import EstimationError, PsychovalError

    try:
        return int(importlib.import_module(args._module).run(args))
    except EstimationError as exc:
        print(f"psychoval {args.command}: estimation failed: {exc}", file=sys.stderr)
        return EXIT_ESTIMATION
    except PsychovalError as exc:
        print(f"psychoval {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_DATA
