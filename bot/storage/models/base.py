"""The declarative base of every table, and the default of their time columns."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from bot.clock import system_clock

# Column defaults only; services stamp times from their injected clock (bot/clock.py).
utcnow = system_clock


class Base(DeclarativeBase):
    """Base of every table."""
