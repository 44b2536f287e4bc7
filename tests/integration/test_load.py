"""Load: 200 concurrent conversations across the four channels, 10 messages each, through the real
stack. Nothing may be lost, duplicated or answered out of order. The throughput is written to
tests/artifacts/load.json (a figure, not an assertion: these machines are shared)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import create_engine, select

from bot.settings import ROOT
from bot.storage.models import InboundMessage, OutboundMessage
from tests.conftest import GRAPH_SECRET, TELEGRAM_SECRET, TWILIO_SID, TWILIO_TOKEN, RunningStack
from tests.support.fakes import messenger_signature, twilio_signature
from tests.support.webchat import new_session, session_id

pytestmark = pytest.mark.stack
PER_CHANNEL, MESSAGES = 50, 10
TEXTS = [
    "hello",
    "How do I renew my driver's licence?",
    "When is my garbage collection day?",
    "thanks",
    "How do I report a pothole?",
    "What documents do I need for a first passport?",
    "renew",
    "How do I pay a parking ticket?",
    "are you a bot?",
    "goodbye",
]


async def _deliver(client: httpx.AsyncClient, url: str, **request: Any) -> httpx.Response:
    """POST the way providers deliver webhooks: a connection that drops (a busy, shared machine
    closes idle keep-alive connections under load) is retried with the very same message, which the
    app stores once. Only transport errors are retried; any answer is the test's to check."""
    for attempt in range(5):
        try:
            return await client.post(url, **request)
        except httpx.TransportError:
            if attempt == 4:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


async def _sms(client: httpx.AsyncClient, base: str, who: str, text: str) -> None:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": TWILIO_SID,
        "From": who,
        "To": "+15145550199",
        "Body": text,
    }
    url = f"{base}/channels/twilio/sms"
    response = await _deliver(
        client,
        url,
        content=urlencode(params),
        headers={
            "X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, params),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 200


async def _telegram(client: httpx.AsyncClient, base: str, who: str, text: str) -> None:
    update = {
        "update_id": uuid.uuid4().int % 2**31,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": int(who), "type": "private"},
            "from": {"id": int(who), "is_bot": False, "first_name": "Load"},
        },
    }
    response = await _deliver(
        client,
        f"{base}/channels/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert response.status_code == 200


async def _messenger(client: httpx.AsyncClient, base: str, who: str, text: str) -> None:
    raw = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "PAGE",
                    "time": 1,
                    "messaging": [
                        {
                            "sender": {"id": who},
                            "recipient": {"id": "PAGE"},
                            "timestamp": int(time.time() * 1000),
                            "message": {"mid": "m_" + uuid.uuid4().hex, "text": text},
                        }
                    ],
                }
            ],
        }
    ).encode()
    response = await _deliver(
        client,
        f"{base}/channels/messenger/webhook",
        content=raw,
        headers={
            "X-Hub-Signature-256": messenger_signature(GRAPH_SECRET, raw),
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 200


async def _webchat(client: httpx.AsyncClient, base: str, who: str, text: str) -> None:
    # A client id makes a resend of the same message a no-op.
    message = {"session": who, "text": text, "id": uuid.uuid4().hex}
    response = await _deliver(client, f"{base}/webchat/messages", json=message)
    assert response.status_code == 200


SENDERS = {"sms": _sms, "telegram": _telegram, "messenger": _messenger, "webchat": _webchat}


def _citizens(run: str, base_url: str) -> list[tuple[str, str]]:
    """(channel, who): a web-chat citizen is its session token, issued by the app."""
    citizens = []
    for n in range(PER_CHANNEL):
        citizens += [
            ("sms", f"+1873{run}{n:04d}"),
            ("telegram", f"9{run}{n:04d}"),
            ("messenger", f"load-{run}-{n}"),
            ("webchat", new_session(base_url)),
        ]
    return citizens


def test_200_concurrent_conversations_lose_nothing_and_keep_order(stack: RunningStack) -> None:
    assert stack.settings is not None
    run = str(uuid.uuid4().int)[:3]
    citizens = _citizens(run, stack.base_url)

    async def citizen(client: httpx.AsyncClient, channel: str, who: str) -> None:
        for text in TEXTS[:MESSAGES]:
            await SENDERS[channel](client, stack.base_url, who, text)

    async def everyone() -> None:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            await asyncio.gather(*(citizen(client, c, w) for c, w in citizens))

    started = time.monotonic()
    asyncio.run(everyone())
    acked = time.monotonic() - started
    conversations = {f"{c}:{session_id(w) if c == 'webchat' else w}" for c, w in citizens}
    engine = create_engine(stack.settings.database_url)

    def snapshot() -> tuple[list[Any], list[Any]]:
        with engine.connect() as conn:
            inbound = conn.execute(
                select(
                    InboundMessage.conversation_id,
                    InboundMessage.id,
                    InboundMessage.seq,
                    InboundMessage.status,
                )
            ).all()
            outbound = conn.execute(
                select(
                    OutboundMessage.conversation_id,
                    OutboundMessage.inbound_id,
                    OutboundMessage.seq,
                    OutboundMessage.status,
                    OutboundMessage.text,
                )
            ).all()
        return (
            [r for r in inbound if r[0] in conversations],
            [r for r in outbound if r[0] in conversations],
        )

    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        inbound, outbound = snapshot()
        if all(r[3] == "done" for r in inbound) and not any(r[3] == "pending" for r in outbound):
            break
        time.sleep(1)
    elapsed = time.monotonic() - started
    engine.dispose()

    assert len(inbound) == len(citizens) * MESSAGES, "every message stored, none twice"
    assert all(r[3] == "done" for r in inbound), "every message processed"
    assert {r[3] for r in outbound} == {"sent"}, "every reply delivered"
    replies: dict[int, list[int]] = defaultdict(list)
    for conv, inbound_id, seq, _, _ in outbound:
        replies[inbound_id].append(seq)
    by_conversation: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for conv, inbound_id, seq, _ in inbound:
        by_conversation[conv].append((seq, inbound_id))
        assert replies[inbound_id], f"message {inbound_id} of {conv} got no answer"
    for conv, messages in by_conversation.items():
        last_reply = 0
        for seq, inbound_id in sorted(messages):
            assert min(replies[inbound_id]) > max(seq, last_reply), f"{conv}: answered out of order"
            last_reply = max(replies[inbound_id])

    assert stack.providers is not None
    sent_texts: dict[str, list[str]] = defaultdict(list)
    for record in stack.providers.twilio.requests:
        sent_texts[f"sms:{record.body.get('To')}"].append(record.body.get("Body", ""))
    for record in stack.providers.telegram.requests:
        if record.path.endswith("/sendMessage"):
            sent_texts[f"telegram:{record.body.get('chat_id')}"].append(record.body.get("text", ""))
    for record in stack.providers.graph.requests:
        sent_texts[f"messenger:{record.body['recipient']['id']}"].append(
            record.body["message"].get("text", "")
        )
    for conv in conversations:
        if conv.startswith("webchat:"):
            continue
        stored = sorted((seq, text) for c, _, seq, _, text in outbound if c == conv)
        assert len(sent_texts[conv]) == len(stored), (
            f"{conv}: {len(sent_texts[conv])} sent, {len(stored)} stored"
        )

    figures = {
        "conversations": len(citizens),
        "messages": len(inbound),
        "replies": len(outbound),
        "acked_in_s": round(acked, 1),
        "all_answered_in_s": round(elapsed, 1),
        "messages_per_s": round(len(inbound) / elapsed, 1),
    }
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "load.json").write_text(json.dumps(figures, indent=2))
    print("load:", figures)
