"""Drop-in replacements for peer libraries' entry points, on psychoval's engine (a thin layer
over the public API, like ``cli``; nothing below imports it).

- factor_analyzer: ``FactorAnalyzer``, ``calculate_kmo``, ``calculate_bartlett_sphericity``
  (``_factor_analyzer``);
- pingouin: ``cronbach_alpha`` (``_pingouin``).

Switch with one import (``from psychoval.compat import FactorAnalyzer``); the numbers are
psych's (see docs/migrating.md for what differs from each peer).
"""

from psychoval.compat._factor_analyzer import (
    FactorAnalyzer,
    calculate_bartlett_sphericity,
    calculate_kmo,
)
from psychoval.compat._pingouin import cronbach_alpha

__all__ = ["FactorAnalyzer", "calculate_bartlett_sphericity", "calculate_kmo", "cronbach_alpha"]
