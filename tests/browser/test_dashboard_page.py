"""The dashboard in headless Chromium, on the real stack, with data seeded into the
stack's database.

Other tests share that database, so the seeded rows have a channel of their own (`dash<random>`) and
the dashboard is opened filtered on it and on a fixed week; every figure checked on the page is then
worked out again from the database with plain SQL here (not with the dashboard's code). The charts
must load (every <img> decoded, naturalWidth > 0), and a screenshot is kept
in tests/artifacts/dashboard.png.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np
import pytest
import yaml
from playwright.sync_api import Page, expect
from sqlalchemy import text

from bot.knowledge.embedders import DIMENSION
from bot.settings import ROOT
from bot.storage.db import Database
from bot.storage.models import Conversation, Feedback, GapCluster, Handoff, InboundMessage, Turn
from tests.conftest import RunningStack
from tests.support.console import PASSWORD, ConsoleClient, add_agent, tid

pytestmark = [pytest.mark.browser, pytest.mark.stack]
CHARTS = (
    "volume-by-day",
    "volume-by-channel",
    "volume-by-hour",
    "outcomes",
    "handoff-reasons",
    "helpfulness-by-agency",
)


@dataclass
class Seeded:
    """What the test put in the database: its channel and week (UTC), and the FAQ ids it used."""

    channel: str
    start: dt.date
    end: dt.date
    revenue_faq: str
    benefits_faq: str

    @property
    def bounds(self) -> dict[str, str]:
        """The week as SQLite text bounds ([start, end + 1 day)), as the app stores timestamps."""
        return {
            "c": self.channel,
            "s": f"{self.start} 00:00:00",
            "e": f"{self.end + dt.timedelta(days=1)} 00:00:00",
        }

    def query(self, **extra: str) -> str:
        return urlencode(
            {
                "from": self.start.isoformat(),
                "to": self.end.isoformat(),
                "channel": self.channel,
                **extra,
            }
        )


def first_faq(agency: str) -> str:
    return str(
        yaml.safe_load((ROOT / "data" / "faqs" / f"{agency}.yml").read_text(encoding="utf-8"))[
            "faqs"
        ][0]["id"]
    )


def seed(database_url: str) -> Seeded:
    """Six conversations over a week that ended three days ago, on a channel nobody else uses."""
    channel = f"dash{uuid.uuid4().hex[:8]}"
    today = dt.datetime.now(dt.UTC).date()
    start, end = today - dt.timedelta(days=9), today - dt.timedelta(days=3)
    seeded = Seeded(channel, start, end, first_faq("revenue"), first_faq("benefits"))
    rev, ben = seeded.revenue_faq, seeded.benefits_faq

    def at(day: int, clock: str) -> dt.datetime:
        return dt.datetime.combine(
            start + dt.timedelta(days=day), dt.time.fromisoformat(clock), tzinfo=dt.UTC
        )

    conv = {n: f"{channel}:u{n}" for n in range(1, 7)}
    db = Database(database_url)
    try:
        with db.session() as s:
            s.add_all(
                Conversation(id=c, channel=channel, address=c.split(":")[1]) for c in conv.values()
            )
            # The app's grouping job compares new questions with every group's centroid: a zero
            # vector of the model's size is never close to anything, so these groups take in nobody
            # else's questions.
            centroid = np.zeros(DIMENSION, np.float32).tobytes()
            a = GapCluster(
                label="Can I pay my fine in bitcoin?", language="en", size=3, centroid=centroid
            )
            b = GapCluster(label="kids benefit amount", language="en", size=1, centroid=centroid)
            s.add_all([a, b])
            s.flush()
            messages = [
                (1, 0, "10:00"),
                (1, 0, "10:05"),
                (2, 1, "11:00"),
                (2, 1, "11:02"),
                (3, 2, "12:00"),
                (3, 3, "09:00"),
                (4, 4, "15:00"),
                (5, 5, "16:00"),
                (5, 5, "16:03"),
                (6, 6, "08:00"),
                (6, 6, "23:59"),
                (6, 7, "00:01"),
            ]  # the last one is after the week
            s.add_all(
                InboundMessage(
                    channel=channel,
                    provider_message_id=f"{channel}-{i}",
                    conversation_id=conv[n],
                    seq=i,
                    text="hello",
                    status="done",
                    received_at=at(day, clock),
                )
                for i, (n, day, clock) in enumerate(messages)
            )
            turns = [
                (1, 0, "10:00", "answered", rev, "revenue", "tax deadline", None),
                (1, 0, "10:05", "answered", rev, "revenue", "when to file", None),
                (2, 1, "11:00", "no_answer", None, None, "Can I pay my fine in bitcoin?", a.id),
                (3, 2, "12:00", "answered", ben, "benefits", "apply for benefits", None),
                (3, 3, "09:00", "clarify", None, "benefits", "kids benefit amount", b.id),
                (4, 4, "15:00", "no_answer", None, None, "bitcoin payment possible?", a.id),
                (5, 5, "16:00", "answered", rev, "revenue", "filing taxes", None),
                (6, 6, "08:00", "no_answer", None, None, "where is my parcel", None),
                (6, -3, "08:00", "no_answer", None, None, "crypto ok?", a.id),  # the week before
            ]
            # Marked as grouped already, so that a background grouping job cannot change
            # them mid-test.
            s.add_all(
                Turn(
                    at=at(day, clock),
                    conversation_id=conv[n],
                    channel=channel,
                    language="en",
                    outcome=outcome,
                    faq_id=faq,
                    agency=agency,
                    question=question,
                    cluster_id=cluster,
                    clustered=True,
                )
                for n, day, clock, outcome, faq, agency, question, cluster in turns
            )
            feedback = [
                (1, 0, "10:01", "helpful", 1, rev, "revenue"),
                (1, 0, "10:06", "helpful", 1, rev, "revenue"),
                (3, 2, "12:01", "helpful", 0, ben, "benefits"),
                (5, 5, "16:01", "helpful", 0, rev, "revenue"),
                (2, 1, "11:30", "satisfaction", 4, None, None),
                (3, 3, "09:40", "satisfaction", 5, None, "benefits"),
            ]
            s.add_all(
                Feedback(
                    at=at(day, clock),
                    kind=kind,
                    value=value,
                    conversation_id=conv[n],
                    channel=channel,
                    language="en",
                    faq_id=faq,
                    agency=agency,
                )
                for n, day, clock, kind, value, faq, agency in feedback
            )
            handoffs = [
                (2, 1, "general", "unsure", "resolved", "11:01:00", "11:02:30", "11:09:10"),
                (3, 3, "benefits", "requested", "resolved", "09:01:00", "09:01:30", "09:06:00"),
                (5, 5, "revenue", "not_helpful", "waiting", "16:05:00", None, None),
            ]
            s.add_all(
                Handoff(
                    conversation_id=conv[n],
                    queue_id=q,
                    reason=r,
                    status=st,
                    channel=channel,
                    language="en",
                    enqueued_at=at(day, e),
                    assigned_at=at(day, x) if x else None,
                    ended_at=at(day, y) if y else None,
                )
                for n, day, q, r, st, e, x, y in handoffs
            )
            s.commit()
    finally:
        db.engine.dispose()
    return seeded


@pytest.fixture(scope="module")
def seeded(stack: RunningStack) -> Seeded:
    if stack.settings is None:
        pytest.skip("needs the test stack's own database")
    if (
        httpx.get(
            stack.base_url + "/console/dashboard", follow_redirects=False, timeout=30
        ).status_code
        == 404
    ):
        pytest.fail(
            "GET /console/dashboard is 404: bot/web/app.py must "
            "include bot.web.routes.dashboard.router"
        )
    return seed(stack.settings.database_url)


@pytest.fixture(scope="module")
def supervisor(stack: RunningStack) -> str:
    if stack.settings is None:
        pytest.skip("needs the test stack's own database to add accounts")
    username = f"sup-{uuid.uuid4().hex[:8]}"
    add_agent(stack.settings.database_url, username, "supervisor", "Dashboard Supervisor")
    return username


# ------------------------------------------------------------------------ the figures, by plain SQL
def expected(stack: RunningStack, seeded: Seeded, agency: str | None = None) -> dict[str, Any]:
    """The dashboard's figures for the seeded channel and week, straight from the database."""
    assert stack.settings is not None
    params: dict[str, Any] = {**seeded.bounds, "a": agency}
    turn_agency = "AND (:a IS NULL OR agency = :a)"
    queues = {"revenue": ["revenue"], "benefits": ["benefits"]}.get(agency or "", [])
    queue_filter = (
        ""
        if agency is None
        else f"AND queue_id IN ({', '.join(repr(q) for q in queues) or 'NULL'})"
    )
    db = Database(stack.settings.database_url)
    try:
        with db.engine.connect() as conn:

            def one(sql: str) -> Any:
                return conn.execute(text(sql), params).one()

            (messages,) = one(
                "SELECT count(*) FROM inbound_messages WHERE channel = :c "
                "AND received_at >= :s AND received_at < :e"
            )
            (conversations,) = one(
                f"SELECT count(DISTINCT conversation_id) FROM turns WHERE channel = :c "
                f"AND at >= :s AND at < :e {turn_agency}"
            )
            (handed,) = one(
                f"SELECT count(DISTINCT t.conversation_id) FROM turns t WHERE t.channel = :c "
                f"AND t.at >= :s AND t.at < :e {turn_agency.replace('agency', 't.agency')} AND "
                "EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = t.conversation_id "
                "AND h.enqueued_at >= :s AND h.enqueued_at < :e)"
            )
            helpful, votes = one(
                "SELECT avg(value), count(*) FROM feedback WHERE kind = 'helpful' AND channel = :c "
                f"AND at >= :s AND at < :e {turn_agency}"
            )
            satisfaction, ratings = one(
                f"SELECT avg(value), count(*) FROM feedback WHERE kind = 'satisfaction' "
                f"AND channel = :c AND at >= :s AND at < :e {turn_agency}"
            )
            waits = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT (julianday(assigned_at) - julianday(enqueued_at)) * 86400 FROM "
                        "handoffs WHERE channel = :c AND enqueued_at >= :s AND enqueued_at < :e "
                        f"AND assigned_at IS NOT NULL {queue_filter}"
                    ),
                    params,
                )
            ]
            handling = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT (julianday(ended_at) - julianday(assigned_at)) * 86400 FROM "
                        "handoffs WHERE channel = :c AND enqueued_at >= :s AND enqueued_at < :e "
                        f"AND status = 'resolved' {queue_filter}"
                    ),
                    params,
                )
            ]
            reasons = dict(
                conn.execute(
                    text(
                        "SELECT reason, count(*) FROM handoffs WHERE channel = :c AND "
                        f"enqueued_at >= :s AND enqueued_at < :e {queue_filter} GROUP BY reason"
                    ),
                    params,
                ).all()
            )
            top = dict(
                conn.execute(
                    text(
                        "SELECT faq_id, count(*) FROM turns WHERE channel = :c AND at >= :s AND "
                        "at < :e AND outcome = 'answered' "
                        f"{turn_agency} GROUP BY faq_id"
                    ),
                    params,
                ).all()
            )
            gaps = dict(
                conn.execute(
                    text(
                        "SELECT cluster_id, count(*) FROM turns WHERE channel = :c AND at >= :s "
                        f"AND at < :e AND cluster_id IS NOT NULL {turn_agency} GROUP BY cluster_id"
                    ),
                    params,
                ).all()
            )
            (alerts,) = one(
                "SELECT count(*) FROM alerts WHERE ended_at IS NULL OR (at >= :s AND at < :e)"
            )
    finally:
        db.engine.dispose()
    return {
        "messages": messages,
        "conversations": conversations,
        "contained": conversations - handed,
        "containment": round((conversations - handed) / conversations, 4)
        if conversations
        else None,
        "handoff": round(handed / conversations, 4) if conversations else None,
        "helpfulness": round(helpful, 4) if votes else None,
        "votes": votes,
        "satisfaction": round(satisfaction, 4) if ratings else None,
        "ratings": ratings,
        "wait": round(statistics.median(waits), 1) if waits else None,
        "handling": round(statistics.median(handling), 1) if handling else None,
        "reasons": reasons,
        "top": top,
        "gaps": gaps,
        "alerts": min(alerts, 50),
        # Alerts are not per channel: the stack's own watcher may open one for another test's
        # questions while the page loads, so the page is checked against both counts.
        "alerts_later": lambda: min(count_alerts(stack, params), 50),
    }


