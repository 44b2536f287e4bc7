"""The console's pages: login, logout, and the logged-in shells (queue, supervisor, audit, the
knowledge studio, outreach and the citizen panel).

The pages are static shells rendered by console.js (the studio's by studio.js, outreach's by
outreach.js, the panel's by panel.js, each after the helpers they share in console-common.js) with
textContent only, and a strict Content-Security-Policy forbids inline script, so citizen text can
never run as HTML.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from bot.handoff.agents import role_at_least
from bot.settings import Settings
from bot.web.auth import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    PAGES,
    SECURITY_HEADERS,
    LoginDep,
    client_ip,
    filled,
    html_page,
    session_of,
)
from bot.web.deps import AgentsDep, SettingsDep

router = APIRouter(prefix="/console", include_in_schema=False)


def _login_page(csrf: str, error: str, status: int, secure: bool) -> HTMLResponse:
    """The login form with its CSRF token, also set as a cookie (Secure when served over https)."""
    response = html_page(filled("login.html", csrf=csrf, error=error), status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=secure, path="/console"
    )
    return response


def _https(settings: Settings) -> bool:
    return settings.public_base_url.startswith("https://")


@router.get("/login")
async def login_form(request: Request, agents: AgentsDep, settings: SettingsDep) -> Response:
    """The login form, with a fresh CSRF token (or the console, for a logged-in agent)."""
    if await session_of(request, agents) is not None:
        return RedirectResponse("/console", status_code=303)
    return _login_page(secrets.token_urlsafe(24), "", 200, _https(settings))


@router.post("/login")
async def login(
    request: Request,
    agents: AgentsDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the form's CSRF token, then the throttle and the password (bot/handoff/agents.py
    `login`); start a session. A throttled attempt answers 429 with Retry-After."""
    ip, secure = client_ip(request), _https(settings)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        return _login_page(
            secrets.token_urlsafe(24), "Your login form expired. Please try again.", 403, secure
        )
    outcome = await asyncio.to_thread(agents.login, username, password, ip)
    if outcome.retry_after_s > 0:
        wait = math.ceil(outcome.retry_after_s)
        later = f"{wait} seconds" if wait < 90 else f"{math.ceil(wait / 60)} minutes"
        throttled = _login_page(
            expected, f"Too many failed attempts. Try again in {later}.", 429, secure
        )
        throttled.headers["Retry-After"] = str(wait)
        return throttled
    agent = outcome.agent
    if agent is None:
        return _login_page(expected, "Wrong username or password.", 401, secure)
    ttl_s = settings.console_session_ttl_s
    token, _ = await asyncio.to_thread(agents.start_session, agent, ttl_s, ip)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(ttl_s),
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/console",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(
    request: Request, agents: AgentsDep, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """End the session, with its CSRF token only, and drop the cookie. Without the token nothing
    changes (403): the session and its cookie stay, so a forged form can neither log an agent out
    nor leave them believing they are out while the session lives on."""
    login = await session_of(request, agents)
    if login is not None:
        if not hmac.compare_digest(csrf.encode(), login.csrf_token.encode()):
            refused = (
                '<!doctype html><html lang="en"><title>Not logged out</title>'
                "<p>You are still logged in: this logout form was missing its security token. "
                '<a href="/console">Back to the console</a> and use its Log out button.</p></html>'
            )
            return html_page(refused, 403)
        await asyncio.to_thread(agents.end_session, login, client_ip(request))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


def _topbar(current: str) -> str:
    """The shared top bar with the current page's link marked."""
    bar = (PAGES / "topbar.html").read_text(encoding="utf-8")
    mark = f'data-nav="{current}"'
    return bar.replace(mark, f'{mark} aria-current="page"')


async def page(
    request: Request, agents: AgentsDep, name: str, role: str, shell: str = "page.html"
) -> Response:
    """A logged-in page: the static `shell` with the session's CSRF token, the page and the role
    filled in; 303 to the login page without a session, 403 without the role."""
    login = await session_of(request, agents)
    if login is None:
        return RedirectResponse("/console/login", status_code=303)
    if not role_at_least(login.agent.role, role):
        forbidden = "<!doctype html><title>Forbidden</title><p>This page needs the {} role.</p>"
        return html_page(forbidden.format(role), 403)
    body = filled(
        shell,
        {"topbar": _topbar(name)},
        csrf=login.csrf_token,
        page=name,
        role=login.agent.role,
        username=login.agent.username,
    )
    return html_page(body)


@router.get("")
async def queue_page(request: Request, agents: AgentsDep) -> Response:
    """The agents' queue page."""
    return await page(request, agents, "queue", "agent")


@router.get("/supervisor")
async def supervisor_page(request: Request, agents: AgentsDep) -> Response:
    """The supervisor's view of queues and agents."""
    return await page(request, agents, "supervisor", "supervisor")


@router.get("/audit")
async def audit_page(request: Request, agents: AgentsDep) -> Response:
    """The audit log (admins)."""
    return await page(request, agents, "audit", "admin")


@router.get("/studio")
async def studio_page(request: Request, agents: AgentsDep) -> Response:
    """The knowledge studio: any console account may open it; the studio's API answers only for
    the agencies the account has rights on (`govbot kb grant`)."""
    return await page(request, agents, "studio", "agent", shell="studio.html")


@router.get("/outreach")
async def outreach_page(request: Request, agents: AgentsDep) -> Response:
    """Outreach: compose, approve (a second supervisor) and follow broadcasts."""
    return await page(request, agents, "outreach", "supervisor", shell="outreach.html")


@router.get("/panel")
async def panel_page(request: Request, agents: AgentsDep) -> Response:
    """The citizen panel: write surveys, schedule waves, read and publish their results."""
    return await page(request, agents, "panel", "supervisor", shell="panel.html")


@router.get("/static/console.css")
async def console_css() -> Response:
    """The console's style sheet."""
    return FileResponse(PAGES / "console.css", media_type="text/css", headers=SECURITY_HEADERS)


@router.get("/static/console.js")
async def console_js(_: LoginDep) -> Response:
    """The console's script (logged-in agents only)."""
    return FileResponse(
        PAGES / "console.js", media_type="text/javascript", headers=SECURITY_HEADERS
    )


@router.get("/static/studio.js")
async def studio_js(_: LoginDep) -> Response:
    """The knowledge studio's script (logged-in agents only)."""
    return FileResponse(PAGES / "studio.js", media_type="text/javascript", headers=SECURITY_HEADERS)


@router.get("/static/console-common.js")
async def console_common_js(_: LoginDep) -> Response:
    """What the logged-in pages' scripts share (logged-in agents only)."""
    return FileResponse(
        PAGES / "console-common.js", media_type="text/javascript", headers=SECURITY_HEADERS
    )


@router.get("/static/outreach.js")
async def outreach_js(_: LoginDep) -> Response:
    """The outreach page's script (logged-in agents only; its API is for supervisors)."""
    return FileResponse(
        PAGES / "outreach.js", media_type="text/javascript", headers=SECURITY_HEADERS
    )


@router.get("/static/panel.js")
async def panel_js(_: LoginDep) -> Response:
    """The panel page's script (logged-in agents only; its API is for supervisors)."""
    return FileResponse(PAGES / "panel.js", media_type="text/javascript", headers=SECURITY_HEADERS)
