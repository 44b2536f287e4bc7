"""The agent console: login, pages, the JSON API and the live WebSocket, all under `/console`.

Every page, API route and the socket need a session (pages redirect to the login page, the API answers
401, the socket closes with 4401); state-changing calls also need the session's CSRF token in the
`X-CSRF-Token` header. The pages are static shells rendered by console.js with textContent only, and a
strict Content-Security-Policy forbids inline script, so citizen text can never run as HTML.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import html
import logging
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from bot.handoff.agents import Login, role_at_least
from bot.handoff.centre import QUEUE_TOPIC, agent_topic
from bot.handoff.hours import is_open, next_opening
from bot.handoff.queue import QueueError
from bot.privacy.redact import redact
from bot.runtime import Runtime, RuntimeDep
from bot.storage.models import Handoff, utcnow

log = logging.getLogger(__name__)
router = APIRouter(prefix="/console", include_in_schema=False)
PAGES = Path(__file__).resolve().parent.parent / "web" / "console"
COOKIE = "govbot_console"
LOGIN_CSRF_COOKIE = "govbot_login_csrf"
PRESENCE_WRITE_S = 5  # an agent's requests refresh their presence at most this often
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ApiError(Exception):
    """An API refusal: status code and a short message, answered as {"error": message}."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


async def api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(
        {"error": exc.message}, status_code=exc.status_code, headers=SECURITY_HEADERS
    )


def client_ip(request: Request | WebSocket, runtime: Runtime) -> str:
    if runtime.settings.trust_forwarded_headers:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if forwarded:
            return forwarded[:64]
    return request.client.host if request.client else "unknown"


async def _session(request: Request | WebSocket, runtime: Runtime) -> Login | None:
    return await asyncio.to_thread(runtime.agents.session_for, request.cookies.get(COOKIE))


async def current_login(request: Request, runtime: RuntimeDep) -> Login:
    """The API caller's session; 401 without one, 403 on a state change without the CSRF token."""
    login = await _session(request, runtime)
    if login is None:
        raise ApiError(401, "log in first")
    last_seen = login.agent.last_seen_at
    if last_seen is None or utcnow() - (
        last_seen if last_seen.tzinfo else last_seen.replace(tzinfo=dt.UTC)
    ) > dt.timedelta(seconds=PRESENCE_WRITE_S):
        await asyncio.to_thread(
            runtime.centre.heartbeat, login.agent
        )  # any request shows the agent is there
    if request.method not in ("GET", "HEAD"):
        token = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(token.encode(), login.csrf_token.encode()):
            raise ApiError(403, "missing or wrong CSRF token")
    return login


LoginDep = Annotated[Login, Depends(current_login)]


def _need(login: Login, role: str) -> None:
    if not role_at_least(login.agent.role, role):
        raise ApiError(403, f"{role} role needed")


# -- pages -------------------------------------------------------------------------------------------
def _html(body: str, status: int = 200, **headers: str) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={**SECURITY_HEADERS, **headers})


def _login_page(csrf: str, error: str = "", status: int = 200) -> HTMLResponse:
    body = (PAGES / "login.html").read_text(encoding="utf-8")
    body = body.replace("__CSRF__", html.escape(csrf)).replace("__ERROR__", html.escape(error))
    response = _html(body, status)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/console")
    return response


@router.get("/login")
async def login_form(request: Request, runtime: RuntimeDep) -> Response:
    if await _session(request, runtime) is not None:
        return RedirectResponse("/console", status_code=303)
    return _login_page(secrets.token_urlsafe(24))


