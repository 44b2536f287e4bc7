"""The customer-experience dashboard in the console: the page, its data, its charts and its CSV
exports.

Supervisors and admins only, with the console's session and headers: the page redirects to the login
page without a session and answers 403 to an agent; the data, chart and export routes answer
401 / 403 (JSON). Every route takes the same filters in its query string (`from`, `to`, `agency`,
`channel`, `language`, `tz`, `min_n`; see bot/insight/dashboard/), and a bad one is a 422 with
a message.

One page view asks for its data and six charts at once, all with the same filters: the figures are
computed once (in a worker thread) and shared by the requests that ask within CACHE_TTL_S.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from bot.insight import charts
from bot.insight.dashboard import TABLES, FilterError, Filters, compute, csv_text, tables
from bot.insight.single_flight import SingleFlight
from bot.knowledge.bank import FaqBank
from bot.web.auth import PAGES, SECURITY_HEADERS, ApiError, LoginDep, need_role
from bot.web.deps import AgentsDep, services
from bot.web.routes.console_pages import page

router = APIRouter(prefix="/console", include_in_schema=False)
ROLE = "supervisor"
CACHE_TTL_S = 10.0
CACHE_SIZE = 32
CACHE = SingleFlight(CACHE_TTL_S, CACHE_SIZE)


@lru_cache(maxsize=4)
def _bank_from(directory: str) -> FaqBank:
    return FaqBank.load(Path(directory))


def _bank(request: Request) -> FaqBank:
    """The FAQ bank the bot answers from (read from FAQ_DIR until the knowledge base is loaded)."""
    knowledge = services(request).knowledge
    if knowledge is not None:
        return knowledge.bank
    return _bank_from(str(services(request).settings.faq_dir))


async def _data(request: Request) -> tuple[Filters, dict[str, Any]]:
    """The request's filters and the dashboard's figures for them (shared by
    concurrent requests)."""
    found = services(request)
    bank, config, settings = _bank(request), found.centre.config, found.settings
    known = set(bank.agencies) | {a for q in config.queues for a in q.agencies}
    try:
        filters = Filters.parse(request.query_params, agencies=known)
    except FilterError as exc:
        raise ApiError(422, str(exc)) from exc
    key = (id(found.db), id(bank), filters)
    data = await asyncio.to_thread(
        CACHE.get, key, lambda: compute(found.db, bank, config, settings, filters)
    )
    return filters, data


@router.get("/dashboard")
async def dashboard_page(request: Request, agents: AgentsDep) -> Response:
    """The page: a static shell that dashboard.js fills in (textContent only) from the
    JSON below."""
    return await page(request, agents, "dashboard", ROLE, shell="dashboard.html")


@router.get("/api/dashboard")
async def dashboard_data(request: Request, login: LoginDep) -> JSONResponse:
    """Every figure and table of the dashboard for the filters in the query string."""
    need_role(login, ROLE)
    _, data = await _data(request)
    return JSONResponse(data, headers=SECURITY_HEADERS)


@router.get("/dashboard/charts/{name}.svg")
async def dashboard_chart(name: str, request: Request, login: LoginDep) -> Response:
    """One chart (see bot/insight/charts.py CHARTS) as an SVG image."""
    need_role(login, ROLE)
    if name not in charts.CHARTS:
        raise ApiError(404, f"no chart {name[:64]!r}")
    _, data = await _data(request)
    svg = charts.render(name, data)
    return Response(svg, media_type="image/svg+xml", headers=SECURITY_HEADERS)


@router.get("/dashboard/export/{table}.csv")
async def dashboard_export(table: str, request: Request, login: LoginDep) -> Response:
    """One table as CSV (UTF-8 with a byte-order mark, so that spreadsheets read accents right)."""
    need_role(login, ROLE)
    if table not in TABLES:
        raise ApiError(404, f"no table {table[:64]!r}")
    filters, data = await _data(request)
    name = f"dashboard-{table}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return Response(
        "\ufeff" + csv_text(tables(data)[table]),
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/static/dashboard.js")
async def dashboard_js(_: LoginDep) -> Response:
    """The dashboard's script (logged-in agents only)."""
    return FileResponse(
        PAGES / "dashboard.js", media_type="text/javascript", headers=SECURITY_HEADERS
    )


@router.get("/static/dashboard.css")
async def dashboard_css() -> Response:
    """The dashboard's style sheet."""
    return FileResponse(PAGES / "dashboard.css", media_type="text/css", headers=SECURITY_HEADERS)
