"""Messenger: signed page webhooks through a real ASGI app, Send API calls against a local
fake Graph."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors.base import Outgoing, SendError
from connectors.messenger import MessengerAdapter
from tests.support.fakes import FakeGraph, fixture, messenger_signature, parsing_app

PAGE_TOKEN = "EAAGm0PX4ZCpsBAKZCZAtestpagetoken"
APP_SECRET = "9f86d081884c7d659a2feaa0c55ad015"
VERIFY = "govbot-verify-7c1e"
PATH = "/channels/messenger/webhook"
PSID = "6453827190264718"
SOURCE = "Source: https://www.canada.ca/en/services/benefits/ei.html"


def adapter(**overrides: Any) -> MessengerAdapter:
    return MessengerAdapter(PAGE_TOKEN, APP_SECRET, VERIFY, **overrides)


def post(body: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return TestClient(parsing_app(adapter(), PATH)).post(PATH, content=body, headers=headers)


def signed(name: str) -> Any:
    body = fixture(name)
    return post(body, messenger_signature(APP_SECRET, body))


def test_subscription_check() -> None:
    messenger = adapter()
    good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    assert messenger.verify_subscription(good) == "1158201444"
    assert messenger.verify_subscription({**good, "hub.verify_token": "guess"}) is None
    assert messenger.verify_subscription({**good, "hub.mode": "unsubscribe"}) is None
    assert messenger.verify_subscription({"hub.mode": "subscribe", "hub.challenge": "x"}) is None


def test_a_text_message_is_parsed_and_a_replay_has_the_same_id() -> None:
    first = signed("messenger_text.json")
    assert first.status_code == 200, first.text
    assert first.json() == signed("messenger_text.json").json()
    [message] = first.json()
    assert message["channel"] == "messenger" and message["address"] == PSID
    assert message["provider_message_id"].startswith("m_Aq8lW3")
    assert message["text"] == "How do I renew my passport?" and message["title"] is None
    assert message["sent_at"] == "2024-06-10T15:00:00.123000+00:00"


def test_quick_replies_and_postbacks_give_their_payload_and_label() -> None:
    [quick] = signed("messenger_quick_reply.json").json()
    assert (quick["text"], quick["title"]) == ('/faq{"id":"passport-renewal"}', "Renew a passport")
    [postback] = signed("messenger_postback.json").json()
    assert (postback["text"], postback["title"]) == ("/handoff", "Talk to a person")
    assert postback["provider_message_id"].startswith("m_Cr0nY5")


def test_a_postback_without_mid_gets_a_stable_id() -> None:
    data = json.loads(fixture("messenger_postback.json"))
    del data["entry"][0]["messaging"][0]["postback"]["mid"]
    body = json.dumps(data).encode()
    first = post(body, messenger_signature(APP_SECRET, body)).json()
    assert first[0]["provider_message_id"] == f"postback:{PSID}:1718031620123"
    assert post(body, messenger_signature(APP_SECRET, body)).json() == first


def test_a_batch_skips_echoes_and_receipts() -> None:
    messages = signed("messenger_batched.json").json()
    assert [m["text"] for m in messages] == ["Quelles sont les heures d'ouverture ?"]


def test_bad_signatures_are_refused_before_the_body_is_parsed() -> None:
    body = fixture("messenger_text.json")
    assert post(body, None).status_code == 403
    assert post(body, messenger_signature("wrong-secret", body)).status_code == 403
    assert (
        post(body.replace(b"renew", b"cancel"), messenger_signature(APP_SECRET, body)).status_code
        == 403
    )
    sha1 = "sha1=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert post(body, sha1).status_code == 403


def test_signed_but_malformed_bodies_are_400() -> None:
    for body in (
        b"not json",
        b'{"object": "instagram", "entry": []}',
        b'{"object": "page"}',
        b"[]",
    ):
        assert post(body, messenger_signature(APP_SECRET, body)).status_code == 400, body


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph(PAGE_TOKEN) as server:
        yield server


@pytest.mark.anyio
async def test_send_a_response_with_quick_replies(fake: FakeGraph) -> None:
    messenger = adapter(graph_base=fake.base_url)
    buttons = [{"title": "Employment Insurance regular benefits", "payload": "/faq_ei"}] + [
        {"title": f"Option {i}", "payload": f"/p{i}"} for i in range(14)
    ]
    message_id = await messenger.send(PSID, Outgoing("Did you mean:", buttons))
    await messenger.aclose()
    [request] = fake.requests
    assert message_id.startswith("m_")
    assert request.path == "/v19.0/me/messages"
    assert request.query["access_token"] == PAGE_TOKEN
    assert (
        request.query["appsecret_proof"]
        == hmac.new(APP_SECRET.encode(), PAGE_TOKEN.encode(), hashlib.sha256).hexdigest()
    )
    assert request.body["recipient"] == {"id": PSID}
    assert request.body["messaging_type"] == "RESPONSE" and "tag" not in request.body
    quick = request.body["message"]["quick_replies"]
    assert len(quick) == 13
    assert quick[0] == {
        "content_type": "text",
        "title": "Employment Insuranc…",
        "payload": "/faq_ei",
    }
    assert all(len(q["title"]) <= 20 for q in quick)


@pytest.mark.anyio
async def test_a_person_s_reply_carries_the_human_agent_tag_and_long_text_keeps_its_source(
    fake: FakeGraph,
) -> None:
    messenger = adapter(graph_base=fake.base_url)
    await messenger.send(
        PSID, Outgoing("An agent wrote this. " * 200 + "\n" + SOURCE, human_agent=True)
    )
    await messenger.aclose()
    body = fake.requests[0].body
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    text = body["message"]["text"]
    assert (
        len(text) <= 2000
        and text.endswith("\n" + SOURCE)
        and "quick_replies" not in body["message"]
    )


@pytest.mark.anyio
async def test_answers_in_the_answer_format_go_out_as_plain_text(fake: FakeGraph) -> None:
    messenger = adapter(graph_base=fake.base_url)
    answer = "See [the form](https://a.example/form) or [this](data:text/html,<b>x</b>)."
    await messenger.send(PSID, Outgoing(answer))
    await messenger.aclose()
    text = fake.requests[0].body["message"]["text"]
    assert text == "See the form (https://a.example/form) or this."


def graph_error(code: int) -> dict[str, Any]:
    return {
        "error": {
            "message": f"(#{code}) test",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AzX",
        }
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "body", "headers", "retryable", "retry_after"),
    [
        (400, None, {}, False, None),  # code 10: outside the 24-hour window
        (403, None, {}, False, None),  # code 200: no permission
        (400, graph_error(551), {}, False, None),  # this person isn't available right now
        (400, graph_error(613), {}, True, None),  # rate limit, reported as a 400
        (403, graph_error(32), {}, True, None),  # page-level throttling
        (429, None, {"Retry-After": "30"}, True, 30.0),
        (500, None, {}, True, None),
        (503, b"<html>upstream</html>", {}, True, None),
    ],
)
async def test_send_failures_are_classified(
    fake: FakeGraph,
    status: int,
    body: Any,
    headers: dict[str, str],
    retryable: bool,
    retry_after: float | None,
) -> None:
    messenger = adapter(graph_base=fake.base_url)
    fake.fail_next(1, status, body, headers)
    with pytest.raises(SendError) as caught:
        await messenger.send(PSID, Outgoing("Hello"))
    await messenger.aclose()
    assert caught.value.retryable is retryable
    assert caught.value.retry_after == retry_after
    if status == 400 and body is None:
        assert "outside of allowed window" in str(caught.value)


@pytest.mark.anyio
async def test_a_timeout_is_retryable() -> None:
    with FakeGraph(PAGE_TOKEN, delay_s=0.5) as slow:
        messenger = adapter(graph_base=slow.base_url, timeout_s=0.1)
        with pytest.raises(SendError) as caught:
            await messenger.send(PSID, Outgoing("Hello"))
        await messenger.aclose()
    assert caught.value.retryable
