"""Errors and warnings raised by psychoval.

Every error is a :class:`PsychovalError` and also the builtin exception it means, so code
that catches ``ValueError`` keeps working. A message names the item, row, column or line at
fault, echoes the bad value, and says what to do about it.

The rule (CONVENTIONS.md): raise only when no estimate can exist (bad input, an unidentified
model). A fit that did not converge or is inadmissible is *returned*, flagged on the result
(``converged=False``, ``admissible=False``) and announced with a :class:`ConvergenceWarning` or
:class:`ImproperSolutionWarning`.
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = [
    "warn",
    "collect_warnings",
    "renamed_keyword",
    "PsychovalError",
    "DataError",
    "SpecificationError",
    "EstimationError",
    "PsychovalWarning",
    "ConvergenceWarning",
    "ImproperSolutionWarning",
    "DegenerateDataWarning",
    "SmallSampleWarning",
    "SpecificationWarning",
]


class PsychovalError(Exception):
    """Base class of every error psychoval raises on purpose."""


class DataError(PsychovalError, ValueError):
    """The responses cannot be used as given (wrong type, empty, bad codes, duplicates...)."""


class SpecificationError(PsychovalError, ValueError):
    """A framework, model or option is malformed or cannot be identified."""


class EstimationError(PsychovalError, RuntimeError):
    """Estimation failed in a way that leaves no result to return."""


class PsychovalWarning(UserWarning):
    """Base class of psychoval's warnings."""


class ConvergenceWarning(PsychovalWarning):
    """An iterative estimate stopped before meeting its convergence criterion."""


class ImproperSolutionWarning(PsychovalWarning):
    """A solution is inadmissible (Heywood case, negative variance, non-positive-definite matrix)."""


class DegenerateDataWarning(PsychovalWarning):
    """The data make a statistic unstable or partly undefined (constant item, empty category...)."""


class SmallSampleWarning(PsychovalWarning):
    """Too few respondents for the statistic to be trusted; it is still computed."""


class SpecificationWarning(PsychovalWarning):
    """A framework or model is usable but weak or incomplete (a competency with fewer than 3
    items, data columns the framework does not name)."""


# -- emitting and collecting warnings without process-wide state ---------------------------

_SINK: contextvars.ContextVar[list | None] = contextvars.ContextVar("psychoval_warnings",
                                                                   default=None)


def warn(message: str, category: type[Warning] = PsychovalWarning, stacklevel: int = 2) -> None:
    """Issue a psychoval warning: into the innermost :func:`collect_warnings` of the current
    context (thread) if there is one, else through :func:`warnings.warn`.

    ``warnings.catch_warnings`` changes process-wide state, so two validations in two threads
    would lose or swap each other's notes; a context variable keeps each run's own."""
    sink = _SINK.get()
    if sink is None:
        warnings.warn(message, category, stacklevel=stacklevel + 1)
        return
    sink.append(warnings.WarningMessage(message, category, "", 0))


def renamed_keyword(func: str, old: str, old_value: Any, new: str, new_value: Any,
                    default: Any) -> Any:
    """The value of keyword ``new`` of ``func``, honouring its deprecated former name ``old``.

    ``old_value`` is None when the caller did not use ``old``; otherwise a ``FutureWarning``
    naming the new keyword is issued (at the caller of ``func``) and ``old_value`` is used.
    Giving both (``new_value`` other than its ``default``) is a ``TypeError``."""
    if old_value is None:
        return new_value
    if new_value is not default and new_value != default:
        raise TypeError(f"{func}() got both {new}= and its deprecated alias {old}=; "
                        f"pass {new}= only")
    warn(f"{func}(): {old}= is deprecated and will be removed; use {new}={old_value!r}",
         FutureWarning, stacklevel=3)
    return old_value


@contextlib.contextmanager
def collect_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Collect the psychoval warnings issued in this context (this thread) instead of showing
    them; yields the list. Thread-safe: nothing global is touched."""
    sink: list[warnings.WarningMessage] = []
    token = _SINK.set(sink)
    try:
        yield sink
    finally:
        _SINK.reset(token)
