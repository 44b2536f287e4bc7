"""Opening hours of a queue: open now? and when does it open next? In the queue's own time zone."""

from __future__ import annotations

import datetime as dt

from bot.handoff.config import QueueConfig


def is_open(queue: QueueConfig, now: dt.datetime) -> bool:
    """True when people are there at `now` (timezone-aware)."""
    local = now.astimezone(queue.zone)
    if local.date() in queue.holidays:
        return False
    span = queue.minutes(local.weekday())
    minute = local.hour * 60 + local.minute
    return span is not None and span[0] <= minute < span[1]


def next_opening(queue: QueueConfig, now: dt.datetime) -> dt.datetime | None:
    """When the queue next opens after `now` (now itself if open), in its time zone;
    None if never."""
    if is_open(queue, now):
        return now.astimezone(queue.zone)
    local = now.astimezone(queue.zone)
    for ahead in range(370):
        day = local.date() + dt.timedelta(days=ahead)
        span = queue.minutes(day.weekday())
        if span is None or day in queue.holidays:
            continue
        opens = dt.datetime.combine(day, dt.time(span[0] // 60, span[0] % 60), tzinfo=queue.zone)
        if opens > local:
            return opens
    return None


def describe(moment: dt.datetime, language: str) -> str:
    """A short, local description of an opening time: "Monday at 08:30" / "lundi à 08 h 30"."""
    if language == "fr":
        days = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
        return f"{days[moment.weekday()]} {moment.day} à {moment:%H} h {moment:%M}"
    days_en = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    return f"{days_en[moment.weekday()]} {moment.day} at {moment:%H:%M}"
