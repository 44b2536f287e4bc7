"""How well the redactor does on labelled messages, the way a privacy officer counts: per personal
value, is it gone from what is kept?

A labelled value is *caught* when every letter and digit of it lies inside some finding, apart
from the cue words a labeller may include ("transit 02107", "Mrs. Kowalski"), and *typed* when a
finding of its own kind covers part of it. False positives are counted per message: a message
without personal data that the redactor changes at all. Labelled sets:
tests/fixtures/redaction/dev.jsonl (for development) and test.jsonl (held out, scored at the end);
both were written alongside the code, which flatters them (docs/privacy.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.privacy.redact import Finding, find

# Words a labeller may put inside a value that are not themselves personal.
_CUE_WORDS = frozenset(
    {"transit", "institution", "account", "acct", "compte", "folio", "succursale", "branch"}
    | {"inst", "bank", "banque", "number", "numero", "no", "the"}
    | {"mr", "mrs", "ms", "miss", "dr", "m", "mme", "mlle", "madame", "monsieur"}
)
# Labels kept apart in the sets whose values the redactor reports under one kind.
_SAME_AS = {"postal_code": "address"}


@dataclass
class Quality:
    """Counts over a labelled set: per kind, values labelled, caught and typed; messages without
    personal data, and how many of them were changed."""

    labelled: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    typed: Counter[str] = field(default_factory=Counter)
    clean_messages: int = 0
    false_alarms: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    def recall(self, kind: str | None = None) -> float:
        """Share of labelled values caught (of `kind`, or of all)."""
        total = self.labelled[kind] if kind else sum(self.labelled.values())
        got = self.caught[kind] if kind else sum(self.caught.values())
        return got / total if total else 1.0

    def false_positive_rate(self) -> float:
        """Share of messages without personal data that the redactor changed."""
        return self.false_alarms / self.clean_messages if self.clean_messages else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "recall": round(self.recall(), 4),
            "false_positive_rate": round(self.false_positive_rate(), 4),
            "messages_without_personal_data": self.clean_messages,
            "per_kind": {
                kind: {
                    "values": self.labelled[kind],
                    "recall": round(self.recall(kind), 4),
                    "typed": round(self.typed[kind] / self.labelled[kind], 4),
                }
                for kind in sorted(self.labelled)
            },
        }


def load(path: Path) -> list[dict[str, Any]]:
    """A labelled set: {"id", "lang", "text", "spans": [{"kind", "start", "end", "value"}]}."""
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _caught(text: str, start: int, end: int, findings: list[Finding]) -> bool:
    covered = [False] * len(text)
    for finding in findings:
        covered[finding.start : finding.end] = [True] * (finding.end - finding.start)
    return all(
        all(covered[start + m.start() : start + m.end()])
        for m in re.finditer(r"\w+", text[start:end])
        if m.group().lower() not in _CUE_WORDS
    )


def measure(rows: list[dict[str, Any]]) -> Quality:
    """Run the redactor over labelled `rows` and count as described above."""
    quality = Quality()
    for row in rows:
        text, findings = row["text"], find(row["text"])
        if not row["spans"]:
            quality.clean_messages += 1
            quality.false_alarms += bool(findings)
            continue
        for span in row["spans"]:
            kind, start, end = span["kind"], span["start"], span["end"]
            quality.labelled[kind] += 1
            if _caught(text, start, end, findings):
                quality.caught[kind] += 1
            else:
                quality.misses.append({"id": row.get("id"), "kind": kind, "value": text[start:end]})
            same = _SAME_AS.get(kind, kind)
            if any(f.kind == same and f.start < end and start < f.end for f in findings):
                quality.typed[kind] += 1
    return quality
