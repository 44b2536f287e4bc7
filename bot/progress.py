"""Progress of long work (index build, `govbot eval`, `govbot kb import`) on standard error: a
tqdm bar with counts and time left on a terminal, a plain line every tenth otherwise (logs, CI),
nothing for work too small to notice."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

# Work with fewer steps than this finishes before a bar is worth drawing.
MIN_STEPS = 8


def progress(items: Iterable[T], total: int, what: str, unit: str = "item") -> Iterator[T]:
    """Yield `items` (there are `total` of them) while showing how far `what` has got."""
    if total < MIN_STEPS:
        yield from items
        return
    if sys.stderr.isatty():
        from tqdm import tqdm

        yield from tqdm(items, total=total, desc=what, unit=unit, leave=False, file=sys.stderr)
        return
    started = time.monotonic()
    next_report = 0.1
    for done, item in enumerate(items, start=1):
        yield item
        if done / total >= next_report or done == total:
            elapsed = time.monotonic() - started
            left = elapsed / done * (total - done)
            print(
                f"{what}: {done}/{total} ({done / total:.0%}), {left:.0f} s left",
                file=sys.stderr,
                flush=True,
            )
            while next_report <= done / total:
                next_report += 0.1
