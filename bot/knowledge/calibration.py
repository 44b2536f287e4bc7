"""Self-calibrating answer thresholds, chosen at index build from the bank itself.

An agency installs the bot with its own FAQs and no labelled questions, so the answer bar cannot be
tuned on citizens' queries. Instead each FAQ's question is asked with that FAQ left out of the
ranking ("leave one FAQ out"): whatever comes first is, by construction, a wrong answer to a
question close to the bank's own topics, the mistake that matters most. The answer margin is set
so that at most `IMPOSTOR_RATE` of these questions would be answered. A bank of near-duplicate
FAQs (small margins between neighbours) gets a higher bar than one of well-separated FAQs, with
no per-collection setting. Measured (leave one collection out) in docs/retrieval.md.

The result is written next to the index as `calibration.json`, keyed like the index manifest, and
recomputed only when the bank or the models change.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.knowledge.decision import Thresholds
from bot.knowledge.faq import Faq
from bot.knowledge.index import Hit

VERSION = 1
# Share of leave-one-FAQ-out questions the bot may still answer (always wrongly). Chosen by
# leave-one-collection-out on the three dev collections: 0.20 keeps answered precision >= 0.95
# on each held-out one (docs/retrieval.md).
IMPOSTOR_RATE = 0.20
# The cosine floors stay fixed: they keep off-topic questions (the bank does not cover them at
# all) unanswered, which leave-one-FAQ-out questions, being on-topic, cannot measure. 0.86 would
# answer 2-3 points more on-topic questions but more off-topic ones too (docs/retrieval.md).
ANSWER_COSINE = 0.88
CLARIFY_COSINE = 0.85
# Bounds on the learned margin, for very small or odd banks.
MARGIN_RANGE = (0.4, 3.0)
# Fewer pseudo-queries than this and the estimate is noise: keep the shipped defaults.
MIN_PSEUDO_QUERIES = 20
# At most this many FAQs (a fixed pseudo-random sample) are asked, so calibration stays cheap on
# big banks.
MAX_PSEUDO_QUERIES = 300

# Ranks many (question, language) pairs at once.
Search = Callable[[list[tuple[str, str]]], list[list[Hit]]]


@dataclass(frozen=True, slots=True)
class Calibration:
    """The calibrated thresholds and what they were derived from."""

    thresholds: Thresholds
    pseudo_queries: int
    impostor_rate: float

    def to_json(self) -> dict[str, object]:
        """The persisted form."""
        return {
            "thresholds": asdict(self.thresholds),
            "pseudo_queries": self.pseudo_queries,
            "impostor_rate": self.impostor_rate,
        }

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> Calibration:
        """Read back what `to_json` wrote."""
        fields = raw["thresholds"]
        if not isinstance(fields, dict):
            raise TypeError("bad calibration")
        return cls(
            Thresholds(**fields),
            int(str(raw["pseudo_queries"])),
            float(str(raw["impostor_rate"])),
        )


@dataclass(frozen=True, slots=True)
class PseudoQuery:
    """One leave-one-FAQ-out question: the margin and cosine the bot would have acted on."""

    margin: float
    cosine: float
    words: int


def _draw(faq: Faq) -> str:
    """A fixed pseudo-random rank per FAQ: a sample drawn by it changes by at most one FAQ when
    one FAQ is added or removed, so a rebuild re-encodes at most one question."""
    return hashlib.sha1(faq.id.encode()).hexdigest()


def pseudo_queries(faqs: Sequence[Faq], search: Search) -> list[PseudoQuery]:
    """Ask each FAQ's question (a sample of at most MAX_PSEUDO_QUERIES, drawn by a hash of each
    FAQ's id) with that FAQ removed from its ranking."""
    picked = sorted(faqs, key=_draw)[:MAX_PSEUDO_QUERIES]
    found = []
    rankings = search([(faq.question, faq.language) for faq in picked])
    for faq, ranking in zip(picked, rankings):
        hits = [h for h in ranking if h.faq_id != faq.id]
        if len(hits) >= 2:
            margin = hits[0].score - hits[1].score
            found.append(PseudoQuery(margin, hits[0].cosine, len(faq.question.split())))
    return found


def choose_thresholds(
    samples: list[PseudoQuery], impostor_rate: float = IMPOSTOR_RATE
) -> Thresholds:
    """The lowest answer margin that answers at most `impostor_rate` of `samples`, given the
    fixed cosine floor and minimum length; the shipped defaults when there are too few."""
    if len(samples) < MIN_PSEUDO_QUERIES:
        return Thresholds()
    base = Thresholds(answer_cosine=ANSWER_COSINE, clarify_cosine=CLARIFY_COSINE)
    passing = sorted(
        (
            s.margin
            for s in samples
            if s.cosine >= base.answer_cosine and s.words >= base.answer_min_words
        ),
        reverse=True,
    )
    allowed = int(impostor_rate * len(samples))  # this many may pass; the next one must not
    # Just above the first impostor that must not pass, rounded up to 4 decimals.
    margin = math.floor(passing[allowed] * 1e4 + 1) / 1e4 if allowed < len(passing) else 0.0
    low, high = MARGIN_RANGE
    return Thresholds(
        answer_margin=min(max(margin, low), high),
        answer_cosine=base.answer_cosine,
        clarify_cosine=base.clarify_cosine,
    )


def calibrate(faqs: Sequence[Faq], search: Search) -> Calibration:
    """Calibrate the answer thresholds of a bank through its own search."""
    samples = pseudo_queries(faqs, search)
    return Calibration(choose_thresholds(samples), len(samples), IMPOSTOR_RATE)


def load_or_calibrate(
    directory: Path, key: dict[str, object], faqs: Sequence[Faq], search: Search
) -> Calibration:
    """The calibration persisted in `directory` for `key` (the index manifest), else a new one,
    written under a temporary name and renamed (as the index files are)."""
    path = directory / "calibration.json"
    key = {**key, "calibration": VERSION, "rate": IMPOSTOR_RATE, "cosine": ANSWER_COSINE}
    try:
        raw = json.loads(path.read_text())
        if raw.get("key") == key:
            return Calibration.from_json(raw)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    calibration = calibrate(faqs, search)
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f"calibration.json.{os.getpid()}.{threading.get_ident()}.tmp"
    temporary.write_text(json.dumps({"key": key, **calibration.to_json()}))
    os.replace(temporary, path)
    return calibration
