"""Waiting for something the stack does in the background, and running `govbot` against the
stack's database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.conftest import RunningStack

ROOT = Path(__file__).resolve().parents[2]


def until(check: Callable[[], Any], timeout_s: float = 60, every_s: float = 0.3) -> Any:
    """Poll `check` until it returns something truthy; that value (or the last falsy one)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every_s)


def settled(database_url: str, conversation_id: str, timeout_s: float = 120) -> bool:
    """Wait until a conversation has nothing left to do: every message of it processed and no reply
    still waiting to be sent (then "nothing more arrived" is a fact, not a guess about timing)."""
    from sqlalchemy import create_engine, func, select

    from bot.storage.models import InboundMessage, OutboundMessage

    engine = create_engine(database_url)

    def busy() -> int:
        with engine.connect() as conn:
            pending_in = conn.execute(
                select(func.count())
                .select_from(InboundMessage)
                .where(
                    InboundMessage.conversation_id == conversation_id,
                    InboundMessage.status == "pending",
                )
            ).scalar_one()
            pending_out = conn.execute(
                select(func.count())
                .select_from(OutboundMessage)
                .where(
                    OutboundMessage.conversation_id == conversation_id,
                    OutboundMessage.status == "pending",
                )
            ).scalar_one()
        return int(pending_in) + int(pending_out)

    try:
        return bool(until(lambda: busy() == 0 or None, timeout_s))
    finally:
        engine.dispose()


def cli(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    """`govbot ARGS` on the stack's database and FAQ directory."""
    assert stack.settings is not None
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        check=False,
        text=True,
        capture_output=True,
        env={
            **os.environ,
            "DATABASE_URL": stack.settings.database_url,
            "FAQ_DIR": str(stack.settings.faq_dir),
        },
        cwd=ROOT,
        timeout=120,
    )
