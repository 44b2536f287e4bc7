"""The inbox and outbox tables behind a small API: receive once, complete once, read the transcript."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.engine.client import BotMessage
from bot.privacy.redact import redact
from bot.storage.db import Database
from bot.storage.models import Conversation, InboundMessage, OutboundMessage, utcnow


@dataclass(frozen=True, slots=True)
class Received:
    """A stored inbound message; `duplicate` when the provider had already delivered it."""

    inbound_id: int
    conversation_id: str
    seq: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    """One line of a conversation, as channels show it."""

    seq: int
    sender: str  # user | bot | agent | system
    text: str
    buttons: list[dict[str, Any]] = field(default_factory=list)
    inbound_id: int | None = None
    client_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The wire form used by the web chat."""
        data: dict[str, Any] = {
            "seq": self.seq,
            "from": self.sender,
            "text": self.text,
            "buttons": self.buttons,
        }
        if self.client_id:
            data["client_id"] = self.client_id
        return data


def conversation_id(channel: str, address: str) -> str:
    """The id of a citizen's conversation on a channel."""
    return f"{channel}:{address}"


def pushes(channel: str) -> bool:
    """True for channels whose replies the outbox sends through a provider (all but web chat)."""
    return channel != "webchat"


def _next_seq(session: Session, conv_id: str) -> int:
    session.execute(
        update(Conversation)
        .where(Conversation.id == conv_id)
        .values(last_seq=Conversation.last_seq + 1)
    )
    return int(session.scalar(select(Conversation.last_seq).where(Conversation.id == conv_id)) or 0)


def _settle(inbound: InboundMessage) -> None:
    """Mark a message processed. Its raw text was only needed until now (a crash before this point must
    lose nothing); what is kept is redacted, so personal data does not stay in long-term storage."""
    inbound.status, inbound.processed_at = "done", utcnow()
    inbound.text = redact(inbound.text)
    inbound.title = redact(inbound.title) if inbound.title else inbound.title


def _outbound_entry(row: OutboundMessage) -> TranscriptEntry:
    return TranscriptEntry(row.seq, row.sender, row.text, list(row.buttons or []), row.inbound_id)


