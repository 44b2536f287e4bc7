"""Shared pieces of the personal-data recognizers: candidates, separators, digit normalisation,
and what the text around a number says about it (an amount, a reference, an SSN).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible finding of `kind` at `text[start:end]`, before overlaps are settled."""

    kind: str
    start: int
    end: int
    preference: tuple[int, ...] = ()  # lower is better, among candidates of the same kind


SEP = r"[ .\-\u00a0\u2010-\u2013]"  # one separator inside a phone number
GROUP_SEP = r"[ \-\u00a0\u2010-\u2013]"  # one separator inside a card, SIN or SSN
DIGITS = re.compile(r"\d+")

_MONEY_BEFORE = re.compile(r"[$€£¥]\s?$")
_MONEY_AFTER = re.compile(r"\s?(?:[$€£¥%]|(?i:dollars?|cents?|piastres?|CAD|USD)\b)")
_SENTENCE_END = re.compile(r"[.!?;\n]\s")

# A cue before a bare number says what it is: "dossier 2024051234" is a reference,
# "tel 5145550100" is not.
_PERSONAL_CUE = re.compile(
    r"(?i)\b(?:sin|nas|n\.a\.s|social\s+insurance|assurance\s+sociale|ssn|social\s+security"
    r"|phone|tel|tél|t[ée]l[ée]phone|cell|cellulaire|mobile|portable|call|text|appel\w*"
    r"|rejoindre|joindre|texto)\b"
)
_REFERENCE_CUE = re.compile(
    r"(?i)\b(?:ref|réf|reference|référence|dossier|file|case|confirmation|conf|ticket|tracking"
    r"|suivi|invoice|facture|order|commande|claim|réclamation|account|compte|client|permit"
    r"|permis|licen[cs]e|transaction|receipt|reçu|application|demande|bn|neq|business\s+number"
    r"|entreprise|serial|série|matricule|id|uci|iuc|form|formulaire|code)\b"
)
_SSN_CUE = re.compile(
    r"(?i)(?:\bssn\b|\bss#|\bs\.s\.n\b|social\s+security|soc\.?\s*sec\b|sécurité\s+sociale)"
)


def ascii_digits(text: str) -> str:
    """`text` with every decimal digit written as an ASCII digit; lengths and offsets are
    unchanged."""
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text
    )


def only_digits(value: str) -> str:
    """The digits of `value`, in order, without anything else."""
    return "".join(ch for ch in value if ch.isdigit())


def is_money(text: str, start: int, end: int) -> bool:
    """Whether the number at text[start:end] is an amount ("$90", "1 234 567 $", "12 %")."""
    return bool(
        _MONEY_BEFORE.search(text, max(0, start - 2), start) or _MONEY_AFTER.match(text, end)
    )


def looks_like_reference(text: str, start: int) -> bool:
    """Whether the closest cue before a bare number, in the same sentence, names a reference,
    not a person."""
    window = text[max(0, start - 40) : start]
    cut = [m.end() for m in _SENTENCE_END.finditer(window)]
    window = window[cut[-1] :] if cut else window
    cues = [(m.end(), False) for m in _PERSONAL_CUE.finditer(window)]
    cues += [(m.end(), True) for m in _REFERENCE_CUE.finditer(window)]
    return max(cues)[1] if cues else False


def ssn_cue_near(text: str, start: int, end: int) -> bool:
    """Whether "SSN", "social security" or the like is written just before or after
    text[start:end]."""
    return bool(
        _SSN_CUE.search(text[max(0, start - 40) : start]) or _SSN_CUE.search(text[end : end + 25])
    )


_SIN_CUE = re.compile(
    r"(?i)(?:\bsin\b|\bnas\b|\bn\.a\.s\b|social\s+insurance|assurance\s+sociale|\bs\.i\.n\b)"
)


def sin_cue_near(text: str, start: int) -> bool:
    """Whether "SIN", "NAS" or "social insurance" is written in the 40 characters before `start`."""
    return bool(_SIN_CUE.search(text[max(0, start - 40) : start]))
