"""Outreach's console API (/console/api/outreach) on the real app (`create_app`, its middleware
and routes) over SQLite and PostgreSQL, with the outreach services and accounts only (no engine,
no start-up): supervisors only, maker-checker, bad bodies refused with 4xx and nothing changed,
and the per-channel preview with its segments and estimated cost."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.handoff.agents import Agents
from bot.outreach.broadcasts import Broadcasts
from bot.outreach.subscriptions import Subscriptions
from bot.outreach.topics import Topics, validated
from bot.settings import Settings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import AuditEntry, Broadcast
from bot.web.app import create_app

PASSWORD = "correct horse battery staple 42"
PRICE = 0.01
API = "/console/api/outreach"
NOTICE = "Boil-water advisory lifted in Northbridge. Tap water is safe to drink again."
AVIS = "Avis d'ébullition levé à Northbridge. L'eau du robinet est de nouveau potable."


class Console:
    """One account's browser session against the app: cookie, CSRF token, JSON calls."""

    def __init__(self, client: TestClient, api: str = API) -> None:
        self.http = client
        self.api = api
        self.csrf = ""

    def login(self, username: str) -> Console:
        form = self.http.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        response = self.http.post(
            "/console/login",
            data={"username": username, "password": PASSWORD, "csrf": token[1]},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        page = self.http.get("/console")
        found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert found is not None
        self.csrf = found[1]
        return self

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.http.get(self.api + path, **kwargs)

    def post(self, path: str, body: Any = None, csrf: bool = True) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return self.http.post(
            self.api + path, json=body if body is not None else {}, headers=headers
        )


@pytest.fixture
def services(db: Database) -> SimpleNamespace:
    audit = AuditLog(db)
    agents = Agents(db, audit)
    for name, role in (("maker", "supervisor"), ("checker", "supervisor"), ("agent1", "agent")):
        agents.add(name, PASSWORD, role)
    agents.add("boss", PASSWORD, "admin")
    topics = Topics(db, audit)
    topics.add(validated("water", "Water", "Eau", None), "test")
    return SimpleNamespace(
        settings=Settings(actions_token=None, sms_segment_price=PRICE),
        db=db,
        agents=agents,
        centre=SimpleNamespace(heartbeat=lambda agent: None),
        topics=topics,
        subscriptions=Subscriptions(db),
        broadcasts=Broadcasts(db, audit),
    )


@pytest.fixture
def app_client(services: SimpleNamespace) -> Iterator[Any]:
    """A client factory: each call is a new browser (its own cookies) on the same app."""
    app = create_app(services.settings)
    app.state.services = services
    clients: list[TestClient] = []

    def make() -> Console:
        client = TestClient(app)
        clients.append(client)
        return Console(client)

    yield make
    for client in clients:
        client.close()


def count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Broadcast)) or 0)


def subscribe(services: SimpleNamespace, channel: str, language: str, n: int) -> None:
    for number in range(n):
        address = f"+1514555{number:04d}" if channel != "telegram" else f"{9000 + number}"
        if channel == "whatsapp":
            address = "whatsapp:" + address
        services.subscriptions.request(
            channel,
            f"{address}-{language}",
            "water",
            language=language,
            wording="(test)",
            timezone="America/Toronto",
            double_opt_in=False,
        )


def test_only_supervisors_get_in(app_client: Any) -> None:
    stranger = app_client()
    assert stranger.get("/topics").status_code == 401
    agent = app_client().login("agent1")
    for path in ("/topics", "/broadcasts", "/broadcasts/1"):
        response = agent.get(path)
        assert response.status_code == 403, path
        assert response.json() == {"error": "supervisor role needed"}
    for path in ("/broadcasts", "/broadcasts/1/approve", "/broadcasts/1/cancel", "/preview"):
        assert agent.post(path, {"topic": "water", "text_en": NOTICE}).status_code == 403, path
    assert app_client().login("boss").get("/topics").status_code == 200  # admins are supervisors
    topics = app_client().login("maker").get("/topics").json()["topics"]
    assert {t["slug"] for t in topics} >= {"general", "water"}


