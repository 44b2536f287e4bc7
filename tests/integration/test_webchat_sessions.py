"""Web-chat sessions are issued by the server: a session it did not sign is refused everywhere and
changes nothing, history needs the token, and replicas sharing WEBCHAT_SESSION_SECRET accept each
other's sessions. The real app (create_app, every middleware and route) on a real database, with an
echoing engine instead of Rasa."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.websockets import WebSocketDisconnect

from bot.engine.client import BotMessage
from bot.settings import ROOT, Settings
from bot.storage.db import Database
from bot.storage.models import Conversation, InboundMessage
from bot.web.app import create_app
from bot.web.services import build_services
from connectors.webchat import TOKEN_PATTERN
from tests.support.webchat import session_id

SECRET = "a-shared-secret-of-the-replicas-" + "k3Jx9QpLm2"
FORGED = "abcdefgh12.abcdefghijklmnopqrstuvwx"


class EchoEngine:
    """Stands for Rasa: answers every message with its text."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def turn(
        self, conversation_id: str, text: str, metadata: dict[str, Any]
    ) -> list[BotMessage]:
        self.seen.append(text)
        return [BotMessage(f"echo: {text}")]

    async def ready(self) -> bool:
        return True


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    db.create_schema()
    yield db
    db.engine.dispose()


AppFactory = Callable[..., tuple[TestClient, EchoEngine]]


@pytest.fixture
def make_app(database: Database, tmp_path: Path) -> AppFactory:
    """An app replica on the shared database; its background work (models, sweeps) not started."""

    def make(**values: Any) -> tuple[TestClient, EchoEngine]:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            var_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'app.db'}",
            contact_centre_file=ROOT / "data" / "contact_centre.yml",
            **{"webchat_session_secret": SECRET, **values},
        )
        engine = EchoEngine()
        app = create_app(settings, engine=engine)
        app.state.services = build_services(settings, database, engine)
        return TestClient(app), engine

    return make


def stored(database: Database) -> tuple[int, int]:
    """How many conversations and citizen messages the database holds."""
    with database.session() as s:
        conversations = s.scalar(select(func.count()).select_from(Conversation)) or 0
        messages = s.scalar(select(func.count()).select_from(InboundMessage)) or 0
    return conversations, messages


def issue(client: TestClient) -> str:
    response = client.post("/webchat/sessions")
    assert response.status_code == 200
    token: str = response.json()["session"]
    return token


def test_sessions_are_issued_unguessable_and_never_twice(make_app: AppFactory) -> None:
    client, _ = make_app()
    tokens = {issue(client) for _ in range(50)}
    assert len(tokens) == 50
    assert all(re.fullmatch(TOKEN_PATTERN, t) for t in tokens)
    assert all(len(session_id(t)) >= 22 for t in tokens)  # 128 random bits


def made_up(token: str, other: str) -> list[str]:
    """Tokens no server issued: invented, tampered, one session's id with another's signature."""
    sid, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [
        FORGED,
        f"{sid}.{flipped}",
        f"{sid}.{other.split('.')[1]}",
        f"{session_id(other)}x.{signature}",
    ]


def test_a_session_the_server_did_not_issue_is_refused_and_changes_nothing(
    make_app: AppFactory, database: Database
) -> None:
    client, engine = make_app()
    real, other = issue(client), issue(client)
    for token in made_up(real, other):
        response = client.post("/webchat/messages", json={"session": token, "text": "hello"})
        assert response.status_code == 403, token
        assert "unknown session" in response.json()["error"]
        assert client.get("/webchat/history", params={"session": token}).status_code == 403
    for malformed in ("t" + "0" * 20, "bad id!", ""):
        response = client.post("/webchat/messages", json={"session": malformed, "text": "hello"})
        assert response.status_code == 422
    assert stored(database) == (0, 0)
    assert engine.seen == []


