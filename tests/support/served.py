"""The real app (`create_app`) served by a real uvicorn, with the options `govbot serve` gives it,
in a thread of the test process, in front of an engine that echoes: real sockets, real chunked
bodies, real client addresses (a client may bind any 127.x.y.z address to stand for another
citizen)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bot.cli.serve import uvicorn_options
from bot.engine.client import BotMessage
from bot.settings import ROOT, Settings
from bot.web.app import create_app


class EchoEngine:
    """An engine that answers every message at once with its text."""

    async def turn(
        self, conversation_id: str, text: str, metadata: dict[str, Any]
    ) -> list[BotMessage]:
        return [BotMessage(f"echo: {text}")]

    async def ready(self) -> bool:
        return True


SESSION_SECRET = "served-apps-share-this-web-chat-session-secret"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_settings(var_dir: Path, **overrides: Any) -> Settings:
    """Settings of a served app with its own database in `var_dir` (the shipped index)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    values: dict[str, Any] = {
        "port": port,
        "public_base_url": f"http://127.0.0.1:{port}",
        "var_dir": var_dir,
        "database_url": f"sqlite:///{var_dir / 'app.db'}",
        "index_dir": ROOT / "var" / "index",
        "retry_interval_s": 0.5,
        # Known, so a test can sign sessions as another replica of this app would (minted()).
        "webchat_session_secret": SESSION_SECRET,
        **overrides,
    }
    return Settings(**values)


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """Serve the app of `settings` on its port until the block ends; yields its base URL."""
    port = settings.port
    config = uvicorn.Config(
        create_app(settings, engine=EchoEngine()),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        **uvicorn_options(settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=120)


def client_from(address: str, **options: Any) -> httpx.Client:
    """An HTTP client whose requests come from `address` (any 127.x.y.z on Linux)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(transport=transport, timeout=30, **options)
