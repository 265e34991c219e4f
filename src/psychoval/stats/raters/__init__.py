"""Rater agreement: the rating input shared by every statistic (``_ratings``), intraclass
correlations (``_icc``), Cohen's, weighted and Fleiss' kappas (``_kappa``), Krippendorff's
alpha (``_krippendorff``) and the per-framework agreement table (``_agreement``).
"""
