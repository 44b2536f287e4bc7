"""Waiting for something the stack does in the background."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def until(check: Callable[[], Any], timeout_s: float = 60, every_s: float = 0.3) -> Any:
    """Poll `check` until it returns something truthy; that value (or the last falsy one)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every_s)
