"""The conversation worker: one turn at a time per conversation, in arrival order, never dropping a
message.

Across replicas, a conversation's turns are taken by whoever holds its lease (a row-level
compare-and-set on `conversations`, so SQLite and PostgreSQL behave alike); a crashed replica's
lease expires and another picks its messages up. Each message goes through the turn's steps
(bot/conversation/pipeline.py); a step that halts (the engine is down) leaves it pending, and a
later pass takes it up again. Turns of different conversations share the engine's slots fairly
between lanes (bot/conversation/fair.py): a flood from one client waits behind everyone else's turn.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence

from bot.conversation.fair import FairSlots
from bot.conversation.turn import Flow, Step, TurnState
from bot.failpoints import failpoint
from bot.inbox.store import Inbox

log = logging.getLogger(__name__)


class ConversationWorker:
    """Drains each conversation's pending messages through the turn's steps, in order."""

    def __init__(
        self,
        inbox: Inbox,
        steps: Sequence[Step],
        lease_s: float = 60.0,
        owner: str | None = None,
        slots: FairSlots | None = None,
    ) -> None:
        self._inbox = inbox
        self._slots = slots or FairSlots(8, per_lane=2)
        self._steps = tuple(steps)
        self._lease_s = lease_s
        self.owner = owner or uuid.uuid4().hex[:16]
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def drain(self, conversation_id: str, lane: str | None = None) -> bool:
        """Process every pending message of the conversation; False if a step halted
        (engine down). `lane` is whose turns these are (the conversation itself by default)."""
        async with self._locks[conversation_id]:
            acquired = await asyncio.to_thread(
                self._inbox.acquire, conversation_id, self.owner, self._lease_s
            )
            if not acquired:
                return True  # another replica is taking this conversation's turns; it sees ours too
            try:
                return await self._drain_leased(conversation_id, lane or conversation_id)
            finally:
                await asyncio.to_thread(self._inbox.release, conversation_id, self.owner)

    async def _drain_leased(self, conversation_id: str, lane: str) -> bool:
        await failpoint("after_store")
        # Database calls run in threads: they block, and the loop also serves webhooks and sockets.
        while pending := await asyncio.to_thread(self._inbox.pending, conversation_id):
            for message in pending:
                await asyncio.to_thread(
                    self._inbox.acquire, conversation_id, self.owner, self._lease_s
                )
                async with self._slots.turn(lane):  # one turn, then the other lanes' turn
                    taken = await self.take_turn(TurnState.start(message))
                if not taken:
                    return False
        return True

    async def take_turn(self, turn: TurnState) -> bool:
        """Run the steps until one settles the message; False when one halted."""
        for step in self._steps:
            flow = await step(turn)
            if flow is Flow.DONE:
                return True
            if flow is Flow.HALT:
                return False
        raise RuntimeError("no step settled the message: the pipeline must end with one that does")

    async def retry_pending(self) -> int:
        """One pass over every conversation with waiting messages; returns how many were drained."""
        drained = 0
        for conversation_id in await asyncio.to_thread(self._inbox.conversations_with_pending):
            if not await self.drain(conversation_id):
                break  # the engine is still down: try again next pass
            drained += 1
        return drained

    async def run_retry_loop(self, interval_s: float, stop: asyncio.Event) -> None:
        """Pick up waiting messages every `interval_s` (after an outage, a crash, or another
        replica's lease) until `stop` is set."""
        while not stop.is_set():
            try:
                await self.retry_pending()
            except Exception:  # keep the loop alive; the next pass retries
                log.exception("retry pass failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except TimeoutError:
                pass
