"""The knowledge service the bot's actions call: FAQ bank + index + answer decision, in
one object."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.knowledge.bank import FaqBank
from bot.knowledge.calibration import load_or_calibrate
from bot.knowledge.decision import Decision, Thresholds, decide
from bot.knowledge.embedders import Embedder, e5, minilm
from bot.knowledge.faq import Agency, Faq
from bot.knowledge.index import CACHE_FILE, FaqIndex
from bot.settings import MODEL_DIR, Settings

log = logging.getLogger(__name__)


_OVERRIDABLE = ("answer_margin", "answer_cosine", "clarify_cosine")


def thresholds_from(settings: Settings, calibrated: Thresholds) -> Thresholds:
    """The bank's calibrated thresholds, with those the settings fix (ANSWER_MARGIN,
    ANSWER_COSINE, CLARIFY_COSINE) in their place."""
    fixed = {name: getattr(settings, name) for name in _OVERRIDABLE}
    return dataclasses.replace(
        calibrated, **{name: value for name, value in fixed.items() if value is not None}
    )


def default_embedders(settings: Settings | None = None) -> list[Embedder]:
    """The shipped dense models: multilingual e5 first (its cosine drives calibration),
    then MiniLM; from the settings' model folder, fp32 or int8 as they say."""
    model_dir = settings.model_dir if settings else MODEL_DIR
    int8 = settings.encoder_int8 if settings else False
    return [e5(model_dir, int8), minilm(model_dir, int8)]


@dataclass
class KnowledgeBase:
    """Answers questions from one FAQ bank; the live bot and `govbot eval` share this code path."""

    bank: FaqBank
    index: FaqIndex
    thresholds: Thresholds

    @classmethod
    def open(
        cls,
        bank: FaqBank,
        index_dir: Path,
        settings: Settings | None = None,
        embedders: list[Embedder] | None = None,
    ) -> KnowledgeBase:
        """Open (or build) the persisted index of `bank` under `index_dir`, and its answer
        thresholds: calibrated on the bank itself (persisted beside the index), with any that
        `settings` fix in their place."""
        embedders = embedders or default_embedders(settings)
        index = FaqIndex.open(index_dir, list(bank.faqs), bank.content_hash(), embedders)
        return cls._calibrated(bank, index, index_dir, settings)

    def updated(
        self, bank: FaqBank, index_dir: Path, settings: Settings | None = None
    ) -> KnowledgeBase:
        """The same models over a changed bank (a publish in the studio): only texts this index
        has not seen are encoded; the whole-bank statistics and the calibration are redone."""
        index = self.index.rebuilt(bank.faqs)
        index.save(index_dir, bank.content_hash())
        return self._calibrated(bank, index, index_dir, settings)

    @classmethod
    def _calibrated(
        cls, bank: FaqBank, index: FaqIndex, index_dir: Path, settings: Settings | None
    ) -> KnowledgeBase:
        faqs = list(bank.faqs)
        calibration = load_or_calibrate(
            index_dir,
            FaqIndex.manifest(bank.content_hash(), index.embedders),
            faqs,
            lambda queries: index.search_many(queries, k=11, cached=True, what="calibrating"),
        )
        index.cache.persist(index_dir / CACHE_FILE)  # the build's and calibration's vectors
        thresholds = calibration.thresholds
        return cls(bank, index, thresholds_from(settings, thresholds) if settings else thresholds)

    def __post_init__(self) -> None:
        self._faqs = self.bank.by_id()

    def ask(self, question: str, language: str | None = None) -> Decision:
        """Rank the FAQs for `question` in `language` and decide what the bot does."""
        hits = self.index.search(question, language, k=10)
        return decide(hits, self.thresholds, question)

    def embed_questions(self, texts: list[str]) -> np.ndarray:
        """Normalised multilingual (e5) vectors of citizens' questions, for grouping them
        by meaning."""
        return self.index.embedders[0].encode_queries(texts)

    def faq(self, faq_id: str) -> Faq | None:
        """The FAQ with this id, if any."""
        return self._faqs.get(faq_id)

    def agency(self, agency_id: str) -> Agency | None:
        """The agency with this id, if any."""
        return self.bank.agencies.get(agency_id)

    def translation(self, faq: Faq, language: str) -> Faq:
        """The parallel version of `faq` in `language`, or `faq` itself when there is none."""
        if faq.language == language or not faq.parallel_id:
            return faq
        for other in self.bank.faqs:
            if other.parallel_id == faq.parallel_id and other.language == language:
                return other
        return faq
