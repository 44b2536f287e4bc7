"""Rate limits on the real app behind a real uvicorn: per address (429 with Retry-After, others
unaffected), per web-chat session (one polite notice on the socket), per provider sender (acked and
kept, one notice), and shared across two app instances through Redis."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import redis
from sqlalchemy import create_engine, func, select
from websockets.sync.client import connect

from bot.messages import say
from bot.settings import Settings
from bot.storage.models import InboundMessage, OutboundMessage
from tests.conftest import TELEGRAM_SECRET, TWILIO_SID, TWILIO_TOKEN, Providers, channel_settings
from tests.support.console import ConsoleClient, add_agent
from tests.support.fakes import twilio_signature
from tests.support.served import SESSION_SECRET, app_settings, client_from, served
from tests.support.waiting import until
from tests.support.webchat import minted

# Hour-long windows: the counts below are exact within one window.
RATES = {
    "rate_limit_per_address": "100/hour",
    "rate_limit_chat_per_address": "20/hour",
    "rate_limit_chat_per_session": "5/hour",
    "rate_limit_per_sender": "3/hour",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, providers: Providers) -> Iterator[Settings]:
    settings = app_settings(
        tmp_path_factory.mktemp("rate-limits"),
        **RATES,
        **channel_settings(providers),
    )
    with served(settings):
        yield settings


def base(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.port}"


def post(client: httpx.Client, url: str) -> httpx.Response:
    session = minted(SESSION_SECRET)  # a new session each time: only the address repeats
    return client.post(f"{url}/webchat/messages", json={"session": session, "text": "hello"})


def test_a_flood_from_one_address_gets_429_while_another_address_is_served(
    app: Settings,
) -> None:
    url = base(app)
    with client_from("127.0.0.2") as flood, ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: post(flood, url), range(300)))
    with client_from("127.0.0.3") as visitor:
        other = post(visitor, url)
    accepted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(accepted) == 20 and len(refused) == 280
    assert all(a.json() == {"error": "too many requests"} for a in refused)
    assert all(1 <= int(a.headers["retry-after"]) <= 3600 for a in refused)
    assert other.status_code == 200 and other.json()["messages"][0]["text"] == "echo: hello"


def test_every_route_is_limited_per_address(app: Settings) -> None:
    url = base(app)
    with client_from("127.0.0.4") as flood:
        codes = [flood.get(f"{url}/").status_code for _ in range(150)]
    with client_from("127.0.0.5") as visitor:
        assert visitor.get(f"{url}/").status_code == 200
    assert codes.count(200) == 100 and codes.count(429) == 50


def test_a_session_flood_on_the_socket_gets_one_polite_notice(app: Settings) -> None:
    url = base(app).replace("http://", "ws://") + f"/webchat/ws?session={minted(SESSION_SECRET)}"
    frames: list[dict] = []
    with connect(url, open_timeout=10) as ws:
        for n in range(12):
            ws.send(json.dumps({"type": "message", "text": f"question {n}", "id": f"c{n}"}))
        while sum(f["type"] in ("ack", "error") for f in frames) < 12:
            frames.append(json.loads(ws.recv(timeout=30)))
    acks = [f["id"] for f in frames if f["type"] == "ack"]
    errors = [f for f in frames if f["type"] == "error"]
    notices = [f for f in frames if f["type"] == "notice"]
    assert acks == [f"c{n}" for n in range(5)]  # the first five, in order
    assert [e["id"] for e in errors] == [f"c{n}" for n in range(5, 12)]
    assert all(e["error"] == "too many requests" and e["retry_after"] >= 1 for e in errors)
    assert [n["text"] for n in notices] == [say("slow_down", "en")]  # once, not seven times


def _sms(url: str, sender: str, text: str) -> httpx.Response:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "To": "+15145550199",
        "Body": text,
    }
    target = f"{url}/channels/twilio/sms"
    return httpx.post(
        target,
        content=urlencode(params),
        headers={
            "X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, target, params),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


def test_a_flooding_sender_is_acked_loses_nothing_and_is_asked_once_to_slow_down(
    app: Settings,
) -> None:
    url, sender = base(app), f"+1514555{random.randrange(10**4):04d}"
    answers = [_sms(url, sender, f"How do I renew my licence? ({n})") for n in range(8)]
    assert [a.status_code for a in answers] == [200] * 8
    conversation = f"sms:{sender}"
    engine = create_engine(app.database_url)

    def counts() -> tuple[int, int, int]:
        with engine.connect() as conn:
            stored = conn.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.conversation_id == conversation)
            )
            rows = conn.execute(
                select(OutboundMessage.text).where(OutboundMessage.conversation_id == conversation)
            ).all()
        texts = [r.text for r in rows]
        slow = texts.count(say("slow_down", "en"))
        return int(stored or 0), slow, sum(t.startswith("echo:") for t in texts)

    assert until(lambda: counts()[2] == 8)  # every message answered in turn
    assert counts() == (8, 1, 8)
    engine.dispose()


def test_on_redis_two_app_instances_share_their_counts(tmp_path: Path) -> None:
    shared = {"database_url": f"sqlite:///{tmp_path / 'shared.db'}", **RATES}
    first = app_settings(tmp_path / "a", redis_url="redis://127.0.0.1:6379/0", **shared)
    second = app_settings(tmp_path / "b", redis_url="redis://127.0.0.1:6379/0", **shared)
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    # a fresh address each run, so counts left in Redis by an earlier run do not matter
    address = f"127.{random.randrange(1, 255)}.{random.randrange(255)}.{random.randrange(1, 255)}"
    with served(first), served(second), client_from(address) as client:
        codes = [post(client, base(s)).status_code for _ in range(15) for s in (first, second)]
    assert codes.count(200) == 20 and codes.count(429) == 10  # 20 per address, not 20 each


def test_webhooks_keep_their_adapters_larger_cap(app: Settings) -> None:
    body = json.dumps({"update_id": 1, "padding": "x" * 200_000})  # over 64 kB, under 1 MB
    answer = httpx.post(
        f"{base(app)}/channels/telegram/webhook",
        content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert answer.status_code == 200  # read and parsed (an update with no message: nothing to do)


def test_previews_are_limited_per_account(tmp_path: Path) -> None:
    settings = app_settings(tmp_path, rate_limit_preview="3/hour")
    with served(settings):
        add_agent(settings.database_url, "previewer", "admin")
        client = ConsoleClient(base(settings))
        assert client.login("previewer").status_code == 303
        draft = {"language": "en", "question": "Q?", "answer": "A.", "tests": ["hello"]}
        statuses = [client.post("/console/api/studio/preview", draft).status_code for _ in range(5)]
        client.close()
    assert all(status in (200, 503) for status in statuses[:3]), statuses
    assert statuses[3:] == [429, 429]
