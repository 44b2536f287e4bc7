"""Knowledge studio (issue 13): publish-to-live latency, and the one-stop-shop scale.

- Publish to live: two replicas (LiveKnowledge, each checking the revision every KB_REFRESH_S as
  the app does) over one database, SQLite and PostgreSQL; an urgent publish changes one FAQ's
  answer, and the time until both replicas answer with it is taken, 20 times.
- Scale: 5,000 FAQs across 40 agencies against the 130 demo FAQs: index build, memory the index
  adds, search time per query, and one publish.

`python -m bench studio` writes it as section 13 of bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
import random
import shutil
import statistics
import threading
import time
import uuid
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


from bench.common import machine, postgres_schema, say
from bench.index_speed import thousand_faqs
from bench.memory import tree_rss
from bot.knowledge.bank import FaqBank
from bot.knowledge.faq import Faq
from bot.knowledge.service import KnowledgeBase
from bot.settings import ROOT, Settings
from bot.storage.db import Database
from bot.studio.access import operator
from bot.studio.live import LiveKnowledge
from bot.studio.store import Content, Studio

HEADING = "## 13. Knowledge studio: publish to live, and 5,000 FAQs across 40 agencies (issue 13)"
COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python -m bench studio"
PUBLISHES = 20
AGENCIES = 40
SCALE = 5000


def rss_mib() -> float:
    return tree_rss(os.getpid()) / 2**20


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def publish_to_live(database_url: str, workdir: Path) -> list[float]:
    """Seconds from each urgent publish until both replicas answer with it."""
    db = Database(database_url)
    db.create_schema()
    replicas = []
    for number in range(2):  # each replica its own index folder, as on two hosts
        index = workdir / f"index{number}"
        if not index.exists():
            shutil.copytree(ROOT / "var" / "index", index)
        settings = Settings(var_dir=workdir, index_dir=index)
        replicas.append(LiveKnowledge(db, settings))
    for replica in replicas:
        replica.load()
    finished = threading.Event()

    async def watch() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(r.run(settings.kb_refresh_s, stop)) for r in replicas]
        while not finished.is_set():
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)

    watcher = threading.Thread(target=lambda: asyncio.run(watch()), daemon=True)
    watcher.start()
    studio = Studio(db)
    editor = operator("bench")
    faq = replicas[0].load().bank.faqs[0]
    latencies = []
    jitter = random.Random(13)
    try:
        for number in range(PUBLISHES):
            answer = f"{faq.answer} (update {number} {uuid.uuid4().hex[:6]})"
            head = studio.edit(
                editor, faq.id, Content(faq.question, answer, faq.alternatives), _head(db, faq.id)
            )
            assert head
            # a publish comes at any moment of a replica's check interval
            time.sleep(jitter.uniform(0, settings.kb_refresh_s))
            started = time.perf_counter()
            studio.publish_urgent(editor, faq.id)
            while any(r.load().faq(faq.id).answer != answer for r in replicas):  # type: ignore[union-attr]
                time.sleep(0.02)
            latencies.append(time.perf_counter() - started)
            say(f"  publish {number + 1}: live on both replicas in {latencies[-1]:.2f} s")
    finally:
        finished.set()
        watcher.join(timeout=30)
        db.engine.dispose()
    return latencies


def _head(db: Database, faq_id: str) -> int:
    from bot.storage.models import KbFaq

    with db.session() as session:
        row = session.get(KbFaq, faq_id)
        assert row is not None
        return row.head_version


def scale_faqs() -> list[Faq]:
    """5,000 FAQs over 40 agencies: the 1,000 of section 11, then copies with changed
    questions, spread round-robin over the agencies."""
    base = thousand_faqs()
    faqs = []
    for number in range(SCALE):
        faq = base[number % len(base)]
        copy = number // len(base)
        faqs.append(
            dataclasses.replace(
                faq,
                id=f"s{number}",
                agency=f"agency-{number % AGENCIES:02d}",
                question=faq.question if copy == 0 else f"{faq.question} [{copy}]",
                parallel_id=None,
            )
        )
    return faqs


def scale_rows(workdir: Path) -> list[str]:
    """Build, memory, search and one publish for the demo bank and for 5,000 FAQs."""
    rows = []
    demo = list(FaqBank.load(ROOT / "data" / "faqs").faqs)
    queries = [f.question for f in demo[:100]]
    for label, faqs in (
        ("130 demo FAQs", demo),
        (f"{SCALE:,} FAQs, {AGENCIES} agencies", scale_faqs()),
    ):
        gc.collect()
        before = rss_mib()
        started = time.perf_counter()
        bank = FaqBank.from_faqs(faqs)
        kb = KnowledgeBase.open(bank, workdir / f"scale-{len(faqs)}")
        build = time.perf_counter() - started
        kb.ask("warm up", "en")
        gc.collect()
        memory = rss_mib() - before
        times = []
        for question in queries:
            started = time.perf_counter()
            kb.ask(question, "en")
            times.append((time.perf_counter() - started) * 1000)
        changed = dataclasses.replace(faqs[7], answer=faqs[7].answer + " (changed)")
        started = time.perf_counter()
        kb.updated(
            FaqBank.from_faqs([*faqs[:7], changed, *faqs[8:]]), workdir / f"scale-{len(faqs)}"
        )
        publish = time.perf_counter() - started
        rows.append(
            f"| {label} | {build:.1f} | {memory:.0f} | {statistics.median(times):.1f} | "
            f"{_percentile(times, 0.99):.1f} | {publish:.2f} |"
        )
        say(rows[-1])
        del kb
    return rows


def measure(workdir: Path) -> str:
    say("publish to live, SQLite, two replicas")
    sqlite = publish_to_live(f"sqlite:///{workdir / 'studio.db'}", workdir / "sqlite")
    postgres_url = postgres_schema()
    postgres = publish_to_live(postgres_url, workdir / "pg") if postgres_url else []
    say("scale")
    scale = scale_rows(workdir)

    def line(name: str, values: list[float]) -> str:
        if not values:
            return f"| {name} | not measured (no server) | | |"
        return (
            f"| {name} | {len(values)} | {statistics.median(values):.2f} | "
            f"{_percentile(values, 0.99):.2f} | {max(values):.2f} |"
        )

    return "\n".join(
        [
            HEADING,
            "",
            f"- Machine: {machine()}. Command: `{COMMAND}`.",
            "- Publish to live: an urgent publish of one changed answer in the 130-FAQ demo bank,",
            "  then the time until two replicas (LiveKnowledge, each checking the revision every",
            "  2 s, as the app does) both answer with it; each publish comes at a random moment of",
            "  the interval. It is the wait for the next check (0-2 s) plus the rebuild: only the",
            "  changed FAQ is encoded, then BM25, hubness and the calibration are redone.",
            "",
            "| database | publishes | p50 s | p99 s | max s |",
            "|---|---|---|---|---|",
            line("SQLite", sqlite),
            line("PostgreSQL", postgres),
            "",
            "- Scale: the index of each bank built from nothing (encoders loaded; calibration",
            "  included), the resident memory it adds (the first row includes loading both",
            "  encoders; both include ONNX Runtime's arenas grown while encoding), a search",
            "  (`ask`) of 100 demo questions, and one FAQ's answer changed",
            "  (`KnowledgeBase.updated`, what a publish costs a replica).",
            "",
            "| bank | build s | memory MiB | search p50 ms | search p99 ms | one publish s |",
            "|---|---|---|---|---|---|",
            *scale,
        ]
    )
