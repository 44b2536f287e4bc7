"""Retention and erasure of citizens' data, in the app's database and in Rasa's tracker store.

- `purge`: conversations whose last activity is older than RETENTION_DAYS are deleted with every row that
  belongs to them (messages both ways, hand-offs, turns, feedback); rows older than the cutoff in
  conversations still going on are deleted too. Before anything is deleted its counts are added to
  `daily_counts`, which outlive the retention period. Opt-outs (the record of a STOP) and the audit log stay.
  Rasa's tracker events older than the cutoff go as well (only whole past sessions: the current session of a
  tracker is never cut, Rasa counts its events).
- `erase`: one citizen (channel + address): every row of theirs in every app table, their opt-out, and their
  tracker events. Counts are folded into `daily_counts` first, so the totals do not move.
- `scrub`: on SQLite, a deleted or overwritten row can live on in the file (free space inside pages, free
  pages, the write-ahead log). Processed citizen messages are UPDATEd from raw to redacted text, so the raw
  text is such a leftover. `scrub` makes the files hold only live rows: with `secure_delete` on in every
  connection since the rows were written, a checkpoint that truncates the WAL is enough; otherwise (SQLite
  builds where it is off by default) the database is VACUUMed first. On PostgreSQL dead tuples are reclaimed
  by (auto)vacuum and WAL recycling on the server: nothing to do from here.

Blocking calls: run them in a thread (`run_purges` does).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, exists, inspect, not_, or_, select, text, update
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import (
    Conversation,
    DailyCount,
    Feedback,
    Handoff,
    InboundMessage,
    OptOut,
    OutboundMessage,
    Turn,
    utcnow,
)

log = logging.getLogger(__name__)

TRACKER_FILE = "rasa-tracker.db"  # Rasa's SQL tracker store on the embedded default (bot/stack.py)
TRACKER_TABLE = "events"  # rasa.core.tracker_store.SQLTrackerStore.SQLEvent
ACTIVE_HANDOFF = ("after_hours", "waiting", "offered", "assigned")  # bot.handoff.queue.ACTIVE
PURGE_LOCK = 7318202  # PostgreSQL advisory lock: one purge at a time across replicas
FIRST_PURGE_AFTER_S = 60.0
CHUNK = 500  # ids per IN (...) list
# The order in which the counts are reported (and tables emptied: children before parents).
TABLES = ("conversations", "inbound_messages", "outbound_messages", "handoffs", "turns", "feedback")


def cutoff(settings: Settings, now: dt.datetime | None = None) -> dt.datetime:
    """The moment before which data is deleted: `now` (default: the current time) minus RETENTION_DAYS."""
    return _aware(now or utcnow()) - dt.timedelta(days=settings.retention_days)


# --- the rows to delete, and their counts ---------------------------------------------------------------


@dataclass
class _Doomed:
    """Rows chosen for deletion, by table; for those that count, what they add to `daily_counts`."""

    conversations: set[str] = field(default_factory=set)
    inbound: set[int] = field(default_factory=set)
    outbound: set[int] = field(default_factory=set)
    handoffs: set[int] = field(default_factory=set)
    turns: set[int] = field(default_factory=set)
    feedback: set[int] = field(default_factory=set)
    counts: Counter[tuple[dt.date, str, str, str, str]] = field(default_factory=Counter)

    def count(
        self,
        at: dt.datetime | None,
        metric: str,
        channel: str | None,
        agency: str | None = None,
        language: str | None = None,
        value: int = 1,
    ) -> None:
        if at is None:
            return
        self.counts[
            (
                _aware(at).date(),
                metric,
                (channel or "")[:32],
                (agency or "")[:64],
                (language or "")[:8],
            )
        ] += value


def _aware(moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC; SQLite gives timestamps back without their zone, and they are stored in UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _take_inbound(session: Session, doomed: _Doomed, condition: Any) -> None:
    rows = session.execute(
        select(InboundMessage.id, InboundMessage.channel, InboundMessage.received_at).where(
            condition
        )
    )
    for row_id, channel, received_at in rows:
        if row_id not in doomed.inbound:
            doomed.inbound.add(row_id)
            doomed.count(received_at, "messages", channel)


def _take_outbound(session: Session, doomed: _Doomed, condition: Any) -> None:
    doomed.outbound.update(session.scalars(select(OutboundMessage.id).where(condition)))


def _take_handoffs(session: Session, doomed: _Doomed, condition: Any) -> None:
    rows = session.execute(
        select(Handoff.id, Handoff.channel, Handoff.language, Handoff.enqueued_at).where(condition)
    )
    for row_id, channel, language, enqueued_at in rows:
        if row_id not in doomed.handoffs:
            doomed.handoffs.add(row_id)
            doomed.count(enqueued_at, "handoffs", channel, None, language)


def _take_turns(session: Session, doomed: _Doomed, condition: Any) -> None:
    rows = session.execute(
        select(Turn.id, Turn.at, Turn.channel, Turn.agency, Turn.language, Turn.outcome).where(
            condition
        )
    )
    for row_id, at, channel, agency, language, outcome in rows:
        if row_id not in doomed.turns:
            doomed.turns.add(row_id)
            doomed.count(at, f"turns_{outcome}", channel, agency, language)


def _take_feedback(session: Session, doomed: _Doomed, condition: Any) -> None:
    rows = session.execute(
        select(
            Feedback.id,
            Feedback.at,
            Feedback.kind,
            Feedback.value,
            Feedback.channel,
            Feedback.agency,
            Feedback.language,
        ).where(condition)
    )
    for row_id, at, kind, value, channel, agency, language in rows:
        if row_id in doomed.feedback:
            continue
        doomed.feedback.add(row_id)
        if kind == "helpful":
            doomed.count(at, "helpful_yes" if value else "helpful_no", channel, agency, language)
        elif kind == "satisfaction":
            doomed.count(at, "satisfaction_sum", channel, agency, language, int(value))
            doomed.count(at, "satisfaction_n", channel, agency, language)


def _take_conversations(session: Session, doomed: _Doomed, conversation_ids: Iterable[str]) -> None:
    """Every row of these conversations."""
    for chunk in _chunks(conversation_ids):
        doomed.conversations.update(
            session.scalars(select(Conversation.id).where(Conversation.id.in_(chunk)))
        )
        _take_inbound(session, doomed, InboundMessage.conversation_id.in_(chunk))
        _take_outbound(session, doomed, OutboundMessage.conversation_id.in_(chunk))
        _take_handoffs(session, doomed, Handoff.conversation_id.in_(chunk))
        _take_turns(session, doomed, Turn.conversation_id.in_(chunk))
        _take_feedback(session, doomed, Feedback.conversation_id.in_(chunk))


def _stale_conversations(
    session: Session, before: dt.datetime, now: dt.datetime, lock: bool
) -> list[str]:
    """Conversations with no activity since `before`: no message either way, no hand-off that ended (or is
    still going on), nothing waiting to be processed or sent, and no replica working on them right now."""
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
    if (
        lock
    ):  # PostgreSQL: a message arriving meanwhile waits for the purge (its insert needs the row)
        query = query.with_for_update(of=Conversation)
    return list(session.scalars(query))


def _take_old_rows(session: Session, doomed: _Doomed, before: dt.datetime) -> None:
    """Rows older than `before` in conversations that go on: finished messages, ended hand-offs, analytics."""
    _take_inbound(
        session,
        doomed,
        and_(InboundMessage.received_at < before, InboundMessage.status != "pending"),
    )
    _take_outbound(
        session,
        doomed,
        and_(OutboundMessage.created_at < before, OutboundMessage.status != "pending"),
    )
    _take_handoffs(
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
    _take_turns(session, doomed, Turn.at < before)
    _take_feedback(session, doomed, Feedback.at < before)


def _add_daily_counts(
    session: Session, counts: Counter[tuple[dt.date, str, str, str, str]]
) -> None:
    """Add `counts` to `daily_counts`: existing rows are read and updated, missing ones inserted."""
    by_day: dict[dt.date, list[tuple[dt.date, str, str, str, str]]] = {}
    for key in counts:
        by_day.setdefault(key[0], []).append(key)
    for days in _chunks(by_day):
        existing = {
            (row.day, row.metric, row.channel, row.agency, row.language): row
            for row in session.scalars(select(DailyCount).where(DailyCount.day.in_(days)))
        }
        for day in days:
            for key in by_day[day]:
                row = existing.get(key)
                if row is None:
                    session.add(
                        DailyCount(
                            day=key[0],
                            metric=key[1],
                            channel=key[2],
                            agency=key[3],
                            language=key[4],
                            value=counts[key],
                        )
                    )
                else:
                    row.value = (row.value or 0) + counts[key]
    session.flush()


def _delete(session: Session, doomed: _Doomed) -> dict[str, int]:
    """Add the counts to `daily_counts`, then delete the rows, children first; returns rows per table."""
    _add_daily_counts(session, doomed.counts)
    removed = dict.fromkeys(TABLES, 0)

    def remove(table: str, column: Any, ids: set[Any]) -> None:
        for chunk in _chunks(ids):
            removed[table] += (
                session.execute(delete(column.class_).where(column.in_(chunk))).rowcount or 0
            )

    remove("outbound_messages", OutboundMessage.id, doomed.outbound)
    remove("handoffs", Handoff.id, doomed.handoffs)
    # A kept reply or hand-off may point at a message that goes: it loses the link, not its life.
    for chunk in _chunks(doomed.inbound):
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.inbound_id.in_(chunk))
            .values(inbound_id=None)
        )
        session.execute(
            update(Handoff).where(Handoff.inbound_id.in_(chunk)).values(inbound_id=None)
        )
    remove("inbound_messages", InboundMessage.id, doomed.inbound)
    remove("turns", Turn.id, doomed.turns)
    remove("feedback", Feedback.id, doomed.feedback)
    remove("conversations", Conversation.id, doomed.conversations)
    return removed


def _begin(session: Session) -> None:
    """Start the write transaction: on SQLite take the write lock now (what is counted is what is deleted)
    and zero what is deleted; on PostgreSQL, one purge or erase at a time."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA secure_delete=ON")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PURGE_LOCK})


