"""The scale path for real, on loopback: two app replicas and two engine replicas sharing PostgreSQL
(app database and Rasa's tracker store) and Redis (Rasa's lock store and the live-event relay).

A load balancer is simulated by sending each conversation's messages to alternating replicas.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import redis
import yaml
from sqlalchemy import create_engine, text
from websockets.sync.client import connect

from bot import stack as stack_module
from bot.knowledge.bank import FaqBank
from bot.settings import ROOT, Settings
from tests.conftest import IN_CI, NO_RATE_LIMITS, TWILIO_SID, TWILIO_TOKEN, free_port
from tests.integration.conftest import POSTGRES_URL
from tests.support.fakes import FakeTwilio, twilio_signature
from tests.support.webchat import new_session

pytestmark = pytest.mark.stack
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
QUESTIONS = [
    "mv-renew-licence-en",
    "city-collection-day-en",
    "city-pothole-report-en",
    "id-passport-adult-en",
]


@dataclass
class Cluster:
    apps: list[str]
    twilio: FakeTwilio
    database_url: str


def _servers_reachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"PostgreSQL or Redis not reachable: {exc.__class__.__name__}"
    return None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    problem = _servers_reachable() or (
        None if stack_module.MODEL.exists() else "no trained Rasa model"
    )
    if problem:
        (pytest.fail if IN_CI else pytest.skip)(problem)
    schema = "replicas_" + uuid.uuid4().hex[:8]
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    database_url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    processes = []
    session_secret = secrets.token_urlsafe(32)
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as twilio:
        replicas = []
        for number in range(2):
            var_dir = tmp_path_factory.mktemp(f"replica{number}")
            # each replica its own copy of the index: what a test publishes stays out of var/index
            shutil.copytree(ROOT / "var" / "index", var_dir / "index")
            port = free_port()
            replicas.append(
                Settings(
                    port=port,
                    engine_port=free_port(),
                    var_dir=var_dir,
                    database_url=database_url,
                    redis_url=REDIS_URL,
                    public_base_url="http://lb.example",
                    index_dir=var_dir / "index",
                    retry_interval_s=0.5,
                    lease_s=10,
                    claim_s=10,
                    twilio_account_sid=TWILIO_SID,
                    twilio_auth_token=TWILIO_TOKEN,
                    twilio_from_number="+15145550199",
                    twilio_api_base=twilio.base_url,
                    **NO_RATE_LIMITS,
                    # Shared, as every deployment with replicas must: sessions work on either.
                    webchat_session_secret=session_secret,
                )
            )
        # Each replica's engine answers only its app (ENGINE_TOKEN); actions likewise.
        replicas = [stack_module.with_run_secrets(settings) for settings in replicas]
        try:
            for (
                settings
            ) in replicas:  # one after the other: both engines create Rasa's tables at start
                processes.append(stack_module.start_engine(settings))
                assert stack_module.wait_ready(
                    f"http://127.0.0.1:{settings.engine_port}/", processes[-1:], 300
                )
            for settings in replicas:
                processes.append(stack_module.start_app(settings))
            for settings in replicas:
                assert stack_module.wait_ready(
                    f"http://127.0.0.1:{settings.port}/healthz", processes, 300
                )
            yield Cluster([f"http://127.0.0.1:{s.port}" for s in replicas], twilio, database_url)
        finally:
            stack_module.stop(processes)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


async def _send_sms(client: httpx.AsyncClient, app: str, number: str, body: str) -> None:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": TWILIO_SID,
        "From": number,
        "To": "+15145550199",
        "Body": body,
    }
    # Both replicas sit behind one public URL (the load balancer's), which Twilio signs.
    signature = twilio_signature(TWILIO_TOKEN, "http://lb.example/channels/twilio/sms", params)
    response = await client.post(
        f"{app}/channels/twilio/sms",
        content=urlencode(params),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 200, response.text


def test_two_replicas_answer_every_message_once_and_in_order(cluster: Cluster) -> None:
    bank = FaqBank.load(ROOT / "data" / "faqs").by_id()
    questions = [bank[i] for i in QUESTIONS]
    numbers = ["+1819555" + f"{n:04d}" for n in range(12)]

    async def citizen(client: httpx.AsyncClient, number: str) -> None:
        for turn, faq in enumerate(questions):  # sent one after the other, to alternating replicas
            await _send_sms(client, cluster.apps[turn % 2], number, faq.question)

    async def everyone() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            await asyncio.gather(*(citizen(client, n) for n in numbers))

    asyncio.run(everyone())
    deadline = time.monotonic() + 180

    def received() -> dict[str, list[str]]:
        by_number: dict[str, list[str]] = {n: [] for n in numbers}
        for record in cluster.twilio.requests:
            if record.body.get("To") in by_number:
                by_number[record.body["To"]].append(record.body["Body"])
        return by_number

    while time.monotonic() < deadline and any(len(v) < len(questions) for v in received().values()):
        time.sleep(0.5)
    time.sleep(3)  # a duplicate would show up by now
    for number, texts in received().items():
        assert len(texts) == len(questions), (
            f"{number}: {len(texts)} replies for {len(questions)} messages"
        )
        for text_, faq in zip(texts, questions):
            assert faq.source_url and faq.source_url in text_, f"{number}: replies out of order"


def test_a_reply_made_on_one_replica_reaches_a_socket_on_the_other(cluster: Cluster) -> None:
    session = new_session(cluster.apps[0])  # issued by replica 0, used on both
    url = cluster.apps[1].replace("http://", "ws://") + f"/webchat/ws?session={session}"
    with connect(url) as ws:
        time.sleep(0.5)  # subscribed on replica 1
        response = httpx.post(
            f"{cluster.apps[0]}/webchat/messages",
            json={"session": session, "text": "When is my garbage collection day?"},
            timeout=60,
        )
        assert response.status_code == 200
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            frame = json.loads(ws.recv(timeout=30))
            seen.append(frame)
            if frame.get("type") == "message" and frame.get("from") == "bot":
                break
    assert any(f.get("from") == "user" for f in seen), "the citizen's own message, relayed"
    assert "collection" in seen[-1]["text"].lower()


def test_one_publish_reaches_both_replicas_within_ten_seconds(
    cluster: Cluster, tmp_path: Path
) -> None:
    doc = {
        "agency": {"id": "ports", "name": {"en": "Northbridge Harbour"}},
        "faqs": [
            {
                "id": "ports-mooring-en",
                "language": "en",
                "question": "How do I rent a mooring buoy in Northbridge harbour?",
                "alternatives": ["mooring buoy rental", "rent a boat mooring"],
                "answer": "Moorings are rented by the season at the harbour office, form HB-77.",
            }
        ],
    }
    path = tmp_path / "ports.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "kb", "import", str(path), "--publish"],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": cluster.database_url},
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    published = time.monotonic()
    number = "+18195559901"

    async def ask(app: str) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            await _send_sms(client, app, number, "How can I rent a mooring buoy in the harbour?")

    live: dict[int, float] = {}
    while len(live) < 2 and time.monotonic() - published < 30:
        for replica, app in enumerate(cluster.apps):
            if replica in live:
                continue
            before = len(cluster.twilio.requests)
            asyncio.run(ask(app))
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                replies = [
                    r.body["Body"]
                    for r in cluster.twilio.requests[before:]
                    if r.body.get("To") == number
                ]
                if replies:
                    break
                time.sleep(0.2)
            if any("HB-77" in reply for reply in replies):
                live[replica] = time.monotonic() - published
        time.sleep(0.5)
    assert sorted(live) == [0, 1], f"answered with the new FAQ by replicas {sorted(live)} only"
    assert max(live.values()) <= 10 + 5, live  # 10 s promised; each check waits for a reply
