"""Emerging-issue alerts: a group of questions growing much faster than usual (a rumour, an outage, a new
rule), shown on the dashboard and sent to a webhook and by e-mail.

Groups
------
A turn belongs to `faq:<faq_id>` when the bot answered it with that FAQ (outcome "answered"), and to
`gap:<cluster_id>` when it was left unanswered (clarify, no_answer, handoff) and the background clusterer has
put it in a knowledge-gap group. Unclustered turns belong to no group yet: a gap surge is seen once its
questions are clustered (one clustering pass later).

What is counted
---------------
Citizens, not messages: the count of a group in a window is the number of distinct conversations that asked
in it, so one person repeating a question, or a script flooding one session, cannot make a surge. Two
windows end at `now`: the last hour (fast outages) and the last day (rumours that build up slowly).

The usual rate (`expected`), per window
---------------------------------------
- hour: the largest of (a) the group's average per hour over the 7 days before the window (flat rate),
  (b) its average over the same clock hour on each of the previous 7 days (so a group that is always busy
  at 9:00 is not a surge at 9:00 every day), and (c) a floor of FLOOR_PER_HOUR;
- day: the larger of its average per day over the 7 days before the window, and the floor x 24.
The floor lets a brand-new group (no history: a new rumour) surge. With less than 7 days of history the
averages are taken over the history there is; with less than MIN_HISTORY, nothing is detected (a new
deployment would otherwise call every first busy FAQ a surge). The usual rates move on in steps of
BASELINE_STEP (10 minutes): their windows end at `now` rounded down to it rather than at `now` exactly
(a few minutes out of a week change nothing), so a detector keeps them for 10 minutes (`Baselines`)
instead of re-reading the week every pass.

The rule
--------
A window surges when its count reaches `threshold`, the smallest count that is all of:
  - >= ALERT_MIN_COUNT (too few questions are never an issue),
  - >= ALERT_RATIO x expected (much faster than usual),
  - unlikely by chance (at most ALPHA, 1 in 100,000) against each baseline: had the group's rate not
    changed, of the window's questions and the baseline's together, each would have fallen in the window
    with probability 1 / (baseline windows + 1), so the count is a binomial tail (the exact test comparing
    two Poisson rates). Unlike a Poisson test against `expected`, it allows for a baseline of a few
    questions being a rough estimate: 12 in an hour against 16 in the same hour over the last 7 days (2.3
    an hour) is not a surge, 12 against 0 is. It only decides for groups with a few questions per window;
    elsewhere the first two do.
With the defaults (8, x4) a new group (nothing before) surges at 8 citizens in an hour or 24 in a day; a
group usually at 5 an hour surges at 20 in an hour. The hour window is tested first and reported when both
surge.

One alert per surge
-------------------
- While a group has an open alert (`ended_at` NULL), no new alert is opened for it.
- An alert closes when its group is calm: the last hour's count is under half its threshold (hysteresis,
  so a surge hovering around the threshold does not flap), and, for an alert opened on the day window,
  the last day's count is under half the day threshold too.
- For 24 hours after a group's alert closed, its day window cannot open another one: that window still
  holds the surge that was alerted. A new burst meanwhile is caught by the hour window.
- Several app replicas may run the detector at once. Opening is a compare-and-set: one conditional
  statement, INSERT INTO alerts ... SELECT ... WHERE NOT EXISTS (an open alert of the group, or for the day
  window one closed in the last day). SQLite runs each write statement under its database
  write lock with a fresh snapshot, so the check and the insert are atomic there. On PostgreSQL (READ
  COMMITTED) two such statements could both see no row, so the transaction first takes a per-group
  advisory lock (pg_advisory_xact_lock on a hash of the group key, released at commit): the second replica
  waits, then its statement sees the first one's alert and inserts nothing. (A unique partial index on
  open alerts would also do, but the schema does not have one.) Closing is `UPDATE ... WHERE id = ? AND
  ended_at IS NULL`, harmless if two replicas do it.

Cost of a pass
--------------
A first query counts every group over the last day (a range scan of `ix_turns_at`, GROUP BY faq_id /
cluster_id). Only candidates, groups that could surge at all (hour count >= the minimum, or day count >= the
lowest day threshold there is) or that have an open alert, get the second: their 7-day baselines, read
through `ix_turns_faq_at` / `ix_turns_cluster_at` (WHERE faq_id IN (...) AND at in range, GROUP BY), once
per BASELINE_STEP when the caller keeps a `Baselines` (AlertWatcher does).

Delivery
--------
Newly opened alerts are POSTed as JSON {"alert": {...}} to ALERT_WEBHOOK_URL and e-mailed (SMTP, with
STARTTLS and login when configured; implicit TLS on port 465) to every ALERT_EMAIL_TO address. Each
channel's outcome is kept in its status column:
  NULL                                  not configured when the alert opened
  "pending"                             not tried yet
  "sending since <time> (attempt n/4)"  claimed by a replica (compare-and-set on the old status, so two
                                        replicas never send the same alert twice); one stuck longer than
                                        SENDING_STALE (the replica died) is tried again
  "sent"                                delivered
  "failed: <reason> (attempt n/4)"      retried on the next pass, at most MAX_ATTEMPTS - 1 = 3 times
Alerts older than a day are not retried.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import re
import smtplib
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import httpx
from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    and_,
    case,
    distinct,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Alert, GapCluster, Turn, utcnow

log = logging.getLogger(__name__)

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
BASELINE_DAYS = 7  # the usual rate: the 7 days before the window
FLOOR_PER_HOUR = 0.25  # the usual rate of a group never seen before (6 a day)
ALPHA = 1e-5  # a surge must be this unlikely by chance, had the rate not changed
MIN_HISTORY = dt.timedelta(days=2)  # less history than this: nothing is detected
EXAMPLES = 3  # example questions per alert
UNANSWERED = ("clarify", "no_answer", "handoff")
IN_CHUNK = 500  # group ids per IN (...) list
BASELINE_STEP = dt.timedelta(minutes=10)  # the usual rates move on in steps of this

MAX_ATTEMPTS = 4  # per channel: the first try and 3 retries, one per pass
SENDING_STALE = dt.timedelta(minutes=5)
RETRY_HORIZON = DAY
TIMEOUT_S = 10.0
_LOCK_CLASS = 7318202  # first key of the PostgreSQL advisory locks taken when opening an alert
_STATUS = re.compile(
    r"^(?:failed: .*|sending since (?P<since>\S+)) \(attempt (?P<n>\d+)/\d+\)$", re.DOTALL
)


# --- the rule ----------------------------------------------------------------------------------------------


def binomial_tail(count: int, trials: int, p: float) -> float:
    """P(X >= count) for X ~ Binomial(trials, p), summed from `count` upwards (no cancellation error)."""
    if count <= 0 or p >= 1:
        return 1.0
    if count > trials or p <= 0:
        return 0.0
    term = math.exp(
        math.lgamma(trials + 1)
        - math.lgamma(count + 1)
        - math.lgamma(trials - count + 1)
        + count * math.log(p)
        + (trials - count) * math.log1p(-p)
    )
    total, j = 0.0, count
    while j <= trials:
        total += term
        if term <= total * 1e-15 and j > trials * p:
            break
        term *= (trials - j) / (j + 1) * p / (1 - p)
        j += 1
    return min(1.0, total)


def chance(count: int, seen: int, windows: float) -> float:
    """How likely `count` or more of the `count + seen` questions of the window and of its baseline (`seen`
    in `windows` windows of the same length) fall in the window, had the rate not changed."""
    return binomial_tail(count, count + seen, 1 / (windows + 1))


def threshold(
    min_count: int,
    ratio: float,
    expected: float,
    baselines: Iterable[tuple[int, float]] = (),
    alpha: float = ALPHA,
) -> int:
    """The smallest count that is a surge: at least `min_count`, at least `ratio` x `expected`, and for every
    baseline (`seen` questions in `windows` windows) no more likely than `alpha` by chance."""
    baselines = tuple(baselines)
    count = max(min_count, math.ceil(round(ratio * expected, 9)))
    while any(chance(count, seen, windows) > alpha for seen, windows in baselines):
        count += 1
    return count


@dataclass(slots=True)
class GroupRate:
    """One group's counts (citizens) in the last hour and day, their usual values, and the baselines behind
    those: (citizens seen, in how many windows of the same length)."""

    key: str
    hour: int
    day: int
    expected_hour: float = FLOOR_PER_HOUR
    expected_day: float = FLOOR_PER_HOUR * 24
    hour_baselines: tuple[tuple[int, float], ...] = ()
    day_baselines: tuple[tuple[int, float], ...] = ()

    def thresholds(self, settings: Settings) -> tuple[int, int]:
        """The hour's and the day's surge thresholds."""
        return (
            threshold(
                settings.alert_min_count,
                settings.alert_ratio,
                self.expected_hour,
                self.hour_baselines,
            ),
            threshold(
                settings.alert_min_count,
                settings.alert_ratio,
                self.expected_day,
                self.day_baselines,
            ),
        )


@dataclass(frozen=True, slots=True)
class _Kind:
    """FAQ groups or knowledge-gap groups: their key column and which turns they count."""

    prefix: str
    column: Any
    where: tuple[Any, ...]

    def key(self, value: object) -> str:
        return f"{self.prefix}:{value}"

    def value(self, key: str) -> str | int | None:
        prefix, _, raw = key.partition(":")
        if prefix != self.prefix or not raw:
            return None
        if self.prefix == "gap":
            return int(raw) if raw.isdigit() else None
        return raw


_KINDS = (
    _Kind("faq", Turn.faq_id, (Turn.outcome == "answered", Turn.faq_id.is_not(None))),
    _Kind("gap", Turn.cluster_id, (Turn.outcome.in_(UNANSWERED), Turn.cluster_id.is_not(None))),
)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive; everything here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def anchor_of(now: dt.datetime) -> dt.datetime:
    """`now` rounded down to BASELINE_STEP: where the usual rates' windows end."""
    step = BASELINE_STEP.total_seconds()
    return dt.datetime.fromtimestamp(math.floor(now.timestamp() / step) * step, dt.UTC)


