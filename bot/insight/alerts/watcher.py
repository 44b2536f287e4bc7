"""The alerts in the running app: a detection and delivery pass every few seconds."""

from __future__ import annotations

import asyncio
import logging

from bot.clock import Clock, system_clock
from bot.insight.alerts.delivery import deliver
from bot.insight.alerts.detection import detect
from bot.insight.alerts.message import one_line
from bot.insight.alerts.rule import Baselines
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Alert

log = logging.getLogger(__name__)


class AlertWatcher:
    """Runs detection and delivery every `settings.insight_interval_s` in the app (one per replica;
    the replicas do not get in each other's way)."""

    def __init__(self, db: Database, settings: Settings, clock: Clock = system_clock) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._baselines = Baselines()

    def run_once(self) -> list[Alert]:
        """One pass (blocking): detect, then deliver what opened and retry what is due."""
        opened = detect(self._db, self._settings, now=self._clock(), baselines=self._baselines)
        for alert in opened:
            log.warning(
                "emerging issue #%s %s (%s): %d in the last %s, usually %.1f",
                alert.id,
                alert.group_key,
                one_line(alert.label, 80),
                alert.count,
                alert.window,
                alert.expected,
            )
        deliver(self._db, self._settings, opened, now=self._clock())
        return opened

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop` is set; a failing pass is logged and the next one tries
        again."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("emerging-issue pass failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._settings.insight_interval_s)
            except TimeoutError:
                pass
