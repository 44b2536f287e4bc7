"""Console login throttling, per (account, address) and per address, with back-off.

An attempt first reserves a place: one atomic step that refuses while a key is blocked and
otherwise counts the attempt (a check still in flight counts, so concurrent guesses cannot all
pass). Reaching the limit blocks the key for a wait that doubles with each further failure, up to a
cap, instead of a hard lock-out; a success clears its (account, address) run. A stranger failing
from elsewhere never blocks the real agent's address, and no key counts a whole account, so nobody
can lock an agent out from another address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, case, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import LoginAttempt

ACCOUNT, ADDRESS = "account", "address"


@dataclass(frozen=True, slots=True)
class ThrottleRules:
    """How many attempts each key gets before waiting, and how long the waits are."""

    per_account: int = 5  # per (account, address)
    per_address: int = 50  # a higher bar: colleagues may share an office's address
    backoff_s: float = 30.0  # the first wait; each failure after it doubles the wait
    max_backoff_s: float = 900.0
    quiet_s: float = 900.0  # a run with no attempt for this long starts again

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottleRules:
        """The rules of LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_IP, LOGIN_BACKOFF_S and
        LOGIN_WINDOW_S (the longest wait, and the quiet time that starts a run again)."""
        return cls(
            settings.login_max_failures,
            settings.login_max_failures_per_ip,
            settings.login_backoff_s,
            settings.login_window_s,
            settings.login_window_s,
        )


def throttle_keys(username: str, ip: str) -> list[tuple[str, str]]:
    """(scope, key) of an attempt, the address first (every caller locks in this order, so
    PostgreSQL sees no deadlock); keys are digests, so no address or typed username is stored."""

    def digest(*parts: str) -> str:
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()

    return [(ADDRESS, digest(ADDRESS, ip)), (ACCOUNT, digest(ACCOUNT, username[:64], ip))]


class LoginThrottle(Protocol):
    """Reserve a login attempt before the password is checked; settle it after."""

    def reserve(self, username: str, ip: str, now: dt.datetime) -> float:
        """0 when the attempt may check its password (and is counted), else the seconds to wait."""
        ...

    def succeeded(self, username: str, ip: str, now: dt.datetime) -> None:
        """The reserved attempt logged in: its (account, address) run ends, and it no longer
        counts against the address."""
        ...


class SqlLoginThrottle:
    """The throttle in the app database (`login_attempts`): each reservation is one conditional
    UPDATE, inside a transaction that takes both keys or neither."""

    def __init__(self, db: Database, rules: ThrottleRules | None = None) -> None:
        self._db = db
        self.rules = rules or ThrottleRules()

    def _limit(self, scope: str) -> int:
        return self.rules.per_account if scope == ACCOUNT else self.rules.per_address

    def _ensure_row(self, connection: Connection, scope: str, key: str, at: float) -> None:
        values: dict[str, Any] = {
            "scope": scope,
            "key": key,
            "attempts": 0,
            "last_at": at,
            "blocked_until": 0.0,
            "delay_s": self.rules.backoff_s,
        }
        if connection.dialect.name == "postgresql":
            connection.execute(
                postgresql.insert(LoginAttempt).values(values).on_conflict_do_nothing()
            )
        elif connection.dialect.name == "sqlite":
            connection.execute(sqlite.insert(LoginAttempt).values(values).on_conflict_do_nothing())
        else:  # pragma: no cover - the app runs on SQLite or PostgreSQL
            connection.execute(insert(LoginAttempt).values(values))

    def reserve(self, username: str, ip: str, now: dt.datetime) -> float:
        """See `LoginThrottle.reserve`."""
        at, rules = now.timestamp(), self.rules
        with self._db.engine.connect() as connection, connection.begin() as transaction:
            for scope, key in throttle_keys(username, ip):
                this = (LoginAttempt.scope == scope) & (LoginAttempt.key == key)
                self._ensure_row(connection, scope, key, at)
                # A run left quiet long enough starts again (not while a block still holds).
                connection.execute(
                    update(LoginAttempt)
                    .where(this, LoginAttempt.last_at <= at - rules.quiet_s)
                    .where(LoginAttempt.blocked_until <= at)
                    .values(attempts=0, delay_s=rules.backoff_s)
                )
                # The check and the count in one statement: right-hand sides read the old row.
                reaches = LoginAttempt.attempts + 1 >= self._limit(scope)
                doubled = case(
                    (LoginAttempt.delay_s * 2 > rules.max_backoff_s, rules.max_backoff_s),
                    else_=LoginAttempt.delay_s * 2,
                )
                reserved = connection.execute(
                    update(LoginAttempt)
                    .where(this, LoginAttempt.blocked_until <= at)
                    .values(
                        attempts=LoginAttempt.attempts + 1,
                        last_at=at,
                        blocked_until=case(
                            (reaches, at + LoginAttempt.delay_s),
                            else_=LoginAttempt.blocked_until,
                        ),
                        delay_s=case((reaches, doubled), else_=LoginAttempt.delay_s),
                    )
                )
                if reserved.rowcount != 1:
                    until = connection.scalar(select(LoginAttempt.blocked_until).where(this))
                    transaction.rollback()  # neither key counts a refused attempt
                    return max(float(until or 0.0) - at, 1.0)
            transaction.commit()
        return 0.0

    def succeeded(self, username: str, ip: str, now: dt.datetime) -> None:
        """See `LoginThrottle.succeeded`; also drops runs that have been quiet past any wait."""
        rules = self.rules
        (address_scope, address_key), (account_scope, account_key) = throttle_keys(username, ip)
        stale = now.timestamp() - rules.quiet_s - rules.max_backoff_s
        below = LoginAttempt.attempts - 1 < rules.per_address
        with self._db.engine.begin() as connection:
            connection.execute(
                update(LoginAttempt)
                .where(LoginAttempt.scope == address_scope, LoginAttempt.key == address_key)
                .where(LoginAttempt.attempts > 0)
                .values(
                    attempts=LoginAttempt.attempts - 1,
                    # the block that this attempt's own reservation set does not stand
                    blocked_until=case((below, 0.0), else_=LoginAttempt.blocked_until),
                    delay_s=case((below, rules.backoff_s), else_=LoginAttempt.delay_s),
                )
            )
            connection.execute(
                delete(LoginAttempt).where(
                    LoginAttempt.scope == account_scope, LoginAttempt.key == account_key
                )
            )
            connection.execute(
                delete(LoginAttempt).where(
                    LoginAttempt.last_at < stale, LoginAttempt.blocked_until < now.timestamp()
                )
            )
