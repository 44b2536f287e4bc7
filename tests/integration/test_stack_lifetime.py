"""`govbot run` and its children live and die together (finding 11): killed hard, it leaves no
engine or app behind holding a port; and a port already taken is named, with its holder, before
anything starts."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from bot import stack as stack_module
from bot.ports import is_free
from bot.settings import ROOT, Settings
from tests.conftest import IN_CI, free_port


def gone(pid: int) -> bool:
    """Whether `pid` has exited (a zombie waiting for a reaper has)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pids: list[int], timeout_s: float = 90) -> list[int]:
    """Poll until every pid has exited or time runs out; return those still running."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not all(gone(pid) for pid in pids):
        time.sleep(0.2)
    return [pid for pid in pids if not gone(pid)]


def run_environment(tmp_path: Path, port: int, engine_port: int) -> dict[str, str]:
    """`govbot run` on these ports with its files in `tmp_path`; no setting inherited from here."""
    fields = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k not in fields and k != "GOVBOT_PARENT_PID"}
    env.update(
        PORT=str(port),
        ENGINE_PORT=str(engine_port),
        VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'app.db'}",
        INDEX_DIR=str(ROOT / "var" / "index"),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket of this test process listening on a free loopback port (a stale server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


@pytest.mark.parametrize("role", ["engine", "app"])
def test_a_taken_port_is_named_with_its_holder_and_nothing_starts(
    role: str, listener: socket.socket, tmp_path: Path
) -> None:
    taken = int(listener.getsockname()[1])
    port, engine_port = (free_port(), taken) if role == "engine" else (taken, free_port())

    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=ROOT,
        env=run_environment(tmp_path, port, engine_port),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    setting = "ENGINE_PORT" if role == "engine" else "PORT"
    assert re.fullmatch(
        rf"error: port {taken} \({role}\) is already in use by pid {os.getpid()} \(.*\): "
        rf"stop it \(kill {os.getpid()}\) or choose another {setting}",
        lines[0],
    ), lines[0]
    assert not (tmp_path / "var" / f"endpoints-{engine_port}.yml").exists()  # no engine started
    assert not (tmp_path / "var" / "app.db").exists()  # no app started


def test_is_free_sees_a_listener_on_any_address(listener: socket.socket) -> None:
    port = int(listener.getsockname()[1])
    assert not is_free("127.0.0.1", port)
    assert not is_free("0.0.0.0", port)  # the app on 0.0.0.0 would collide too
    assert is_free("127.0.0.1", free_port())


def spawn_parent(child: str, watched: bool) -> tuple[subprocess.Popen[str], int]:
    """A Python process that starts `child` (an expression giving its argv), telling it its pid
    in GOVBOT_PARENT_PID when `watched` (as bot/stack.py does), and prints the child's pid."""
    code = (
        "import os, subprocess, sys, time\n"
        "from bot.lifeline import tied\n"
        + ("os.environ['GOVBOT_PARENT_PID'] = str(os.getpid())\n" if watched else "")
        + f"p = subprocess.Popen({child}, start_new_session=True)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "GOVBOT_PARENT_PID"}
    parent = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    return parent, int(parent.stdout.readline())


def kill_parent_and_wait(parent: subprocess.Popen[str], child: int) -> list[int]:
    """SIGKILL `parent`; return the child's pid if it is still running after a bounded wait."""
    try:
        assert not gone(child)
        parent.kill()
        parent.wait()
        return wait_gone([child])
    finally:
        for pid in (parent.pid, child):
            if not gone(pid):
                psutil.Process(pid).kill()


def test_a_tied_child_gets_the_parent_death_signal() -> None:
    """Linux: the kernel signals the child when its parent is killed hard (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only; elsewhere the parent watch stands in")
    sleeper = f"tied([{sys.executable!r}, '-c', 'import time; time.sleep(600)'])"
    parent, child = spawn_parent(sleeper, watched=False)
    assert kill_parent_and_wait(parent, child) == []


def test_a_watching_child_stops_when_its_parent_is_killed() -> None:
    """The fallback where there is no parent-death signal: the child watches its parent's pid."""
    watcher = (
        f"[{sys.executable!r}, '-c', "
        "'import time; from bot.lifeline import watch_parent_from_env; "
        "watch_parent_from_env(); time.sleep(600)']"
    )
    parent, child = spawn_parent(watcher, watched=True)
    assert kill_parent_and_wait(parent, child) == []


def test_a_child_whose_parent_is_already_gone_does_not_start() -> None:
    """The parent may die between fork and arming the signal: the child then exits at once."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.lifeline", "999999999", "/bin/echo", "started"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "started" not in done.stdout


@pytest.mark.stack
def test_killing_govbot_run_hard_takes_engine_and_app_with_it(tmp_path: Path) -> None:
    if not stack_module.MODEL.exists():
        (pytest.fail if IN_CI else pytest.skip)("no trained Rasa model; `make test` trains it")
    port, engine_port = free_port(), free_port()
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=ROOT,
        env=run_environment(tmp_path, port, engine_port),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    children: list[int] = []
    try:
        ready = stack_module.wait_ready(f"http://127.0.0.1:{port}/healthz", [run], 600)
        assert ready, (tmp_path / "run.log").read_text(errors="replace")[-3000:]
        children = [p.pid for p in psutil.Process(run.pid).children()]
        assert len(children) == 2  # the engine and the app
        assert httpx.get(f"http://127.0.0.1:{engine_port}/", timeout=10).status_code == 200

        run.kill()  # SIGKILL: `govbot run` gets no chance to stop anything
        run.wait()

        assert wait_gone(children) == []
        assert is_free("127.0.0.1", engine_port)
        assert is_free("127.0.0.1", port)
    finally:
        for pid in [run.pid, *children]:
            if not gone(pid):
                psutil.Process(pid).kill()
        log.close()
