"""`govbot kb`: check, import and index the FAQ knowledge base."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from bot.cli.errors import fail
from bot.knowledge.faq import KnowledgeError
from bot.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="The FAQ knowledge base.")


@app.command("validate")
def kb_validate(
    directory: Path = typer.Option(None, "--dir", help="FAQ folder (default: FAQ_DIR)"),
) -> None:
    """Check every agency file: ids unique, languages known, answers present, dates valid."""
    from bot.knowledge.bank import FaqBank

    try:
        bank = FaqBank.load(directory or get_settings().faq_dir)
    except KnowledgeError as exc:
        fail(str(exc))
    languages = sorted({f.language for f in bank.faqs})
    typer.echo(
        f"ok: {len(bank.faqs)} FAQs, {len(bank.agencies)} agencies, "
        f"languages {', '.join(languages)}"
    )
    if directory is None:  # the configured knowledge base: check the contact centre routing to it
        _validate_contact_centre(set(bank.agencies))


def _validate_contact_centre(agencies: set[str]) -> None:
    from bot.handoff.config import ConfigError, load_config

    settings = get_settings()
    try:
        centre = load_config(settings.contact_centre_file)
    except ConfigError as exc:
        fail(str(exc))
    unknown = sorted({a for q in centre.queues for a in q.agencies} - agencies)
    if unknown:
        fail(f"{settings.contact_centre_file}: queues serve unknown agencies: {', '.join(unknown)}")
    typer.echo(
        f"ok: {len(centre.queues)} contact-centre queues, {len(centre.urgent_topics)} urgent topics"
    )


@app.command("import")
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
        fail(str(exc))
    for agency_id, count in counts.items():
        typer.echo(f"imported {count} FAQs into {agency_id}")
    if directory is None:  # the configured knowledge base: encode the new FAQs now, not at start
        _index()


@app.command("index")
def kb_index() -> None:
    """Build the FAQ index now if the knowledge base or the models changed."""
    _index()


def _index() -> None:
    """Open the configured bank's index, re-encoding only what changed, and say how long."""
    from bot.knowledge.bank import FaqBank
    from bot.knowledge.service import KnowledgeBase

    settings = get_settings()
    try:
        bank = FaqBank.load(settings.faq_dir)
    except KnowledgeError as exc:
        fail(str(exc))
    started = time.perf_counter()
    kb = KnowledgeBase.open(bank, settings.index_dir, settings)
    kb.ask("warm up", "en")  # loads the encoders, exporting them first if they are missing
    typer.echo(f"index ready: {len(bank.faqs)} FAQs in {time.perf_counter() - started:.1f} s")
