"""Citizen messages in: cleaned, stored once (committed before the channel acknowledges them), then
their conversations' turns scheduled in the background.

Provider webhooks store everything (cut at the hard limit) and let the turn answer what the bot
cannot take; web chat refuses it politely at once instead, and stores nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses

from bot.conversation.before import UnfitMessages
from bot.conversation.worker import ConversationWorker
from bot.inbox.entries import Received
from bot.inbox.store import Inbox
from connectors.base import Incoming
from connectors.text import HARD_LIMIT, TITLE_LIMIT, clean


class Intake:
    """Stores citizen messages and starts their turns."""

    def __init__(self, inbox: Inbox, worker: ConversationWorker, unfit: UnfitMessages) -> None:
        self._inbox = inbox
        self.worker = worker
        self._unfit = unfit
        self._background: set[asyncio.Task[bool]] = set()

    def refusal(self, text: str) -> str | None:
        """The polite reply to a message the bot cannot take (empty, too long); None when it can."""
        return self._unfit.refusal(text)

    def slow_down(self, text: str) -> str:
        """The polite "please slow down", in the language of `text`. Blocking: run in a thread."""
        return self._unfit.slow_down(text)

    async def ask_to_slow_down(self, received: Received, text: str) -> None:
        """Tell a sender past their rate, once, to slow down; their message is kept and answered
        in turn."""
        reply = await asyncio.to_thread(self._unfit.slow_down, text)
        await self._unfit.tell(received.conversation_id, received.inbound_id, reply)

    @staticmethod
    def cleaned(message: Incoming) -> Incoming:
        """The message as it is stored: cleaned text (cut at the hard limit) and button label."""
        text = clean(message.text, HARD_LIMIT).text
        title = clean(message.title, TITLE_LIMIT).text or None if message.title else None
        return dataclasses.replace(message, text=text, title=title)

    def store(self, message: Incoming) -> Received:
        """Store one message, already `cleaned`, once (a provider's retry finds the first).
        Blocking: run in a thread."""
        return self._inbox.receive(
            message.channel,
            message.address,
            message.provider_message_id,
            message.text,
            message.title,
        )

    async def receive(self, messages: list[Incoming]) -> list[Received]:
        """Store a webhook's messages, each committed before the next, then schedule their turns."""
        stored = [await asyncio.to_thread(self.store, self.cleaned(m)) for m in messages]
        for conversation_id in dict.fromkeys(r.conversation_id for r in stored):
            self.schedule(conversation_id)
        return stored

    def schedule(self, conversation_id: str, lane: str | None = None) -> None:
        """Take the conversation's pending turns in the background (in `lane`, see
        bot/conversation/fair.py)."""
        task = asyncio.create_task(self.worker.drain(conversation_id, lane))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
