"""Retention and erasure on SQLite and PostgreSQL: `purge` deletes what is older than RETENTION_DAYS
(rows of every table, and Rasa's tracker events) after adding it up in `daily_counts`, keeps what is
recent, the opt-outs and the audit log; `erase` removes one citizen and nobody else; the
`govbot privacy` commands; and, on SQLite, that what is deleted or overwritten does not stay
readable in the database files."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bot.cli import app
from bot.inbox.store import Inbox
from bot.outreach.subscriptions import Subscriptions
from bot.outreach.topics import Topics, validated
from bot.privacy.erasure import erase
from bot.privacy.purge import purge
from bot.privacy.schedule import run_purges
from bot.privacy.sqlite_scrub import scrub, secure_delete_at_connect
from bot.settings import Settings, get_settings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import (
    AuditEntry,
    Conversation,
    DailyCount,
    Feedback,
    Handoff,
    InboundMessage,
    OptOut,
    OutboundMessage,
    PanelAnswer,
    PanelMember,
    PanelPlace,
    PanelSurvey,
    PanelTally,
    PanelWave,
    Subscription,
    Turn,
)

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
TABLES = {
    "conversations": Conversation,
    "inbound_messages": InboundMessage,
    "outbound_messages": OutboundMessage,
    "handoffs": Handoff,
    "turns": Turn,
    "feedback": Feedback,
}
Key = tuple[dt.date, str, str, str, str]


def ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


# -- Rasa's tracker store, as rasa.core.tracker_store.SQLTrackerStore makes it ---------------------
TRACKER = MetaData()
EVENTS = Table(
    "events",
    TRACKER,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


def tracker_engine(db: Database, settings: Settings) -> Engine:
    """Where Rasa keeps its events: its own SQLite file next to a SQLite app, else the
    app's database."""
    if db.engine.dialect.name == "sqlite":
        return create_engine(f"sqlite:///{settings.var_dir / 'rasa-tracker.db'}")
    return db.engine


def add_events(engine: Engine, sender: str, events: list[tuple[str, dt.datetime]]) -> None:
    TRACKER.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(EVENTS),
            [
                {
                    "sender_id": sender,
                    "type_name": kind,
                    "timestamp": at.timestamp(),
                    "data": f'{{"event": "{kind}"}}',
                }
                for kind, at in events
            ],
        )


