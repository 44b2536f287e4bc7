"""What the citizen panel's tests share: the profile file and a survey of three questions
(single choice, scale, free text) with skip logic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PROFILE = Path(__file__).resolve().parents[2] / "data" / "panel" / "profile.yml"
SURVEY: dict[str, Any] = {
    "title": "Renewing a permit",
    "intro_en": "three questions on renewing a permit",
    "intro_fr": "trois questions sur le renouvellement d'un permis",
    "questions": [
        {
            "key": "how",
            "kind": "single",
            "en": "How did you renew?",
            "fr": "Comment avez-vous renouvelé?",
            "options": [
                {"key": "online", "en": "Online", "fr": "En ligne"},
                {"key": "office", "en": "At an office", "fr": "Au bureau"},
                {"key": "not-yet", "en": "Not yet", "fr": "Pas encore"},
            ],
            "next": {"not-yet": "end"},
        },
        {
            "key": "ease",
            "kind": "scale",
            "en": "How easy was it?",
            "fr": "Était-ce facile?",
            "next": {"1": "why", "2": "why"},
            "after": "end",
        },
        {
            "key": "why",
            "kind": "text",
            "en": "What made it hard?",
            "fr": "Qu'est-ce qui était difficile?",
            "optional": True,
        },
    ],
}
