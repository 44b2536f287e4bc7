"""`govbot inbox`: list and replay messages that failed for good (dead letters)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bot.cli.errors import fail
from bot.settings import get_settings

if TYPE_CHECKING:
    from bot.inbox.outbox import Outbox

app = typer.Typer(no_args_is_help=True, help="Messages that failed for good (dead letters).")


def _outbox() -> Outbox:
    from bot.inbox.outbox import Outbox
    from bot.storage.db import Database

    db = Database(get_settings().database_url)
    db.create_schema()
    return Outbox(db, owner="cli")


@app.command("dead")
def inbox_dead() -> None:
    """List citizen messages (in-ID) and replies (out-ID) that failed for good."""
    letters = _outbox().dead()
    for letter in letters:
        preview = letter.text.replace("\n", " ")[:60]
        typer.echo(
            f"{letter.ref}\t{letter.conversation_id}\tattempts={letter.attempts}"
            f"\t{letter.error or ''}\t{preview}"
        )
    if not letters:
        typer.echo("no dead messages")


@app.command("retry")
def inbox_retry(
    ref: str = typer.Argument(..., help="in-ID or out-ID, as `govbot inbox dead` shows"),
) -> None:
    """Put a dead message back in line; the running app picks it up."""
    if not _outbox().retry(ref):
        fail(f"{ref} is not a dead message")
    typer.echo(f"{ref} queued again")
