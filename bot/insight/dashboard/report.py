"""The whole dashboard for one set of filters: the queries, then each section built from them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.clock import system_clock
from bot.insight.dashboard import gap_queries, queries
from bot.insight.dashboard.directory import QueueDirectory
from bot.insight.dashboard.export import TABLES
from bot.insight.dashboard.filters import Filters
from bot.insight.dashboard.names import Names
from bot.insight.dashboard.questions import (
    helpfulness_tables,
    outcomes_table,
    top_questions_table,
    top_unanswered_table,
    votes,
)
from bot.insight.dashboard.scope import UNANSWERED, Scope
from bot.insight.dashboard.table import Table, local, mean, median, rate, table
from bot.insight.dashboard.traffic import (
    channels_of,
    containment_table,
    messages_by_channel,
    queues_table,
    reasons_table,
    volume_tables,
)
from bot.insight.dashboard.upkeep import (
    alert_rows,
    alerts_table,
    claims_table,
    gaps_table,
    stale_agencies,
    stale_tables,
)
from bot.knowledge.bank import FaqBank
from bot.knowledge.faq import LANGUAGES
from bot.settings import Settings
from bot.storage.db import Database

KNOWN_CHANNELS = ("webchat", "sms", "whatsapp", "telegram", "messenger")


@dataclass(frozen=True, slots=True)
class Raw:
    """What the queries of one request found, before any table is built."""

    volume: queries.Volume
    containment: dict[str, tuple[int, int]]
    outcomes: Counter[str]
    unclustered: int
    answered: list[tuple[str, str | None, int]]
    unanswered: list[tuple[str, int, dt.datetime]]
    feedback: list[queries.FeedbackRow]
    handoffs: list[queries.HandoffRow]
    gaps: list[dict[str, Any]]
    gap_groups: int
    alerts: list[Any]
    claims: list[Any]


def fetch(db: Database, filters: Filters, directory: QueueDirectory) -> Raw:
    """Run every query of the dashboard for `filters`, on one connection (blocking)."""
    with db.engine.connect() as conn:
        scope = Scope.of(conn, filters, directory)
        volume = queries.volume(scope)
        containment = queries.containment(scope)
        outcomes, unclustered = queries.outcomes(scope)
        answered = queries.answered(scope)
        unanswered = queries.unanswered(scope)
        feedback = queries.feedback(scope)
        handoffs = queries.handoffs(scope)
        gaps, gap_groups = gap_queries.gaps(scope)
        alerts = queries.alerts(scope)
        claims = queries.claims(scope)
    return Raw(
        volume,
        containment,
        outcomes,
        unclustered,
        answered,
        unanswered,
        feedback,
        handoffs,
        gaps,
        gap_groups,
        alerts,
        claims,
    )


def summary(raw: Raw) -> dict[str, Any]:
    """The headline figures: containment, hand-offs, helpfulness, waits, volume."""
    conversations = sum(n for n, _ in raw.containment.values())
    handed_off = sum(h for _, h in raw.containment.values())
    helpful, rated = votes(raw.feedback, "helpful"), votes(raw.feedback, "satisfaction")
    helpful_n, helpful_yes = sum(r[3] for r in helpful), sum(r[4] for r in helpful)
    rated_n, rated_sum = sum(r[3] for r in rated), sum(r[4] for r in rated)
    waits = [w for _, _, _, w, _ in raw.handoffs if w is not None]
    handling = [h for _, _, _, _, h in raw.handoffs if h is not None]
    return {
        "conversations": conversations,
        "contained": conversations - handed_off,
        "containment_rate": rate(conversations - handed_off, conversations),
        "handed_off": handed_off,
        "handoff_rate": rate(handed_off, conversations),
        "handoffs": len(raw.handoffs),
        "helpful_votes": helpful_n,
        "helpful_yes": helpful_yes,
        "helpfulness": rate(helpful_yes, helpful_n),
        "ratings": rated_n,
        "satisfaction": mean(rated_sum, rated_n),
        "median_wait_s": median(waits),
        "waits": len(waits),
        "median_handling_s": median(handling),
        "handled": len(handling),
        "messages": sum(messages_by_channel(raw.volume[1]).values()),
        "turns": sum(raw.outcomes.values()),
        "unanswered": sum(raw.outcomes.get(o, 0) for o in UNANSWERED),
        "unclustered": raw.unclustered,
    }


def _query_tables(
    raw: Raw, names: Names, directory: QueueDirectory, filters: Filters
) -> dict[str, Table]:
    """The tables built from the queries alone: volume, hand-offs, questions, helpfulness, gaps."""
    return {
        **volume_tables(filters, raw.volume),
        "containment-by-channel": containment_table(raw.containment),
        "handoff-reasons": reasons_table(raw.handoffs),
        "handoffs-by-queue": queues_table(raw.handoffs, directory),
        "outcomes": outcomes_table(raw.outcomes),
        "top-questions": top_questions_table(raw.answered, names),
        "top-unanswered": top_unanswered_table(raw.unanswered, filters.zone),
        **helpfulness_tables(raw.feedback, filters, names),
        "knowledge-gaps": gaps_table(raw.gaps, raw.gap_groups),
    }


def _filters(filters: Filters) -> dict[str, Any]:
    """The filters as the page shows them."""
    return {
        "from": filters.start.isoformat(),
        "to": filters.end.isoformat(),
        "agency": filters.agency,
        "channel": filters.channel,
        "language": filters.language,
        "tz": filters.tz,
        "min_n": filters.min_n,
    }


def _period(filters: Filters) -> dict[str, Any]:
    """The period's bounds in the display zone, and its length in days."""
    start, end = filters.window()
    return {
        "start": local(start, filters.zone),
        "end": local(end, filters.zone),
        "days": len(filters.days()),
    }


def _options(bank: FaqBank, raw: Raw) -> dict[str, Any]:
    """What the page's filters offer: agencies, channels (known or seen), languages."""
    channels = channels_of(raw.volume[1])
    return {
        "agencies": [
            {"id": a.id, "name": a.display_name("en")}
            for a in sorted(bank.agencies.values(), key=lambda a: a.id)
        ],
        "channels": sorted(set(KNOWN_CHANNELS) | set(channels) | set(raw.containment)),
        "languages": list(LANGUAGES),
    }


def compute(
    db: Database,
    bank: FaqBank,
    config: QueueDirectory,
    settings: Settings,
    filters: Filters,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Every figure and table of the dashboard for `filters` (blocking); `config` is the contact
    centre's (a ContactCentreConfig, or anything with its `queues`)."""
    now = now or system_clock()
    zone = filters.zone
    raw = fetch(db, filters, config)
    names = Names(bank)
    after_days = settings.stale_after_days
    stale = stale_agencies(names, filters, now.astimezone(zone).date(), after_days)
    alerts = alert_rows(raw.alerts, zone)
    figures = summary(raw)
    found = {
        **_query_tables(raw, names, config, filters),
        **stale_tables(stale, after_days),
        "alerts": alerts_table(alerts),
        "claims": claims_table(raw.claims, zone),
        "summary": table(
            "Summary",
            [("figure", "text"), ("value", "text")],
            [[k, v] for k, v in figures.items()],
        ),
    }
    return {
        "filters": _filters(filters),
        "period": _period(filters),
        "generated_at": local(now, zone),
        "summary": figures,
        "gaps": {"groups": raw.gaps, "count": raw.gap_groups, "unclustered": raw.unclustered},
        "stale": {"after_days": after_days, "agencies": stale},
        "alerts": alerts,
        "options": _options(bank, raw),
        "tables": {name: found[name] for name in TABLES},
    }
