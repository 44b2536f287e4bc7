"""Which language a citizen writes in: detection per message, and explicit requests to switch."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

SUPPORTED = ("en", "fr")

_ASK_FRENCH = re.compile(
    r"\b(en\s+fran[cç]ais|in\s+french|french\s+please|parlez[- ]vous\s+fran[cç]ais"
    r"|fran[cç]ais\s+(svp|s'il))",
    re.IGNORECASE,
)
_ASK_ENGLISH = re.compile(
    r"\b(in\s+english|english\s+please|en\s+anglais|speak\s+english|parlez[- ]vous\s+anglais"
    r"|anglais\s+(svp|s'il))",
    re.IGNORECASE,
)
# Languages a citizen might plausibly write in; anything detected outside SUPPORTED gets a
# bilingual reply.
_CANDIDATES = (
    "ENGLISH",
    "FRENCH",
    "SPANISH",
    "GERMAN",
    "ITALIAN",
    "PORTUGUESE",
    "DUTCH",
    "CHINESE",
    "ARABIC",
    "RUSSIAN",
    "JAPANESE",
    "KOREAN",
    "HINDI",
    "PUNJABI",
    "TAGALOG",
    "VIETNAMESE",
    "PERSIAN",
    "TURKISH",
    "POLISH",
    "UKRAINIAN",
)


# Short messages that statistical detection cannot place, but that say a lot about the
# citizen's language.
_SHORT_WORDS = {
    "fr": {
        "bonjour",
        "bonsoir",
        "salut",
        "allo",
        "allô",
        "merci",
        "oui",
        "non",
        "ouais",
        "au revoir",
        "merci beaucoup",
        "d'accord",
        "bonne journée",
        "aide",
        "aidez-moi",
        "svp",
        "s'il vous plaît",
    },
    "en": {
        "hello",
        "hi",
        "hey",
        "thanks",
        "thank you",
        "yes",
        "no",
        "yeah",
        "nope",
        "bye",
        "goodbye",
        "good morning",
        "help",
        "please",
        "ok thanks",
    },
}


@dataclass(frozen=True, slots=True)
class Detection:
    """The language of one message: a supported code, "other", or None when too short to tell."""

    language: str | None
    confidence: float


def requested_language(text: str) -> str | None:
    """The language a citizen explicitly asks for ("en français svp", "English please"), if any."""
    if _ASK_FRENCH.search(text):
        return "fr"
    if _ASK_ENGLISH.search(text):
        return "en"
    return None


# A redaction placeholder (bot/privacy/redact.py): "[name]", "[health_card]".
_PLACEHOLDER = re.compile(r"\[[a-z_]{2,20}\]")


class LanguageDetector:
    """lingua-based detection, tuned to refuse a verdict on short or ambiguous text."""

    def __init__(self, min_confidence: float = 0.75) -> None:
        self._min_confidence = min_confidence
        self._detector: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._detector is None:
                from lingua import Language, LanguageDetectorBuilder

                languages = [getattr(Language, name) for name in _CANDIDATES]
                # Two detectors: a wide one that spots unsupported languages, and an EN/FR one that
                # is far more decisive between the two we answer in.
                self._detector = (
                    LanguageDetectorBuilder.from_languages(*languages).build(),
                    LanguageDetectorBuilder.from_languages(
                        Language.ENGLISH, Language.FRENCH
                    ).build(),
                )
        return self._detector

    def detect(self, text: str) -> Detection:
        """Detect the language of `text`; None when there are too few letters to be sure.

        Redaction placeholders ("[name]", "[bank_account]") are English words in any message, so
        they are left out: "je suis [name]" reads as French, as "je suis Karine Ouellet" did."""
        text = _PLACEHOLDER.sub(" ", text)
        words = re.sub(r"[^\w' -]+", " ", text.lower()).strip()
        for code, known in _SHORT_WORDS.items():
            if words in known:
                return Detection(code, 1.0)
        letters = sum(ch.isalpha() for ch in text)
        if letters < 4 or text.startswith("/"):
            return Detection(None, 0.0)
        wide, bilingual = self._load()
        values = wide.compute_language_confidence_values(text)
        if values and letters >= 8 and values[0].value >= 0.75:
            code = values[0].language.iso_code_639_1.name.lower()
            if code not in SUPPORTED:
                return Detection("other", float(values[0].value))
        top = bilingual.compute_language_confidence_values(text)[0]
        # Short texts are often ambiguous ("information", "permit"); demand a clear winner.
        needed = self._min_confidence if letters >= 12 else max(self._min_confidence, 0.9)
        if top.value < needed:
            return Detection(None, float(top.value))
        return Detection(top.language.iso_code_639_1.name.lower(), float(top.value))
