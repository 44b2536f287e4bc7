"""The conversation worker: one turn at a time per conversation, in arrival order, never dropping a message.

Across replicas, a conversation's turns are taken by whoever holds its lease (a row-level compare-and-set
on `conversations`, so SQLite and PostgreSQL behave alike); a crashed replica's lease expires and another
picks its messages up. When the engine is down, the citizen is told once that the service is briefly
unavailable; the message stays pending and a later pass answers it as soon as the engine is back.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable

from bot.engine.client import BotMessage, DialogueEngine, EngineUnavailable
from bot.failpoints import failpoint
from bot.handoff.centre import ContactCentre
from bot.inbox.hub import LiveHub
from bot.inbox.policy import SMS_CHANNELS, OptOuts, keyword
from bot.inbox.store import Inbox, TranscriptEntry
from bot.insight.recorder import Insight
from bot.language import LanguageDetector
from bot.messages import say
from bot.privacy.redact import redact
from bot.storage.models import InboundMessage

log = logging.getLogger(__name__)


class ConversationWorker:
    """Drains each conversation's pending messages through the engine, in order."""

    def __init__(
        self,
        inbox: Inbox,
        engine: DialogueEngine,
        hub: LiveHub,
        detector: LanguageDetector,
        opt_outs: OptOuts,
        max_attempts: int = 100,
        lease_s: float = 60.0,
        service_name: str = "",
        max_chars: int = 2000,
        on_replies: Callable[[], None] | None = None,
        owner: str | None = None,
        centre: ContactCentre | None = None,
        insight: Insight | None = None,
    ) -> None:
        self._inbox = inbox
        self._engine = engine
        self._hub = hub
        self._detector = detector
        self._opt_outs = opt_outs
        self._max_attempts = max_attempts
        self._lease_s = lease_s
        self._service_name = service_name
        self._max_chars = max_chars
        self._on_replies = on_replies or (lambda: None)
        self.owner = owner or uuid.uuid4().hex[:16]
        self._centre = centre
        self._insight = insight
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def _publish(self, conversation_id: str, entries: list[TranscriptEntry]) -> None:
        for entry in entries:
            self._hub.publish(conversation_id, {"type": "message", **entry.as_json()})
        if entries:
            self._on_replies()

    def _language(self, text: str) -> str | None:
        language = self._detector.detect(text).language
        return language if language in ("en", "fr") else None

    def _answer_locally(
        self, conversation_id: str, message: InboundMessage
    ) -> TranscriptEntry | None:
        """Answer without the bot what must not reach it: SMS keywords (STOP, START, HELP), empty or
        oversized messages from provider channels. The stored answer, or None. Blocking: run in a thread."""
        found = keyword(message.text) if message.channel in SMS_CHANNELS else None
        if found is not None:
            word, language = found
            address = conversation_id.split(":", 1)[1]
            if word in ("stop", "start"):
                self._opt_outs.set(message.channel, address, word == "stop")
            reply, kind = say(f"sms_{word}", language, service=self._service_name), "compliance"
        elif not message.text.strip():
            reply, kind = say("empty_message", None), "notice"
        elif len(message.text) > self._max_chars:
            reply, kind = (
                say("too_long", self._language(message.text[:500]), limit=self._max_chars),
                "notice",
            )
        else:
            return None
        return self._inbox.add_notice(conversation_id, message.id, reply, kind=kind, done=True)

    async def drain(self, conversation_id: str) -> bool:
        """Process every pending message of the conversation; False if the engine stopped us."""
        async with self._locks[conversation_id]:
            if not await asyncio.to_thread(
                self._inbox.acquire, conversation_id, self.owner, self._lease_s
            ):
                return True  # another replica is taking this conversation's turns; it will see ours too
            try:
                return await self._drain_leased(conversation_id)
            finally:
                await asyncio.to_thread(self._inbox.release, conversation_id, self.owner)

    async def _drain_leased(self, conversation_id: str) -> bool:
        await failpoint("after_store")
        # Database calls run in threads: they block, and the loop also serves webhooks and sockets.
        while pending := await asyncio.to_thread(self._inbox.pending, conversation_id):
            for message in pending:
                await asyncio.to_thread(
                    self._inbox.acquire, conversation_id, self.owner, self._lease_s
                )
                engine_text = await self._for_the_bot(conversation_id, message)
                if engine_text is None:
                    continue
                self._hub.publish(conversation_id, {"type": "typing", "on": True})
                try:
                    replies = await self._engine.turn(
                        conversation_id, engine_text, {"message_id": message.id}
                    )
                except EngineUnavailable as exc:
                    log.warning("engine unavailable for message %s: %s", message.id, exc)
                    attempts = await asyncio.to_thread(
                        self._inbox.fail, message.id, str(exc), self._max_attempts
                    )
                    if attempts == 1:
                        notice = await asyncio.to_thread(
                            self._inbox.add_notice,
                            conversation_id,
                            message.id,
                            say("engine_unavailable", self._language(message.text)),
                        )
                        self._publish(conversation_id, [notice])
                    return False
                finally:
                    self._hub.publish(conversation_id, {"type": "typing", "on": False})
                await failpoint("after_engine")
                replies = await self._hand_off(conversation_id, message, replies)
                self._publish(
                    conversation_id,
                    await asyncio.to_thread(self._inbox.complete, message.id, replies),
                )
        return True

    async def _for_the_bot(self, conversation_id: str, message: InboundMessage) -> str | None:
        """What to send the bot for `message`, or None when it was handled here: SMS keywords and messages
        the bot cannot take, a conversation in the contact centre's hands (in line or with an agent: the bot
        never sees it), an answer to "did this help?"."""
        local = await asyncio.to_thread(self._answer_locally, conversation_id, message)
        if local is not None:
            self._publish(conversation_id, [local])
            if (
                self._centre is not None
                and message.channel in SMS_CHANNELS
                and (keyword(message.text) or ("",))[0] == "stop"
            ):
                await self._centre.opted_out(conversation_id)
            return None
        if self._centre is not None and await self._centre.intercept(conversation_id, message):
            return None
        # The bot sees no personal data: it needs none to answer from FAQs, and its tracker keeps text.
        engine_text = message.text if message.text.startswith("/") else redact(message.text)
        if self._insight is not None:
            answer = await asyncio.to_thread(self._insight.answer_feedback, message)
            if answer.handled:
                self._publish(
                    conversation_id,
                    [await asyncio.to_thread(self._thank, conversation_id, message)],
                )
                return None
            engine_text = answer.engine_text or engine_text
        return engine_text

    async def _hand_off(
        self, conversation_id: str, message: InboundMessage, replies: list[BotMessage]
    ) -> list[BotMessage]:
        """Carry out the actions' instructions to the app, then the replies to store: a hand-off (queued
        before the turn completes, idempotently, so a retried turn finds it; the contact centre's notice
        last) and the turn's analytics (with "did this help?" after an answer)."""
        instructions = [r.custom for r in replies if r.custom]
        replies = [r for r in replies if r.text or r.buttons]
        analytics = next(
            (i["analytics"] for i in instructions if isinstance(i.get("analytics"), dict)), None
        )
        if analytics is not None and self._insight is not None:
            replies = await asyncio.to_thread(self._record_turn, message, analytics, replies)
        requests = [i["handoff"] for i in instructions if isinstance(i.get("handoff"), dict)]
        if requests and self._centre is not None:
            replies += await self._centre.hand_off(conversation_id, message, requests[0])
        return replies

    def _record_turn(
        self, message: InboundMessage, analytics: dict[str, object], replies: list[BotMessage]
    ) -> list[BotMessage]:
        assert self._insight is not None
        turn = self._insight.record_turn(message, analytics)
        way = self._insight.ask_helpful(turn) if turn is not None and replies else None
        if way == "buttons" and not replies[-1].buttons:
            last = replies[-1]
            replies = [
                *replies[:-1],
                BotMessage(last.text, self._insight.helpful_buttons(turn.language)),
            ]  # type: ignore[union-attr]
        elif way == "sms":
            replies = [*replies, BotMessage(say("helpful_ask_sms", turn.language))]  # type: ignore[union-attr]
        return replies

    def _thank(self, conversation_id: str, message: InboundMessage) -> TranscriptEntry:
        """Thank the citizen for their "did this help?" answer, in the conversation's language (blocking)."""
        language = self._insight.language_of(conversation_id) if self._insight is not None else None
        return self._inbox.add_notice(
            conversation_id, message.id, say("feedback_thanks", language), "notice", True
        )

    async def retry_pending(self) -> int:
        """One pass over every conversation with waiting messages; returns how many were drained."""
        drained = 0
        for conversation_id in await asyncio.to_thread(self._inbox.conversations_with_pending):
            if not await self.drain(conversation_id):
                break  # the engine is still down: try again next pass
            drained += 1
        return drained

    async def run_retry_loop(self, interval_s: float, stop: asyncio.Event) -> None:
        """Pick up waiting messages every `interval_s` (after an outage, a crash, or another replica's
        lease) until `stop` is set."""
        while not stop.is_set():
            try:
                await self.retry_pending()
            except Exception:  # keep the loop alive; the next pass retries
                log.exception("retry pass failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except TimeoutError:
                pass
