"""Who among the console's accounts may act as a supervisor (broadcasts, the citizen panel)."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import Agent

SUPERVISORS = ("supervisor", "admin")


def active_supervisor(db: Database, username: str) -> Agent | None:
    """The account, if it is an active supervisor or admin."""
    with db.session() as session:
        agent = session.scalar(select(Agent).where(Agent.username == username))
    if agent is None or not agent.active or agent.role not in SUPERVISORS:
        return None
    return agent
