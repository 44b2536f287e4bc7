"""Section 5: the provider channels (SMS via Twilio, Telegram, Messenger) with signatures
checked for real.

Measured, on SQLite and on PostgreSQL (a fresh schema per run):

- webhook acknowledgement latency (send to HTTP response), with the engine at normal speed and then
  slowed on purpose (a SwitchableProxy between app and engine holds every engine answer back), the
  web chat's HTTP POST alongside for comparison (it returns the replies, so it waits for
  the engine);
- end-to-end throughput: from the first webhook to the last reply recorded at the fake
  provider APIs.

Per database, one stack (engine + app, both on that database, as `govbot run` with DATABASE_URL):
the engine's speed is switched at the proxy, so nothing restarts between the normal and the
slowed runs.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from bench.common import NO_RATE_LIMITS, free_port, say
from bench.latency import CONVERSATIONS, MESSAGES, Tally
from bench.stackrun import started
from bench.webhooks import (
    PROVIDER_CHANNELS,
    Webhook,
    citizen,
    fake_providers,
    last_reply_at,
    replies,
    send,
    webhook,
)
from bot.settings import ROOT, Settings
from bot.storage.db import Database, make_engine
from bot.storage.models import InboundMessage, OutboundMessage
from tests.conftest import Providers, channel_settings
from tests.integration.conftest import POSTGRES_URL
from tests.support.proxy import SwitchableProxy

SENDERS = 8  # concurrent senders
SLOW_ENGINE_S = 2.0  # the proxy holds every engine answer back this long
ACKS_PER_CHANNEL = 200  # webhooks per provider channel, per engine speed; one new citizen each
ALONE_PER_CHANNEL = 30  # the same from a single sender: the ack's own cost, without queueing
WEBCHAT_POSTS = {"normal": 96, "slowed": 32}  # fewer while slowed: each one waits >= SLOW_ENGINE_S
THROUGHPUT_CONVERSATIONS = (
    20  # per provider channel, each one of latency.CONVERSATIONS (5 messages)
)
SETTLE_TIMEOUT_S = 240.0
ACK_AIM_MS = 50.0


@dataclass(frozen=True, slots=True)
class AckRow:
    """Acknowledgement latency of one channel, on one database, at one engine speed."""

    database: str
    engine: str
    channel: str
    senders: int
    n: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int


@dataclass(frozen=True, slots=True)
class ThroughputRow:
    """Messages sent, and the time from the first webhook to the last reply at the fakes."""

    database: str
    workload: str
    messages: int
    conversations: int
    replies: int
    seconds: float
    errors: int
    complete: bool

    @property
    def rate(self) -> float:
        """Messages per second."""
        return self.messages / self.seconds if self.seconds else 0.0


@dataclass
class ChannelResults:
    """Everything section 5 measured."""

    acks: list[AckRow] = field(default_factory=list)
    throughput: list[ThroughputRow] = field(default_factory=list)
    setup: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ChannelStack:
    """A running stack with every provider channel on, the engine behind a proxy."""

    base_url: str
    proxy: SwitchableProxy
    database_url: str
    startup_s: float


def postgres_problem(url: str = POSTGRES_URL) -> str | None:
    """Why PostgreSQL cannot be used at `url`, or None when it answers."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return f"PostgreSQL not reachable at {url} ({exc.__class__.__name__})"
    finally:
        engine.dispose()
    return None


@contextmanager
def postgres_schema(url: str = POSTGRES_URL) -> Iterator[str]:
    """A database URL on a fresh schema of `url`, dropped afterwards."""
    schema = "bench_channels_" + uuid.uuid4().hex[:8]
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def fresh_database(kind: str, workdir: Path, pool_size: int = 10) -> Iterator[Database | None]:
    """A new, migrated app database: a SQLite file in `workdir`, or a fresh PostgreSQL schema (None
    when PostgreSQL cannot be reached); disposed of afterwards."""
    if kind == "sqlite":
        db = Database(f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}")
        db.create_schema()
        yield db
        db.engine.dispose()
        return
    if postgres_problem():
        yield None
        return
    with postgres_schema() as url:
        db = Database(url, pool_size)
        db.create_schema()
        yield db
        db.engine.dispose()


@contextmanager
def channel_stack(var_dir: Path, database_url: str, providers: Providers) -> Iterator[ChannelStack]:
    """Engine + app on `database_url`, every provider channel pointed at the fakes, a proxy
    in between."""
    port = free_port()
    settings = Settings(
        port=port,
        engine_port=free_port(),
        var_dir=var_dir,
        database_url=database_url,
        public_base_url=f"http://127.0.0.1:{port}",
        index_dir=ROOT / "var" / "index",
        **channel_settings(providers),  # type: ignore[arg-type]
        **NO_RATE_LIMITS,
    )
    proxy = SwitchableProxy(settings.engine_port)
    try:
        with started(settings, engine_url=f"http://127.0.0.1:{proxy.port}") as running:
            yield ChannelStack(running.app_url, proxy, database_url, running.startup_s)
    finally:
        proxy.close()


