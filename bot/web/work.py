"""Domain work called from a route: run in a thread, its refusals answered as API errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TypeVar

from bot.web.auth import ApiError

T = TypeVar("T")


async def refusing(work: Callable[[], T], refusals: Mapping[type[Exception], int]) -> T:
    """`work()` in a thread; an exception of a type in `refusals` answers that status with its
    message (the first matching type counts)."""
    try:
        return await asyncio.to_thread(work)
    except tuple(refusals) as exc:
        status = next(code for kind, code in refusals.items() if isinstance(exc, kind))
        raise ApiError(status, str(exc)) from exc
