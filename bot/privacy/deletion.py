"""Deleting the chosen rows in one write transaction: counts first, then children before parents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session

from bot.privacy.daily_counts import add_daily_counts
from bot.privacy.doomed import Doomed, chunks
from bot.storage.db import rowcount
from bot.storage.models import (
    Conversation,
    Feedback,
    Handoff,
    InboundMessage,
    OutboundMessage,
    Turn,
)

PURGE_LOCK = 7318202  # PostgreSQL advisory lock: one purge at a time across replicas
# The order in which the counts are reported (and tables emptied: children before parents).
TABLES = ("conversations", "inbound_messages", "outbound_messages", "handoffs", "turns", "feedback")


def begin(session: Session) -> None:
    """Start the write transaction: on SQLite take the write lock now (what is counted is what is
    deleted) and zero what is deleted; on PostgreSQL, one purge or erase at a time."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA secure_delete=ON")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PURGE_LOCK})


def delete_doomed(session: Session, doomed: Doomed) -> dict[str, int]:
    """Add the counts to `daily_counts`, then delete the rows, children first; returns rows per
    table."""
    add_daily_counts(session, doomed.counts)
    removed = dict.fromkeys(TABLES, 0)

    def remove(table: str, column: Any, ids: set[Any]) -> None:
        for chunk in chunks(ids):
            removed[table] += rowcount(
                session.execute(delete(column.class_).where(column.in_(chunk)))
            )

    remove("outbound_messages", OutboundMessage.id, doomed.outbound)
    remove("handoffs", Handoff.id, doomed.handoffs)
    # A kept reply or hand-off may point at a message that goes: it loses the link, not its life.
    for chunk in chunks(doomed.inbound):
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.inbound_id.in_(chunk))
            .values(inbound_id=None)
        )
        session.execute(
            update(Handoff).where(Handoff.inbound_id.in_(chunk)).values(inbound_id=None)
        )
    remove("inbound_messages", InboundMessage.id, doomed.inbound)
    remove("turns", Turn.id, doomed.turns)
    remove("feedback", Feedback.id, doomed.feedback)
    remove("conversations", Conversation.id, doomed.conversations)
    return removed
