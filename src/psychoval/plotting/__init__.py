"""plotting layer (optional extra: matplotlib, imported only when a plot is drawn)."""

# factor models, reliability, parallel analysis
from psychoval.plotting._factor import (
    plot_loadings,
    plot_path_diagram,
    plot_reliability,
    plot_scree,
)

# skills gaps
from psychoval.plotting._gaps import plot_skills_gap

# IRT
from psychoval.plotting._irt import (
    plot_information,
    plot_item_curves_irt,
    plot_test_characteristic,
)

# item analysis
from psychoval.plotting._items import (
    plot_difficulty_discrimination,
    plot_distractors,
    plot_item_curves,
)

__all__: list[str] = []
# item analysis
__all__ += ["plot_item_curves", "plot_distractors", "plot_difficulty_discrimination"]
# IRT
__all__ += ["plot_item_curves_irt", "plot_information", "plot_test_characteristic"]
# skills gaps
__all__ += ["plot_skills_gap"]
# factor models, reliability, parallel analysis
__all__ += ["plot_loadings", "plot_scree", "plot_path_diagram", "plot_reliability"]
