"""Messages the service starts (a broadcast copy, a survey invitation or reminder), queued in bulk
inside the caller's transaction: the conversations they go to (created if retention purged them),
their next transcript numbers (one UPDATE for all), and the outbox rows, whose ids come back in
order. The caller commits them together with its own rows, so a crash queues all or none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bot.ids import conversation_id
from bot.inbox.store import pushes
from bot.storage.models import Conversation, OutboundMessage


@dataclass(frozen=True, slots=True)
class Unasked:
    """One message the citizen did not ask for, to one channel address."""

    channel: str
    address: str
    text: str
    kind: str
    due: dt.datetime  # not before (quiet hours)
    buttons: list[dict[str, Any]] = field(default_factory=list)


def queue_unasked(session: Session, messages: Sequence[Unasked], now: dt.datetime) -> list[int]:
    """Add the messages to their conversations' transcripts and the outbox (one per conversation
    at most); their outbox ids, in the order given. Nothing is committed here."""
    if not messages:
        return []
    ids = [conversation_id(m.channel, m.address) for m in messages]
    if len(set(ids)) != len(ids):
        raise ValueError("at most one message per conversation in one call")
    known = set(session.scalars(select(Conversation.id).where(Conversation.id.in_(ids))))
    for conv_id, m in zip(ids, messages, strict=True):
        if conv_id not in known:
            session.add(Conversation(id=conv_id, channel=m.channel, address=m.address))
    session.flush()
    session.execute(
        update(Conversation)
        .where(Conversation.id.in_(ids))
        .values(last_seq=Conversation.last_seq + 1)
    )
    seqs = dict(
        session.execute(
            select(Conversation.id, Conversation.last_seq).where(Conversation.id.in_(ids))
        ).all()
    )
    rows = [
        {
            "conversation_id": conv_id,
            "seq": seqs[conv_id],
            "sender": "system",
            "kind": m.kind,
            "channel": m.channel,
            "text": m.text,
            "buttons": m.buttons,
            "status": "pending" if pushes(m.channel) else "sent",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": m.due,
        }
        for conv_id, m in zip(ids, messages, strict=True)
    ]
    return list(
        session.scalars(
            insert(OutboundMessage).returning(OutboundMessage.id, sort_by_parameter_order=True),
            rows,
        ).all()
    )
