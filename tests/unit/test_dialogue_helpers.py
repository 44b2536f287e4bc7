"""Small pieces of the dialogue: picking from a list, cleaning text, language detection,
the decision."""

from __future__ import annotations

import pytest

from actions.choices import pick
from bot.knowledge.decision import Outcome, Thresholds, decide
from bot.knowledge.index import Hit
from bot.language import LanguageDetector, requested_language
from connectors.text import clean

OFFERED = ["faq-a", "faq-b", "faq-c"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2", "faq-b"),
        ("option 3", "faq-c"),
        ("the second one", "faq-b"),
        ("le premier", "faq-a"),
        ("numéro 2", "faq-b"),
        ("4", None),
        ("I have 2 kids and 3 cars", None),
        ("how do I renew", None),
    ],
)
def test_pick_understands_numbers_and_ordinals(text: str, expected: str | None) -> None:
    assert pick(text, OFFERED) == expected


def test_clean_strips_control_characters_and_checks_limits() -> None:
    assert clean("he\x00llo\x07\n", 100).text == "hello"
    assert clean("\x00 \t", 100).problem == "empty"
    too_long = clean("é" * 101, 100)
    assert too_long.problem == "too_long" and len(too_long.text) == 100
    assert clean("مرحبا 😀", 100).text == "مرحبا 😀"


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(
    "text, language",
    [
        ("How do I renew my driver's licence?", "en"),
        ("Comment renouveler mon permis de conduire?", "fr"),
        ("merci", "fr"),
        ("thanks", "en"),
        ("¿Cómo renuevo mi licencia de conducir?", "other"),
        ("如何更新我的驾照？", "other"),
        ("ok", None),
        ("2", None),
    ],
)
def test_language_detection(detector: LanguageDetector, text: str, language: str | None) -> None:
    assert detector.detect(text).language == language


def test_explicit_language_requests() -> None:
    assert requested_language("en français svp") == "fr"
    assert requested_language("English please") == "en"
    assert requested_language("How do I renew?") is None


def hits(*pairs: tuple[float, float]) -> list[Hit]:
    return [Hit(f"faq-{i}", score, cosine) for i, (score, cosine) in enumerate(pairs)]


def test_decision_answers_only_when_clear_and_close() -> None:
    t = Thresholds(answer_margin=0.5, answer_cosine=0.88, clarify_cosine=0.85)
    assert decide(hits((3.0, 0.92), (2.0, 0.90)), t).outcome is Outcome.ANSWER
    assert (
        decide(hits((3.0, 0.92), (2.8, 0.91)), t).outcome is Outcome.CLARIFY
    )  # runner-up too close
    assert (
        decide(hits((3.0, 0.86), (1.0, 0.80)), t).outcome is Outcome.CLARIFY
    )  # not close enough in meaning
    assert decide(hits((3.0, 0.80), (1.0, 0.70)), t).outcome is Outcome.HANDOFF  # nothing related
    assert decide([], t).outcome is Outcome.HANDOFF
    assert (
        decide(hits((3.0, 0.92), (2.0, 0.90)), t, "permit").outcome is Outcome.CLARIFY
    )  # a topic, not a question
    assert (
        decide(hits((3.0, 0.92), (2.0, 0.90)), t, "building permit fees").outcome is Outcome.ANSWER
    )
    assert decide(hits((3.0, 0.86), (2.9, 0.85), (2.0, 0.8), (1.0, 0.7)), t).choices == (
        "faq-0",
        "faq-1",
        "faq-2",
    )
