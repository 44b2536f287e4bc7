"""The body cap holds while the body streams: a chunked 200 MB post is refused after the first
64 kB, without the app reading (or holding) the rest; socket frames are capped the same way."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.served import SESSION_SECRET, app_settings, served
from tests.support.webchat import minted

CHUNK = 64 * 1024
TOTAL = 200 * 1024 * 1024
GIVE_UP_AFTER = 8 * 1024 * 1024  # far past the 64 kB cap: an app still reading here has no cap


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served(app_settings(tmp_path_factory.mktemp("body-limit"))) as url:
        yield url


def _chunks() -> Iterator[bytes]:
    """A 200 MB JSON body, made as it is sent (never held whole)."""
    yield b'{"session": "s-chunked-0001", "text": "'
    for _ in range(TOTAL // CHUNK):
        yield b"a" * CHUNK
    yield b'"}'


def _post_chunked(
    base_url: str, path: str, content_type: str = "application/json"
) -> tuple[bytes, int]:
    """Send a chunked body until the server answers; the answer's first bytes and the bytes sent.
    Stops (answer b"") once GIVE_UP_AFTER bytes went out unanswered."""
    host, port = base_url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        for chunk in _chunks():
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except OSError:
                break  # it closed the connection after answering
            sent += len(chunk)
            if sent > GIVE_UP_AFTER:
                return b"", sent
        sock.settimeout(30)
        return sock.recv(4096), sent


def test_a_chunked_body_past_the_cap_is_refused_before_it_is_read(app_url: str) -> None:
    answer, sent = _post_chunked(app_url, "/webchat/messages")
    assert answer.startswith(b"HTTP/1.1 413"), (answer[:200], sent)
    assert sent < GIVE_UP_AFTER  # refused long before the 200 MB were sent
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body == {"error": "request body over 65536 bytes"}


def test_a_chunked_body_to_any_route_is_capped_too(app_url: str) -> None:
    # a form the login route reads, the console's one public form
    answer, sent = _post_chunked(app_url, "/console/login", "application/x-www-form-urlencoded")
    assert answer.startswith(b"HTTP/1.1 413") and sent < GIVE_UP_AFTER


def test_a_web_chat_frame_over_the_cap_closes_the_socket(app_url: str) -> None:
    url = app_url.replace("http://", "ws://") + f"/webchat/ws?session={minted(SESSION_SECRET)}"
    with connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "message", "text": "a" * 200_000}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big


def test_a_small_message_still_goes_through(app_url: str, tmp_path: Path) -> None:
    url = app_url.replace("http://", "ws://") + f"/webchat/ws?session={minted(SESSION_SECRET)}"
    with connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "message", "text": "hello", "id": "c1"}))
        frames = [json.loads(ws.recv(timeout=10)) for _ in range(2)]
    assert {"type": "ack", "id": "c1"} in frames
