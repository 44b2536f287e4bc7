"""The steps after the engine: carry out the actions' instructions, then store the replies.

Instructions come typed from the engine client (bot/engine/instructions.py). A hand-off is queued
before the turn completes, idempotently, so a retried turn finds it; the contact centre's notice
comes last.
"""

from __future__ import annotations

import asyncio

from bot.conversation.turn import Flow, TurnState
from bot.engine.client import BotMessage
from bot.handoff.centre import ContactCentre
from bot.inbox.transcript import Transcript
from bot.insight.recorder import Insight
from bot.messages import say


class RecordTurn:
    """Store what the turn did with the question, once; after an answer, ask "did this help?" (with
    buttons, or by text where each message costs and only now and then)."""

    def __init__(self, insight: Insight) -> None:
        self._insight = insight

    async def __call__(self, turn: TurnState) -> Flow:
        analytics = turn.analytics
        if analytics is not None:
            turn.replies = await asyncio.to_thread(self._record, turn)
        return Flow.NEXT

    def _record(self, turn: TurnState) -> list[BotMessage]:
        assert turn.analytics is not None
        recorded = self._insight.record_turn(turn.message, turn.analytics)
        replies = turn.replies
        way = self._insight.ask_helpful(recorded) if replies else None
        if way == "buttons" and not replies[-1].buttons:
            buttons = self._insight.helpful_buttons(recorded.language)
            return [*replies[:-1], BotMessage(replies[-1].text, buttons)]
        if way == "text":
            return [*replies, BotMessage(say("helpful_ask_sms", recorded.language))]
        return replies


class HandOff:
    """Put the conversation in line when the actions asked for a person; the citizen is told their
    place, in their language."""

    def __init__(self, centre: ContactCentre) -> None:
        self._centre = centre

    async def __call__(self, turn: TurnState) -> Flow:
        request = turn.handoff
        if request is not None:
            turn.replies += await self._centre.hand_off(turn.conversation_id, turn.message, request)
        return Flow.NEXT


class StoreReplies:
    """Store the replies and settle the message in one transaction, then show them."""

    def __init__(self, transcript: Transcript) -> None:
        self._transcript = transcript

    async def __call__(self, turn: TurnState) -> Flow:
        await self._transcript.complete(turn.conversation_id, turn.message.id, turn.replies)
        return Flow.DONE