def count_alerts(stack: RunningStack, params: dict[str, Any]) -> int:
    """Alerts the dashboard lists for the seeded week, as the database has them now."""
    assert stack.settings is not None
    db = Database(stack.settings.database_url)
    try:
        with db.engine.connect() as conn:
            query = "SELECT count(*) FROM alerts WHERE ended_at IS NULL OR (at >= :s AND at < :e)"
            return int(conn.execute(text(query), params).scalar_one())
    finally:
        db.engine.dispose()


def stale_per_agency(stack: RunningStack) -> dict[str, int]:
    """Stale FAQs per agency, read from the FAQ files themselves."""
    assert stack.settings is not None
    cutoff = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=stack.settings.stale_after_days)
    found = {}
    for path in sorted(stack.settings.faq_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        reviewed = [faq.get("last_reviewed") for faq in doc["faqs"]]
        found[doc["agency"]["id"]] = sum(
            1 for r in reviewed if r is None or dt.date.fromisoformat(str(r)) < cutoff
        )
    return found


# --------------------------------------------------------------------------- page helpers
def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/console/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/?$"))


def wait_loaded(page: Page) -> None:
    expect(page.locator("main#app")).to_have_attribute("data-loaded", "true", timeout=30_000)


def value(page: Page, selector: str) -> float | None:
    raw = page.locator(selector).first.get_attribute("data-value")
    return None if raw in (None, "") else float(raw)


def table_column(page: Page, name: str, key: str, column: str) -> dict[str, float]:
    """{cell of column `key`: number in column `column`} of a table on the page
    (from data-value)."""
    table = page.locator(tid(f"table-{name}"))
    keys = table.locator(f'tbody td[data-column="{key}"]').evaluate_all(
        "cells => cells.map(c => c.dataset.value)"
    )
    values = table.locator(f'tbody td[data-column="{column}"]').evaluate_all(
        "cells => cells.map(c => c.dataset.value)"
    )
    return {k: float(v) for k, v in zip(keys, values, strict=True)}


def check_figures(page: Page, want: dict[str, Any]) -> None:
    assert value(page, tid("tile-messages")) == want["messages"]
    assert value(page, tid("tile-containment")) == want["containment"]
    assert value(page, tid("tile-handoff")) == want["handoff"]
    assert value(page, tid("tile-helpfulness")) == want["helpfulness"]
    assert value(page, tid("tile-satisfaction")) == want["satisfaction"]
    assert value(page, tid("tile-wait")) == want["wait"]
    assert value(page, tid("tile-handling")) == want["handling"]
    reasons = table_column(page, "handoff-reasons", "reason", "hand-offs")
    assert {k: v for k, v in reasons.items() if v} == want["reasons"]
    assert table_column(page, "top-questions", "faq", "answers") == want["top"]
    sizes = page.locator(tid("gap-item")).evaluate_all(
        "items => items.map(i => [Number(i.dataset.cluster), Number(i.dataset.size)])"
    )
    assert dict(sizes) == want["gaps"]
    shown = page.locator(f"{tid('table-alerts')} tbody tr:not(:has(td.empty))").count()
    assert want["alerts"] <= shown <= want["alerts_later"]()


# --------------------------------------------------------------------------- tests
def test_dashboard_shows_the_database_figures_with_charts(
    stack: RunningStack, page: Page, seeded: Seeded, supervisor: str, artifacts_dir: Path
) -> None:
    want = expected(stack, seeded)
    # The seeded week, worked out by hand, to be sure the SQL above asks the right thing.
    assert (
        want["messages"],
        want["conversations"],
        want["contained"],
        want["votes"],
        want["ratings"],
    ) == (11, 6, 3, 4, 2)
    assert (want["helpfulness"], want["satisfaction"], want["wait"], want["handling"]) == (
        0.5,
        4.5,
        60.0,
        335.0,
    )

    log_in(page, stack.base_url, supervisor)
    page.goto(f"{stack.base_url}/console/dashboard?{seeded.query()}")
    wait_loaded(page)
    check_figures(page, want)
    expect(page.locator(f"{tid('tile-containment')} .tile-value")).to_have_text("50.0 %")
    expect(page.locator(f"{tid('tile-satisfaction')} .tile-value")).to_have_text("4.50")
    expect(page.locator(f"{tid('tile-wait')} .tile-value")).to_have_text("1 min 00 s")
    first_gap = page.locator(tid("gap-item")).first
    expect(first_gap).to_contain_text("Can I pay my fine in bitcoin?")
    expect(first_gap.locator(".gap-trend")).to_have_attribute("data-previous", "1")
    expect(first_gap.locator(".gap-examples li")).to_have_text(
        ["bitcoin payment possible?", "Can I pay my fine in bitcoin?"]
    )
    stale = dict(
        page.locator(tid("stale-agency")).evaluate_all(
            "blocks => blocks.map(b => [b.dataset.agency, Number(b.dataset.stale)])"
        )
    )
    assert stale == stale_per_agency(stack)

    # The form keeps the filters; every chart decodes; every table has its CSV.
    expect(page.locator("#f-from")).to_have_value(seeded.start.isoformat())
    expect(page.locator("#f-channel")).to_have_value(seeded.channel)
    images = page.locator("img[data-chart]")
    expect(images).to_have_count(len(CHARTS))
    page.wait_for_function(
        "Array.from(document.querySelectorAll('img[data-chart]'))"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=30_000,
    )
    for name in CHARTS:
        img = page.locator(f'img[data-chart="{name}"]')
        assert img.evaluate("i => i.naturalWidth") > 0, name
        assert seeded.channel in (img.get_attribute("src") or ""), name
        assert img.get_attribute("alt")
    page.locator(tid("table-top-questions")).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "dashboard.png"), full_page=True)
    links = page.locator("a.csv[data-csv]")
    assert links.count() >= 14
    csv = page.request.get(
        stack.base_url
        + (page.locator('a[data-csv="handoff-reasons"]').first.get_attribute("href") or "")
    )
    assert csv.ok and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text().lstrip("\ufeff").splitlines()
    assert lines[0] == "reason,hand-offs,share"
    assert {
        line.split(",")[0]: int(line.split(",")[1])
        for line in lines[1:]
        if line.split(",")[1] != "0"
    } == want["reasons"]
    assert page.page_errors == []  # type: ignore[attr-defined]

    # Narrowing to one agency through the form.
    page.locator("#f-agency").select_option("revenue")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"agency=revenue"))
    wait_loaded(page)
    want = expected(stack, seeded, agency="revenue")
    assert (want["conversations"], want["contained"], want["helpfulness"]) == (2, 1, 0.6667)
    check_figures(page, want)
    expect(page.locator("#f-agency")).to_have_value("revenue")
    assert "tz=" not in page.url  # empty fields stay out of the address
    assert page.page_errors == []  # type: ignore[attr-defined]


