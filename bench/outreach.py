"""Outreach (issue 14): a broadcast fanned out to 100,000 subscribers and handed to the provider.

Each app replica is a process of its own running what the app runs for a broadcast: the fan-out
loop (`FanOut.run`) and the outbox sender (`OutboxSender.run`, the real Twilio adapter) against a
local fake Twilio in this process that answers at once. The pace per channel is lifted
(`OUTREACH_RATES` 1,000,000 a second) so that the figure is our ceiling, not the configured pace.
SQLite with one replica, PostgreSQL with two. Measured: time from approval to the first copy at the
provider, copies per second handed over (first to last), the whole broadcast's time, and the peak
resident memory of the replicas.

`python -m bench outreach` writes it as section 14 of bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from sqlalchemy import func, insert, select

from bench.common import machine, postgres_schema, say
from bench.memory import tree_rss
from bot.storage.db import Database
from bot.storage.models import OutboundMessage, Subscription
from tests.support.fakes import Answer, FakeTwilio, Recorded

HEADING = "## 14. Outreach: a broadcast to 100,000 subscribers (issue 14)"
COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python -m bench outreach"
SUBSCRIBERS = int(os.environ.get("BENCH_OUTREACH_SUBSCRIBERS", "100000"))
SID, TOKEN = "AC" + "b" * 32, "bench-token"


class TimedTwilio(FakeTwilio):
    """FakeTwilio that notes when the first and the last message arrived, and keeps no record
    of each (100,000 of them would weigh on this process)."""

    def __init__(self) -> None:
        super().__init__(SID, TOKEN)
        self.first_at = 0.0
        self.last_at = 0.0
        self.count = 0
        self.numbers: set[str] = set()

    def handle(self, record: Recorded) -> Answer:
        answer = self.answer(record)
        now = time.perf_counter()
        with self._lock:
            self.count += 1
            self.first_at = self.first_at or now
            self.last_at = now
            self.numbers.add(str(record.body.get("To")))
            self._created.clear()  # the list API is not used here
        return answer


@dataclass
class Run:
    database: str
    replicas: int
    first_send_s: float
    per_s: float
    total_s: float
    delivered: int
    distinct: int
    peak_mib: float


def _replica(database_url: str, api_base: str, done: multiprocessing.synchronize.Event) -> None:
    """One app replica's broadcast work, until `done` is set."""
    from bot.conversation.sender import OutboxSender
    from bot.inbox.outbox import Outbox
    from bot.inbox.policy import OptOuts
    from bot.outreach.fanout import FanOut
    from connectors.twilio import TwilioAdapter

    db = Database(database_url)
    adapter = TwilioAdapter(SID, TOKEN, "+15145550199", "", "", api_base=api_base)
    outbox = Outbox(db, uuid.uuid4().hex[:16], claim_s=30)
    sender = OutboxSender(
        outbox,
        {"sms": adapter},
        OptOuts(db),
        broadcast_rates={"sms": 1_000_000},
    )
    fanout = FanOut(db, batch=500, wake=sender.wake.set)

    async def main() -> None:
        stop = asyncio.Event()
        jobs = [asyncio.create_task(sender.run(stop)), asyncio.create_task(fanout.run(0.5, stop))]
        while not done.is_set():
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*jobs, return_exceptions=True)
        await adapter.aclose()

    asyncio.run(main())
    db.engine.dispose()