def events_of(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(conn.execute(select(EVENTS.c.sender_id)).scalars())


# -- seeded data: every row says whether a purge at NOW must delete it -----------------------------
@dataclass
class Seed:
    """Rows added with their timestamps; `gone` counts what the purge must remove, `counts` what it
    must add to `daily_counts` (by the rules: messages per day of receipt, turns per outcome,
    hand-offs per day queued, "did this help?" answers, satisfaction sums and numbers)."""

    session: Session
    gone: Counter[str] = field(default_factory=Counter)
    counts: Counter[Key] = field(default_factory=Counter)

    def _count(
        self,
        at: dt.datetime,
        metric: str,
        channel: str,
        agency: str | None,
        language: str | None,
        value: int = 1,
    ) -> None:
        self.counts[(at.date(), metric, channel, agency or "", language or "")] += value

    def conversation(self, conv_id: str, created: dt.datetime, gone: bool, **extra: Any) -> str:
        channel, address = conv_id.split(":", 1)
        self.session.add(
            Conversation(
                id=conv_id,
                channel=channel,
                address=address,
                created_at=created,
                updated_at=created,
                **extra,
            )
        )
        self.session.flush()
        self.gone["conversations"] += gone
        return conv_id

    def inbound(
        self,
        conv_id: str,
        at: dt.datetime,
        gone: bool,
        status: str = "done",
        text: str = "a question",
    ) -> int:
        row = InboundMessage(
            channel=conv_id.split(":")[0],
            provider_message_id=uuid.uuid4().hex,
            conversation_id=conv_id,
            seq=0,
            text=text,
            status=status,
            received_at=at,
        )
        self.session.add(row)
        self.session.flush()
        self.gone["inbound_messages"] += gone
        if gone:
            self._count(at, "messages", row.channel, None, None)
        return row.id

    def outbound(
        self,
        conv_id: str,
        at: dt.datetime,
        gone: bool,
        inbound_id: int | None = None,
        status: str = "sent",
    ) -> int:
        row = OutboundMessage(
            conversation_id=conv_id,
            inbound_id=inbound_id,
            seq=0,
            text="an answer",
            buttons=[],
            created_at=at,
            status=status,
        )
        self.session.add(row)
        self.session.flush()
        self.gone["outbound_messages"] += gone
        return row.id

    def handoff(
        self,
        conv_id: str,
        enqueued: dt.datetime,
        ended: dt.datetime | None,
        status: str,
        gone: bool,
        language: str = "en",
        inbound_id: int | None = None,
    ) -> int:
        channel = conv_id.split(":")[0]
        row = Handoff(
            conversation_id=conv_id,
            inbound_id=inbound_id,
            queue_id="general",
            status=status,
            reason="requested",
            language=language,
            channel=channel,
            enqueued_at=enqueued,
            ended_at=ended,
            updated_at=ended or enqueued,
            callback_number=None,
            question="a [phone] question",
        )
        self.session.add(row)
        self.session.flush()
        self.gone["handoffs"] += gone
        if gone:
            self._count(enqueued, "handoffs", channel, None, language)
        return row.id

    def turn(
        self,
        conv_id: str,
        at: dt.datetime,
        outcome: str,
        gone: bool,
        agency: str | None = None,
        language: str = "en",
    ) -> int:
        channel = conv_id.split(":")[0]
        row = Turn(
            at=at,
            conversation_id=conv_id,
            channel=channel,
            language=language,
            outcome=outcome,
            agency=agency,
            question="where is my [card]?",
        )
        self.session.add(row)
        self.session.flush()
        self.gone["turns"] += gone
        if gone:
            self._count(at, f"turns_{outcome}", channel, agency, language)
        return row.id

    def feedback(
        self,
        conv_id: str,
        at: dt.datetime,
        kind: str,
        value: int,
        gone: bool,
        agency: str | None = None,
        language: str = "en",
    ) -> None:
        channel = conv_id.split(":")[0]
        self.session.add(
            Feedback(
                at=at,
                kind=kind,
                value=value,
                conversation_id=conv_id,
                channel=channel,
                language=language,
                agency=agency,
                comment="call me at [phone]",
            )
        )
        self.session.flush()
        self.gone["feedback"] += gone
        if gone and kind == "helpful":
            self._count(at, "helpful_yes" if value else "helpful_no", channel, agency, language)
        elif gone:
            self._count(at, "satisfaction_sum", channel, agency, language, value)
            self._count(at, "satisfaction_n", channel, agency, language)


def seed_history(db: Database, settings: Settings) -> Seed:
    """Conversations old and new, at NOW with 90 days of retention (the cutoff is
    2026-03-03 12:00)."""
    with db.session() as session:
        s = Seed(session)
        # A: over, last activity 121 days ago: all of it goes (its opt-out stays).
        a = s.conversation("sms:+15145550001", ago(130), True)
        first, second = s.inbound(a, ago(130), True), s.inbound(a, ago(121), True)
        s.outbound(a, ago(130), True, first)
        s.outbound(a, ago(121), True, second)
        handoff = s.handoff(a, ago(121.1), ago(121), "resolved", True, inbound_id=second)
        s.turn(a, ago(130), "answered", True, "motor-vehicles")
        s.turn(a, ago(121), "handoff", True)
        s.feedback(a, ago(130), "helpful", 1, True, "motor-vehicles")
        s.session.add(
            Feedback(
                at=ago(121),
                kind="satisfaction",
                value=4,
                conversation_id=a,
                channel="sms",
                language="en",
                handoff_id=handoff,
            )
        )
        s.gone["feedback"] += 1
        s._count(ago(121), "satisfaction_sum", "sms", None, "en", 4)
        s._count(ago(121), "satisfaction_n", "sms", None, "en")
        s.session.add(OptOut(channel="sms", address="+15145550001", changed_at=ago(125)))
        # B: a French web chat, 100 days ago: goes.
        b = s.conversation("webchat:sessionbbbbbbbb", ago(100), True)
        s.outbound(b, ago(100), True, s.inbound(b, ago(100), True))
        s.turn(b, ago(100), "clarify", True, None, "fr")
        s.feedback(b, ago(100), "helpful", 0, True, "revenue", "fr")
        # C: goes on (5 days ago): only its rows older than the cutoff go.
        c = s.conversation("sms:+15145550003", ago(200), False, last_inbound_at=ago(5))
        s.outbound(c, ago(200), True, s.inbound(c, ago(200), True))
        late = s.inbound(c, ago(95), True)
        s.outbound(c, ago(1), False, late)  # kept, and loses its link to the message that goes
        s.outbound(c, ago(5), False, s.inbound(c, ago(5), False))
        s.handoff(c, ago(150), ago(150), "abandoned", True)
        s.turn(c, ago(200), "no_answer", True)
        s.turn(c, ago(5), "answered", False, "revenue")
        s.feedback(c, ago(200), "satisfaction", 2, True)
        s.feedback(c, ago(5), "helpful", 1, False, "revenue")
        # D: recent, in line for a person: all kept.
        d = s.conversation("webchat:sessiondddddddd", ago(10), False)
        s.outbound(d, ago(2), False, s.inbound(d, ago(2), False))
        s.handoff(d, ago(1), None, "waiting", False)
        s.turn(d, ago(2), "handoff", False, None, "fr")
        # E: old, but a message still waits to be processed: the conversation stays, its
        # finished rows go.
        e = s.conversation("whatsapp:+15145550005", ago(150), False)
        s.inbound(e, ago(150), False, status="pending", text="my SIN is 130 692 544")
        s.outbound(e, ago(140), True, s.inbound(e, ago(140), True))
        s.outbound(e, ago(140), False, status="pending")  # still to be sent
        # F: old, but a replica is working on it right now (its lease): the conversation stays.
        f = s.conversation(
            "telegram:777",
            ago(100),
            False,
            lease_owner="replica-1",
            lease_until=NOW + dt.timedelta(30),
        )
        s.inbound(f, ago(100), True)
        # Analytics of a conversation that has no row any more.
        s.turn("webchat:ghostghost", ago(100), "no_answer", True, None, "en")
        # The audit log (kept) and a count already there, that the purge adds to.
        s.session.add_all(
            [
                AuditEntry(at=ago(200), username="ana", action="login", detail={}),
                AuditEntry(
                    at=ago(121), username="ana", action="resolve", handoff_id=handoff, detail={}
                ),
            ]
        )
        key = (ago(130).date(), "messages", "sms", "", "")
        s.session.add(
            DailyCount(
                day=key[0], metric=key[1], channel=key[2], agency=key[3], language=key[4], value=10
            )
        )
        s.counts[key] += 10
        session.commit()
    tracker = tracker_engine(db, settings)
    add_events(
        tracker,
        "sms:+15145550001",
        [
            ("action", ago(130)),
            ("session_started", ago(130)),
            ("user", ago(130)),
            ("bot", ago(121)),
        ],
    )
    add_events(
        tracker,
        "sms:+15145550003",
        [
            ("session_started", ago(200)),
            ("user", ago(200)),
            ("bot", ago(200)),
            ("session_started", ago(5)),
            ("user", ago(5)),
        ],
    )
    add_events(tracker, "webchat:sessiondddddddd", [("session_started", ago(2)), ("user", ago(2))])
    # One long session that started before the cutoff and goes on: Rasa counts its events, so it
    # stays whole.
    add_events(
        tracker,
        "telegram:888",
        [("session_started", ago(100)), ("user", ago(100)), ("user", ago(1))],
    )
    return s


def table_counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in TABLES.items()
        }


