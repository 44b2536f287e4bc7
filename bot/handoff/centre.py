"""The contact centre's service: what happens to a citizen who asked for a person, and to their messages.

The conversation worker asks `intercept` first for every citizen message: while a hand-off is in progress
the message is kept for the agent and never reaches the bot (and the bot says nothing); "cancel" leaves
the line; right after a resolve a digit 1-5 is the satisfaction rating; an urgent topic skips the bot and
goes to the front of the line. When the bot decides to hand off (an action's `{"handoff": ...}` payload),
the worker calls `hand_off`. Agents act through the console, which calls the agent-side methods. A sweep
on every replica returns expired offers and the conversations of agents gone offline to their place,
closes abandoned requests and tells waiting citizens about meaningful changes of their position.

Blocking database work runs in threads and returns `Effects`; publishing them (live events, waking the
outbox sender) happens back on the event loop, where the hub and the sender's event live.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.engine.client import BotMessage
from bot.handoff.agents import Login
from bot.handoff.audit import AuditLog
from bot.handoff.config import ContactCentreConfig, QueueConfig, UrgentTopic, fold
from bot.handoff.hours import describe, is_open, next_opening
from bot.handoff.queue import HandoffQueue, QueueError
from bot.inbox.hub import LiveHub
from bot.inbox.policy import SMS_CHANNELS
from bot.inbox.store import Inbox, TranscriptEntry
from bot.insight.recorder import Insight
from bot.messages import say
from bot.privacy.redact import phone_numbers, redact
from bot.storage.models import Agent, Handoff, InboundMessage

log = logging.getLogger(__name__)
QUEUE_TOPIC = "console:queue"
URGENT_PRIORITY = 100
# On SMS, CANCEL and QUIT are carrier opt-out words (STOP), so the line is left with LEAVE / QUITTER there.
_LEAVE_WORDS = {
    "cancel",
    "annuler",
    "leave",
    "quitter",
    "leave queue",
    "quitter la file",
    "/leave_queue",
}
_LEAVE_WORDS_SMS = {"leave", "quitter", "leave queue", "quitter la file"}
_RATING = re.compile(r"^\s*([1-5])\s*(?:/\s*5)?(?:[\s.!,:;-]+(.*))?$", re.DOTALL)
_RATE_PAYLOAD = re.compile(r"^/rate(\{.*\})$")


def agent_topic(agent_id: int) -> str:
    """The live topic of one agent's consoles."""
    return f"console:agent:{agent_id}"


def worth_telling(told: tuple[int | None, int | None], position: int, minutes: int) -> bool:
    """Whether a waiting citizen should hear about their new place: first time, when they are next, when
    the position has halved, or when the wait has doubled. Not on every move: each SMS costs money."""
    told_position, told_minutes = told
    if told_position is None or told_minutes is None:
        return True
    if position == 1:
        return told_position != 1
    if position <= told_position // 2 and told_position - position >= 2:
        return True
    return minutes >= 2 * told_minutes and minutes - told_minutes >= 5


def rating_of(text: str) -> tuple[int, str | None] | None:
    """A 1-5 satisfaction rating typed ("4", "4/5", "4 - quick and kind": score and comment) or pressed
    (`/rate{"score": 4}`), else None."""
    match = _RATING.match(text)
    if match:
        return int(match[1]), (match[2] or "").strip() or None
    payload = _RATE_PAYLOAD.match(text.strip())
    if payload:
        try:
            score = json.loads(payload[1]).get("score")
        except (ValueError, AttributeError):
            return None
        return (score, None) if isinstance(score, int) and 1 <= score <= 5 else None
    return None


