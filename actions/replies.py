"""The messages actions send: an answer with its source, a numbered "Did you mean" list, an offer
of a person."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.engine.instructions import TurnAnalytics
from bot.knowledge.faq import Faq
from bot.knowledge.service import KnowledgeBase
from bot.messages import say


def send_answer(dispatcher: CollectingDispatcher, faq: Faq) -> None:
    """The FAQ's answer, then its official source."""
    text = faq.answer
    if faq.source_url:
        # One newline: Rasa splits a text on blank lines into separate messages.
        text += "\n" + say("source", faq.language, url=faq.source_url)
    dispatcher.utter_message(text=text)


def send_choices(
    dispatcher: CollectingDispatcher,
    kb: KnowledgeBase,
    faq_ids: list[str],
    language: str,
    intro: str,
) -> None:
    """A numbered list of FAQ questions, with a button per question and a "none of these" button."""
    lines = [say(intro, language)]
    buttons: list[dict[str, Any]] = []
    for number, faq_id in enumerate(faq_ids, start=1):
        faq = kb.faq(faq_id)
        if faq is None:
            continue
        title = kb.translation(faq, language).question
        lines.append(f"{number}) {title}")
        buttons.append({"title": title, "payload": "/choose_faq" + json.dumps({"faq_id": faq_id})})
    buttons.append({"title": say("none_of_these", language), "payload": "/not_helpful"})
    lines.append(say("pick_hint", language))
    dispatcher.utter_message(text="\n".join(lines), buttons=buttons)


def send_person_offer(dispatcher: CollectingDispatcher, language: str, key: str) -> None:
    """Ask whether the citizen wants a person, with yes/no buttons."""
    dispatcher.utter_message(
        text=say(key, language),
        buttons=[
            {"title": say("yes", language), "payload": "/affirm"},
            {"title": say("no", language), "payload": "/deny"},
        ],
    )


def record(
    dispatcher: CollectingDispatcher,
    outcome: str,
    language: str,
    question: str | None,
    faq: Faq | None = None,
) -> None:
    """Tell the app what this turn did with the question (its analytics; not shown to
    the citizen)."""
    analytics = TurnAnalytics.model_validate(
        {
            "outcome": outcome,
            "language": language,
            "question": question,
            "faq_id": faq.id if faq else None,
            "agency": faq.agency if faq else None,
        }
    )
    dispatcher.utter_message(json_message=analytics.message())
