"""BM25 over FAQ texts, one ranker per language, with stemming and stop words."""

from __future__ import annotations

import logging
import unicodedata

import bm25s
import bm25s.stopwords
import numpy as np
import Stemmer

# bm25s sets its own logger to DEBUG at import: a line per index build wherever a library has
# configured the root logger (the encoders' first export does).
logging.getLogger("bm25s").setLevel(logging.WARNING)

_STEMMERS = {"en": "english", "fr": "french"}
_STOPWORDS = {"en": bm25s.stopwords.STOPWORDS_EN, "fr": bm25s.stopwords.STOPWORDS_FRENCH}


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'éligibilité' and 'eligibilite' match."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class LexicalRanker:
    """BM25 scores of one query against every document of one language."""

    __slots__ = ("_bm25", "_language", "_size", "_stemmer")

    def __init__(self, language: str, documents: list[str]) -> None:
        self._language = language
        self._stemmer = Stemmer.Stemmer(_STEMMERS.get(language, "english"))
        self._size = len(documents)
        self._bm25 = bm25s.BM25()
        tokens = bm25s.tokenize(
            [fold(d) for d in documents],
            stopwords=self._stopwords,
            stemmer=self._stemmer,
            show_progress=False,
        )
        self._bm25.index(tokens, show_progress=False)

    @property
    def _stopwords(self) -> list[str]:
        # Folded like the text, so "été" as a stop word still matches "ete".
        return [fold(w) for w in _STOPWORDS.get(self._language, _STOPWORDS["en"])]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query` (zeros when no query term is known)."""
        tokens = bm25s.tokenize(
            [fold(query)],
            stopwords=self._stopwords,
            stemmer=self._stemmer,
            show_progress=False,
            return_ids=False,
        )
        known = [t for t in (tokens[0] if tokens else []) if t in self._bm25.vocab_dict]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
