"""Identity and bank numbers: provincial health cards, passports, driver's licences and bank
accounts, in the formats of every province and territory.

Two ways in. A format distinctive enough on its own is taken wherever it appears (RAMQ's four
letters and eight digits, Ontario's version code, Quebec's and Ontario's licence shapes, the
transit-institution-account triple). Any other ID-like token is taken only after a cue naming the
document ("carte soleil", "OHIP", "PHN", "permis de conduire", "passport #", "transit", "folio"),
because alone "12345678" could as well be a case or confirmation number, which are not personal.
"""

from __future__ import annotations

import re

from bot.privacy.cues import after_cues
from bot.privacy.scan import Candidate, is_money

_B = r"(?<![\w\-])"  # a value starts at a word boundary (not inside "SC-ISP-3000")
_E = r"(?![\w]|-\w)"  # and ends at one
_S = r"[ \-\u00a0]?"  # an optional separator inside a number

# --- health cards ---------------------------------------------------------------------------------

_HEALTH_CUE = re.compile(
    r"(?i)(?:carte\s+(?:d['’]\s*)?(?:assurance[\s\-]maladie|soleil|sant[ée])|carte\s+ramq"
    r"|\bramq\b|\bohip\b|\bmsp\b|\bphn\b|\bahcip\b|\bmcp\b|\bhsn\b|\bnam\b|\bhin\b|\bmedicare\b"
    r"|health(?:\s*care)?\s*(?:card|number|insurance|#|no\b)|care\s*card|carecard"
    r"|personal\s+health\s+number|assurance[\s\-]maladie)"
)
# "PEI health 81204475": the word alone, right before the number.
_HEALTH_WORD = re.compile(r"(?i)\bhealth\b")
# RAMQ: 4 letters (surname, initial) and 8 digits (birth date, sex, rank): "BOUJ 7203 1514".
# Alone, in capitals or written together ("bouj72031514"): "case 2024 1187" is not one.
_RAMQ = re.compile(rf"{_B}(?:[A-Z]{{4}}{_S}\d{{4}}{_S}|[A-Za-z]{{4}}\d{{4}}{_S})\d{{4}}{_E}")
# Ontario with its version code: "1234-567-890-AB", "1234567890 AB".
# (The same separator throughout: "2024-118734 is" is a case number and a word.)
_OHIP_VERSION = re.compile(rf"{_B}\d{{4}}([ \-]?)\d{{3}}\1\d{{3}}[ \-]?[A-Z]{{2}}{_E}")
# 4-3-3 grouping (Ontario, Nova Scotia, BC) is not a phone's 3-3-4.
_TEN_4_3_3 = re.compile(rf"{_B}\d{{4}}([ \-])\d{{3}}\1\d{{3}}{_E}")
# After a cue: a letter prefix or suffix and 7 to 12 digits in groups ("N1234567", "9876 543 210").
_HEALTH_VALUE = (
    rf"(?P<v>{_B}(?:[A-Za-z]{{4}}{_S}\d{{4}}{_S}\d{{4}}"
    rf"|(?:[A-Z]{{1,2}}{_S}|[a-z]{{1,2}})?\d(?:[ \-]?\d){{6,11}}"
    rf"(?:[ \-]?[A-Z]{{1,2}}|[a-z]{{1,2}})?){_E})"
)

# --- passports ------------------------------------------------------------------------------------

_PASSPORT_CUE = re.compile(
    r"(?i)(?:pass?e?ports?|travel\s+document|document\s+de\s+voyage|\bppt\b)"
)
_PASSPORT_VALUE = (
    rf"(?P<v>{_B}(?:(?:[A-Z]{{1,2}}{_S}|[a-z]{{1,2}})\d{{6,8}}|\d{{9}}|[A-Za-z]\d{{8}}){_E})"
)

# --- driver's licences ----------------------------------------------------------------------------

