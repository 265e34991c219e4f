"""What every subcommand shares: printing user text safely, reading inputs so that an
unreadable file is a data error (exit 3), and writing outputs atomically (exit 5 when they
cannot be written; ``-`` is stdout)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from psychoval._output import strip_controls, write_texts

STDOUT = "-"


class OutputError(Exception):
    """An output could not be written (exit 5); the message names the file and the reason."""


class UsageError(Exception):
    """Options that parse but do not go together (exit 2)."""


class Stdout:
    """Whether the reader of stdout went away (``| head``) during this run."""

    closed = False


def stdout_to_devnull() -> None:
    """What Python's documentation recommends after EPIPE on stdout: point the descriptor at
    devnull, so that the flush at exit does not raise (and print) again."""
    Stdout.closed = True
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        pass


def _write_stdout(text: str) -> None:
    """Write to stdout; once its reader has gone, drop the text and carry on (the command
    still writes its files; it exits 141 at the end)."""
    if Stdout.closed:
        return
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        stdout_to_devnull()


def echo(text: Any = "", *, err: bool = False) -> None:
    """Print ``text`` on stdout (or stderr) without escape sequences or control characters
    (except newline and tab): user text must not drive the terminal."""
    line = strip_controls(str(text)) + "\n"
    if err:
        sys.stderr.write(line)
    else:
        _write_stdout(line)


def split_names(text: str | None) -> list[str] | None:
    """A comma-separated option (``--items a,b``) as a list of names (blanks dropped); None
    when the option was not given."""
    if text is None:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def warning(command: str, message: Any) -> None:
    echo(f"psychoval {command}: warning: {message}", err=True)


def to_stdout(text: str, *, json: bool = False) -> None:
    """A document on stdout: text without control characters; JSON with the C1 controls its
    encoder leaves raw written as ``\\u`` escapes (the same JSON value)."""
    if json:
        text = "".join(f"\\u{ord(ch):04x}" if "\x80" <= ch <= "\x9f" else ch for ch in text)
    else:
        text = strip_controls(text)
    _write_stdout(text if text.endswith("\n") else text + "\n")


def check_one_stdout(**options: str | None) -> bool:
    """True when one output is ``-`` (stdout then carries that document only); raises
    :class:`UsageError` when more than one is."""
    on_stdout = [f"--{name} -" for name, path in options.items() if path == STDOUT]
    if len(on_stdout) > 1:
        raise UsageError(f"only one output can go to stdout; got {' and '.join(on_stdout)}")
    return bool(on_stdout)


def write_outputs(outputs: Sequence[tuple[str | None, str, bool]]) -> list[str]:
    """Write each ``(path, text, is_json)`` whose path is given: ``-`` to stdout, files all
    together and atomically (folders created), each announced on stderr. Returns the files
    written.

    Raises :class:`OutputError` when a file cannot be written: no file is left truncated
    (and when writing failed, none of this call's files was changed)."""
    files = [(p, t if t.endswith("\n") else t + "\n") for p, t, _ in outputs
             if p and p != STDOUT]
    try:
        write_texts(files, make_parents=True)
    except OSError as exc:
        raise OutputError(f"cannot write {exc.filename}: {exc.strerror or exc}") from exc
    for path, _ in files:
        echo(f"written: {path}", err=True)
    for path, text, is_json in outputs:
        if path == STDOUT:
            to_stdout(text, json=is_json)
    return [p for p, _ in files]


def _input_errors() -> tuple[type[BaseException], ...]:
    """Exception types of reading a file that is missing, unreadable or corrupt (modules
    looked up only if already imported: the CLI stays light)."""
    import json
    import zipfile

    types: list[type[BaseException]] = [OSError, UnicodeError, json.JSONDecodeError,
                                        zipfile.BadZipFile, EOFError]
    for module, name in (("yaml", "YAMLError"), ("sqlite3", "DatabaseError"),
                         ("pyarrow", "ArrowException"), ("pandas.errors", "ParserError"),
                         ("pandas.errors", "EmptyDataError"), ("duckdb", "Error"),
                         ("openpyxl.utils.exceptions", "InvalidFileException")):
        mod = sys.modules.get(module)
        exc = getattr(mod, name, None) if mod is not None else None
        if isinstance(exc, type) and issubclass(exc, BaseException):
            types.append(exc)
    return tuple(types)


def _reason(exc: BaseException) -> str:
    if (isinstance(exc, UnicodeDecodeError)
            and exc.encoding.lower().replace("-", "").replace("_", "") == "utf8"):
        return (f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                "save it as UTF-8")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@contextlib.contextmanager
def reading(label: str | None, *, parse_errors: bool = True) -> Iterator[None]:
    """Turn the failure to read ``label`` (missing, unreadable, not the format it claims)
    into a :class:`~psychoval.exceptions.DataError` naming it (exit 3, one line); ``None``:
    an input not known by name.

    With ``parse_errors`` (around a call that only reads a file) any ``ValueError`` is also
    taken as a file that cannot be parsed; without it only I/O and decoding errors are."""
    from psychoval.exceptions import DataError, PsychovalError

    try:
        yield
    except PsychovalError:
        raise
    except BrokenPipeError:
        raise
    except Exception as exc:
        kinds = _input_errors() + ((ValueError,) if parse_errors else ())
        if not isinstance(exc, kinds):
            raise
        where = exc.filename if isinstance(exc, OSError) and exc.filename else label
        what = f"{where}: cannot read the file" if where else "cannot read the input"
        raise DataError(f"{what}: {_reason(exc)}") from exc


# ---------------------------------------------------------------------------------------------
# The one convention of options shared by the subcommands (docs/cli.md has the table; the test
# tests/test_cli_convention.py runs every subcommand's --help against SHARED_HELP).

SHARED_HELP: dict[str, str] = {
    "--json": "write the result as JSON to PATH ('-', or no PATH: to stdout, instead of the "
              "summary)",
    "--md": "write the result as Markdown to PATH ('-': to stdout, instead of the summary)",
    "--id-column": "the column of respondent ids (default: the framework's id_column, else "
                   "none)",
    "--items": "item columns, comma-separated (--items A1,A2,A3); the flag may be repeated "
               "(default: the framework's items, else every column)",
    "--framework": "framework file (YAML, JSON, or an item-map CSV/XLSX): the items, their "
                   "scoring and the id column",
}
"""Shared option -> its one help text (what it means is the same in every subcommand)."""

DEMOGRAPHIC = frozenset({
    "age", "gender", "sex", "education", "edu", "ethnicity", "race", "country", "region",
    "department", "dept", "job", "role", "tenure", "group", "location", "site", "team",
    "language", "income", "nationality", "cohort", "date", "year", "name", "email", "id",
    "respondent", "participant", "candidate", "occupation", "marital", "religion", "city"})
"""Words that name respondent information, not items: a column named by one (as a whole word:
``age``, ``job_family``, ``Education``) is refused as an item unless chosen by --items."""


def _deprecated(parser: argparse.ArgumentParser, old: str, new: str) -> None:
    """One clean line on stderr: ``psychoval alpha: warning: --id is deprecated; use
    --id-column``."""
    echo(f"{parser.prog}: warning: {old} is deprecated; use {new}", err=True)


class _DeprecatedStore(argparse.Action):
    """An old spelling kept working: stores like the new option and says so once."""

    def __init__(self, option_strings, dest, new: str = "", **kwargs) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        _deprecated(parser, f"{option_string} {values}", self.new)
        setattr(namespace, self.dest, values)


class NameList(argparse.Action):
    """``--items a,b --items c`` -> ``[a, b, c]``; with ``legacy_spaces`` the old spelling
    ``--items a b c`` still works, with a deprecation line."""

    def __init__(self, option_strings, dest, legacy_spaces: bool = False, **kwargs) -> None:
        self.legacy_spaces = legacy_spaces
        if legacy_spaces:
            kwargs["nargs"] = "+"
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        values = values if isinstance(values, list) else [values]
        if len(values) > 1:
            _deprecated(parser, f"{option_string} {' '.join(values)} (space-separated)",
                        f"{option_string} {','.join(values)}")
        names = list(getattr(namespace, self.dest, None) or [])
        for v in values:
            names += split_names(v) or []
        setattr(namespace, self.dest, names)


def add_json(parser: argparse.ArgumentParser, *, legacy_format: bool = False) -> None:
    """``--json [PATH|-]``; ``legacy_format``: the old ``--format json|text`` kept as a
    deprecated alias (``json`` = ``--json -``)."""
    parser.add_argument("--json", nargs="?", const=STDOUT, metavar="PATH",
                        help=SHARED_HELP["--json"])
    if legacy_format:
        class _Format(argparse.Action):
            def __call__(self, p, namespace, values, option_string=None):
                _deprecated(p, f"--format {values}", "--json - (or nothing, for text)")
                if values == "json":
                    namespace.json = STDOUT
        parser.add_argument("--format", choices=("text", "json"), action=_Format,
                            default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def add_md(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--md", metavar="PATH", help=SHARED_HELP["--md"])


def add_id_column(parser: argparse.ArgumentParser, *, legacy: Sequence[str] = ()) -> None:
    """``--id-column COL``; ``legacy``: old spellings (``--id``, ``--targets``) kept as
    deprecated aliases."""
    parser.add_argument("--id-column", metavar="COL", help=SHARED_HELP["--id-column"])
    for old in legacy:
        parser.add_argument(old, dest="id_column", metavar="COL", action=_DeprecatedStore,
                            new="--id-column", default=argparse.SUPPRESS,
                            help=argparse.SUPPRESS)


def add_items(parser: argparse.ArgumentParser, *, legacy_spaces: bool = False) -> None:
    parser.add_argument("--items", metavar="ITEMS", action=NameList,
                        legacy_spaces=legacy_spaces, help=SHARED_HELP["--items"])


def add_framework(parser: argparse.ArgumentParser, *, required: bool = False,
                  select: bool = False) -> None:
    """``--framework FW``; ``select``: also ``--competency ID`` / ``--tier ID``, whose items
    are the ones analysed."""
    parser.add_argument("--framework", metavar="FW", required=required,
                        help=SHARED_HELP["--framework"])
    if select:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--competency", metavar="ID",
                           help="with --framework: analyse this competency's items")
        which.add_argument("--tier", metavar="ID",
                           help="with --framework: analyse this tier's items")


def add_alias(parser: argparse.ArgumentParser, old: str, new: str, dest: str, *,
              type: Any = None) -> None:
    """An old spelling ``old`` of the option ``new`` (same ``dest``), hidden from --help and
    announced as deprecated when used."""
    parser.add_argument(old, dest=dest, action=_DeprecatedStore, new=new, type=type,
                        default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _not_items(table: Any) -> list[tuple[str, str]]:
    """Columns of ``table`` that are not items: text columns and columns named as respondent
    information (``DEMOGRAPHIC``), each with the reason."""
    import re

    text = set(table.text_items)
    out = []
    for c in table.items:
        words = {w for w in re.split(r"[^a-z0-9]+", str(c).lower()) if w}
        if words & DEMOGRAPHIC:
            out.append((c, "respondent information"))
        elif c in text:
            out.append((c, "text"))
    return out


def item_table(args: argparse.Namespace, path: str) -> Any:
    """The items that ``--items`` / ``--framework`` (``--competency``, ``--tier``) and
    ``--id-column`` choose from the response file ``path``, as what the statistics take: the
    ResponseTable (``--items`` or every column), or the framework's scored items (reverse keys
    and answer keys applied) as a DataFrame indexed by id.

    Without either, every column but the id is an item, and columns that are text or named as
    respondent information (age, gender, education, job_family, ...) are refused by name with
    how to choose the items: they are not items.
    """
    from psychoval.exceptions import SpecificationError
    from psychoval.framework import read_framework
    from psychoval.io import read_responses

    fw_path = getattr(args, "framework", None)
    competency = getattr(args, "competency", None)
    tier = getattr(args, "tier", None)
    if (competency or tier) and not fw_path:
        raise SpecificationError("--competency and --tier need --framework")
    if fw_path is None:
        with reading(path):
            table = read_responses(path, id_column=args.id_column, items=args.items)
        if args.items is None:
            bad = _not_items(table)
            if bad:
                from psychoval.io._table import list_names

                info = [c for c, why in bad if why != "text"]
                text = [c for c, why in bad if why == "text"]
                why = []
                if info:
                    why.append(f"{list_names(info)} name respondent information")
                if text:
                    why.append(f"{list_names(text)} hold text (answers not yet scored: "
                               "--framework scores them)")
                raise SpecificationError(
                    f"not every column is an item: {'; '.join(why)}. Choose the items with "
                    "--items A1,A2,... or --framework FW [--competency ID], and the id "
                    "column with --id-column")
        return table
    with reading(fw_path):
        fw = read_framework(fw_path)
    with reading(path):
        table = read_responses(path, id_column=args.id_column or fw.id_column)
    if args.items:
        items = list(args.items)
    elif competency:
        items = list(fw.competency(competency).item_ids)
    elif tier:
        items = [i.id for i in fw.tier(tier).items]
    else:
        items = list(fw.item_ids)
    scores = fw.score(table).scores
    absent = [i for i in items if i not in scores.columns]
    if absent:
        raise SpecificationError(
            f"--items names {', '.join(map(repr, absent))}, not item(s) of the framework")
    return scores[items]


def terminal_width() -> int | None:
    """The width tables are wrapped to: ``$COLUMNS`` when set, else the terminal's when stdout
    is one; None (no wrapping) when stdout is a pipe or a file."""
    import shutil

    if os.environ.get("COLUMNS", "").isdigit():
        return max(int(os.environ["COLUMNS"]), 40)
    try:
        if sys.stdout.isatty():
            return max(shutil.get_terminal_size().columns, 40)
    except (AttributeError, ValueError, OSError):
        pass
    return None


def show(summary: Any) -> None:
    """Print a result's summary for the terminal (aligned, wrapped to its width)."""
    to_text = getattr(summary, "to_text", None)
    echo(to_text(width=terminal_width()) if to_text else summary)


def emit(result: Any, args: argparse.Namespace, *, doc: Any = None,
         markdown: str | None = None,
         extra: dict[str, tuple[str | None, str, bool]] | None = None,
         quiet: bool = False) -> None:
    """The convention's outputs of one result: the summary on stdout unless ``--json -`` or
    ``--md -`` takes it, ``--json PATH|-`` (``doc``, default ``result.to_dict()``) and
    ``--md PATH|-`` (``markdown``, default the summary's Markdown), and the command's own
    ``extra`` outputs (option name -> ``(path, text, is_json)``), written together."""
    import json

    from psychoval._results import to_jsonable

    json_path, md_path = getattr(args, "json", None), getattr(args, "md", None)
    extra = extra or {}
    on_stdout = check_one_stdout(json=json_path, md=md_path,
                                 **{k: p for k, (p, _, _) in extra.items()})
    if not on_stdout and not quiet:
        show(result.summary())
    outputs = list(extra.values())
    if json_path:
        body = result.to_dict() if doc is None else doc
        outputs.append((json_path, json.dumps(to_jsonable(body), indent=2, allow_nan=False),
                        True))
    if md_path:
        outputs.append((md_path, result.summary().to_markdown() if markdown is None
                        else markdown, False))
    if any(p for p, _, _ in outputs):
        write_outputs(outputs)
