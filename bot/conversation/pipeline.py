"""The one place a turn's steps are wired, in order.

1. carrier keywords (STOP, START, HELP)    7. "did this help?" answers
2. unfit messages (empty, too long)        8. the engine
3. the contact centre's conversations      9. the turn's analytics (and "did this help?")
4. the citizen panel (PANEL, surveys)     10. a hand-off the actions asked for
5. subscriptions (SUBSCRIBE, TOPICS, YES) 11. store the replies
6. redaction of personal data
A new step is a class with `async __call__(turn) -> Flow` (bot/conversation/turn.py), added here.
"""

from __future__ import annotations

from bot.conversation.after import HandOff, RecordTurn, StoreReplies
from bot.conversation.before import (
    CarrierKeywords,
    FeedbackCapture,
    HandoffIntercept,
    Redaction,
    UnfitMessages,
)
from bot.conversation.engine_step import AskEngine
from bot.conversation.panel_step import PanelSurvey
from bot.conversation.subscribing import OutreachKeywords
from bot.conversation.turn import Step
from bot.engine.client import DialogueEngine
from bot.handoff.centre import ContactCentre
from bot.inbox.policy import OptOuts
from bot.inbox.transcript import Transcript
from bot.insight.recorder import Insight
from bot.language import LanguageDetector
from bot.outreach.subscriptions import Subscriptions
from bot.outreach.topics import Topics
from bot.panel.citizen import PanelCitizen


def turn_steps(
    *,
    transcript: Transcript,
    engine: DialogueEngine,
    detector: LanguageDetector,
    opt_outs: OptOuts,
    centre: ContactCentre,
    insight: Insight,
    service_name: str,
    max_chars: int,
    max_attempts: int,
    subscriptions: Subscriptions,
    topics: Topics,
    timezone: str,
    panel: PanelCitizen,
) -> list[Step]:
    """Every step of a citizen message's turn, in the order they run."""
    return [
        CarrierKeywords(transcript, opt_outs, centre, service_name, subscriptions),
        UnfitMessages(transcript, detector, max_chars),
        HandoffIntercept(centre),
        PanelSurvey(transcript, panel),
        OutreachKeywords(transcript, subscriptions, topics, service_name, timezone),
        Redaction(),
        FeedbackCapture(insight, transcript),
        AskEngine(engine, transcript, detector, max_attempts),
        RecordTurn(insight),
        HandOff(centre),
        StoreReplies(transcript),
    ]
