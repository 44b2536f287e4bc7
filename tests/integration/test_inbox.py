"""The durable inbox on the real databases: SQLite (default) and PostgreSQL (the scale path)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.engine.client import BotMessage, EngineUnavailable
from bot.inbox.hub import LiveHub
from bot.inbox.store import Inbox
from bot.inbox.worker import ConversationWorker
from bot.language import LanguageDetector
from bot.storage.db import Database

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'app.db'}")
    else:
        schema = "t_" + uuid.uuid4().hex[:10]
        database = Database(POSTGRES_URL)
        try:
            with database.engine.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        except OperationalError as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL is required in CI: {exc}")
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
        database.engine.dispose()
        database = Database(POSTGRES_URL + f"?options=-csearch_path%3D{schema}")
    database.create_schema()
    yield database
    if request.param == "postgresql":
        with database.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    database.engine.dispose()


def test_a_replayed_message_is_stored_once(db: Database) -> None:
    inbox = Inbox(db)
    first = inbox.receive("webchat", "session-1", "m1", "hello")
    again = inbox.receive("webchat", "session-1", "m1", "hello")
    assert not first.duplicate and again.duplicate and again.inbound_id == first.inbound_id
    assert [m.text for m in inbox.pending(first.conversation_id)] == ["hello"]


def test_concurrent_deliveries_of_one_message_store_it_once(db: Database) -> None:
    inbox = Inbox(db)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: inbox.receive("webchat", "s-race", "same-id", "hi"), range(16)))
    assert len({r.inbound_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1


def test_transcript_keeps_arrival_order_and_replies(db: Database) -> None:
    inbox = Inbox(db)
    a = inbox.receive("webchat", "s-order", "a", "first")
    b = inbox.receive("webchat", "s-order", "b", "second")
    inbox.complete(a.inbound_id, [BotMessage("reply 1", [{"title": "Yes", "payload": "/affirm"}])])
    inbox.complete(a.inbound_id, [BotMessage("must not be stored twice")])
    history = inbox.history(a.conversation_id)
    assert [(e.sender, e.text) for e in history] == [("user", "first"), ("user", "second"), ("bot", "reply 1")]
    assert [e.seq for e in history] == sorted(e.seq for e in history)
    assert history[-1].buttons == [{"title": "Yes", "payload": "/affirm"}]
    assert [m.id for m in inbox.pending(a.conversation_id)] == [b.inbound_id]


class FlakyEngine:
    """An engine that is down until `up` is set, then echoes."""

    def __init__(self) -> None:
        self.up = False
        self.seen: list[str] = []

    async def turn(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[BotMessage]:
        if not self.up:
            raise EngineUnavailable("down")
        self.seen.append(text)
        return [BotMessage(f"echo: {text}")]

    async def ready(self) -> bool:
        return self.up


def test_worker_keeps_messages_while_the_engine_is_down_and_answers_in_order(db: Database) -> None:
    inbox, engine = Inbox(db), FlakyEngine()
    worker = ConversationWorker(inbox, engine, LiveHub(), LanguageDetector())
    one = inbox.receive("webchat", "s-down", "1", "How do I renew my licence?")
    inbox.receive("webchat", "s-down", "2", "and my passport?")

    assert asyncio.run(worker.drain(one.conversation_id)) is False
    notices = inbox.replies_to(one.inbound_id)
    assert len(notices) == 1 and "unavailable" in notices[0].text
    asyncio.run(worker.drain(one.conversation_id))
    assert len(inbox.replies_to(one.inbound_id)) == 1, "the citizen is told once, not at every retry"

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