class Baselines:
    """The raw counts behind the usual rates, kept for the current BASELINE_STEP (one per detector; a pass
    reads the week only for groups it has not seen in this step)."""

    def __init__(self) -> None:
        self.anchor: dt.datetime | None = None
        self.counts: dict[
            str, tuple[int, int, int]
        ] = {}  # key -> (7 days before, 7 days before the day, same hour)

    def at(self, anchor: dt.datetime) -> dict[str, tuple[int, int, int]]:
        if anchor != self.anchor:
            self.anchor, self.counts = anchor, {}
        return self.counts


def group_rates(
    session: Session,
    settings: Settings,
    now: dt.datetime,
    oldest: dt.datetime,
    always: Iterable[str] = (),
    baselines: Baselines | None = None,
) -> dict[str, GroupRate]:
    """Counts of every group active in the last day; usual rates of those that could surge (and those in
    `always`). Needs `now - oldest >= MIN_HISTORY`."""
    citizen, always = Turn.conversation_id, set(always)
    # No day threshold is lower than this (the floor's): a group under it in the day cannot surge there.
    day_floor = max(
        settings.alert_min_count, math.ceil(round(settings.alert_ratio * FLOOR_PER_HOUR * 24, 9))
    )
    anchor = anchor_of(now)
    cache = (baselines or Baselines()).at(anchor)
    # History actually there (a young database): divide by what was seen, not by 7 days.
    hour_span_h = min(BASELINE_DAYS * 24.0, (anchor - HOUR - oldest) / HOUR)
    day_span_d = min(float(BASELINE_DAYS), (anchor - DAY - oldest) / DAY)
    seasonal_days = max(1, min(BASELINE_DAYS, math.floor((anchor - HOUR - oldest) / DAY)))
    seasonal = or_(
        *(
            and_(Turn.at >= anchor - HOUR - k * DAY, Turn.at < anchor - k * DAY)
            for k in range(1, seasonal_days + 1)
        )
    )
    rates: dict[str, GroupRate] = {}
    for kind in _KINDS:
        window = (
            select(
                kind.column,
                func.count(distinct(case((Turn.at >= now - HOUR, citizen)))),
                func.count(distinct(citizen)),
            )
            .where(Turn.at >= now - DAY, Turn.at < now, *kind.where)
            .group_by(kind.column)
        )
        candidates = []
        for value, hour, day in session.execute(window):
            key = kind.key(value)
            rates[key] = GroupRate(key, int(hour), int(day))
            if hour >= settings.alert_min_count or day >= day_floor or key in always:
                candidates.append(value)
        missing = [value for value in candidates if kind.key(value) not in cache]
        for chunk in _chunks(missing):
            cache.update((kind.key(value), (0, 0, 0)) for value in chunk)
            baseline = (
                select(
                    kind.column,
                    func.count(
                        distinct(case((Turn.at >= anchor - HOUR - BASELINE_DAYS * DAY, citizen)))
                    ),
                    func.count(distinct(case((Turn.at < anchor - DAY, citizen)))),
                    func.count(distinct(case((seasonal, citizen)))),
                )
                .where(
                    kind.column.in_(chunk),
                    *kind.where,
                    Turn.at >= anchor - DAY - BASELINE_DAYS * DAY,
                    Turn.at < anchor - HOUR,
                )
                .group_by(kind.column)
            )
            for value, hour_flat, day_flat, same_hour in session.execute(baseline):
                cache[kind.key(value)] = (int(hour_flat), int(day_flat), int(same_hour))
        for value in candidates:
            rate = rates[kind.key(value)]
            hour_flat, day_flat, same_hour = cache[rate.key]
            rate.expected_hour = max(
                hour_flat / hour_span_h, same_hour / seasonal_days, FLOOR_PER_HOUR
            )
            rate.expected_day = max(day_flat / day_span_d, FLOOR_PER_HOUR * 24)
            rate.hour_baselines = ((hour_flat, hour_span_h), (same_hour, float(seasonal_days)))
            rate.day_baselines = ((day_flat, day_span_d),)
    return rates


