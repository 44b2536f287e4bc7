"""Field rules shared by the console's request bodies."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control(text: str) -> str:
    """Text without control characters (a NUL is refused by PostgreSQL; none is ever meant)."""
    if CONTROL.search(text):
        raise ValueError("control characters are not allowed")
    return text
