"""Knowledge gaps: unanswered questions grouped by meaning, as a to-do list for writing FAQs.

In the background, new unanswered questions (turns that ended in choices, no answer, or a
hand-off) are embedded with the retrieval's multilingual model and joined to the closest existing
group of the same language when their cosine to its centroid reaches `gap_similarity`; otherwise
they start a new group, labelled by that first question. Incremental ("leader") clustering: each
question is placed once, so groups stay stable for trends and alerts, and a pass costs one
encoding per new question.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import numpy as np
from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import GapCluster, Turn

log = logging.getLogger(__name__)
UNANSWERED = ("clarify", "no_answer", "handoff")


class GapClusterer:
    """Places new unanswered questions into groups."""

    def __init__(
        self, db: Database, embed: Callable[[list[str]], np.ndarray], similarity: float = 0.88
    ) -> None:
        self._db = db
        self._embed = embed
        self._similarity = similarity

    def run_once(self, batch: int = 200) -> int:
        """Group up to `batch` new questions; how many were placed (blocking)."""
        with self._db.session() as session:
            turns = list(
                session.scalars(
                    select(Turn).where(Turn.clustered.is_(False)).order_by(Turn.id).limit(batch)
                )
            )
            if not turns:
                return 0
            todo = [
                t for t in turns if t.outcome in UNANSWERED and t.question and t.question.strip()
            ]
            # Every turn in `todo` has a question; `if t.question` only tells the type checker.
            questions = [t.question for t in todo if t.question]
            vectors = self._embed(questions) if todo else np.zeros((0, 1), np.float32)
            clusters = list(session.scalars(select(GapCluster)))
            centroids = {c.id: np.frombuffer(c.centroid, dtype=np.float32) for c in clusters}
            by_language: dict[str, list[GapCluster]] = {}
            for cluster in clusters:
                by_language.setdefault(cluster.language, []).append(cluster)
            for turn, vector in zip(todo, vectors, strict=True):
                vector = np.asarray(vector, dtype=np.float32)
                vector /= np.linalg.norm(vector) or 1.0
                candidates = by_language.get(turn.language, [])
                best, score = None, -1.0
                if candidates:
                    scores = np.stack([centroids[c.id] for c in candidates]) @ vector
                    index = int(np.argmax(scores))
                    best, score = candidates[index], float(scores[index])
                if best is not None and score >= self._similarity:
                    merged = centroids[best.id] * best.size + vector
                    merged /= np.linalg.norm(merged) or 1.0
                    centroids[best.id] = merged.astype(np.float32)
                    best.centroid, best.size, best.last_seen_at = (
                        centroids[best.id].tobytes(),
                        best.size + 1,
                        turn.at,
                    )
                    turn.cluster_id = best.id
                else:
                    cluster = GapCluster(
                        label=(turn.question or "")[:300],
                        language=turn.language,
                        size=1,
                        centroid=vector.tobytes(),
                        created_at=turn.at,
                        last_seen_at=turn.at,
                    )
                    session.add(cluster)
                    session.flush()
                    centroids[cluster.id] = vector
                    by_language.setdefault(turn.language, []).append(cluster)
                    turn.cluster_id = cluster.id
            for turn in turns:
                turn.clustered = True
            session.commit()
            return len(turns)

    async def run(
        self, interval_s: float, stop: asyncio.Event, ready: Callable[[], bool] = lambda: True
    ) -> None:
        """Group new questions every `interval_s` (once `ready`, i.e. the model is loaded) until
        `stop`."""
        while not stop.is_set():
            try:
                if ready():
                    while await asyncio.to_thread(self.run_once):
                        pass
            except Exception:  # keep going; the next pass retries
                log.exception("knowledge-gap grouping failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except TimeoutError:
                pass
