"""Personal data through the whole stack (real Rasa, the app, fake Twilio): citizens write their
name, date of birth, e-mail, phone, SIN, SSN, card number, street address, health card, passport,
driver's licence, bank account and IP address on the web chat and by SMS, one leaves a
callback number in a ticket and then leaves the line, one answers a panel survey with them. Once
they are answered and the files are scrubbed, none of those values is left in any file the stack
writes (app database and its WAL, Rasa's tracker store, logs), neither as sent nor as bare
digits. Then one citizen is erased, and
Rasa's tracker store holds nothing of theirs."""

from __future__ import annotations

import random
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.panel.waves import Waves
from bot.privacy.erasure import erase
from bot.privacy.redact import redact
from bot.privacy.sqlite_scrub import scrub
from bot.privacy.tracker_store import tracker_path
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import (
    Conversation,
    Handoff,
    InboundMessage,
    OutboundMessage,
    PanelAnswer,
)
from tests.conftest import RunningStack
from tests.integration.test_channels_stack import phone, sms, texts_to
from tests.support.console import add_agent
from tests.support.waiting import until
from tests.support.webchat import new_session, session_id

pytestmark = pytest.mark.stack

rng = random.Random()


# -- personal data of this run (random, so that no other test writes the same values) --------------
def luhn_completed(partial: str) -> str:
    """`partial` with the check digit that makes it Luhn-valid."""
    total = 0
    for position, ch in enumerate(reversed(partial)):
        value = int(ch) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return partial + str((10 - total % 10) % 10)


