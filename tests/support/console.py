"""A logged-in agent console over HTTP (the same calls the console page makes), for tests
and benchmarks."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"


def tid(name: str) -> str:
    """A CSS selector for an element's data-testid."""
    return f'[data-testid="{name}"]'


def add_agent(
    database_url: str,
    username: str,
    role: str = "agent",
    display_name: str = "",
    password: str = PASSWORD,
) -> None:
    """Create an account with the real CLI (`govbot agents add --password-stdin`)."""
    command = [
        sys.executable,
        "-m",
        "bot.cli",
        "agents",
        "add",
        "--username",
        username,
        "--role",
        role,
        "--password-stdin",
    ]
    if display_name:
        command += ["--display-name", display_name]
    subprocess.run(
        command,
        input=password + "\n",
        text=True,
        check=True,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=Path(__file__).resolve().parents[2],
    )


class ConsoleClient:
    """An agent's browser session: cookie jar, CSRF token, and the console's JSON API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.csrf = ""

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        form = self.http.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        response = self.http.post(
            "/console/login",
            data={"username": username, "password": password, "csrf": token[1] if token else ""},
        )
        if response.status_code == 303:
            page = self.http.get("/console")
            self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)[1]  # type: ignore[index]
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})

    def claim_and_accept(self, queue_id: str | None = None) -> dict[str, Any]:
        claimed = self.post("/console/api/claim", {"queue_id": queue_id} if queue_id else {})
        claimed.raise_for_status()
        handoff = claimed.json()["handoff"]
        self.post(f"/console/api/handoffs/{handoff['id']}/accept").raise_for_status()
        return handoff  # type: ignore[no-any-return]

    @contextlib.contextmanager
    def keep_alive(self, every_s: float = 3.0) -> Iterator[None]:
        """While inside, the agent's presence is refreshed as an open console's heartbeat would."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every_s):
                with contextlib.suppress(httpx.HTTPError):
                    httpx.get(
                        self.base_url + "/console/api/me", cookies=self.http.cookies, timeout=10
                    )

        thread = threading.Thread(target=beat, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def close(self) -> None:
        self.http.close()


def grant(database_url: str, username: str, agency: str, review: bool = False) -> None:
    """Let an account edit (and with `review`, review) an agency's FAQs, with the real CLI
    (`govbot kb grant`)."""
    command = [sys.executable, "-m", "bot.cli", "kb", "grant", username, agency]
    if review:
        command.append("--review")
    subprocess.run(
        command,
        text=True,
        check=True,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=Path(__file__).resolve().parents[2],
    )
