"""The incremental index: a rebuild re-encodes only new or changed FAQ texts, and gives the same
rankings as a build from nothing; languages stay apart; progress shows on long work."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest

from bot.knowledge.bank import FaqBank
from bot.knowledge.faq import Faq
from bot.knowledge.index import CACHE_FILE, SIGNALS, FaqIndex, VectorCache
from bot.knowledge.service import KnowledgeBase
from bot.progress import progress


class CountingEmbedder:
    """Deterministic vectors from the words of a text (texts sharing words are close), and a
    record of every text it was asked to encode."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.encoded: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(384, dtype=np.float32)
        for word in text.lower().split():
            seed = int(hashlib.sha1(f"{self.name}{word}".encode()).hexdigest()[:8], 16)
            vector += np.random.default_rng(seed).standard_normal(384).astype(np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-9)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.encoded += texts
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, 384))

    encode_passages = encode_queries


def _faqs(count: int) -> list[Faq]:
    topics = ["permit", "passport", "garbage", "licence", "tax", "parking", "vaccine", "school"]
    faqs = []
    for i in range(count):
        topic = topics[i % len(topics)]
        language = "fr" if i % 3 == 0 else "en"
        faqs.append(
            Faq(
                f"faq-{i}",
                "agency",
                language,
                f"How do I get a {topic} number {i}?",
                f"Apply online for your {topic}. It takes {i} days.",
                (f"{topic} application {i}",) if i % 2 else (),
            )
        )
    return faqs


def _rankings(index: FaqIndex, queries: list[tuple[str, str]]) -> list[list[str]]:
    return [[h.faq_id for h in index.search(q, lang, k=5)] for q, lang in queries]


QUERIES = [("passport number 9", "en"), ("tax number 12", "fr"), ("school application", "en")]


def test_adding_changing_and_removing_an_faq_encodes_only_its_own_texts() -> None:
    embedders = [CountingEmbedder("e5"), CountingEmbedder("mini")]
    faqs = _faqs(60)
    index = FaqIndex.build(faqs, embedders)
    assert embedders[0].encoded, "the first build encodes everything"
    for e in embedders:
        e.encoded.clear()

    added = Faq("new", "agency", "en", "Where do I vote?", "At your polling station.")
    grown = index.rebuilt([*faqs, added])
    encoded = embedders[0].encoded + embedders[1].encoded
    assert encoded and all("vote" in text for text in encoded), encoded
    assert grown.search("where do I vote", "en")[0].faq_id == "new"

    for e in embedders:
        e.encoded.clear()
    changed = [*faqs[:-1], Faq(faqs[-1].id, "agency", "en", "How do I adopt a dog?", "Call us.")]
    index = grown.rebuilt(changed)
    encoded = embedders[0].encoded + embedders[1].encoded
    assert encoded and all("dog" in text for text in encoded), encoded

    for e in embedders:
        e.encoded.clear()
    shrunk = index.rebuilt(faqs[:-5])
    assert embedders[0].encoded == [] and embedders[1].encoded == []
    assert "new" not in {f.id for f in shrunk.faqs}


def test_an_incremental_rebuild_ranks_exactly_like_a_build_from_nothing() -> None:
    faqs = _faqs(80)
    embedders = [CountingEmbedder("e5"), CountingEmbedder("mini")]
    incremental = FaqIndex.build(faqs[:70], embedders).rebuilt(faqs)
    fresh = FaqIndex.build(faqs, [CountingEmbedder("e5"), CountingEmbedder("mini")])
    assert _rankings(incremental, QUERIES) == _rankings(fresh, QUERIES)
    for signal in SIGNALS:  # whole-bank statistics recomputed, not carried over
        key = f"{signal.key}.hub"
        assert np.allclose(incremental._vectors[key], fresh._vectors[key])


def test_a_query_only_ranks_faqs_of_its_language() -> None:
    index = FaqIndex.build(_faqs(40), [CountingEmbedder("e5"), CountingEmbedder("mini")])
    by_id = {f.id: f for f in index.faqs}
    for query, language in QUERIES:
        hits = index.search(query, language, k=50)
        assert hits and {by_id[h.faq_id].language for h in hits} == {language}


def test_the_best_phrasing_of_each_faq_counts() -> None:
    faq = Faq("a", "x", "en", "Opening hours of the library?", "9 to 5.", ("zebra crossing",))
    other = Faq("b", "x", "en", "Library card renewal", "Online.")
    index = FaqIndex.build([faq, other], [CountingEmbedder("e5"), CountingEmbedder("mini")])
    assert index.search("zebra crossing", "en", lexical=False)[0].faq_id == "a"


def test_the_index_persists_its_vectors_and_a_changed_bank_reuses_them(tmp_path: Path) -> None:
    faqs = _faqs(30)
    first = [CountingEmbedder("e5"), CountingEmbedder("mini")]
    KnowledgeBase.open(FaqBank.from_faqs(faqs), tmp_path, embedders=first)
    assert len(VectorCache.load(tmp_path / CACHE_FILE)) > 0

    again = [CountingEmbedder("e5"), CountingEmbedder("mini")]
    KnowledgeBase.open(FaqBank.from_faqs(faqs), tmp_path, embedders=again)
    assert again[0].encoded == [] and again[1].encoded == [], "an unchanged bank is loaded"

    # Calibration's questions included: only the new FAQ's texts are encoded.
    added = Faq("new", "agency", "fr", "Où voter?", "Au bureau de vote.")
    later = [CountingEmbedder("e5"), CountingEmbedder("mini")]
    kb = KnowledgeBase.open(FaqBank.from_faqs([*faqs, added]), tmp_path, embedders=later)
    assert later[0].encoded and all("voter" in t for t in later[0].encoded + later[1].encoded)
    assert kb.index.search("où voter", "fr")[0].faq_id == "new"


@pytest.mark.parametrize("total", [3, 40])
def test_progress_yields_everything_and_reports_plain_lines_off_a_terminal(
    total: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    assert list(progress(range(total), total, "encoding", unit="batch")) == list(range(total))
    lines = err.getvalue().splitlines()
    if total < 8:
        assert lines == [], "work too small for progress stays quiet"
    else:
        assert 5 <= len(lines) <= 11 and lines[-1].startswith("encoding: 40/40 (100%)")
