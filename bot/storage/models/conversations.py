"""Tables: conversations, the durable inbox of citizen messages, the outbox of replies, opt-outs.

One message's life: an InboundMessage is committed (unique per channel + provider message id)
before the channel acknowledges it; the worker turns it into OutboundMessages; both carry a `seq`
from their conversation's counter, so the transcript is one ordered list.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, utcnow

# The kinds of outbound message that go out in a conversation's transcript order.
REPLY_KINDS = ("reply", "notice", "compliance", "queue")


class Conversation(Base):
    """One citizen on one channel (a web-chat session, a phone number, a chat id)."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # "<channel>:<address>"
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(160))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # The citizen's last message: Messenger and WhatsApp only allow replies within a window after
    # it.
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    # Which app replica is taking this conversation's turns, until when (one turn at a time, across
    # replicas).
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
    # What the citizen saw themselves send, when `text` is a button payload (e.g. the button's
    # label).
    title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OutboundMessage(Base):
    """A message to the citizen (bot reply or service notice), in transcript order, with its
    delivery.

    Web chat delivers through the socket and the transcript, so its rows are born "sent"; provider
    channels start "pending" and the outbox sender moves them to sent, suppressed (opted out),
    refused (outside the channel's reply window) or dead (failed for good).
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_conversation_seq", "conversation_id", "seq"),
        Index("ix_outbound_status_due", "status", "next_attempt_at"),
        Index("ix_outbound_provider_id", "provider_message_id"),
        # Each claim reads its own range: replies by kind, broadcast copies by kind and channel.
        Index("ix_outbound_kind_due", "kind", "status", "channel", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), nullable=True)
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16), default="bot")  # bot | agent | system
    # reply | notice | compliance | queue (REPLY_KINDS, in transcript order) | broadcast (its own
    # pace)
    kind: Mapped[str] = mapped_column(String(16), default="reply")
    # Set on broadcast copies only (the conversation has it too): their claims, per channel, read
    # the index instead of joining every pending copy to its conversation.
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # pending | sent | suppressed | refused | dead
    status: Mapped[str] = mapped_column(String(16), default="sent")
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
    # What the provider later said (Twilio's signed status callbacks): delivered, undelivered,
    # failed...
    delivery_status: Mapped[str | None] = mapped_column(String(16), nullable=True)


class OptOut(Base):
    """A citizen who texted STOP on a channel: nothing more is sent there until they text START."""

    __tablename__ = "opt_outs"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    address: Mapped[str] = mapped_column(String(160), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
