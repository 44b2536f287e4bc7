"""The fan-out: an approved broadcast becomes one outbox row per active subscriber.

Batches of subscriptions, in id order, each one transaction: the outbox rows, their delivery rows
(unique per broadcast and subscription) and the broadcast's cursor, moved by compare-and-set. A
process killed mid-way leaves whole batches only; the next pass, on any replica, goes on from the
cursor, so each subscriber is queued exactly once. The outbox sender then delivers them
(bot/conversation/sender.py), throttled per channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.clock import Clock, system_clock
from bot.inbox.bulk import Unasked, queue_unasked
from bot.inbox.quiet_hours import QuietHours
from bot.storage.db import Database, rowcount
from bot.storage.models import (
    Broadcast,
    BroadcastDelivery,
    Subscription,
)

log = logging.getLogger(__name__)


class FanOut:
    """Queues approved broadcasts into the outbox, a batch at a time."""

    def __init__(
        self,
        db: Database,
        quiet: QuietHours = QuietHours(),
        batch: int = 500,
        clock: Clock = system_clock,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._quiet = quiet
        self._batch = batch
        self._clock = clock
        self._wake = wake  # called after a batch is queued (the sender's wake-up)

    def due(self) -> list[int]:
        """Approved broadcasts whose time has come, oldest first."""
        with self._db.session() as session:
            return list(
                session.scalars(
                    select(Broadcast.id)
                    .where(Broadcast.state == "approved", Broadcast.send_at <= self._clock())
                    .order_by(Broadcast.id)
                )
            )

    def step(self, broadcast_id: int) -> int:
        """Queue the next batch of one broadcast; how many rows were queued (0: it is done, or
        another replica moved its cursor first)."""
        now = self._clock()
        with self._db.session() as session:
            broadcast = session.get(Broadcast, broadcast_id)
            if broadcast is None or broadcast.state != "approved":
                return 0
            cursor = broadcast.cursor
            subscribers = session.execute(
                select(
                    Subscription.id,
                    Subscription.channel,
                    Subscription.address,
                    Subscription.language,
                    Subscription.timezone,
                )
                .where(
                    Subscription.topic == broadcast.topic,
                    Subscription.state == "active",
                    Subscription.id > cursor,
                )
                .order_by(Subscription.id)
                .limit(self._batch)
            ).all()
            if not subscribers:
                done = session.execute(
                    update(Broadcast)
                    .where(Broadcast.id == broadcast_id, Broadcast.cursor == cursor)
                    .values(state="sent", fanned_out_at=now)
                )
                session.commit()
                if rowcount(done):
                    log.info("broadcast %s: every subscriber is queued", broadcast_id)
                return 0
            # Take the batch first (compare-and-set): a second replica on the same batch stops
            # here instead of queueing it again.
            moved = session.execute(
                update(Broadcast)
                .where(
                    Broadcast.id == broadcast_id,
                    Broadcast.cursor == cursor,
                    Broadcast.state == "approved",
                )
                .values(cursor=subscribers[-1].id)
            )
            if not rowcount(moved):
                session.rollback()
                return 0
            holds = [
                None if broadcast.urgent else self._quiet.held_until(now, s.timezone)
                for s in subscribers
            ]
            outbound_ids = queue_unasked(
                session,
                [
                    Unasked(
                        s.channel,
                        s.address,
                        (broadcast.text_fr if s.language == "fr" else None) or broadcast.text_en,
                        "broadcast",
                        hold or now,
                    )
                    for s, hold in zip(subscribers, holds, strict=True)
                ],
                now,
            )
            session.execute(
                insert(BroadcastDelivery),
                [
                    {
                        "broadcast_id": broadcast_id,
                        "subscription_id": s.id,
                        "outbound_id": outbound_id,
                        "channel": s.channel,
                        "held_until": hold,
                    }
                    for s, hold, outbound_id in zip(subscribers, holds, outbound_ids, strict=True)
                ],
            )
            session.commit()
            return len(outbound_ids)

    def run_once(self) -> int:
        """Queue one batch of every due broadcast; how many rows were queued."""
        queued = 0
        for broadcast_id in self.due():
            try:
                queued += self.step(broadcast_id)
            except (IntegrityError, OperationalError) as exc:
                # a conversation created meanwhile, a lock: the batch was rolled back whole
                log.warning("broadcast %s: batch retried (%s)", broadcast_id, type(exc).__name__)
        if queued and self._wake is not None:
            self._wake()
        return queued

    async def run(self, interval_s: float, stop: asyncio.Event) -> None:
        """Queue batches until `stop` is set; at full speed while there is work."""
        while not stop.is_set():
            try:
                queued = await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("fan-out pass failed")
                queued = 0
            if queued:
                await asyncio.sleep(0)
                continue
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except TimeoutError:
                pass
