"""Live fan-out of transcript events to the sockets watching a conversation (in-process)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any


class LiveHub:
    """Each subscriber gets its own queue; a slow socket never blocks the others."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def subscribe(self, conversation_id: str) -> asyncio.Queue[dict[str, Any]]:
        """A new queue receiving every event published to `conversation_id`."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers[conversation_id].add(queue)
        return queue

    def unsubscribe(self, conversation_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop delivering to `queue`."""
        self._subscribers[conversation_id].discard(queue)
        if not self._subscribers[conversation_id]:
            del self._subscribers[conversation_id]

    def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        """Deliver `event` to every subscriber; a full queue drops it (the client resumes from history)."""
        for queue in list(self._subscribers.get(conversation_id, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                pass
