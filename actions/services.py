"""Where actions find the app's services: set by the app at start-up, or opened lazily
from settings.

Loading happens on first use, never at import: the rasa-sdk server forks, and a model loaded at
import time crashes it.
"""

from __future__ import annotations

import threading

from bot.handoff.config import ContactCentreConfig, load_config
from bot.knowledge.service import KnowledgeBase
from bot.language import LanguageDetector
from bot.settings import Settings, get_settings

_lock = threading.Lock()
_knowledge: KnowledgeBase | None = None
_detector: LanguageDetector | None = None
_contact_centre: ContactCentreConfig | None = None


def use_detector(detector: LanguageDetector) -> None:
    """Share the app's language detector with the actions."""
    global _detector
    _detector = detector


def knowledge(settings: Settings | None = None) -> KnowledgeBase:
    """The process's one knowledge base, opened on first use (by the app at start-up, or by the
    first action call if that comes first: either way it is loaded once)."""
    global _knowledge
    with _lock:
        if _knowledge is None:
            from bot.knowledge.bank import FaqBank

            settings = settings or get_settings()
            _knowledge = KnowledgeBase.open(
                FaqBank.load(settings.faq_dir), settings.index_dir, settings
            )
        return _knowledge


def detector() -> LanguageDetector:
    """The language detector."""
    global _detector
    with _lock:
        if _detector is None:
            _detector = LanguageDetector()
        return _detector


def contact_centre() -> ContactCentreConfig:
    """The contact centre's queues (to route a hand-off, or to ask the citizen which service)."""
    global _contact_centre
    with _lock:
        if _contact_centre is None:
            _contact_centre = load_config(get_settings().contact_centre_file)
        return _contact_centre
