"""SMS, WhatsApp, Telegram and Messenger through the whole stack, against local fake providers."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from bot.storage.models import InboundMessage
from tests.conftest import (
    GRAPH_SECRET,
    GRAPH_VERIFY,
    TELEGRAM_SECRET,
    RunningStack,
)
from tests.support.channels import (
    phone,
    sent_to_chat,
    sms,
    telegram,
    texts_to,
    tg_message,
    wait_for,
)
from tests.support.fakes import Recorded, messenger_signature
from tests.support.waiting import settled

pytestmark = pytest.mark.stack


def stored_count(stack: RunningStack) -> int:
    assert stack.settings is not None
    engine = create_engine(stack.settings.database_url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(InboundMessage)).scalar_one()
    engine.dispose()
    return int(count)


# -- Twilio --------------------------------------------------------------------------------------
def test_sms_question_is_acked_with_empty_twiml_and_answered_through_twilio(
    stack: RunningStack,
) -> None:
    number = phone()
    response = sms(stack, number, "How do I renew my driver's licence?")
    assert response.status_code == 200 and "<Response/>" in response.text
    assert response.headers["content-type"].startswith("text/xml")
    sent = wait_for(texts_to(stack, number))
    assert len(sent) == 1
    assert "renew" in sent[0].body["Body"].lower() and sent[0].body["From"] == "+15145550199"


def test_a_twilio_retry_of_the_same_message_is_a_no_op(stack: RunningStack) -> None:
    number, sid = phone(), "SM" + uuid.uuid4().hex
    assert sms(stack, number, "When is my garbage collection day?", sid).status_code == 200
    wait_for(texts_to(stack, number))
    before = stored_count(stack)
    assert sms(stack, number, "When is my garbage collection day?", sid).status_code == 200
    time.sleep(2)
    assert stored_count(stack) == before
    assert len(texts_to(stack, number)()) == 1


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_a_bad_twilio_signature_is_refused_and_changes_nothing(
    stack: RunningStack, signature: str
) -> None:
    number, before = phone(), stored_count(stack)
    response = sms(stack, number, "How do I renew my driver's licence?", signature=signature)
    assert response.status_code == 403
    time.sleep(1)
    assert stored_count(stack) == before and texts_to(stack, number)() == []


def test_sms_choices_are_numbered_and_a_number_picks_one(stack: RunningStack) -> None:
    number = phone()
    sms(stack, number, "renew")
    choices = wait_for(texts_to(stack, number))[0].body["Body"]
    assert "1)" in choices and "2)" in choices and "Reply" in choices
    sms(stack, number, "1")
    answer = wait_for(texts_to(stack, number), 2)[1].body["Body"]
    assert "renew" in answer.lower() and "1)" not in answer


def test_stop_is_confirmed_and_enforced_until_start(stack: RunningStack) -> None:
    number = phone()
    sms(stack, number, "STOP")
    confirmation = wait_for(texts_to(stack, number))
    assert "STOP" in confirmation[0].body["Body"] or "START" in confirmation[0].body["Body"]
    sms(stack, number, "How do I renew my driver's licence?")
    assert stack.settings is not None
    assert settled(stack.settings.database_url, f"sms:{number}"), "the question was processed"
    assert len(texts_to(stack, number)()) == 1, "nothing is sent to an opted-out number"
    sms(stack, number, "START")
    sms(stack, number, "HELP")
    sent = wait_for(texts_to(stack, number), 3)
    assert "resumed" in sent[1].body["Body"] and "STOP" in sent[2].body["Body"]


def test_french_keywords_answer_in_french(stack: RunningStack) -> None:
    number = phone()
    sms(stack, number, "AIDE")
    assert "ARRET" in wait_for(texts_to(stack, number))[0].body["Body"]


def test_whatsapp_uses_the_same_webhook_and_its_own_sender(stack: RunningStack) -> None:
    number = "whatsapp:" + phone()
    sms(stack, number, "How do I renew my driver's licence?")
    sent = wait_for(texts_to(stack, number))
    assert sent and sent[0].body["From"] == "whatsapp:+15145550199"


# -- Telegram ------------------------------------------------------------------------------------
def test_telegram_message_and_button_press(stack: RunningStack) -> None:
    chat = uuid.uuid4().int % 10**9
    assert telegram(stack, tg_message(chat, "renew")).status_code == 200
    first = wait_for(sent_to_chat(stack, chat))[0].body
    markup = (
        first["reply_markup"]
        if isinstance(first["reply_markup"], dict)
        else json.loads(first["reply_markup"])
    )
    button = markup["inline_keyboard"][0][0]
    press = {
        "update_id": uuid.uuid4().int % 10**9,
        "callback_query": {
            "id": "cb-" + uuid.uuid4().hex[:8],
            "chat_instance": "1",
            "data": button["callback_data"],
            "from": {"id": chat, "is_bot": False, "first_name": "Marie"},
            "message": {
                "message_id": 2,
                "date": int(time.time()),
                "text": first["text"],
                "chat": {"id": chat, "type": "private"},
                "reply_markup": markup,
            },
        },
    }
    assert telegram(stack, press).status_code == 200
    answered = wait_for(sent_to_chat(stack, chat), 2)[1].body
    assert "source" in answered["text"].lower()
    feedback = (
        answered["reply_markup"]
        if isinstance(answered["reply_markup"], dict)
        else json.loads(answered["reply_markup"])
    )
    assert [b["callback_data"] for row in feedback["inline_keyboard"] for b in row] == [
        "/helpful",
        "/not_helpful",
    ]
    assert stack.providers and any(
        r.path.endswith("/answerCallbackQuery") for r in stack.providers.telegram.requests
    )


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_telegram_without_the_secret_token_is_refused(
    stack: RunningStack, secret: str | None
) -> None:
    chat, before = uuid.uuid4().int % 10**9, stored_count(stack)
    assert telegram(stack, tg_message(chat, "hello"), secret=secret).status_code == 403
    time.sleep(1)
    assert stored_count(stack) == before and sent_to_chat(stack, chat)() == []


def test_telegram_malformed_update_is_a_400(stack: RunningStack) -> None:
    response = httpx.post(
        f"{stack.base_url}/channels/telegram/webhook",
        content=b"{not json",
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert response.status_code == 400


def test_telegram_429_is_retried_after_the_delay_it_asks_for(stack: RunningStack) -> None:
    assert stack.providers
    chat = uuid.uuid4().int % 10**9
    stack.providers.telegram.fail_next(
        1,
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests",
            "parameters": {"retry_after": 1},
        },
    )
    telegram(stack, tg_message(chat, "How do I renew my driver's licence?"))
    sent = wait_for(sent_to_chat(stack, chat), 2)
    assert len(sent) >= 2, "the refused send was retried"


# -- Messenger -----------------------------------------------------------------------------------
def messenger(
    stack: RunningStack, payload: dict[str, Any], secret: str = GRAPH_SECRET
) -> httpx.Response:
    raw = json.dumps(payload).encode()
    return httpx.post(
        f"{stack.base_url}/channels/messenger/webhook",
        content=raw,
        headers={
            "X-Hub-Signature-256": messenger_signature(secret, raw),
            "Content-Type": "application/json",
        },
    )


def fb_event(psid: str, text: str | None = None, quick_reply: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": "m_" + uuid.uuid4().hex, "text": text or ""}
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    return {
        "sender": {"id": psid},
        "recipient": {"id": "PAGE"},
        "timestamp": int(time.time() * 1000),
        "message": message,
    }


def sent_to_psid(stack: RunningStack, psid: str) -> Callable[[], list[Recorded]]:
    assert stack.providers
    return lambda: [
        r for r in stack.providers.graph.requests if r.body.get("recipient", {}).get("id") == psid
    ]


def test_messenger_subscription_handshake(stack: RunningStack) -> None:
    url = f"{stack.base_url}/channels/messenger/webhook"
    ok = httpx.get(
        url,
        params={"hub.mode": "subscribe", "hub.verify_token": GRAPH_VERIFY, "hub.challenge": "42"},
    )
    assert ok.status_code == 200 and ok.text == "42"
    bad = httpx.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"}
    )
    assert bad.status_code == 403


def test_messenger_batched_entries_quick_replies_and_window(stack: RunningStack) -> None:
    a, b = "psid-" + uuid.uuid4().hex[:8], "psid-" + uuid.uuid4().hex[:8]
    payload = {
        "object": "page",
        "entry": [
            {"id": "PAGE", "time": 1, "messaging": [fb_event(a, "renew")]},
            {
                "id": "PAGE",
                "time": 1,
                "messaging": [fb_event(b, "How do I renew my driver's licence?")],
            },
        ],
    }
    assert messenger(stack, payload).status_code == 200
    first_a = wait_for(sent_to_psid(stack, a))[0].body
    first_b = wait_for(sent_to_psid(stack, b))[0].body
    assert first_b["messaging_type"] == "RESPONSE"
    assert [q["payload"] for q in first_b["message"]["quick_replies"]] == [
        "/helpful",
        "/not_helpful",
    ]  # did it help?
    quick = first_a["message"]["quick_replies"]
    assert quick and all(len(q["title"]) <= 20 for q in quick)
    pick = {
        "object": "page",
        "entry": [
            {
                "id": "PAGE",
                "time": 1,
                "messaging": [fb_event(a, quick[0]["title"], quick_reply=quick[0]["payload"])],
            }
        ],
    }
    assert messenger(stack, pick).status_code == 200
    assert "source" in wait_for(sent_to_psid(stack, a), 2)[1].body["message"]["text"].lower()


def test_messenger_bad_signature_and_malformed_bodies(stack: RunningStack) -> None:
    psid, before = "psid-" + uuid.uuid4().hex[:8], stored_count(stack)
    event = {
        "object": "page",
        "entry": [{"id": "PAGE", "time": 1, "messaging": [fb_event(psid, "hello")]}],
    }
    assert messenger(stack, event, secret="not-the-secret").status_code == 403
    assert messenger(stack, {"object": "user"}).status_code == 400
    time.sleep(1)
    assert stored_count(stack) == before and sent_to_psid(stack, psid)() == []


# -- the routing layer ----------------------------------------------------------------------------
def test_unknown_channel_and_oversized_bodies(stack: RunningStack) -> None:
    assert httpx.post(f"{stack.base_url}/channels/pigeon/webhook", json={}).status_code == 404
    # past Telegram's own 1 MB cap (the app-wide 64 kB cap leaves webhooks their adapters' caps)
    big = httpx.post(
        f"{stack.base_url}/channels/telegram/webhook",
        content=b"x" * 1_100_000,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert big.status_code == 413
