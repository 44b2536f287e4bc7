"""The one way to add to a conversation and show it: store (a blocking commit), then publish the new
lines live and wake the outbox sender.

The worker's steps and the contact centre both write through a `Transcript`; blocking stores run in
threads, and publishing happens back on the event loop, where the hub and the sender's wake-up live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from bot.engine.client import BotMessage
from bot.inbox.entries import TranscriptEntry
from bot.inbox.hub import LiveHub
from bot.inbox.store import Inbox


class Transcript:
    """Stores transcript lines through the inbox and publishes them to the live hub."""

    def __init__(self, inbox: Inbox, hub: LiveHub, wake: Callable[[], None] | None = None) -> None:
        self.inbox = inbox
        self.hub = hub
        self._wake = wake or (lambda: None)

    def publish(self, conversation_id: str, entries: Iterable[TranscriptEntry]) -> None:
        """Show stored lines to everyone watching the conversation; wake the sender (on
        the loop)."""
        published = False
        for entry in entries:
            self.hub.publish(conversation_id, {"type": "message", **entry.as_json()})
            published = True
        if published:
            self._wake()

    def event(self, topic: str, event: dict[str, Any]) -> None:
        """Publish an event that is not a transcript line (typing, queue changes) to `topic`."""
        self.hub.publish(topic, event)

    async def notice(
        self,
        conversation_id: str,
        inbound_id: int | None,
        text: str,
        kind: str = "notice",
        done: bool = False,
        buttons: list[dict[str, str]] | None = None,
    ) -> TranscriptEntry:
        """Store and publish a message that is not from the dialogue (see `Inbox.add_notice`)."""
        entry = await asyncio.to_thread(
            self.inbox.add_notice, conversation_id, inbound_id, text, kind, done, "bot", buttons
        )
        self.publish(conversation_id, [entry])
        return entry

    async def complete(
        self, conversation_id: str, inbound_id: int, replies: list[BotMessage]
    ) -> list[TranscriptEntry]:
        """Store the replies to a message, mark it done, and publish them."""
        entries = await asyncio.to_thread(self.inbox.complete, inbound_id, replies)
        self.publish(conversation_id, entries)
        return entries
