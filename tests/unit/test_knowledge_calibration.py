"""Self-calibrating answer thresholds: leave-one-FAQ-out pseudo-queries, the chosen margin, and
persistence beside the index."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from bot.knowledge.calibration import (
    ANSWER_COSINE,
    MARGIN_RANGE,
    MIN_PSEUDO_QUERIES,
    PseudoQuery,
    Search,
    choose_thresholds,
    load_or_calibrate,
    pseudo_queries,
)
from bot.knowledge.decision import Thresholds
from bot.knowledge.faq import Faq
from bot.knowledge.index import Hit
from bot.knowledge.service import thresholds_from
from bot.settings import Settings


def _faqs(count: int) -> list[Faq]:
    return [
        Faq(f"faq-{i}", "agency", "en", f"How do I apply for permit number {i}?", "Online.")
        for i in range(count)
    ]


def _answered(samples: list[PseudoQuery], thresholds: Thresholds) -> float:
    passed = [
        s
        for s in samples
        if s.margin >= thresholds.answer_margin
        and s.cosine >= thresholds.answer_cosine
        and s.words >= thresholds.answer_min_words
    ]
    return len(passed) / len(samples)


def each(single: Callable[[str, str], list[Hit]]) -> Search:
    """A batch search over a one-query search function."""
    return lambda queries: [single(text, language) for text, language in queries]


def test_the_margin_is_the_lowest_that_answers_at_most_the_target_share() -> None:
    samples = [PseudoQuery(margin=i / 100, cosine=0.95, words=6) for i in range(1, 101)]
    chosen = choose_thresholds(samples, impostor_rate=0.2)
    assert _answered(samples, chosen) == 0.2
    lower = Thresholds(chosen.answer_margin - 0.011, chosen.answer_cosine, chosen.clarify_cosine)
    assert _answered(samples, lower) > 0.2, "a lower margin would answer more impostors"


def test_impostors_below_the_cosine_floor_or_too_short_do_not_raise_the_margin() -> None:
    strong = [PseudoQuery(margin=2.0, cosine=0.95, words=6) for _ in range(10)]
    off_topic = [PseudoQuery(margin=2.5, cosine=ANSWER_COSINE - 0.1, words=6) for _ in range(30)]
    too_short = [PseudoQuery(margin=2.5, cosine=0.95, words=2) for _ in range(30)]
    weak = [PseudoQuery(margin=0.5, cosine=0.95, words=6) for _ in range(30)]
    chosen = choose_thresholds(strong + off_topic + too_short + weak, impostor_rate=0.2)
    # 100 samples, 20 may pass: the 10 strong ones pass, the weak ones must not.
    assert 0.5 < chosen.answer_margin <= 2.0


def test_too_few_pseudo_queries_keep_the_defaults_and_the_margin_is_bounded() -> None:
    few = [PseudoQuery(margin=9.0, cosine=0.99, words=6)] * (MIN_PSEUDO_QUERIES - 1)
    assert choose_thresholds(few) == Thresholds()
    huge = [PseudoQuery(margin=9.0, cosine=0.99, words=6)] * 50
    assert choose_thresholds(huge).answer_margin == MARGIN_RANGE[1]
    tiny = [PseudoQuery(margin=0.01, cosine=0.99, words=6)] * 50
    assert choose_thresholds(tiny).answer_margin == MARGIN_RANGE[0]


def test_calibrated_on_one_half_of_a_synthetic_bank_it_holds_on_the_other_half() -> None:
    rng = random.Random(7)
    faqs = _faqs(400)
    scores = {f.id: sorted((rng.gauss(0, 1) for _ in range(6)), reverse=True) for f in faqs}

    def search(text: str, language: str) -> list[Hit]:
        own = next(f for f in faqs if f.question == text)
        # Its own FAQ ranks first, as a paraphrase would; the others follow with noisy scores.
        rest = [Hit(f"other-{i}", s, 0.9) for i, s in enumerate(scores[own.id])]
        return [Hit(own.id, 9.0, 0.99), *rest]

    fitted = pseudo_queries(faqs[:200], each(search))
    held_out = pseudo_queries(faqs[200:], each(search))
    assert len(fitted) == 200 and all(s.cosine == 0.9 for s in fitted), "own FAQ left out"
    chosen = choose_thresholds(fitted, impostor_rate=0.2)
    assert _answered(fitted, chosen) <= 0.2
    assert _answered(held_out, chosen) <= 0.27


def test_the_sample_of_a_big_bank_moves_by_one_faq_when_one_is_added() -> None:
    asked: list[list[str]] = []

    def search(text: str, language: str) -> list[Hit]:
        asked[-1].append(text)
        return [Hit("a", 1.0, 0.9), Hit("b", 0.5, 0.9)]

    faqs = _faqs(900)
    for bank in (faqs, [*faqs, Faq("new", "agency", "en", "Where do I vote?", "Online.")]):
        asked.append([])
        pseudo_queries(bank, each(search))
    assert len(asked[1]) == 300 and len(set(asked[0]) - set(asked[1])) <= 1


def test_pseudo_queries_sample_from_big_banks() -> None:
    asked: list[str] = []

    def search(text: str, language: str) -> list[Hit]:
        asked.append(text)
        return [Hit("a", 1.0, 0.9), Hit("b", 0.5, 0.9)]

    found = pseudo_queries(_faqs(900), each(search))
    assert len(asked) == 300 and len(set(asked)) == 300
    assert found[0] == PseudoQuery(0.5, 0.9, 8)


def test_the_calibration_is_persisted_and_recomputed_only_when_the_index_changes(
    tmp_path: Path,
) -> None:
    rng = random.Random(3)
    calls: list[str] = []

    def search(text: str, language: str) -> list[Hit]:
        calls.append(text)
        return [Hit("x", 1.0 + rng.random(), 0.95), Hit("y", 1.0, 0.95)]

    faqs = _faqs(40)
    key: dict[str, object] = {"format": 5, "kb_hash": "abc", "models": ["m"]}
    first = load_or_calibrate(tmp_path, key, faqs, each(search))
    assert len(calls) == 40 and first.pseudo_queries == 40
    stored = json.loads((tmp_path / "calibration.json").read_text())
    assert stored["thresholds"]["answer_margin"] == first.thresholds.answer_margin

    again = load_or_calibrate(tmp_path, key, faqs, each(search))
    assert again == first and len(calls) == 40, "an unchanged index reuses its calibration"

    load_or_calibrate(tmp_path, {**key, "kb_hash": "def"}, faqs, each(search))
    assert len(calls) == 80, "a changed bank is calibrated again"


def test_settings_override_only_the_thresholds_they_set() -> None:
    calibrated = Thresholds(answer_margin=1.1, answer_cosine=0.86, clarify_cosine=0.85)
    assert thresholds_from(Settings(), calibrated) == calibrated
    fixed = thresholds_from(Settings(answer_margin=0.6), calibrated)
    assert fixed == Thresholds(answer_margin=0.6, answer_cosine=0.86, clarify_cosine=0.85)
