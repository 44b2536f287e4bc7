"""Field rules shared by the console's request bodies: no control characters; a start time."""

from __future__ import annotations

import datetime as dt
import re

from bot.clock import system_clock
from bot.web.auth import ApiError

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control(text: str) -> str:
    """Text without control characters (a NUL is refused by PostgreSQL; none is ever meant)."""
    if CONTROL.search(text):
        raise ValueError("control characters are not allowed")
    return text


def start_time(
    moment: dt.datetime | None,
    earliest: dt.timedelta = dt.timedelta(minutes=5),
    latest: dt.timedelta = dt.timedelta(days=366),
) -> dt.datetime | None:
    """A start time in UTC (None: at once); 422 without a zone, more than `earliest` in the past
    (a slow form) or more than `latest` ahead (surely a typo)."""
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ApiError(422, "the start time needs a time zone (e.g. 2026-12-08T09:00:00-05:00)")
    try:
        start = moment.astimezone(dt.UTC)
    except (OverflowError, ValueError) as exc:
        raise ApiError(422, "the start time is out of range") from exc
    now = system_clock()
    if start < now - earliest:
        raise ApiError(422, "the start time has passed: leave it empty to start at once")
    if start > now + latest:
        raise ApiError(422, "the start time is more than a year ahead")
    return start
