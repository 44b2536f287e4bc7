"""The contact-centre queue on SQLite and PostgreSQL: service order, atomic claims under contention,
and conversations going back to their place (offer not accepted, agent offline),
abandoned, transferred."""

from __future__ import annotations

import datetime as dt
import itertools
import threading

import pytest

from bot.handoff.queue import HandoffQueue, QueueError
from bot.inbox.store import Inbox
from bot.storage.db import Database
from bot.storage.models import Agent, utcnow


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def make_agents(db: Database, count: int) -> list[int]:
    with db.session() as session:
        agents = [
            Agent(username=f"agent{i}", display_name=f"Agent {i}", password_hash="x", role="agent")
            for i in range(count)
        ]
        session.add_all(agents)
        session.commit()
        return [a.id for a in agents]


_citizens = itertools.count(1000)


def waiting_citizens(
    db: Database,
    queue: HandoffQueue,
    clock: Clock,
    count: int,
    queue_id: str = "revenue",
    channel: str = "sms",
) -> list[int]:
    """`count` citizens in line, one second apart (each a new conversation)."""
    inbox, ids = Inbox(db), []
    for _ in range(count):
        n = next(_citizens)
        received = inbox.receive(channel, f"+1514555{n:04d}", f"m{n}", "a person please")
        handoff, created = queue.enqueue(
            received.conversation_id,
            channel,
            queue_id,
            "requested",
            "en",
            inbound_id=received.inbound_id,
        )
        assert created
        ids.append(handoff.id)
        clock.advance(1)
    return ids


