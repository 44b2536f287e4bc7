"""One dashboard request's database scope: its connection, period and filter conditions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from bot.insight.dashboard.directory import QueueDirectory, queues_serving
from bot.insight.dashboard.filters import Filters
from bot.storage.models import Turn

UNANSWERED = ("clarify", "no_answer", "handoff")


@dataclass(slots=True)
class Scope:
    """The connection the queries of one request run on, and what their WHERE clauses share."""

    conn: Connection
    f: Filters
    dialect: str
    start: dt.datetime  # the period, [start, end) in UTC
    end: dt.datetime
    queues: list[str] | None  # with an agency filter: the queues serving it

    @classmethod
    def of(cls, conn: Connection, filters: Filters, directory: QueueDirectory) -> Scope:
        """The scope of `filters` on `conn`."""
        start, end = filters.window()
        queues = queues_serving(directory, filters.agency) if filters.agency else None
        return cls(conn, filters, conn.dialect.name, start, end, queues)

    def dims(self, model: Any, agency: bool = True, language: bool = True) -> list[Any]:
        """The channel, language and agency filters, on the columns of `model` that have them."""
        found = []
        if self.f.channel:
            found.append(model.channel == self.f.channel)
        if language and self.f.language:
            found.append(model.language == self.f.language)
        if agency and self.f.agency:
            found.append(model.agency == self.f.agency)
        return found

    def turns(self, *extra: Any) -> list[Any]:
        """The turns of the period that match the filters (and `extra`)."""
        return [Turn.at >= self.start, Turn.at < self.end, *self.dims(Turn), *extra]
