"""The contact centre's configuration (`data/contact_centre.yml`): queues, hours, urgent
topics, replies.

Loaded and checked once at start-up; a mistake is reported with what is wrong and where, so an
agency's engineer can fix the file rather than read a stack trace.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


class ConfigError(ValueError):
    """The contact-centre file is missing or wrong; the message says where."""


def fold(text: str) -> str:
    """Lowercase without accents, words separated by single spaces (for phrase matching)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[\w']+", plain))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Texts = dict[Literal["en", "fr"], str]


def text_in(texts: Texts, language: str) -> str | None:
    """The text in `language`, if there is one."""
    return next((text for key, text in texts.items() if key == language), None)


class Timers(_Model):
    offer_timeout_s: float = Field(30, gt=0)
    heartbeat_timeout_s: float = Field(45, gt=0)
    abandon_after_s: float = Field(1800, gt=0)
    default_handling_s: float = Field(300, gt=0)


class QueueConfig(_Model):
    """One queue: who it serves, and when people are there."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: Texts
    agencies: list[str] = []
    timezone: str = "UTC"
    hours: Literal["always"] | dict[str, str] = "always"
    holidays: list[dt.date] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("hours")
    @classmethod
    def _spans(
        cls, value: Literal["always"] | dict[str, str]
    ) -> Literal["always"] | dict[str, str]:
        if value == "always":
            return value
        for day, span in value.items():
            if day not in DAYS:
                raise ValueError(f"unknown day {day!r} (use {', '.join(DAYS)})")
            match = _SPAN.match(span)
            if not match:
                raise ValueError(f"{day}: {span!r} is not HH:MM-HH:MM")
            start, end = int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])
            if not 0 <= start < end <= 24 * 60:
                raise ValueError(f"{day}: {span!r} must start before it ends, within the day")
        return value

    def display_name(self, language: str) -> str:
        """The queue's name in `language` (English, then its id, when there is none)."""
        return text_in(self.name, language) or self.name.get("en") or self.id

    def minutes(self, day: int) -> tuple[int, int] | None:
        """Opening span of weekday `day` (0 = Monday) in minutes after midnight, or None
        when closed."""
        if self.hours == "always":
            return (0, 24 * 60)
        span = self.hours.get(DAYS[day])
        if span is None:
            return None
        match = _SPAN.match(span)
        assert match is not None
        return int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class UrgentTopic(_Model):
    """Phrases that put a citizen at the front of the queue at once, with a message (e.g. a
    crisis line)."""

    id: str
    phrases: dict[Literal["en", "fr"], list[str]]
    message: Texts
    queue: str | None = None  # default: the contact centre's default queue


class Disposition(_Model):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    label: str


class CannedReply(_Model):
    id: str
    title: str
    text: Texts


class ContactCentreConfig(_Model):
    """The whole file."""

    default_queue: str
    emergency_number: str = "911"
    timers: Timers = Timers()
    queues: list[QueueConfig] = Field(min_length=1)
    urgent_topics: list[UrgentTopic] = []
    dispositions: list[Disposition] = Field(min_length=1)
    canned_replies: list[CannedReply] = []

    @model_validator(mode="after")
    def _references(self) -> ContactCentreConfig:
        ids = [q.id for q in self.queues]
        if len(set(ids)) != len(ids):
            raise ValueError(f"queue ids must be unique: {ids}")
        if self.default_queue not in ids:
            raise ValueError(f"default_queue {self.default_queue!r} is not one of the queues {ids}")
        for topic in self.urgent_topics:
            if topic.queue and topic.queue not in ids:
                raise ValueError(
                    f"urgent topic {topic.id!r}: queue {topic.queue!r} is not one of {ids}"
                )
        served = [a for q in self.queues for a in q.agencies]
        if len(set(served)) != len(served):
            raise ValueError("an agency is served by two queues")
        return self

    def queue(self, queue_id: str) -> QueueConfig | None:
        """The queue with this id, if any."""
        return next((q for q in self.queues if q.id == queue_id), None)

    def default(self) -> QueueConfig:
        """The general queue (validated to exist)."""
        found = self.queue(self.default_queue)
        assert found is not None
        return found

    def queue_for_agency(self, agency: str | None) -> QueueConfig | None:
        """The queue serving `agency`, if any."""
        return next((q for q in self.queues if agency and agency in q.agencies), None)

    def disposition(self, code: str) -> Disposition | None:
        """The disposition code's definition, if it is one."""
        return next((d for d in self.dispositions if d.code == code), None)

    @cached_property
    def _urgent_patterns(self) -> list[tuple[UrgentTopic, re.Pattern[str]]]:
        found = []
        for topic in self.urgent_topics:
            phrases = sorted(
                {fold(p) for words in topic.phrases.values() for p in words if fold(p)}
            )
            found.append(
                (topic, re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b"))
            )
        return found

    def urgent(self, text: str) -> UrgentTopic | None:
        """The urgent topic a citizen's message is about, if any."""
        folded = fold(text)
        return next(
            (topic for topic, pattern in self._urgent_patterns if pattern.search(folded)), None
        )


def load_config(path: Path) -> ContactCentreConfig:
    """Read and check the file; ConfigError says what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return ContactCentreConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise ConfigError(f"{path}: {problems}") from exc
