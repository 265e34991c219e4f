"""The packaged sample assessment and its loader."""

from psychoval.datasets._load import (
    load_holzinger_swineford,
    load_sample,
    sample_framework,
    sample_path,
    sample_true_model,
)

__all__ = ["load_sample", "sample_framework", "sample_path", "sample_true_model",
           "load_holzinger_swineford"]
