"""Outreach's JSON API under /console/api/outreach: topics, broadcasts (compose, approve by a
second supervisor, cancel, results) and the per-channel preview with its estimated cost.

Supervisors and admins only (403 below); the same session, CSRF token and per-account limit as
the rest of the console API. The acting supervisor is always the logged-in account. A refusal of
the domain (bot/outreach/) answers 422 for what was written (text, topic, time) and 409 for a move
that no longer applies (approving one's own broadcast, a broadcast no longer awaiting approval).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AfterValidator, BaseModel, Field

from bot.outreach.broadcasts import (
    MAX_CHARS,
    MAX_SMS_SEGMENTS,
    TEMPLATE_SID,
    Broadcasts,
    channel_views,
    check_text,
    estimated_cost,
)
from bot.outreach.topics import SLUG, OutreachError
from bot.web.auth import ApiError, SupervisorDep, supervisor
from bot.web.deps import BroadcastsDep, SettingsDep, TopicsDep
from bot.web.fields import no_control, start_time
from bot.web.routes.console_api import MAX_ID, account_limit
from bot.web.work import refusing

T = TypeVar("T")


router = APIRouter(
    prefix="/console/api/outreach",
    include_in_schema=False,
    dependencies=[Depends(account_limit), Depends(supervisor)],
)
BroadcastId = Annotated[int, Path(ge=1, le=MAX_ID)]
TopicSlug = Annotated[str, Field(min_length=1, max_length=40, pattern=SLUG.pattern)]
TemplateSid = Annotated[str, Field(pattern=TEMPLATE_SID.pattern)]
Text = Annotated[str, Field(max_length=MAX_CHARS), AfterValidator(no_control)]


class ComposeBody(BaseModel):
    """A broadcast as the supervisor writes it."""

    topic: TopicSlug
    text_en: Text = Field(min_length=1)
    text_fr: Text | None = None
    urgent: bool = False
    send_at: dt.datetime | None = None
    whatsapp_template_en: TemplateSid | None = None
    whatsapp_template_fr: TemplateSid | None = None


class PreviewBody(BaseModel):
    """The texts to show per channel, and the topic whose subscribers would get them."""

    topic: TopicSlug
    text_en: Text = ""
    text_fr: Text = ""


async def _run(work: Callable[[], T], status: int = 422) -> T:
    """Outreach work in a thread; its refusals answer `status` with their message."""
    return await refusing(work, {OutreachError: status})


async def _existing(broadcasts: Broadcasts, broadcast_id: int) -> dict[str, Any]:
    found = await asyncio.to_thread(broadcasts.detail, broadcast_id)
    if found is None:
        raise ApiError(404, f"no broadcast {broadcast_id}")
    return found


@router.get("/topics")
async def topics(_: SupervisorDep, topics: TopicsDep) -> dict[str, Any]:
    """The topics citizens may subscribe to."""
    found = await asyncio.to_thread(topics.all)
    return {
        "topics": [
            {"slug": t.slug, "name_en": t.name_en, "name_fr": t.name_fr, "agency": t.agency}
            for t in found
        ],
        "max_sms_segments": MAX_SMS_SEGMENTS,
        "max_chars": MAX_CHARS,
    }


@router.get("/broadcasts")
async def recent(
    _: SupervisorDep,
    broadcasts: BroadcastsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 30,
) -> dict[str, Any]:
    """The newest broadcasts first, each with its state and counts."""
    return {"broadcasts": await asyncio.to_thread(broadcasts.recent, limit)}


@router.get("/broadcasts/{broadcast_id}")
async def broadcast(
    broadcast_id: BroadcastId, _: SupervisorDep, broadcasts: BroadcastsDep
) -> dict[str, Any]:
    """One broadcast: texts, who and when, state and counts."""
    return {"broadcast": await _existing(broadcasts, broadcast_id)}


@router.post("/broadcasts")
async def create(
    body: ComposeBody, login: SupervisorDep, broadcasts: BroadcastsDep
) -> dict[str, Any]:
    """A new broadcast, awaiting a second supervisor's approval."""
    start = start_time(body.send_at)
    text_fr = body.text_fr if body.text_fr and body.text_fr.strip() else None
    by = login.agent.username
    broadcast_id = await _run(
        lambda: broadcasts.create(
            body.topic,
            body.text_en,
            text_fr,
            body.urgent,
            by,
            start,
            (body.whatsapp_template_en or None, body.whatsapp_template_fr or None),
        )
    )
    return {"broadcast": await _existing(broadcasts, broadcast_id)}


@router.post("/broadcasts/{broadcast_id}/approve")
async def approve(
    broadcast_id: BroadcastId, login: SupervisorDep, broadcasts: BroadcastsDep
) -> dict[str, Any]:
    """Approve another supervisor's broadcast: it goes out from its start time (409 for one's
    own, or one no longer awaiting approval)."""
    await _existing(broadcasts, broadcast_id)
    by = login.agent.username
    await _run(lambda: broadcasts.approve(broadcast_id, by), status=409)
    return {"broadcast": await _existing(broadcasts, broadcast_id)}


@router.post("/broadcasts/{broadcast_id}/cancel")
async def cancel(
    broadcast_id: BroadcastId, login: SupervisorDep, broadcasts: BroadcastsDep
) -> dict[str, Any]:
    """Stop a broadcast that is not fully queued yet (what is queued still goes)."""
    await _existing(broadcasts, broadcast_id)
    by = login.agent.username
    await _run(lambda: broadcasts.cancel(broadcast_id, by), status=409)
    return {"broadcast": await _existing(broadcasts, broadcast_id)}


def _language(
    text: str,
    label: str,
    language: str,
    has_french: bool,
    audience: dict[str, dict[str, int]],
    price: float,
) -> dict[str, Any] | None:
    """One language's preview: each channel's text, what stops it being sent (None when it may
    be), and its estimated cost; None without text."""
    if not text.strip():
        return None
    try:
        check_text(text, label)
        problem = None
    except OutreachError as exc:
        problem = str(exc)
    views = channel_views(text)
    cost = estimated_cost(views["sms"]["segments"], audience, language, has_french, price)
    return {**views, "problem": problem, "cost": cost}


@router.post("/preview")
async def preview(
    body: PreviewBody,
    _: SupervisorDep,
    topics: TopicsDep,
    broadcasts: BroadcastsDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Per language: the SMS as the Twilio adapter sends it and its segments, the plain text of
    Messenger and WhatsApp, Telegram's HTML, what stops it being sent, and the estimated cost
    (segments x active SMS and WhatsApp subscribers in that language x SMS_SEGMENT_PRICE)."""
    if await asyncio.to_thread(topics.get, body.topic) is None:
        raise ApiError(422, f"no topic {body.topic!r}")
    audience = await asyncio.to_thread(broadcasts.audience, body.topic)
    price = settings.sms_segment_price
    has_french = bool(body.text_fr.strip())
    languages = {
        "en": _language(body.text_en, "the English text", "en", has_french, audience, price),
        "fr": _language(body.text_fr, "the French text", "fr", has_french, audience, price),
    }
    total = sum(float(shown["cost"]["amount"]) for shown in languages.values() if shown is not None)
    return {
        "languages": languages,
        "audience": audience,
        "price_per_segment": price,
        "total_cost": round(total, 4),
        "max_sms_segments": MAX_SMS_SEGMENTS,
    }
