"""verdicts layer: criteria as data (with citations) -> verdicts. Compares; never computes.

Below the report model (``psychoval.report``) and the validation pipeline
(``psychoval.pipeline``), above the statistics.
"""

# verdicts
# item flags
from psychoval.verdicts._content import content_verdicts
from psychoval.verdicts._criteria import (
    CONTENT_CRITERIA,
    ITEM_CRITERIA,
    PRESETS,
    SCALE_CRITERIA,
    CriteriaSet,
    Criterion,
    criteria,
    criterion_table,
)
from psychoval.verdicts._flags import ItemFlags, flag_items

__all__: list[str] = []
# verdicts
__all__ += ["criteria", "CriteriaSet", "PRESETS", "SCALE_CRITERIA"]
# item flags
__all__ += ["flag_items", "ItemFlags", "Criterion", "ITEM_CRITERIA", "criterion_table"]
# content validity
__all__ += ["content_verdicts", "CONTENT_CRITERIA"]
