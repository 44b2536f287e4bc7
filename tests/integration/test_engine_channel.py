"""The engine answers the app alone: its one input channel wants the run's ENGINE_TOKEN, Rasa's open
REST channel is gone, and a refused turn leaves no trace in the tracker store (finding 6)."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from bot.engine.client import WEBHOOK
from bot.privacy.tracker_store import tracker_path
from bot.settings import Settings
from tests.conftest import RunningStack

pytestmark = pytest.mark.stack


def started_here(stack: RunningStack) -> Settings:
    """The stack's settings (with its ENGINE_TOKEN); an external stack's token is not known here."""
    if stack.settings is None:
        pytest.skip("the engine's token is known only for a stack started by the tests")
    return stack.settings


def engine_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.engine_port}"


def tracker_rows(settings: Settings, needle: str) -> int:
    """Events of the tracker store whose sender or data holds `needle`."""
    with sqlite3.connect(tracker_path(settings)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM events WHERE sender_id LIKE ? OR data LIKE ?",
            (f"%{needle}%", f"%{needle}%"),
        ).fetchone()
    return int(row[0])


def tracker_bytes(settings: Settings) -> bytes:
    """Every byte of the tracker store's files, its write-ahead log included."""
    path = tracker_path(settings)
    files = [path, Path(f"{path}-wal"), Path(f"{path}-journal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def turn(settings: Settings, sender: str, text: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{engine_url(settings)}{WEBHOOK}",
        json={"sender": sender, "message": text},
        headers=headers,
        timeout=60,
    )


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong-token-wrong-token-wrong",
        "Bearer",  # the scheme alone
        "Basic {token}",  # the right secret under another scheme
        "Bearer {token}x",  # one character more
        "Bearer {prefix}",  # a prefix of the secret
    ],
)
def test_a_turn_without_the_app_token_is_refused_and_stored_nowhere(
    stack: RunningStack, authorization: str | None
) -> None:
    settings = started_here(stack)
    token = str(settings.engine_token)
    marker = f"leak.{uuid.uuid4().hex}@example.com"
    sender = f"intruder-{uuid.uuid4().hex}"
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.format(token=token, prefix=token[:-1])

    response = turn(settings, sender, f"my e-mail is {marker}", headers)

    assert response.status_code == 401
    assert response.headers.get("www-authenticate") == "Bearer"
    assert marker not in response.text
    assert tracker_rows(settings, marker) == 0
    assert tracker_rows(settings, sender) == 0
    assert marker.encode() not in tracker_bytes(settings)


def test_rasas_open_rest_channel_is_gone(stack: RunningStack) -> None:
    settings = started_here(stack)
    marker = f"rest.{uuid.uuid4().hex}@example.com"
    for headers in ({}, {"Authorization": f"Bearer {settings.engine_token}"}):
        response = httpx.post(
            f"{engine_url(settings)}/webhooks/rest/webhook",
            json={"sender": f"rest-{uuid.uuid4().hex}", "message": marker},
            headers=headers,
            timeout=60,
        )
        assert response.status_code == 404
    assert tracker_rows(settings, marker) == 0


def test_the_app_token_opens_the_channel_and_the_turn_is_stored(stack: RunningStack) -> None:
    """The refusals above are the token check, not a wrong address: with it, Rasa answers and
    keeps the turn in the very tracker store the refusals were looked for in."""
    settings = started_here(stack)
    sender = f"app-{uuid.uuid4().hex}"
    headers = {"Authorization": f"Bearer {settings.engine_token}"}

    response = turn(settings, sender, "hello", headers)

    assert response.status_code == 200
    replies = response.json()
    assert isinstance(replies, list) and replies
    assert all(reply["recipient_id"] == sender for reply in replies)
    assert tracker_rows(settings, sender) > 0


def test_a_body_without_sender_or_text_is_refused_with_the_token(stack: RunningStack) -> None:
    settings = started_here(stack)
    headers = {"Authorization": f"Bearer {settings.engine_token}"}
    for body in ({"message": "hello"}, {"sender": "x"}, {"sender": 5, "message": "hi"}, [1]):
        response = httpx.post(
            f"{engine_url(settings)}{WEBHOOK}", json=body, headers=headers, timeout=60
        )
        assert response.status_code == 400, body


def test_the_engine_listens_on_loopback_only_without_rasas_http_api(stack: RunningStack) -> None:
    """Nothing off this machine reaches the engine, and Rasa's HTTP API (which can write trackers
    too) is not served."""
    settings = started_here(stack)
    listening = {
        c.laddr.ip
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == settings.engine_port
    }
    assert listening == {"127.0.0.1"}
    sender = f"api-{uuid.uuid4().hex}"
    response = httpx.post(
        f"{engine_url(settings)}/conversations/{sender}/messages",
        json={"text": "hello", "sender": "user"},
        timeout=60,
    )
    assert response.status_code == 404
    assert tracker_rows(settings, sender) == 0
