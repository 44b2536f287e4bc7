"""The contact centre, the agents' side: claim, accept or decline an offer, reply, transfer,
resolve. Every move is audited; the citizen is told, in their language, on their channel."""

from __future__ import annotations

import asyncio
import json

from bot.handoff.agents import Login
from bot.handoff.effects import CentreBase, Effects
from bot.handoff.queue import QueueError
from bot.inbox.entries import TranscriptEntry
from bot.messages import say
from bot.privacy.redact import redact
from bot.storage.models import Agent, Handoff
from connectors.capabilities import capabilities


class AgentSide(CentreBase):
    """What agents do from the console."""

    async def claim(self, login: Login, queue_id: str | None, ip: str) -> Handoff | None:
        def step() -> tuple[Effects, Handoff | None]:
            effects = self._effects()
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
            effects = self._effects()
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
            effects = self._effects()
            effects.queue_event("requeued", self.queue.decline(handoff_id, login.agent.id))
            self._audit.record(login.agent, login.agent.username, "decline", handoff_id, ip)
            return effects

        await self._run(step)
        return self._must_get(handoff_id)

    async def reply(self, login: Login, handoff_id: int, text: str, ip: str) -> TranscriptEntry:
        def step() -> tuple[Effects, TranscriptEntry]:
            effects = self._effects()
            handoff = self.queue.get(handoff_id)
            if (
                handoff is None
                or handoff.status != "assigned"
                or handoff.agent_id != login.agent.id
            ):
                raise QueueError("the conversation is not assigned to you")
            entry = self._transcript.inbox.add_notice(
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
            effects = self._effects()
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
            effects = self._effects()
            handoff = self.queue.resolve(handoff_id, login.agent.id, disposition)
            buttons = (
                None
                if not capabilities(handoff.channel).buttons
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
