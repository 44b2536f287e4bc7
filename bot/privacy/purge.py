"""Retention: what is older than RETENTION_DAYS goes, in the app's tables and Rasa's tracker store.

Conversations whose last activity is older than the cutoff are deleted with every row that belongs
to them (messages both ways, hand-offs, turns, feedback); rows older than the cutoff in
conversations still going on are deleted too. Before anything is deleted its counts are added to
`daily_counts`, which outlive the retention period. Opt-outs (the record of a STOP), active
subscriptions (the record of consent) and the audit log stay; ended or never-confirmed
subscriptions go. Rasa's tracker events older than the cutoff go as well (only whole past
sessions: the current session of a tracker is never cut, Rasa counts its events). Blocking: run it
in a thread.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, exists, not_, or_, select
from sqlalchemy.orm import Session

from bot.clock import aware, system_clock
from bot.privacy.deletion import begin, delete_doomed
from bot.privacy.doomed import (
    Doomed,
    take_conversations,
    take_feedback,
    take_handoffs,
    take_inbound,
    take_outbound,
    take_turns,
)
from bot.privacy.panel_rows import expire_panel_rows
from bot.privacy.sqlite_scrub import is_sqlite, scrub
from bot.privacy.tracker_store import (
    PURGE_EVENTS,
    server_tracker_delete,
    sqlite_tracker_delete,
    tracker_path,
)
from bot.settings import Settings
from bot.storage.db import Database, rowcount
from bot.storage.models import (
    Conversation,
    Feedback,
    Handoff,
    InboundMessage,
    OutboundMessage,
    Subscription,
    Turn,
)

ACTIVE_HANDOFF = ("after_hours", "waiting", "offered", "assigned")  # bot.handoff.queue.ACTIVE


def cutoff(settings: Settings, now: dt.datetime | None = None) -> dt.datetime:
    """The moment before which data is deleted: `now` (default: the system clock) minus
    RETENTION_DAYS."""
    # In UTC: SQLite compares the stored UTC times as text.
    moment = aware(now or system_clock()).astimezone(dt.UTC)
    return moment - dt.timedelta(days=settings.retention_days)


def _stale_conversations(
    session: Session, before: dt.datetime, now: dt.datetime, lock: bool
) -> list[str]:
    """Conversations with no activity since `before`: no message either way, no hand-off that
    ended (or is still going on), nothing waiting to be processed or sent, and no replica working
    on them right now."""
    recent_inbound = exists().where(
        InboundMessage.conversation_id == Conversation.id,
        or_(InboundMessage.received_at >= before, InboundMessage.status == "pending"),
    )
    recent_outbound = exists().where(
        OutboundMessage.conversation_id == Conversation.id,
        or_(OutboundMessage.created_at >= before, OutboundMessage.status == "pending"),
    )
    live_handoff = exists().where(
        Handoff.conversation_id == Conversation.id,
        or_(
            Handoff.status.in_(ACTIVE_HANDOFF),
            Handoff.enqueued_at >= before,
            Handoff.ended_at >= before,
        ),
    )
    query = select(Conversation.id).where(
        Conversation.created_at < before,
        or_(Conversation.last_inbound_at.is_(None), Conversation.last_inbound_at < before),
        or_(Conversation.lease_until.is_(None), Conversation.lease_until < now),
        not_(recent_inbound),
        not_(recent_outbound),
        not_(live_handoff),
    )
    if lock:
        # PostgreSQL: a message arriving meanwhile waits for the purge (its insert needs the row).
        query = query.with_for_update(of=Conversation)
    return list(session.scalars(query))


def _take_old_rows(session: Session, doomed: Doomed, before: dt.datetime) -> None:
    """Rows older than `before` in conversations that go on: finished messages, ended hand-offs,
    analytics."""
    take_inbound(
        session,
        doomed,
        and_(InboundMessage.received_at < before, InboundMessage.status != "pending"),
    )
    take_outbound(
        session,
        doomed,
        and_(OutboundMessage.created_at < before, OutboundMessage.status != "pending"),
    )
    take_handoffs(
        session,
        doomed,
        and_(
            Handoff.status.not_in(ACTIVE_HANDOFF),
            or_(
                Handoff.ended_at < before,
                and_(Handoff.ended_at.is_(None), Handoff.enqueued_at < before),
            ),
        ),
    )
    take_turns(session, doomed, Turn.at < before)
    take_feedback(session, doomed, Feedback.at < before)


def purge(db: Database, settings: Settings, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete what is older than RETENTION_DAYS before `now` (default: the system clock), then
    `scrub`. Returns the rows removed per table ("tracker_events" for Rasa's)."""
    now = aware(now or system_clock()).astimezone(dt.UTC)
    before = cutoff(settings, now)
    with db.session() as session:
        begin(session)
        doomed = Doomed()
        take_conversations(
            session, doomed, _stale_conversations(session, before, now, not is_sqlite(db))
        )
        _take_old_rows(session, doomed, before)
        removed = delete_doomed(session, doomed)
        # Ended subscriptions, and requests never confirmed, once past retention; active ones
        # stay while they last (they are the consent record).
        removed["subscriptions"] = rowcount(
            session.execute(
                delete(Subscription).where(
                    or_(
                        and_(Subscription.state == "removed", Subscription.removed_at < before),
                        and_(Subscription.state == "pending", Subscription.requested_at < before),
                    )
                )
            )
        )
        removed |= expire_panel_rows(session, before)
        params = {"before": before.timestamp()}
        removed["tracker_events"] = (
            0 if is_sqlite(db) else server_tracker_delete(session, PURGE_EVENTS, params)
        )
        session.commit()
    if is_sqlite(db):
        removed["tracker_events"] = sqlite_tracker_delete(
            tracker_path(settings), PURGE_EVENTS, params
        )
    scrub(db, settings)
    return removed
