"""Dialect-aware SQL pieces: UTC time buckets and durations that SQLite and PostgreSQL agree on.

Timestamps are bucketed by UTC hour in SQL (by quarter hour for zones with half-hour offsets), and
the buckets moved into the display zone in Python, so both databases give the same figures.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, DateTime, String, extract, func, literal_column

from bot.insight.dashboard.filters import Filters


def utc_bucket(dialect: str, column: Any, minutes: int) -> ColumnElement[Any]:
    """`column` truncated to its UTC hour (`minutes` = 60) or quarter hour (15), as SQL without
    parameters (so that GROUP BY repeats the very same expression).

    SQLite keeps timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' text in UTC (SQLAlchemy's format), so a
    prefix is the hour; PostgreSQL truncates the timestamptz. `bucket_start` reads either result
    back."""
    name = f"{column.table.name}.{column.name}"
    if dialect == "sqlite":
        if minutes == 60:
            return literal_column(f"substr({name}, 1, 13)", String)
        return literal_column(
            f"substr({name}, 1, 14) || (CAST(substr({name}, 15, 2) AS INTEGER) / 15 * 15)", String
        )
    if minutes == 60:
        return literal_column(f"date_trunc('hour', {name}, 'UTC')", DateTime(timezone=True))
    return literal_column(
        f"date_bin(interval '15 minutes', {name}, timestamptz '2000-01-01 00:00:00+00')",
        DateTime(timezone=True),
    )


def bucket_start(value: Any) -> dt.datetime:
    """A `utc_bucket` value as an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value).replace("T", " ")
    day, _, rest = text.partition(" ")
    hour, _, minute = rest.partition(":")
    return dt.datetime.fromisoformat(day).replace(
        hour=int(hour), minute=int(minute or 0), tzinfo=dt.UTC
    )


def seconds_between(dialect: str, earlier: Any, later: Any) -> ColumnElement[Any]:
    """`later - earlier` in seconds, as SQL (NULL when either is NULL)."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return extract("epoch", later - earlier)


def bucket_minutes(filters: Filters) -> int:
    """60 when the display zone is a whole number of hours from UTC throughout the period, else
    15."""
    start, end = filters.window()
    probes = [start, end, start + (end - start) / 2]
    offsets = [
        (p.astimezone(filters.zone).utcoffset() or dt.timedelta()).total_seconds() for p in probes
    ]
    return 60 if all(o % 3600 == 0 for o in offsets) else 15
