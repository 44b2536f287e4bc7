"""Channel rules on what may be sent: SMS opt-outs and the reply windows of Messenger
and WhatsApp."""

from __future__ import annotations

import datetime as dt
import unicodedata

from sqlalchemy import select

from bot.clock import Clock, system_clock
from bot.storage.db import Database
from bot.storage.models import OptOut

BOT_WINDOW = dt.timedelta(hours=24)
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)

# keyword -> (what it does, the language it is in; None when it is the same word in both)
_KEYWORDS: dict[str, tuple[str, str | None]] = {
    **{w: ("stop", "en") for w in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")},
    **{w: ("stop", "fr") for w in ("ARRET", "ARRETER", "DESABONNER")},
    **{w: ("start", "en") for w in ("START", "UNSTOP")},
    **{w: ("start", "fr") for w in ("DEBUT", "DEMARRER")},
    "HELP": ("help", "en"),
    "INFO": ("help", None),
    "AIDE": ("help", "fr"),
}


def keyword(text: str) -> tuple[str, str | None] | None:
    """The SMS compliance keyword a whole message is: ("stop"|"start"|"help", its
    language), if any."""
    if len(text.split()) > 1:
        return None  # "stop sending me ads about parking" is a question, not a keyword
    folded = unicodedata.normalize("NFKD", text.strip().upper())
    return _KEYWORDS.get("".join(ch for ch in folded if ch.isalpha()))


def window_refusal(
    channel: str,
    from_agent: bool,
    last_inbound_at: dt.datetime | None,
    now: dt.datetime,
) -> str | None:
    """Why a message may not be sent now on `channel` (None when it may)."""
    if channel not in ("messenger", "whatsapp"):
        return None
    if last_inbound_at is None:
        return f"{channel}: the citizen has never written"
    age = now - last_inbound_at
    if age <= BOT_WINDOW:
        return None
    if channel == "messenger" and from_agent and age <= HUMAN_AGENT_WINDOW:
        return None
    if channel == "messenger":
        return (
            "messenger: more than 7 days since the citizen's last message"
            if from_agent
            else "messenger: more than 24 hours since the citizen's last message (only a person "
            "may reply, with the HUMAN_AGENT tag, up to 7 days)"
        )
    return (
        "whatsapp: outside the 24-hour customer-service window (a pre-approved template is needed)"
    )


class OptOuts:
    """Who texted STOP; enforced on every later outbound message, an agent's included."""

    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock

    def set(self, channel: str, address: str, opted_out: bool) -> None:
        """Record an opt-out (STOP) or opt-in (START)."""
        with self._db.session() as session:
            row = session.get(OptOut, (channel, address))
            if row is None:
                session.add(OptOut(channel=channel, address=address, opted_out=opted_out))
            else:
                row.opted_out, row.changed_at = opted_out, self._clock()
            session.commit()

    def is_opted_out(self, channel: str, address: str) -> bool:
        """True when the citizen's last word on this channel was STOP."""
        with self._db.session() as session:
            return bool(
                session.scalar(
                    select(OptOut.opted_out).where(
                        OptOut.channel == channel, OptOut.address == address
                    )
                )
            )
