"""Item statistics: classical item analysis (``_items``), distractor analysis of
multiple-choice items (``_distractors``), differential item functioning (``_dif``),
answer-key scoring of option codes (``_keyed``), the mergeable item x response x total x
group counts that DIF and item statistics of chunked data need (``_tables``) and the group
labels of the group comparisons (``_groups``).
"""
