"""Live fan-out of transcript events to the sockets watching a conversation.

In one process the hub delivers directly. With several app replicas (`REDIS_URL`), every event goes
through one Redis pub/sub channel and each replica delivers it to its own sockets, so a citizen
whose socket sits on replica A sees a reply produced on replica B.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from typing import Any

log = logging.getLogger(__name__)
CHANNEL = "govbot:live"


class LiveHub:
    """Each subscriber gets its own queue; a slow socket never blocks the others."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._outgoing: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None

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
        """Send `event` to every subscriber of the conversation, on every replica."""
        if self._outgoing is not None:
            self._outgoing.put_nowait((conversation_id, event))
        else:
            self.deliver(conversation_id, event)

    def deliver(self, conversation_id: str, event: dict[str, Any]) -> None:
        """Hand `event` to this process's subscribers; a full queue drops it (the client resumes
        from history)."""
        for queue in list(self._subscribers.get(conversation_id, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                pass

    async def relay_through_redis(self, url: str, stop: asyncio.Event) -> None:
        """Route every event through Redis until `stop` is set (one ordered publisher,
        one subscriber)."""
        import redis.asyncio as redis

        client = redis.from_url(url)
        pubsub = client.pubsub()
        await pubsub.subscribe(CHANNEL)
        self._outgoing = asyncio.Queue()
        outgoing = self._outgoing

        async def publisher() -> None:
            while True:
                conversation_id, event = await outgoing.get()
                try:
                    await client.publish(CHANNEL, json.dumps({"c": conversation_id, "e": event}))
                except (
                    Exception
                ):  # Redis hiccup: deliver locally so this replica's sockets still see it
                    log.exception("redis publish failed")
                    self.deliver(conversation_id, event)

        async def subscriber() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    data = json.loads(message["data"])
                    self.deliver(data["c"], data["e"])

        tasks = [asyncio.create_task(publisher()), asyncio.create_task(subscriber())]
        try:
            await stop.wait()
        finally:
            self._outgoing = None
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await pubsub.aclose()
            await client.aclose()
