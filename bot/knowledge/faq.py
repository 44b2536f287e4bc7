"""The FAQ data model: agencies, FAQs, and the error raised for a bad knowledge-base file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

LANGUAGES = ("en", "fr")


class KnowledgeError(Exception):
    """A knowledge-base file is invalid; names the file, the line and the problem."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        self.file, self.line, self.problem = file, line, problem
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class Agency:
    """An agency that owns FAQs, with the official contact details given when the bot
    cannot help."""

    id: str
    name: dict[str, str]
    phone: str = ""
    url: str = ""
    hours: dict[str, str] = field(default_factory=dict)
    demo: bool = False

    def display_name(self, language: str) -> str:
        """The agency's name in `language`, falling back to any name it has."""
        return self.name.get(language) or next(iter(self.name.values()), self.id)


@dataclass(frozen=True, slots=True)
class Faq:
    """One official question and answer, in one language."""

    id: str
    agency: str
    language: str
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()
    source_url: str | None = None
    last_reviewed: dt.date | None = None
    tags: tuple[str, ...] = ()
    parallel_id: str | None = None

    @property
    def questions(self) -> tuple[str, ...]:
        """The question and its alternative phrasings."""
        return (self.question, *self.alternatives)
