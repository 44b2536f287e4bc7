"""The whole stack (engine + app) started for the benchmark on free ports, with its own
var folder."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import NO_RATE_LIMITS, free_port, say
from bot import stack
from bot.settings import ROOT, Settings
from bot.storage.files import private_dir, private_file


@dataclass(frozen=True, slots=True)
class RunningStack:
    """Where the app and the engine listen, and their process ids."""

    app_url: str
    engine_url: str
    engine_token: str  # what the app sends the engine (the bare-engine bench sends it too)
    pids: dict[str, int]
    startup_s: float


@contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Point this process's stdout/stderr at `log` while children are spawned, so they
    inherit it."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


@contextmanager
def started(settings: Settings, engine_url: str | None = None) -> Iterator[RunningStack]:
    """Start engine and app with `settings` (output to `<var_dir>/stack.log`), wait until ready,
    stop after.

    `engine_url` lets the app reach the engine through something else (the channels bench puts a
    proxy there).
    """
    private_dir(settings.var_dir)
    settings = stack.with_run_secrets(settings)
    log = private_file(settings.var_dir / "stack.log")  # what the processes print: 0600
    began = time.perf_counter()
    with _output_to(log):
        processes = stack.start(settings, engine_url=engine_url)
    app_url = f"http://{settings.host}:{settings.port}"
    try:
        if not stack.wait_ready(f"{app_url}/healthz", processes, timeout_s=600):
            raise RuntimeError(f"the stack did not become ready; see {log}")
        startup_s = time.perf_counter() - began
        say(
            f"stack ready in {startup_s:.0f} s (app {app_url}, engine port {settings.engine_port}; "
            f"log {log})"
        )
        yield RunningStack(
            app_url,
            f"http://127.0.0.1:{settings.engine_port}",
            str(settings.engine_token),
            {"engine": processes[0].pid, "app": processes[1].pid},
            startup_s,
        )
    finally:
        stack.stop(processes)


@contextmanager
def running_stack(var_dir: Path) -> Iterator[RunningStack]:
    """Start engine and app as `govbot run` does (the shipped index, a fresh database); stop
    both after."""
    settings = Settings(
        port=free_port(),
        engine_port=free_port(),
        var_dir=var_dir,
        database_url=f"sqlite:///{var_dir / 'app.db'}",
        index_dir=ROOT / "var" / "index",
        retry_interval_s=0.5,
        **NO_RATE_LIMITS,
    )
    with started(settings) as running:
        yield running
