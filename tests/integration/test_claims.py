"""The misinformation register on SQLite and PostgreSQL: a false claim from an alert, its
correction (a published FAQ) and the broadcast that spread it, the hours between, on the
dashboard and in the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.handoff.agents import Agents
from bot.handoff.config import ContactCentreConfig
from bot.insight.dashboard import Filters, compute
from bot.knowledge.bank import FaqBank
from bot.knowledge.faq import Agency
from bot.outreach.broadcasts import Broadcasts
from bot.outreach.claims import Claims
from bot.outreach.topics import OutreachError
from bot.settings import Settings, get_settings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import Alert, KbAgency, KbFaq, KbFaqVersion

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple 42"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def seed(db: Database) -> int:
    """An alert at T0, a correcting FAQ published at T0 + 2 h, a draft FAQ; the alert's id."""
    with db.session() as session:
        alert = Alert(
            at=T0, group_key="gap:4", label="Is the water poisoned?", window="hour", count=12,
            expected=0.5, examples=[],
        )  # fmt: skip
        session.add(alert)
        session.add(KbAgency(id="health", name={"en": "Health"}, phone="", url="", hours={},
                             demo=False, second_reviewer=True))  # fmt: skip
        session.flush()
        for faq_id, state, live in (("water-safe", "published", 1), ("water-draft", "draft", None)):
            session.add(KbFaq(id=faq_id, agency_id="health", language="en", state=state,
                              live_version=live, head_version=1))  # fmt: skip
            session.flush()
            session.add(
                KbFaqVersion(
                    faq_id=faq_id, number=1, question="Is tap water safe?", answer="Yes.",
                    author="ed", created_at=T0 + dt.timedelta(hours=1), review="approved",
                    reviewed_by="rev", reviewed_at=T0 + dt.timedelta(hours=2),
                )
            )  # fmt: skip
        session.commit()
        return alert.id


def test_a_claim_from_alert_to_correction_to_broadcast(db: Database) -> None:
    clock, audit = Clock(), AuditLog(db)
    alert_id = seed(db)
    agents = Agents(db, audit)
    agents.add("maker", PASSWORD, "supervisor")
    agents.add("checker", PASSWORD, "supervisor")
    claims, broadcasts = Claims(db, audit, clock), Broadcasts(db, audit, clock)

    with pytest.raises(OutreachError, match="no alert"):
        claims.add("The water is poisoned", "maker", alert_id=alert_id + 99)
    with pytest.raises(OutreachError, match="1-500"):
        claims.add("   ", "maker")
    clock.now = T0 + dt.timedelta(minutes=30)
    claim_id = claims.add("The  water is\npoisoned", "maker", "health", alert_id)
    with pytest.raises(OutreachError, match="not published"):
        claims.correct(claim_id, "water-draft", "maker")
    assert claims.correct(claim_id, "water-safe", "maker") == T0 + dt.timedelta(hours=2)

    broadcast_id = broadcasts.create("general", "Tap water is safe.", None, True, "maker")
    with pytest.raises(OutreachError, match="not approved"):
        claims.spread(claim_id, broadcast_id, "maker")
    clock.now = T0 + dt.timedelta(hours=3, minutes=30)
    broadcasts.approve(broadcast_id, "checker")
    claims.spread(claim_id, broadcast_id, "maker")

    [row] = claims.timeline()
    assert row["claim"] == "The water is poisoned"
    assert (row["hours_to_correction"], row["hours_to_broadcast"], row["hours_in_all"]) == (
        2.0,
        1.5,
        3.5,
    )

    bank = FaqBank({"health": Agency("health", {"en": "Health"})}, ())
    filters = Filters.parse({"from": "2026-11-30", "to": "2026-12-02"}, agencies=bank.agencies)
    config = ContactCentreConfig.model_validate(
        {
            "default_queue": "general",
            "queues": [{"id": "general", "name": {"en": "General"}}],
            "dispositions": [{"code": "answered", "label": "Answered"}],
        }
    )
    data = compute(db, bank, config, Settings(), filters, now=T0)
    table = data["tables"]["claims"]
    assert table["rows"] == [
        [
            "2026-12-01T09:00:00+00:00",
            "The water is poisoned",
            "health",
            "water-safe",
            2.0,
            f"#{broadcast_id}",
            1.5,
            3.5,
        ]
    ]


def test_claims_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        db = Database(url)
        db.create_schema()
        seed(db)
        runner = CliRunner()
        added = runner.invoke(cli, ["claims", "add", "--text", "Fake cure", "--by", "lead"])
        assert added.exit_code == 0, added.output
        claim_id = added.output.strip()
        refused = runner.invoke(cli, ["claims", "correct", claim_id, "--faq", "nope", "--by", "x"])
        assert refused.exit_code == 1 and "not published" in refused.output
        fixed = runner.invoke(cli, ["claims", "correct", claim_id, "--faq", "water-safe",
                                    "--by", "lead"])  # fmt: skip
        assert fixed.exit_code == 0, fixed.output
        listed = runner.invoke(cli, ["claims", "list", "--json"])
        [row] = json.loads(listed.output)
        assert row["faq_id"] == "water-safe" and row["broadcast_id"] is None
    finally:
        get_settings.cache_clear()
