"""Answers and the tallies that outlive them.

An answer is stored with its tallies in the caller's transaction: one count per profile dimension
(all, area, age band, language) for the choice, and one for "a respondent" (`*`). Results are read
from the tallies only, so a member who leaves takes their answers and profile with them while the
aggregates stay (the issue's "aggregates kept").
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.privacy.redact import redact
from bot.storage.models import PanelAnswer, PanelMember, PanelPlace, PanelTally

RESPONDENT = "*"
MAX_TEXT = 1000


def groups(member: PanelMember) -> list[tuple[str, str]]:
    """The (dimension, group) pairs a member's answer counts in ("" where none was given)."""
    return [
        ("all", ""),
        ("area", member.area or ""),
        ("age_band", member.age_band or ""),
        ("language", member.language or ""),
    ]


def record_answer(
    session: Session,
    place: PanelPlace,
    member: PanelMember,
    question: str,
    choice: str | None,
    text: str | None,
    now: dt.datetime,
) -> None:
    """Store one answer (free text redacted first) and count it; nothing is committed here."""
    session.add(
        PanelAnswer(
            place_id=place.id,
            wave_id=place.wave_id,
            question=question,
            choice=choice,
            text=redact(text[:MAX_TEXT]) if text else None,
            answered_at=now,
        )
    )
    counted = [RESPONDENT] + ([choice] if choice else [])
    rows = [
        {
            "wave_id": place.wave_id,
            "question": question,
            "dimension": dimension,
            "grp": group,
            "choice": c,
            "count": 1,
        }
        for dimension, group in groups(member)
        for c in counted
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(PanelTally).values(rows)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["wave_id", "question", "dimension", "grp", "choice"],
            set_={"count": PanelTally.count + statement.excluded.count},
        )
    )
