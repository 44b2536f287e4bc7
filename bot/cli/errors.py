"""How every command reports a failure (one line on stderr and exit status 1), and reads what
every command reads alike (a start time)."""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

import typer


def fail(message: str) -> NoReturn:
    """Print `error: message` on stderr and stop the command with exit status 1."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def start_time(value: str, option: str = "--send-at") -> dt.datetime | None:
    """An ISO time with its UTC offset from an option (None when empty); fails otherwise."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not an ISO time")
    if moment.tzinfo is None:
        fail(f"{option} needs a UTC offset, e.g. 2026-12-08T09:00-05:00")
    return moment
