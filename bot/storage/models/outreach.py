"""Tables of outreach: topics citizens subscribe to, their subscriptions (with the consent they
gave), broadcasts (written by one supervisor, approved by another) and each broadcast's deliveries.

A broadcast reaches a subscriber as an OutboundMessage of kind "broadcast" in the subscriber's
conversation; its BroadcastDelivery row is unique per broadcast and subscription, and both are
written in one transaction, so a fan-out that dies half-way and starts again gives nobody a second
copy.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
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


class Topic(Base):
    """What citizens may subscribe to (service disruptions, deadlines...); `general` always
    exists."""

    __tablename__ = "outreach_topics"

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_fr: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Subscription(Base):
    """One citizen (channel + address) on one topic, with the consent they gave.

    `state`: pending (SMS: asked to confirm with YES/OUI), active, or removed. Consent is what was
    shown (`wording`), in which language, on which channel, and when it was confirmed.
    """

    __tablename__ = "outreach_subscriptions"
    __table_args__ = (
        UniqueConstraint("channel", "address", "topic", name="uq_subscription_citizen_topic"),
        Index("ix_subscription_topic_state", "topic", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(160))
    topic: Mapped[str] = mapped_column(ForeignKey("outreach_topics.slug"))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64))
    wording: Mapped[str] = mapped_column(Text)  # the consent text the citizen was shown
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    removed_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)


class Broadcast(Base):
    """A message to every active subscriber of a topic.

    `state`: awaiting_approval → approved (fan-out runs from `send_at`) → sent (every delivery is
    in the outbox), or cancelled. `cursor` is the last subscription id fanned out.
    """

    __tablename__ = "outreach_broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(ForeignKey("outreach_topics.slug"))
    text_en: Mapped[str] = mapped_column(Text)
    text_fr: Mapped[str | None] = mapped_column(Text, nullable=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Approved WhatsApp templates (Twilio Content SIDs) for copies outside the 24-hour window.
    whatsapp_template_en: Mapped[str | None] = mapped_column(String(34), nullable=True)
    whatsapp_template_fr: Mapped[str | None] = mapped_column(String(34), nullable=True)
    state: Mapped[str] = mapped_column(String(24), default="awaiting_approval")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    send_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    fanned_out_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class BroadcastDelivery(Base):
    """One broadcast to one subscription: the outbox row that carries it (its status is the
    delivery's), or why it was not queued."""

    __tablename__ = "outreach_deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "subscription_id", name="uq_delivery_once"),
        Index("ix_delivery_outbound", "outbound_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("outreach_broadcasts.id"))
    # No foreign key: erasure removes the subscription and the outbox row, the count stays.
    subscription_id: Mapped[int] = mapped_column(Integer)
    outbound_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channel: Mapped[str] = mapped_column(String(32))
    held_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Claim(Base):
    """A false claim going around (the misinformation register): the alert that revealed it, the
    FAQ that corrects it and the broadcast that spread the correction, with when each came."""

    __tablename__ = "outreach_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claim: Mapped[str] = mapped_column(Text)  # written by staff, in their words
    alert_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    faq_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    corrected_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("outreach_broadcasts.id"), nullable=True
    )
    broadcast_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
