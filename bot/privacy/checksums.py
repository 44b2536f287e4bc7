"""Checksums and number rules that tell a real card, SIN or SSN from any other run of digits."""

from __future__ import annotations

import re
import unicodedata


def luhn_ok(digits: str) -> bool:
    """Whether `digits` passes the Luhn checksum; spaces and dashes are ignored, anything else
    fails."""
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


def sin_ok(digits: str) -> bool:
    """A Canadian SIN: 9 digits, Luhn-valid, not starting with 0 (unassigned) or 8 (business
    numbers)."""
    return len(digits) == 9 and digits[0] not in "08" and luhn_ok(digits)


def ssn_ok(digits: str) -> bool:
    """A US SSN by the SSA rules: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area != "000" and area != "666" and area[0] != "9" and group != "00" and serial != "0000"


# (first prefix, last prefix, allowed lengths): prefixes compare on their own number of digits.
CARD_RANGES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
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


def card_ok(digits: str) -> bool:
    """A payment card number: 13-19 digits, a known issuer prefix with a length it issues, and
    Luhn-valid."""
    if not 13 <= len(digits) <= 19:
        return False
    plausible = any(
        low <= digits[: len(low)] <= high and len(digits) in lengths
        for low, high, lengths in CARD_RANGES
    )
    return plausible and luhn_ok(digits)


def card_grouping(lengths: tuple[int, ...]) -> bool:
    """How people write card numbers: one run, groups of four (the last may be shorter), or 4-6-5
    / 4-6-4."""
    if len(lengths) == 1:
        return True
    fours = all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4
    return fours or lengths in ((4, 6, 5), (4, 6, 4))
