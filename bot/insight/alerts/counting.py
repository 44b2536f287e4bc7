"""Counting a group's citizens in SQL: the windows' counts, the usual rates, example questions.

Groups
------
A turn belongs to `faq:<faq_id>` when the bot answered it with that FAQ (outcome "answered"), and to
`gap:<cluster_id>` when it was left unanswered (clarify, no_answer, handoff) and the background
clusterer has put it in a knowledge-gap group. Unclustered turns belong to no group yet: a gap surge
is seen once its questions are clustered (one clustering pass later).

What is counted
---------------
Citizens, not messages: the count of a group in a window is the number of distinct conversations
that asked in it, so one person repeating a question, or a script flooding one session, cannot make
a surge. Two windows end at `now`: the last hour (fast outages) and the last day (rumours that build
up slowly).

Cost of a pass
--------------
A first query counts every group over the last day (a range scan of `ix_turns_at`, GROUP BY
faq_id / cluster_id). Only candidates, groups that could surge at all (hour count >= the minimum,
or day count >= the lowest day threshold there is) or that have an open alert, get the second:
their 7-day baselines, read through `ix_turns_faq_at` / `ix_turns_cluster_at` (WHERE faq_id IN
(...) AND at in range, GROUP BY), once per BASELINE_STEP when the caller keeps a `Baselines`
(AlertWatcher does).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from bot.insight.alerts.rule import (
    BASELINE_DAYS,
    DAY,
    FLOOR_PER_HOUR,
    HOUR,
    BaselineCounts,
    Baselines,
    GroupRate,
    anchor_of,
    day_floor,
)
from bot.settings import Settings
from bot.storage.models import GapCluster, Turn

EXAMPLES = 3  # example questions per alert
UNANSWERED = ("clarify", "no_answer", "handoff")
IN_CHUNK = 500  # group ids per IN (...) list


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


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


@dataclass(frozen=True, slots=True)
class _Spans:
    """How much history the usual rates of one BASELINE_STEP are averaged over."""

    anchor: dt.datetime
    hour_h: float  # hours behind the hour's flat rate
    day_d: float  # days behind the day's rate
    seasonal_days: int  # days behind the same-hour rate

    @classmethod
    def at(cls, anchor: dt.datetime, oldest: dt.datetime) -> _Spans:
        """The spans at `anchor`: 7 days, or the history actually there (a young database)."""
        return cls(
            anchor,
            min(BASELINE_DAYS * 24.0, (anchor - HOUR - oldest) / HOUR),
            min(float(BASELINE_DAYS), (anchor - DAY - oldest) / DAY),
            max(1, min(BASELINE_DAYS, math.floor((anchor - HOUR - oldest) / DAY))),
        )

    def seasonal(self) -> ColumnElement[bool]:
        """Turns in the same clock hour on one of the previous days."""
        anchor = self.anchor
        return or_(
            *(
                and_(Turn.at >= anchor - HOUR - k * DAY, Turn.at < anchor - k * DAY)
                for k in range(1, self.seasonal_days + 1)
            )
        )

    def apply(self, rate: GroupRate, counts: BaselineCounts) -> None:
        """Set a group's usual rates, and the baselines behind them, from its raw counts."""
        hour_flat, day_flat, same_hour = counts
        rate.expected_hour = max(
            hour_flat / self.hour_h, same_hour / self.seasonal_days, FLOOR_PER_HOUR
        )
        rate.expected_day = max(day_flat / self.day_d, FLOOR_PER_HOUR * 24)
        rate.hour_baselines = ((hour_flat, self.hour_h), (same_hour, float(self.seasonal_days)))
        rate.day_baselines = ((day_flat, self.day_d),)


def _window_counts(
    session: Session, kind: _Kind, now: dt.datetime
) -> Iterable[tuple[Any, int, int]]:
    """(group value, citizens in the last hour, citizens in the last day) of every active group."""
    citizen = Turn.conversation_id
    window = (
        select(
            kind.column,
            func.count(distinct(case((Turn.at >= now - HOUR, citizen)))),
            func.count(distinct(citizen)),
        )
        .where(Turn.at >= now - DAY, Turn.at < now, *kind.where)
        .group_by(kind.column)
    )
    for value, hour, day in session.execute(window):
        yield value, int(hour), int(day)


def _read_baselines(
    session: Session,
    kind: _Kind,
    spans: _Spans,
    values: Sequence[Any],
    cache: dict[str, BaselineCounts],
) -> None:
    """Read the week of the groups `values` into `cache` (zeros for a group with no history)."""
    citizen, anchor = Turn.conversation_id, spans.anchor
    for chunk in _chunks(values):
        cache.update((kind.key(value), (0, 0, 0)) for value in chunk)
        baseline = (
            select(
                kind.column,
                func.count(
                    distinct(case((Turn.at >= anchor - HOUR - BASELINE_DAYS * DAY, citizen)))
                ),
                func.count(distinct(case((Turn.at < anchor - DAY, citizen)))),
                func.count(distinct(case((spans.seasonal(), citizen)))),
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


def group_rates(
    session: Session,
    settings: Settings,
    now: dt.datetime,
    oldest: dt.datetime,
    always: Iterable[str] = (),
    baselines: Baselines | None = None,
) -> dict[str, GroupRate]:
    """Counts of every group active in the last day; usual rates of those that could surge (and
    those in `always`). Needs `now - oldest >= MIN_HISTORY`."""
    always, lowest_day = set(always), day_floor(settings)
    anchor = anchor_of(now)
    cache = (baselines or Baselines()).at(anchor)
    spans = _Spans.at(anchor, oldest)
    rates: dict[str, GroupRate] = {}
    for kind in _KINDS:
        candidates = []
        for value, hour, day in _window_counts(session, kind, now):
            key = kind.key(value)
            rates[key] = GroupRate(key, hour, day)
            if hour >= settings.alert_min_count or day >= lowest_day or key in always:
                candidates.append(value)
        missing = [value for value in candidates if kind.key(value) not in cache]
        _read_baselines(session, kind, spans, missing, cache)
        for value in candidates:
            rate = rates[kind.key(value)]
            spans.apply(rate, cache[rate.key])
    return rates


def examples(session: Session, key: str, since: dt.datetime, now: dt.datetime) -> list[str]:
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
        found: list[str] = []
        for question in rows:
            text = " ".join((question or "").split())[:300]
            if text and text not in found:
                found.append(text)
            if len(found) == EXAMPLES:
                break
        return found
    return []


def label(session: Session, key: str) -> str:
    """The FAQ id, or the knowledge-gap group's label (its first question)."""
    prefix, _, raw = key.partition(":")
    if prefix == "gap" and raw.isdigit():
        found = session.scalar(select(GapCluster.label).where(GapCluster.id == int(raw)))
        return " ".join(found.split())[:300] if found else f"knowledge gap #{raw}"
    return raw
