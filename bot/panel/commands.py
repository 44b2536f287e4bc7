"""What a citizen's whole message asks of the panel: PANEL / PANEL CITOYEN (join: shows what
joining means), AGREE / ACCEPTE (consent), SURVEY / SONDAGE (go on with an open survey), LEAVE
PANEL / QUITTER PANEL (leave: profile and answers deleted).

QUIT and CANCEL are carrier opt-out words on SMS, so leaving takes two words.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.panel.definition import fold

_PHRASES: dict[str, tuple[str, str]] = {
    "PANEL": ("join", "en"),
    "JOINPANEL": ("join", "en"),
    "PANELCITOYEN": ("join", "fr"),
    "AGREE": ("agree", "en"),
    "IAGREE": ("agree", "en"),
    "ACCEPTE": ("agree", "fr"),
    "JACCEPTE": ("agree", "fr"),
    "SURVEY": ("resume", "en"),
    "SONDAGE": ("resume", "fr"),
    "LEAVEPANEL": ("leave", "en"),
    "QUITTERPANEL": ("leave", "fr"),
    "QUITTERLEPANEL": ("leave", "fr"),
}


@dataclass(frozen=True, slots=True)
class PanelCommand:
    verb: str  # join, agree, resume or leave
    language: str


def parse(text: str) -> PanelCommand | None:
    """The panel command a whole message is, if any (at most three words)."""
    if not text or len(text.split()) > 3:
        return None
    found = _PHRASES.get(fold(text))
    return PanelCommand(*found) if found else None
