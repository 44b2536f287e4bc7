"""The console's login throttle against real stores (SQLite, PostgreSQL, Redis), with real threads:
the check and the count are one step, so concurrent attempts never check more passwords than the
limit, and the back-off (not a lock-out) is keyed so that a stranger cannot lock a real agent out.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from argon2 import PasswordHasher
from sqlalchemy import func, select

from bot.handoff.agents import Agents, LoginOutcome
from bot.handoff.login_throttle import LoginThrottle, SqlLoginThrottle, ThrottleRules
from bot.handoff.login_throttle_redis import RedisLoginThrottle
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import AuditEntry, LoginAttempt
from tests.integration.test_handoff_queue import Clock
from tests.support.waiting import until

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery staple"
RULES = ThrottleRules(per_account=5, per_address=50, backoff_s=30, max_backoff_s=240, quiet_s=900)
# argon2 at a test's cost: a check still takes milliseconds, far longer than the throttle's own
# statements, so a throttle that read, then checked, then counted would let many through.
HASHER = PasswordHasher(time_cost=1, memory_cost=4096, parallelism=1)


@pytest.fixture(params=["database", "redis"])
def throttle(request: pytest.FixtureRequest, db: Database) -> Iterator[LoginThrottle]:
    """The throttle in the app database, or in Redis (keys under a prefix of this test's own)."""
    if request.param == "database":
        yield SqlLoginThrottle(db, RULES)
        return
    prefix = f"test:login:{uuid.uuid4().hex[:8]}:"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    in_redis = RedisLoginThrottle(REDIS_URL, RULES, prefix)
    yield in_redis
    in_redis.close()
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def agents(db: Database, throttle: LoginThrottle, clock: Clock) -> Agents:
    agents = Agents(db, AuditLog(db), clock, throttle, HASHER)
    agents.add("ana", PASSWORD, "agent")
    return agents


def at_once(calls: list[tuple[str, str, str]], agents: Agents) -> list[LoginOutcome]:
    """Every (username, password, address) attempt on a pool of 16 threads (more than the app's
    own), held until all are queued, then released together."""
    gate = threading.Event()

    def attempt(call: tuple[str, str, str]) -> LoginOutcome:
        gate.wait()
        return agents.login(*call)

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(attempt, call) for call in calls]
        gate.set()
        return [f.result() for f in futures]


def tally(outcomes: list[LoginOutcome]) -> tuple[int, int, int]:
    """(logged in, wrong password, refused before the password was checked)."""
    ok = sum(o.agent is not None for o in outcomes)
    throttled = sum(o.retry_after_s > 0 for o in outcomes)
    return ok, len(outcomes) - ok - throttled, throttled


def failures_logged(db: Database) -> int:
    with db.session() as session:
        count = select(func.count()).where(AuditEntry.action == "login_failed")
        return session.scalar(count) or 0


def test_forty_concurrent_wrong_passwords_check_only_the_limit(
    agents: Agents, db: Database
) -> None:
    outcomes = at_once([("ana", f"wrong guess {n}", "10.0.0.9") for n in range(40)], agents)
    assert tally(outcomes) == (0, 5, 35)
    assert failures_logged(db) == 5  # the refused ones never reached the password check
    assert all(o.retry_after_s <= RULES.backoff_s for o in outcomes)


