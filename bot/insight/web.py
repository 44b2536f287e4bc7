"""The customer-experience dashboard in the console: the page, its data, its charts and its CSV exports.

Supervisors and admins only, with the console's session and headers: the page redirects to the login page
without a session and answers 403 to an agent; the data, chart and export routes answer 401 / 403 (JSON).
Every route takes the same filters in its query string (`from`, `to`, `agency`, `channel`, `language`,
`tz`, `min_n`; see bot/insight/dashboard.py), a bad one is a 422 with a message.

One page view asks for its data and six charts at once, all with the same filters: the figures are computed
once (in a worker thread) and shared by the requests that ask within CACHE_TTL_S.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from bot.handoff.console import PAGES, SECURITY_HEADERS, ApiError, LoginDep, _need, page
from bot.insight import charts
from bot.insight.dashboard import TABLES, FilterError, Filters, compute, csv_text, tables
from bot.knowledge.bank import FaqBank
from bot.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/console", include_in_schema=False)
ROLE = "supervisor"
CACHE_TTL_S = 10.0
CACHE_SIZE = 32


class SingleFlight:
    """A small thread-safe cache: the first caller of a key computes it, callers meanwhile wait for that
    result, later ones reuse it for `ttl_s`. Failures are not kept."""

    def __init__(self, ttl_s: float, size: int) -> None:
        self._ttl_s, self._size = ttl_s, size
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, Future[Any]]] = {}

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < self._ttl_s:
                future, owner = entry[1], False
            else:
                future, owner = Future(), True
                self._entries[key] = (now, future)
                for old in [k for k, (at, _) in self._entries.items() if now - at >= self._ttl_s]:
                    del self._entries[old]
                while len(self._entries) > self._size:
                    del self._entries[next(iter(self._entries))]
        if not owner:
            return future.result()
        try:
            result = make()
        except BaseException as exc:
            with self._lock:
                if self._entries.get(key, (0.0, None))[1] is future:
                    del self._entries[key]
            future.set_exception(exc)  # for the callers waiting on it
            raise
        future.set_result(result)
        return result

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CACHE = SingleFlight(CACHE_TTL_S, CACHE_SIZE)


@lru_cache(maxsize=4)
def _bank_from(directory: str) -> FaqBank:
    return FaqBank.load(Path(directory))


def _bank(runtime: Runtime) -> FaqBank:
    """The FAQ bank the bot answers from (read from FAQ_DIR until the knowledge base is loaded)."""
    if runtime.knowledge is not None:
        return runtime.knowledge.bank
    return _bank_from(str(runtime.settings.faq_dir))


def _filters(request: Request, runtime: Runtime, bank: FaqBank) -> Filters:
    known = set(bank.agencies) | {a for q in runtime.centre.config.queues for a in q.agencies}
    try:
        return Filters.parse(request.query_params, agencies=known)
    except FilterError as exc:
        raise ApiError(422, str(exc)) from exc


async def _data(request: Request, runtime: Runtime) -> tuple[Filters, dict[str, Any]]:
    """The filters of the request and the dashboard's figures for them (shared by concurrent requests)."""
    bank = _bank(runtime)
    filters = _filters(request, runtime, bank)
    config, settings = runtime.centre.config, runtime.settings
    key = (id(runtime.db), id(bank), filters)
    data = await asyncio.to_thread(
        CACHE.get, key, lambda: compute(runtime.db, bank, config, settings, filters)
    )
    return filters, data


@router.get("/dashboard")
async def dashboard_page(request: Request, runtime: RuntimeDep) -> Response:
    """The page: a static shell that dashboard.js fills in (textContent only) from the JSON below."""
    return await page(request, runtime, "dashboard", ROLE, shell="dashboard.html")


@router.get("/api/dashboard")
async def dashboard_data(request: Request, login: LoginDep, runtime: RuntimeDep) -> JSONResponse:
    """Every figure and table of the dashboard for the filters in the query string."""
    _need(login, ROLE)
    _, data = await _data(request, runtime)
    return JSONResponse(data, headers=SECURITY_HEADERS)


@router.get("/dashboard/charts/{name}.svg")
async def dashboard_chart(
    name: str, request: Request, login: LoginDep, runtime: RuntimeDep
) -> Response:
    """One chart (see bot/insight/charts.py CHARTS) as an SVG image."""
    _need(login, ROLE)
    if name not in charts.CHARTS:
        raise ApiError(404, f"no chart {name[:64]!r}")
    _, data = await _data(request, runtime)
    return Response(charts.render(name, data), media_type="image/svg+xml", headers=SECURITY_HEADERS)


@router.get("/dashboard/export/{table}.csv")
async def dashboard_export(
    table: str, request: Request, login: LoginDep, runtime: RuntimeDep
) -> Response:
    """One table as CSV (UTF-8 with a byte-order mark, so that spreadsheets read accents right)."""
    _need(login, ROLE)
    if table not in TABLES:
        raise ApiError(404, f"no table {table[:64]!r}")
    filters, data = await _data(request, runtime)
    name = f"dashboard-{table}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return Response(
        "\ufeff" + csv_text(tables(data)[table]),
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/static/dashboard.js")
async def dashboard_js(_: LoginDep) -> Response:
    return FileResponse(
        PAGES / "dashboard.js", media_type="text/javascript", headers=SECURITY_HEADERS
    )


@router.get("/static/dashboard.css")
async def dashboard_css() -> Response:
    return FileResponse(PAGES / "dashboard.css", media_type="text/css", headers=SECURITY_HEADERS)
