"""The outbox sender: delivers provider-channel replies, in order, with retries, within
channel rules."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from bot.clock import Clock, system_clock
from bot.failpoints import failpoint
from bot.inbox.outbox import Delivery, Outbox
from bot.inbox.policy import OptOuts, window_refusal
from connectors.base import ChannelAdapter, Outgoing, SendError, SentLookup
from connectors.capabilities import capabilities

log = logging.getLogger(__name__)
# Broadcast copies sent at once per channel and pass: below the HTTP client's 100 connections, so
# no copy waits for a connection long enough to time out.
MAX_BROADCAST_IN_FLIGHT = 50


class Pace:
    """A token bucket: at most `rate` messages a second, in bursts of at most one second's
    worth (or one message, below one a second)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._capacity = max(rate, 1.0)
        self._tokens = self._capacity
        self._at = time.monotonic()

    def available(self) -> int:
        now = time.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        return int(self._tokens)

    def spend(self, count: int) -> None:
        self._tokens -= count


class OutboxSender:
    """Claims due replies and sends each through its channel's adapter."""

    def __init__(
        self,
        outbox: Outbox,
        adapters: dict[str, ChannelAdapter],
        opt_outs: OptOuts,
        max_attempts: int = 8,
        poll_s: float = 0.5,
        clock: Clock = system_clock,
        broadcast_rates: Mapping[str, float] | None = None,
    ) -> None:
        self._outbox = outbox
        # Broadcast copies per channel and second, from this replica (replies are not paced).
        self._paces = {
            channel: Pace(rate) for channel, rate in (broadcast_rates or {}).items() if rate > 0
        }
        # Broadcast copies the provider took in this pass, recorded together at its end.
        self._taken: list[tuple[int, str]] = []
        self._adapters = adapters
        self._opt_outs = opt_outs
        self._max_attempts = max_attempts
        self._poll_s = poll_s
        self._clock = clock
        self.wake = asyncio.Event()

    async def deliver(self, delivery: Delivery) -> None:
        """Send one claimed reply, or record why it was not sent (database calls in threads)."""
        adapter = self._adapters.get(delivery.channel)
        if adapter is None:
            await asyncio.to_thread(
                self._outbox.failed,
                delivery.id,
                f"channel {delivery.channel} is not configured",
                False,
                None,
                self._max_attempts,
                delivery.attempts,
            )
            return
        # Compliance replies (the STOP confirmation itself) go out even to an opted-out number.
        if (
            capabilities(delivery.channel).carrier_keywords
            and delivery.kind != "compliance"
            and (
                delivery.opted_out
                if delivery.opted_out is not None
                else await asyncio.to_thread(
                    self._opt_outs.is_opted_out, delivery.channel, delivery.address
                )
            )
        ):
            await asyncio.to_thread(
                self._outbox.withheld, delivery.id, "suppressed", "recipient opted out (STOP)"
            )
            return
        if delivery.kind == "broadcast" and await self._settled_broadcast(adapter, delivery):
            return
        refusal = window_refusal(
            delivery.channel, delivery.sender == "agent", delivery.last_inbound_at, self._clock()
        )
        # Outside WhatsApp's window a broadcast copy goes as its approved template, if it has one.
        template = delivery.template if refusal and delivery.channel == "whatsapp" else None
        if refusal and not template:
            await asyncio.to_thread(self._outbox.withheld, delivery.id, "refused", refusal)
            return
        message = Outgoing(
            delivery.text,
            delivery.buttons,
            f"out-{delivery.id}",
            delivery.sender == "agent",
            template=template,
        )
        await failpoint("before_send")
        try:
            provider_id = await adapter.send(delivery.address, message)
        except SendError as exc:
            log.warning(
                "send of out-%s failed (%s): %s",
                delivery.id,
                "retry" if exc.retryable else "final",
                exc,
            )
            await asyncio.to_thread(
                self._outbox.failed,
                delivery.id,
                str(exc),
                exc.retryable,
                exc.retry_after,
                self._max_attempts,
                delivery.attempts,
            )
            return
        except Exception as exc:  # an adapter bug must not stop the sender; retry, then dead-letter
            log.exception("send of out-%s crashed", delivery.id)
            await asyncio.to_thread(
                self._outbox.failed,
                delivery.id,
                repr(exc),
                True,
                None,
                self._max_attempts,
                delivery.attempts,
            )
            return
        if delivery.kind == "broadcast":
            self._taken.append((delivery.id, provider_id))
            return
        await asyncio.to_thread(self._outbox.sent, delivery.id, provider_id)

    async def _settled_broadcast(self, adapter: ChannelAdapter, delivery: Delivery) -> bool:
        """Settle a broadcast copy that must not be sent now: the citizen unsubscribed since, or
        a crash cut its send short and the provider has it (or cannot say)."""
        if delivery.unsubscribed:
            await asyncio.to_thread(
                self._outbox.withheld,
                delivery.id,
                "unsubscribed",
                "the citizen unsubscribed since it was queued",
            )
            return True
        lookup = isinstance(adapter, SentLookup)
        # An earlier attempt that failed may have reached the provider all the same (a timeout, a
        # connection lost before the answer): where the provider can say, ask it first.
        if not delivery.in_doubt and not (lookup and delivery.attempts > 0):
            return False
        if not isinstance(adapter, SentLookup):
            # No way to ask: a second copy to every subscriber in flight is worse than a missing
            # one, which the results count as "in doubt".
            await asyncio.to_thread(
                self._outbox.withheld,
                delivery.id,
                "unknown",
                f"{delivery.channel}: a crash cut the send short and the provider cannot say "
                "whether it arrived; not sent again",
            )
            return True
        since = delivery.queued_at or self._clock()
        try:
            found = await adapter.find_sent(delivery.address, Outgoing(delivery.text), since)
        except SendError as exc:
            await asyncio.to_thread(
                self._outbox.failed,
                delivery.id,
                f"checking an interrupted send: {exc}",
                True,
                exc.retry_after,
                self._max_attempts,
                delivery.attempts,
            )
            return True
        if found:
            await asyncio.to_thread(self._outbox.sent, delivery.id, found)
            return True
        return False

    def _broadcast_budgets(self) -> dict[str, int]:
        return {
            channel: min(pace.available(), MAX_BROADCAST_IN_FLIGHT)
            for channel, pace in self._paces.items()
            if channel in self._adapters
        }

    async def run_once(self) -> int:
        """Claim what is due and send it (one message per conversation at a time; broadcast copies
        at each channel's pace); how many were handled."""
        claimed = await asyncio.to_thread(self._outbox.claim_due)
        for channel, budget in self._broadcast_budgets().items():
            copies = await asyncio.to_thread(self._outbox.claim_broadcasts, channel, budget)
            self._paces[channel].spend(len(copies))
            claimed.extend(copies)
        try:
            await asyncio.gather(*(self.deliver(d) for d in claimed))
        finally:
            # Lost in a crash before this, a copy's claim expires and it is in doubt: looked up
            # at the provider before it is sent again.
            taken, self._taken = self._taken, []
            await asyncio.to_thread(self._outbox.sent_many, taken)
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; wakes early when the worker stores new replies."""
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("outbox pass failed")
                handled = 0
            if handled:
                continue  # the next row of a conversation may be due right away
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self._poll_s)
            except TimeoutError:
                pass
