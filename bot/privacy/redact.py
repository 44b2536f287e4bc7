"""Finding and masking personal data in citizen messages (English and French).

Kinds: "email", "phone", "sin" (Canadian social insurance number), "ssn" (US social security number),
"card" (payment card) and "address" (street address or Canadian postal code).

Precision comes first: FAQ-style text (form numbers, amounts, dates, times, reference numbers) is left
alone. Each detector proposes candidates and overlaps are settled by kind priority, so a digit run that
is a valid card or SIN is never also reported as a phone. Offsets are code-point offsets into the text
as given; digits from other scripts (Arabic-Indic, fullwidth, ...) are read as their ASCII values.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Overlapping candidates: the kind listed first wins.
KINDS = ("email", "card", "sin", "ssn", "phone", "address")
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data: its kind, where it is (`text[start:end]`) and the matched text."""

    kind: str
    start: int
    end: int
    value: str


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: str
    start: int
    end: int
    preference: tuple[int, ...] = ()  # lower is better, among candidates of the same kind


# --- shared pieces -------------------------------------------------------------------------------------

_SEP = r"[ .\-\u00a0\u2010-\u2013]"  # one separator inside a phone number
_GROUP_SEP = r"[ \-\u00a0\u2010-\u2013]"  # one separator inside a card, SIN or SSN
_MONEY_BEFORE = re.compile(r"[$€£¥]\s?$")
_MONEY_AFTER = re.compile(r"\s?(?:[$€£¥%]|(?i:dollars?|cents?|piastres?|CAD|USD)\b)")
_SENTENCE_END = re.compile(r"[.!?;\n]\s")

# A cue before a bare number says what it is: "dossier 2024051234" is a reference, "tel 5145550100" is not.
_PERSONAL_CUE = re.compile(
    r"(?i)\b(?:sin|nas|n\.a\.s|social\s+insurance|assurance\s+sociale|ssn|social\s+security|phone|tel|tél"
    r"|t[ée]l[ée]phone|cell|cellulaire|mobile|portable|call|text|appel\w*|rejoindre|joindre|texto)\b"
)
_REFERENCE_CUE = re.compile(
    r"(?i)\b(?:ref|réf|reference|référence|dossier|file|case|confirmation|conf|ticket|tracking|suivi|invoice"
    r"|facture|order|commande|claim|réclamation|account|compte|client|permit|permis|licen[cs]e|transaction"
    r"|receipt|reçu|application|demande|bn|neq|business\s+number|entreprise|serial|série|matricule|id|uci|iuc|form"
    r"|formulaire|code)\b"
)
_SSN_CUE = re.compile(
    r"(?i)(?:\bssn\b|\bss#|\bs\.s\.n\b|social\s+security|soc\.?\s*sec\b|sécurité\s+sociale)"
)


def _ascii_digits(text: str) -> str:
    """`text` with every decimal digit written as an ASCII digit; lengths and offsets are unchanged."""
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text
    )


def _only_digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _is_money(text: str, start: int, end: int) -> bool:
    """Whether the number at text[start:end] is an amount ("$90", "1 234 567 $", "12 %")."""
    return bool(
        _MONEY_BEFORE.search(text, max(0, start - 2), start) or _MONEY_AFTER.match(text, end)
    )


def _looks_like_reference(text: str, start: int) -> bool:
    """Whether the closest cue before a bare number, in the same sentence, names a reference, not a person."""
    window = text[max(0, start - 40) : start]
    cut = [m.end() for m in _SENTENCE_END.finditer(window)]
    window = window[cut[-1] :] if cut else window
    cues = [(m.end(), False) for m in _PERSONAL_CUE.finditer(window)]
    cues += [(m.end(), True) for m in _REFERENCE_CUE.finditer(window)]
    return max(cues)[1] if cues else False


def _ssn_cue_near(text: str, start: int, end: int) -> bool:
    return bool(
        _SSN_CUE.search(text[max(0, start - 40) : start]) or _SSN_CUE.search(text[end : end + 25])
    )


