"""Seeded CFA convergence stress suite: simulated problems, lavaan 0.6.14 references.

``make_stress.py`` writes the data (``cfa_stress_data.npz``) and the problem list
(``cfa_stress_models.json``); ``../r/cfa_stress.R`` fits them with lavaan
(``../ref_extra/cfa_stress.json``); ``_suite.py`` fits them with psychoval and classifies the
outcome for ``tests/test_cfa_stress.py`` and ``table.py``.
"""
