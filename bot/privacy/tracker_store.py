"""Rasa's tracker store: deleting events of past sessions, or of one citizen.

On the embedded default Rasa keeps its own SQLite file (bot/stack.py); on a server database its
`events` table sits in the app's database and is deleted from in the caller's transaction.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.storage.db import rowcount

TRACKER_FILE = "rasa-tracker.db"  # Rasa's SQL tracker store on the embedded default (bot/stack.py)
TRACKER_TABLE = "events"  # rasa.core.tracker_store.SQLTrackerStore.SQLEvent

# Events of past sessions only: Rasa finds the new events of a tracker by counting those since its
# latest session start, so the current session must stay whole. A tracker with nothing since the
# cutoff goes entirely.
PURGE_EVENTS = (
    f"DELETE FROM {TRACKER_TABLE} WHERE timestamp < :before AND ("
    f" timestamp < (SELECT MAX(s.timestamp) FROM {TRACKER_TABLE} s"
    f"  WHERE s.sender_id = {TRACKER_TABLE}.sender_id AND s.type_name = 'session_started')"
    f" OR NOT EXISTS (SELECT 1 FROM {TRACKER_TABLE} r"
    f"  WHERE r.sender_id = {TRACKER_TABLE}.sender_id AND r.timestamp >= :before))"
)
ERASE_EVENTS = f"DELETE FROM {TRACKER_TABLE} WHERE sender_id = :sender"


def tracker_path(settings: Settings) -> Path:
    """Rasa's SQLite tracker store on the embedded default."""
    return settings.var_dir / TRACKER_FILE


def server_tracker_delete(session: Session, statement: str, params: dict[str, Any]) -> int:
    """Delete tracker events in the app's own (server) database, in the caller's transaction."""
    inspector = inspect(session.connection())
    if not inspector.has_table(TRACKER_TABLE):
        return 0
    columns = {c["name"] for c in inspector.get_columns(TRACKER_TABLE)}
    if not {"sender_id", "timestamp", "type_name"} <= columns:
        return 0  # some other table called "events": not Rasa's
    return rowcount(session.execute(text(statement), params))


def sqlite_tracker_delete(path: Path, statement: str, params: dict[str, Any]) -> int:
    """Delete tracker events in Rasa's SQLite file (if Rasa has made it), zeroing what is
    deleted."""
    if not path.exists():
        return 0
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA secure_delete=ON")
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (TRACKER_TABLE,)
        )
        if found.fetchone() is None:
            return 0
        connection.execute("BEGIN IMMEDIATE")
        try:
            count = connection.execute(statement, params).rowcount
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return max(count, 0)
    finally:
        connection.close()
