"""`govbot broadcast` and `govbot topics`: outreach from scripts, and a check from outside.

A broadcast is written by one supervisor and approved by another; the running app fans it out
(bot/outreach/fanout.py) and delivers it through the outbox.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from bot.cli.errors import fail, start_time
from bot.settings import get_settings

if TYPE_CHECKING:
    from bot.outreach.broadcasts import Broadcasts
    from bot.outreach.claims import Claims
    from bot.outreach.topics import Topics

broadcast_app = typer.Typer(no_args_is_help=True, help="Broadcasts to a topic's subscribers.")
topics_app = typer.Typer(no_args_is_help=True, help="Topics citizens subscribe to.")


def _stores() -> tuple[Broadcasts, Topics]:
    from bot.outreach.broadcasts import Broadcasts
    from bot.outreach.topics import Topics
    from bot.storage.audit import AuditLog
    from bot.storage.db import Database

    db = Database(get_settings().database_url)
    db.create_schema()
    audit = AuditLog(db)
    topics = Topics(db, audit)
    topics.seed(get_settings().outreach_topics_file)
    return Broadcasts(db, audit), topics


@broadcast_app.command("create")
def broadcast_create(
    topic: str = typer.Option(..., help="Topic slug (govbot topics list)"),
    text_en: str = typer.Option(..., "--text-en", help="English text (answer format)"),
    text_fr: str = typer.Option("", "--text-fr", help="French text, for French subscribers"),
    urgent: bool = typer.Option(False, "--urgent", help="Send during quiet hours too"),
    send_at: str = typer.Option(
        "", "--send-at", help="ISO time with offset to start at (default: when approved)"
    ),
    by: str = typer.Option(..., "--by", help="The supervisor writing it"),
    whatsapp_template_en: str = typer.Option(
        "", "--whatsapp-template-en", help="Approved template (Content SID) outside WhatsApp's 24 h"
    ),
    whatsapp_template_fr: str = typer.Option(
        "", "--whatsapp-template-fr", help="The same for French subscribers"
    ),
) -> None:
    """Write a broadcast; prints its id. Another supervisor must approve it."""
    from bot.outreach.broadcasts import preview
    from bot.outreach.topics import OutreachError

    start = start_time(send_at)
    broadcasts, _ = _stores()
    try:
        broadcast_id = broadcasts.create(
            topic,
            text_en,
            text_fr or None,
            urgent,
            by,
            start,
            (whatsapp_template_en or None, whatsapp_template_fr or None),
        )
    except OutreachError as exc:
        fail(str(exc))
    shown = preview(text_en, "en")
    typer.echo(str(broadcast_id))
    typer.echo(f"SMS: {shown.sms_segments} segment(s) per subscriber", err=True)


@broadcast_app.command("approve")
def broadcast_approve(
    broadcast_id: int = typer.Argument(..., metavar="ID"),
    by: str = typer.Option(..., "--by", help="A second supervisor"),
) -> None:
    """Approve a broadcast (not its author): it goes out from its start time."""
    from bot.outreach.topics import OutreachError

    broadcasts, _ = _stores()
    try:
        starts = broadcasts.approve(broadcast_id, by)
    except OutreachError as exc:
        fail(str(exc))
    typer.echo(f"approved broadcast {broadcast_id}: sending from {starts.isoformat()}")


@broadcast_app.command("cancel")
def broadcast_cancel(
    broadcast_id: int = typer.Argument(..., metavar="ID"),
    by: str = typer.Option(..., "--by", help="A supervisor"),
) -> None:
    """Stop a broadcast that is not fully queued (copies already queued still go)."""
    from bot.outreach.topics import OutreachError

    broadcasts, _ = _stores()
    try:
        broadcasts.cancel(broadcast_id, by)
    except OutreachError as exc:
        fail(str(exc))
    typer.echo(f"cancelled broadcast {broadcast_id}")


@broadcast_app.command("status")
def broadcast_status(
    broadcast_id: int = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object"),
) -> None:
    """The broadcast's state and counts: queued, sent, delivered, failed, opted out, replies."""
    from bot.outreach.topics import OutreachError

    broadcasts, _ = _stores()
    try:
        status = broadcasts.status(broadcast_id)
    except OutreachError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(status))
        return
    for key, value in status.items():
        typer.echo(f"{key.replace('_', ' ')}: {value}")