# --- detection ---------------------------------------------------------------------------------------------


def _examples(session: Session, key: str, since: dt.datetime, now: dt.datetime) -> list[str]:
    """The latest few distinct (redacted) questions of a group in the window."""
    for kind in _KINDS:
        value = kind.value(key)
        if value is None:
            continue
        rows = session.scalars(
            select(Turn.question)
            .where(
                kind.column == value,
                *kind.where,
                Turn.question.is_not(None),
                Turn.at >= since,
                Turn.at < now,
            )
            .order_by(Turn.at.desc())
            .limit(50)
        )
        examples: list[str] = []
        for question in rows:
            text = " ".join(question.split())[:300]
            if text and text not in examples:
                examples.append(text)
            if len(examples) == EXAMPLES:
                break
        return examples
    return []


def _label(session: Session, key: str) -> str:
    """The FAQ id, or the knowledge-gap group's label (its first question)."""
    prefix, _, raw = key.partition(":")
    if prefix == "gap" and raw.isdigit():
        label = session.scalar(select(GapCluster.label).where(GapCluster.id == int(raw)))
        return " ".join(label.split())[:300] if label else f"knowledge gap #{raw}"
    return raw


def _open(
    session: Session,
    now: dt.datetime,
    key: str,
    label: str,
    window: str,
    count: int,
    expected: float,
    examples: list[str],
    settings: Settings,
) -> int | None:
    """Open an alert for `key` unless one is open (or, for the day window, one ended in the last day):
    compare-and-set, safe against other replicas (see the module's docstring). Its id, or None."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_LOCK_CLASS, func.hashtext(key))))
    blocked = exists().where(Alert.group_key == key, Alert.ended_at.is_(None))
    if window == "day":
        blocked = exists().where(
            Alert.group_key == key, or_(Alert.ended_at.is_(None), Alert.ended_at > now - DAY)
        )
    webhook = "pending" if settings.alert_webhook_url else None
    email = "pending" if _email_configured(settings) else None
    row = select(
        literal(now, DateTime(timezone=True)),
        literal(key, String(140)),
        literal(label, Text()),
        literal(window, String(8)),
        literal(count, Integer()),
        literal(float(expected), Float()),
        literal(examples, JSON()),
        literal(webhook, String(200)),
        literal(email, String(200)),
    ).where(~blocked)
    columns = [
        "at",
        "group_key",
        "label",
        "window",
        "count",
        "expected",
        "examples",
        "webhook_status",
        "email_status",
    ]
    return session.execute(
        insert(Alert).from_select(columns, row).returning(Alert.id)
    ).scalar_one_or_none()


def detect(
    db: Database,
    settings: Settings,
    now: dt.datetime | None = None,
    baselines: Baselines | None = None,
) -> list[Alert]:
    """One pass: close the alerts whose group calmed down, open alerts for groups surging now; the newly
    opened alerts (blocking). Pass the same `baselines` from pass to pass to save re-reading the week."""
    now = _aware(now or utcnow())
    with db.session() as session:
        oldest = session.scalar(select(func.min(Turn.at)).where(Turn.at < now))
        if oldest is None or now - _aware(oldest) < MIN_HISTORY:
            return []  # not enough history to know what is usual
        open_alerts = {
            a.group_key: a for a in session.scalars(select(Alert).where(Alert.ended_at.is_(None)))
        }
        ended_lately = set(
            session.scalars(select(Alert.group_key).where(Alert.ended_at > now - DAY))
        )
        rates = group_rates(session, settings, now, _aware(oldest), set(open_alerts), baselines)
    closed = 0
    for key, alert in open_alerts.items():
        rate = rates.get(key, GroupRate(key, 0, 0))
        hour_t, day_t = rate.thresholds(settings)
        if 2 * rate.hour < hour_t and (alert.window == "hour" or 2 * rate.day < day_t):
            with db.session() as session:
                closed += session.execute(
                    update(Alert)
                    .where(Alert.id == alert.id, Alert.ended_at.is_(None))
                    .values(ended_at=now)
                ).rowcount
                session.commit()
    opened: list[Alert] = []
    for key, rate in sorted(rates.items()):
        if key in open_alerts:
            continue
        hour_t, day_t = rate.thresholds(settings)
        if rate.hour >= hour_t:
            window, count, expected, since = "hour", rate.hour, rate.expected_hour, now - HOUR
        elif rate.day >= day_t and key not in ended_lately:
            window, count, expected, since = "day", rate.day, rate.expected_day, now - DAY
        else:
            continue
        with db.session() as session:
            alert_id = _open(
                session,
                now,
                key,
                _label(session, key),
                window,
                count,
                expected,
                _examples(session, key, since, now),
                settings,
            )
            session.commit()
            if alert_id is not None:
                alert = session.get(Alert, alert_id)
                if alert is not None:
                    opened.append(alert)
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


# --- delivery ----------------------------------------------------------------------------------------------


def _email_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.alert_email_to)


def payload(alert: Alert) -> dict[str, Any]:
    """The webhook's JSON body."""
    return {
        "alert": {
            "id": alert.id,
            "group_key": alert.group_key,
            "label": alert.label,
            "window": alert.window,
            "count": alert.count,
            "expected": round(alert.expected, 2),
            "examples": list(alert.examples or []),
            "at": _aware(alert.at).isoformat(),
        }
    }


