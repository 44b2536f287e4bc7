"""The append-only audit log of what people do in the console: rows are added, never changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import Agent, AuditEntry


class AuditLog:
    """Append and read; there is deliberately no update or delete."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        agent: Agent | None,
        username: str,
        action: str,
        handoff_id: int | None = None,
        ip: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self._db.session() as session:
            session.add(
                AuditEntry(
                    agent_id=agent.id if agent else None,
                    username=username,
                    action=action,
                    handoff_id=handoff_id,
                    ip=ip,
                    detail=detail or {},
                )
            )
            session.commit()

    def entries(self, before: int | None = None, limit: int = 200) -> list[AuditEntry]:
        """Newest first; `before` pages back from an entry id."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 1000)))
        if before is not None:
            query = query.where(AuditEntry.id < before)
        with self._db.session() as session:
            return list(session.scalars(query))
