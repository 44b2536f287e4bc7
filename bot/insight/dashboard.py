"""The customer-experience dashboard's figures, computed from the database in a few aggregate queries.

`Filters.parse` reads the query string (a bad value raises `FilterError`, answered 422); `compute` returns
every figure and table as plain data (blocking: run it in a thread); `tables` picks out the tables, which
the page shows, the charts are drawn from and the CSV export writes.

Definitions (also on the page):

- Period: from 00:00 of `from` to 24:00 of `to`, both in the display time zone `tz` (default UTC).
- Conversation: a conversation id with at least one turn in the period (matching the filters). Contained:
  none of its hand-offs was enqueued in the period. Containment rate = contained / conversations; hand-off
  rate = conversations with a hand-off / conversations.
- Unanswered: a turn where the bot gave no answer (outcome clarify, no_answer or handoff), the turns that
  are grouped into knowledge gaps.
- Helpfulness: share of "yes" among "did this help?" votes; satisfaction: mean 1-5 rating after an agent.
- Median wait: enqueued → assigned; median handling: assigned → ended, resolved hand-offs only (the middle
  value, or the mean of the two middle ones).
- Filters apply wherever the row has the dimension: channel everywhere, agency and language on turns,
  feedback and FAQs; a hand-off's agency is that of its queue. Messages have neither agency nor language,
  alerts none of them.

Timestamps are bucketed by UTC hour in SQL (by quarter hour for zones with half-hour offsets), and the
buckets moved into the display zone in Python, so SQLite and PostgreSQL give the same figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    ColumnElement,
    DateTime,
    String,
    and_,
    case,
    extract,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.engine import Connection

from bot.handoff.config import ContactCentreConfig
from bot.insight.recorder import OUTCOMES
from bot.knowledge.bank import FaqBank
from bot.knowledge.faq import LANGUAGES
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import (
    Alert,
    DailyCount,
    Feedback,
    GapCluster,
    Handoff,
    InboundMessage,
    Turn,
    utcnow,
)

UNANSWERED = ("clarify", "no_answer", "handoff")
REASONS = ("requested", "unsure", "not_helpful", "urgent")
KNOWN_CHANNELS = ("webchat", "sms", "whatsapp", "telegram", "messenger")
DEFAULT_DAYS = 30
MAX_DAYS = 732
TOP = 10  # rows of the top-questions and worst-helpfulness tables
GAPS_LIMIT = 100  # knowledge-gap groups listed (largest first)
EXAMPLES = 3
ALERTS_LIMIT = 50
TREND_DAYS = 7
# Every table `compute` returns, in the page's order (the names of the CSV exports).
TABLES = (
    "summary",
    "containment-by-channel",
    "handoff-reasons",
    "handoffs-by-queue",
    "top-questions",
    "top-unanswered",
    "worst-helpfulness",
    "helpfulness-by-faq",
    "helpfulness-by-agency",
    "helpfulness-by-channel",
    "outcomes",
    "volume-by-channel",
    "volume-by-day",
    "volume-by-hour",
    "knowledge-gaps",
    "stale-faqs",
    "stale-by-agency",
    "alerts",
)
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_AGENCY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_ZONE = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Table = dict[str, Any]


class FilterError(ValueError):
    """A filter value that cannot be used; the message says which and why (answered 422)."""


@dataclass(frozen=True, slots=True)
class Filters:
    """What the dashboard shows: a date range (inclusive, in `tz`) and optional agency, channel, language."""

    start: dt.date
    end: dt.date
    agency: str | None = None
    channel: str | None = None
    language: str | None = None
    tz: str = "UTC"
    min_n: int = 3

    @classmethod
    def parse(
        cls,
        params: Mapping[str, str],
        agencies: Iterable[str] | None = None,
        today: dt.date | None = None,
    ) -> Filters:
        """Filters from query parameters `from`, `to` (YYYY-MM-DD), `agency`, `channel`, `language`, `tz`
        and `min_n`; empty or absent means the default (the last 30 days, everything, UTC, 3)."""

        def value(name: str) -> str | None:
            raw = params.get(name)
            return raw.strip() if raw and raw.strip() else None

        tz = value("tz") or "UTC"
        zone = _zone(tz)
        today = today or dt.datetime.now(zone).date()
        end = _date("to", value("to")) or today
        start = _date("from", value("from")) or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise FilterError(f"from ({start}) is after to ({end})")
        if (end - start).days + 1 > MAX_DAYS:
            raise FilterError(
                f"the date range is {(end - start).days + 1} days; at most {MAX_DAYS}"
            )
        agency, channel, language = value("agency"), value("channel"), value("language")
        if agency is not None:
            known = set(agencies) if agencies is not None else None
            if not _AGENCY.match(agency) or (known is not None and agency not in known):
                raise FilterError(
                    f"unknown agency {agency[:64]!r}"
                    + (f" (known: {', '.join(sorted(known))})" if known else "")
                )
        if channel is not None and not _CHANNEL.match(channel):
            raise FilterError(
                f"invalid channel {channel[:64]!r} (lowercase letters, digits, - _ .)"
            )
        if language is not None and language not in LANGUAGES:
            raise FilterError(f"unknown language {language[:16]!r} (use {', '.join(LANGUAGES)})")
        min_n_raw = value("min_n") or "3"
        if not re.fullmatch(r"\d{1,6}", min_n_raw):
            raise FilterError(f"min_n must be a whole number, not {min_n_raw[:16]!r}")
        min_n = int(min_n_raw)
        if not 1 <= min_n <= 100_000:
            raise FilterError("min_n must be between 1 and 100000")
        return cls(start, end, agency, channel, language, tz, min_n)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def midnight(self, day: dt.date) -> dt.datetime:
        """The start of `day` in the display zone, in UTC."""
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.zone).astimezone(dt.UTC)

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as [start, end) in UTC."""
        return self.midnight(self.start), self.midnight(self.end + dt.timedelta(days=1))

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def query(self) -> dict[str, str]:
        """The filters as query parameters (what the page's links carry)."""
        found = {"from": self.start.isoformat(), "to": self.end.isoformat(), "tz": self.tz}
        for name in ("agency", "channel", "language"):
            if getattr(self, name):
                found[name] = getattr(self, name)
        if self.min_n != 3:
            found["min_n"] = str(self.min_n)
        return found


