"""Cleaning citizen text before anything else sees it: control characters out, one Unicode form,
a limit."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_KEEP = {"\n", "\t"}
# Anything longer is not a chat message: refused at the door (422, an error frame) or cut when a
# provider sends it. The citizen-facing limit (MAX_MESSAGE_CHARS) is lower and gets a polite reply.
HARD_LIMIT = 20_000
TITLE_LIMIT = 300  # the label of a pressed button


@dataclass(frozen=True, slots=True)
class CleanText:
    """Cleaned text, and why it cannot be processed (`problem` is "empty" or "too_long"), if so."""

    text: str
    problem: str | None = None


def clean(raw: str, limit: int) -> CleanText:
    """Normalise `raw` (NFC, no control characters but newline and tab) and check its size: the one
    place that decides whether a message is empty or too long."""
    text = unicodedata.normalize("NFC", raw)
    # Cc: control characters; Cf would also remove joiners that emoji and some scripts need: kept.
    text = "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) != "Cc").strip()
    if not text:
        return CleanText("", "empty")
    if len(text) > limit:
        return CleanText(text[:limit], "too_long")
    return CleanText(text)
