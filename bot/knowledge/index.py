"""The FAQ index: dense and lexical signals over every FAQ, fused into one ranking.

Signals (measured on ../shared/eval, see docs/retrieval.md):
- e5 (multilingual): the query against each question and alternative phrasing (best one counts), and
  against the question plus the answer's first two sentences;
- MiniLM (English only, so only for English queries): against question + answer, and
  question + opening;
- BM25 over questions and alternative phrasings, accents folded.
Dense scores get a hubness penalty (an FAQ similar to many others is discounted), every signal is
standardised over the candidate FAQs of the query's language (z-scores), and the fused score is
their weighted mean.

Incremental: every vector is kept in a `VectorCache` keyed by model, role and text, persisted
beside the index, so a rebuild after one FAQ is added, changed or removed encodes only that FAQ's
texts; what depends on the whole bank (BM25 statistics, hubness) is recomputed from the vectors,
which takes milliseconds. FAQs are held grouped by language, so each language's rows are
contiguous views and a query only touches its own language. The index is persisted with a
manifest (models, knowledge-base hash) and rebuilt when either changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bot.knowledge.embedders import Embedder
from bot.knowledge.faq import Faq
from bot.knowledge.fields import question_and_answer, question_and_opening
from bot.knowledge.lexical import LexicalRanker
from bot.progress import progress

log = logging.getLogger(__name__)

FORMAT = 6
CACHE_FILE = "encodings.npz"
LEXICAL_WEIGHT = 0.2
HUB_PENALTY = 0.3
HUB_NEIGHBOURS = 5
# The two encoders of one query run side by side (ONNX Runtime releases the GIL).
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="encode")

Role = Literal["query", "passage"]
Encoded = dict[int, np.ndarray]  # embedder number -> the query's vector


@dataclass(frozen=True, slots=True)
class Signal:
    """One dense signal: which embedder, which FAQ text, for which query languages (None: all)."""

    key: str
    embedder: int
    field: str  # "q" (each phrasing, best counts) | "qa" | "qf2"
    languages: tuple[str, ...] | None = None

    def serves(self, language: str) -> bool:
        """Whether this signal counts for queries in `language`."""
        return self.languages is None or language in self.languages


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


class VectorCache:
    """Every vector computed so far, keyed by model, role and text: a rebuild encodes only texts
    it has not seen. `persist` keeps only what was asked for since it was loaded (the last
    build and calibration), so it does not grow forever."""

    def __init__(self, entries: dict[str, np.ndarray] | None = None) -> None:
        self._entries = dict(entries or {})
        self._used: set[str] = set()
        self._added = 0

    @staticmethod
    def _key(model: str, role: Role, text: str) -> str:
        return hashlib.sha1(f"{model}\0{role}\0{text}".encode()).hexdigest()[:24]

    def encode(self, embedder: Embedder, role: Role, texts: Sequence[str]) -> np.ndarray:
        """The vectors of `texts`, encoding (in one batch) only those not cached."""
        keys = [self._key(embedder.name, role, t) for t in texts]
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in self._entries))
        if missing:
            encode = embedder.encode_queries if role == "query" else embedder.encode_passages
            for text, vector in zip(missing, encode(missing)):
                self._entries[self._key(embedder.name, role, text)] = vector
            self._added += len(missing)
        self._used.update(keys)
        if not keys:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._entries[k] for k in keys])

    def __len__(self) -> int:
        return len(self._entries)

    def persist(self, path: Path) -> None:
        """If anything was encoded since loading, forget what was not asked for and write the
        rest as one npz (keys and a matrix), under a temporary name renamed at the end."""
        if not self._added:
            return
        self._entries = {k: v for k, v in self._entries.items() if k in self._used}
        keys = sorted(self._entries)
        matrix = np.stack([self._entries[k] for k in keys]) if keys else np.zeros((0, 384))
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(temporary, "wb") as handle:
            np.savez(handle, keys=np.array(keys, dtype="U24"), vectors=matrix.astype(np.float32))
        os.replace(temporary, path)
        self._added = 0

    @classmethod
    def load(cls, path: Path) -> VectorCache:
        """Read a saved cache; an empty one when it is missing or unreadable."""
        try:
            with np.load(path) as data:
                return cls(dict(zip(data["keys"].tolist(), data["vectors"])))
        except (OSError, ValueError, KeyError):
            return cls()


def _zscore(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


def _texts(faqs: Sequence[Faq], field: str) -> list[str]:
    if field == "q":
        return [q for f in faqs for q in f.questions]
    make = question_and_answer if field == "qa" else question_and_opening
    return [make(f) for f in faqs]


def _phrasing_starts(faqs: Sequence[Faq]) -> np.ndarray:
    """Row of each FAQ's first phrasing in a "q" matrix (every phrasing of every FAQ, in order)."""
    return np.cumsum([0, *(len(f.questions) for f in faqs[:-1])]).astype(np.int64)