def test_a_second_supervisor_approves_what_the_first_wrote(app_client: Any, db: Database) -> None:
    maker, checker = app_client().login("maker"), app_client().login("checker")
    # The acting supervisor is the logged-in one, whatever the body says.
    body = {"topic": "water", "text_en": NOTICE, "text_fr": AVIS, "by": "checker"}
    created = maker.post("/broadcasts", body)
    assert created.status_code == 200, created.text
    broadcast = created.json()["broadcast"]
    assert broadcast["state"] == "awaiting_approval" and broadcast["created_by"] == "maker"
    assert broadcast["text_fr"] == AVIS and broadcast["urgent"] is False
    broadcast_id = broadcast["id"]

    assert maker.post(f"/broadcasts/{broadcast_id}/approve", csrf=False).status_code == 403
    own = maker.post(f"/broadcasts/{broadcast_id}/approve")
    assert own.status_code == 409
    assert "second supervisor" in own.json()["error"]
    assert maker.get(f"/broadcasts/{broadcast_id}").json()["broadcast"]["state"] == (
        "awaiting_approval"
    )

    approved = checker.post(f"/broadcasts/{broadcast_id}/approve")
    assert approved.status_code == 200, approved.text
    shown = approved.json()["broadcast"]
    assert shown["state"] == "approved" and shown["approved_by"] == "checker"
    assert shown["send_at"] is not None
    again = checker.post(f"/broadcasts/{broadcast_id}/approve")
    assert again.status_code == 409 and "approved" in again.json()["error"]
    assert checker.post(f"/broadcasts/{broadcast_id}/cancel").status_code == 200
    assert checker.post(f"/broadcasts/{broadcast_id}/cancel").status_code == 409

    listed = maker.get("/broadcasts").json()["broadcasts"]
    template = "HX" + "0123456789abcdef" * 2
    second = maker.post(
        "/broadcasts",
        {"topic": "water", "text_en": "Second notice.", "whatsapp_template_en": template},
    )
    assert second.status_code == 200
    assert second.json()["broadcast"]["whatsapp_template_en"] == template
    assert second.json()["broadcast"]["whatsapp_template_fr"] is None
    listed = maker.get("/broadcasts").json()["broadcasts"]
    assert [b["id"] for b in listed] == [second.json()["broadcast"]["id"], broadcast_id]
    assert listed[1]["state"] == "cancelled"
    for key in (
        "active_subscribers",
        "queued",
        "sent",
        "delivered",
        "failed",
        "opted_out",
        "skipped",
        "unsubscribed",
        "in_doubt",
        "replies",
    ):
        assert listed[1][key] == 0, key
    with db.session() as session:
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("broadcast_%"))
                .order_by(AuditEntry.id)
            )
        )
    assert actions == [
        "broadcast_created",
        "broadcast_approved",
        "broadcast_cancelled",
        "broadcast_created",
    ]


def test_a_scheduled_broadcast_keeps_its_start_time(app_client: Any) -> None:
    maker = app_client().login("maker")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(microsecond=0)
    local = later.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    body = {"topic": "water", "text_en": NOTICE, "urgent": True, "send_at": local.isoformat()}
    created = maker.post("/broadcasts", body)
    assert created.status_code == 200, created.text
    shown = created.json()["broadcast"]
    assert dt.datetime.fromisoformat(shown["send_at"]) == later and shown["urgent"] is True


BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("oversized", {"topic": "water", "text_en": "x" * 1001}, ""),
    ("oversized French", {"topic": "water", "text_en": NOTICE, "text_fr": "é" * 1001}, ""),
    ("empty", {"topic": "water", "text_en": ""}, ""),
    ("blank", {"topic": "water", "text_en": "   "}, "empty"),
    ("unknown topic", {"topic": "nowhere", "text_en": NOTICE}, "no topic"),
    ("bad slug", {"topic": "Water!<script>", "text_en": NOTICE}, ""),
    ("four segments", {"topic": "water", "text_en": "Notice. " * 70}, "4 SMS segments"),
    ("French too long", {"topic": "water", "text_en": NOTICE, "text_fr": "ê" * 300}, "segments"),
    ("markup", {"topic": "water", "text_en": "<b>Notice</b>"}, "shown as text"),
    ("bad link", {"topic": "water", "text_en": "[x](javascript:alert(1))"}, "dropped"),
    ("NUL", {"topic": "water", "text_en": "Notice\x00"}, ""),
    ("send_at words", {"topic": "water", "text_en": NOTICE, "send_at": "tomorrow"}, ""),
    (
        "send_at naive",
        {"topic": "water", "text_en": NOTICE, "send_at": "2030-01-01T09:00:00"},
        "time zone",
    ),
    (
        "send_at past",
        {"topic": "water", "text_en": NOTICE, "send_at": "2020-01-01T09:00:00-05:00"},
        "passed",
    ),
    (
        "send_at far",
        {"topic": "water", "text_en": NOTICE, "send_at": "9999-12-31T23:00:00-05:00"},
        "",
    ),
    (
        "send_at edge",
        {"topic": "water", "text_en": NOTICE, "send_at": "0001-01-01T00:00:00+05:00"},
        "",
    ),
    ("wrong types", {"topic": ["water"], "text_en": 5, "urgent": "maybe"}, ""),
    (
        "bad template",
        {"topic": "water", "text_en": NOTICE, "whatsapp_template_en": "HX<script>"},
        "whatsapp_template_en",
    ),
    ("no text", {"topic": "water"}, ""),
]


