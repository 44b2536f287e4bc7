"""Scrubbing SQLite files, so that deleted or overwritten rows cannot be read back from them.

On SQLite a deleted or overwritten row can live on in the file (free space inside pages, free pages,
the write-ahead log). Processed citizen messages are UPDATEd from raw to redacted text, so the raw
text is such a leftover. `scrub` makes the files hold only live rows: with `secure_delete` on in
every connection since the rows were written, a checkpoint that truncates the WAL is enough;
otherwise (SQLite builds where it is off by default) the database is VACUUMed first. On PostgreSQL
dead tuples are reclaimed by (auto)vacuum and WAL recycling on the server: nothing to do from here.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from bot.privacy.tracker_store import tracker_path
from bot.settings import Settings
from bot.storage.db import Database

# The logger of the module these functions came from: log configuration that names it still works.
log = logging.getLogger("bot.privacy.retention")


def is_sqlite(db: Database) -> bool:
    """Whether `db` is SQLite (the embedded default), not a server database."""
    return db.engine.dialect.name == "sqlite"


def _sqlite_path(db: Database) -> Path | None:
    database = db.engine.url.database
    return Path(database) if is_sqlite(db) and database and database != ":memory:" else None


def secure_delete_at_connect(db: Database) -> bool:
    """Whether a new connection of `db` has `secure_delete` on (set at connect, or the build's
    default): then deleted and overwritten rows are zeroed in place, and no VACUUM is needed."""
    if not is_sqlite(db):
        return False
    # A fresh connection with the same connect-time pragmas, not a pooled one.
    pool = db.engine.pool.recreate()
    try:
        connection = pool.connect()
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA secure_delete")
            value = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()
    finally:
        pool.dispose()
    return bool(value and value[0])


def scrub_sqlite_file(path: Path, vacuum: bool, attempts: int = 5) -> dict[str, Any]:
    """Leave in `path` (and its -wal) only live rows: optionally VACUUM (rewrites every page from
    live rows), then checkpoint the WAL into the database and truncate it. Returns what was done."""
    done: dict[str, Any] = {"file": str(path), "vacuumed": False, "wal_truncated": False}
    if not path.exists():
        return done
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA secure_delete=ON")
        if vacuum:
            connection.execute("VACUUM")
            done["vacuumed"] = True
        for attempt in range(attempts):
            # (busy, WAL frames, frames checkpointed); busy=1 while another connection reads an
            # old snapshot
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                done["wal_truncated"] = True
                break
            time.sleep(0.2 * (attempt + 1))
    finally:
        connection.close()
    if not done["wal_truncated"]:
        log.warning("could not truncate the write-ahead log of %s: readers kept it busy", path)
    return done


def scrub(
    db: Database, settings: Settings | None = None, vacuum: bool | None = None
) -> list[dict[str, Any]]:
    """Make deleted and overwritten rows unrecoverable from the SQLite files: the app's database
    and, with `settings`, Rasa's SQLite tracker store. Returns what was done per file.

    `vacuum=None` decides: the app database is VACUUMed unless its connections have
    `secure_delete` on (then truncating the WAL is enough); the tracker store, where Rasa only
    appends and deletes come from here with `secure_delete` on, only when asked. Nothing to do on
    PostgreSQL.
    """
    done: list[dict[str, Any]] = []
    path = _sqlite_path(db)
    if path is None:
        return done
    app_vacuum = (not secure_delete_at_connect(db)) if vacuum is None else vacuum
    done.append(scrub_sqlite_file(path, app_vacuum))
    if settings is not None:
        done.append(scrub_sqlite_file(tracker_path(settings), bool(vacuum)))
    return done
