"""One body cap for every HTTP route, counted while the body streams (chunked bodies too).

A declared Content-Length over the cap is refused before anything is read; otherwise the bytes are
counted as the app reads them, and the moment the cap is passed the client gets 413 and the app
reads no further (the server stops reading the socket once its small buffer is full, so nothing
past the cap is held in memory). Provider webhooks get their adapters' larger cap here and apply
each adapter's own while reading (bot/web/webhooks.py). Socket frames are capped by the server
(`ws_max_size`, bot/cli/serve.py).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised into the app when the body passes the cap after the response has started."""


def _too_large(limit: int) -> tuple[Message, Message]:
    body = json.dumps({"error": f"request body over {limit} bytes"}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": 413,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # the rest of the body is never read: the connection cannot be reused
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    """ASGI middleware: 413 `{"error": ...}` past `limit` bytes (`prefixes` give some paths
    their own cap)."""

    def __init__(self, app: ASGIApp, limit: int, prefixes: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.prefixes = prefixes or {}

    def limit_for(self, path: str) -> int:
        """The cap of a path."""
        for prefix, limit in self.prefixes.items():
            if path.startswith(prefix):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            for message in _too_large(limit):
                await send(message)
            return
        received = 0
        answered = started = False

        async def counted() -> Message:
            nonlocal received, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if started:
                        raise BodyTooLarge(f"request body over {limit} bytes")
                    answered = True
                    for reply in _too_large(limit):
                        await send(reply)
                    # the app sees a client that went away, and stops reading
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # whatever the app answers to the "disconnect" goes nowhere
            started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not answered:
                raise
            # the app failed on the body it could not read (FastAPI turns the disconnect into an
            # error): the client already has its 413
