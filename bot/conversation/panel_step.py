"""The turn's panel step: joining the citizen panel, its profile questions, and survey answers
(bot/panel/citizen.py), answered without the bot. A member's answer to an open question never
reaches the engine, redaction or the turn's analytics: free text is redacted where it is stored
(bot/panel/answers.py)."""

from __future__ import annotations

import asyncio

from bot.conversation.turn import Flow, TurnState
from bot.inbox.transcript import Transcript
from bot.panel.citizen import PanelCitizen


class PanelSurvey:
    """Hands the message to the panel; when the panel answers, the turn is done."""

    def __init__(self, transcript: Transcript, panel: PanelCitizen) -> None:
        self._transcript = transcript
        self._panel = panel

    async def __call__(self, turn: TurnState) -> Flow:
        said = await asyncio.to_thread(
            self._panel.handle,
            turn.conversation.channel,
            turn.conversation.address,
            turn.message.text,
            turn.channel,
        )
        if said is None:
            return Flow.NEXT
        await self._transcript.notice(
            turn.conversation_id,
            turn.message.id,
            said.text,
            done=True,
            buttons=said.buttons or None,
        )
        return Flow.DONE
