"""`govbot inbox dead` lists what failed for good; `govbot inbox retry ID` puts it back in line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.inbox.outbox import Outbox
from bot.inbox.store import Inbox
from bot.settings import get_settings
from bot.storage.db import Database


def test_dead_letters_are_listed_and_replayed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        db = Database(url)
        db.create_schema()
        inbox = Inbox(db)
        received = inbox.receive(
            "sms", "+15145550111", "SM1", "a message the engine keeps failing on"
        )
        inbox.fail(received.inbound_id, "engine answered 500", max_attempts=1)
        runner = CliRunner()
        listed = runner.invoke(app, ["inbox", "dead"])
        assert listed.exit_code == 0
        assert (
            f"in-{received.inbound_id}" in listed.output and "engine answered 500" in listed.output
        )
        retried = runner.invoke(app, ["inbox", "retry", f"in-{received.inbound_id}"])
        assert retried.exit_code == 0
        assert [m.id for m in inbox.pending(received.conversation_id)] == [received.inbound_id]
        assert Outbox(db, "t").dead() == []
        again = runner.invoke(app, ["inbox", "retry", f"in-{received.inbound_id}"])
        assert again.exit_code == 1 and "not a dead message" in again.output
        assert runner.invoke(app, ["inbox", "retry", "bogus"]).exit_code == 1
    finally:
        get_settings.cache_clear()