_LICENCE_CUE = re.compile(
    r"(?i)(?:driver['’]?s?\s*(?:licen[cs]e|permit)|licen[cs]e|\bdl\b|\bd\.l\.?"
    r"|permis(?:\s+de\s+conduire|\s+de\s+conduite)?(?!\s+(?:de\s+(?:travail|s[ée]jour|"
    r"construction|r[ée]sidence)|d['’]\s*[ée]tudes?))|\bpermit\b(?<!work\spermit)"
    r"(?<!study\spermit))"
)
# Quebec: a letter and 12 digits ("B4721-610602-05");
# Ontario: a letter and 14 ("T4821-37950-60512").
_QC_LICENCE = re.compile(rf"{_B}[A-Za-z]\d{{4}}{_S}\d{{6}}{_S}\d{{2}}{_E}")
_ON_LICENCE = re.compile(rf"{_B}[A-Za-z]\d{{4}}{_S}\d{{5}}{_S}\d{{5}}{_E}")
# Nova Scotia: 5 letters of the surname and 9 digits ("GAGNO120394001").
_NS_LICENCE = re.compile(rf"{_B}[A-Z]{{5}}{_S}\d{{9}}{_E}")
_LICENCE_VALUE = (
    rf"(?P<v>{_B}(?:(?:[A-Z]{{1,5}}{_S}|[a-z]{{1,5}})\d(?:[ \-]?\d){{4,13}}"  # NL, NS, QC, ON
    rf"|\d(?:[ \-]?\d){{4,8}}"  # BC 7, AB 6-9 ("123456-789"), SK 8, NB, PEI, territories
    rf"|(?=[A-Za-z0-9]*\d[A-Za-z0-9]*\d)[A-Za-z]{{2,6}}[A-Za-z0-9]{{4,10}}"  # Manitoba, 12 mixed
    rf"|[A-Za-z]{{2}}-?[A-Za-z]{{2}}-?[A-Za-z]{{2}}-?[A-Za-z]\d{{2}}[A-Za-z]{{2}}){_E})"
)

# --- bank accounts --------------------------------------------------------------------------------

# Transit (5) - institution (3) - account (7 to 12), or institution first as on a cheque's MICR.
_BANK_TRIPLE = re.compile(rf"{_B}(?:\d{{5}}[ \-]\d{{3}}|\d{{3}}[ \-]\d{{5}})[ \-]\d{{7,12}}{_E}")
_BANK_CUE = re.compile(
    r"(?i)(?:\btransit\b|\bsuccursale\b|\bbranch\b|\bfolio\b"
    r"|(?:bank|banking|chequing|checking|savings)\s+(?:account|acct|info\w*)"
    r"|\baccount\b|\bacct\b|\ba/c\b|\bcompte\b|\bcpte\b|direct\s+deposit"
    r"|d[ée]p[oô]t\s+direct|\bbank\b|\bbanque\b|\bcaisse\b)"
)
_INSTITUTION_CUE = re.compile(r"(?i)(?:\binstitution\b|\binst\b\.?|\bbank\b|\bbanque\b)")
# Transit 5 digits, account 5 to 12 (a year alone, "since 2019", is too short to be taken).
_BANK_VALUE = rf"(?P<v>{_B}\d(?:[ \-]?\d){{4,16}}{_E})"
_INSTITUTION_VALUE = rf"(?P<v>{_B}\d{{3}}{_E})"


def _cued(
    text: str, kind: str, cue: re.Pattern[str], value: str, words: int = 4
) -> list[Candidate]:
    return [
        Candidate(kind, m.start("v"), m.end("v"), (1,))
        for m in after_cues(text, cue, value, words)
        if not is_money(text, m.start("v"), m.end("v"))
    ]


def _shapes(text: str, kind: str, *patterns: re.Pattern[str]) -> list[Candidate]:
    return [Candidate(kind, m.start(), m.end(), (0,)) for p in patterns for m in p.finditer(text)]


def health_card_candidates(text: str) -> list[Candidate]:
    """Health card numbers: RAMQ and Ontario shapes anywhere, any province's after a cue."""
    shaped = [
        c
        for c in _shapes(text, "health_card", _RAMQ, _OHIP_VERSION, _TEN_4_3_3)
        if any(ch.isdigit() for ch in text[c.start : c.end])
    ]
    return (
        shaped
        + _cued(text, "health_card", _HEALTH_CUE, _HEALTH_VALUE, words=5)
        + _cued(text, "health_card", _HEALTH_WORD, _HEALTH_VALUE, words=1)
    )


def passport_candidates(text: str) -> list[Candidate]:
    """Passport numbers after a cue ("passport # HK719204", "mon passeport: GA123456")."""
    return _cued(text, "passport", _PASSPORT_CUE, _PASSPORT_VALUE, words=7)


def licence_candidates(text: str) -> list[Candidate]:
    """Driver's licence numbers: Quebec, Ontario and Nova Scotia shapes anywhere, the rest after
    a cue."""
    shaped = _shapes(text, "licence", _QC_LICENCE, _ON_LICENCE, _NS_LICENCE)
    return shaped + _cued(text, "licence", _LICENCE_CUE, _LICENCE_VALUE, words=5)


def bank_account_candidates(text: str) -> list[Candidate]:
    """Bank accounts: the transit-institution-account triple anywhere; transit, institution and
    account numbers after their cue."""
    shaped = _shapes(text, "bank_account", _BANK_TRIPLE)
    return (
        shaped
        + _cued(text, "bank_account", _BANK_CUE, _BANK_VALUE, words=4)
        + _cued(text, "bank_account", _INSTITUTION_CUE, _INSTITUTION_VALUE, words=3)
    )
