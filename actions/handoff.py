"""Connecting the citizen to a person. Until the contact-centre queue exists: official contact details."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.messages import say


class ActionHandoff(Action):
    """Gives the contact details of the agency the conversation is about (or of every agency)."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb = services.knowledge()
        language = tracker.get_slot("language") or "en"
        topic = [tracker.get_slot("answered_faq_id"), *(tracker.get_slot("offered_faq_ids") or []),
                 *(tracker.get_slot("candidate_faq_ids") or [])[:1]]
        faq = next((kb.faq(i) for i in topic if i and kb.faq(i)), None)
        agency = kb.agency(faq.agency) if faq else None
        if agency is not None and agency.phone:
            dispatcher.utter_message(text=say(
                "handoff_agency", language, agency=agency.display_name(language), phone=agency.phone,
                hours=agency.hours.get(language, ""), url=agency.url,
            ))
        else:
            lines = [say("handoff_all", language)]
            lines += [f"- {a.display_name(language)}: {a.phone} {a.url}".rstrip()
                      for a in kb.bank.agencies.values() if a.phone or a.url]
            dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("pending_offer", None)]
