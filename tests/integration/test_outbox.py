"""The outbox on SQLite and PostgreSQL: ordered claims, no double sends, retries, dead
letters, rules."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest
from fastapi import Request
from sqlalchemy import update

from bot.conversation.sender import OutboxSender
from bot.engine.client import BotMessage
from bot.inbox.outbox import Outbox
from bot.inbox.policy import OptOuts, keyword, window_refusal
from bot.inbox.store import Inbox
from bot.storage.db import Database
from bot.storage.models import Conversation, OutboundMessage, utcnow
from connectors.base import Capabilities, Incoming, Outgoing, SendError


class RecordingAdapter:
    """A channel whose provider accepts or fails as told, recording every send."""

    name = "sms"
    capabilities = Capabilities(buttons=False)

    def __init__(self) -> None:
        self.sent: list[tuple[str, Outgoing]] = []
        self.failures: list[SendError] = []

    async def parse(self, request: Request) -> list[Incoming]:
        raise NotImplementedError

    async def send(self, address: str, message: Outgoing) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((address, message))
        return f"SM{len(self.sent)}"


def replies(inbox: Inbox, channel: str, address: str, *texts: str, provider_id: str = "m1") -> int:
    received = inbox.receive(channel, address, provider_id, "question")
    inbox.complete(received.inbound_id, [BotMessage(t) for t in texts])
    return received.inbound_id


def sender_for(
    db: Database, adapter: Any, owner: str = "a", max_attempts: int = 3
) -> tuple[Outbox, OutboxSender]:
    outbox = Outbox(db, owner, claim_s=30)
    return outbox, OutboxSender(
        outbox,
        {"sms": adapter, "whatsapp": adapter, "messenger": adapter},
        OptOuts(db),
        max_attempts,
    )


def test_replies_of_one_conversation_go_out_in_order_one_at_a_time(db: Database) -> None:
    inbox, adapter = Inbox(db), RecordingAdapter()
    replies(inbox, "sms", "+15145550100", "first", "second", "third")
    outbox, sender = sender_for(db, adapter)
    probe = Outbox(db, "probe", claim_s=1)
    assert len(probe.claim_due()) == 1, "later replies wait for the earlier one"
    assert Outbox(db, "b", claim_s=30).claim_due() == [], "a claimed row is nobody else's"
    time.sleep(1.1)  # the probe "crashed": its claim expires and the row is sent by someone else
    for _ in range(5):
        asyncio.run(sender.run_once())
    assert [m.text for _, m in adapter.sent] == ["first", "second", "third"]
    assert outbox.status_counts() == {"sent": 3}


def test_webchat_replies_are_not_the_outbox_business(db: Database) -> None:
    inbox = Inbox(db)
    replies(inbox, "webchat", "session-xyz", "hello")
    assert Outbox(db, "a").claim_due() == []


def test_retryable_failures_back_off_then_dead_letter_and_can_be_replayed(db: Database) -> None:
    inbox, adapter = Inbox(db), RecordingAdapter()
    replies(inbox, "sms", "+15145550101", "answer")
    outbox, sender = sender_for(db, adapter, max_attempts=2)
    adapter.failures = [SendError("503", retryable=True, retry_after=120)]
    asyncio.run(sender.run_once())
    assert outbox.claim_due() == [], "not due again before the provider's retry-after"
    with db.session() as session:  # time passes
        session.execute(update(OutboundMessage).values(next_attempt_at=utcnow()))
        session.commit()
    adapter.failures = [SendError("503 again", retryable=True)]
    asyncio.run(sender.run_once())
    dead = outbox.dead()
    assert [d.ref.startswith("out-") for d in dead] == [True] and dead[0].attempts == 2
    assert outbox.retry(dead[0].ref) and not outbox.retry(dead[0].ref)
    asyncio.run(sender.run_once())
    assert [m.text for _, m in adapter.sent] == ["answer"]


def test_a_permanent_failure_is_dead_at_once(db: Database) -> None:
    inbox, adapter = Inbox(db), RecordingAdapter()
    replies(inbox, "sms", "+15145550102", "answer")
    outbox, sender = sender_for(db, adapter)
    adapter.failures = [SendError("21211 invalid number", retryable=False)]
    asyncio.run(sender.run_once())
    assert outbox.status_counts() == {"dead": 1}


def test_opted_out_numbers_get_nothing_but_the_stop_confirmation(db: Database) -> None:
    inbox, adapter = Inbox(db), RecordingAdapter()
    OptOuts(db).set("sms", "+15145550103", True)
    received = inbox.receive("sms", "+15145550103", "m9", "STOP")
    inbox.add_notice(
        received.conversation_id,
        received.inbound_id,
        "you will receive no more",
        kind="compliance",
        done=True,
    )
    replies(inbox, "sms", "+15145550103", "an agent's reply", provider_id="m10")
    outbox, sender = sender_for(db, adapter)
    for _ in range(3):
        asyncio.run(sender.run_once())
    assert [m.text for _, m in adapter.sent] == ["you will receive no more"]
    assert outbox.status_counts() == {"sent": 1, "suppressed": 1}


def test_messenger_window_refuses_late_bot_replies(db: Database) -> None:
    inbox, adapter = Inbox(db), RecordingAdapter()
    replies(inbox, "messenger", "psid-1", "late reply")
    with db.session() as session:
        session.execute(
            update(Conversation).values(last_inbound_at=utcnow() - dt.timedelta(hours=25))
        )
        session.commit()
    outbox, sender = sender_for(db, adapter)
    asyncio.run(sender.run_once())
    assert adapter.sent == [] and outbox.status_counts() == {"refused": 1}


@pytest.mark.parametrize(
    "channel, from_agent, hours, allowed",
    [
        ("messenger", False, 23, True),
        ("messenger", False, 25, False),
        ("messenger", True, 24 * 6, True),
        ("messenger", True, 24 * 8, False),
        ("whatsapp", False, 23, True),
        ("whatsapp", True, 25, False),
        ("sms", False, 24 * 30, True),
        ("telegram", False, 24 * 30, True),
    ],
)
def test_reply_windows(channel: str, from_agent: bool, hours: int, allowed: bool) -> None:
    now = utcnow()
    refusal = window_refusal(channel, from_agent, now - dt.timedelta(hours=hours), now)
    assert (refusal is None) is allowed


@pytest.mark.parametrize(
    "text, expected",
    [
        ("STOP", ("stop", "en")),
        (" stop. ", ("stop", "en")),
        ("Arrêt", ("stop", "fr")),
        ("START", ("start", "en")),
        ("HELP", ("help", "en")),
        ("aide", ("help", "fr")),
        ("stop sending me things", None),
        ("2", None),
    ],
)
def test_sms_keywords(text: str, expected: tuple[str, str] | None) -> None:
    assert keyword(text) == expected
