"""What both sides of the contact centre share: its configuration, queue and transcript, and the
`Effects` of a blocking step, published back on the event loop (live events, waking the sender)."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.handoff.config import ContactCentreConfig, QueueConfig
from bot.handoff.hours import describe, next_opening
from bot.handoff.queue import HandoffQueue
from bot.inbox.entries import TranscriptEntry
from bot.inbox.transcript import Transcript
from bot.messages import say
from bot.storage.audit import AuditLog
from bot.storage.models import Handoff
from connectors.capabilities import capabilities

QUEUE_TOPIC = "console:queue"


def agent_topic(agent_id: int) -> str:
    """The live topic of one agent's consoles."""
    return f"console:agent:{agent_id}"


@dataclass
class Effects:
    """What a blocking step produced, to publish on the event loop."""

    at: dt.datetime  # when the step ran, by the contact centre's clock
    entries: list[tuple[str, TranscriptEntry]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def queue_event(self, event: str, handoff: Handoff) -> None:
        """Tell every console that a hand-off moved in the queue."""
        self.events.append(
            (
                QUEUE_TOPIC,
                {
                    "type": "queue",
                    "event": event,
                    "handoff_id": handoff.id,
                    "queue_id": handoff.queue_id,
                    "at": self.at.timestamp(),
                },
            )
        )

    def agent_line(
        self, agent_id: int | None, handoff: Handoff, entry: TranscriptEntry, text: str
    ) -> None:
        """Show a transcript line to the agent who has the conversation, if any."""
        if agent_id is not None:
            line = {
                "seq": entry.seq,
                "from": entry.sender,
                "text": text,
                "at": self.at.isoformat(),
            }
            self.events.append(
                (
                    agent_topic(agent_id),
                    {"type": "message", "handoff_id": handoff.id, "entry": line},
                )
            )


class CentreBase:
    """The contact centre's state and plumbing, shared by the citizen side, the agent side and the
    sweep."""

    def __init__(
        self,
        config: ContactCentreConfig,
        queue: HandoffQueue,
        transcript: Transcript,
        audit: AuditLog,
    ) -> None:
        self.config = config
        self.queue = queue
        self._transcript = transcript
        self._audit = audit

    def emit(self, effects: Effects) -> None:
        """Publish what a step produced (call on the event loop)."""
        for conversation_id, entry in effects.entries:
            self._transcript.publish(conversation_id, [entry])
        for topic, event in effects.events:
            self._transcript.event(topic, event)

    async def _run(self, step: Callable[..., Effects], *args: Any) -> Effects:
        effects = await asyncio.to_thread(step, *args)
        self.emit(effects)
        return effects

    def _effects(self) -> Effects:
        return Effects(self.queue.now())

    def _queue_config(self, queue_id: str) -> QueueConfig:
        return self.config.queue(queue_id) or self.config.default()

    def _leave_hint(self, channel: str, language: str) -> str:
        key = "leave_hint_sms" if capabilities(channel).carrier_keywords else "leave_hint"
        return say(key, language)

    def estimate(self, handoff: Handoff) -> tuple[int, int]:
        """(position, minutes) of a waiting hand-off: its place over the agents online, times the
        queue's recent median handling time."""
        position = self.queue.position(handoff) or 1
        online = max(1, len(self.queue.agents_online(self.config.timers.heartbeat_timeout_s)))
        handling = self.queue.handling_time_s(
            handoff.queue_id, self.config.timers.default_handling_s
        )
        return position, max(1, math.ceil(math.ceil(position / online) * handling / 60))

    def _notice(
        self,
        effects: Effects,
        handoff: Handoff,
        text: str,
        inbound_id: int | None = None,
        done: bool = False,
        buttons: list[dict[str, Any]] | None = None,
        kind: str = "queue",
    ) -> None:
        entry = self._transcript.inbox.add_notice(
            handoff.conversation_id, inbound_id, text, kind=kind, done=done, buttons=buttons
        )
        effects.entries.append((handoff.conversation_id, entry))
        effects.agent_line(handoff.agent_id, handoff, entry, text)

    def _joined_text(self, handoff: Handoff) -> str:
        queue = self._queue_config(handoff.queue_id)
        leave = self._leave_hint(handoff.channel, handoff.language)
        if handoff.status == "after_hours":
            opens = next_opening(queue, self.queue.now())
            when = describe(opens, handoff.language) if opens else "?"
            key = "after_hours_sms" if not capabilities(handoff.channel).buttons else "after_hours"
            return say(
                key,
                handoff.language,
                queue=queue.display_name(handoff.language),
                when=when,
                leave=leave,
            )
        position, minutes = self.estimate(handoff)
        self.queue.tell(
            handoff.id, (handoff.told_position, handoff.told_wait_min), (position, minutes)
        )
        return say(
            "queue_joined",
            handoff.language,
            queue=queue.display_name(handoff.language),
            position=position,
            minutes=minutes,
            leave=leave,
        )
