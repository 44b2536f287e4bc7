"""The console's JSON API under /console/api: the queue, claims, an agent's moves, the supervisor's
view and the audit log. Every route needs a session (401) and, to change anything, its CSRF token
(403); a move that no longer applies answers 409."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from bot.handoff import views
from bot.handoff.agents import role_at_least
from bot.handoff.queue import QueueError
from bot.storage.models import Handoff
from bot.web.auth import ApiError, LoginDep, client_ip, need_role
from bot.web.deps import AgentsDep, AuditDep, CentreDep, InboxDep, KnowledgeDep, services
from bot.web.throttle import TooManyRequests


async def account_limit(request: Request, login: LoginDep) -> None:
    """The "account" rule: one agent's calls, from any number of tabs or addresses."""
    limiter = getattr(services(request), "limiter", None)  # absent where a test serves a few routes
    if limiter is not None:
        verdict = await limiter.hit("account", str(login.agent.id))
        if not verdict.allowed:
            raise TooManyRequests(verdict)


router = APIRouter(
    prefix="/console/api", include_in_schema=False, dependencies=[Depends(account_limit)]
)
# Row ids as clients may name them: within a database integer, so an out-of-range id is a 422
# rather than an overflow in the driver (a 500).
MAX_ID = 2**31 - 1
HandoffId = Annotated[int, Path(ge=1, le=MAX_ID)]


class ClaimBody(BaseModel):
    """Take the next conversation, from one queue or any."""

    queue_id: str | None = Field(default=None, max_length=64)


class ReplyBody(BaseModel):
    """An agent's message to the citizen."""

    text: str = Field(min_length=1, max_length=2000)


class TransferBody(BaseModel):
    """Move the conversation to another queue."""

    queue_id: str = Field(min_length=1, max_length=64)


class ResolveBody(BaseModel):
    """End the conversation with a disposition code."""

    disposition: str = Field(min_length=1, max_length=64)


@router.get("/me")
async def me(login: LoginDep) -> dict[str, Any]:
    """Who is logged in."""
    agent = login.agent
    return {"username": agent.username, "display_name": agent.display_name, "role": agent.role}


@router.get("/config")
async def config(_: LoginDep, centre: CentreDep) -> dict[str, Any]:
    """Queues, disposition codes and canned replies."""
    cc = centre.config
    return {
        "queues": [{"id": q.id, "name": q.display_name("en")} for q in cc.queues],
        "dispositions": [{"code": d.code, "label": d.label} for d in cc.dispositions],
        "canned": [{"id": c.id, "title": c.title, "text": dict(c.text)} for c in cc.canned_replies],
    }


@router.get("/queue")
async def queue(login: LoginDep, centre: CentreDep, agents: AgentsDep) -> dict[str, Any]:
    """The queue page's data."""
    return await asyncio.to_thread(views.queue_snapshot, centre, agents, login.agent.id)


def _shown(centre: CentreDep, handoff: Handoff) -> dict[str, Any]:
    return {"handoff": views.item(centre, handoff, centre.queue.now())}


async def _act(centre: CentreDep, move: Awaitable[Handoff]) -> dict[str, Any]:
    try:
        handoff = await move
    except QueueError as exc:
        raise ApiError(409, str(exc)) from exc
    return _shown(centre, handoff)


@router.post("/claim")
async def claim(
    login: LoginDep, centre: CentreDep, request: Request, body: ClaimBody | None = None
) -> Any:
    """Offer the next waiting conversation to this agent (404 when nobody waits)."""
    queue_id = body.queue_id if body else None
    if queue_id and centre.config.queue(queue_id) is None:
        raise ApiError(404, f"no queue {queue_id!r}")
    handoff = await centre.claim(login, queue_id, client_ip(request))
    if handoff is None:
        raise ApiError(404, "nobody is waiting")
    return _shown(centre, handoff)


@router.post("/handoffs/{handoff_id}/accept")
async def accept(
    handoff_id: HandoffId, login: LoginDep, centre: CentreDep, request: Request
) -> dict[str, Any]:
    """Accept the conversation offered to this agent."""
    return await _act(centre, centre.accept(login, handoff_id, client_ip(request)))


