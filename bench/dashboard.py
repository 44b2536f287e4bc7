"""Section: the customer-experience dashboard with 1,000,000 stored messages, on SQLite
and PostgreSQL.

Per database (SQLite: a new file; PostgreSQL: a fresh schema, dropped after): the schema by the
app's migrations, then 90 days of synthetic traffic inserted in bulk (executemany on SQLite, COPY on
PostgreSQL): MESSAGES citizen messages in 5-message conversations over 5 channels, TURNS bot turns
(65 % answered from the real FAQ bank, Zipf-distributed), "did this help?" votes and 1-5 ratings,
hand-offs with wait and handling times, knowledge-gap groups and alerts. Then `compute` (everything
the page shows) is timed in-process, RUNS times per request after one warm-up, for the default view
(the last 30 days), a filtered one (agency + channel + language over the same 30 days) and the whole
90 days; the JSON encoding and the six SVG charts are timed with it, as the page asks for them.

`python -m bench.dashboard` prints the figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bench.channels import postgres_problem, postgres_schema
from bench.common import say
from bot.handoff.config import ContactCentreConfig, load_config
from bot.insight import charts
from bot.insight.dashboard import Filters, compute
from bot.knowledge.bank import FaqBank
from bot.settings import ROOT, Settings
from bot.storage.db import Database
from tests.integration.conftest import POSTGRES_URL

MESSAGES = 1_000_000
PER_CONVERSATION = 5
TURNS = 300_000
HELPFUL = 50_000
RATINGS = 10_000
HANDOFFS = 20_000
CLUSTERS = 500
QUESTIONS = 5_000  # distinct unanswered question texts
ALERTS = 30
DAYS = 90
RUNS = 10
CHANNELS = ("webchat", "sms", "whatsapp", "telegram", "messenger")
CHANNEL_SHARE = (0.5, 0.2, 0.15, 0.1, 0.05)
OUTCOMES = ("answered", "clarify", "no_answer", "handoff")
OUTCOME_SHARE = (0.65, 0.10, 0.17, 0.08)
REASONS = ("requested", "unsure", "not_helpful", "urgent")
REASON_SHARE = (0.5, 0.25, 0.2, 0.05)
REQUESTS = {
    "last 30 days (default view)": {},
    "last 30 days, agency + channel + language": {
        "agency": "revenue",
        "channel": "webchat",
        "language": "en",
    },
    "all 90 days": {"days": "90"},
}


class Traffic:
    """The synthetic data set, as columns (numpy arrays), generated once and inserted into
    each database."""

    def __init__(
        self, bank: FaqBank, config: ContactCentreConfig, now: dt.datetime, seed: int = 7
    ) -> None:
        rng = np.random.default_rng(seed)
        self.now = now.replace(microsecond=0)
        span = DAYS * 86400.0
        conversations = MESSAGES // PER_CONVERSATION
        self.conv_channel = rng.choice(len(CHANNELS), conversations, p=CHANNEL_SHARE)
        starts = rng.uniform(0, span - 3600, conversations)
        gaps = rng.exponential(90.0, (conversations, PER_CONVERSATION)).cumsum(axis=1)
        offsets = (starts[:, None] + gaps).ravel()
        conv_of = np.repeat(np.arange(conversations), PER_CONVERSATION)
        seq = np.tile(np.arange(1, PER_CONVERSATION + 1), conversations)
        order = np.argsort(offsets, kind="stable")
        self.msg_offset, self.msg_conv, self.msg_seq = offsets[order], conv_of[order], seq[order]
        self.conv_start = starts + gaps[:, 0]

        picked = np.sort(rng.choice(MESSAGES, TURNS, replace=False))
        self.turn_msg = picked
        self.turn_outcome = rng.choice(len(OUTCOMES), TURNS, p=OUTCOME_SHARE)
        faqs = list(bank.faqs)
        weights = 1.0 / np.arange(1, len(faqs) + 1)
        self.faqs = faqs
        self.turn_faq = rng.choice(len(faqs), TURNS, p=weights / weights.sum())
        q_weights = 1.0 / np.arange(1, QUESTIONS + 1) ** 0.8
        self.turn_question = rng.choice(QUESTIONS, TURNS, p=q_weights / q_weights.sum())
        self.turn_grouped = rng.random(TURNS) < 0.9
        self.turn_french = rng.random(TURNS) < 0.25

        answered = np.flatnonzero(self.turn_outcome == 0)
        self.vote_turn = np.sort(rng.choice(answered, min(HELPFUL, len(answered)), replace=False))
        helpful_share = rng.uniform(0.45, 0.95, len(faqs))
        self.vote_value = (
            rng.random(len(self.vote_turn)) < helpful_share[self.turn_faq[self.vote_turn]]
        )

        self.queues = [q.id for q in config.queues]
        self.queue_agency = {q.id: (q.agencies[0] if q.agencies else None) for q in config.queues}
        self.handoff_conv = rng.choice(conversations, HANDOFFS, replace=False)
        self.handoff_queue = rng.choice(len(self.queues), HANDOFFS)
        self.handoff_reason = rng.choice(len(REASONS), HANDOFFS, p=REASON_SHARE)
        self.handoff_status = rng.choice(
            4, HANDOFFS, p=(0.8, 0.1, 0.05, 0.05)
        )  # resolved abandoned cancelled waiting
        self.handoff_wait = rng.exponential(120.0, HANDOFFS)
        self.handoff_handling = rng.exponential(420.0, HANDOFFS)
        self.rating_value = rng.integers(1, 6, HANDOFFS)

    # -- rows --------------------------------------------------------------------------------------
    def stamps(self, offsets: np.ndarray, dialect: str) -> list[str]:
        """Offsets (seconds after the start) as timestamps in the text each database reads."""
        start_us = int((self.now - dt.timedelta(days=DAYS)).timestamp() * 1_000_000)
        values = (start_us + np.round(offsets * 1_000_000)).astype("datetime64[us]")
        text = np.datetime_as_string(values, unit="us")
        if dialect == "sqlite":  # SQLAlchemy's own format: 'YYYY-MM-DD HH:MM:SS.ffffff', UTC
            return [t[:10] + " " + t[11:] for t in text.tolist()]
        return [t + "+00" for t in text.tolist()]

    def conversation_id(self, index: int) -> str:
        return f"{CHANNELS[self.conv_channel[index]]}:bench{index:07d}"

    def tables(self, dialect: str) -> Iterator[tuple[str, list[str], Iterable[tuple[Any, ...]]]]:
        """(table, columns, rows) in insertion order (conversations before what refers to them)."""
        flag = (lambda v: bool(v)) if dialect != "sqlite" else (lambda v: int(bool(v)))
        conv_ids = [self.conversation_id(i) for i in range(len(self.conv_channel))]
        conv_stamps = self.stamps(self.conv_start, dialect)
        yield (
            "conversations",
            ["id", "channel", "address", "last_seq", "created_at", "updated_at"],
            (
                (cid, CHANNELS[ch], cid.split(":")[1], PER_CONVERSATION, stamp, stamp)
                for cid, ch, stamp in zip(
                    conv_ids, self.conv_channel.tolist(), conv_stamps, strict=True
                )
            ),
        )
        msg_stamps = self.stamps(self.msg_offset, dialect)
        yield (
            "inbound_messages",
            [
                "id",
                "channel",
                "provider_message_id",
                "conversation_id",
                "seq",
                "text",
                "status",
                "attempts",
                "received_at",
                "processed_at",
            ],
            (
                (
                    i + 1,
                    CHANNELS[self.conv_channel[c]],
                    f"b{i:08d}",
                    conv_ids[c],
                    s,
                    "bench message",
                    "done",
                    1,
                    stamp,
                    stamp,
                )
                for i, (c, s, stamp) in enumerate(
                    zip(self.msg_conv.tolist(), self.msg_seq.tolist(), msg_stamps, strict=True)
                )
            ),
        )
        turn_stamps = [msg_stamps[m] for m in self.turn_msg.tolist()]

        def turn(i: int) -> tuple[Any, ...]:
            m = int(self.turn_msg[i])
            c = int(self.msg_conv[m])
            outcome = OUTCOMES[self.turn_outcome[i]]
            if outcome == "answered":
                faq = self.faqs[self.turn_faq[i]]
                return (
                    i + 1,
                    turn_stamps[i],
                    m + 1,
                    conv_ids[c],
                    CHANNELS[self.conv_channel[c]],
                    faq.language,
                    outcome,
                    faq.id,
                    faq.agency,
                    "how do I do this",
                    None,
                    flag(True),
                    flag(False),
                )
            q = int(self.turn_question[i])
            grouped = bool(self.turn_grouped[i])
            return (
                i + 1,
                turn_stamps[i],
                m + 1,
                conv_ids[c],
                CHANNELS[self.conv_channel[c]],
                "fr" if self.turn_french[i] else "en",
                outcome,
                None,
                None,
                f"unanswered question number {q}",
                q % CLUSTERS + 1 if grouped else None,
                flag(grouped),
                flag(False),
            )

        yield (
            "turns",
            [
                "id",
                "at",
                "inbound_id",
                "conversation_id",
                "channel",
                "language",
                "outcome",
                "faq_id",
                "agency",
                "question",
                "cluster_id",
                "clustered",
                "feedback_pending",
            ],
            (turn(i) for i in range(TURNS)),
        )
        vote_stamps = self.stamps(self.msg_offset[self.turn_msg[self.vote_turn]] + 30, dialect)

        def vote(k: int) -> tuple[Any, ...]:
            t = int(self.vote_turn[k])
            c = int(self.msg_conv[self.turn_msg[t]])
            faq = self.faqs[self.turn_faq[t]]
            return (
                vote_stamps[k],
                "helpful",
                int(self.vote_value[k]),
                conv_ids[c],
                CHANNELS[self.conv_channel[c]],
                faq.language,
                faq.id,
                faq.agency,
                t + 1,
                None,
            )

        columns = [
            "at",
            "kind",
            "value",
            "conversation_id",
            "channel",
            "language",
            "faq_id",
            "agency",
            "turn_id",
            "handoff_id",
        ]
        yield "feedback", columns, (vote(k) for k in range(len(self.vote_turn)))
        enqueued = self.conv_start[self.handoff_conv] + 30
        assigned = enqueued + self.handoff_wait
        ended = assigned + self.handoff_handling
        enq_s, asg_s, end_s = (self.stamps(v, dialect) for v in (enqueued, assigned, ended))
        statuses = ("resolved", "abandoned", "cancelled", "waiting")

        def handoff(k: int) -> tuple[Any, ...]:
            c = int(self.handoff_conv[k])
            status = statuses[self.handoff_status[k]]
            taken = status in ("resolved", "abandoned")
            return (
                k + 1,
                conv_ids[c],
                self.queues[self.handoff_queue[k]],
                status,
                0,
                flag(False),
                REASONS[self.handoff_reason[k]],
                "en",
                CHANNELS[self.conv_channel[c]],
                enq_s[k],
                asg_s[k] if taken else None,
                end_s[k] if status != "waiting" else None,
                flag(False),
                enq_s[k],
            )

        yield (
            "handoffs",
            [
                "id",
                "conversation_id",
                "queue_id",
                "status",
                "priority",
                "ticket",
                "reason",
                "language",
                "channel",
                "enqueued_at",
                "assigned_at",
                "ended_at",
                "rating_pending",
                "updated_at",
            ],
            (handoff(k) for k in range(HANDOFFS)),
        )
        rated = np.flatnonzero(self.handoff_status == 0)[:RATINGS]
        rate_s = self.stamps(ended[rated] + 60, dialect)
        yield (
            "feedback",
            columns,
            (
                (
                    rate_s[j],
                    "satisfaction",
                    int(self.rating_value[k]),
                    conv_ids[int(self.handoff_conv[k])],
                    CHANNELS[self.conv_channel[int(self.handoff_conv[k])]],
                    "en",
                    None,
                    self.queue_agency[self.queues[self.handoff_queue[k]]],
                    None,
                    int(k) + 1,
                )
                for j, k in enumerate(rated.tolist())
            ),
        )
        first = self.stamps(np.array([0.0]), dialect)[0]
        last = self.stamps(np.array([DAYS * 86400.0 - 60]), dialect)[0]
        yield (
            "gap_clusters",
            ["id", "created_at", "last_seen_at", "language", "label", "size", "centroid"],
            (
                (
                    k + 1,
                    first,
                    last,
                    "en",
                    f"unanswered question number {k}",
                    TURNS // 10 // CLUSTERS,
                    b"",
                )
                for k in range(CLUSTERS)
            ),
        )
        alert_s = self.stamps(np.linspace(0, DAYS * 86400.0 - 3600, ALERTS), dialect)
        yield (
            "alerts",
            ["at", "group_key", "label", "window", "count", "expected", "examples", "ended_at"],
            (
                (
                    alert_s[k],
                    f"gap:{k + 1}",
                    f"unanswered question number {k}",
                    "day",
                    40,
                    8.5,
                    json.dumps([f"unanswered question number {k}"]),
                    None if k >= ALERTS - 3 else alert_s[k],
                )
                for k in range(ALERTS)
            ),
        )


def insert(db: Database, traffic: Traffic) -> dict[str, int]:
    """Bulk-insert the traffic: executemany in one transaction (SQLite), COPY (PostgreSQL).
    Row counts."""
    dialect = db.engine.dialect.name
    counts: dict[str, int] = {}
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if dialect == "sqlite":
            cursor.execute("PRAGMA synchronous=OFF")
        for table, columns, rows in traffic.tables(dialect):
            listed = ", ".join(f'"{c}"' for c in columns)
            n = 0
            if dialect == "sqlite":
                cursor.executemany(
                    f"INSERT INTO {table} ({listed}) VALUES ({', '.join('?' * len(columns))})", rows
                )
                n = cursor.rowcount
            else:
                with cursor.copy(f"COPY {table} ({listed}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(row)
                        n += 1
            counts[table] = counts.get(table, 0) + n
        raw.commit()
        if dialect == "postgresql":
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
    return counts


def _spread(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {
        "n": len(ms),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
    }


def page_once(
    db: Database, bank: FaqBank, config: ContactCentreConfig, settings: Settings, filters: Filters
) -> tuple[float, float]:
    """Seconds of `compute`, and of the JSON encoding plus the six charts."""
    began = time.perf_counter()
    data = compute(db, bank, config, settings, filters)
    computed = time.perf_counter()
    json.dumps(data)
    for name in charts.CHARTS:
        charts.render(name, data)
    return computed - began, time.perf_counter() - computed


def time_requests(
    db: Database, bank: FaqBank, config: ContactCentreConfig, settings: Settings, label: str
) -> dict[str, Any]:
    """Every request of REQUESTS, one warm-up then RUNS timed runs each."""
    found: dict[str, Any] = {}
    today = dt.datetime.now(dt.UTC).date()
    for name, params in REQUESTS.items():
        params = dict(params)
        days = int(params.pop("days", "30"))
        params["from"] = (today - dt.timedelta(days=days - 1)).isoformat()
        filters = Filters.parse(params, agencies=bank.agencies)
        page_once(db, bank, config, settings, filters)
        runs = [page_once(db, bank, config, settings, filters) for _ in range(RUNS)]
        found[name] = {
            "compute": _spread([c for c, _ in runs]),
            "json_and_charts": _spread([r for _, r in runs]),
        }
        say(
            f"dashboard {label}, {name}: compute p50 {found[name]['compute']['p50_ms']:.0f} ms, "
            f"p99 {found[name]['compute']['p99_ms']:.0f} ms; JSON + charts p50 "
            f"{found[name]['json_and_charts']['p50_ms']:.1f} ms"
        )
    return found


def measure_database(
    label: str,
    url: str,
    traffic: Traffic,
    bank: FaqBank,
    config: ContactCentreConfig,
    settings: Settings,
) -> dict[str, Any]:
    db = Database(url)
    try:
        db.create_schema()
        began = time.perf_counter()
        counts = insert(db, traffic)
        seeded = time.perf_counter() - began
        say(f"dashboard {label}: seeded {counts} in {seeded:.0f} s")
        return {
            "seed_s": seeded,
            "rows": counts,
            "requests": time_requests(db, bank, config, settings, label),
        }
    finally:
        db.engine.dispose()


@contextmanager
def _sqlite_url(workdir: Path) -> Iterator[str]:
    path = workdir / f"dashboard-{uuid.uuid4().hex[:6]}.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


def measure(workdir: Path) -> dict[str, Any]:
    """The dashboard section: seeding and page-data times with MESSAGES messages on SQLite
    and PostgreSQL."""
    began = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    bank = FaqBank.load(ROOT / "data" / "faqs")
    config = load_config(ROOT / "data" / "contact_centre.yml")
    settings = Settings()
    generated = time.perf_counter()
    traffic = Traffic(bank, config, dt.datetime.now(dt.UTC))
    say(
        f"dashboard: generated {MESSAGES:,} messages of traffic in "
        f"{time.perf_counter() - generated:.1f} s"
    )
    results: dict[str, Any] = {
        "messages": MESSAGES,
        "turns": TURNS,
        "days": DAYS,
        "runs": RUNS,
        "databases": {},
        "notes": [],
    }
    with _sqlite_url(workdir) as url:
        results["databases"]["SQLite"] = measure_database(
            "SQLite", url, traffic, bank, config, settings
        )
    problem = postgres_problem()
    if problem:
        results["notes"].append(f"PostgreSQL: not measured: {problem}.")
        say(problem)
    else:
        with postgres_schema(POSTGRES_URL) as url:
            results["databases"]["PostgreSQL"] = measure_database(
                "PostgreSQL", url, traffic, bank, config, settings
            )
    results["seconds"] = time.monotonic() - began
    load = os.getloadavg()[0]
    results["notes"].append(
        f"{MESSAGES:,} messages ({MESSAGES // PER_CONVERSATION:,} conversations), {TURNS:,} turns, "
        f"{HELPFUL:,} votes, {HANDOFFS:,} hand-offs over {DAYS} days; the 30-day views cover a "
        f"third of them. Timings in-process (no HTTP), one warm-up then {RUNS} runs per request; "
        "SQLite without ANALYZE (as the app leaves it), PostgreSQL after ANALYZE (as autovacuum "
        f"would). Section run time {results['seconds'] / 60:.1f} min, 1-minute load average "
        f"{load:.2f} after ({os.cpu_count()} CPUs)."
    )
    return results


def markdown(results: dict[str, Any]) -> str:
    """The section's table, for the benchmark report."""
    lines = [
        (
            "| database | request | compute p50 ms | compute p99 ms | JSON + 6 charts p50 ms | "
            "seeding s |"
        ),
        "|---|---|---|---|---|---|",
    ]
    for database, figures in results["databases"].items():
        for name, timing in figures["requests"].items():
            lines.append(
                f"| {database} | {name} | {timing['compute']['p50_ms']:.0f} | "
                f"{timing['compute']['p99_ms']:.0f} | {timing['json_and_charts']['p50_ms']:.1f} | "
                f"{figures['seed_s']:.0f} |"
            )
    return "\n".join(lines + [""] + [f"- {note}" for note in results["notes"]])


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as folder:
        print(markdown(measure(Path(folder))))
