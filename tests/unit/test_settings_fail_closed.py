"""Beyond loopback, `govbot serve` and `govbot run` refuse to start without real secrets: a set
ACTIONS_TOKEN and ENGINE_TOKEN that are no placeholders, and every secret of each channel that is
switched on."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import ROOT, Settings, get_settings, insecure_settings, is_placeholder

CHECKED = [
    "HOST",
    "ACTIONS_TOKEN",
    "ENGINE_TOKEN",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_WHATSAPP_FROM",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_SECRET_TOKEN",
    "MESSENGER_PAGE_ACCESS_TOKEN",
    "MESSENGER_APP_SECRET",
    "MESSENGER_VERIFY_TOKEN",
]
REFUSED = "must be set to a secret when HOST is not a loopback address"


class Started(AssertionError):
    """Raised by the tripwires: something began to start although the settings were refused."""


@pytest.fixture(autouse=True)
def clean_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No ambient secrets and no `.env`; runtime files in a temporary folder."""
    for name in CHECKED:
        monkeypatch.delenv(name, raising=False)
    # A real web-chat secret unless a test says otherwise: it has tests of its own below.
    monkeypatch.setenv("WEBCHAT_SESSION_SECRET", secrets.token_urlsafe(32))
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)  # Settings reads `.env` from the working directory
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def tripwires(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make binding a port (uvicorn) and spawning a process (engine, app) fail loudly."""
    calls: list[str] = []

    def uvicorn_run(*args: object, **kwargs: object) -> None:
        """Stands for uvicorn.run: binding the port."""
        calls.append("uvicorn.run")
        raise Started("uvicorn.run was called")

    class Popen:
        """Stands for subprocess.Popen: starting the engine or the app."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            calls.append("subprocess.Popen")
            raise Started("a process was started")

    monkeypatch.setattr(uvicorn, "run", uvicorn_run)
    monkeypatch.setattr(subprocess, "Popen", Popen)
    return calls


def settings(**values: Any) -> Settings:
    """Settings from `values` alone: every checked setting unset unless given (and a real web-chat
    secret)."""
    checked: dict[str, Any] = {name.lower(): None for name in CHECKED if name != "HOST"}
    checked["webchat_session_secret"] = secrets.token_urlsafe(32)
    return Settings(_env_file=None, **{**checked, **values})


def refuse(command: list[str], env: dict[str, str], tripwires: list[str]) -> str:
    """Run the real CLI, expect a refusal, and return its one stderr line."""
    result = CliRunner().invoke(app, command, env=env)
    assert not isinstance(result.exception, Started), result.exception
    assert result.exit_code not in (0, None), result.output
    assert tripwires == []
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["serve"], ["run"]])
@pytest.mark.parametrize("token", [None, "", "   ", "change-me", "changeme", "<actions token>"])
def test_no_real_actions_token_beyond_loopback_refuses_to_start(
    command: list[str], token: str | None, tripwires: list[str], tmp_path: Path
) -> None:
    env = {"HOST": "0.0.0.0", "ENGINE_TOKEN": secrets.token_urlsafe(32)}
    if token is not None:
        env["ACTIONS_TOKEN"] = token
    line = refuse(command, env, tripwires)
    assert line == f"error: ACTIONS_TOKEN {REFUSED}"
    assert not (tmp_path / "var").exists()  # no endpoints file written, no database made


@pytest.mark.parametrize("command", [["serve"], ["run"]])
@pytest.mark.parametrize("token", [None, "", "change-me", "<engine token>", "${ENGINE_TOKEN}"])
def test_no_real_engine_token_beyond_loopback_refuses_to_start(
    command: list[str], token: str | None, tripwires: list[str], tmp_path: Path
) -> None:
    """The engine's input channel is the way into the dialogue: its secret fails closed too."""
    env = {"HOST": "0.0.0.0", "ACTIONS_TOKEN": secrets.token_urlsafe(32)}
    if token is not None:
        env["ENGINE_TOKEN"] = token
    line = refuse(command, env, tripwires)
    assert line == f"error: ENGINE_TOKEN {REFUSED}"
    assert not (tmp_path / "var").exists()


def test_the_address_given_on_the_command_line_is_the_one_checked(tripwires: list[str]) -> None:
    line = refuse(["serve", "--host", "0.0.0.0"], {"HOST": "127.0.0.1"}, tripwires)
    assert line.startswith("error: ACTIONS_TOKEN ")


def test_a_half_configured_channel_is_refused_by_name(tripwires: list[str]) -> None:
    env = {
        "HOST": "0.0.0.0",
        "ACTIONS_TOKEN": secrets.token_urlsafe(32),
        "ENGINE_TOKEN": secrets.token_urlsafe(32),
        "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
    }
    for command in (["serve"], ["run"]):
        line = refuse(command, env, tripwires)
        assert line.startswith(f"error: TWILIO_AUTH_TOKEN {REFUSED}")
        assert "ACTIONS_TOKEN" not in line and "TWILIO_ACCOUNT_SID is set" in line


def test_every_problem_is_named_on_the_one_line(tripwires: list[str]) -> None:
    env = {"HOST": "::", "TELEGRAM_BOT_TOKEN": "123456:" + secrets.token_urlsafe(30)}
    env["TELEGRAM_SECRET_TOKEN"] = "replace-me"
    line = refuse(["serve"], env, tripwires)
    assert re.fullmatch(
        rf"error: ACTIONS_TOKEN {REFUSED}; ENGINE_TOKEN {REFUSED}; "
        rf"TELEGRAM_SECRET_TOKEN {REFUSED} \(.*\)",
        line,
    )


