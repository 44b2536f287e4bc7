"""Pure rules of the contact centre: opening hours in the queue's time zone, the config file's
checks, urgent-topic matching, when a waiting citizen hears about their place, and
reading a rating."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.handoff.citizen import rating_of
from bot.handoff.config import ConfigError, QueueConfig, load_config
from bot.handoff.hours import describe, is_open, next_opening
from bot.handoff.sweeps import worth_telling
from bot.settings import ROOT

TORONTO = ZoneInfo("America/Toronto")
WEEKDAYS = QueueConfig(
    id="city",
    name={"en": "City", "fr": "Ville"},
    timezone="America/Toronto",
    hours={d: "08:30-16:30" for d in ("mon", "tue", "wed", "thu", "fri")},
    holidays=[dt.date(2026, 12, 25)],
)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TORONTO)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2026-12-01 08:29", False),
        ("2026-12-01 08:30", True),
        ("2026-12-01 16:29", True),
        ("2026-12-01 16:30", False),
        ("2026-12-05 12:00", False),  # Saturday
        ("2026-12-25 12:00", False),  # Friday, but a holiday
    ],
)
def test_opening_hours_in_the_queues_time_zone(moment: str, open_: bool) -> None:
    assert is_open(WEEKDAYS, at(moment)) is open_


def test_the_same_instant_in_utc_is_judged_in_the_queues_zone() -> None:
    utc = dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC)  # 09:00 in Toronto
    assert is_open(WEEKDAYS, utc)
    assert not is_open(WEEKDAYS, dt.datetime(2026, 12, 1, 22, 0, tzinfo=dt.UTC))  # 17:00 in Toronto


def test_next_opening_skips_weekends_and_holidays() -> None:
    assert next_opening(WEEKDAYS, at("2026-12-24 17:00")) == at(
        "2026-12-28 08:30"
    )  # Fri 25 holiday, weekend
    assert next_opening(WEEKDAYS, at("2026-12-01 07:00")) == at("2026-12-01 08:30")
    assert describe(at("2026-12-28 08:30"), "en") == "Monday 28 at 08:30"
    assert describe(at("2026-12-28 08:30"), "fr") == "lundi 28 à 08 h 30"


def test_the_shipped_contact_centre_file_is_valid() -> None:
    config = load_config(ROOT / "data" / "contact_centre.yml")
    assert config.queue(config.default_queue) is not None
    assert config.queue_for_agency("revenue").id == "revenue"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("default_queue: nowhere", "default_queue 'nowhere' is not one of the queues"),
        ("queues:\n  - {id: a, name: {en: A}, timezone: Mars/Base}", "unknown time zone"),
        ("queues:\n  - {id: a, name: {en: A}, hours: {mon: '9-5'}}", "is not HH:MM-HH:MM"),
        ("queues:\n  - {id: a, name: {en: A}, hours: {funday: '09:00-17:00'}}", "unknown day"),
    ],
)
def test_a_broken_contact_centre_file_says_what_is_wrong(
    tmp_path: Path, change: str, problem: str
) -> None:
    base = (
        "default_queue: a\nqueues:\n  - {id: a, name: {en: A}}\ndispositions:\n"
        "  - {code: ok, label: OK}\n"
    )
    key = change.split(":")[0]
    lines = [
        line
        for line in base.splitlines()
        if not line.startswith(key) and not (key == "queues" and line.startswith("  - {id: a"))
    ]
    path = tmp_path / "cc.yml"
    path.write_text("\n".join(lines) + "\n" + change + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_config(path)


def test_urgent_topics_match_whole_phrases_in_either_language() -> None:
    config = load_config(ROOT / "data" / "contact_centre.yml")
    assert config.urgent("I want to KILL MYSELF").id == "self-harm"  # type: ignore[union-attr]
    assert config.urgent("j'ai envie de mourir").id == "self-harm"  # type: ignore[union-attr]
    assert config.urgent("there is a gas leak in my building").id == "emergency"  # type: ignore[union-attr]
    assert config.urgent("Il y a une fuite de gaz") is not None
    assert config.urgent("how do I renew my licence") is None
    assert config.urgent("emergencyroom wait times") is None  # not a whole word


@pytest.mark.parametrize(
    ("told", "now", "tell"),
    [
        ((None, None), (7, 20), True),  # never told
        ((7, 20), (6, 18), False),  # one step: not worth an SMS
        ((7, 20), (4, 12), False),
        ((7, 20), (3, 10), True),  # halved
        ((2, 5), (1, 3), True),  # next in line
        ((1, 3), (1, 3), False),
        ((4, 10), (4, 20), True),  # the wait doubled (agents went offline)
        ((4, 2), (4, 4), False),  # doubled but by under 5 minutes
    ],
)
def test_waiting_citizens_hear_only_about_meaningful_changes(
    told: tuple[int | None, int | None], now: tuple[int, int], tell: bool
) -> None:
    assert worth_telling(told, *now) is tell


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("4", (4, None)),
        (" 5 ", (5, None)),
        ("3/5", (3, None)),
        ("1.", (1, None)),
        ('/rate{"score": 2}', (2, None)),
        ("4 - quick and kind", (4, "quick and kind")),
        ("2, too slow", (2, "too slow")),
        ("6", None),
        ("0", None),
        ("45", None),
        ("4stars", None),
        ('/rate{"score": 9}', None),
        ("/rate{x", None),
    ],
)
def test_reading_a_satisfaction_rating(text: str, rating: tuple[int, str | None] | None) -> None:
    assert rating_of(text) == rating
