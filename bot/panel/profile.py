"""The panel's optional profile (area, age band; the language comes from the citizen's keyword),
as two optional single-choice questions read from data/panel/profile.yml."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.panel.definition import Option, Question, SurveyError

DIMENSIONS = ("area", "age_band", "language")


# Each profile question: its key (the member's column), the file's list, and its words.
ASKED = (
    ("area", "areas", "Where do you live?", "Où habitez-vous?"),
    ("age_band", "age_bands", "Your age?", "Votre âge?"),
)


def profile_questions(path: Path) -> list[Question]:
    """The profile questions, in the order they are asked (one whose list in the file has fewer
    than two choices is not asked)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        choices = {
            key: [Option.model_validate(o) for o in data.get(listed) or []]
            for key, listed, _, _ in ASKED
        }
    except (OSError, yaml.YAMLError, ValueError, AttributeError) as exc:
        raise SurveyError(f"{path}: {exc}") from exc
    return [
        Question(key=key, kind="single", en=en, fr=fr, options=choices[key], optional=True)
        for key, _, en, fr in ASKED
        if len(choices[key]) >= 2
    ]
