"""Suite-wide test settings.

validate()'s fairness step fits an invariance ladder per group column and tier (about 9 s of
a sample validation). Test modules that do not look at fairness run validate with
``INVARIANCE_BUDGET = 0``, so every ladder takes the documented over-budget path (the
fairness rows and verdicts say the ladder was not fitted); the ladders themselves are tested
in tests/test_validate_fairness.py and tests/test_invariance*.py, and the notebooks and
``make demo`` run the whole step.
"""

from __future__ import annotations

import pytest

FAIRNESS_MODULES = {"test_validate_fairness"}


@pytest.fixture(autouse=True, scope="module")
def _fairness_ladders_only_where_tested(request):
    """Module-scoped, so it is in place before the modules' own module-scoped fixtures."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    if not name.startswith("test_") or name in FAIRNESS_MODULES:
        yield
        return
    from psychoval.pipeline import _fairness

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_fairness, "INVARIANCE_BUDGET", 0.0)
        yield
