"""The web-chat channel: sessions, client message ids and the widget's socket frames, free of any
web framework (the routes are in bot/web/routes/webchat.py).

A session is issued by the server as a token "<id>.<signature>": the id names the conversation
("webchat:<id>"), the signature (HMAC-SHA256 of the id under WEBCHAT_SESSION_SECRET) proves the
server issued it. No state is kept, so every replica with the same secret accepts every replica's
sessions, and the database never holds a token (only the id): reading it opens no conversation.

Every citizen message is stored durably, keyed by session + client message id so that a resend is a
no-op, before it is acknowledged; replies come from the conversation worker through the live hub.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from connectors.base import Incoming
from connectors.text import HARD_LIMIT

CHANNEL = "webchat"
SESSION_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"  # a session id: the conversation's address
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{8,64}\.[A-Za-z0-9_-]{16,64}$"  # what the client holds
CLIENT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_SESSION = re.compile(SESSION_PATTERN)
_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
MAX_FRAME_CHARS = HARD_LIMIT * 2
# The highest message sequence number a client may name (what a database integer holds, with room).
MAX_SEQ = 2**62


def valid_session(session: str) -> bool:
    """Whether `session` has the form of a web-chat session id."""
    return bool(_SESSION.match(session))


class SessionTokens:
    """Issues web-chat session tokens and tells which ones this service issued (by signature)."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"govbot webchat session\0" + secret.encode()).digest()

    def _signature(self, session: str) -> str:
        # 144 bits: far beyond guessing, and short enough for a URL query.
        digest = hmac.new(self._key, session.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode()

    def issue(self) -> str:
        """A new session token: a random 128-bit id and its signature."""
        session = secrets.token_urlsafe(16)
        return f"{session}.{self._signature(session)}"

    def session_of(self, token: str) -> str | None:
        """The session id of a token this service issued; None for anything else."""
        session, dot, signature = token.partition(".")
        if not dot or not valid_session(session) or not signature.isascii() or len(signature) > 64:
            return None
        return session if hmac.compare_digest(signature, self._signature(session)) else None


def incoming(session: str, text: str, client_id: str | None, title: str | None) -> Incoming:
    """A widget message as the inbox stores it: unique per session, so that another visitor
    reusing a client id can neither collide with this one nor see it."""
    return Incoming(CHANNEL, session, f"{session}/{client_id or uuid.uuid4().hex}", text, title)


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame from the widget's socket: "resume" (after a seq) or "message"."""

    kind: str
    after: int = 0
    text: str = ""
    client_id: str | None = None
    title: str | None = None


class FrameError(ValueError):
    """A frame the socket answers with an error frame (and otherwise ignores)."""


def parse_frame(raw: str) -> Frame:
    """Read one socket frame; `FrameError` with the reason for anything else."""
    if len(raw) > MAX_FRAME_CHARS:
        raise FrameError("frame too large")
    try:
        frame: Any = json.loads(raw)
        kind = frame.get("type")
    except (ValueError, AttributeError):
        raise FrameError("frames must be JSON objects") from None
    if kind == "resume":
        after = frame.get("after") if isinstance(frame.get("after"), int) else 0
        if after > MAX_SEQ:
            raise FrameError(f"after must be at most {MAX_SEQ}")
        return Frame("resume", after=max(after, 0))
    if kind == "message" and isinstance(frame.get("text"), str):
        given = frame.get("id")
        client_id = given if isinstance(given, str) and _CLIENT_ID.match(given) else None
        title = frame.get("title") if isinstance(frame.get("title"), str) else None
        return Frame("message", text=frame["text"], client_id=client_id, title=title)
    raise FrameError("unknown frame type")
