"""The knowledge studio's JSON API under /console/api/studio: FAQ lists, history and diffs, drafts,
review, publishing, rollback, expiry, "how would the bot answer?" and drafts from knowledge gaps.
Same session, CSRF and per-account limit as the rest of the console API; an account without rights
on the FAQ's agency gets 403, a stale or out-of-state move 409."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from bot.clock import system_clock
from bot.knowledge.faq import LANGUAGES, Faq
from bot.studio import views
from bot.studio.access import Editor, Forbidden, StudioError, editor_of
from bot.studio.preview import preview
from bot.studio.store import MAX_ANSWER, MAX_QUESTION, Content
from bot.studio.suggestions import suggested_phrasings
from bot.web.auth import ApiError, LoginDep
from bot.web.deps import DatabaseDep, KnowledgeDep, LimiterDep, SettingsDep, StudioDep
from bot.web.routes.console_api import MAX_ID, account_limit
from bot.web.throttle import TooManyRequests

router = APIRouter(
    prefix="/console/api/studio", include_in_schema=False, dependencies=[Depends(account_limit)]
)
FaqId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Version = Annotated[int, Field(ge=1, le=MAX_ID)]
T = TypeVar("T")


class ContentBody(BaseModel):
    """An FAQ's content as the editor writes it."""

    question: str = Field(min_length=1, max_length=MAX_QUESTION)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER)
    alternatives: list[Annotated[str, Field(max_length=MAX_QUESTION)]] = Field(
        default_factory=list, max_length=100
    )
    source_url: str | None = Field(default=None, max_length=500)
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=20)

    def content(self) -> Content:
        return Content(
            self.question.strip(),
            self.answer.strip(),
            tuple(a.strip() for a in self.alternatives if a.strip()),
            (self.source_url or "").strip() or None,
            tuple(t.strip() for t in self.tags if t.strip()),
        )


class CreateBody(ContentBody):
    agency: str = Field(min_length=1, max_length=64)
    language: str = Field(pattern="^(en|fr)$")
    parallel_id: str | None = Field(default=None, max_length=128)
    gap_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class EditBody(ContentBody):
    base_version: Version
    note: str = Field(default="", max_length=500)


class VersionBody(BaseModel):
    version: Version
    publish_at: dt.datetime | None = None
    note: str = Field(default="", max_length=200)


class ExpiryBody(BaseModel):
    expire_at: dt.datetime | None = None


class PhrasingBody(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_QUESTION)


class PreviewBody(ContentBody):
    language: str = Field(pattern="^(en|fr)$")
    faq_id: str | None = Field(default=None, max_length=128)
    tests: list[Annotated[str, Field(max_length=MAX_QUESTION)]] = Field(
        default_factory=list, max_length=10
    )


async def _run(work: Callable[[], T]) -> T:
    """Run studio work in a thread, its refusals as API errors."""
    try:
        return await asyncio.to_thread(work)
    except Forbidden as exc:
        raise ApiError(403, str(exc)) from exc
    except StudioError as exc:
        raise ApiError(exc.status, str(exc)) from exc


async def _editor(login: LoginDep, db: DatabaseDep) -> Editor:
    return await asyncio.to_thread(editor_of, db, login.agent)


EditorDep = Annotated[Editor, Depends(_editor)]


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ApiError(422, "times need a time zone (for example 2026-12-08T09:00:00-05:00)")
    return moment.astimezone(dt.UTC)


@router.get("/agencies")
async def agencies(editor: EditorDep, db: DatabaseDep) -> dict[str, Any]:
    """The agencies this account may edit, and whether it may review there."""
    return {"agencies": await _run(lambda: views.agencies(db, editor)), "languages": LANGUAGES}


@router.get("/faqs")
async def faqs(
    editor: EditorDep,
    db: DatabaseDep,
    settings: SettingsDep,
    agency: Annotated[str, Query(min_length=1, max_length=64)],
    q: Annotated[str, Query(max_length=200)] = "",
    filter: Annotated[str, Query(max_length=32)] = "all",
) -> dict[str, Any]:
    """One agency's FAQs, searched and filtered (stale, least helpful, most asked, missing
    translation, in review)."""
    now = system_clock()
    stale_before = (now - dt.timedelta(days=settings.stale_after_days)).date()
    since = now - dt.timedelta(days=settings.retention_days)
    listed = await _run(lambda: views.faq_list(db, editor, agency, q, filter, stale_before, since))
    return {"faqs": listed}


@router.get("/faqs/{faq_id}")
async def faq(faq_id: FaqId, editor: EditorDep, db: DatabaseDep) -> dict[str, Any]:
    """One FAQ, its versions and translations."""
    return await _run(lambda: views.faq_detail(db, editor, faq_id))


@router.get("/faqs/{faq_id}/diff")
async def faq_diff(
    faq_id: FaqId,
    editor: EditorDep,
    db: DatabaseDep,
    old: Annotated[int, Query(ge=1, le=MAX_ID)],
    new: Annotated[int, Query(ge=1, le=MAX_ID)],
) -> dict[str, Any]:
    """What changed between two versions."""
    return {"fields": await _run(lambda: views.diff(db, editor, faq_id, old, new))}


@router.post("/faqs")
async def create(body: CreateBody, editor: EditorDep, studio: StudioDep) -> dict[str, Any]:
    """A new FAQ, as a draft."""
    faq_id = await _run(
        lambda: studio.create(
            editor, body.agency, body.language, body.content(), body.parallel_id, None, body.gap_id
        )
    )
    return {"id": faq_id}


