"""Health checks, the demo page and the widget's script."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, Response

from bot.web.deps import DatabaseDep, EngineDep, KnowledgeDep

router = APIRouter()
WEB = Path(__file__).resolve().parent.parent


@router.get("/healthz")
async def healthz(engine: EngineDep, knowledge: KnowledgeDep) -> JSONResponse:
    """200 when the app, the engine and the index are ready; 503 with what is missing otherwise."""
    checks = {"app": True, "index": knowledge is not None, "engine": await engine.ready()}
    ready = all(checks.values())
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


@router.get("/livez")
async def livez(db: DatabaseDep) -> JSONResponse:
    """200 while the app can take webhooks (its database answers), even with the engine down: use it
    as the load balancer's readiness check, so messages keep being stored during an
    engine outage."""
    try:
        await asyncio.to_thread(db.ping)
    except Exception:  # noqa: BLE001 - any database failure means "not live"
        return JSONResponse({"live": False}, status_code=503)
    return JSONResponse({"live": True})


@router.get("/", include_in_schema=False)
async def demo_page() -> Response:
    """The demo page with the widget."""
    return FileResponse(WEB / "pages" / "demo.html", media_type="text/html")


@router.get("/webchat/widget.js", include_in_schema=False)
async def widget() -> Response:
    """The widget's one script, embedded by agency sites."""
    return FileResponse(WEB / "static" / "widget.js", media_type="text/javascript")