@dataclass
class Effects:
    """What a blocking step produced, to publish on the event loop."""

    entries: list[tuple[str, TranscriptEntry]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def queue_event(self, event: str, handoff: Handoff) -> None:
        self.events.append(
            (
                QUEUE_TOPIC,
                {
                    "type": "queue",
                    "event": event,
                    "handoff_id": handoff.id,
                    "queue_id": handoff.queue_id,
                    "at": time.time(),
                },
            )
        )

    def agent_line(
        self, agent_id: int | None, handoff: Handoff, entry: TranscriptEntry, text: str
    ) -> None:
        if agent_id is not None:
            line = {
                "seq": entry.seq,
                "from": entry.sender,
                "text": text,
                "at": dt.datetime.now(dt.UTC).isoformat(),
            }
            self.events.append(
                (
                    agent_topic(agent_id),
                    {"type": "message", "handoff_id": handoff.id, "entry": line},
                )
            )


class ContactCentre:
    """Hand-offs, the citizen's messages while one is in progress, and the agents' moves."""

    def __init__(
        self,
        config: ContactCentreConfig,
        queue: HandoffQueue,
        inbox: Inbox,
        hub: LiveHub,
        audit: AuditLog,
        on_replies: Callable[[], None] | None = None,
        insight: Insight | None = None,
    ) -> None:
        self.config = config
        self._insight = insight
        self.queue = queue
        self._inbox = inbox
        self._hub = hub
        self._audit = audit
        self._on_replies = on_replies or (lambda: None)

    # -- plumbing -----------------------------------------------------------------------------------
    def emit(self, effects: Effects) -> None:
        """Publish what a step produced (call on the event loop)."""
        for conversation_id, entry in effects.entries:
            self._hub.publish(conversation_id, {"type": "message", **entry.as_json()})
        for topic, event in effects.events:
            self._hub.publish(topic, event)
        if effects.entries:
            self._on_replies()

    async def _run(self, step: Callable[..., Effects], *args: Any) -> Effects:
        effects = await asyncio.to_thread(step, *args)
        self.emit(effects)
        return effects

    def _queue_config(self, queue_id: str) -> QueueConfig:
        return self.config.queue(queue_id) or self.config.queue(self.config.default_queue)  # type: ignore[return-value]

    def _leave_hint(self, channel: str, language: str) -> str:
        return say("leave_hint_sms" if channel in SMS_CHANNELS else "leave_hint", language)

    def estimate(self, handoff: Handoff) -> tuple[int, int]:
        """(position, minutes) of a waiting hand-off: its place over the agents online, times the queue's
        recent median handling time."""
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
        entry = self._inbox.add_notice(
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
            key = "after_hours_sms" if handoff.channel in SMS_CHANNELS else "after_hours"
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

    # -- the citizen's side -------------------------------------------------------------------------
    async def intercept(self, conversation_id: str, message: InboundMessage) -> bool:
        """Handle a message that must not reach the bot; False when it is the bot's to answer."""
        effects = await asyncio.to_thread(self._intercept, conversation_id, message)
        if effects is None:
            return False
        self.emit(effects)
        return True

    def _intercept(self, conversation_id: str, message: InboundMessage) -> Effects | None:
        effects = Effects()
        text = message.text.strip()
        active = self.queue.active_for(conversation_id)
        if active is not None:
            leave_words = _LEAVE_WORDS_SMS if message.channel in SMS_CHANNELS else _LEAVE_WORDS
            topic = self.config.urgent(text)
            if active.inbound_id == message.id:  # a retried turn that had already handed off
                self._notice(effects, active, self._joined_text(active), message.id, done=True)
            elif (
                fold(text) in leave_words or text == "/leave_queue"
            ) and active.status != "assigned":
                self._leave(effects, active, message.id)
            elif topic is not None and self.queue.bump(active.id, URGENT_PRIORITY):
                self._notice(effects, active, self._urgent_text(topic, text), message.id, done=True)
                effects.queue_event("enqueued", active)
            elif active.status == "after_hours":
                self._take_ticket(effects, active, message)
            else:
                # Kept for the agent: stored in the transcript, never sent to the bot.
                self._inbox.complete(message.id, [])
                line = TranscriptEntry(message.seq, "user", message.title or message.text)
                effects.agent_line(active.agent_id, active, line, redact(line.text))
            return effects
        pending = self.queue.rating_pending_for(conversation_id)
        if pending is not None:
            rating = rating_of(text)
            self.queue.record_rating(pending.id, rating[0] if rating else None)
            if rating is not None:
                if self._insight is not None:
                    queue = self._queue_config(pending.queue_id)
                    self._insight.record_satisfaction(
                        conversation_id,
                        pending.channel,
                        pending.language,
                        pending.id,
                        queue.agencies[0] if len(queue.agencies) == 1 else None,
                        *rating,
                    )
                self._notice(
                    effects,
                    pending,
                    say("rating_thanks", pending.language),
                    message.id,
                    done=True,
                    kind="notice",
                )
                return effects
        topic = self.config.urgent(text)
        if topic is not None:
            handoff, _ = self.queue.enqueue(
                conversation_id,
                message.channel,
                topic.queue or self.config.default_queue,
                "urgent",
                self._urgent_language(text, topic),
                question=redact(text)[:500],
                priority=URGENT_PRIORITY,
                inbound_id=message.id,
            )
            self._notice(
                effects,
                handoff,
                f"{self._urgent_text(topic, text)}\n{self._joined_text(handoff)}",
                message.id,
                done=True,
            )
            effects.queue_event("enqueued", handoff)
            return effects
        return None

    def _urgent_text(self, topic: UrgentTopic, text: str) -> str:
        return topic.message.get(self._urgent_language(text, topic)) or topic.message["en"]  # type: ignore[call-overload,no-any-return]

    @staticmethod
    def _urgent_language(text: str, topic: UrgentTopic) -> str:
        """French when the message matched only the topic's French phrases."""
        folded = f" {fold(text)} "
        matched = {
            lang
            for lang, phrases in topic.phrases.items()
            for p in phrases
            if f" {fold(p)} " in folded
        }
        return "fr" if matched == {"fr"} else "en"

    def _leave(self, effects: Effects, handoff: Handoff, inbound_id: int | None) -> None:
        try:
            left = self.queue.cancel(handoff.id)
        except QueueError:
            return
        self._notice(
            effects,
            left,
            say("queue_left", left.language),
            inbound_id,
            done=inbound_id is not None,
            kind="notice",
        )
        effects.queue_event("cancelled", left)

    def _take_ticket(self, effects: Effects, handoff: Handoff, message: InboundMessage) -> None:
        number = handoff.conversation_id.split(":", 1)[1] if message.channel == "sms" else None
        found = phone_numbers(message.text)
        ticket = self.queue.make_ticket(
            handoff.id, redact(message.text)[:1000], found[0] if found else number
        )
        queue = self._queue_config(ticket.queue_id)
        opens = next_opening(queue, self.queue.now())
        self._notice(
            effects,
            ticket,
            say(
                "ticket_taken",
                ticket.language,
                ticket=ticket.id,
                queue=queue.display_name(ticket.language),
                when=describe(opens, ticket.language) if opens else "",
            ),
            message.id,
            done=True,
        )
        effects.queue_event("ticket", ticket)

    async def opted_out(self, conversation_id: str) -> None:
        """The citizen texted STOP: nothing can reach them any more, so they leave the line."""

        def step() -> Effects:
            effects = Effects()
            active = self.queue.active_for(conversation_id)
            if active is not None:
                try:
                    effects.queue_event("cancelled", self.queue.cancel(active.id))
                except QueueError:
                    pass
            return effects

        await self._run(step)

    async def hand_off(
        self, conversation_id: str, message: InboundMessage, request: dict[str, Any]
    ) -> list[BotMessage]:
        """Put the conversation in line as the bot asked; what to tell the citizen, in their language."""
        effects, replies = await asyncio.to_thread(
            self._hand_off, conversation_id, message, request
        )
        self.emit(effects)
        return replies

    def _hand_off(
        self, conversation_id: str, message: InboundMessage, request: dict[str, Any]
    ) -> tuple[Effects, list[BotMessage]]:
        effects = Effects()
        language = request.get("language") if request.get("language") in ("en", "fr") else "en"
        queue = (
            self.config.queue(str(request.get("queue") or ""))
            or self.config.queue_for_agency(request.get("agency"))
            or self._queue_config(self.config.default_queue)
        )
        reason = str(request.get("reason") or "requested")[:32]
        question = request.get("question")
        status = "waiting" if is_open(queue, self.queue.now()) else "after_hours"
        handoff, created = self.queue.enqueue(
            conversation_id,
            message.channel,
            queue.id,
            reason,
            str(language),
            question=redact(str(question))[:500] if question else None,
            inbound_id=message.id,
            status=status,
        )
        if created:
            effects.queue_event("enqueued", handoff)
        return effects, [BotMessage(self._joined_text(handoff))]

    # -- the agent's side ---------------------------------------------------------------------------
    async def claim(self, login: Login, queue_id: str | None, ip: str) -> Handoff | None:
        def step() -> tuple[Effects, Handoff | None]:
            effects = Effects()
            queues = [queue_id] if queue_id else None
            handoff = self.queue.claim_next(
                login.agent.id, self.config.timers.offer_timeout_s, queues
            )
            if handoff is not None:
                effects.queue_event("claimed", handoff)
                self._audit.record(login.agent, login.agent.username, "claim", handoff.id, ip)
            return effects, handoff

        effects, handoff = await asyncio.to_thread(step)
        self.emit(effects)
        return handoff

    async def accept(self, login: Login, handoff_id: int, ip: str) -> Handoff:
        def step() -> Effects:
            effects = Effects()
            handoff = self.queue.accept(handoff_id, login.agent.id)
            queue = self._queue_config(handoff.queue_id)
            self._notice(
                effects,
                handoff,
                say(
                    "agent_joined",
                    handoff.language,
                    agent=login.agent.display_name,
                    queue=queue.display_name(handoff.language),
                ),
            )
            effects.queue_event("accepted", handoff)
            self._audit.record(login.agent, login.agent.username, "accept", handoff_id, ip)
            return effects

        await self._run(step)
        return self._must_get(handoff_id)

    async def decline(self, login: Login, handoff_id: int, ip: str) -> Handoff:
        def step() -> Effects:
            effects = Effects()
            effects.queue_event("requeued", self.queue.decline(handoff_id, login.agent.id))
            self._audit.record(login.agent, login.agent.username, "decline", handoff_id, ip)
            return effects

        await self._run(step)
        return self._must_get(handoff_id)

    async def reply(self, login: Login, handoff_id: int, text: str, ip: str) -> TranscriptEntry:
        def step() -> tuple[Effects, TranscriptEntry]:
            effects = Effects()
            handoff = self.queue.get(handoff_id)
            if (
                handoff is None
                or handoff.status != "assigned"
                or handoff.agent_id != login.agent.id
            ):
                raise QueueError("the conversation is not assigned to you")
            entry = self._inbox.add_notice(
                handoff.conversation_id, None, text, kind="reply", sender="agent"
            )
            effects.entries.append((handoff.conversation_id, entry))
            effects.agent_line(login.agent.id, handoff, entry, redact(text))
            self._audit.record(
                login.agent,
                login.agent.username,
                "reply",
                handoff_id,
                ip,
                {"seq": entry.seq, "chars": len(text)},
            )
            return effects, entry

        effects, entry = await asyncio.to_thread(step)
        self.emit(effects)
        return entry

    async def transfer(self, login: Login, handoff_id: int, queue_id: str, ip: str) -> Handoff:
        if self.config.queue(queue_id) is None:
            raise QueueError(f"no queue {queue_id!r}")

        def step() -> Effects:
            effects = Effects()
            handoff = self.queue.transfer(handoff_id, login.agent.id, queue_id)
            position, minutes = self.estimate(handoff)
            self.queue.tell(handoff.id, (None, None), (position, minutes))
            queue = self._queue_config(queue_id)
            self._notice(
                effects,
                handoff,
                say(
                    "transferred",
                    handoff.language,
                    queue=queue.display_name(handoff.language),
                    position=position,
                ),
            )
            effects.queue_event("transferred", handoff)
            self._audit.record(
                login.agent, login.agent.username, "transfer", handoff_id, ip, {"to": queue_id}
            )
            return effects

        await self._run(step)
        return self._must_get(handoff_id)

    async def resolve(self, login: Login, handoff_id: int, disposition: str, ip: str) -> Handoff:
        if self.config.disposition(disposition) is None:
            raise QueueError(f"unknown disposition {disposition!r}")

        def step() -> Effects:
            effects = Effects()
            handoff = self.queue.resolve(handoff_id, login.agent.id, disposition)
            buttons = (
                None
                if handoff.channel in SMS_CHANNELS
                else [
                    {"title": str(n), "payload": "/rate" + json.dumps({"score": n})}
                    for n in range(1, 6)
                ]
            )
            self._notice(
                effects,
                handoff,
                say("resolved_rating", handoff.language, agent=login.agent.display_name),
                buttons=buttons,
            )
            effects.queue_event("resolved", handoff)
            self._audit.record(
                login.agent,
                login.agent.username,
                "resolve",
                handoff_id,
                ip,
                {"disposition": disposition},
            )
            return effects

        await self._run(step)
        return self._must_get(handoff_id)

    def _must_get(self, handoff_id: int) -> Handoff:
        handoff = self.queue.get(handoff_id)
        if handoff is None:
            raise QueueError("no such hand-off")
        return handoff

    def heartbeat(self, agent: Agent) -> None:
        """The agent's console is alive (blocking)."""
        self.queue.heartbeat(agent.id)

    # -- the sweep ----------------------------------------------------------------------------------
    def sweep_once(self) -> Effects:
        """One pass: expired offers and offline agents' conversations back to their place, abandoned
        requests closed, waiting citizens told of meaningful changes."""
        effects = Effects()
        timers = self.config.timers
        for handoff in self.queue.expire_offers():
            effects.queue_event("requeued", handoff)
        for handoff, was_assigned in self.queue.requeue_offline(timers.heartbeat_timeout_s):
            effects.queue_event("requeued", handoff)
            if was_assigned:
                position, minutes = self.estimate(handoff)
                if self.queue.tell(
                    handoff.id, (handoff.told_position, handoff.told_wait_min), (position, minutes)
                ):
                    self._notice(
                        effects, handoff, say("agent_lost", handoff.language, position=position)
                    )
        for handoff in self.queue.abandon(timers.abandon_after_s):
            self._notice(effects, handoff, say("abandoned", handoff.language), kind="notice")
            effects.queue_event("abandoned", handoff)
        self._tell_positions(effects)
        return effects

    def _tell_positions(self, effects: Effects) -> None:
        waiting = self.queue.waiting(limit=100_000)
        if not waiting:
            return
        online = max(1, len(self.queue.agents_online(self.config.timers.heartbeat_timeout_s)))
        handling: dict[str, float] = {}
        places: dict[str, int] = {}
        for handoff in waiting:
            places[handoff.queue_id] = position = places.get(handoff.queue_id, 0) + 1
            if handoff.ticket:
                continue  # a ticket is a call back, not a live wait
            if handoff.queue_id not in handling:
                handling[handoff.queue_id] = self.queue.handling_time_s(
                    handoff.queue_id, self.config.timers.default_handling_s
                )
            minutes = max(
                1, math.ceil(math.ceil(position / online) * handling[handoff.queue_id] / 60)
            )
            told = (handoff.told_position, handoff.told_wait_min)
            if worth_telling(told, position, minutes) and self.queue.tell(
                handoff.id, told, (position, minutes)
            ):
                text = (
                    say("queue_next", handoff.language)
                    if position == 1
                    else say("queue_update", handoff.language, position=position, minutes=minutes)
                )
                self._notice(effects, handoff, text)

    async def run_sweeps(self, interval_s: float, stop: asyncio.Event) -> None:
        """Sweep every `interval_s` until `stop` is set."""
        while not stop.is_set():
            try:
                self.emit(await asyncio.to_thread(self.sweep_once))
            except Exception:  # keep sweeping; the next pass retries
                log.exception("contact-centre sweep failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except TimeoutError:
                pass
