"""Understanding a citizen's pick from a numbered list: "2", "option 3", "the second one",
"le premier"."""

from __future__ import annotations

import re

_ORDINALS = {
    1: ("first", "1st", "premier", "première", "premiere"),
    2: ("second", "2nd", "deuxième", "deuxieme", "seconde"),
    3: ("third", "3rd", "troisième", "troisieme"),
}


def picked_number(text: str) -> int | None:
    """The 1-based choice a short reply names, or None when it names none (or several)."""
    words = re.findall(r"[\wéèê]+", text.lower())
    if not words or len(words) > 5:
        return None
    found = {int(w) for w in words if w.isdigit() and 1 <= int(w) <= 9}
    for number, names in _ORDINALS.items():
        if any(w in names for w in words):
            found.add(number)
    return found.pop() if len(found) == 1 else None


def pick(text: str, offered: list[str]) -> str | None:
    """The offered FAQ id that `text` picks, if it picks one that exists."""
    number = picked_number(text)
    if number is None or not 1 <= number <= len(offered):
        return None
    return offered[number - 1]
