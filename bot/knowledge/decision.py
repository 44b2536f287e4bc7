"""The answer decision: answer, offer the closest questions, or offer a person.

A wrong answer is worse than "I am not sure", so the bot answers only when the top FAQ is clearly
ahead of the runner-up (margin of fused z-scores, which transfers across knowledge bases of any
size) AND close in meaning to the question (raw e5 cosine, which rejects questions the bank does not
cover at all: a margin alone still answers a third of off-topic questions). Below the answer bar it
offers the closest questions when they are at least loosely related, else a person.
Calibration: docs/retrieval.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.knowledge.index import Hit


class Outcome(str, Enum):
    """What the bot does with a question."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    HANDOFF = "handoff"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Calibrated cut-offs: top-1/top-2 margin and top cosine to answer; cosine to offer choices."""

    answer_margin: float = 0.52
    answer_cosine: float = 0.88
    clarify_cosine: float = 0.85
    # One or two words ("permit", "lost card") name a topic, not a question: offer choices instead.
    answer_min_words: int = 3


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome, the FAQ to answer with (if any) and the ranked candidates behind it."""

    outcome: Outcome
    faq_id: str | None
    candidates: tuple[Hit, ...]

    @property
    def choices(self) -> tuple[str, ...]:
        """FAQ ids to offer in a "Did you mean" list."""
        return tuple(hit.faq_id for hit in self.candidates[:3])


def confident(hits: list[Hit], thresholds: Thresholds, words: int = 99) -> bool:
    """True when the top hit is strong enough and far enough ahead to answer outright."""
    if not hits or words < thresholds.answer_min_words:
        return False
    margin = hits[0].score - hits[1].score if len(hits) > 1 else float("inf")
    return margin >= thresholds.answer_margin and hits[0].cosine >= thresholds.answer_cosine


def decide(hits: list[Hit], thresholds: Thresholds, question: str = "") -> Decision:
    """Turn a ranking for `question` into the bot's move."""
    if confident(hits, thresholds, len(question.split()) if question else 99):
        return Decision(Outcome.ANSWER, hits[0].faq_id, tuple(hits))
    if hits and hits[0].cosine >= thresholds.clarify_cosine:
        return Decision(Outcome.CLARIFY, None, tuple(hits))
    return Decision(Outcome.HANDOFF, None, tuple(hits))
