"""The durable inbox on the real databases: SQLite (default) and PostgreSQL (the scale path)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.conversation.after import StoreReplies
from bot.conversation.before import Redaction
from bot.conversation.engine_step import AskEngine
from bot.conversation.worker import ConversationWorker
from bot.engine.client import BotMessage, EngineUnavailable
from bot.inbox.hub import LiveHub
from bot.inbox.store import Inbox
from bot.inbox.transcript import Transcript
from bot.language import LanguageDetector
from bot.storage.db import Database


def test_a_replayed_message_is_stored_once(db: Database) -> None:
    inbox = Inbox(db)
    first = inbox.receive("webchat", "session-1", "m1", "hello")
    again = inbox.receive("webchat", "session-1", "m1", "hello")
    assert not first.duplicate and again.duplicate and again.inbound_id == first.inbound_id
    assert [m.text for m in inbox.pending(first.conversation_id)] == ["hello"]


def test_concurrent_deliveries_of_one_message_store_it_once(db: Database) -> None:
    inbox = Inbox(db)
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda _: inbox.receive("webchat", "s-race", "same-id", "hi"), range(16))
        )
    assert len({r.inbound_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1


def test_transcript_keeps_arrival_order_and_replies(db: Database) -> None:
    inbox = Inbox(db)
    a = inbox.receive("webchat", "s-order", "a", "first")
    b = inbox.receive("webchat", "s-order", "b", "second")
    inbox.complete(a.inbound_id, [BotMessage("reply 1", [{"title": "Yes", "payload": "/affirm"}])])
    inbox.complete(a.inbound_id, [BotMessage("must not be stored twice")])
    history = inbox.history(a.conversation_id)
    assert [(e.sender, e.text) for e in history] == [
        ("user", "first"),
        ("user", "second"),
        ("bot", "reply 1"),
    ]
    assert [e.seq for e in history] == sorted(e.seq for e in history)
    assert history[-1].buttons == [{"title": "Yes", "payload": "/affirm"}]
    assert [m.id for m in inbox.pending(a.conversation_id)] == [b.inbound_id]


class FlakyEngine:
    """An engine that is down until `up` is set, then echoes."""

    def __init__(self) -> None:
        self.up = False
        self.seen: list[str] = []

    async def turn(
        self, conversation_id: str, text: str, metadata: dict[str, Any]
    ) -> list[BotMessage]:
        if not self.up:
            raise EngineUnavailable("down")
        self.seen.append(text)
        return [BotMessage(f"echo: {text}")]

    async def ready(self) -> bool:
        return self.up


def test_worker_keeps_messages_while_the_engine_is_down_and_answers_in_order(db: Database) -> None:
    inbox, engine = Inbox(db), FlakyEngine()
    transcript = Transcript(inbox, LiveHub())
    steps = [
        Redaction(),
        AskEngine(engine, transcript, LanguageDetector()),
        StoreReplies(transcript),
    ]
    worker = ConversationWorker(inbox, steps)
    one = inbox.receive("webchat", "s-down", "1", "How do I renew my licence?")
    inbox.receive("webchat", "s-down", "2", "and my passport?")

    assert asyncio.run(worker.drain(one.conversation_id)) is False
    notices = inbox.replies_to(one.inbound_id)
    assert len(notices) == 1 and "unavailable" in notices[0].text
    asyncio.run(worker.drain(one.conversation_id))
    assert len(inbox.replies_to(one.inbound_id)) == 1, (
        "the citizen is told once, not at every retry"
    )

    engine.up = True
    assert asyncio.run(worker.retry_pending()) == 1
    assert engine.seen == ["How do I renew my licence?", "and my passport?"]
    bot = [e.text for e in inbox.history(one.conversation_id) if e.sender == "bot"]
    assert bot[-2:] == ["echo: How do I renew my licence?", "echo: and my passport?"]
    assert inbox.pending(one.conversation_id) == []


def test_a_message_that_always_fails_is_dead_lettered(db: Database) -> None:
    inbox = Inbox(db)
    received = inbox.receive("webchat", "s-dead", "x", "poison")
    assert [inbox.fail(received.inbound_id, "boom", max_attempts=3) for _ in range(3)] == [1, 2, 3]
    assert inbox.pending(received.conversation_id) == []
