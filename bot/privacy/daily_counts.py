"""The roll-up into `daily_counts`: what deleted rows counted outlives them there."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.privacy.doomed import CountKey, chunks
from bot.storage.models import DailyCount


def add_daily_counts(session: Session, counts: Counter[CountKey]) -> None:
    """Add `counts` to `daily_counts`: existing rows are read and updated, missing ones inserted."""
    by_day: dict[dt.date, list[CountKey]] = {}
    for key in counts:
        by_day.setdefault(key[0], []).append(key)
    for days in chunks(by_day):
        existing = {
            (row.day, row.metric, row.channel, row.agency, row.language): row
            for row in session.scalars(select(DailyCount).where(DailyCount.day.in_(days)))
        }
        for day in days:
            for key in by_day[day]:
                row = existing.get(key)
                if row is None:
                    session.add(
                        DailyCount(
                            day=key[0],
                            metric=key[1],
                            channel=key[2],
                            agency=key[3],
                            language=key[4],
                            value=counts[key],
                        )
                    )
                else:
                    row.value = (row.value or 0) + counts[key]
    session.flush()
