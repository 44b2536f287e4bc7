"""The contact centre through the whole stack (real Rasa, the app, fake Twilio): the console's
locks, the SMS citizen's way to a person and back, callback tickets outside opening hours, and an
agent who drops."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import create_engine, text

from bot.web.routes import console_api, console_live, console_pages
from tests.conftest import RunningStack
from tests.integration.test_channels_stack import phone, sms, texts_to, wait_for
from tests.support.console import ConsoleClient, add_agent
from tests.support.waiting import settled, until
from tests.support.webchat import conversation_of, new_session

pytestmark = pytest.mark.stack


@pytest.fixture
def agent(stack: RunningStack) -> Callable[..., ConsoleClient]:
    """A new agent account (unique name), logged into the console."""
    if stack.settings is None:
        pytest.skip("needs the test stack's own database to add accounts")
    clients: list[ConsoleClient] = []

    def make(role: str = "agent", display_name: str = "") -> ConsoleClient:
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        add_agent(stack.settings.database_url, username, role, display_name)  # type: ignore[union-attr]
        client = ConsoleClient(stack.base_url)
        assert client.login(username).status_code == 303
        client.username = username  # type: ignore[attr-defined]
        clients.append(client)
        return client

    yield make  # type: ignore[misc]
    for client in clients:
        client.close()


def test_every_console_route_refuses_a_request_without_a_session(stack: RunningStack) -> None:
    # every route the console has, not a hand-kept list
    routes = [r for m in (console_pages, console_api, console_live) for r in m.router.routes]
    public = {"/console/login", "/console/static/console.css"}
    checked = 0
    for route in routes:
        path = route.path.replace("{handoff_id}", "1")  # type: ignore[attr-defined]
        if path in public:
            continue
        if path == "/console/ws":

            async def connect(url: str) -> int | None:
                async with websockets.connect(url) as ws:
                    with pytest.raises(websockets.ConnectionClosed):
                        await ws.recv()
                    return ws.close_code

            assert asyncio.run(connect(stack.base_url.replace("http", "ws") + path)) == 4401
            checked += 1
            continue
        for method in route.methods:  # type: ignore[attr-defined]
            if method == "HEAD":
                continue
            response = httpx.request(method, stack.base_url + path, json={}, follow_redirects=False)
            if path.startswith(("/console/api", "/console/static")):
                assert response.status_code == 401, (method, path, response.status_code)
                assert response.json() == {"error": "log in first"}
            elif path == "/console/logout":
                assert response.status_code == 303
            else:
                assert (
                    response.status_code == 303 and response.headers["location"] == "/console/login"
                ), path
            checked += 1
    assert checked >= 15


def test_roles_csrf_and_security_headers(
    stack: RunningStack, agent: Callable[..., ConsoleClient]
) -> None:
    plain, boss = agent("agent"), agent("supervisor")
    assert plain.get("/console/api/supervisor").status_code == 403
    assert plain.get("/console/api/audit").status_code == 403
    assert plain.get("/console/supervisor").status_code == 403
    assert boss.get("/console/api/supervisor").status_code == 200
    assert boss.get("/console/api/audit").status_code == 403  # admins only
    no_token = plain.http.post("/console/api/claim", json={})
    wrong = plain.http.post("/console/api/claim", json={}, headers={"X-CSRF-Token": "x" * 40})
    assert no_token.status_code == wrong.status_code == 403
    page = plain.get("/console")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    cookie = plain.http.cookies.jar
    assert any(c.name == "govbot_console" and c.has_nonstandard_attr("HttpOnly") for c in cookie)


def test_logins_are_throttled_per_username(
    stack: RunningStack, agent: Callable[..., ConsoleClient]
) -> None:
    victim = agent()
    attacker = ConsoleClient(stack.base_url)
    for _ in range(5):
        assert attacker.login(victim.username, "wrong password!").status_code == 401  # type: ignore[attr-defined]
    assert attacker.login(victim.username).status_code == 429  # type: ignore[attr-defined]
    assert "Too many failed attempts" in attacker.login(victim.username).text  # type: ignore[attr-defined]
    assert agent().get("/console/api/me").status_code == 200  # others are not locked out
    attacker.close()


def test_a_login_form_without_its_csrf_cookie_is_refused(stack: RunningStack) -> None:
    response = httpx.post(
        f"{stack.base_url}/console/login",
        data={"username": "x", "password": "y" * 12, "csrf": "forged"},
    )
    assert response.status_code == 403 and "expired" in response.text


def satisfaction(stack: RunningStack, conversation_id: str) -> list[tuple[int, str | None]]:
    """The satisfaction ratings stored for a conversation (value, comment)."""
    engine = create_engine(stack.settings.database_url)  # type: ignore[union-attr]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT value, comment FROM feedback WHERE kind = 'satisfaction' "
                "AND conversation_id = :c"
            ),
            {"c": conversation_id},
        ).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


def sent_bodies(stack: RunningStack, number: str) -> list[str]:
    return [r.body["Body"] for r in texts_to(stack, number)()]


def test_sms_citizens_reach_a_person_with_position_updates_and_opt_out(
    stack: RunningStack, agent: Callable[..., ConsoleClient]
) -> None:
    """Three SMS citizens ask for a person about their licence. They are told their place; when the
    first is taken the second hears they are next (once, not on every move); the third texts STOP
    and leaves the line. The agent's reply reaches the first on SMS, the resolve asks for a rating,
    the rating is taken without the bot, and then the bot answers again."""
    first, second, third = phone(), phone(), phone()
    for number in (first, second, third):
        sms(stack, number, "How do I renew my driver's licence?")
        wait_for(texts_to(stack, number))
        sms(stack, number, "I want to talk to a person")
        assert until(lambda n=number: any("in line" in b for b in sent_bodies(stack, n)))
    joined = [
        next(b for b in sent_bodies(stack, n) if "in line" in b) for n in (first, second, third)
    ]
    places = [int(text.split("number ")[1].split(" ")[0]) for text in joined]
    assert places[1] == places[0] + 1 and places[2] == places[1] + 1
    assert "Text LEAVE to leave the line" in joined[0]

    sms(stack, third, "STOP")
    assert until(lambda: any("no more messages" in b for b in sent_bodies(stack, third)))
    ana = agent("agent", "Ana")
    with ana.keep_alive():  # her console stays open (its heartbeat) for the rest of the test
        waiting = ana.get("/console/api/queue").json()["waiting"]
        assert not [w for w in waiting if w["conversation_id"] == f"sms:{third}"]  # left the line

        mine = None
        for _ in range(places[0]):  # serve whoever is ahead (earlier tests' citizens) until ours
            mine = ana.claim_and_accept("motor-vehicles")
            if mine["conversation_id"] == f"sms:{first}":
                break
        assert mine is not None and mine["conversation_id"] == f"sms:{first}"
        assert until(lambda: any("Ana from Motor Vehicles" in b for b in sent_bodies(stack, first)))
        assert until(
            lambda: any("You are next in line" in b for b in sent_bodies(stack, second)),
            timeout_s=30,
        )
        time.sleep(2)  # a few sweeps: nothing more for the second citizen
        assert len(sent_bodies(stack, second)) == 3  # answer, place in line, "you are next"

        sms(stack, first, "my licence expired, my phone is 514-555-0142")
        detail = until(
            lambda: (
                (d := ana.get(f"/console/api/handoffs/{mine['id']}").json())
                and any("expired" in line["text"] for line in d["transcript"])
                and d
            )
        )
        citizen_lines = [line["text"] for line in detail["transcript"] if line["from"] == "user"]
        assert any("[phone]" in text for text in citizen_lines)
        assert not any("514-555-0142" in text for text in citizen_lines)  # redacted for the agent
        assert detail["suggestions"] and "licence" in detail["suggestions"][0]["question"].lower()
        before = len(sent_bodies(stack, first))
        assert (
            ana.post(
                f"/console/api/handoffs/{mine['id']}/reply", {"text": "You can renew online today."}
            ).status_code
            == 200
        )
        assert until(lambda: "You can renew online today." in sent_bodies(stack, first))
        assert (
            len(sent_bodies(stack, first)) == before + 1
        )  # the bot said nothing about "my licence expired"

        assert (
            ana.post(
                f"/console/api/handoffs/{mine['id']}/resolve", {"disposition": "answered"}
            ).status_code
            == 200
        )
        assert until(
            lambda: any("from 1 (not at all) to 5" in b for b in sent_bodies(stack, first))
        )
        sms(stack, first, "4 - quick, call me at 514-555-0142 if needed")
        assert until(
            lambda: any("Thank you for your rating" in b for b in sent_bodies(stack, first))
        )
        assert satisfaction(stack, f"sms:{first}") == [(4, "quick, call me at [phone] if needed")]
        sms(stack, first, "How do I register to vote?")
        count = len(sent_bodies(stack, first))
        assert until(lambda: len(sent_bodies(stack, first)) > count)  # the bot answers again
        audit_actions = [
            e["action"]
            for e in agent("admin").get("/console/api/audit?limit=1000").json()["entries"]
            if e["username"] == ana.username
        ]  # type: ignore[attr-defined]
        assert {"login", "claim", "accept", "reply", "resolve"} <= set(audit_actions)

        # The opted-out citizen got nothing after the STOP confirmation.
        assert sent_bodies(stack, third)[-1].count("no more messages") == 1


def test_outside_opening_hours_a_callback_ticket_is_left_and_listed_first(
    stack: RunningStack, agent: Callable[..., ConsoleClient]
) -> None:
    number = phone()
    sms(stack, number, "When is my garbage collection day?")
    wait_for(texts_to(stack, number))
    sms(stack, number, "can I speak to someone")
    assert until(lambda: any("closed right now" in b for b in sent_bodies(stack, number)))
    closed_notice = next(b for b in sent_bodies(stack, number) if "closed right now" in b)
    assert "call you back at this number" in closed_notice
    sms(stack, number, "My bin was not picked up on Tuesday, please call me")
    assert until(lambda: any("is recorded" in b for b in sent_bodies(stack, number)))
    supervisor = agent("supervisor")
    snapshot = supervisor.get("/console/api/queue").json()
    city = next(q for q in snapshot["queues"] if q["id"] == "city-services")
    assert city["open"] is False and city["next_open"]
    tickets = [w for w in snapshot["waiting"] if w["conversation_id"] == f"sms:{number}"]
    assert tickets and tickets[0]["ticket"] is True
    detail = supervisor.get(f"/console/api/handoffs/{tickets[0]['id']}").json()
    assert detail["handoff"]["callback_number"] == number
    assert "bin was not picked up" in detail["handoff"]["ticket_message"]


def webchat(stack: RunningStack, session: str, text: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{stack.base_url}/webchat/messages", json={"session": session, "text": text}, timeout=60
    )
    response.raise_for_status()
    return response.json()["messages"]  # type: ignore[no-any-return]


def test_an_agent_whose_console_drops_gives_the_conversation_back_at_its_place(
    stack: RunningStack, agent: Callable[..., ConsoleClient]
) -> None:
    sessions = [new_session(stack.base_url) for _ in range(3)]
    for session in sessions:
        webchat(stack, session, "I want to talk to a person")  # no topic yet: asked which service
        replies = webchat(stack, session, '/choose_queue{"queue_id":"passports-id"}')
        assert any("in line" in m["text"] for m in replies), replies
    dropper = agent()
    cookie = "; ".join(f"{c.name}={c.value}" for c in dropper.http.cookies.jar)

    async def console_then_drop() -> dict[str, Any]:
        url = stack.base_url.replace("http", "ws") + "/console/ws"
        async with websockets.connect(url, additional_headers={"Cookie": cookie}) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await ws.recv())["type"] in ("pong", "queue")
            taken = await asyncio.to_thread(dropper.claim_and_accept, "passports-id")
        return taken  # the socket is closed here, and the agent sends nothing more

    taken = asyncio.run(console_then_drop())
    order_before = [
        w["conversation_id"]
        for w in agent().get("/console/api/queue").json()["waiting"]
        if w["queue_id"] == "passports-id"
    ]
    watcher = agent("supervisor")

    def back_in_line() -> list[str]:
        waiting = watcher.get("/console/api/queue").json()["waiting"]
        return [w["conversation_id"] for w in waiting if w["queue_id"] == "passports-id"]

    order_after = until(
        lambda: taken["conversation_id"] in (o := back_in_line()) and o, timeout_s=60
    )
    assert (
        order_after and order_after[0] == taken["conversation_id"]
    )  # first again, before the others
    assert order_after[1:] == order_before
    history = httpx.get(
        f"{stack.base_url}/webchat/history",
        params={
            "session": next(t for t in sessions if conversation_of(t) == taken["conversation_id"])
        },
    ).json()["messages"]
    assert any("was disconnected" in m["text"] for m in history)


def test_sms_asks_did_this_help_only_every_fifth_answer(stack: RunningStack) -> None:
    """Each SMS costs money: "did this help?" follows only every fifth answer, and a Y is thanked
    and stored."""
    number = phone()
    asked = []
    for _ in range(5):
        before = len(sent_bodies(stack, number))
        sms(stack, number, "How do I renew my driver's licence?")
        assert until(lambda n=before: len(sent_bodies(stack, number)) > n)
        # the whole turn's messages, however slow the machine
        assert settled(stack.settings.database_url, f"sms:{number}")  # type: ignore[union-attr]
        asked.append(any("Reply Y or N" in b for b in sent_bodies(stack, number)[before:]))
    assert asked == [False, False, False, False, True]
    sms(stack, number, "Y")
    assert until(lambda: "Thank you for your feedback." in sent_bodies(stack, number))
    engine = create_engine(stack.settings.database_url)  # type: ignore[union-attr]
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT kind, value, faq_id FROM feedback WHERE conversation_id = :c"),
            {"c": f"sms:{number}"},
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("helpful", 1, "mv-renew-licence-en")]
