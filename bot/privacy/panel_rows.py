"""Removing citizen-panel rows: a member with their places and answers (leaving, erasure), and
what retention ends (answers past RETENTION_DAYS, invitations never agreed to). The tallies hold
counts only and stay, so a wave's results do not change."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.orm import Session

from bot.storage.db import rowcount
from bot.storage.models import PanelAnswer, PanelMember, PanelPlace


def forget_members(session: Session, which: ColumnElement[bool]) -> int:
    """Delete the members `which` selects, with their places and answers; how many members.
    Nothing is committed here."""
    members = select(PanelMember.id).where(which)
    places = select(PanelPlace.id).where(PanelPlace.member_id.in_(members))
    session.execute(delete(PanelAnswer).where(PanelAnswer.place_id.in_(places)))
    session.execute(delete(PanelPlace).where(PanelPlace.member_id.in_(members)))
    return rowcount(session.execute(delete(PanelMember).where(which)))


def expire_panel_rows(session: Session, before: dt.datetime) -> dict[str, int]:
    """Answers older than `before`, and invitations to join never agreed to since; nothing is
    committed here."""
    answers = rowcount(session.execute(delete(PanelAnswer).where(PanelAnswer.answered_at < before)))
    invited = forget_members(
        session, and_(PanelMember.state == "invited", PanelMember.invited_at < before)
    )
    return {"panel_answers": answers, "panel_invitations": invited}
