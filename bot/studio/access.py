"""Who may do what with which agency's content: admins everything; other console accounts what
their grants say (edit, and maybe review) for each agency."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import Agent, KbGrant


class Forbidden(Exception):
    """The account may not do this with this agency's content."""


class StudioError(Exception):
    """A request the studio refuses as it stands (bad content, wrong state, stale version)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Editor:
    """A console account as the studio sees it."""

    username: str
    agent_id: int | None = None
    admin: bool = False
    edits: frozenset[str] = frozenset()
    reviews: frozenset[str] = frozenset()

    def may_edit(self, agency: str) -> bool:
        return self.admin or agency in self.edits or agency in self.reviews

    def may_review(self, agency: str) -> bool:
        return self.admin or agency in self.reviews

    def check_edit(self, agency: str) -> None:
        if not self.may_edit(agency):
            raise Forbidden(f"{self.username} may not edit {agency}'s content")

    def check_review(self, agency: str) -> None:
        if not self.may_review(agency):
            raise Forbidden(f"{self.username} may not review {agency}'s content")

    def agencies(self, known: list[str]) -> list[str]:
        """The agencies of `known` this account may see."""
        return [a for a in known if self.may_edit(a)]


def operator(username: str) -> Editor:
    """Someone with the server's shell (`govbot kb import --publish`): may do everything."""
    return Editor(username=username, admin=True)


def editor_of(db: Database, agent: Agent) -> Editor:
    """The studio rights of a console account."""
    with db.session() as session:
        grants = list(session.scalars(select(KbGrant).where(KbGrant.agent_id == agent.id)))
    return Editor(
        username=agent.username,
        agent_id=agent.id,
        admin=agent.role == "admin",
        edits=frozenset(g.agency_id for g in grants),
        reviews=frozenset(g.agency_id for g in grants if g.may_review),
    )


def grant(db: Database, agent: Agent, agency: str, may_review: bool) -> None:
    """Let `agent` edit (and, if `may_review`, review) `agency`'s content."""
    with db.session() as session:
        row = session.get(KbGrant, (agent.id, agency))
        if row is None:
            session.add(KbGrant(agent_id=agent.id, agency_id=agency, may_review=may_review))
        else:
            row.may_review = may_review
        session.commit()
