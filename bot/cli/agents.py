"""`govbot agents`: contact-centre accounts (agents, supervisors, admins)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from bot.cli.errors import fail
from bot.settings import get_settings

if TYPE_CHECKING:
    from bot.handoff.agents import Agents

app = typer.Typer(
    no_args_is_help=True, help="Contact-centre accounts (agents, supervisors, admins)."
)


def _agents() -> Agents:
    from bot.handoff.agents import Agents
    from bot.storage.audit import AuditLog
    from bot.storage.db import Database

    db = Database(get_settings().database_url)
    db.create_schema()
    return Agents(db, AuditLog(db))


@app.command("add")
def agents_add(
    username: str = typer.Option(..., help="Login name"),
    role: str = typer.Option("agent", help="agent | supervisor | admin"),
    display_name: str = typer.Option("", help="Name shown to citizens (default: the username)"),
    email: str = typer.Option("", help="For the weekly reminder of the account's stale FAQs"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input"
    ),
) -> None:
    """Create an account; the password (12+ characters, not easy to guess) is asked for, or read
    from stdin, and stored as an argon2 hash."""
    from bot.handoff.agents import AccountError

    password = _password(password_stdin)
    try:
        agent = _agents().add(username, password, role, display_name or None, email or None)
    except AccountError as exc:
        fail(str(exc))
    typer.echo(f"added {agent.role} {agent.username}")


@app.command("password")
def agents_password(
    username: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new password from standard input"
    ),
) -> None:
    """Change an account's password (checked like a new one) and end its console sessions."""
    from bot.handoff.agents import AccountError

    password = _password(password_stdin)
    try:
        _agents().set_password(username, password)
    except AccountError as exc:
        fail(str(exc))
    typer.echo(f"changed the password of {username}")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("list")
def agents_list() -> None:
    """Every account, with its role and whether it is active."""
    for agent in _agents().list():
        state = "active" if agent.active else "disabled"
        typer.echo(f"{agent.username}\t{agent.role}\t{state}\t{agent.display_name}")


@app.command("disable")
def agents_disable(username: str) -> None:
    """Disable an account and end its sessions (the audit log keeps its history)."""
    from bot.handoff.agents import AccountError

    try:
        _agents().set_active(username, False)
    except AccountError as exc:
        fail(str(exc))
    typer.echo(f"disabled {username}")
