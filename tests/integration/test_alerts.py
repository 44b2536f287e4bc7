"""Emerging-issue alerts on SQLite and PostgreSQL: a synthetic surge replayed inside ordinary
traffic, in simulated time, against an independent re-count of the documented rule; one alert per
surge, no false alerts; delivery to a local SMTP server and a local webhook, with retries;
replicas racing."""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import json
import math
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select

from bot.insight import alerts
from bot.insight.alerts import AlertWatcher, deliver, detect, threshold, watcher
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Alert, GapCluster, Turn, utcnow

T0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)  # a Monday, 00:00 UTC
STEP = dt.timedelta(minutes=5)
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)

FAQS = {
    "renew-driving-licence": 6.0,
    "pay-property-tax": 3.0,
    "passport-photo": 1.5,
    "school-closures": 0.8,
    "power-outage-status": 0.3,
}  # citizens per hour, on average
GAPS = {
    1: ("Can I pay a parking fine in cash?", 0.6),
    2: ("Is the Main Street bridge closed?", 0.3),
    3: ("Where do I vote if I moved last month?", 1.2),
    4: ("Do you buy back old bicycles?", 0.1),
}
UNCLUSTERED = 0.5  # unanswered questions the clusterer has not grouped (no group)


def settings(**overrides: Any) -> Settings:
    """Alert settings at their defaults, nothing delivered, whatever the environment says."""
    values: dict[str, Any] = {
        "alert_min_count": 8,
        "alert_ratio": 4.0,
        "alert_webhook_url": None,
        "alert_email_to": [],
        "smtp_host": None,
        "insight_interval_s": 30.0,
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


def daily_shape() -> list[float]:
    """Traffic per hour of the day relative to the day's average: quiet nights, busy
    office hours."""
    raw = [0.08 + max(0.0, math.sin(math.pi * (h - 6) / 14)) for h in range(24)]
    mean = sum(raw) / 24
    return [r / mean for r in raw]


@dataclass
class Traffic:
    """Turns to insert, and each group's (time, conversation) list for the re-count."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    clusters: dict[int, str] = field(
        default_factory=lambda: {c: label for c, (label, _) in GAPS.items()}
    )
    groups: dict[str, list[tuple[dt.datetime, str]]] = field(default_factory=dict)
    serial: int = 0

    def add(
        self,
        at: dt.datetime,
        outcome: str,
        question: str,
        faq_id: str | None = None,
        cluster_id: int | None = None,
        conversation: str | None = None,
    ) -> None:
        self.serial += 1
        conversation = conversation or f"webchat:c{self.serial}"
        self.rows.append(
            {
                "at": at,
                "conversation_id": conversation,
                "channel": "webchat",
                "language": "en",
                "outcome": outcome,
                "faq_id": faq_id,
                "question": question,
                "cluster_id": cluster_id,
                "clustered": cluster_id is not None or outcome == "answered",
            }
        )
        key = (
            f"faq:{faq_id}"
            if outcome == "answered" and faq_id
            else f"gap:{cluster_id}"
            if cluster_id
            else None
        )
        if key:
            self.groups.setdefault(key, []).append((at, conversation))

    def ordinary(self, start: dt.datetime, days: int, seed: int = 20260302) -> None:
        """Poisson counts per hour around each group's mean (daily cycle; weekends at half),
        uniform minutes."""
        rng, shape = np.random.default_rng(seed), daily_shape()
        for hour_index in range(days * 24):
            began = start + hour_index * HOUR
            level = shape[began.hour] * (0.5 if began.weekday() >= 5 else 1.0)
            for faq_id, mean in FAQS.items():
                for offset in rng.uniform(0, 3600, rng.poisson(mean * level)):
                    self.add(
                        began + dt.timedelta(seconds=float(offset)),
                        "answered",
                        f"question about {faq_id}",
                        faq_id=faq_id,
                    )
            for cluster_id, (label, mean) in GAPS.items():
                for offset in rng.uniform(0, 3600, rng.poisson(mean * level)):
                    outcome = ("no_answer", "clarify", "handoff")[int(offset) % 3]
                    self.add(
                        began + dt.timedelta(seconds=float(offset)),
                        outcome,
                        label.lower(),
                        cluster_id=cluster_id,
                    )
            for offset in rng.uniform(0, 3600, rng.poisson(UNCLUSTERED * level)):
                self.add(
                    began + dt.timedelta(seconds=float(offset)),
                    "no_answer",
                    "something else entirely",
                )

    def surge(
        self,
        start: dt.datetime,
        minutes: int,
        every_s: float,
        question: str,
        faq_id: str | None = None,
        cluster_id: int | None = None,
    ) -> None:
        """One question every `every_s` seconds for `minutes`, each from a new citizen."""
        outcome = "answered" if faq_id else "no_answer"
        for n in range(int(minutes * 60 / every_s)):
            self.add(
                start + dt.timedelta(seconds=n * every_s),
                outcome,
                f"{question} ({n})",
                faq_id=faq_id,
                cluster_id=cluster_id,
            )

    def seed(self, db: Database) -> None:
        with db.session() as session:
            for cluster_id, label in self.clusters.items():
                session.add(GapCluster(id=cluster_id, label=label, centroid=b"\0" * 8, size=1))
            session.flush()
            session.execute(insert(Turn), self.rows)
            session.commit()


# --- an independent re-count of the documented rule, in Python over the seeded rows ---------------


class Oracle:
    """What the module's docstring says should happen at each step, counted in Python from the
    raw turns."""

    def __init__(self, traffic: Traffic, config: Settings) -> None:
        self.groups = {key: sorted(values) for key, values in traffic.groups.items()}
        self.times = {key: [at for at, _ in values] for key, values in self.groups.items()}
        self.oldest = min(row["at"] for row in traffic.rows)
        self.config = config
        self.open: dict[str, str] = {}  # group -> window
        self.closed_at: dict[str, dt.datetime] = {}
        self.baselines: tuple[list[tuple[int, float]], list[tuple[int, float]]] = ([], [])

    def citizens(self, key: str, start: dt.datetime, end: dt.datetime) -> set[str]:
        times = self.times[key]
        return {
            c
            for _, c in self.groups[key][
                bisect.bisect_left(times, start) : bisect.bisect_left(times, end)
            ]
        }

    def rates(self, key: str, now: dt.datetime) -> tuple[int, int, float, float]:
        """Citizens in the last hour and day, and the usual hour and day, per the docstring (the
        usual rates' windows end at `now` rounded down to 10 minutes)."""
        anchor = T0 + (now - T0) // alerts.BASELINE_STEP * alerts.BASELINE_STEP
        hour = len(self.citizens(key, now - HOUR, now))
        day = len(self.citizens(key, now - DAY, now))
        hour_span = min(7 * 24.0, (anchor - HOUR - self.oldest) / HOUR)
        day_span = min(7.0, (anchor - DAY - self.oldest) / DAY)
        seasonal_days = max(1, min(7, math.floor((anchor - HOUR - self.oldest) / DAY)))
        flat_hour = len(self.citizens(key, anchor - HOUR - 7 * DAY, anchor - HOUR))
        same_hour = set().union(
            *(
                self.citizens(key, anchor - HOUR - k * DAY, anchor - k * DAY)
                for k in range(1, seasonal_days + 1)
            )
        )
        flat_day = len(self.citizens(key, anchor - 8 * DAY, anchor - DAY))
        expected_hour = max(
            flat_hour / hour_span, len(same_hour) / seasonal_days, alerts.FLOOR_PER_HOUR
        )
        expected_day = max(flat_day / day_span, alerts.FLOOR_PER_HOUR * 24)
        self.baselines = (
            [(flat_hour, hour_span), (len(same_hour), seasonal_days)],
            [(flat_day, day_span)],
        )
        return hour, day, expected_hour, expected_day

    def step(self, now: dt.datetime) -> list[tuple[str, str]]:
        """The events of one pass: ("open:<window>", group) and ("close", group)."""
        if now - self.oldest < dt.timedelta(days=2):
            return []
        events, was_open = [], dict(self.open)
        cfg = self.config
        for key in sorted(self.groups):
            hour, day, expected_hour, expected_day = self.rates(key, now)
            hour_baselines, day_baselines = self.baselines
            hour_t = threshold(cfg.alert_min_count, cfg.alert_ratio, expected_hour, hour_baselines)
            day_t = threshold(cfg.alert_min_count, cfg.alert_ratio, expected_day, day_baselines)
            if key in was_open:
                if 2 * hour < hour_t and (was_open[key] == "hour" or 2 * day < day_t):
                    del self.open[key]
                    self.closed_at[key] = now
                    events.append(("close", key))
                continue
            recent = key in self.closed_at and self.closed_at[key] > now - DAY
            window = "hour" if hour >= hour_t else "day" if day >= day_t and not recent else None
            if window:
                self.open[key] = window
                events.append((f"open:{window}", key))
        return events


def open_alerts(db: Database) -> dict[int, str]:
    with db.session() as session:
        return dict(
            session.execute(select(Alert.id, Alert.group_key).where(Alert.ended_at.is_(None))).all()
        )


def replay(
    db: Database, oracle: Oracle, config: Settings, times: list[dt.datetime]
) -> tuple[list[tuple[dt.datetime, str, str]], list[tuple[dt.datetime, str, str]]]:
    """Detect at each time; the events seen in the database, and the events the oracle expects."""
    seen, expected = [], []
    before = open_alerts(db)
    for now in times:
        opened = detect(db, config, now)
        after = open_alerts(db)
        assert {a.id for a in opened} == set(after) - set(before), (
            "detect returns exactly what it opened"
        )
        window = {a.id: a.window for a in opened}
        seen += [(now, f"open:{window[i]}", after[i]) for i in sorted(set(after) - set(before))]
        seen += [(now, "close", before[i]) for i in sorted(set(before) - set(after))]
        expected += [(now, kind, key) for kind, key in oracle.step(now)]
        before = after
    return sorted(seen), sorted(expected)


def steps(start: dt.datetime, end: dt.datetime, every: dt.timedelta) -> list[dt.datetime]:
    out, now = [], start
    while now <= end:
        out.append(now)
        now += every
    return out


# --- the surge tests ------------------------------------------------------------------------------


def test_threshold_is_the_documented_rule() -> None:
    week, day = (0, 7.0), (0, 168.0)  # nothing seen in the same hour of 7 days, nor in 168 hours
    assert threshold(8, 4.0, 0.25, [week, day]) == 8  # a brand-new group: the minimum count
    assert threshold(8, 4.0, 6.0, [(0, 7.0)]) == 24  # a brand-new group over a day (floor: 6 a day)
    assert threshold(8, 4.0, 5.0, [(35, 7.0), (840, 168.0)]) == 20  # 4 x usual
    # 12 in an hour against 16 in the same hour over 7 days is chance now and then; against none
    # it is not.
    assert threshold(8, 4.0, 16 / 7, [(16, 7.0), (279, 168.0)]) == 14
    assert alerts.chance(12, 16, 7) > alerts.ALPHA > alerts.chance(14, 16, 7)
    assert alerts.chance(12, 0, 7) == pytest.approx(8.0**-12)
    assert alerts.binomial_tail(3, 4, 0.5) == pytest.approx(5 / 16)


def test_a_gap_surge_hidden_in_ordinary_traffic_opens_one_alert_per_surge(db: Database) -> None:
    config = settings()
    traffic = Traffic()
    traffic.ordinary(T0, days=10)
    # A citizen repeating themselves (12 times in 20 minutes) is one citizen, not a surge.
    for n in range(12):
        traffic.add(
            T0 + 7 * DAY + 10 * HOUR + n * dt.timedelta(minutes=1, seconds=40),
            "no_answer",
            "is the main street bridge closed??",
            cluster_id=3,
            conversation="sms:+15145550123",
        )
    first = T0 + 7 * DAY + 18 * HOUR + dt.timedelta(minutes=2)  # Monday 18:02: the bridge rumour
    second = first + 5 * HOUR  # the same rumour again, later that night
    traffic.surge(
        first, minutes=75, every_s=150, question="is the main street bridge closed", cluster_id=2
    )
    traffic.surge(second, minutes=40, every_s=120, question="bridge closed again?", cluster_id=2)
    traffic.seed(db)
    oracle = Oracle(traffic, config)

    # Ordinary traffic only: from two days of history (hourly-ish) and over the whole last
    # ordinary day.
    quiet = steps(T0 + 2 * DAY, T0 + 7 * DAY, dt.timedelta(minutes=47))
    quiet += steps(
        T0 + 7 * DAY + dt.timedelta(minutes=3), first - 3 * STEP, dt.timedelta(minutes=10)
    )
    seen, expected = replay(db, oracle, config, quiet)
    assert expected == [], "the generated ordinary traffic has no surge by the rule"
    assert seen == [], "no false alert over ordinary traffic"

    times = steps(first - 2 * STEP, second + 3 * HOUR, STEP)
    # Then the next day, while the day window still holds the surges: no repeat.
    times += steps(
        second + 3 * HOUR + dt.timedelta(minutes=20), second + 26 * HOUR, dt.timedelta(minutes=20)
    )
    seen, expected = replay(db, oracle, config, times)
    assert seen == expected
    assert [(kind, key) for _, kind, key in seen] == [
        ("open:hour", "gap:2"),
        ("close", "gap:2"),
        ("open:hour", "gap:2"),
        ("close", "gap:2"),
    ]
    (opened, _, _), (closed, _, _), (reopened, _, _), _ = seen
    assert (
        first < opened <= first + 25 * dt.timedelta(minutes=1)
    )  # 8 questions at one per 2.5 minutes
    assert (
        first + 75 * dt.timedelta(minutes=1) < closed < second
    )  # after the surge ended, before the next
    assert second < reopened <= second + 20 * dt.timedelta(minutes=1)

    with db.session() as session:
        rows = session.scalars(select(Alert).order_by(Alert.id)).all()
    assert [r.group_key for r in rows] == ["gap:2", "gap:2"]
    alert = rows[0]
    assert alert.label == "Is the Main Street bridge closed?" and alert.window == "hour"
    hour, _, expected_hour, _ = oracle.rates("gap:2", opened)
    assert alert.count == hour >= 8 and alert.expected == pytest.approx(expected_hour)
    assert len(alert.examples) == 3 and all("bridge closed" in e for e in alert.examples)
    assert alert.webhook_status is None and alert.email_status is None  # nothing configured


def test_an_faq_surge_is_detected_and_closes(db: Database) -> None:
    config = settings()
    traffic = Traffic()
    traffic.ordinary(T0, days=10, seed=7)
    snow = (
        T0 + 8 * DAY + 6 * HOUR + dt.timedelta(minutes=32)
    )  # Tuesday 06:32: schools close for snow
    traffic.surge(
        snow, minutes=60, every_s=60, question="are schools closed today", faq_id="school-closures"
    )
    traffic.surge(
        snow + 60 * dt.timedelta(minutes=1),
        minutes=30,
        every_s=20,
        question="is my school closed",
        faq_id="school-closures",
    )
    traffic.seed(db)
    oracle = Oracle(traffic, config)
    quiet = steps(snow - 8 * HOUR, snow - STEP, dt.timedelta(minutes=15))
    seen, expected = replay(db, oracle, config, quiet)
    assert seen == expected == []

    times = steps(snow - dt.timedelta(minutes=2), snow + 5 * HOUR, STEP)
    # The next day, while the day window still holds the surge, past the time it was alerted:
    # no repeat.
    times += steps(
        snow + 5 * HOUR + dt.timedelta(minutes=15), snow + 28 * HOUR, dt.timedelta(minutes=15)
    )
    seen, expected = replay(db, oracle, config, times)
    assert seen == expected
    assert [(kind, key) for _, kind, key in seen] == [
        ("open:hour", "faq:school-closures"),
        ("close", "faq:school-closures"),
    ]
    opened = seen[0][0]
    assert snow < opened <= snow + 20 * dt.timedelta(minutes=1)
    with db.session() as session:
        alert = session.scalars(select(Alert)).one()
    assert alert.label == "school-closures" and alert.group_key == "faq:school-closures"
    _, _, expected_hour, _ = oracle.rates("faq:school-closures", opened)
    assert alert.expected == pytest.approx(expected_hour) and alert.expected > alerts.FLOOR_PER_HOUR
    assert alert.count >= threshold(8, 4.0, expected_hour, oracle.baselines[0])
    assert all("closed" in e for e in alert.examples)


def test_a_slow_surge_is_caught_by_the_day_window(db: Database) -> None:
    config = settings()
    traffic = Traffic()
    traffic.ordinary(T0, days=9, seed=11)
    start = T0 + 7 * DAY + 8 * HOUR
    traffic.surge(
        start,
        minutes=14 * 60,
        every_s=900,
        question="new recycling rule: do lids go in?",
        cluster_id=4,
    )  # 4 an hour all day, where 0.1 an hour is usual: never 8 in one hour
    traffic.seed(db)
    oracle = Oracle(traffic, config)
    seen, expected = replay(
        db, oracle, config, steps(start, start + 16 * HOUR, dt.timedelta(minutes=20))
    )
    assert seen == expected
    assert [(kind, key) for _, kind, key in seen] == [("open:day", "gap:4")]


def test_replicas_detecting_at_once_open_one_alert_per_group(db: Database) -> None:
    traffic = Traffic()
    traffic.ordinary(T0, days=8, seed=3)
    now = T0 + 8 * DAY
    surging = {"faq:power-outage-status", "faq:passport-photo", "gap:2", "gap:4"}
    for key in sorted(surging):
        kind, _, value = key.partition(":")
        traffic.surge(
            now - 30 * dt.timedelta(minutes=1),
            minutes=30,
            every_s=60,
            question=f"what about {value}",
            faq_id=value if kind == "faq" else None,
            cluster_id=int(value) if kind == "gap" else None,
        )
    traffic.seed(db)
    replicas = 8
    barrier = threading.Barrier(replicas)
    results: list[list[Alert]] = []
    errors: list[BaseException] = []

    def replica() -> None:
        barrier.wait()
        try:
            results.append(detect(db, settings(), now))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(a.group_key for opened in results for a in opened) == sorted(surging)
    assert sorted(open_alerts(db).values()) == sorted(surging)


# --- delivery -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpRecorder:
    """aiosmtpd handler: keeps every envelope."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 OK"


class Webhook(ThreadingHTTPServer):
    """A local HTTP server answering each POST with the next status of `statuses` (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _WebhookHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/alerts"


class _WebhookHandler(BaseHTTPRequestHandler):
    server: Webhook

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.bodies.append(body)
            status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpRecorder, int]]:
    recorder, port = SmtpRecorder(), free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield recorder, port
    controller.stop()


def webhook(statuses: list[int]) -> Webhook:
    server = Webhook(statuses)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def surge_now(db: Database, now: dt.datetime) -> None:
    """A week of quiet history, then 10 citizens asking a brand-new gap group's question in
    30 minutes."""
    traffic = Traffic(clusters={9: "Is the tap water safe to drink?"})
    traffic.add(now - 8 * DAY, "answered", "question about passports", faq_id="passport-photo")
    traffic.surge(
        now - 30 * dt.timedelta(minutes=1),
        minutes=30,
        every_s=180,
        question="is the water safe to drink in [LOCATION]",
        cluster_id=9,
    )
    traffic.seed(db)


def delivery_settings(hook: Webhook, smtp_port: int) -> Settings:
    return settings(
        alert_webhook_url=hook.url,
        alert_email_to=["duty@example.gov", "comms@example.gov"],
        alert_email_from="govbot@example.gov",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
    )


def statuses(db: Database) -> list[tuple[str | None, str | None]]:
    with db.session() as session:
        rows = session.execute(select(Alert.webhook_status, Alert.email_status).order_by(Alert.id))
        return [(webhook_status, email_status) for webhook_status, email_status in rows]


def test_an_alert_is_posted_and_e_mailed_once(db: Database, smtp: tuple[SmtpRecorder, int]) -> None:
    recorder, port = smtp
    hook = webhook([])
    config = delivery_settings(hook, port)
    now = T0 + 3 * DAY
    surge_now(db, now)
    opened = detect(db, config, now)
    assert statuses(db) == [("pending", "pending")]
    deliver(db, config, opened, now=now)
    assert statuses(db) == [("sent", "sent")]

    (body,) = hook.bodies
    respond = body["respond"]
    assert respond["publish_correction"].endswith("/console/studio?gap=9")
    assert respond["broadcast_it"].endswith("/console/outreach")
    assert f"--alert {opened[0].id}" in respond["record_claim"]
    sent = body["alert"]
    assert sent == {
        "id": opened[0].id,
        "group_key": "gap:9",
        "label": "Is the tap water safe to drink?",
        "window": "hour",
        "count": 10,
        "expected": 0.25,
        "examples": sent["examples"],
        "at": now.isoformat(),
    }
    assert (
        len(sent["examples"]) == 3
        and sent["examples"][0] == "is the water safe to drink in [LOCATION] (9)"
    )

    ((mail_from, recipients, message),) = recorder.envelopes
    assert mail_from == "govbot@example.gov"
    assert recipients == ["duty@example.gov", "comms@example.gov"]
    assert message["Subject"] == "[govbot] Emerging issue: Is the tap water safe to drink?"
    assert (
        message["To"] == "duty@example.gov, comms@example.gov"
        and message["Date"]
        and message["Message-ID"]
    )
    text = message.get_payload(decode=True).decode()
    assert "10 citizens asked about this in the last hour; usually about 0.2" in text
    assert "- is the water safe to drink in [LOCATION] (9)" in text
    assert "- publish correction: " in text and "/console/studio?gap=9" in text

    # Later passes: the surge goes on, nothing is sent again.
    for minutes in (1, 5, 10):
        later = now + dt.timedelta(minutes=minutes)
        deliver(db, config, detect(db, config, later), now=later)
    assert len(hook.bodies) == 1 and len(recorder.envelopes) == 1
    assert [a.id for a in alerts.recent_alerts(db)] == [opened[0].id]  # what the dashboard lists
    hook.shutdown()


def test_a_failed_webhook_is_retried_on_the_next_pass(
    db: Database, smtp: tuple[SmtpRecorder, int]
) -> None:
    recorder, port = smtp
    hook = webhook([500])
    config = delivery_settings(hook, port)
    now = T0 + 3 * DAY
    surge_now(db, now)
    deliver(db, config, detect(db, config, now), now=now)
    assert statuses(db) == [("failed: HTTP 500 (attempt 1/4)", "sent")]
    later = now + dt.timedelta(seconds=30)
    deliver(db, config, detect(db, config, later), now=later)
    assert statuses(db) == [("sent", "sent")]
    assert len(hook.bodies) == 2 and hook.bodies[0] == hook.bodies[1]
    assert len(recorder.envelopes) == 1  # the e-mail had gone the first time
    hook.shutdown()


def test_delivery_gives_up_after_three_retries_and_records_smtp_failures(db: Database) -> None:
    hook = webhook([500] * 10)
    config = delivery_settings(hook, free_port())  # nobody listens there: SMTP fails too
    now = T0 + 3 * DAY
    surge_now(db, now)
    opened = detect(db, config, now)
    for n in range(6):
        deliver(db, config, opened if n == 0 else [], now=now + n * dt.timedelta(seconds=30))
    assert len(hook.bodies) == 4
    ((webhook_status, email_status),) = statuses(db)
    assert webhook_status == "failed: HTTP 500 (attempt 4/4)"
    assert email_status is not None and email_status.startswith("failed: ConnectionRefusedError")
    assert email_status.endswith("(attempt 4/4)")
    hook.shutdown()


def test_nothing_configured_leaves_the_statuses_empty(db: Database) -> None:
    now = T0 + 3 * DAY
    surge_now(db, now)
    deliver(db, settings(), detect(db, settings(), now), now=now)
    assert statuses(db) == [(None, None)]


def test_replicas_delivering_at_once_send_once(
    db: Database, smtp: tuple[SmtpRecorder, int]
) -> None:
    recorder, port = smtp
    hook = webhook([])
    config = delivery_settings(hook, port)
    now = T0 + 3 * DAY
    surge_now(db, now)
    opened = detect(db, config, now)
    barrier = threading.Barrier(4)

    def replica() -> None:
        barrier.wait()
        deliver(db, config, opened, now=now)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(hook.bodies) == 1 and len(recorder.envelopes) == 1
    assert statuses(db) == [("sent", "sent")]
    hook.shutdown()


def test_a_replica_that_died_while_sending_is_taken_over(db: Database) -> None:
    hook = webhook([])
    config = settings(alert_webhook_url=hook.url)
    now = T0 + 3 * DAY
    surge_now(db, now)
    (alert,) = detect(db, config, now)
    with db.session() as session:
        session.get(
            Alert, alert.id
        ).webhook_status = "sending since 2026-03-05T00:00:00Z (attempt 1/4)"
        session.commit()
    deliver(db, config, [], now=now + dt.timedelta(minutes=1))
    assert hook.bodies == []  # still within its claim
    deliver(db, config, [], now=now + alerts.SENDING_STALE + dt.timedelta(seconds=1))
    assert len(hook.bodies) == 1 and statuses(db) == [("sent", None)]
    hook.shutdown()


def test_the_watcher_detects_and_delivers_in_the_background(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = webhook([])
    config = settings(alert_webhook_url=hook.url, insight_interval_s=0.05)
    surge_now(db, utcnow())
    calls = {"n": 0}
    real_detect = alerts.detect

    def flaky_detect(*args: Any, **kwargs: Any) -> list[Alert]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database away")  # logged; the next pass goes on
        return real_detect(*args, **kwargs)

    monkeypatch.setattr(watcher, "detect", flaky_detect)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(AlertWatcher(db, config).run(stop))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if hook.bodies:
                break
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(scenario())
    assert calls["n"] >= 2
    assert [b["alert"]["group_key"] for b in hook.bodies] == ["gap:9"]
    assert statuses(db) == [("sent", None)]
    hook.shutdown()
