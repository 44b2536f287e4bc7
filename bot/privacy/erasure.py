"""Erasure of one citizen (channel + address): every row of theirs in every app table, their
opt-out, subscriptions and place on the citizen panel, and their events in Rasa's tracker store.
Blocking: run it in a thread."""

from __future__ import annotations

from sqlalchemy import and_, delete

from bot.privacy.deletion import begin, delete_doomed
from bot.privacy.doomed import Doomed, take_conversations, take_feedback, take_turns
from bot.privacy.panel_rows import forget_members
from bot.privacy.sqlite_scrub import is_sqlite, scrub
from bot.privacy.tracker_store import (
    ERASE_EVENTS,
    server_tracker_delete,
    sqlite_tracker_delete,
    tracker_path,
)
from bot.settings import Settings
from bot.storage.db import Database, rowcount
from bot.storage.models import Feedback, OptOut, PanelMember, Subscription, Turn


def erase(db: Database, settings: Settings, channel: str, address: str) -> dict[str, int]:
    """Remove one citizen: their conversation `channel:address` and its rows in every app table,
    their opt-out, and their events in Rasa's tracker store; counts go to `daily_counts` first.
    Then `scrub`. Returns the rows removed per table (all zero for an unknown citizen)."""
    conversation_id = f"{channel}:{address}"
    with db.session() as session:
        begin(session)
        doomed = Doomed()
        take_conversations(session, doomed, [conversation_id])
        # Analytics rows are keyed by the id alone: take them even without a conversation row.
        take_turns(session, doomed, Turn.conversation_id == conversation_id)
        take_feedback(session, doomed, Feedback.conversation_id == conversation_id)
        removed = delete_doomed(session, doomed)
        removed["opt_outs"] = rowcount(
            session.execute(
                delete(OptOut).where(OptOut.channel == channel, OptOut.address == address)
            )
        )
        # Their subscriptions and the consent records behind them; a broadcast's delivery rows
        # keep no address and stay counted.
        removed["subscriptions"] = rowcount(
            session.execute(
                delete(Subscription).where(
                    Subscription.channel == channel, Subscription.address == address
                )
            )
        )
        # Their place on the citizen panel: profile, consent record and answers (the tallies,
        # counts only, stay).
        removed["panel_members"] = forget_members(
            session, and_(PanelMember.channel == channel, PanelMember.address == address)
        )
        params = {"sender": conversation_id}
        removed["tracker_events"] = (
            0 if is_sqlite(db) else server_tracker_delete(session, ERASE_EVENTS, params)
        )
        session.commit()
    if is_sqlite(db):
        removed["tracker_events"] = sqlite_tracker_delete(
            tracker_path(settings), ERASE_EVENTS, params
        )
    scrub(db, settings)
    return removed
