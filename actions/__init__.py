"""Rasa custom actions (rasa-sdk). Kept thin: the logic lives in the app's knowledge services."""

from actions.answer import ActionAnswerQuestion, ActionNextCandidates
from actions.handoff import ActionHandoff
from actions.language import ActionDetectLanguage

__all__ = ["ActionAnswerQuestion", "ActionDetectLanguage", "ActionHandoff", "ActionNextCandidates"]
