"""The contact-centre queue in the database: enqueue, atomic claims, and every move a hand-off makes.

Order of service: priority (urgent first), then tickets left outside opening hours, then first come.
Claims are one UPDATE whose target is chosen by a sub-select: on PostgreSQL the sub-select takes
`FOR UPDATE SKIP LOCKED`, so concurrent agents each get a different conversation without waiting on each
other; SQLite runs writers one at a time, so the same statement is atomic there too. Every other move
is a compare-and-set on the status (and the agent), so two replicas, two agents or a sweeper racing an
agent can never both win. Blocking calls: run them in a thread from async code.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import and_, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.models import Agent, Conversation, Handoff, utcnow

ACTIVE = ("after_hours", "waiting", "offered", "assigned")
WITH_AGENT = ("offered", "assigned")
ORDER = (Handoff.priority.desc(), Handoff.ticket.desc(), Handoff.enqueued_at, Handoff.id)


class QueueError(Exception):
    """A move that the hand-off's current state does not allow (someone else got there first)."""


@dataclass(frozen=True, slots=True)
class Moved:
    """A hand-off that a sweep moved, and why."""

    handoff: Handoff
    event: str  # requeued | abandoned | offer_expired


class HandoffQueue:
    """The `handoffs` table behind the moves of the contact centre."""

    def __init__(self, db: Database, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._db = db
        self.now = clock

    # -- reading -----------------------------------------------------------------------------------
    def get(self, handoff_id: int) -> Handoff | None:
        with self._db.session() as session:
            return session.get(Handoff, handoff_id)

    def active_for(self, conversation_id: str) -> Handoff | None:
        """The conversation's hand-off in progress (queued, after hours, or with an agent), if any."""
        with self._db.session() as session:
            return session.scalar(
                select(Handoff)
                .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(ACTIVE))
                .order_by(Handoff.id.desc())
                .limit(1)
            )

    def rating_pending_for(self, conversation_id: str) -> Handoff | None:
        """The resolved hand-off whose satisfaction rating the citizen was just asked for, if any."""
        with self._db.session() as session:
            return session.scalar(
                select(Handoff)
                .where(Handoff.conversation_id == conversation_id, Handoff.rating_pending.is_(True))
                .order_by(Handoff.id.desc())
                .limit(1)
            )

    def waiting(self, queue_ids: Iterable[str] | None = None, limit: int = 1000) -> list[Handoff]:
        """Waiting hand-offs in the order they will be served."""
        query = select(Handoff).where(Handoff.status == "waiting")
        if queue_ids is not None:
            query = query.where(Handoff.queue_id.in_(list(queue_ids)))
        with self._db.session() as session:
            return list(session.scalars(query.order_by(*ORDER).limit(limit)))

    def with_agent(self, agent_id: int | None = None) -> list[Handoff]:
        """Hand-offs offered to or assigned to an agent (one agent, or all)."""
        query = select(Handoff).where(Handoff.status.in_(WITH_AGENT))
        if agent_id is not None:
            query = query.where(Handoff.agent_id == agent_id)
        with self._db.session() as session:
            return list(session.scalars(query.order_by(Handoff.assigned_at, Handoff.id)))

    def position(self, handoff: Handoff) -> int | None:
        """1 for the next to be served in its queue; None unless waiting."""
        if handoff.status != "waiting":
            return None
        same_kind = Handoff.ticket.is_(bool(handoff.ticket))
        ahead = or_(
            Handoff.priority > handoff.priority,
            and_(Handoff.priority == handoff.priority, Handoff.ticket.is_(True))
            if not handoff.ticket
            else false(),
            and_(
                Handoff.priority == handoff.priority,
                same_kind,
                or_(
                    Handoff.enqueued_at < handoff.enqueued_at,
                    and_(Handoff.enqueued_at == handoff.enqueued_at, Handoff.id < handoff.id),
                ),
            ),
        )
        with self._db.session() as session:
            count = session.scalar(
                select(func.count())
                .select_from(Handoff)
                .where(Handoff.status == "waiting", Handoff.queue_id == handoff.queue_id, ahead)
            )
        return int(count or 0) + 1

    def handling_time_s(self, queue_id: str, default_s: float, last: int = 20) -> float:
        """Median time agents spent on the queue's last `last` resolved conversations."""
        with self._db.session() as session:
            rows = session.execute(
                select(Handoff.assigned_at, Handoff.ended_at)
                .where(
                    Handoff.queue_id == queue_id,
                    Handoff.status == "resolved",
                    Handoff.assigned_at.is_not(None),
                )
                .order_by(Handoff.ended_at.desc())
                .limit(last)
            ).all()
        spans = [(end - start).total_seconds() for start, end in rows if start and end]
        return statistics.median(spans) if spans else default_s

    def agents_online(self, heartbeat_timeout_s: float) -> list[Agent]:
        cutoff = self.now() - dt.timedelta(seconds=heartbeat_timeout_s)
        with self._db.session() as session:
            return list(
                session.scalars(
                    select(Agent)
                    .where(Agent.active.is_(True), Agent.last_seen_at >= cutoff)
                    .order_by(Agent.username)
                )
            )

    # -- the citizen's side -------------------------------------------------------------------------
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
        """Put the conversation in line; (hand-off, created). Idempotent: a conversation already in a
        hand-off, or a retried turn of the same message, gets the existing one back."""
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
        """An after-hours request becomes a ticket: it waits with the others, ahead of the first-come."""
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
        """Record what the citizen is being told (position, minutes) if it is still `told`: one replica wins."""
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
            return bool(result.rowcount)

    # -- the agent's side ---------------------------------------------------------------------------
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
            if not result.rowcount:
                raise QueueError(f"the conversation is {row.status} now")
            return row

    # -- sweeps (every replica runs them; compare-and-set makes each move happen once) ---------------
    def expire_offers(self) -> list[Handoff]:
        """Offers not accepted in time go back to their place."""
        now = self.now()
        return self._sweep(
            [Handoff.status == "offered", Handoff.offered_until < now],
            status="waiting",
            agent_id=None,
            offered_until=None,
            updated_at=now,
        )

    def requeue_offline(self, heartbeat_timeout_s: float) -> list[tuple[Handoff, bool]]:
        """Conversations of agents whose console went silent go back to their place; (hand-off, whether
        the agent had accepted it, so the citizen was talking to someone)."""
        now = self.now()
        cutoff = now - dt.timedelta(seconds=heartbeat_timeout_s)
        offline = select(Agent.id).where(
            or_(Agent.last_seen_at.is_(None), Agent.last_seen_at < cutoff)
        )
        moved = []
        for status in WITH_AGENT:
            rows = self._sweep(
                [Handoff.status == status, Handoff.agent_id.in_(offline)],
                status="waiting",
                agent_id=None,
                offered_until=None,
                assigned_at=None,
                updated_at=now,
            )
            moved += [(row, status == "assigned") for row in rows]
        return moved

    def bump(self, handoff_id: int, priority: int) -> bool:
        """Raise a waiting hand-off's priority (an urgent message while in line)."""
        with self._db.session() as session:
            result = session.execute(
                update(Handoff)
                .where(
                    Handoff.id == handoff_id,
                    Handoff.status.in_(("waiting", "after_hours")),
                    Handoff.priority < priority,
                )
                .values(priority=priority, status="waiting", reason="urgent", updated_at=self.now())
            )
            session.commit()
            return bool(result.rowcount)

    def abandon(self, silent_s: float) -> list[Handoff]:
        """Close hand-offs whose citizen has been silent for `silent_s` since joining (or since the agent
        took them)."""
        now = self.now()
        cutoff = now - dt.timedelta(seconds=silent_s)
        quiet = select(Conversation.id).where(
            or_(Conversation.last_inbound_at.is_(None), Conversation.last_inbound_at < cutoff)
        )
        return self._sweep(
            [
                Handoff.status.in_(ACTIVE),
                Handoff.ticket.is_(False),
                Handoff.enqueued_at < cutoff,
                or_(Handoff.assigned_at.is_(None), Handoff.assigned_at < cutoff),
                Handoff.conversation_id.in_(quiet),
            ],
            status="abandoned",
            ended_at=now,
            updated_at=now,
            callback_number=None,
        )

    def _sweep(self, conditions: list[object], **values: object) -> list[Handoff]:
        with self._db.session() as session:
            ids = list(session.scalars(select(Handoff.id).where(*conditions)))  # type: ignore[arg-type]
            moved = []
            for handoff_id in ids:
                # Re-check the conditions in the UPDATE: whoever moves a row first wins it.
                result = session.execute(
                    update(Handoff).where(Handoff.id == handoff_id, *conditions).values(**values)  # type: ignore[arg-type]
                )
                if result.rowcount:
                    moved.append(handoff_id)
            session.commit()
            return [row for row in (session.get(Handoff, i) for i in moved) if row is not None]

    # -- agents' presence ---------------------------------------------------------------------------
    def heartbeat(self, agent_id: int) -> None:
        with self._db.session() as session:
            session.execute(
                update(Agent).where(Agent.id == agent_id).values(last_seen_at=self.now())
            )
            session.commit()