def daily_counts(db: Database) -> dict[Key, int]:
    with db.session() as session:
        rows = session.scalars(select(DailyCount))
        return {(r.day, r.metric, r.channel, r.agency, r.language): r.value for r in rows}


@pytest.fixture
def settings(tmp_path: Path, db: Database) -> Settings:
    return Settings(
        var_dir=tmp_path,
        database_url=str(db.engine.url.render_as_string(hide_password=False)),
        retention_days=90,
    )


def test_purge_deletes_what_is_old_keeps_what_is_recent_and_adds_it_up(
    db: Database, settings: Settings
) -> None:
    seed = seed_history(db, settings)
    before = table_counts(db)
    with db.session() as session:
        audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
        old, recent = NOW - dt.timedelta(days=200), NOW - dt.timedelta(days=10)
        for number, state, at in [
            ("+15145550901", "removed", old),  # ended long ago: goes
            ("+15145550902", "pending", old),  # never confirmed: goes
            ("+15145550903", "active", old),  # the consent of a current subscriber: stays
            ("+15145550904", "removed", recent),  # ended lately: stays for now
        ]:
            session.add(
                Subscription(
                    channel="sms",
                    address=number,
                    topic="general",
                    state=state,
                    language="en",
                    timezone="America/Toronto",
                    wording="(test)",
                    requested_at=old,
                    removed_at=at if state == "removed" else None,
                )
            )
        # The panel: an invitation never agreed to (goes), a member (stays) whose old answer goes
        # while the wave's tallies stay.
        invited = PanelMember(channel="sms", address="+15145550905", wording="(test)")
        invited.invited_at = old
        member = PanelMember(
            channel="sms", address="+15145550906", state="active", wording="(test)"
        )
        member.invited_at = old
        survey = PanelSurvey(title="t", definition={}, created_by="lead")
        session.add_all([invited, member, survey])
        session.flush()
        wave = PanelWave(
            survey_id=survey.id, send_at=old, closes_at=old, created_by="lead", published=False
        )
        session.add(wave)
        session.flush()
        place = PanelPlace(
            wave_id=wave.id, member_id=member.id, invited_at=old, asked_at=old, remind_at=old
        )
        session.add(place)
        session.flush()
        session.add_all(
            [
                PanelAnswer(
                    place_id=place.id, wave_id=wave.id, question="q", text="x", answered_at=old
                ),
                PanelTally(
                    wave_id=wave.id, question="q", dimension="all", grp="", choice="*", count=1
                ),
            ]
        )
        session.commit()

    removed = purge(db, settings, NOW)

    tracker = tracker_engine(db, settings)
    assert removed == {
        **{name: seed.gone[name] for name in TABLES},
        "subscriptions": 2,
        "panel_answers": 1,
        "panel_invitations": 1,
        "tracker_events": 4 + 3,
    }
    with db.session() as session:
        assert session.scalars(select(PanelMember.address)).all() == ["+15145550906"]
        assert session.scalar(select(func.count()).select_from(PanelTally)) == 1
    with db.session() as session:
        assert sorted(session.scalars(select(Subscription.address))) == [
            "+15145550903",
            "+15145550904",
        ]
    assert table_counts(db) == {name: before[name] - seed.gone[name] for name in TABLES}
    with db.session() as session:
        kept = set(session.scalars(select(Conversation.id)))
        assert kept == {
            "sms:+15145550003",
            "webchat:sessiondddddddd",
            "whatsapp:+15145550005",
            "telegram:777",
        }
        # Nothing older than the cutoff is left but what is still in progress.
        cutoff = NOW - dt.timedelta(days=90)
        old_inbound = session.execute(
            select(InboundMessage.conversation_id, InboundMessage.status).where(
                InboundMessage.received_at < cutoff
            )
        ).all()
        assert old_inbound == [("whatsapp:+15145550005", "pending")]
        assert session.scalars(
            select(OutboundMessage.status).where(OutboundMessage.created_at < cutoff)
        ).all() == ["pending"]
        assert session.scalar(select(func.count()).select_from(Turn).where(Turn.at < cutoff)) == 0
        assert (
            session.scalar(select(func.count()).select_from(Feedback).where(Feedback.at < cutoff))
            == 0
        )
        assert session.scalars(select(Handoff.status)).all() == ["waiting"]
        # The reply kept in C lost its link to the message that went, and nothing else.
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.inbound_id.is_(None))
            )
            == 2
        )
        assert session.scalars(select(OptOut.address)).all() == ["+15145550001"]
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before == 2
    assert daily_counts(db) == dict(seed.counts)
    assert events_of(tracker) == {
        "sms:+15145550003": 2,
        "webchat:sessiondddddddd": 2,
        "telegram:888": 3,
    }

    # A second purge finds nothing more and leaves the counts as they are.
    assert purge(db, settings, NOW) == {
        **dict.fromkeys(TABLES, 0),
        "subscriptions": 0,
        "panel_answers": 0,
        "panel_invitations": 0,
        "tracker_events": 0,
    }
    assert daily_counts(db) == dict(seed.counts)
    assert events_of(tracker) == {
        "sms:+15145550003": 2,
        "webchat:sessiondddddddd": 2,
        "telegram:888": 3,
    }