def _seed(database_url: str) -> tuple[Database, int]:
    from bot.handoff.agents import Agents
    from bot.outreach.broadcasts import Broadcasts
    from bot.outreach.topics import Topics, validated
    from bot.storage.audit import AuditLog

    db = Database(database_url)
    db.create_schema()
    audit = AuditLog(db)
    agents = Agents(db, audit)
    for name in ("bench-maker", "bench-checker"):
        agents.add(name, "correct horse battery staple 42", "supervisor")
    Topics(db, audit).add(validated("bench", "Bench", "Banc", None), "bench")
    with db.session() as session:
        for start in range(0, SUBSCRIBERS, 10_000):
            session.execute(
                insert(Subscription),
                [
                    {
                        "channel": "sms",
                        "address": f"+1438{n:07d}",
                        "topic": "bench",
                        "state": "active",
                        "language": "en",
                        "timezone": "America/Toronto",
                        "wording": "(seeded)",
                    }
                    for n in range(start, min(start + 10_000, SUBSCRIBERS))
                ],
            )
        session.commit()
    broadcast_id = Broadcasts(db, audit).create(
        "bench", "Service update: offices reopen Monday.", None, True, "bench-maker"
    )
    return db, broadcast_id


def _pending(db: Database) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.kind == "broadcast", OutboundMessage.status == "pending")
            )
            or 0
        )


def fan_out(database_url: str, replicas: int, label: str) -> Run:
    from bot.outreach.broadcasts import Broadcasts
    from bot.storage.audit import AuditLog

    say(f"outreach: seeding {SUBSCRIBERS:,} subscribers ({label})")
    db, broadcast_id = _seed(database_url)
    context = multiprocessing.get_context("spawn")
    done = context.Event()
    with TimedTwilio() as twilio:
        processes = [
            context.Process(target=_replica, args=(database_url, twilio.base_url, done))
            for _ in range(replicas)
        ]
        for process in processes:
            process.start()
        time.sleep(8)  # the replicas import and connect before the clock starts
        peak = [0]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                peak[0] = max(peak[0], sum(tree_rss(p.pid or 0) for p in processes))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        approved = time.perf_counter()
        Broadcasts(db, AuditLog(db)).approve(broadcast_id, "bench-checker")
        deadline = approved + 1800
        while time.perf_counter() < deadline:
            time.sleep(2)
            if twilio.count >= SUBSCRIBERS and _pending(db) == 0:
                break
        finished = time.perf_counter()
        sampling.set()
        done.set()
        for process in processes:
            process.join(60)
        run = Run(
            label,
            replicas,
            twilio.first_at - approved,
            (twilio.count - 1) / max(twilio.last_at - twilio.first_at, 1e-9),
            twilio.last_at - approved if twilio.count >= SUBSCRIBERS else finished - approved,
            twilio.count,
            len(twilio.numbers),
            peak[0] / 2**20,
        )
    db.engine.dispose()
    say(f"outreach {label}: {run}")
    return run


def measure(workdir: Path) -> str:
    runs = [fan_out(f"sqlite:///{workdir / 'outreach.db'}", 1, "SQLite")]
    postgres = postgres_schema()
    if postgres:
        runs.append(fan_out(postgres, 2, "PostgreSQL"))
    rows = [
        f"| {r.database} | {r.replicas} | {r.first_send_s:.2f} | {r.per_s:,.0f} | "
        f"{r.total_s:,.0f} | {r.delivered:,} | {r.distinct:,} | {r.peak_mib:,.0f} |"
        for r in runs
    ]
    return "\n".join(
        [
            HEADING,
            "",
            f"- Machine: {machine()}. Command: `{COMMAND}`.",
            f"- One urgent broadcast approved for {SUBSCRIBERS:,} SMS subscribers; each replica",
            "  a process running the app's fan-out and outbox sender with the real Twilio",
            "  adapter, to a fake Twilio in the bench process (it answers at once, on the same 2",
            "  cores). The pace is lifted: copies per second is our ceiling, not `OUTREACH_RATES`.",
            "",
            (
                "| database | replicas | approval to first send s | copies/s handed over | "
                "whole broadcast s | received | distinct numbers | peak memory of replicas MiB |"
            ),
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "- The providers' published rates that bound a real broadcast: Telegram about 30",
            "  messages a second per bot; Twilio queues what it accepts and sends it at each",
            "  sender's rate (long code about 1 segment a second, toll-free 3, short code 100).",
        ]
    )
