"""Tables: conversations, the durable inbox of citizen messages, and the outbox of replies.

One message's life: an InboundMessage is committed (unique per channel + provider message id) before
the channel acknowledges it; the worker turns it into OutboundMessages; both carry a `seq` from their
conversation's counter, so the transcript is one ordered list.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    """Now, in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Base of every table."""


class Conversation(Base):
    """One citizen on one channel (a web-chat session, a phone number, a chat id)."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # "<channel>:<address>"
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(160))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # The citizen's last message: Messenger and WhatsApp only allow replies within a window after it.
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    # Which app replica is taking this conversation's turns, until when (one turn at a time, across replicas).
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InboundMessage(Base):
    """A citizen's message, stored before it is acknowledged; processed once, in order."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_message_id", name="uq_inbound_provider_id"),
        Index("ix_inbound_status_conversation", "status", "conversation_id", "seq"),
        Index("ix_inbound_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    provider_message_id: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # What the citizen saw themselves send, when `text` is a button payload (e.g. the button's label).
    title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OutboundMessage(Base):
    """A message to the citizen (bot reply or service notice), in transcript order, with its delivery.

    Web chat delivers through the socket and the transcript, so its rows are born "sent"; provider
    channels start "pending" and the outbox sender moves them to sent, suppressed (opted out),
    refused (outside the channel's reply window) or dead (failed for good).
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_conversation_seq", "conversation_id", "seq"),
        Index("ix_outbound_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), nullable=True)
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16), default="bot")  # bot | agent | system
    kind: Mapped[str] = mapped_column(String(16), default="reply")  # reply | notice
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(
        String(16), default="sent"
    )  # pending|sent|suppressed|refused|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    provider_message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OptOut(Base):
    """A citizen who texted STOP on a channel: nothing more is sent there until they text START."""

    __tablename__ = "opt_outs"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    address: Mapped[str] = mapped_column(String(160), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Agent(Base):
    """A contact-centre account: an agent, a supervisor or an admin (`govbot agents add`)."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="agent")  # agent | supervisor | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Presence: the console's heartbeat; an agent silent past the heartbeat timeout is offline and their
    # conversations go back to the queue.
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

    Life: (after_hours →) waiting → offered → assigned → resolved; or cancelled (the citizen left) or
    abandoned (the citizen went silent). An offer not accepted in time, or an agent who goes offline,
    puts it back to waiting with its `enqueued_at` unchanged, so it keeps its place. A ticket is a
    request left outside opening hours (a message and a callback number): it waits with the others and
    sorts first.
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
    # After resolve the bot asks for a 1-5 rating; the next message is read as one while this is set.
    rating_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Append-only log of what people did in the console (login, claim, reply, transfer, resolve...)."""

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


class Turn(Base):
    """What the bot did with one citizen question (analytics): answered an FAQ, offered choices, had no
    answer, or handed off. The question is stored redacted. Unanswered questions get a knowledge-gap
    cluster (`cluster_id`), assigned in the background."""

    __tablename__ = "turns"
    __table_args__ = (
        Index("ix_turns_at", "at"),
        Index("ix_turns_outcome_at", "outcome", "at"),
        Index("ix_turns_cluster_at", "cluster_id", "at"),
        Index("ix_turns_faq_at", "faq_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    inbound_id: Mapped[int | None] = mapped_column(
        Integer, unique=True, nullable=True
    )  # a retried turn: once
    conversation_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="en")
    outcome: Mapped[str] = mapped_column(String(16))  # answered | clarify | no_answer | handoff
    faq_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    question: Mapped[str | None] = mapped_column(Text, nullable=True)
    cluster_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clustered: Mapped[bool] = mapped_column(Boolean, default=False)
    # "Did this help?" was asked after this answer and not yet answered.
    feedback_pending: Mapped[bool] = mapped_column(Boolean, default=False)


class Feedback(Base):
    """A citizen's verdict: "did this help?" on a bot answer (value 1 or 0), or a 1-5 satisfaction rating
    after an agent resolved their conversation (with an optional comment, redacted)."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # helpful | satisfaction
    value: Mapped[int] = mapped_column(Integer)
    conversation_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="en")
    faq_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    turn_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    handoff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)


class GapCluster(Base):
    """A group of unanswered questions that mean the same thing: a to-do item for writing an FAQ."""

    __tablename__ = "gap_clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    language: Mapped[str] = mapped_column(String(8), default="en")
    label: Mapped[str] = mapped_column(Text)  # its first question (redacted)
    size: Mapped[int] = mapped_column(Integer, default=0)
    centroid: Mapped[bytes] = mapped_column(LargeBinary)  # float32 vector, normalised


class Alert(Base):
    """An emerging issue: a group of questions (an FAQ's, or a knowledge gap's) growing much faster than
    usual. One alert per surge: it stays open (and silent) until the group calms down."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_group_open", "group_key", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    group_key: Mapped[str] = mapped_column(String(140))  # "faq:<id>" | "gap:<cluster id>"
    label: Mapped[str] = mapped_column(Text)
    window: Mapped[str] = mapped_column(String(8))  # hour | day
    count: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    webhook_status: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email_status: Mapped[str | None] = mapped_column(String(200), nullable=True)


class DailyCount(Base):
    """Counts per day that outlive the retention period: purged rows are added up here first."""

    __tablename__ = "daily_counts"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(
        String(32), primary_key=True
    )  # messages | turns_<outcome> | handoffs ...
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" when none
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
