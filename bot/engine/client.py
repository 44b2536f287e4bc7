"""Talking to the Rasa server through its one input channel (connectors/rasa_channel.py, a bearer
token); one seam (`DialogueEngine`) for tests and benches."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from bot.engine.instructions import Instruction, parse_instruction


class EngineUnavailable(Exception):
    """The engine could not be reached or failed; the message must be retried later, not dropped."""


@dataclass(frozen=True, slots=True)
class BotMessage:
    """One message the engine wants sent to the citizen."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    # An instruction for the app rather than text for the citizen (a hand-off, a turn's analytics).
    instruction: Instruction | None = None


class DialogueEngine(Protocol):
    """Takes one citizen message of a conversation and returns the bot's replies."""

    async def turn(
        self, conversation_id: str, text: str, metadata: dict[str, Any]
    ) -> list[BotMessage]: ...

    async def ready(self) -> bool: ...


def _buttons(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        return []
    return [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in raw
        if isinstance(b, dict) and b.get("payload")
    ]


# The engine's input channel for the app (connectors/rasa_channel.py `AppInput`).
WEBHOOK = "/webhooks/govbot/webhook"


class RasaEngine:
    """The Rasa server's input channel for the app (`WEBHOOK`): it answers only with the token."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout_s: float = 15.0,
        concurrency: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        # Turns beyond `concurrency` wait their turn here instead of piling onto the engine, which
        # works through them one at a time anyway; a full connection pool is not an outage.
        self._slots = asyncio.Semaphore(concurrency)
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout_s,
            transport=transport,
            # Without a token the engine answers 401 to every turn: an outage, never a bypass.
            headers={"Authorization": f"Bearer {token}"} if token else None,
            limits=httpx.Limits(
                max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2
            ),
        )

    async def turn(
        self, conversation_id: str, text: str, metadata: dict[str, Any]
    ) -> list[BotMessage]:
        """Send one message; raise EngineUnavailable on any transport error or non-200 answer."""
        body = {"sender": conversation_id, "message": text, "metadata": metadata}
        try:
            async with self._slots:
                try:
                    response = await self._client.post(WEBHOOK, json=body)
                except httpx.ConnectError:
                    # Nothing was sent: behind a service, a new connection may reach a live
                    # engine replica.
                    response = await self._client.post(WEBHOOK, json=body)
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"engine unreachable: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise EngineUnavailable(f"engine answered {response.status_code}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise EngineUnavailable("engine answered with invalid JSON") from exc
        messages = []
        for item in payload if isinstance(payload, list) else []:
            if not isinstance(item, dict):
                continue
            text_out, buttons, custom = (
                item.get("text"),
                _buttons(item.get("buttons")),
                item.get("custom"),
            )
            instruction = parse_instruction(custom) if isinstance(custom, dict) else None
            if text_out or buttons or instruction is not None:
                messages.append(BotMessage(str(text_out or ""), buttons, instruction))
        return messages

    async def ready(self) -> bool:
        """True when the server answers (it loads its model before it starts listening)."""
        try:
            response = await self._client.get("/", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