@router.post("/login")
async def login(
    request: Request,
    runtime: RuntimeDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    settings, agents, ip = runtime.settings, runtime.agents, client_ip(request, runtime)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        return _login_page(
            secrets.token_urlsafe(24), "Your login form expired. Please try again.", 403
        )
    if await asyncio.to_thread(
        agents.throttled,
        username,
        ip,
        settings.login_max_failures,
        settings.login_max_failures_per_ip,
        settings.login_window_s,
    ):
        return _login_page(
            expected, "Too many failed attempts. Wait a few minutes and try again.", 429
        )
    agent = await asyncio.to_thread(agents.authenticate, username, password, ip)
    if agent is None:
        return _login_page(expected, "Wrong username or password.", 401)
    token, _ = await asyncio.to_thread(
        agents.start_session, agent, settings.console_session_ttl_s, ip
    )
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.console_session_ttl_s),
        httponly=True,
        samesite="strict",
        secure=settings.public_base_url.startswith("https://"),
        path="/console",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(
    request: Request, runtime: RuntimeDep, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    login = await _session(request, runtime)
    if login is not None and hmac.compare_digest(csrf.encode(), login.csrf_token.encode()):
        await asyncio.to_thread(runtime.agents.end_session, login, client_ip(request, runtime))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


async def page(
    request: Request, runtime: Runtime, name: str, role: str, shell: str = "page.html"
) -> Response:
    """A logged-in page: the static `shell` with the session's CSRF token, the page and the role filled in;
    303 to the login page without a session, 403 without the role."""
    login = await _session(request, runtime)
    if login is None:
        return RedirectResponse("/console/login", status_code=303)
    if not role_at_least(login.agent.role, role):
        return _html(
            "<!doctype html><title>Forbidden</title><p>This page needs the " + role + " role.</p>",
            403,
        )
    body = (PAGES / shell).read_text(encoding="utf-8")
    for key, value in (
        ("__CSRF__", login.csrf_token),
        ("__PAGE__", name),
        ("__ROLE__", login.agent.role),
        ("__USERNAME__", login.agent.username),
    ):
        body = body.replace(key, html.escape(value))
    return _html(body)


@router.get("")
async def queue_page(request: Request, runtime: RuntimeDep) -> Response:
    return await page(request, runtime, "queue", "agent")


@router.get("/supervisor")
async def supervisor_page(request: Request, runtime: RuntimeDep) -> Response:
    return await page(request, runtime, "supervisor", "supervisor")


@router.get("/audit")
async def audit_page(request: Request, runtime: RuntimeDep) -> Response:
    return await page(request, runtime, "audit", "admin")


@router.get("/static/console.css")
async def console_css() -> Response:
    return FileResponse(PAGES / "console.css", media_type="text/css", headers=SECURITY_HEADERS)


@router.get("/static/console.js")
async def console_js(_: LoginDep) -> Response:
    return FileResponse(
        PAGES / "console.js", media_type="text/javascript", headers=SECURITY_HEADERS
    )


# -- API ---------------------------------------------------------------------------------------------
def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat()


def _waited_s(handoff: Handoff, now: dt.datetime) -> float:
    enqueued = (
        handoff.enqueued_at
        if handoff.enqueued_at.tzinfo
        else handoff.enqueued_at.replace(tzinfo=dt.UTC)
    )
    return max(0.0, (now - enqueued).total_seconds())


def _item(
    runtime: Runtime,
    handoff: Handoff,
    now: dt.datetime,
    position: int | None = None,
    usernames: dict[int, str] | None = None,
) -> dict[str, Any]:
    queue = runtime.centre.config.queue(handoff.queue_id)
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "queue_id": handoff.queue_id,
        "queue_name": queue.display_name("en") if queue else handoff.queue_id,
        "status": handoff.status,
        "priority": handoff.priority,
        "urgent": handoff.priority >= 100,
        "ticket": handoff.ticket,
        "reason": handoff.reason,
        "channel": handoff.channel,
        "language": handoff.language,
        "question": redact(handoff.question) if handoff.question else None,
        "waited_s": _waited_s(handoff, now),
        "position": position,
        "agent": (usernames or {}).get(handoff.agent_id or -1),
        "offered_until": _iso(handoff.offered_until),
    }


def _usernames(runtime: Runtime) -> dict[int, str]:
    return {agent.id: agent.username for agent in runtime.agents.list()}


@router.get("/api/me")
async def me(login: LoginDep) -> dict[str, Any]:
    return {
        "username": login.agent.username,
        "display_name": login.agent.display_name,
        "role": login.agent.role,
    }


@router.get("/api/config")
async def config(_: LoginDep, runtime: RuntimeDep) -> dict[str, Any]:
    cc = runtime.centre.config
    return {
        "queues": [{"id": q.id, "name": q.display_name("en")} for q in cc.queues],
        "dispositions": [{"code": d.code, "label": d.label} for d in cc.dispositions],
        "canned": [{"id": c.id, "title": c.title, "text": dict(c.text)} for c in cc.canned_replies],
    }


