"""Reliability: Cronbach's alpha (``_alpha``), McDonald's omega from Schmid-Leiman
(``_omega``) and its bootstrap (``_omega_boot``), the greatest lower bound (``_glb``),
Guttman's bounds (``_guttman``), KR-20/21 and the SEM (``_kr``), split-half (``_split_half``),
scale scores with their reliabilities (``_scores``), and their shared helpers (``_common``).
"""
