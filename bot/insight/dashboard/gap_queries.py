"""The knowledge-gap groups asked about in the period: their sizes, trends and example questions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, case, func, select

from bot.clock import aware
from bot.insight.dashboard.scope import Scope
from bot.storage.models import GapCluster, KbFaq, Turn

GAPS_LIMIT = 100  # knowledge-gap groups listed (largest first)
EXAMPLES = 3
TREND_DAYS = 7


def _counts(scope: Scope) -> list[tuple[int, int, int, int]]:
    """(group, questions in the period, in the last TREND_DAYS, in the TREND_DAYS before) of every
    group asked about in the period, largest first."""
    f = scope.f
    after = f.end + dt.timedelta(days=1)
    last_start = f.midnight(after - dt.timedelta(days=TREND_DAYS))
    prev_start = f.midnight(after - dt.timedelta(days=2 * TREND_DAYS))
    low = min(scope.start, prev_start)
    in_period = func.sum(case((Turn.at >= scope.start, 1), else_=0))
    last = func.sum(case((Turn.at >= last_start, 1), else_=0))
    previous = func.sum(case((and_(Turn.at >= prev_start, Turn.at < last_start), 1), else_=0))
    stmt = (
        select(Turn.cluster_id, in_period, last, previous)
        .where(Turn.cluster_id.is_not(None), Turn.at >= low, Turn.at < scope.end, *scope.dims(Turn))
        .group_by(Turn.cluster_id)
    )
    counts = [
        (int(c), int(n or 0), int(a or 0), int(b or 0)) for c, n, a, b in scope.conn.execute(stmt)
    ]
    return sorted((c for c in counts if c[1] > 0), key=lambda c: (-c[1], c[0]))


def gaps(scope: Scope) -> tuple[list[dict[str, Any]], int]:
    """Knowledge-gap groups asked about in the period (largest first, at most GAPS_LIMIT), and how
    many groups there were in all."""
    counts = _counts(scope)
    total, counts = len(counts), counts[:GAPS_LIMIT]
    if not counts:
        return [], 0
    ids = [c[0] for c in counts]
    clusters = {
        row.id: row
        for row in scope.conn.execute(
            select(
                GapCluster.id,
                GapCluster.label,
                GapCluster.language,
                GapCluster.size,
                GapCluster.created_at,
            ).where(GapCluster.id.in_(ids))
        )
    }
    examples = _examples(scope, ids)
    answers = _answers(scope, ids)
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
                "answer": answers.get(cid),
            }
        )
    return found, total


def _answers(scope: Scope, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The FAQ written for each group in the knowledge studio (if any): its state and, once
    published, the group's questions in the TREND_DAYS before and after it went live."""
    rows = scope.conn.execute(
        select(KbFaq.gap_id, KbFaq.id, KbFaq.state, KbFaq.updated_at)
        .where(KbFaq.gap_id.in_(ids))
        .order_by(KbFaq.updated_at)
    ).all()
    window = dt.timedelta(days=TREND_DAYS)
    found: dict[int, dict[str, Any]] = {}
    for cid, faq_id, state, updated_at in rows:
        if cid is None:
            continue
        answer: dict[str, Any] = {"faq_id": faq_id, "state": state}
        if state == "published":
            live = aware(updated_at)
            before, after = scope.conn.execute(
                select(
                    func.sum(case((Turn.at < live, 1), else_=0)),
                    func.sum(case((Turn.at >= live, 1), else_=0)),
                ).where(Turn.cluster_id == cid, Turn.at >= live - window, Turn.at < live + window)
            ).one()
            answer.update(
                live_at=live.isoformat(), before_7=int(before or 0), after_7=int(after or 0)
            )
        if cid not in found or state == "published":
            found[int(cid)] = answer
    return found


def _examples(scope: Scope, ids: list[int]) -> dict[int, list[str]]:
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
        .where(*scope.turns(Turn.cluster_id.in_(ids), Turn.question.is_not(None)))
        .group_by(Turn.cluster_id, Turn.question)
        .subquery()
    )
    stmt = (
        select(ranked.c.cid, ranked.c.question)
        .where(ranked.c.rn <= EXAMPLES)
        .order_by(ranked.c.cid, ranked.c.rn)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for cid, question in scope.conn.execute(stmt):
        found[int(cid)].append(question)
    return found
