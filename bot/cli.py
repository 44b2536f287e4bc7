"""The `govbot` command line: knowledge-base checks and imports, evaluation, serving the app."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import typer

from bot.knowledge.faq import KnowledgeError
from bot.settings import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Government FAQ assistant.")
kb_app = typer.Typer(no_args_is_help=True, help="The FAQ knowledge base.")
app.add_typer(kb_app, name="kb")
inbox_app = typer.Typer(no_args_is_help=True, help="Messages that failed for good (dead letters).")
app.add_typer(inbox_app, name="inbox")
channels_app = typer.Typer(no_args_is_help=True, help="Provider channels.")
telegram_app = typer.Typer(no_args_is_help=True, help="Telegram.")
channels_app.add_typer(telegram_app, name="telegram")
app.add_typer(channels_app, name="channels")
agents_app = typer.Typer(
    no_args_is_help=True, help="Contact-centre accounts (agents, supervisors, admins)."
)
app.add_typer(agents_app, name="agents")
privacy_app = typer.Typer(no_args_is_help=True, help="Personal data: retention and erasure.")
app.add_typer(privacy_app, name="privacy")


@app.callback()
def _every_command() -> None:
    """Government FAQ assistant."""
    from bot.privacy.logs import install_log_redaction

    install_log_redaction()  # no personal data in what any command logs


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


@kb_app.command("validate")
def kb_validate(
    directory: Path = typer.Option(None, "--dir", help="FAQ folder (default: FAQ_DIR)"),
) -> None:
    """Check every agency file: ids unique, languages known, answers present, dates valid."""
    from bot.knowledge.bank import FaqBank

    try:
        bank = FaqBank.load(directory or get_settings().faq_dir)
    except KnowledgeError as exc:
        _fail(str(exc))
    languages = sorted({f.language for f in bank.faqs})
    typer.echo(
        f"ok: {len(bank.faqs)} FAQs, {len(bank.agencies)} agencies, languages {', '.join(languages)}"
    )
    if (
        directory is None
    ):  # the configured knowledge base: check the contact centre that routes to it too
        _validate_contact_centre(set(bank.agencies))


def _validate_contact_centre(agencies: set[str]) -> None:
    from bot.handoff.config import ConfigError, load_config

    settings = get_settings()
    try:
        centre = load_config(settings.contact_centre_file)
    except ConfigError as exc:
        _fail(str(exc))
    unknown = sorted({a for q in centre.queues for a in q.agencies} - agencies)
    if unknown:
        _fail(
            f"{settings.contact_centre_file}: queues serve unknown agencies: {', '.join(unknown)}"
        )
    typer.echo(
        f"ok: {len(centre.queues)} contact-centre queues, {len(centre.urgent_topics)} urgent topics"
    )


@kb_app.command("import")
def kb_import(
    file: Path,
    agency: str = typer.Option("", help="Agency id for records that do not name one"),
    directory: Path = typer.Option(None, "--dir", help="FAQ folder (default: FAQ_DIR)"),
) -> None:
    """Import FAQs from a CSV or JSONL file; a bad file changes nothing."""
    from bot.knowledge.importer import import_faqs

    try:
        counts = import_faqs(file, directory or get_settings().faq_dir, agency)
    except KnowledgeError as exc:
        _fail(str(exc))
    for agency_id, count in counts.items():
        typer.echo(f"imported {count} FAQs into {agency_id}")


@kb_app.command("index")
def kb_index() -> None:
    """Build the FAQ index now if the knowledge base or the models changed."""
    from bot.knowledge.bank import FaqBank
    from bot.knowledge.service import KnowledgeBase

    settings = get_settings()
    try:
        bank = FaqBank.load(settings.faq_dir)
    except KnowledgeError as exc:
        _fail(str(exc))
    started = time.perf_counter()
    KnowledgeBase.open(bank, settings.index_dir)
    typer.echo(f"index ready: {len(bank.faqs)} FAQs in {time.perf_counter() - started:.1f} s")


@app.command("eval")
def eval_command(
    faqs: Path = typer.Option(..., help="FAQ file (JSONL or CSV) to index"),
    queries: Path = typer.Option(..., help="Labelled queries (JSONL)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
    calibrate_thresholds: bool = typer.Option(
        False, "--calibrate", help="Also report the thresholds reaching 0.95 answered precision"
    ),
) -> None:
    """Score retrieval and the answer decision on labelled queries, with the live bot's code."""
    from bot.knowledge.bank import FaqBank
    from bot.knowledge.evaluation import calibrate, evaluate, rank_all, read_queries
    from bot.knowledge.importer import read_faq_file
    from bot.knowledge.service import KnowledgeBase, thresholds_from

    try:
        bank = FaqBank.from_faqs(read_faq_file(faqs))
        labelled = read_queries(queries)
    except KnowledgeError as exc:
        _fail(str(exc))
    settings = get_settings()
    kb = KnowledgeBase.open(
        bank, settings.var_dir / "cache" / f"eval-{bank.content_hash()}", thresholds_from(settings)
    )
    result = evaluate(kb, labelled)
    if calibrate_thresholds:
        thresholds, metrics = calibrate(labelled, rank_all(kb, labelled))
        result["calibrated"] = {"thresholds": dataclasses.asdict(thresholds), **metrics}
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key, value in result.items():
        typer.echo(f"{key}: {value}")


