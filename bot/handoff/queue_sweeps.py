"""The contact-centre queue's sweeps, run by every replica; each move is a compare-and-set, so it
happens once however many replicas race for it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, or_, select, update

from bot.handoff.queue_reads import ACTIVE, WITH_AGENT, QueueReads
from bot.storage.db import rowcount
from bot.storage.models import Agent, Conversation, Handoff


class QueueSweeps(QueueReads):
    """Expired offers, offline agents, abandoned requests, urgent bumps and agents' presence."""

    # -- sweeps (every replica runs them; compare-and-set makes each move happen once) -------------
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
        """Conversations of agents whose console went silent go back to their place; (hand-off,
        whether the agent had accepted it, so the citizen was talking to someone)."""
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
            return bool(rowcount(result))

    def abandon(self, silent_s: float) -> list[Handoff]:
        """Close hand-offs whose citizen has been silent for `silent_s` since joining (or since the
        agent took them)."""
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

    def _sweep(self, conditions: list[ColumnElement[bool]], **values: object) -> list[Handoff]:
        with self._db.session() as session:
            ids = list(session.scalars(select(Handoff.id).where(*conditions)))
            moved = []
            for handoff_id in ids:
                # Re-check the conditions in the UPDATE: whoever moves a row first wins it.
                result = session.execute(
                    update(Handoff).where(Handoff.id == handoff_id, *conditions).values(**values)
                )
                if rowcount(result):
                    moved.append(handoff_id)
            session.commit()
            return [row for row in (session.get(Handoff, i) for i in moved) if row is not None]

    # -- agents' presence --------------------------------------------------------------------------
    def heartbeat(self, agent_id: int) -> None:
        with self._db.session() as session:
            session.execute(
                update(Agent).where(Agent.id == agent_id).values(last_seen_at=self.now())
            )
            session.commit()
