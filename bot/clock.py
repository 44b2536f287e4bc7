"""The one clock that every stored time, lease, timer and sweep reads.

Services take a `Clock` (default: `system_clock`) so that a test or a simulation sets the time
instead of depending on today's date. Times are timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]
"""Returns now, timezone-aware, in UTC."""


def system_clock() -> dt.datetime:
    """The wall clock, in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime) -> dt.datetime:
    """`moment` as an aware datetime (SQLite returns naive UTC datetimes)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def hours_between(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    """Hours from `start` to `end`, to 2 decimals; None when either is missing."""
    if start is None or end is None:
        return None
    return round((aware(end) - aware(start)).total_seconds() / 3600, 2)
