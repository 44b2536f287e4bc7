"""The citizen panel (issue 14): a wave opened to 10,000 members, their answers, and the results.

In this process, on SQLite and on PostgreSQL: 10,000 active members (inserted directly), a survey
of three questions, the wave opened by the app's sweep (`WaveSweep.open`: one transaction that
writes every place and every invitation), then 2,000 members answering the first question through
`PanelCitizen.handle` (what the turn's panel step calls), then the results with small groups
suppressed (`Results.wave`) and their CSV. Measured: the opening's time and the process's resident
memory after it, each answer's time (p50 / p95), and the results' time.

`python -m bench panel` writes it as section 15 of bench/RESULTS.md.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from sqlalchemy import insert

from bench.common import machine, postgres_schema, say
from bench.memory import tree_rss
from bot.handoff.agents import Agents
from bot.inbox.quiet_hours import QuietHours
from bot.panel.citizen import PanelCitizen
from bot.panel.profile import profile_questions
from bot.panel.results import Results
from bot.panel.sweep import WaveSweep
from bot.panel.waves import Waves
from bot.settings import Settings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import PanelMember
from connectors.capabilities import SMS

HEADING = "## 15. Citizen panel: a wave to 10,000 members (issue 14)"
COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python -m bench panel"
MEMBERS = int(os.environ.get("BENCH_PANEL_MEMBERS", "10000"))
ANSWERS = min(MEMBERS, 2000)
SURVEY = {
    "title": "Bench survey",
    "questions": [
        {
            "key": "how",
            "kind": "single",
            "en": "How did you renew?",
            "fr": "Comment avez-vous renouvelé?",
            "options": [
                {"key": "online", "en": "Online", "fr": "En ligne"},
                {"key": "office", "en": "At an office", "fr": "Au bureau"},
            ],
        },
        {"key": "ease", "kind": "scale", "en": "How easy?", "fr": "Facile?"},
        {"key": "why", "kind": "text", "en": "Why?", "fr": "Pourquoi?", "optional": True},
    ],
}


def run(database_url: str, label: str) -> str:
    db = Database(database_url)
    db.create_schema()
    settings = Settings()
    profile = profile_questions(settings.panel_profile_file)
    areas = [o.key for o in profile[0].options]
    Agents(db, AuditLog(db)).add("bench-lead", "correct horse battery staple 42", "supervisor")
    with db.session() as session:
        session.execute(
            insert(PanelMember),
            [
                {
                    "channel": "sms",
                    "address": f"+1438{n:07d}",
                    "state": "active",
                    "language": "fr" if n % 3 == 0 else "en",
                    "area": areas[n % len(areas)],
                    "wording": "(bench)",
                    "invited_at": dt.datetime.now(dt.UTC),
                    "joined_at": dt.datetime.now(dt.UTC),
                }
                for n in range(MEMBERS)
            ],
        )
        session.commit()
    waves = Waves(db, AuditLog(db), settings.service_name)
    wave = waves.schedule(waves.create_survey(SURVEY, "bench-lead"), "bench-lead")
    sweep = WaveSweep(db, settings.service_name, settings.outreach_timezone, QuietHours(0, 0))
    started = time.perf_counter()
    invited = sweep.open(wave)
    open_s = time.perf_counter() - started
    rss = tree_rss(os.getpid()) / 2**20
    panel = PanelCitizen(db, profile, settings.service_name)
    timings = []
    for n in range(ANSWERS):
        started = time.perf_counter()
        said = panel.handle("sms", f"+1438{n:07d}", "1" if n % 4 else "2", SMS)
        timings.append(time.perf_counter() - started)
        assert said is not None
    started = time.perf_counter()
    results = Results(db, profile)
    shown = results.wave(wave)
    results.csv(wave)
    results_s = time.perf_counter() - started
    assert invited == MEMBERS and shown["questions"][0]["respondents"] == ANSWERS
    db.engine.dispose()
    ms = sorted(t * 1000 for t in timings)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    row = (
        f"| {label} | {invited:,} | {open_s:.1f} | {rss:,.0f} | {ANSWERS:,} | "
        f"{statistics.median(ms):.1f} / {p95:.1f} | {results_s * 1000:.0f} |"
    )
    say(f"panel {label}: {row}")
    return row


def measure(workdir: Path) -> str:
    rows = [run(f"sqlite:///{workdir / 'panel.db'}", "SQLite")]
    postgres = postgres_schema()
    if postgres:
        rows.append(run(postgres, "PostgreSQL"))
    return "\n".join(
        [
            HEADING,
            "",
            f"- Machine: {machine()}. Command: `{COMMAND}`.",
            f"- {MEMBERS:,} active SMS members; a survey of three questions; the wave opened by",
            "  the app's sweep in one transaction (every place and invitation); then members",
            "  answering the first question through `PanelCitizen.handle` (what the turn's panel",
            "  step calls, without the inbox and outbox around it); then the results with small",
            "  groups suppressed and their CSV. In one process; memory is its resident set.",
            "",
            (
                "| database | invited | opening s | memory after MiB | answers | "
                "one answer p50 / p95 ms | results + CSV ms |"
            ),
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