class Inbox:
    """Durable storage of the conversation: every write commits before it returns."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def receive(
        self,
        channel: str,
        address: str,
        provider_message_id: str,
        text: str,
        title: str | None = None,
    ) -> Received:
        """Store a citizen message once; a replay of the same provider id returns the stored one."""
        conv_id = conversation_id(channel, address)
        with self._db.session() as session:
            existing = self._find(session, channel, provider_message_id)
            if existing is not None:
                return existing
            if session.get(Conversation, conv_id) is None:
                session.add(Conversation(id=conv_id, channel=channel, address=address))
                try:
                    session.flush()
                except IntegrityError:
                    session.rollback()
            seq = _next_seq(session, conv_id)
            session.execute(
                update(Conversation)
                .where(Conversation.id == conv_id)
                .values(last_inbound_at=utcnow())
            )
            row = InboundMessage(
                channel=channel,
                provider_message_id=provider_message_id,
                conversation_id=conv_id,
                seq=seq,
                text=text,
                title=title,
            )
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # a concurrent delivery of the same message won the race
                session.rollback()
                found = self._find(session, channel, provider_message_id)
                assert found is not None
                return found
            return Received(row.id, conv_id, seq, duplicate=False)

    @staticmethod
    def _find(session: Session, channel: str, provider_message_id: str) -> Received | None:
        row = session.scalar(
            select(InboundMessage).where(
                InboundMessage.channel == channel,
                InboundMessage.provider_message_id == provider_message_id,
            )
        )
        return Received(row.id, row.conversation_id, row.seq, duplicate=True) if row else None

    def pending(self, conv_id: str) -> list[InboundMessage]:
        """The conversation's unprocessed messages, oldest first."""
        with self._db.session() as session:
            return list(
                session.scalars(
                    select(InboundMessage)
                    .where(
                        InboundMessage.conversation_id == conv_id,
                        InboundMessage.status == "pending",
                    )
                    .order_by(InboundMessage.seq)
                )
            )

    def conversations_with_pending(self) -> list[str]:
        """Conversations that have messages waiting, oldest waiting first."""
        with self._db.session() as session:
            rows = session.execute(
                select(InboundMessage.conversation_id, InboundMessage.id)
                .where(InboundMessage.status == "pending")
                .order_by(InboundMessage.id)
            )
            return list(dict.fromkeys(conv for conv, _ in rows))

    def complete(self, inbound_id: int, replies: list[BotMessage]) -> list[TranscriptEntry]:
        """Store the replies to a message and mark it done, in one transaction."""
        with self._db.session() as session:
            inbound = session.get(InboundMessage, inbound_id)
            if inbound is None or inbound.status == "done":
                return []
            rows = []
            status = "pending" if pushes(inbound.channel) else "sent"
            for reply in replies:
                seq = _next_seq(session, inbound.conversation_id)
                row = OutboundMessage(
                    conversation_id=inbound.conversation_id,
                    inbound_id=inbound_id,
                    seq=seq,
                    text=reply.text,
                    buttons=reply.buttons,
                    status=status,
                    next_attempt_at=utcnow(),
                )
                session.add(row)
                rows.append(row)
            _settle(inbound)
            session.commit()
            return [_outbound_entry(r) for r in rows]

    def fail(self, inbound_id: int, error: str, max_attempts: int) -> int:
        """Record a failed attempt; after `max_attempts` the message is dead-lettered. Returns attempts."""
        with self._db.session() as session:
            inbound = session.get(InboundMessage, inbound_id)
            if inbound is None:
                return 0
            inbound.attempts += 1
            inbound.last_error = error[:500]
            if inbound.attempts >= max_attempts:
                inbound.status = "dead"
            session.commit()
            return inbound.attempts

    def add_notice(
        self,
        conv_id: str,
        inbound_id: int | None,
        text: str,
        kind: str = "notice",
        done: bool = False,
        sender: str = "bot",
        buttons: list[dict[str, Any]] | None = None,
    ) -> TranscriptEntry:
        """Store a message that is not from the dialogue (a service notice, an SMS keyword reply, a queue
        update, an agent's reply).

        With `done`, the inbound message it answers is marked processed in the same transaction.
        """
        with self._db.session() as session:
            conversation = session.get(Conversation, conv_id)
            channel = conversation.channel if conversation else "webchat"
            row = OutboundMessage(
                conversation_id=conv_id,
                inbound_id=inbound_id,
                seq=_next_seq(session, conv_id),
                sender=sender,
                kind=kind,
                text=text,
                buttons=buttons or [],
                status="pending" if pushes(channel) else "sent",
                next_attempt_at=utcnow(),
            )
            if done and inbound_id is not None:
                inbound = session.get(InboundMessage, inbound_id)
                if inbound is not None:
                    _settle(inbound)
            session.add(row)
            session.commit()
            return _outbound_entry(row)

    # -- leases: one replica takes a conversation's turns at a time ---------------------------------
    def acquire(self, conv_id: str, owner: str, ttl_s: float) -> bool:
        """Take (or extend) the conversation's lease; False while another live replica holds it."""
        now = utcnow()
        with self._db.session() as session:
            result = session.execute(
                update(Conversation)
                .where(
                    Conversation.id == conv_id,
                    or_(
                        Conversation.lease_owner.is_(None),
                        Conversation.lease_owner == owner,
                        Conversation.lease_until < now,
                    ),
                )
                .values(lease_owner=owner, lease_until=now + dt.timedelta(seconds=ttl_s))
            )
            session.commit()
            return bool(result.rowcount)

    def release(self, conv_id: str, owner: str) -> None:
        """Give the lease back (only if still ours)."""
        with self._db.session() as session:
            session.execute(
                update(Conversation)
                .where(Conversation.id == conv_id, Conversation.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )
            session.commit()

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
            return [_outbound_entry(r) for r in rows]

    def timeline(self, conv_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """The last `limit` lines of the transcript for people (the agent console): who, what, when, and
        for replies whether they were delivered."""
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
        lines = [
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
            prefix = conv_id.split(":", 1)[-1] + "/"
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
            entries += [_outbound_entry(r) for r in outbound]
        entries.sort(key=lambda e: e.seq)
        return entries[:limit]
