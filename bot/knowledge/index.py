"""The FAQ index: dense vectors of every question, phrasing and answer, plus BM25, fused into one ranking.

Built once and persisted with a manifest (models, knowledge-base hash); `FaqIndex.open` rebuilds it when
either changed. Scores of each signal are standardised over the candidate FAQs of the query's language
(z-scores), then summed with weights: a scale-free fusion that needs no per-collection tuning.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.knowledge.embedders import Embedder
from bot.knowledge.faq import Faq
from bot.knowledge.lexical import LexicalRanker

log = logging.getLogger(__name__)

FORMAT = 1
LEXICAL_WEIGHT = 0.2


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked FAQ: fused score, and the best raw cosine of the first embedder (for calibration)."""

    faq_id: str
    score: float
    cosine: float


def _zscore(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


class FaqIndex:
    """Hybrid retrieval over a fixed list of FAQs."""

    def __init__(self, faqs: list[Faq], embedders: list[Embedder], vectors: dict[str, np.ndarray]) -> None:
        self.faqs = faqs
        self.embedders = embedders
        self._vectors = vectors
        # Row i of a "q" matrix belongs to FAQ _question_owner[i].
        self._question_owner = np.array([i for i, f in enumerate(faqs) for _ in f.questions], dtype=np.int64)
        self._by_language: dict[str, np.ndarray] = {}
        self._lexical: dict[str, LexicalRanker] = {}
        for language in sorted({f.language for f in faqs}):
            members = np.array([i for i, f in enumerate(faqs) if f.language == language], dtype=np.int64)
            self._by_language[language] = members
            self._lexical[language] = LexicalRanker(
                language, [" ".join((*faqs[i].questions, faqs[i].answer)) for i in members]
            )

    # -- building and persistence -------------------------------------------------------------
    @staticmethod
    def _passages(faqs: list[Faq]) -> tuple[list[str], list[str]]:
        questions = [q for f in faqs for q in f.questions]
        answers = [f"{f.question} {f.answer}" for f in faqs]
        return questions, answers

    @classmethod
    def build(cls, faqs: list[Faq], embedders: list[Embedder]) -> "FaqIndex":
        """Encode every FAQ text with every embedder."""
        questions, answers = cls._passages(faqs)
        vectors: dict[str, np.ndarray] = {}
        for number, embedder in enumerate(embedders):
            vectors[f"{number}.q"] = embedder.encode_passages(questions)
            vectors[f"{number}.a"] = embedder.encode_passages(answers)
        return cls(faqs, embedders, vectors)

    @staticmethod
    def manifest(kb_hash: str, embedders: list[Embedder]) -> dict[str, object]:
        """What an index on disk was built from."""
        return {"format": FORMAT, "kb_hash": kb_hash, "models": [e.name for e in embedders]}

    def save(self, directory: Path, kb_hash: str) -> None:
        """Write vectors, then the manifest last, so a half-written index is never taken as valid."""
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / "vectors.npz", **self._vectors)
        (directory / "faq_ids.json").write_text(json.dumps([f.id for f in self.faqs]))
        (directory / "manifest.json").write_text(json.dumps(self.manifest(kb_hash, self.embedders)))

    @classmethod
    def open(cls, directory: Path, faqs: list[Faq], kb_hash: str, embedders: list[Embedder]) -> "FaqIndex":
        """Load the persisted index when its manifest matches, else build and persist a new one."""
        manifest_path = directory / "manifest.json"
        try:
            same = json.loads(manifest_path.read_text()) == cls.manifest(kb_hash, embedders)
            same = same and json.loads((directory / "faq_ids.json").read_text()) == [f.id for f in faqs]
        except (OSError, ValueError):
            same = False
        if same:
            with np.load(directory / "vectors.npz") as data:
                return cls(faqs, embedders, {key: data[key] for key in data.files})
        log.info("building FAQ index for %d FAQs in %s", len(faqs), directory)
        manifest_path.unlink(missing_ok=True)
        index = cls.build(faqs, embedders)
        index.save(directory, kb_hash)
        return index

    # -- search ----------------------------------------------------------------------------
    def languages(self) -> list[str]:
        """Languages that have at least one FAQ."""
        return list(self._by_language)

    def search(self, query: str, language: str | None = None, k: int = 10) -> list[Hit]:
        """Rank the FAQs of `language` (all FAQs if it has none) for `query`; best first."""
        if language not in self._by_language:
            language = max(self._by_language, key=lambda lang: len(self._by_language[lang]))
        members = self._by_language[language]
        if len(members) == 0:
            return []
        fused = LEXICAL_WEIGHT * _zscore(self._lexical[language].scores(query))
        first_cosine = np.zeros(len(members), dtype=np.float32)
        for number, embedder in enumerate(self.embedders):
            vector = embedder.encode_queries([query])[0]
            per_question = self._vectors[f"{number}.q"] @ vector
            best_question = np.full(len(self.faqs), -1.0, dtype=np.float32)
            np.maximum.at(best_question, self._question_owner, per_question)
            answer = self._vectors[f"{number}.a"] @ vector
            dense = best_question[members] + answer[members]
            if number == 0:
                first_cosine = best_question[members]
            fused = fused + _zscore(dense)
        order = np.argsort(-fused)[:k]
        return [
            Hit(self.faqs[members[i]].id, float(fused[i]), float(first_cosine[i])) for i in order
        ]
