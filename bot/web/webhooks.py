"""Turning an HTTP request into a framework-free `WebhookRequest` for a channel adapter, reading the
body with its cap counted while streaming (chunked bodies too)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.requests import Request

from bot.web.forwarded import FORWARDED_HEADERS, Network, is_trusted
from connectors.base import WebhookRejected, WebhookRequest


async def read_capped(request: Request, limit: int) -> bytes:
    """The raw body; 413 (`WebhookRejected`) past `limit` bytes, declared or streamed."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise WebhookRejected(413, "body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise WebhookRejected(413, "body too large")
    return bytes(body)


async def webhook_request(
    request: Request, limit: int, trusted: tuple[Network, ...] = ()
) -> WebhookRequest:
    """The request as an adapter reads it; X-Forwarded-* only when a trusted proxy sent it."""
    headers: Mapping[str, str] = request.headers
    if not is_trusted(request.client.host if request.client else None, trusted):
        kept = MutableHeaders(raw=list(request.headers.raw))
        for name in FORWARDED_HEADERS:
            del kept[name]
        headers = kept
    return WebhookRequest(
        method=request.method,
        base_url=str(request.base_url).rstrip("/"),
        path=request.url.path,
        query=request.url.query,
        headers=headers,
        body=await read_capped(request, limit),
    )
