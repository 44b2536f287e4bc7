"""Surveys and their waves, as supervisors manage them: write a survey, schedule a wave to the
whole panel or a random sample of it, cancel it, publish its "you said, we did" summary. Every move
is in the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from bot.clock import Clock, aware, system_clock
from bot.messages import say
from bot.panel.asking import ask
from bot.panel.definition import Survey, SurveyError, parse_survey
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import Agent, PanelMember, PanelPlace, PanelSurvey, PanelWave
from bot.storage.staff import active_supervisor
from connectors.capabilities import SMS
from connectors.sms_text import segments

MAX_WE_DID = 2000
MAX_SMS_SEGMENTS = 3


def too_long_for_sms(survey: Survey, service: str) -> str | None:
    """What of a survey would be cut on SMS (more than MAX_SMS_SEGMENTS segments), if anything:
    the invitation (with the first question) and each question, in both languages."""
    for language in ("en", "fr"):
        for question in survey.questions:
            said = ask(question, language, SMS)
            if question is survey.first:
                said = said.after(
                    say("panel_invite", language, service=service, intro=survey.intro(language))
                )
            count = segments(said.text)
            if count > MAX_SMS_SEGMENTS:
                return (
                    f"question {question.key} ({language}) takes {count} SMS segments "
                    f"with its choices{' and the invitation' if question is survey.first else ''}; "
                    f"keep it to {MAX_SMS_SEGMENTS}"
                )
    return None


class Waves:
    """Write surveys; schedule, cancel and publish waves; list them with their counts."""

    def __init__(
        self, db: Database, audit: AuditLog, service_name: str, clock: Clock = system_clock
    ) -> None:
        self._db = db
        self._service = service_name
        self._audit = audit
        self._clock = clock

    def _supervisor(self, username: str) -> Agent:
        agent = active_supervisor(self._db, username)
        if agent is None:
            raise SurveyError(f"{username!r} is not an active supervisor")
        return agent

    def create_survey(self, definition: object, by: str) -> int:
        """A new survey from a definition (bot/panel/definition.py); its id."""
        agent = self._supervisor(by)
        survey = parse_survey(definition)
        problem = too_long_for_sms(survey, self._service)
        if problem:
            raise SurveyError(problem)
        with self._db.session() as session:
            row = PanelSurvey(
                title=survey.title,
                definition=survey.model_dump(mode="json"),
                created_by=by,
                created_at=self._clock(),
            )
            session.add(row)
            session.commit()
            survey_id = row.id
        self._audit.record(agent, by, "panel_survey_created", detail={"survey": survey_id})
        return survey_id

    def schedule(
        self,
        survey_id: int,
        by: str,
        *,
        send_at: dt.datetime | None = None,
        sample: int | None = None,
        remind_after_h: int = 72,
        open_for_h: int = 14 * 24,
    ) -> int:
        """A wave of a survey to the panel (or `sample` members drawn at random) from `send_at`
        (now when unset), with one reminder after `remind_after_h`; its id."""
        agent = self._supervisor(by)
        now = self._clock()
        send_at = send_at or now
        if send_at.tzinfo is None:
            raise SurveyError("the send time needs a time zone")
        if sample is not None and sample < 1:
            raise SurveyError("a sample needs at least one member")
        if not 1 <= open_for_h <= 24 * 90:
            raise SurveyError("a wave stays open between 1 hour and 90 days")
        if not 1 <= remind_after_h < open_for_h:
            raise SurveyError("the reminder must come after 1 hour and before the wave closes")
        with self._db.session() as session:
            if session.get(PanelSurvey, survey_id) is None:
                raise SurveyError(f"no survey {survey_id}")
            row = PanelWave(
                survey_id=survey_id,
                state="scheduled",
                sample=sample,
                send_at=send_at,
                remind_after_h=remind_after_h,
                closes_at=send_at + dt.timedelta(hours=open_for_h),
                invited=0,
                published=False,
                created_by=by,
                created_at=now,
            )
            session.add(row)
            session.commit()
            wave_id = row.id
        self._audit.record(
            agent, by, "panel_wave_scheduled", detail={"wave": wave_id, "survey": survey_id}
        )
        return wave_id

    def cancel(self, wave_id: int, by: str) -> None:
        """Cancel a wave that has not opened yet."""
        agent = self._supervisor(by)
        with self._db.session() as session:
            row = session.get(PanelWave, wave_id, with_for_update=True)
            if row is None:
                raise SurveyError(f"no wave {wave_id}")
            if row.state != "scheduled":
                raise SurveyError(
                    f"wave {wave_id} is {row.state}: only a scheduled wave can be cancelled"
                )
            row.state = "cancelled"
            session.commit()
        self._audit.record(agent, by, "panel_wave_cancelled", detail={"wave": wave_id})

    def publish(self, wave_id: int, we_did_en: str, we_did_fr: str | None, by: str) -> None:
        """Publish (or update) the wave's public "you said, we did" summary."""
        agent = self._supervisor(by)
        we_did_en = (we_did_en or "").strip()
        if not we_did_en:
            raise SurveyError("say what was done, in English at least")
        if len(we_did_en) > MAX_WE_DID or len(we_did_fr or "") > MAX_WE_DID:
            raise SurveyError(f"keep what was done under {MAX_WE_DID} characters")
        with self._db.session() as session:
            row = session.get(PanelWave, wave_id, with_for_update=True)
            if row is None:
                raise SurveyError(f"no wave {wave_id}")
            if row.state not in ("open", "closed"):
                raise SurveyError(f"wave {wave_id} is {row.state}: nothing to publish yet")
            row.we_did_en, row.we_did_fr = we_did_en, (we_did_fr or "").strip() or None
            row.published = True
            session.commit()
        self._audit.record(agent, by, "panel_wave_published", detail={"wave": wave_id})

    def overview(self) -> dict[str, Any]:
        """The panel's size, its surveys and its waves with their counts (newest first)."""
        with self._db.session() as session:
            members = dict(
                session.execute(
                    select(PanelMember.state, func.count()).group_by(PanelMember.state)
                ).all()
            )
            surveys = session.execute(
                select(
                    PanelSurvey.id,
                    PanelSurvey.title,
                    PanelSurvey.created_by,
                    PanelSurvey.created_at,
                )
                .order_by(PanelSurvey.id.desc())
                .limit(200)
            ).all()
            waves = session.execute(
                select(PanelWave, PanelSurvey.title)
                .join(PanelSurvey, PanelSurvey.id == PanelWave.survey_id)
                .order_by(PanelWave.id.desc())
                .limit(200)
            ).all()
            places: dict[int, dict[str, int]] = {}
            for wave_id, state, count in session.execute(
                select(PanelPlace.wave_id, PanelPlace.state, func.count()).group_by(
                    PanelPlace.wave_id, PanelPlace.state
                )
            ):
                places.setdefault(wave_id, {})[state] = count
            return {
                "members": {
                    "active": members.get("active", 0),
                    "invited": members.get("invited", 0),
                },
                "surveys": [
                    {
                        "id": s.id,
                        "title": s.title,
                        "created_by": s.created_by,
                        "created_at": aware(s.created_at).isoformat(),
                    }
                    for s in surveys
                ],
                "waves": [
                    {
                        "id": w.id,
                        "survey_id": w.survey_id,
                        "title": title,
                        "state": w.state,
                        "sample": w.sample,
                        "send_at": aware(w.send_at).isoformat(),
                        "closes_at": aware(w.closes_at).isoformat(),
                        "invited": w.invited,
                        "done": places.get(w.id, {}).get("done", 0),
                        "unfinished": sum(
                            places.get(w.id, {}).get(s, 0) for s in ("answering", "paused")
                        ),
                        "published": w.published,
                    }
                    for w, title in waves
                ],
            }
