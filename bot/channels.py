"""Provider channel webhooks (Twilio SMS/WhatsApp, Telegram, Messenger) on the durable inbox.

Every webhook is verified and parsed by its adapter, stored (unique per channel + provider message id),
committed, and only then acknowledged; the conversation worker answers afterwards and the outbox sender
delivers the replies. A provider's retry of the same message is a no-op.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bot.runtime import Runtime, RuntimeDep
from bot.settings import Settings
from connectors.base import ChannelAdapter, Incoming, WebhookRejected
from connectors.text import clean

router = APIRouter(prefix="/channels", tags=["channels"])
# Stored as received (cleaned); the worker politely refuses what is over MAX_MESSAGE_CHARS.
STORE_LIMIT = 20_000


def build_adapters(settings: Settings) -> dict[str, ChannelAdapter]:
    """The adapters of every channel whose secrets are configured, by channel name."""
    adapters: dict[str, ChannelAdapter] = {}
    if settings.twilio_auth_token and settings.twilio_account_sid:
        from connectors.twilio import TwilioAdapter

        twilio = TwilioAdapter(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_from_number or "",
            settings.twilio_whatsapp_from or "",
            settings.public_base_url,
            api_base=settings.twilio_api_base,
            trust_forwarded=settings.trust_forwarded_headers,
            max_segments=settings.sms_max_segments,
        )
        adapters["sms"] = adapters["whatsapp"] = twilio
    if settings.telegram_bot_token and settings.telegram_secret_token:
        from connectors.telegram import TelegramAdapter

        adapters["telegram"] = TelegramAdapter(
            settings.telegram_bot_token,
            settings.telegram_secret_token,
            api_base=settings.telegram_api_base,
        )
    if (
        settings.messenger_app_secret
        and settings.messenger_page_access_token
        and settings.messenger_verify_token
    ):
        from connectors.messenger import MessengerAdapter

        adapters["messenger"] = MessengerAdapter(
            settings.messenger_page_access_token,
            settings.messenger_app_secret,
            settings.messenger_verify_token,
            graph_base=settings.graph_api_base,
            api_version=settings.graph_api_version,
        )
    return adapters


async def _ingest(
    runtime: Runtime, channel: str, request: Request
) -> JSONResponse | tuple[Any, list[Incoming]]:
    """Verify, parse, store and commit; schedule the turns. Returns the channel's adapter and what was
    stored, or the response refusing the webhook (404 unconfigured channel, 403, 400, 413)."""
    adapter = runtime.adapters.get(channel)
    if adapter is None:
        return JSONResponse({"error": f"channel {channel} is not configured"}, status_code=404)
    try:
        messages: list[Incoming] = await adapter.parse(request)
    except WebhookRejected as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status_code)
    conversations = []
    for message in messages:
        text = clean(message.text, STORE_LIMIT).text
        title = clean(message.title, 300).text or None if message.title else None
        received = (
            await asyncio.to_thread(  # a blocking commit: off the event loop, other webhooks go on
                runtime.inbox.receive,
                message.channel,
                message.address,
                message.provider_message_id,
                text,
                title,
            )
        )
        if received.conversation_id not in conversations:
            conversations.append(received.conversation_id)
    for conversation_id in conversations:
        task = asyncio.create_task(runtime.worker.drain(conversation_id))
        runtime.background.add(task)
        task.add_done_callback(runtime.background.discard)
    return adapter, messages


@router.post("/twilio/sms")
async def twilio_webhook(request: Request, runtime: RuntimeDep) -> Response:
    """Twilio's SMS and WhatsApp webhook: stored, then answered at once with empty TwiML."""
    stored = await _ingest(runtime, "sms", request)
    if isinstance(stored, JSONResponse):
        return stored
    return Response(stored[0].empty_twiml(), media_type="text/xml")


@router.post("/telegram/webhook")
async def telegram_webhook(request: Request, runtime: RuntimeDep) -> Response:
    """Telegram's webhook (secret token checked by the adapter)."""
    stored = await _ingest(runtime, "telegram", request)
    if isinstance(stored, JSONResponse):
        return stored
    adapter, messages = stored
    await adapter.acknowledge(messages)  # stops the pressed button's spinner
    return JSONResponse({"ok": True})


@router.get("/messenger/webhook")
async def messenger_subscribe(request: Request, runtime: RuntimeDep) -> Response:
    """Meta's subscription handshake: echo hub.challenge when hub.verify_token matches."""
    adapter = runtime.adapters.get("messenger")
    if adapter is None:
        return JSONResponse({"error": "channel messenger is not configured"}, status_code=404)
    challenge = adapter.verify_subscription(request.query_params)  # type: ignore[attr-defined]
    if challenge is None:
        return JSONResponse({"error": "verify token does not match"}, status_code=403)
    return PlainTextResponse(challenge)


@router.post("/messenger/webhook")
async def messenger_webhook(request: Request, runtime: RuntimeDep) -> Response:
    """Messenger's webhook (X-Hub-Signature-256 checked by the adapter), batched entries included."""
    stored = await _ingest(runtime, "messenger", request)
    return stored if isinstance(stored, JSONResponse) else PlainTextResponse("EVENT_RECEIVED")


@router.api_route("/{channel}/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
async def unknown_channel(channel: str) -> JSONResponse:
    """Anything else under /channels is an unknown channel."""
    return JSONResponse({"error": f"unknown channel {channel}"}, status_code=404)
