"""What a survey is: its questions (EN and FR), their kinds, and where each answer leads.

A definition is written by staff (the console, or a YAML file through the CLI) and validated here
once; the stored JSON is what `Survey.model_validate` accepted. Skip logic is `next` (an answer
leads to a later question or to the end) and `after` (where every other answer leads); it may only
point forward, so every survey ends.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
END = "end"
SCALE = tuple(str(n) for n in range(1, 6))
SKIP_WORDS = {"SKIP": "en", "PASSER": "fr"}
LATER_WORDS = {"LATER": "en", "PLUSTARD": "fr"}


class SurveyError(ValueError):
    """A survey definition, a wave or a request about them that cannot be accepted; the message
    says why, in words for the person who wrote it."""


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY.pattern)
    en: str = Field(min_length=1, max_length=60)
    fr: str = Field(min_length=1, max_length=60)

    def label(self, language: str) -> str:
        return self.fr if language == "fr" else self.en


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY.pattern)
    kind: Literal["single", "scale", "text"]
    en: str = Field(min_length=1, max_length=300)
    fr: str = Field(min_length=1, max_length=300)
    options: list[Option] = Field(default_factory=list, max_length=9)
    optional: bool = False
    next: dict[str, str] = Field(default_factory=dict)  # answer (option key, 1-5) -> question
    after: str | None = None  # where the other answers lead (default: the next question)

    def text(self, language: str) -> str:
        return self.fr if language == "fr" else self.en

    def choices(self) -> tuple[str, ...]:
        """The answers a closed question accepts (option keys, or 1-5)."""
        if self.kind == "single":
            return tuple(o.key for o in self.options)
        return SCALE if self.kind == "scale" else ()

    def label(self, choice: str, language: str) -> str:
        for option in self.options:
            if option.key == choice:
                return option.label(language)
        return choice

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.kind == "single" and len(self.options) < 2:
            raise ValueError(f"question {self.key}: a single choice needs at least two options")
        if self.kind != "single" and self.options:
            raise ValueError(f"question {self.key}: only a single choice has options")
        keys = [o.key for o in self.options]
        if len(set(keys)) != len(keys):
            raise ValueError(f"question {self.key}: two options share a key")
        if self.kind == "text" and self.next:
            raise ValueError(
                f"question {self.key}: a free-text answer cannot choose the next question"
            )
        unknown = set(self.next) - set(self.choices())
        if unknown:
            raise ValueError(
                f"question {self.key}: 'next' names answers it does not have: {sorted(unknown)}"
            )
        return self


class Survey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    intro_en: str = Field(default="", max_length=300)
    intro_fr: str = Field(default="", max_length=300)
    questions: list[Question] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _forward_only(self) -> Survey:
        order = {q.key: i for i, q in enumerate(self.questions)}
        if len(order) != len(self.questions):
            raise ValueError("two questions share a key")
        for i, q in enumerate(self.questions):
            for target in [*q.next.values(), *([q.after] if q.after else [])]:
                if target != END and target not in order:
                    raise ValueError(
                        f"question {q.key}: leads to {target!r}, which is not a question"
                    )
                if target != END and order[target] <= i:
                    raise ValueError(
                        f"question {q.key}: may only lead to a later question ({target})"
                    )
        return self

    def question(self, key: str | None) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    @property
    def first(self) -> Question:
        return self.questions[0]

    def after(self, question: Question, choice: str | None) -> Question | None:
        """The question that follows an answer (None: the survey is over)."""
        target = (question.next.get(choice) if choice else None) or question.after
        if target == END:
            return None
        if target:
            return self.question(target)
        i = self.questions.index(question)
        return self.questions[i + 1] if i + 1 < len(self.questions) else None

    def intro(self, language: str) -> str:
        return (self.intro_fr if language == "fr" else self.intro_en) or self.title


def parse_survey(data: object) -> Survey:
    """A definition from staff, checked; SurveyError says what is wrong."""
    try:
        return Survey.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SurveyError(f"{where}: {first['msg']}" if where else first["msg"]) from None


def fold(text: str) -> str:
    """Upper case without accents, spaces or punctuation: "Plus tard" -> "PLUSTARD"."""
    folded = unicodedata.normalize("NFKD", text.strip().upper())
    return "".join(ch for ch in folded if ch.isalnum())


@dataclass(frozen=True, slots=True)
class Reading:
    """What a citizen's reply to a question is: an answer (choice or text), a skip, a "later", or
    not understood (`problem` says what is expected)."""

    choice: str | None = None
    text: str | None = None
    skip: bool = False
    later: bool = False
    problem: str | None = None


def read_answer(question: Question, reply: str) -> Reading:
    """Read a reply to `question`: a number, an option's name or key in either language, 1-5, or
    free text; SKIP / PASSER on an optional question; LATER / PLUS TARD to pause."""
    word = fold(reply)
    if word in LATER_WORDS:
        return Reading(later=True)
    if word in SKIP_WORDS:
        return Reading(skip=True) if question.optional else Reading(problem="required")
    if question.kind == "text":
        cleaned = reply.strip()
        return Reading(text=cleaned) if cleaned else Reading(problem="text")
    choices = question.choices()
    if word.isdigit() and 1 <= int(word) <= len(choices):
        return Reading(choice=choices[int(word) - 1])
    for option in question.options:
        if word in (fold(option.en), fold(option.fr), fold(option.key)):
            return Reading(choice=option.key)
    return Reading(problem=question.kind)
