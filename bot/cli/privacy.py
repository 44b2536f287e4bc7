"""`govbot privacy`: personal data retention (purge) and erasure of one citizen's data."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bot.settings import get_settings

if TYPE_CHECKING:
    from bot.storage.db import Database

app = typer.Typer(no_args_is_help=True, help="Personal data: retention and erasure.")


def _privacy_db() -> Database:
    from bot.storage.db import Database

    db = Database(get_settings().database_url)
    db.create_schema()
    return db


@app.command("purge")
def privacy_purge() -> None:
    """Delete conversations and analytics older than RETENTION_DAYS (their counts per day are
    kept), and Rasa's tracker events as old; opt-outs and the audit log stay."""
    from bot.privacy.retention import cutoff, purge
    from bot.storage.models import utcnow

    settings, now = get_settings(), utcnow()
    removed = purge(_privacy_db(), settings, now)
    typer.echo(
        f"cutoff: {cutoff(settings, now):%Y-%m-%d %H:%M} UTC ({settings.retention_days} days)"
    )
    for table, count in removed.items():
        typer.echo(f"removed {count} {table}")


@app.command("erase")
def privacy_erase(
    channel: str = typer.Option(..., help="sms | whatsapp | telegram | messenger | webchat"),
    address: str = typer.Option(
        ..., help="The citizen's address on it: phone number, chat id, session..."
    ),
) -> None:
    """Remove one citizen's data: their conversation, its rows in every table, their opt-out, and
    their events in Rasa's tracker store."""
    from bot.privacy.retention import erase

    removed = erase(_privacy_db(), get_settings(), channel, address)
    if not any(removed.values()):
        typer.echo(f"nothing found for {channel}:{address}")
        return
    typer.echo(f"erased {channel}:{address}")
    for table, count in removed.items():
        typer.echo(f"removed {count} {table}")


@app.command("redact")
def privacy_redact() -> None:
    """Read UTF-8 lines on stdin and write each one redacted, one line out per line in, in order
    (personal data replaced by its kind: "[name]", "[dob]", "[health_card]", ...)."""
    import sys

    from bot.privacy.redact import redact

    # Lines end at "\n" only ("\r\n" accepted): a stray "\r" inside a line must not split it,
    # or the output would lose step with the input.
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", errors="replace").removesuffix("\n").removesuffix("\r")
        sys.stdout.buffer.write(redact(line).encode("utf-8") + b"\n")
        sys.stdout.buffer.flush()
