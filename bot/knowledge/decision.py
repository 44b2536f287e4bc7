"""The answer decision: answer, offer the closest questions, or offer a person.

A wrong answer is worse than "I am not sure", so the bot answers only when the top FAQ is both strong
(fused score) and clearly ahead of the runner-up (margin). Thresholds are calibrated on labelled
queries with `govbot eval --calibrate` (see docs/retrieval.md); the defaults below come from that.
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
    """Calibrated cut-offs on the fused score and on the top-1/top-2 margin."""

    answer_score: float = 5.0
    answer_margin: float = 0.8
    clarify_score: float = 2.5


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


def confident(hits: list[Hit], thresholds: Thresholds) -> bool:
    """True when the top hit is strong enough and far enough ahead to answer outright."""
    if not hits:
        return False
    margin = hits[0].score - hits[1].score if len(hits) > 1 else hits[0].score
    return hits[0].score >= thresholds.answer_score and margin >= thresholds.answer_margin


def decide(hits: list[Hit], thresholds: Thresholds) -> Decision:
    """Turn a ranking into the bot's move."""
    if confident(hits, thresholds):
        return Decision(Outcome.ANSWER, hits[0].faq_id, tuple(hits))
    if hits and hits[0].score >= thresholds.clarify_score:
        return Decision(Outcome.CLARIFY, None, tuple(hits))
    return Decision(Outcome.HANDOFF, None, tuple(hits))
