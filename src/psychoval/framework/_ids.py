"""How ids and labels compare (the bottom of the framework layer: no imports of its own)."""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["normalize_id"]


def norm_label(value: Any) -> str:
    """Labels and options compare case- and whitespace-insensitively, and after Unicode
    normalisation (Unicode's canonical caseless match: NFD, casefold, then NFC), so ``"Café"``
    typed with a precomposed ``é`` or as ``e`` + a combining accent is one answer."""
    text = unicodedata.normalize("NFD", " ".join(str(value).split()))
    return unicodedata.normalize("NFC", text.casefold())


def normalize_id(ident: str) -> str:
    """An id (tier, competency, item, rater or data column) as psychoval compares it: Unicode
    NFC. ``read_framework`` stores every id in this form; a data column name matches an id
    when ``normalize_id(column) == id``."""
    return unicodedata.normalize("NFC", ident)