def _outbox():  # type: ignore[no-untyped-def]
    from bot.inbox.outbox import Outbox
    from bot.storage.db import Database

    db = Database(get_settings().database_url)
    db.create_schema()
    return Outbox(db, owner="cli")


@inbox_app.command("dead")
def inbox_dead() -> None:
    """List citizen messages (in-ID) and replies (out-ID) that failed for good."""
    letters = _outbox().dead()
    for letter in letters:
        preview = letter.text.replace("\n", " ")[:60]
        typer.echo(
            f"{letter.ref}\t{letter.conversation_id}\tattempts={letter.attempts}\t{letter.error or ''}\t{preview}"
        )
    if not letters:
        typer.echo("no dead messages")


@inbox_app.command("retry")
def inbox_retry(
    ref: str = typer.Argument(..., help="in-ID or out-ID, as `govbot inbox dead` shows"),
) -> None:
    """Put a dead message back in line; the running app picks it up."""
    if not _outbox().retry(ref):
        _fail(f"{ref} is not a dead message")
    typer.echo(f"{ref} queued again")


def _agents():  # type: ignore[no-untyped-def]
    from bot.handoff.agents import Agents
    from bot.handoff.audit import AuditLog
    from bot.storage.db import Database

    db = Database(get_settings().database_url)
    db.create_schema()
    return Agents(db, AuditLog(db))


@agents_app.command("add")
def agents_add(
    username: str = typer.Option(..., help="Login name"),
    role: str = typer.Option("agent", help="agent | supervisor | admin"),
    display_name: str = typer.Option("", help="Name shown to citizens (default: the username)"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input"
    ),
) -> None:
    """Create an account; the password (12+ characters) is asked for, or read from stdin, and stored as
    an argon2 hash."""
    from bot.handoff.agents import AccountError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        agent = _agents().add(username, password, role, display_name or None)
    except AccountError as exc:
        _fail(str(exc))
    typer.echo(f"added {agent.role} {agent.username}")


@agents_app.command("list")
def agents_list() -> None:
    """Every account, with its role and whether it is active."""
    for agent in _agents().list():
        typer.echo(
            f"{agent.username}\t{agent.role}\t{'active' if agent.active else 'disabled'}\t{agent.display_name}"
        )


@agents_app.command("disable")
def agents_disable(username: str) -> None:
    """Disable an account and end its sessions (the audit log keeps its history)."""
    from bot.handoff.agents import AccountError

    try:
        _agents().set_active(username, False)
    except AccountError as exc:
        _fail(str(exc))
    typer.echo(f"disabled {username}")


def _privacy_db():  # type: ignore[no-untyped-def]
    from bot.storage.db import Database

    settings = get_settings()
    db = Database(settings.database_url)
    db.create_schema()
    return db


@privacy_app.command("purge")
def privacy_purge() -> None:
    """Delete conversations and analytics older than RETENTION_DAYS (their counts per day are kept), and
    Rasa's tracker events as old; opt-outs and the audit log stay."""
    from bot.privacy.retention import cutoff, purge
    from bot.storage.models import utcnow

    settings, now = get_settings(), utcnow()
    removed = purge(_privacy_db(), settings, now)
    typer.echo(
        f"cutoff: {cutoff(settings, now):%Y-%m-%d %H:%M} UTC ({settings.retention_days} days)"
    )
    for table, count in removed.items():
        typer.echo(f"removed {count} {table}")


@privacy_app.command("erase")
def privacy_erase(
    channel: str = typer.Option(..., help="sms | whatsapp | telegram | messenger | webchat"),
    address: str = typer.Option(
        ..., help="The citizen's address on it: phone number, chat id, session..."
    ),
) -> None:
    """Remove one citizen's data: their conversation, its rows in every table, their opt-out, and their
    events in Rasa's tracker store."""
    from bot.privacy.retention import erase

    removed = erase(_privacy_db(), get_settings(), channel, address)
    if not any(removed.values()):
        typer.echo(f"nothing found for {channel}:{address}")
        return
    typer.echo(f"erased {channel}:{address}")
    for table, count in removed.items():
        typer.echo(f"removed {count} {table}")


@telegram_app.command("set-webhook")
def telegram_set_webhook(
    url: str = typer.Option(
        None, help="Public webhook URL (default: PUBLIC_BASE_URL/channels/telegram/webhook)"
    ),
) -> None:
    """Register the app's webhook (with the secret token) at Telegram."""
    import asyncio

    from bot.channels import build_adapters

    settings = get_settings()
    adapter = build_adapters(settings).get("telegram")
    if adapter is None:
        _fail("Telegram is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_SECRET_TOKEN")
    target = url or f"{settings.public_base_url.rstrip('/')}/channels/telegram/webhook"
    asyncio.run(adapter.set_webhook(target))  # type: ignore[union-attr]
    typer.echo(f"webhook set: {target}")


@app.command("serve")
def serve(
    host: str = typer.Option(None, help="Listen address (default: HOST)"),
    port: int = typer.Option(None, help="Listen port (default: PORT)"),
) -> None:
    """Run the app (web chat, channels, actions) with uvicorn."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "bot.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
    )


@app.command("run")
def run_stack() -> None:
    """Start engine and app together on the embedded default; Ctrl-C stops both."""
    from bot import stack

    try:
        code = stack.run(get_settings())
    except FileNotFoundError as exc:
        _fail(str(exc))
    raise typer.Exit(code=code)


def main() -> None:
    """Entry point for `python -m bot.cli`."""
    app(prog_name="govbot")


if __name__ == "__main__":
    sys.exit(main())
