"""Core computation shared by every statistic: moments and covariances with psych's
missing-data conventions and Cronbach's alpha of a covariance matrix (``_moments``),
pairwise Pearson correlations (``_pearson``), bivariate normal probabilities (``_bvn``) and
factor rotations (``_rotation``).

Owns no result classes; the other rooms of ``psychoval.stats`` build on it.
"""
