"""Console authentication: the session cookie, CSRF tokens, roles, and the API's error answers.

Every console page, API route and socket needs a session (pages redirect to the login page, the API
answers 401, the socket closes with 4401); state-changing calls also need the session's CSRF token
in the `X-CSRF-Token` header.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import html
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.requests import HTTPConnection

from bot.clock import aware
from bot.handoff.agents import Agents, Login, role_at_least
from bot.web.deps import AgentsDep, CentreDep, services
from bot.web.forwarded import client_address, networks

PAGES = Path(__file__).resolve().parent / "console"
COOKIE = "govbot_console"
LOGIN_CSRF_COOKIE = "govbot_login_csrf"
PRESENCE_WRITE_S = 5  # an agent's requests refresh their presence at most this often
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'",
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
    """The JSON answer to an `ApiError`."""
    assert isinstance(exc, ApiError)
    return JSONResponse(
        {"error": exc.message}, status_code=exc.status_code, headers=SECURITY_HEADERS
    )


def client_ip(connection: HTTPConnection) -> str:
    """The caller's address: X-Forwarded-For is read only when the peer is in TRUSTED_PROXIES."""
    trusted = networks(tuple(services(connection).settings.proxies))
    peer = connection.client.host if connection.client else None
    return client_address(peer, connection.headers, trusted)[:64]


async def session_of(connection: HTTPConnection, agents: Agents) -> Login | None:
    """The console session of the request's cookie, if it is valid."""
    return await asyncio.to_thread(agents.session_for, connection.cookies.get(COOKIE))


async def current_login(request: Request, agents: AgentsDep, centre: CentreDep) -> Login:
    """The API caller's session; 401 without one, 403 on a state change without the CSRF token."""
    login = await session_of(request, agents)
    if login is None:
        raise ApiError(401, "log in first")
    last_seen = login.agent.last_seen_at
    stale = dt.timedelta(seconds=PRESENCE_WRITE_S)
    if last_seen is None or agents.now() - aware(last_seen) > stale:
        # any request shows the agent is there
        await asyncio.to_thread(centre.heartbeat, login.agent)
    if request.method not in ("GET", "HEAD"):
        token = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(token.encode(), login.csrf_token.encode()):
            raise ApiError(403, "missing or wrong CSRF token")
    return login


LoginDep = Annotated[Login, Depends(current_login)]


def need_role(login: Login, role: str) -> None:
    """403 unless the agent has at least `role`."""
    if not role_at_least(login.agent.role, role):
        raise ApiError(403, f"{role} role needed")


async def supervisor(login: LoginDep) -> Login:
    """The logged-in account, if it is a supervisor or an admin (403 otherwise)."""
    need_role(login, "supervisor")
    return login


SupervisorDep = Annotated[Login, Depends(supervisor)]


def html_page(body: str, status: int = 200) -> HTMLResponse:
    """An HTML answer with the console's security headers."""
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def filled(template: str, fragments: Mapping[str, str] | None = None, **values: str) -> str:
    """A page template with `__KEY__` placeholders replaced: `fragments` by our own markup (from
    PAGES, never from a request), then `values` HTML-escaped."""
    body = (PAGES / template).read_text(encoding="utf-8")
    for key, fragment in (fragments or {}).items():
        body = body.replace(f"__{key.upper()}__", fragment)
    for key, value in values.items():
        body = body.replace(f"__{key.upper()}__", html.escape(value))
    return body
