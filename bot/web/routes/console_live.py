"""The console's live socket (/console/ws): queue events and the lines of the agent's conversations.

Cookie-authenticated, so it must come from our own pages (no cross-site socket hijacking); it closes
with 4401 without a session (or when it expires), 4403 from another origin.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from bot.handoff.effects import QUEUE_TOPIC, agent_topic
from bot.web.auth import session_of
from bot.web.deps import AgentsDep, CentreDep, HubDep

router = APIRouter(prefix="/console", include_in_schema=False)


def _same_origin(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    if not origin:
        return True  # not a browser
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


@router.websocket("/ws")
async def live(websocket: WebSocket, agents: AgentsDep, centre: CentreDep, hub: HubDep) -> None:
    """Forward the queue's and this agent's events; answer pings while the session lasts."""
    await websocket.accept()
    login = await session_of(websocket, agents)
    if login is None or not _same_origin(websocket):
        await websocket.close(code=4401 if login is None else 4403)
        return
    topics = [QUEUE_TOPIC, agent_topic(login.agent.id)]
    queues = [(topic, hub.subscribe(topic)) for topic in topics]
    await asyncio.to_thread(centre.heartbeat, login.agent)

    async def forward(events: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            await websocket.send_json(await events.get())

    senders = [asyncio.create_task(forward(q)) for _, q in queues]
    try:
        while True:
            message = await websocket.receive_json()
            if isinstance(message, dict) and message.get("type") == "ping":
                if await session_of(websocket, agents) is None:  # expired or logged out meanwhile
                    await websocket.close(code=4401)
                    return
                await asyncio.to_thread(centre.heartbeat, login.agent)
                await websocket.send_json({"type": "pong"})
    except (WebSocketDisconnect, ValueError, RuntimeError):
        pass
    finally:
        for task in senders:
            task.cancel()
        for topic, events in queues:
            hub.unsubscribe(topic, events)
        for task in senders:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
