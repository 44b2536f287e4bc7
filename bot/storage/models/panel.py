"""Tables of the citizen panel: its members (with the consent they gave and an optional profile),
surveys, waves of a survey sent to the panel or a sample of it, each member's place in a wave,
their answers, and the running tallies the results are read from.

Panel rows are kept apart from conversations: no foreign key to a conversation, and a member who
leaves (or asks for erasure) takes their profile, places and answers with them. The tallies are
counts only (per question, profile group and choice), so the aggregates stay.
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


class PanelMember(Base):
    """A citizen (channel + address) on the panel.

    `state`: invited (shown the consent wording, not yet agreed), active. `profile_step` is the
    profile question being asked (area, age_band) or None. A member who leaves is deleted.
    """

    __tablename__ = "panel_members"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_panel_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(160))
    state: Mapped[str] = mapped_column(String(16), default="invited")
    language: Mapped[str] = mapped_column(String(8), default="en")
    area: Mapped[str | None] = mapped_column(String(40), nullable=True)
    age_band: Mapped[str | None] = mapped_column(String(16), nullable=True)
    profile_step: Mapped[str | None] = mapped_column(String(16), nullable=True)
    wording: Mapped[str] = mapped_column(Text)  # the consent text the citizen was shown
    invited_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    joined_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    asked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PanelSurvey(Base):
    """A survey: its questions (EN and FR, with skip logic) as a validated definition."""

    __tablename__ = "panel_surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PanelWave(Base):
    """One sending of a survey to the panel (or a random sample of it), with one reminder.

    `state`: scheduled → open (every selected member is invited) → closed, or cancelled. The
    "you said, we did" summary is public once `published`.
    """

    __tablename__ = "panel_waves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("panel_surveys.id"))
    state: Mapped[str] = mapped_column(String(16), default="scheduled")
    sample: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the whole panel
    send_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    remind_after_h: Mapped[int] = mapped_column(Integer, default=72)
    closes_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    invited: Mapped[int] = mapped_column(Integer, default=0)
    we_did_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    we_did_fr: Mapped[str | None] = mapped_column(Text, nullable=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PanelPlace(Base):
    """Where one member is in one wave: the question they were last asked.

    `state`: answering, done, declined (QUIT), expired (the wave closed first). `asked_at` is when
    the current question went out: within the answer window the member's messages are answers
    and never reach the bot; after it the survey is paused until SURVEY / SONDAGE or the reminder.
    """

    __tablename__ = "panel_places"
    __table_args__ = (
        UniqueConstraint("wave_id", "member_id", name="uq_panel_place"),
        Index("ix_panel_place_member", "member_id", "state"),
        Index("ix_panel_place_remind", "state", "remind_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("panel_waves.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_members.id"))
    state: Mapped[str] = mapped_column(String(16), default="answering")
    question: Mapped[str | None] = mapped_column(String(40), nullable=True)
    invited_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    asked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    remind_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PanelAnswer(Base):
    """One member's answer to one question of a wave: a choice (an option key or 1-5) or a
    free text, redacted before it is stored."""

    __tablename__ = "panel_answers"
    __table_args__ = (
        UniqueConstraint("place_id", "question", name="uq_panel_answer"),
        Index("ix_panel_answer_wave", "wave_id", "question"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("panel_places.id"))
    wave_id: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(String(40))
    choice: Mapped[str | None] = mapped_column(String(40), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PanelTally(Base):
    """How many answered a question with a choice, in one profile group (counts only: they
    outlive the answers). `dimension` is all, area, age_band or language; `grp` the group ("" for
    none given); `choice` "*" counts respondents."""

    __tablename__ = "panel_tallies"

    wave_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(40), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    grp: Mapped[str] = mapped_column(String(40), primary_key=True)
    choice: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
