"""What every channel adapter shares: the parsed inbound message, the outbound message, and
the errors.

An adapter has two halves. Inbound: `parse(request)` verifies the provider's signature or secret
token and turns the webhook (a `WebhookRequest`: the web layer has already read the body, capped at
the adapter's `max_body_bytes` while streaming) into `Incoming` messages, or raises
`WebhookRejected` with a 4xx status, before anything is stored. Outbound: `send(address, Outgoing)`
delivers one message through the provider's API and returns the provider's message id, or raises
`SendError` (retryable or not, with the delay the provider asked for). `capabilities` says what the
channel can show, so replies degrade gracefully (buttons become numbered choices where there are
no buttons).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from connectors.capabilities import Capabilities


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A provider's webhook as received, free of any web framework: the body is already read."""

    method: str
    base_url: str  # scheme://host[:port], as the request reached us
    path: str
    query: str  # the raw query string, without "?"
    headers: Mapping[str, str]  # case-insensitive lookups (the web layer passes its own headers)
    body: bytes

    @property
    def url(self) -> str:
        """The whole URL as received."""
        return f"{self.base_url}{self.path}" + (f"?{self.query}" if self.query else "")


@dataclass(frozen=True, slots=True)
class Incoming:
    """One citizen message, parsed and verified, not yet stored."""

    channel: str  # "sms" | "whatsapp" | "telegram" | "messenger" | "webchat"
    address: str  # the citizen on that channel: "+15145550100", "whatsapp:+1...", chat id, PSID
    provider_message_id: str  # unique per channel: MessageSid, update_id, mid
    text: str  # for a pressed button / quick reply / postback: its payload
    title: str | None = None  # the label of the pressed button, if any
    sent_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send: text, optional buttons, and how it may be sent."""

    text: str  # in the answer format; each adapter renders it (connectors/rich_text.py)
    buttons: list[dict[str, str]] = field(default_factory=list)  # {"title", "payload"}
    idempotency_key: str = (
        ""  # stable per outbox row ("out-<id>"), sent where the provider accepts one
    )
    human_agent: bool = False  # written by a person (Messenger's HUMAN_AGENT tag, 7-day window)
    # An approved WhatsApp template (Twilio Content SID, "HX..."), sent instead of a free-form body
    # outside the 24-hour window; its one variable {{1}} is the text.
    template: str | None = None


class WebhookRejected(Exception):
    """A webhook that must be refused: 403 bad signature, 400 malformed, 413 too large."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class SendError(Exception):
    """Sending failed. `retryable` failures are retried with backoff (at least
    `retry_after` seconds)."""

    def __init__(self, message: str, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when
    absent or bad."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class ChannelAdapter(Protocol):
    """Inbound and outbound halves of one channel."""

    name: str
    capabilities: Capabilities
    max_body_bytes: int

    async def parse(self, request: WebhookRequest) -> list[Incoming]: ...

    async def send(self, address: str, message: Outgoing) -> str: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class SentLookup(Protocol):
    """A channel whose provider can say whether it already took a message (Twilio's message
    list): a broadcast copy whose send a crash cut short is looked up before it is sent again."""

    async def find_sent(
        self, address: str, message: Outgoing, since: dt.datetime
    ) -> str | None: ...
