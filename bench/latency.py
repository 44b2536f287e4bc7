"""End-to-end latency and throughput of chat messages: the whole stack against the bare Rasa
REST channel.

Both targets run the same engine and model (the custom actions, hosted by the app, run for both);
the stack adds the web-chat channel, durable storage and the conversation worker. Every simulated
citizen has its own session and plays one short conversation of CONVERSATIONS. Runs interleave the
targets in blocks so that background noise on a shared machine hits both alike.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import httpx
import numpy as np

from bot.engine.client import WEBHOOK
from tests.support.webchat import new_session_async

# One citizen each: greeting, question, a pick from the "did you mean" list, another
# question, thanks.
CONVERSATIONS: tuple[tuple[str, ...], ...] = (
    ("hello", "How do I renew my driver's licence?", "2", "when is garbage day", "thanks"),
    (
        "Bonjour",
        "Comment renouveler mon passeport?",
        "2",
        "Où en est mon remboursement d'impôt?",
        "merci",
    ),
    (
        "hi there",
        "I lost my job, how do I get EI?",
        "2",
        "how do I pay a parking ticket",
        "thank you!",
    ),
    (
        "salut",
        "Quand les prestations sont-elles déposées?",
        "2",
        "nid-de-poule devant chez moi",
        "merci beaucoup",
    ),
    (
        "good morning",
        "my passport isn't ready and I travel next week",
        "2",
        "where is my tax refund?",
        "thanks",
    ),
    (
        "bonjour",
        "j'ai perdu mon permis de conduire",
        "2",
        "Comment obtenir un certificat de naissance?",
        "merci",
    ),
    (
        "hey",
        "Do I need a permit to build a deck?",
        "2",
        "I can't pay my taxes in full",
        "great, thanks",
    ),
    (
        "allo",
        "Est-ce que j'ai besoin d'une licence pour mon chien?",
        "2",
        "facture d'eau trop élevée",
        "merci!",
    ),
)
MESSAGES = tuple(text for conversation in CONVERSATIONS for text in conversation)


@dataclass(frozen=True, slots=True)
class Target:
    """An HTTP endpoint that takes one citizen message and returns the bot's replies."""

    name: str
    url: str
    body: Callable[[str, str], dict[str, str]]  # (session, text) -> JSON body
    headers: dict[str, str] = field(default_factory=dict)
    # Where the target issues sessions (web chat), else a made-up one is used.
    session: Callable[[httpx.AsyncClient], Awaitable[str]] | None = None


def stack_target(app_url: str) -> Target:
    """The app's web-chat HTTP endpoint (the widget's fallback), i.e. the whole stack."""
    return Target(
        "stack",
        f"{app_url}/webchat/messages",
        lambda session, text: {"session": session, "text": text},
        session=lambda http: new_session_async(http, app_url),
    )


def bare_target(engine_url: str, engine_token: str) -> Target:
    """The engine's input channel on the same engine, called directly with the app's token (Rasa's
    REST channel is not configured: it had the same body and answer, and no authentication)."""
    return Target(
        "bare Rasa",
        f"{engine_url}{WEBHOOK}",
        lambda session, text: {"sender": session, "message": text},
        {"Authorization": f"Bearer {engine_token}"},
    )


@dataclass
class Tally:
    """Latencies (seconds) of the messages answered, errors, and the wall time they took."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def stats(self) -> dict[str, float]:
        """Count, p50/p95/p99/mean in ms, errors, and throughput in messages per second."""
        ms = np.array(self.latencies) * 1000 if self.latencies else np.zeros(1)
        return {
            "n": len(self.latencies),
            "p50": float(np.percentile(ms, 50)),
            "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)),
            "mean": float(ms.mean()),
            "errors": self.errors,
            "throughput": len(self.latencies) / self.seconds if self.seconds else 0.0,
        }


def allowance(count: int | None, seconds: float | None) -> Callable[[], bool]:
    """A function that grants one more message while neither `count` messages nor `seconds`
    are used up."""
    deadline = time.perf_counter() + seconds if seconds else float("inf")
    granted = 0

    def grant() -> bool:
        nonlocal granted
        if time.perf_counter() >= deadline or (count is not None and granted >= count):
            return False
        granted += 1
        return True

    return grant


async def _citizen(
    http: httpx.AsyncClient,
    target: Target,
    conversations: Iterator[tuple[str, ...]],
    tally: Tally,
    grant: Callable[[], bool],
) -> None:
    """Play conversations one after another, each with a new session, one message at a time."""
    while True:
        # A session asked for before the clock starts: its cost is not a message's latency.
        session = await target.session(http) if target.session else "bench" + uuid.uuid4().hex[:16]
        for text in next(conversations):
            if not grant():
                return
            started = time.perf_counter()
            try:
                response = await http.post(
                    target.url, json=target.body(session, text), headers=target.headers
                )
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                tally.latencies.append(time.perf_counter() - started)
            else:
                tally.errors += 1


async def run_block(
    target: Target,
    conversations: Iterator[tuple[str, ...]],
    tally: Tally,
    clients: int,
    count: int | None = None,
    seconds: float | None = None,
) -> None:
    """One block: `clients` concurrent citizens until `count` messages are sent or
    `seconds` are over."""
    grant = allowance(count, seconds)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(
            *(_citizen(http, target, conversations, tally, grant) for _ in range(clients))
        )
        tally.seconds += time.perf_counter() - started


def interleaved(
    targets: list[Target],
    blocks: int,
    clients: int = 1,
    count: int | None = None,
    seconds: float | None = None,
) -> dict[str, Tally]:
    """Alternate the targets block by block (`count` messages or `seconds` each); one tally
    per target."""
    tallies = {target.name: Tally() for target in targets}
    conversations = {target.name: itertools.cycle(CONVERSATIONS) for target in targets}
    for _ in range(blocks):
        for target in targets:
            asyncio.run(
                run_block(
                    target,
                    conversations[target.name],
                    tallies[target.name],
                    clients,
                    count,
                    seconds,
                )
            )
    return tallies
