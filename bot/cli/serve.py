"""`govbot serve` (the app alone) and `govbot run` (engine and app together); both refuse to
start beyond loopback without real secrets."""

from __future__ import annotations

from typing import Any

import typer

from bot.cli.errors import fail
from bot.lifeline import watch_parent_from_env
from bot.settings import Settings, get_settings, insecure_settings


def _refuse_if_insecure(settings: Settings) -> None:
    # Before anything is imported, bound or spawned: a refused start leaves nothing behind.
    problems = insecure_settings(settings)
    if problems:
        fail("; ".join(problems))


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the app: the app alone decides what a forwarded header is worth
    (TRUSTED_PROXIES, bot/web/forwarded.py), so uvicorn's own proxy handling is off (by default it
    believes X-Forwarded-For from 127.0.0.1); socket frames are capped like request bodies."""
    from bot.web.app import MAX_BODY_BYTES

    return {
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "ws_max_size": MAX_BODY_BYTES,
    }


def serve(
    host: str = typer.Option(None, help="Listen address (default: HOST)"),
    port: int = typer.Option(None, help="Listen port (default: PORT)"),
) -> None:
    """Run the app (web chat, channels, actions) with uvicorn."""
    settings = get_settings()
    if host:  # the address actually bound is the one checked
        settings = settings.model_copy(update={"host": host})
    _refuse_if_insecure(settings)
    # Started by `govbot run`: stop when it is gone, even when it was killed hard.
    watch_parent_from_env()
    import uvicorn

    uvicorn.run(
        "bot.web.app:create_app",
        factory=True,
        host=settings.host,
        port=port or settings.port,
        log_level="info",
        **uvicorn_options(settings),
    )


def run_stack() -> None:
    """Start engine and app together on the embedded default; Ctrl-C stops both, and both stop
    when this command is killed."""
    settings = get_settings()
    _refuse_if_insecure(settings)
    from bot import stack
    from bot.ports import PortInUse

    try:
        code = stack.run(settings)
    except (FileNotFoundError, PortInUse) as exc:
        fail(str(exc))
    raise typer.Exit(code=code)
