"""A detection pass: close the alerts whose group calmed down, open one for each group surging now.

One alert per surge
-------------------
- While a group has an open alert (`ended_at` NULL), no new alert is opened for it.
- An alert closes when its group is calm: the last hour's count is under half its threshold
  (hysteresis, so a surge hovering around the threshold does not flap), and, for an alert opened on
  the day window, the last day's count is under half the day threshold too.
- For 24 hours after a group's alert closed, its day window cannot open another one: that window
  still holds the surge that was alerted. A new burst meanwhile is caught by the hour window.
- Several app replicas may run the detector at once. Opening is a compare-and-set: one conditional
  statement, INSERT INTO alerts ... SELECT ... WHERE NOT EXISTS (an open alert of the group, or for
  the day window one closed in the last day). SQLite runs each write statement under its database
  write lock with a fresh snapshot, so the check and the insert are atomic there. On PostgreSQL
  (READ COMMITTED) two such statements could both see no row, so the transaction first takes a
  per-group advisory lock (pg_advisory_xact_lock on a hash of the group key, released at commit):
  the second replica waits, then its statement sees the first one's alert and inserts nothing. (A
  unique partial index on open alerts would also do, but the schema does not have one.) Closing is
  `UPDATE ... WHERE id = ? AND ended_at IS NULL`, harmless if two replicas do it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    JSON,
    CursorResult,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from bot.clock import aware, system_clock
from bot.insight.alerts.counting import examples, group_rates, label
from bot.insight.alerts.message import email_configured
from bot.insight.alerts.rule import DAY, HOUR, MIN_HISTORY, Baselines, GroupRate
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Alert, Turn

log = logging.getLogger(__name__)

_LOCK_CLASS = 7318202  # first key of the PostgreSQL advisory locks taken when opening an alert
_COLUMNS = (
    "at",
    "group_key",
    "label",
    "window",
    "count",
    "expected",
    "examples",
    "webhook_status",
    "email_status",
)


@dataclass(frozen=True, slots=True)
class _Surge:
    """What an alert about to open says: its group, window, count and usual count."""

    key: str
    window: str
    count: int
    expected: float
    since: dt.datetime


def _surge(rate: GroupRate, settings: Settings, now: dt.datetime, day_open: bool) -> _Surge | None:
    """The window in which a group surges (the hour first; the day only when `day_open`), if any."""
    hour_t, day_t = rate.thresholds(settings)
    if rate.hour >= hour_t:
        return _Surge(rate.key, "hour", rate.hour, rate.expected_hour, now - HOUR)
    if rate.day >= day_t and day_open:
        return _Surge(rate.key, "day", rate.day, rate.expected_day, now - DAY)
    return None


def _calm(alert: Alert, rate: GroupRate, settings: Settings) -> bool:
    """Whether an open alert's group is under half its thresholds (hysteresis)."""
    hour_t, day_t = rate.thresholds(settings)
    return 2 * rate.hour < hour_t and (alert.window == "hour" or 2 * rate.day < day_t)


def _open(session: Session, now: dt.datetime, surge: _Surge, settings: Settings) -> int | None:
    """Open an alert for the surge unless one is open (or, for the day window, one ended in the last
    day): compare-and-set, safe against other replicas (see the docstring). Its id, or None."""
    key = surge.key
    text, shown = label(session, key), examples(session, key, surge.since, now)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_LOCK_CLASS, func.hashtext(key))))
    blocked = exists().where(Alert.group_key == key, Alert.ended_at.is_(None))
    if surge.window == "day":
        blocked = exists().where(
            Alert.group_key == key, or_(Alert.ended_at.is_(None), Alert.ended_at > now - DAY)
        )
    webhook = "pending" if settings.alert_webhook_url else None
    email = "pending" if email_configured(settings) else None
    row = select(
        literal(now, DateTime(timezone=True)),
        literal(key, String(140)),
        literal(text, Text()),
        literal(surge.window, String(8)),
        literal(surge.count, Integer()),
        literal(float(surge.expected), Float()),
        literal(shown, JSON()),
        literal(webhook, String(200)),
        literal(email, String(200)),
    ).where(~blocked)
    statement = insert(Alert).from_select(list(_COLUMNS), row).returning(Alert.id)
    return session.execute(statement).scalar_one_or_none()


def _close(db: Database, alert_id: int, now: dt.datetime) -> int:
    """End an open alert; 1 when this call ended it, 0 when another replica had."""
    with db.session() as session:
        result = session.execute(
            update(Alert).where(Alert.id == alert_id, Alert.ended_at.is_(None)).values(ended_at=now)
        )
        session.commit()
        return cast("CursorResult[Any]", result).rowcount


def detect(
    db: Database,
    settings: Settings,
    now: dt.datetime | None = None,
    baselines: Baselines | None = None,
) -> list[Alert]:
    """One pass: close the alerts whose group calmed down, open alerts for groups surging now; the
    newly opened alerts (blocking). Pass the same `baselines` from pass to pass to save re-reading
    the week."""
    now = aware(now or system_clock())
    with db.session() as session:
        oldest = session.scalar(select(func.min(Turn.at)).where(Turn.at < now))
        if oldest is None or now - aware(oldest) < MIN_HISTORY:
            return []  # not enough history to know what is usual
        open_alerts = {
            a.group_key: a for a in session.scalars(select(Alert).where(Alert.ended_at.is_(None)))
        }
        ended_lately = set(
            session.scalars(select(Alert.group_key).where(Alert.ended_at > now - DAY))
        )
        rates = group_rates(session, settings, now, aware(oldest), set(open_alerts), baselines)
    closed = 0
    for key, alert in open_alerts.items():
        if _calm(alert, rates.get(key, GroupRate(key, 0, 0)), settings):
            closed += _close(db, alert.id, now)
    opened: list[Alert] = []
    for key, rate in sorted(rates.items()):
        if key in open_alerts:
            continue
        surge = _surge(rate, settings, now, day_open=key not in ended_lately)
        if surge is None:
            continue
        with db.session() as session:
            alert_id = _open(session, now, surge, settings)
            session.commit()
            new = session.get(Alert, alert_id) if alert_id is not None else None
            if new is not None:
                opened.append(new)
    if closed:
        log.info("%d emerging-issue alert(s) closed", closed)
    return opened


def recent_alerts(db: Database, limit: int = 20) -> list[Alert]:
    """For the dashboard: open alerts first, then the latest closed ones (blocking)."""
    with db.session() as session:
        return list(
            session.scalars(
                select(Alert).order_by(Alert.ended_at.is_not(None), Alert.at.desc()).limit(limit)
            )
        )
