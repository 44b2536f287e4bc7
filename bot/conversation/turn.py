"""A turn: what one citizen message goes through, as an ordered list of typed steps.

Each step reads and updates a `TurnState` and says how the turn goes on (`Flow`): on to the next
step, done (the message is settled and nothing more happens), or halt (the message stays pending and
the conversation waits, e.g. while the engine is down). The steps are wired in one place,
`bot/conversation/pipeline.py`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from bot.engine.client import BotMessage
from bot.engine.instructions import HandoffRequest, Instruction, TurnAnalytics
from bot.ids import ConversationId
from bot.storage.models import InboundMessage
from connectors.capabilities import Capabilities, capabilities


class Flow(enum.Enum):
    """How a turn goes on after a step."""

    NEXT = "next"  # on to the next step
    DONE = "done"  # settled: the message is processed, later steps do not run
    HALT = "halt"  # not settled: the message stays pending; stop this conversation for now


@dataclass
class TurnState:
    """One message's turn: who, what the bot is to see, and what comes back."""

    conversation: ConversationId
    message: InboundMessage
    channel: Capabilities
    engine_text: str
    replies: list[BotMessage] = field(default_factory=list)
    instructions: list[Instruction] = field(default_factory=list)

    @classmethod
    def start(cls, message: InboundMessage) -> TurnState:
        """The state before any step: the bot would see the message as stored."""
        conversation = ConversationId.parse(message.conversation_id)
        return cls(conversation, message, capabilities(message.channel), message.text)

    @property
    def conversation_id(self) -> str:
        """The stored form of the conversation id."""
        return self.message.conversation_id

    @property
    def analytics(self) -> TurnAnalytics | None:
        """The actions' account of the turn, if they sent one."""
        return next((i for i in self.instructions if isinstance(i, TurnAnalytics)), None)

    @property
    def handoff(self) -> HandoffRequest | None:
        """The actions' request for a person, if they made one (the first counts)."""
        return next((i for i in self.instructions if isinstance(i, HandoffRequest)), None)


class Step(Protocol):
    """One step of a turn."""

    async def __call__(self, turn: TurnState) -> Flow: ...