def seed_citizen(db: Database, settings: Settings, conv_id: str, agency: str) -> Seed:
    """A citizen with rows in every table (recent), an opt-out and tracker events."""
    with db.session() as session:
        s = Seed(session)
        s.conversation(conv_id, ago(3), True)
        first = s.inbound(conv_id, ago(3), True, text="my card is [card]")
        s.outbound(conv_id, ago(3), True, first)
        second = s.inbound(conv_id, ago(2), True)
        s.outbound(conv_id, ago(2), True, second)
        s.outbound(conv_id, ago(2), True)  # an agent's reply
        s.handoff(conv_id, ago(2), ago(2), "resolved", True, "fr", inbound_id=second)
        s.turn(conv_id, ago(3), "answered", True, agency, "fr")
        s.turn(conv_id, ago(2), "handoff", True, None, "fr")
        s.feedback(conv_id, ago(3), "helpful", 1, True, agency, "fr")
        s.feedback(conv_id, ago(2), "satisfaction", 5, True, None, "fr")
        channel, address = conv_id.split(":", 1)
        s.session.add(OptOut(channel=channel, address=address))
        session.commit()
    add_events(
        tracker_engine(db, settings),
        conv_id,
        [("session_started", ago(3)), ("user", ago(3)), ("bot", ago(3)), ("user", ago(2))],
    )
    return s


