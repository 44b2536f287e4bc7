"""The contact centre's service on SQLite and PostgreSQL, with a settable clock: what happens to
citizen messages during a hand-off, urgent topics, callback tickets across opening hours, position
updates, abandonment, and console sessions that expire."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.engine.instructions import HandoffRequest
from bot.handoff.agents import Agents
from bot.handoff.centre import ContactCentre
from bot.handoff.config import load_config
from bot.handoff.queue import HandoffQueue
from bot.inbox.hub import LiveHub
from bot.inbox.store import Inbox
from bot.inbox.transcript import Transcript
from bot.settings import ROOT
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import InboundMessage, OutboundMessage
from tests.integration.test_handoff_queue import Clock

TORONTO = ZoneInfo("America/Toronto")


@pytest.fixture
def clock() -> Clock:
    clock = Clock()
    clock.now = dt.datetime(2026, 12, 1, 10, 0, tzinfo=TORONTO).astimezone(
        dt.UTC
    )  # a Tuesday morning
    return clock


@pytest.fixture
def centre(db: Database, clock: Clock) -> Iterator[ContactCentre]:
    yield ContactCentre(
        load_config(ROOT / "data" / "contact_centre.yml"),
        HandoffQueue(db, clock),
        Transcript(Inbox(db, clock), LiveHub()),
        AuditLog(db),
    )


def said(db: Database, conversation_id: str) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(OutboundMessage.text)
                .where(OutboundMessage.conversation_id == conversation_id)
                .order_by(OutboundMessage.seq)
            )
        )


def citizen(
    centre: ContactCentre, db: Database, channel: str, address: str, text: str
) -> InboundMessage:
    inbox = Inbox(db, centre.queue.now)  # the test's clock
    received = inbox.receive(
        channel, address, f"{address}-{len(said(db, f'{channel}:{address}'))}-{text}", text
    )
    with db.session() as session:
        return session.get(InboundMessage, received.inbound_id)  # type: ignore[return-value]


def hand_off(
    centre: ContactCentre, db: Database, channel: str, address: str, queue: str = "revenue"
) -> int:
    message = citizen(centre, db, channel, address, "a person please")
    request = HandoffRequest(queue=queue, language="en")
    replies = asyncio.run(centre.hand_off(f"{channel}:{address}", message, request))
    Inbox(db, centre.queue.now).complete(message.id, replies)
    handoff = centre.queue.active_for(f"{channel}:{address}")
    assert handoff is not None
    return handoff.id


def test_messages_during_a_hand_off_are_kept_for_the_agent_and_cancel_leaves(
    db: Database, centre: ContactCentre
) -> None:
    hand_off(centre, db, "telegram", "100")
    assert "You are number 1 in line" in said(db, "telegram:100")[-1]
    message = citizen(centre, db, "telegram", "100", "are you there?")
    assert asyncio.run(centre.intercept("telegram:100", message)) is True  # not the bot's
    with db.session() as session:
        assert session.get(InboundMessage, message.id).status == "done"  # type: ignore[union-attr]
    assert len(said(db, "telegram:100")) == 1  # and nobody answered it
    leave = citizen(centre, db, "telegram", "100", "Cancel")
    assert asyncio.run(centre.intercept("telegram:100", leave)) is True
    assert "You have left the line" in said(db, "telegram:100")[-1]
    assert centre.queue.active_for("telegram:100") is None
    after = citizen(centre, db, "telegram", "100", "how do I file my taxes")
    assert asyncio.run(centre.intercept("telegram:100", after)) is False  # the bot's again


def test_on_sms_cancel_is_not_the_leave_word(db: Database, centre: ContactCentre) -> None:
    hand_off(centre, db, "sms", "+15145550101")
    assert "Text LEAVE to leave the line" in said(db, "sms:+15145550101")[-1]
    # CANCEL is a carrier opt-out word on SMS; the worker handles it as STOP before the
    # contact centre.
    asyncio.run(
        centre.intercept("sms:+15145550101", citizen(centre, db, "sms", "+15145550101", "LEAVE"))
    )
    assert centre.queue.active_for("sms:+15145550101") is None


def test_an_urgent_message_goes_to_the_front_with_the_crisis_line(
    db: Database, centre: ContactCentre
) -> None:
    for n in range(3):
        hand_off(centre, db, "webchat", f"calm{n}abcdef", queue="general")
    message = citizen(centre, db, "webchat", "urgentabcdef", "I want to end my life")
    assert asyncio.run(centre.intercept("webchat:urgentabcdef", message)) is True
    text = said(db, "webchat:urgentabcdef")[-1]
    assert "988" in text and "You are number 1 in line" in text
    assert centre.queue.waiting(["general"])[0].conversation_id == "webchat:urgentabcdef"
    # Already in line: an urgent message moves the citizen up at once, among the urgent ones
    # by arrival.
    late = citizen(centre, db, "webchat", "calm2abcdef", "there is a gas leak, I am in danger")
    asyncio.run(centre.intercept("webchat:calm2abcdef", late))
    assert "call 911 now" in said(db, "webchat:calm2abcdef")[-1]
    assert [h.conversation_id for h in centre.queue.waiting(["general"])] == [
        "webchat:calm2abcdef",
        "webchat:urgentabcdef",
        "webchat:calm0abcdef",
        "webchat:calm1abcdef",
    ]


def test_a_ticket_left_at_night_is_first_when_the_queue_opens(
    db: Database, centre: ContactCentre, clock: Clock
) -> None:
    hand_off(centre, db, "webchat", "dayvisitorab", queue="city-services")  # Tuesday 10:00: open
    clock.now = dt.datetime(2026, 12, 1, 22, 0, tzinfo=TORONTO).astimezone(
        dt.UTC
    )  # Tuesday night: closed
    hand_off(centre, db, "webchat", "nightowlabcd", queue="city-services")
    notice = said(db, "webchat:nightowlabcd")[-1]
    assert "closed right now" in notice and "Wednesday 2 at 08:30" in notice
    message = citizen(
        centre, db, "webchat", "nightowlabcd", "my bin is broken, call me at (514) 555-0177"
    )
    asyncio.run(centre.intercept("webchat:nightowlabcd", message))
    assert "is recorded" in said(db, "webchat:nightowlabcd")[-1]
    clock.now = dt.datetime(2026, 12, 2, 8, 30, tzinfo=TORONTO).astimezone(dt.UTC)  # opening time
    first = centre.queue.waiting(["city-services"])[0]
    assert first.ticket and first.conversation_id == "webchat:nightowlabcd"
    assert first.callback_number == "5145550177"
    assert "[phone]" in (first.ticket_message or "") and "555-0177" not in (
        first.ticket_message or ""
    )


def test_the_sweep_tells_a_waiting_citizen_only_meaningful_changes(
    db: Database, centre: ContactCentre, clock: Clock
) -> None:
    ids = [hand_off(centre, db, "sms", f"+1514555{n:04d}", queue="benefits") for n in range(6)]
    last = "sms:+15145550005"
    assert "number 6 in line" in said(db, last)[-1]
    agents = Agents(db, AuditLog(db), clock)
    agent = agents.add("sweeper", "a long enough password", "agent")
    centre.queue.heartbeat(agent.id)
    for _ in range(2):  # 6 -> 5 -> 4: small moves, nothing sent
        centre.queue.claim_next(agent.id, 30, ["benefits"])
        centre.sweep_once()
        assert len(said(db, last)) == 1
    centre.queue.claim_next(agent.id, 30, ["benefits"])
    centre.sweep_once()
    assert said(db, last)[-1].startswith("Update: you are now number 3 in line")  # halved: 6 -> 3
    centre.queue.claim_next(agent.id, 30, ["benefits"])
    centre.queue.claim_next(agent.id, 30, ["benefits"])
    centre.sweep_once()
    assert said(db, last)[-1] == "You are next in line. A person will be with you shortly."
    centre.sweep_once()
    assert len(said(db, last)) == 3
    assert ids == sorted(ids)


def test_a_silent_citizen_is_closed_as_abandoned(
    db: Database, centre: ContactCentre, clock: Clock
) -> None:
    hand_off(centre, db, "messenger", "psid-1")
    clock.advance(centre.config.timers.abandon_after_s + 60)
    centre.sweep_once()
    assert centre.queue.active_for("messenger:psid-1") is None
    assert "this request is closed" in said(db, "messenger:psid-1")[-1]


def test_console_sessions_expire_and_end_with_a_disabled_account(
    db: Database, clock: Clock
) -> None:
    agents = Agents(db, AuditLog(db), clock)
    agent = agents.add("expiring", "a long enough password", "agent")
    token, csrf = agents.start_session(agent, ttl_s=60, ip="127.0.0.1")
    assert agents.session_for(token) is not None and agents.session_for(token).csrf_token == csrf  # type: ignore[union-attr]
    assert agents.session_for(token + "x") is None
    clock.advance(61)
    assert agents.session_for(token) is None
    fresh, _ = agents.start_session(agent, ttl_s=60, ip="127.0.0.1")
    agents.set_active("expiring", False)
    assert agents.session_for(fresh) is None
    assert agents.authenticate("expiring", "a long enough password", "127.0.0.1") is None


def test_the_audit_log_is_append_only_in_the_database(db: Database) -> None:
    audit = AuditLog(db)
    audit.record(None, "someone", "login", ip="10.0.0.1")
    for statement in ("UPDATE audit_log SET username = 'nobody'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    assert [e.username for e in audit.entries()] == ["someone"]
