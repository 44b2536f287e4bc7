"""Citizens' unanswered questions that may be another phrasing of an FAQ (active learning, as in
Azure's QnA): the knowledge-gap groups whose centroid is closest to the FAQ's question, with
their questions (stored redacted), less those the FAQ already has or an editor dismissed. The
editor accepts one (a new version, in review) or dismisses it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import GapCluster, KbDismissed, KbFaq, KbFaqVersion, Turn
from bot.studio.access import Editor, StudioError
from bot.studio.store import content_of, text_hash

Embed = Callable[[list[str]], np.ndarray]
MIN_COSINE = 0.85  # the answer decision's "loosely related" bar (clarify)
GROUPS = 5
PER_GROUP = 5


def suggested_phrasings(
    db: Database, embed: Embed, editor: Editor, faq_id: str
) -> list[dict[str, Any]]:
    """Up to GROUPS gap groups near the FAQ's question, each with up to PER_GROUP questions."""
    with db.session() as session:
        faq = session.get(KbFaq, faq_id)
        if faq is None:
            raise StudioError(f"no FAQ {faq_id}", 404)
        editor.check_edit(faq.agency_id)
        head = session.get(KbFaqVersion, (faq.id, faq.head_version))
        assert head is not None
        content = content_of(head)
        clusters = list(
            session.scalars(select(GapCluster).where(GapCluster.language == faq.language))
        )
        dismissed = set(
            session.scalars(select(KbDismissed.text_hash).where(KbDismissed.faq_id == faq_id))
        )
    if not clusters:
        return []
    vector = embed([content.question])[0]
    centroids = np.stack([np.frombuffer(c.centroid, dtype=np.float32) for c in clusters])
    cosines = centroids @ vector
    order = [int(i) for i in np.argsort(-cosines)[:GROUPS] if cosines[i] >= MIN_COSINE]
    known = {text_hash(q) for q in (content.question, *content.alternatives)} | dismissed
    found = []
    with db.session() as session:
        for i in order:
            questions = session.scalars(
                select(Turn.question)
                .where(Turn.cluster_id == clusters[i].id, Turn.question.is_not(None))
                .order_by(Turn.at.desc())
                .limit(100)
            ).all()
            fresh: list[str] = []
            for question in questions:
                key = text_hash(question or "")
                if question and key not in known:
                    known.add(key)
                    fresh.append(question.strip())
            if fresh:
                found.append(
                    {
                        "gap_id": clusters[i].id,
                        "label": clusters[i].label,
                        "cosine": round(float(cosines[i]), 3),
                        "questions": fresh[:PER_GROUP],
                    }
                )
    return found
