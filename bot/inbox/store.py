"""The inbox and outbox tables behind a small API: receive once, complete once, read
the transcript."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock, system_clock
from bot.engine.client import BotMessage
from bot.ids import conversation_id
from bot.inbox.entries import Received, TranscriptEntry, outbound_entry
from bot.inbox.reads import TranscriptReads
from bot.privacy.redact import redact
from bot.storage.db import Database, rowcount
from bot.storage.models import REPLY_KINDS, Conversation, InboundMessage, OutboundMessage


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


def _settle(inbound: InboundMessage, now: dt.datetime) -> None:
    """Mark a message processed. Its raw text was only needed until now (a crash before this point
    must lose nothing); what is kept is redacted, so personal data does not stay in
    long-term storage."""
    inbound.status, inbound.processed_at = "done", now
    inbound.text = redact(inbound.text)
    inbound.title = redact(inbound.title) if inbound.title else inbound.title


class Inbox(TranscriptReads):
    """Durable storage of the conversation: every write commits before it returns."""

    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock

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
                now = self._clock()
                session.add(
                    Conversation(
                        id=conv_id, channel=channel, address=address, created_at=now, updated_at=now
                    )
                )
                try:
                    session.flush()
                except IntegrityError:
                    session.rollback()
            seq = _next_seq(session, conv_id)
            session.execute(
                update(Conversation)
                .where(Conversation.id == conv_id)
                .values(last_inbound_at=self._clock())
            )
            row = InboundMessage(
                channel=channel,
                provider_message_id=provider_message_id,
                conversation_id=conv_id,
                seq=seq,
                text=text,
                title=title,
                received_at=self._clock(),
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
                    created_at=self._clock(),
                    next_attempt_at=self._clock(),
                )
                session.add(row)
                rows.append(row)
            _settle(inbound, self._clock())
            session.commit()
            return [outbound_entry(r) for r in rows]

    def fail(self, inbound_id: int, error: str, max_attempts: int) -> int:
        """Record a failed attempt; after `max_attempts` the message is dead-lettered.
        Returns attempts."""
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
        """Store a message that is not from the dialogue (a service notice, an SMS keyword reply, a
        queue update, an agent's reply).

        With `done`, the inbound message it answers is marked processed in the same transaction.
        """
        if kind not in REPLY_KINDS:
            raise ValueError(f"unknown kind of message {kind!r}")
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
                created_at=self._clock(),
                next_attempt_at=self._clock(),
            )
            if done and inbound_id is not None:
                inbound = session.get(InboundMessage, inbound_id)
                if inbound is not None:
                    _settle(inbound, self._clock())
            session.add(row)
            session.commit()
            return outbound_entry(row)

    # -- leases: one replica takes a conversation's turns at a time --------------------------------
    def acquire(self, conv_id: str, owner: str, ttl_s: float) -> bool:
        """Take (or extend) the conversation's lease; False while another live replica holds it."""
        now = self._clock()
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
            return bool(rowcount(result))

    def release(self, conv_id: str, owner: str) -> None:
        """Give the lease back (only if still ours)."""
        with self._db.session() as session:
            session.execute(
                update(Conversation)
                .where(Conversation.id == conv_id, Conversation.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )
            session.commit()