# --- checksums and number rules ------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """Whether `digits` passes the Luhn checksum; spaces and dashes are ignored, anything else fails."""
    plain = re.sub(r"[ \-]", "", digits)
    if not plain or not plain.isdecimal():
        return False
    total = 0
    for position, ch in enumerate(reversed(plain)):
        value = unicodedata.decimal(ch)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _sin_ok(digits: str) -> bool:
    """A Canadian SIN: 9 digits, Luhn-valid, not starting with 0 (unassigned) or 8 (business numbers)."""
    return len(digits) == 9 and digits[0] not in "08" and luhn_ok(digits)


def _ssn_ok(digits: str) -> bool:
    """A US SSN by the SSA rules: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area != "000" and area != "666" and area[0] != "9" and group != "00" and serial != "0000"


# (first prefix, last prefix, allowed lengths): prefixes compare on their own number of digits.
_CARD_RANGES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard 2-series
    ("34", "34", (15,)),  # American Express
    ("37", "37", (15,)),
    ("6011", "6011", (16, 17, 18, 19)),  # Discover
    ("644", "649", (16, 17, 18, 19)),
    ("65", "65", (16, 17, 18, 19)),
    ("622126", "622925", (16, 17, 18, 19)),
    ("62", "62", (16, 17, 18, 19)),  # UnionPay
    ("3528", "3589", (16, 17, 18, 19)),  # JCB
    ("300", "305", (14, 15, 16, 17, 18, 19)),  # Diners Club
    ("36", "36", (14, 15, 16, 17, 18, 19)),
    ("38", "39", (14, 15, 16, 17, 18, 19)),
    ("5018", "5018", (13, 15, 16, 17, 18, 19)),  # Maestro
    ("5020", "5020", (13, 15, 16, 17, 18, 19)),
    ("5038", "5038", (13, 15, 16, 17, 18, 19)),
    ("5893", "5893", (13, 15, 16, 17, 18, 19)),
    ("6304", "6304", (13, 15, 16, 17, 18, 19)),
    ("6759", "6759", (13, 15, 16, 17, 18, 19)),
    ("6761", "6763", (13, 15, 16, 17, 18, 19)),
)


def _card_ok(digits: str) -> bool:
    """A payment card number: 13-19 digits, a known issuer prefix with a length it issues, and Luhn-valid."""
    if not 13 <= len(digits) <= 19:
        return False
    plausible = any(
        low <= digits[: len(low)] <= high and len(digits) in lengths
        for low, high, lengths in _CARD_RANGES
    )
    return plausible and luhn_ok(digits)


def _card_grouping(lengths: tuple[int, ...]) -> bool:
    """How people write card numbers: one run, groups of four (the last may be shorter), or 4-6-5 / 4-6-4."""
    if len(lengths) == 1:
        return True
    fours = all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4
    return fours or lengths in ((4, 6, 5), (4, 6, 4))


# --- digit runs: cards, SINs and SSNs ------------------------------------------------------------------

_DIGIT_RUN = re.compile(rf"(?<!\w)(?<!\d[.,])\d+(?:{_GROUP_SEP}\d+)*")
_DIGITS = re.compile(r"\d+")


def _number_candidates(text: str) -> list[_Candidate]:
    """Cards, SINs and SSNs among runs of digit groups ("4111 1111 1111 1111", "130-692-544", ...)."""
    found: list[_Candidate] = []
    for run in _DIGIT_RUN.finditer(text):
        after = text[run.end() : run.end() + 2]
        if re.match(r"\w|[.,]\d", after) or _is_money(text, run.start(), run.end()):
            continue
        groups = [
            (m.start() + run.start(), m.end() + run.start()) for m in _DIGITS.finditer(run.group())
        ]
        for first in range(len(groups)):
            separators: set[str] = set()
            for last in range(first, min(first + 6, len(groups))):
                if last > first:
                    separators.add(text[groups[last - 1][1] : groups[last][0]])
                if len(separators) > 1:
                    break
                start, end = groups[first][0], groups[last][1]
                found.extend(
                    _classify_digits(
                        text, start, end, tuple(e - s for s, e in groups[first : last + 1])
                    )
                )
    return found


def _classify_digits(text: str, start: int, end: int, lengths: tuple[int, ...]) -> list[_Candidate]:
    """What a window of digit groups, text[start:end] grouped as `lengths`, may be."""
    digits = _only_digits(text[start:end])
    bare = len(lengths) == 1
    if 13 <= len(digits) <= 19 and _card_grouping(lengths) and _card_ok(digits):
        return [_Candidate("card", start, end, (0 if len(digits) == 16 else 1, -len(digits)))]
    if lengths in ((9,), (3, 3, 3)) and _sin_ok(digits):
        if not (bare and _looks_like_reference(text, start)):
            return [_Candidate("sin", start, end)]
        return []
    if lengths == (3, 2, 4) and _ssn_ok(digits):
        return [_Candidate("ssn", start, end)]
    if bare and len(digits) == 9 and _ssn_ok(digits) and _ssn_cue_near(text, start, end):
        return [_Candidate("ssn", start, end)]
    return []


# --- phones --------------------------------------------------------------------------------------------

_NANP = re.compile(
    rf"""
    (?<![\w+])(?<!\d[.,])
    (?P<country>\+?1{_SEP}?)?
    (?:\((?:[2-9]\d\d)\){_SEP}?|[2-9]\d\d{_SEP}?)   # area code: (514) or 514
    [2-9]\d\d{_SEP}?\d{{4}}                          # exchange and line
    (?!\d)(?![.,\-]\d)
    """,
    re.VERBOSE,
)
_INTERNATIONAL = re.compile(
    rf"(?<![\w+])\+[2-9]\d*(?:(?:{_SEP}|{_SEP}?\(\d{{1,4}}\){_SEP}?)\d+)*(?!\d)"
)
# Toll-free numbers spelled with letters: "1-800-O-Canada", "1 888 GO-TAXES".
_VANITY = re.compile(
    rf"(?<![\w+])(?:\+?1{_SEP}?)?\(?8(?:00|33|44|55|66|77|88)\)?{_SEP}?"
    rf"(?P<word>[A-Za-z0-9](?:-?[A-Za-z0-9]){{6}})(?![\w\-])"
)
_KEYPAD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "22233344455566677778889999")


def _phone_candidates(text: str) -> list[_Candidate]:
    """North American numbers in their usual forms, toll-free words, and international +CC numbers."""
    found: list[_Candidate] = []
    for match in _NANP.finditer(text):
        value = match.group()
        if value.isdigit() and _looks_like_reference(text, match.start()):
            continue  # a bare run after "dossier", "confirmation", ... is a reference number
        if not _is_money(text, match.start(), match.end()):
            found.append(_Candidate("phone", match.start(), match.end()))
    for match in _VANITY.finditer(text):
        word = match["word"]
        if any(ch.isalpha() for ch in word) and ("-" in word or word.isupper()):
            found.append(_Candidate("phone", match.start(), match.end()))
    for match in _INTERNATIONAL.finditer(text):
        end, count = match.start(), 0
        for group in _DIGITS.finditer(text, match.start(), match.end()):
            if count + len(group.group()) > 15:
                break
            count, end = count + len(group.group()), group.end()
        if (
            count >= 8
            and not re.match(r"[.,]\d", text[end : end + 2])
            and not _is_money(text, match.start(), end)
        ):
            found.append(_Candidate("phone", match.start(), end))
    return found


def _phone_digits(value: str) -> str:
    """A phone number as dialled: "+" if written, then digits (letters read from the keypad, "(0)" dropped)."""
    plus = "+" if value.startswith("+") else ""
    value = _ascii_digits(value).replace("(0)", "") if plus else _ascii_digits(value)
    return plus + "".join(ch for ch in value.upper().translate(_KEYPAD) if ch.isdigit())


# --- emails --------------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w%+\-](?:[\w.%+\-]*[\w%+\-])?@(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,24}(?![\w\-@])"
)


def _email_candidates(text: str) -> list[_Candidate]:
    return [
        _Candidate("email", m.start(), m.end())
        for m in _EMAIL.finditer(text)
        if ".." not in m.group()
    ]


# --- addresses -----------------------------------------------------------------------------------------

_UPPER = "A-ZÀ-ÖØ-ÞŒ"
_LOWER = "a-zß-öø-ÿœ"
_WORD = r"[\w\u0300-\u036f'’]"
_CAP_WORD = rf"[{_UPPER}]{_WORD}*(?:-{_WORD}+)*"
_LOW_WORD = rf"[{_LOWER}]{_WORD}*(?:-{_WORD}+)*"
_ORDINAL = r"\d{1,3}(?:st|nd|rd|th|e|re|er|ème|eme)"
_STOP = (
    r"(?:the|a|an|on|in|at|to|from|of|my|your|our|his|her|their|for|and|or|is|are|was|by|with|this|that|these"
    r"|those|per|each|every|more|less|than|about|de|du|des|la|le|les|un|une|et|ou|en|au|aux|pour|par|sur|mon"
    r"|ma|mes|ton|ta|vos|votre|nos|notre|est|sont|pas|plus|moins)\b"
)
_NUMBER = r"(?<![\w$€£.,/\-])(?:\d{1,5}[\-–])?\d{1,6}[A-Za-z]?(?![\w\-])"
_UNIT_WORD = (
    r"(?i:apt|apartment|app|appart|appartement|unit|unité|suite|bureau|logement|log|ste)\.?"
)
_UNIT_BEFORE = (
    rf"(?:{_UNIT_WORD}\s*#?\s*\d{{1,5}}[A-Za-z]?\s*[,\-]?\s*|#\s*\d{{1,5}}[A-Za-z]?\s*[,\-]\s*)?"
)
_UNIT_AFTER = rf"(?:\s*,?\s*{_UNIT_WORD}\s*(?:#|no\.?|n°)?\s*\d{{1,5}}[A-Za-z]?\b|\s*,?\s*#\s*\d{{1,5}}[A-Za-z]?\b)?"
_DIRECTION = r"(?:\s+(?:North|South|East|West|Est|Ouest|Nord|Sud|NE|NW|SE|SW|N|S|E|W|O)\b\.?)?"
_EN_TYPE = (
    r"(?i:street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|lane|ln|court|ct|crescent|cres|way|place|pl"
    r"|terrace|terr|circle|cir|parkway|pkwy|highway|hwy|trail|square|sq|rue|rang)"
)
_EN_TYPE_SHORT = r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|cres|crescent)"
_FR_TYPE = (
    r"(?i:rue|avenue|av|boulevard|boul|bd|chemin|ch|rang|place|côte|cote|route|rte|montée|montee|impasse"
    r"|allée|allee|promenade|croissant|terrasse|carré|square)"
)
_FR_TYPE_COMMON = r"(?i:rue|avenue|av|boulevard|boul|bd|chemin|ch|route|rang)"
_FR_PARTICLE = r"(?:(?i:de\s+la|de\s+l'|de\s+l’|du|des|de|d'|d’|l'|l’|la|le)\s*)"
# Institutions named like streets ("the 9 Supreme Court judges") are not addresses.
_NOT_A_STREET = r"(?!(?:Supreme|Federal|Tax|Superior|Provincial|Small|Claims|Family|Appeal|Appeals|High|District)\b)"
_NAME_BEFORE_TYPE = rf"{_NOT_A_STREET}(?:(?:{_CAP_WORD}|{_ORDINAL})\s+){{1,4}}"
_FR_NAME = rf"{_FR_PARTICLE}?{_CAP_WORD}(?:\s+{_FR_PARTICLE}?{_CAP_WORD}){{0,3}}"
_STREET_PATTERNS = (
    # English order: "123 Main St", "4-220 5th Avenue West", "345 4e Rang"
    rf"{_NUMBER},?\s+{_NAME_BEFORE_TYPE}{_EN_TYPE}\b\.?",
    # lowercase SMS: "123 main st" (only with the usual street types)
    rf"{_NUMBER},?\s+(?:(?!{_STOP}){_LOW_WORD}\s+){{1,2}}{_EN_TYPE_SHORT}\b\.?",
    # French order: "1234 rue Sainte-Catherine", "55, boulevard René-Lévesque Est"
    rf"{_NUMBER},?\s+{_FR_TYPE}\b\.?\s+{_FR_NAME}",
    # lowercase SMS: "1234 rue sainte-catherine", "12 chemin de la montagne"
    rf"{_NUMBER},?\s+{_FR_TYPE_COMMON}\b\.?\s+{_FR_PARTICLE}?(?!{_STOP}){_LOW_WORD}",
)
_STREETS = tuple(
    re.compile(rf"{_UNIT_BEFORE}{p}{_DIRECTION}{_UNIT_AFTER}") for p in _STREET_PATTERNS
)
_POSTAL_CODE = r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ \-]?\d[ABCEGHJ-NPRSTV-Z]\d"
_POSTAL = re.compile(rf"(?<!\w)(?i:{_POSTAL_CODE})(?!\w)")
# After a street: optional city and province or state, then a postal code or a ZIP code.
_PLACE = rf"(?:,?\s*{_CAP_WORD}(?:[ \-]{_CAP_WORD}){{0,2}})"
_ADDRESS_TAIL = re.compile(
    rf"{_PLACE}{{0,2}},?\s*(?i:{_POSTAL_CODE})(?!\w)|{_PLACE}{{1,2}},?\s+\d{{5}}(?:-\d{{4}})?(?![\w\-])"
)


def _address_candidates(text: str) -> list[_Candidate]:
    """Street addresses (with a unit, and a postal or ZIP code that follows) and lone postal codes."""
    found = []
    for street in _STREETS:  # each form on its own: overlaps go to the longest match
        for match in street.finditer(text):
            tail = _ADDRESS_TAIL.match(text, match.end())
            end = tail.end() if tail else match.end()
            found.append(_Candidate("address", match.start(), end, (match.start() - end,)))
    found += [
        _Candidate("address", m.start(), m.end(), (m.start() - m.end(),))
        for m in _POSTAL.finditer(text)
    ]
    return found


# --- public API ----------------------------------------------------------------------------------------


def find(text: str) -> list[Finding]:
    """All personal data in `text`, as non-overlapping findings sorted by position."""
    scan = _ascii_digits(text)
    candidates = (
        _email_candidates(scan)
        + _number_candidates(scan)
        + _phone_candidates(scan)
        + _address_candidates(scan)
    )
    candidates.sort(key=lambda c: (_RANK[c.kind], c.preference, c.start))
    taken: list[_Candidate] = []
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
        parts, position = [], 0
        for finding in findings:
            parts += [text[position : finding.start], f"[{finding.kind}]"]
            position = finding.end
        text = "".join(parts) + text[position:]
    return text


def phone_numbers(text: str) -> list[str]:
    """Phone numbers in `text`, as digits with a leading "+" when one was written ("+15145550100").

    Meant for capturing a callback number; letters of toll-free words are read from the keypad.
    """
    return [_phone_digits(f.value) for f in find(text) if f.kind == "phone"]


def score(labelled: list[dict]) -> dict:
    """Precision and recall of `find` over labelled examples, counted per finding.

    Each example is {"text": ..., "spans": [{"kind", "start", "end"}, ...]}; a finding counts as a true
    positive only when its kind, start and end all match a labelled span.
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
