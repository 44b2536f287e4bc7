"""The FAQ index: dense and lexical signals over every FAQ, fused into one ranking.

Signals (measured on ../shared/eval, see docs/retrieval.md):
- e5 (multilingual): the query against each question and alternative phrasing (best one counts), and
  against the question plus the answer's first two sentences;
- MiniLM (English only, so only for English queries): against question + answer, and
  question + opening;
- BM25 over questions and alternative phrasings, accents folded.
Dense scores get a hubness penalty (an FAQ similar to many others is discounted), every signal is
standardised over the candidate FAQs of the query's language (z-scores), and the fused score is
their weighted mean. The index is persisted with a manifest (models, knowledge-base hash) and
rebuilt when either changes.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.knowledge.embedders import Embedder
from bot.knowledge.faq import Faq
from bot.knowledge.fields import question_and_answer, question_and_opening
from bot.knowledge.lexical import LexicalRanker

log = logging.getLogger(__name__)

FORMAT = 5
LEXICAL_WEIGHT = 0.2
HUB_PENALTY = 0.3
HUB_NEIGHBOURS = 5


@dataclass(frozen=True, slots=True)
class Signal:
    """One dense signal: which embedder, which FAQ text, for which query languages (None: all)."""

    key: str
    embedder: int
    field: str  # "q" (each phrasing, best counts) | "qa" | "qf2"
    languages: tuple[str, ...] | None = None


# Embedder 0 is multilingual e5, embedder 1 is MiniLM (English only).
SIGNALS = (
    Signal("e5.q", 0, "q"),
    Signal("e5.qf2", 0, "qf2"),
    Signal("mini.qa", 1, "qa", ("en",)),
    Signal("mini.qf2", 1, "qf2", ("en",)),
)


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked FAQ: fused score (weighted mean of z-scores) and the raw e5 cosine
    (for calibration)."""

    faq_id: str
    score: float
    cosine: float


