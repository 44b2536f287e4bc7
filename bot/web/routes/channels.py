"""Provider channel webhooks (Twilio SMS/WhatsApp, Telegram, Messenger) on the durable inbox.

Every webhook is verified and parsed by its adapter, stored (unique per channel + provider message
id), committed, and only then acknowledged; the conversation worker answers afterwards and the
outbox sender delivers the replies. A provider's retry of the same message is a no-op.

A sender past their rate (RATE_LIMIT_PER_SENDER) is still acknowledged and loses nothing: the
message is stored and answered in turn, the sender is asked once to slow down, and the worker
shares the engine fairly between conversations, so one sender's backlog delays nobody else.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bot.conversation.intake import Intake
from bot.web.deps import AdaptersDep, IntakeDep, OutboxDep, services
from bot.web.forwarded import networks
from bot.web.webhooks import webhook_request
from connectors.base import ChannelAdapter, Incoming, WebhookRejected

router = APIRouter(prefix="/channels", tags=["channels"])


def _unconfigured(channel: str) -> JSONResponse:
    return JSONResponse({"error": f"channel {channel} is not configured"}, status_code=404)


async def _ingest(
    adapter: ChannelAdapter, intake: Intake, request: Request
) -> JSONResponse | list[Incoming]:
    """Verify, parse, store and commit; schedule the turns. What was stored, or the response
    refusing the webhook (403, 400, 413)."""
    runtime = services(request)
    trusted = networks(tuple(runtime.settings.proxies))
    try:
        messages = await adapter.parse(
            await webhook_request(request, adapter.max_body_bytes, trusted)
        )
    except WebhookRejected as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status_code)
    stored = await intake.receive(messages)
    for message, received in zip(messages, stored, strict=True):
        if received.duplicate:
            continue  # a provider's retry is not the citizen writing again
        verdict = await runtime.limiter.hit("sender", f"{message.channel}:{message.address}")
        if verdict.first_refusal:
            await intake.ask_to_slow_down(received, message.text)
    return messages


@router.post("/twilio/sms")
async def twilio_webhook(request: Request, adapters: AdaptersDep, intake: IntakeDep) -> Response:
    """Twilio's SMS and WhatsApp webhook: stored, then answered at once with empty TwiML."""
    from connectors.twilio import EMPTY_TWIML

    adapter = adapters.get("sms")
    if adapter is None:
        return _unconfigured("sms")
    stored = await _ingest(adapter, intake, request)
    if isinstance(stored, JSONResponse):
        return stored
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/twilio/status")
async def twilio_status(request: Request, adapters: AdaptersDep, outbox: OutboxDep) -> Response:
    """Twilio's signed delivery reports (StatusCallback): delivered, undelivered, failed... kept on
    the outbound message, counted in a broadcast's results."""
    import asyncio

    from connectors.twilio import TwilioAdapter

    adapter = adapters.get("sms")
    if not isinstance(adapter, TwilioAdapter):
        return _unconfigured("sms")
    runtime = services(request)
    trusted = networks(tuple(runtime.settings.proxies))
    try:
        sid, status = adapter.parse_status(
            await webhook_request(request, adapter.max_body_bytes, trusted)
        )
    except WebhookRejected as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status_code)
    await asyncio.to_thread(outbox.delivery_report, sid, status)
    return Response(status_code=204)


@router.post("/telegram/webhook")
async def telegram_webhook(request: Request, adapters: AdaptersDep, intake: IntakeDep) -> Response:
    """Telegram's webhook (secret token checked by the adapter)."""
    from connectors.telegram import TelegramAdapter

    adapter = adapters.get("telegram")
    if not isinstance(adapter, TelegramAdapter):
        return _unconfigured("telegram")
    stored = await _ingest(adapter, intake, request)
    if isinstance(stored, JSONResponse):
        return stored
    await adapter.acknowledge(stored)  # stops the pressed button's spinner
    return JSONResponse({"ok": True})


@router.get("/messenger/webhook")
async def messenger_subscribe(request: Request, adapters: AdaptersDep) -> Response:
    """Meta's subscription handshake: echo hub.challenge when hub.verify_token matches."""
    from connectors.messenger import MessengerAdapter

    adapter = adapters.get("messenger")
    if not isinstance(adapter, MessengerAdapter):
        return _unconfigured("messenger")
    challenge = adapter.verify_subscription(request.query_params)
    if challenge is None:
        return JSONResponse({"error": "verify token does not match"}, status_code=403)
    return PlainTextResponse(challenge)


@router.post("/messenger/webhook")
async def messenger_webhook(request: Request, adapters: AdaptersDep, intake: IntakeDep) -> Response:
    """Messenger's webhook (X-Hub-Signature-256 checked by the adapter), batched
    entries included."""
    adapter = adapters.get("messenger")
    if adapter is None:
        return _unconfigured("messenger")
    stored = await _ingest(adapter, intake, request)
    return stored if isinstance(stored, JSONResponse) else PlainTextResponse("EVENT_RECEIVED")


@router.api_route("/{channel}/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
async def unknown_channel(channel: str) -> JSONResponse:
    """Anything else under /channels is an unknown channel."""
    return JSONResponse({"error": f"unknown channel {channel}"}, status_code=404)
