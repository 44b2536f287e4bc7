"""Redaction of personal data: throughput, and precision and recall on the labelled set.

- Quality: precision and recall of `bot.privacy.redact.find` on
  tests/fixtures/redaction/labelled.jsonl, overall (`bot.privacy.redact.score`) and per kind; a
  finding counts only with its exact kind, start and end.
- Throughput of `redact` (what the app runs on every message), one thread, in messages per second:
  over the labelled set repeated to 20,000 messages (dense in personal data), and over 20,000
  realistic citizen messages without personal data (the evaluation queries of ../shared/eval and the
  questions and their variants in data/faqs), which is what most traffic looks like. For those,
  `flagged` is how many of the distinct messages the redactor changed (each one a false alarm, or
  personal data in the corpus).

- Personal values (issue 11), the way a privacy officer counts (bot/privacy/quality.py): per kind,
  the share of labelled values gone from the redacted text, and the share of messages without
  personal data that were changed; on the development split and on the held-out test split
  (tests/fixtures/redaction/dev.jsonl, test.jsonl), both written alongside the code.
- Latency of `find` per message (p50, p95, p99 over both splits, five passes) and the memory the
  redactor adds to a process (resident set before and after building it, in a fresh interpreter).

`python -m bench.privacy` prints the figures (`--json` for one JSON object).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from bench.common import EVAL_DIR
from bot.privacy.quality import load as load_values
from bot.privacy.quality import measure as measure_values
from bot.privacy.redact import KINDS, find, redact, score
from bot.settings import ROOT

LABELLED = ROOT / "tests" / "fixtures" / "redaction" / "labelled.jsonl"
SPLITS = {
    split: ROOT / "tests" / "fixtures" / "redaction" / f"{split}.jsonl" for split in ("dev", "test")
}
FAQ_DIR = ROOT / "data" / "faqs"
MESSAGES = 20_000
ROUNDS = 3  # throughput: the median of three timed passes


def load_labelled(path: Path = LABELLED) -> list[dict[str, Any]]:
    """The labelled examples: {"text", "spans": [{"kind", "start", "end"}]}."""
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def clean_messages() -> list[str]:
    """Realistic citizen messages without personal data: evaluation queries, then FAQ questions
    and variants."""
    texts: list[str] = []
    for path in sorted(EVAL_DIR.glob("*.dev.jsonl")) if EVAL_DIR.exists() else []:
        texts += [
            json.loads(line)["text"]
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    for path in sorted(FAQ_DIR.glob("*.yml")):
        for faq in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("faqs", []):
            texts += [faq["question"], *faq.get("alternatives", [])]
    return list(dict.fromkeys(t for t in texts if t and t.strip()))


def quality(labelled: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision and recall overall and per kind (exact kind and span), with the counts
    behind them."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for example in labelled:
        expected = {(s["kind"], s["start"], s["end"]) for s in example["spans"]}
        got = {(f.kind, f.start, f.end) for f in find(example["text"])}
        for kind, *_ in expected & got:
            tp[kind] += 1
        for kind, *_ in got - expected:
            fp[kind] += 1
        for kind, *_ in expected - got:
            fn[kind] += 1
    per_kind = {}
    for kind in KINDS:
        t, p, n = tp[kind], fp[kind], fn[kind]
        per_kind[kind] = {
            "precision": t / (t + p) if t + p else 1.0,
            "recall": t / (t + n) if t + n else 1.0,
            "tp": t,
            "fp": p,
            "fn": n,
            "labelled": t + n,
        }
    overall = score(labelled)
    assert (overall["tp"], overall["fp"], overall["fn"]) == (
        sum(tp.values()),
        sum(fp.values()),
        sum(fn.values()),
    )
    return {
        "overall": overall,
        "per_kind": per_kind,
        "examples": len(labelled),
        "without_personal_data": sum(1 for e in labelled if not e["spans"]),
    }


def throughput(texts: list[str], n: int = MESSAGES, rounds: int = ROUNDS) -> dict[str, float]:
    """`redact` over `texts` repeated to `n` messages: messages per second (median of `rounds`
    passes) and microseconds per message."""
    messages = (texts * (n // len(texts) + 1))[:n]
    redact(messages[0])  # compile the patterns outside the timing
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for message in messages:
            redact(message)
        rates.append(n / (time.perf_counter() - started))
    rate = statistics.median(rates)
    return {
        "messages": n,
        "messages_per_s": rate,
        "us_per_message": 1e6 / rate,
        "mean_chars": sum(map(len, messages)) / n,
    }


def latency(texts: list[str], passes: int = 5) -> dict[str, float]:
    """Milliseconds `find` takes per message: p50, p95, p99 over `passes` passes of `texts`."""
    find(texts[0])  # build the analyzer outside the timing
    times = []
    for _ in range(passes):
        for text in texts:
            started = time.perf_counter()
            find(text)
            times.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(times, n=100)
    return {"messages": len(times), "p50_ms": cuts[49], "p95_ms": cuts[94], "p99_ms": cuts[98]}


_MEMORY_PROBE = """
import json, psutil
process = psutil.Process()
before = process.memory_info().rss
from bot.privacy.redact import redact
redact("my name is Kevin Tremblay, born June 2, 1961, NAS 046 454 286")
print(json.dumps({"before_mb": before / 2**20, "after_mb": process.memory_info().rss / 2**20}))
"""


def memory() -> dict[str, float]:
    """Resident memory of a fresh interpreter before and after it builds the redactor, in MiB."""
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE], capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["added_mb"] = figures["after_mb"] - figures["before_mb"]
    return figures


def language_after_redaction(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Of the labelled messages with personal data, how many the language detector gets right
    (against the set's `lang`) before and after redaction."""
    from bot.language import LanguageDetector

    detector = LanguageDetector()
    personal = [r for r in rows if r["spans"]]
    return {
        "messages": len(personal),
        "right_before": sum(detector.detect(r["text"]).language == r["lang"] for r in personal),
        "right_after": sum(
            detector.detect(redact(r["text"])).language == r["lang"] for r in personal
        ),
    }


