"""The engine step: send the bot what it is to see, and keep its replies and instructions.

When the engine is down the message stays pending (a later pass answers it as soon as the engine is
back); the citizen is told once that the service is briefly unavailable.
"""

from __future__ import annotations

import asyncio
import logging

from bot.conversation.before import supported_language
from bot.conversation.turn import Flow, TurnState
from bot.engine.client import DialogueEngine, EngineUnavailable
from bot.failpoints import failpoint
from bot.inbox.transcript import Transcript
from bot.language import LanguageDetector
from bot.messages import say

log = logging.getLogger(__name__)


class AskEngine:
    """One call to the dialogue engine, with the typing indicator on meanwhile."""

    def __init__(
        self,
        engine: DialogueEngine,
        transcript: Transcript,
        detector: LanguageDetector,
        max_attempts: int = 100,
    ) -> None:
        self._engine = engine
        self._transcript = transcript
        self._detector = detector
        self._max_attempts = max_attempts

    async def __call__(self, turn: TurnState) -> Flow:
        conversation_id, message = turn.conversation_id, turn.message
        self._transcript.event(conversation_id, {"type": "typing", "on": True})
        try:
            answer = await self._engine.turn(
                conversation_id, turn.engine_text, {"message_id": message.id}
            )
        except EngineUnavailable as exc:
            log.warning("engine unavailable for message %s: %s", message.id, exc)
            await self._unavailable(turn, str(exc))
            return Flow.HALT
        finally:
            self._transcript.event(conversation_id, {"type": "typing", "on": False})
        await failpoint("after_engine")
        turn.replies = [r for r in answer if r.text or r.buttons]
        turn.instructions = [r.instruction for r in answer if r.instruction is not None]
        return Flow.NEXT

    async def _unavailable(self, turn: TurnState, error: str) -> None:
        inbox = self._transcript.inbox
        attempts = await asyncio.to_thread(inbox.fail, turn.message.id, error, self._max_attempts)
        if attempts == 1:
            language = await asyncio.to_thread(
                supported_language, self._detector, turn.message.text
            )
            await self._transcript.notice(
                turn.conversation_id, turn.message.id, say("engine_unavailable", language)
            )