def test_fifty_agents_claiming_at_once_get_exactly_the_ten_waiting(db: Database) -> None:
    clock = Clock()
    queue = HandoffQueue(db, clock)
    waiting = waiting_citizens(db, queue, clock, 10)
    agents = make_agents(db, 50)
    start = threading.Barrier(len(agents))
    claimed: list[int | None] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def agent(agent_id: int) -> None:
        try:
            start.wait()
            handoff = queue.claim_next(agent_id, offer_s=30)
            with lock:
                claimed.append(handoff.id if handoff else None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=agent, args=(a,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    got = [c for c in claimed if c is not None]
    assert len(claimed) == 50
    assert sorted(got) == sorted(waiting)  # each waiting conversation exactly once
    owners = {h.id: h.agent_id for h in queue.with_agent()}
    assert len(owners) == 10 and len(set(owners.values())) == 10
    assert queue.claim_next(agents[0], offer_s=30) is None


def test_service_order_is_priority_then_tickets_then_first_come(db: Database) -> None:
    clock = Clock()
    queue = HandoffQueue(db, clock)
    first, second, third = waiting_citizens(db, queue, clock, 3)
    inbox = Inbox(db)
    urgent_in = inbox.receive("telegram", "42", "u1", "I am in danger")
    urgent, _ = queue.enqueue(
        urgent_in.conversation_id,
        "telegram",
        "revenue",
        "urgent",
        "en",
        priority=100,
        inbound_id=urgent_in.inbound_id,
    )
    late_in = inbox.receive("webchat", "w1", "t1", "closed hours")
    late, _ = queue.enqueue(
        late_in.conversation_id,
        "webchat",
        "revenue",
        "requested",
        "en",
        inbound_id=late_in.inbound_id,
        status="after_hours",
    )
    ticket = queue.make_ticket(late.id, "call me about my refund", "+15145550100")
    order = [h.id for h in queue.waiting()]
    assert order == [urgent.id, ticket.id, first, second, third]
    assert [queue.position(h) for h in queue.waiting()] == [1, 2, 3, 4, 5]
    other = waiting_citizens(db, queue, clock, 1, queue_id="benefits")[0]
    assert queue.position(queue.get(other)) == 1  # positions are per queue


def test_enqueue_is_idempotent_per_message_and_per_conversation(db: Database) -> None:
    clock = Clock()
    queue = HandoffQueue(db, clock)
    inbox = Inbox(db)
    received = inbox.receive("sms", "+15145550100", "m1", "agent")
    first, created = queue.enqueue(
        received.conversation_id,
        "sms",
        "revenue",
        "requested",
        "en",
        inbound_id=received.inbound_id,
    )
    again, created_again = queue.enqueue(
        received.conversation_id,
        "sms",
        "revenue",
        "requested",
        "en",
        inbound_id=received.inbound_id,
    )
    other_msg = inbox.receive("sms", "+15145550100", "m2", "agent please")
    third, created_third = queue.enqueue(
        received.conversation_id,
        "sms",
        "benefits",
        "requested",
        "en",
        inbound_id=other_msg.inbound_id,
    )
    assert created and not created_again and not created_third
    assert first.id == again.id == third.id


def test_an_offer_not_accepted_in_time_goes_back_to_its_place(db: Database) -> None:
    clock = Clock()
    queue = HandoffQueue(db, clock)
    first, second, third = waiting_citizens(db, queue, clock, 3)
    (agent,) = make_agents(db, 1)
    offered = queue.claim_next(agent, offer_s=30)
    assert offered is not None and offered.id == first
    clock.advance(10)
    assert queue.expire_offers() == []
    clock.advance(25)
    assert [h.id for h in queue.expire_offers()] == [first]
    assert [h.id for h in queue.waiting()] == [first, second, third]
    with pytest.raises(QueueError):
        queue.accept(first, agent)  # too late: it went back


def test_an_offline_agents_conversations_go_back_to_their_place(db: Database) -> None:
    clock = Clock()
    queue = HandoffQueue(db, clock)
    first, second, third = waiting_citizens(db, queue, clock, 3)
    online, offline = make_agents(db, 2)
    queue.heartbeat(online)
    queue.heartbeat(offline)
    mine = queue.claim_next(offline, offer_s=30)
    queue.accept(mine.id, offline)
    theirs = queue.claim_next(online, offer_s=30)
    queue.accept(theirs.id, online)
    clock.advance(30)
    queue.heartbeat(online)
    clock.advance(30)  # `offline` has been silent 60 s, `online` 30 s
    moved = queue.requeue_offline(heartbeat_timeout_s=45)
    assert [(h.id, assigned) for h, assigned in moved] == [(first, True)]
    assert [h.id for h in queue.waiting()] == [first, third]
    assert queue.get(second).agent_id == online


def test_transfer_keeps_the_arrival_time_and_resolve_asks_for_a_rating(db: Database) -> None:
    clock = Clock()
    queue = HandoffQueue(db, clock)
    (early,) = waiting_citizens(db, queue, clock, 1, queue_id="revenue")
    (later,) = waiting_citizens(db, queue, clock, 1, queue_id="benefits")
    (agent,) = make_agents(db, 1)
    claimed = queue.claim_next(agent, offer_s=30, queue_ids=["revenue"])
    queue.accept(claimed.id, agent)
    moved = queue.transfer(claimed.id, agent, "benefits")
    assert moved.status == "waiting" and moved.queue_id == "benefits" and moved.agent_id is None
    assert [h.id for h in queue.waiting(["benefits"])] == [
        early,
        later,
    ]  # ahead of the later arrival
    again = queue.claim_next(agent, offer_s=30, queue_ids=["benefits"])
    queue.accept(again.id, agent)
    clock.advance(120)
    done = queue.resolve(again.id, agent, "answered")
    assert done.status == "resolved" and done.rating_pending and done.disposition == "answered"
    assert queue.rating_pending_for(done.conversation_id).id == done.id
    assert queue.handling_time_s("benefits", default_s=300) == pytest.approx(120, abs=1)
    with pytest.raises(QueueError):
        queue.resolve(again.id, agent, "answered")  # once


def test_silent_citizens_are_abandoned_but_tickets_are_kept(db: Database) -> None:
    clock = Clock()
    queue = HandoffQueue(db, clock)
    (quiet,) = waiting_citizens(db, queue, clock, 1)
    inbox = Inbox(db)
    late_in = inbox.receive("webchat", "w9", "t9", "closed")
    late, _ = queue.enqueue(
        late_in.conversation_id,
        "webchat",
        "revenue",
        "requested",
        "en",
        inbound_id=late_in.inbound_id,
        status="after_hours",
    )
    queue.make_ticket(late.id, "call me", None)
    clock.advance(3600)
    abandoned = queue.abandon(silent_s=1800)
    assert [h.id for h in abandoned] == [quiet]
    assert [h.id for h in queue.waiting()] == [late.id]
