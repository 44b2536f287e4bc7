"""The conversation worker: one turn at a time per conversation, in arrival order, never dropping a message.

When the engine is down, the citizen is told once that the service is briefly unavailable; the message
stays pending and the retry loop answers it as soon as the engine is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from bot.engine.client import DialogueEngine, EngineUnavailable
from bot.inbox.hub import LiveHub
from bot.inbox.store import Inbox, TranscriptEntry
from bot.language import LanguageDetector
from bot.messages import say

log = logging.getLogger(__name__)


class ConversationWorker:
    """Drains each conversation's pending messages through the engine, in order."""

    def __init__(
        self, inbox: Inbox, engine: DialogueEngine, hub: LiveHub, detector: LanguageDetector,
        max_attempts: int = 100,
    ) -> None:
        self._inbox = inbox
        self._engine = engine
        self._hub = hub
        self._detector = detector
        self._max_attempts = max_attempts
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def _publish(self, conversation_id: str, entries: list[TranscriptEntry]) -> None:
        for entry in entries:
            self._hub.publish(conversation_id, {"type": "message", **entry.as_json()})

    async def drain(self, conversation_id: str) -> bool:
        """Process every pending message of the conversation; False if the engine stopped us."""
        async with self._locks[conversation_id]:
            for message in self._inbox.pending(conversation_id):
                self._hub.publish(conversation_id, {"type": "typing", "on": True})
                try:
                    replies = await self._engine.turn(conversation_id, message.text, {"message_id": message.id})
                except EngineUnavailable as exc:
                    log.warning("engine unavailable for message %s: %s", message.id, exc)
                    attempts = self._inbox.fail(message.id, str(exc), self._max_attempts)
                    if attempts == 1:
                        language = self._detector.detect(message.text).language
                        notice = self._inbox.add_notice(
                            conversation_id, message.id, say("engine_unavailable", language if language != "other" else None)
                        )
                        self._publish(conversation_id, [notice])
                    self._hub.publish(conversation_id, {"type": "typing", "on": False})
                    return False
                self._publish(conversation_id, self._inbox.complete(message.id, replies))
                self._hub.publish(conversation_id, {"type": "typing", "on": False})
            return True

    async def retry_pending(self) -> int:
        """One pass over every conversation with waiting messages; returns how many were drained."""
        drained = 0
        for conversation_id in self._inbox.conversations_with_pending():
            if not await self.drain(conversation_id):
                break  # the engine is still down: try again next pass
            drained += 1
        return drained

    async def run_retry_loop(self, interval_s: float, stop: asyncio.Event) -> None:
        """Retry waiting messages every `interval_s` until `stop` is set."""
        while not stop.is_set():
            try:
                await self.retry_pending()
            except Exception:  # keep the loop alive; the next pass retries
                log.exception("retry pass failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except TimeoutError:
                pass