# --- Rasa's tracker store ----------------------------------------------------------------------------------

# Events of past sessions only: Rasa finds the new events of a tracker by counting those since its latest
# session start, so the current session must stay whole. A tracker with nothing since the cutoff goes entirely.
_PURGE_EVENTS = (
    f"DELETE FROM {TRACKER_TABLE} WHERE timestamp < :before AND ("
    f" timestamp < (SELECT MAX(s.timestamp) FROM {TRACKER_TABLE} s"
    f"  WHERE s.sender_id = {TRACKER_TABLE}.sender_id AND s.type_name = 'session_started')"
    f" OR NOT EXISTS (SELECT 1 FROM {TRACKER_TABLE} r"
    f"  WHERE r.sender_id = {TRACKER_TABLE}.sender_id AND r.timestamp >= :before))"
)
_ERASE_EVENTS = f"DELETE FROM {TRACKER_TABLE} WHERE sender_id = :sender"


def tracker_path(settings: Settings) -> Path:
    """Rasa's SQLite tracker store on the embedded default."""
    return settings.var_dir / TRACKER_FILE


def _is_sqlite(db: Database) -> bool:
    return db.engine.dialect.name == "sqlite"


def _server_tracker_delete(session: Session, statement: str, params: dict[str, Any]) -> int:
    """Delete tracker events in the app's own (server) database, in the caller's transaction."""
    inspector = inspect(session.connection())
    if not inspector.has_table(TRACKER_TABLE):
        return 0
    columns = {c["name"] for c in inspector.get_columns(TRACKER_TABLE)}
    if not {"sender_id", "timestamp", "type_name"} <= columns:
        return 0  # some other table called "events": not Rasa's
    return session.execute(text(statement), params).rowcount or 0


