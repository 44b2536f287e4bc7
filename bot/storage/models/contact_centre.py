"""Tables of the contact centre: agents and their console logins, hand-offs to a person, the
audit log of what people did in the console, and the login throttle's counters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, utcnow


class Agent(Base):
    """A contact-centre account: an agent, a supervisor or an admin (`govbot agents add`)."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="agent")  # agent | supervisor | admin
    # Where the knowledge studio's weekly reminder of the account's stale FAQs goes (optional).
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Presence: the console's heartbeat; an agent silent past the heartbeat timeout is offline and
    # their conversations go back to the queue.
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AgentSession(Base):
    """A console login: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "agent_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Handoff(Base):
    """One request of a citizen for a person, from the hand-off to its end.

    Life: (after_hours →) waiting → offered → assigned → resolved; or cancelled (the citizen left)
    or abandoned (the citizen went silent). An offer not accepted in time, or an agent who goes
    offline, puts it back to waiting with its `enqueued_at` unchanged, so it keeps its place. A
    ticket is a request left outside opening hours (a message and a callback number): it waits
    with the others and sorts first.
    """

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_queue_order", "status", "queue_id", "priority", "enqueued_at"),
        Index("ix_handoffs_conversation_status", "conversation_id", "status"),
        Index("ix_handoffs_agent_status", "agent_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    # The citizen message that led to it: a retried turn finds the hand-off it already made.
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id"), unique=True, nullable=True
    )
    queue_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher first; urgent topics use 100
    ticket: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(32))  # requested | unsure | not_helpful | urgent
    question: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    channel: Mapped[str] = mapped_column(String(32))
    enqueued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    offered_until: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # What the citizen was last told (position, minutes), so updates go out only on a real change.
    told_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    told_wait_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Tickets: kept only until the request is resolved, then cleared.
    callback_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    ticket_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    # After resolve the bot asks for a 1-5 rating; the next message is read as one while it is set.
    rating_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Append-only log of what people did in the console (login, claim, reply, transfer,
    resolve...)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    handoff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LoginAttempt(Base):
    """A run of console login attempts for one key: an (account, address) pair or an address.

    The key is a SHA-256 of the typed username and the address, so neither a citizen-facing IP nor
    a password typed into the username field is kept. Times are epoch seconds, so that the one
    conditional UPDATE that reserves an attempt does its arithmetic the same way in SQLite and
    PostgreSQL (bot/handoff/login_throttle.py).
    """

    __tablename__ = "login_attempts"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # account | address
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # in this run, checks in flight too
    last_at: Mapped[float] = mapped_column(Float)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)
    delay_s: Mapped[float] = mapped_column(Float)  # the wait the next block will impose
