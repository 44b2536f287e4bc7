"""What a citizen's message asks of outreach: SUBSCRIBE / ABONNER [topic], UNSUBSCRIBE /
DESABONNER [topic], TOPICS / SUJETS, and YES / OUI to confirm a subscription.

UNSUBSCRIBE and DESABONNER alone are carrier opt-out words on SMS (bot/inbox/policy.py takes them
first there, and an opt-out ends every subscription); with a topic they end only that topic.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_VERBS: dict[str, tuple[str, str]] = {
    "SUBSCRIBE": ("subscribe", "en"),
    "ABONNER": ("subscribe", "fr"),
    "UNSUBSCRIBE": ("unsubscribe", "en"),
    "DESABONNER": ("unsubscribe", "fr"),
    "TOPICS": ("topics", "en"),
    "SUJETS": ("topics", "fr"),
    "YES": ("confirm", "en"),
    "OUI": ("confirm", "fr"),
}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True, slots=True)
class Command:
    """One outreach request: `verb` is subscribe, unsubscribe, topics or confirm; `topic` is the
    slug named after the verb (None when none was)."""

    verb: str
    language: str
    topic: str | None = None


def _fold(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.upper())
    return "".join(ch for ch in folded if ch.isalnum() or ch == "-")


def parse(text: str) -> Command | None:
    """The outreach command a whole message is, if any ("subscribe to what?" is a question)."""
    words = text.strip().split()
    if not words or len(words) > 2:
        return None
    found = _VERBS.get(_fold(words[0]))
    if found is None:
        return None
    verb, language = found
    if len(words) == 1:
        return Command(verb, language)
    if verb not in ("subscribe", "unsubscribe"):
        return None
    slug = _fold(words[1]).lower()
    return Command(verb, language, slug) if _SLUG.match(slug) else None
