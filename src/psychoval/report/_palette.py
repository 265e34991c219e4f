"""The verdict palette for the report's renderers (HTML report, notebook dashboard, SVG
charts): the names of :mod:`psychoval._palette`, which holds the colours (Okabe-Ito) so that
every result's ``_repr_html_`` below the report layer can use them too."""

from psychoval._palette import (
    BORDERLINE,
    COLORS,
    CSS,
    FAIL,
    INK,
    LABELS,
    NA,
    NOT_ESTIMABLE,
    PASS,
    SYMBOLS,
    badge_class,
)

__all__ = ["BORDERLINE", "COLORS", "CSS", "FAIL", "INK", "LABELS", "NA", "NOT_ESTIMABLE", "PASS",
           "SYMBOLS", "badge_class"]
