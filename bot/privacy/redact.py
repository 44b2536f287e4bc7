"""Finding and masking personal data in citizen messages (English and French): the public API.

Kinds: "name" (a private person), "dob" (date of birth), "email", "phone", "ip", "address" (street
address or Canadian postal code), "sin" (Canadian social insurance number), "ssn" (US social
security number), "card" (payment card), "health_card", "passport", "licence" (driver's licence)
and "bank_account".

FAQ-style text (form numbers, amounts, dates of events, times, case and confirmation numbers) is
left alone. The recognizers run inside Presidio's analyzer (bot/privacy/analyzer.py); each proposes
candidates and overlaps are settled here by kind priority, so a digit run that is a valid card or
SIN is never also reported as a phone. Offsets are code-point offsets into the text as given;
digits from other scripts (Arabic-Indic, fullwidth, ...) are read as their ASCII values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.privacy.analyzer import analyze, replace
from bot.privacy.checksums import luhn_ok
from bot.privacy.recognizers import phone_digits
from bot.privacy.scan import Candidate, ascii_digits

__all__ = ["KINDS", "Finding", "find", "luhn_ok", "phone_numbers", "redact", "score"]

# Overlapping candidates: the kind listed first wins.
KINDS = (
    "email",
    "card",
    "bank_account",
    "licence",
    "health_card",
    "passport",
    "sin",
    "ssn",
    "ip",
    "phone",
    "dob",
    "address",
    "name",
)
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data: its kind, where it is (`text[start:end]`) and the matched
    text."""

    kind: str
    start: int
    end: int
    value: str


def find(text: str) -> list[Finding]:
    """All personal data in `text`, as non-overlapping findings sorted by position."""
    candidates = analyze(ascii_digits(text))
    candidates.sort(key=lambda c: (_RANK[c.kind], c.preference, c.start))
    taken: list[Candidate] = []
    for candidate in candidates:
        if all(candidate.end <= other.start or other.end <= candidate.start for other in taken):
            taken.append(candidate)
    taken.sort(key=lambda c: c.start)
    return [Finding(c.kind, c.start, c.end, text[c.start : c.end]) for c in taken]


def redact(text: str) -> str:
    """`text` with each finding replaced by its kind in brackets ("[phone]", "[email]", ...).

    Replacing can bring new neighbours together, so the text is scanned again until nothing is left:
    redacting the result a second time changes nothing.
    """
    for _ in range(10):
        findings = find(text)
        if not findings:
            break
        text = replace(text, [(f.kind, f.start, f.end) for f in findings])
    return text


def phone_numbers(text: str) -> list[str]:
    """Phone numbers in `text`, as digits with a leading "+" when one was written ("+15145550100").

    Meant for capturing a callback number; letters of toll-free words are read from the keypad.
    """
    return [phone_digits(f.value) for f in find(text) if f.kind == "phone"]


def score(labelled: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision and recall of `find` over labelled examples, counted per finding.

    Each example is {"text": ..., "spans": [{"kind", "start", "end"}, ...]}; a finding counts as a
    true positive only when its kind, start and end all match a labelled span.
    """
    tp = fp = fn = 0
    for example in labelled:
        expected = {(s["kind"], s["start"], s["end"]) for s in example["spans"]}
        got = {(f.kind, f.start, f.end) for f in find(example["text"])}
        tp += len(expected & got)
        fp += len(got - expected)
        fn += len(expected - got)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": precision, "recall": recall, "tp": tp, "fp": fp, "fn": fn}
