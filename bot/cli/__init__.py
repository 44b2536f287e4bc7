"""The `govbot` command line: knowledge-base checks and imports, evaluation, accounts, privacy,
channels, outreach, the citizen panel, and serving the app; one module per command group."""

from __future__ import annotations

import typer

from bot.cli import agents, channels, evaluate, inbox, kb, outreach, panel, privacy, serve

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Government FAQ assistant.")
app.add_typer(kb.app, name="kb")
app.add_typer(inbox.app, name="inbox")
app.add_typer(channels.app, name="channels")
app.add_typer(agents.app, name="agents")
app.add_typer(privacy.app, name="privacy")
app.add_typer(outreach.broadcast_app, name="broadcast")
app.add_typer(outreach.topics_app, name="topics")
app.add_typer(outreach.claims_app, name="claims")
app.add_typer(panel.app, name="panel")
app.command("eval")(evaluate.eval_command)
app.command("serve")(serve.serve)
app.command("run")(serve.run_stack)


@app.callback()
def _every_command() -> None:
    """Government FAQ assistant."""
    import os

    from bot.privacy.logs import install_log_redaction

    install_log_redaction()  # no personal data in what any command logs
    # What any command creates (database, index, endpoints, logs) is private to this account.
    os.umask(0o077)


def main() -> None:
    """Entry point for `python -m bot.cli`."""
    app(prog_name="govbot")
