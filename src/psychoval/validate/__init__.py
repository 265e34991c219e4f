"""validate layer: criteria as data (with citations) -> verdicts. Compares; never computes."""

# verdicts (issue 10)
# item flags (issue 9)
from psychoval.validate._criteria import ITEM_CRITERIA, Criterion, criterion_table
from psychoval.validate._flags import ItemFlags, flag_items

__all__: list[str] = []
# item flags (issue 9)
__all__ += ["flag_items", "ItemFlags", "Criterion", "ITEM_CRITERIA", "criterion_table"]
