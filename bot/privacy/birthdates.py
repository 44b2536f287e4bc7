"""Dates of birth, in English and French, written any usual way ("June 2, 1961", "2 juin 61",
"1961-06-02", "02/06/1961", "le 1er juin 1961").

A date is a date of birth when a cue says so ("born on", "DOB", "né le", "date de naissance",
"ddn", "birthday"), or when it is a full date from a year long enough ago that it can only be a
birth date in a citizen's message, with no cue of an event ("since", "arrived", "married",
"depuis").
Dates of events ("my appointment on March 3, 2025", "la date limite du 30 avril") stay.
"""

from __future__ import annotations

import re

from bot.clock import system_clock
from bot.privacy.cues import after_cues
from bot.privacy.scan import Candidate

_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|febr|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
    r"|janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre"
    r"|d[ée]cembre|janv|f[ée]vr?|avr|juil)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th|er|e)?"
_YEAR = r"(?:19|20)\d\d"
_YEAR2 = r"(?:(?:19|20)\d\d|'?\d\d)"
_NUM_MONTH = r"(?:1[0-2]|0?[1-9])"
_NUM_DAY = r"(?:[12]\d|3[01]|0?[1-9])"
_DATE = (
    rf"(?:{_MONTH}\s+{_DAY},?\s+{_YEAR2}"  # June 2, 1961
    rf"|(?:the\s+)?{_DAY}\s+(?:of\s+|de\s+)?{_MONTH},?\s+{_YEAR2}"  # 2 June 1961, 2 juin 61
    rf"|{_YEAR}[\-/.]{_NUM_MONTH}[\-/.]{_NUM_DAY}"  # 1961-06-02
    rf"|{_NUM_DAY}[\-/.]{_NUM_MONTH}[\-/.]{_YEAR2}"  # 02/06/1961 (or US 06/02/1961)
    rf"|{_NUM_DAY}\s{_NUM_MONTH}\s{_YEAR}"  # 02 06 1961
    rf"|{_MONTH}\s+{_YEAR})"  # June 1961
)
_BOUNDED = rf"(?<![\w/\-.])(?P<v>(?i:{_DATE}))(?![\w/]|[\-.]\d)"

_CUE = re.compile(
    r"(?i)(?:\bborn\b|\bbirth(?:day|date)?\b|\bb[\-\s]?day\b|\bdob\b|\bd\.o\.b\b\.?|\bn[ée]e?s?\b"
    r"|\bnaissance\b|\bnaiss\b\.?|\bddn\b|\bd\.d\.n\b\.?|\banniversaire\b|\bdate\s+of\s+b\w*"
    r"|\bdate\s+de\s+nai\w*)"
)
# "born in 1961": the year alone is the birth date.
_BORN_IN_YEAR = re.compile(r"(?i)\b(?:born|n[ée]e?)\s+(?:in|en)\s+(?P<v>(?:19|20)\d\d)\b")
_EVENT = re.compile(
    r"(?i)\b(?:since|depuis|arriv\w*|moved|d[ée]m[ée]nag\w*|married|mari[ée]e?|divorc\w*|died"
    r"|d[ée]c[ée]d\w*|death|d[ée]c[eè]s|worked|travaill\w*|hired|embauch\w*|from|until|jusqu\w*"
    r"|du|au|between|entre|effective|en\s+vigueur|deadline|limite|appointment|rendez|rdv"
    r"|started|commenc\w*|retired|retraite|landed|immigr\w*|sent|envoy\w*|paid|pay[ée]e?)\b"
)
_DATE_ONLY = re.compile(_BOUNDED, re.IGNORECASE)
_ADULT = 16  # a full date at least this many years ago, without an event cue, is a birth date


def _year(value: str) -> int | None:
    full = re.search(r"(?:19|20)\d\d", value)
    return int(full.group()) if full else None


def dob_candidates(text: str) -> list[Candidate]:
    """Dates of birth: any date after a birth cue; a full date long ago without an event cue."""
    found = [
        Candidate("dob", m.start("v"), m.end("v"), (0,))
        for m in after_cues(text, _CUE, _BOUNDED, words=4)
    ]
    found += [
        Candidate("dob", m.start("v"), m.end("v"), (0,)) for m in _BORN_IN_YEAR.finditer(text)
    ]
    this_year = system_clock().year
    for match in _DATE_ONLY.finditer(text):
        year = _year(match["v"])
        if year is None or not 1900 <= year <= this_year - _ADULT:
            continue
        if re.fullmatch(rf"(?i){_MONTH}\s+{_YEAR}", match["v"]):
            continue  # "June 1961" alone is too vague to call a birth date
        window = text[max(0, match.start() - 40) : match.start()]
        if not _EVENT.search(window):
            found.append(Candidate("dob", match.start("v"), match.end("v"), (1,)))
    return found