def rows_of(db: Database, conv_id: str) -> dict[str, int]:
    with db.session() as session:
        counts = {}
        for name, model in TABLES.items():
            column = model.id if model is Conversation else model.conversation_id
            counts[name] = (
                session.scalar(select(func.count()).select_from(model).where(column == conv_id))
                or 0
            )
        channel, address = conv_id.split(":", 1)
        counts["opt_outs"] = (
            session.scalar(
                select(func.count())
                .select_from(OptOut)
                .where(OptOut.channel == channel, OptOut.address == address)
            )
            or 0
        )
    return counts


def test_erase_removes_one_citizen_everywhere_and_nobody_else(
    db: Database, settings: Settings
) -> None:
    gone = seed_citizen(db, settings, "sms:+15145550111", "revenue")
    seed_citizen(db, settings, "sms:+15145550222", "benefits")
    other_before = rows_of(db, "sms:+15145550222")
    tracker = tracker_engine(db, settings)
    Topics(db, AuditLog(db)).add(validated("health", "Health", "Santé", None), "test")
    subscriptions = Subscriptions(db)
    for number in ("+15145550111", "+15145550222"):
        for topic in ("general", "health"):
            subscriptions.request(
                "sms",
                number,
                topic,
                language="en",
                wording="reply YES",
                timezone="America/Toronto",
                double_opt_in=False,
            )

    with db.session() as session:
        for number in ("+15145550111", "+15145550222"):
            session.add(
                PanelMember(channel="sms", address=number, state="active", wording="(test)")
            )
        session.commit()

    removed = erase(db, settings, "sms", "+15145550111")

    assert removed == {
        "conversations": 1,
        "inbound_messages": 2,
        "outbound_messages": 3,
        "handoffs": 1,
        "turns": 2,
        "feedback": 2,
        "opt_outs": 1,
        "subscriptions": 2,
        "panel_members": 1,
        "tracker_events": 4,
    }
    assert removed == {
        **{name: gone.gone[name] for name in TABLES},
        "opt_outs": 1,
        "subscriptions": 2,
        "panel_members": 1,
        "tracker_events": 4,
    }
    with db.session() as session:
        assert session.scalars(select(PanelMember.address)).all() == ["+15145550222"]
    assert subscriptions.active_topics("sms", "+15145550111") == []
    assert subscriptions.active_topics("sms", "+15145550222") == ["general", "health"]
    assert not any(rows_of(db, "sms:+15145550111").values())
    assert rows_of(db, "sms:+15145550222") == other_before and all(other_before.values())
    assert events_of(tracker) == {"sms:+15145550222": 4}
    # The totals do not move: the erased citizen's rows are counted in daily_counts, the other's
    # are not yet.
    assert daily_counts(db) == dict(gone.counts)
    # Unknown (or already erased): nothing found, nothing changed.
    assert not any(erase(db, settings, "sms", "+15145550111").values())
    assert not any(erase(db, settings, "webchat", "nobody-here").values())
    assert rows_of(db, "sms:+15145550222") == other_before