def _hubness(similarity: np.ndarray) -> np.ndarray:
    """Each FAQ's (column's) mean similarity to the HUB_NEIGHBOURS most similar other FAQs."""
    np.fill_diagonal(similarity, -np.inf)
    # the HUB_NEIGHBOURS largest of each column, in no order (a partition: a third of a sort's
    # time at 5,000 FAQs, and the mean does not need the order)
    rows = similarity.shape[0]
    k = min(HUB_NEIGHBOURS, rows)
    top = np.partition(similarity, rows - k, axis=0)[rows - k :] if k else similarity[:0]
    finite = np.where(np.isfinite(top), top, np.nan)
    with np.errstate(all="ignore"):
        return np.nan_to_num(np.nanmean(finite, axis=0), nan=0.0).astype(np.float32)


@dataclass(frozen=True, slots=True)
class _Language:
    """One language's FAQs: their span in the index and the starts of their phrasing rows."""

    faqs: slice
    phrasings: slice
    starts: np.ndarray  # first phrasing row of each FAQ, relative to `phrasings`
    lexical: LexicalRanker


class FaqIndex:
    """Hybrid retrieval over a fixed list of FAQs (held grouped by language)."""

    def __init__(
        self,
        faqs: Sequence[Faq],
        embedders: list[Embedder],
        vectors: dict[str, np.ndarray],
        cache: VectorCache | None = None,
    ) -> None:
        self.faqs = _by_language(faqs)
        self.embedders = embedders
        self.cache = cache or VectorCache()
        self._vectors = vectors
        self._languages: dict[str, _Language] = {}
        starts = _phrasing_starts(self.faqs)
        rows = int(starts[-1]) + len(self.faqs[-1].questions) if self.faqs else 0
        ends = np.append(starts, rows)
        position = 0
        for language in sorted({f.language for f in self.faqs}):
            count = sum(1 for f in self.faqs if f.language == language)
            span = slice(position, position + count)
            first, last = int(ends[position]), int(ends[position + count])
            self._languages[language] = _Language(
                span,
                slice(first, last),
                starts[span] - first,
                LexicalRanker(language, [" ".join(f.questions) for f in self.faqs[span]]),
            )
            position += count

    # -- building and persistence -------------------------------------------------------------
    @classmethod
    def build(
        cls, faqs: Sequence[Faq], embedders: list[Embedder], cache: VectorCache | None = None
    ) -> FaqIndex:
        """Encode every FAQ text each signal needs (only those `cache` lacks), and each FAQ's
        hubness."""
        faqs = _by_language(faqs)
        cache = cache or VectorCache()

        def encode(number: int) -> dict[str, np.ndarray]:
            return {
                s.key: cache.encode(embedders[number], "passage", _texts(faqs, s.field))
                for s in SIGNALS
                if s.embedder == number
            }

        # One encoder per core: a build takes as long as the slower encoder, not the sum.
        vectors: dict[str, np.ndarray] = {}
        for job in [_POOL.submit(encode, number) for number in range(len(embedders))]:
            vectors.update(job.result())
        index = cls(faqs, embedders, vectors, cache)
        for signal in SIGNALS:
            vectors[f"{signal.key}.hub"] = np.zeros(len(faqs), dtype=np.float32)
        for part in index._languages.values():
            members = faqs[part.faqs]
            # Each FAQ's main question stands in as a query for the hubness estimate. Where an
            # embedder already has the questions' passage vectors (its `q` rows), they are
            # reused: re-encoding them as queries cost a sixth of a build for no gain.
            as_queries = {
                s.embedder: vectors[s.key][part.phrasings][part.starts]
                for s in SIGNALS
                if s.field == "q"
            }
            for number, embedder in enumerate(embedders):
                if number not in as_queries:
                    as_queries[number] = cache.encode(
                        embedder, "query", [f.question for f in members]
                    )
            for signal in SIGNALS:
                rows = part.phrasings if signal.field == "q" else part.faqs
                similarity = as_queries[signal.embedder] @ vectors[signal.key][rows].T
                if signal.field == "q":  # best phrasing per FAQ
                    similarity = np.maximum.reduceat(similarity, part.starts, axis=1)
                vectors[f"{signal.key}.hub"][part.faqs] = _hubness(similarity)
        return index

    def rebuilt(self, faqs: Sequence[Faq]) -> FaqIndex:
        """A new index over `faqs` that re-encodes only the texts this one has not seen."""
        return FaqIndex.build(faqs, self.embedders, self.cache)

    @staticmethod
    def manifest(kb_hash: str, embedders: list[Embedder]) -> dict[str, object]:
        """What an index on disk was built from."""
        return {"format": FORMAT, "kb_hash": kb_hash, "models": [e.name for e in embedders]}

    def save(self, directory: Path, kb_hash: str) -> None:
        """Write each file under a temporary name and rename it, the manifest last: a half-written
        index is never taken as valid, and processes building the same index at once do not
        mix files. The vector cache is saved apart (`VectorCache.persist`), after calibration
        has added its questions' vectors."""
        directory.mkdir(parents=True, exist_ok=True)
        suffix = f".{os.getpid()}.{threading.get_ident()}.tmp"
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
        cls, directory: Path, faqs: Sequence[Faq], kb_hash: str, embedders: list[Embedder]
    ) -> FaqIndex:
        """Load the persisted index when its manifest matches, else build (re-encoding only
        what the persisted vectors lack) and persist a new one."""
        faqs = _by_language(faqs)
        manifest_path = directory / "manifest.json"
        try:
            same = json.loads(manifest_path.read_text()) == cls.manifest(kb_hash, embedders)
            same = same and json.loads((directory / "faq_ids.json").read_text()) == [
                f.id for f in faqs
            ]
        except (OSError, ValueError):
            same = False
        cache = VectorCache.load(directory / CACHE_FILE)
        if same:
            with np.load(directory / "vectors.npz") as data:
                return cls(faqs, embedders, {key: data[key] for key in data.files}, cache)
        log.info(
            "building FAQ index for %d FAQs in %s (%d vectors cached)",
            len(faqs),
            directory,
            len(cache),
        )
        manifest_path.unlink(missing_ok=True)
        index = cls.build(faqs, embedders, cache)
        index.save(directory, kb_hash)
        return index

    # -- search ----------------------------------------------------------------------------
    def _language(self, language: str | None) -> str:
        if language in self._languages:
            return language
        return max(
            self._languages,
            key=lambda lang: self._languages[lang].faqs.stop - self._languages[lang].faqs.start,
        )

    def _needed(self, language: str) -> list[int]:
        return sorted({s.embedder for s in SIGNALS if s.serves(language)})

    def encode(self, query: str, language: str | None) -> Encoded:
        """The query's vector from each embedder its language needs, encoded side by side."""
        needed = self._needed(self._language(language))
        jobs = {n: _POOL.submit(self.embedders[n].encode_queries, [query]) for n in needed[1:]}
        encoded = {needed[0]: self.embedders[needed[0]].encode_queries([query])[0]}
        encoded.update({n: job.result()[0] for n, job in jobs.items()})
        return encoded

    def encode_many(
        self, queries: Sequence[tuple[str, str | None]], cache: VectorCache | None = None
    ) -> list[Encoded]:
        """`encode` for many queries at once, in batches (through `cache` when given)."""
        encoded: list[Encoded] = [{} for _ in queries]
        for number, embedder in enumerate(self.embedders):
            rows = [
                i
                for i, (_, lang) in enumerate(queries)
                if number in self._needed(self._language(lang))
            ]
            texts = [queries[i][0] for i in rows]
            vectors = (
                cache.encode(embedder, "query", texts) if cache else embedder.encode_queries(texts)
            )
            for i, vector in zip(rows, vectors):
                encoded[i][number] = vector
        return encoded

    def search_many(
        self,
        queries: Sequence[tuple[str, str | None]],
        k: int = 10,
        cached: bool = False,
        what: str = "ranking",
    ) -> list[list[Hit]]:
        """`search` for many (query, language) pairs, the queries encoded in batches; `cached`
        keeps their vectors in the index's cache (for questions asked at every rebuild)."""
        encoded = self.encode_many(queries, self.cache if cached else None)
        pairs = progress(zip(queries, encoded), len(queries), what, unit="query")
        return [
            self.search(text, language, k, encoded=vectors) for (text, language), vectors in pairs
        ]

    def search(
        self,
        query: str,
        language: str | None = None,
        k: int = 10,
        lexical: bool = True,
        dense: bool = True,
        encoded: Encoded | None = None,
    ) -> list[Hit]:
        """Rank the FAQs of `language` (the largest language if it has none) for `query`;
        best first.

        `lexical` and `dense` switch the two families of signals (the benchmark compares
        them alone); `encoded` gives the query's vectors when they are already known.
        """
        language = self._language(language)
        part = self._languages[language]
        size = part.faqs.stop - part.faqs.start
        fused: np.ndarray = np.zeros(size, dtype=np.float32)
        total_weight = 0.0
        if lexical:
            fused = fused + LEXICAL_WEIGHT * _zscore(part.lexical.scores(query))
            total_weight += LEXICAL_WEIGHT
        cosine = np.zeros(size, dtype=np.float32)
        if dense:
            encoded = encoded if encoded is not None else self.encode(query, language)
            for signal in SIGNALS:
                if not signal.serves(language):
                    continue
                rows = part.phrasings if signal.field == "q" else part.faqs
                raw = self._vectors[signal.key][rows] @ encoded[signal.embedder]
                if signal.field == "q":
                    raw = np.maximum.reduceat(raw, part.starts)
                if signal.embedder == 0:
                    cosine = np.maximum(cosine, raw)
                hub = self._vectors[f"{signal.key}.hub"][part.faqs]
                fused = fused + _zscore(raw - HUB_PENALTY * hub)
                total_weight += 1.0
        fused = fused / max(total_weight, 1e-9)
        order = np.argsort(-fused)[:k]
        members = self.faqs[part.faqs]
        return [Hit(members[i].id, float(fused[i]), float(cosine[i])) for i in order]


def _by_language(faqs: Sequence[Faq]) -> list[Faq]:
    """The FAQs grouped by language (stable within each), the order the index keeps."""
    return sorted(faqs, key=lambda f: f.language)
