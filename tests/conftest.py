"""Shared fixtures. `stack` starts the real thing: the Rasa engine and the app, on free ports, with
a switchable proxy between them; set GOVBOT_TEST_URL to run the stack tests against a stack
already up."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot import stack as stack_module
from bot.settings import ROOT, Settings
from tests.support.fakes import FakeGraph, FakeTelegram, FakeTwilio
from tests.support.proxy import SwitchableProxy

IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TWILIO_SID, TWILIO_TOKEN = "AC" + "0" * 32, "twilio-test-auth-token"
TELEGRAM_TOKEN, TELEGRAM_SECRET = "123456:test-bot-token", "test-secret-token"
GRAPH_TOKEN, GRAPH_SECRET, GRAPH_VERIFY = "test-page-token", "test-app-secret", "test-verify-token"


# Every test client of a shared stack comes from 127.0.0.1 and stands for many citizens, so the
# abuse limits stand aside there; tests/integration/test_rate_limits.py tests them on their own.
NO_RATE_LIMITS: dict[str, str] = {
    "rate_limit_per_address": "1000000/minute",
    "rate_limit_chat_per_address": "1000000/minute",
    "rate_limit_chat_per_session": "1000000/minute",
    "rate_limit_per_sender": "1000000/minute",
    "rate_limit_per_account": "1000000/minute",
    "rate_limit_preview": "1000000/minute",
}


@dataclass
class Providers:
    """The fake Twilio, Telegram and Graph API servers the stack sends to."""

    twilio: FakeTwilio
    telegram: FakeTelegram
    graph: FakeGraph


@dataclass
class RunningStack:
    """A started stack: where the app is, the proxy that stands for the engine link, the
    fake providers."""

    base_url: str
    proxy: SwitchableProxy | None
    var_dir: Path | None
    providers: Providers | None = None
    settings: Settings | None = None


def channel_settings(providers: Providers) -> dict[str, object]:
    """Settings that turn every provider channel on, pointed at the fakes."""
    return {
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_from_number": "+15145550199",
        "twilio_whatsapp_from": "whatsapp:+15145550199",
        "twilio_api_base": providers.twilio.base_url,
        "telegram_bot_token": TELEGRAM_TOKEN,
        "telegram_secret_token": TELEGRAM_SECRET,
        "telegram_api_base": providers.telegram.base_url,
        "messenger_page_access_token": GRAPH_TOKEN,
        "messenger_app_secret": GRAPH_SECRET,
        "messenger_verify_token": GRAPH_VERIFY,
        "graph_api_base": providers.graph.base_url,
    }


def test_contact_centre(folder: Path) -> Path:
    """The demo contact centre with test timers, and City Services closed today (a holiday from
    yesterday to tomorrow, in its time zone), so its hand-offs become callback tickets."""
    config = yaml.safe_load((ROOT / "data" / "contact_centre.yml").read_text(encoding="utf-8"))
    config["timers"] = {
        "offer_timeout_s": 20,
        "heartbeat_timeout_s": 12,
        "abandon_after_s": 3600,
        "default_handling_s": 300,
    }
    today = dt.datetime.now(ZoneInfo("America/Toronto")).date()
    for queue in config["queues"]:
        if queue["id"] == "city-services":
            queue["hours"] = "always"
            queue["holidays"] = [str(today + dt.timedelta(days=d)) for d in (-1, 0, 1)]
    path = folder / "contact_centre.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def providers() -> Iterator[Providers]:
    """Local fake provider servers that record what the app sends."""
    with (
        FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as twilio,
        FakeTelegram(TELEGRAM_TOKEN) as telegram,
        FakeGraph(GRAPH_TOKEN) as graph,
    ):
        yield Providers(twilio, telegram, graph)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, providers: Providers) -> Iterator[RunningStack]:
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
    # The stack publishes FAQs in its tests: it keeps its index apart from var/index (a copy, so
    # that only what the tests publish is encoded).
    if (ROOT / "var" / "index" / "manifest.json").exists():
        shutil.copytree(ROOT / "var" / "index", var_dir / "index")
    port = free_port()
    settings = Settings(
        port=port,
        engine_port=free_port(),
        var_dir=var_dir,
        public_base_url=f"http://127.0.0.1:{port}",
        database_url=f"sqlite:///{var_dir / 'app.db'}",
        index_dir=var_dir / "index",
        retry_interval_s=0.5,
        contact_centre_file=test_contact_centre(var_dir),
        sweep_interval_s=0.5,
        # No quiet hours in the shared stack: its tests run at any hour of the day (quiet hours
        # are tested with a settable clock in tests/integration/test_outreach.py, test_panel.py).
        quiet_start_hour=0,
        quiet_end_hour=0,
        **NO_RATE_LIMITS,
        **channel_settings(providers),  # type: ignore[arg-type]
    )
    # This run's ACTIONS_TOKEN and ENGINE_TOKEN made here, so tests that call the engine have them.
    settings = stack_module.with_run_secrets(settings)
    proxy = SwitchableProxy(settings.engine_port)
    log = (var_dir / "stack.log").open("ab")  # both processes' output: the privacy tests read it
    processes = stack_module.start(settings, engine_url=f"http://127.0.0.1:{proxy.port}", log=log)
    base_url = f"http://{settings.host}:{settings.port}"
    try:
        if not stack_module.wait_ready(f"{base_url}/healthz", processes, timeout_s=600):
            tail = (var_dir / "stack.log").read_text(errors="replace")[-4000:]
            pytest.fail(
                f"the stack did not become ready; the end of {var_dir / 'stack.log'}:\n{tail}"
            )
        yield RunningStack(base_url, proxy, var_dir, providers, settings)
    finally:
        stack_module.stop(processes)
        proxy.close()
        log.close()


@pytest.fixture(scope="session")
def live_app_url(stack: RunningStack) -> str:
    """Base URL of the running app (demo page at `/`)."""
    return stack.base_url
