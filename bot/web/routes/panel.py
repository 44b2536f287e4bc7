"""The citizen panel's JSON API under /console/api/panel: the panel's size, surveys (written as
YAML or JSON, checked by bot/panel/definition.py), waves (schedule, cancel, publish the "you said,
we did" summary) and results (JSON and CSV, small groups suppressed by bot/panel/results.py).

Supervisors and admins only, with the console's session, CSRF token and per-account limit. A
survey or wave that cannot be accepted answers 422 with what is wrong; a move that no longer
applies (cancelling an open wave) answers 409.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import yaml
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, Field

from bot.panel.definition import SurveyError
from bot.panel.results import NotFound
from bot.web.auth import SECURITY_HEADERS, ApiError, SupervisorDep, supervisor
from bot.web.deps import ResultsDep, WavesDep
from bot.web.fields import no_control, start_time
from bot.web.routes.console_api import MAX_ID, account_limit
from bot.web.work import refusing

T = TypeVar("T")
MAX_SURVEY_CHARS = 20_000

router = APIRouter(
    prefix="/console/api/panel",
    include_in_schema=False,
    dependencies=[Depends(account_limit), Depends(supervisor)],
)
WaveId = Annotated[int, Path(ge=1, le=MAX_ID)]
Language = Annotated[Literal["en", "fr"], Query()]
WeDid = Annotated[str, Field(max_length=2000), AfterValidator(no_control)]
SurveyText = Annotated[
    str, Field(min_length=1, max_length=MAX_SURVEY_CHARS), AfterValidator(no_control)
]


class SurveyBody(BaseModel):
    """A survey definition as YAML (or JSON, which is YAML) text."""

    text: Annotated[
        str, Field(min_length=1, max_length=MAX_SURVEY_CHARS), AfterValidator(no_control)
    ]


class WaveBody(BaseModel):
    survey_id: int = Field(ge=1, le=MAX_ID)
    send_at: dt.datetime | None = None
    sample: int | None = Field(default=None, ge=1, le=10_000_000)
    remind_after_h: int = Field(default=72, ge=1, le=24 * 90)
    open_for_h: int = Field(default=14 * 24, ge=1, le=24 * 90)


class PublishBody(BaseModel):
    we_did_en: WeDid = Field(min_length=1)
    we_did_fr: WeDid | None = None


async def _run(work: Callable[[], T], status: int = 422) -> T:
    """Panel work in a thread; its refusals answer `status`, an unknown wave 404."""
    return await refusing(work, {SurveyError: status, NotFound: 404})


@router.get("")
async def overview(_: SupervisorDep, waves: WavesDep) -> dict[str, Any]:
    """The panel's members, surveys and waves (newest first) with their counts."""
    return await asyncio.to_thread(waves.overview)


@router.post("/surveys")
async def create_survey(body: SurveyBody, login: SupervisorDep, waves: WavesDep) -> dict[str, Any]:
    """A new survey from its YAML definition (docs/panel.md shows one)."""
    try:
        definition = yaml.safe_load(body.text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ApiError(422, f"not valid YAML{where}") from exc
    by = login.agent.username
    survey_id = await _run(lambda: waves.create_survey(definition, by))
    return {"survey": survey_id}


@router.post("/waves")
async def schedule(body: WaveBody, login: SupervisorDep, waves: WavesDep) -> dict[str, Any]:
    """A wave of a survey to the panel (or a random sample), from its send time (now if unset)."""
    start = start_time(body.send_at)
    by = login.agent.username
    wave_id = await _run(
        lambda: waves.schedule(
            body.survey_id,
            by,
            send_at=start,
            sample=body.sample,
            remind_after_h=body.remind_after_h,
            open_for_h=body.open_for_h,
        )
    )
    return {"wave": wave_id}


@router.post("/waves/{wave_id}/cancel")
async def cancel(wave_id: WaveId, login: SupervisorDep, waves: WavesDep) -> dict[str, Any]:
    """Cancel a wave that has not opened yet (409 once it has)."""
    by = login.agent.username
    await _run(lambda: waves.cancel(wave_id, by), status=409)
    return {"wave": wave_id, "state": "cancelled"}


@router.post("/waves/{wave_id}/publish")
async def publish(
    wave_id: WaveId, body: PublishBody, login: SupervisorDep, waves: WavesDep
) -> dict[str, Any]:
    """Publish the wave's "you said, we did" summary at /panel/waves/{id}."""
    by = login.agent.username
    await _run(lambda: waves.publish(wave_id, body.we_did_en, body.we_did_fr, by), status=409)
    return {"wave": wave_id, "public_url": f"/panel/waves/{wave_id}"}


@router.get("/waves/{wave_id}/results")
async def results(
    wave_id: WaveId, _: SupervisorDep, results: ResultsDep, lang: Language = "en"
) -> dict[str, Any]:
    """Per question, overall and by profile group; groups under 10 respondents suppressed."""
    return await _run(lambda: results.wave(wave_id, lang))


@router.get("/waves/{wave_id}/results.csv")
async def results_csv(wave_id: WaveId, _: SupervisorDep, results: ResultsDep) -> Response:
    """The same cells as CSV (suppressed groups without counts)."""
    text = await _run(lambda: results.csv(wave_id))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="panel-wave-{wave_id}.csv"',
        },
    )
