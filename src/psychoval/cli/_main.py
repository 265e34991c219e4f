"""Argument parsing and dispatch. Exit codes (CONVENTIONS.md):

0 ran; 1 ``--strict`` and a criterion failed (only that); 2 usage error; 3 data or
specification error, including an input file that is missing, unreadable or corrupt;
4 estimation failed where no result exists; 5 an output could not be written (no file is left
truncated: every file is written to a temporary file and moved into place). When stdout is
closed early (``psychoval validate ... | head -1``) the command stops printing, still writes
its files, and ends quietly with 141 (as a program ended by SIGPIPE) unless it failed
otherwise. None of these prints a traceback; messages are one line on stderr.

Everything printed passes through :func:`psychoval._output.strip_controls`: user text (item
names, ids, notes, file names) cannot send escape sequences to the terminal.

Subcommand modules are imported only when their command runs (or for ``--help`` of the
parser), and they import the statistics lazily inside ``run``, so ``psychoval --help``
answers without loading numpy, pandas or scipy.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from typing import IO

from psychoval._output import strip_controls
from psychoval._version import __version__

EXIT_OK = 0
EXIT_STRICT_FAIL = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_ESTIMATION = 4
EXIT_OUTPUT = 5
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left

# name -> (module with add_arguments(parser) and run(args) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    # check
    "check": ("psychoval.cli._check", "data-quality report of a response file"),
    # efa
    "efa": ("psychoval.cli._efa", "exploratory factor analysis (psych::fa conventions)"),
    # alpha, omega
    "alpha": ("psychoval.cli._alpha", "Cronbach's alpha, intervals and the item table"),
    "omega": ("psychoval.cli._omega", "McDonald's omega hierarchical and total "
              "(psych::omega, Schmid-Leiman)"),
    # raters
    "raters": ("psychoval.cli._raters", "rater agreement: ICC, Cohen's / Fleiss' kappa, "
               "Krippendorff's alpha"),
    # cfa
    "cfa": ("psychoval.cli._cfa", "confirmatory factor analysis (lavaan syntax) with fit "
            "measures"),
    # validate, items
    "validate": ("psychoval.cli._validate", "validate a framework: verdicts and HTML / JSON / "
                 "Markdown reports"),
    "items": ("psychoval.cli._items", "item analysis and item flags"),
    "gaps": ("psychoval.cli._gaps", "skills gaps by role against the framework's targets"),
    "content": ("psychoval.cli._content", "content validity from an expert panel's ratings, "
                "with verdicts"),
    "standard-setting": ("psychoval.cli._standard_setting", "cut scores from a "
                         "standard-setting panel (modified Angoff or Bookmark)"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, with its messages (which echo the arguments) stripped of control
    characters."""

    def _print_message(self, message: str, file: IO[str] | None = None) -> None:
        if message:
            super()._print_message(strip_controls(message), file)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="psychoval",
        description="Validate competency assessments: reliability, item analysis, EFA and CFA "
        "checked against R's psych, lavaan and semTools.",
        epilog="Exit codes: 0 ran, 1 --strict and a criterion failed, 2 usage error, "
        "3 data or specification error (also an input file that cannot be read), "
        "4 estimation failed, 5 an output could not be written (no file is left "
        "truncated); when stdout is closed early (| head) the command ends quietly with "
        "141. '-' as the file of --json, --md or --html means stdout.",
    )
    parser.add_argument("--version", action="version", version=f"psychoval {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    When the reader of stdout goes away (``| head``), what would have been printed is
    dropped, the command still writes its files, and the exit code is 141 unless the command
    failed otherwise (then its own code)."""
    from psychoval.cli._common import Stdout, echo, stdout_to_devnull

    Stdout.closed = False

    def show(message, category, filename, lineno, file=None, line=None):
        echo(f"psychoval: warning: {' '.join(str(message).split())}", err=True)

    try:
        with warnings.catch_warnings():  # while parsing; each command's run has its own
            warnings.showwarning = show
            code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here rather than at interpreter exit
    except BrokenPipeError:  # while argparse printed (--help) or at the flush above
        stdout_to_devnull()
        code = EXIT_OK
    if Stdout.closed and code == EXIT_OK:
        return EXIT_BROKEN_PIPE
    return code


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE if exc.code else EXIT_OK
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from psychoval.cli._common import OutputError, UsageError, echo, reading, warning
    from psychoval.exceptions import EstimationError, PsychovalError

    command = args.command

    def show(message, category, filename, lineno, file=None, line=None):
        warning(command, " ".join(str(message).split()))  # one line, no source path

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = show
            with reading(None, parse_errors=False):
                return int(importlib.import_module(args._module).run(args))
    except BrokenPipeError:
        raise
    except UsageError as exc:
        echo(f"psychoval {command}: error: {exc}", err=True)
        return EXIT_USAGE
    except OutputError as exc:
        echo(f"psychoval {command}: error: {exc}", err=True)
        return EXIT_OUTPUT
    except EstimationError as exc:
        echo(f"psychoval {command}: estimation failed: {exc}", err=True)
        return EXIT_ESTIMATION
    except PsychovalError as exc:
        echo(f"psychoval {command}: error: {exc}", err=True)
        return EXIT_DATA
