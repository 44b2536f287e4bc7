"""Quiet hours: a message the citizen did not ask for (a non-urgent broadcast, a survey
invitation or reminder) waits for the morning in the citizen's time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours [start_hour, end_hour) when nothing unasked-for goes out."""

    start_hour: int = 21
    end_hour: int = 8

    def held_until(self, now: dt.datetime, zone: str) -> dt.datetime | None:
        """When a message may go out (None: now)."""
        return held_until(now, zone, self.start_hour, self.end_hour)


def held_until(now: dt.datetime, zone: str, start_hour: int, end_hour: int) -> dt.datetime | None:
    """When a message may go out if `now` falls in quiet hours [start_hour, end_hour) local time
    (spanning midnight when start > end); None when it may go now."""
    local = now.astimezone(ZoneInfo(zone))
    hour = local.hour
    quiet = (
        start_hour <= hour < end_hour
        if start_hour < end_hour
        else hour >= start_hour or hour < end_hour
    )
    if not quiet or start_hour == end_hour:
        return None
    day = local.date() if hour < end_hour else local.date() + dt.timedelta(days=1)
    morning = dt.datetime.combine(day, dt.time(end_hour), tzinfo=ZoneInfo(zone))
    return morning.astimezone(dt.UTC)
