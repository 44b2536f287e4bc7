"""The web-chat channel: a WebSocket for the widget, and an HTTP fallback that scripts can use.

Every citizen message is stored durably (keyed by session + client message id, so a resend is a
no-op) before it is acknowledged; replies come from the conversation worker through the live hub.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field

from bot.inbox.store import TranscriptEntry, conversation_id
from bot.messages import say
from bot.runtime import Runtime, RuntimeDep
from connectors.text import clean

CHANNEL = "webchat"
SESSION_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
CLIENT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_SESSION = re.compile(SESSION_PATTERN)
_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
# Anything longer than this is not a chat message; the citizen-facing limit (MAX_MESSAGE_CHARS) is lower
# and gets a polite reply.
HARD_LIMIT = 20_000

router = APIRouter(prefix="/webchat", tags=["webchat"])


class IncomingMessage(BaseModel):
    """A message posted by a script or by the widget's HTTP fallback."""

    session: str = Field(pattern=SESSION_PATTERN)
    text: str = Field(max_length=HARD_LIMIT)
    id: str | None = Field(default=None, pattern=CLIENT_ID_PATTERN)
    title: str | None = Field(default=None, max_length=300)


_REFUSALS = {"empty": "empty_message", "too_long": "too_long"}


def _refusal(runtime: Runtime, problem: str, text: str) -> str:
    language = runtime.detector.detect(text[:500]).language if text else None
    limit = runtime.settings.max_message_chars
    return say(_REFUSALS[problem], language if language in ("en", "fr") else None, limit=limit)


def _accept(
    runtime: Runtime, session: str, text: str, client_id: str | None, title: str | None = None
) -> TranscriptEntry | str:
    """Clean and store one message: its transcript entry, or a polite refusal that changed nothing."""
    cleaned = clean(text, runtime.settings.max_message_chars)
    if cleaned.problem:
        return _refusal(runtime, cleaned.problem, cleaned.text)
    # Unique per session: another visitor reusing a client id must not collide with (or see) this one.
    provider_id = f"{session}/{client_id or uuid.uuid4().hex}"
    shown = clean(title, 300).text or None if title else None
    received = runtime.inbox.receive(CHANNEL, session, provider_id, cleaned.text, shown)
    return TranscriptEntry(
        received.seq,
        "user",
        shown or cleaned.text,
        [],
        received.inbound_id,
        provider_id.removeprefix(f"{session}/"),
    )


@router.post("/messages")
async def post_message(body: IncomingMessage, runtime: RuntimeDep) -> dict[str, Any]:
    """Store a message, run its turn, and return the replies (the HTTP fallback of the widget)."""
    accepted = await asyncio.to_thread(
        _accept, runtime, body.session, body.text, body.id, body.title
    )
    if isinstance(accepted, str):
        return {"messages": [{"text": accepted, "buttons": []}]}
    conv = conversation_id(CHANNEL, body.session)
    runtime.hub.publish(
        conv, {"type": "message", **accepted.as_json()}
    )  # other tabs of the session
    inbound_id = accepted.inbound_id
    assert inbound_id is not None
    await runtime.worker.drain(conv)
    # Another replica may hold this conversation's lease: wait for it to answer (or for the notice), but
    # not for a message that was processed without a reply (one kept for the agent who has the conversation).
    deadline = asyncio.get_running_loop().time() + runtime.settings.engine_timeout_s
    while (
        not (replies := await asyncio.to_thread(runtime.inbox.replies_to, inbound_id))
        and await asyncio.to_thread(runtime.inbox.status, inbound_id) == "pending"
        and asyncio.get_running_loop().time() < deadline
    ):
        await asyncio.sleep(0.1)
    return {"messages": [{"text": r.text, "buttons": r.buttons} for r in replies]}


@router.get("/history")
async def history(
    runtime: RuntimeDep, session: str = Query(pattern=SESSION_PATTERN), after: int = Query(0, ge=0)
) -> dict[str, Any]:
    """The transcript of a session after `after` (the widget restores it on load)."""
    entries = runtime.inbox.history(conversation_id(CHANNEL, session), after)
    return {"messages": [e.as_json() for e in entries]}


async def _pump(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        await websocket.send_json(await queue.get())


@router.websocket("/ws")
async def websocket_chat(websocket: WebSocket) -> None:
    """The widget's live connection: resume, send, and receive replies as they are produced."""
    runtime: Runtime = websocket.app.state.runtime
    session = websocket.query_params.get("session", "")
    if not _SESSION.match(session):
        await websocket.close(code=1008, reason="bad session id")
        return
    allowed = runtime.settings.webchat_allowed_origins
    origin = websocket.headers.get("origin")
    if origin and "*" not in allowed and origin not in allowed:
        await websocket.close(code=1008, reason="origin not allowed")
        return
    await websocket.accept()
    conv = conversation_id(CHANNEL, session)
    queue = runtime.hub.subscribe(conv)
    pump = asyncio.create_task(_pump(websocket, queue))
    try:
        while True:
            raw = await websocket.receive_text()
            if len(raw) > HARD_LIMIT * 2:
                await websocket.send_json({"type": "error", "error": "frame too large"})
                continue
            try:
                frame = json.loads(raw)
                kind = frame.get("type")
            except (ValueError, AttributeError):
                await websocket.send_json({"type": "error", "error": "frames must be JSON objects"})
                continue
            if kind == "resume":
                after = frame.get("after") if isinstance(frame.get("after"), int) else 0
                for entry in runtime.inbox.history(conv, max(after, 0)):
                    await websocket.send_json({"type": "message", **entry.as_json()})
            elif kind == "message" and isinstance(frame.get("text"), str):
                client_id = (
                    frame.get("id")
                    if isinstance(frame.get("id"), str) and _CLIENT_ID.match(frame["id"])
                    else None
                )
                title = frame.get("title") if isinstance(frame.get("title"), str) else None
                accepted = await asyncio.to_thread(
                    _accept, runtime, session, frame["text"], client_id, title
                )
                if client_id:
                    await websocket.send_json({"type": "ack", "id": client_id})
                if isinstance(accepted, str):
                    await websocket.send_json(
                        {"type": "notice", "from": "bot", "text": accepted, "buttons": []}
                    )
                    continue
                runtime.hub.publish(conv, {"type": "message", **accepted.as_json()})
                task = asyncio.create_task(runtime.worker.drain(conv))
                runtime.background.add(task)
                task.add_done_callback(runtime.background.discard)
            else:
                await websocket.send_json({"type": "error", "error": "unknown frame type"})
    except WebSocketDisconnect:
        pass
    finally:
        pump.cancel()
        runtime.hub.unsubscribe(conv, queue)