def _queue_states(
    runtime: Runtime, waiting: list[Handoff], now: dt.datetime
) -> list[dict[str, Any]]:
    """Each queue: open now?, how many wait, the longest wait (the queue page and the supervisor's)."""
    depth: dict[str, int] = {}
    longest: dict[str, float] = {}
    for handoff in waiting:
        depth[handoff.queue_id] = depth.get(handoff.queue_id, 0) + 1
        longest[handoff.queue_id] = max(longest.get(handoff.queue_id, 0.0), _waited_s(handoff, now))
    return [
        {
            "id": q.id,
            "name": q.display_name("en"),
            "open": is_open(q, now),
            "waiting": depth.get(q.id, 0),
            "longest_wait_s": longest.get(q.id, 0.0),
        }
        for q in runtime.centre.config.queues
    ]


def queue_snapshot(runtime: Runtime, agent_id: int, limit: int = 500) -> dict[str, Any]:
    """The queue page's data (blocking): every queue's state, the waiting list in service order, and mine."""
    centre, now = runtime.centre, utcnow()
    waiting = centre.queue.waiting(limit=100_000)
    usernames = _usernames(runtime)
    places: dict[str, int] = {}
    items = []
    for handoff in waiting[:limit]:
        places[handoff.queue_id] = places.get(handoff.queue_id, 0) + 1
        items.append(_item(runtime, handoff, now, places[handoff.queue_id], usernames))
    queues = _queue_states(runtime, waiting, now)
    for state, queue in zip(queues, centre.config.queues, strict=True):
        state["next_open"] = None if state["open"] else _iso(next_opening(queue, now))
    mine = [_item(runtime, h, now, None, usernames) for h in centre.queue.with_agent(agent_id)]
    return {"queues": queues, "waiting": items, "mine": mine}


@router.get("/api/queue")
async def queue(login: LoginDep, runtime: RuntimeDep) -> dict[str, Any]:
    return await asyncio.to_thread(queue_snapshot, runtime, login.agent.id)


class ClaimBody(BaseModel):
    queue_id: str | None = Field(default=None, max_length=64)


@router.post("/api/claim")
async def claim(
    login: LoginDep, runtime: RuntimeDep, request: Request, body: ClaimBody | None = None
) -> Any:
    queue_id = body.queue_id if body else None
    if queue_id and runtime.centre.config.queue(queue_id) is None:
        raise ApiError(404, f"no queue {queue_id!r}")
    handoff = await runtime.centre.claim(login, queue_id, client_ip(request, runtime))
    if handoff is None:
        raise ApiError(404, "nobody is waiting")
    return {"handoff": _item(runtime, handoff, utcnow())}


async def _act(runtime: Runtime, coro: Any) -> dict[str, Any]:
    try:
        handoff = await coro
    except QueueError as exc:
        raise ApiError(409, str(exc)) from exc
    return {"handoff": _item(runtime, handoff, utcnow())}


@router.post("/api/handoffs/{handoff_id}/accept")
async def accept(
    handoff_id: int, login: LoginDep, runtime: RuntimeDep, request: Request
) -> dict[str, Any]:
    return await _act(
        runtime, runtime.centre.accept(login, handoff_id, client_ip(request, runtime))
    )


@router.post("/api/handoffs/{handoff_id}/decline")
async def decline(
    handoff_id: int, login: LoginDep, runtime: RuntimeDep, request: Request
) -> dict[str, Any]:
    return await _act(
        runtime, runtime.centre.decline(login, handoff_id, client_ip(request, runtime))
    )


