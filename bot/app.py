"""The FastAPI app: web chat, the mounted action server, health, and the demo page."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response

from actions import services as action_services
from bot import actions_endpoint, channels
from bot.channels import build_adapters
from bot.engine.client import DialogueEngine, RasaEngine
from bot.handoff import console
from bot.handoff.agents import Agents
from bot.handoff.audit import AuditLog
from bot.handoff.centre import ContactCentre
from bot.handoff.config import load_config
from bot.handoff.queue import HandoffQueue
from bot.inbox.hub import LiveHub
from bot.inbox.outbox import Outbox
from bot.inbox.policy import OptOuts
from bot.inbox.sender import OutboxSender
from bot.inbox.store import Inbox
from bot.inbox.worker import ConversationWorker
from bot.insight import web as dashboard_web
from bot.insight.alerts import AlertWatcher
from bot.insight.gaps import GapClusterer
from bot.insight.recorder import Insight
from bot.language import LanguageDetector
from bot.privacy.logs import install_log_redaction
from bot.privacy.retention import run_purges
from bot.runtime import Runtime, RuntimeDep
from bot.settings import Settings, get_settings
from bot.storage.db import Database
from connectors import webchat

log = logging.getLogger(__name__)
WEB = Path(__file__).resolve().parent / "web"
MAX_BODY_BYTES = 64 * 1024


async def _load_knowledge(runtime: Runtime) -> None:
    action_services.use_detector(runtime.detector)
    knowledge = await asyncio.to_thread(action_services.knowledge, runtime.settings)
    await asyncio.to_thread(
        knowledge.ask, "warm up", "en"
    )  # load both models before the first citizen
    runtime.knowledge = knowledge
    log.info("knowledge ready: %d FAQs", len(knowledge.bank.faqs))


def _build_runtime(settings: Settings, db: Database, engine: DialogueEngine | None) -> Runtime:
    """Wire the services: inbox → worker → engine; outbox → sender → channel adapters."""
    owner = uuid.uuid4().hex[:16]  # this replica, in leases and claims
    detector, hub, inbox, opt_outs = LanguageDetector(), LiveHub(), Inbox(db), OptOuts(db)
    dialogue = engine or RasaEngine(
        settings.engine_url, settings.engine_timeout_s, settings.engine_concurrency
    )
    adapters = build_adapters(settings)
    outbox = Outbox(db, owner, settings.claim_s)
    sender = OutboxSender(outbox, adapters, opt_outs, settings.outbox_max_attempts)
    audit, insight = AuditLog(db), Insight(db, settings.sms_feedback_every)
    centre = ContactCentre(
        load_config(settings.contact_centre_file),
        HandoffQueue(db),
        inbox,
        hub,
        audit,
        on_replies=sender.wake.set,
        insight=insight,
    )
    worker = ConversationWorker(
        inbox,
        dialogue,
        hub,
        detector,
        opt_outs,
        max_attempts=settings.inbox_max_attempts,
        lease_s=settings.lease_s,
        service_name=settings.service_name,
        max_chars=settings.max_message_chars,
        on_replies=sender.wake.set,
        owner=owner,
        centre=centre,
        insight=insight,
    )
    return Runtime(
        settings,
        db,
        inbox,
        hub,
        dialogue,
        detector,
        worker,
        outbox,
        opt_outs,
        sender,
        adapters,
        centre,
        Agents(db, audit),
        audit,
        insight,
    )


def create_app(settings: Settings | None = None, engine: DialogueEngine | None = None) -> FastAPI:
    """Build the app; `engine` replaces the Rasa client (benchmarks and tests of failure paths)."""
    settings = settings or get_settings()
    install_log_redaction()  # no personal data (or URL secrets) in any log line
    logging.getLogger("httpx").setLevel(
        logging.WARNING
    )  # its INFO lines carry access tokens in URLs

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url, settings.database_pool_size)
        db.create_schema()
        runtime = _build_runtime(settings, db, engine)
        app.state.runtime = runtime
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(_load_knowledge(runtime)),
            asyncio.create_task(runtime.worker.run_retry_loop(settings.retry_interval_s, stop)),
            asyncio.create_task(runtime.sender.run(stop)),
            asyncio.create_task(runtime.centre.run_sweeps(settings.sweep_interval_s, stop)),
            asyncio.create_task(run_purges(settings, db, stop)),
            asyncio.create_task(AlertWatcher(db, settings).run(stop)),
            asyncio.create_task(
                GapClusterer(
                    db,
                    lambda texts: runtime.knowledge.embed_questions(texts),  # type: ignore[union-attr]
                    settings.gap_similarity,
                ).run(
                    settings.insight_interval_s, stop, ready=lambda: runtime.knowledge is not None
                )
            ),
        ]
        if settings.redis_url:
            tasks.append(
                asyncio.create_task(runtime.hub.relay_through_redis(settings.redis_url, stop))
            )
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if isinstance(runtime.engine, RasaEngine):
                await runtime.engine.close()
            for adapter in {id(a): a for a in runtime.adapters.values()}.values():
                await adapter.aclose()  # type: ignore[attr-defined]
            db.engine.dispose()

    app = FastAPI(title="govbot", lifespan=lifespan, docs_url=None, redoc_url=None)
    # The widget is embedded on agency sites of other origins; it sends no credentials.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.webchat_allowed_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        allow_credentials=False,
    )

    @app.middleware("http")
    async def limit_body(request: Request, call_next):  # type: ignore[no-untyped-def]
        length = request.headers.get("content-length")
        if length and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return JSONResponse(
                {"error": f"request body over {MAX_BODY_BYTES} bytes"}, status_code=413
            )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()][
            :5
        ]
        return JSONResponse({"error": "invalid request", "problems": problems}, status_code=422)

    @app.get("/healthz")
    async def healthz(runtime: RuntimeDep) -> JSONResponse:
        """200 when the app, the engine and the index are ready; 503 with what is missing otherwise."""
        checks = {
            "app": True,
            "index": runtime.knowledge is not None,
            "engine": await runtime.engine.ready(),
        }
        return JSONResponse(
            {"ready": all(checks.values()), **checks},
            status_code=200 if all(checks.values()) else 503,
        )

    @app.get("/livez")
    async def livez(runtime: RuntimeDep) -> JSONResponse:
        """200 while the app can take webhooks (its database answers), even with the engine down: use it as
        the load balancer's readiness check, so messages keep being stored during an engine outage."""
        try:
            await asyncio.to_thread(runtime.db.ping)
        except Exception:  # noqa: BLE001 - any database failure means "not live"
            return JSONResponse({"live": False}, status_code=503)
        return JSONResponse({"live": True})

    @app.get("/", include_in_schema=False)
    async def demo_page() -> Response:
        return FileResponse(WEB / "pages" / "demo.html", media_type="text/html")

    @app.get("/webchat/widget.js", include_in_schema=False)
    async def widget() -> Response:
        return FileResponse(WEB / "static" / "widget.js", media_type="text/javascript")

    app.include_router(webchat.router)
    app.include_router(channels.router)
    app.include_router(actions_endpoint.router)
    app.include_router(console.router)
    app.include_router(dashboard_web.router)
    app.add_exception_handler(console.ApiError, console.api_error)
    return app
