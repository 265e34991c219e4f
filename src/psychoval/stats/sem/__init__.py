"""Confirmatory factor analysis (structural equation models), lavaan 0.6.14's conventions:
the model in matrix form and the ML discrepancy (``_model``), identification checks and
starting values (``_estimate``), the optimiser with restarts (``_optimize``), estimation
blocks: groups, FIML, MLR (``_engine``), full-information ML pieces (``_fiml``), robust
(MLR) corrections (``_robust``), fit measures (``_fit``), the public ``cfa`` and its result
(``_cfa``), likelihood-ratio tests (``_lrt``) and validity evidence (HTMT, one-factor
omega: ``_validity``).

The model syntax and the parameter table stay in :mod:`psychoval.framework`: they turn the
user's model text (or a framework) into a specification, which is input, not estimation;
this package consumes the parameter table.

Named ``sem`` rather than ``cfa`` so that no subpackage shadows the function
``psychoval.stats.cfa``.
"""