@router.post("/handoffs/{handoff_id}/decline")
async def decline(
    handoff_id: HandoffId, login: LoginDep, centre: CentreDep, request: Request
) -> dict[str, Any]:
    """Give the offered conversation back to its place in line."""
    return await _act(centre, centre.decline(login, handoff_id, client_ip(request)))


@router.post("/handoffs/{handoff_id}/reply")
async def reply(
    handoff_id: HandoffId, body: ReplyBody, login: LoginDep, centre: CentreDep, request: Request
) -> dict[str, Any]:
    """Send the citizen a message on their channel."""
    if not body.text.strip():
        raise ApiError(422, "the reply is empty")
    try:
        entry = await centre.reply(login, handoff_id, body.text.strip(), client_ip(request))
    except QueueError as exc:
        raise ApiError(409, str(exc)) from exc
    return {"seq": entry.seq, "status": "sent"}


@router.post("/handoffs/{handoff_id}/transfer")
async def transfer(
    handoff_id: HandoffId, body: TransferBody, login: LoginDep, centre: CentreDep, request: Request
) -> dict[str, Any]:
    """Move the conversation to another queue."""
    if centre.config.queue(body.queue_id) is None:
        raise ApiError(404, f"no queue {body.queue_id!r}")
    ip = client_ip(request)
    return await _act(centre, centre.transfer(login, handoff_id, body.queue_id, ip))


@router.post("/handoffs/{handoff_id}/resolve")
async def resolve(
    handoff_id: HandoffId, body: ResolveBody, login: LoginDep, centre: CentreDep, request: Request
) -> dict[str, Any]:
    """End the conversation; the bot takes over again."""
    if centre.config.disposition(body.disposition) is None:
        raise ApiError(422, f"unknown disposition {body.disposition!r}")
    ip = client_ip(request)
    return await _act(centre, centre.resolve(login, handoff_id, body.disposition, ip))


@router.get("/handoffs/{handoff_id}")
async def handoff_detail(
    handoff_id: HandoffId,
    login: LoginDep,
    centre: CentreDep,
    agents: AgentsDep,
    inbox: InboxDep,
    knowledge: KnowledgeDep,
) -> dict[str, Any]:
    """One conversation: its hand-off, transcript (redacted) and FAQ suggestions."""

    def load() -> dict[str, Any]:
        handoff = centre.queue.get(handoff_id)
        if handoff is None:
            raise ApiError(404, "no such hand-off")
        if handoff.agent_id != login.agent.id and not role_at_least(login.agent.role, "supervisor"):
            raise ApiError(403, "this conversation is not yours")
        lines = views.transcript(inbox, handoff.conversation_id)
        position = centre.queue.position(handoff)
        shown = views.item(centre, handoff, centre.queue.now(), position, views.usernames(agents))
        shown.update(callback_number=handoff.callback_number, ticket_message=handoff.ticket_message)
        suggested = views.suggestions(knowledge, handoff, lines)
        return {"handoff": shown, "transcript": lines, "suggestions": suggested}

    return await asyncio.to_thread(load)


@router.get("/supervisor")
async def supervisor(login: LoginDep, centre: CentreDep, agents: AgentsDep) -> dict[str, Any]:
    """Queues and agents at a glance (supervisors)."""
    need_role(login, "supervisor")
    return await asyncio.to_thread(views.supervisor_snapshot, centre, agents)


@router.get("/audit")
async def audit(
    login: LoginDep,
    log: AuditDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """The audit log, newest first (admins)."""
    need_role(login, "admin")
    rows = await asyncio.to_thread(log.entries, before, limit)
    entries = [
        {
            "id": r.id,
            "at": views.iso(r.at),
            "username": r.username,
            "action": r.action,
            "handoff_id": r.handoff_id,
            "ip": r.ip,
            "detail": r.detail,
        }
        for r in rows
    ]
    return {"entries": entries}
