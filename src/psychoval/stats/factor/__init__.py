"""Exploratory factor structure: polychoric/tetrachoric correlations (``_polychoric``),
exploratory factor analysis as psych::fa (``_efa``), and dimensionality (KMO, Bartlett,
parallel analysis, Schmid-Leiman: ``_dimensionality``).
"""
