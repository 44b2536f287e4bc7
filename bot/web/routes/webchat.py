"""The web-chat routes: a WebSocket for the widget, and an HTTP fallback that scripts can use.

A message the bot cannot take (empty, too long) gets a polite reply and is not stored; any other is
stored durably before it is acknowledged, and its turn runs in the background (socket) or before the
answer (HTTP).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field

from bot.conversation.intake import Intake
from bot.ids import conversation_id
from bot.inbox.entries import TranscriptEntry
from bot.inbox.hub import LiveHub
from bot.web.deps import HubDep, InboxDep, IntakeDep, SettingsDep
from connectors.text import HARD_LIMIT, TITLE_LIMIT
from connectors.webchat import (
    CHANNEL,
    CLIENT_ID_PATTERN,
    MAX_SEQ,
    SESSION_PATTERN,
    FrameError,
    incoming,
    parse_frame,
    valid_session,
)

router = APIRouter(prefix="/webchat", tags=["webchat"])


class IncomingMessage(BaseModel):
    """A message posted by a script or by the widget's HTTP fallback."""

    session: str = Field(pattern=SESSION_PATTERN)
    text: str = Field(max_length=HARD_LIMIT)
    id: str | None = Field(default=None, pattern=CLIENT_ID_PATTERN)
    title: str | None = Field(default=None, max_length=TITLE_LIMIT)


def _accept(
    intake: Intake, session: str, text: str, client_id: str | None, title: str | None
) -> TranscriptEntry | str:
    """Store one message: its transcript entry, or a polite refusal that changed nothing."""
    refusal = intake.refusal(text)
    if refusal is not None:
        return refusal
    message = intake.cleaned(incoming(session, text, client_id, title))
    received = intake.store(message)
    return TranscriptEntry(
        received.seq,
        "user",
        message.title or message.text,
        [],
        received.inbound_id,
        message.provider_message_id.removeprefix(f"{session}/"),
    )


def _publish(hub: LiveHub, session: str, entry: TranscriptEntry) -> None:
    """Show the citizen's own message to the session's other tabs."""
    hub.publish(conversation_id(CHANNEL, session), {"type": "message", **entry.as_json()})


@router.post("/messages")
async def post_message(
    body: IncomingMessage, intake: IntakeDep, inbox: InboxDep, hub: HubDep, settings: SettingsDep
) -> dict[str, Any]:
    """Store a message, run its turn, and return the replies (the HTTP fallback of the widget)."""
    accepted = await asyncio.to_thread(
        _accept, intake, body.session, body.text, body.id, body.title
    )
    if isinstance(accepted, str):
        return {"messages": [{"text": accepted, "buttons": []}]}
    _publish(hub, body.session, accepted)
    inbound_id = accepted.inbound_id
    assert inbound_id is not None
    await intake.worker.drain(conversation_id(CHANNEL, body.session))
    # Another replica may hold this conversation's lease: wait for it to answer (or for the notice),
    # but not for a message processed without a reply (one kept for the agent who has it).
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.engine_timeout_s
    while (
        not (replies := await asyncio.to_thread(inbox.replies_to, inbound_id))
        and await asyncio.to_thread(inbox.status, inbound_id) == "pending"
        and loop.time() < deadline
    ):
        await asyncio.sleep(0.1)
    return {"messages": [{"text": r.text, "buttons": r.buttons} for r in replies]}


@router.get("/history")
async def history(
    inbox: InboxDep,
    session: str = Query(pattern=SESSION_PATTERN),
    after: int = Query(0, ge=0, le=MAX_SEQ),
) -> dict[str, Any]:
    """The transcript of a session after `after` (the widget restores it on load)."""
    entries = await asyncio.to_thread(inbox.history, conversation_id(CHANNEL, session), after)
    return {"messages": [e.as_json() for e in entries]}


async def _pump(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        await websocket.send_json(await queue.get())


@router.websocket("/ws")
async def websocket_chat(
    websocket: WebSocket, intake: IntakeDep, inbox: InboxDep, hub: HubDep, settings: SettingsDep
) -> None:
    """The widget's live connection: resume, send, and receive replies as they are produced."""
    session = websocket.query_params.get("session", "")
    if not valid_session(session):
        await websocket.close(code=1008, reason="bad session id")
        return
    allowed = settings.webchat_allowed_origins
    origin = websocket.headers.get("origin")
    if origin and "*" not in allowed and origin not in allowed:
        await websocket.close(code=1008, reason="origin not allowed")
        return
    await websocket.accept()
    conv = conversation_id(CHANNEL, session)
    queue = hub.subscribe(conv)
    pump = asyncio.create_task(_pump(websocket, queue))
    try:
        while True:
            try:
                frame = parse_frame(await websocket.receive_text())
            except FrameError as exc:
                await websocket.send_json({"type": "error", "error": str(exc)})
                continue
            if frame.kind == "resume":
                for entry in await asyncio.to_thread(inbox.history, conv, frame.after):
                    await websocket.send_json({"type": "message", **entry.as_json()})
                continue
            accepted = await asyncio.to_thread(
                _accept, intake, session, frame.text, frame.client_id, frame.title
            )
            if frame.client_id:
                await websocket.send_json({"type": "ack", "id": frame.client_id})
            if isinstance(accepted, str):
                notice = {"type": "notice", "from": "bot", "text": accepted, "buttons": []}
                await websocket.send_json(notice)
                continue
            _publish(hub, session, accepted)
            intake.schedule(conv)
    except WebSocketDisconnect:
        pass
    finally:
        pump.cancel()
        hub.unsubscribe(conv, queue)
