"""Retention and erasure of citizens' data, in the app's database and in Rasa's tracker store.

The public face of the pieces, each in its own module:

- `purge` (bot/privacy/purge.py): what is older than RETENTION_DAYS goes, after its counts are
  added to `daily_counts` (bot/privacy/daily_counts.py); opt-outs and the audit log stay.
- `erase` (bot/privacy/erasure.py): one citizen, from every app table and Rasa's tracker store.
- `scrub` (bot/privacy/sqlite_scrub.py): deleted and overwritten rows made unreadable in the
  SQLite files.
- `run_purges` (bot/privacy/schedule.py): the app's purge loop.

Rows to delete are chosen in bot/privacy/doomed.py and deleted in bot/privacy/deletion.py; Rasa's
tracker store is handled in bot/privacy/tracker_store.py. Blocking calls: run them in a thread
(`run_purges` does).
"""

from __future__ import annotations

from bot.privacy.deletion import PURGE_LOCK, TABLES
from bot.privacy.doomed import CHUNK
from bot.privacy.erasure import erase
from bot.privacy.purge import ACTIVE_HANDOFF, cutoff, purge
from bot.privacy.schedule import FIRST_PURGE_AFTER_S, describe, run_purges
from bot.privacy.sqlite_scrub import scrub, scrub_sqlite_file, secure_delete_at_connect
from bot.privacy.tracker_store import TRACKER_FILE, TRACKER_TABLE, tracker_path

__all__ = [
    "ACTIVE_HANDOFF",
    "CHUNK",
    "FIRST_PURGE_AFTER_S",
    "PURGE_LOCK",
    "TABLES",
    "TRACKER_FILE",
    "TRACKER_TABLE",
    "cutoff",
    "describe",
    "erase",
    "purge",
    "run_purges",
    "scrub",
    "scrub_sqlite_file",
    "secure_delete_at_connect",
    "tracker_path",
]
