"""Recognizers of numbers and contacts: cards, SINs and SSNs among digit runs; phone numbers;
emails; IP addresses. Each proposes candidates; `bot.privacy.redact.find` settles the overlaps.
"""

from __future__ import annotations

import ipaddress
import re

from bot.privacy.checksums import card_grouping, card_ok, luhn_ok, sin_ok, ssn_ok
from bot.privacy.scan import (
    DIGITS,
    GROUP_SEP,
    SEP,
    Candidate,
    ascii_digits,
    is_money,
    looks_like_reference,
    only_digits,
    sin_cue_near,
    ssn_cue_near,
)

# --- digit runs: cards, SINs and SSNs ------------------------------------------------------------

_DIGIT_RUN = re.compile(rf"(?<!\w)(?<!\d[.,])\d+(?:{GROUP_SEP}\d+)*")


def number_candidates(text: str) -> list[Candidate]:
    """Cards, SINs and SSNs among runs of digit groups ("4111 1111 1111 1111", "130-692-544",
    ...)."""
    found: list[Candidate] = []
    for run in _DIGIT_RUN.finditer(text):
        after = text[run.end() : run.end() + 2]
        if re.match(r"\w|[.,]\d", after) or is_money(text, run.start(), run.end()):
            continue
        groups = [
            (m.start() + run.start(), m.end() + run.start()) for m in DIGITS.finditer(run.group())
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


def _sin_shaped(digits: str) -> bool:
    """Nine digits that pass the SIN checksum; 0 first included ("046454286", the Government's
    sample), 8 first excluded (business numbers)."""
    return sin_ok(digits) or (digits[0] == "0" and luhn_ok(digits))


def _classify_digits(text: str, start: int, end: int, lengths: tuple[int, ...]) -> list[Candidate]:
    """What a window of digit groups, text[start:end] grouped as `lengths`, may be."""
    digits = only_digits(text[start:end])
    bare = len(lengths) == 1
    if 13 <= len(digits) <= 19 and card_grouping(lengths) and card_ok(digits):
        return [Candidate("card", start, end, (0 if len(digits) == 16 else 1, -len(digits)))]
    if lengths == (3, 3, 3) or (
        lengths == (9,) and (_sin_shaped(digits) or sin_cue_near(text, start))
    ):
        # Grouped 3-3-3 it is a SIN whatever its checksum (citizens mistype, and "046 454 286",
        # the Government's own sample, starts with 0); bare, it needs the checksum or a cue.
        if not looks_like_reference(text, start) or sin_cue_near(text, start):
            return [Candidate("sin", start, end)]
        return []
    if lengths == (3, 2, 4) and ssn_ok(digits):
        return [Candidate("ssn", start, end)]
    if bare and len(digits) == 9 and ssn_ok(digits) and ssn_cue_near(text, start, end):
        return [Candidate("ssn", start, end)]
    return []


# --- phones --------------------------------------------------------------------------------------

_NANP = re.compile(
    rf"""
    (?<![\w+])(?<!\d[.,])
    (?P<country>\+?1{SEP}?)?
    (?:\((?:[2-9]\d\d)\){SEP}?|[2-9]\d\d{SEP}?)   # area code: (514) or 514
    [2-9]\d\d{SEP}?\d{{4}}                          # exchange and line
    (?!\d)(?![.,\-]\d)
    """,
    re.VERBOSE,
)
_INTERNATIONAL = re.compile(
    rf"(?<![\w+])\+[2-9]\d*(?:(?:{SEP}|{SEP}?\(\d{{1,4}}\){SEP}?)\d+)*(?!\d)"
)
# Toll-free numbers belong to organisations, not to citizens; "I called 418 644-4545" names the
# number of whoever was called (an agency), unless the citizen says it is theirs ("call me at").
_TOLL_FREE = re.compile(rf"(?:\+?1{SEP}?)?\(?8(?:00|33|44|55|66|77|88)\)?{SEP}?")
_CALLED = re.compile(
    r"(?i)(?:\bi\s+(?:called|call|phoned|dialed|dialled|tried)|\b(?:j['’]?\s*ai|on\s+a)\s+"
    r"(?:appel[ée]|t[ée]l[ée]phon[ée]|compos[ée])|\bthe\s+(?:number|line)\s+(?:for|of|at)"
    r"|\ble\s+num[ée]ro\s+(?:pour|de|du|des)|\b(?:line|ligne)\b|\bhotline\b|\bdial\b"
    r"|\bcomposer\b|\bscam\w*|\barnaque\w*|\bfraud\w*)"
)
_MINE = re.compile(
    r"(?i)(?:\b(?:me|my|mine|mon|ma|moi|nous|our|notre|reach|joindre|rejoindre|rappel\w*|cell"
    r"|cellulaire|back|new\s+one|nouveau)\b|\b(?:phone|t[ée]l|tel)\b\.?\s*[:#]|[📞☎]|رقمي)"
)


def _public_number(text: str, match: re.Match[str]) -> bool:
    """Whether a phone number is an organisation's: a toll-free number, or the number the citizen
    called, unless the citizen says it is theirs ("call me back at", "mon numéro", "Phone:")."""
    before = re.split(r"[.!?;\n]\s", text[max(0, match.start() - 40) : match.start()])[-1]
    if _MINE.search(before):
        return False
    return bool(_TOLL_FREE.match(match.group()) or _CALLED.search(before))


_KEYPAD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "22233344455566677778889999")


