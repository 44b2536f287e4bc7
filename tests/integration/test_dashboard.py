"""The dashboard's figures on SQLite and PostgreSQL: a small known dataset, every figure worked
out by hand.

The dataset (times UTC; the period is the week 2025-03-03 .. 2025-03-09 unless a test
says otherwise):

conversation  channel   turns (outcome, FAQ / question, gap group)
c1            webchat   03-03 09:15 answered rev-due; 09:45 answered rev-due;
                        03-05 10:00 no_answer "crypto payments?" g1
c2            webchat   03-04 14:05 no_answer "Can I pay with bitcoin?" g1;
                        14:06 handoff "talk to a person" (not grouped yet)
c3            sms       03-03 09:20 answered ben-apply; 03-05 00:10 clarify
                        "benefit for kids" g2 (agency benefits)
c4            telegram  03-08 14:00 answered ben-apply-fr (French)
c5            webchat   03-09 23:30 no_answer "Can I pay with bitcoin?" g1
c6            webchat   03-02 10:00 g1 "Do you take crypto?", 02-26 g3 (before)
c7            sms       03-06 12:00 answered rev-due
c8            webchat   03-07 08:00 no_answer "lost my card" (not grouped);
                        09:00 no_answer "Is bitcoin accepted?" g1

hand-offs (queue, reason):
c2  general, unsure: wait 120 s, handled 600 s
c3  benefits, requested: 300 s, 1200 s
c5  revenue, not_helpful: waiting
c6  general, urgent (03-02, before)
c7  revenue, requested: 60 s, 240 s; revenue, requested: 600 s, abandoned
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.handoff.agents import Agents
from bot.handoff.config import ContactCentreConfig
from bot.insight import charts
from bot.insight.dashboard import TABLES, FilterError, Filters, compute, csv_text, tables
from bot.insight.single_flight import SingleFlight
from bot.knowledge.bank import FaqBank
from bot.knowledge.faq import Agency, Faq
from bot.settings import Settings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import (
    Alert,
    Conversation,
    DailyCount,
    Feedback,
    GapCluster,
    Handoff,
    InboundMessage,
    KbAgency,
    KbFaq,
    Turn,
)
from bot.web import auth
from bot.web.routes import console_api, console_pages
from bot.web.routes import dashboard as web

NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)
WEEK = {"from": "2025-03-03", "to": "2025-03-09"}
CONFIG = ContactCentreConfig.model_validate(
    {
        "default_queue": "general",
        "queues": [
            {"id": "general", "name": {"en": "General"}},
            {"id": "revenue", "name": {"en": "Revenue queue"}, "agencies": ["revenue"]},
            {"id": "benefits", "name": {"en": "Benefits queue"}, "agencies": ["benefits"]},
        ],
        "dispositions": [{"code": "answered", "label": "Answered"}],
    }
)
BANK = FaqBank(
    {
        "revenue": Agency("revenue", {"en": "Revenue Agency"}),
        "benefits": Agency("benefits", {"en": "Benefits Agency"}),
    },
    (
        Faq(
            "rev-due",
            "revenue",
            "en",
            "When are taxes due?",
            "April 30.",
            last_reviewed=dt.date(2025, 1, 10),
        ),
        Faq(
            "rev-refund",
            "revenue",
            "en",
            "=Where is my refund?",
            "Soon.",
            last_reviewed=dt.date(2023, 1, 1),
        ),
        Faq("ben-apply", "benefits", "en", "How do I apply for benefits?", "Online."),
        Faq(
            "ben-apply-fr",
            "benefits",
            "fr",
            "Comment demander des prestations?",
            "En ligne.",
            last_reviewed=dt.date(2025, 2, 1),
        ),
    ),
)
SETTINGS = Settings(stale_after_days=365)


def at(text: str) -> dt.datetime:
    """'MM-DD HH:MM[:SS]' in 2025 (or a full ISO date-time), UTC."""
    return dt.datetime.fromisoformat(text if text.startswith("20") else f"2025-{text}").replace(
        tzinfo=dt.UTC
    )


def seed(db: Database) -> None:
    channels = {
        "c1": "webchat",
        "c2": "webchat",
        "c3": "sms",
        "c4": "telegram",
        "c5": "webchat",
        "c6": "webchat",
        "c7": "sms",
        "c8": "webchat",
    }
    conv = {name: f"{channel}:{name}" for name, channel in channels.items()}
    with db.session() as s:
        s.add_all(Conversation(id=conv[n], channel=c, address=n) for n, c in channels.items())
        s.flush()
        messages = [
            ("webchat", "c1", "03-03 09:15"),
            ("webchat", "c1", "03-03 09:45"),
            ("webchat", "c2", "03-04 14:05"),
            ("webchat", "c5", "03-09 23:30"),
            ("sms", "c3", "03-03 09:20"),
            ("sms", "c3", "03-05 00:10"),
            ("telegram", "c4", "03-08 14:00"),
            ("webchat", "c6", "03-02 23:59"),
            ("sms", "c7", "03-10 00:00"),
        ]  # the last two: outside
        s.add_all(
            InboundMessage(
                channel=ch,
                provider_message_id=f"m{i}",
                conversation_id=conv[c],
                seq=i,
                text="hi",
                status="done",
                received_at=at(when),
            )
            for i, (ch, c, when) in enumerate(messages)
        )
        turns = [
            (
                "c1",
                "03-03 09:15",
                "answered",
                "rev-due",
                "revenue",
                "when are taxes due",
                None,
                True,
                "en",
            ),
            (
                "c1",
                "03-03 09:45",
                "answered",
                "rev-due",
                "revenue",
                "taxes due date",
                None,
                True,
                "en",
            ),
            (
                "c2",
                "03-04 14:05",
                "no_answer",
                None,
                None,
                "Can I pay with bitcoin?",
                1,
                True,
                "en",
            ),
            ("c2", "03-04 14:06", "handoff", None, None, "talk to a person", None, False, "en"),
            (
                "c3",
                "03-03 09:20",
                "answered",
                "ben-apply",
                "benefits",
                "apply for benefits",
                None,
                True,
                "en",
            ),
            ("c3", "03-05 00:10", "clarify", None, "benefits", "benefit for kids", 2, True, "en"),
            (
                "c4",
                "03-08 14:00",
                "answered",
                "ben-apply-fr",
                "benefits",
                "demander prestations",
                None,
                True,
                "fr",
            ),
            (
                "c5",
                "03-09 23:30",
                "no_answer",
                None,
                None,
                "Can I pay with bitcoin?",
                1,
                True,
                "en",
            ),
            (
                "c7",
                "03-06 12:00",
                "answered",
                "rev-due",
                "revenue",
                "tax deadline",
                None,
                True,
                "en",
            ),
            ("c8", "03-07 08:00", "no_answer", None, None, "lost my card", None, False, "en"),
            ("c8", "03-07 09:00", "no_answer", None, None, "Is bitcoin accepted?", 1, True, "en"),
            ("c1", "03-05 10:00", "no_answer", None, None, "crypto payments?", 1, True, "en"),
            ("c6", "03-02 10:00", "no_answer", None, None, "Do you take crypto?", 1, True, "en"),
            ("c6", "02-26 10:00", "no_answer", None, None, "old question", 3, True, "en"),
        ]
        for c, when, outcome, faq, agency, question, cluster, clustered, language in turns:
            s.add(
                Turn(
                    at=at(when),
                    conversation_id=conv[c],
                    channel=channels[c],
                    language=language,
                    outcome=outcome,
                    faq_id=faq,
                    agency=agency,
                    question=question,
                    cluster_id=cluster,
                    clustered=clustered,
                )
            )
            s.flush()  # ids in this order (ties among unanswered questions go to the first asked)
        s.add_all(
            [
                GapCluster(
                    id=1,
                    label="Can I pay with bitcoin?",
                    language="en",
                    size=5,
                    centroid=b"",
                    created_at=at("03-02 10:00"),
                    last_seen_at=at("03-09 23:30"),
                ),
                GapCluster(
                    id=2,
                    label="benefit for kids",
                    language="en",
                    size=1,
                    centroid=b"",
                    created_at=at("03-05 00:10"),
                    last_seen_at=at("03-05 00:10"),
                ),
                GapCluster(
                    id=3,
                    label="old question",
                    language="en",
                    size=1,
                    centroid=b"",
                    created_at=at("02-26 10:00"),
                    last_seen_at=at("02-26 10:00"),
                ),
            ]
        )
        feedback = [
            ("03-03 09:16", "helpful", 1, "rev-due", "revenue", "c1", "en"),
            ("03-03 09:46", "helpful", 0, "rev-due", "revenue", "c1", "en"),
            ("03-06 12:01", "helpful", 1, "rev-due", "revenue", "c7", "en"),
            ("03-03 09:21", "helpful", 0, "ben-apply", "benefits", "c3", "en"),
            ("03-08 14:01", "helpful", 1, "ben-apply-fr", "benefits", "c4", "fr"),
            ("03-04 14:20", "satisfaction", 4, None, None, "c2", "en"),
            ("03-05 00:40", "satisfaction", 2, None, "benefits", "c3", "en"),
            ("03-06 12:11", "satisfaction", 5, None, "revenue", "c7", "en"),
            ("03-02 09:00", "helpful", 0, "rev-due", "revenue", "c6", "en"),  # outside
        ]
        s.add_all(
            Feedback(
                at=at(when),
                kind=kind,
                value=value,
                faq_id=faq,
                agency=agency,
                conversation_id=conv[c],
                channel=channels[c],
                language=language,
            )
            for when, kind, value, faq, agency, c, language in feedback
        )
        handoffs = [
            ("c2", "general", "unsure", "resolved", "03-04 14:06", "03-04 14:08", "03-04 14:18"),
            (
                "c3",
                "benefits",
                "requested",
                "resolved",
                "03-05 00:11",
                "03-05 00:16",
                "03-05 00:36",
            ),
            ("c5", "revenue", "not_helpful", "waiting", "03-09 23:31", None, None),
            ("c7", "revenue", "requested", "resolved", "03-06 12:05", "03-06 12:06", "03-06 12:10"),
            (
                "c7",
                "revenue",
                "requested",
                "abandoned",
                "03-06 13:00",
                "03-06 13:10",
                "03-06 13:20",
            ),
            (
                "c6",
                "general",
                "urgent",
                "resolved",
                "03-02 10:01",
                "03-02 10:02",
                "03-02 10:05",
            ),  # outside
        ]
        s.add_all(
            Handoff(
                conversation_id=conv[c],
                queue_id=q,
                reason=r,
                status=st,
                channel=channels[c],
                language="en",
                enqueued_at=at(e),
                assigned_at=at(a) if a else None,
                ended_at=at(x) if x else None,
            )
            for c, q, r, st, e, a, x in handoffs
        )
        s.add_all(
            [
                Alert(
                    at=at("03-05 08:00"),
                    group_key="gap:1",
                    label="Can I pay with bitcoin?",
                    window="day",
                    count=9,
                    expected=1.25,
                    examples=["bitcoin?", "=cmd"],
                ),
                Alert(
                    at=at("03-04 08:00"),
                    group_key="faq:rev-due",
                    label="When are taxes due?",
                    window="hour",
                    count=8,
                    expected=2.0,
                    examples=[],
                    ended_at=at("03-04 20:00"),
                ),
                Alert(
                    at=at("2025-01-01 08:00"),
                    group_key="faq:rev-due",
                    label="old",
                    window="day",
                    count=8,
                    expected=2.0,
                    examples=[],
                    ended_at=at("2025-01-02 08:00"),
                ),
                Alert(
                    at=at("2024-12-01 08:00"),
                    group_key="gap:3",
                    label="still open",
                    window="day",
                    count=8,
                    expected=2.0,
                    examples=[],
                ),
            ]
        )
        s.commit()


@pytest.fixture
def seeded(db: Database) -> Database:
    seed(db)
    return db


def run(db: Database, **params: str) -> dict[str, Any]:
    filters = Filters.parse({**WEEK, **params}, agencies=BANK.agencies)
    return compute(db, BANK, CONFIG, SETTINGS, filters, now=NOW)


def rows(data: dict[str, Any], table: str) -> list[list[Any]]:
    return data["tables"][table]["rows"]


def column(data: dict[str, Any], table: str, name: str) -> dict[Any, Any]:
    """{first cell: cell of column `name`} of a table."""
    index = data["tables"][table]["columns"].index(name)
    return {row[0]: row[index] for row in rows(data, table)}


# ------------------------------------------------------------------------ the whole week, no filter
def test_summary(seeded: Database) -> None:
    s = run(seeded)["summary"]
    assert s == {
        "conversations": 7,
        "contained": 3,
        "containment_rate": 0.4286,
        "handed_off": 4,
        "handoff_rate": 0.5714,
        "handoffs": 5,
        "helpful_votes": 5,
        "helpful_yes": 3,
        "helpfulness": 0.6,
        "ratings": 3,
        "satisfaction": 3.6667,
        "median_wait_s": 210.0,
        "waits": 4,
        "median_handling_s": 600.0,
        "handled": 3,
        "messages": 7,
        "turns": 12,
        "unanswered": 7,
        "unclustered": 2,
    }


def test_volume(seeded: Database) -> None:
    data = run(seeded)
    assert {h: n for h, n in rows(data, "volume-by-hour") if n} == {9: 3, 14: 2, 23: 1, 0: 1}
    assert [r[0] for r in rows(data, "volume-by-hour")] == list(range(24))
    assert data["tables"]["volume-by-day"]["columns"] == [
        "day",
        "messages",
        "sms",
        "telegram",
        "webchat",
    ]
    assert rows(data, "volume-by-day") == [
        ["2025-03-03", 3, 1, 0, 2],
        ["2025-03-04", 1, 0, 0, 1],
        ["2025-03-05", 1, 1, 0, 0],
        ["2025-03-06", 0, 0, 0, 0],
        ["2025-03-07", 0, 0, 0, 0],
        ["2025-03-08", 1, 0, 1, 0],
        ["2025-03-09", 1, 0, 0, 1],
    ]
    assert rows(data, "volume-by-channel") == [
        ["webchat", 4, 0.5714],
        ["sms", 2, 0.2857],
        ["telegram", 1, 0.1429],
    ]


def test_volume_in_other_time_zones(seeded: Database) -> None:
    # Toronto: EST (UTC-5) until 2025-03-09 02:00, then EDT (UTC-4); the period is
    # 03-03 05:00Z .. 03-10 04:00Z.
    data = run(seeded, tz="America/Toronto")
    assert {h: n for h, n in rows(data, "volume-by-hour") if n} == {4: 3, 9: 2, 19: 2, 20: 1}
    assert {r[0]: r[1] for r in rows(data, "volume-by-day") if r[1]} == {
        "2025-03-03": 3,
        "2025-03-04": 2,
        "2025-03-08": 1,
        "2025-03-09": 2,
    }
    assert data["summary"]["messages"] == 8
    assert data["period"]["start"] == "2025-03-03T00:00:00-05:00"
    # Kolkata is UTC+5:30: quarter-hour buckets; the period is 03-02 18:30Z .. 03-09 18:30Z.
    data = run(seeded, tz="Asia/Kolkata")
    assert {h: n for h, n in rows(data, "volume-by-hour") if n} == {5: 2, 14: 2, 15: 1, 19: 2}
    assert data["summary"]["messages"] == 7


def test_daily_counts_of_purged_days_add_to_the_days(seeded: Database) -> None:
    with seeded.session() as s:
        s.add_all(
            [
                DailyCount(
                    day=dt.date(2025, 3, 4),
                    metric="messages",
                    channel="webchat",
                    agency="",
                    language="",
                    value=10,
                ),
                DailyCount(
                    day=dt.date(2025, 3, 4),
                    metric="turns_answered",
                    channel="webchat",
                    agency="",
                    language="",
                    value=99,
                ),
                DailyCount(
                    day=dt.date(2025, 2, 1),
                    metric="messages",
                    channel="webchat",
                    agency="",
                    language="",
                    value=50,
                ),
            ]
        )
        s.commit()
    data = run(seeded)
    assert data["summary"]["messages"] == 17
    assert rows(data, "volume-by-day")[1] == ["2025-03-04", 11, 0, 0, 11]
    assert sum(n for _, n in rows(data, "volume-by-hour")) == 7  # no hour of day for rolled-up days
    assert run(seeded, channel="sms")["summary"]["messages"] == 2


def test_containment_and_handoffs(seeded: Database) -> None:
    data = run(seeded)
    assert rows(data, "containment-by-channel") == [
        ["sms", 2, 0, 0.0, 2, 1.0],
        ["telegram", 1, 1, 1.0, 0, 0.0],
        ["webchat", 4, 2, 0.5, 2, 0.5],
    ]
    assert rows(data, "handoff-reasons") == [
        ["requested", 3, 0.6],
        ["unsure", 1, 0.2],
        ["not_helpful", 1, 0.2],
        ["urgent", 0, 0.0],
    ]
    assert rows(data, "handoffs-by-queue") == [
        ["benefits", "Benefits queue", 1, 1, 300.0, 1, 1200.0],
        ["general", "General", 1, 1, 120.0, 1, 600.0],
        ["revenue", "Revenue queue", 3, 2, 330.0, 1, 240.0],
    ]


def test_turns_and_top_questions(seeded: Database) -> None:
    data = run(seeded)
    assert rows(data, "outcomes") == [
        ["answered", 5, 0.4167],
        ["clarify", 1, 0.0833],
        ["no_answer", 5, 0.4167],
        ["handoff", 1, 0.0833],
    ]
    assert rows(data, "top-questions") == [
        [1, "rev-due", "When are taxes due?", "revenue", 3],
        [2, "ben-apply", "How do I apply for benefits?", "benefits", 1],
        [3, "ben-apply-fr", "Comment demander des prestations?", "benefits", 1],
    ]
    assert rows(data, "top-unanswered") == [
        [1, "Can I pay with bitcoin?", 2, "2025-03-09T23:30:00+00:00"],
        [2, "talk to a person", 1, "2025-03-04T14:06:00+00:00"],
        [3, "benefit for kids", 1, "2025-03-05T00:10:00+00:00"],
        [4, "lost my card", 1, "2025-03-07T08:00:00+00:00"],
        [5, "Is bitcoin accepted?", 1, "2025-03-07T09:00:00+00:00"],
        [6, "crypto payments?", 1, "2025-03-05T10:00:00+00:00"],
    ]


def test_feedback(seeded: Database) -> None:
    data = run(seeded)
    assert rows(data, "helpfulness-by-faq") == [
        ["rev-due", "When are taxes due?", "revenue", 3, 2, 0.6667, 0, None],
        ["ben-apply", "How do I apply for benefits?", "benefits", 1, 0, 0.0, 0, None],
        ["ben-apply-fr", "Comment demander des prestations?", "benefits", 1, 1, 1.0, 0, None],
    ]
    assert rows(data, "helpfulness-by-agency") == [
        ["", "(none)", 0, 0, None, 1, 4.0],
        ["benefits", "Benefits Agency", 2, 1, 0.5, 1, 2.0],
        ["revenue", "Revenue Agency", 3, 2, 0.6667, 1, 5.0],
    ]
    assert rows(data, "helpfulness-by-channel") == [
        ["sms", 2, 1, 0.5, 2, 3.5],
        ["telegram", 1, 1, 1.0, 0, None],
        ["webchat", 2, 1, 0.5, 1, 4.0],
    ]
    assert rows(data, "worst-helpfulness") == [
        ["rev-due", "When are taxes due?", "revenue", 3, 2, 0.6667]
    ]
    assert [r[0] for r in rows(run(seeded, min_n="1"), "worst-helpfulness")] == [
        "ben-apply",
        "rev-due",
        "ben-apply-fr",
    ]


def test_knowledge_gaps(seeded: Database) -> None:
    data = run(seeded)
    assert data["gaps"]["unclustered"] == 2 and data["gaps"]["count"] == 2
    assert data["gaps"]["groups"] == [
        {
            "id": 1,
            "label": "Can I pay with bitcoin?",
            "language": "en",
            "size": 4,
            "total_size": 5,
            "last_7": 4,
            "previous_7": 1,
            "trend": "up",
            "examples": ["Can I pay with bitcoin?", "Is bitcoin accepted?", "crypto payments?"],
            "answer": None,
        },
        {
            "id": 2,
            "label": "benefit for kids",
            "language": "en",
            "size": 1,
            "total_size": 1,
            "last_7": 1,
            "previous_7": 0,
            "trend": "up",
            "examples": ["benefit for kids"],
            "answer": None,
        },
    ]
    assert rows(data, "knowledge-gaps")[0] == [
        1,
        "Can I pay with bitcoin?",
        "en",
        4,
        4,
        1,
        "up",
        "Can I pay with bitcoin? | Is bitcoin accepted? | crypto payments?",
        "",
        None,
        None,
    ]
    # Two days: 03-05 .. 03-06; the trend compares 02-28 .. 03-06 with 02-21 .. 02-27.
    groups = run(seeded, **{"from": "2025-03-05", "to": "2025-03-06"})["gaps"]["groups"]
    assert [(g["id"], g["size"], g["last_7"], g["previous_7"], g["trend"]) for g in groups] == [
        (1, 1, 3, 0, "up"),
        (2, 1, 1, 0, "up"),
    ]
    assert groups[0]["examples"] == ["crypto payments?"]


def test_a_gap_answered_in_the_studio_shows_whether_it_shrank(seeded: Database) -> None:
    with seeded.session() as session:
        session.add(KbAgency(id="revenue", name={"en": "Revenue"}))
        session.flush()
        session.add_all(
            [
                KbFaq(
                    id="rev-crypto",
                    agency_id="revenue",
                    language="en",
                    state="published",
                    live_version=1,
                    gap_id=1,
                    updated_at=at("03-06 00:00"),
                ),
                KbFaq(
                    id="ben-kids",
                    agency_id="revenue",
                    language="en",
                    state="in_review",
                    gap_id=2,
                    updated_at=at("03-06 00:00"),
                ),
            ]
        )
        session.commit()
    groups = {g["id"]: g["answer"] for g in run(seeded)["gaps"]["groups"]}
    # group 1 was asked on 03-02, 03-04 and 03-05, then on 03-07 and 03-09
    assert groups[1] == {
        "faq_id": "rev-crypto",
        "state": "published",
        "live_at": "2025-03-06T00:00:00+00:00",
        "before_7": 3,
        "after_7": 2,
    }
    assert groups[2] == {"faq_id": "ben-kids", "state": "in_review"}
    assert rows(run(seeded), "knowledge-gaps")[0][-3:] == ["rev-crypto (published)", 3, 2]


def test_stale_faqs(seeded: Database) -> None:
    data = run(seeded)
    assert rows(data, "stale-faqs") == [
        ["benefits", "ben-apply", "en", "How do I apply for benefits?", None, None],
        ["revenue", "rev-refund", "en", "=Where is my refund?", "2023-01-01", 799],
    ]
    assert rows(data, "stale-by-agency") == [
        ["benefits", "Benefits Agency", 2, 1, 0.5],
        ["revenue", "Revenue Agency", 2, 1, 0.5],
    ]
    assert data["stale"]["after_days"] == 365


def test_alerts(seeded: Database) -> None:
    data = run(seeded)
    assert [(a["label"], a["status"]) for a in data["alerts"]] == [
        ("Can I pay with bitcoin?", "open"),
        ("When are taxes due?", "ended"),
        ("still open", "open"),
    ]
    assert rows(data, "alerts")[0] == [
        "2025-03-05T08:00:00+00:00",
        "open",
        "Can I pay with bitcoin?",
        "gap:1",
        "day",
        9,
        1.2,
        "bitcoin? | =cmd",
        None,
    ]


# --------------------------------------------------------------------------- filters
def test_agency_filter(seeded: Database) -> None:
    data = run(seeded, agency="revenue")
    s = data["summary"]
    # Revenue turns: c1 (twice) and c7; c7 was handed off. Hand-offs of the revenue queue:
    # c5, c7, c7.
    assert (s["conversations"], s["contained"], s["containment_rate"]) == (2, 1, 0.5)
    assert (s["handoffs"], s["median_wait_s"], s["median_handling_s"]) == (3, 330.0, 240.0)
    assert (s["helpful_votes"], s["helpfulness"], s["ratings"], s["satisfaction"]) == (
        3,
        0.6667,
        1,
        5.0,
    )
    assert s["messages"] == 7  # messages have no agency
    assert column(data, "handoff-reasons", "hand-offs") == {
        "requested": 2,
        "unsure": 0,
        "not_helpful": 1,
        "urgent": 0,
    }
    assert data["gaps"]["groups"] == [] and s["unclustered"] == 0
    assert rows(data, "stale-faqs") == [
        ["revenue", "rev-refund", "en", "=Where is my refund?", "2023-01-01", 799]
    ]
    benefits = run(seeded, agency="benefits")
    assert [g["id"] for g in benefits["gaps"]["groups"]] == [2]
    assert benefits["summary"]["handoffs"] == 1


def test_channel_filter(seeded: Database) -> None:
    data = run(seeded, channel="sms")
    s = data["summary"]
    assert (s["messages"], s["conversations"], s["contained"], s["containment_rate"]) == (
        2,
        2,
        0,
        0.0,
    )
    assert (s["handoffs"], s["helpfulness"], s["satisfaction"]) == (3, 0.5, 3.5)
    assert (s["median_wait_s"], s["median_handling_s"]) == (300.0, 720.0)
    assert rows(data, "volume-by-day")[0] == ["2025-03-03", 1, 1]
    assert run(seeded, channel="nowhere")["summary"]["messages"] == 0


def test_language_filter(seeded: Database) -> None:
    data = run(seeded, language="fr")
    s = data["summary"]
    assert (s["conversations"], s["contained"], s["helpfulness"], s["satisfaction"]) == (
        1,
        1,
        1.0,
        None,
    )
    assert (s["handoffs"], s["median_wait_s"], s["turns"]) == (0, None, 1)
    assert rows(data, "stale-faqs") == []
    assert rows(data, "stale-by-agency") == [["benefits", "Benefits Agency", 1, 0, 0.0]]


def test_date_range_filter(seeded: Database) -> None:
    data = run(seeded, **{"from": "2025-03-05", "to": "2025-03-06"})
    s = data["summary"]
    # Turns: c1 03-05, c3 03-05, c7 03-06; hand-offs in the range: c3 and c7 (twice).
    assert (s["conversations"], s["contained"], s["handed_off"], s["handoffs"]) == (3, 1, 2, 3)
    assert s["messages"] == 1 and data["period"]["days"] == 2
    assert [r[0] for r in rows(data, "volume-by-day")] == ["2025-03-05", "2025-03-06"]
    assert [a["label"] for a in data["alerts"]] == ["Can I pay with bitcoin?", "still open"]


def test_default_period_is_the_last_30_days() -> None:
    filters = Filters.parse({}, today=dt.date(2025, 3, 9))
    assert (filters.start, filters.end, filters.tz) == (
        dt.date(2025, 2, 8),
        dt.date(2025, 3, 9),
        "UTC",
    )
    assert filters.window() == (at("02-08 00:00"), at("03-10 00:00"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2025-13-01"}, "not a valid date"),
        ({"to": "yesterday"}, "not a date"),
        ({"from": "2025-03-09", "to": "2025-03-01"}, "after"),
        ({"from": "2020-01-01", "to": "2025-01-01"}, "at most"),
        ({"agency": "nasa"}, "unknown agency"),
        ({"channel": "<script>"}, "invalid channel"),
        ({"language": "de"}, "unknown language"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"tz": "../../etc/passwd"}, "unknown time zone"),
        ({"min_n": "0"}, "min_n"),
        ({"min_n": "two"}, "min_n"),
    ],
)
def test_bad_filters(params: dict[str, str], message: str) -> None:
    with pytest.raises(FilterError, match=message):
        Filters.parse(params, agencies=BANK.agencies)


# --------------------------------------------------------------------------- tables, CSV, charts
def test_csv_of_every_table(seeded: Database) -> None:
    data = run(seeded)
    assert tuple(tables(data)) == TABLES
    for name, table in tables(data).items():
        parsed = list(csv.reader(io.StringIO(csv_text(table))))
        assert parsed[0] == table["columns"], name
        assert len(parsed) == len(table["rows"]) + 1, name
    stale = list(csv.reader(io.StringIO(csv_text(tables(data)["stale-faqs"]))))
    assert stale[2] == ["revenue", "rev-refund", "en", "'=Where is my refund?", "2023-01-01", "799"]
    assert stale[1][4:] == ["", ""]  # never reviewed: empty cells
    alerts = list(csv.reader(io.StringIO(csv_text(tables(data)["alerts"]))))
    assert alerts[1][7] == "bitcoin? | =cmd"  # only a cell's start matters
    assert csv_text({"columns": ["a"], "rows": [["+1"], ["-x"], ["@sum"], [-5], ["ok"]]}).split(
        "\r\n"
    ) == ["a", "'+1", "'-x", "'@sum", "-5", "ok", ""]


def test_charts_are_drawn_from_the_data(seeded: Database) -> None:
    data = run(seeded)
    for name in charts.CHARTS:
        svg = charts.render(name, data)
        assert (
            svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" width=') and "<title" in svg
        ), name
        assert "<script" not in svg and "style=" not in svg and "href" not in svg, name
        assert charts.render(name, data) == svg, name  # deterministic
    hours = charts.render("volume-by-hour", data)
    assert "<title>09: 3</title>" in hours and "<title>14: 2</title>" in hours
    assert "<title>webchat: 0.5" not in charts.render("helpfulness-by-agency", data)
    assert "Revenue Agency (n=3): 66.7 %" in charts.render("helpfulness-by-agency", data)
    assert "No data for these filters" in charts.render(
        "volume-by-day", run(seeded, channel="nowhere")
    )


def test_chart_text_is_escaped() -> None:
    svg = charts.hbar_chart("<b>&", ["<script>alert(1)</script>"], [3])
    assert (
        "<script>" not in svg
        and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
        and "&lt;b&gt;&amp;" in svg
    )


# --------------------------------------------------------------------------- the routes
@pytest.fixture
def client(seeded: Database) -> Iterator[TestClient]:
    """The console's and the dashboard's routes on the seeded database, without the rest
    of the app."""
    audit = AuditLog(seeded)
    runtime = SimpleNamespace(
        settings=SETTINGS,
        db=seeded,
        agents=Agents(seeded, audit),
        centre=SimpleNamespace(config=CONFIG, heartbeat=lambda agent: None),
        knowledge=SimpleNamespace(bank=BANK),
    )
    app = FastAPI()
    app.state.services = runtime
    for routes in (console_pages, console_api, web):
        app.include_router(routes.router)
    app.add_exception_handler(auth.ApiError, auth.api_error)
    for name, role in (("sup", "supervisor"), ("agt", "agent")):
        runtime.agents.add(name, "a long enough password", role)
    web.CACHE.clear()
    with TestClient(app, follow_redirects=False) as test_client:
        test_client.sessions = {  # type: ignore[attr-defined]
            agent.username: runtime.agents.start_session(agent, 3600, "127.0.0.1")[0]
            for agent in runtime.agents.list()
        }
        yield test_client
    web.CACHE.clear()


def as_user(client: TestClient, name: str | None) -> None:
    client.cookies.clear()
    if name:
        client.cookies.set(auth.COOKIE, client.sessions[name])  # type: ignore[attr-defined]


def test_routes_need_a_supervisor(client: TestClient) -> None:
    query = "?from=2025-03-03&to=2025-03-09"
    as_user(client, None)
    response = client.get("/console/dashboard")
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    for path in (
        "/console/api/dashboard",
        "/console/dashboard/charts/outcomes.svg",
        "/console/dashboard/export/summary.csv",
    ):
        assert client.get(path + query).status_code == 401, path
    as_user(client, "agt")
    assert client.get("/console/dashboard").status_code == 403
    for path in (
        "/console/api/dashboard",
        "/console/dashboard/charts/outcomes.svg",
        "/console/dashboard/export/summary.csv",
    ):
        assert client.get(path + query).status_code == 403, path
    as_user(client, "sup")
    page = client.get("/console/dashboard")
    assert (
        page.status_code == 200
        and 'data-role="supervisor"' in page.text
        and "__CSRF__" not in page.text
    )
    assert (
        page.headers["content-security-policy"] == auth.SECURITY_HEADERS["Content-Security-Policy"]
    )


def test_api_and_exports(client: TestClient) -> None:
    as_user(client, "sup")
    query = "?from=2025-03-03&to=2025-03-09&agency=revenue"
    data = client.get("/console/api/dashboard" + query).json()
    assert data["summary"]["containment_rate"] == 0.5 and data["filters"]["agency"] == "revenue"
    export = client.get("/console/dashboard/export/stale-faqs.csv" + query)
    assert export.status_code == 200 and export.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        export.headers["content-disposition"]
        == 'attachment; filename="dashboard-stale-faqs-2025-03-03-2025-03-09.csv"'
    )
    today = dt.datetime.now(dt.UTC).date()  # the routes count days since review from today
    expected = [
        [
            f.agency,
            f.id,
            f.language,
            ("'" if f.question.startswith("=") else "") + f.question,
            str(f.last_reviewed),
            str((today - f.last_reviewed).days),
        ]
        for f in sorted(BANK.faqs, key=lambda f: f.last_reviewed or today)
        if f.agency == "revenue" and f.last_reviewed and (today - f.last_reviewed).days > 365
    ]
    assert list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")))) == [
        ["agency", "faq", "language", "question", "last reviewed", "days since review"],
        *expected,
    ]
    assert expected[0][1] == "rev-refund"
    reasons = client.get("/console/dashboard/export/handoff-reasons.csv" + query).content.decode(
        "utf-8-sig"
    )
    assert reasons.splitlines() == [
        "reason,hand-offs,share",
        "requested,2,0.6667",
        "unsure,0,0.0",
        "not_helpful,1,0.3333",
        "urgent,0,0.0",
    ]
    assert client.get("/console/dashboard/export/nope.csv" + query).status_code == 404
    svg = client.get("/console/dashboard/charts/handoff-reasons.svg" + query)
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert "<title>requested: 2</title>" in svg.text
    assert svg.headers["x-content-type-options"] == "nosniff"
    assert client.get("/console/dashboard/charts/nope.svg" + query).status_code == 404
    assert client.get("/console/static/dashboard.js").status_code == 200
    assert client.get("/console/static/dashboard.css").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "from=2025-02-30",
        "to=03/09/2025",
        "agency=nasa",
        "tz=Nowhere/Land",
        "from=2025-03-09&to=2025-03-01",
        "language=xx",
        # out of range: the day after the period, or a day in the zone, overflowed (500)
        "from=9999-12-01&to=9999-12-31&tz=America/Los_Angeles",
        "from=9999-12-01&to=9999-12-31",
        "from=0001-01-01&to=0001-01-31&tz=America/Los_Angeles",
        "from=0001-01-01&to=0001-01-31&tz=Asia/Tokyo",
        "from=9999-12-01",
        "to=0001-01-01",
        "min_n=99999999999999999999999",
    ],
)
def test_bad_filters_are_422(client: TestClient, query: str) -> None:
    as_user(client, "sup")
    for path in (
        "/console/api/dashboard",
        "/console/dashboard/charts/outcomes.svg",
        "/console/dashboard/export/summary.csv",
    ):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, (path, query)
        assert response.json()["error"]


def test_one_computation_serves_concurrent_requests() -> None:
    cache = SingleFlight(ttl_s=60, size=4)
    calls: list[int] = []
    gate = threading.Event()

    def make() -> int:
        calls.append(1)
        gate.wait(5)
        return len(calls)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(cache.get, "k", make) for _ in range(8)]
        time.sleep(0.2)
        gate.set()
        assert [f.result() for f in futures] == [1] * 8
    assert len(calls) == 1
    assert cache.get("other", lambda: 2) == 2

    def fail() -> int:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        cache.get("bad", fail)
    assert cache.get("bad", lambda: 3) == 3  # a failure is not kept
