"""The weekly e-mail to each FAQ owner listing their published FAQs not reviewed for
STALE_AFTER_DAYS. One replica claims each week (a conditional update of the revision row), so
owners get one e-mail however many replicas run."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy import or_, select, update

from bot import mail
from bot.clock import Clock, system_clock
from bot.settings import Settings
from bot.storage.db import Database, rowcount
from bot.storage.models import Agent, KbFaq, KbFaqVersion, KbRevision

log = logging.getLogger(__name__)
WEEK = dt.timedelta(days=7)
CHECK_EVERY_S = 3600.0
MAX_LISTED = 50


def stale_by_owner(db: Database, before: dt.date) -> dict[str, list[tuple[str, str]]]:
    """E-mail address → (FAQ id, question) of each owner's published FAQs last reviewed before
    `before` (or never); owners without an address are left out."""
    with db.session() as session:
        rows = session.execute(
            select(Agent.email, KbFaq.id, KbFaqVersion.question)
            .join(Agent, Agent.username == KbFaq.owner)
            .join(
                KbFaqVersion,
                (KbFaqVersion.faq_id == KbFaq.id) & (KbFaqVersion.number == KbFaq.live_version),
            )
            .where(KbFaq.state == "published", Agent.email.is_not(None), Agent.active.is_(True))
            .where(or_(KbFaq.last_reviewed.is_(None), KbFaq.last_reviewed < before))
            .order_by(Agent.email, KbFaq.id)
        ).all()
    found: dict[str, list[tuple[str, str]]] = {}
    for email, faq_id, question in rows:
        found.setdefault(email or "", []).append((faq_id, question))
    return found


def reminder(settings: Settings, to: str, faqs: list[tuple[str, str]]) -> EmailMessage:
    """The plain-text reminder to one owner."""
    days = settings.stale_after_days
    lines = [
        f"{len(faqs)} of the FAQs you own have not been reviewed for {days} days.",
        "Citizens still get them: please check they are right, and save or approve them in the",
        "console's knowledge studio (/console/studio).",
        "",
        *(
            f"- {faq_id}: {' '.join(question.split())[:150]}"
            for faq_id, question in faqs[:MAX_LISTED]
        ),
    ]
    if len(faqs) > MAX_LISTED:
        lines.append(f"... and {len(faqs) - MAX_LISTED} more (filter 'stale' in the studio).")
    message = EmailMessage()
    message["Subject"] = f"[govbot] {len(faqs)} FAQs to review"
    message["From"] = settings.alert_email_from
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message.set_content("\n".join(lines) + "\n")
    return message


def claim_week(db: Database, now: dt.datetime) -> bool:
    """True for the one caller that claims this week's reminders."""
    with db.session() as session:
        claimed = rowcount(
            session.execute(
                update(KbRevision)
                .where(KbRevision.id == 1)
                .where(or_(KbRevision.reminded_at.is_(None), KbRevision.reminded_at <= now - WEEK))
                .values(reminded_at=now)
            )
        )
        session.commit()
    return claimed == 1


def send_reminders(db: Database, settings: Settings, clock: Clock = system_clock) -> int:
    """If this week's reminders are not sent yet, send them; returns how many e-mails went."""
    if not settings.smtp_host:
        return 0
    now = clock()
    if not claim_week(db, now):
        return 0
    before = (now - dt.timedelta(days=settings.stale_after_days)).date()
    sent = 0
    for to, faqs in stale_by_owner(db, before).items():
        try:
            mail.send(reminder(settings, to, faqs), settings, [to])
            sent += 1
        except Exception as exc:  # noqa: BLE001 - one owner's refusal does not stop the others
            log.warning("stale-FAQ reminder not sent: %s", exc.__class__.__name__)
    return sent


async def run_reminders(
    db: Database, settings: Settings, stop: asyncio.Event, clock: Clock = system_clock
) -> None:
    """Check every hour whether the week's reminders are due."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(send_reminders, db, settings, clock)
        except Exception:
            log.exception("stale-FAQ reminders failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=CHECK_EVERY_S)
        except TimeoutError:
            pass
