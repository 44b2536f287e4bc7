"""Detecting the citizen's language on every turn (a custom slot mapping run
by action_extract_slots)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.language import requested_language


class ActionDetectLanguage(Action):
    """Sets `language` (reply language) and `detected_language` (en, fr, other or unknown)."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = (tracker.latest_message or {}).get("text") or ""
        current = tracker.get_slot("language") or "en"
        asked = requested_language(text)
        if asked:
            return [SlotSet("language", asked), SlotSet("detected_language", asked)]
        detection = services.detector().detect(text)
        if detection.language in ("en", "fr"):
            return [
                SlotSet("language", detection.language),
                SlotSet("detected_language", detection.language),
            ]
        return [
            SlotSet("language", current),
            SlotSet("detected_language", detection.language or "unknown"),
        ]
