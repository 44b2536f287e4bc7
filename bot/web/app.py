"""The app factory: services built at start-up, background tasks, middleware, and every surface's
routes. `govbot serve` runs `create_app` through uvicorn."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from actions import services as action_services
from bot.engine.client import DialogueEngine, RasaEngine
from bot.insight.alerts import AlertWatcher
from bot.insight.gaps import GapClusterer
from bot.privacy.logs import install_log_redaction
from bot.privacy.retention import run_purges
from bot.settings import Settings, get_settings
from bot.storage.db import Database
from bot.studio.reminders import run_reminders
from bot.web.auth import ApiError, api_error
from bot.web.body_limit import BodyLimit
from bot.web.headers import SecurityHeaders
from bot.web.routes import (
    actions,
    channels,
    console_api,
    console_live,
    console_pages,
    dashboard,
    health,
    outreach,
    panel,
    panel_public,
    studio,
    webchat,
)
from bot.web.services import Services, build_services
from bot.web.throttle import AddressLimit, TooManyRequests, too_many_requests

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024
# Provider webhooks: the largest adapter cap (Telegram, Messenger); each adapter applies its own.
WEBHOOK_MAX_BYTES = 1024 * 1024


async def _load_knowledge(services: Services) -> None:
    action_services.use_detector(services.detector)
    action_services.use_live(services.live)
    knowledge = await asyncio.to_thread(services.live.load)
    # load both models before the first citizen
    await asyncio.to_thread(knowledge.ask, "warm up", "en")
    log.info("knowledge ready: %d FAQs", len(knowledge.bank.faqs))


def _background(services: Services, stop: asyncio.Event) -> list[asyncio.Task[Any]]:
    """The app's background work: loading the index, retries, sending, sweeps, purges, insight."""
    settings, db = services.settings, services.db

    def embed(texts: list[str]) -> np.ndarray:
        assert services.knowledge is not None
        return services.knowledge.embed_questions(texts)

    clusterer = GapClusterer(db, embed, settings.gap_similarity)
    jobs: list[Coroutine[Any, Any, Any]] = [
        _load_knowledge(services),
        services.live.run(settings.kb_refresh_s, stop),
        run_reminders(db, settings, stop),
        services.intake.worker.run_retry_loop(settings.retry_interval_s, stop),
        services.sender.run(stop),
        services.fanout.run(settings.retry_interval_s, stop),
        services.wave_sweep.run(settings.sweep_interval_s, stop),
        services.centre.run_sweeps(settings.sweep_interval_s, stop),
        run_purges(settings, db, stop),
        AlertWatcher(db, settings).run(stop),
        clusterer.run(
            settings.insight_interval_s, stop, ready=lambda: services.knowledge is not None
        ),
    ]
    if settings.redis_url:
        jobs.append(services.hub.relay_through_redis(settings.redis_url, stop))
    return [asyncio.create_task(job) for job in jobs]


async def _close(services: Services) -> None:
    if isinstance(services.engine, RasaEngine):
        await services.engine.close()
    for adapter in {id(a): a for a in services.adapters.values()}.values():
        await adapter.aclose()
    services.db.engine.dispose()


def create_app(settings: Settings | None = None, engine: DialogueEngine | None = None) -> FastAPI:
    """Build the app; `engine` replaces the Rasa client (benchmarks and tests of failure paths)."""
    settings = settings or get_settings()
    install_log_redaction()  # no personal data (or URL secrets) in any log line
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry tokens in URLs

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url, settings.database_pool_size)
        db.create_schema()
        services = build_services(settings, db, engine)
        services.topics.seed(settings.outreach_topics_file)
        app.state.services = services
        stop = asyncio.Event()
        tasks = _background(services, stop)
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await _close(services)

    # No /openapi.json, /docs or /redoc: the API is not for the public to browse.
    app = FastAPI(
        title="govbot", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    # Added first, so they run inside CORS (a refusal still carries its CORS headers): the body cap
    # innermost, the per-address limit before it (the cheapest refusal comes first).
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES, prefixes={"/channels/": WEBHOOK_MAX_BYTES})
    app.add_middleware(AddressLimit)
    # The widget is embedded on agency sites of other origins; it sends no credentials.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.webchat_allowed_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        allow_credentials=False,
    )

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()][
            :5
        ]
        return JSONResponse({"error": "invalid request", "problems": problems}, status_code=422)

    for module in (
        health,
        webchat,
        channels,
        actions,
        console_pages,
        console_api,
        console_live,
        studio,
        outreach,
        panel,
        panel_public,
    ):
        app.include_router(module.router)
    app.include_router(dashboard.router)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(TooManyRequests, too_many_requests)
    # Added last, so outermost: every answer gets its headers, refusals by other middleware too.
    app.add_middleware(SecurityHeaders, https=settings.public_base_url.startswith("https://"))
    return app
