"""SMS and WhatsApp through Twilio: signed form webhooks in, the Messages API out.

Inbound, Twilio signs the full URL it called plus the sorted form fields with the account's auth
token (HMAC-SHA1, `X-Twilio-Signature`); the URL is rebuilt from our configured public base URL,
not from the Host header, unless we sit behind a proxy we trust to set X-Forwarded-Proto/Host.
Outbound, there are no buttons: they become numbered choices (`sms_text`), SMS replies are kept to
a few segments, and WhatsApp replies to Twilio's 1,600-character body limit.
"""

from __future__ import annotations

import datetime as dt
import json
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl

import httpx
from twilio.request_validator import RequestValidator

from connectors.base import (
    Incoming,
    Outgoing,
    SendError,
    WebhookRejected,
    WebhookRequest,
    retry_after_seconds,
)
from connectors.capabilities import SMS
from connectors.rich_text import parse, to_plain
from connectors.sms_text import render_sms, render_text

# A webhook is ~1 KB; even a 1,600-character body with media fields stays far below this.
MAX_BODY_BYTES = 64 * 1024
WHATSAPP_MAX_CHARS = 1600
STATUS_PATH = "/channels/twilio/status"  # where Twilio posts delivery reports
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class _Form(dict[str, str]):
    """Form fields: the first value of each key, and every value (`getall`) for the signature,
    which covers repeated keys too."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        self._all: dict[str, list[str]] = {}
        for key, value in pairs:
            self._all.setdefault(key, []).append(value)
            self.setdefault(key, value)

    def getall(self, key: str) -> list[str]:
        """Every value of `key`, in order."""
        return self._all.get(key, [])


class TwilioAdapter:
    """The "sms" and "whatsapp" channels of one Twilio account (whatsapp when `From`
    is "whatsapp:...")."""

    name = "twilio"
    # ~3 GSM-7 segments; `send` fits the text exactly (fewer characters when it needs UCS-2).
    capabilities = SMS  # WhatsApp's limits are applied in `render`
    max_body_bytes = MAX_BODY_BYTES

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        whatsapp_from: str,
        public_base_url: str,
        api_base: str = "https://api.twilio.com",
        trust_forwarded: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        max_segments: int = 3,
        timeout_s: float = 10.0,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("Twilio needs an account SID and an auth token")
        self.account_sid = account_sid
        self.from_number = from_number
        self.whatsapp_from = (
            whatsapp_from
            if not whatsapp_from or whatsapp_from.startswith("whatsapp:")
            else f"whatsapp:{whatsapp_from}"
        )
        self.public_base_url = public_base_url.rstrip("/")
        self.trust_forwarded = trust_forwarded
        self.max_segments = max_segments
        self._validator = RequestValidator(auth_token)
        self._messages_url = (
            f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        )
        self._client = httpx.AsyncClient(
            auth=(account_sid, auth_token), transport=transport, timeout=timeout_s
        )

    @staticmethod
    def empty_twiml() -> str:
        """The webhook's answer: empty TwiML, since replies go out through the API, not
        the response."""
        return EMPTY_TWIML

    def signed_url(self, request: WebhookRequest) -> str:
        """The URL Twilio signed: our public base URL (or trusted forwarded
        headers) + path + query."""
        base = self.public_base_url or request.base_url.rstrip("/")
        if self.trust_forwarded:
            proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
            host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
            if proto and host:
                base = f"{proto}://{host}"
        query = request.query
        return f"{base}{request.path}" + (f"?{query}" if query else "")

    def _signed_form(self, request: WebhookRequest) -> _Form:
        """The form body of a request Twilio signed; WebhookRejected(403) otherwise."""
        signature = request.headers.get("x-twilio-signature", "")
        if not signature:
            raise WebhookRejected(403, "missing signature")
        try:
            params = _Form(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:  # Twilio sends UTF-8, so this did not come from Twilio
            raise WebhookRejected(403, "bad signature") from None
        if not self._validator.validate(self.signed_url(request), params, signature):
            raise WebhookRejected(403, "bad signature")
        return params

    def parse_status(self, request: WebhookRequest) -> tuple[str, str]:
        """A signed status callback: (MessageSid, MessageStatus), e.g. ("SM...", "delivered")."""
        params = self._signed_form(request)
        sid, status = params.get("MessageSid", ""), params.get("MessageStatus", "")
        if not sid or not status or len(sid) > 64 or not status.isalpha():
            raise WebhookRejected(400, "MessageSid and MessageStatus are required")
        return sid, status.lower()

    async def parse(self, request: WebhookRequest) -> list[Incoming]:
        """Verify the signature, then read one SMS/WhatsApp message from the form body."""
        params = self._signed_form(request)
        sender, sid = params.get("From", ""), params.get("MessageSid", "")
        if not sender or not sid:
            raise WebhookRejected(400, "From and MessageSid are required")
        channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
        # A pressed WhatsApp quick-reply button carries its payload next to its label.
        if params.get("ButtonPayload"):
            text, title = params["ButtonPayload"], params.get("ButtonText") or None
        else:
            text, title = params.get("Body", ""), None  # "" when only media was sent
        return [Incoming(channel, sender, sid, text, title)]

    def render(self, address: str, message: Outgoing) -> str:
        """The body for `address`: numbered choices, shortened to its channel's limit."""
        # Outgoing has no language yet; the hint's language is guessed from the text until it does.
        language = getattr(message, "language", None)
        text = to_plain(parse(message.text))  # the answer format as plain text: lists, links
        if address.startswith("whatsapp:"):
            return render_text(
                text,
                message.buttons,
                lambda s: len(s) <= WHATSAPP_MAX_CHARS,
                language=language,
            )
        return render_sms(text, message.buttons, self.max_segments, language=language)

    async def send(self, address: str, message: Outgoing) -> str:
        """Send one message through the Messages API; return its SID ("SM...")."""
        whatsapp = address.startswith("whatsapp:")
        sender = self.whatsapp_from if whatsapp else self.from_number
        if not sender:
            raise SendError(
                f"no {'WhatsApp' if whatsapp else 'SMS'} sender number configured", False
            )
        form = {"From": sender, "To": address}
        if whatsapp and message.template:
            form["ContentSid"] = message.template
            form["ContentVariables"] = json.dumps({"1": self.render(address, message)})
        else:
            form["Body"] = self.render(address, message)
        if self.public_base_url:  # delivery reports, signed like the webhooks
            form["StatusCallback"] = f"{self.public_base_url}{STATUS_PATH}"
        try:
            response = await self._client.post(self._messages_url, data=form)
        except httpx.TimeoutException as exc:
            raise SendError(f"Twilio timed out: {exc!r}", True) from exc
        except httpx.TransportError as exc:
            raise SendError(f"Twilio unreachable: {exc!r}", True) from exc
        if response.is_success:
            try:
                return str(response.json()["sid"])
            except (ValueError, KeyError, TypeError) as exc:
                raise SendError("Twilio answered without a message SID", False) from exc
        raise self._error(response)

    async def find_sent(self, address: str, message: Outgoing, since: dt.datetime) -> str | None:
        """The SID of a message with this body that Twilio took for `address` since `since`, if
        any: how a send cut short by a crash is checked before it is sent again."""
        whatsapp = address.startswith("whatsapp:")
        params = {
            "To": address,
            "From": self.whatsapp_from if whatsapp else self.from_number,
            "PageSize": "50",  # newest first; a queued message has no DateSent yet
        }
        body = self.render(address, message)
        try:
            response = await self._client.get(self._messages_url, params=params)
        except httpx.HTTPError as exc:
            raise SendError(f"Twilio unreachable: {exc!r}", True) from exc
        if not response.is_success:
            raise self._error(response)
        try:
            messages = response.json()["messages"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SendError("Twilio's message list was unreadable", True) from exc
        for item in messages:
            try:
                created = parsedate_to_datetime(str(item.get("date_created") or ""))
            except (TypeError, ValueError):
                continue
            # A template's body is its own words around the text.
            found = str(item.get("body") or "")
            same = body in found if message.template else found == body
            if same and created >= since - dt.timedelta(seconds=5):
                return str(item["sid"])
        return None

    @staticmethod
    def _error(response: httpx.Response) -> SendError:
        """Classify a failed call: 429 and 5xx are retried; any other 4xx (21610
        unsubscribed...) is not."""
        try:
            detail = response.json()
            code, text = detail.get("code"), detail.get("message", "")
        except (ValueError, AttributeError):
            code, text = None, response.text[:200]
        message = f"Twilio {response.status_code} (code {code}): {text}"
        retryable = response.status_code == 429 or response.status_code >= 500
        return SendError(
            message, retryable, retry_after_seconds(response.headers.get("retry-after"))
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
