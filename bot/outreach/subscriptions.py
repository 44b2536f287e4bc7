"""Citizens' subscriptions to topics, and the consent behind each.

On SMS a request stays `pending` until the citizen answers YES / OUI (double opt-in, within
CONFIRM_WINDOW); on Telegram and Messenger the citizen's own keyword or button is the consent. Each
row keeps what the citizen was shown, in which language, on which channel and when they confirmed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from bot.clock import Clock, system_clock
from bot.storage.db import Database
from bot.storage.models import Subscription

CONFIRM_WINDOW = dt.timedelta(hours=24)


class Subscriptions:
    """Subscribe, confirm, unsubscribe; who is subscribed."""

    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock

    def request(
        self,
        channel: str,
        address: str,
        topic: str,
        *,
        language: str,
        wording: str,
        timezone: str,
        double_opt_in: bool,
    ) -> str:
        """Ask for `topic`: "pending" (confirm first), "active", or "already" (no change)."""
        now = self._clock()
        state = "pending" if double_opt_in else "active"
        with self._db.session() as session:
            row = session.scalar(
                select(Subscription).where(
                    Subscription.channel == channel,
                    Subscription.address == address,
                    Subscription.topic == topic,
                )
            )
            if row is not None and row.state == "active":
                return "already"
            if row is None:
                row = Subscription(channel=channel, address=address, topic=topic)
                session.add(row)
            row.state, row.language, row.wording, row.timezone = state, language, wording, timezone
            row.requested_at, row.removed_at, row.removed_reason = now, None, None
            row.confirmed_at = None if double_opt_in else now
            session.commit()
            return state

    def has_pending(self, channel: str, address: str) -> bool:
        """True when a request awaits the citizen's YES."""
        since = self._clock() - CONFIRM_WINDOW
        with self._db.session() as session:
            return (
                session.scalar(
                    select(Subscription.id)
                    .where(
                        Subscription.channel == channel,
                        Subscription.address == address,
                        Subscription.state == "pending",
                        Subscription.requested_at >= since,
                    )
                    .limit(1)
                )
                is not None
            )

    def confirm(self, channel: str, address: str) -> list[str]:
        """The citizen said YES: their recent pending requests become active; their topics."""
        now = self._clock()
        with self._db.session() as session:
            rows = session.scalars(
                select(Subscription).where(
                    Subscription.channel == channel,
                    Subscription.address == address,
                    Subscription.state == "pending",
                    Subscription.requested_at >= now - CONFIRM_WINDOW,
                )
            ).all()
            for row in rows:
                row.state, row.confirmed_at = "active", now
            session.commit()
            return sorted(row.topic for row in rows)

    def remove(self, channel: str, address: str, topic: str | None, reason: str) -> list[str]:
        """End one topic's subscription (or all of them when `topic` is None); the topics
        ended."""
        conditions = [
            Subscription.channel == channel,
            Subscription.address == address,
            Subscription.state != "removed",
        ]
        if topic is not None:
            conditions.append(Subscription.topic == topic)
        with self._db.session() as session:
            topics = session.scalars(select(Subscription.topic).where(*conditions)).all()
            session.execute(
                update(Subscription)
                .where(*conditions)
                .values(state="removed", removed_at=self._clock(), removed_reason=reason)
            )
            session.commit()
            return sorted(topics)

    def active_topics(self, channel: str, address: str) -> list[str]:
        with self._db.session() as session:
            return sorted(
                session.scalars(
                    select(Subscription.topic).where(
                        Subscription.channel == channel,
                        Subscription.address == address,
                        Subscription.state == "active",
                    )
                )
            )
