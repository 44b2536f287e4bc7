"""The web-chat routes: a WebSocket for the widget, and an HTTP fallback that scripts can use.

A client first gets a session token from POST /webchat/sessions; every other route refuses a token
the server did not issue (403, or close code 1008 on the socket) before it reads or stores anything.

A message the bot cannot take (empty, too long) gets a polite reply and is not stored; any other is
stored durably before it is acknowledged, and its turn runs in the background (socket) or before the
answer (HTTP).

The bot's and agents' messages carry their text in the answer format (`connectors.rich_text`) twice:
"blocks", which the widget builds with createElement and textContent, and "text", the same as plain
text for older clients. The citizen's own messages are sent back as typed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection

from bot.conversation.intake import Intake
from bot.ids import conversation_id
from bot.inbox.entries import TranscriptEntry
from bot.inbox.hub import LiveHub
from bot.web.auth import ApiError, client_ip
from bot.web.deps import HubDep, InboxDep, IntakeDep, LimiterDep, SettingsDep, WebchatSessionsDep
from bot.web.ratelimit import ALLOWED, RateLimiter, Verdict
from bot.web.throttle import too_many
from connectors.rich_text import parse, to_blocks, to_plain
from connectors.text import HARD_LIMIT, TITLE_LIMIT
from connectors.webchat import (
    CHANNEL,
    CLIENT_ID_PATTERN,
    MAX_SEQ,
    TOKEN_PATTERN,
    FrameError,
    SessionTokens,
    incoming,
    parse_frame,
)

router = APIRouter(prefix="/webchat", tags=["webchat"])


class IncomingMessage(BaseModel):
    """A message posted by a script or by the widget's HTTP fallback."""

    session: str = Field(pattern=TOKEN_PATTERN)
    text: str = Field(max_length=HARD_LIMIT)
    id: str | None = Field(default=None, pattern=CLIENT_ID_PATTERN)
    title: str | None = Field(default=None, max_length=TITLE_LIMIT)


def _shown(message: dict[str, Any]) -> dict[str, Any]:
    """A message as the widget gets it: from the bot or an agent, with "blocks" and plain "text";
    the citizen's own, and events without text (typing...), unchanged."""
    text = message.get("text")
    if message.get("from") == "user" or not isinstance(text, str):
        return message
    doc = parse(text)
    return {**message, "text": to_plain(doc), "blocks": to_blocks(doc)}


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


async def _chat_limits(limiter: RateLimiter, connection: HTTPConnection, session: str) -> Verdict:
    """One more message of this session and address, or the refusal of the first rule it breaks."""
    for rule, key in (("chat_session", session), ("chat_address", client_ip(connection))):
        verdict = await limiter.hit(rule, key)
        if not verdict.allowed:
            return verdict
    return ALLOWED


def _session(sessions: SessionTokens, token: str) -> str:
    """The session id of a token this server issued; 403 for any other."""
    session = sessions.session_of(token)
    if session is None:
        raise ApiError(403, "unknown session: get one from POST /webchat/sessions")
    return session


@router.post("/sessions")
async def new_session(sessions: WebchatSessionsDep) -> dict[str, str]:
    """A new web-chat session: the token every other web-chat route asks for."""
    return {"session": sessions.issue()}


@router.post("/messages", response_model=None)
async def post_message(
    request: Request,
    body: IncomingMessage,
    intake: IntakeDep,
    inbox: InboxDep,
    hub: HubDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    sessions: WebchatSessionsDep,
) -> dict[str, Any] | JSONResponse:
    """Store a message, run its turn, and return the replies (the HTTP fallback of the widget);
    403 for a session this server did not issue; 429 past the session's or the address's rate (the
    widget keeps the message and retries)."""
    session = _session(sessions, body.session)
    verdict = await _chat_limits(limiter, request, session)
    if not verdict.allowed:
        return too_many(verdict)
    accepted = await asyncio.to_thread(_accept, intake, session, body.text, body.id, body.title)
    if isinstance(accepted, str):
        return {"messages": [_shown({"text": accepted, "buttons": []})]}
    _publish(hub, session, accepted)
    inbound_id = accepted.inbound_id
    assert inbound_id is not None
    # the lane: turns are shared fairly between client addresses (bot/conversation/fair.py)
    await intake.worker.drain(conversation_id(CHANNEL, session), lane=client_ip(request))
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
    return {"messages": [_shown({"text": r.text, "buttons": r.buttons}) for r in replies]}


@router.get("/history")
async def history(
    inbox: InboxDep,
    sessions: WebchatSessionsDep,
    session: str = Query(pattern=TOKEN_PATTERN),
    after: int = Query(0, ge=0, le=MAX_SEQ),
) -> dict[str, Any]:
    """The transcript of a session after `after` (the widget restores it on load)."""
    conv = conversation_id(CHANNEL, _session(sessions, session))
    entries = await asyncio.to_thread(inbox.history, conv, after)
    return {"messages": [_shown(e.as_json()) for e in entries]}


async def _refuse(
    websocket: WebSocket, intake: Intake, text: str, client_id: str | None, verdict: Verdict
) -> None:
    if verdict.first_refusal:
        notice = await asyncio.to_thread(intake.slow_down, text)
        await websocket.send_json(
            _shown({"type": "notice", "from": "bot", "text": notice, "buttons": []})
        )
    refusal = {"type": "error", "error": "too many requests", "retry_after": verdict.retry_after}
    await websocket.send_json({**refusal, "id": client_id} if client_id else refusal)


async def _pump(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        await websocket.send_json(_shown(await queue.get()))


@router.websocket("/ws")
async def websocket_chat(
    websocket: WebSocket,
    intake: IntakeDep,
    inbox: InboxDep,
    hub: HubDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    sessions: WebchatSessionsDep,
) -> None:
    """The widget's live connection: resume, send, and receive replies as they are produced.
    Past the rate, a message is dropped (not acknowledged) and the first one of the window gets a
    polite "please slow down"."""
    allowed = settings.webchat_allowed_origins
    origin = websocket.headers.get("origin")
    if origin and "*" not in allowed and origin not in allowed:
        await websocket.close(code=1008, reason="origin not allowed")
        return
    session = sessions.session_of(websocket.query_params.get("session", ""))
    if session is None:
        # Accepted first so that the close code reaches the widget (a refused handshake shows a
        # browser only 1006), which then asks for a new session instead of retrying this one.
        await websocket.accept()
        await websocket.close(code=1008, reason="unknown session")
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
                    await websocket.send_json(_shown({"type": "message", **entry.as_json()}))
                continue
            verdict = await _chat_limits(limiter, websocket, session)
            if not verdict.allowed:
                await _refuse(websocket, intake, frame.text, frame.client_id, verdict)
                continue
            accepted = await asyncio.to_thread(
                _accept, intake, session, frame.text, frame.client_id, frame.title
            )
            if frame.client_id:
                await websocket.send_json({"type": "ack", "id": frame.client_id})
            if isinstance(accepted, str):
                notice = {"type": "notice", "from": "bot", "text": accepted, "buttons": []}
                await websocket.send_json(_shown(notice))
                continue
            _publish(hub, session, accepted)
            intake.schedule(conv, lane=client_ip(websocket))
    except WebSocketDisconnect:
        pass
    finally:
        pump.cancel()
        hub.unsubscribe(conv, queue)