# -- the command line ------------------------------------------------------------------------------
def test_privacy_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RETENTION_DAYS", "30")
    get_settings.cache_clear()
    try:
        db = Database(url)
        db.create_schema()
        now = dt.datetime.now(dt.UTC)
        with db.session() as session:
            old = now - dt.timedelta(days=45)
            session.add(
                Conversation(
                    id="sms:+15145550777", channel="sms", address="+15145550777", created_at=old
                )
            )
            session.flush()
            session.add(
                InboundMessage(
                    channel="sms",
                    provider_message_id="SM-old",
                    conversation_id="sms:+15145550777",
                    seq=1,
                    text="old question",
                    status="done",
                    received_at=old,
                )
            )
            session.add(
                Turn(at=old, conversation_id="sms:+15145550777", channel="sms", outcome="answered")
            )
            session.commit()
        inbox = Inbox(db)
        received = inbox.receive(
            "webchat", "sessioneeeeeeee", "m1", "my email is someone@example.org"
        )
        inbox.complete(received.inbound_id, [])
        add_events(
            create_engine(f"sqlite:///{tmp_path / 'rasa-tracker.db'}"),
            "webchat:sessioneeeeeeee",
            [("session_started", now), ("user", now)],
        )

        runner = CliRunner()
        purged = runner.invoke(app, ["privacy", "purge"])
        assert purged.exit_code == 0, purged.output
        assert (
            f"cutoff: {now - dt.timedelta(days=30):%Y-%m-%d}" in purged.output
            and "(30 days)" in purged.output
        )
        for line in (
            "removed 1 conversations",
            "removed 1 inbound_messages",
            "removed 1 turns",
            "removed 0 tracker_events",
        ):
            assert line in purged.output

        erased = runner.invoke(
            app, ["privacy", "erase", "--channel", "webchat", "--address", "sessioneeeeeeee"]
        )
        assert erased.exit_code == 0, erased.output
        assert "erased webchat:sessioneeeeeeee" in erased.output
        for line in (
            "removed 1 conversations",
            "removed 1 inbound_messages",
            "removed 2 tracker_events",
        ):
            assert line in erased.output

        unknown = runner.invoke(
            app, ["privacy", "erase", "--channel", "sms", "--address", "+15145550000"]
        )
        assert unknown.exit_code == 0 and "nothing found for sms:+15145550000" in unknown.output
        assert table_counts(db)["conversations"] == 0
    finally:
        get_settings.cache_clear()


# -- what stays in the SQLite files ----------------------------------------------------------------
def file_bytes(path: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")) if p.is_file()
    )


def processed_messages(
    tmp_path: Path, name: str, secure_delete: str | None, n: int = 300
) -> tuple[Database, list[str]]:
    """`n` raw citizen messages received and then processed (their text UPDATEd to the redacted
    form), through the app's own code, ten in flight at a time as when several citizens write at
    once, with connections whose `secure_delete` is set to `secure_delete` (None: the SQLite
    build's default)."""
    db = Database(f"sqlite:///{tmp_path / name}")
    if secure_delete is not None:

        @event.listens_for(db.engine, "connect")
        def _set(connection, _record):  # type: ignore[no-untyped-def]
            connection.execute(f"PRAGMA secure_delete={secure_delete}")

    db.create_schema()
    inbox, secrets, in_flight = Inbox(db), [], []
    for i in range(n):
        secret = f"citizen{uuid.uuid4().hex[:12]}@example.org"
        secrets.append(secret)
        received = inbox.receive(
            "webchat",
            f"session{i % 7:04d}",
            uuid.uuid4().hex,
            f"my e-mail is {secret} and my card 4111 1111 1111 1111, SIN 130 692 544",
        )
        in_flight.append(received.inbound_id)
        if len(in_flight) > 10:
            inbox.complete(in_flight.pop(0), [])
    for inbound_id in in_flight:
        inbox.complete(inbound_id, [])
    return db, secrets


def leftovers(path: Path, secrets: list[str]) -> int:
    data = file_bytes(path)
    return sum(secret.encode() in data for secret in secrets)


