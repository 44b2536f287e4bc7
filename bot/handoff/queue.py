"""The contact-centre queue in the database: enqueue, atomic claims, and every move a
hand-off makes.

Order of service: priority (urgent first), then tickets left outside opening hours, then first come.
Claims are one UPDATE whose target is chosen by a sub-select: on PostgreSQL the sub-select takes
`FOR UPDATE SKIP LOCKED`, so concurrent agents each get a different conversation without waiting on
each other; SQLite runs writers one at a time, so the same statement is atomic there too. Every
other move is a compare-and-set on the status (and the agent), so two replicas, two agents or a
sweeper racing an agent can never both win. Blocking calls: run them in a thread from async code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.handoff.queue_reads import ACTIVE, ORDER, QueueError
from bot.handoff.queue_sweeps import QueueSweeps
from bot.storage.db import rowcount
from bot.storage.models import Handoff

__all__ = ["ACTIVE", "HandoffQueue", "QueueError"]


class HandoffQueue(QueueSweeps):
    """The `handoffs` table behind the moves of the contact centre (reads and sweeps in the modules
    it builds on)."""

    # -- the citizen's side ------------------------------------------------------------------------
    def enqueue(
        self,
        conversation_id: str,
        channel: str,
        queue_id: str,
        reason: str,
        language: str,
        question: str | None = None,
        priority: int = 0,
        inbound_id: int | None = None,
        status: str = "waiting",
    ) -> tuple[Handoff, bool]:
        """Put the conversation in line; (hand-off, created). Idempotent: a conversation already in
        a hand-off, or a retried turn of the same message, gets the existing one back."""
        with self._db.session() as session:
            existing = self._existing(session, conversation_id, inbound_id)
            if existing is not None:
                return existing, False
            now = self.now()
            row = Handoff(
                conversation_id=conversation_id,
                inbound_id=inbound_id,
                queue_id=queue_id,
                status=status,
                priority=priority,
                reason=reason,
                question=question,
                language=language,
                channel=channel,
                enqueued_at=now,
                updated_at=now,
            )
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # the same turn, handled concurrently by another replica
                session.rollback()
                found = self._existing(session, conversation_id, inbound_id)
                if found is None:
                    raise
                return found, False
            return row, True

    @staticmethod
    def _existing(session: Session, conversation_id: str, inbound_id: int | None) -> Handoff | None:
        if inbound_id is not None:
            row = session.scalar(select(Handoff).where(Handoff.inbound_id == inbound_id))
            if row is not None:
                return row
        return session.scalar(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(ACTIVE))
            .limit(1)
        )

    def make_ticket(self, handoff_id: int, message: str, callback_number: str | None) -> Handoff:
        """An after-hours request becomes a ticket: it waits with the others, ahead of
        the first-come."""
        return self._move(
            handoff_id,
            {"after_hours"},
            status="waiting",
            ticket=True,
            ticket_message=message,
            callback_number=callback_number,
        )

    def cancel(self, handoff_id: int) -> Handoff:
        """The citizen left the queue (or opted out)."""
        return self._move(
            handoff_id, set(ACTIVE), status="cancelled", ended_at=self.now(), callback_number=None
        )

    def record_rating(self, handoff_id: int, score: int | None) -> None:
        """Store the citizen's 1-5 rating (None: they moved on without rating)."""
        with self._db.session() as session:
            session.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.rating_pending.is_(True))
                .values(rating=score, rating_pending=False)
            )
            session.commit()

    def tell(
        self, handoff_id: int, told: tuple[int | None, int | None], now_told: tuple[int, int]
    ) -> bool:
        """Record what the citizen is being told (position, minutes) if it is still `told`: one
        replica wins."""
        with self._db.session() as session:
            result = session.execute(
                update(Handoff)
                .where(
                    Handoff.id == handoff_id,
                    Handoff.status == "waiting",
                    Handoff.told_position.is_(None)
                    if told[0] is None
                    else Handoff.told_position == told[0],
                    Handoff.told_wait_min.is_(None)
                    if told[1] is None
                    else Handoff.told_wait_min == told[1],
                )
                .values(told_position=now_told[0], told_wait_min=now_told[1])
            )
            session.commit()
            return bool(rowcount(result))

    # -- the agent's side --------------------------------------------------------------------------
    def claim_next(
        self, agent_id: int, offer_s: float, queue_ids: Iterable[str] | None = None
    ) -> Handoff | None:
        """Offer the next waiting conversation to the agent, atomically; None when nobody waits."""
        now = self.now()
        head = select(Handoff.id).where(Handoff.status == "waiting")
        if queue_ids is not None:
            head = head.where(Handoff.queue_id.in_(list(queue_ids)))
        head = head.order_by(*ORDER).limit(1).with_for_update(skip_locked=True)
        with self._db.session() as session:
            claimed = session.scalar(
                update(Handoff)
                .where(Handoff.id == head.scalar_subquery(), Handoff.status == "waiting")
                .values(
                    status="offered",
                    agent_id=agent_id,
                    offered_until=now + dt.timedelta(seconds=offer_s),
                    updated_at=now,
                )
                .returning(Handoff.id)
            )
            session.commit()
            return session.get(Handoff, claimed) if claimed is not None else None

    def accept(self, handoff_id: int, agent_id: int) -> Handoff:
        now = self.now()
        return self._move(
            handoff_id,
            {"offered"},
            agent_id=agent_id,
            status="assigned",
            assigned_at=now,
            offered_until=None,
        )

    def decline(self, handoff_id: int, agent_id: int) -> Handoff:
        """Back to its place in the queue (its enqueued_at is unchanged)."""
        return self._move(
            handoff_id,
            {"offered", "assigned"},
            agent_id=agent_id,
            status="waiting",
            new_agent=None,
            offered_until=None,
            assigned_at=None,
        )

    def transfer(self, handoff_id: int, agent_id: int, queue_id: str) -> Handoff:
        """To another queue, keeping its original arrival time (it does not go to the back)."""
        return self._move(
            handoff_id,
            {"offered", "assigned"},
            agent_id=agent_id,
            status="waiting",
            new_agent=None,
            queue_id=queue_id,
            offered_until=None,
            assigned_at=None,
            told_position=None,
            told_wait_min=None,
        )

    def resolve(self, handoff_id: int, agent_id: int, disposition: str) -> Handoff:
        return self._move(
            handoff_id,
            {"assigned"},
            agent_id=agent_id,
            status="resolved",
            disposition=disposition,
            ended_at=self.now(),
            rating_pending=True,
            callback_number=None,
        )

    def _move(
        self,
        handoff_id: int,
        allowed: set[str],
        agent_id: int | None = None,
        new_agent: object = ...,
        **values: object,
    ) -> Handoff:
        """Compare-and-set: apply `values` only if the hand-off is in an `allowed` status (and, with
        `agent_id`, belongs to that agent). QueueError otherwise."""
        conditions = [Handoff.id == handoff_id, Handoff.status.in_(allowed)]
        if agent_id is not None:
            conditions.append(Handoff.agent_id == agent_id)
        if new_agent is not ...:
            values["agent_id"] = new_agent
        values["updated_at"] = self.now()
        with self._db.session() as session:
            result = session.execute(update(Handoff).where(*conditions).values(**values))
            session.commit()
            row = session.get(Handoff, handoff_id)
            if row is None:
                raise QueueError("no such hand-off")
            session.refresh(row)
            if not rowcount(result):
                raise QueueError(f"the conversation is {row.status} now")
            return row