_BACKLOG = (  # messages stored, messages waiting for the engine, replies not yet sent
    select(func.count()).select_from(InboundMessage),
    select(func.count()).select_from(InboundMessage).where(InboundMessage.status == "pending"),
    select(func.count()).select_from(OutboundMessage).where(OutboundMessage.status == "pending"),
)


def _backlog(engine: Engine) -> tuple[int, ...]:
    """The three counts of _BACKLOG, now."""
    with engine.connect() as conn:
        return tuple(int(conn.execute(query).scalar_one()) for query in _BACKLOG)


def settled(database_url: str, stored: int, timeout_s: float = SETTLE_TIMEOUT_S) -> bool:
    """Wait until `stored` messages are in, none is waiting for the engine and no reply
    is unsent."""
    engine = make_engine(database_url)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            inbound, waiting, unsent = _backlog(engine)
            if inbound >= stored and waiting == unsent == 0:
                return True
            if time.monotonic() > deadline:
                say(
                    f"not settled after {timeout_s:.0f} s: {inbound} of {stored} stored, {waiting} "
                    f"waiting, {unsent} replies unsent"
                )
                return False
            time.sleep(0.2)
    finally:
        engine.dispose()


class Run:
    """One database's measurements on its stack. `stored` counts the messages acknowledged so far;
    every batch gets its own citizens (a new run code in their addresses)."""

    def __init__(
        self, database: str, running: ChannelStack, providers: Providers, results: ChannelResults
    ) -> None:
        self.database, self.running, self.providers, self.results = (
            database,
            running,
            providers,
            results,
        )
        self.stored = 0
        self._codes = itertools.count(1)

    def conversations(self, count: int) -> list[list[Webhook]]:
        """`count` new citizens per provider channel, each playing one conversation
        of CONVERSATIONS."""
        run, plays = str(next(self._codes)), itertools.cycle(CONVERSATIONS)
        return [
            [
                webhook(channel, self.running.base_url, citizen(channel, run, n), line)
                for line in next(plays)
            ]
            for n in range(count)
            for channel in PROVIDER_CHANNELS
        ]

    def singles(self, channels: tuple[str, ...], count: int) -> list[list[Webhook]]:
        """`count` new citizens per channel with one message each, channels interleaved."""
        run, lines = str(next(self._codes)), itertools.cycle(MESSAGES)
        return [
            [webhook(channel, self.running.base_url, citizen(channel, run, n), next(lines))]
            for n in range(count)
            for channel in channels
        ]

    def send(self, conversations: list[list[Webhook]], senders: int = SENDERS) -> dict[str, Tally]:
        """Send, and count what was acknowledged."""
        tallies = send(self.running.base_url, conversations, senders)
        self.stored += sum(len(t.latencies) for t in tallies.values())
        return tallies

    def settle(self) -> bool:
        """Wait until everything acknowledged so far is answered and the replies are sent."""
        return settled(self.running.database_url, self.stored)

    def _mark(self) -> tuple[int, float]:
        """Replies recorded so far, and now."""
        return replies(self.providers), time.perf_counter()

    def _count(
        self,
        workload: str,
        mark: tuple[int, float],
        conversations: list[list[Webhook]],
        tallies: dict[str, Tally],
    ) -> None:
        """Wait for the last reply at the fakes; one throughput row from `mark` on."""
        complete = self.settle()
        row = ThroughputRow(
            self.database,
            workload,
            sum(map(len, conversations)),
            len(conversations),
            replies(self.providers) - mark[0],
            last_reply_at(self.providers) - mark[1],
            sum(t.errors for t in tallies.values()),
            complete,
        )
        self.results.throughput.append(row)
        say(
            f"{self.database} {workload}: {row.messages} messages, {row.replies} replies in "
            f"{row.seconds:.1f} s = {row.rate:.1f} msg/s, "
            f"{row.errors} errors{'' if complete else ', NOT all answered'}"
        )

    def throughput(self, workload: str, conversations: list[list[Webhook]]) -> None:
        """Send everything and count the time to the last reply."""
        mark = self._mark()
        self._count(workload, mark, conversations, self.send(conversations))

    def _ack_rows(
        self, engine: str, senders: int, tallies: dict[str, Tally], channels: tuple[str, ...]
    ) -> None:
        """One acknowledgement row per channel of `channels`, in that order."""
        for channel in channels:
            tally = tallies.get(channel, Tally())
            ms = np.array(tally.latencies or [0.0]) * 1000
            row = AckRow(
                self.database,
                engine,
                channel,
                senders,
                len(tally.latencies),
                float(np.percentile(ms, 50)),
                float(np.percentile(ms, 99)),
                float(ms.max()),
                tally.errors,
            )
            self.results.acks.append(row)
            say(
                f"{self.database} engine {engine} {channel:9s} senders={senders} n={row.n} "
                f"p50={row.p50_ms:.1f} p99={row.p99_ms:.1f} "
                f"max={row.max_ms:.1f} errors={row.errors}"
            )

    def acks(self, engine: str, count_backlog: bool) -> None:
        """Web-chat POSTs first (nothing queued for the engine yet), then provider webhooks from one
        sender, then from SENDERS. With `count_backlog`, the one-sender batch is answered before the
        other starts, whose replies are then waited for and counted as throughput."""
        webchat = self.send(self.singles(("webchat",), WEBCHAT_POSTS[engine]))
        alone = self.send(self.singles(PROVIDER_CHANNELS, ALONE_PER_CHANNEL), senders=1)
        self._ack_rows(engine, 1, alone, PROVIDER_CHANNELS)
        if count_backlog:
            self.settle()
        singles = self.singles(PROVIDER_CHANNELS, ACKS_PER_CHANNEL)
        mark = self._mark()
        provider = self.send(singles)
        self._ack_rows(engine, SENDERS, provider, PROVIDER_CHANNELS)
        self._ack_rows(engine, SENDERS, webchat, ("webchat",))
        if count_backlog:
            self._count(
                f"1-message citizens (the {engine}-speed ack run, {SENDERS} senders)",
                mark,
                singles,
                provider,
            )


