"""The steps before the engine: what must never reach the bot, and what the bot is to see.

In order: carrier keywords (STOP, START, HELP) on channels that have them; messages the bot cannot
take (empty, too long); a conversation in the contact centre's hands; redaction of personal data;
the answer to a pending "did this help?".
"""

from __future__ import annotations

import asyncio

from bot.conversation.turn import Flow, TurnState
from bot.handoff.centre import ContactCentre
from bot.inbox.policy import OptOuts, keyword
from bot.inbox.transcript import Transcript
from bot.insight.recorder import Insight
from bot.language import LanguageDetector
from bot.messages import say
from bot.outreach.subscriptions import Subscriptions
from bot.privacy.redact import redact
from connectors.text import clean


def supported_language(detector: LanguageDetector, text: str) -> str | None:
    """The message's language when the bot speaks it (en, fr), else None (bilingual replies)."""
    language = detector.detect(text).language
    return language if language in ("en", "fr") else None


class CarrierKeywords:
    """STOP, START and HELP (and their French forms) answered without the bot; STOP also leaves the
    contact centre's line and ends every subscription, since nothing can reach the citizen any
    more."""

    def __init__(
        self,
        transcript: Transcript,
        opt_outs: OptOuts,
        centre: ContactCentre,
        service_name: str,
        subscriptions: Subscriptions,
    ) -> None:
        self._transcript = transcript
        self._opt_outs = opt_outs
        self._centre = centre
        self._service_name = service_name
        self._subscriptions = subscriptions

    async def __call__(self, turn: TurnState) -> Flow:
        found = keyword(turn.message.text) if turn.channel.carrier_keywords else None
        if found is None:
            return Flow.NEXT
        word, language = found
        if word in ("stop", "start"):
            await asyncio.to_thread(
                self._opt_outs.set,
                turn.conversation.channel,
                turn.conversation.address,
                word == "stop",
            )
        reply = say(f"sms_{word}", language, service=self._service_name)
        await self._transcript.notice(
            turn.conversation_id, turn.message.id, reply, kind="compliance", done=True
        )
        if word == "stop":
            await self._centre.opted_out(turn.conversation_id)
            await asyncio.to_thread(
                self._subscriptions.remove,
                turn.conversation.channel,
                turn.conversation.address,
                None,
                "stop",
            )
        return Flow.DONE


class UnfitMessages:
    """An empty message or one over the length limit gets a polite reply and never
    reaches the bot."""

    def __init__(self, transcript: Transcript, detector: LanguageDetector, max_chars: int) -> None:
        self._transcript = transcript
        self._detector = detector
        self._max_chars = max_chars

    async def __call__(self, turn: TurnState) -> Flow:
        reply = await asyncio.to_thread(self.refusal, turn.message.text)
        if reply is None:
            return Flow.NEXT
        await self._transcript.notice(turn.conversation_id, turn.message.id, reply, done=True)
        return Flow.DONE

    def refusal(self, text: str) -> str | None:
        """The polite reply to a message the bot cannot take, in its language; None when it can."""
        problem = clean(text, self._max_chars).problem
        if problem is None:
            return None
        language = supported_language(self._detector, text[:500]) if text.strip() else None
        key = "empty_message" if problem == "empty" else "too_long"
        return say(key, language, limit=self._max_chars)

    def slow_down(self, text: str) -> str:
        """The polite reply to a message over the sender's rate, in its language."""
        language = supported_language(self._detector, text[:500]) if text.strip() else None
        return say("slow_down", language)

    async def tell(self, conversation_id: str, inbound_id: int, reply: str) -> None:
        """Store and send a notice about a message, which stays pending for its turn."""
        await self._transcript.notice(conversation_id, inbound_id, reply)


class HandoffIntercept:
    """While a hand-off is in progress (in line, or with an agent), the message is the contact
    centre's: kept for the agent, or leaving the line, or an urgent topic, or a rating."""

    def __init__(self, centre: ContactCentre) -> None:
        self._centre = centre

    async def __call__(self, turn: TurnState) -> Flow:
        handled = await self._centre.intercept(turn.conversation_id, turn.message)
        return Flow.DONE if handled else Flow.NEXT


class Redaction:
    """The bot sees no personal data: it needs none to answer from FAQs, and its tracker keeps text.
    Button payloads ("/choose_faq{...}") are the bot's own and pass as they are."""

    async def __call__(self, turn: TurnState) -> Flow:
        if not turn.engine_text.startswith("/"):
            turn.engine_text = redact(turn.engine_text)
        return Flow.NEXT


class FeedbackCapture:
    """The answer to a pending "did this help?": a yes is thanked and goes no further; a no reaches
    the bot as "that did not help", which offers the next closest questions."""

    def __init__(self, insight: Insight, transcript: Transcript) -> None:
        self._insight = insight
        self._transcript = transcript

    async def __call__(self, turn: TurnState) -> Flow:
        answer = await asyncio.to_thread(self._insight.answer_feedback, turn.message)
        if not answer.handled:
            turn.engine_text = answer.engine_text or turn.engine_text
            return Flow.NEXT
        language = await asyncio.to_thread(self._insight.language_of, turn.conversation_id)
        thanks = say("feedback_thanks", language)
        await self._transcript.notice(turn.conversation_id, turn.message.id, thanks, done=True)
        return Flow.DONE
