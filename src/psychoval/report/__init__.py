"""report layer: the report model (:class:`ValidationReport`, ``_model``) and its
renderings: HTML (``_html``), Markdown (``_markdown``) and the JSON document (``_schema``).

The model holds the evidence tables and the verdicts; renderers read those tables and
recompute nothing. Only the model's ``to_*`` methods (and the CLI) call a renderer.
"""

from psychoval.report._markdown import content_markdown
from psychoval.report._model import ValidationReport
from psychoval.report._schema import SCHEMA

__all__: list[str] = ["SCHEMA", "ValidationReport", "content_markdown"]