def _sqlite_tracker_delete(path: Path, statement: str, params: dict[str, Any]) -> int:
    """Delete tracker events in Rasa's SQLite file (if Rasa has made it), zeroing what is deleted."""
    if not path.exists():
        return 0
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA secure_delete=ON")
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (TRACKER_TABLE,)
        )
        if found.fetchone() is None:
            return 0
        connection.execute("BEGIN IMMEDIATE")
        try:
            count = connection.execute(statement, params).rowcount
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return max(count, 0)
    finally:
        connection.close()


# --- scrubbing SQLite files ----------------------------------------------------------------------------------


def _sqlite_path(db: Database) -> Path | None:
    database = db.engine.url.database
    return Path(database) if _is_sqlite(db) and database and database != ":memory:" else None


def secure_delete_at_connect(db: Database) -> bool:
    """Whether a new connection of `db` has `secure_delete` on (set at connect, or the SQLite build's
    default): then deleted and overwritten rows are zeroed in place, and no VACUUM is needed."""
    if not _is_sqlite(db):
        return False
    pool = (
        db.engine.pool.recreate()
    )  # a fresh connection with the same connect-time pragmas, not a pooled one
    try:
        connection = pool.connect()
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA secure_delete")
            value = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()
    finally:
        pool.dispose()
    return bool(value and value[0])


def scrub_sqlite_file(path: Path, vacuum: bool, attempts: int = 5) -> dict[str, Any]:
    """Leave in `path` (and its -wal) only live rows: optionally VACUUM (rewrites every page from live rows),
    then checkpoint the WAL into the database and truncate it. Returns what was done."""
    done: dict[str, Any] = {"file": str(path), "vacuumed": False, "wal_truncated": False}
    if not path.exists():
        return done
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA secure_delete=ON")
        if vacuum:
            connection.execute("VACUUM")
            done["vacuumed"] = True
        for attempt in range(attempts):
            # (busy, WAL frames, frames checkpointed); busy=1 while another connection reads an old snapshot
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                done["wal_truncated"] = True
                break
            time.sleep(0.2 * (attempt + 1))
    finally:
        connection.close()
    if not done["wal_truncated"]:
        log.warning("could not truncate the write-ahead log of %s: readers kept it busy", path)
    return done


