""" "How would the bot answer?": a draft tried against the live bank without publishing it. The
draft joins a copy of the index (only its own texts are encoded); test questions show the top 3
and the bot's move; warnings say when the draft is too close to another FAQ or takes another
FAQ's own question away from it."""

from __future__ import annotations

from typing import Any

from bot.knowledge.decision import decide
from bot.knowledge.faq import Faq
from bot.knowledge.service import KnowledgeBase
from connectors.rich_text import parse, problems, telegram_visible, to_blocks, to_plain
from connectors.sms_text import render_sms, segments

MAX_TESTS = 10
NEIGHBOURS = 5


def _shown(kb: KnowledgeBase, draft: Faq, faq_id: str) -> str:
    if faq_id == draft.id:
        return draft.question
    faq = kb.faq(faq_id)
    return faq.question if faq else faq_id


def preview(kb: KnowledgeBase, draft: Faq, tests: list[str]) -> dict[str, Any]:
    """The bot's move on each test question with `draft` published, and the warnings."""
    faqs = [f for f in kb.bank.faqs if f.id != draft.id] + [draft]
    index = kb.index.rebuilt(faqs)
    results = []
    for question in [t.strip() for t in tests if t.strip()][:MAX_TESTS]:
        hits = index.search(question, draft.language, k=3)
        decision = decide(hits, kb.thresholds, question)
        results.append(
            {
                "question": question,
                "outcome": decision.outcome.value,
                "answers_with": decision.faq_id,
                "top": [
                    {
                        "faq_id": hit.faq_id,
                        "question": _shown(kb, draft, hit.faq_id),
                        "cosine": round(float(hit.cosine), 3),
                        "is_draft": hit.faq_id == draft.id,
                    }
                    for hit in hits
                ],
            }
        )
    warnings = []
    nearest = [
        hit
        for hit in kb.index.search(draft.question, draft.language, k=NEIGHBOURS + 1)
        if hit.faq_id != draft.id
    ][:NEIGHBOURS]
    for hit in nearest[:1]:
        if hit.cosine >= kb.thresholds.answer_cosine:
            warnings.append(
                {
                    "kind": "duplicate",
                    "faq_id": hit.faq_id,
                    "text": f"Very close to {hit.faq_id} "
                    f"(\u201c{_shown(kb, draft, hit.faq_id)}\u201d): "
                    "a duplicate, or two answers that may conflict.",
                }
            )
    for hit in nearest:
        other = kb.faq(hit.faq_id)
        if other is None:
            continue
        ranked = index.search(other.question, other.language, k=2)
        if ranked and ranked[0].faq_id == draft.id:
            warnings.append(
                {
                    "kind": "unreachable",
                    "faq_id": other.id,
                    "text": f"{other.id}'s own question (\u201c{other.question}\u201d) would get "
                    "this draft's answer instead.",
                }
            )
    for problem in problems(draft.answer):
        warnings.append({"kind": "format", "faq_id": draft.id, "text": problem})
    return {"tests": results, "warnings": warnings, "channels": channels(draft.answer)}


def channels(answer: str) -> dict[str, Any]:
    """The answer as each channel shows it: SMS (fitted, with its segment count), plain text on
    Messenger, Telegram's visible text, and the widget's blocks."""
    document = parse(answer)
    plain = to_plain(document)
    sms = render_sms(plain)  # as the Twilio adapter fits it: GSM-7 where it can, at most 3 parts
    return {
        "sms": {"text": sms, "segments": segments(sms)},
        "messenger": {"text": plain},
        "telegram": {"text": telegram_visible(document)},
        "widget": {"blocks": to_blocks(document)},
    }
