"""Fair turns: a lane with a long backlog cannot make another lane's turn wait behind it."""

from __future__ import annotations

import asyncio

from bot.conversation.fair import FairSlots


async def _order(flood: int, slots: int, per_lane: int) -> list[str]:
    """Who got a slot, in order, when a visitor's turn arrives behind `flood` waiting turns."""
    gate, order = FairSlots(slots, per_lane), []
    release = asyncio.Event()

    async def turn(lane: str) -> None:
        async with gate.turn(lane):
            order.append(lane)
            await release.wait()
            release.clear()

    tasks = [asyncio.create_task(turn("flood")) for _ in range(flood)]
    await asyncio.sleep(0)  # the flood takes its slots and queues the rest
    tasks.append(asyncio.create_task(turn("visitor")))
    await asyncio.sleep(0)
    while len(order) < flood + 1:
        release.set()  # one turn ends
        await asyncio.sleep(0.001)
    release.set()
    await asyncio.gather(*tasks)
    return order


def test_a_visitor_waits_for_at_most_one_turn_of_a_flood() -> None:
    order = asyncio.run(_order(flood=50, slots=1, per_lane=1))
    assert order.index("visitor") == 1  # after the turn running when it came, not after 50


def test_a_lane_holds_at_most_its_share_of_the_slots() -> None:
    order = asyncio.run(_order(flood=50, slots=8, per_lane=2))
    assert order[:2] == ["flood", "flood"] and order[2] == "visitor"


def test_a_cancelled_wait_gives_nothing_away() -> None:
    async def run() -> int:
        gate = FairSlots(1)
        async with gate.turn("a"):
            waiter = asyncio.create_task(gate.turn("b").__aenter__())
            await asyncio.sleep(0)
            waiter.cancel()
            await asyncio.gather(waiter, return_exceptions=True)
        async with gate.turn("c"):  # the slot is free again, not held by the cancelled wait
            return gate.waiting("b")

    assert asyncio.run(run()) == 0
