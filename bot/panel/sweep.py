"""The waves' clock work, run by every replica: open a wave when its time comes (invite the
selected members with the survey's first question), send each unfinished member one reminder, and
close the wave at its end.

Opening is one transaction (the wave's state moved by compare-and-set, every place and every
invitation together), so a crash or a second replica invites nobody twice; a reminder is marked in
the same transaction as the message that carries it. Invitations and reminders wait for the end of
quiet hours in the panel's time zone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable

from sqlalchemy import and_, exists, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.clock import Clock, system_clock
from bot.inbox.bulk import Unasked, queue_unasked
from bot.inbox.quiet_hours import QuietHours
from bot.inbox.store import pushes
from bot.messages import say
from bot.panel.asking import ask
from bot.panel.citizen import UNFINISHED, survey_of
from bot.panel.definition import Survey
from bot.storage.db import Database, rowcount
from bot.storage.models import OptOut, PanelMember, PanelPlace, PanelSurvey, PanelWave
from connectors.capabilities import capabilities

log = logging.getLogger(__name__)
REMINDER_BATCH = 500


class WaveSweep:
    """Opens due waves, reminds once, closes ended waves."""

    def __init__(
        self,
        db: Database,
        service_name: str,
        timezone: str,
        quiet: QuietHours = QuietHours(),
        clock: Clock = system_clock,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._service = service_name
        self._timezone = timezone
        self._quiet = quiet
        self._clock = clock
        self._wake = wake

    def run_once(self) -> int:
        """One pass; how many messages were queued."""
        queued = 0
        with self._db.session() as session:
            due = list(
                session.scalars(
                    select(PanelWave.id)
                    .where(PanelWave.state == "scheduled", PanelWave.send_at <= self._clock())
                    .order_by(PanelWave.id)
                )
            )
        for wave_id in due:
            try:
                queued += self.open(wave_id)
            except (IntegrityError, OperationalError) as exc:
                log.warning("panel wave %s: opening retried (%s)", wave_id, type(exc).__name__)
        queued += self.remind()
        self.close()
        if queued and self._wake is not None:
            self._wake()
        return queued

    def open(self, wave_id: int) -> int:
        """Invite the wave's members (all active members, or a random sample), skipping those
        opted out or busy with another open wave; how many were invited."""
        now = self._clock()
        with self._db.session() as session:
            wave = session.get(PanelWave, wave_id)
            if wave is None or wave.state != "scheduled":
                return 0
            busy = exists().where(
                PanelPlace.member_id == PanelMember.id,
                PanelPlace.state.in_(UNFINISHED),
                PanelPlace.wave_id.in_(select(PanelWave.id).where(PanelWave.state == "open")),
            )
            opted_out = exists().where(
                and_(
                    OptOut.channel == PanelMember.channel,
                    OptOut.address == PanelMember.address,
                    OptOut.opted_out.is_(True),
                )
            )
            members = list(
                session.scalars(
                    select(PanelMember)
                    .where(PanelMember.state == "active", ~busy, ~opted_out)
                    .order_by(PanelMember.id)
                )
            )
            if wave.sample is not None and wave.sample < len(members):
                members = sorted(
                    random.Random(wave.id).sample(members, wave.sample), key=lambda m: m.id
                )
            moved = session.execute(
                update(PanelWave)
                .where(PanelWave.id == wave_id, PanelWave.state == "scheduled")
                .values(state="open", invited=len(members))
            )
            if not rowcount(moved):
                session.rollback()
                return 0
            stored = session.get(PanelSurvey, wave.survey_id)
            assert stored is not None
            survey = Survey.model_validate(stored.definition)
            held = self._quiet.held_until(now, self._timezone) or now
            messages = []
            for member in members:
                # The web chat cannot push: its visitor sees the invitation when they come, so
                # it is open at once (a held one would be shown but not taken as answered).
                due = held if pushes(member.channel) else now
                said = ask(survey.first, member.language, capabilities(member.channel)).after(
                    say(
                        "panel_invite",
                        member.language,
                        service=self._service,
                        intro=survey.intro(member.language),
                    )
                )
                messages.append(
                    Unasked(member.channel, member.address, said.text, "notice", due, said.buttons)
                )
                session.add(
                    PanelPlace(
                        wave_id=wave_id,
                        member_id=member.id,
                        state="answering",
                        question=survey.first.key,
                        invited_at=due,
                        asked_at=due,
                        remind_at=due + dt.timedelta(hours=wave.remind_after_h),
                    )
                )
            queue_unasked(session, messages, now)
            session.commit()
            log.info("panel wave %s: %d members invited", wave_id, len(members))
            return len(members)

    def remind(self) -> int:
        """One reminder to each unfinished member whose wave's reminder time has come (the
        question they stopped at, asked again)."""
        now = self._clock()
        held = self._quiet.held_until(now, self._timezone) or now
        with self._db.session() as session:
            rows = session.execute(
                select(PanelPlace, PanelMember)
                .join(PanelMember, PanelMember.id == PanelPlace.member_id)
                .join(PanelWave, PanelWave.id == PanelPlace.wave_id)
                .where(
                    PanelWave.state == "open",
                    PanelWave.closes_at > now,
                    PanelPlace.state.in_(UNFINISHED),
                    PanelPlace.reminded_at.is_(None),
                    PanelPlace.remind_at <= now,
                )
                .order_by(PanelPlace.id)
                .limit(REMINDER_BATCH)
            ).all()
            if not rows:
                return 0
            surveys: dict[int, Survey] = {}
            messages = []
            for row in rows:
                place, member = row.PanelPlace, row.PanelMember
                survey = surveys.get(place.wave_id) or survey_of(session, place.wave_id)
                surveys[place.wave_id] = survey
                question = survey.question(place.question) or survey.first
                due = held if pushes(member.channel) else now
                said = ask(question, member.language, capabilities(member.channel)).after(
                    say("panel_reminder", member.language, service=self._service)
                )
                messages.append(
                    Unasked(member.channel, member.address, said.text, "notice", due, said.buttons)
                )
                place.reminded_at, place.state, place.asked_at = now, "answering", due
            queue_unasked(session, messages, now)
            session.commit()
            return len(messages)

    def close(self) -> int:
        """Close the waves whose time is up; unfinished places expire. How many waves."""
        now = self._clock()
        with self._db.session() as session:
            ended = list(
                session.scalars(
                    select(PanelWave.id).where(
                        PanelWave.state == "open", PanelWave.closes_at <= now
                    )
                )
            )
            if not ended:
                return 0
            session.execute(
                update(PanelPlace)
                .where(PanelPlace.wave_id.in_(ended), PanelPlace.state.in_(UNFINISHED))
                .values(state="expired", finished_at=now)
            )
            session.execute(update(PanelWave).where(PanelWave.id.in_(ended)).values(state="closed"))
            session.commit()
            return len(ended)

    async def run(self, interval_s: float, stop: asyncio.Event) -> None:
        """Sweep every `interval_s` until `stop` is set."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("panel sweep failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except TimeoutError:
                pass
