"""The knowledge citizens get, kept live: each replica watches the revision of the published
bank and, when it moves, rebuilds its index from the database (re-encoding only what changed)
and swaps it in. No restart, and the Rasa model is not retrained for FAQ content."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from bot.clock import Clock, system_clock
from bot.knowledge.service import KnowledgeBase
from bot.settings import Settings
from bot.storage.db import Database
from bot.studio.catalogue import published_bank, revision, seed
from bot.studio.store import Studio

log = logging.getLogger(__name__)


class LiveKnowledge:
    """The current knowledge base of this replica and the revision it was built from."""

    def __init__(self, db: Database, settings: Settings, clock: Clock = system_clock) -> None:
        self._db = db
        self._settings = settings
        self._studio = Studio(db, clock)
        self._lock = threading.Lock()  # one rebuild at a time
        self.current: KnowledgeBase | None = None
        self.revision = -1

    def load(self) -> KnowledgeBase:
        """At start: publish the FAQ folder if the database has no FAQs yet (the first start),
        then open the index of the published bank. Once loaded it returns at once, also while a
        rebuild runs: questions are answered from the previous revision until the new one is
        swapped in."""
        current = self.current
        if current is not None:
            return current
        with self._lock:
            if self.current is None:
                if seed(self._db, self._settings.faq_dir):
                    log.info("knowledge base seeded from %s", self._settings.faq_dir)
                number, bank = published_bank(self._db)
                self.current = KnowledgeBase.open(bank, self._settings.index_dir, self._settings)
                self.revision = number
            return self.current

    def refresh(self) -> bool:
        """Apply what is due (scheduled publishes, expiries), and rebuild if the published bank
        moved since this replica loaded it; True if it did."""
        self._studio.apply_due()
        if self.current is None or revision(self._db) == self.revision:
            return False
        with self._lock:
            number, bank = published_bank(self._db)
            if number == self.revision or not bank.faqs:
                if not bank.faqs:
                    log.warning(
                        "no FAQ is published: the bot keeps answering from revision %d",
                        self.revision,
                    )
                return False
            started = time.perf_counter()
            self.current = self.current.updated(bank, self._settings.index_dir, self._settings)
            self.revision = number
        log.info(
            "knowledge revision %d live: %d FAQs in %.2f s",
            number,
            len(bank.faqs),
            time.perf_counter() - started,
        )
        return True

    async def run(self, interval_s: float, stop: asyncio.Event) -> None:
        """Check every `interval_s` until `stop`; a failed check is logged and tried again."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
                return
            except TimeoutError:
                pass
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:
                log.exception("knowledge refresh failed")
