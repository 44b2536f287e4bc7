"""Identifiers shared by every layer: a citizen's conversation is "<channel>:<address>"."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConversationId:
    """One citizen on one channel: ("sms", "+15145550100") <-> "sms:+15145550100"."""

    channel: str
    address: str

    @classmethod
    def parse(cls, value: str) -> ConversationId:
        """The parts of a stored conversation id; ValueError when it has no channel."""
        channel, sep, address = value.partition(":")
        if not sep or not channel:
            raise ValueError(f"not a conversation id: {value[:40]!r}")
        return cls(channel, address)

    def __str__(self) -> str:
        return f"{self.channel}:{self.address}"


def conversation_id(channel: str, address: str) -> str:
    """The stored id of a citizen's conversation on a channel."""
    return str(ConversationId(channel, address))
