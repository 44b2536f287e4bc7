"""The panel as a citizen meets it on their channel: joining with consent, the optional profile,
and a survey one question at a time.

While a question is open (asked within ANSWER_WINDOW) every message of the member is an answer and
never reaches the bot; after that the survey is paused, the bot answers as usual, and SURVEY /
SONDAGE (or the wave's one reminder) asks the same question again: the survey resumes where it
stopped.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock, aware, system_clock
from bot.messages import say
from bot.panel.answers import record_answer
from bot.panel.asking import Said, ask
from bot.panel.commands import PanelCommand, parse
from bot.panel.definition import Question, Survey, read_answer
from bot.privacy.panel_rows import forget_members
from bot.storage.db import Database
from bot.storage.models import PanelMember, PanelPlace, PanelSurvey, PanelWave
from connectors.capabilities import Capabilities

ANSWER_WINDOW = dt.timedelta(hours=4)
CONSENT_WINDOW = dt.timedelta(hours=24)
UNFINISHED = ("answering", "paused")


def open_place(session: Session, member_id: int, now: dt.datetime) -> PanelPlace | None:
    """The member's unfinished place in an open wave, if any (at most one: a wave skips members
    busy with another)."""
    return session.scalar(
        select(PanelPlace)
        .join(PanelWave, PanelWave.id == PanelPlace.wave_id)
        .where(
            PanelPlace.member_id == member_id,
            PanelPlace.state.in_(UNFINISHED),
            PanelWave.state == "open",
            PanelWave.closes_at > now,
        )
        .order_by(PanelPlace.id)
        .limit(1)
    )


def survey_of(session: Session, wave_id: int) -> Survey:
    wave = session.get(PanelWave, wave_id)
    assert wave is not None
    stored = session.get(PanelSurvey, wave.survey_id)
    assert stored is not None
    return Survey.model_validate(stored.definition)


class PanelCitizen:
    """Answers a member's (or a would-be member's) message, or says it is not the panel's."""

    def __init__(
        self,
        db: Database,
        profile: list[Question],
        service_name: str,
        clock: Clock = system_clock,
    ) -> None:
        self._db = db
        self._questions = profile
        self._service = service_name
        self._clock = clock

    def handle(self, channel: str, address: str, text: str, caps: Capabilities) -> Said | None:
        """The panel's reply to a message (blocking: database calls); None when the message is
        not for the panel."""
        now = self._clock()
        command = parse(text)
        with self._db.session() as session:
            member = session.scalar(
                select(PanelMember).where(
                    PanelMember.channel == channel, PanelMember.address == address
                )
            )
            if member is not None and member.state == "active":
                said = self._member(session, member, command, text, caps, now)
            else:
                said = self._newcomer(session, member, command, channel, address, caps, now)
            session.commit()
            return said

    def _member(
        self,
        session: Session,
        member: PanelMember,
        command: PanelCommand | None,
        text: str,
        caps: Capabilities,
        now: dt.datetime,
    ) -> Said | None:
        lang = member.language
        if command is not None and command.verb == "leave":
            forget_members(session, PanelMember.id == member.id)
            return Said(say("panel_left", command.language))
        place = open_place(session, member.id, now)
        # An invitation held back by quiet hours is not open yet: its asked_at is still to come.
        if (
            place is not None
            and place.state == "answering"
            and now - ANSWER_WINDOW <= aware(place.asked_at) <= now
        ):
            return self._answer(session, member, place, text, caps, now)
        if (
            member.profile_step
            and member.asked_at
            and aware(member.asked_at) >= now - ANSWER_WINDOW
        ):
            return self._profile_answer(member, text, caps, now)
        if command is None:
            return None
        if command.verb == "resume":
            if place is None:
                return Said(say("panel_no_survey", command.language))
            question = survey_of(session, place.wave_id).question(place.question)
            assert question is not None
            place.state, place.asked_at = "answering", now
            return ask(question, lang, caps)
        if command.verb == "join":
            return Said(say("panel_already", command.language))
        return None  # "agree" from a member: not the panel's

    def _newcomer(
        self,
        session: Session,
        member: PanelMember | None,
        command: PanelCommand | None,
        channel: str,
        address: str,
        caps: Capabilities,
        now: dt.datetime,
    ) -> Said | None:
        if command is None:
            return None
        lang = command.language
        if command.verb == "join":
            wording = say("panel_consent", lang, service=self._service)
            if member is None:
                member = PanelMember(channel=channel, address=address)
                session.add(member)
            member.state, member.language, member.wording, member.invited_at = (
                "invited",
                lang,
                wording,
                now,
            )
            buttons = (
                [
                    {
                        "title": say("panel_agree_button", lang),
                        "payload": "ACCEPTE" if lang == "fr" else "AGREE",
                    }
                ]
                if caps.buttons
                else []
            )
            return Said(wording, buttons)
        if command.verb == "agree":
            if member is None or aware(member.invited_at) < now - CONSENT_WINDOW:
                return None  # an "agree" with no invitation open is the bot's
            member.state, member.joined_at = "active", now
            if not self._questions:
                return Said(say("panel_profile_done", member.language))
            member.profile_step, member.asked_at = self._questions[0].key, now
            return ask(self._questions[0], member.language, caps).after(
                say("panel_welcome", member.language)
            )
        if command.verb == "leave" and member is not None:
            forget_members(session, PanelMember.id == member.id)
            return Said(say("panel_left", lang))
        return Said(say("panel_not_member", lang))

    def _profile_answer(
        self, member: PanelMember, text: str, caps: Capabilities, now: dt.datetime
    ) -> Said:
        keys = [q.key for q in self._questions]
        question = (
            self._questions[keys.index(member.profile_step)]
            if member.profile_step in keys
            else None
        )
        if question is None:
            member.profile_step = None
            return Said(say("panel_profile_done", member.language))
        reading = read_answer(question, text)
        if reading.later:
            member.profile_step = None
            return Said(say("panel_profile_done", member.language))
        if reading.problem:
            return ask(question, member.language, caps).after(
                say("panel_not_understood", member.language)
            )
        if reading.choice:
            setattr(member, question.key, reading.choice)
        i = keys.index(question.key) + 1
        if i < len(keys):
            member.profile_step, member.asked_at = keys[i], now
            return ask(self._questions[i], member.language, caps)
        member.profile_step = None
        return Said(say("panel_profile_done", member.language))

    def _answer(
        self,
        session: Session,
        member: PanelMember,
        place: PanelPlace,
        text: str,
        caps: Capabilities,
        now: dt.datetime,
    ) -> Said:
        lang = member.language
        survey = survey_of(session, place.wave_id)
        question = survey.question(place.question)
        if question is None:  # cannot happen with a stored definition; never trap the member
            place.state, place.finished_at = "done", now
            return Said(say("panel_thanks", lang))
        reading = read_answer(question, text)
        if reading.later:
            place.state = "paused"
            return Said(say("panel_later", lang))
        if reading.problem:
            key = "panel_required" if reading.problem == "required" else "panel_not_understood"
            return ask(question, lang, caps).after(say(key, lang))
        if not reading.skip:
            record_answer(session, place, member, question.key, reading.choice, reading.text, now)
        following = survey.after(question, reading.choice)
        if following is None:
            place.state, place.question, place.finished_at = "done", None, now
            return Said(say("panel_thanks", lang))
        place.question, place.asked_at = following.key, now
        return ask(following, lang, caps)
