"""The shapes of a conversation's lines: a stored inbound message, and one transcript line as the
channels show it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.storage.models import OutboundMessage


@dataclass(frozen=True, slots=True)
class Received:
    """A stored inbound message; `duplicate` when the provider had already delivered it."""

    inbound_id: int
    conversation_id: str
    seq: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    """One line of a conversation, as channels show it."""

    seq: int
    sender: str  # user | bot | agent | system
    text: str
    buttons: list[dict[str, Any]] = field(default_factory=list)
    inbound_id: int | None = None
    client_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The wire form used by the web chat."""
        data: dict[str, Any] = {
            "seq": self.seq,
            "from": self.sender,
            "text": self.text,
            "buttons": self.buttons,
        }
        if self.client_id:
            data["client_id"] = self.client_id
        return data


def outbound_entry(row: OutboundMessage) -> TranscriptEntry:
    """A stored reply as a transcript line."""
    return TranscriptEntry(row.seq, row.sender, row.text, list(row.buttons or []), row.inbound_id)
