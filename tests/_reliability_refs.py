"""Loader for tests/reference/ref_extra/reliability_extra.json (made by r/reliability_extra.R)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

REF = Path(__file__).parent / "reference" / "ref_extra" / "reliability_extra.json"


@functools.cache
def extra_checks() -> dict[str, dict[str, Any]]:
    with open(REF, encoding="utf-8") as fh:
        return {c["id"]: c for c in json.load(fh)["checks"]}
