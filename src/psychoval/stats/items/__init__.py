"""Item statistics: classical item analysis (``_items``), distractor analysis of
multiple-choice items (``_distractors``), differential item functioning (``_dif``) and
answer-key scoring of option codes (``_keyed``).
"""