def personal_values() -> dict[str, Any]:
    """Issue 11's figures: per-kind recall and false positives on both splits, latency, memory."""
    rows = {split: load_values(path) for split, path in SPLITS.items()}
    return {
        **{split: measure_values(split_rows).as_dict() for split, split_rows in rows.items()},
        "latency": latency([r["text"] for split_rows in rows.values() for r in split_rows]),
        "memory": memory(),
        "language": language_after_redaction(
            [r for split_rows in rows.values() for r in split_rows]
        ),
    }


def measure() -> dict[str, Any]:
    """Redaction quality on the labelled set, and throughput on personal-data-dense and on
    clean messages."""
    labelled = load_labelled()
    clean = clean_messages()
    return {
        "values": personal_values(),
        "quality": quality(labelled),
        "throughput_labelled": throughput([e["text"] for e in labelled]),
        "throughput_clean": {
            **throughput(clean),
            "distinct": len(clean),
            "flagged": sum(1 for t in clean if redact(t) != t),
        },
    }


def _print(results: dict[str, Any]) -> None:
    values = results["values"]
    for split in SPLITS:
        v = values[split]
        print(
            f"{split}: recall {v['recall']:.3f}, false positives {v['false_positive_rate']:.3f} "
            f"of {v['messages_without_personal_data']} messages without personal data"
        )
        for kind, m in v["per_kind"].items():
            print(f"  {kind:13s} {m['values']:4d} values  recall {m['recall']:.3f}")
    print("latency:", values["latency"], "memory:", values["memory"])
    q = results["quality"]
    overall = q["overall"]
    print(
        f"labelled set: {q['examples']} messages ({q['without_personal_data']} without "
        "personal data)"
    )
    print(
        f"overall: precision {overall['precision']:.3f}  recall {overall['recall']:.3f}  "
        f"(tp {overall['tp']}, fp {overall['fp']}, fn {overall['fn']})"
    )
    for kind, m in q["per_kind"].items():
        print(
            f"  {kind:8s} precision {m['precision']:.3f}  recall {m['recall']:.3f}  "
            f"(labelled {m['labelled']}, tp {m['tp']}, fp {m['fp']}, fn {m['fn']})"
        )
    for name in ("throughput_labelled", "throughput_clean"):
        t = results[name]
        extra = (
            f", {t['flagged']} of {t['distinct']} distinct messages changed"
            if "flagged" in t
            else ""
        )
        print(
            f"{name}: {t['messages_per_s']:,.0f} messages/s ({t['us_per_message']:.1f} µs per "
            f"message, {t['mean_chars']:.0f} characters on average, "
            f"{t['messages']:,} messages{extra})"
        )


if __name__ == "__main__":
    figures = measure()
    if "--json" in sys.argv[1:]:
        print(json.dumps(figures))
    else:
        _print(figures)