def _zone(name: str) -> ZoneInfo:
    if len(name) > 64 or not _ZONE.match(name) or ".." in name:
        raise FilterError(
            f"unknown time zone {name[:64]!r} (use an IANA name such as America/Toronto)"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FilterError(
            f"unknown time zone {name!r} (use an IANA name such as America/Toronto)"
        ) from None


def _date(name: str, raw: str | None) -> dt.date | None:
    if raw is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise FilterError(f"{name}: {raw[:32]!r} is not a date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise FilterError(f"{name}: {raw!r} is not a valid date") from None


# -- dialect-aware SQL pieces ----------------------------------------------------------------------------
def utc_bucket(dialect: str, column: Any, minutes: int) -> ColumnElement[Any]:
    """`column` truncated to its UTC hour (`minutes` = 60) or quarter hour (15), as SQL without parameters
    (so that GROUP BY repeats the very same expression).

    SQLite keeps timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' text in UTC (SQLAlchemy's format), so a prefix is
    the hour; PostgreSQL truncates the timestamptz. `bucket_start` reads either result back."""
    name = f"{column.table.name}.{column.name}"
    if dialect == "sqlite":
        if minutes == 60:
            return literal_column(f"substr({name}, 1, 13)", String)
        return literal_column(
            f"substr({name}, 1, 14) || (CAST(substr({name}, 15, 2) AS INTEGER) / 15 * 15)", String
        )
    if minutes == 60:
        return literal_column(f"date_trunc('hour', {name}, 'UTC')", DateTime(timezone=True))
    return literal_column(
        f"date_bin(interval '15 minutes', {name}, timestamptz '2000-01-01 00:00:00+00')",
        DateTime(timezone=True),
    )


def bucket_start(value: Any) -> dt.datetime:
    """A `utc_bucket` value as an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value).replace("T", " ")
    day, _, rest = text.partition(" ")
    hour, _, minute = rest.partition(":")
    return dt.datetime.fromisoformat(day).replace(
        hour=int(hour), minute=int(minute or 0), tzinfo=dt.UTC
    )


def seconds_between(dialect: str, earlier: Any, later: Any) -> ColumnElement[Any]:
    """`later - earlier` in seconds, as SQL (NULL when either is NULL)."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return extract("epoch", later - earlier)


def _bucket_minutes(filters: Filters) -> int:
    """60 when the display zone is a whole number of hours from UTC throughout the period, else 15."""
    start, end = filters.window()
    probes = [start, end, start + (end - start) / 2]
    offsets = [
        (p.astimezone(filters.zone).utcoffset() or dt.timedelta()).total_seconds() for p in probes
    ]
    return 60 if all(o % 3600 == 0 for o in offsets) else 15


# -- the figures -------------------------------------------------------------------------------------------
def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(total: float, n: int) -> float | None:
    return round(total / n, 4) if n else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _table(
    title: str, columns: list[tuple[str, str]], rows: list[list[Any]], note: str = ""
) -> Table:
    """A table: column names, their formats (text, int, rate, mean, seconds, date, datetime), rows."""
    return {
        "title": title,
        "columns": [c for c, _ in columns],
        "formats": [f for _, f in columns],
        "rows": rows,
        "note": note,
    }


class _Query:
    """One dashboard request's queries, on one connection."""

    def __init__(self, conn: Connection, filters: Filters, config: ContactCentreConfig) -> None:
        self.conn, self.f = conn, filters
        self.dialect = conn.dialect.name
        self.start, self.end = filters.window()
        self.queues: list[str] | None = None
        if filters.agency:
            self.queues = [q.id for q in config.queues if filters.agency in q.agencies]

    def _dims(self, model: Any, agency: bool = True, language: bool = True) -> list[Any]:
        found = []
        if self.f.channel:
            found.append(model.channel == self.f.channel)
        if language and self.f.language:
            found.append(model.language == self.f.language)
        if agency and self.f.agency:
            found.append(model.agency == self.f.agency)
        return found

    def turns(self, *extra: Any) -> list[Any]:
        return [Turn.at >= self.start, Turn.at < self.end, *self._dims(Turn), *extra]

    def volume(self) -> tuple[Counter[int], dict[dt.date, Counter[str]], int]:
        """Messages per local hour of day, per local day and channel (plus daily rollups), rolled-up count."""
        bucket = utc_bucket(
            self.dialect, InboundMessage.received_at, _bucket_minutes(self.f)
        ).label("bucket")
        where = [InboundMessage.received_at >= self.start, InboundMessage.received_at < self.end]
        if self.f.channel:
            where.append(InboundMessage.channel == self.f.channel)
        stmt = (
            select(bucket, InboundMessage.channel, func.count())
            .where(*where)
            .group_by(bucket, InboundMessage.channel)
        )
        zone = self.f.zone
        hours: Counter[int] = Counter()
        days: dict[dt.date, Counter[str]] = defaultdict(Counter)
        for value, channel, n in self.conn.execute(stmt):
            local = bucket_start(value).astimezone(zone)
            hours[local.hour] += n
            days[local.date()][channel] += n
        rolled = 0
        where = [
            DailyCount.metric == "messages",
            DailyCount.day >= self.f.start,
            DailyCount.day <= self.f.end,
        ]
        if self.f.channel:
            where.append(DailyCount.channel == self.f.channel)
        stmt = (
            select(DailyCount.day, DailyCount.channel, func.sum(DailyCount.value))
            .where(*where)
            .group_by(DailyCount.day, DailyCount.channel)
        )
        for day, channel, n in self.conn.execute(stmt):
            days[day][channel] += int(n or 0)
            rolled += int(n or 0)
        return hours, days, rolled

    def containment(self) -> dict[str, tuple[int, int]]:
        """Per channel: (conversations, conversations with a hand-off enqueued in the period)."""
        conversations = (
            select(Turn.conversation_id.label("cid"), func.min(Turn.channel).label("channel"))
            .where(*self.turns())
            .group_by(Turn.conversation_id)
            .subquery()
        )
        handed = (
            select(Handoff.conversation_id.label("hid"))
            .where(Handoff.enqueued_at >= self.start, Handoff.enqueued_at < self.end)
            .distinct()
            .subquery()
        )
        stmt = (
            select(conversations.c.channel, func.count(), func.count(handed.c.hid))
            .select_from(conversations.outerjoin(handed, handed.c.hid == conversations.c.cid))
            .group_by(conversations.c.channel)
        )
        return {channel: (int(n), int(h)) for channel, n, h in self.conn.execute(stmt)}

    def outcomes(self) -> tuple[Counter[str], int]:
        """Turns per outcome, and unanswered turns not yet grouped into a knowledge gap."""
        pending = func.sum(case((Turn.clustered.is_(False), 1), else_=0))
        stmt = (
            select(Turn.outcome, func.count(), pending).where(*self.turns()).group_by(Turn.outcome)
        )
        counts: Counter[str] = Counter()
        unclustered = 0
        for outcome, n, waiting in self.conn.execute(stmt):
            counts[outcome] += int(n)
            if outcome in UNANSWERED:
                unclustered += int(waiting or 0)
        return counts, unclustered

    def answered(self) -> list[tuple[str, str | None, int]]:
        """(faq_id, agency, answers) of every FAQ answered in the period, most answered first."""
        stmt = (
            select(Turn.faq_id, func.max(Turn.agency), func.count())
            .where(*self.turns(Turn.outcome == "answered", Turn.faq_id.is_not(None)))
            .group_by(Turn.faq_id)
        )
        rows = [(faq, agency, int(n)) for faq, agency, n in self.conn.execute(stmt)]
        return sorted(rows, key=lambda r: (-r[2], r[0]))

    def unanswered(self) -> list[tuple[str, int, dt.datetime]]:
        """The most frequent unanswered question texts: (text, times asked, last asked)."""
        n = func.count().label("n")
        stmt = (
            select(Turn.question, n, func.max(Turn.at))
            .where(*self.turns(Turn.outcome.in_(UNANSWERED), Turn.question.is_not(None)))
            .group_by(Turn.question)
            .order_by(n.desc(), func.min(Turn.id))
            .limit(TOP)
        )
        return [(q, int(c), at) for q, c, at in self.conn.execute(stmt)]

    def feedback(self) -> list[tuple[str, str | None, str | None, str, int, int]]:
        """(kind, faq_id, agency, channel, n, sum of values) of the period's feedback."""
        stmt = (
            select(
                Feedback.kind,
                Feedback.faq_id,
                Feedback.agency,
                Feedback.channel,
                func.count(),
                func.sum(Feedback.value),
            )
            .where(
                Feedback.kind.in_(("helpful", "satisfaction")),
                Feedback.at >= self.start,
                Feedback.at < self.end,
                *self._dims(Feedback),
            )
            .group_by(Feedback.kind, Feedback.faq_id, Feedback.agency, Feedback.channel)
        )
        return [
            (k, faq, ag, ch, int(n), int(s or 0))
            for k, faq, ag, ch, n, s in self.conn.execute(stmt)
        ]

    def handoffs(self) -> list[tuple[str, str, str, float | None, float | None]]:
        """(queue, reason, status, wait s, handling s) of the hand-offs enqueued in the period."""
        wait = seconds_between(self.dialect, Handoff.enqueued_at, Handoff.assigned_at)
        handling = case(
            (
                Handoff.status == "resolved",
                seconds_between(self.dialect, Handoff.assigned_at, Handoff.ended_at),
            ),
            else_=None,
        )
        where = [
            Handoff.enqueued_at >= self.start,
            Handoff.enqueued_at < self.end,
            *self._dims(Handoff, agency=False),
        ]
        if self.queues is not None:
            where.append(Handoff.queue_id.in_(self.queues))
        stmt = select(Handoff.queue_id, Handoff.reason, Handoff.status, wait, handling).where(
            *where
        )
        return [
            (
                q,
                r,
                s,
                None if w is None else max(0.0, float(w)),
                None if h is None else max(0.0, float(h)),
            )
            for q, r, s, w, h in self.conn.execute(stmt)
        ]

    def gaps(self) -> tuple[list[dict[str, Any]], int]:
        """Knowledge-gap groups asked about in the period (largest first, at most GAPS_LIMIT), and how many
        groups there were in all."""
        after = self.f.end + dt.timedelta(days=1)
        last_start = self.f.midnight(after - dt.timedelta(days=TREND_DAYS))
        prev_start = self.f.midnight(after - dt.timedelta(days=2 * TREND_DAYS))
        low = min(self.start, prev_start)
        in_period = func.sum(case((Turn.at >= self.start, 1), else_=0))
        last = func.sum(case((Turn.at >= last_start, 1), else_=0))
        previous = func.sum(case((and_(Turn.at >= prev_start, Turn.at < last_start), 1), else_=0))
        stmt = (
            select(Turn.cluster_id, in_period, last, previous)
            .where(
                Turn.cluster_id.is_not(None), Turn.at >= low, Turn.at < self.end, *self._dims(Turn)
            )
            .group_by(Turn.cluster_id)
        )
        counts = [
            (int(c), int(n or 0), int(a or 0), int(b or 0))
            for c, n, a, b in self.conn.execute(stmt)
        ]
        counts = sorted((c for c in counts if c[1] > 0), key=lambda c: (-c[1], c[0]))
        total, counts = len(counts), counts[:GAPS_LIMIT]
        if not counts:
            return [], 0
        ids = [c[0] for c in counts]
        clusters = {
            row.id: row
            for row in self.conn.execute(
                select(
                    GapCluster.id,
                    GapCluster.label,
                    GapCluster.language,
                    GapCluster.size,
                    GapCluster.created_at,
                ).where(GapCluster.id.in_(ids))
            )
        }
        examples = self._examples(ids)
        found = []
        for cid, size, last_n, prev_n in counts:
            cluster = clusters.get(cid)
            found.append(
                {
                    "id": cid,
                    "label": cluster.label if cluster else f"group {cid}",
                    "language": cluster.language if cluster else None,
                    "size": size,
                    "total_size": cluster.size if cluster else None,
                    "last_7": last_n,
                    "previous_7": prev_n,
                    "trend": "up" if last_n > prev_n else "down" if last_n < prev_n else "flat",
                    "examples": examples.get(cid, []),
                }
            )
        return found, total

    def _examples(self, ids: list[int]) -> dict[int, list[str]]:
        """Up to EXAMPLES distinct questions of each group, latest first."""
        ranked = (
            select(
                Turn.cluster_id.label("cid"),
                Turn.question.label("question"),
                func.row_number()
                .over(
                    partition_by=Turn.cluster_id,
                    order_by=(func.max(Turn.at).desc(), func.min(Turn.id)),
                )
                .label("rn"),
            )
            .where(*self.turns(Turn.cluster_id.in_(ids), Turn.question.is_not(None)))
            .group_by(Turn.cluster_id, Turn.question)
            .subquery()
        )
        stmt = (
            select(ranked.c.cid, ranked.c.question)
            .where(ranked.c.rn <= EXAMPLES)
            .order_by(ranked.c.cid, ranked.c.rn)
        )
        found: dict[int, list[str]] = defaultdict(list)
        for cid, question in self.conn.execute(stmt):
            found[int(cid)].append(question)
        return found

    def alerts(self) -> list[Any]:
        """Open alerts, and those raised in the period, latest first."""
        stmt = (
            select(
                Alert.id,
                Alert.at,
                Alert.group_key,
                Alert.label,
                Alert.window,
                Alert.count,
                Alert.expected,
                Alert.examples,
                Alert.ended_at,
            )
            .where(or_(Alert.ended_at.is_(None), and_(Alert.at >= self.start, Alert.at < self.end)))
            .order_by(Alert.at.desc(), Alert.id.desc())
            .limit(ALERTS_LIMIT)
        )
        return list(self.conn.execute(stmt))


def _local(moment: dt.datetime | None, zone: ZoneInfo) -> str | None:
    if moment is None:
        return None
    return (
        (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
        .astimezone(zone)
        .isoformat(timespec="seconds")
    )


def compute(
    db: Database,
    bank: FaqBank,
    config: ContactCentreConfig,
    settings: Settings,
    filters: Filters,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Every figure and table of the dashboard for `filters` (blocking)."""
    now = now or utcnow()
    zone = filters.zone
    faqs = bank.by_id()
    with db.engine.connect() as conn:
        query = _Query(conn, filters, config)
        hours, days, rolled = query.volume()
        containment = query.containment()
        outcomes, unclustered = query.outcomes()
        answered = query.answered()
        unanswered = query.unanswered()
        feedback = query.feedback()
        handoffs = query.handoffs()
        gaps, gap_groups = query.gaps()
        alerts = query.alerts()

    def agency_name(agency: str | None) -> str:
        if not agency:
            return "(none)"
        found = bank.agencies.get(agency)
        return found.display_name("en") if found else agency

    def faq_question(faq_id: str) -> str:
        faq = faqs.get(faq_id)
        return faq.question if faq else "(no longer in the FAQ bank)"

    tables: dict[str, Table] = {}

    # Volume.
    channels = sorted({c for counts in days.values() for c in counts})
    by_channel: Counter[str] = Counter()
    for counts in days.values():
        by_channel.update(counts)
    messages = sum(by_channel.values())
    tables["volume-by-hour"] = _table(
        "Messages by hour of day",
        [("hour", "int"), ("messages", "int")],
        [[hour, hours.get(hour, 0)] for hour in range(24)],
        "Hours in the display time zone."
        + (
            " Days older than the retention period count only in the daily totals."
            if rolled
            else ""
        ),
    )
    tables["volume-by-day"] = _table(
        "Messages by day and channel",
        [("day", "date"), ("messages", "int"), *((c, "int") for c in channels)],
        [
            [
                day.isoformat(),
                sum(days.get(day, Counter()).values()),
                *(days.get(day, Counter()).get(c, 0) for c in channels),
            ]
            for day in filters.days()
        ],
    )
    tables["volume-by-channel"] = _table(
        "Messages by channel",
        [("channel", "text"), ("messages", "int"), ("share", "rate")],
        [
            [c, n, _rate(n, messages)]
            for c, n in sorted(by_channel.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    )

    # Containment and hand-offs.
    conversations = sum(n for n, _ in containment.values())
    handed_off = sum(h for _, h in containment.values())
    tables["containment-by-channel"] = _table(
        "Containment by channel",
        [
            ("channel", "text"),
            ("conversations", "int"),
            ("contained", "int"),
            ("containment rate", "rate"),
            ("handed off", "int"),
            ("hand-off rate", "rate"),
        ],
        [
            [c, n, n - h, _rate(n - h, n), h, _rate(h, n)]
            for c, (n, h) in sorted(containment.items())
        ],
    )
    reasons = Counter(r for _, r, _, _, _ in handoffs)
    tables["handoff-reasons"] = _table(
        "Hand-off reasons",
        [("reason", "text"), ("hand-offs", "int"), ("share", "rate")],
        [
            [r, reasons.get(r, 0), _rate(reasons.get(r, 0), len(handoffs))]
            for r in [*REASONS, *sorted(set(reasons) - set(REASONS))]
        ],
    )
    waits = [w for _, _, _, w, _ in handoffs if w is not None]
    handling = [h for _, _, _, _, h in handoffs if h is not None]
    queue_rows = []
    for queue_id in sorted({q for q, *_ in handoffs}):
        mine = [h for h in handoffs if h[0] == queue_id]
        queue = config.queue(queue_id)
        queue_rows.append(
            [
                queue_id,
                queue.display_name("en") if queue else queue_id,
                len(mine),
                sum(1 for h in mine if h[3] is not None),
                _median([h[3] for h in mine if h[3] is not None]),
                sum(1 for h in mine if h[4] is not None),
                _median([h[4] for h in mine if h[4] is not None]),
            ]
        )
    tables["handoffs-by-queue"] = _table(
        "Hand-offs by queue",
        [
            ("queue", "text"),
            ("name", "text"),
            ("hand-offs", "int"),
            ("assigned", "int"),
            ("median wait", "seconds"),
            ("resolved", "int"),
            ("median handling", "seconds"),
        ],
        queue_rows,
    )

    # Turns.
    turns = sum(outcomes.values())
    tables["outcomes"] = _table(
        "What the bot did",
        [("outcome", "text"), ("turns", "int"), ("share", "rate")],
        [
            [o, outcomes.get(o, 0), _rate(outcomes.get(o, 0), turns)]
            for o in [*OUTCOMES, *sorted(set(outcomes) - set(OUTCOMES))]
        ],
    )
    tables["top-questions"] = _table(
        "Top answered questions",
        [
            ("rank", "int"),
            ("faq", "text"),
            ("question", "text"),
            ("agency", "text"),
            ("answers", "int"),
        ],
        [
            [i + 1, faq, faq_question(faq), faqs[faq].agency if faq in faqs else (agency or ""), n]
            for i, (faq, agency, n) in enumerate(answered[:TOP])
        ],
    )
    tables["top-unanswered"] = _table(
        "Top unanswered questions",
        [("rank", "int"), ("question", "text"), ("times asked", "int"), ("last asked", "datetime")],
        [[i + 1, q, n, _local(at, zone)] for i, (q, n, at) in enumerate(unanswered)],
    )

    # Feedback.
    helpful = [(faq, ag, ch, n, s) for kind, faq, ag, ch, n, s in feedback if kind == "helpful"]
    rated = [(faq, ag, ch, n, s) for kind, faq, ag, ch, n, s in feedback if kind == "satisfaction"]
    helpful_n, helpful_yes = sum(r[3] for r in helpful), sum(r[4] for r in helpful)
    rated_n, rated_sum = sum(r[3] for r in rated), sum(r[4] for r in rated)

    def breakdown(index: int) -> dict[Any, list[int]]:
        """[votes, yes, ratings, rating sum] per FAQ (0), agency (1) or channel (2)."""
        found: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for rows, offset in ((helpful, 0), (rated, 2)):
            for row in rows:
                if index == 0 and row[0] is None:
                    continue
                found[row[index]][offset] += row[3]
                found[row[index]][offset + 1] += row[4]
        return found

    feedback_columns = [
        ("votes", "int"),
        ("yes", "int"),
        ("helpfulness", "rate"),
        ("ratings", "int"),
        ("satisfaction", "mean"),
    ]

    def figures(v: list[int]) -> list[Any]:
        return [v[0], v[1], _rate(v[1], v[0]), v[2], _mean(v[3], v[2])]

    by_faq = breakdown(0)
    tables["helpfulness-by-faq"] = _table(
        "Helpfulness and satisfaction by FAQ",
        [("faq", "text"), ("question", "text"), ("agency", "text"), *feedback_columns],
        [
            [faq, faq_question(faq), faqs[faq].agency if faq in faqs else "", *figures(v)]
            for faq, v in sorted(by_faq.items(), key=lambda kv: (-kv[1][0], kv[0]))
        ],
    )
    tables["helpfulness-by-agency"] = _table(
        "Helpfulness and satisfaction by agency",
        [("agency", "text"), ("name", "text"), *feedback_columns],
        [
            [ag or "", agency_name(ag), *figures(v)]
            for ag, v in sorted(breakdown(1).items(), key=lambda kv: kv[0] or "")
        ],
    )
    tables["helpfulness-by-channel"] = _table(
        "Helpfulness and satisfaction by channel",
        [("channel", "text"), *feedback_columns],
        [[ch, *figures(v)] for ch, v in sorted(breakdown(2).items())],
    )
    worst = sorted(
        ((faq, v) for faq, v in by_faq.items() if v[0] >= filters.min_n),
        key=lambda kv: (kv[1][1] / kv[1][0], -kv[1][0], kv[0]),
    )
    tables["worst-helpfulness"] = _table(
        f"Least helpful FAQs (at least {filters.min_n} votes)",
        [
            ("faq", "text"),
            ("question", "text"),
            ("agency", "text"),
            ("votes", "int"),
            ("yes", "int"),
            ("helpfulness", "rate"),
        ],
        [
            [
                faq,
                faq_question(faq),
                faqs[faq].agency if faq in faqs else "",
                v[0],
                v[1],
                _rate(v[1], v[0]),
            ]
            for faq, v in worst[:TOP]
        ],
    )

    # Knowledge gaps.
    tables["knowledge-gaps"] = _table(
        "Knowledge gaps",
        [
            ("group", "int"),
            ("label", "text"),
            ("language", "text"),
            ("questions", "int"),
            ("last 7 days", "int"),
            ("previous 7 days", "int"),
            ("trend", "text"),
            ("examples", "text"),
        ],
        [
            [
                g["id"],
                g["label"],
                g["language"] or "",
                g["size"],
                g["last_7"],
                g["previous_7"],
                g["trend"],
                " | ".join(g["examples"]),
            ]
            for g in gaps
        ],
        f"Largest {GAPS_LIMIT} of {gap_groups} groups." if gap_groups > GAPS_LIMIT else "",
    )

    # Stale FAQs.
    today = now.astimezone(zone).date()
    cutoff = today - dt.timedelta(days=settings.stale_after_days)
    per_agency: dict[str, dict[str, Any]] = {}
    for faq in bank.faqs:
        if (filters.agency and faq.agency != filters.agency) or (
            filters.language and faq.language != filters.language
        ):
            continue
        entry = per_agency.setdefault(
            faq.agency,
            {"agency": faq.agency, "name": agency_name(faq.agency), "faqs": 0, "stale": []},
        )
        entry["faqs"] += 1
        if faq.last_reviewed is None or faq.last_reviewed < cutoff:
            entry["stale"].append(
                {
                    "faq": faq.id,
                    "language": faq.language,
                    "question": faq.question,
                    "last_reviewed": faq.last_reviewed.isoformat() if faq.last_reviewed else None,
                    "days": (today - faq.last_reviewed).days if faq.last_reviewed else None,
                }
            )
    stale_agencies = [per_agency[a] for a in sorted(per_agency)]
    for entry in stale_agencies:
        entry["stale"].sort(key=lambda s: (s["days"] is not None, -(s["days"] or 0), s["faq"]))
    tables["stale-faqs"] = _table(
        f"FAQs not reviewed for over {settings.stale_after_days} days",
        [
            ("agency", "text"),
            ("faq", "text"),
            ("language", "text"),
            ("question", "text"),
            ("last reviewed", "date"),
            ("days since review", "int"),
        ],
        [
            [e["agency"], s["faq"], s["language"], s["question"], s["last_reviewed"], s["days"]]
            for e in stale_agencies
            for s in e["stale"]
        ],
    )
    tables["stale-by-agency"] = _table(
        "Stale FAQs by agency",
        [
            ("agency", "text"),
            ("name", "text"),
            ("faqs", "int"),
            ("stale", "int"),
            ("share", "rate"),
        ],
        [
            [e["agency"], e["name"], e["faqs"], len(e["stale"]), _rate(len(e["stale"]), e["faqs"])]
            for e in stale_agencies
        ],
    )

    # Alerts.
    alert_rows = [
        {
            "id": a.id,
            "at": _local(a.at, zone),
            "status": "open" if a.ended_at is None else "ended",
            "label": a.label,
            "group": a.group_key,
            "window": a.window,
            "count": a.count,
            "expected": round(float(a.expected), 1),
            "examples": list(a.examples or [])[:EXAMPLES],
            "ended_at": _local(a.ended_at, zone),
        }
        for a in alerts
    ]
    tables["alerts"] = _table(
        "Emerging issues",
        [
            ("raised", "datetime"),
            ("status", "text"),
            ("label", "text"),
            ("group", "text"),
            ("window", "text"),
            ("count", "int"),
            ("expected", "mean"),
            ("examples", "text"),
            ("ended", "datetime"),
        ],
        [
            [
                a["at"],
                a["status"],
                a["label"],
                a["group"],
                a["window"],
                a["count"],
                a["expected"],
                " | ".join(str(e) for e in a["examples"]),
                a["ended_at"],
            ]
            for a in alert_rows
        ],
    )

    summary = {
        "conversations": conversations,
        "contained": conversations - handed_off,
        "containment_rate": _rate(conversations - handed_off, conversations),
        "handed_off": handed_off,
        "handoff_rate": _rate(handed_off, conversations),
        "handoffs": len(handoffs),
        "helpful_votes": helpful_n,
        "helpful_yes": helpful_yes,
        "helpfulness": _rate(helpful_yes, helpful_n),
        "ratings": rated_n,
        "satisfaction": _mean(rated_sum, rated_n),
        "median_wait_s": _median(waits),
        "waits": len(waits),
        "median_handling_s": _median(handling),
        "handled": len(handling),
        "messages": messages,
        "turns": turns,
        "unanswered": sum(outcomes.get(o, 0) for o in UNANSWERED),
        "unclustered": unclustered,
    }
    tables["summary"] = _table(
        "Summary", [("figure", "text"), ("value", "text")], [[k, v] for k, v in summary.items()]
    )
    tables = {name: tables[name] for name in TABLES}
    start, end = filters.window()
    return {
        "filters": {
            "from": filters.start.isoformat(),
            "to": filters.end.isoformat(),
            "agency": filters.agency,
            "channel": filters.channel,
            "language": filters.language,
            "tz": filters.tz,
            "min_n": filters.min_n,
        },
        "period": {
            "start": _local(start, zone),
            "end": _local(end, zone),
            "days": len(filters.days()),
        },
        "generated_at": _local(now, zone),
        "summary": summary,
        "gaps": {"groups": gaps, "count": gap_groups, "unclustered": unclustered},
        "stale": {"after_days": settings.stale_after_days, "agencies": stale_agencies},
        "alerts": alert_rows,
        "options": {
            "agencies": [
                {"id": a.id, "name": a.display_name("en")}
                for a in sorted(bank.agencies.values(), key=lambda a: a.id)
            ],
            "channels": sorted(set(KNOWN_CHANNELS) | set(channels) | set(containment)),
            "languages": list(LANGUAGES),
        },
        "tables": tables,
    }


def tables(data: Mapping[str, Any]) -> dict[str, Table]:
    """The tables of a `compute` result, by name (what the CSV export offers)."""
    return dict(data["tables"])


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # a spreadsheet would run it as a formula (CSV injection)
    return value


def csv_text(table: Table) -> str:
    """A table as CSV (header row first); text that a spreadsheet would read as a formula is quoted with '."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(c) for c in table["columns"]])
    for row in table["rows"]:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()