@topics_app.command("list")
def topics_list() -> None:
    """Every topic: slug, English and French names."""
    _, topics = _stores()
    for topic in topics.all():
        typer.echo(f"{topic.slug}\t{topic.name_en}\t{topic.name_fr}")


@topics_app.command("add")
def topics_add(
    slug: str,
    name_en: str = typer.Option(..., "--name-en"),
    name_fr: str = typer.Option(..., "--name-fr"),
    agency: str = typer.Option("", "--agency"),
    by: str = typer.Option(..., "--by", help="The supervisor adding it"),
) -> None:
    """Add a topic citizens can subscribe to at once."""
    from bot.outreach.topics import OutreachError, validated

    _, topics = _stores()
    try:
        topic = validated(slug, name_en, name_fr, agency or None)
    except OutreachError as exc:
        fail(str(exc))
    if not topics.add(topic, by):
        fail(f"topic {slug} exists")
    typer.echo(f"added topic {slug}")


claims_app = typer.Typer(
    no_args_is_help=True, help="The register of false claims and their corrections."
)


def _claims() -> Claims:
    from bot.outreach.claims import Claims
    from bot.storage.audit import AuditLog
    from bot.storage.db import Database

    db = Database(get_settings().database_url)
    db.create_schema()
    return Claims(db, AuditLog(db))


@claims_app.command("add")
def claims_add(
    text: str = typer.Option(..., "--text", help="The false claim, in your words"),
    agency: str = typer.Option("", "--agency"),
    alert: int = typer.Option(0, "--alert", help="The alert that revealed it (its id)"),
    by: str = typer.Option(..., "--by"),
) -> None:
    """Record a false claim; prints its id."""
    from bot.outreach.topics import OutreachError

    try:
        typer.echo(str(_claims().add(text, by, agency or None, alert or None)))
    except OutreachError as exc:
        fail(str(exc))


@claims_app.command("correct")
def claims_correct(
    claim_id: int = typer.Argument(..., metavar="ID"),
    faq: str = typer.Option(..., "--faq", help="The published FAQ that corrects it"),
    by: str = typer.Option(..., "--by"),
) -> None:
    """Link the published correction (an FAQ of the knowledge studio)."""
    from bot.outreach.topics import OutreachError

    try:
        at = _claims().correct(claim_id, faq, by)
    except OutreachError as exc:
        fail(str(exc))
    typer.echo(f"claim {claim_id} corrected by {faq} at {at.isoformat()}")


@claims_app.command("broadcast")
def claims_broadcast(
    claim_id: int = typer.Argument(..., metavar="ID"),
    broadcast: int = typer.Option(..., "--broadcast", help="The approved broadcast"),
    by: str = typer.Option(..., "--by"),
) -> None:
    """Link the broadcast that spread the correction."""
    from bot.outreach.topics import OutreachError

    try:
        at = _claims().spread(claim_id, broadcast, by)
    except OutreachError as exc:
        fail(str(exc))
    typer.echo(f"claim {claim_id} broadcast by #{broadcast} at {at.isoformat()}")


@claims_app.command("list")
def claims_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """The latest claims with the hours from alert to correction to broadcast."""
    rows = _claims().timeline()
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for r in rows:
        typer.echo(
            f"#{r['id']} {r['claim'][:60]!r}: correction {r['hours_to_correction']} h, "
            f"broadcast {r['hours_to_broadcast']} h, in all {r['hours_in_all']} h"
        )
