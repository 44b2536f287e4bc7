"""Cue-then-value grammar shared by the recognizers of identity numbers, dates of birth and names.

A cue ("health card", "NAS", "born on", "je m'appelle") says what the value after it is. Between the
two, citizens write a few small words ("is", "#", "number", "c'est le", "no.") and punctuation; a
sentence end or a long gap cuts the link, so "my licence expired. Case 123456" does not make the
case number a licence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

# What may sit between a cue and its value: short words without digits, '#', ':', '-', 'n°'.
_FILLER_WORD = r"(?:[^\W\d_][\w'’.]{0,9}|[#:=\-–/()n°º]+)"
_GAP = rf"(?:[\s,]*{_FILLER_WORD}){{0,{{n}}}}?[\s,:#\-–]*"


def gap(words: int = 4) -> str:
    """A regex for what may separate a cue from its value: up to `words` filler words, as few
    as will do (so a value that starts with letters, "BOUJ 7203 1514", is not eaten as filler)."""
    return _GAP.replace("{n}", str(words))


# A reference named between the cue and the number takes the number: "my account, case 2024-1187".
_REFERENCE = re.compile(
    r"(?i)\b(?:case|file|dossier|ref|r[ée]f[ée]rence|reference|confirmation|conf|ticket|claim"
    r"|r[ée]clamation|order|commande|invoice|facture|demande|application|form|formulaire|tracking"
    r"|suivi|since|depuis|until|jusqu|balance|solde|total|montant|amount)\b"
)


@cache
def _compiled(cue: str, value: str, words: int) -> re.Pattern[str]:
    # A cue's own "(?i)" becomes scoped to the cue: the value's letters keep their case rules.
    body = cue.removeprefix("(?i)")
    flags = "(?i:" if body != cue else "(?:"
    return re.compile(rf"{flags}{body}){gap(words)}(?:{value})")


def _digit_count(value: str) -> int:
    return sum(ch.isdigit() for ch in value)


@cache
def _continued(value: str) -> re.Pattern[str]:
    return re.compile(rf"\s*(?:,|&|/|\band\b|\bet\b|\bor\b|\bou\b){gap(3)}(?:{value})")


def after_cues(
    text: str, cue: re.Pattern[str], value: str, words: int = 4
) -> Iterator[re.Match[str]]:
    """Matches of `value` (a regex with a named group `v`) that follow a match of `cue` within
    `words` filler words, in the same sentence, with no reference named in between. Yields the
    match of the whole cue-gap-value run; the value is `match.span("v")`."""
    pattern = _compiled(cue.pattern, value, words)
    position = 0
    while True:
        found = pattern.search(text, position)
        if found is None:
            return
        if _REFERENCE.search(text, found.start(), found.start("v")):
            position = found.end("v")
            continue
        yield found
        position = found.end("v")
        # A list after one cue: "passports GW200451, GW200452 and my husband's GW200453", each
        # item with as many digits as the first.
        digits = _digit_count(found["v"])
        follow = _continued(value).match(text, position)
        while follow is not None and _digit_count(follow["v"]) == digits:
            yield follow
            position = follow.end("v")
            follow = _continued(value).match(text, position)