def digits(n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def word(length: int) -> str:
    """A made-up capitalised word ("Belavor"): a surname no other test writes."""
    letters = [rng.choice("bcdfglmnprstv") + rng.choice("aeiou") for _ in range(length // 2)]
    return "".join(letters).capitalize()


def new_values() -> dict[str, str]:
    # SINs start with any digit, 0 included (the Government's own sample is 046 454 286).
    sin = luhn_completed(rng.choice("01234567") + digits(7))
    card = luhn_completed("4" + digits(14))
    letters, others = "ABCEGHJKLMNPRSTVXY", "ABCEGHJKLMNPRSTVWXYZ"
    return {
        "email": f"citizen.{uuid.uuid4().hex[:10]}@example.org",
        "email2": f"m.{uuid.uuid4().hex[:8]}@mail.example.net",
        "phone": f"613-555-{digits(4)}",
        "callback": f"(819) 555-{digits(4)}",
        "sin": f"{sin[:3]} {sin[3:6]} {sin[6:]}",
        "ssn": f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        "card": " ".join(card[i : i + 4] for i in range(0, 16, 4)),
        "street": f"{rng.randint(100, 9899)} "
        f"{rng.choice(['Maple', 'Cedar', 'Birch', 'Tamarack'])} Avenue",
        "postal": f"{rng.choice(letters)}{digits(1)}{rng.choice(others)} "
        f"{digits(1)}{rng.choice(others)}{digits(1)}",
        "name": f"{rng.choice(['Sophie', 'Kevin', 'Nathalie', 'Liam'])} {word(6)}-{word(4)}",
        "dob": f"{rng.choice(['March', 'June', 'October'])} {rng.randint(1, 28)}, "
        f"{rng.randint(1940, 1990)}",
        "health_card": f"{word(4).upper()} {digits(4)} {digits(4)}",
        "passport": f"{rng.choice(letters)}{rng.choice(letters)}{digits(6)}",
        "licence": f"{rng.choice(letters)}{digits(4)}-{digits(6)}-{digits(2)}",
        "bank_account": f"{digits(5)}-{digits(3)}-{digits(7)}",
        "ip": f"203.0.113.{rng.randint(1, 254)}",
    }


def forms(values: dict[str, str]) -> set[bytes]:
    """Each value as sent, and as bare digits where it has digits enough to be recognised."""
    found = set()
    for value in values.values():
        found.add(value.encode())
        bare = "".join(ch for ch in value if ch.isdigit())
        if len(bare) >= 9:
            found.add(bare.encode())
    if "postal" in values:
        found.add(values["postal"].replace(" ", "").encode())
    return found


# -- the stack's database --------------------------------------------------------------------------
def webchat(stack: RunningStack, session: str, text: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{stack.base_url}/webchat/messages", json={"session": session, "text": text}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()["messages"]  # type: ignore[no-any-return]


def settled(db: Database, conversation_id: str, messages: int) -> bool:
    """All `messages` of the conversation processed, and every reply sent."""
    with db.session() as session:
        statuses = session.scalars(
            select(InboundMessage.status).where(InboundMessage.conversation_id == conversation_id)
        ).all()
        unsent = session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(
                OutboundMessage.conversation_id == conversation_id,
                OutboundMessage.status == "pending",
            )
        )
    return len(statuses) >= messages and "pending" not in statuses and not unsent


def sms_and_wait(stack: RunningStack, db: Database, number: str, body: str) -> None:
    with db.session() as session:
        before = (
            session.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.conversation_id == f"sms:{number}")
            )
            or 0
        )
    assert sms(stack, number, body).status_code == 200
    assert until(lambda: settled(db, f"sms:{number}", before + 1)), f"not answered: {body!r}"


def bodies(stack: RunningStack, number: str) -> list[str]:
    return [r.body["Body"] for r in texts_to(stack, number)()]


def files_holding(folder: Path, needles: set[bytes]) -> dict[str, list[str]]:
    """Every file under `folder` that holds one of `needles`, with the ones it holds."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            hits = sorted(n.decode() for n in needles if n in data)
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


def tracker_events(stack: RunningStack, sender: str) -> int:
    assert stack.settings is not None
    with sqlite3.connect(tracker_path(stack.settings)) as conn:
        return int(
            conn.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]
        )


def test_no_personal_data_is_left_in_the_stacks_files_and_erasure_empties_the_tracker(
    stack: RunningStack,
) -> None:
    if stack.var_dir is None or stack.settings is None:
        pytest.skip("needs the test stack's own files")
    settings = stack.settings
    values = new_values()
    v = values
    tokens = {session_id(t): t for t in (new_session(stack.base_url), new_session(stack.base_url))}
    first, second = tokens
    web = {
        first: [
            (
                f"Hi, my name is {v['name']}, my email is {v['email']}, how do I renew my "
                f"driver's licence {v['licence']}?"
            ),
            f"My SIN is {v['sin']}, I was born on {v['dob']}, and I need my tax slip",
            (
                f"My card {v['card']} was charged twice for my parking permit, refund to "
                f"{v['bank_account']}"
            ),
        ],
        second: [
            (
                f"I moved to {v['street']}, Northbridge {v['postal']}; how do I change the address "
                f"on my licence? My carte soleil is {v['health_card']}"
            ),
            (
                f"I'm American, my SSN is {v['ssn']}, passport # {v['passport']}, can I get a "
                "health card?"
            ),
        ],
    }
    texter, caller = phone(), phone()
    texts = [
        (
            f"Call me back at {v['phone']} or write to {v['email2']} about my passport, the "
            f"site blocks my IP {v['ip']}"
        ),
        f"Is my card {v['card']} on file for my vehicle registration? My SIN is {v['sin']}",
    ]
    for message in [m for ms in web.values() for m in ms] + texts:
        assert not any(f.decode() in redact(message) for f in forms(values)), (
            f"the redactor misses: {message!r}"
        )

    db = Database(settings.database_url)
    try:
        for session, messages in web.items():
            for message in messages:
                assert webchat(stack, tokens[session], message), "the web chat answers"
        for message in texts:
            sms_and_wait(stack, db, texter, message)
        # A callback ticket (City Services is closed today in the test stack), then the citizen
        # leaves the line: the number is kept only while the ticket is open.
        sms_and_wait(stack, db, caller, "When is my garbage collection day?")
        sms_and_wait(stack, db, caller, "can I speak to someone")
        assert any("closed right now" in b for b in bodies(stack, caller))
        sms_and_wait(
            stack,
            db,
            caller,
            f"My bin was not picked up on Tuesday, please call me at {v['callback']}",
        )
        assert any("is recorded" in b for b in bodies(stack, caller))
        # The texter joins the citizen panel and answers a survey's free-text question with
        # personal data: the answer is stored redacted.
        for word in ("PANEL", "AGREE", "SKIP", "SKIP"):
            sms_and_wait(stack, db, texter, word)
        lead = f"lead-{uuid.uuid4().hex[:6]}"
        add_agent(settings.database_url, lead, "supervisor")
        waves = Waves(db, AuditLog(db), settings.service_name)
        survey = waves.create_survey(
            {
                "title": "Privacy check",
                "questions": [{"key": "say", "kind": "text", "en": "Anything?", "fr": "Autre?"}],
            },
            lead,
        )
        wave = waves.schedule(survey, lead)
        assert until(lambda: any("Anything?" in b for b in bodies(stack, texter)))
        sms_and_wait(
            stack,
            db,
            texter,
            f"I am {v['name']}, SIN {v['sin']}, write to {v['email2']} or call {v['phone']}",
        )
        with db.session() as s:
            answer = s.scalar(select(PanelAnswer.text).where(PanelAnswer.wave_id == wave))
        assert answer is not None and "[sin]" in answer and "[email]" in answer
        with db.session() as s:
            ticket = s.scalar(select(Handoff).where(Handoff.conversation_id == f"sms:{caller}"))
            assert ticket is not None and ticket.ticket and ticket.callback_number
            assert ticket.callback_number.endswith(v["callback"][-4:])
        sms_and_wait(stack, db, caller, "LEAVE")
        with db.session() as s:
            ticket = s.get(Handoff, ticket.id)
            assert (
                ticket is not None
                and ticket.status == "cancelled"
                and ticket.callback_number is None
            )

        with db.session() as s:  # what the console and the transcript show: redacted
            stored = s.scalars(
                select(InboundMessage.text).where(
                    InboundMessage.conversation_id.in_(
                        [f"webchat:{first}", f"webchat:{second}", f"sms:{texter}", f"sms:{caller}"]
                    )
                )
            ).all()
        assert len(stored) == 5 + 2 + 4 + 5 and all(
            any(f"[{kind}]" in t for t in stored)
            for kind in (
                "name",
                "dob",
                "sin",
                "card",
                "health_card",
                "passport",
                "licence",
                "bank_account",
                "ip",
            )
        )

        done = scrub(db, settings)
        assert all(step["wal_truncated"] for step in done if Path(step["file"]).exists())
        left = files_holding(stack.var_dir, forms(values))
        assert left == {}, f"personal data left in {left}"

        # Erasure: one citizen, everywhere; Rasa's tracker store had their conversation and has
        # nothing now.
        assert tracker_events(stack, f"webchat:{first}") > 0
        assert tracker_events(stack, f"webchat:{second}") > 0
        removed = erase(db, settings, "webchat", first)
        assert (
            removed["conversations"] == 1
            and removed["inbound_messages"] == 3
            and removed["tracker_events"] > 0
        )
        assert tracker_events(stack, f"webchat:{first}") == 0
        assert tracker_events(stack, f"webchat:{second}") > 0
        with db.session() as s:
            assert s.get(Conversation, f"webchat:{first}") is None
            assert s.get(Conversation, f"webchat:{second}") is not None
        assert first.encode() not in (tracker_path(settings)).read_bytes()
        assert files_holding(stack.var_dir, forms(values)) == {}
    finally:
        db.engine.dispose()


def test_the_stack_logs_nothing_personal_where_its_logs_are_kept(stack: RunningStack) -> None:
    """The stack's log files, when it writes them into its folder (e.g. `stack.log`): after a
    citizen wrote personal data, none of it appears there."""
    if stack.var_dir is None:
        pytest.skip("needs the test stack's own files")
    values = new_values()
    webchat(
        stack,
        new_session(stack.base_url),
        f"my email is {values['email']} and my card is {values['card']}",
    )
    logs = sorted(stack.var_dir.rglob("*.log"))
    if not logs:
        pytest.skip(
            "the stack writes no log file into its folder (its output goes to the test runner's)"
        )
    time.sleep(1)  # let the processes flush
    needles = forms({k: values[k] for k in ("email", "card")})
    assert {
        str(p): hits for p in logs if (hits := [n.decode() for n in needles if n in p.read_bytes()])
    } == {}
