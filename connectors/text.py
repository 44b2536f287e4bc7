"""Cleaning citizen text before anything else sees it: control characters out, one Unicode form, a limit."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_KEEP = {"\n", "\t"}


@dataclass(frozen=True, slots=True)
class CleanText:
    """Cleaned text, and why it cannot be processed (`problem` is "empty" or "too_long"), if so."""

    text: str
    problem: str | None = None


def clean(raw: str, limit: int) -> CleanText:
    """Normalise `raw` (NFC, no control or format characters except newline and tab) and check its size."""
    text = unicodedata.normalize("NFC", raw)
    # Cc: control characters; Cf would also remove joiners that emoji and some scripts need, so keep it.
    text = "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) != "Cc").strip()
    if not text:
        return CleanText("", "empty")
    if len(text) > limit:
        return CleanText(text[:limit], "too_long")
    return CleanText(text)
