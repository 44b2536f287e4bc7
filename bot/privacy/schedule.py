"""The purge loop of the app: `purge` every PURGE_INTERVAL_S, in a thread, until stopped."""

from __future__ import annotations

import asyncio
import logging

from bot.clock import Clock, system_clock
from bot.privacy.purge import purge
from bot.settings import Settings
from bot.storage.db import Database

# The logger of the module the loop came from: log configuration that names it still works.
log = logging.getLogger("bot.privacy.retention")

FIRST_PURGE_AFTER_S = 60.0


def describe(removed: dict[str, int]) -> str:
    """A one-line account of what was removed, e.g. "conversations=2 inbound_messages=7 ..."."""
    return " ".join(f"{table}={count}" for table, count in removed.items())


async def run_purges(
    settings: Settings, db: Database, stop: asyncio.Event, clock: Clock = system_clock
) -> None:
    """Purge every PURGE_INTERVAL_S (the first a minute after start, or sooner with a shorter
    interval) until `stop` is set; what was removed is logged, failures are retried next time."""
    delay = min(FIRST_PURGE_AFTER_S, settings.purge_interval_s)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
            return
        except TimeoutError:
            pass
        delay = settings.purge_interval_s
        try:
            removed = await asyncio.to_thread(purge, db, settings, clock())
        except Exception:  # the app must keep running; the next run retries
            log.exception("privacy purge failed")
            continue
        log.info(
            "privacy purge (older than %d days): %s", settings.retention_days, describe(removed)
        )
