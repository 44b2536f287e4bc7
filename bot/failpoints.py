"""Named places where crash tests stop the app (GOVBOT_FAILPOINT=<name>) so they can kill
-9 it there.

Off unless the variable is set. When the named point is reached, the process writes
`<VAR_DIR>/failpoint-<name>` (so the test knows where it is) and hangs.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)
_ARMED = os.environ.get("GOVBOT_FAILPOINT", "")


async def failpoint(name: str) -> None:
    """Hang here if this failpoint is armed; otherwise return at once."""
    if name != _ARMED:
        return
    log.warning("failpoint %s reached: hanging until killed", name)
    Path(os.environ.get("VAR_DIR", "var"), f"failpoint-{name}").touch()
    await asyncio.Event().wait()
