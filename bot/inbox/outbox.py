"""The outbox of provider channels: claim what is due, record what happened, list and
replay the dead.

Rows of one conversation go out in transcript order: a row is due only when no earlier row of its
conversation is still pending. A claim is a short lease on the row (`claimed_by`, `claimed_until`)
taken with a conditional UPDATE, so two replicas never send the same row, and a crashed sender's
claim expires and the row is sent again.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from bot.clock import Clock, system_clock
from bot.storage.db import Database, rowcount
from bot.storage.models import (
    REPLY_KINDS,
    Broadcast,
    BroadcastDelivery,
    Conversation,
    InboundMessage,
    OptOut,
    OutboundMessage,
    Subscription,
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One claimed outbound message and where it goes."""

    id: int
    channel: str
    address: str
    text: str
    buttons: list[dict[str, str]]
    sender: str
    kind: str
    attempts: int
    last_inbound_at: dt.datetime | None
    # A broadcast copy whose earlier claim expired without a result: the process sending it died,
    # and the provider may have it already.
    in_doubt: bool = False
    queued_at: dt.datetime | None = None
    # Read with a broadcast copy's claim, so that a send needs no more queries: the citizen's
    # opt-out (None: not read), and whether the subscription it was queued for has ended since.
    opted_out: bool | None = None
    unsubscribed: bool = False
    template: str | None = None  # a broadcast's WhatsApp template in the subscriber's language


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that failed for good: `in-<id>` (citizen message) or `out-<id>` (reply)."""

    ref: str
    conversation_id: str
    text: str
    attempts: int
    error: str | None


def backoff_s(attempts: int, base_s: float = 1.0, cap_s: float = 300.0) -> float:
    """Exponential backoff with jitter: about 1, 2, 4 ... seconds, at most `cap_s`."""
    return min(cap_s, base_s * 2 ** max(attempts - 1, 0)) * random.uniform(0.8, 1.2)


def _as_utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def _delivery(row: OutboundMessage, conversation: Conversation, **extra: Any) -> Delivery:
    return Delivery(
        row.id,
        conversation.channel,
        conversation.address,
        row.text,
        list(row.buttons or []),
        row.sender,
        row.kind,
        row.attempts,
        _as_utc(conversation.last_inbound_at),
        **extra,
    )


class Outbox:
    """Delivery state of provider-channel replies."""

    def __init__(
        self, db: Database, owner: str, claim_s: float = 60.0, clock: Clock = system_clock
    ) -> None:
        self._db = db
        self._clock = clock
        self._owner = owner
        self._claim_s = claim_s

    def claim_due(self, limit: int = 50) -> list[Delivery]:
        """Claim up to `limit` due rows, at most one per conversation (the earliest pending one)."""
        now = self._clock()
        earlier = aliased(OutboundMessage)
        # Broadcast copies neither wait for nor hold back the conversation's replies: they have
        # their own pace (quiet hours, the channel's rate; `claim_broadcasts`).
        blocked = exists().where(
            earlier.conversation_id == OutboundMessage.conversation_id,
            earlier.status == "pending",
            earlier.kind != "broadcast",
            earlier.seq < OutboundMessage.seq,
        )
        with self._db.session() as session:
            candidates = (
                session.execute(
                    select(OutboundMessage.id)
                    .where(
                        OutboundMessage.kind.in_(REPLY_KINDS),
                        OutboundMessage.status == "pending",
                        or_(
                            OutboundMessage.next_attempt_at.is_(None),
                            OutboundMessage.next_attempt_at <= now,
                        ),
                        or_(
                            OutboundMessage.claimed_until.is_(None),
                            OutboundMessage.claimed_until < now,
                        ),
                        ~blocked,
                    )
                    .order_by(OutboundMessage.id)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
            claimed: list[Delivery] = []
            for row_id in candidates:
                taken = rowcount(
                    session.execute(
                        update(OutboundMessage)
                        .where(
                            OutboundMessage.id == row_id,
                            OutboundMessage.status == "pending",
                            or_(
                                OutboundMessage.claimed_until.is_(None),
                                OutboundMessage.claimed_until < now,
                            ),
                        )
                        .values(
                            claimed_by=self._owner,
                            claimed_until=now + dt.timedelta(seconds=self._claim_s),
                        )
                    )
                )
                session.commit()
                if not taken:
                    continue
                row, conversation = session.execute(
                    select(OutboundMessage, Conversation)
                    .join(Conversation, Conversation.id == OutboundMessage.conversation_id)
                    .where(OutboundMessage.id == row_id)
                ).one()
                claimed.append(_delivery(row, conversation))
            return claimed

    def claim_broadcasts(self, channel: str, limit: int) -> list[Delivery]:
        """Claim up to `limit` due broadcast copies on `channel` in one statement."""
        if limit <= 0:
            return []
        now = self._clock()
        until = now + dt.timedelta(seconds=self._claim_s)
        free = or_(OutboundMessage.claimed_until.is_(None), OutboundMessage.claimed_until < now)
        with self._db.session() as session:
            candidates = session.execute(
                select(OutboundMessage.id, OutboundMessage.claimed_by)
                .where(
                    OutboundMessage.kind == "broadcast",
                    OutboundMessage.status == "pending",
                    OutboundMessage.channel == channel,
                    OutboundMessage.next_attempt_at <= now,
                    free,
                )
                .order_by(OutboundMessage.next_attempt_at)  # the index's order: no sort
                .limit(limit)
            ).all()
            if not candidates:
                return []
            doubtful = {row_id for row_id, owner in candidates if owner is not None}
            session.execute(
                update(OutboundMessage)
                .where(
                    OutboundMessage.id.in_([row_id for row_id, _ in candidates]),
                    OutboundMessage.status == "pending",
                    free,
                )
                .values(claimed_by=self._owner, claimed_until=until)
            )
            session.commit()
            rows = session.execute(
                select(
                    OutboundMessage,
                    Conversation,
                    OptOut.opted_out,
                    Subscription.state,
                    Subscription.language,
                    Broadcast.whatsapp_template_en,
                    Broadcast.whatsapp_template_fr,
                )
                .join(Conversation, Conversation.id == OutboundMessage.conversation_id)
                .outerjoin(
                    OptOut,
                    and_(
                        OptOut.channel == Conversation.channel,
                        OptOut.address == Conversation.address,
                    ),
                )
                .outerjoin(BroadcastDelivery, BroadcastDelivery.outbound_id == OutboundMessage.id)
                .outerjoin(Subscription, Subscription.id == BroadcastDelivery.subscription_id)
                .outerjoin(Broadcast, Broadcast.id == BroadcastDelivery.broadcast_id)
                .where(
                    OutboundMessage.id.in_([row_id for row_id, _ in candidates]),
                    OutboundMessage.claimed_by == self._owner,
                    OutboundMessage.claimed_until == until,
                )
                .order_by(OutboundMessage.id)
            ).all()
            return [
                _delivery(
                    row,
                    conversation,
                    in_doubt=row.id in doubtful,
                    queued_at=_as_utc(row.created_at),
                    opted_out=bool(opted_out),
                    unsubscribed=state != "active",
                    template=(template_fr if language == "fr" else None) or template_en,
                )
                for row, conversation, opted_out, state, language, template_en, template_fr in rows
            ]

    def sent_many(self, sent: list[tuple[int, str]]) -> None:
        """Several rows the provider accepted, in one transaction: (row id, provider id)."""
        if not sent:
            return
        now = self._clock()
        table = cast(Table, OutboundMessage.__table__)
        with self._db.session() as session:
            session.connection().execute(  # Core: one executemany
                update(table)
                .where(table.c.id == bindparam("row_id"), table.c.claimed_by == self._owner)
                .values(
                    status="sent",
                    provider_message_id=bindparam("provider_id"),
                    sent_at=now,
                    claimed_by=None,
                    claimed_until=None,
                ),
                [{"row_id": row_id, "provider_id": provider_id} for row_id, provider_id in sent],
            )
            session.commit()

    def delivery_report(self, provider_message_id: str, status: str) -> bool:
        """The provider's later word on a sent message (delivered, failed...); False when no row
        has that id."""
        with self._db.session() as session:
            changed = session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.provider_message_id == provider_message_id)
                .values(delivery_status=status[:16])
            )
            session.commit()
            return bool(rowcount(changed))

    def _finish(self, row_id: int, **values: object) -> None:
        with self._db.session() as session:
            session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == row_id, OutboundMessage.claimed_by == self._owner)
                .values(claimed_by=None, claimed_until=None, **values)
            )
            session.commit()

    def sent(self, row_id: int, provider_message_id: str) -> None:
        """The provider accepted the message."""
        self._finish(
            row_id, status="sent", provider_message_id=provider_message_id, sent_at=self._clock()
        )

    def withheld(self, row_id: int, status: str, reason: str) -> None:
        """Not sent on purpose: `suppressed` (opted out) or `refused` (outside the reply window)."""
        self._finish(row_id, status=status, last_error=reason)

    def failed(
        self,
        row_id: int,
        error: str,
        retryable: bool,
        retry_after: float | None,
        max_attempts: int,
        attempts: int,
    ) -> None:
        """A failed attempt: retry later with backoff, or dead-letter it."""
        attempts += 1
        if not retryable or attempts >= max_attempts:
            self._finish(row_id, status="dead", attempts=attempts, last_error=error[:500])
            return
        delay = max(backoff_s(attempts), retry_after or 0.0)
        self._finish(
            row_id,
            attempts=attempts,
            last_error=error[:500],
            next_attempt_at=self._clock() + dt.timedelta(seconds=delay),
        )

    def status_counts(self) -> dict[str, int]:
        """How many outbound rows are in each delivery state."""
        with self._db.session() as session:
            rows = session.execute(
                select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
            )
            return {status: int(count) for status, count in rows}

    # -- dead letters ---------------------------------------------------------------------
    def dead(self) -> list[DeadLetter]:
        """Every dead citizen message and dead reply, oldest first."""
        with self._db.session() as session:
            inbound = session.scalars(
                select(InboundMessage)
                .where(InboundMessage.status == "dead")
                .order_by(InboundMessage.id)
            )
            letters = [
                DeadLetter(f"in-{m.id}", m.conversation_id, m.text, m.attempts, m.last_error)
                for m in inbound
            ]
            outbound = session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.status == "dead")
                .order_by(OutboundMessage.id)
            )
            letters += [
                DeadLetter(f"out-{m.id}", m.conversation_id, m.text, m.attempts, m.last_error)
                for m in outbound
            ]
            return letters

    def retry(self, ref: str) -> bool:
        """Put a dead message back in line; False when `ref` names no dead message."""
        kind, _, number = ref.partition("-")
        if kind not in ("in", "out") or not number.isdigit():
            return False
        model = InboundMessage if kind == "in" else OutboundMessage
        values: dict[str, object] = {"status": "pending", "attempts": 0}
        if kind == "out":
            values.update(next_attempt_at=self._clock(), claimed_by=None, claimed_until=None)
        with self._db.session() as session:
            result = session.execute(
                update(model)
                .where(and_(model.id == int(number), model.status == "dead"))
                .values(**values)
            )
            session.commit()
            return bool(rowcount(result))
