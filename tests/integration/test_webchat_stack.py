"""Web chat through the whole stack: the app, the real Rasa engine, the real FAQ index."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.conftest import RunningStack
from tests.support.webchat import conversation_of, new_session

pytestmark = pytest.mark.stack
# The form of a session token, signed by nobody: what a client that made one up would send.
FORGED = "abcdefgh12.abcdefghijklmnopqrstuvwx"


def say(stack: RunningStack, session: str, text: str, **extra: object) -> list[dict]:
    response = httpx.post(
        f"{stack.base_url}/webchat/messages",
        json={"session": session, "text": text, **extra},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def joined(messages: list[dict]) -> str:
    return "\n".join(m["text"] for m in messages)


def history(stack: RunningStack, session: str, after: int = 0) -> list[dict]:
    response = httpx.get(
        f"{stack.base_url}/webchat/history", params={"session": session, "after": after}
    )
    assert response.status_code == 200
    return response.json()["messages"]


def test_health_reports_ready(stack: RunningStack) -> None:
    body = httpx.get(f"{stack.base_url}/healthz").json()
    assert body == {"ready": True, "app": True, "index": True, "engine": True}


def test_english_question_gets_the_official_answer_with_its_source(stack: RunningStack) -> None:
    messages = say(stack, new_session(stack.base_url), "How can I renew my driving licence?")
    text = joined(messages)
    assert "renew" in text.lower()
    assert "https://motor-vehicles.northbridge.example/licences/renew" in text


def test_french_question_gets_a_french_answer(stack: RunningStack) -> None:
    text = joined(
        say(
            stack,
            new_session(stack.base_url),
            "Comment est-ce que je renouvelle mon permis de conduire?",
        )
    )
    assert "renouvel" in text.lower()
    assert "/fr/" in text


def test_greeting_and_bot_challenge_follow_the_citizens_language(stack: RunningStack) -> None:
    session = new_session(stack.base_url)
    assert "Northbridge" in joined(say(stack, session, "hello"))
    assert "automat" in joined(say(stack, session, "am I talking to a robot?")).lower()
    assert "Bonjour" in joined(say(stack, session, "Bonjour"))


def test_explicit_language_request_switches_the_conversation(stack: RunningStack) -> None:
    session = new_session(stack.base_url)
    say(stack, session, "hello")
    assert "français" in joined(say(stack, session, "en français svp")).lower()
    assert "plaisir" in joined(say(stack, session, "ok merci")).lower()
    assert "English" in joined(say(stack, session, "English please"))


def test_picking_a_suggestion_by_button_payload_answers_that_faq(stack: RunningStack) -> None:
    session = new_session(stack.base_url)
    payload = '/choose_faq{"faq_id": "city-collection-day-en"}'
    text = joined(say(stack, session, payload))
    assert "city-services.northbridge.example" in text


def test_a_forged_choice_is_not_guessed(stack: RunningStack) -> None:
    text = joined(say(stack, new_session(stack.base_url), '/choose_faq{"faq_id": "no-such-faq"}'))
    assert "person" in text


def test_not_helpful_twice_goes_to_a_person_in_the_agencys_queue(stack: RunningStack) -> None:
    session = new_session(stack.base_url)
    answer = say(stack, session, "How do I renew my driver's licence?")
    assert [b["payload"] for m in answer for b in m["buttons"]] == [
        "/helpful",
        "/not_helpful",
    ]  # did this help?
    first = say(stack, session, "that did not answer my question")
    assert any(m["buttons"] for m in first), "the first 'did not help' offers the next candidates"
    second = joined(say(stack, session, "no, that still does not help"))
    assert (
        "connect you with a person" in second
        and "Motor Vehicles Northbridge" in second
        and "in line" in second
    )
    assert "left the line" in joined(say(stack, session, "cancel"))


def test_asking_for_a_person_without_a_topic_asks_which_service(stack: RunningStack) -> None:
    replies = say(stack, new_session(stack.base_url), "I want to talk to a real person")
    payloads = [b["payload"] for m in replies for b in m["buttons"]]
    assert "Which service" in joined(replies)
    assert '/choose_queue{"queue_id": "revenue"}' in payloads and len(payloads) == 6


def test_did_this_help_is_recorded_and_thanked(stack: RunningStack) -> None:
    session = new_session(stack.base_url)
    say(stack, session, "How do I renew my driver's licence?")
    assert joined(say(stack, session, "/helpful")) == "Thank you for your feedback."
    assert stack.settings is not None
    engine = create_engine(stack.settings.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT kind, value, faq_id, channel FROM feedback WHERE conversation_id = :c"),
            {"c": conversation_of(session)},
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("helpful", 1, "mv-renew-licence-en", "webchat")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("\x00\x07\x1b", "empty"),
        ("x" * 10_000, "2000"),
    ],
)
def test_unprocessable_messages_get_a_polite_reply_and_change_nothing(
    stack: RunningStack, text: str, expected: str
) -> None:
    session = new_session(stack.base_url)
    messages = say(stack, session, text)
    assert expected in joined(messages).lower()
    assert history(stack, session) == []


@pytest.mark.parametrize(
    "text",
    [
        "😀🎉",
        "مرحبا، كيف يمكنني تجديد رخصة القيادة؟",
        "¿Cómo puedo renovar mi licencia de conducir?",
        "hel\x00lo\x07 how do I pay a parking ticket?",
        "<img src=x onerror=alert(1)>",
    ],
)
def test_odd_but_valid_messages_get_a_sensible_answer(stack: RunningStack, text: str) -> None:
    session = new_session(stack.base_url)
    messages = say(stack, session, text)
    assert messages and all(m["text"] or m["buttons"] for m in messages)
    stored = [m for m in history(stack, session) if m["from"] == "user"]
    assert len(stored) == 1 and "\x00" not in stored[0]["text"]


def test_unsupported_language_gets_a_bilingual_reply(stack: RunningStack) -> None:
    text = joined(
        say(stack, new_session(stack.base_url), "¿Cómo puedo renovar mi licencia de conducir?")
    )
    assert "English" in text and "français" in text


@pytest.mark.parametrize(
    "body, status",
    [
        (b"{not json", 422),
        (json.dumps({"text": "hi"}).encode(), 422),
        (json.dumps({"session": "bad id!", "text": "hi"}).encode(), 422),
        (json.dumps({"session": FORGED, "text": 42}).encode(), 422),
        (json.dumps({"session": FORGED, "text": "x" * 70_000}).encode(), 413),
    ],
)
def test_malformed_requests_get_a_clear_4xx(stack: RunningStack, body: bytes, status: int) -> None:
    response = httpx.post(
        f"{stack.base_url}/webchat/messages",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == status
    assert "error" in response.json()


def test_a_resent_message_is_answered_once(stack: RunningStack) -> None:
    session, client_id = new_session(stack.base_url), uuid.uuid4().hex
    first = say(stack, session, "How do I renew my driver's licence?", id=client_id)
    again = say(stack, session, "How do I renew my driver's licence?", id=client_id)
    assert first == again
    assert [m["from"] for m in history(stack, session)].count("user") == 1


def test_websocket_acks_echoes_answers_and_resumes(stack: RunningStack) -> None:
    session = new_session(stack.base_url)
    url = stack.base_url.replace("http://", "ws://") + f"/webchat/ws?session={session}"
    with connect(url) as ws:
        ws.send(
            json.dumps(
                {"type": "message", "id": "c1", "text": "When is my garbage collection day?"}
            )
        )
        frames = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            frame = json.loads(ws.recv(timeout=60))
            frames.append(frame)
            if frame["type"] == "message" and frame["from"] == "bot":
                break
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "ack" and frames[0]["id"] == "c1"
    echo = next(f for f in frames if f["type"] == "message" and f["from"] == "user")
    assert echo["client_id"] == "c1"
    assert "typing" in kinds
    bot = frames[-1]
    assert bot["seq"] > echo["seq"]
    with connect(url) as ws:
        ws.send(json.dumps({"type": "resume", "after": echo["seq"]}))
        replayed = json.loads(ws.recv(timeout=30))
    assert replayed["seq"] == bot["seq"] and replayed["text"] == bot["text"]


def test_websocket_refuses_a_bad_session_id(stack: RunningStack) -> None:
    url = stack.base_url.replace("http://", "ws://") + "/webchat/ws?session=x"
    with pytest.raises((InvalidStatus, ConnectionClosed)), connect(url) as ws:
        ws.recv(timeout=5)


def test_engine_outage_delays_the_answer_but_loses_nothing(stack: RunningStack) -> None:
    if stack.proxy is None:
        pytest.skip("needs the stack started by the tests (GOVBOT_TEST_URL is set)")
    session = new_session(stack.base_url)
    stack.proxy.set_up(False)
    try:
        notice = joined(say(stack, session, "How do I pay a parking ticket?"))
        assert "unavailable" in notice
        assert httpx.get(f"{stack.base_url}/healthz").status_code == 503
    finally:
        stack.proxy.set_up(True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        bot = [m for m in history(stack, session) if m["from"] == "bot"]
        if len(bot) >= 2:
            break
        time.sleep(0.5)
    assert len(bot) >= 2, "the message was answered once the engine came back"
    assert "parking" in bot[-1]["text"].lower() or bot[-1]["buttons"]


def test_the_action_server_refuses_calls_without_the_engines_token(stack: RunningStack) -> None:
    if stack.proxy is None:
        pytest.skip("needs the stack started by the tests (its token is made per run)")
    call = {
        "next_action": "action_handoff",
        "sender_id": "x",
        "tracker": {},
        "domain": {},
        "version": "3.6.21",
    }
    response = httpx.post(f"{stack.base_url}/actions/webhook", json=call)
    assert response.status_code == 403
    assert (
        httpx.post(
            f"{stack.base_url}/actions/webhook", params={"token": "guess"}, json=call
        ).status_code
        == 403
    )


def test_livez_stays_up_while_the_engine_is_down(stack: RunningStack) -> None:
    if stack.proxy is None:
        pytest.skip("needs the stack started by the tests")
    stack.proxy.set_up(False)
    try:
        assert httpx.get(f"{stack.base_url}/livez").json() == {"live": True}
        assert httpx.get(f"{stack.base_url}/healthz").status_code == 503
    finally:
        stack.proxy.set_up(True)