def scrub(
    db: Database, settings: Settings | None = None, vacuum: bool | None = None
) -> list[dict[str, Any]]:
    """Make deleted and overwritten rows unrecoverable from the SQLite files: the app's database and, with
    `settings`, Rasa's SQLite tracker store. `vacuum=None` decides: the app database is VACUUMed unless its
    connections have `secure_delete` on (then truncating the WAL is enough); the tracker store, where Rasa only
    appends and deletes come from here with `secure_delete` on, only when asked. Nothing to do on PostgreSQL.
    Returns what was done per file."""
    done: list[dict[str, Any]] = []
    path = _sqlite_path(db)
    if path is None:
        return done
    app_vacuum = (not secure_delete_at_connect(db)) if vacuum is None else vacuum
    done.append(scrub_sqlite_file(path, app_vacuum))
    if settings is not None:
        done.append(scrub_sqlite_file(tracker_path(settings), bool(vacuum)))
    return done


# --- purge and erase ---------------------------------------------------------------------------------------


def purge(db: Database, settings: Settings, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete what is older than RETENTION_DAYS: stale conversations with all their rows, and older rows of
    conversations that go on; their counts are added to `daily_counts` first, in the same transaction.
    Opt-outs and the audit log are kept. Then Rasa's tracker events older than the cutoff, and `scrub`.
    Returns the rows removed per table ("tracker_events" for Rasa's)."""
    now = _aware(now or utcnow())
    before = cutoff(settings, now)
    with db.session() as session:
        _begin(session)
        doomed = _Doomed()
        _take_conversations(
            session, doomed, _stale_conversations(session, before, now, not _is_sqlite(db))
        )
        _take_old_rows(session, doomed, before)
        removed = _delete(session, doomed)
        params = {"before": before.timestamp()}
        removed["tracker_events"] = (
            0 if _is_sqlite(db) else _server_tracker_delete(session, _PURGE_EVENTS, params)
        )
        session.commit()
    if _is_sqlite(db):
        removed["tracker_events"] = _sqlite_tracker_delete(
            tracker_path(settings), _PURGE_EVENTS, params
        )
    scrub(db, settings)
    return removed


def erase(db: Database, settings: Settings, channel: str, address: str) -> dict[str, int]:
    """Remove one citizen: their conversation `channel:address` and its rows in every app table, their opt-out,
    and their events in Rasa's tracker store; counts go to `daily_counts` first. Then `scrub`. Returns the
    rows removed per table (all zero for an unknown citizen)."""
    conversation_id = f"{channel}:{address}"
    with db.session() as session:
        _begin(session)
        doomed = _Doomed()
        _take_conversations(session, doomed, [conversation_id])
        # Analytics rows are keyed by the id alone: take them even without a conversation row.
        _take_turns(session, doomed, Turn.conversation_id == conversation_id)
        _take_feedback(session, doomed, Feedback.conversation_id == conversation_id)
        removed = _delete(session, doomed)
        removed["opt_outs"] = (
            session.execute(
                delete(OptOut).where(OptOut.channel == channel, OptOut.address == address)
            ).rowcount
            or 0
        )
        params = {"sender": conversation_id}
        removed["tracker_events"] = (
            0 if _is_sqlite(db) else _server_tracker_delete(session, _ERASE_EVENTS, params)
        )
        session.commit()
    if _is_sqlite(db):
        removed["tracker_events"] = _sqlite_tracker_delete(
            tracker_path(settings), _ERASE_EVENTS, params
        )
    scrub(db, settings)
    return removed


def describe(removed: dict[str, int]) -> str:
    """A one-line account of what was removed, e.g. "conversations=2 inbound_messages=7 ..."."""
    return " ".join(f"{table}={count}" for table, count in removed.items())


async def run_purges(settings: Settings, db: Database, stop: asyncio.Event) -> None:
    """Purge every PURGE_INTERVAL_S (the first a minute after start, or sooner with a shorter interval) until
    `stop` is set, in a thread; what was removed is logged, failures are logged and retried next time."""
    delay = min(FIRST_PURGE_AFTER_S, settings.purge_interval_s)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
            return
        except TimeoutError:
            pass
        delay = settings.purge_interval_s
        try:
            removed = await asyncio.to_thread(purge, db, settings)
        except Exception:  # the app must keep running; the next run retries
            log.exception("privacy purge failed")
            continue
        log.info(
            "privacy purge (older than %d days): %s", settings.retention_days, describe(removed)
        )