def test_the_socket_closes_with_1008_on_a_session_it_did_not_issue(
    make_app: AppFactory, database: Database
) -> None:
    client, engine = make_app()
    real, other = issue(client), issue(client)
    for token in ["", "abcdefgh12", *made_up(real, other)]:
        with (
            client.websocket_connect(f"/webchat/ws?session={token}") as ws,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            ws.send_json({"type": "message", "id": "c1", "text": "hello"})
            ws.receive_json()
        assert closed.value.code == 1008
    assert stored(database) == (0, 0)
    assert engine.seen == []


def test_the_socket_works_with_an_issued_session(make_app: AppFactory) -> None:
    client, _ = make_app()
    token = issue(client)
    with client.websocket_connect(f"/webchat/ws?session={token}") as ws:
        ws.send_json({"type": "message", "id": "c1", "text": "hello there"})
        assert ws.receive_json() == {"type": "ack", "id": "c1"}
    history = client.get("/webchat/history", params={"session": token}).json()["messages"]
    assert [m["text"] for m in history if m["from"] == "user"] == ["hello there"]


def test_history_needs_the_sessions_own_token(make_app: AppFactory) -> None:
    client, _ = make_app()
    mine, theirs = issue(client), issue(client)
    reply = client.post("/webchat/messages", json={"session": mine, "text": "my question"})
    [answer] = reply.json()["messages"]
    assert (answer["text"], answer["buttons"]) == ("echo: my question", [])

    def texts(token: str) -> list[str]:
        response = client.get("/webchat/history", params={"session": token})
        assert response.status_code == 200
        return [m["text"] for m in response.json()["messages"]]

    assert texts(mine) == ["my question", "echo: my question"]
    assert texts(theirs) == []
    # The id alone (what the database and the console show) is no way in, nor with another
    # session's signature.
    by_id = client.get("/webchat/history", params={"session": session_id(mine)})
    assert by_id.status_code == 422
    borrowed = f"{session_id(mine)}.{theirs.split('.')[1]}"
    assert client.get("/webchat/history", params={"session": borrowed}).status_code == 403


def test_the_bot_s_messages_carry_blocks_and_plain_text_the_citizen_s_stay_as_typed(
    make_app: AppFactory,
) -> None:
    client, _ = make_app()
    token = issue(client)
    typed = "<script>x</script> [a](javascript:alert(1)) [b](https://b.example)"
    reply = client.post("/webchat/messages", json={"session": token, "text": typed})
    [answer] = reply.json()["messages"]
    assert answer["text"] == "echo: <script>x</script> a b (https://b.example)"
    assert answer["blocks"] == [
        {
            "type": "paragraph",
            "spans": [
                {"type": "text", "text": "echo: <script>x</script> a "},
                {"type": "link", "text": "b", "href": "https://b.example"},
            ],
        }
    ]
    history = client.get("/webchat/history", params={"session": token}).json()["messages"]
    mine, echoed = history
    assert mine["text"] == typed and "blocks" not in mine
    assert (echoed["text"], echoed["blocks"]) == (answer["text"], answer["blocks"])
    with client.websocket_connect(f"/webchat/ws?session={token}") as ws:
        ws.send_json({"type": "resume", "after": 0})
        assert [ws.receive_json().get("blocks") for _ in range(2)] == [None, answer["blocks"]]


def test_a_session_from_one_replica_works_on_another_with_the_same_secret(
    make_app: AppFactory, database: Database
) -> None:
    a, _ = make_app()
    b, engine_b = make_app()
    stranger, _ = make_app(webchat_session_secret="another-deployment-" + "Zq81xLm0Pw")
    token = issue(a)
    answer = b.post("/webchat/messages", json={"session": token, "text": "asked on b"})
    assert answer.status_code == 200 and engine_b.seen == ["asked on b"]
    assert [
        m["text"] for m in a.get("/webchat/history", params={"session": token}).json()["messages"]
    ] == ["asked on b", "echo: asked on b"]
    refused = stranger.post("/webchat/messages", json={"session": token, "text": "and here?"})
    assert refused.status_code == 403
    assert stored(database) == (1, 1)


def test_without_a_secret_each_process_signs_its_own(make_app: AppFactory) -> None:
    one, _ = make_app(webchat_session_secret=None)
    two, _ = make_app(webchat_session_secret=None)
    token = issue(one)
    assert one.get("/webchat/history", params={"session": token}).status_code == 200
    assert two.get("/webchat/history", params={"session": token}).status_code == 403


def test_cors_follows_the_allowed_origins(make_app: AppFactory) -> None:
    client, _ = make_app(webchat_allowed_origins=["https://agency.example"])
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = client.options(
        "/webchat/sessions", headers={"Origin": "https://agency.example", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://agency.example"
    other = client.options(
        "/webchat/sessions", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers
    token = client.post("/webchat/sessions", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in token.headers  # the browser keeps it from the page
    # Refused before the handshake is accepted.
    with pytest.raises(WebSocketDisconnect) as closed:
        client.websocket_connect(
            f"/webchat/ws?session={issue(client)}", headers={"Origin": "https://evil.example"}
        ).__enter__()
    assert closed.value.code == 1008 and closed.value.reason == "origin not allowed"
