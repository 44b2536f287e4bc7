"""The studio's writes: drafts, reviews, publishing (now, urgent or scheduled), expiry, rollback
and archive. Each change to what citizens get bumps the revision in the same transaction, and
each edit, review and publish is written to the audit log in that transaction too."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import Clock, aware, system_clock
from bot.knowledge.faq import Faq, KnowledgeError
from bot.knowledge.records import faq_from_record
from bot.privacy.redact import redact
from bot.storage.db import Database
from bot.storage.models import AuditEntry, KbAgency, KbDismissed, KbFaq, KbFaqVersion, KbRevision
from bot.studio.access import Editor, Forbidden, StudioError

MAX_QUESTION = 500
MAX_ANSWER = 4000
MAX_ALTERNATIVES = 100
LIVE_STATES = ("published",)


@dataclass(frozen=True)
class Content:
    """What an editor writes: one FAQ's question, its other phrasings, its answer."""

    question: str
    answer: str
    alternatives: tuple[str, ...] = ()
    source_url: str | None = None
    tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, faq: Faq) -> Content:
        return cls(faq.question, faq.answer, faq.alternatives, faq.source_url, faq.tags)

    def checked(self, faq_id: str, agency: str, language: str) -> Content:
        """This content validated as the FAQ files are (bot/knowledge/records.py), and within
        the studio's lengths; raise StudioError naming the problem."""
        if len(self.question) > MAX_QUESTION or any(
            len(a) > MAX_QUESTION for a in self.alternatives
        ):
            raise StudioError(f"a question is longer than {MAX_QUESTION} characters")
        if len(self.answer) > MAX_ANSWER:
            raise StudioError(f"the answer is longer than {MAX_ANSWER} characters")
        if len(self.alternatives) > MAX_ALTERNATIVES:
            raise StudioError(f"more than {MAX_ALTERNATIVES} alternative phrasings")
        record = {
            "id": faq_id,
            "agency": agency,
            "language": language,
            "question": self.question,
            "answer": self.answer,
            "alternatives": list(self.alternatives),
            "source_url": self.source_url or "",
            "tags": list(self.tags),
        }
        try:
            faq = faq_from_record(record, "draft", None)
        except KnowledgeError as exc:
            raise StudioError(exc.problem) from None
        return Content.of(faq)


def version_row(faq_id: str, number: int, content: Content, author: str, note: str) -> KbFaqVersion:
    """A new version's row (a draft until reviewed)."""
    return KbFaqVersion(
        faq_id=faq_id,
        number=number,
        question=content.question,
        alternatives=list(content.alternatives),
        answer=content.answer,
        source_url=content.source_url,
        tags=list(content.tags),
        author=author,
        note=note[:500],
    )


def content_of(version: KbFaqVersion) -> Content:
    return Content(
        version.question,
        version.answer,
        tuple(version.alternatives),
        version.source_url,
        tuple(version.tags),
    )


def text_hash(text: str) -> str:
    """How a dismissed question is remembered (not its words)."""
    return hashlib.sha256(" ".join(text.casefold().split()).encode("utf-8")).hexdigest()


def bump_revision(session: Session, now: dt.datetime) -> None:
    """Tell every replica that what citizens get has changed (in the caller's transaction)."""
    session.execute(
        update(KbRevision)
        .where(KbRevision.id == 1)
        .values(number=KbRevision.number + 1, changed_at=now)
    )


