"""Contact-centre accounts and console sessions: argon2 password hashes checked for strength,
expiring sessions, throttled logins.

A session cookie carries a random token; the database keeps only its SHA-256, so a leaked database
does not log anyone in. Each session has its own CSRF token, which every state-changing request
repeats in a header. Failed logins are audit entries; a login attempt is first reserved with the
throttle (bot/handoff/login_throttle.py), which refuses it before the password is even checked
while its account and address, or its address, must wait.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from zxcvbn import zxcvbn

from bot.handoff.login_throttle import LoginThrottle, SqlLoginThrottle
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import Agent, AgentSession, utcnow

ROLES = ("agent", "supervisor", "admin")
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password")  # checked when the user does not exist: same cost
MIN_PASSWORD_CHARS = 12
# zxcvbn's score 3: about 10^8 guesses or more ("safely unguessable" online, and slow to crack from
# an argon2 hash); its own feedback says why a password falls short.
MIN_PASSWORD_SCORE = 3


_EMAIL = re.compile(r"[^@\s<>,;\"]{1,64}@[^@\s<>,;\"]{1,189}\.[A-Za-z]{2,63}")


class AccountError(ValueError):
    """An account operation that cannot be done (duplicate username, unknown role,
    weak password)."""


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """What a login attempt came to: the agent, or nothing, and when throttled the seconds to
    wait (the password was then not checked)."""

    agent: Agent | None
    retry_after_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Login:
    """A valid console session."""

    agent: Agent
    csrf_token: str
    token_hash: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def role_at_least(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def check_password(password: str, username: str = "", display_name: str = "") -> None:
    """Raise `AccountError` for a password too short or too easy to guess (zxcvbn, offline: common
    passwords, words, names, keyboard runs, repeats, dates, and the account's own names)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    # zxcvbn's cost grows with the length; what is past 100 characters adds nothing to guess.
    found = zxcvbn(password[:100], user_inputs=[u for u in (username, display_name) if u])
    if found["score"] < MIN_PASSWORD_SCORE:
        feedback = found["feedback"]
        why = " ".join([feedback.get("warning") or "", *feedback.get("suggestions", [])]).strip()
        raise AccountError("password is too easy to guess" + (f": {why}" if why else ""))


class Agents:
    """Accounts, passwords and sessions; `hasher` replaces argon2's default cost (tests)."""

    def __init__(
        self,
        db: Database,
        audit: AuditLog,
        clock: Callable[[], dt.datetime] = utcnow,
        throttle: LoginThrottle | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self.now = clock
        self.throttle = throttle or SqlLoginThrottle(db)
        self._hasher = hasher or _hasher
        self._dummy_hash = _DUMMY_HASH if hasher is None else hasher.hash("not a real password")

    # -- accounts ----------------------------------------------------------------------------------
    def add(
        self,
        username: str,
        password: str,
        role: str = "agent",
        display_name: str | None = None,
        email: str | None = None,
    ) -> Agent:
        username = username.strip()
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if not username or len(username) > 64 or any(ch.isspace() for ch in username):
            raise AccountError("username must be 1-64 characters without spaces")
        check_password(password, username, display_name or "")
        if email is not None and not _EMAIL.fullmatch(email):
            raise AccountError("e-mail must look like name@example.org")
        agent = Agent(
            email=email,
            username=username,
            display_name=(display_name or username).strip()[:120],
            password_hash=self._hasher.hash(password),
            role=role,
        )
        with self._db.session() as session:
            session.add(agent)
            try:
                session.commit()
            except IntegrityError as exc:
                raise AccountError(f"username {username!r} is taken") from exc
        self._audit.record(
            None, "admin-cli", "agent_added", detail={"username": username, "role": role}
        )
        return agent

    def list(self) -> list[Agent]:
        with self._db.session() as session:
            return list(session.scalars(select(Agent).order_by(Agent.username)))

    def get(self, agent_id: int) -> Agent | None:
        with self._db.session() as session:
            return session.get(Agent, agent_id)

    def set_password(self, username: str, password: str) -> None:
        """Change an account's password (checked for strength) and end its sessions."""
        with self._db.session() as session:
            agent = session.scalar(select(Agent).where(Agent.username == username))
            if agent is None:
                raise AccountError(f"no agent {username!r}")
            check_password(password, agent.username, agent.display_name)
            agent.password_hash = self._hasher.hash(password)
            session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
            session.commit()
        self._audit.record(None, "admin-cli", "password_changed", detail={"username": username})

    def set_active(self, username: str, active: bool) -> None:
        with self._db.session() as session:
            agent = session.scalar(select(Agent).where(Agent.username == username))
            if agent is None:
                raise AccountError(f"no agent {username!r}")
            agent.active = active
            if not active:
                session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
            session.commit()

    # -- logging in --------------------------------------------------------------------------------
    def login(self, username: str, password: str, ip: str) -> LoginOutcome:
        """A throttled login: the attempt is reserved (or refused with the wait) before the
        password is checked, and a success clears its (account, address) run."""
        wait = self.throttle.reserve(username, ip, self.now())
        if wait > 0:
            return LoginOutcome(None, wait)
        agent = self.authenticate(username, password, ip)
        if agent is not None:
            self.throttle.succeeded(username, ip, self.now())
        return LoginOutcome(agent)

    def authenticate(self, username: str, password: str, ip: str) -> Agent | None:
        """The active agent with these credentials, or None (the failure is recorded). Not
        throttled: the console logs in through `login`."""
        with self._db.session() as session:
            agent = session.scalar(select(Agent).where(Agent.username == username))
        try:
            self._hasher.verify(agent.password_hash if agent else self._dummy_hash, password)
            ok = agent is not None and agent.active
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or agent is None:
            self._audit.record(None, username[:64], "login_failed", ip=ip)
            return None
        if self._hasher.check_needs_rehash(agent.password_hash):
            with self._db.session() as session:
                row = session.get(Agent, agent.id)
                if row is not None:
                    row.password_hash = self._hasher.hash(password)
                    session.commit()
        return agent

    def start_session(self, agent: Agent, ttl_s: float, ip: str) -> tuple[str, str]:
        """A new session: (cookie token, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.now()
        with self._db.session() as session:
            session.add(
                AgentSession(
                    token_hash=_digest(token),
                    agent_id=agent.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + dt.timedelta(seconds=ttl_s),
                )
            )
            session.execute(
                delete(AgentSession).where(AgentSession.expires_at < now)
            )  # tidy old ones
            session.commit()
        self._audit.record(agent, agent.username, "login", ip=ip)
        return token, csrf

    def session_for(self, token: str | None) -> Login | None:
        """The live session behind a cookie token, or None (missing, unknown, expired, or
        account disabled)."""
        if not token:
            return None
        with self._db.session() as session:
            row = session.get(AgentSession, _digest(token))
            if (
                row is None
                or row.expires_at.replace(tzinfo=row.expires_at.tzinfo or dt.UTC) < self.now()
            ):
                return None
            agent = session.get(Agent, row.agent_id)
            if agent is None or not agent.active:
                return None
            return Login(agent, row.csrf_token, row.token_hash)

    def end_session(self, login: Login, ip: str) -> None:
        with self._db.session() as session:
            session.execute(delete(AgentSession).where(AgentSession.token_hash == login.token_hash))
            session.commit()
        self._audit.record(login.agent, login.agent.username, "logout", ip=ip)
