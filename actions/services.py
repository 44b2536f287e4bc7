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
from bot.studio.live import LiveKnowledge

_lock = threading.Lock()
_live: LiveKnowledge | None = None
_detector: LanguageDetector | None = None
_contact_centre: ContactCentreConfig | None = None


def use_detector(detector: LanguageDetector) -> None:
    """Share the app's language detector with the actions."""
    global _detector
    _detector = detector


def use_live(live: LiveKnowledge) -> None:
    """Share the app's live knowledge (kept current by the studio's revision) with the actions:
    always the app's own copy, the one its refresh loop keeps current."""
    global _live
    with _lock:
        _live = live


def live(settings: Settings | None = None) -> LiveKnowledge:
    """The process's live knowledge: the app's, or opened here from the settings' database if
    an action is called first."""
    global _live
    with _lock:
        if _live is None:
            from bot.storage.db import Database

            settings = settings or get_settings()
            db = Database(settings.database_url)
            db.create_schema()
            _live = LiveKnowledge(db, settings)
        return _live


def knowledge(settings: Settings | None = None) -> KnowledgeBase:
    """The published knowledge base as this process last loaded it (loaded on first use: by
    the app at start-up, or by the first action call if that comes first)."""
    return live(settings).load()


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
