"""Tables of the insight dashboard: turns and feedback (analytics), knowledge-gap clusters,
emerging-issue alerts, and the daily counts that outlive the retention period."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, utcnow


class Turn(Base):
    """What the bot did with one citizen question (analytics): answered an FAQ, offered choices,
    had no answer, or handed off. The question is stored redacted. Unanswered questions get a
    knowledge-gap cluster (`cluster_id`), assigned in the background."""

    __tablename__ = "turns"
    __table_args__ = (
        Index("ix_turns_at", "at"),
        Index("ix_turns_outcome_at", "outcome", "at"),
        Index("ix_turns_cluster_at", "cluster_id", "at"),
        Index("ix_turns_faq_at", "faq_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A retried turn is recorded once.
    inbound_id: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)
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
    """A citizen's verdict: "did this help?" on a bot answer (value 1 or 0), or a 1-5 satisfaction
    rating after an agent resolved their conversation (with an optional comment, redacted)."""

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
    """An emerging issue: a group of questions (an FAQ's, or a knowledge gap's) growing much faster
    than usual. One alert per surge: it stays open (and silent) until the group calms down."""

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
    # messages | turns_<outcome> | handoffs ...
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" when none
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
