"""Tables of the knowledge studio: agencies, FAQs with their history of versions, who may edit
which agency's content, and the revision counter every app replica watches to go live."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, utcnow


class KbAgency(Base):
    """An agency that owns FAQs: its names and the contact details the bot gives."""

    __tablename__ = "kb_agencies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    phone: Mapped[str] = mapped_column(String(64), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    hours: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # Publishing needs a second person (the reviewer is not the author) unless this is False.
    second_reviewer: Mapped[bool] = mapped_column(Boolean, default=True)


class KbFaq(Base):
    """One FAQ in one language, and where it stands.

    `state`: draft (never published) → in_review → published, or scheduled (approved, live at
    `publish_at`); published → expired (at `expire_at`) or archived. `live_version` is the version
    citizens get (None while nothing is live); a newer version may wait in review meanwhile."""

    __tablename__ = "kb_faqs"
    __table_args__ = (Index("ix_kb_faqs_agency_state", "agency_id", "state"),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("kb_agencies.id"))
    language: Mapped[str] = mapped_column(String(8))
    parallel_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    live_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    head_version: Mapped[int] = mapped_column(Integer, default=1)
    scheduled_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    publish_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expire_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_reviewed: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # The knowledge-gap group it was written for (the dashboard shows whether the gap shrank).
    gap_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Published on the urgent path: live at once, still waiting for its second person.
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KbFaqVersion(Base):
    """One version of an FAQ's content, never changed once written except for its review.

    `review`: draft → in_review → approved or rejected."""

    __tablename__ = "kb_faq_versions"

    faq_id: Mapped[str] = mapped_column(
        ForeignKey("kb_faqs.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    author: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    review: Mapped[str] = mapped_column(String(16), default="draft")
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    def content(self) -> dict[str, Any]:
        """What an editor changes, as one comparable mapping."""
        return {
            "question": self.question,
            "alternatives": list(self.alternatives),
            "answer": self.answer,
            "source_url": self.source_url,
            "tags": list(self.tags),
        }


class KbGrant(Base):
    """What a console account may do with one agency's content: edit, and maybe review."""

    __tablename__ = "kb_grants"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    may_review: Mapped[bool] = mapped_column(Boolean, default=False)


class KbDismissed(Base):
    """A citizen's question an editor decided is not another phrasing of this FAQ: it is not
    suggested for it again (the text itself is not kept, only its hash)."""

    __tablename__ = "kb_dismissed"

    faq_id: Mapped[str] = mapped_column(
        ForeignKey("kb_faqs.id", ondelete="CASCADE"), primary_key=True
    )
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KbRevision(Base):
    """One row: a number bumped in the transaction of every change to what citizens get. Each
    replica compares it with the one it loaded (bot/studio/live.py)."""

    __tablename__ = "kb_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the weekly stale-FAQ reminders last went out (one replica claims each week).
    reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
