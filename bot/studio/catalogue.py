"""The FAQ bank as the database holds it: the published bank that replicas serve, its revision,
and the import and export of agency files (YAML, CSV, JSONL) for agencies that keep content in
git."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock, system_clock
from bot.knowledge.bank import FaqBank, read_agency_file
from bot.knowledge.faq import Agency, Faq, KnowledgeError
from bot.knowledge.importer import faq_to_yaml, read_faq_file
from bot.knowledge.records import check_unique
from bot.storage.db import Database
from bot.storage.models import AuditEntry, KbAgency, KbFaq, KbFaqVersion, KbRevision
from bot.studio.access import Editor
from bot.studio.store import Content, bump_revision, content_of, version_row


def revision(db: Database) -> int:
    """The number of the latest change to what citizens get (0 before any)."""
    with db.session() as session:
        return session.scalar(select(KbRevision.number).where(KbRevision.id == 1)) or 0


def _agency(row: KbAgency) -> Agency:
    return Agency(
        id=row.id,
        name=dict(row.name),
        phone=row.phone,
        url=row.url,
        hours=dict(row.hours),
        demo=row.demo,
    )


def _faq(row: KbFaq, version: KbFaqVersion) -> Faq:
    return Faq(
        id=row.id,
        agency=row.agency_id,
        language=row.language,
        question=version.question,
        answer=version.answer,
        alternatives=tuple(version.alternatives),
        source_url=version.source_url,
        last_reviewed=row.last_reviewed,
        tags=tuple(version.tags),
        parallel_id=row.parallel_id,
    )


def published_bank(db: Database) -> tuple[int, FaqBank]:
    """The revision and the bank citizens get at that revision: every FAQ's live version."""
    with db.session() as session:
        number = session.scalar(select(KbRevision.number).where(KbRevision.id == 1)) or 0
        agencies = {row.id: _agency(row) for row in session.scalars(select(KbAgency))}
        rows = session.execute(
            select(KbFaq, KbFaqVersion)
            .join(
                KbFaqVersion,
                (KbFaqVersion.faq_id == KbFaq.id) & (KbFaqVersion.number == KbFaq.live_version),
            )
            .where(KbFaq.state == "published")
            .order_by(KbFaq.agency_id, KbFaq.id)
        ).all()
    return number, FaqBank(agencies, tuple(_faq(row, version) for row, version in rows))


def faq_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(KbFaq)) or 0


@dataclass
class ImportResult:
    """What an import did, per agency."""

    created: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def add(self, what: dict[str, int], agency: str) -> None:
        what[agency] = what.get(agency, 0) + 1

    def lines(self) -> list[str]:
        agencies = sorted({*self.created, *self.changed, *self.unchanged})
        return [
            f"{agency}: {self.created.get(agency, 0)} new, {self.changed.get(agency, 0)} changed, "
            f"{self.unchanged.get(agency, 0)} unchanged"
            for agency in agencies
        ]


def read_import_file(path: Path, agency: str = "") -> tuple[list[Agency], list[Faq]]:
    """An agency YAML file, or a CSV or JSONL file of FAQs, validated; raise KnowledgeError."""
    if path.suffix.lower() in (".yml", ".yaml"):
        if not path.is_file():
            raise KnowledgeError(str(path), None, "no such file")
        found, triples = read_agency_file(path)
        check_unique(triples)
        return [found], [faq for faq, _, _ in triples]
    return [], read_faq_file(path, agency)


