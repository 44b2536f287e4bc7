"""Reading a conversation back: a message's status and replies, the transcript for the widget, and
the timeline for agents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.ids import ConversationId
from bot.inbox.entries import TranscriptEntry, outbound_entry
from bot.storage.db import Database
from bot.storage.models import InboundMessage, OutboundMessage


class TranscriptReads:
    """Read-only queries on the inbox and outbox tables."""

    _db: Database

    def status(self, inbound_id: int) -> str | None:
        """pending | done | dead, or None for an unknown message."""
        with self._db.session() as session:
            return session.scalar(
                select(InboundMessage.status).where(InboundMessage.id == inbound_id)
            )

    def replies_to(self, inbound_id: int) -> list[TranscriptEntry]:
        """Everything sent in answer to one inbound message, in order."""
        with self._db.session() as session:
            rows = session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.inbound_id == inbound_id)
                .order_by(OutboundMessage.seq)
            )
            return [outbound_entry(r) for r in rows]

    def timeline(self, conv_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """The last `limit` lines of the transcript for people (the agent console): who, what, when,
        and for replies whether they were delivered."""
        with self._db.session() as session:
            inbound = session.execute(
                select(
                    InboundMessage.seq,
                    InboundMessage.title,
                    InboundMessage.text,
                    InboundMessage.received_at,
                )
                .where(InboundMessage.conversation_id == conv_id)
                .order_by(InboundMessage.seq.desc())
                .limit(limit)
            ).all()
            outbound = session.execute(
                select(
                    OutboundMessage.seq,
                    OutboundMessage.sender,
                    OutboundMessage.text,
                    OutboundMessage.created_at,
                    OutboundMessage.status,
                )
                .where(OutboundMessage.conversation_id == conv_id)
                .order_by(OutboundMessage.seq.desc())
                .limit(limit)
            ).all()
        lines: list[dict[str, Any]] = [
            {"seq": seq, "from": "user", "text": title or text, "at": at, "status": "received"}
            for seq, title, text, at in inbound
        ]
        lines += [
            {"seq": seq, "from": sender, "text": text, "at": at, "status": status}
            for seq, sender, text, at, status in outbound
        ]
        lines.sort(key=lambda line: line["seq"])
        return lines[-limit:]

    def history(self, conv_id: str, after: int = 0, limit: int = 500) -> list[TranscriptEntry]:
        """The transcript after `seq`: citizen messages and replies, in order."""
        with self._db.session() as session:
            inbound = session.execute(
                select(InboundMessage).where(
                    InboundMessage.conversation_id == conv_id, InboundMessage.seq > after
                )
            )
            # Web chat keys a message "<session>/<client id>"; the client knows it by its own id.
            prefix = ConversationId.parse(conv_id).address + "/"
            entries = [
                TranscriptEntry(
                    m.seq,
                    "user",
                    m.title or m.text,
                    [],
                    m.id,
                    m.provider_message_id.removeprefix(prefix),
                )
                for m in inbound.scalars()
            ]
            outbound = session.scalars(
                select(OutboundMessage).where(
                    OutboundMessage.conversation_id == conv_id, OutboundMessage.seq > after
                )
            )
            entries += [outbound_entry(r) for r in outbound]
        entries.sort(key=lambda e: e.seq)
        return entries[:limit]