def phone_candidates(text: str) -> list[Candidate]:
    """North American numbers in their usual forms, toll-free words, and international +CC
    numbers."""
    found: list[Candidate] = []
    for match in _NANP.finditer(text):
        value = match.group()
        if value.isdigit() and looks_like_reference(text, match.start()):
            continue  # a bare run after "dossier", "confirmation", ... is a reference number
        if _public_number(text, match):
            continue
        if not is_money(text, match.start(), match.end()):
            found.append(Candidate("phone", match.start(), match.end()))
    for match in _INTERNATIONAL.finditer(text):
        end, count = match.start(), 0
        for group in DIGITS.finditer(text, match.start(), match.end()):
            if count + len(group.group()) > 15:
                break
            count, end = count + len(group.group()), group.end()
        if (
            count >= 8
            and not re.match(r"[.,]\d", text[end : end + 2])
            and not is_money(text, match.start(), end)
        ):
            found.append(Candidate("phone", match.start(), end))
    return found


def phone_digits(value: str) -> str:
    """A phone number as dialled: "+" if written, then digits (letters read from the keypad, "(0)"
    dropped)."""
    plus = "+" if value.startswith("+") else ""
    value = ascii_digits(value).replace("(0)", "") if plus else ascii_digits(value)
    return plus + "".join(ch for ch in value.upper().translate(_KEYPAD) if ch.isdigit())


# --- emails --------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w%+\-](?:[\w.%+\-]*[\w%+\-])?@"
    r"(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,24}(?![\w\-@])"
)


def email_candidates(text: str) -> list[Candidate]:
    """Email addresses (a local part, "@", a domain with a letters-only top level)."""
    return [
        Candidate("email", m.start(), m.end())
        for m in _EMAIL.finditer(text)
        if ".." not in m.group()
    ]


# --- IP addresses --------------------------------------------------------------------------------

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w]|\.\d)")
_VERSION = re.compile(r"(?i)\b(?:version|vers?|v|build|release|firmware|update)\.?\s*$")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


def ip_candidates(text: str) -> list[Candidate]:
    """IPv4 addresses (four octets up to 255) and IPv6 addresses (checked by `ipaddress`)."""
    found = [
        Candidate("ip", m.start(), m.end())
        for m in _IPV4.finditer(text)
        if not _VERSION.search(text, max(0, m.start() - 12), m.start())
    ]
    for match in _IPV6.finditer(text):
        value = match.group()
        if value.count(":") >= 2 and sum(ch.isalnum() for ch in value) >= 4:
            try:
                ipaddress.IPv6Address(value)
            except ValueError:
                continue
            found.append(Candidate("ip", match.start(), match.end()))
    return found
