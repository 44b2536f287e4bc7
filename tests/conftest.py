"""Shared fixtures. `stack` starts the real thing: the Rasa engine and the app, on free ports, with a
switchable proxy between them; set GOVBOT_TEST_URL to run the stack tests against a stack already up."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import stack as stack_module
from bot.settings import ROOT, Settings
from tests.support.proxy import SwitchableProxy

IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningStack:
    """A started stack: where the app is, and the proxy that stands for the engine link."""

    base_url: str
    proxy: SwitchableProxy | None
    var_dir: Path | None


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Engine + app, started once for the whole session."""
    external = os.environ.get("GOVBOT_TEST_URL")
    if external:
        yield RunningStack(external.rstrip("/"), None, None)
        return
    if not stack_module.MODEL.exists():
        message = f"no trained Rasa model at {stack_module.MODEL}; `make test` trains it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    var_dir = tmp_path_factory.mktemp("stack")
    settings = Settings(
        port=free_port(), engine_port=free_port(), var_dir=var_dir,
        database_url=f"sqlite:///{var_dir / 'app.db'}", index_dir=ROOT / "var" / "index", retry_interval_s=0.5,
    )
    proxy = SwitchableProxy(settings.engine_port)
    processes = stack_module.start(settings, engine_url=f"http://127.0.0.1:{proxy.port}")
    base_url = f"http://{settings.host}:{settings.port}"
    try:
        if not stack_module.wait_ready(f"{base_url}/healthz", processes, timeout_s=600):
            pytest.fail("the stack did not become ready")
        yield RunningStack(base_url, proxy, var_dir)
    finally:
        stack_module.stop(processes)
        proxy.close()


@pytest.fixture(scope="session")
def live_app_url(stack: RunningStack) -> str:
    """Base URL of the running app (demo page at `/`)."""
    return stack.base_url