def _subject_text(text: str, limit: int) -> str:
    """One line (no header injection from a citizen's question), at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def email_message(alert: Alert, settings: Settings) -> EmailMessage:
    """The plain-text e-mail of an alert."""
    window = "hour" if alert.window == "hour" else "24 hours"
    lines = [
        f"Emerging issue: {_subject_text(alert.label, 500)}",
        "",
        f"{alert.count} citizens asked about this in the last {window}; usually about {alert.expected:.1f}.",
        f"Group: {alert.group_key}",
        f"Detected: {_aware(alert.at).strftime('%Y-%m-%d %H:%M UTC')} (alert #{alert.id})",
        "",
        "Example questions (redacted):",
        *(f"- {_subject_text(q, 300)}" for q in alert.examples or []),
        "",
        "No further e-mail is sent for this surge; the alert closes when the group calms down.",
    ]
    message = EmailMessage()
    message["Subject"] = f"[govbot] Emerging issue: {_subject_text(alert.label, 120)}"
    message["From"] = settings.alert_email_from
    message["To"] = ", ".join(settings.alert_email_to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(
        "govbot-alert", settings.alert_email_from.rpartition("@")[2] or None
    )
    message.set_content("\n".join(lines) + "\n")
    return message


def send_webhook(alert: Alert, settings: Settings) -> None:
    """POST the alert; raises on a transport error or a non-2xx answer."""
    assert settings.alert_webhook_url
    response = httpx.post(settings.alert_webhook_url, json=payload(alert), timeout=TIMEOUT_S)
    if not response.is_success:
        raise RuntimeError(f"HTTP {response.status_code}")


def send_email(alert: Alert, settings: Settings) -> None:
    """Send the alert's e-mail to every ALERT_EMAIL_TO address; raises unless every address was accepted."""
    assert settings.smtp_host
    message = email_message(alert, settings)
    if settings.smtp_port == 465:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=TIMEOUT_S,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S)
    with smtp:
        if settings.smtp_starttls and settings.smtp_port != 465:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        refused = smtp.send_message(message, to_addrs=list(settings.alert_email_to))
    if refused:
        raise RuntimeError(f"refused {', '.join(sorted(refused))}")


