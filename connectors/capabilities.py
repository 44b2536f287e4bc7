"""What each channel can show and what its rules are, declared once and read by the rest
of the code.

The conversation worker, the contact centre, the feedback recorder and the outbox sender ask
`capabilities(channel)` instead of testing channel names: a new channel declares its facts here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can show, and the rules that come with it."""

    buttons: bool
    max_buttons: int = 0
    max_button_title: int = 0
    max_chars: int = 4096
    # Carrier keywords (STOP, START, HELP...) are answered by us and opt the citizen out or in; on
    # such a channel CANCEL and QUIT are opt-out words too, so the line is left with LEAVE.
    carrier_keywords: bool = False
    # Every message costs the agency (and maybe the citizen): say less, ask feedback rarely.
    paid_per_message: bool = False


SMS = Capabilities(buttons=False, max_chars=3 * 153, carrier_keywords=True, paid_per_message=True)
WHATSAPP = Capabilities(buttons=False, max_chars=1600, carrier_keywords=True, paid_per_message=True)
TELEGRAM = Capabilities(buttons=True, max_buttons=10, max_button_title=64, max_chars=4096)
MESSENGER = Capabilities(buttons=True, max_buttons=13, max_button_title=20, max_chars=2000)
WEBCHAT = Capabilities(buttons=True, max_buttons=10, max_button_title=300, max_chars=20_000)

CHANNELS: dict[str, Capabilities] = {
    "sms": SMS,
    "whatsapp": WHATSAPP,
    "telegram": TELEGRAM,
    "messenger": MESSENGER,
    "webchat": WEBCHAT,
}


def capabilities(channel: str) -> Capabilities:
    """The declared capabilities of `channel` (a channel we do not know gets plain text only)."""
    return CHANNELS.get(channel, Capabilities(buttons=False))
