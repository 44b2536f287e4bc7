"""Twilio: signed form webhooks through a real ASGI app, sends against a local fake Messages API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from fastapi.testclient import TestClient

from connectors.base import Outgoing, SendError, WebhookRejected, WebhookRequest
from connectors.sms_text import is_gsm7, segments
from connectors.twilio import STATUS_PATH, TwilioAdapter
from tests.support.fakes import FakeTwilio, fixture, parsing_app, twilio_signature

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "f3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8"
PUBLIC = "https://govbot.example.gc.ca"
PATH = "/channels/twilio/sms"


def adapter(**overrides: object) -> TwilioAdapter:
    options: dict[str, object] = {
        "account_sid": SID,
        "auth_token": TOKEN,
        "from_number": "+15145550199",
        "whatsapp_from": "+14155238886",
        "public_base_url": PUBLIC,
        **overrides,
    }
    return TwilioAdapter(**options)  # type: ignore[arg-type]


def client(twilio: TwilioAdapter) -> TestClient:
    return TestClient(parsing_app(twilio, PATH))


def post(
    http: TestClient,
    params: dict[str, str],
    signature: str | None,
    path: str = PATH,
    headers: dict[str, str] | None = None,
) -> Any:
    sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    if signature is not None:
        sent["X-Twilio-Signature"] = signature
    return http.post(path, content=urlencode(params), headers=sent)


def form(name: str) -> dict[str, str]:
    return dict(parse_qsl(fixture(name).decode(), keep_blank_values=True))


def test_a_signed_sms_is_parsed() -> None:
    params = form("twilio_sms.txt")
    response = post(client(adapter()), params, twilio_signature(TOKEN, PUBLIC + PATH, params))
    assert response.status_code == 200, response.text
    [message] = response.json()
    assert message["channel"] == "sms"
    assert message["address"] == "+15145550100"
    assert message["provider_message_id"] == "SM2f1c6e0d4b8a4f0e9c3d7a1b5e6f8a90"
    assert message["text"] == "Comment renouveler mon passeport? Il expire le 3 août."


def test_a_signed_whatsapp_message_is_parsed_and_a_replay_has_the_same_id() -> None:
    params = form("twilio_whatsapp.txt")
    http, signature = client(adapter()), twilio_signature(TOKEN, PUBLIC + PATH, params)
    first, replay = post(http, params, signature).json(), post(http, params, signature).json()
    assert first == replay
    assert first[0]["channel"] == "whatsapp" and first[0]["address"] == "whatsapp:+15145550100"


def test_missing_wrong_or_tampered_signatures_are_refused() -> None:
    params = form("twilio_sms.txt")
    http = client(adapter())
    assert post(http, params, None).status_code == 403
    assert (
        post(http, params, twilio_signature("not-the-token", PUBLIC + PATH, params)).status_code
        == 403
    )
    signature = twilio_signature(TOKEN, PUBLIC + PATH, params)
    assert post(http, {**params, "Body": "A different question"}, signature).status_code == 403
    # Signed for another host: the URL is ours, not whatever the Host header says.
    assert (
        post(http, params, twilio_signature(TOKEN, "http://testserver" + PATH, params)).status_code
        == 403
    )


def test_the_query_string_is_part_of_the_signed_url() -> None:
    params = form("twilio_sms.txt")
    signed = twilio_signature(TOKEN, PUBLIC + PATH + "?tenant=qc", params)
    assert post(client(adapter()), params, signed, path=PATH + "?tenant=qc").status_code == 200
    assert post(client(adapter()), params, signed, path=PATH + "?tenant=on").status_code == 403


def test_forwarded_headers_count_only_when_trusted() -> None:
    params = form("twilio_sms.txt")
    proxied = "https://bot.internal.example"
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bot.internal.example"}
    signature = twilio_signature(TOKEN, proxied + PATH, params)
    proxy = "10.0.0.2"  # the peer: a proxy in TRUSTED_PROXIES, or not
    believing = adapter(trust_forwarded=True)
    trusted = TestClient(parsing_app(believing, PATH, None, (proxy,)), client=(proxy, 1))
    untrusted = TestClient(parsing_app(believing, PATH), client=(proxy, 1))
    assert post(trusted, params, signature, headers=headers).status_code == 200
    assert post(client(adapter()), params, signature, headers=headers).status_code == 403
    # the adapter would believe them, but they did not come from a trusted proxy
    assert post(untrusted, params, signature, headers=headers).status_code == 403


def test_a_signed_request_without_from_or_sid_is_malformed() -> None:
    params = {k: v for k, v in form("twilio_sms.txt").items() if k != "MessageSid"}
    response = post(client(adapter()), params, twilio_signature(TOKEN, PUBLIC + PATH, params))
    assert response.status_code == 400


def test_media_only_gives_empty_text_and_huge_bodies_are_refused() -> None:
    params = {
        **form("twilio_whatsapp.txt"),
        "Body": "",
        "NumMedia": "1",
        "MediaUrl0": f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages/MM1/Media/ME1",
        "MediaContentType0": "image/jpeg",
    }
    response = post(client(adapter()), params, twilio_signature(TOKEN, PUBLIC + PATH, params))
    assert response.json()[0]["text"] == ""
    big = {**params, "Body": "x" * 70_000}
    assert (
        post(client(adapter()), big, twilio_signature(TOKEN, PUBLIC + PATH, big)).status_code == 413
    )


def test_empty_twiml() -> None:
    assert TwilioAdapter.empty_twiml() == '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, TOKEN) as server:
        yield server


@pytest.mark.anyio
async def test_send_sms_posts_the_form_with_basic_auth_and_numbered_choices(
    fake: FakeTwilio,
) -> None:
    twilio = adapter(api_base=fake.base_url)
    buttons = [
        {"title": "Renew a passport", "payload": "/faq1"},
        {"title": "Lost passport", "payload": "/faq2"},
    ]
    sid = await twilio.send("+15145550100", Outgoing("Did you mean:", buttons))
    await twilio.aclose()
    [request] = fake.requests
    assert sid.startswith("SM") and len(sid) == 34
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.headers["authorization"].startswith("Basic ")
    assert request.body == {
        "From": "+15145550199",
        "To": "+15145550100",
        "Body": "Did you mean:\n\n1) Renew a passport\n2) Lost passport\nReply 1 or 2",
        # delivery reports come back signed to our public address
        "StatusCallback": "https://govbot.example.gc.ca/channels/twilio/status",
    }


@pytest.mark.anyio
async def test_send_whatsapp_uses_the_whatsapp_sender_and_long_sms_is_kept_to_three_segments(
    fake: FakeTwilio,
) -> None:
    twilio = adapter(api_base=fake.base_url)
    await twilio.send("whatsapp:+15145550100", Outgoing("Bonjour"))
    await twilio.send("+15145550100", Outgoing("This is a sentence that goes on. " * 40))
    await twilio.aclose()
    whatsapp, sms = fake.requests
    assert whatsapp.body["From"] == "whatsapp:+14155238886"
    assert segments(sms.body["Body"]) <= 3


@pytest.mark.anyio
async def test_answers_in_the_answer_format_go_out_as_plain_gsm7_text(fake: FakeTwilio) -> None:
    twilio = adapter(api_base=fake.base_url)
    answer = (
        "Bring:\n- two [photos](https://passports.example/photos)\n"
        "- proof of [address](javascript:alert(1))\n\nCall [us](tel:+18005550163)."
    )
    await twilio.send("+15145550100", Outgoing(answer))
    await twilio.send("whatsapp:+15145550100", Outgoing(answer))
    await twilio.aclose()
    sms, whatsapp = (r.body["Body"] for r in fake.requests)
    assert sms == (
        "Bring:\n\n- two photos (https://passports.example/photos)\n- proof of address\n\n"
        "Call us (+18005550163)."
    )
    assert is_gsm7(sms)  # the bullet "•" would have made it UCS-2
    assert whatsapp == sms.replace("\n- ", "\n• ")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "headers", "retryable", "retry_after"),
    [
        (500, {}, True, None),
        (503, {}, True, None),
        (429, {"Retry-After": "7"}, True, 7.0),
        (400, {}, False, None),
        (401, {}, False, None),
    ],
)
async def test_send_failures_are_classified(
    fake: FakeTwilio,
    status: int,
    headers: dict[str, str],
    retryable: bool,
    retry_after: float | None,
) -> None:
    twilio = adapter(api_base=fake.base_url)
    fake.fail_next(1, status, headers=headers)
    with pytest.raises(SendError) as caught:
        await twilio.send("+15145550100", Outgoing("Hello"))
    await twilio.aclose()
    assert caught.value.retryable is retryable
    assert caught.value.retry_after == retry_after
    if status == 400:
        assert "21610" in str(caught.value)  # unsubscribed recipient: never retried


@pytest.mark.anyio
async def test_a_timeout_is_retryable_and_a_missing_sender_is_not() -> None:
    with FakeTwilio(SID, TOKEN, delay_s=0.5) as slow:
        twilio = adapter(api_base=slow.base_url, timeout_s=0.1)
        with pytest.raises(SendError) as caught:
            await twilio.send("+15145550100", Outgoing("Hello"))
        await twilio.aclose()
    assert caught.value.retryable
    unconfigured = adapter(whatsapp_from="", api_base="http://127.0.0.1:9")
    with pytest.raises(SendError) as refused:
        await unconfigured.send("whatsapp:+15145550100", Outgoing("Hi"))
    await unconfigured.aclose()
    assert not refused.value.retryable


def _status_request(params: dict[str, str], signature: str) -> WebhookRequest:
    return WebhookRequest(
        method="POST",
        base_url="http://testserver",
        path=STATUS_PATH,
        query="",
        headers={"x-twilio-signature": signature},
        body=urlencode(params).encode(),
    )


def test_a_signed_status_callback_is_read_and_a_forged_one_refused() -> None:
    twilio = adapter()
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "AccountSid": SID}
    signed = twilio_signature(TOKEN, PUBLIC + STATUS_PATH, params)
    assert twilio.parse_status(_status_request(params, signed)) == ("SM" + "a" * 32, "delivered")
    with pytest.raises(WebhookRejected) as refused:
        twilio.parse_status(_status_request({**params, "MessageStatus": "read"}, signed))
    assert refused.value.status_code == 403
    missing = {"MessageSid": "SM1", "AccountSid": SID}
    with pytest.raises(WebhookRejected) as bad:
        twilio.parse_status(
            _status_request(missing, twilio_signature(TOKEN, PUBLIC + STATUS_PATH, missing))
        )
    assert bad.value.status_code == 400


@pytest.mark.anyio
async def test_find_sent_finds_only_the_same_body_to_the_same_number(fake: FakeTwilio) -> None:
    twilio = adapter(api_base=fake.base_url)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    sid = await twilio.send("+15145550100", Outgoing("Water advisory lifted."))
    await twilio.send("+15145550101", Outgoing("Something else."))
    assert await twilio.find_sent("+15145550100", Outgoing("Water advisory lifted."), since) == sid
    assert await twilio.find_sent("+15145550101", Outgoing("Water advisory lifted."), since) is None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert await twilio.find_sent("+15145550100", Outgoing("Water advisory lifted."), later) is None
    await twilio.aclose()
    assert fake.lookups == 3 and len(fake.requests) == 2


@pytest.mark.anyio
async def test_a_whatsapp_template_goes_as_its_content_sid_and_is_found_again(
    fake: FakeTwilio,
) -> None:
    template = "HX" + "0" * 31 + "1"
    fake.templates[template] = "Northbridge Services update: {{1}} Reply to ask us anything."
    twilio = adapter(api_base=fake.base_url)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    message = Outgoing("Highway 20 is open again.", template=template)
    sid = await twilio.send("whatsapp:+15145550100", message)
    [request] = fake.requests
    assert "Body" not in request.body and request.body["ContentSid"] == template
    assert json.loads(request.body["ContentVariables"]) == {"1": "Highway 20 is open again."}
    # A crash cut the send short: the template's body holds the text, so it is found.
    assert await twilio.find_sent("whatsapp:+15145550100", message, since) == sid
    # SMS never takes a template: the text goes as the body.
    await twilio.send("+15145550100", message)
    assert fake.requests[1].body["Body"] == "Highway 20 is open again."
    await twilio.aclose()
