"""The dashboard's tables (what the page shows, the charts draw and the CSV export writes), and the
rounding of the figures in them."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any
from zoneinfo import ZoneInfo

Table = dict[str, Any]


def table(
    title: str, columns: list[tuple[str, str]], rows: list[list[Any]], note: str = ""
) -> Table:
    """A table: column names, their formats (text, int, rate, mean, seconds, date, datetime),
    rows."""
    return {
        "title": title,
        "columns": [c for c, _ in columns],
        "formats": [f for _, f in columns],
        "rows": rows,
        "note": note,
    }


def rate(part: int, whole: int) -> float | None:
    """`part / whole` to 4 decimals; None for nothing out of nothing."""
    return round(part / whole, 4) if whole else None


def mean(total: float, n: int) -> float | None:
    """`total / n` to 4 decimals; None when there is nothing to average."""
    return round(total / n, 4) if n else None


def median(values: list[float]) -> float | None:
    """The middle value (or the mean of the two middle ones) to 1 decimal; None for no values."""
    return round(statistics.median(values), 1) if values else None


def local(moment: dt.datetime | None, zone: ZoneInfo) -> str | None:
    """A stored time (naive ones are UTC) in the display zone, ISO 8601 to the second."""
    if moment is None:
        return None
    return (
        (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
        .astimezone(zone)
        .isoformat(timespec="seconds")
    )
