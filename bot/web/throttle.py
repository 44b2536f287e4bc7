"""The rate limits at the HTTP edge: every request and socket counted per client address before
anything else is done with it, and the one 429 answer (with Retry-After) every route gives.

Provider webhooks are not counted per address: they come from the providers' few shared
addresses, carry a signature, and are counted per sender instead (bot/web/routes/channels.py);
the engine's action calls are the engine's own (token-checked).
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.web.forwarded import client_address, networks
from bot.web.ratelimit import RateLimiter, Verdict

NOT_PER_ADDRESS = ("/channels/", "/actions/")


def too_many(verdict: Verdict) -> JSONResponse:
    """429 `{"error": "too many requests"}`, with when to retry."""
    return JSONResponse(
        {"error": "too many requests"},
        status_code=429,
        headers={"Retry-After": str(verdict.retry_after)},
    )


class TooManyRequests(Exception):
    """Raised by a route or dependency past its rule; answered by `too_many`."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__("too many requests")
        self.verdict = verdict


async def too_many_requests(_: Request, exc: Exception) -> JSONResponse:
    """The exception handler of `TooManyRequests`."""
    assert isinstance(exc, TooManyRequests)
    return too_many(exc.verdict)


class AddressLimit:
    """ASGI middleware: the "address" rule on every HTTP request and socket handshake."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # a test may serve a few routes without the app's services
        services = getattr(scope["app"].state, "services", None) if "app" in scope else None
        limiter: RateLimiter | None = getattr(services, "limiter", None)
        if (
            services is None
            or limiter is None
            or scope["type"] not in ("http", "websocket")
            or scope["path"].startswith(NOT_PER_ADDRESS)
        ):
            await self.app(scope, receive, send)
            return
        peer = scope["client"][0] if scope.get("client") else None
        trusted = networks(tuple(services.settings.proxies))
        verdict = await limiter.hit("address", client_address(peer, Headers(scope=scope), trusted))
        if verdict.allowed:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await too_many(verdict)(scope, receive, send)
        else:  # refused before the handshake: the client sees 403
            await send({"type": "websocket.close", "code": 1008, "reason": "too many requests"})