class ReplyBody(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


@router.post("/api/handoffs/{handoff_id}/reply")
async def reply(
    handoff_id: int, body: ReplyBody, login: LoginDep, runtime: RuntimeDep, request: Request
) -> dict[str, Any]:
    if not body.text.strip():
        raise ApiError(422, "the reply is empty")
    try:
        entry = await runtime.centre.reply(
            login, handoff_id, body.text.strip(), client_ip(request, runtime)
        )
    except QueueError as exc:
        raise ApiError(409, str(exc)) from exc
    return {"seq": entry.seq, "status": "sent"}


class TransferBody(BaseModel):
    queue_id: str = Field(min_length=1, max_length=64)


@router.post("/api/handoffs/{handoff_id}/transfer")
async def transfer(
    handoff_id: int, body: TransferBody, login: LoginDep, runtime: RuntimeDep, request: Request
) -> dict[str, Any]:
    if runtime.centre.config.queue(body.queue_id) is None:
        raise ApiError(404, f"no queue {body.queue_id!r}")
    return await _act(
        runtime,
        runtime.centre.transfer(login, handoff_id, body.queue_id, client_ip(request, runtime)),
    )


class ResolveBody(BaseModel):
    disposition: str = Field(min_length=1, max_length=64)


@router.post("/api/handoffs/{handoff_id}/resolve")
async def resolve(
    handoff_id: int, body: ResolveBody, login: LoginDep, runtime: RuntimeDep, request: Request
) -> dict[str, Any]:
    if runtime.centre.config.disposition(body.disposition) is None:
        raise ApiError(422, f"unknown disposition {body.disposition!r}")
    return await _act(
        runtime,
        runtime.centre.resolve(login, handoff_id, body.disposition, client_ip(request, runtime)),
    )


def _suggestions(
    runtime: Runtime, handoff: Handoff, transcript: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    kb = runtime.knowledge
    question = handoff.question or next(
        (line["text"] for line in reversed(transcript) if line["from"] == "user"), ""
    )
    if kb is None or not question:
        return []
    decision = kb.ask(question, handoff.language)
    found = []
    for hit in decision.candidates[:3]:
        faq = kb.faq(hit.faq_id)
        if faq is None:
            continue
        shown = kb.translation(faq, handoff.language)
        found.append(
            {
                "faq_id": shown.id,
                "question": shown.question,
                "answer": shown.answer,
                "source_url": shown.source_url,
            }
        )
    return found


@router.get("/api/handoffs/{handoff_id}")
async def handoff_detail(handoff_id: int, login: LoginDep, runtime: RuntimeDep) -> dict[str, Any]:
    def load() -> dict[str, Any]:
        handoff = runtime.centre.queue.get(handoff_id)
        if handoff is None:
            raise ApiError(404, "no such hand-off")
        if handoff.agent_id != login.agent.id and not role_at_least(login.agent.role, "supervisor"):
            raise ApiError(403, "this conversation is not yours")
        transcript = []
        for line in runtime.inbox.timeline(handoff.conversation_id):
            text = line["text"] if line["from"] == "bot" else redact(line["text"])
            transcript.append({**line, "text": text, "at": _iso(line["at"])})
        item = _item(
            runtime, handoff, utcnow(), runtime.centre.queue.position(handoff), _usernames(runtime)
        )
        item.update(callback_number=handoff.callback_number, ticket_message=handoff.ticket_message)
        return {
            "handoff": item,
            "transcript": transcript,
            "suggestions": _suggestions(runtime, handoff, transcript),
        }

    return await asyncio.to_thread(load)


def supervisor_snapshot(runtime: Runtime) -> dict[str, Any]:
    """Queue depth, longest wait and agents' load (blocking)."""
    centre, now = runtime.centre, utcnow()
    waiting = centre.queue.waiting(limit=100_000)
    with_agents = centre.queue.with_agent()
    online = {a.id for a in centre.queue.agents_online(centre.config.timers.heartbeat_timeout_s)}
    queues = _queue_states(runtime, waiting, now)
    for state in queues:
        state["assigned"] = sum(1 for h in with_agents if h.queue_id == state["id"])
    agents = [
        {
            "username": a.username,
            "display_name": a.display_name,
            "role": a.role,
            "online": a.id in online,
            "conversations": sum(1 for h in with_agents if h.agent_id == a.id),
        }
        for a in runtime.agents.list()
        if a.active
    ]
    return {"queues": queues, "agents": agents}


@router.get("/api/supervisor")
async def supervisor(login: LoginDep, runtime: RuntimeDep) -> dict[str, Any]:
    _need(login, "supervisor")
    return await asyncio.to_thread(supervisor_snapshot, runtime)


@router.get("/api/audit")
async def audit(
    login: LoginDep, runtime: RuntimeDep, before: int | None = None, limit: int = 200
) -> dict[str, Any]:
    _need(login, "admin")
    rows = await asyncio.to_thread(runtime.audit.entries, before, limit)
    return {
        "entries": [
            {
                "id": r.id,
                "at": _iso(r.at),
                "username": r.username,
                "action": r.action,
                "handoff_id": r.handoff_id,
                "ip": r.ip,
                "detail": r.detail,
            }
            for r in rows
        ]
    }


# -- live updates ------------------------------------------------------------------------------------
def _same_origin(websocket: WebSocket) -> bool:
    """A cookie-authenticated socket must come from our own pages (no cross-site socket hijacking)."""
    origin = websocket.headers.get("origin")
    if not origin:
        return True  # not a browser
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    await websocket.accept()
    login = await _session(websocket, runtime)
    if login is None or not _same_origin(websocket):
        await websocket.close(code=4401 if login is None else 4403)
        return
    hub, centre = runtime.hub, runtime.centre
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
                if await _session(websocket, runtime) is None:  # expired or logged out meanwhile
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
