"""Scoring retrieval and the answer decision on labelled queries (`govbot eval`),
and calibration."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.decision import Outcome, Thresholds, decide
from bot.knowledge.faq import KnowledgeError
from bot.knowledge.index import Hit
from bot.knowledge.service import KnowledgeBase


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    """A citizen-style query and the FAQ ids that answer it."""

    text: str
    language: str
    relevant: frozenset[str]


def read_queries(path: Path) -> list[LabelledQuery]:
    """Read a JSONL file of queries (`text`, `language`, `relevant_faq_ids`)."""
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            queries.append(
                LabelledQuery(
                    str(raw["text"]),
                    str(raw.get("language") or "en"),
                    frozenset(raw["relevant_faq_ids"]),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise KnowledgeError(str(path), number, f"bad query record: {exc}")
    return queries


def rank_all(kb: KnowledgeBase, queries: list[LabelledQuery]) -> list[list[Hit]]:
    """The top-10 ranking of every query, through the same search the live bot uses."""
    return kb.index.search_many([(q.text, q.language) for q in queries], k=10)


def score(
    queries: list[LabelledQuery], rankings: list[list[Hit]], thresholds: Thresholds
) -> dict[str, float]:
    """P@1, Recall@5, MRR@10, and the share answered and answered correctly under `thresholds`."""
    n = len(queries)
    p1 = r5 = mrr = answered = answered_right = 0.0
    for query, hits in zip(queries, rankings):
        ids = [h.faq_id for h in hits]
        p1 += bool(ids) and ids[0] in query.relevant
        r5 += any(i in query.relevant for i in ids[:5])
        mrr += next((1.0 / rank for rank, i in enumerate(ids[:10], 1) if i in query.relevant), 0.0)
        decision = decide(hits, thresholds, query.text)
        if decision.outcome is Outcome.ANSWER:
            answered += 1
            answered_right += decision.faq_id in query.relevant
    return {
        "n": n,
        "p_at_1": round(p1 / n, 4) if n else 0.0,
        "recall_at_5": round(r5 / n, 4) if n else 0.0,
        "mrr_at_10": round(mrr / n, 4) if n else 0.0,
        "answered_rate": round(answered / n, 4) if n else 0.0,
        "answered_precision": round(answered_right / answered, 4) if answered else 0.0,
    }


def evaluate(kb: KnowledgeBase, queries: list[LabelledQuery]) -> dict[str, object]:
    """Overall metrics plus the same metrics per query language."""
    rankings = rank_all(kb, queries)
    result: dict[str, object] = dict(score(queries, rankings, kb.thresholds))
    by_language = {}
    for language in sorted({q.language for q in queries}):
        picked = [(q, r) for q, r in zip(queries, rankings) if q.language == language]
        by_language[language] = score([q for q, _ in picked], [r for _, r in picked], kb.thresholds)
    result["by_language"] = by_language
    return result


def calibrate(
    queries: list[LabelledQuery], rankings: list[list[Hit]], target_precision: float = 0.95
) -> tuple[Thresholds, dict[str, float]]:
    """The answer thresholds that answer the most queries at `target_precision` or better."""
    best: tuple[Thresholds, dict[str, float]] | None = None
    for cosine_cut in [0.80 + x / 100 for x in range(15)]:
        for margin_cut in [x / 20 for x in range(31)]:
            thresholds = Thresholds(
                answer_margin=margin_cut, answer_cosine=cosine_cut, clarify_cosine=0.0
            )
            metrics = score(queries, rankings, thresholds)
            if metrics["answered_precision"] >= target_precision and (
                best is None or metrics["answered_rate"] > best[1]["answered_rate"]
            ):
                best = (thresholds, metrics)
    if best is None:
        raise ValueError(f"no thresholds reach precision {target_precision}")
    return best
