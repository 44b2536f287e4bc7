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
