"""The topics citizens may subscribe to: seeded from a data file, added by supervisors.

`general` always exists (migration 0007 creates it); a topic is never deleted, since broadcasts
and consent records name it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock, system_clock
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import Topic

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class OutreachError(Exception):
    """A request outreach refuses (unknown topic, bad text, the same supervisor twice...)."""


@dataclass(frozen=True, slots=True)
class TopicView:
    slug: str
    name_en: str
    name_fr: str
    agency: str | None

    def name(self, language: str | None) -> str:
        return self.name_fr if language == "fr" else self.name_en


def _view(row: Topic) -> TopicView:
    return TopicView(row.slug, row.name_en, row.name_fr, row.agency)


def read_topics_file(path: Path) -> list[TopicView]:
    """Topics from a YAML list of {slug, name_en, name_fr, agency}; OutreachError names the
    problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as exc:
        raise OutreachError(f"{path}: {exc}") from exc
    if not isinstance(raw, list):
        raise OutreachError(f"{path}: expected a list of topics")
    topics = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise OutreachError(f"{path}: topic {number} is not a mapping")
        topics.append(
            validated(
                str(item.get("slug", "")),
                str(item.get("name_en", "")),
                str(item.get("name_fr", "")),
                item.get("agency"),
            )
        )
    return topics


def validated(slug: str, name_en: str, name_fr: str, agency: object) -> TopicView:
    """A topic checked field by field."""
    if not SLUG.match(slug):
        raise OutreachError(f"topic slug {slug!r}: lower-case letters, digits and dashes, 1-40")
    for label, name in (("name_en", name_en), ("name_fr", name_fr)):
        if not name.strip() or len(name) > 120:
            raise OutreachError(f"topic {slug}: {label} must be 1-120 characters")
    return TopicView(slug, name_en.strip(), name_fr.strip(), str(agency) if agency else None)


class Topics:
    """Read and add topics."""

    def __init__(self, db: Database, audit: AuditLog, clock: Clock = system_clock) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock

    def all(self) -> list[TopicView]:
        with self._db.session() as session:
            return [_view(t) for t in session.scalars(select(Topic).order_by(Topic.slug))]

    def get(self, slug: str) -> TopicView | None:
        with self._db.session() as session:
            row = session.get(Topic, slug)
            return _view(row) if row else None

    def add(self, topic: TopicView, by: str) -> bool:
        """Add a topic (False when the slug exists: names are not overwritten silently)."""
        with self._db.session() as session:
            if session.get(Topic, topic.slug) is not None:
                return False
            session.add(
                Topic(
                    slug=topic.slug,
                    agency=topic.agency,
                    name_en=topic.name_en,
                    name_fr=topic.name_fr,
                    created_at=self._clock(),
                )
            )
            try:
                session.commit()
            except IntegrityError:  # another replica seeded it a moment ago
                return False
        self._audit.record(None, by, "topic_added", detail={"topic": topic.slug})
        return True

    def seed(self, path: Path) -> int:
        """Add the file's topics that are missing (every start; existing ones are kept)."""
        if not path.exists():
            return 0
        return sum(self.add(topic, "seed") for topic in read_topics_file(path))
