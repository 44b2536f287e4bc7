"""Quiet hours: a non-urgent broadcast waits for the morning in the citizen's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


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
