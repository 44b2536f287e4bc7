"""Connecting the citizen to a person: the action decides where to (which queue) and why; the app's
contact centre does the queueing (the action's `{"handoff": ...}` payload reaches the conversation
worker, which puts the conversation in line and tells the citizen their place, in
their language)."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.engine.instructions import HandoffRequest
from bot.messages import say


def _topic_agency(tracker: Tracker) -> str | None:
    """The agency the conversation is about: that of the FAQ answered, or of the choices offered
    when they all belong to one agency. None when unclear (choices from several agencies, or only a
    low-confidence guess the citizen never saw): the citizen is then asked, rather than sent to a
    service they never chose."""
    kb = services.knowledge()
    answered = kb.faq(tracker.get_slot("answered_faq_id") or "")
    if answered is not None:
        return answered.agency
    offered = {
        faq.agency for faq in (kb.faq(i) for i in tracker.get_slot("offered_faq_ids") or []) if faq
    }
    return offered.pop() if len(offered) == 1 else None


def request_handoff(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, queue: str | None = None
) -> bool:
    """Ask the app to put the conversation in line; False when the queue is unknown and the citizen
    must be asked which service it is about."""
    config = services.contact_centre()
    agency = _topic_agency(tracker)
    if queue is None and config.queue_for_agency(agency) is None and len(config.queues) > 1:
        return False
    request = HandoffRequest.model_validate(
        {
            "queue": queue,
            "agency": agency,
            "reason": reason,
            "language": tracker.get_slot("language") or "en",
            "question": tracker.get_slot("last_question"),
        }
    )
    dispatcher.utter_message(json_message=request.message())
    return True


def ask_which_service(dispatcher: CollectingDispatcher, language: str) -> None:
    """Which queue? One button per queue (agencies first, the general line last)."""
    config = services.contact_centre()
    queues = sorted(config.queues, key=lambda q: q.id == config.default_queue)
    dispatcher.utter_message(
        text=say("which_service", language),
        buttons=[
            {
                "title": q.display_name(language),
                "payload": "/choose_queue" + json.dumps({"queue_id": q.id}),
            }
            for q in queues
        ],
    )


class ActionHandoff(Action):
    """Hands the conversation to a person: to the queue of the agency in question, or the one the
    citizen picks."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = tracker.get_slot("language") or "en"
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        picked = (
            next(tracker.get_latest_entity_values("queue_id"), None)
            if intent == "choose_queue"
            else None
        )
        if picked is not None and services.contact_centre().queue(picked) is None:
            picked = None  # a stale or forged button: ask again
        if intent == "request_human":
            reason = "requested"
        elif float(tracker.get_slot("not_helpful_count") or 0) >= 1:
            reason = "not_helpful"
        else:
            reason = "unsure" if intent == "affirm" else "requested"
        if not request_handoff(dispatcher, tracker, reason, picked):
            ask_which_service(dispatcher, language)
        return [SlotSet("pending_offer", None)]