def _attempt_due(status: str | None, now: dt.datetime) -> tuple[int | None, bool]:
    """The attempt number to make now for a channel in `status` (None when nothing is due), and whether the
    status is a claim left behind by a replica that died on the last attempt (to be marked failed)."""
    if status == "pending":
        return 1, False
    match = _STATUS.match(status or "")
    if match is None:
        return None, False  # sent, not configured, or unknown
    done = int(match["n"])
    if match["since"] is not None:
        try:
            since = _aware(dt.datetime.fromisoformat(match["since"]))
        except ValueError:
            since = now - SENDING_STALE
        if now - since < SENDING_STALE:
            return None, False  # another replica is on it
        if done >= MAX_ATTEMPTS:
            return None, True
    return (done + 1 if done < MAX_ATTEMPTS else None), False


def _reason(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    if not isinstance(exc, RuntimeError):
        text = f"{exc.__class__.__name__}: {text}"
    return " ".join(text.split())[:140]


def _deliver_one(
    db: Database, settings: Settings, alert_id: int, channel: str, now: dt.datetime
) -> None:
    """Claim the channel of an alert (compare-and-set on its status), send, record the outcome."""
    column = Alert.webhook_status if channel == "webhook" else Alert.email_status
    with db.session() as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            return
        old = getattr(alert, column.key)
        attempt, abandoned = _attempt_due(old, now)
        if attempt is None:
            if abandoned:
                session.execute(
                    update(Alert)
                    .where(Alert.id == alert_id, column == old)
                    .values(
                        {column.key: f"failed: interrupted (attempt {MAX_ATTEMPTS}/{MAX_ATTEMPTS})"}
                    )
                )
                session.commit()
            return
        claim = (
            f"sending since {now.strftime('%Y-%m-%dT%H:%M:%SZ')} (attempt {attempt}/{MAX_ATTEMPTS})"
        )
        claimed = session.execute(
            update(Alert).where(Alert.id == alert_id, column == old).values({column.key: claim})
        ).rowcount
        session.commit()
    if claimed != 1:
        return  # another replica took it
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
    """Send `alerts` to the webhook and by e-mail, and retry the deliveries of the last day still due
    (blocking; the SMTP and HTTP calls time out after TIMEOUT_S)."""
    now = _aware(now or utcnow())
    channels = [
        name
        for name, on in (
            ("webhook", bool(settings.alert_webhook_url)),
            ("email", _email_configured(settings)),
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


# --- in the app --------------------------------------------------------------------------------------------


class AlertWatcher:
    """Runs detection and delivery every `settings.insight_interval_s` in the app (one per replica; the
    replicas do not get in each other's way)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self._baselines = Baselines()

    def run_once(self) -> list[Alert]:
        """One pass (blocking): detect, then deliver what opened and retry what is due."""
        opened = detect(self._db, self._settings, baselines=self._baselines)
        for alert in opened:
            log.warning(
                "emerging issue #%s %s (%s): %d in the last %s, usually %.1f",
                alert.id,
                alert.group_key,
                _subject_text(alert.label, 80),
                alert.count,
                alert.window,
                alert.expected,
            )
        deliver(self._db, self._settings, opened)
        return opened

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop` is set; a failing pass is logged and the next one tries again."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("emerging-issue pass failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._settings.insight_interval_s)
            except TimeoutError:
                pass
