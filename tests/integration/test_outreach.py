"""Outreach on SQLite and PostgreSQL: double opt-in, maker-checker, a fan-out that queues each
subscriber exactly once (also across a crash and two replicas), quiet hours, paced sends, and a
send cut short by a crash checked with the provider before it is sent again."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.conversation.sender import OutboxSender
from bot.handoff.agents import Agents
from bot.inbox.outbox import Outbox
from bot.inbox.policy import OptOuts
from bot.inbox.quiet_hours import QuietHours, held_until
from bot.outreach.broadcasts import Broadcasts
from bot.outreach.fanout import FanOut
from bot.outreach.subscriptions import Subscriptions
from bot.outreach.topics import OutreachError, Topics, validated
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import BroadcastDelivery, Conversation, OutboundMessage, Subscription
from connectors.base import Capabilities, Incoming, Outgoing, SendError

# 15:00 in Toronto (EST, UTC-5): outside quiet hours
T0 = dt.datetime(2026, 12, 7, 20, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple 42"
ZONE = "America/Toronto"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


class RecordingAdapter:
    """A channel that records every send; with `lookup`, it can say what it already took."""

    name = "sms"
    capabilities = Capabilities(buttons=False)

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def parse(self, request: Any) -> list[Incoming]:
        raise NotImplementedError

    async def send(self, address: str, message: Outgoing) -> str:
        self.sent.append((address, message.text))
        return f"SM{len(self.sent)}"

    async def aclose(self) -> None:
        return None


class LookupAdapter(RecordingAdapter):
    async def find_sent(self, address: str, message: Outgoing, since: dt.datetime) -> str | None:
        for number, (to, text) in enumerate(self.sent, 1):
            if to == address and text == message.text:
                return f"SM{number}"
        return None


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outreach(db: Database, clock: Clock) -> tuple[Subscriptions, Broadcasts]:
    audit = AuditLog(db)
    agents = Agents(db, audit)
    agents.add("maker", PASSWORD, "supervisor")
    agents.add("checker", PASSWORD, "supervisor")
    agents.add("agent1", PASSWORD, "agent")
    Topics(db, audit, clock).add(validated("health", "Health", "Santé", None), "test")
    return Subscriptions(db, clock), Broadcasts(db, audit, clock)


def subscribe(subs: Subscriptions, count: int, topic: str = "health", start: int = 0) -> None:
    for n in range(start, start + count):
        subs.request(
            "sms",
            f"+1514{n:07d}",
            topic,
            language="fr" if n % 3 == 0 else "en",
            wording="(test)",
            timezone=ZONE,
            double_opt_in=False,
        )


def approved(broadcasts: Broadcasts, urgent: bool = False) -> int:
    broadcast_id = broadcasts.create(
        "health", "Boil water advisory lifted.", "Avis d'ébullition levé.", urgent, "maker"
    )
    broadcasts.approve(broadcast_id, "checker")
    return broadcast_id


def queued(db: Database, broadcast_id: int) -> list[tuple[str, str]]:
    with db.session() as session:
        return [
            (conversation_id, text)
            for conversation_id, text in session.execute(
                select(OutboundMessage.conversation_id, OutboundMessage.text)
                .join(BroadcastDelivery, BroadcastDelivery.outbound_id == OutboundMessage.id)
                .where(BroadcastDelivery.broadcast_id == broadcast_id)
            )
        ]


def test_sms_subscription_is_pending_until_confirmed_within_a_day(
    db: Database, outreach: tuple[Subscriptions, Broadcasts], clock: Clock
) -> None:
    subs, _ = outreach
    ask: dict[str, Any] = {
        "language": "en",
        "wording": "Reply YES",
        "timezone": ZONE,
        "double_opt_in": True,
    }
    assert subs.request("sms", "+15145550100", "health", **ask) == "pending"
    assert subs.active_topics("sms", "+15145550100") == []
    assert subs.has_pending("sms", "+15145550100")
    assert subs.confirm("sms", "+15145550100") == ["health"]
    assert subs.active_topics("sms", "+15145550100") == ["health"]
    assert subs.request("sms", "+15145550100", "health", **ask) == "already"
    with db.session() as session:
        row = session.scalar(select(Subscription).where(Subscription.address == "+15145550100"))
        assert row is not None
        assert (row.wording, row.language, row.channel) == ("Reply YES", "en", "sms")
        assert row.confirmed_at is not None
    # A YES two days late confirms nothing.
    subs.request("sms", "+15145550101", "general", **ask)
    clock.now = T0 + dt.timedelta(days=2)
    assert not subs.has_pending("sms", "+15145550101")
    assert subs.confirm("sms", "+15145550101") == []
    assert subs.active_topics("sms", "+15145550101") == []
    # Unsubscribing one topic, then all.
    subs.request("sms", "+15145550100", "general", **{**ask, "double_opt_in": False})
    assert subs.remove("sms", "+15145550100", "health", "citizen") == ["health"]
    assert subs.active_topics("sms", "+15145550100") == ["general"]
    assert subs.remove("sms", "+15145550100", None, "stop") == ["general"]
    assert subs.active_topics("sms", "+15145550100") == []


def test_a_broadcast_needs_a_second_supervisor_and_a_text_that_fits(
    outreach: tuple[Subscriptions, Broadcasts],
) -> None:
    _, broadcasts = outreach
    with pytest.raises(OutreachError, match="not an active supervisor"):
        broadcasts.create("health", "Hello", None, False, "agent1")
    with pytest.raises(OutreachError, match="no topic"):
        broadcasts.create("parking", "Hello", None, False, "maker")
    with pytest.raises(OutreachError, match="segments"):
        broadcasts.create("health", "word " * 150, None, False, "maker")
    with pytest.raises(OutreachError, match="empty"):
        broadcasts.create("health", "   ", None, False, "maker")
    broadcast_id = broadcasts.create("health", "Clinics closed Monday.", None, False, "maker")
    with pytest.raises(OutreachError, match="second supervisor"):
        broadcasts.approve(broadcast_id, "maker")
    with pytest.raises(OutreachError, match="not an active supervisor"):
        broadcasts.approve(broadcast_id, "agent1")
    assert broadcasts.status(broadcast_id)["state"] == "awaiting_approval"
    broadcasts.approve(broadcast_id, "checker")
    with pytest.raises(OutreachError, match="approved"):
        broadcasts.approve(broadcast_id, "checker")
    status = broadcasts.status(broadcast_id)
    assert (status["state"], status["approved_by"]) == ("approved", "checker")


def test_fan_out_queues_each_subscriber_once_in_their_language(
    db: Database, outreach: tuple[Subscriptions, Broadcasts], clock: Clock
) -> None:
    subs, broadcasts = outreach
    subscribe(subs, 1200)
    subs.request(
        "sms",
        "+15149999999",
        "general",
        language="en",
        wording="",
        timezone=ZONE,
        double_opt_in=False,
    )  # another topic: not a recipient
    subs.remove("sms", "+15140000007", "health", "citizen")  # unsubscribed before: not either
    broadcast_id = approved(broadcasts)
    fanout = FanOut(db, batch=500, clock=clock)
    rounds = 0
    while fanout.run_once():
        rounds += 1
    rows = queued(db, broadcast_id)
    assert rounds == 3 and len(rows) == 1199
    assert len({conversation for conversation, _ in rows}) == 1199
    assert "sms:+15140000007" not in dict(rows) and "sms:+15149999999" not in dict(rows)
    assert dict(rows)["sms:+15140000003"] == "Avis d'ébullition levé."
    assert dict(rows)["sms:+15140000004"] == "Boil water advisory lifted."
    assert broadcasts.status(broadcast_id)["state"] == "sent"
    assert fanout.run_once() == 0, "nothing is queued twice"
    assert len(queued(db, broadcast_id)) == 1199


def test_a_batch_that_dies_half_way_leaves_nothing_and_is_queued_again(
    db: Database,
    outreach: tuple[Subscriptions, Broadcasts],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subs, broadcasts = outreach
    subscribe(subs, 300)
    broadcast_id = approved(broadcasts)
    fanout = FanOut(db, batch=100, clock=clock)
    assert fanout.step(broadcast_id) == 100
    # The second batch crashes after its outbox rows were inserted, before the delivery rows.
    real_execute = type(db.session()).execute
    calls = {"n": 0}

    def crashing(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(getattr(statement, "table", None), "name", "") == "outreach_deliveries":
            calls["n"] += 1
            raise RuntimeError("killed")
        return real_execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(type(db.session()), "execute", crashing)
    with pytest.raises(RuntimeError):
        fanout.step(broadcast_id)
    monkeypatch.undo()
    assert calls["n"] == 1
    assert len(queued(db, broadcast_id)) == 100
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 100
    while fanout.run_once():
        pass
    rows = queued(db, broadcast_id)
    assert len(rows) == 300 and len(set(rows)) == 300


def test_two_replicas_fanning_out_together_queue_each_subscriber_once(
    db: Database, outreach: tuple[Subscriptions, Broadcasts], clock: Clock
) -> None:
    subs, broadcasts = outreach
    subscribe(subs, 2000)
    broadcast_id = approved(broadcasts)
    errors: list[BaseException] = []

    def replica() -> None:
        fanout = FanOut(db, batch=200, clock=clock)
        try:
            for _ in range(200):
                if not fanout.due():
                    return
                fanout.run_once()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    rows = queued(db, broadcast_id)
    assert len(rows) == 2000 and len({c for c, _ in rows}) == 2000


def test_quiet_hours_hold_non_urgent_copies_until_morning(
    db: Database, outreach: tuple[Subscriptions, Broadcasts], clock: Clock
) -> None:
    # 23:30 in Toronto: the next morning at 08:00 local is 13:00 UTC.
    clock.now = dt.datetime(2026, 12, 8, 4, 30, tzinfo=dt.UTC)
    morning = dt.datetime(2026, 12, 8, 13, 0, tzinfo=dt.UTC)
    assert held_until(clock.now, ZONE, 21, 8) == morning
    assert held_until(dt.datetime(2026, 12, 8, 12, 59, tzinfo=dt.UTC), ZONE, 21, 8) == morning
    assert held_until(morning, ZONE, 21, 8) is None
    subs, broadcasts = outreach
    subscribe(subs, 5)
    calm, urgent = approved(broadcasts), approved(broadcasts, urgent=True)
    fanout = FanOut(db, QuietHours(21, 8), clock=clock)
    while fanout.run_once():
        pass
    adapter = RecordingAdapter()
    outbox = Outbox(db, "a", claim_s=30, clock=clock)
    sender = OutboxSender(
        outbox, {"sms": adapter}, OptOuts(db, clock), clock=clock, broadcast_rates={"sms": 100}
    )
    asyncio.run(sender.run_once())
    assert len(adapter.sent) == 5, "the urgent one goes at night"
    assert broadcasts.status(calm)["held_quiet_hours"] == 5
    assert broadcasts.status(urgent)["sent"] == 5
    clock.now = morning
    asyncio.run(sender.run_once())
    assert len(adapter.sent) == 10
    assert broadcasts.status(calm)["sent"] == 5


def test_sends_are_paced_and_skip_who_left_or_opted_out(
    db: Database, outreach: tuple[Subscriptions, Broadcasts], clock: Clock
) -> None:
    subs, broadcasts = outreach
    subscribe(subs, 30)
    broadcast_id = approved(broadcasts)
    fanout = FanOut(db, clock=clock)
    while fanout.run_once():
        pass
    subs.remove("sms", "+15140000001", "health", "citizen")  # after it was queued
    OptOuts(db, clock).set("sms", "+15140000002", True)
    adapter = RecordingAdapter()
    outbox = Outbox(db, "a", claim_s=30, clock=clock)
    sender = OutboxSender(
        outbox,
        {"sms": adapter},
        OptOuts(db, clock),
        clock=clock,
        broadcast_rates={"sms": 10},
    )
    assert asyncio.run(sender.run_once()) == 10, "one second's worth at 10 a second"
    for _ in range(40):
        asyncio.run(sender.run_once())
        if broadcasts.status(broadcast_id)["pending"] == 0:
            break
        asyncio.run(asyncio.sleep(0.2))
    status = broadcasts.status(broadcast_id)
    assert (status["sent"], status["unsubscribed"], status["opted_out"]) == (28, 1, 1)
    addresses = [address for address, _ in adapter.sent]
    assert len(addresses) == len(set(addresses)) == 28
    assert "+15140000001" not in addresses and "+15140000002" not in addresses


@pytest.mark.parametrize("lookup", [True, False])
def test_a_send_cut_short_by_a_crash_is_checked_before_it_goes_again(
    db: Database, outreach: tuple[Subscriptions, Broadcasts], clock: Clock, lookup: bool
) -> None:
    subs, broadcasts = outreach
    subscribe(subs, 2)
    broadcast_id = approved(broadcasts)
    while FanOut(db, clock=clock).run_once():
        pass
    adapter = LookupAdapter() if lookup else RecordingAdapter()
    # Replica "dead" claimed both and got the first one to the provider, then was killed.
    dead = Outbox(db, "dead", claim_s=30, clock=clock)
    first, second = dead.claim_broadcasts("sms", 10)
    asyncio.run(adapter.send(first.address, Outgoing(first.text)))
    clock.now = T0 + dt.timedelta(seconds=31)  # its claims expire
    outbox = Outbox(db, "alive", claim_s=30, clock=clock)
    retried = outbox.claim_broadcasts("sms", 10)
    assert [d.in_doubt for d in retried] == [True, True]
    with db.session() as session:  # release them again, for the sender's own claim
        session.execute(update(OutboundMessage).values(claimed_until=T0))
        session.execute(update(OutboundMessage).values(claimed_by="dead"))
        session.commit()
    sender = OutboxSender(
        outbox, {"sms": adapter}, OptOuts(db, clock), clock=clock, broadcast_rates={"sms": 100}
    )
    asyncio.run(sender.run_once())
    status = broadcasts.status(broadcast_id)
    addresses = [address for address, _ in adapter.sent]
    if lookup:  # the provider had the first: recorded as sent; the second is sent now
        assert sorted(addresses) == sorted([first.address, second.address])
        assert status["sent"] == 2 and status["in_doubt"] == 0
    else:  # nobody can say: not sent again, counted as in doubt
        assert addresses == [first.address]
        assert status["in_doubt"] == 2 and status["sent"] == 0


def test_delivery_reports_count_in_the_results(
    db: Database, outreach: tuple[Subscriptions, Broadcasts], clock: Clock
) -> None:
    subs, broadcasts = outreach
    subscribe(subs, 3)
    broadcast_id = approved(broadcasts, urgent=True)
    while FanOut(db, clock=clock).run_once():
        pass
    outbox = Outbox(db, "a", claim_s=30, clock=clock)
    sender = OutboxSender(
        outbox,
        {"sms": RecordingAdapter()},
        OptOuts(db, clock),
        clock=clock,
        broadcast_rates={"sms": 100},
    )
    asyncio.run(sender.run_once())
    assert outbox.delivery_report("SM1", "delivered")
    assert outbox.delivery_report("SM2", "undelivered")
    assert not outbox.delivery_report("SM-unknown", "delivered")
    status = broadcasts.status(broadcast_id)
    assert (status["sent"], status["delivered"], status["failed"]) == (3, 1, 1)


class TakesThenTimesOut(LookupAdapter):
    """Twilio took the message, but the answer never came back (a timeout)."""

    async def send(self, address: str, message: Outgoing) -> str:
        await super().send(address, message)
        raise SendError("Twilio timed out", True)


def test_a_copy_whose_send_timed_out_is_looked_up_not_sent_twice(
    db: Database, outreach: tuple[Subscriptions, Broadcasts], clock: Clock
) -> None:
    subs, broadcasts = outreach
    subscribe(subs, 1)
    broadcast_id = approved(broadcasts)
    while FanOut(db, clock=clock).run_once():
        pass
    adapter = TakesThenTimesOut()
    outbox = Outbox(db, "a", claim_s=30, clock=clock)
    sender = OutboxSender(
        outbox, {"sms": adapter}, OptOuts(db, clock), clock=clock, broadcast_rates={"sms": 100}
    )
    asyncio.run(sender.run_once())
    assert len(adapter.sent) == 1 and broadcasts.status(broadcast_id)["pending"] == 1
    clock.now = T0 + dt.timedelta(minutes=5)  # past the retry's backoff
    asyncio.run(sender.run_once())
    assert len(adapter.sent) == 1, "found in the provider's list: not sent again"
    assert broadcasts.status(broadcast_id)["sent"] == 1


def test_the_counts_of_several_broadcasts_at_once_are_each_ones_own(
    db: Database, outreach: tuple[Subscriptions, Broadcasts], clock: Clock
) -> None:
    subs, broadcasts = outreach
    subscribe(subs, 4)
    first, second = approved(broadcasts, urgent=True), approved(broadcasts, urgent=True)
    fanout = FanOut(db, clock=clock)
    assert fanout.step(first) == 4  # the second is approved but not queued yet
    outbox = Outbox(db, "a", claim_s=30, clock=clock)
    sender = OutboxSender(
        outbox, {"sms": RecordingAdapter()}, OptOuts(db, clock), clock=clock,
        broadcast_rates={"sms": 2},
    )  # fmt: skip
    asyncio.run(sender.run_once())  # two of the first's copies go
    together = broadcasts.statuses([first, second, 999])
    assert set(together) == {first, second}
    assert together == {first: broadcasts.status(first), second: broadcasts.status(second)}
    assert (together[first]["queued"], together[first]["sent"], together[first]["pending"]) == (
        4,
        2,
        2,
    )
    assert (together[second]["queued"], together[second]["active_subscribers"]) == (0, 4)
    with pytest.raises(OutreachError, match="no broadcast"):
        broadcasts.status(999)


class TemplateAdapter(RecordingAdapter):
    name = "whatsapp"

    def __init__(self) -> None:
        super().__init__()
        self.templates: list[str | None] = []

    async def send(self, address: str, message: Outgoing) -> str:
        self.templates.append(message.template)
        return await super().send(address, message)


def test_whatsapp_copies_outside_the_window_go_as_the_approved_template_or_not_at_all(
    db: Database, outreach: tuple[Subscriptions, Broadcasts], clock: Clock
) -> None:
    subs, broadcasts = outreach
    for number, language in (("+15140000101", "en"), ("+15140000102", "fr")):
        subs.request(
            "whatsapp",
            f"whatsapp:{number}",
            "health",
            language=language,
            wording="(test)",
            timezone=ZONE,
            double_opt_in=False,
        )
    with pytest.raises(OutreachError, match="Content SID"):
        broadcasts.create("health", "x", None, True, "maker", None, ("HX123", None))
    template_en, template_fr = "HX" + "a" * 32, "HX" + "b" * 32
    plain = approved(broadcasts, urgent=True)
    templated = broadcasts.create(
        "health", "Roads open.", "Routes ouvertes.", True, "maker", None, (template_en, template_fr)
    )
    broadcasts.approve(templated, "checker")
    while FanOut(db, clock=clock).run_once():
        pass
    # Both citizens last wrote two days ago: outside WhatsApp's 24-hour window.
    with db.session() as session:
        session.execute(
            update(Conversation)
            .where(Conversation.channel == "whatsapp")
            .values(last_inbound_at=T0 - dt.timedelta(days=2))
        )
        session.commit()
    adapter = TemplateAdapter()
    sender = OutboxSender(
        Outbox(db, "a", claim_s=30, clock=clock),
        {"whatsapp": adapter},
        OptOuts(db, clock),
        clock=clock,
        broadcast_rates={"whatsapp": 100},
    )
    asyncio.run(sender.run_once())
    assert sorted(zip(adapter.sent, adapter.templates, strict=True)) == [
        (("whatsapp:+15140000101", "Roads open."), template_en),
        (("whatsapp:+15140000102", "Routes ouvertes."), template_fr),
    ]
    assert broadcasts.status(templated)["sent"] == 2
    assert broadcasts.status(plain)["sent"] == 0 and broadcasts.status(plain)["skipped"] == 2
    with db.session() as session:
        reasons = set(
            session.scalars(
                select(OutboundMessage.last_error)
                .join(BroadcastDelivery, BroadcastDelivery.outbound_id == OutboundMessage.id)
                .where(BroadcastDelivery.broadcast_id == plain)
            )
        )
    assert reasons == {
        "whatsapp: outside the 24-hour customer-service window (a pre-approved template is needed)"
    }