def test_bad_filter_is_reported_on_the_page(
    stack: RunningStack, page: Page, seeded: Seeded, supervisor: str
) -> None:
    log_in(page, stack.base_url, supervisor)
    page.goto(f"{stack.base_url}/console/dashboard?from=2025-02-30")
    expect(page.locator(tid("status"))).to_contain_text("not a valid date")
    assert page.page_errors == []  # type: ignore[attr-defined]


def test_only_supervisors_see_the_dashboard(
    stack: RunningStack, page: Page, seeded: Seeded
) -> None:
    assert stack.settings is not None
    page.goto(stack.base_url + "/console/dashboard")
    expect(page).to_have_url(re.compile(r"/console/login$"))
    client = ConsoleClient(stack.base_url)
    try:
        assert client.get("/console/dashboard", follow_redirects=False).status_code == 303
        assert client.get("/console/api/dashboard").status_code == 401
        username = f"agent-{uuid.uuid4().hex[:8]}"
        add_agent(stack.settings.database_url, username, "agent")
        assert client.login(username).status_code == 303
        assert client.get("/console/dashboard").status_code == 403
        assert client.get("/console/api/dashboard").status_code == 403
        assert client.get("/console/dashboard/charts/outcomes.svg").status_code == 403
        assert client.get("/console/dashboard/export/summary.csv").status_code == 403
    finally:
        client.close()
