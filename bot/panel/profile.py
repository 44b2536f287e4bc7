"""The panel's optional profile (area, age band; the language comes from the citizen's keyword),
as two optional single-choice questions read from data/panel/profile.yml."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.panel.definition import Option, Question, SurveyError

DIMENSIONS = ("area", "age_band", "language")


def profile_questions(path: Path) -> list[Question]:
    """The profile questions, in the order they are asked."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        areas = [Option.model_validate(o) for o in data.get("areas") or []]
        bands = [Option.model_validate(o) for o in data.get("age_bands") or []]
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise SurveyError(f"{path}: {exc}") from exc
    questions = []
    if len(areas) >= 2:
        questions.append(
            Question(
                key="area",
                kind="single",
                en="Where do you live?",
                fr="Où habitez-vous?",
                options=areas,
                optional=True,
            )
        )
    if len(bands) >= 2:
        questions.append(
            Question(
                key="age_band",
                kind="single",
                en="Your age?",
                fr="Votre âge?",
                options=bands,
                optional=True,
            )
        )
    return questions
