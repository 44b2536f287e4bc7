"""`govbot channels`: one-off set-up of provider channels (the Telegram webhook)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import typer

from bot.cli.errors import fail
from bot.settings import get_settings

if TYPE_CHECKING:
    from connectors.telegram import TelegramAdapter

app = typer.Typer(no_args_is_help=True, help="Provider channels.")
telegram_app = typer.Typer(no_args_is_help=True, help="Telegram.")
app.add_typer(telegram_app, name="telegram")


@telegram_app.command("set-webhook")
def telegram_set_webhook(
    url: str = typer.Option(
        None, help="Public webhook URL (default: PUBLIC_BASE_URL/channels/telegram/webhook)"
    ),
) -> None:
    """Register the app's webhook (with the secret token) at Telegram."""
    import asyncio

    from connectors.registry import build_adapters

    settings = get_settings()
    adapter = build_adapters(settings).get("telegram")
    if adapter is None:
        fail("Telegram is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_SECRET_TOKEN")
    target = url or f"{settings.public_base_url.rstrip('/')}/channels/telegram/webhook"
    asyncio.run(cast("TelegramAdapter", adapter).set_webhook(target))  # the "telegram" adapter
    typer.echo(f"webhook set: {target}")