@router.post("/faqs/{faq_id}/versions")
async def edit(faq_id: FaqId, body: EditBody, editor: EditorDep, studio: StudioDep) -> Any:
    """Save a new version on top of `base_version` (409 if someone saved one meanwhile)."""
    version = await _run(
        lambda: studio.edit(editor, faq_id, body.content(), body.base_version, body.note)
    )
    return {"version": version}


@router.post("/faqs/{faq_id}/submit")
async def submit(faq_id: FaqId, editor: EditorDep, studio: StudioDep) -> dict[str, Any]:
    """Ask for review of the newest version."""
    await _run(lambda: studio.submit(editor, faq_id))
    return {"ok": True}


@router.post("/faqs/{faq_id}/approve")
async def approve(
    faq_id: FaqId, body: VersionBody, editor: EditorDep, studio: StudioDep
) -> dict[str, Any]:
    """Approve a version in review: live now, or at `publish_at`."""
    at = _aware(body.publish_at)
    state = await _run(lambda: studio.approve(editor, faq_id, body.version, at))
    return {"state": state}


@router.post("/faqs/{faq_id}/reject")
async def reject(
    faq_id: FaqId, body: VersionBody, editor: EditorDep, studio: StudioDep
) -> dict[str, Any]:
    """Send a version in review back."""
    await _run(lambda: studio.reject(editor, faq_id, body.version, body.note))
    return {"ok": True}


@router.post("/faqs/{faq_id}/publish-urgent")
async def publish_urgent(faq_id: FaqId, editor: EditorDep, studio: StudioDep) -> dict[str, Any]:
    """Publish the newest version now; it is flagged for review afterwards."""
    await _run(lambda: studio.publish_urgent(editor, faq_id))
    return {"ok": True}


@router.post("/faqs/{faq_id}/rollback")
async def rollback(
    faq_id: FaqId, body: VersionBody, editor: EditorDep, studio: StudioDep
) -> dict[str, Any]:
    """Publish an earlier version's content again, as a new version."""
    return {"version": await _run(lambda: studio.rollback(editor, faq_id, body.version))}


@router.post("/faqs/{faq_id}/expiry")
async def expiry(
    faq_id: FaqId, body: ExpiryBody, editor: EditorDep, studio: StudioDep
) -> dict[str, Any]:
    """End the FAQ on its own at a time (a temporary notice), or never."""
    at = _aware(body.expire_at)
    await _run(lambda: studio.set_expiry(editor, faq_id, at))
    return {"ok": True}


@router.post("/faqs/{faq_id}/archive")
async def archive(faq_id: FaqId, editor: EditorDep, studio: StudioDep) -> dict[str, Any]:
    """Withdraw the FAQ."""
    await _run(lambda: studio.archive(editor, faq_id))
    return {"ok": True}


@router.post("/faqs/{faq_id}/phrasings")
async def add_phrasing(
    faq_id: FaqId, body: PhrasingBody, editor: EditorDep, studio: StudioDep
) -> dict[str, Any]:
    """Attach a citizen's unanswered question to the FAQ as a new phrasing (a new version,
    submitted for review)."""
    return {"version": await _run(lambda: studio.add_phrasing(editor, faq_id, body.text))}


@router.post("/faqs/{faq_id}/phrasings/dismiss")
async def dismiss_phrasing(
    faq_id: FaqId, body: PhrasingBody, editor: EditorDep, studio: StudioDep
) -> dict[str, Any]:
    """Not another phrasing of this FAQ: it is not suggested again."""
    await _run(lambda: studio.dismiss_phrasing(editor, faq_id, body.text))
    return {"ok": True}


@router.get("/faqs/{faq_id}/suggestions")
async def suggestions(
    faq_id: FaqId, editor: EditorDep, db: DatabaseDep, knowledge: KnowledgeDep
) -> dict[str, Any]:
    """Citizens' unanswered questions that may mean the same as this FAQ."""
    if knowledge is None:
        raise ApiError(503, "the knowledge base is still loading")
    groups = await _run(lambda: suggested_phrasings(db, knowledge.embed_questions, editor, faq_id))
    return {"groups": groups}


@router.get("/gaps/{gap_id}")
async def gap(
    gap_id: Annotated[int, Path(ge=1, le=MAX_ID)], editor: EditorDep, db: DatabaseDep
) -> dict[str, Any]:
    """A knowledge-gap group's questions, to start a draft with (for accounts that edit some
    agency's FAQs)."""
    if not (editor.admin or editor.edits or editor.reviews):
        raise ApiError(403, "no rights on any agency's FAQs")
    return await _run(lambda: views.gap_questions(db, gap_id))


@router.post("/preview")
async def try_draft(
    body: PreviewBody,
    editor: EditorDep,
    knowledge: KnowledgeDep,
    db: DatabaseDep,
    limiter: LimiterDep,
) -> dict[str, Any]:
    """How the bot would answer test questions with this draft published, and warnings."""
    verdict = await limiter.hit("preview", str(editor.agent_id))
    if not verdict.allowed:
        raise TooManyRequests(verdict)
    if knowledge is None:
        raise ApiError(503, "the knowledge base is still loading")
    content = body.content()
    faq_id = body.faq_id
    if faq_id:  # the draft of an existing FAQ: only for those who may edit it
        await _run(lambda: views.faq_detail(db, editor, faq_id))
    draft = Faq(
        id=faq_id or "draft",
        agency="draft",
        language=body.language,
        question=content.question,
        answer=content.answer,
        alternatives=content.alternatives,
    )
    return await _run(lambda: preview(knowledge, draft, body.tests))