class GatedHasher(PasswordHasher):
    """argon2 whose checks wait at a gate, so a test holds attempts mid-check."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=4096, parallelism=1)
        self.gate = threading.Event()
        self.checking = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.checking += 1
        self.gate.wait(timeout=60)
        return super().verify(hash, password)


def test_the_right_password_fifteenth_of_twenty_cannot_slip_past_the_limit(
    db: Database, throttle: LoginThrottle, clock: Clock
) -> None:
    """Twenty attempts at once, the right password the fifteenth: while five checks are still in
    flight, it is refused like every other attempt past the limit."""
    hasher = GatedHasher()
    agents = Agents(db, AuditLog(db), clock, throttle, hasher)
    agents.add("ana", PASSWORD, "agent")
    ip = "10.0.0.9"
    with ThreadPoolExecutor(20) as pool:
        first = [pool.submit(agents.login, "ana", f"wrong guess {n}", ip) for n in range(14)]
        # each of the fourteen is either refused or held at the gate, mid-check
        assert until(lambda: hasher.checking + sum(f.done() for f in first) == 14, timeout_s=30)
        assert hasher.checking == 5  # the limit, although none of them has failed yet
        fifteenth = pool.submit(agents.login, "ana", PASSWORD, ip)
        last = [pool.submit(agents.login, "ana", f"wrong guess {n}", ip) for n in range(15, 20)]
        assert fifteenth.result(timeout=30).retry_after_s > 0 and fifteenth.result().agent is None
        assert all(f.result(timeout=30).retry_after_s > 0 for f in last)
        hasher.gate.set()
        outcomes = [f.result(timeout=60) for f in first]
    assert tally([*outcomes, fifteenth.result(), *(f.result() for f in last)]) == (0, 5, 15)
    assert agents.login("ana", PASSWORD, ip).retry_after_s > 0  # still waiting out the back-off
    clock.advance(RULES.backoff_s)
    assert agents.login("ana", PASSWORD, ip).agent is not None  # then the right one gets in


def test_one_address_checks_at_most_its_limit_across_usernames(agents: Agents) -> None:
    outcomes = at_once([(f"user{n}", "wrong guess", "10.0.0.7") for n in range(150)], agents)
    assert tally(outcomes) == (0, 50, 100)


def test_a_stranger_elsewhere_cannot_lock_the_agent_out(agents: Agents) -> None:
    for n in range(12):
        agents.login("ana", f"wrong guess {n}", "203.0.113.66")
    assert agents.login("ana", PASSWORD, "203.0.113.66").retry_after_s > 0  # the stranger waits
    assert agents.login("ana", PASSWORD, "10.0.0.1").agent is not None  # Ana, at her desk, not
    for n in range(60):  # a flood over many usernames from one address blocks only that address
        agents.login(f"user{n}", "wrong guess", "203.0.113.67")
    assert agents.login("ana", PASSWORD, "203.0.113.67").retry_after_s > 0
    assert agents.login("ana", PASSWORD, "10.0.0.1").agent is not None


def test_waits_double_up_to_the_cap_and_a_success_starts_afresh(
    agents: Agents, clock: Clock
) -> None:
    waits = []
    for n in range(5):
        assert agents.login("ana", f"wrong guess {n}", "10.0.0.9").retry_after_s == 0
    for _ in range(5):
        wait = agents.login("ana", PASSWORD, "10.0.0.9").retry_after_s
        waits.append(wait)
        clock.advance(wait - 1)
        assert agents.login("ana", PASSWORD, "10.0.0.9").retry_after_s > 0  # not yet
        clock.advance(1)
        assert agents.login("ana", "wrong again", "10.0.0.9").retry_after_s == 0  # one more try
    assert waits == [30, 60, 120, 240, 240]
    clock.advance(240)
    assert agents.login("ana", PASSWORD, "10.0.0.9").agent is not None
    for n in range(4):  # the run ended with the success: four misses are not yet a wait
        assert agents.login("ana", f"typo {n}", "10.0.0.9").retry_after_s == 0
    assert agents.login("ana", PASSWORD, "10.0.0.9").agent is not None


def test_a_quiet_run_starts_again_and_successes_do_not_fill_the_address(
    agents: Agents, clock: Clock
) -> None:
    for n in range(4):
        agents.login("ana", f"wrong guess {n}", "10.0.0.9")
    clock.advance(RULES.quiet_s + 1)
    for n in range(4):  # four more misses after a quiet spell: still no wait
        assert agents.login("ana", f"wrong guess {n}", "10.0.0.9").retry_after_s == 0
    for _ in range(60):  # an office's logins through one address never fill its count
        assert agents.login("ana", PASSWORD, "10.0.0.5").agent is not None


def test_the_database_keeps_no_address_or_typed_username(db: Database, clock: Clock) -> None:
    agents = Agents(db, AuditLog(db), clock, SqlLoginThrottle(db, RULES), HASHER)
    agents.login("my password typed as a username", "x", "198.51.100.23")
    with db.session() as session:
        rows = list(session.scalars(select(LoginAttempt)))
    assert {r.scope for r in rows} == {"account", "address"}
    assert not any("198.51" in r.key or "password" in r.key for r in rows)
