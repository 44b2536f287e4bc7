"""Outreach through the whole stack, against the fake providers: SMS double opt-in, a broadcast
written and approved with the CLI by two supervisors, delivered once to confirmed subscribers only,
its signed delivery reports, a reply to it answered by the bot, and Telegram's topic buttons."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import create_engine, select

from bot.storage.models import OutboundMessage
from tests.conftest import TWILIO_SID, TWILIO_TOKEN, RunningStack
from tests.support.channels import phone, sent_to_chat, sms, telegram, texts_to, tg_message
from tests.support.console import add_agent
from tests.support.fakes import twilio_signature
from tests.support.waiting import cli, until

pytestmark = pytest.mark.stack
ROOT = Path(__file__).resolve().parents[2]


def bodies(stack: RunningStack, number: str) -> list[str]:
    return [r.body["Body"] for r in texts_to(stack, number)()]


@pytest.fixture
def topic(stack: RunningStack) -> str:
    """A topic of this test's own (the stack is shared by every test)."""
    if stack.settings is None:
        pytest.skip("needs the test stack's own database")
    slug = f"t-{uuid.uuid4().hex[:8]}"
    supervisor = f"sup-{uuid.uuid4().hex[:6]}"
    add_agent(stack.settings.database_url, supervisor, "supervisor")
    added = cli(stack, "topics", "add", slug, "--name-en", f"Road closures {slug}",
                "--name-fr", f"Fermetures de routes {slug}", "--by", supervisor)  # fmt: skip
    assert added.returncode == 0, added.stderr
    return slug


def status(stack: RunningStack, broadcast_id: str) -> dict[str, Any]:
    shown = cli(stack, "broadcast", "status", broadcast_id, "--json")
    assert shown.returncode == 0, shown.stderr
    return dict(json.loads(shown.stdout))


