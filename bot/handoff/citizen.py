"""The contact centre, the citizen's side: a hand-off the bot asked for, and every message that
arrives while one is in progress (kept for the agent, leaving the line, an urgent topic, a callback
ticket after hours, the 1-5 rating after a resolve)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Protocol

from bot.engine.client import BotMessage
from bot.engine.instructions import HandoffRequest
from bot.handoff.config import UrgentTopic, fold, text_in
from bot.handoff.effects import CentreBase, Effects
from bot.handoff.hours import describe, is_open, next_opening
from bot.handoff.queue import QueueError
from bot.ids import ConversationId
from bot.inbox.entries import TranscriptEntry
from bot.messages import say
from bot.privacy.redact import phone_numbers, redact
from bot.storage.models import Handoff, InboundMessage
from connectors.capabilities import capabilities

URGENT_PRIORITY = 100
# Where CANCEL and QUIT are carrier opt-out words (SMS: STOP), the line is left with
# LEAVE / QUITTER.
_LEAVE_WORDS = {
    "cancel",
    "annuler",
    "leave",
    "quitter",
    "leave queue",
    "quitter la file",
    "/leave_queue",
}
_LEAVE_WORDS_SMS = {"leave", "quitter", "leave queue", "quitter la file"}
_RATING = re.compile(r"^\s*([1-5])\s*(?:/\s*5)?(?:[\s.!,:;-]+(.*))?$", re.DOTALL)
_RATE_PAYLOAD = re.compile(r"^/rate(\{.*\})$")


class SatisfactionRecorder(Protocol):
    """Where a citizen's 1-5 rating of a person's help is recorded (the insight recorder)."""

    def record_satisfaction(
        self,
        conversation_id: str,
        channel: str,
        language: str,
        handoff_id: int,
        agency: str | None,
        score: int,
        comment: str | None,
    ) -> None: ...


def rating_of(text: str) -> tuple[int, str | None] | None:
    """A 1-5 satisfaction rating typed ("4", "4/5", "4 - quick and kind": score and comment) or
    pressed (`/rate{"score": 4}`), else None."""
    match = _RATING.match(text)
    if match:
        return int(match[1]), (match[2] or "").strip() or None
    payload = _RATE_PAYLOAD.match(text.strip())
    if payload:
        try:
            score = json.loads(payload[1]).get("score")
        except (ValueError, AttributeError):
            return None
        return (score, None) if isinstance(score, int) and 1 <= score <= 5 else None
    return None


class CitizenSide(CentreBase):
    """Hand-offs, and the citizen's messages while one is in progress."""

    _satisfaction: SatisfactionRecorder | None = None

    async def intercept(self, conversation_id: str, message: InboundMessage) -> bool:
        """Handle a message that must not reach the bot; False when it is the bot's to answer."""
        effects = await asyncio.to_thread(self._intercept, conversation_id, message)
        if effects is None:
            return False
        self.emit(effects)
        return True

    def _intercept(self, conversation_id: str, message: InboundMessage) -> Effects | None:
        effects = self._effects()
        text = message.text.strip()
        active = self.queue.active_for(conversation_id)
        if active is not None:
            leave_words = (
                _LEAVE_WORDS_SMS if capabilities(message.channel).carrier_keywords else _LEAVE_WORDS
            )
            topic = self.config.urgent(text)
            if active.inbound_id == message.id:  # a retried turn that had already handed off
                self._notice(effects, active, self._joined_text(active), message.id, done=True)
            elif (
                fold(text) in leave_words or text == "/leave_queue"
            ) and active.status != "assigned":
                self._leave(effects, active, message.id)
            elif topic is not None and self.queue.bump(active.id, URGENT_PRIORITY):
                self._notice(effects, active, self._urgent_text(topic, text), message.id, done=True)
                effects.queue_event("enqueued", active)
            elif active.status == "after_hours":
                self._take_ticket(effects, active, message)
            else:
                # Kept for the agent: stored in the transcript, never sent to the bot.
                self._transcript.inbox.complete(message.id, [])
                line = TranscriptEntry(message.seq, "user", message.title or message.text)
                effects.agent_line(active.agent_id, active, line, redact(line.text))
            return effects
        pending = self.queue.rating_pending_for(conversation_id)
        if pending is not None:
            rating = rating_of(text)
            self.queue.record_rating(pending.id, rating[0] if rating else None)
            if rating is not None:
                if self._satisfaction is not None:
                    queue = self._queue_config(pending.queue_id)
                    self._satisfaction.record_satisfaction(
                        conversation_id,
                        pending.channel,
                        pending.language,
                        pending.id,
                        queue.agencies[0] if len(queue.agencies) == 1 else None,
                        *rating,
                    )
                self._notice(
                    effects,
                    pending,
                    say("rating_thanks", pending.language),
                    message.id,
                    done=True,
                    kind="notice",
                )
                return effects
        topic = self.config.urgent(text)
        if topic is not None:
            handoff, _ = self.queue.enqueue(
                conversation_id,
                message.channel,
                topic.queue or self.config.default_queue,
                "urgent",
                self._urgent_language(text, topic),
                question=redact(text)[:500],
                priority=URGENT_PRIORITY,
                inbound_id=message.id,
            )
            self._notice(
                effects,
                handoff,
                f"{self._urgent_text(topic, text)}\n{self._joined_text(handoff)}",
                message.id,
                done=True,
            )
            effects.queue_event("enqueued", handoff)
            return effects
        return None

    def _urgent_text(self, topic: UrgentTopic, text: str) -> str:
        return text_in(topic.message, self._urgent_language(text, topic)) or topic.message["en"]

    @staticmethod
    def _urgent_language(text: str, topic: UrgentTopic) -> str:
        """French when the message matched only the topic's French phrases."""
        folded = f" {fold(text)} "
        matched = {
            lang
            for lang, phrases in topic.phrases.items()
            for p in phrases
            if f" {fold(p)} " in folded
        }
        return "fr" if matched == {"fr"} else "en"

    def _leave(self, effects: Effects, handoff: Handoff, inbound_id: int | None) -> None:
        try:
            left = self.queue.cancel(handoff.id)
        except QueueError:
            return
        self._notice(
            effects,
            left,
            say("queue_left", left.language),
            inbound_id,
            done=inbound_id is not None,
            kind="notice",
        )
        effects.queue_event("cancelled", left)

    def _take_ticket(self, effects: Effects, handoff: Handoff, message: InboundMessage) -> None:
        number = (
            ConversationId.parse(handoff.conversation_id).address
            if message.channel == "sms"
            else None
        )
        found = phone_numbers(message.text)
        ticket = self.queue.make_ticket(
            handoff.id, redact(message.text)[:1000], found[0] if found else number
        )
        queue = self._queue_config(ticket.queue_id)
        opens = next_opening(queue, self.queue.now())
        self._notice(
            effects,
            ticket,
            say(
                "ticket_taken",
                ticket.language,
                ticket=ticket.id,
                queue=queue.display_name(ticket.language),
                when=describe(opens, ticket.language) if opens else "",
            ),
            message.id,
            done=True,
        )
        effects.queue_event("ticket", ticket)

    async def opted_out(self, conversation_id: str) -> None:
        """The citizen texted STOP: nothing can reach them any more, so they leave the line."""

        def step() -> Effects:
            effects = self._effects()
            active = self.queue.active_for(conversation_id)
            if active is not None:
                try:
                    effects.queue_event("cancelled", self.queue.cancel(active.id))
                except QueueError:
                    pass
            return effects

        await self._run(step)

    async def hand_off(
        self, conversation_id: str, message: InboundMessage, request: HandoffRequest
    ) -> list[BotMessage]:
        """Put the conversation in line as the bot asked; what to tell the citizen, in
        their language."""
        effects, replies = await asyncio.to_thread(
            self._hand_off, conversation_id, message, request
        )
        self.emit(effects)
        return replies

    def _hand_off(
        self, conversation_id: str, message: InboundMessage, request: HandoffRequest
    ) -> tuple[Effects, list[BotMessage]]:
        effects = self._effects()
        queue = (
            self.config.queue(request.queue or "")
            or self.config.queue_for_agency(request.agency)
            or self.config.default()
        )
        language, reason, question = request.language, request.reason, request.question
        status = "waiting" if is_open(queue, self.queue.now()) else "after_hours"
        handoff, created = self.queue.enqueue(
            conversation_id,
            message.channel,
            queue.id,
            reason,
            language,
            question=redact(question)[:500] if question else None,
            inbound_id=message.id,
            status=status,
        )
        if created:
            effects.queue_event("enqueued", handoff)
        return effects, [BotMessage(self._joined_text(handoff))]
