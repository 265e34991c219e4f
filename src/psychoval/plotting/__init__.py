"""plotting layer (optional extra: matplotlib, imported only when a plot is drawn)."""

# item analysis
from psychoval.plotting._items import (
    plot_difficulty_discrimination,
    plot_distractors,
    plot_item_curves,
)

__all__: list[str] = []
# item analysis
__all__ += ["plot_item_curves", "plot_distractors", "plot_difficulty_discrimination"]