def test_sms_double_opt_in_and_a_two_supervisor_broadcast(stack: RunningStack, topic: str) -> None:
    assert stack.settings is not None
    confirmed, unconfirmed, stopped, left, french = (phone() for _ in range(5))
    sms(stack, confirmed, f"SUBSCRIBE {topic}")
    assert until(lambda: any("YES" in b for b in bodies(stack, confirmed)))
    sms(stack, confirmed, "YES")
    assert until(lambda: any("you are subscribed" in b for b in bodies(stack, confirmed)))
    sms(stack, unconfirmed, f"SUBSCRIBE {topic}")  # never says YES
    sms(stack, french, f"ABONNER {topic}")
    assert until(lambda: any("OUI" in b for b in bodies(stack, french)))
    sms(stack, french, "oui")
    assert until(lambda: any("abonné" in b for b in bodies(stack, french)))
    for number in (stopped, left):
        sms(stack, number, f"SUBSCRIBE {topic}")
        assert until(lambda n=number: bodies(stack, n))
        sms(stack, number, "YES")
        assert until(lambda n=number: len(bodies(stack, n)) >= 2)
    sms(stack, stopped, "STOP")
    sms(stack, left, f"UNSUBSCRIBE {topic}")
    assert until(lambda: any("no longer" in b for b in bodies(stack, left)))
    assert until(lambda: len(bodies(stack, stopped)) >= 3)
    sms(stack, unconfirmed, "TOPICS")
    assert until(lambda: any(topic in b for b in bodies(stack, unconfirmed)))

    maker, checker = (f"sup-{uuid.uuid4().hex[:6]}" for _ in range(2))
    for name in (maker, checker):
        add_agent(stack.settings.database_url, name, "supervisor")
    created = cli(stack, "broadcast", "create", "--topic", topic, "--text-en",
                  "Highway 20 is open again.", "--text-fr", "L'autoroute 20 est rouverte.",
                  "--urgent", "--by", maker)  # fmt: skip
    assert created.returncode == 0, created.stderr
    broadcast_id = created.stdout.strip()
    assert broadcast_id.isdigit()
    same = cli(stack, "broadcast", "approve", broadcast_id, "--by", maker)
    assert same.returncode == 1 and "second supervisor" in same.stderr
    assert status(stack, broadcast_id)["state"] == "awaiting_approval"
    time.sleep(2)
    assert not any("Highway 20" in b for b in bodies(stack, confirmed)), "nothing before approval"
    approved = cli(stack, "broadcast", "approve", broadcast_id, "--by", checker)
    assert approved.returncode == 0, approved.stderr

    assert until(lambda: status(stack, broadcast_id)["sent"] == 2)
    time.sleep(2)  # a second copy would show up by now
    assert [b for b in bodies(stack, confirmed) if "Highway 20" in b] == [
        "Highway 20 is open again."
    ]
    assert [b for b in bodies(stack, french) if "autoroute" in b] == [
        "L'autoroute 20 est rouverte."
    ]
    for number in (unconfirmed, stopped, left):
        texts = bodies(stack, number)
        assert not any("Highway" in b or "autoroute" in b for b in texts), number
    result = status(stack, broadcast_id)
    assert (result["state"], result["queued"], result["sent"]) == ("sent", 2, 2)

    # Twilio's signed delivery report, then a forged one.
    engine = create_engine(stack.settings.database_url)
    with engine.connect() as conn:
        sid = conn.execute(
            select(OutboundMessage.provider_message_id).where(
                OutboundMessage.conversation_id == f"sms:{confirmed}",
                OutboundMessage.kind == "broadcast",
            )
        ).scalar_one()
    engine.dispose()
    url = f"{stack.base_url}/channels/twilio/status"
    report = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": TWILIO_SID}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    forged = httpx.post(
        url,
        content=urlencode({**report, "MessageStatus": "failed"}),
        headers={**headers, "X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, report)},
    )
    assert forged.status_code == 403
    signed = httpx.post(
        url,
        content=urlencode(report),
        headers={**headers, "X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, report)},
    )
    assert signed.status_code == 204
    assert status(stack, broadcast_id)["delivered"] == 1
    assert status(stack, broadcast_id)["failed"] == 0

    # A reply to the broadcast is a question for the bot.
    before = len(bodies(stack, confirmed))
    sms(stack, confirmed, "How do I renew my driver's licence?")
    assert until(lambda: len(bodies(stack, confirmed)) > before)
    assert "renew" in bodies(stack, confirmed)[before].lower()
    assert until(lambda: status(stack, broadcast_id)["replies"] == 1)


def test_telegram_lists_topics_as_buttons_and_a_press_subscribes(
    stack: RunningStack, topic: str
) -> None:
    chat = uuid.uuid4().int % 10**9
    assert telegram(stack, tg_message(chat, "TOPICS")).status_code == 200
    [listing] = until(lambda: sent_to_chat(stack, chat)())
    markup = listing.body["reply_markup"]
    markup = markup if isinstance(markup, dict) else json.loads(markup)
    buttons = [b for row in markup["inline_keyboard"] for b in row]
    [ours] = [b for b in buttons if topic in b["text"]]
    assert telegram(stack, tg_message(chat, ours["callback_data"])).status_code == 200
    replies = until(lambda: sent_to_chat(stack, chat)()[1:])
    assert f"you are subscribed to Road closures {topic}" in replies[0].body["text"]


def test_web_chat_is_told_where_subscriptions_live(stack: RunningStack) -> None:
    from tests.support.webchat import new_session

    response = httpx.post(
        f"{stack.base_url}/webchat/messages",
        json={"session": new_session(stack.base_url), "text": "SUBSCRIBE"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert "cannot reach you later" in "\n".join(m["text"] for m in response.json()["messages"])


def test_status_callbacks_refuse_what_twilio_did_not_sign(stack: RunningStack) -> None:
    url = f"{stack.base_url}/channels/twilio/status"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    signed_empty = twilio_signature(TWILIO_TOKEN, url, {})
    cases = [
        (b"MessageSid=SM1&MessageStatus=delivered", {}, 403),  # no signature
        (b"\xff\xfe", {"X-Twilio-Signature": "abc"}, 403),  # not UTF-8
        (b"", {"X-Twilio-Signature": signed_empty}, 400),  # signed, but nothing in it
        (b"x" * (65 * 1024), {"X-Twilio-Signature": "abc"}, 413),  # over the cap
    ]
    for body, headers, expected in cases:
        response = httpx.post(url, content=body, headers={**form, **headers})
        assert response.status_code == expected, (body[:20], response.text)
        assert "error" in response.json()
    unknown = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    response = httpx.post(
        url,
        content=urlencode(unknown),
        headers={**form, "X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, unknown)},
    )
    assert response.status_code == 204, "a report on a message we do not know changes nothing"
