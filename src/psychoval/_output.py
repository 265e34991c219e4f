"""Writing outputs safely (cross-cutting, below every layer).

- :func:`write_texts` / :func:`write_text`: every file psychoval writes (reports, ``--json``
  of every subcommand) goes through here. Each text is written to a temporary file in the
  target's folder, flushed to disk, then moved over the target with :func:`os.replace`, so a
  reader sees the old file or the whole new one, never a truncated one; when anything fails
  the temporary files are removed and the error is raised with the target's name.
- :func:`strip_controls`: user text bound for a terminal, without escape sequences and
  control characters.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

__all__ = ["strip_controls", "write_text", "write_texts"]

# Whole escape sequences first (CSI "ESC [ ... final"; OSC / DCS / SOS / PM / APC strings up to
# BEL or ST; other escapes: ESC, intermediate bytes, a final byte), in their 7-bit and 8-bit
# (C1) forms; then any C0 or C1 control character except newline and tab, and DEL.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CHUNK = 1 << 16


def strip_controls(text: str) -> str:
    """``text`` without terminal escape sequences (colours, cursor moves, OSC titles and
    hyperlinks) and without C0/C1 control characters other than newline and tab.

    >>> strip_controls("a\\x1b[31mred\\x1b[0m\\x1b]0;title\\x07 b\\rc\\td\\n")
    'ared bc\\td\\n'
    """
    if not text.isprintable():
        text = _CONTROL.sub("", _SEQUENCE.sub("", text))
    return text


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view[:_CHUNK])
        view = view[n:]


def _temporary(target: Path, data: bytes) -> str:
    """Write ``data`` to a new file beside ``target``; returns its name."""
    while True:
        tmp = str(target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:  # the mode honours the umask, as a plain open() would
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits taken
            continue
        break
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)  # a full disk may only say so here (delayed allocation)
        finally:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):  # replacing a file keeps its mode
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _target(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return Path(os.path.realpath(p)) if p.is_symlink() else p  # write through a symlink


def write_texts(outputs: Sequence[tuple[str | os.PathLike[str], str]], *,
                make_parents: bool = False) -> None:
    """Write each ``(path, text)`` (UTF-8) atomically, all of them or none.

    Every text is first written to a temporary file in its target's folder and synced; only
    when all are complete do they replace their targets (:func:`os.replace`, a rename within
    the folder). On failure no temporary file is left and no target is truncated: a failure
    while writing changes no target; the renames come last. The :class:`OSError` names the
    target.
    A target that exists and is not a regular file (``/dev/stdout``, a named pipe) is written
    directly, as nothing can be replaced there.

    Parameters
    ----------
    outputs : sequence of (path, str)
    make_parents : bool, default False
        Create missing folders of each target.

    Raises
    ------
    OSError
        The folder cannot be created or written, the disk is full, ...; ``filename`` is the
        target (not the temporary file).
    """
    staged: list[list[str | Path]] = []  # [temporary, target, path as given]
    direct: list[tuple[Path, bytes, str | os.PathLike[str]]] = []
    current: str | os.PathLike[str] = ""
    try:
        for path, text in outputs:
            current = path
            target = _target(path)
            data = text.encode("utf-8")
            if target.exists() and not target.is_file():
                direct.append((target, data, path))
                continue
            if make_parents:
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                except FileExistsError as exc:  # a file where a folder should be
                    raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)) from exc
            staged.append([_temporary(target, data), target, path])
        for target, data, path in direct:
            current = path
            with open(target, "wb") as fh:
                fh.write(data)
        for entry in staged:
            tmp, target, current = entry
            os.replace(tmp, target)
            entry[0] = ""
    except OSError as exc:
        _discard(staged)
        raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(current)) from exc
    except BaseException:
        _discard(staged)
        raise


def _discard(staged: list[list[str | Path]]) -> None:
    for entry in staged:
        if entry[0]:
            with contextlib.suppress(OSError):
                os.unlink(entry[0])


def write_text(path: str | os.PathLike[str], text: str, *, make_parents: bool = False) -> None:
    """Write one text atomically (see :func:`write_texts`)."""
    write_texts([(path, text)], make_parents=make_parents)
