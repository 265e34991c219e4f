"""pipeline layer: :func:`validate`, the whole validation of a framework as a list of steps
(read and score, data quality, items, competencies, tiers, framework, verdicts), each adding
its evidence, ending in a :class:`psychoval.report.ValidationReport`.

The top of the library: it runs statistics (``psychoval.stats``), judges them with criteria
(``psychoval.verdicts``) and builds the report model (``psychoval.report``); only the CLI
sits above it.
"""

from psychoval.pipeline._validate import validate

__all__: list[str] = ["validate"]
