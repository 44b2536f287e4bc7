"""Talking to a running stack's provider channels as the providers do (signed Twilio forms,
Telegram updates), and reading what the fake providers were sent."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.conftest import TELEGRAM_SECRET, TWILIO_SID, TWILIO_TOKEN, RunningStack
from tests.support.fakes import Recorded, twilio_signature

# Numbers no two tests share in a run (the stack and its database are shared by every test): a
# random start, then one after another. (Four random digits collided now and then.)
_NUMBERS = itertools.count(1_000_000 + uuid.uuid4().int % 8_000_000)


def phone() -> str:
    """A citizen's number of its own."""
    return f"+1514{next(_NUMBERS)}"


def wait_for(
    found: Callable[[], list[Recorded]], n: int = 1, timeout_s: float = 60
) -> list[Recorded]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(records := found()) >= n:
            return records
        time.sleep(0.2)
    return found()


def sms(
    stack: RunningStack,
    sender: str,
    body: str,
    sid: str | None = None,
    signature: str | None = None,
) -> httpx.Response:
    params = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "To": "+15145550199",
        "Body": body,
        "NumMedia": "0",
    }
    url = f"{stack.base_url}/channels/twilio/sms"
    headers = {
        "X-Twilio-Signature": signature
        if signature is not None
        else twilio_signature(TWILIO_TOKEN, url, params),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return httpx.post(url, content=urlencode(params), headers=headers)


def texts_to(stack: RunningStack, number: str) -> Callable[[], list[Recorded]]:
    assert stack.providers
    return lambda: [r for r in stack.providers.twilio.requests if r.body.get("To") == number]


def telegram(
    stack: RunningStack, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET
) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return httpx.post(f"{stack.base_url}/channels/telegram/webhook", json=update, headers=headers)


def tg_message(chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    return {
        "update_id": update_id or uuid.uuid4().int % 10**9,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": chat_id, "type": "private", "first_name": "Marie"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Marie"},
        },
    }


def sent_to_chat(stack: RunningStack, chat_id: int) -> Callable[[], list[Recorded]]:
    assert stack.providers
    return lambda: [
        r
        for r in stack.providers.telegram.requests
        if r.path.endswith("/sendMessage") and str(r.body.get("chat_id")) == str(chat_id)
    ]
