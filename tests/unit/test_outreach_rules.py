"""Outreach's pure rules: what a citizen's message asks, quiet hours, the pace of copies."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.conversation import sender
from bot.conversation.sender import Pace
from bot.inbox.quiet_hours import held_until
from bot.outreach.commands import Command, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SUBSCRIBE", Command("subscribe", "en")),
        ("  subscribe   Health ", Command("subscribe", "en", "health")),
        ("Abonner sante", Command("subscribe", "fr", "sante")),
        ("DÉSABONNER santé", Command("unsubscribe", "fr", "sante")),
        ("unsubscribe road-closures", Command("unsubscribe", "en", "road-closures")),
        ("topics", Command("topics", "en")),
        ("Sujets", Command("topics", "fr")),
        ("yes", Command("confirm", "en")),
        ("OUI!", Command("confirm", "fr")),
        ("yes please", None),  # a confirmation takes no topic
        ("subscribe to parking news", None),  # a question, not a keyword
        ("how do I subscribe?", None),
        ("subscribe <script>", Command("subscribe", "en", "script")),  # marks folded away
        ("", None),
    ],
)
def test_what_a_message_asks(text: str, expected: Command | None) -> None:
    assert parse(text) == expected


def test_quiet_hours_across_midnight_and_a_day_span() -> None:
    toronto = "America/Toronto"  # UTC-5 in December
    evening = dt.datetime(2026, 12, 7, 20, 59, tzinfo=dt.UTC)  # 15:59 local
    assert held_until(evening, toronto, 21, 8) is None
    night = dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC)  # 21:00 local: quiet until 08:00
    assert held_until(night, toronto, 21, 8) == dt.datetime(2026, 12, 8, 13, 0, tzinfo=dt.UTC)
    # A quiet span within one day (13:00-14:00 local), and none at all when start == end.
    noon = dt.datetime(2026, 12, 7, 18, 30, tzinfo=dt.UTC)  # 13:30 local
    assert held_until(noon, toronto, 13, 14) == dt.datetime(2026, 12, 7, 19, 0, tzinfo=dt.UTC)
    assert held_until(night, toronto, 8, 8) is None


def test_the_pace_refills_with_time_and_never_stalls_below_one_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(sender.time, "monotonic", lambda: now[0])
    pace = Pace(10)
    assert pace.available() == 10
    pace.spend(10)
    assert pace.available() == 0
    now[0] += 0.5
    assert pace.available() == 5
    now[0] += 60
    assert pace.available() == 10, "a burst is at most one second's worth"
    slow = Pace(0.5)
    assert slow.available() == 1
    slow.spend(1)
    now[0] += 1
    assert slow.available() == 0
    now[0] += 1
    assert slow.available() == 1
