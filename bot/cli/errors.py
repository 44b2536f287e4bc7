"""How every command reports a failure: one line on stderr and exit status 1."""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: str) -> NoReturn:
    """Print `error: message` on stderr and stop the command with exit status 1."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)
