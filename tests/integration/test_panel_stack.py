"""The citizen panel through the whole stack over SMS, against fake Twilio: consent and profile by
text, a survey written and sent with the CLI, the invitation to members only (not to a citizen who
never agreed, nor to one who texted STOP), answers one question at a time, a pause in which the
bot answers as usual, the survey resumed where it stopped, free text stored redacted, results
suppressed under 10 respondents, and LEAVE PANEL deleting the member's profile and answers."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.storage.db import Database
from bot.storage.models import PanelAnswer, PanelMember, PanelTally
from tests.conftest import RunningStack
from tests.support.channels import phone, sms, texts_to
from tests.support.console import add_agent
from tests.support.waiting import cli, until

pytestmark = pytest.mark.stack

SURVEY = """
title: Licence renewal {tag}
intro_en: two questions about renewing your licence
intro_fr: deux questions sur le renouvellement de votre permis
questions:
  - key: how
    kind: single
    en: How did you renew your licence?
    fr: Comment avez-vous renouvelé votre permis?
    options:
      - {{key: online, en: Online, fr: En ligne}}
      - {{key: office, en: At an office, fr: Au bureau}}
  - key: better
    kind: text
    en: What should we do better?
    fr: Que devrions-nous améliorer?
"""


def bodies(stack: RunningStack, number: str) -> list[str]:
    return [r.body["Body"] for r in texts_to(stack, number)()]


def text_and_wait(stack: RunningStack, number: str, body: str, expect: str) -> str:
    """Text `body`; the first reply after it that holds `expect`."""
    before = len(bodies(stack, number))
    assert sms(stack, number, body).status_code == 200
    found = until(lambda: [b for b in bodies(stack, number)[before:] if expect in b])
    assert found, f"no reply with {expect!r} to {body!r}: {bodies(stack, number)[before:]}"
    return str(found[0])


def test_a_survey_by_sms_with_consent_a_pause_a_resume_and_leaving(
    stack: RunningStack, tmp_path: Path
) -> None:
    if stack.settings is None:
        pytest.skip("needs the test stack's own database")
    member, stranger, stopped = phone(), phone(), phone()
    consent = text_and_wait(stack, member, "PANEL", "AGREE")
    assert "10" in consent and "LEAVE PANEL" in consent
    text_and_wait(stack, member, "AGREE", "Where do you live?")
    text_and_wait(stack, member, "1", "Your age?")
    text_and_wait(stack, member, "SKIP", "We will write here when a survey opens")
    text_and_wait(stack, stranger, "PANEL", "AGREE")  # shown the consent, never agrees
    text_and_wait(stack, stopped, "PANEL CITOYEN", "ACCEPTE")
    text_and_wait(stack, stopped, "ACCEPTE", "Où habitez-vous?")
    text_and_wait(stack, stopped, "PLUS TARD", "QUITTER PANEL")
    text_and_wait(stack, stopped, "STOP", "START")  # the opt-out's confirmation

    lead = f"lead-{uuid.uuid4().hex[:6]}"
    add_agent(stack.settings.database_url, lead, "supervisor")
    survey_file = tmp_path / "survey.yml"
    survey_file.write_text(SURVEY.format(tag=uuid.uuid4().hex[:6]), encoding="utf-8")
    added = cli(stack, "panel", "survey", "add", str(survey_file), "--by", lead)
    assert added.returncode == 0, added.stderr
    refused = cli(stack, "panel", "survey", "add", str(survey_file), "--by", "nobody")
    assert refused.returncode != 0 and "not an active supervisor" in refused.stderr
    wave = cli(stack, "panel", "wave", "create", "--survey", added.stdout.strip(), "--by", lead)
    assert wave.returncode == 0, wave.stderr
    wave_id = wave.stdout.strip()

    invitation = until(
        lambda: [b for b in bodies(stack, member) if "How did you renew your licence?" in b]
    )
    assert invitation and "two questions about renewing" in invitation[0]
    assert "1. Online" in invitation[0] and "2. At an office" in invitation[0]
    stranger_texts, stopped_texts = bodies(stack, stranger), bodies(stack, stopped)

    # A reply that is no choice is asked again (the bot never sees it).
    text_and_wait(stack, member, "maybe", "did not get that answer")
    text_and_wait(stack, member, "2", "What should we do better?")
    # A pause: the bot answers questions as usual...
    text_and_wait(stack, member, "LATER", "SURVEY")
    answer = text_and_wait(stack, member, "How do I renew my driver's licence?", "licen")
    assert "What should we do better?" not in answer
    # ... and SURVEY asks the question where it stopped.
    text_and_wait(stack, member, "SURVEY", "What should we do better?")
    text_and_wait(
        stack, member, "Open longer hours. Call me at 514-555-0142 if needed", "Thank you"
    )

    db = Database(stack.settings.database_url)
    try:
        with db.session() as session:
            me = session.scalar(select(PanelMember).where(PanelMember.address == member))
            assert me is not None and me.area == "montreal" and me.age_band is None
            stored = session.scalars(
                select(PanelAnswer.text).where(
                    PanelAnswer.wave_id == int(wave_id), PanelAnswer.text.is_not(None)
                )
            ).all()
            assert stored == ["Open longer hours. Call me at [phone] if needed"]
        # Nobody outside the panel, nor anyone opted out, was asked anything.
        assert bodies(stack, stranger) == stranger_texts and bodies(stack, stopped) == stopped_texts
        assert not any("renew your licence" in b for b in stranger_texts + stopped_texts)

        shown = cli(stack, "panel", "wave", "results", wave_id)
        assert shown.returncode == 0, shown.stderr
        results = json.loads(shown.stdout)
        assert results["min_group"] == 10
        assert all(q["suppressed"] and q["respondents"] is None for q in results["questions"])
        assert results["questions"][1]["texts"] == []  # no free text under 10 respondents
        as_csv = cli(stack, "panel", "wave", "results", wave_id, "--csv")
        assert as_csv.returncode == 0 and "[phone]" not in as_csv.stdout
        assert "514-555-0142" not in shown.stdout + as_csv.stdout

        text_and_wait(stack, member, "LEAVE PANEL", "deleted")
        with db.session() as session:
            assert session.scalar(select(PanelMember).where(PanelMember.address == member)) is None
            assert (
                session.scalar(
                    select(func.count())
                    .select_from(PanelAnswer)
                    .where(PanelAnswer.wave_id == int(wave_id))
                )
                == 0
            )
            kept = session.scalar(
                select(PanelTally.count).where(
                    PanelTally.wave_id == int(wave_id),
                    PanelTally.question == "how",
                    PanelTally.dimension == "all",
                    PanelTally.choice == "office",
                )
            )
            assert kept == 1  # the aggregate stays
    finally:
        db.engine.dispose()
