"""Recording what happened: one `Turn` per question the bot handled (from the action's analytics
payload), and citizens' feedback ("did this help?" after an answer, a 1-5 rating after an agent).

"Did this help?" is asked with buttons where the channel has them, after every answer; on SMS, where
each message costs money, as a short "Reply Y or N" only after every `sms_every`-th answer of a
conversation (the 5th, the 10th...; 0: never). A pending question is answered by the citizen's very
next message or not at all.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import get_args

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock, system_clock
from bot.engine.instructions import Outcome, TurnAnalytics
from bot.messages import say
from bot.privacy.redact import redact
from bot.storage.db import Database
from bot.storage.models import Feedback, InboundMessage, Turn
from connectors.capabilities import capabilities

OUTCOMES: tuple[str, ...] = get_args(Outcome)
HELPFUL, NOT_HELPFUL = "/helpful", "/not_helpful"
_YES = {"y", "yes", "yeah", "yep", "o", "oui", "1"}
_NO = {"n", "no", "nope", "non", "2"}
PENDING_FOR = dt.timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class FeedbackAnswer:
    """How a citizen's message answered a pending "did this help?": handled (thanked, not for the
    bot) or passed on to the bot as `engine_text` (a "no" becomes "that did not help")."""

    handled: bool
    engine_text: str | None = None


def _word(text: str) -> str:
    return re.sub(r"[^\w]", "", text.strip().casefold())


class Insight:
    """Turns and feedback in the database (blocking calls: run them in a thread)."""

    def __init__(self, db: Database, sms_every: int = 5, clock: Clock = system_clock) -> None:
        self._db = db
        self._sms_every = sms_every
        self._clock = clock

    def record_turn(self, message: InboundMessage, analytics: TurnAnalytics) -> Turn:
        """Store the action's account of a turn once (a retried turn finds the first)."""
        question = analytics.question
        with self._db.session() as session:
            existing = session.scalar(select(Turn).where(Turn.inbound_id == message.id))
            if existing is not None:
                return existing
            row = Turn(
                inbound_id=message.id,
                conversation_id=message.conversation_id,
                channel=message.channel,
                at=self._clock(),
                language=analytics.language,
                outcome=analytics.outcome,
                faq_id=analytics.faq_id,
                agency=analytics.agency,
                question=redact(question)[:1000] if question else None,
                # only unanswered questions are grouped into gaps
                clustered=analytics.outcome == "answered",
            )
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                found = session.scalar(select(Turn).where(Turn.inbound_id == message.id))
                assert found is not None  # the concurrent writer's row
                return found
            return row

    def ask_helpful(self, turn: Turn) -> str | None:
        """Whether to ask "did this help?" after this answer: with "buttons", by "text" (a short
        "Reply Y or N", sparingly where each message costs), or None."""
        if turn.outcome != "answered":
            return None
        channel = capabilities(turn.channel)
        if channel.buttons:
            way = "buttons"
        else:
            if self._sms_every <= 0:
                return None
            with self._db.session() as session:
                answered = (
                    session.scalar(
                        select(func.count())
                        .select_from(Turn)
                        .where(
                            Turn.conversation_id == turn.conversation_id, Turn.outcome == "answered"
                        )
                    )
                    or 0
                )
            if channel.paid_per_message and answered % self._sms_every:
                return None  # only every sms_every-th answer of the conversation
            way = "text"
        with self._db.session() as session:
            session.execute(
                update(Turn)
                .where(
                    Turn.conversation_id == turn.conversation_id, Turn.feedback_pending.is_(True)
                )
                .values(feedback_pending=False)
            )
            session.execute(update(Turn).where(Turn.id == turn.id).values(feedback_pending=True))
            session.commit()
        return way

    @staticmethod
    def helpful_buttons(language: str) -> list[dict[str, str]]:
        return [
            {"title": say("helpful_yes", language), "payload": HELPFUL},
            {"title": say("helpful_no", language), "payload": NOT_HELPFUL},
        ]

    def answer_feedback(self, message: InboundMessage) -> FeedbackAnswer:
        """Read the citizen's message as the answer to a pending "did this help?", if
        there is one."""
        with self._db.session() as session:
            turn = session.scalar(
                select(Turn)
                .where(
                    Turn.conversation_id == message.conversation_id,
                    Turn.feedback_pending.is_(True),
                    Turn.at >= self._clock() - PENDING_FOR,
                )
                .order_by(Turn.id.desc())
                .limit(1)
            )
            if turn is None:
                return FeedbackAnswer(False)
            text, word = message.text.strip(), _word(message.text)
            by_text = not capabilities(message.channel).buttons
            if text == HELPFUL or (by_text and word in _YES):
                value = 1
            elif text == NOT_HELPFUL or (by_text and word in _NO):
                value = 0
            else:
                turn.feedback_pending = False  # they moved on: no answer
                session.commit()
                return FeedbackAnswer(False)
            turn.feedback_pending = False
            session.add(
                Feedback(
                    kind="helpful",
                    value=value,
                    conversation_id=turn.conversation_id,
                    channel=turn.channel,
                    language=turn.language,
                    faq_id=turn.faq_id,
                    agency=turn.agency,
                    turn_id=turn.id,
                    at=self._clock(),
                )
            )
            session.commit()
        return FeedbackAnswer(True) if value else FeedbackAnswer(False, NOT_HELPFUL)

    def language_of(self, conversation_id: str) -> str | None:
        """The language of the conversation's latest turn (blocking)."""
        with self._db.session() as session:
            return session.scalar(
                select(Turn.language)
                .where(Turn.conversation_id == conversation_id)
                .order_by(Turn.id.desc())
                .limit(1)
            )

    def record_satisfaction(
        self,
        conversation_id: str,
        channel: str,
        language: str,
        handoff_id: int,
        agency: str | None,
        score: int,
        comment: str | None,
    ) -> None:
        """A 1-5 rating after an agent resolved the conversation."""
        with self._db.session() as session:
            session.add(
                Feedback(
                    kind="satisfaction",
                    value=score,
                    conversation_id=conversation_id,
                    channel=channel,
                    language=language,
                    handoff_id=handoff_id,
                    agency=agency,
                    at=self._clock(),
                    comment=redact(comment)[:1000] if comment else None,
                )
            )
            session.commit()
