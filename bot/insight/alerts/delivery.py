"""Delivery of newly opened alerts to a webhook and by e-mail, each channel retried a few times.

Newly opened alerts are POSTed as JSON {"alert": {...}} to ALERT_WEBHOOK_URL and e-mailed (SMTP,
with STARTTLS and login when configured; implicit TLS on port 465) to every ALERT_EMAIL_TO address.
Each channel's outcome is kept in its status column:
  NULL                                  not configured when the alert opened
  "pending"                             not tried yet
  "sending since <time> (attempt n/4)"  claimed by a replica (compare-and-set on the old status,
                                        so two replicas never send the same alert twice); one
                                        stuck longer than SENDING_STALE (the replica died) is
                                        tried again
  "sent"                                delivered
  "failed: <reason> (attempt n/4)"      retried on the next pass, at most MAX_ATTEMPTS - 1 = 3
                                        times
Alerts older than a day are not retried.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update

from bot.clock import aware, system_clock
from bot.insight.alerts.message import email_configured, send_email, send_webhook
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Alert

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4  # per channel: the first try and 3 retries, one per pass
SENDING_STALE = dt.timedelta(minutes=5)
RETRY_HORIZON = dt.timedelta(days=1)
_STATUS = re.compile(
    r"^(?:failed: .*|sending since (?P<since>\S+)) \(attempt (?P<n>\d+)/\d+\)$", re.DOTALL
)


def _attempt_due(status: str | None, now: dt.datetime) -> tuple[int | None, bool]:
    """The attempt number to make now for a channel in `status` (None when nothing is due), and
    whether the status is a claim left behind by a replica that died on the last attempt (to be
    marked failed)."""
    if status == "pending":
        return 1, False
    match = _STATUS.match(status or "")
    if match is None:
        return None, False  # sent, not configured, or unknown
    done = int(match["n"])
    if match["since"] is not None:
        try:
            since = aware(dt.datetime.fromisoformat(match["since"]))
        except ValueError:
            since = now - SENDING_STALE
        if now - since < SENDING_STALE:
            return None, False  # another replica is on it
        if done >= MAX_ATTEMPTS:
            return None, True
    return (done + 1 if done < MAX_ATTEMPTS else None), False


def _reason(exc: BaseException) -> str:
    """A failure as one short line for the status column."""
    text = str(exc) or exc.__class__.__name__
    if not isinstance(exc, RuntimeError):
        text = f"{exc.__class__.__name__}: {text}"
    return " ".join(text.split())[:140]


def _claim(
    db: Database, alert_id: int, column: Any, now: dt.datetime
) -> tuple[Alert, int, str] | None:
    """Claim the channel of an alert (compare-and-set on its status): the alert, the attempt and
    the claim's status, or None when nothing is due or another replica took it."""
    with db.session() as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            return None
        old = getattr(alert, column.key)
        attempt, abandoned = _attempt_due(old, now)
        if attempt is None:
            if abandoned:
                given_up = f"failed: interrupted (attempt {MAX_ATTEMPTS}/{MAX_ATTEMPTS})"
                session.execute(
                    update(Alert)
                    .where(Alert.id == alert_id, column == old)
                    .values({column.key: given_up})
                )
                session.commit()
            return None
        since = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        claim = f"sending since {since} (attempt {attempt}/{MAX_ATTEMPTS})"
        result = session.execute(
            update(Alert).where(Alert.id == alert_id, column == old).values({column.key: claim})
        )
        claimed = cast("CursorResult[Any]", result).rowcount
        session.commit()
    return (alert, attempt, claim) if claimed == 1 else None


def _deliver_one(
    db: Database, settings: Settings, alert_id: int, channel: str, now: dt.datetime
) -> None:
    """Claim the channel of an alert, send, record the outcome."""
    column = Alert.webhook_status if channel == "webhook" else Alert.email_status
    claimed = _claim(db, alert_id, column, now)
    if claimed is None:
        return  # nothing due, or another replica took it
    alert, attempt, claim = claimed
    try:
        (send_webhook if channel == "webhook" else send_email)(alert, settings)
        outcome = "sent"
    except Exception as exc:  # noqa: BLE001 - recorded, retried on the next pass
        outcome = f"failed: {_reason(exc)} (attempt {attempt}/{MAX_ATTEMPTS})"
        log.warning("alert %s: %s delivery failed: %s", alert_id, channel, outcome)
    with db.session() as session:
        session.execute(
            update(Alert).where(Alert.id == alert_id, column == claim).values({column.key: outcome})
        )
        session.commit()


def deliver(
    db: Database, settings: Settings, alerts: Sequence[Alert], now: dt.datetime | None = None
) -> None:
    """Send `alerts` to the webhook and by e-mail, and retry the deliveries of the last day still
    due (blocking; the SMTP and HTTP calls time out after TIMEOUT_S)."""
    now = aware(now or system_clock())
    channels = [
        name
        for name, on in (
            ("webhook", bool(settings.alert_webhook_url)),
            ("email", email_configured(settings)),
        )
        if on
    ]
    if not channels:
        return
    due = or_(
        *(
            or_(column == "pending", column.like("failed: %"), column.like("sending since %"))
            for column in (Alert.webhook_status, Alert.email_status)
        )
    )
    with db.session() as session:
        ids = set(session.scalars(select(Alert.id).where(Alert.at > now - RETRY_HORIZON, due)))
    ids |= {alert.id for alert in alerts}
    for alert_id in sorted(ids):
        for channel in channels:
            _deliver_one(db, settings, alert_id, channel, now)
