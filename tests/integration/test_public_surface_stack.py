"""The running stack as an attacker tries it: no input answers a 500 (every route's numbers and
dates fuzzed with huge and tiny values), logging out needs the session's CSRF token, and a
throttled login says when to come back."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute

from bot.settings import Settings
from bot.web.app import create_app
from tests.conftest import RunningStack
from tests.support.console import ConsoleClient, add_agent

pytestmark = pytest.mark.stack

HUGE_AND_TINY = [
    "99999999999999999999999",
    "-99999999999999999999999",
    "9223372036854775808",  # 2**63: past SQLite's and PostgreSQL's integers
    "2147483648",  # 2**31: past a PostgreSQL integer column
    "-1",
    "0",
    "1e309",
    "NaN",
    "9999-12-31",
    "0001-01-01",
    "9999-99-99",
    "",
    "x" * 400,
]
# Read from the query string by the routes themselves (the dashboard's filters), so not declared.
RAW_QUERY = ["from", "to", "tz", "min_n", "agency", "channel", "language"]


def every_route(routes: list[Any]) -> Iterator[Any]:
    """The app's routes, including those of included routers."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from every_route(route.original_router.routes)
        else:
            yield route


def declared_query(dependant: Any) -> set[str]:
    """The query parameters a route and its dependencies declare."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= declared_query(sub)
    return names


def fuzz_targets() -> list[tuple[str, str, list[str]]]:
    """(method, path template, query names) of every HTTP route that reads a path or query
    value; a POST without a path parameter takes none (its body is validated as a model)."""
    targets = []
    for route in every_route(create_app(Settings()).routes):
        if not isinstance(route, APIRoute):
            continue
        has_path = "{" in route.path
        query = sorted(declared_query(route.dependant) | set(RAW_QUERY))
        for method in sorted(route.methods - {"HEAD"}):
            if method == "GET" or has_path:
                targets.append((method, route.path, query))
    return targets


@pytest.fixture(scope="module")
def admin(stack: RunningStack) -> Iterator[ConsoleClient]:
    if stack.settings is None:
        pytest.skip("needs the test stack's own database to add accounts")
    username = f"admin-{uuid.uuid4().hex[:8]}"
    add_agent(stack.settings.database_url, username, "admin")
    client = ConsoleClient(stack.base_url)
    assert client.login(username).status_code == 303
    yield client
    client.close()


def test_no_route_answers_5xx_to_huge_tiny_or_odd_numbers_and_dates(admin: ConsoleClient) -> None:
    targets = fuzz_targets()
    assert len(targets) >= 25 and any("{handoff_id}" in path for _, path, _ in targets)
    failures = []
    for method, template, names in targets:
        for value in HUGE_AND_TINY:
            path = re.sub(r"\{[^}]+\}", quote(value, safe="") or "x", template)
            response = admin.http.request(
                method,
                path,
                params={name: value for name in names},
                headers={"X-CSRF-Token": admin.csrf},
                json={},
            )
            if response.status_code >= 500:
                failures.append((method, path, value, response.status_code))
    assert failures == []


@pytest.mark.parametrize(
    "query",
    [
        "from=9999-12-01&to=9999-12-31&tz=America/Los_Angeles",
        "from=0001-01-01&to=0001-01-31&tz=America/Los_Angeles",
    ],
)
def test_the_reported_dashboard_ranges_are_422(admin: ConsoleClient, query: str) -> None:
    response = admin.get(f"/console/api/dashboard?{query}")
    assert response.status_code == 422 and "out of range" in response.json()["error"]


def test_history_after_a_huge_sequence_number_is_422(stack: RunningStack) -> None:
    response = httpx.get(
        f"{stack.base_url}/webchat/history",
        params={"session": "fuzz" + uuid.uuid4().hex[:12], "after": "99999999999999999999999"},
    )
    assert response.status_code == 422


def test_logging_out_needs_the_sessions_csrf_token(stack: RunningStack) -> None:
    if stack.settings is None:
        pytest.skip("needs the test stack's own database to add accounts")
    username = f"agent-{uuid.uuid4().hex[:8]}"
    add_agent(stack.settings.database_url, username, "agent")
    agent = ConsoleClient(stack.base_url)
    assert agent.login(username).status_code == 303
    cookie = agent.http.cookies.get("govbot_console", path="/console")
    for form in ({}, {"csrf": "forged" * 8}):
        refused = agent.http.post("/console/logout", data=form)
        assert refused.status_code == 403 and "still logged in" in refused.text
        assert "set-cookie" not in refused.headers  # the cookie is not dropped either
        assert agent.get("/console/api/me").status_code == 200  # and the session lives on
    done = agent.http.post("/console/logout", data={"csrf": agent.csrf})
    assert done.status_code == 303 and done.headers["location"] == "/console/login"
    stale = httpx.get(f"{stack.base_url}/console/api/me", cookies={"govbot_console": cookie or ""})
    assert stale.status_code == 401  # the session ended on the server, not only in the browser
    agent.close()


def test_a_throttled_login_says_when_to_come_back(stack: RunningStack) -> None:
    if stack.settings is None:
        pytest.skip("needs the test stack's own database to add accounts")
    username = f"agent-{uuid.uuid4().hex[:8]}"
    add_agent(stack.settings.database_url, username, "agent")
    stranger = ConsoleClient(stack.base_url)
    for _ in range(5):
        assert stranger.login(username, "not the password").status_code == 401
    throttled = stranger.login(username)  # even the right password waits its turn
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["retry-after"]) <= 30
    assert "Try again in" in throttled.text
    stranger.close()
