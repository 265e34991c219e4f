"""Data quality: ``check_data`` (invalid codes, missingness, careless responding, duplicate
respondents) as statistics only, no verdicts (``_check``); ``describe``, psych::describe's
descriptive statistics per item (``_describe``).
"""
