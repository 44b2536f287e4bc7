"""Starting the whole stack (engine + app) as one command, and stopping every process on Ctrl-C."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx
import yaml

from bot.lifeline import PARENT_ENV, tied
from bot.ports import check_free
from bot.settings import ROOT, Settings, is_placeholder
from bot.storage.files import private_dir, write_private

ENGINE_PYTHON = ROOT / ".venv-engine" / "bin" / "python"
MODEL = ROOT / "models" / "govbot.tar.gz"
# What the engine and the app create (tracker store, index, logs) is private to the service's
# account (files 0600, folders 0700).
PRIVATE_UMASK = 0o077


def endpoints(settings: Settings) -> dict[str, object]:
    """Rasa's endpoints for these settings: actions in the app, tracker store beside app data."""
    app_url = f"http://{settings.host}:{settings.port}"
    action_endpoint: dict[str, object] = {"url": f"{app_url}/actions/webhook"}
    if settings.actions_token:
        # Sent by Rasa as ?token=..., checked by the app.
        action_endpoint["token"] = settings.actions_token
    doc: dict[str, object] = {"action_endpoint": action_endpoint}
    url = settings.database_url
    if url.startswith("sqlite"):
        doc["tracker_store"] = {
            "type": "SQL",
            "dialect": "sqlite",
            "db": str(settings.var_dir / "rasa-tracker.db"),
        }
    else:
        parsed = httpx.URL(url.replace("+psycopg", "").replace("+psycopg2", ""))
        doc["tracker_store"] = {
            "type": "SQL",
            "dialect": "postgresql",
            "url": parsed.host,
            "port": parsed.port or 5432,
            "db": parsed.path.lstrip("/"),
            "username": parsed.username or "",
            "password": parsed.password or "",
            # sslmode, options=-csearch_path=... and the like apply to Rasa's connection too
            "query": dict(parsed.params),
        }
    if settings.redis_url:
        redis = httpx.URL(settings.redis_url)
        doc["lock_store"] = {
            "type": "redis",
            "url": redis.host,
            "port": redis.port or 6379,
            "db": int(redis.path.lstrip("/") or 0),
            "password": redis.password or None,
            "use_ssl": redis.scheme == "rediss",
        }
    return doc


def engine_command(settings: Settings, endpoints_file: Path) -> list[str]:
    """The command line of the Rasa server: on loopback only, without Rasa's HTTP API (no
    --enable-api), its one input channel the app's (credentials.yml)."""
    return [
        str(ENGINE_PYTHON),
        "-m",
        "rasa",
        "run",
        "--model",
        str(MODEL),
        "--endpoints",
        str(endpoints_file),
        "--credentials",
        str(ROOT / "credentials.yml"),
        "--interface",
        "127.0.0.1",
        "--port",
        str(settings.engine_port),
        "--quiet",
    ]


def app_command(settings: Settings) -> list[str]:
    """The command line of the app."""
    return [
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        "--host",
        settings.host,
        "--port",
        str(settings.port),
    ]


def wait_ready(url: str, processes: list[subprocess.Popen[bytes]], timeout_s: float) -> bool:
    """Poll `url` until it answers 200, a process dies, or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            return False
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    return False


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate every process, then kill what has not exited after 10 s."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def app_environment(settings: Settings, engine_url: str | None = None) -> dict[str, str]:
    """The environment that gives a child process exactly these settings."""
    values = {
        name.upper(): json.dumps(value) if isinstance(value, (list, dict)) else str(value)
        for name, value in settings.model_dump().items()
        if value is not None
    }
    values["ENGINE_URL"] = engine_url or f"http://127.0.0.1:{settings.engine_port}"
    return {
        **os.environ,
        **values,
        "RASA_TELEMETRY_ENABLED": "false",
        # One thread per encoder: on a shared 2-core machine, more threads only spin against each
        # other.
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }


def with_run_secrets(settings: Settings) -> Settings:
    """`settings` with a fresh ACTIONS_TOKEN and ENGINE_TOKEN for this run where there is no real
    one (unset, or a placeholder such as "change-me"), so only this run's processes may call each
    other."""
    fresh = {
        name: secrets.token_urlsafe(24)
        for name in ("actions_token", "engine_token")
        if is_placeholder(getattr(settings, name))
    }
    return settings.model_copy(update=fresh) if fresh else settings


def write_endpoints(settings: Settings) -> Path:
    """Write Rasa's endpoints file into var/ (0600: it holds the actions token; var/ is 0700)."""
    private_dir(settings.var_dir, tighten=True)
    endpoints_file = settings.var_dir / f"endpoints-{settings.engine_port}.yml"
    write_private(endpoints_file, yaml.safe_dump(endpoints(settings)))
    return endpoints_file


