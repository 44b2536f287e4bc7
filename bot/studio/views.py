"""What the studio's pages show, as plain data: the FAQ list of an agency with its filters, one
FAQ with its history, the difference between two versions, and a knowledge gap's questions."""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any

from sqlalchemy import func, select

from bot.storage.db import Database
from bot.storage.models import Feedback, GapCluster, KbAgency, KbFaq, KbFaqVersion, Turn
from bot.studio.access import Editor, StudioError
from bot.studio.store import content_of

FILTERS = ("all", "stale", "least_helpful", "most_asked", "missing_translation", "in_review")
MAX_LISTED = 500


def iso(moment: dt.datetime | dt.date | None) -> str | None:
    return moment.isoformat() if moment else None


def agencies(db: Database, editor: Editor) -> list[dict[str, Any]]:
    """The agencies this account may open, with what it may do there."""
    with db.session() as session:
        rows = list(session.scalars(select(KbAgency).order_by(KbAgency.id)))
    return [
        {
            "id": row.id,
            "name": row.name.get("en") or row.id,
            "may_review": editor.may_review(row.id),
            "second_reviewer": row.second_reviewer,
        }
        for row in rows
        if editor.may_edit(row.id)
    ]


def faq_list(
    db: Database,
    editor: Editor,
    agency: str,
    query: str = "",
    which: str = "all",
    stale_before: dt.date | None = None,
    since: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """The agency's FAQs (newest version's question), filtered and searched; with how often
    each was given since `since` and how often citizens said it did not help."""
    editor.check_edit(agency)
    if which not in FILTERS:
        raise StudioError(f"unknown filter {which!r}")
    with db.session() as session:
        rows = session.execute(
            select(KbFaq, KbFaqVersion)
            .join(
                KbFaqVersion,
                (KbFaqVersion.faq_id == KbFaq.id) & (KbFaqVersion.number == KbFaq.head_version),
            )
            .where(KbFaq.agency_id == agency)
            .order_by(KbFaq.id)
        ).all()
        asked_query = select(Turn.faq_id, func.count()).where(Turn.agency == agency)
        unhelpful_query = select(Feedback.faq_id, func.count()).where(
            Feedback.agency == agency, Feedback.kind == "helpful", Feedback.value == 0
        )
        if since is not None:
            asked_query = asked_query.where(Turn.at >= since)
            unhelpful_query = unhelpful_query.where(Feedback.at >= since)
        asked = dict(session.execute(asked_query.group_by(Turn.faq_id)).tuples().all())
        unhelpful = dict(session.execute(unhelpful_query.group_by(Feedback.faq_id)).tuples().all())
        published_languages: dict[str, set[str]] = {}
        for parallel, language in session.execute(
            select(KbFaq.parallel_id, KbFaq.language).where(
                KbFaq.state == "published", KbFaq.parallel_id.is_not(None)
            )
        ).tuples():
            published_languages.setdefault(parallel or "", set()).add(language)
    needle = query.strip().lower()
    listed = []
    for faq, head in rows:
        if needle and needle not in f"{faq.id} {head.question} {head.answer}".lower():
            continue
        stale = faq.state == "published" and (
            faq.last_reviewed is None
            or (stale_before is not None and faq.last_reviewed < stale_before)
        )
        languages = published_languages.get(faq.parallel_id or "", set())
        missing = faq.state == "published" and not (languages - {faq.language})
        item: dict[str, Any] = {
            "id": faq.id,
            "language": faq.language,
            "question": head.question,
            "state": faq.state,
            "live_version": faq.live_version,
            "head_version": faq.head_version,
            "head_review": head.review,
            "needs_review": faq.needs_review,
            "owner": faq.owner,
            "last_reviewed": iso(faq.last_reviewed),
            "stale": stale,
            "missing_translation": missing,
            "asked": int(asked.get(faq.id, 0)),
            "not_helpful": int(unhelpful.get(faq.id, 0)),
        }
        keep = {
            "all": True,
            "stale": stale,
            "missing_translation": missing,
            "in_review": head.review == "in_review" or faq.needs_review,
            "most_asked": asked.get(faq.id, 0) > 0,
            "least_helpful": unhelpful.get(faq.id, 0) > 0,
        }[which]
        if keep:
            listed.append(item)
    if which == "most_asked":
        listed.sort(key=lambda i: -i["asked"])
    elif which == "least_helpful":
        listed.sort(key=lambda i: -i["not_helpful"])
    return listed[:MAX_LISTED]


def _version(version: KbFaqVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "author": version.author,
        "created_at": iso(version.created_at),
        "note": version.note,
        "review": version.review,
        "reviewed_by": version.reviewed_by,
        **content_of(version).__dict__,
    }


def faq_detail(db: Database, editor: Editor, faq_id: str) -> dict[str, Any]:
    """One FAQ: where it stands, every version (newest first) and its translations."""
    with db.session() as session:
        faq = session.get(KbFaq, faq_id)
        if faq is None:
            raise StudioError(f"no FAQ {faq_id}", 404)
        editor.check_edit(faq.agency_id)
        versions = list(
            session.scalars(
                select(KbFaqVersion)
                .where(KbFaqVersion.faq_id == faq_id)
                .order_by(KbFaqVersion.number.desc())
            )
        )
        translations = []
        if faq.parallel_id:
            translations = [
                {"id": other.id, "language": other.language, "state": other.state}
                for other in session.scalars(
                    select(KbFaq).where(KbFaq.parallel_id == faq.parallel_id, KbFaq.id != faq.id)
                )
            ]
    return {
        "id": faq.id,
        "agency": faq.agency_id,
        "language": faq.language,
        "parallel_id": faq.parallel_id,
        "owner": faq.owner,
        "state": faq.state,
        "live_version": faq.live_version,
        "head_version": faq.head_version,
        "scheduled_version": faq.scheduled_version,
        "publish_at": iso(faq.publish_at),
        "expire_at": iso(faq.expire_at),
        "last_reviewed": iso(faq.last_reviewed),
        "needs_review": faq.needs_review,
        "may_review": editor.may_review(faq.agency_id),
        "versions": [_version(v) for v in versions],
        "translations": translations,
    }


def diff(db: Database, editor: Editor, faq_id: str, old: int, new: int) -> list[dict[str, Any]]:
    """What changed from version `old` to `new`, field by field (unified diff lines)."""
    with db.session() as session:
        faq = session.get(KbFaq, faq_id)
        if faq is None:
            raise StudioError(f"no FAQ {faq_id}", 404)
        editor.check_edit(faq.agency_id)
        first, second = (session.get(KbFaqVersion, (faq_id, n)) for n in (old, new))
    if first is None or second is None:
        raise StudioError(f"{faq_id} has no such version", 404)
    before, after = content_of(first).__dict__, content_of(second).__dict__
    fields = []
    for name in before:
        a, b = _lines(before[name]), _lines(after[name])
        if a != b:
            lines = list(difflib.unified_diff(a, b, lineterm="", n=1))[2:]
            fields.append({"field": name, "lines": lines})
    return fields


def _lines(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value or "").splitlines() or [""]


def gap_questions(db: Database, gap_id: int, limit: int = 10) -> dict[str, Any]:
    """A knowledge-gap group's label, language and distinct questions (already redacted), to
    start a draft with."""
    with db.session() as session:
        gap = session.get(GapCluster, gap_id)
        if gap is None:
            raise StudioError(f"no knowledge gap {gap_id}", 404)
        questions = session.scalars(
            select(Turn.question)
            .where(Turn.cluster_id == gap_id, Turn.question.is_not(None))
            .order_by(Turn.at.desc())
            .limit(200)
        ).all()
    distinct: list[str] = []
    for question in [gap.label, *questions]:
        text = (question or "").strip()
        if text and text.lower() not in {d.lower() for d in distinct}:
            distinct.append(text)
    return {
        "id": gap.id,
        "language": gap.language,
        "label": gap.label,
        "size": gap.size,
        "questions": distinct[:limit],
    }
