"""The knowledge studio's store on SQLite and PostgreSQL: drafts, the reviewer rule, urgent
publishing, rollback, scheduling and expiry, rights per agency, the audit log, import and export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.knowledge.faq import Agency, Faq, KnowledgeError
from bot.storage.db import Database
from bot.storage.models import Agent, AuditEntry, KbAgency, KbFaq, KbFaqVersion
from bot.studio.access import Editor, Forbidden, StudioError, editor_of, grant, operator
from bot.studio.catalogue import (
    export_agency,
    import_faqs,
    published_bank,
    read_import_file,
    revision,
    seed,
    stale,
)
from bot.studio.store import Content, Studio

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
ALICE = Editor("alice", edits=frozenset({"benefits"}))
BOB = Editor("bob", reviews=frozenset({"benefits"}))
CAROL = Editor("carol", reviews=frozenset({"revenue"}))
FAQ = Faq(
    id="ben-hours-en",
    agency="benefits",
    language="en",
    question="When are you open?",
    answer="Monday to Friday, 8 to 5.",
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def studio(db: Database, clock: Clock) -> Studio:
    import_faqs(
        db,
        [Agency("benefits", {"en": "Benefits"}), Agency("revenue", {"en": "Revenue"})],
        [FAQ],
        operator("import"),
        publish=True,
        clock=clock,
    )
    return Studio(db, clock)


def answers(db: Database) -> dict[str, str]:
    return {faq.id: faq.answer for faq in published_bank(db)[1].faqs}


def test_a_draft_goes_live_only_when_a_second_person_approves_it(
    db: Database, studio: Studio
) -> None:
    before = revision(db)
    faq_id = studio.create(
        ALICE, "benefits", "en", Content("Can I apply by phone?", "Yes: call 1-800-555-0163.")
    )
    studio.submit(ALICE, faq_id)
    assert faq_id not in answers(db) and revision(db) == before
    with pytest.raises(Forbidden):
        studio.approve(ALICE, faq_id, 1)  # may not review at all
    assert studio.approve(BOB, faq_id, 1) == "published"
    assert answers(db)[faq_id] == "Yes: call 1-800-555-0163."
    assert revision(db) == before + 1
    with db.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-3:] == ["kb.create", "kb.submit", "kb.publish"]


def test_the_author_may_not_approve_their_own_version_where_the_agency_asks_for_two(
    db: Database, studio: Studio
) -> None:
    both = Editor("dana", reviews=frozenset({"benefits"}))
    faq_id = studio.create(both, "benefits", "en", Content("Q one?", "A one."))
    studio.submit(both, faq_id)
    with pytest.raises(Forbidden, match="second person"):
        studio.approve(both, faq_id, 1)
    with db.session() as session:
        session.get(KbAgency, "benefits").second_reviewer = False  # type: ignore[union-attr]
        session.commit()
    assert studio.approve(both, faq_id, 1) == "published"


def test_an_editor_of_another_agency_is_refused_everything(db: Database, studio: Studio) -> None:
    with pytest.raises(Forbidden):
        studio.create(CAROL, "benefits", "en", Content("Q?", "A."))
    with pytest.raises(Forbidden):
        studio.edit(CAROL, FAQ.id, Content("Q?", "Hacked."), base_version=1)
    with pytest.raises(Forbidden):
        studio.archive(CAROL, FAQ.id)
    assert answers(db)[FAQ.id] == FAQ.answer


def test_an_edit_waits_in_review_while_the_old_version_stays_live(
    db: Database, studio: Studio
) -> None:
    version = studio.edit(ALICE, FAQ.id, Content(FAQ.question, "Now 9 to 5."), base_version=1)
    assert version == 2
    studio.submit(ALICE, FAQ.id)
    assert answers(db)[FAQ.id] == FAQ.answer
    with pytest.raises(StudioError, match="changed meanwhile"):
        studio.edit(ALICE, FAQ.id, Content(FAQ.question, "Stale edit."), base_version=1)
    studio.approve(BOB, FAQ.id, 2)
    assert answers(db)[FAQ.id] == "Now 9 to 5."


def test_urgent_publish_is_live_at_once_and_flagged_until_reviewed(
    db: Database, studio: Studio
) -> None:
    studio.edit(ALICE, FAQ.id, Content(FAQ.question, "Closed today: outage."), base_version=1)
    studio.publish_urgent(ALICE, FAQ.id)
    assert answers(db)[FAQ.id] == "Closed today: outage."
    with db.session() as session:
        assert session.get(KbFaq, FAQ.id).needs_review  # type: ignore[union-attr]
    studio.approve(BOB, FAQ.id, 2)
    with db.session() as session:
        assert not session.get(KbFaq, FAQ.id).needs_review  # type: ignore[union-attr]


def test_rollback_restores_an_earlier_published_answer_as_a_new_version(
    db: Database, studio: Studio
) -> None:
    studio.edit(ALICE, FAQ.id, Content(FAQ.question, "Wrong answer."), base_version=1)
    studio.publish_urgent(ALICE, FAQ.id)
    assert studio.rollback(ALICE, FAQ.id, 1) == 3
    assert answers(db)[FAQ.id] == FAQ.answer
    studio.edit(ALICE, FAQ.id, Content(FAQ.question, "Never published."), base_version=3)
    with pytest.raises(StudioError, match="never published"):
        studio.rollback(ALICE, FAQ.id, 4)


def test_a_scheduled_notice_goes_live_then_expires_on_its_own(
    db: Database, studio: Studio, clock: Clock
) -> None:
    faq_id = studio.create(ALICE, "benefits", "en", Content("Is the office closed?", "Closed."))
    studio.submit(ALICE, faq_id)
    studio.set_expiry(ALICE, faq_id, T0 + dt.timedelta(hours=5))
    assert studio.approve(BOB, faq_id, 1, publish_at=T0 + dt.timedelta(hours=1)) == "scheduled"
    assert studio.apply_due() == 0 and faq_id not in answers(db)
    clock.now = T0 + dt.timedelta(hours=2)
    assert studio.apply_due() == 1 and faq_id in answers(db)
    clock.now = T0 + dt.timedelta(hours=6)
    assert studio.apply_due() == 1 and faq_id not in answers(db)
    with db.session() as session:
        assert session.get(KbFaq, faq_id).state == "expired"  # type: ignore[union-attr]


def test_archive_withdraws_the_faq(db: Database, studio: Studio) -> None:
    studio.archive(ALICE, FAQ.id)
    assert FAQ.id not in answers(db)


def test_bad_content_is_refused_with_the_reason_and_changes_nothing(
    db: Database, studio: Studio
) -> None:
    with pytest.raises(StudioError, match="missing answer"):
        studio.edit(ALICE, FAQ.id, Content("Q?", "  "), base_version=1)
    with pytest.raises(StudioError, match="https"):
        studio.edit(ALICE, FAQ.id, Content("Q?", "A.", source_url="javascript:x"), base_version=1)
    with pytest.raises(StudioError, match="longer than"):
        studio.edit(ALICE, FAQ.id, Content("Q?", "A" * 5000), base_version=1)
    with pytest.raises(StudioError, match="no FAQ"):
        studio.submit(ALICE, "nope")
    assert answers(db)[FAQ.id] == FAQ.answer


def test_import_publishes_changes_only_and_export_round_trips(
    db: Database, studio: Studio, tmp_path: Path
) -> None:
    changed = Faq(**{**_fields(FAQ), "answer": "Open 24/7 online."})
    new = Faq(**{**_fields(FAQ), "id": "ben-new-en", "question": "New?"})
    before = revision(db)
    result = import_faqs(db, [], [changed, new], operator("cli"), publish=False)
    assert result.lines() == ["benefits: 1 new, 1 changed, 0 unchanged"]
    assert revision(db) == before and answers(db)[FAQ.id] == FAQ.answer  # drafts only
    result = import_faqs(db, [], [changed, new], operator("cli"), publish=True)
    assert revision(db) == before + 1
    assert answers(db)[FAQ.id] == "Open 24/7 online." and "ben-new-en" in answers(db)
    again = import_faqs(db, [], [changed, new], operator("cli"), publish=True)
    assert again.lines() == ["benefits: 0 new, 0 changed, 2 unchanged"]
    assert revision(db) == before + 1

    path = tmp_path / "benefits.yml"
    path.write_text(export_agency(db, "benefits"), encoding="utf-8")
    agencies, faqs = read_import_file(path)
    assert agencies[0].id == "benefits"
    assert {f.id: f.answer for f in faqs} == answers(db)
    with pytest.raises(Forbidden):
        import_faqs(db, [], [changed], Editor("carol", edits=frozenset({"revenue"})), True)


def test_grants_come_from_the_database_and_admins_may_do_everything(db: Database) -> None:
    with db.session() as session:
        session.add_all(
            [
                Agent(username="erin", display_name="E", password_hash="x", role="agent"),
                Agent(username="root", display_name="R", password_hash="x", role="admin"),
            ]
        )
        session.commit()
        erin = session.scalar(select(Agent).where(Agent.username == "erin"))
        root = session.scalar(select(Agent).where(Agent.username == "root"))
    assert erin is not None and root is not None
    grant(db, erin, "benefits", may_review=False)
    rights = editor_of(db, erin)
    assert rights.may_edit("benefits") and not rights.may_review("benefits")
    assert not rights.may_edit("revenue")
    assert editor_of(db, root).may_review("revenue")


def test_seed_publishes_the_folder_once_and_stale_lists_old_reviews(db: Database) -> None:
    folder = Path(__file__).resolve().parents[2] / "data" / "faqs"
    assert seed(db, folder) is True
    assert seed(db, folder) is False
    count = len(published_bank(db)[1].faqs)
    assert count >= 100
    assert len(stale(db, dt.date(2100, 1, 1))) == count
    assert stale(db, dt.date(2000, 1, 1)) == []


def test_an_agency_file_with_a_bad_record_is_refused_whole(db: Database, tmp_path: Path) -> None:
    doc = {
        "agency": {"id": "x", "name": {"en": "X"}},
        "faqs": [
            {"id": "x-1", "language": "en", "question": "Q?", "answer": "A."},
            {"id": "x-2", "language": "de", "question": "Q?", "answer": "A."},
        ],
    }
    path = tmp_path / "x.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="unknown language"):
        read_import_file(path)


def _fields(faq: Faq) -> dict[str, object]:
    return {name: getattr(faq, name) for name in Faq.__slots__}


def test_owners_get_one_weekly_reminder_of_their_stale_faqs(
    db: Database, studio: Studio, clock: Clock
) -> None:
    from aiosmtpd.controller import Controller

    from bot.settings import Settings
    from bot.studio.reminders import send_reminders
    from tests.integration.test_alerts import SmtpRecorder, free_port

    with db.session() as session:
        session.add(
            Agent(username="alice", display_name="A", password_hash="x", email="alice@example.org")
        )
        session.commit()
    with db.session() as session:
        session.get(KbFaq, FAQ.id).owner = "alice"  # type: ignore[union-attr]
        session.commit()
    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=controller.port, stale_after_days=30)
        assert send_reminders(db, settings, clock) == 1
        assert send_reminders(db, settings, clock) == 0  # once a week, whoever asks
        clock.now = T0 + dt.timedelta(days=8)
        assert send_reminders(db, settings, clock) == 1
    finally:
        controller.stop()
    _, to, message = recorder.envelopes[0]
    assert to == ["alice@example.org"]
    assert FAQ.id in message.get_payload() and "1 FAQs to review" in message["Subject"]


def test_replicas_seeding_at_once_seed_once(db: Database) -> None:
    from concurrent.futures import ThreadPoolExecutor

    database = db
    folder = Path(__file__).resolve().parents[2] / "data" / "faqs"
    with ThreadPoolExecutor(4) as pool:
        seeded = list(pool.map(lambda _: seed(database, folder), range(4)))
    assert seeded.count(True) >= 1
    assert len(published_bank(database)[1].faqs) >= 100


def test_a_citizens_question_attached_as_a_phrasing_is_redacted_and_waits_for_review(
    db: Database, studio: Studio
) -> None:
    version = studio.add_phrasing(ALICE, FAQ.id, "my name is Robert Tremblay, when are you open")
    with db.session() as session:
        row = session.get(KbFaqVersion, (FAQ.id, version))
        assert row is not None and row.review == "in_review"
        assert "Tremblay" not in " ".join(row.alternatives)
    assert answers(db)[FAQ.id] == FAQ.answer
    with pytest.raises(StudioError, match="already has"):
        studio.add_phrasing(ALICE, FAQ.id, FAQ.question)


def test_unanswered_questions_near_an_faq_are_suggested_until_accepted_or_dismissed(
    db: Database, studio: Studio
) -> None:
    import numpy as np

    from bot.storage.models import GapCluster, Turn
    from bot.studio.suggestions import suggested_phrasings

    near, far = np.zeros(384, np.float32), np.zeros(384, np.float32)
    near[0], far[1] = 1.0, 1.0
    with db.session() as session:
        for number, (label, vector) in enumerate((("opening hours?", near), ("parking?", far))):
            session.add(
                GapCluster(
                    id=number + 1,
                    label=label,
                    language="en",
                    size=2,
                    centroid=vector.tobytes(),
                    created_at=T0,
                    last_seen_at=T0,
                )
            )
        for number, (text, cluster) in enumerate(
            [
                ("what time do you open", 1),
                ("are you open saturday", 1),
                ("where to park", 2),
                (FAQ.question, 1),
            ]
        ):
            session.add(
                Turn(
                    conversation_id=f"c{number}",
                    channel="sms",
                    outcome="no_answer",
                    question=text,
                    cluster_id=cluster,
                    at=T0,
                    language="en",
                )
            )
        session.commit()

    def embed(texts: list[str]) -> np.ndarray:  # the FAQ's question sits on the first group
        return np.stack([near for _ in texts])

    groups = suggested_phrasings(db, embed, ALICE, FAQ.id)
    assert [g["gap_id"] for g in groups] == [1]
    assert sorted(groups[0]["questions"]) == ["are you open saturday", "what time do you open"]
    studio.add_phrasing(ALICE, FAQ.id, "what time do you open")
    studio.dismiss_phrasing(ALICE, FAQ.id, "Are you open  Saturday")
    assert suggested_phrasings(db, embed, ALICE, FAQ.id) == []
    with pytest.raises(Forbidden):
        suggested_phrasings(db, embed, CAROL, FAQ.id)
