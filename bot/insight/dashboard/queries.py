"""The dashboard's SQL: a few aggregate queries per request, each reading one kind of row."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from bot.insight.dashboard.buckets import bucket_minutes, bucket_start, seconds_between, utc_bucket
from bot.insight.dashboard.scope import UNANSWERED, Scope
from bot.storage.models import (
    Alert,
    Claim,
    DailyCount,
    Feedback,
    Handoff,
    InboundMessage,
    Turn,
)

TOP = 10  # rows of the top-questions and worst-helpfulness tables
ALERTS_LIMIT = 50

Volume = tuple[Counter[int], dict[dt.date, Counter[str]], int]
FeedbackRow = tuple[str, str | None, str | None, str, int, int]
HandoffRow = tuple[str, str, str, float | None, float | None]


def volume(scope: Scope) -> Volume:
    """Messages per local hour of day, per local day and channel (plus daily rollups), and the
    rolled-up count."""
    f = scope.f
    bucket = utc_bucket(scope.dialect, InboundMessage.received_at, bucket_minutes(f)).label(
        "bucket"
    )
    where = [InboundMessage.received_at >= scope.start, InboundMessage.received_at < scope.end]
    if f.channel:
        where.append(InboundMessage.channel == f.channel)
    stmt = (
        select(bucket, InboundMessage.channel, func.count())
        .where(*where)
        .group_by(bucket, InboundMessage.channel)
    )
    zone = f.zone
    hours: Counter[int] = Counter()
    days: dict[dt.date, Counter[str]] = defaultdict(Counter)
    for value, channel, n in scope.conn.execute(stmt):
        local = bucket_start(value).astimezone(zone)
        hours[local.hour] += n
        days[local.date()][channel] += n
    rolled = 0
    where = [DailyCount.metric == "messages", DailyCount.day >= f.start, DailyCount.day <= f.end]
    if f.channel:
        where.append(DailyCount.channel == f.channel)
    stmt = (
        select(DailyCount.day, DailyCount.channel, func.sum(DailyCount.value))
        .where(*where)
        .group_by(DailyCount.day, DailyCount.channel)
    )
    for day, channel, n in scope.conn.execute(stmt):
        days[day][channel] += int(n or 0)
        rolled += int(n or 0)
    return hours, days, rolled


def containment(scope: Scope) -> dict[str, tuple[int, int]]:
    """Per channel: (conversations, conversations with a hand-off enqueued in the period)."""
    conversations = (
        select(Turn.conversation_id.label("cid"), func.min(Turn.channel).label("channel"))
        .where(*scope.turns())
        .group_by(Turn.conversation_id)
        .subquery()
    )
    handed = (
        select(Handoff.conversation_id.label("hid"))
        .where(Handoff.enqueued_at >= scope.start, Handoff.enqueued_at < scope.end)
        .distinct()
        .subquery()
    )
    stmt = (
        select(conversations.c.channel, func.count(), func.count(handed.c.hid))
        .select_from(conversations.outerjoin(handed, handed.c.hid == conversations.c.cid))
        .group_by(conversations.c.channel)
    )
    return {channel: (int(n), int(h)) for channel, n, h in scope.conn.execute(stmt)}


def outcomes(scope: Scope) -> tuple[Counter[str], int]:
    """Turns per outcome, and unanswered turns not yet grouped into a knowledge gap."""
    pending = func.sum(case((Turn.clustered.is_(False), 1), else_=0))
    stmt = select(Turn.outcome, func.count(), pending).where(*scope.turns()).group_by(Turn.outcome)
    counts: Counter[str] = Counter()
    unclustered = 0
    for outcome, n, waiting in scope.conn.execute(stmt):
        counts[outcome] += int(n)
        if outcome in UNANSWERED:
            unclustered += int(waiting or 0)
    return counts, unclustered


def answered(scope: Scope) -> list[tuple[str, str | None, int]]:
    """(faq_id, agency, answers) of every FAQ answered in the period, most answered first."""
    stmt = (
        select(Turn.faq_id, func.max(Turn.agency), func.count())
        .where(*scope.turns(Turn.outcome == "answered", Turn.faq_id.is_not(None)))
        .group_by(Turn.faq_id)
    )
    rows = [(faq or "", agency, int(n)) for faq, agency, n in scope.conn.execute(stmt)]
    return sorted(rows, key=lambda r: (-r[2], r[0]))


def unanswered(scope: Scope) -> list[tuple[str, int, dt.datetime]]:
    """The most frequent unanswered question texts: (text, times asked, last asked)."""
    n = func.count().label("n")
    stmt = (
        select(Turn.question, n, func.max(Turn.at))
        .where(*scope.turns(Turn.outcome.in_(UNANSWERED), Turn.question.is_not(None)))
        .group_by(Turn.question)
        .order_by(n.desc(), func.min(Turn.id))
        .limit(TOP)
    )
    return [(q or "", int(c), at) for q, c, at in scope.conn.execute(stmt)]


def feedback(scope: Scope) -> list[FeedbackRow]:
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
            Feedback.at >= scope.start,
            Feedback.at < scope.end,
            *scope.dims(Feedback),
        )
        .group_by(Feedback.kind, Feedback.faq_id, Feedback.agency, Feedback.channel)
    )
    return [
        (k, faq, ag, ch, int(n), int(s or 0)) for k, faq, ag, ch, n, s in scope.conn.execute(stmt)
    ]


def handoffs(scope: Scope) -> list[HandoffRow]:
    """(queue, reason, status, wait s, handling s) of the hand-offs enqueued in the period."""
    wait = seconds_between(scope.dialect, Handoff.enqueued_at, Handoff.assigned_at)
    handling = case(
        (
            Handoff.status == "resolved",
            seconds_between(scope.dialect, Handoff.assigned_at, Handoff.ended_at),
        ),
        else_=None,
    )
    where = [
        Handoff.enqueued_at >= scope.start,
        Handoff.enqueued_at < scope.end,
        *scope.dims(Handoff, agency=False),
    ]
    if scope.queues is not None:
        where.append(Handoff.queue_id.in_(scope.queues))
    stmt = select(Handoff.queue_id, Handoff.reason, Handoff.status, wait, handling).where(*where)
    return [
        (
            q,
            r,
            s,
            None if w is None else max(0.0, float(w)),
            None if h is None else max(0.0, float(h)),
        )
        for q, r, s, w, h in scope.conn.execute(stmt)
    ]


def alerts(scope: Scope) -> list[Any]:
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
        .where(or_(Alert.ended_at.is_(None), and_(Alert.at >= scope.start, Alert.at < scope.end)))
        .order_by(Alert.at.desc(), Alert.id.desc())
        .limit(ALERTS_LIMIT)
    )
    return list(scope.conn.execute(stmt))


def claims(scope: Scope) -> list[Any]:
    """False claims detected in the period or still waiting for their correction or broadcast,
    latest first."""
    stmt = (
        select(
            Claim.id,
            Claim.claim,
            Claim.agency,
            Claim.detected_at,
            Claim.faq_id,
            Claim.corrected_at,
            Claim.broadcast_id,
            Claim.broadcast_at,
        )
        .where(
            or_(
                Claim.broadcast_at.is_(None),
                and_(Claim.detected_at >= scope.start, Claim.detected_at < scope.end),
            )
        )
        .order_by(Claim.detected_at.desc(), Claim.id.desc())
        .limit(ALERTS_LIMIT)
    )
    return list(scope.conn.execute(stmt))
