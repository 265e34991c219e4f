"""report layer: HTML, Markdown and JSON renderings of a ValidationReport (issue 10).

Renderers read the report's tables; nothing is recomputed here.
"""

from psychoval.report._schema import SCHEMA

__all__: list[str] = ["SCHEMA"]