def measure_database(
    database: str, database_url: str, workdir: Path, providers: Providers, results: ChannelResults
) -> float:
    """Warm up, throughput, acks at normal speed (then let them be answered), acks slowed;
    start-up s."""
    with channel_stack(workdir, database_url, providers) as running:
        run = Run(database, running, providers, results)
        run.send(run.conversations(1))  # warm-up, not counted
        if not run.settle():
            raise RuntimeError(f"{database}: the warm-up messages were not all answered")
        run.throughput("5-message conversations", run.conversations(THROUGHPUT_CONVERSATIONS))
        run.acks("normal", count_backlog=True)
        running.proxy.response_delay_s = SLOW_ENGINE_S
        run.acks("slowed", count_backlog=False)  # its backlog is dropped with the stack
        return running.startup_s


def measure(workdir: Path) -> ChannelResults:
    """Section 5 on SQLite, then on PostgreSQL (or a note saying why not)."""
    started, load_before = time.monotonic(), os.getloadavg()[0]
    results = ChannelResults()
    startups: list[float] = []
    with fake_providers() as providers:
        startups.append(
            measure_database(
                "SQLite",
                f"sqlite:///{workdir / 'sqlite' / 'app.db'}",
                workdir / "sqlite",
                providers,
                results,
            )
        )
        problem = postgres_problem()
        if problem:
            results.notes.append(f"PostgreSQL: not measured: {problem}.")
            say(problem)
        else:
            with postgres_schema() as url:
                startups.append(
                    measure_database("PostgreSQL", url, workdir / "postgresql", providers, results)
                )
    results.seconds = time.monotonic() - started
    results.setup = _setup(startups)
    results.notes.append(
        f"Section run time {results.seconds / 60:.1f} min; 1-minute load average {load_before:.2f} "
        f"before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs, shared)."
    )
    return results


def _setup(startups: list[float]) -> str:
    return (
        "Method: per database, one stack (`bot.stack.start`; engine and app both on that database: "
        "SQLite = the embedded default, PostgreSQL = a fresh schema, dropped after) with every "
        "provider channel pointed at the test suite's fake Twilio/Telegram/Graph servers and a "
        "`SwitchableProxy` between app and engine; signatures (Twilio HMAC-SHA1 of URL + form, "
        "Telegram secret token, Messenger HMAC-SHA256 of the body) checked by the app. Ack "
        "latency = send to HTTP response, one new citizen per webhook, channels interleaved: "
        f"{ALONE_PER_CHANNEL} per provider channel from 1 sender, then {ACKS_PER_CHANNEL} per "
        f"provider channel from {SENDERS} concurrent senders; before them, "
        f"{WEBCHAT_POSTS['normal']} (normal) or {WEBCHAT_POSTS['slowed']} (slowed) web-chat `POST "
        f"/webchat/messages` from {SENDERS} senders (new session each; it returns the replies, so "
        "it is a full turn, not an ack). Engine at normal speed first, then the proxy holds every "
        f"engine answer back {SLOW_ENGINE_S:.0f} s (nothing restarted). Throughput: "
        f"{THROUGHPUT_CONVERSATIONS} citizens per provider channel, each playing one 5-message "
        f"conversation of section 2 in order ({SENDERS} senders, each message sent once the "
        "previous one is acknowledged), after one warm-up conversation per channel; and the "
        f"normal-speed {SENDERS}-sender ack batch, counted the same way. Shipped defaults "
        "otherwise (ENGINE_CONCURRENCY 8, RETRY_INTERVAL_S 2). Stack start-up: "
        f"{', '.join(f'{s:.0f}' for s in startups)} s."
    )
