"""Citizen messages as the providers deliver them (signed webhooks), sent with timing, and fakes
that note when the last reply reached them.

Signatures and secrets are the test suite's (tests/conftest.py, tests/support/fakes.py): the app
checks them for real. The web chat's HTTP POST is built alongside for comparison; it is not a
webhook (it returns the bot's replies, so it waits for the engine).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlencode

import httpx

from bench.latency import Tally
from tests.conftest import (
    GRAPH_SECRET,
    GRAPH_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_SID,
    TWILIO_TOKEN,
    Providers,
)
from tests.support.fakes import (
    Answer,
    FakeGraph,
    FakeProvider,
    FakeTelegram,
    FakeTwilio,
    Recorded,
    messenger_signature,
    twilio_signature,
)
from tests.support.webchat import new_session

PROVIDER_CHANNELS = ("sms", "telegram", "messenger")
TO_NUMBER = "+15145550199"
_update_ids = itertools.count(random.randrange(10**6, 10**9))


@dataclass(frozen=True, slots=True)
class Webhook:
    """One HTTP request a provider (or the web-chat widget) would send to the app."""

    channel: str
    path: str
    content: bytes
    headers: dict[str, str]


def citizen(channel: str, run: str, number: int) -> str:
    """A distinct address on `channel` for citizen `number` of run `run` (digits only)."""
    return {
        "sms": f"+1873{run}{number:05d}",
        "telegram": f"9{run}{number:05d}",
        "messenger": f"psid-{run}-{number}",
        "webchat": f"bench{run}x{number:05d}",
    }[channel]


def _sms(public_url: str, address: str, text: str) -> Webhook:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": TWILIO_SID,
        "From": address,
        "To": TO_NUMBER,
        "Body": text,
        "NumMedia": "0",
    }
    path = "/channels/twilio/sms"
    return Webhook(
        "sms",
        path,
        urlencode(params).encode(),
        {
            "X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, public_url + path, params),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


def _telegram(public_url: str, address: str, text: str) -> Webhook:
    chat = {"id": int(address), "type": "private", "first_name": "Bench"}
    update = {
        "update_id": next(_update_ids),
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "text": text,
            "chat": chat,
            "from": {"id": int(address), "is_bot": False, "first_name": "Bench"},
        },
    }
    return Webhook(
        "telegram",
        "/channels/telegram/webhook",
        json.dumps(update).encode(),
        {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"},
    )


def _messenger(public_url: str, address: str, text: str) -> Webhook:
    event = {
        "sender": {"id": address},
        "recipient": {"id": "PAGE"},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": "m_" + uuid.uuid4().hex, "text": text},
    }
    raw = json.dumps(
        {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [event]}]}
    ).encode()
    return Webhook(
        "messenger",
        "/channels/messenger/webhook",
        raw,
        {
            "X-Hub-Signature-256": messenger_signature(GRAPH_SECRET, raw),
            "Content-Type": "application/json",
        },
    )


@cache
def _session(public_url: str, address: str) -> str:
    """The session token the app issued for this citizen (asked once, before any timing)."""
    return new_session(public_url)


def _webchat(public_url: str, address: str, text: str) -> Webhook:
    body = json.dumps({"session": _session(public_url, address), "text": text}).encode()
    return Webhook("webchat", "/webchat/messages", body, {"Content-Type": "application/json"})


_BUILDERS = {"sms": _sms, "telegram": _telegram, "messenger": _messenger, "webchat": _webchat}


def webhook(channel: str, public_url: str, address: str, text: str) -> Webhook:
    """The signed request that delivers `text` from `address` on `channel` to the app
    at `public_url`."""
    return _BUILDERS[channel](public_url, address, text)


async def _send(
    base_url: str, conversations: Sequence[Sequence[Webhook]], senders: int
) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    queue = iter(conversations)  # shared: each sender takes the next conversation when it is free
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx.AsyncClient(base_url=base_url, timeout=120.0, limits=limits) as http:

        async def sender() -> None:
            for conversation in queue:
                for hook in conversation:  # one after the other, as a citizen types them
                    started = time.perf_counter()
                    try:
                        ok = (
                            await http.post(hook.path, content=hook.content, headers=hook.headers)
                        ).is_success
                    except httpx.HTTPError:
                        ok = False
                    tally = tallies[hook.channel]
                    if ok:
                        tally.latencies.append(time.perf_counter() - started)
                    else:
                        tally.errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(senders)))
        for tally in tallies.values():
            tally.seconds = time.perf_counter() - started
    return dict(tallies)


def send(
    base_url: str, conversations: Sequence[Sequence[Webhook]], senders: int
) -> dict[str, Tally]:
    """Send every conversation's requests in order, `senders` conversations at a time; time
    each response.

    Returns one tally per channel (latency from sending a request to its HTTP response;
    non-2xx = error).
    """
    return asyncio.run(_send(base_url, conversations, senders))


class _Stamped(FakeProvider):
    """A fake that notes the time (perf_counter) of the last request it answered."""

    last_at: float = 0.0

    def handle(self, record: Recorded) -> Answer:
        answer = super().handle(record)
        self.last_at = time.perf_counter()
        return answer


class StampedTwilio(_Stamped, FakeTwilio):
    """FakeTwilio with `last_at`."""


class StampedTelegram(_Stamped, FakeTelegram):
    """FakeTelegram with `last_at`."""


class StampedGraph(_Stamped, FakeGraph):
    """FakeGraph with `last_at`."""


@contextmanager
def fake_providers() -> Iterator[Providers]:
    """The three fake provider APIs with the test suite's credentials, each noting its
    last request."""
    with (
        StampedTwilio(TWILIO_SID, TWILIO_TOKEN) as twilio,
        StampedTelegram(TELEGRAM_TOKEN) as telegram,
        StampedGraph(GRAPH_TOKEN) as graph,
    ):
        yield Providers(twilio, telegram, graph)


def replies(providers: Providers) -> int:
    """How many replies the fakes have received so far (Telegram's other API calls not counted)."""
    telegram = sum(r.path.endswith("/sendMessage") for r in providers.telegram.requests)
    return len(providers.twilio.requests) + telegram + len(providers.graph.requests)


def last_reply_at(providers: Providers) -> float:
    """perf_counter time of the latest request any fake answered (0 if none)."""
    return max(
        getattr(fake, "last_at", 0.0)
        for fake in (providers.twilio, providers.telegram, providers.graph)
    )
