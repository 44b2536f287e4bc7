"""Telegram: secret-token webhooks through a real ASGI app, Bot API calls against a local fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors.base import Outgoing, SendError
from connectors.telegram import TelegramAdapter
from tests.support.fakes import FakeTelegram, fixture, parsing_app

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "s3cr3t-Token_for-webhooks"
PATH = "/channels/telegram/webhook"
LONG_PAYLOAD = '/faq{"id":"employment-insurance-regular-benefits-how-to-apply-online"}'


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as server:
        yield server


def post(http: TestClient, body: bytes, secret: str | None = SECRET) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return http.post(PATH, content=body, headers=headers)


def client(telegram: TelegramAdapter) -> TestClient:
    return TestClient(parsing_app(telegram, PATH, after=telegram.acknowledge))


def test_a_text_message_is_parsed_and_a_replay_has_the_same_id() -> None:
    http = client(TelegramAdapter(TOKEN, SECRET))
    first = post(http, fixture("telegram_message.json"))
    assert first.status_code == 200, first.text
    assert first.json() == post(http, fixture("telegram_message.json")).json()
    [message] = first.json()
    assert message["channel"] == "telegram" and message["address"] == "123456789"
    assert message["provider_message_id"] == "904113258"
    assert message["text"] == "Comment renouveler mon passeport ?"
    assert message["sent_at"].startswith("2024-06-10T15:00:00")


def test_a_pressed_button_gives_its_payload_and_label_and_is_acknowledged(
    fake: FakeTelegram,
) -> None:
    http = client(TelegramAdapter(TOKEN, SECRET, api_base=fake.base_url))
    [message] = post(http, fixture("telegram_callback_query.json")).json()
    assert message["text"] == '/faq{"id":"passport-renewal"}'
    assert message["title"] == "Renouveler un passeport"
    assert message["provider_message_id"] == "904113259"
    [answer] = fake.requests
    assert answer.path.endswith("/answerCallbackQuery")
    assert answer.body["callback_query_id"] == "530298231470951345"


def test_updates_without_text_are_ignored() -> None:
    http = client(TelegramAdapter(TOKEN, SECRET))
    assert post(http, fixture("telegram_edited_message.json")).json() == []
    sticker = json.loads(fixture("telegram_message.json"))
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {
        "file_id": "CAACAgIAAxkBAAIB",
        "file_unique_id": "AgADYQAD",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    assert post(http, json.dumps(sticker).encode()).json() == []


def test_a_missing_or_wrong_secret_is_refused_and_garbage_is_malformed() -> None:
    http = client(TelegramAdapter(TOKEN, SECRET))
    assert post(http, fixture("telegram_message.json"), secret=None).status_code == 403
    assert post(http, fixture("telegram_message.json"), secret=SECRET + "x").status_code == 403
    assert post(http, b"not json").status_code == 400
    assert post(http, b"[1, 2]").status_code == 400
    assert post(http, b'{"message": {"text": "hi"}}').status_code == 400
    assert (
        post(http, b'{"update_id": 5, "message": {"text": "no date or chat"}}').status_code == 400
    )


def test_bad_secrets_are_refused_at_construction() -> None:
    for secret in ("", "has spaces", "x" * 257):
        with pytest.raises(ValueError):
            TelegramAdapter(TOKEN, secret)


@pytest.mark.anyio
async def test_send_renders_one_button_per_row_without_calling_getme(fake: FakeTelegram) -> None:
    telegram = TelegramAdapter(TOKEN, SECRET, api_base=fake.base_url)
    buttons = [
        {"title": "Renew a passport", "payload": "/faq1"},
        {"title": "Lost passport", "payload": "/faq2"},
    ]
    sent_id = await telegram.send("123456789", Outgoing("Did you mean:", buttons))
    await telegram.aclose()
    [request] = fake.requests
    assert request.path == f"/bot{TOKEN}/sendMessage"
    assert sent_id == f"123456789:{1001}"
    assert request.body["chat_id"] == "123456789" and request.body["text"] == "Did you mean:"
    assert request.body["parse_mode"] == "HTML"  # escaped by connectors.rich_text
    assert json.loads(request.body["reply_markup"]) == {
        "inline_keyboard": [
            [{"text": "Renew a passport", "callback_data": "/faq1"}],
            [{"text": "Lost passport", "callback_data": "/faq2"}],
        ]
    }


@pytest.mark.anyio
async def test_a_long_payload_travels_as_a_token_and_comes_back_whole(fake: FakeTelegram) -> None:
    telegram = TelegramAdapter(TOKEN, SECRET, api_base=fake.base_url)
    await telegram.send(
        "123456789", Outgoing("Did you mean:", [{"title": "Apply for EI", "payload": LONG_PAYLOAD}])
    )
    await telegram.aclose()
    markup = json.loads(fake.requests[0].body["reply_markup"])
    token = markup["inline_keyboard"][0][0]["callback_data"]
    assert len(token.encode()) <= 64 and token.startswith("h:")
    update = json.loads(fixture("telegram_callback_query.json"))
    update["callback_query"]["data"] = token
    update["callback_query"]["message"]["reply_markup"] = markup
    body = json.dumps(update).encode()
    assert post(client(telegram), body).json()[0]["text"] == LONG_PAYLOAD
    # Another process never saw the payload: the button's label stands in for it.
    stranger = TelegramAdapter(TOKEN, SECRET, api_base=fake.base_url)
    assert post(client(stranger), body).json()[0]["text"] == "Apply for EI"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "retryable", "retry_after"),
    [
        (429, True, 1.0),
        (500, True, None),
        (502, True, None),
        (403, False, None),
        (400, False, None),
        (401, False, None),
    ],
)
async def test_send_failures_are_classified(
    fake: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    retryable: bool,
    retry_after: float | None,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB's coming default: retry_after as a timedelta
    telegram = TelegramAdapter(TOKEN, SECRET, api_base=fake.base_url)
    fake.fail_next(1, status)
    with pytest.raises(SendError) as caught:
        await telegram.send("123456789", Outgoing("Hello"))
    await telegram.aclose()
    assert caught.value.retryable is retryable
    assert caught.value.retry_after == retry_after


@pytest.mark.anyio
# PTB 22 itself warns inside RetryAfter() unless PTB_TIMEDELTA is set; the int form must still work.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_in_whole_seconds(fake: FakeTelegram) -> None:
    telegram = TelegramAdapter(TOKEN, SECRET, api_base=fake.base_url)
    fake.fail_next(
        1,
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 35",
            "parameters": {"retry_after": 35},
        },
    )
    with pytest.raises(SendError) as caught:
        await telegram.send("123456789", Outgoing("Hello"))
    await telegram.aclose()
    assert caught.value.retryable and caught.value.retry_after == 35.0


@pytest.mark.anyio
async def test_a_timeout_is_retryable() -> None:
    with FakeTelegram(TOKEN, delay_s=0.5) as slow:
        telegram = TelegramAdapter(TOKEN, SECRET, api_base=slow.base_url, timeout_s=0.1)
        with pytest.raises(SendError) as caught:
            await telegram.send("123456789", Outgoing("Hello"))
        await telegram.aclose()
    assert caught.value.retryable


@pytest.mark.anyio
async def test_set_webhook_sends_the_secret_and_the_update_types(fake: FakeTelegram) -> None:
    telegram = TelegramAdapter(TOKEN, SECRET, api_base=fake.base_url)
    assert (
        await telegram.set_webhook("https://govbot.example.gc.ca/channels/telegram/webhook") is True
    )
    await telegram.aclose()
    [request] = fake.requests
    assert request.path.endswith("/setWebhook")
    assert request.body["url"] == "https://govbot.example.gc.ca/channels/telegram/webhook"
    assert request.body["secret_token"] == SECRET
    assert json.loads(request.body["allowed_updates"]) == ["message", "callback_query"]


@pytest.mark.anyio
async def test_answers_go_out_as_escaped_html_and_agents_text_too(fake: FakeTelegram) -> None:
    telegram = TelegramAdapter(TOKEN, SECRET, api_base=fake.base_url)
    answer = "Bring:\n- [two photos](https://passports.example/photos)\n- [x](javascript:alert(1))"
    await telegram.send("123456789", Outgoing(answer))
    await telegram.send("123456789", Outgoing("File <b>#12</b> & co. <script>", human_agent=True))
    await telegram.send("123456789", Outgoing("A < B. " * 1000))  # past 4096: shortened plain text
    await telegram.aclose()
    formatted, agent, long = (r.body for r in fake.requests)
    assert formatted["text"] == (
        'Bring:\n\n• <a href="https://passports.example/photos">two photos</a>\n• x'
    )
    assert agent["text"] == "File &lt;b&gt;#12&lt;/b&gt; &amp; co. &lt;script&gt;"
    assert agent["parse_mode"] == long["parse_mode"] == "HTML"
    assert "<" not in long["text"] and long["text"].startswith("A &lt; B. A &lt; B.")
    assert len(long["text"].replace("&lt;", "<")) <= 4096
