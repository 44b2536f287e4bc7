"""Web chat as a client uses it: get a session token from the server first, then talk with it."""

from __future__ import annotations

import httpx

from connectors.webchat import SessionTokens


def new_session(base_url: str) -> str:
    """A session token issued by the app at `base_url` (POST /webchat/sessions)."""
    response = httpx.post(f"{base_url}/webchat/sessions", timeout=30)
    assert response.status_code == 200, response.text
    token = response.json()["session"]
    assert isinstance(token, str) and "." in token
    return token


async def new_session_async(client: httpx.AsyncClient, base_url: str) -> str:
    """`new_session` on an async client (load tests and benchmarks)."""
    response = await client.post(f"{base_url}/webchat/sessions", timeout=30)
    response.raise_for_status()
    token: str = response.json()["session"]
    return token


def session_id(token: str) -> str:
    """The session id in a token: the address of its conversation ("webchat:<id>")."""
    return token.split(".", 1)[0]


def conversation_of(token: str) -> str:
    """The stored conversation id of a session token."""
    return f"webchat:{session_id(token)}"


def minted(secret: str) -> str:
    """A session token signed with `secret`, as a replica of the app sharing it would issue."""
    return SessionTokens(secret).issue()
