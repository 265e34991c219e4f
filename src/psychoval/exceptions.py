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

__all__ = [
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
