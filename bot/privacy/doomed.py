"""Choosing rows to delete: the ids per app table, and what each adds to `daily_counts`.

The `take_*` functions add the rows that match a condition; a row taken twice counts once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import aware
from bot.storage.models import (
    Conversation,
    Feedback,
    Handoff,
    InboundMessage,
    OutboundMessage,
    Turn,
)

CHUNK = 500  # ids per IN (...) list

CountKey = tuple[dt.date, str, str, str, str]
"""A `daily_counts` row's key: day, metric, channel, agency, language."""


@dataclass
class Doomed:
    """Rows chosen for deletion, by table; for those that count, what they add to `daily_counts`."""

    conversations: set[str] = field(default_factory=set)
    inbound: set[int] = field(default_factory=set)
    outbound: set[int] = field(default_factory=set)
    handoffs: set[int] = field(default_factory=set)
    turns: set[int] = field(default_factory=set)
    feedback: set[int] = field(default_factory=set)
    counts: Counter[CountKey] = field(default_factory=Counter)

    def count(
        self,
        at: dt.datetime | None,
        metric: str,
        channel: str | None,
        agency: str | None = None,
        language: str | None = None,
        value: int = 1,
    ) -> None:
        """Add `value` to `metric` on the UTC day of `at` (nothing when `at` is missing)."""
        if at is None:
            return
        # The day in UTC: a server database may hand back times in its session's zone.
        day = aware(at).astimezone(dt.UTC).date()
        self.counts[
            (day, metric, (channel or "")[:32], (agency or "")[:64], (language or "")[:8])
        ] += value


def chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    """`values`, sorted, in lists of at most CHUNK (the size of one IN (...) list)."""
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def take_inbound(session: Session, doomed: Doomed, condition: Any) -> None:
    """Citizen messages matching `condition`, counted as "messages"."""
    rows = session.execute(
        select(InboundMessage.id, InboundMessage.channel, InboundMessage.received_at).where(
            condition
        )
    )
    for row_id, channel, received_at in rows:
        if row_id not in doomed.inbound:
            doomed.inbound.add(row_id)
            doomed.count(received_at, "messages", channel)


def take_outbound(session: Session, doomed: Doomed, condition: Any) -> None:
    """Replies and notices matching `condition` (not counted)."""
    doomed.outbound.update(session.scalars(select(OutboundMessage.id).where(condition)))


def take_handoffs(session: Session, doomed: Doomed, condition: Any) -> None:
    """Hand-offs matching `condition`, counted as "handoffs"."""
    rows = session.execute(
        select(Handoff.id, Handoff.channel, Handoff.language, Handoff.enqueued_at).where(condition)
    )
    for row_id, channel, language, enqueued_at in rows:
        if row_id not in doomed.handoffs:
            doomed.handoffs.add(row_id)
            doomed.count(enqueued_at, "handoffs", channel, None, language)


def take_turns(session: Session, doomed: Doomed, condition: Any) -> None:
    """Turns matching `condition`, counted as "turns_<outcome>"."""
    rows = session.execute(
        select(Turn.id, Turn.at, Turn.channel, Turn.agency, Turn.language, Turn.outcome).where(
            condition
        )
    )
    for row_id, at, channel, agency, language, outcome in rows:
        if row_id not in doomed.turns:
            doomed.turns.add(row_id)
            doomed.count(at, f"turns_{outcome}", channel, agency, language)


def take_feedback(session: Session, doomed: Doomed, condition: Any) -> None:
    """Feedback matching `condition`: "helpful_yes"/"helpful_no", or satisfaction sum and count."""
    rows = session.execute(
        select(
            Feedback.id,
            Feedback.at,
            Feedback.kind,
            Feedback.value,
            Feedback.channel,
            Feedback.agency,
            Feedback.language,
        ).where(condition)
    )
    for row_id, at, kind, value, channel, agency, language in rows:
        if row_id in doomed.feedback:
            continue
        doomed.feedback.add(row_id)
        if kind == "helpful":
            doomed.count(at, "helpful_yes" if value else "helpful_no", channel, agency, language)
        elif kind == "satisfaction":
            doomed.count(at, "satisfaction_sum", channel, agency, language, int(value))
            doomed.count(at, "satisfaction_n", channel, agency, language)


def take_conversations(session: Session, doomed: Doomed, conversation_ids: Iterable[str]) -> None:
    """Every row of these conversations."""
    for chunk in chunks(conversation_ids):
        doomed.conversations.update(
            session.scalars(select(Conversation.id).where(Conversation.id.in_(chunk)))
        )
        take_inbound(session, doomed, InboundMessage.conversation_id.in_(chunk))
        take_outbound(session, doomed, OutboundMessage.conversation_id.in_(chunk))
        take_handoffs(session, doomed, Handoff.conversation_id.in_(chunk))
        take_turns(session, doomed, Turn.conversation_id.in_(chunk))
        take_feedback(session, doomed, Feedback.conversation_id.in_(chunk))
