"""Retrieval quality of the app's own search on the evaluation collections: BM25, dense,
shipped hybrid.

Every method goes through `FaqIndex.search`, the code the live bot runs, with one family of signals
switched off for the single-signal rows; scoring is `bot.knowledge.evaluation.score`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.common import faq_file, query_file, say
from bot.knowledge.bank import FaqBank
from bot.knowledge.decision import Thresholds
from bot.knowledge.evaluation import LabelledQuery, read_queries, score
from bot.knowledge.importer import read_faq_file
from bot.knowledge.index import Hit
from bot.knowledge.service import KnowledgeBase
from bot.settings import get_settings

HYBRID = "hybrid (shipped)"
# method name -> (lexical, dense) switches of FaqIndex.search
APP_METHODS = {"BM25": (True, False), "dense": (False, True), HYBRID: (True, True)}
ANSWER_KEYS = ("answered_rate", "answered_precision")


@dataclass(frozen=True, slots=True)
class RetrievalResult:
    """One method on one collection: `score()`'s metrics, and the search time per query."""

    collection: str
    method: str
    metrics: dict[str, float]
    ms_per_query: float | None = None


def scored(
    collection: str,
    method: str,
    queries: list[LabelledQuery],
    rankings: list[list[Hit]],
    ms: float | None,
    thresholds: Thresholds | None = None,
) -> RetrievalResult:
    """Score rankings; the answered_* metrics only mean something for the shipped
    answer decision (`thresholds`: the collection's calibrated ones)."""
    metrics = score(queries, rankings, thresholds or Thresholds())
    if method != HYBRID:
        metrics = {k: v for k, v in metrics.items() if k not in ANSWER_KEYS}
    return RetrievalResult(collection, method, metrics, ms)


def open_collection(collection: str) -> KnowledgeBase:
    """The knowledge base of one collection, with the index cache `govbot eval` uses."""
    settings = get_settings()
    bank = FaqBank.from_faqs(read_faq_file(faq_file(collection)))
    cache = settings.var_dir / "cache" / f"eval-{bank.content_hash()}"
    return KnowledgeBase.open(bank, cache, settings)


def app_methods(collection: str) -> list[RetrievalResult]:
    """BM25 alone, dense alone and the shipped hybrid on one collection's dev queries."""
    kb = open_collection(collection)
    queries = read_queries(query_file(collection))
    kb.index.search(queries[0].text, queries[0].language)  # loads the encoders outside the timing
    results = []
    for method, (lexical, dense) in APP_METHODS.items():
        started = time.perf_counter()
        rankings = [
            kb.index.search(q.text, q.language, k=10, lexical=lexical, dense=dense) for q in queries
        ]
        ms = 1000 * (time.perf_counter() - started) / len(queries)
        result = scored(collection, method, queries, rankings, ms, kb.thresholds)
        say(f"{collection:15s} {method:17s} {format_metrics(result.metrics)}  {ms:.1f} ms/query")
        results.append(result)
    return results


def format_metrics(metrics: dict[str, float]) -> str:
    """A one-line summary for progress output."""
    return " ".join(f"{k}={v}" for k, v in metrics.items())
