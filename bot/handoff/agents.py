"""Contact-centre accounts and console sessions: argon2 password hashes, expiring sessions,
login throttling.

A session cookie carries a random token; the database keeps only its SHA-256, so a leaked database
does not log anyone in. Each session has its own CSRF token, which every state-changing request
repeats in a header. Failed logins are audit entries; too many for one username or one address in
the window and further attempts are refused before the password is even checked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from bot.handoff.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import Agent, AgentSession, AuditEntry, utcnow

ROLES = ("agent", "supervisor", "admin")
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password")  # checked when the user does not exist: same cost


class AccountError(ValueError):
    """An account operation that cannot be done (duplicate username, unknown role,
    weak password)."""


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


class Agents:
    """Accounts, passwords and sessions."""

    def __init__(
        self, db: Database, audit: AuditLog, clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self._db = db
        self._audit = audit
        self.now = clock

    # -- accounts ----------------------------------------------------------------------------------
    def add(
        self, username: str, password: str, role: str = "agent", display_name: str | None = None
    ) -> Agent:
        username = username.strip()
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if not username or len(username) > 64 or any(ch.isspace() for ch in username):
            raise AccountError("username must be 1-64 characters without spaces")
        if len(password) < 12:
            raise AccountError("password must be at least 12 characters")
        agent = Agent(
            username=username,
            display_name=(display_name or username).strip()[:120],
            password_hash=_hasher.hash(password),
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
    def throttled(
        self, username: str, ip: str, per_user: int, per_ip: int, window_s: float
    ) -> bool:
        """True when `username` failed to log in `per_user` times within the window, or `ip`
        `per_ip` times (a higher bar: colleagues may share an office's address)."""
        since = self.now() - dt.timedelta(seconds=window_s)
        failed = (
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "login_failed", AuditEntry.at >= since)
        )
        with self._db.session() as session:
            by_user = session.scalar(failed.where(AuditEntry.username == username[:64])) or 0
            by_ip = session.scalar(failed.where(AuditEntry.ip == ip)) or 0
        return by_user >= per_user or by_ip >= per_ip

    def authenticate(self, username: str, password: str, ip: str) -> Agent | None:
        """The active agent with these credentials, or None (the failure is recorded)."""
        with self._db.session() as session:
            agent = session.scalar(select(Agent).where(Agent.username == username))
        try:
            _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password)
            ok = agent is not None and agent.active
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or agent is None:
            self._audit.record(None, username[:64], "login_failed", ip=ip)
            return None
        if _hasher.check_needs_rehash(agent.password_hash):
            with self._db.session() as session:
                row = session.get(Agent, agent.id)
                if row is not None:
                    row.password_hash = _hasher.hash(password)
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