class Studio:
    """The studio's operations; every one checks the editor's rights on the FAQ's agency."""

    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._db.session() as session:
            yield session
            session.commit()

    def _audit(
        self, session: Session, editor: Editor, action: str, faq: KbFaq, **detail: Any
    ) -> None:
        session.add(
            AuditEntry(
                at=self._clock(),
                agent_id=editor.agent_id,
                username=editor.username,
                action=f"kb.{action}",
                detail={"faq": faq.id, "agency": faq.agency_id, **detail},
            )
        )

    def _faq(self, session: Session, editor: Editor, faq_id: str) -> KbFaq:
        faq = session.get(KbFaq, faq_id, with_for_update=True)
        if faq is None:
            raise StudioError(f"no FAQ {faq_id}", 404)
        editor.check_edit(faq.agency_id)
        return faq

    def _version(self, session: Session, faq: KbFaq, number: int) -> KbFaqVersion:
        version = session.get(KbFaqVersion, (faq.id, number))
        if version is None:
            raise StudioError(f"{faq.id} has no version {number}", 404)
        return version

    # -- drafting -------------------------------------------------------------------------

    def create(
        self,
        editor: Editor,
        agency: str,
        language: str,
        content: Content,
        parallel_id: str | None = None,
        faq_id: str | None = None,
        gap_id: int | None = None,
    ) -> str:
        """A new FAQ, as a draft of `agency` owned by the editor; returns its id."""
        editor.check_edit(agency)
        faq_id = faq_id or f"{agency}-{uuid.uuid4().hex[:10]}"
        content = content.checked(faq_id, agency, language)
        with self._session() as session:
            if session.get(KbAgency, agency) is None:
                raise StudioError(f"no agency {agency}", 404)
            if session.get(KbFaq, faq_id) is not None:
                raise StudioError(f"{faq_id} exists already", 409)
            faq = KbFaq(
                id=faq_id,
                agency_id=agency,
                language=language,
                parallel_id=parallel_id,
                gap_id=gap_id,
                owner=editor.username,
                state="draft",
                head_version=1,
                updated_at=self._clock(),
            )
            session.add(faq)
            session.flush()
            session.add(version_row(faq_id, 1, content, editor.username, "created"))
            self._audit(session, editor, "create", faq, version=1)
        return faq_id

    def edit(
        self, editor: Editor, faq_id: str, content: Content, base_version: int, note: str = ""
    ) -> int:
        """A new version of the FAQ's content on top of `base_version` (409 when someone else
        saved a newer one meanwhile); what citizens get is unchanged until it is published."""
        with self._session() as session:
            faq = self._faq(session, editor, faq_id)
            if base_version != faq.head_version:
                raise StudioError(
                    f"{faq_id} changed meanwhile (version {faq.head_version}); reload it", 409
                )
            content = content.checked(faq.id, faq.agency_id, faq.language)
            if content == content_of(self._version(session, faq, faq.head_version)):
                return faq.head_version
            faq.head_version += 1
            faq.updated_at = self._clock()
            if faq.state in ("in_review", "scheduled") and faq.live_version is None:
                faq.state = "draft"
            session.add(version_row(faq.id, faq.head_version, content, editor.username, note))
            self._audit(session, editor, "edit", faq, version=faq.head_version)
            return faq.head_version

    def add_phrasing(self, editor: Editor, faq_id: str, text: str) -> int:
        """A citizen's question attached to the FAQ as one more phrasing: a new version on top
        of the newest, submitted for review (publishing it is the reviewer's call)."""
        with self._session() as session:
            faq = self._faq(session, editor, faq_id)
            head = content_of(self._version(session, faq, faq.head_version))
            text = redact(text)  # a citizen's words: whatever the page sent, none of their data
            known = {q.casefold() for q in (head.question, *head.alternatives)}
            if text.strip().casefold() in known:
                raise StudioError(f"{faq_id} already has this phrasing", 409)
            content = dataclasses.replace(head, alternatives=(*head.alternatives, text.strip()))
            content = content.checked(faq.id, faq.agency_id, faq.language)
            faq.head_version += 1
            faq.updated_at = self._clock()
            row = version_row(faq.id, faq.head_version, content, editor.username, "new phrasing")
            row.review = "in_review"
            session.add(row)
            self._audit(session, editor, "phrasing", faq, version=faq.head_version)
            return faq.head_version

    def dismiss_phrasing(self, editor: Editor, faq_id: str, text: str) -> None:
        """Not another phrasing of this FAQ: stop suggesting it (its hash is kept, not its
        words)."""
        with self._session() as session:
            faq = self._faq(session, editor, faq_id)
            key = text_hash(text)
            if session.get(KbDismissed, (faq.id, key)) is None:
                session.add(KbDismissed(faq_id=faq.id, text_hash=key, at=self._clock()))
                self._audit(session, editor, "dismiss", faq)

    def submit(self, editor: Editor, faq_id: str) -> None:
        """Ask for review of the newest version."""
        with self._session() as session:
            faq = self._faq(session, editor, faq_id)
            version = self._version(session, faq, faq.head_version)
            if version.review != "draft":
                raise StudioError(f"version {version.number} is {version.review}", 409)
            version.review = "in_review"
            if faq.live_version is None:
                faq.state = "in_review"
            faq.updated_at = self._clock()
            self._audit(session, editor, "submit", faq, version=version.number)

    # -- review and publishing ------------------------------------------------------------

    def approve(
        self,
        editor: Editor,
        faq_id: str,
        version_number: int,
        publish_at: dt.datetime | None = None,
    ) -> str:
        """Approve a version in review: live now, or at `publish_at`. Returns the FAQ's state.
        Approving the live version of an urgent publish clears its review flag."""
        now = self._clock()
        with self._session() as session:
            faq = self._faq(session, editor, faq_id)
            editor.check_review(faq.agency_id)
            version = self._version(session, faq, version_number)
            agency = session.get(KbAgency, faq.agency_id)
            if agency is not None and agency.second_reviewer and version.author == editor.username:
                raise Forbidden(f"{faq.agency_id} needs a second person to approve")
            if faq.needs_review and faq.live_version == version_number:
                faq.needs_review = False
                version.review, version.reviewed_by, version.reviewed_at = (
                    "approved",
                    editor.username,
                    now,
                )
                faq.last_reviewed = now.date()
                self._audit(session, editor, "review_after", faq, version=version_number)
                return faq.state
            if version.review != "in_review" or version_number != faq.head_version:
                raise StudioError(f"version {version_number} is not waiting for review", 409)
            version.review, version.reviewed_by, version.reviewed_at = (
                "approved",
                editor.username,
                now,
            )
            if publish_at is not None and publish_at > now:
                faq.scheduled_version, faq.publish_at = version_number, publish_at
                if faq.live_version is None:
                    faq.state = "scheduled"
                self._audit(
                    session,
                    editor,
                    "schedule",
                    faq,
                    version=version_number,
                    at=publish_at.isoformat(),
                )
            else:
                self._go_live(session, faq, version_number, now)
                self._audit(session, editor, "publish", faq, version=version_number)
            faq.last_reviewed = now.date()
            return faq.state

    def reject(self, editor: Editor, faq_id: str, version_number: int, note: str = "") -> None:
        """Send a version in review back to its author."""
        with self._session() as session:
            faq = self._faq(session, editor, faq_id)
            editor.check_review(faq.agency_id)
            version = self._version(session, faq, version_number)
            if version.review != "in_review":
                raise StudioError(f"version {version_number} is not waiting for review", 409)
            version.review, version.reviewed_by = "rejected", editor.username
            version.reviewed_at = self._clock()
            if faq.live_version is None:
                faq.state = "draft"
            self._audit(session, editor, "reject", faq, version=version_number, note=note[:200])

    def publish_urgent(self, editor: Editor, faq_id: str) -> None:
        """Publish the newest version at once, without a second person; it stays flagged until
        a reviewer approves it afterwards."""
        now = self._clock()
        with self._session() as session:
            faq = self._faq(session, editor, faq_id)
            version = self._version(session, faq, faq.head_version)
            version.review = "published_urgent"
            self._go_live(session, faq, version.number, now)
            faq.needs_review = True
            self._audit(session, editor, "publish_urgent", faq, version=version.number)

    def rollback(self, editor: Editor, faq_id: str, to_version: int) -> int:
        """Publish again the content of an earlier version that was live, as a new version."""
        now = self._clock()
        with self._session() as session:
            faq = self._faq(session, editor, faq_id)
            old = self._version(session, faq, to_version)
            if old.review not in ("approved", "published_urgent"):
                raise StudioError(f"version {to_version} was never published", 409)
            faq.head_version += 1
            row = version_row(
                faq.id,
                faq.head_version,
                content_of(old),
                editor.username,
                f"rollback to {to_version}",
            )
            row.review, row.reviewed_by, row.reviewed_at = "approved", old.reviewed_by, now
            session.add(row)
            session.flush()
            self._go_live(session, faq, faq.head_version, now)
            self._audit(session, editor, "rollback", faq, version=faq.head_version, to=to_version)
            return faq.head_version

    def set_expiry(self, editor: Editor, faq_id: str, expire_at: dt.datetime | None) -> None:
        """End the FAQ on its own at `expire_at` (a temporary notice), or never (None)."""
        with self._session() as session:
            faq = self._faq(session, editor, faq_id)
            faq.expire_at = expire_at
            self._audit(
                session, editor, "expiry", faq, at=expire_at.isoformat() if expire_at else None
            )

    def archive(self, editor: Editor, faq_id: str) -> None:
        """Withdraw the FAQ: citizens no longer get it; its history stays."""
        now = self._clock()
        with self._session() as session:
            faq = self._faq(session, editor, faq_id)
            was_live = faq.state in LIVE_STATES
            faq.state, faq.live_version, faq.scheduled_version = "archived", None, None
            faq.updated_at = now
            if was_live:
                bump_revision(session, now)
            self._audit(session, editor, "archive", faq)

    def _go_live(self, session: Session, faq: KbFaq, number: int, now: dt.datetime) -> None:
        faq.live_version, faq.state, faq.updated_at = number, "published", now
        faq.scheduled_version, faq.publish_at = None, None
        if faq.expire_at is not None and aware(faq.expire_at) <= now:
            faq.expire_at = None
        bump_revision(session, now)

    def apply_due(self) -> int:
        """Publish what is scheduled and expire what has run out; returns how many changed.
        Any replica may run it: each change is conditional on the row still being due."""
        now = self._clock()
        changed = 0
        with self._session() as session:
            due = session.scalars(
                select(KbFaq).where(KbFaq.scheduled_version.is_not(None), KbFaq.publish_at <= now)
            ).all()
            for faq in due:
                assert faq.scheduled_version is not None
                self._go_live(session, faq, faq.scheduled_version, now)
                changed += 1
            ending = session.scalars(
                select(KbFaq).where(KbFaq.state == "published", KbFaq.expire_at <= now)
            ).all()
            for faq in ending:
                faq.state, faq.live_version, faq.updated_at = "expired", None, now
                changed += 1
            if ending:
                bump_revision(session, now)
        return changed