def start_engine(settings: Settings, log: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """Start the Rasa server, calling the custom actions in the app of `settings`; its output goes
    to `log` when given. It answers only callers with `settings.engine_token`."""
    if not MODEL.exists():
        raise FileNotFoundError(f"no trained model at {MODEL}: run `make model`")
    if is_placeholder(settings.engine_token):
        raise ValueError("ENGINE_TOKEN is needed to start the engine (see `with_run_secrets`)")
    endpoints_file = write_endpoints(settings)
    environment = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "OMP_NUM_THREADS": "1",
        "ENGINE_TOKEN": str(settings.engine_token),  # credentials.yml reads it
        PARENT_ENV: str(os.getpid()),
    }
    # Own session: Ctrl-C reaches only `govbot run`, which then stops the children in order. And it
    # dies with this process, even one killed hard, instead of holding its port (bot/lifeline.py).
    return subprocess.Popen(
        tied(engine_command(settings, endpoints_file)),
        cwd=ROOT,
        env=environment,
        start_new_session=True,
        umask=PRIVATE_UMASK,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )


def start_app(
    settings: Settings,
    engine_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    log: IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Start one app process with `settings`; `engine_url` may point through something else (a
    proxy)."""
    environment = {
        **app_environment(settings, engine_url),
        PARENT_ENV: str(os.getpid()),
        **(extra_env or {}),
    }
    # Like the engine: its own session, and it dies with this process.
    return subprocess.Popen(
        tied(app_command(settings)),
        cwd=ROOT,
        env=environment,
        start_new_session=True,
        umask=PRIVATE_UMASK,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )


def start(
    settings: Settings, engine_url: str | None = None, log: IO[bytes] | None = None
) -> list[subprocess.Popen[bytes]]:
    """Start engine and app (the app hosts the custom actions); return both processes.

    `engine_url` lets the app reach the engine through something else (tests put a switchable
    proxy there). Without a real ACTIONS_TOKEN or ENGINE_TOKEN (unset, or a placeholder such as
    "change-me"), a fresh one is made for this run (`with_run_secrets`), so only this run's engine
    may call the actions and only its app may call the engine. `govbot run` checks
    `insecure_settings` first, so beyond loopback a missing token is refused, not made up. Raises
    PortInUse, before starting anything, when a port of the stack is taken (say, by an engine left
    running).
    """
    check_free(
        {
            "engine": ("127.0.0.1", settings.engine_port),
            "app": (settings.host, settings.port),
        },
        {"engine": "ENGINE_PORT", "app": "PORT"},
    )
    settings = with_run_secrets(settings)
    return [start_engine(settings, log), start_app(settings, engine_url, log=log)]


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def run(settings: Settings) -> int:
    """Start the stack, print where it is, and stop everything on Ctrl-C or when a process dies."""
    # Explicit handlers: a process started in the background inherits SIGINT ignored, and Ctrl-C or
    # SIGTERM must stop everything in any case.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    processes = start(settings)
    base = f"http://{settings.host}:{settings.port}"
    try:
        if not wait_ready(f"{base}/healthz", processes, timeout_s=600):
            print("the stack did not become ready; stopping", file=sys.stderr)
            return 1
        print(
            f"\n  govbot is ready\n  demo agency page + web chat: {base}/\n"
            f"  agent console: {base}/console"
            " (accounts: .venv/bin/govbot agents add --username NAME)\n"
            f"  health: {base}/healthz\n"
            f"  engine (Rasa): http://127.0.0.1:{settings.engine_port} (answers only the app)\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("a process exited; stopping the stack", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(processes)
