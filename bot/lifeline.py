"""Children of `govbot run` die with it: the kernel's parent-death signal on Linux, and a thread in
each child that stops it once its parent is gone (everywhere). Standard library only: the engine's
Python imports it too."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

# Set by `govbot run` (bot/stack.py) in each child's environment: the pid the child must outlive.
PARENT_ENV = "GOVBOT_PARENT_PID"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, on Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the running program, libc included
        function: Callable[..., int] = libc.prctl
    except (OSError, AttributeError):
        return None
    return function


def tied(command: list[str]) -> list[str]:
    """`command`, run so that it gets SIGTERM when this process dies, even by SIGKILL: through
    `python -m bot.lifeline`, which arms the kernel's parent-death signal and then execs `command`
    (same pid; the signal survives exec). Rather than a `preexec_fn`, which is unsafe in a process
    with threads.

    Linux sends the signal when the *thread* that started the child exits: start children from a
    thread that lives as long as the process (the main thread).
    """
    return [sys.executable, "-m", "bot.lifeline", str(os.getpid()), *command]


def _exec_tied(parent: int, command: list[str]) -> None:
    """Arm the parent-death signal, check the parent is still there, and become `command`."""
    prctl = _prctl()
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:
        # The parent died before the signal was armed: it will never come.
        sys.exit(1)
    os.execv(command[0], command)


def watch_parent(parent: int, interval_s: float = 1.0, grace_s: float = 20.0) -> threading.Thread:
    """Stop this process (SIGTERM, then exit after `grace_s`) once `parent` is no longer its parent:
    an orphan is re-parented, so its parent pid changes."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os.kill(os.getpid(), signal.SIGTERM)
        # A graceful shutdown that hangs (a connection that never closes) must not keep it alive.
        time.sleep(grace_s)
        os._exit(1)

    thread = threading.Thread(target=watch, name="govbot-parent-watch", daemon=True)
    thread.start()
    return thread


def watch_parent_from_env() -> threading.Thread | None:
    """Watch the parent named by GOVBOT_PARENT_PID, if it is set (children of `govbot run`)."""
    value = os.environ.get(PARENT_ENV, "")
    if not value.isdigit():
        return None
    return watch_parent(int(value))


if __name__ == "__main__":
    _exec_tied(int(sys.argv[1]), sys.argv[2:])