@pytest.mark.parametrize(("name", "body", "message"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies_are_refused_and_change_nothing(
    app_client: Any, db: Database, name: str, body: dict[str, Any], message: str
) -> None:
    maker = app_client().login("maker")
    response = maker.post("/broadcasts", body)
    assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
    assert message in response.json()["error"] + " ".join(response.json().get("problems", []))
    assert count(db) == 0


def test_odd_ids_and_bodies_never_answer_500(app_client: Any) -> None:
    maker = app_client().login("maker")
    for path in ("/broadcasts/0", "/broadcasts/99999999999", "/broadcasts/x", "/broadcasts/-1"):
        assert maker.get(path).status_code == 422, path
    assert maker.get("/broadcasts/4242").status_code == 404
    assert maker.post("/broadcasts/4242/approve").status_code == 404
    assert maker.post("/broadcasts/4242/cancel").status_code == 404
    assert maker.get("/broadcasts", params={"limit": 0}).status_code == 422
    raw = maker.http.post(
        API + "/broadcasts",
        content=b"{not json",
        headers={"X-CSRF-Token": maker.csrf, "Content-Type": "application/json"},
    )
    assert raw.status_code == 422
    assert maker.post("/broadcasts", [1, 2]).status_code == 422
    assert maker.post("/preview", {"topic": "water", "text_en": "x" * 5000}).status_code == 422


def test_the_preview_shows_each_channel_the_segments_and_the_cost(
    app_client: Any, services: SimpleNamespace, db: Database
) -> None:
    subscribe(services, "sms", "en", 3)
    subscribe(services, "whatsapp", "fr", 2)
    subscribe(services, "telegram", "en", 4)
    maker = app_client().login("maker")
    text_en = "Water update:" + " the boil-water advisory is lifted." * 5  # GSM-7, 2 segments
    text_fr = (
        "Eau : l'avis est levé. Vous pouvez de nouveau boire l'eau du robinet, même chez vous."
    )
    body = {"topic": "water", "text_en": text_en, "text_fr": text_fr}
    response = maker.post("/preview", body)
    assert response.status_code == 200, response.text
    shown = response.json()
    en, fr = shown["languages"]["en"], shown["languages"]["fr"]
    assert en["sms"]["segments"] == 2 and en["problem"] is None
    assert en["sms"]["text"] == text_en and en["plain"]["text"] == text_en
    assert en["cost"]["recipients"] == {"sms": 3, "whatsapp": 0}
    assert en["cost"]["amount"] == pytest.approx(2 * 3 * PRICE)
    assert fr["sms"]["segments"] == 2  # "ê" is not GSM-7: UCS-2, 67 a segment
    assert fr["cost"]["recipients"] == {"sms": 0, "whatsapp": 2}
    assert fr["cost"]["amount"] == pytest.approx(2 * 2 * PRICE)
    assert shown["total_cost"] == pytest.approx(10 * PRICE)
    assert shown["audience"] == {"sms": {"en": 3}, "whatsapp": {"fr": 2}, "telegram": {"en": 4}}

    # Without a French text, French subscribers get (and cost) the English one.
    alone = maker.post("/preview", {"topic": "water", "text_en": text_en}).json()
    assert alone["languages"]["fr"] is None
    assert alone["languages"]["en"]["cost"]["recipients"] == {"sms": 3, "whatsapp": 2}
    assert alone["total_cost"] == pytest.approx(2 * 5 * PRICE)

    # What may not be sent is shown, with its reason; markup is escaped for Telegram.
    odd = maker.post(
        "/preview",
        {"topic": "water", "text_en": "<script>alert(1)</script> See [the notice](https://x.ca)"},
    ).json()["languages"]["en"]
    assert "shown as text" in odd["problem"]
    assert "&lt;script&gt;" in odd["telegram"]["html"]
    assert '<a href="https://x.ca">the notice</a>' in odd["telegram"]["html"]
    long = maker.post("/preview", {"topic": "water", "text_en": "Notice. " * 70}).json()
    assert "4 SMS segments" in long["languages"]["en"]["problem"]
    assert long["languages"]["en"]["sms"]["segments"] == 3  # what the adapter would cut it to

    assert maker.post("/preview", {"topic": "nowhere", "text_en": "x"}).status_code == 422
    assert count(db) == 0
