"""Progress reporting for long work (cross-cutting; no printing anywhere else).

``progress=`` of a long-running function takes ``None``/``False`` (silent), ``True`` (a bar on
stderr: tqdm's, notebook-friendly in Jupyter, when the optional ``progress`` extra is
installed; a plain one-line bar otherwise) or a callable receiving ``(step, done, total)``.
:func:`progress_callback` turns any of these into one callable (or None).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from psychoval.exceptions import SpecificationError

__all__ = ["progress_callback", "PlainBar"]

Callback = Callable[[str, int, int], Any]


class PlainBar:
    """A one-line bar on a stream: ``label [#####.....] done/total step  elapsed, ~left``."""

    def __init__(self, label: str, stream: Any = None, width: int = 24):
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.t0 = time.perf_counter()
        self._last = 0

    @staticmethod
    def _clock(s: float) -> str:
        s = int(round(s))
        return f"{s // 60:d}:{s % 60:02d}"

    def __call__(self, step: str, done: int, total: int) -> None:
        total = max(total, 1)
        elapsed = time.perf_counter() - self.t0
        filled = int(self.width * min(done, total) / total)
        left = (f", ~{self._clock(elapsed / done * (total - done))} left"
                if 0 < done < total else "")
        line = (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} "
                f"{step[:40]:<40} {self._clock(elapsed)}{left}")
        pad = max(self._last - len(line), 0)
        self._last = len(line)
        self.stream.write("\r" + line + " " * pad + ("\n" if done >= total else ""))
        self.stream.flush()


class _TqdmBar:
    def __init__(self, label: str, tqdm: Any):
        self._tqdm = tqdm
        self._bar = None
        self.label = label

    def __call__(self, step: str, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = self._tqdm(total=total, desc=self.label, unit="step", file=sys.stderr,
                                   leave=True)
        if self._bar.total != total:
            self._bar.total = total
        self._bar.set_postfix_str(step[:40], refresh=False)
        self._bar.update(done - self._bar.n)
        if done >= total:
            self._bar.close()


def progress_callback(progress: Any, label: str) -> Callback | None:
    """``None`` for no progress, else a callable ``(step, done, total)``."""
    if progress is None or progress is False:
        return None
    if progress is True:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return PlainBar(label)
        return _TqdmBar(label, tqdm)
    if callable(progress):
        return progress
    raise SpecificationError(
        f"progress={progress!r} must be None, True (a bar on stderr) or a callable "
        "progress(step, done, total)")
