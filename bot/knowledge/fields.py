"""The texts of an FAQ that retrieval encodes: questions, question + answer,
question + answer's opening."""

from __future__ import annotations

import re

from bot.knowledge.faq import Faq
from connectors.rich_text import parse, to_words

_LINK = re.compile(r"(https?://\S+|www\.\S+|tel:\S+)")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=[A-ZÀ-Ý0-9«\"(\-•])|\n+")


def clean_answer(text: str) -> str:
    """The answer as a citizen reads it (the answer format's marks and link addresses gone,
    connectors/rich_text.py),
    without links and phone URIs, which only add noise to its meaning."""
    text = _LINK.sub(" ", to_words(parse(text)))
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def sentences(text: str) -> list[str]:
    """The answer split into sentences (good enough for FAQ prose in English and French)."""
    return [
        part.strip(" -•\t") for part in _SENTENCE_END.split(text) if len(part.strip(" -•\t")) > 3
    ]


def question_and_answer(faq: Faq) -> str:
    """The question followed by the whole (cleaned) answer."""
    return f"{faq.question} {clean_answer(faq.answer)}"


def question_and_opening(faq: Faq) -> str:
    """The question followed by the first two sentences of its answer, where the gist usually is."""
    answer = clean_answer(faq.answer)
    return f"{faq.question} {' '.join((sentences(answer) or [answer])[:2])}"
