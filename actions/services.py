"""Where actions find the app's services: set by the app at start-up, or opened lazily from settings.

Loading happens on first use, never at import: the rasa-sdk server forks, and a model loaded at
import time crashes it.
"""

from __future__ import annotations

import threading

from bot.knowledge.service import KnowledgeBase
from bot.language import LanguageDetector

_lock = threading.Lock()
_knowledge: KnowledgeBase | None = None
_detector: LanguageDetector | None = None


def configure(knowledge: KnowledgeBase, detector: LanguageDetector | None = None) -> None:
    """Hand the app's own instances to the actions, so one process holds one copy of each model."""
    global _knowledge, _detector
    _knowledge = knowledge
    _detector = detector or _detector


def knowledge() -> KnowledgeBase:
    """The knowledge base (opened from settings when the app did not configure one)."""
    global _knowledge
    with _lock:
        if _knowledge is None:
            from bot.knowledge.bank import FaqBank
            from bot.settings import get_settings

            settings = get_settings()
            _knowledge = KnowledgeBase.open(FaqBank.load(settings.faq_dir), settings.index_dir)
        return _knowledge


def detector() -> LanguageDetector:
    """The language detector."""
    global _detector
    with _lock:
        if _detector is None:
            _detector = LanguageDetector()
        return _detector
