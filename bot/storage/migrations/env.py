"""Alembic environment: runs on the connection the app hands over (see bot/storage/db.py)."""

from __future__ import annotations

from alembic import context

# The package, not its base module: importing it registers every table on Base.metadata.
from bot.storage.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
