"""Facebook Messenger through the Graph API: signed page webhooks in, the Send API out.

Inbound, Meta signs the raw body with the app secret (`X-Hub-Signature-256: sha256=<hex>`), and
batches events: several `entry` items, each with several `messaging` events. Only citizen text,
quick-reply presses and postbacks become messages; echoes of our own sends, delivery and read
receipts and reactions are skipped. Outbound, buttons become quick replies; a reply written by a
person is sent with the HUMAN_AGENT tag, which Meta allows up to 7 days after the citizen's message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx

from connectors.base import (
    Incoming,
    Outgoing,
    SendError,
    WebhookRejected,
    WebhookRequest,
    retry_after_seconds,
)
from connectors.capabilities import MESSENGER
from connectors.rich_text import parse, to_plain
from connectors.sms_text import fit_chars

MAX_BODY_BYTES = 1024 * 1024
MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_PAYLOAD = 1000
# Graph error codes: throttling or a transient fault (retry later) vs a refusal (retrying won't
# help: 10 = outside the messaging window / not permitted, 551 = person unavailable,
# 200 = no permission).
RETRYABLE_CODES = frozenset({1, 2, 4, 17, 32, 613})
REFUSED_CODES = frozenset({10, 200, 551})


def _title(text: str) -> str:
    if len(text) <= MAX_QUICK_REPLY_TITLE:
        return text
    return text[: MAX_QUICK_REPLY_TITLE - 1].rstrip() + "…"


def _event(event: Any) -> Incoming | None:
    """One `messaging` event as a message, or None for echoes, receipts, reactions
    and attachments."""
    if not isinstance(event, dict) or not isinstance(event.get("sender"), dict):
        return None
    sender = str(event["sender"].get("id", ""))
    stamp = event.get("timestamp")
    sent_at = dt.datetime.fromtimestamp(stamp / 1000, dt.UTC) if isinstance(stamp, int) else None
    message, postback = event.get("message"), event.get("postback")
    if not sender:
        return None
    if isinstance(message, dict) and not message.get("is_echo") and message.get("mid"):
        quick = message.get("quick_reply")
        if isinstance(quick, dict) and quick.get("payload"):
            return Incoming(
                "messenger",
                sender,
                message["mid"],
                str(quick["payload"]),
                message.get("text"),
                sent_at,
            )
        if isinstance(message.get("text"), str):
            return Incoming("messenger", sender, message["mid"], message["text"], None, sent_at)
        return None
    if isinstance(postback, dict) and postback.get("payload"):
        mid = postback.get("mid") or f"postback:{sender}:{stamp}"
        return Incoming(
            "messenger", sender, mid, str(postback["payload"]), postback.get("title"), sent_at
        )
    return None


class MessengerAdapter:
    """The "messenger" channel of one Facebook page: PSID as address, `mid` as provider
    message id."""

    name = "messenger"
    capabilities = MESSENGER
    max_body_bytes = MAX_BODY_BYTES

    def __init__(
        self,
        page_access_token: str,
        app_secret: str,
        verify_token: str,
        graph_base: str = "https://graph.facebook.com",
        api_version: str = "v19.0",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if not page_access_token or not app_secret or not verify_token:
            raise ValueError(
                "Messenger needs a page access token, the app secret and a verify token"
            )
        self._app_secret = app_secret.encode()
        self._verify_token = verify_token.encode()
        self._url = f"{graph_base.rstrip('/')}/{api_version}/me/messages"
        # appsecret_proof lets the app turn on "Require App Secret", so a leaked token alone cannot
        # send. Keep httpx's INFO request log off: these parameters are part of the logged URL.
        proof = hmac.new(self._app_secret, page_access_token.encode(), hashlib.sha256).hexdigest()
        self._params = {"access_token": page_access_token, "appsecret_proof": proof}
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout_s)

    def verify_subscription(self, query_params: Mapping[str, str]) -> str | None:
        """The challenge to echo for Meta's subscription check, or None (the route answers 403)."""
        token = query_params.get("hub.verify_token", "").encode()
        if (
            query_params.get("hub.mode") == "subscribe"
            and token
            and hmac.compare_digest(token, self._verify_token)
        ):
            return query_params.get("hub.challenge", "")
        return None

    async def parse(self, request: WebhookRequest) -> list[Incoming]:
        """Check the body's signature, then read every citizen message of the batch."""
        header = request.headers.get("x-hub-signature-256", "")
        if not header.startswith("sha256="):
            raise WebhookRejected(403, "missing signature")
        raw = request.body
        expected = hmac.new(self._app_secret, raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(
            header[len("sha256=") :].strip().lower().encode(), expected.encode()
        ):
            raise WebhookRejected(403, "bad signature")
        try:
            data = json.loads(raw)
        except ValueError:
            raise WebhookRejected(400, "body is not JSON") from None
        if (
            not isinstance(data, dict)
            or data.get("object") != "page"
            or not isinstance(data.get("entry"), list)
        ):
            raise WebhookRejected(400, "not a page webhook")
        events = [
            e
            for entry in data["entry"]
            if isinstance(entry, dict)
            for e in entry.get("messaging") or []
        ]
        return [m for m in map(_event, events) if m is not None]

    def body(self, address: str, message: Outgoing) -> dict[str, Any]:
        """The Send API request body for `message`."""
        content: dict[str, Any] = {"text": fit_chars(to_plain(parse(message.text)), MAX_TEXT)}
        if message.buttons:
            content["quick_replies"] = [
                {
                    "content_type": "text",
                    "title": _title(b["title"]),
                    "payload": b["payload"][:MAX_PAYLOAD],
                }
                for b in message.buttons[:MAX_QUICK_REPLIES]
            ]
        kind = (
            {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
            if message.human_agent
            else {"messaging_type": "RESPONSE"}
        )
        return {"recipient": {"id": address}, **kind, "message": content}

    async def send(self, address: str, message: Outgoing) -> str:
        """Send one message through the Send API; return its `message_id` ("m_...")."""
        try:
            response = await self._client.post(
                self._url, params=self._params, json=self.body(address, message)
            )
        except httpx.TimeoutException as exc:
            raise SendError(f"Graph API timed out: {exc!r}", True) from exc
        except httpx.TransportError as exc:
            raise SendError(f"Graph API unreachable: {exc!r}", True) from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.is_success and isinstance(data, dict) and data.get("message_id"):
            return str(data["message_id"])
        raise self._error(response, data)

    @staticmethod
    def _error(response: httpx.Response, data: Any) -> SendError:
        """Classify a Graph error by its code first: throttling comes back as 400/403 as
        often as 429."""
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        text = error.get("message", response.text[:200])
        message = f"Graph {response.status_code} (code {code}): {text}"
        retryable = code not in REFUSED_CODES and (
            response.status_code == 429
            or response.status_code >= 500
            or code in RETRYABLE_CODES
            or error.get("is_transient") is True
        )
        return SendError(
            message, retryable, retry_after_seconds(response.headers.get("retry-after"))
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
