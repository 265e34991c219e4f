"""What every subcommand shares: printing user text safely, reading inputs so that an
unreadable file is a data error (exit 3), and writing outputs atomically (exit 5 when they
cannot be written; ``-`` is stdout)."""

from __future__ import annotations

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