def _zscore(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


def _question_owners(faqs: list[Faq]) -> np.ndarray:
    """Row i of a "q" matrix (every phrasing of every FAQ, in order) belongs to FAQ owners[i]."""
    return np.array([i for i, f in enumerate(faqs) for _ in f.questions], dtype=np.int64)


def _texts(faqs: list[Faq], field: str) -> list[str]:
    if field == "q":
        return [q for f in faqs for q in f.questions]
    make = question_and_answer if field == "qa" else question_and_opening
    return [make(f) for f in faqs]


class FaqIndex:
    """Hybrid retrieval over a fixed list of FAQs."""

    def __init__(
        self, faqs: list[Faq], embedders: list[Embedder], vectors: dict[str, np.ndarray]
    ) -> None:
        self.faqs = faqs
        self.embedders = embedders
        self._vectors = vectors
        self._question_owner = _question_owners(faqs)
        self._by_language: dict[str, np.ndarray] = {}
        self._lexical: dict[str, LexicalRanker] = {}
        for language in sorted({f.language for f in faqs}):
            members = np.array(
                [i for i, f in enumerate(faqs) if f.language == language], dtype=np.int64
            )
            self._by_language[language] = members
            self._lexical[language] = LexicalRanker(
                language, [" ".join(faqs[i].questions) for i in members]
            )

    # -- building and persistence -------------------------------------------------------------
    @classmethod
    def build(cls, faqs: list[Faq], embedders: list[Embedder]) -> FaqIndex:
        """Encode every FAQ text each signal needs, and each FAQ's hubness."""
        vectors: dict[str, np.ndarray] = {}
        for signal in SIGNALS:
            vectors[signal.key] = embedders[signal.embedder].encode_passages(
                _texts(faqs, signal.field)
            )
        owner = _question_owners(faqs)
        # Each FAQ's main question stands in as a query for the hubness estimate. Where an embedder
        # already has the questions' passage vectors (its `q` rows), they are reused: re-encoding
        # them as queries cost a sixth of a build for no gain (docs/retrieval.md).
        first_row = np.searchsorted(owner, np.arange(len(faqs)))
        question_rows = {s.embedder: vectors[s.key][first_row] for s in SIGNALS if s.field == "q"}
        as_queries = {
            number: question_rows[number]
            if number in question_rows
            else embedder.encode_queries([f.question for f in faqs])
            for number, embedder in enumerate(embedders)
        }
        languages = np.array([f.language for f in faqs])
        for signal in SIGNALS:
            similarity = as_queries[signal.embedder] @ vectors[signal.key].T
            if signal.field == "q":  # best phrasing per FAQ
                per_faq = np.full((len(faqs), len(faqs)), -1.0, dtype=np.float32)
                for column, faq_index in enumerate(owner):
                    np.maximum(
                        per_faq[:, faq_index], similarity[:, column], out=per_faq[:, faq_index]
                    )
                similarity = per_faq
            # An FAQ's hubness: its mean similarity to the most similar other questions of
            # its language.
            similarity = np.where(languages[:, None] == languages[None, :], similarity, -np.inf)
            np.fill_diagonal(similarity, -np.inf)
            top = -np.sort(-similarity, axis=0)[:HUB_NEIGHBOURS]
            finite = np.where(np.isfinite(top), top, np.nan)
            with np.errstate(all="ignore"):
                hub = np.nan_to_num(np.nanmean(finite, axis=0), nan=0.0)
            vectors[f"{signal.key}.hub"] = hub.astype(np.float32)
        return cls(faqs, embedders, vectors)

    @staticmethod
    def manifest(kb_hash: str, embedders: list[Embedder]) -> dict[str, object]:
        """What an index on disk was built from."""
        return {"format": FORMAT, "kb_hash": kb_hash, "models": [e.name for e in embedders]}

    def save(self, directory: Path, kb_hash: str) -> None:
        """Write each file under a temporary name and rename it, the manifest last: a half-written
        index is never taken as valid, and processes building the same index at once do not
        mix files."""
        directory.mkdir(parents=True, exist_ok=True)
        suffix = f".{os.getpid()}.tmp"
        with open(directory / f"vectors.npz{suffix}", "wb") as handle:
            arrays: dict[str, Any] = dict(self._vectors)
            np.savez(handle, **arrays)
        (directory / f"faq_ids.json{suffix}").write_text(json.dumps([f.id for f in self.faqs]))
        (directory / f"manifest.json{suffix}").write_text(
            json.dumps(self.manifest(kb_hash, self.embedders))
        )
        for name in ("vectors.npz", "faq_ids.json", "manifest.json"):
            os.replace(directory / f"{name}{suffix}", directory / name)

    @classmethod
    def open(
        cls, directory: Path, faqs: list[Faq], kb_hash: str, embedders: list[Embedder]
    ) -> FaqIndex:
        """Load the persisted index when its manifest matches, else build and persist a new one."""
        manifest_path = directory / "manifest.json"
        try:
            same = json.loads(manifest_path.read_text()) == cls.manifest(kb_hash, embedders)
            same = same and json.loads((directory / "faq_ids.json").read_text()) == [
                f.id for f in faqs
            ]
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
    def search(
        self,
        query: str,
        language: str | None = None,
        k: int = 10,
        lexical: bool = True,
        dense: bool = True,
    ) -> list[Hit]:
        """Rank the FAQs of `language` (the largest language if it has none) for `query`;
        best first.

        `lexical` and `dense` switch the two families of signals (the benchmark compares
        them alone).
        """
        if language not in self._by_language:
            language = max(self._by_language, key=lambda lang: len(self._by_language[lang]))
        members = self._by_language[language]
        fused: np.ndarray = np.zeros(len(members), dtype=np.float32)
        total_weight = 0.0
        if lexical:
            fused = fused + LEXICAL_WEIGHT * _zscore(self._lexical[language].scores(query))
            total_weight += LEXICAL_WEIGHT
        encoded: dict[int, np.ndarray] = {}
        cosine = np.zeros(len(members), dtype=np.float32)
        for signal in SIGNALS:
            if not dense or (signal.languages is not None and language not in signal.languages):
                continue
            if signal.embedder not in encoded:
                encoded[signal.embedder] = self.embedders[signal.embedder].encode_queries([query])[
                    0
                ]
            raw = self._vectors[signal.key] @ encoded[signal.embedder]
            if signal.field == "q":
                best = np.full(len(self.faqs), -1.0, dtype=np.float32)
                np.maximum.at(best, self._question_owner, raw)
                raw = best
            raw = raw[members]
            if signal.embedder == 0:
                cosine = np.maximum(cosine, raw)
            fused = fused + _zscore(raw - HUB_PENALTY * self._vectors[f"{signal.key}.hub"][members])
            total_weight += 1.0
        fused = fused / max(total_weight, 1e-9)
        order = np.argsort(-fused)[:k]
        return [Hit(self.faqs[members[i]].id, float(fused[i]), float(cosine[i])) for i in order]