def import_faqs(
    db: Database,
    agencies: list[Agency],
    faqs: list[Faq],
    editor: Editor,
    publish: bool,
    clock: Clock = system_clock,
) -> ImportResult:
    """Apply agencies and FAQs to the database in one transaction: new FAQs are created, changed
    ones get a new version, the same content changes nothing. With `publish`, what was imported
    goes live (one revision for the whole file); without, it waits as drafts."""
    now = clock()
    result = ImportResult()
    live_changed = False
    with db.session() as session:
        for agency in agencies:
            editor.check_edit(agency.id)
            owner = session.get(KbAgency, agency.id) or KbAgency(id=agency.id)
            owner.name, owner.phone, owner.url = dict(agency.name), agency.phone, agency.url
            owner.hours, owner.demo = dict(agency.hours), agency.demo
            session.add(owner)
        session.flush()
        for faq in faqs:
            editor.check_edit(faq.agency)
            if session.get(KbAgency, faq.agency) is None:
                session.add(KbAgency(id=faq.agency, name={"en": faq.agency}))
                session.flush()
            row = session.get(KbFaq, faq.id)
            content = Content.of(faq)
            if row is None:
                row = KbFaq(
                    id=faq.id,
                    agency_id=faq.agency,
                    language=faq.language,
                    state="draft",
                    parallel_id=faq.parallel_id,
                    owner=editor.username,
                    head_version=0,
                    last_reviewed=faq.last_reviewed,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
                result.add(result.created, faq.agency)
            elif row.agency_id != faq.agency or row.language != faq.language:
                raise KnowledgeError(
                    "import", None, f"{faq.id} belongs to {row.agency_id} ({row.language})"
                )
            else:
                head = session.get(KbFaqVersion, (row.id, row.head_version))
                same = head is not None and content_of(head) == content
                if same and (not publish or row.live_version == row.head_version):
                    result.add(result.unchanged, faq.agency)
                    continue
                result.add(result.unchanged if same else result.changed, faq.agency)
            row.parallel_id = faq.parallel_id
            if faq.last_reviewed:
                row.last_reviewed = faq.last_reviewed
            head = session.get(KbFaqVersion, (row.id, row.head_version))
            if head is None or content_of(head) != content:
                row.head_version += 1
                version = version_row(
                    row.id, row.head_version, content, editor.username, "imported"
                )
                version.created_at = now
                if publish:
                    version.review, version.reviewed_by, version.reviewed_at = (
                        "approved",
                        editor.username,
                        now,
                    )
                session.add(version)
            if publish:
                row.live_version, row.state, row.updated_at = row.head_version, "published", now
                row.scheduled_version = row.publish_at = None
                live_changed = True
        if live_changed:
            bump_revision(session, now)
        session.add(
            AuditEntry(
                at=now,
                agent_id=editor.agent_id,
                username=editor.username,
                action="kb.import",
                detail={
                    "publish": publish,
                    "created": sum(result.created.values()),
                    "changed": sum(result.changed.values()),
                },
            )
        )
        session.commit()
    return result


def seed(db: Database, faq_dir: Path, clock: Clock = system_clock) -> bool:
    """On a database without FAQs, publish the bank of `faq_dir` (the first start); True if it
    did."""
    if faq_count(db):
        return False
    bank = FaqBank.load(faq_dir)
    try:
        import_faqs(
            db,
            list(bank.agencies.values()),
            list(bank.faqs),
            Editor("import", admin=True),
            True,
            clock,
        )
    except IntegrityError:  # replicas starting together: another one seeded it first
        return False
    return True


def export_agency(db: Database, agency: str) -> str:
    """One agency's published FAQs as an agency YAML file (the format of data/faqs/)."""
    _, bank = published_bank(db)
    found = bank.agencies.get(agency)
    if found is None:
        raise KnowledgeError(agency, None, "no such agency")
    doc: dict[str, Any] = {
        "agency": {
            "id": found.id,
            "name": dict(found.name),
            "contact": {"phone": found.phone, "url": found.url, "hours": dict(found.hours)},
        },
        "faqs": [faq_to_yaml(faq) for faq in bank.faqs if faq.agency == agency],
    }
    if found.demo:
        doc["agency"]["demo"] = True
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def stale(db: Database, older_than: dt.date) -> list[tuple[str, str, str]]:
    """Published FAQs last reviewed before `older_than` (or never): (owner, agency, id)."""
    with db.session() as session:
        rows = session.execute(
            select(KbFaq.owner, KbFaq.agency_id, KbFaq.id)
            .where(KbFaq.state == "published")
            .where((KbFaq.last_reviewed.is_(None)) | (KbFaq.last_reviewed < older_than))
            .order_by(KbFaq.owner, KbFaq.id)
        ).all()
    return [(owner or "", agency, faq_id) for owner, agency, faq_id in rows]
