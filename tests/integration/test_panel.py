"""The citizen panel on SQLite and PostgreSQL: consent before membership, the optional profile,
a wave to the panel or a sample (nobody outside the panel or opted out is invited), one question
at a time with skip logic, a pause and a resume, one reminder, quiet hours, small groups
suppressed in results and CSV, and leaving that deletes profile and answers but keeps the counts."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from bot.handoff.agents import Agents
from bot.inbox.policy import OptOuts
from bot.inbox.quiet_hours import QuietHours
from bot.panel.asking import Said
from bot.panel.citizen import ANSWER_WINDOW, PanelCitizen
from bot.panel.definition import SurveyError
from bot.panel.profile import profile_questions
from bot.panel.results import Results
from bot.panel.sweep import WaveSweep
from bot.panel.waves import Waves
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import (
    OutboundMessage,
    PanelAnswer,
    PanelMember,
    PanelPlace,
    PanelTally,
)
from connectors.capabilities import SMS, WEBCHAT
from tests.support.panel import PROFILE, SURVEY

# 15:00 in Toronto (EST): outside quiet hours
T0 = dt.datetime(2026, 12, 8, 20, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple 42"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def panel(db: Database, clock: Clock) -> PanelCitizen:
    agents = Agents(db, AuditLog(db))
    agents.add("lead", PASSWORD, "supervisor")
    agents.add("agent1", PASSWORD, "agent")
    return PanelCitizen(db, profile_questions(PROFILE), "Service Québec", clock)


@pytest.fixture
def waves(db: Database, clock: Clock) -> Waves:
    return Waves(db, AuditLog(db), "Service Québec", clock)


@pytest.fixture
def sweep(db: Database, clock: Clock) -> WaveSweep:
    return WaveSweep(db, "Service Québec", "America/Toronto", QuietHours(21, 8), clock)


def say(panel: PanelCitizen, number: str, text: str) -> Said | None:
    return panel.handle("sms", number, text, SMS)


def join(
    panel: PanelCitizen, number: str, area: str = "1", age: str = "SKIP", word: str = "PANEL"
) -> None:
    consent = say(panel, number, word)
    assert consent is not None
    assert say(panel, number, "ACCEPTE" if word == "PANEL CITOYEN" else "AGREE") is not None
    assert say(panel, number, area) is not None
    done = say(panel, number, age)
    assert done is not None and ("panel" in done.text.lower())


def members(db: Database) -> list[PanelMember]:
    with db.session() as session:
        return list(session.scalars(select(PanelMember).order_by(PanelMember.id)))


def sent_to(db: Database, number: str) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(OutboundMessage.text)
                .where(OutboundMessage.conversation_id == f"sms:{number}")
                .order_by(OutboundMessage.id)
            )
        )


def test_joining_takes_consent_and_an_optional_profile(
    panel: PanelCitizen, db: Database, clock: Clock
) -> None:
    consent = say(panel, "+15145550001", "panel")
    assert consent is not None and "AGREE" in consent.text and "10" in consent.text
    assert members(db)[0].state == "invited"
    # Nothing is asked of the bot's other words, and a stray AGREE with no invitation is the bot's.
    assert say(panel, "+15145550002", "agree") is None
    assert say(panel, "+15145550002", "How do I renew my permit?") is None
    welcome = say(panel, "+15145550001", "AGREE")
    assert (
        welcome is not None
        and "Where do you live?" in welcome.text
        and "1. Montréal" in welcome.text
    )
    again = say(panel, "+15145550001", "somewhere")
    assert again is not None and "did not get" in again.text
    age = say(panel, "+15145550001", "Québec city")  # an option's name, accents and case aside
    assert age is not None and "age" in age.text.lower()
    assert say(panel, "+15145550001", "SKIP") is not None
    member = members(db)[0]
    assert (member.state, member.area, member.age_band, member.language) == (
        "active",
        "quebec-city",
        None,
        "en",
    )
    assert "AGREE" in member.wording and member.joined_at is not None
    # The profile is done: the member's questions go to the bot again.
    assert say(panel, "+15145550001", "How do I renew my permit?") is None
    # A consent older than a day is not taken.
    say(panel, "+15145550003", "PANEL CITOYEN")
    clock.now += dt.timedelta(hours=25)
    assert say(panel, "+15145550003", "ACCEPTE") is None
    assert [m.state for m in members(db)] == ["active", "invited"]


def test_a_wave_reaches_only_active_members_who_did_not_opt_out(
    panel: PanelCitizen, waves: Waves, sweep: WaveSweep, db: Database, clock: Clock
) -> None:
    for n in range(4):
        join(panel, f"+1514555010{n}")
    say(panel, "+15145550199", "PANEL")  # invited, never agreed
    OptOuts(db, clock).set("sms", "+15145550103", True)
    survey = waves.create_survey(SURVEY, "lead")
    with pytest.raises(SurveyError, match="not an active supervisor"):
        waves.schedule(survey, "agent1")
    wave = waves.schedule(survey, "lead")
    assert sweep.run_once() == 3
    assert sweep.run_once() == 0  # opened once
    for n in range(3):
        invitation = sent_to(db, f"+1514555010{n}")[-1]
        assert "How did you renew?" in invitation and "1. Online" in invitation
    assert sent_to(db, "+15145550103") == []  # opted out (STOP)
    assert sent_to(db, "+15145550199") == []  # never agreed
    # A second wave while the first is open skips busy members; a sample takes that many.
    second = waves.schedule(survey, "lead", sample=1)
    assert sweep.run_once() == 0
    assert waves.overview()["waves"][0] == waves.overview()["waves"][0] | {
        "id": second,
        "invited": 0,
    }
    third_members = [f"+1514555020{n}" for n in range(5)]
    for number in third_members:
        join(panel, number)
    third = waves.schedule(survey, "lead", sample=2)
    assert sweep.run_once() == 2
    invited = [n for n in third_members if any("renew" in t for t in sent_to(db, n))]
    assert len(invited) == 2
    assert {w["id"]: w["invited"] for w in waves.overview()["waves"]}[third] == 2
    assert {w["id"]: w["invited"] for w in waves.overview()["waves"]}[wave] == 3


def test_one_question_at_a_time_with_skip_logic_pause_resume_and_redacted_text(
    panel: PanelCitizen, waves: Waves, sweep: WaveSweep, db: Database, clock: Clock
) -> None:
    join(panel, "+15145550300")
    join(panel, "+15145550301", word="PANEL CITOYEN")
    waves.schedule(waves.create_survey(SURVEY, "lead"), "lead")
    sweep.run_once()
    assert "Comment avez-vous renouvelé?" in sent_to(db, "+15145550301")[-1]
    # An answer that is not a choice is asked again; the bot never sees it.
    retry = say(panel, "+15145550300", "what?")
    assert retry is not None and "did not get" in retry.text and "How did you renew?" in retry.text
    ease = say(panel, "+15145550300", "2")
    assert ease is not None and "How easy" in ease.text and "1 (lowest) to 5" in ease.text
    required = say(panel, "+15145550300", "skip")
    assert required is not None and "needs an answer" in required.text
    # A pause: LATER, then questions go to the bot again...
    later = say(panel, "+15145550300", "later")
    assert later is not None and "SURVEY" in later.text
    assert say(panel, "+15145550300", "When does the office open?") is None
    # ... and SURVEY asks the same question again.
    resumed = say(panel, "+15145550300", "survey")
    assert resumed is not None and "How easy" in resumed.text
    why = say(panel, "+15145550300", "1")
    assert why is not None and "What made it hard?" in why.text
    thanks = say(panel, "+15145550300", "The form lost my data, call me at 514-555-0187")
    assert thanks is not None and thanks.text.startswith("Thank you")
    assert say(panel, "+15145550300", "Thanks!") is None  # done: back to the bot
    # Skip logic: "not yet" ends the survey at once.
    done = say(panel, "+15145550301", "3")
    assert done is not None and done.text.startswith("Merci")
    with db.session() as session:
        answers = session.execute(
            select(PanelAnswer.question, PanelAnswer.choice, PanelAnswer.text).order_by(
                PanelAnswer.id
            )
        ).all()
        states = sorted(session.scalars(select(PanelPlace.state)))
    assert [tuple(a) for a in answers] == [
        ("how", "office", None),
        ("ease", "1", None),
        ("why", None, "The form lost my data, call me at [phone]"),
        ("how", "not-yet", None),
    ]
    assert states == ["done", "done"]


def test_a_question_left_unanswered_pauses_and_the_one_reminder_resumes_it(
    panel: PanelCitizen, waves: Waves, sweep: WaveSweep, db: Database, clock: Clock
) -> None:
    join(panel, "+15145550400")
    join(panel, "+15145550401")
    waves.schedule(waves.create_survey(SURVEY, "lead"), "lead", remind_after_h=48, open_for_h=96)
    sweep.run_once()
    say(panel, "+15145550401", "1")
    say(panel, "+15145550401", "5")  # done
    clock.now += ANSWER_WINDOW + dt.timedelta(minutes=1)
    assert say(panel, "+15145550400", "1") is None  # the window is over: this is the bot's
    clock.now = T0 + dt.timedelta(hours=48, minutes=1)
    assert sweep.run_once() == 1
    reminder = sent_to(db, "+15145550400")[-1]
    assert reminder.startswith("Reminder") and "How did you renew?" in reminder
    assert not sent_to(db, "+15145550401")[-1].startswith("Reminder")
    assert sweep.run_once() == 0  # one reminder only
    answer = say(panel, "+15145550400", "2")
    assert answer is not None and "How easy" in answer.text
    # The wave closes: the unfinished place expires and nothing is captured any more.
    clock.now = T0 + dt.timedelta(hours=97)
    sweep.run_once()
    assert say(panel, "+15145550400", "4") is None
    with db.session() as session:
        assert sorted(session.scalars(select(PanelPlace.state))) == ["done", "expired"]


def test_invitations_wait_for_the_morning(
    panel: PanelCitizen, waves: Waves, sweep: WaveSweep, db: Database, clock: Clock
) -> None:
    join(panel, "+15145550500")
    clock.now = dt.datetime(2026, 12, 9, 3, 0, tzinfo=dt.UTC)  # 22:00 in Toronto
    waves.schedule(waves.create_survey(SURVEY, "lead"), "lead")
    assert sweep.run_once() == 1
    with db.session() as session:
        due = session.scalars(
            select(OutboundMessage.next_attempt_at).order_by(OutboundMessage.id.desc()).limit(1)
        ).one()
    assert due.replace(tzinfo=dt.UTC) == dt.datetime(2026, 12, 9, 13, 0, tzinfo=dt.UTC)  # 08:00
    # Before the invitation goes out, a message is not taken as an answer to it.
    assert say(panel, "+15145550500", "1") is None


def test_a_web_chat_invitation_is_open_at_once_even_at_night(
    panel: PanelCitizen, waves: Waves, sweep: WaveSweep, clock: Clock
) -> None:
    """The web chat cannot push: its visitor sees the invitation whenever they come back, so
    quiet hours do not hold it, and its answer is taken at once."""
    for text in ("PANEL", "AGREE", "SKIP", "SKIP"):
        assert panel.handle("webchat", "visitor-night", text, WEBCHAT) is not None
    clock.now = dt.datetime(2026, 12, 9, 3, 0, tzinfo=dt.UTC)  # 22:00 in Toronto
    waves.schedule(waves.create_survey(SURVEY, "lead"), "lead")
    assert sweep.run_once() == 1
    answered = panel.handle("webchat", "visitor-night", "1", WEBCHAT)
    assert answered is not None and "How easy" in answered.text


def test_results_suppress_small_groups_in_the_table_and_the_csv_and_survive_leaving(
    panel: PanelCitizen, waves: Waves, sweep: WaveSweep, db: Database, clock: Clock
) -> None:
    numbers = [f"+1514555{n:04d}" for n in range(600, 616)]
    for i, number in enumerate(numbers):  # 11 in Montréal, 2 in another city, 3 rural
        join(panel, number, area="1" if i < 11 else "3" if i < 13 else "4", age="2")
    wave = waves.schedule(waves.create_survey(SURVEY, "lead"), "lead")
    sweep.run_once()
    for i, number in enumerate(numbers):  # 15 answer: 10 from Montréal, 2 + 3 elsewhere
        if i == 10:
            continue
        say(panel, number, "1")
        say(panel, number, "5" if i % 2 else "1")
        say(panel, number, "SKIP")
    results = Results(db, profile_questions(PROFILE)).wave(wave)
    how = results["questions"][0]
    assert how["respondents"] == 15 and how["cells"][0] == {
        "choice": "online",
        "label": "Online",
        "count": 15,
        "share": 1.0,
    }
    areas = {g["group"]: g for g in how["groups"]["area"]}
    assert areas["montreal"]["respondents"] == 10 and not areas["montreal"]["suppressed"]
    assert areas["montreal"]["label"] == "Montréal" and areas["rural"]["label"] == "A rural area"
    assert areas["rural"]["suppressed"] and areas["rural"]["cells"] is None
    assert areas["other-city"]["suppressed"] and areas["other-city"]["respondents"] is None
    ages = {g["group"]: g for g in how["groups"]["age_band"]}
    assert ages["25-44"]["label"] == "25 to 44"
    assert ages["25-44"]["respondents"] == 15
    # "why" was skipped by all: nothing to show, suppressed.
    assert results["questions"][2]["suppressed"] and results["questions"][2]["respondents"] is None
    rows = list(csv.DictReader(io.StringIO(Results(db).csv(wave))))
    rural = [r for r in rows if r["group"] == "rural"]
    assert rural and all(r["suppressed"] == "yes" and r["count"] == "" for r in rural)
    assert any(r["group"] == "montreal" and r["count"] == "10" for r in rows)
    # Complementary suppression: one small group hides the next smallest too.
    from bot.panel.results import suppressed_groups

    assert suppressed_groups({"a": 30, "b": 12, "c": 4}) == {"b", "c"}
    assert suppressed_groups({"a": 30, "b": 3, "c": 4}) == {"b", "c"}
    assert suppressed_groups({"a": 30, "b": 12}) == set()
    # Leaving deletes the profile and the answers; the counts stay.
    before = Results(db).wave(wave)
    left = say(panel, numbers[0], "LEAVE PANEL")
    assert left is not None and "deleted" in left.text
    with db.session() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(PanelMember)
                .where(PanelMember.address == numbers[0])
            )
            == 0
        )
        assert session.scalar(select(func.count()).select_from(PanelAnswer)) == 28
        assert session.scalar(select(func.count()).select_from(PanelTally)) > 0
    assert Results(db).wave(wave) == before


def test_survey_definitions_are_checked(panel: PanelCitizen, waves: Waves) -> None:
    bad_target = {**SURVEY, "questions": [{**SURVEY["questions"][0], "next": {"online": "how"}}]}
    with pytest.raises(SurveyError, match="later question"):
        waves.create_survey(bad_target, "lead")
    with pytest.raises(SurveyError, match="at least two options"):
        waves.create_survey(
            {
                "title": "x",
                "questions": [
                    {
                        "key": "a",
                        "kind": "single",
                        "en": "A?",
                        "fr": "A?",
                        "options": [{"key": "y", "en": "Y", "fr": "O"}],
                    }
                ],
            },
            "lead",
        )
    with pytest.raises(SurveyError, match="answers it does not have"):
        waves.create_survey(
            {
                "title": "x",
                "questions": [
                    {"key": "a", "kind": "scale", "en": "A?", "fr": "A?", "next": {"7": "end"}}
                ],
            },
            "lead",
        )
    with pytest.raises(SurveyError):
        waves.create_survey({"title": "x", "questions": []}, "lead")


def test_buttons_where_the_channel_has_them(panel: PanelCitizen) -> None:
    consent = panel.handle("webchat", "visitor-1", "PANEL", WEBCHAT)
    assert consent is not None and consent.buttons == [{"title": "I agree", "payload": "AGREE"}]
    area = panel.handle("webchat", "visitor-1", "AGREE", WEBCHAT)
    assert area is not None
    assert [b["payload"] for b in area.buttons] == ["1", "2", "3", "4", "SKIP"]
    assert "1. Montréal" not in area.text


def test_a_survey_that_would_be_cut_on_sms_is_refused(panel: PanelCitizen, waves: Waves) -> None:
    wordy = {
        **SURVEY,
        "questions": [
            {
                **SURVEY["questions"][1],
                "next": {},
                "fr": "Était-ce facile? " + "Vraiment très long. " * 14,
            }
        ],
    }
    with pytest.raises(SurveyError, match=r"question ease \(fr\) takes \d SMS segments"):
        waves.create_survey(wordy, "lead")
