"""The dashboard's traffic sections: message volume, containment, and hand-offs to agents."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from bot.insight.dashboard.directory import QueueDirectory, queue_name
from bot.insight.dashboard.filters import Filters
from bot.insight.dashboard.queries import HandoffRow, Volume
from bot.insight.dashboard.table import Table, median, rate, table

REASONS = ("requested", "unsure", "not_helpful", "urgent")


def channels_of(days: dict[dt.date, Counter[str]]) -> list[str]:
    """The channels that carried messages in the period, sorted."""
    return sorted({c for counts in days.values() for c in counts})


def messages_by_channel(days: dict[dt.date, Counter[str]]) -> Counter[str]:
    """The period's messages per channel."""
    by_channel: Counter[str] = Counter()
    for counts in days.values():
        by_channel.update(counts)
    return by_channel


def volume_tables(filters: Filters, volume: Volume) -> dict[str, Table]:
    """Messages by hour of day, by day and channel, and by channel."""
    hours, days, rolled = volume
    channels = channels_of(days)
    by_channel = messages_by_channel(days)
    messages = sum(by_channel.values())
    retention = " Days older than the retention period count only in the daily totals."
    return {
        "volume-by-hour": table(
            "Messages by hour of day",
            [("hour", "int"), ("messages", "int")],
            [[hour, hours.get(hour, 0)] for hour in range(24)],
            "Hours in the display time zone." + (retention if rolled else ""),
        ),
        "volume-by-day": table(
            "Messages by day and channel",
            [("day", "date"), ("messages", "int"), *((c, "int") for c in channels)],
            [
                [
                    day.isoformat(),
                    sum(days.get(day, Counter()).values()),
                    *(days.get(day, Counter()).get(c, 0) for c in channels),
                ]
                for day in filters.days()
            ],
        ),
        "volume-by-channel": table(
            "Messages by channel",
            [("channel", "text"), ("messages", "int"), ("share", "rate")],
            [
                [c, n, rate(n, messages)]
                for c, n in sorted(by_channel.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        ),
    }


def containment_table(containment: dict[str, tuple[int, int]]) -> Table:
    """Conversations contained (no hand-off) and handed off, per channel."""
    return table(
        "Containment by channel",
        [
            ("channel", "text"),
            ("conversations", "int"),
            ("contained", "int"),
            ("containment rate", "rate"),
            ("handed off", "int"),
            ("hand-off rate", "rate"),
        ],
        [[c, n, n - h, rate(n - h, n), h, rate(h, n)] for c, (n, h) in sorted(containment.items())],
    )


def reasons_table(handoffs: list[HandoffRow]) -> Table:
    """Hand-offs per reason, the known reasons first."""
    reasons = Counter(r for _, r, _, _, _ in handoffs)
    return table(
        "Hand-off reasons",
        [("reason", "text"), ("hand-offs", "int"), ("share", "rate")],
        [
            [r, reasons.get(r, 0), rate(reasons.get(r, 0), len(handoffs))]
            for r in [*REASONS, *sorted(set(reasons) - set(REASONS))]
        ],
    )


def queues_table(handoffs: list[HandoffRow], directory: QueueDirectory) -> Table:
    """Hand-offs per queue, with their median wait and handling times."""
    rows = []
    for queue_id in sorted({q for q, *_ in handoffs}):
        mine = [h for h in handoffs if h[0] == queue_id]
        waits = [h[3] for h in mine if h[3] is not None]
        handling = [h[4] for h in mine if h[4] is not None]
        rows.append(
            [
                queue_id,
                queue_name(directory, queue_id),
                len(mine),
                len(waits),
                median(waits),
                len(handling),
                median(handling),
            ]
        )
    return table(
        "Hand-offs by queue",
        [
            ("queue", "text"),
            ("name", "text"),
            ("hand-offs", "int"),
            ("assigned", "int"),
            ("median wait", "seconds"),
            ("resolved", "int"),
            ("median handling", "seconds"),
        ],
        rows,
    )
