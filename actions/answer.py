"""Answering a question from the FAQs, and "that did not help": next candidates, then a person."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.choices import pick
from actions.handoff import ask_which_service, request_handoff
from actions.replies import record, send_answer, send_choices, send_person_offer
from bot.knowledge.decision import Outcome
from bot.messages import say

Events = list[dict[str, Any]]


def _answered(faq_id: str, remaining: list[str], question: str | None, helpless: float) -> Events:
    return [
        SlotSet("answered_faq_id", faq_id),
        SlotSet("candidate_faq_ids", remaining),
        SlotSet("offered_faq_ids", []),
        SlotSet("last_question", question),
        SlotSet("not_helpful_count", helpless),
        SlotSet("pending_offer", None),
    ]


class ActionAnswerQuestion(Action):
    """Answers a new question, or the FAQ a citizen picked from a "Did you mean" list."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> Events:
        kb = services.knowledge()
        language = tracker.get_slot("language") or "en"
        message = tracker.latest_message or {}
        text = (message.get("text") or "").strip()
        intent = (message.get("intent") or {}).get("name")
        offered = list(tracker.get_slot("offered_faq_ids") or [])
        candidates = list(tracker.get_slot("candidate_faq_ids") or [])

        chosen = None
        if intent == "choose_faq":
            chosen = next(tracker.get_latest_entity_values("faq_id"), None)
        elif offered:
            chosen = pick(text, offered)
        faq = kb.faq(chosen) if chosen else None
        if faq is not None:
            send_answer(dispatcher, kb.translation(faq, language))
            record(dispatcher, "answered", language, tracker.get_slot("last_question") or text, faq)
            rest = [i for i in offered + candidates if i != faq.id]
            helpless = float(tracker.get_slot("not_helpful_count") or 0)
            return _answered(faq.id, rest, tracker.get_slot("last_question"), helpless)
        if intent == "choose_faq" or text.startswith("/"):
            # A stale or forged button payload: say we are unsure rather than guess.
            send_person_offer(dispatcher, language, "no_answer_offer_person")
            return [SlotSet("pending_offer", "person")]

        if tracker.get_slot("detected_language") == "other":
            dispatcher.utter_message(text=say("unsupported_language", language))
            return [SlotSet("pending_offer", None)]

        # ~50 ms of encoding: off the event loop, so web chat, webhooks and other actions
        # keep flowing.
        decision = await asyncio.to_thread(kb.ask, text, language)
        ranked = [hit.faq_id for hit in decision.candidates]
        answer = kb.faq(decision.faq_id) if decision.faq_id else None
        if decision.outcome is Outcome.ANSWER and answer is not None:
            send_answer(dispatcher, kb.translation(answer, language))
            record(dispatcher, "answered", language, text, answer)
            return _answered(answer.id, ranked[1:], text, 0.0)
        if decision.outcome is Outcome.CLARIFY:
            choices = list(decision.choices)
            send_choices(dispatcher, kb, choices, language, "did_you_mean")
            record(dispatcher, "clarify", language, text)
            return [
                SlotSet("answered_faq_id", None),
                SlotSet("offered_faq_ids", choices),
                SlotSet("candidate_faq_ids", ranked[len(choices) :]),
                SlotSet("last_question", text),
                SlotSet("not_helpful_count", 0.0),
                SlotSet("pending_offer", None),
            ]
        send_person_offer(dispatcher, language, "no_answer_offer_person")
        record(dispatcher, "no_answer", language, text)
        return [
            SlotSet("answered_faq_id", None),
            SlotSet("offered_faq_ids", []),
            SlotSet("candidate_faq_ids", ranked[:1]),
            SlotSet("last_question", text),
            SlotSet("not_helpful_count", 0.0),
            SlotSet("pending_offer", "person"),
        ]


class ActionNextCandidates(Action):
    """After "that did not help": the next closest questions once, then an offer of a person."""

    def name(self) -> str:
        return "action_next_candidates"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> Events:
        kb = services.knowledge()
        language = tracker.get_slot("language") or "en"
        helpless = float(tracker.get_slot("not_helpful_count") or 0) + 1
        shown = set(tracker.get_slot("offered_faq_ids") or []) | {
            tracker.get_slot("answered_faq_id")
        }
        remaining = [i for i in tracker.get_slot("candidate_faq_ids") or [] if i not in shown]
        if helpless >= 2:
            # Said twice that it did not help: straight to a person.
            dispatcher.utter_message(text=say("connecting", language))
            record(dispatcher, "handoff", language, tracker.get_slot("last_question"))
            if not request_handoff(dispatcher, tracker, "not_helpful"):
                ask_which_service(dispatcher, language)
            return [SlotSet("not_helpful_count", helpless), SlotSet("pending_offer", None)]
        if not remaining:
            send_person_offer(dispatcher, language, "offer_person")
            record(dispatcher, "no_answer", language, tracker.get_slot("last_question"))
            return [SlotSet("not_helpful_count", helpless), SlotSet("pending_offer", "person")]
        choices = remaining[:3]
        send_choices(dispatcher, kb, choices, language, "next_candidates")
        return [
            SlotSet("offered_faq_ids", choices),
            SlotSet("candidate_faq_ids", remaining[3:]),
            SlotSet("not_helpful_count", helpless),
            SlotSet("pending_offer", None),
        ]
