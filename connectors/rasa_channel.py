"""The engine's only way in: a Rasa input channel that answers the app alone, which sends the shared
secret ENGINE_TOKEN as a bearer token with every turn (after redacting the citizen's text).

Loaded by the engine (Python 3.10, rasa and sanic) from credentials.yml; the app never imports it.
Rasa's REST channel, open to any local process, is not configured: nothing unredacted can reach the
tracker store but through the app.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

# Shorter than this is a placeholder or a typo, not a secret: the engine refuses to start with it.
MIN_TOKEN_CHARS = 16


class AppInput(InputChannel):
    """Rasa's REST channel (same body, same JSON answer) for callers that present the token."""

    def __init__(self, token: str) -> None:
        if len(token.strip()) < MIN_TOKEN_CHARS:
            raise ValueError(
                f"ENGINE_TOKEN must be a secret of at least {MIN_TOKEN_CHARS} characters: the "
                "engine answers only the app, which sends it"
            )
        self._token = token.strip().encode()

    @classmethod
    def name(cls) -> str:
        """The channel's name: its webhook is /webhooks/govbot/webhook."""
        return "govbot"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> AppInput:
        """The channel from its credentials.yml entry (`token: ${ENGINE_TOKEN}`)."""
        _watch_parent()
        return cls(str((credentials or {}).get("token") or ""))

    def authorized(self, request: Request) -> bool:
        """Whether the request carries `Authorization: Bearer <ENGINE_TOKEN>` (constant time)."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        given = value.strip().encode("utf-8", "surrogateescape")
        return scheme.lower() == "bearer" and hmac.compare_digest(given, self._token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The webhook: refuse without the token before anything is read into a tracker."""
        hook = Blueprint("govbot_app_input")

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.authorized(request):
                return response.json(
                    {"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"}
                )
            body = request.json
            if not isinstance(body, dict):
                return response.json({"error": "a JSON object is expected"}, status=400)
            sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
            if not isinstance(sender, str) or not sender or not isinstance(text, str):
                return response.json({"error": "sender and message are required"}, status=400)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=metadata if isinstance(metadata, dict) else None,
                    )
                )
            except Exception:
                # As Rasa's REST channel: answer what was collected. No text in the log line.
                logger.exception("the engine failed to handle a message of %s", sender)
            return response.json(collector.messages)

        return hook


def _watch_parent() -> None:
    """Under `govbot run`, stop the engine when its parent is gone (bot/lifeline.py); the engine's
    own images have no parent to watch and no `bot` package."""
    if os.environ.get("GOVBOT_PARENT_PID"):
        from bot.lifeline import watch_parent_from_env

        watch_parent_from_env()
