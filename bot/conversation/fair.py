"""Fair turns: at most `slots` turns run at once, shared round-robin between lanes (a web-chat
client address, a provider sender's conversation), so one lane's backlog cannot starve the others.

A lane holds at most `per_lane` slots; when a slot frees, the waiting lane served least recently
gets it (a lane idle until now first). A visitor's turn therefore waits only for the turns already
running, however many turns a flood has queued.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class FairSlots:
    """A semaphore that is fair between lanes rather than between waiters."""

    def __init__(self, slots: int, per_lane: int = 1) -> None:
        self._free = max(1, slots)
        self._per_lane = max(1, per_lane)
        self._busy: Counter[str] = Counter()
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()
        self._served_at: dict[str, int] = {}  # when each busy or waiting lane last got a slot
        self._clock = 0

    @asynccontextmanager
    async def turn(self, lane: str) -> AsyncIterator[None]:
        """Hold one slot of `lane` while the block runs."""
        await self._acquire(lane)
        try:
            yield
        finally:
            self._release(lane)

    def waiting(self, lane: str) -> int:
        """How many turns of `lane` wait for a slot."""
        return len(self._waiting.get(lane, ()))

    async def _acquire(self, lane: str) -> None:
        if self._free > 0 and self._busy[lane] < self._per_lane and not self._waiting:
            self._take(lane)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(lane, deque()).append(future)
        self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release(lane)  # granted as it was cancelled: give the slot back
            else:
                self._forget(lane, future)
            raise

    def _take(self, lane: str) -> None:
        self._free -= 1
        self._busy[lane] += 1
        self._clock += 1
        self._served_at[lane] = self._clock

    def _release(self, lane: str) -> None:
        self._free += 1
        self._busy[lane] -= 1
        if self._busy[lane] <= 0:
            del self._busy[lane]
            if lane not in self._waiting:
                self._served_at.pop(lane, None)  # idle: nothing to remember
        self._dispatch()

    def _forget(self, lane: str, future: asyncio.Future[None]) -> None:
        queue = self._waiting.get(lane)
        if queue is not None and future in queue:
            queue.remove(future)
            if not queue:
                del self._waiting[lane]

    def _dispatch(self) -> None:
        """Give free slots to waiting lanes, the least recently served first."""
        while self._free > 0:
            eligible = [n for n in self._waiting if self._busy[n] < self._per_lane]
            if not eligible:
                return
            lane = min(eligible, key=lambda n: self._served_at.get(n, 0))
            queue = self._waiting[lane]
            future = queue.popleft()
            if not queue:
                del self._waiting[lane]
            if future.cancelled():
                continue
            self._take(lane)
            future.set_result(None)
