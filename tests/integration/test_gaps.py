"""Knowledge-gap grouping on SQLite and PostgreSQL, with the real multilingual model: unanswered
questions that mean the same thing share a group, answered ones are not grouped, and a pass places
each once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.insight.gaps import GapClusterer
from bot.knowledge.embedders import OnnxEmbedder, e5
from bot.settings import MODEL_DIR
from bot.storage.db import Database
from bot.storage.models import GapCluster, Turn


@pytest.fixture(scope="module")
def embed() -> Iterator[OnnxEmbedder]:
    yield e5(MODEL_DIR)


QUESTIONS = [
    ("no_answer", "en", "Is the new ferry to Pike Island running yet?"),
    ("clarify", "en", "when does the pike island ferry start"),
    ("handoff", "en", "Pike Island ferry schedule, is it running?"),
    ("no_answer", "en", "Can I get a permit for backyard chickens?"),
    ("no_answer", "en", "do I need a permit to keep chickens in my backyard"),
    ("no_answer", "fr", "Est-ce que le traversier de l'île Pike fonctionne?"),
    ("answered", "en", "how do I renew my licence"),
]


def test_unanswered_questions_are_grouped_by_meaning(db: Database, embed: OnnxEmbedder) -> None:
    with db.session() as session:
        session.add_all(
            [
                Turn(
                    conversation_id=f"webchat:c{n}",
                    channel="webchat",
                    language=lang,
                    outcome=outcome,
                    question=text,
                    clustered=outcome == "answered",
                )
                for n, (outcome, lang, text) in enumerate(QUESTIONS)
            ]
        )
        session.commit()
    clusterer = GapClusterer(db, embed.encode_queries, similarity=0.88)
    assert clusterer.run_once() == 6
    assert clusterer.run_once() == 0  # each question is placed once
    with db.session() as session:
        turns = {t.question: t for t in session.scalars(select(Turn))}
        clusters = list(session.scalars(select(GapCluster)))
    ferry = {turns[q].cluster_id for _, _, q in QUESTIONS[:3]}
    hens = {turns[q].cluster_id for _, _, q in QUESTIONS[3:5]}
    assert len(ferry) == 1 and len(hens) == 1 and ferry != hens
    assert turns[QUESTIONS[5][2]].cluster_id not in ferry  # groups are per language
    assert turns[QUESTIONS[6][2]].cluster_id is None  # answered: not a gap
    sizes = sorted(c.size for c in clusters)
    assert sizes == [1, 2, 3]
    assert next(c for c in clusters if c.id in ferry).label == QUESTIONS[0][2]
