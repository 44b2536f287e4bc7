"""The street-address recognizer (English and French forms, with a unit, and a postal or ZIP code
that follows) and lone Canadian postal codes."""

from __future__ import annotations

import re

from bot.privacy.cues import after_cues
from bot.privacy.scan import Candidate, is_money

_UPPER = "A-ZÀ-ÖØ-ÞŒ"
_LOWER = "a-zß-öø-ÿœ"
_WORD = r"[\w\u0300-\u036f'’]"
_CAP_WORD = rf"[{_UPPER}]{_WORD}*(?:-{_WORD}+)*"
_LOW_WORD = rf"[{_LOWER}]{_WORD}*(?:-{_WORD}+)*"
_ORDINAL = r"\d{1,3}(?:st|nd|rd|th|e|re|er|ème|eme)"
_STOP = (
    r"(?:the|a|an|on|in|at|to|from|of|my|your|our|his|her|their|for|and|or|is|are|was|by|with"
    r"|this|that|these|those|per|each|every|more|less|than|about|de|du|des|la|le|les|un|une|et"
    r"|ou|en|au|aux|pour|par|sur|mon|ma|mes|ton|ta|vos|votre|nos|notre|est|sont|pas|plus"
    r"|moins)\b"
)
_NUMBER = r"(?<![\w$€£.,/\-])(?:\d{1,5}[\-–])?\d{1,6}[A-Za-z]?(?![\w\-])"
_UNIT_WORD = (
    r"(?i:apt|apartment|app|appart|appartement|unit|unité|suite|bureau|logement|log|ste)\.?"
)
_UNIT_BEFORE = (
    rf"(?:{_UNIT_WORD}\s*#?\s*\d{{1,5}}[A-Za-z]?\s*[,\-]?\s*|#\s*\d{{1,5}}[A-Za-z]?\s*[,\-]\s*)?"
)
_UNIT_AFTER = (
    rf"(?:\s*,?\s*{_UNIT_WORD}\s*(?:#|no\.?|n°)?\s*\d{{1,5}}[A-Za-z]?\b"
    rf"|\s*,?\s*#\s*\d{{1,5}}[A-Za-z]?\b)?"
)
_DIRECTION = r"(?:\s+(?:North|South|East|West|Est|Ouest|Nord|Sud|NE|NW|SE|SW|N|S|E|W|O)\b\.?)?"
_EN_TYPE = (
    r"(?i:street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|lane|ln|court|ct|crescent|cres"
    r"|way|place|pl|terrace|terr|circle|cir|parkway|pkwy|highway|hwy|trail|square|sq|rue|rang)"
)
_EN_TYPE_SHORT = r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|cres|crescent)"
_FR_TYPE = (
    r"(?i:rue|avenue|av|boulevard|boul|bd|chemin|ch|rang|place|côte|cote|route|rte|montée|montee"
    r"|impasse|allée|allee|promenade|croissant|terrasse|carré|square)"
)
_FR_TYPE_COMMON = r"(?i:rue|avenue|av|boulevard|boul|bd|chemin|ch|route|rang)"
_FR_PARTICLE = r"(?:(?i:de\s+la|de\s+l'|de\s+l’|du|des|de|d'|d’|l'|l’|la|le)\s*)"
# Institutions named like streets ("the 9 Supreme Court judges") are not addresses.
_NOT_A_STREET = (
    r"(?!(?:Supreme|Federal|Tax|Superior|Provincial|Small|Claims|Family|Appeal|Appeals|High"
    r"|District)\b)"
)
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
# After "my address is", "I live at", "j'habite au", "moved to": a civic number and the words up
# to the next comma or full stop is an address even without a street type ("1201 Kingsway #305").
_ADDRESS_CUE = re.compile(
    r"(?i)(?:\baddress(?:\s+is)?|\badresse(?:\s+est)?|\blive\s+at|\bliving\s+at|\breside\s+at"
    r"|\bhabite\s+(?:au|à|a)|\bdemeure\s+(?:au|à|a)|\bmoved\s+to|\bd[ée]m[ée]nag[ée]e?s?\s+(?:au|à|a))"
)
_CUED_ADDRESS = (
    r"(?P<v>(?<![\w$])(?:(?:apt|unit|app|suite|#)\.?\s*\d{1,5}[A-Za-z]?\s*[-–,]?\s*)?"
    r"\d{1,6}[A-Za-z]?(?:-\d{1,6})?(?:\s+(?!(?:and|et|in|en|since|depuis|but|mais|please|svp|pls|"
    r"for|pour|on|le|the)\b)[^\s,.;!?]+){1,5}(?:\s*,?\s*(?:#|apt\.?|unit|app\.?|suite)\s*\d{1,5}"
    r"[A-Za-z]?)?)(?=\s*(?:[,.;!?\n]|$|\s))"
)
_REFERENCE_BEFORE = re.compile(
    r"(?i)(?:#|\b(?:confirmation|conf|ref|r[ée]f[ée]rence|reference|case|dossier|file|ticket|order"
    r"|commande|tracking|suivi|claim|r[ée]clamation|transaction)\b)\W*$"
)
_PO_BOX = re.compile(
    r"(?i)(?<!\w)(?:p\.?\s?o\.?\s+box|post\s+office\s+box|c\.?\s?p\.?|case\s+postale|bo[iî]te"
    r"\s+postale)\s*#?\s*\d{1,6}(?!\w)"
)
_POSTAL = re.compile(rf"(?<!\w)(?i:{_POSTAL_CODE})(?!\w)")
# After a street: optional city and province or state, then a postal code or a ZIP code.
_PLACE = rf"(?:,?\s*{_CAP_WORD}(?:[ \-]{_CAP_WORD}){{0,2}})"
_ADDRESS_TAIL = re.compile(
    rf"{_PLACE}{{0,2}},?\s*(?i:{_POSTAL_CODE})(?!\w)"
    rf"|{_PLACE}{{1,2}},?\s+\d{{5}}(?:-\d{{4}})?(?![\w\-])"
)


def address_candidates(text: str) -> list[Candidate]:
    """Street addresses (with a unit, and a postal or ZIP code that follows) and lone postal
    codes."""
    found = []
    for street in _STREETS:  # each form on its own: overlaps go to the longest match
        for match in street.finditer(text):
            tail = _ADDRESS_TAIL.match(text, match.end())
            end = tail.end() if tail else match.end()
            found.append(Candidate("address", match.start(), end, (match.start() - end,)))
    found += [
        Candidate("address", m.start(), m.end(), (m.start() - m.end(),))
        for m in _POSTAL.finditer(text)
        # "confirmation #A7K2M9" has a postal code's shape but is a reference
        if " " in m.group() or not _REFERENCE_BEFORE.search(text, max(0, m.start() - 30), m.start())
    ]
    found += [
        Candidate("address", m.start(), m.end(), (m.start() - m.end(),))
        for m in _PO_BOX.finditer(text)
    ]
    found += [
        Candidate("address", m.start("v"), m.end("v"), (m.start("v") - m.end("v"),))
        for m in after_cues(text, _ADDRESS_CUE, _CUED_ADDRESS, words=3)
        if not is_money(text, m.start("v"), m.end("v"))
    ]
    return found
