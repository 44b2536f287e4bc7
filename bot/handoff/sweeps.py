"""The contact centre's sweep, on every replica: expired offers and the conversations of agents gone
offline back to their place, abandoned requests closed, waiting citizens told of meaningful changes
of their position (not of every move: each SMS costs money)."""

from __future__ import annotations

import asyncio
import logging
import math

from bot.handoff.effects import CentreBase, Effects
from bot.messages import say

log = logging.getLogger(__name__)


def worth_telling(told: tuple[int | None, int | None], position: int, minutes: int) -> bool:
    """Whether a waiting citizen should hear about their new place: first time, when they are next,
    when the position has halved, or when the wait has doubled. Not on every move: each SMS
    costs money."""
    told_position, told_minutes = told
    if told_position is None or told_minutes is None:
        return True
    if position == 1:
        return told_position != 1
    if position <= told_position // 2 and told_position - position >= 2:
        return True
    return minutes >= 2 * told_minutes and minutes - told_minutes >= 5


class Sweeps(CentreBase):
    """The periodic pass over every queue."""

    def sweep_once(self) -> Effects:
        """One pass: expired offers and offline agents' conversations back to their place, abandoned
        requests closed, waiting citizens told of meaningful changes."""
        effects = self._effects()
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
