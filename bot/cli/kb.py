"""`govbot kb`: check, import, export and index the FAQ knowledge base, and grant who edits it."""

from __future__ import annotations

import getpass
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.cli.errors import fail
from bot.knowledge.faq import KnowledgeError
from bot.settings import get_settings

if TYPE_CHECKING:
    from bot.storage.db import Database

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
    publish: bool = typer.Option(
        False, "--publish", help="Make it live now (on every running replica within seconds)"
    ),
    agency: str = typer.Option("", help="Agency id for records that do not name one"),
    directory: Path = typer.Option(
        None, "--dir", help="Merge a CSV or JSONL file into the agency files of this folder instead"
    ),
) -> None:
    """Apply an agency YAML file, or a CSV or JSONL file of FAQs, to the knowledge base in the
    database: as drafts, or live with --publish. A bad file changes nothing."""
    if directory is not None:
        _import_into_folder(file, directory, agency)
        return
    from bot.studio.access import operator
    from bot.studio.catalogue import import_faqs, read_import_file, seed

    settings = get_settings()
    try:
        agencies, faqs = read_import_file(file, agency)
        db = _database()
        seed(db, settings.faq_dir)
        result = import_faqs(db, agencies, faqs, operator(_who()), publish)
    except KnowledgeError as exc:
        fail(str(exc))
    for line in result.lines():
        typer.echo(line)
    if publish:
        typer.echo(f"published: live on every running replica within {settings.kb_refresh_s:g} s")
        typer.echo("plus the time to encode what changed")
    else:
        typer.echo("saved as drafts: review and publish them in the console's knowledge studio")


def _import_into_folder(file: Path, directory: Path, agency: str) -> None:
    from bot.knowledge.importer import import_faqs

    try:
        counts = import_faqs(file, directory, agency)
    except KnowledgeError as exc:
        fail(str(exc))
    for agency_id, count in counts.items():
        typer.echo(f"imported {count} FAQs into {agency_id}")


@app.command("export")
def kb_export(
    agency: str,
    out: Path = typer.Option(None, "--out", help="File to write (default: standard output)"),
) -> None:
    """Write one agency's published FAQs as an agency YAML file (the format of data/faqs/)."""
    from bot.studio.catalogue import export_agency

    try:
        text = export_agency(_database(), agency)
    except KnowledgeError as exc:
        fail(str(exc))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")


@app.command("grant")
def kb_grant(
    username: str,
    agency: str,
    review: bool = typer.Option(False, "--review", help="May also review and publish"),
) -> None:
    """Let a console account edit (and with --review, review) one agency's FAQs."""
    from sqlalchemy import select

    from bot.storage.models import Agent, KbAgency
    from bot.studio.access import grant

    db = _database()
    with db.session() as session:
        agent = session.scalar(select(Agent).where(Agent.username == username))
        known = session.get(KbAgency, agency) is not None
    if agent is None:
        fail(f"no console account {username}")
    if not known:
        fail(f"no agency {agency} in the knowledge base")
    grant(db, agent, agency, review)
    typer.echo(f"{username} may {'edit and review' if review else 'edit'} {agency}'s FAQs")


@app.command("index")
def kb_index() -> None:
    """Build the index of the published FAQs now, re-encoding only what changed."""
    _index()


def _who() -> str:
    return f"cli:{getpass.getuser()}"[:64]


def _database() -> Database:
    from bot.storage.db import Database

    db = Database(get_settings().database_url)
    db.create_schema()
    return db


def _index() -> None:
    """Open the published bank's index (seeding the database from FAQ_DIR on the first run),
    and say how long it took."""
    from bot.studio.live import LiveKnowledge

    settings = get_settings()
    started = time.perf_counter()
    try:
        kb = LiveKnowledge(_database(), settings).load()
    except KnowledgeError as exc:
        fail(str(exc))
    kb.ask("warm up", "en")  # loads the encoders, exporting them first if they are missing
    typer.echo(f"index ready: {len(kb.bank.faqs)} FAQs in {time.perf_counter() - started:.1f} s")