def test_the_console_script_exits_before_binding_its_port(tmp_path: Path) -> None:
    """The installed `govbot serve`, as a container runs it: nothing patched."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in CHECKED}
    env.update(HOST="0.0.0.0", PORT=str(port), ACTIONS_TOKEN="change-me")
    env["ENGINE_TOKEN"] = secrets.token_urlsafe(32)
    script = Path(sys.executable).with_name("govbot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    env["PYTHONPATH"] = str(ROOT)
    started = time.monotonic()
    # Would it start, uvicorn would serve until killed: the timeout fails the test then.
    done = subprocess.run(
        [*command, "serve"],
        check=False,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.splitlines() == [f"error: ACTIONS_TOKEN {REFUSED}"]
    assert "Uvicorn running" not in done.stdout + done.stderr
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("host", ["127.0.0.1", "127.10.20.30", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_configuration(host: str) -> None:
    assert insecure_settings(settings(host=host)) == []


def test_the_embedded_default_needs_no_configuration() -> None:
    assert insecure_settings(Settings(_env_file=None)) == []


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "chat.agency.example", ""])
def test_any_other_address_needs_a_token(host: str) -> None:
    assert insecure_settings(settings(host=host)) == [
        f"ACTIONS_TOKEN {REFUSED}",
        f"ENGINE_TOKEN {REFUSED}",
    ]


def test_a_real_token_beyond_loopback_passes() -> None:
    real = settings(
        host="0.0.0.0",
        actions_token=secrets.token_urlsafe(32),
        engine_token=secrets.token_urlsafe(32),
    )
    assert insecure_settings(real) == []


def test_channels_with_every_secret_pass_and_empty_ones_are_off() -> None:
    configured = settings(
        host="0.0.0.0",
        actions_token=secrets.token_urlsafe(32),
        engine_token=secrets.token_urlsafe(32),
        twilio_account_sid="AC" + secrets.token_hex(16),
        twilio_auth_token=secrets.token_hex(16),
        telegram_bot_token="123456:" + secrets.token_urlsafe(30),
        telegram_secret_token=secrets.token_hex(32),
        messenger_page_access_token=secrets.token_urlsafe(40),
        messenger_app_secret=secrets.token_hex(16),
        messenger_verify_token=secrets.token_urlsafe(16),
        twilio_from_number="",  # as the k8s ConfigMap ships it: not set
    )
    assert insecure_settings(configured) == []
    partial = configured.model_copy(update={"messenger_app_secret": ""})
    assert insecure_settings(partial) == [
        f"MESSENGER_APP_SECRET {REFUSED} (Messenger is on: MESSENGER_PAGE_ACCESS_TOKEN is set)"
    ]


def test_a_sender_number_alone_switches_twilio_on() -> None:
    wanted = settings(
        host="0.0.0.0",
        actions_token=secrets.token_urlsafe(32),
        engine_token=secrets.token_urlsafe(32),
        twilio_from_number="+15145550100",
    )
    assert [p.split()[0] for p in insecure_settings(wanted)] == [
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
    ]


@pytest.mark.parametrize(
    "value",
    ["change-me", "CHANGE_ME", "changeme", "secret", "token", "example", "replace-me", "<token>"]
    + ["${ACTIONS_TOKEN}", "xxxxxxxx", "...", "PLACEHOLDER-PASSWORD", "your-secret-here"],
)
def test_placeholders_are_not_secrets(value: str) -> None:
    assert is_placeholder(value)


def test_real_secrets_are_not_placeholders() -> None:
    for value in (secrets.token_urlsafe(32), secrets.token_hex(32), "123456:ABC-DEF1234ghIkl"):
        assert not is_placeholder(value)


def test_the_deploy_examples_ship_tokens_the_check_refuses() -> None:
    """Copying an example as it is must not give a running service."""
    env_example = (ROOT / "deploy" / "env.example").read_text(encoding="utf-8")
    shipped = dict(
        line.split("=", 1) for line in env_example.splitlines() if re.match(r"[A-Z_]+=", line)
    )
    secret = yaml.safe_load((ROOT / "deploy" / "k8s" / "secret.example.yml").read_text())
    for values in (shipped, secret["stringData"]):
        assert {"ACTIONS_TOKEN", "ENGINE_TOKEN", "WEBCHAT_SESSION_SECRET"} <= set(values)
        example = settings(
            host="0.0.0.0",
            actions_token=values["ACTIONS_TOKEN"],
            engine_token=values["ENGINE_TOKEN"],
            webchat_session_secret=values["WEBCHAT_SESSION_SECRET"],
        )
        assert insecure_settings(example) == [
            f"ACTIONS_TOKEN {REFUSED}",
            f"ENGINE_TOKEN {REFUSED}",
            f"WEBCHAT_SESSION_SECRET {REFUSED}",
        ]


@pytest.mark.parametrize("secret", [None, "", "change-me", "<webchat session secret>"])
def test_web_chat_sessions_need_a_real_secret_beyond_loopback(secret: str | None) -> None:
    """Replicas must share it, so none can make one up; a placeholder would let anyone sign."""
    values = {
        "actions_token": secrets.token_urlsafe(32),
        "engine_token": secrets.token_urlsafe(32),
        "webchat_session_secret": secret,
    }
    assert insecure_settings(settings(host="0.0.0.0", **values)) == [
        f"WEBCHAT_SESSION_SECRET {REFUSED}"
    ]
    assert insecure_settings(settings(host="127.0.0.1", **values)) == []


def test_serve_names_a_missing_web_chat_secret(
    tripwires: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBCHAT_SESSION_SECRET")
    env = {
        "HOST": "0.0.0.0",
        "ACTIONS_TOKEN": secrets.token_urlsafe(32),
        "ENGINE_TOKEN": secrets.token_urlsafe(32),
    }
    assert refuse(["serve"], env, tripwires) == f"error: WEBCHAT_SESSION_SECRET {REFUSED}"