def test_overwritten_raw_text_stays_in_the_file_unless_secure_delete_was_on_when_it_was_written(
    tmp_path: Path,
) -> None:
    """Measured: processed messages were UPDATEd from raw to redacted text. With `secure_delete` off
    at that time, the raw text stays in free space inside the pages even after the WAL is
    checkpointed and truncated, and turning `secure_delete` on afterwards does not help: only a
    VACUUM removes it. With `secure_delete` on in every connection from the start, truncating the
    WAL is enough. `scrub` decides by how connections are made, and leaves nothing in
    either case."""
    db, secrets = processed_messages(tmp_path, "off.db", "OFF")
    path = tmp_path / "off.db"
    assert leftovers(path, secrets) > 0, "the WAL holds raw messages until it is checkpointed"
    assert not secure_delete_at_connect(db)
    scrub(db, vacuum=False)  # secure_delete on now, checkpoint, WAL truncated
    assert (tmp_path / "off.db-wal").stat().st_size == 0
    assert leftovers(path, secrets) > 0, "overwritten raw text stays in the pages"
    scrub(db)  # decides: connections do not zero what they overwrite, so VACUUM
    assert leftovers(path, secrets) == 0
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == len(secrets)

    db, secrets = processed_messages(tmp_path, "on.db", "ON")
    path = tmp_path / "on.db"
    assert secure_delete_at_connect(db)
    assert leftovers(path, secrets) > 0
    assert scrub(db)[0]["vacuumed"] is False  # not needed
    assert leftovers(path, secrets) == 0


def test_purge_and_erase_leave_no_deleted_text_in_the_sqlite_files(tmp_path: Path) -> None:
    db, secrets = processed_messages(tmp_path, "app.db", None, n=50)
    settings = Settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'app.db'}")
    tracker = create_engine(f"sqlite:///{tmp_path / 'rasa-tracker.db'}")
    raw = "rasa-side-secret-0042@example.org"
    add_events(tracker, "webchat:session0001", [("session_started", NOW), ("user", NOW)])
    with tracker.begin() as conn:
        conn.execute(EVENTS.update().values(data=f'{{"text": "{raw}"}}'))
    tracker.dispose()
    with (
        db.session() as session
    ):  # a message that failed for good keeps its raw text, until it goes
        dead = session.get(InboundMessage, 1)
        assert dead is not None
        dead.text, dead.status = f"raw {secrets[0]}", "dead"
        session.commit()
    assert erase(db, settings, "webchat", "session0001")["tracker_events"] == 2
    assert raw.encode() not in file_bytes(tmp_path / "rasa-tracker.db")
    assert (
        purge(db, settings, dt.datetime.now(dt.UTC) + dt.timedelta(days=200))["conversations"] == 6
    )
    assert leftovers(tmp_path / "app.db", secrets) == 0
    with sqlite3.connect(tmp_path / "app.db") as conn:
        assert conn.execute("SELECT count(*) FROM inbound_messages").fetchone() == (0,)


def test_purges_run_on_schedule_and_a_failure_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    db = Database(url)
    db.create_schema()
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=45)
    with db.session() as session:
        session.add(
            Conversation(
                id="sms:+15145550888", channel="sms", address="+15145550888", created_at=old
            )
        )
        session.commit()
    settings = Settings(
        var_dir=tmp_path, database_url=url, retention_days=30, purge_interval_s=0.05
    )
    broken = Database(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables: every purge fails

    def failures() -> int:
        return sum(r.getMessage() == "privacy purge failed" for r in caplog.records)

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(run_purges(settings, db, stop)),
            asyncio.create_task(run_purges(settings, broken, stop)),
        ]
        # Until the broken one has failed twice (the first failure's log line loads the log
        # redactor, which can take seconds on a busy machine), at most 30 s.
        for _ in range(600):
            if failures() >= 2:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)  # both stop, neither raised

    with caplog.at_level(logging.INFO, logger="bot.privacy.retention"):
        asyncio.run(scenario())
    assert table_counts(db)["conversations"] == 0
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith("privacy purge (older than 30 days): conversations=1") for m in messages
    )
    assert sum(m == "privacy purge failed" for m in messages) >= 2  # tried again after failing
