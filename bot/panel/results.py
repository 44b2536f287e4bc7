"""A wave's results, read from the tallies: per question, overall and by profile group (area, age
band, language), with every group under MIN_GROUP respondents suppressed; free text (already
redacted) only where the question has MIN_GROUP respondents or more; a CSV of the same cells; and
the public "you said, we did" summary of a published wave (closed questions, overall only).

Suppression also hides a second group where only one group of a dimension would be hidden, so that
no hidden count can be worked out from the total minus the others.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from bot.panel.answers import RESPONDENT
from bot.panel.definition import Question, Survey
from bot.panel.profile import DIMENSIONS
from bot.storage.db import Database
from bot.storage.models import PanelAnswer, PanelSurvey, PanelTally, PanelWave

MIN_GROUP = 10
MAX_TEXTS = 200
CSV_COLUMNS = (
    "wave",
    "question",
    "dimension",
    "group",
    "choice",
    "respondents",
    "count",
    "share",
    "suppressed",
)


class NotFound(LookupError):
    """No such wave (or, for the public, no published one)."""


def _cells(question: Question, counts: dict[str, int], language: str) -> list[dict[str, Any]]:
    total = counts.get(RESPONDENT, 0)
    return [
        {
            "choice": choice,
            "label": question.label(choice, language),
            "count": counts.get(choice, 0),
            "share": round(counts.get(choice, 0) / total, 3) if total else 0.0,
        }
        for choice in question.choices()
    ]


def _mean(question: Question, counts: dict[str, int]) -> float | None:
    total = counts.get(RESPONDENT, 0)
    if question.kind != "scale" or not total:
        return None
    answered = sum(counts.get(c, 0) for c in question.choices())
    if not answered:
        return None
    return round(sum(int(c) * counts.get(c, 0) for c in question.choices()) / answered, 2)


def suppressed_groups(sizes: dict[str, int]) -> set[str]:
    """The groups of one dimension to hide: each under MIN_GROUP, and, when that is only one
    group, the next smallest too (its size could otherwise be worked out from the total)."""
    hidden = {g for g, n in sizes.items() if n < MIN_GROUP}
    shown = sorted((n, g) for g, n in sizes.items() if g not in hidden)
    if len(hidden) == 1 and shown:
        hidden.add(shown[0][1])
    return hidden


LANGUAGE_NAMES = {
    "en": {"en": "English", "fr": "French"},
    "fr": {"en": "anglais", "fr": "français"},
}
NOT_GIVEN = {"en": "Not given", "fr": "Non précisé"}


class Results:
    """Reads results of waves; `profile` (the profile questions) names the groups."""

    def __init__(self, db: Database, profile: list[Question] | None = None) -> None:
        self._db = db
        self._profile = {q.key: q for q in profile or []}

    def _group_label(self, dimension: str, group: str, language: str) -> str:
        if not group:
            return NOT_GIVEN.get(language, NOT_GIVEN["en"])
        if dimension == "language":
            return LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["en"]).get(group, group)
        question = self._profile.get(dimension)
        return question.label(group, language) if question else group

    def _load(
        self, wave_id: int
    ) -> tuple[PanelWave, Survey, dict[tuple[str, str, str], dict[str, int]]]:
        with self._db.session() as session:
            wave = session.get(PanelWave, wave_id)
            if wave is None:
                raise NotFound(f"no wave {wave_id}")
            stored = session.get(PanelSurvey, wave.survey_id)
            assert stored is not None
            survey = Survey.model_validate(stored.definition)
            tallies: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
            for t in session.scalars(select(PanelTally).where(PanelTally.wave_id == wave_id)):
                tallies[(t.question, t.dimension, t.grp)][t.choice] = t.count
            session.expunge(wave)
            return wave, survey, tallies

    def _texts(self, wave_id: int, question: str) -> list[str]:
        with self._db.session() as session:
            return list(
                session.scalars(
                    select(PanelAnswer.text)
                    .where(
                        PanelAnswer.wave_id == wave_id,
                        PanelAnswer.question == question,
                        PanelAnswer.text.is_not(None),
                    )
                    .order_by(PanelAnswer.id)
                    .limit(MAX_TEXTS)
                )
            )

    def wave(self, wave_id: int, language: str = "en") -> dict[str, Any]:
        """Every question's results, with small groups suppressed (for supervisors)."""
        wave, survey, tallies = self._load(wave_id)
        questions = []
        for q in survey.questions:
            overall = tallies.get((q.key, "all", ""), {})
            respondents = overall.get(RESPONDENT, 0)
            shown = respondents >= MIN_GROUP
            by: dict[str, list[dict[str, Any]]] = {}
            for dimension in DIMENSIONS:
                sizes = {
                    grp: counts.get(RESPONDENT, 0)
                    for (key, dim, grp), counts in tallies.items()
                    if key == q.key and dim == dimension
                }
                hidden = suppressed_groups(sizes) if shown else set(sizes)
                by[dimension] = [
                    {
                        "group": grp,
                        "label": self._group_label(dimension, grp, language),
                        "suppressed": grp in hidden,
                        "respondents": None if grp in hidden else sizes[grp],
                        "cells": None
                        if grp in hidden
                        else _cells(q, tallies[(q.key, dimension, grp)], language),
                        "mean": None
                        if grp in hidden
                        else _mean(q, tallies[(q.key, dimension, grp)]),
                    }
                    for grp in sorted(sizes)
                ]
            questions.append(
                {
                    "key": q.key,
                    "kind": q.kind,
                    "text": q.text(language),
                    "suppressed": not shown,
                    "respondents": respondents if shown else None,
                    "cells": _cells(q, overall, language) if shown else None,
                    "mean": _mean(q, overall) if shown else None,
                    "groups": by,
                    "texts": self._texts(wave_id, q.key) if shown and q.kind == "text" else [],
                }
            )
        return {
            "wave": wave.id,
            "title": survey.title,
            "state": wave.state,
            "invited": wave.invited,
            "min_group": MIN_GROUP,
            "published": wave.published,
            "we_did_en": wave.we_did_en,
            "we_did_fr": wave.we_did_fr,
            "questions": questions,
        }

    def csv(self, wave_id: int) -> str:
        """The results as CSV: one row per question, group and choice; a suppressed group is one
        row without counts."""
        data = self.wave(wave_id)
        out = io.StringIO()
        writer = csv.DictWriter(out, CSV_COLUMNS, restval="")
        writer.writeheader()
        for q in data["questions"]:
            overall = {k: q[k] for k in ("suppressed", "respondents", "cells")} | {"group": ""}
            groups = [("all", overall)]
            groups += [(dimension, g) for dimension, gs in q["groups"].items() for g in gs]
            for dimension, g in groups:
                row = {
                    "wave": data["wave"],
                    "question": q["key"],
                    "dimension": dimension,
                    "group": g["group"],
                    "respondents": "" if g["respondents"] is None else g["respondents"],
                    "suppressed": "yes" if g["suppressed"] else "no",
                }
                if g["suppressed"] or not g["cells"]:
                    writer.writerow(row)
                    continue
                for cell in g["cells"]:
                    writer.writerow(
                        row
                        | {"choice": cell["choice"], "count": cell["count"], "share": cell["share"]}
                    )
        return out.getvalue()

    def public(self, wave_id: int, language: str) -> dict[str, Any]:
        """The "you said, we did" summary of a published wave."""
        data = self.wave(wave_id, language)
        if not data["published"]:
            raise NotFound(f"no published wave {wave_id}")
        we_did = (data["we_did_fr"] if language == "fr" else None) or data["we_did_en"]
        return {
            "wave": data["wave"],
            "title": data["title"],
            "min_group": MIN_GROUP,
            "we_did": we_did,
            "questions": [
                {
                    k: q[k]
                    for k in ("key", "kind", "text", "suppressed", "respondents", "cells", "mean")
                }
                for q in data["questions"]
                if q["kind"] != "text"
            ],
        }
