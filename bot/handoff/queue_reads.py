"""The contact-centre queue, read side: a conversation's active hand-off, the waiting list in order
of service, a citizen's place, recent handling times, the agents online."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable

from sqlalchemy import and_, false, func, or_, select

from bot.clock import Clock, system_clock
from bot.storage.db import Database
from bot.storage.models import Agent, Handoff

ACTIVE = ("after_hours", "waiting", "offered", "assigned")
WITH_AGENT = ("offered", "assigned")
ORDER = (Handoff.priority.desc(), Handoff.ticket.desc(), Handoff.enqueued_at, Handoff.id)


class QueueError(Exception):
    """A move that the hand-off's current state does not allow (someone else got there first)."""


class QueueReads:
    """Queries on the `handoffs` table (blocking: run them in a thread from async code)."""

    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self.now = clock

    def get(self, handoff_id: int) -> Handoff | None:
        with self._db.session() as session:
            return session.get(Handoff, handoff_id)

    def active_for(self, conversation_id: str) -> Handoff | None:
        """The conversation's hand-off in progress (queued, after hours, or with an
        agent), if any."""
        with self._db.session() as session:
            return session.scalar(
                select(Handoff)
                .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(ACTIVE))
                .order_by(Handoff.id.desc())
                .limit(1)
            )

    def rating_pending_for(self, conversation_id: str) -> Handoff | None:
        """The resolved hand-off whose satisfaction rating the citizen was just asked
        for, if any."""
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
